// Two DVEs serving one volume (figure 28), for the tests of data services on
// shared volumes: sw0 and sw1 both serve `vol` (disk0) and `snap` (disk1),
// disk2 is free for a migration; all disks are on sw2, so either of sw0 and
// sw1 may lose power without cutting the other from them. host0 writes the
// even slots of `vol` through sw0, host1 the odd ones through sw1.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cp/cluster/oplock_node.h"
#include "cp/control_path.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/volume_load.h"

namespace splitpath::testing::two_dves {

constexpr uint64_t kBlocks = 2048;
constexpr uint32_t kIoBlocks = 8;
constexpr uint64_t kSlots = kBlocks / kIoBlocks;
constexpr uint64_t kSourceLba = 256;
constexpr uint64_t kSnapLba = 512;

inline std::string shared_volume_yaml() {
  return R"(seed: 29
switches:
  - {name: sw0, domain: 1, ports: 8}
  - {name: sw1, domain: 2, ports: 8}
  - {name: sw2, domain: 3, ports: 8}
isls:
  - {a: sw0:7, b: sw1:7, delay: 20us}
  - {a: sw0:6, b: sw2:6, delay: 20us}
  - {a: sw1:6, b: sw2:7, delay: 20us}
disks:
  - {name: disk0, port: sw2:4, latency: 20us, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk1, port: sw2:5, latency: 20us, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk2, port: sw2:3, latency: 20us, luns: [{lun: 0, size: 4MiB}]}
hosts:
  - {name: host0, port: sw0:0}
  - {name: host1, port: sw1:0}
volumes:
  - {name: vol, switch: sw0, shared_with: [sw1], vsegs: [{disk: disk0, lba: 256, blocks: 2048}]}
  - {name: snap, switch: sw0, shared_with: [sw1], vsegs: [{disk: disk1, lba: 512, blocks: 2048}]}
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol}, {lun: 1, volume: snap}]}
  - {name: vt1, switch: sw1, luns: [{lun: 0, volume: vol}, {lun: 1, volume: snap}]}
zones:
  - {name: z0, members: [host0, vt0]}
  - {name: z1, members: [host1, vt1]}
cp: {dve_latency: 50us, dve_timeout: 2ms, dve_lease: 6ms}
)";
}

inline VolumeLoadShape load_shape(const std::string& host) {
  VolumeLoadShape shape;
  shape.host = host;
  shape.slots = kSlots;
  shape.io_blocks = kIoBlocks;
  shape.write_percent = 70;
  return shape;
}

struct Outcome {
  uint64_t snapshot_wrong_sw0 = 0;  // slots read through sw0 not as at the point in time
  uint64_t snapshot_wrong_sw1 = 0;
  uint64_t snapshot_wrong_disk = 0;  // on the snapshot's own storage, after the sweep
  uint64_t volume_wrong = 0;         // slots not holding their last acknowledged write
  uint64_t read_errors = 0;          // reads of the hosts' loads that saw other data
  uint64_t writes0 = 0, writes1 = 0;
  uint64_t pushes0 = 0, pushes1 = 0;
  uint64_t messages = 0;
  bool swept = false;
};

// Slots of an image read from `bytes` that hold none of the allowed seeds.
inline uint64_t wrong_slots(const std::vector<uint8_t>& bytes,
                            const std::vector<std::set<uint64_t>>& allowed) {
  const size_t slot_bytes = size_t{kIoBlocks} * 512;
  uint64_t wrong = 0;
  for (uint64_t s = 0; s < kSlots; ++s) {
    if (bytes.size() < (s + 1) * slot_bytes) {
      ++wrong;
      continue;
    }
    const std::vector<uint8_t> got(bytes.begin() + s * slot_bytes,
                                   bytes.begin() + (s + 1) * slot_bytes);
    bool match = false;
    for (uint64_t seed : allowed[s])
      match = match || got == pattern(seed, kIoBlocks);
    wrong += !match;
  }
  return wrong;
}

// host0 writes the even slots through sw0, host1 the odd ones through sw1.
class TwoDves {
 public:
  TwoDves(bool coherent, uint64_t sweep_interval_ns)
      : tb_(shared_volume_yaml(), 1, options(coherent, sweep_interval_ns)),
        load0_(tb_, load_shape("host0"), 1),
        load1_(tb_, load_shape("host1"), 2) {
    load1_.next_seed = 1'000'000;
    load0_.stride = load1_.stride = 2;
    load1_.phase = 1;
    load0_.prefill("disk0", kSourceLba);
  }

  VirtualTestbed& tb() { return tb_; }
  bool ok() const { return tb_.ok(); }
  VolumeLoad& owner(uint64_t slot) { return slot % 2 ? load1_ : load0_; }

  // Both hosts (or one, its peer's switch down or the peer idle) run
  // `steps` of 10 us.
  void run(int steps, bool host0 = true, bool host1 = true) {
    for (int i = 0; i < steps; ++i) {
      if (host0) load0_.top_up(6, during_);
      if (host1) load1_.top_up(6, during_);
      tb_.run_for(10 * sim::kNsPerUs);
      if (host0) load0_.reap();
      if (host1) load1_.reap();
    }
  }

  // sw0 takes the snapshot under load. The point in time: each slot as
  // acknowledged, or a write in flight or started before sw0 says it is taken.
  void take() {
    begin_take();
    for (int i = 0; i < 100000 && !taken_; ++i)
      run(1);
    EXPECT_TRUE(taken_);
    end_take();
  }
  // take() in two halves, for a test that runs the fabric its own way between.
  void begin_take() {
    at_snapshot_.assign(kSlots, {});
    for (uint64_t s = 0; s < kSlots; ++s) {
      at_snapshot_[s].insert(owner(s).content[s]);
      if (auto w = owner(s).writing.find(s); w != owner(s).writing.end())
        at_snapshot_[s].insert(w->second);
    }
    taken_ = false;
    std::string error;
    EXPECT_TRUE(cp("sw0").take_snapshot({"vol", "snap"}, &error, [this](bool ok) {
      EXPECT_TRUE(ok);
      taken_ = true;
    })) << error;
    during_map_.clear();
    during_ = &during_map_;
  }
  bool taken() const { return taken_; }
  void end_take() {
    during_ = nullptr;
    for (const auto& [slot, seeds] : during_map_)
      at_snapshot_[slot].insert(seeds.begin(), seeds.end());
  }

  bool swept(const std::string& sw) {
    for (const cp::SnapshotInfo& s : cp(sw).snapshots())
      if (s.name == "snap" && s.swept) return true;
    return false;
  }
  void wait_swept(const std::string& sw) {
    for (int i = 0; i < 2000 && !swept(sw); ++i)
      tb_.run_for(100 * sim::kNsPerUs);
  }

  // The snapshot and the volume, read through the DVEs in `through` and on the disks.
  // Where the volume's blocks are at the end (a migration moves them).
  std::string volume_disk = "disk0";
  uint64_t volume_lba = kSourceLba;

  // A host whose switch is down (or fenced) has writes in flight that never
  // end: they may have landed or not.
  Outcome check(const std::vector<std::string>& through, bool host0_up = true,
                bool host1_up = true) {
    Outcome out;
    if (host1_up) load1_.drain();
    if (host0_up) load0_.drain();
    out.swept = swept(through.front());
    const uint32_t blocks = static_cast<uint32_t>(kBlocks);
    std::vector<std::set<uint64_t>> now(kSlots);
    for (uint64_t s = 0; s < kSlots; ++s) {
      now[s] = {owner(s).content[s]};
      const bool up = s % 2 ? host1_up : host0_up;
      if (auto w = owner(s).writing.find(s); !up && w != owner(s).writing.end())
        now[s].insert(w->second);
    }
    for (const std::string& sw : through) {
      const std::string host = sw == "sw0" ? "host0" : "host1";
      if (!at_snapshot_.empty()) {
        (sw == "sw0" ? out.snapshot_wrong_sw0 : out.snapshot_wrong_sw1) =
            wrong_slots(tb_.read(host, 1, 0, blocks).data_in, at_snapshot_);
      }
      out.volume_wrong += wrong_slots(tb_.read(host, 0, 0, blocks).data_in, now);
    }
    if (!at_snapshot_.empty()) {
      out.snapshot_wrong_disk =
          wrong_slots(tb_.disk_bytes("disk1", 0, kSnapLba, blocks), at_snapshot_);
    }
    out.volume_wrong += wrong_slots(tb_.disk_bytes(volume_disk, 0, volume_lba, blocks), now);
    out.read_errors = load0_.mismatches + load1_.mismatches;
    if (host0_up) out.read_errors += load0_.errors;
    if (host1_up) out.read_errors += load1_.errors;
    out.writes0 = load0_.writes;
    out.writes1 = load1_.writes;
    const cp::CpStats& s0 = tb_.stats("sw0").cp;
    const cp::CpStats& s1 = tb_.stats("sw1").cp;
    out.pushes0 = s0.cow_pushes + s0.sweep_pushes;
    out.pushes1 = s1.cow_pushes + s1.sweep_pushes;
    for (const std::string sw : {"sw0", "sw1"})
      if (const auto* node = cp(sw).dve()) out.messages += node->stats().messages_sent();
    return out;
  }

  cp::ControlPath& cp(const std::string& sw) { return tb_.virtualization(sw).control_path(); }

 private:
  static sim::FabricOptions options(bool coherent, uint64_t sweep_interval_ns) {
    sim::FabricOptions options;
    options.adjust_cp_config = [coherent, sweep_interval_ns](cp::CpConfig& c) {
      c.skip_snapshot_coherence_for_testing = !coherent;
      c.sweep_interval_ns = sweep_interval_ns;
    };
    return options;
  }

  VirtualTestbed tb_;
  VolumeLoad load0_, load1_;
  std::vector<std::set<uint64_t>> at_snapshot_;
  std::map<uint64_t, std::set<uint64_t>> during_map_;
  std::map<uint64_t, std::set<uint64_t>>* during_ = nullptr;
  bool taken_ = false;
};

}  // namespace splitpath::testing::two_dves
