// Snapshots (figures 20-21) end to end: a host writes a volume through the
// switch while snapshots are taken; copy on write pushes and the sweep run on
// the simulated fabric (FPCopyIO); every block of each snapshot is read back
// through its own LUN and compared with the volume's content at the instant.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/fc/scsi_cdb.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/volume_load.h"

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

// host0 keeps 4 KiB reads and writes of vol0 in flight (volume_load.h).
VolumeLoadShape vol0_load() {
  VolumeLoadShape shape;
  shape.slots = kSlots;
  shape.io_blocks = kIoBlocks;
  shape.prefill_base = prefill_seed(0);
  return shape;
}

struct Load : VolumeLoad {
  Load(VirtualTestbed& t, uint64_t seed) : VolumeLoad(t, vol0_load(), seed) {}
};

void prefill(VirtualTestbed& tb) {
  VolumeLoad(tb, vol0_load(), 0).prefill("disk0", 100);
}

// Reads every slot of `lun` through host0 and checks it against `allowed`.
void expect_image(VirtualTestbed& tb, uint16_t lun, const std::vector<std::set<uint64_t>>& allowed,
                  const std::string& what) {
  VolumeLoad(tb, vol0_load(), 0).expect_image(lun, allowed, what);
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
  load.run(200);
  const std::vector<std::set<uint64_t>> at_instant = load.snapshot_under_load(cp, "vol0", "snap0");
  const cp::CpStats taken = cp.stats();
  // Keep writing until the sweep has pushed everything, and a while after.
  for (int i = 0; i < 20000 && !swept(cp, "snap0"); ++i)
    load.run(1);
  EXPECT_TRUE(swept(cp, "snap0"));
  load.run(200);
  load.drain();
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
  load.run(100);
  const auto t0 = load.snapshot_under_load(cp, "vol0", "snap0");
  load.run(300);
  // A snapshot of the snapshot: snap0's image, whatever snap0 has pushed.
  load.drain();
  std::string error;
  bool done = false;
  ASSERT_TRUE(cp.take_snapshot({"snap0", "snap1"}, &error, [&](bool) { done = true; })) << error;
  while (!done)
    load.run(1);
  load.run(300);
  const auto t1 = load.snapshot_under_load(cp, "vol0", "snap2");
  load.run(300);
  for (int i = 0; i < 40000 && !(swept(cp, "snap0") && swept(cp, "snap1") && swept(cp, "snap2"));
       ++i)
    load.run(1);
  load.drain();
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

// Every push cuts the source's and the snapshot's Rmaps at its chunk; once
// the snapshot is swept, neighbouring extents of one redirect entry are
// merged and unused entries removed, so an I/O across chunks (and across the
// source's declared 1024-block extents) runs on the FP again.
TEST(Snapshot, OnceSweptBothRmapsAreCoalescedAndIosAcrossChunksStayOnTheFp) {
  VirtualTestbed tb(snapshot_yaml(), 4);
  ASSERT_TRUE(tb.ok());
  prefill(tb);
  cp::ControlPath& cp = tb.virtualization().control_path();
  std::string error;
  bool done = false;
  ASSERT_TRUE(cp.take_snapshot({"vol0", "snap0"}, &error, [&](bool) { done = true; })) << error;
  for (int i = 0; i < 1000 && !done; ++i)
    tb.run_for(10 * sim::kNsPerUs);
  ASSERT_TRUE(done);
  // Copy on write into chunks 1 and 8 (blocks 128.. and 1024..).
  EXPECT_EQ(tb.write("host0", 0, 128, slot_data(7)).status, fc::scsi_status::kGood);
  EXPECT_EQ(tb.write("host0", 0, 1024, slot_data(8)).status, fc::scsi_status::kGood);
  for (int i = 0; i < 100000 && !swept(cp, "snap0"); ++i)
    tb.run_for(10 * sim::kNsPerUs);
  ASSERT_TRUE(swept(cp, "snap0"));
  tb.run_for(2 * sim::kNsPerMs);  // the compacting updates
  const uint64_t queued = cp.stats().queued_ios;
  // 16 blocks across chunk 0/1, and across vol0's extents at 1024.
  for (uint64_t lba : {120ull, 1016ull}) {
    for (uint16_t lun : {0, 1}) {
      const sim::ScsiResult r = tb.read("host0", lun, lba, 2 * kIoBlocks);
      ASSERT_EQ(r.status, fc::scsi_status::kGood);
      std::vector<uint8_t> want = slot_data(prefill_seed(lba / kIoBlocks));
      std::vector<uint8_t> second = slot_data(prefill_seed(lba / kIoBlocks + 1));
      if (lun == 0 && lba == 120) second = slot_data(7);
      if (lun == 0 && lba == 1016) second = slot_data(8);
      want.insert(want.end(), second.begin(), second.end());
      EXPECT_EQ(r.data_in, want) << "LUN " << lun << " LBA " << lba;
    }
  }
  EXPECT_EQ(cp.stats().queued_ios - queued, 0u) << "reads across chunks faulted to the CP";
}

}  // namespace
}  // namespace splitpath::testing

namespace splitpath::testing {
namespace {

// The topology's `services` list takes a snapshot at its time while the
// host's own verifying workload writes the source.
TEST(Snapshot, ScheduledInTheTopologyItIsTakenAndSweptUnderTheHostsWorkload) {
  const std::string yaml =
      scheduled_services_yaml(9, "  - {at: 10ms, snapshot: {source: vol0, name: snap0}}\n");
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
