// Test support for the data services end to end (snapshots, migrations and
// both at once): a host keeps a mixed read/write load on a volume through
// the switch, checks every read against the last acknowledged write, and
// records what an image taken meanwhile (a snapshot) may hold; the images
// are read back through their own LUNs.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cp/control_path.h"
#include "fabric_sim/kernel/rng.h"
#include "splitpath/fc/scsi_cdb.h"
#include "tests/support/virtual_testbed.h"

namespace splitpath::testing {

// The volume is cut into slots of `io_blocks` blocks from volume block
// `first_lba`; slot s starts out holding pattern(prefill_base + s).
struct VolumeLoadShape {
  std::string host = "host0";
  uint16_t lun = 0;
  uint64_t first_lba = 0;
  uint64_t slots = 0;
  uint32_t io_blocks = 8;
  uint64_t prefill_base = 5000000;
  uint32_t write_percent = 60;
  // A write that ends in error is sent again with the same data, as a host
  // retries (its slot's content is unknown until one ends GOOD).
  bool retry_failed_writes = false;
};

// `depth` reads and writes of whole slots in flight (never two on one
// slot), each read checked against the slot's last acknowledged data.
struct VolumeLoad {
  VirtualTestbed& tb;
  VolumeLoadShape shape;
  sim::Rng rng;
  std::vector<uint64_t> content;  // slot -> seed of its acknowledged data
  std::map<uint64_t, std::shared_ptr<VirtualTestbed::Pending>> in_flight;
  std::map<uint64_t, uint64_t> writing;  // slot -> seed being written
  uint64_t next_seed = 1, reads = 0, writes = 0, mismatches = 0, errors = 0;
  // New I/Os pick slots in [window_begin, window_end) only.
  uint64_t window_begin = 0, window_end = ~0ull;
  // ... and of those, only slots s with s % stride == phase (two hosts
  // writing interleaved slots of one volume).
  uint64_t stride = 1, phase = 0;

  VolumeLoad(VirtualTestbed& t, const VolumeLoadShape& s, uint64_t seed)
      : tb(t), shape(s), rng(seed), content(s.slots) {
    for (uint64_t slot = 0; slot < shape.slots; ++slot)
      content[slot] = shape.prefill_base + slot;
  }

  std::vector<uint8_t> data(uint64_t seed) const { return pattern(seed, shape.io_blocks); }

  // Starts I/Os up to `depth`; the seeds of the writes it starts go to
  // *started_writes.
  void top_up(size_t depth, std::map<uint64_t, std::set<uint64_t>>* started_writes = nullptr) {
    const uint64_t end = std::min(window_end, shape.slots);
    const uint64_t begin = std::min(window_begin, end);
    const uint64_t first = begin + (phase + stride - begin % stride) % stride;
    const uint64_t span = first < end ? (end - first + stride - 1) / stride : 0;
    while (in_flight.size() < std::min<size_t>(depth, span)) {
      uint64_t i = rng.uniform(span);
      while (in_flight.contains(first + i * stride))
        i = (i + 1) % span;
      const uint64_t slot = first + i * stride;
      const uint64_t lba = shape.first_lba + slot * shape.io_blocks;
      if (rng.uniform(100) < shape.write_percent) {
        const uint64_t seed = next_seed++;
        writing[slot] = seed;
        if (started_writes) (*started_writes)[slot].insert(seed);
        in_flight[slot] =
            tb.start(shape.host, shape.lun, fc::make_write(lba, shape.io_blocks), 0, data(seed));
      } else {
        in_flight[slot] = tb.start(shape.host, shape.lun, fc::make_read(lba, shape.io_blocks),
                                   shape.io_blocks * 512);
      }
    }
  }

  void reap() {
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      if (!it->second->done) {
        ++it;
        continue;
      }
      const uint64_t slot = it->first;
      const sim::ScsiResult& r = it->second->result;
      if (r.status != fc::scsi_status::kGood) {
        ++errors;
        if (auto w = writing.find(slot); shape.retry_failed_writes && w != writing.end()) {
          it->second =
              tb.start(shape.host, shape.lun,
                       fc::make_write(shape.first_lba + slot * shape.io_blocks, shape.io_blocks), 0,
                       data(w->second));
          ++it;
          continue;
        }
      } else if (auto w = writing.find(slot); w != writing.end()) {
        content[slot] = w->second;
        ++writes;
      } else {
        ++reads;
        if (r.data_in != data(content[slot])) ++mismatches;
      }
      writing.erase(slot);
      it = in_flight.erase(it);
    }
  }

  void run(int steps, size_t depth = 8) {
    for (int i = 0; i < steps; ++i) {
      top_up(depth);
      tb.run_for(20 * sim::kNsPerUs);
      reap();
    }
  }

  void drain() {
    while (!in_flight.empty()) {
      tb.run_for(20 * sim::kNsPerUs);
      reap();
    }
  }

  // Prefills the slots on the disk store the volume's blocks start at
  // (`disk` LUN 0 from `lba`, one VSEG).
  void prefill(const std::string& disk, uint64_t lba) {
    for (uint64_t s = 0; s < shape.slots; ++s)
      tb.disk(disk).mutable_store(0)->write((lba + s * shape.io_blocks) * 512,
                                            data(shape.prefill_base + s));
  }

  // Takes snapshot `name` of `source` under load. Returns, per slot, the
  // seeds the snapshot may hold: the slot's data when the snapshot was
  // asked for, or (for a write in flight meanwhile) that write's.
  std::vector<std::set<uint64_t>> snapshot_under_load(cp::ControlPath& cp,
                                                      const std::string& source,
                                                      const std::string& name) {
    std::vector<std::set<uint64_t>> allowed(shape.slots);
    for (uint64_t s = 0; s < shape.slots; ++s) {
      allowed[s].insert(content[s]);
      if (auto w = writing.find(s); w != writing.end()) allowed[s].insert(w->second);
    }
    bool taken = false, ok = false;
    std::string error;
    EXPECT_TRUE(cp.take_snapshot({source, name}, &error, [&](bool r) {
      taken = true;
      ok = r;
    })) << error;
    std::map<uint64_t, std::set<uint64_t>> during;
    for (int i = 0; i < 100000 && !taken; ++i) {
      top_up(8, &during);
      tb.run_for(10 * sim::kNsPerUs);
      reap();
    }
    EXPECT_TRUE(taken && ok) << name << " was not taken";
    for (const auto& [slot, seeds] : during)
      allowed[slot].insert(seeds.begin(), seeds.end());
    return allowed;
  }

  // Reads every slot of `lun` through the host, 8 slots at a time, and
  // checks it against `allowed`; returns the slots that differ.
  uint64_t expect_image(uint16_t lun, const std::vector<std::set<uint64_t>>& allowed,
                        const std::string& what) {
    uint64_t bad = 0;
    const uint64_t bytes = uint64_t{shape.io_blocks} * 512;
    for (uint64_t s = 0; s < shape.slots; s += 8) {
      const uint64_t n = std::min<uint64_t>(8, shape.slots - s);
      const sim::ScsiResult r = tb.read(shape.host, lun, shape.first_lba + s * shape.io_blocks,
                                        static_cast<uint32_t>(n * shape.io_blocks));
      EXPECT_EQ(r.status, fc::scsi_status::kGood) << what << " slot " << s;
      if (r.status != fc::scsi_status::kGood || r.data_in.size() < n * bytes) {
        bad += n;
        continue;
      }
      for (uint64_t k = 0; k < n; ++k) {
        const std::vector<uint8_t> got(r.data_in.begin() + k * bytes,
                                       r.data_in.begin() + (k + 1) * bytes);
        bool match = false;
        for (uint64_t seed : allowed[s + k])
          match = match || got == data(seed);
        if (!match && ++bad <= 5) ADD_FAILURE() << what << ": slot " << s + k << " differs";
      }
    }
    EXPECT_EQ(bad, 0u) << what;
    return bad;
  }

  // The acknowledged content, as an image each slot must hold exactly.
  std::vector<std::set<uint64_t>> exactly() const {
    std::vector<std::set<uint64_t>> out(content.size());
    for (size_t i = 0; i < content.size(); ++i)
      out[i] = {content[i]};
    return out;
  }
};

// The topology of the scheduled-service tests: host0 runs its own verifying
// job over vol0 (8192 blocks on disk0, extents of 1024), snap0 is declared
// on disk1 (16 MiB each), and `services` lists the entries.
inline std::string scheduled_services_yaml(int seed, const std::string& services) {
  return "seed: " + std::to_string(seed) + R"(
switches: [{name: sw0, domain: 1, ports: 4}]
disks:
  - {name: disk0, port: sw0:2, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk1, port: sw0:3, luns: [{lun: 0, size: 16MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {lba_count: 8192, read_percent: 40}}
volumes:
  - {name: vol0, switch: sw0, vsegs: [{disk: disk0, lba: 0, blocks: 8192, extent_blocks: 1024}]}
  - {name: snap0, switch: sw0, vsegs: [{disk: disk1, lba: 0, blocks: 8192}]}
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol0}]}
zones: [{name: z0, members: [host0, vt0]}]
services:
)" + services;
}

}  // namespace splitpath::testing
