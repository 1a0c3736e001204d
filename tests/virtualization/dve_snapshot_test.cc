// A snapshot of a volume two DVEs serve at once (figures 28-29), end to end:
// host0 writes the even slots of `vol` through sw0, host1 the odd ones
// through sw1, while sw0 takes snapshot `snap` of it. Both DVEs push chunks
// (their hosts' writes fault on FoW), sw0 sweeps the rest; each push is
// made under the chunk's Rmap oplock, so the other DVE drains and later
// reloads the chunk. The snapshot, read through either DVE and on its own
// disk, holds every slot as it was at the point in time; the volume holds
// every acknowledged write. Without the oplocks (a test switch: sw1 never
// learns of the snapshot) the snapshot takes host1's later writes.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "cp/cluster/oplock_node.h"
#include "cp/control_path.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/volume_load.h"

namespace splitpath::testing {
namespace {

constexpr uint64_t kBlocks = 2048;
constexpr uint32_t kIoBlocks = 8;
constexpr uint64_t kSlots = kBlocks / kIoBlocks;
constexpr uint64_t kSourceLba = 256;
constexpr uint64_t kSnapLba = 512;

std::string shared_snapshot_yaml() {
  return R"(seed: 29
switches:
  - {name: sw0, domain: 1, ports: 8}
  - {name: sw1, domain: 2, ports: 8}
isls:
  - {a: sw0:7, b: sw1:7, delay: 20us}
disks:
  - {name: disk0, port: sw0:4, latency: 20us, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk1, port: sw1:4, latency: 20us, luns: [{lun: 0, size: 4MiB}]}
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
cp: {dve_latency: 50us}
)";
}

VolumeLoadShape load_shape(const std::string& host) {
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

// Slots of an image of `blocks` read from `bytes` that hold none of the allowed seeds.
uint64_t wrong_slots(const std::vector<uint8_t>& bytes,
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

Outcome snapshot_through_two_dves(bool coherent) {
  Outcome out;
  sim::FabricOptions options;
  options.adjust_cp_config = [coherent](cp::CpConfig& c) {
    c.skip_snapshot_coherence_for_testing = !coherent;
    c.sweep_interval_ns = 200'000;  // slow enough that the hosts' writes push chunks too
  };
  VirtualTestbed tb(shared_snapshot_yaml(), 1, options);
  EXPECT_TRUE(tb.ok());
  if (!tb.ok()) return out;
  VolumeLoad load0(tb, load_shape("host0"), 1);
  VolumeLoad load1(tb, load_shape("host1"), 2);
  load1.next_seed = 1'000'000;
  load0.stride = load1.stride = 2;
  load1.phase = 1;
  load0.prefill("disk0", kSourceLba);
  auto both = [&](int steps) {
    for (int i = 0; i < steps; ++i) {
      load0.top_up(6);
      load1.top_up(6);
      tb.run_for(10 * sim::kNsPerUs);
      load0.reap();
      load1.reap();
    }
  };
  both(300);

  // The point in time: each slot as acknowledged, or a write in flight or
  // started before sw0 says the snapshot is taken.
  std::vector<std::set<uint64_t>> at_snapshot(kSlots);
  auto owner = [&](uint64_t s) -> VolumeLoad& { return s % 2 ? load1 : load0; };
  for (uint64_t s = 0; s < kSlots; ++s) {
    at_snapshot[s].insert(owner(s).content[s]);
    if (auto w = owner(s).writing.find(s); w != owner(s).writing.end())
      at_snapshot[s].insert(w->second);
  }
  cp::ControlPath& cp0 = tb.virtualization("sw0").control_path();
  bool taken = false;
  std::string error;
  EXPECT_TRUE(cp0.take_snapshot({"vol", "snap"}, &error, [&](bool ok) {
    EXPECT_TRUE(ok);
    taken = true;
  })) << error;
  std::map<uint64_t, std::set<uint64_t>> during0, during1;
  for (int i = 0; i < 100000 && !taken; ++i) {
    load0.top_up(6, &during0);
    load1.top_up(6, &during1);
    tb.run_for(10 * sim::kNsPerUs);
    load0.reap();
    load1.reap();
  }
  EXPECT_TRUE(taken);
  for (const auto* during : {&during0, &during1})
    for (const auto& [slot, seeds] : *during)
      at_snapshot[slot].insert(seeds.begin(), seeds.end());

  // Both hosts go on writing while chunks are pushed and swept.
  both(1500);
  load0.drain();
  load1.drain();
  for (int i = 0; i < 2000 && !out.swept; ++i) {
    tb.run_for(100 * sim::kNsPerUs);
    for (const cp::SnapshotInfo& s : cp0.snapshots())
      out.swept = s.name == "snap" && s.swept;
  }

  const uint32_t blocks = static_cast<uint32_t>(kBlocks);
  out.snapshot_wrong_sw0 = wrong_slots(tb.read("host0", 1, 0, blocks).data_in, at_snapshot);
  out.snapshot_wrong_sw1 = wrong_slots(tb.read("host1", 1, 0, blocks).data_in, at_snapshot);
  out.snapshot_wrong_disk = wrong_slots(tb.disk_bytes("disk1", 0, kSnapLba, blocks), at_snapshot);
  std::vector<std::set<uint64_t>> now(kSlots);
  for (uint64_t s = 0; s < kSlots; ++s)
    now[s] = {owner(s).content[s]};
  out.volume_wrong = wrong_slots(tb.read("host0", 0, 0, blocks).data_in, now) +
                     wrong_slots(tb.read("host1", 0, 0, blocks).data_in, now) +
                     wrong_slots(tb.disk_bytes("disk0", 0, kSourceLba, blocks), now);
  out.read_errors = load0.mismatches + load1.mismatches + load0.errors + load1.errors;
  out.writes0 = load0.writes;
  out.writes1 = load1.writes;
  const cp::CpStats& s0 = tb.stats("sw0").cp;
  const cp::CpStats& s1 = tb.stats("sw1").cp;
  out.pushes0 = s0.cow_pushes + s0.sweep_pushes;
  out.pushes1 = s1.cow_pushes + s1.sweep_pushes;
  for (const std::string sw : {"sw0", "sw1"})
    if (const auto* node = tb.virtualization(sw).control_path().dve())
      out.messages += node->stats().messages_sent();
  return out;
}

TEST(DveSnapshot, TwoHostsWritingThroughTwoDvesDuringASnapshotBothVerify) {
  const Outcome r = snapshot_through_two_dves(true);
  std::printf(
      "writes through sw0 %llu, sw1 %llu; chunks pushed by sw0 %llu, by sw1 %llu; oplock "
      "messages %llu; swept %d\n",
      static_cast<unsigned long long>(r.writes0), static_cast<unsigned long long>(r.writes1),
      static_cast<unsigned long long>(r.pushes0), static_cast<unsigned long long>(r.pushes1),
      static_cast<unsigned long long>(r.messages), r.swept);
  EXPECT_GT(r.writes0, 200u);
  EXPECT_GT(r.writes1, 200u);
  EXPECT_GT(r.pushes1, 0u);  // sw1 pushed chunks of its own, under the oplocks
  EXPECT_TRUE(r.swept);
  EXPECT_EQ(r.snapshot_wrong_sw0, 0u);
  EXPECT_EQ(r.snapshot_wrong_sw1, 0u);
  EXPECT_EQ(r.snapshot_wrong_disk, 0u);
  EXPECT_EQ(r.volume_wrong, 0u);
  EXPECT_EQ(r.read_errors, 0u);
}

TEST(DveSnapshot, WithoutTheOplocksTheSnapshotTakesLaterWrites) {
  const Outcome r = snapshot_through_two_dves(false);
  std::printf("incoherent: %llu snapshot slots differ on its disk\n",
              static_cast<unsigned long long>(r.snapshot_wrong_disk));
  EXPECT_GT(r.snapshot_wrong_disk, 0u);
}

}  // namespace
}  // namespace splitpath::testing
