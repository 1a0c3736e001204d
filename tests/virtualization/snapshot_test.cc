// Snapshots (figures 20-21) end to end: a host writes a volume through the
// switch while snapshots are taken; copy on write pushes and the sweep run on
// the simulated fabric (FPCopyIO); every block of each snapshot is read back
// through its own LUN and compared with the volume's content at the instant.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/fc/scsi_cdb.h"
#include "tests/support/virtual_testbed.h"

namespace splitpath::testing {
namespace {

using cp::SnapshotInfo;

constexpr uint64_t kBlocks = 8192;  // vol0: one VSEG, 4 MiB
constexpr uint32_t kIoBlocks = 8;
constexpr uint64_t kSlots = kBlocks / kIoBlocks;

std::string snapshot_yaml() {
  return R"(seed: 5
switches: [{name: sw0, domain: 1, ports: 8}]
disks:
  - {name: disk0, port: sw0:2, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk1, port: sw0:3, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk2, port: sw0:4, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk3, port: sw0:5, luns: [{lun: 0, size: 16MiB}]}
hosts:
  - {name: host0, port: sw0:0}
volumes:
  - {name: vol0, switch: sw0, vsegs: [{disk: disk0, lba: 100, blocks: 8192, extent_blocks: 1024}]}
  - {name: snap0, switch: sw0, vsegs: [{disk: disk1, lba: 0, blocks: 8192}]}
  - {name: snap1, switch: sw0, vsegs: [{disk: disk2, lba: 0, blocks: 8192}]}
  - {name: snap2, switch: sw0, vsegs: [{disk: disk3, lba: 0, blocks: 8192}]}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: vol0}, {lun: 1, volume: snap0}, {lun: 2, volume: snap1},
           {lun: 3, volume: snap2}]
zones: [{name: z0, members: [host0, vt0]}]
)";
}

std::vector<uint8_t> slot_data(uint64_t seed) {
  return pattern(seed, kIoBlocks);
}
uint64_t prefill_seed(uint64_t slot) {
  return 5000000 + slot;
}

// host0 keeps `depth` 4 KiB reads and writes of vol0 in flight (never two on
// one slot), each read checked against the slot's last acknowledged data.
struct Load {
  VirtualTestbed& tb;
  sim::Rng rng;
  std::vector<uint64_t> content;  // slot -> seed of its acknowledged data
  std::map<uint64_t, std::shared_ptr<VirtualTestbed::Pending>> in_flight;
  std::map<uint64_t, uint64_t> writing;  // slot -> seed being written
  uint64_t next_seed = 1, reads = 0, writes = 0, mismatches = 0, errors = 0;

  Load(VirtualTestbed& t, uint64_t seed) : tb(t), rng(seed), content(kSlots) {
    for (uint64_t s = 0; s < kSlots; ++s)
      content[s] = prefill_seed(s);
  }

  // Starts I/Os up to `depth`; returns the seeds written by the writes it started.
  void top_up(size_t depth, std::map<uint64_t, std::set<uint64_t>>* started_writes = nullptr) {
    while (in_flight.size() < depth) {
      uint64_t slot = rng.uniform(kSlots);
      while (in_flight.contains(slot))
        slot = (slot + 1) % kSlots;
      const uint64_t lba = slot * kIoBlocks;
      if (rng.uniform(100) < 60) {
        const uint64_t seed = next_seed++;
        writing[slot] = seed;
        if (started_writes) (*started_writes)[slot].insert(seed);
        in_flight[slot] = tb.start("host0", 0, fc::make_write(lba, kIoBlocks), 0, slot_data(seed));
      } else {
        in_flight[slot] = tb.start("host0", 0, fc::make_read(lba, kIoBlocks), kIoBlocks * 512);
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
      } else if (auto w = writing.find(slot); w != writing.end()) {
        content[slot] = w->second;
        ++writes;
      } else {
        ++reads;
        if (r.data_in != slot_data(content[slot])) ++mismatches;
      }
      writing.erase(slot);
      it = in_flight.erase(it);
    }
  }

  void run(VirtualTestbed& t, int steps, size_t depth = 8) {
    for (int i = 0; i < steps; ++i) {
      top_up(depth);
      t.run_for(20 * sim::kNsPerUs);
      reap();
    }
  }

  void drain(VirtualTestbed& t) {
    while (!in_flight.empty()) {
      t.run_for(20 * sim::kNsPerUs);
      reap();
    }
  }

  // Takes snapshot `name` of `source` under load. Returns, per slot, the
  // seeds the snapshot may hold: the slot's data when the snapshot was
  // asked for, or (for a write in flight meanwhile) that write's.
  std::vector<std::set<uint64_t>> snapshot_under_load(cp::ControlPath& cp,
                                                      const std::string& source,
                                                      const std::string& name) {
    std::vector<std::set<uint64_t>> allowed(kSlots);
    for (uint64_t s = 0; s < kSlots; ++s) {
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
};

void prefill(VirtualTestbed& tb) {
  for (uint64_t s = 0; s < kSlots; ++s)
    tb.disk("disk0").mutable_store(0)->write((100 + s * kIoBlocks) * 512,
                                             slot_data(prefill_seed(s)));
}

// Reads every slot of `lun` through host0 and checks it against `allowed`.
void expect_image(VirtualTestbed& tb, uint16_t lun, const std::vector<std::set<uint64_t>>& allowed,
                  const std::string& what) {
  uint64_t bad = 0;
  for (uint64_t s = 0; s < kSlots; s += 8) {
    const sim::ScsiResult r = tb.read("host0", lun, s * kIoBlocks, 8 * kIoBlocks);
    ASSERT_EQ(r.status, fc::scsi_status::kGood) << what << " slot " << s;
    for (uint64_t k = 0; k < 8; ++k) {
      const std::vector<uint8_t> got(r.data_in.begin() + k * kIoBlocks * 512,
                                     r.data_in.begin() + (k + 1) * kIoBlocks * 512);
      bool match = false;
      for (uint64_t seed : allowed[s + k])
        match = match || got == slot_data(seed);
      if (!match && ++bad <= 5) ADD_FAILURE() << what << ": slot " << s + k << " differs";
    }
  }
  EXPECT_EQ(bad, 0u) << what;
}

std::vector<std::set<uint64_t>> exactly(const std::vector<uint64_t>& content) {
  std::vector<std::set<uint64_t>> out(content.size());
  for (size_t i = 0; i < content.size(); ++i)
    out[i] = {content[i]};
  return out;
}

bool swept(cp::ControlPath& cp, const std::string& name) {
  for (const SnapshotInfo& s : cp.snapshots())
    if (s.name == name) return s.swept;
  return false;
}

TEST(Snapshot, UnderWritesEveryBlockHoldsTheSourceAtTheInstant) {
  VirtualTestbed tb(snapshot_yaml(), 4);
  ASSERT_TRUE(tb.ok());
  prefill(tb);
  cp::ControlPath& cp = tb.virtualization().control_path();
  Load load(tb, 21);
  load.run(tb, 200);
  const std::vector<std::set<uint64_t>> at_instant = load.snapshot_under_load(cp, "vol0", "snap0");
  const cp::CpStats taken = cp.stats();
  // Keep writing until the sweep has pushed everything, and a while after.
  for (int i = 0; i < 20000 && !swept(cp, "snap0"); ++i)
    load.run(tb, 1);
  EXPECT_TRUE(swept(cp, "snap0"));
  load.run(tb, 200);
  load.drain(tb);
  EXPECT_EQ(load.errors, 0u);
  EXPECT_EQ(load.mismatches, 0u) << "the source read back other data than acknowledged";
  expect_image(tb, 1, at_instant, "snap0");
  expect_image(tb, 0, exactly(load.content), "vol0");
  const cp::CpStats& s = cp.stats();
  EXPECT_GT(s.cow_pushes, 0u) << "no write met a shared chunk: the test did not exercise it";
  EXPECT_GT(s.sweep_pushes, 0u);
  EXPECT_EQ(s.faults[size_t(fpapi::FaultKind::kFaultOnRead)], 0u);
  const SnapshotInfo info = cp.snapshots().at(0);
  EXPECT_EQ(info.own_blocks, kBlocks);
  std::printf(
      "snapshot under load: %llu copy-on-write pushes, %llu sweep pushes, %llu writes "
      "waited for a push, %llu host writes after the instant\n",
      static_cast<unsigned long long>(s.cow_pushes - taken.cow_pushes),
      static_cast<unsigned long long>(s.sweep_pushes),
      static_cast<unsigned long long>(s.cow_write_waits),
      static_cast<unsigned long long>(load.writes));
}

TEST(Snapshot, SeveralSnapshotsAndASnapshotOfASnapshotEachHoldTheirInstant) {
  VirtualTestbed tb(snapshot_yaml(), 4);
  ASSERT_TRUE(tb.ok());
  prefill(tb);
  cp::ControlPath& cp = tb.virtualization().control_path();
  Load load(tb, 33);
  load.run(tb, 100);
  const auto t0 = load.snapshot_under_load(cp, "vol0", "snap0");
  load.run(tb, 300);
  // A snapshot of the snapshot: snap0's image, whatever snap0 has pushed.
  load.drain(tb);
  std::string error;
  bool done = false;
  ASSERT_TRUE(cp.take_snapshot({"snap0", "snap1"}, &error, [&](bool) { done = true; })) << error;
  while (!done)
    load.run(tb, 1);
  load.run(tb, 300);
  const auto t1 = load.snapshot_under_load(cp, "vol0", "snap2");
  load.run(tb, 300);
  for (int i = 0; i < 40000 && !(swept(cp, "snap0") && swept(cp, "snap1") && swept(cp, "snap2"));
       ++i)
    load.run(tb, 1);
  load.drain(tb);
  EXPECT_EQ(load.errors, 0u);
  EXPECT_EQ(load.mismatches, 0u);
  expect_image(tb, 1, t0, "snap0");
  expect_image(tb, 2, t0, "snap1 (of snap0)");
  expect_image(tb, 3, t1, "snap2");
  expect_image(tb, 0, exactly(load.content), "vol0");
}

TEST(Snapshot, WritesToASnapshotAreRefusedAndBadRequestsNamedPrecisely) {
  VirtualTestbed tb(snapshot_yaml(), 4);
  ASSERT_TRUE(tb.ok());
  prefill(tb);
  cp::ControlPath& cp = tb.virtualization().control_path();
  std::string error;
  EXPECT_FALSE(cp.take_snapshot({"vol9", "snap0"}, &error));
  EXPECT_NE(error.find("no such source volume"), std::string::npos) << error;
  EXPECT_FALSE(cp.take_snapshot({"vol0", "vol0"}, &error));
  EXPECT_NE(error.find("its own snapshot"), std::string::npos) << error;
  bool done = false;
  ASSERT_TRUE(cp.take_snapshot({"vol0", "snap0"}, &error, [&](bool) { done = true; })) << error;
  for (int i = 0; i < 1000 && !done; ++i)
    tb.run_for(10 * sim::kNsPerUs);
  ASSERT_TRUE(done);
  EXPECT_FALSE(cp.take_snapshot({"vol0", "snap0"}, &error));
  EXPECT_NE(error.find("a snapshot already"), std::string::npos) << error;
  const sim::ScsiResult w = tb.write("host0", 1, 0, slot_data(99));
  EXPECT_EQ(w.status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(w.sense.sense_key, fc::sense_key::kDataProtect);
  // The refused write changed nothing: the snapshot still reads the source's data.
  const sim::ScsiResult r = tb.read("host0", 1, 0, kIoBlocks);
  EXPECT_EQ(r.data_in, slot_data(prefill_seed(0)));
}

}  // namespace
}  // namespace splitpath::testing

namespace splitpath::testing {
namespace {

// The topology's `services` list takes a snapshot at its time while the
// host's own verifying workload writes the source.
TEST(Snapshot, ScheduledInTheTopologyItIsTakenAndSweptUnderTheHostsWorkload) {
  const std::string yaml = R"(seed: 9
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
  - {at: 10ms, snapshot: {source: vol0, name: snap0}}
)";
  auto topology = sim::parse_topology_yaml(yaml, "test.yaml");
  ASSERT_TRUE(topology.ok()) << topology.status();
  topology->duration_ns = 200 * sim::kNsPerMs;
  auto fabric = sim::Fabric::build(*topology, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  ASSERT_TRUE((*fabric)->run().ok());
  const sim::HostStats& h = (*fabric)->host("host0")->stats();
  EXPECT_GT(h.ios_completed, 1000u);
  EXPECT_EQ(h.verify_errors, 0u);
  cp::ControlPath& cp = (*fabric)->switch_named("sw0")->virtualization()->control_path();
  ASSERT_EQ(cp.snapshots().size(), 1u);
  EXPECT_TRUE(cp.snapshots()[0].ready);
  EXPECT_TRUE(cp.snapshots()[0].swept);
  EXPECT_GT(cp.stats().cow_pushes, 0u);
}

TEST(Snapshot, AScheduledSnapshotNamingNoVolumeIsAnErrorAtItsLine) {
  const std::string yaml =
      snapshot_yaml() + "services:\n  - {at: 1ms, snapshot: {source: vol0, name: snapX}}\n";
  auto t = sim::parse_topology_yaml(yaml, "t.yaml");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("no volume 'snapX'"), std::string::npos) << t.status();
}

}  // namespace
}  // namespace splitpath::testing
