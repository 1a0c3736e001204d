// A compound data service (figure 33): a snapshot of a volume whose VSEG is
// migrating. Everything runs end to end on the simulated fabric: a host
// reads and writes the volume through the switch while the migration moves
// its copy barrier and the snapshot's copy-on-write pushes and sweep run.
// Afterwards the snapshot must hold the volume at its instant, the volume
// every acknowledged write, the migration's destination the volume's data;
// and the blocks the migration left (P1) must no longer matter to the
// snapshot: another VSEG is migrated onto them before the images are read.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
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

using cp::MigrationProgress;

constexpr uint64_t kBlocks = 8192;    // vol0, vol1, snap0: one VSEG of 4 MiB each
constexpr uint64_t kSourceLba = 100;  // vol0 on disk0 (P1)
constexpr uint64_t kDestLba = 300;    // where vol0 goes on disk2 (P2)
constexpr uint32_t kIoBlocks = 8;

std::string compound_yaml() {
  return R"(seed: 7
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
  - {name: vol1, switch: sw0, vsegs: [{disk: disk3, lba: 0, blocks: 8192}]}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: vol0}, {lun: 1, volume: snap0}, {lun: 2, volume: vol1}]
zones: [{name: z0, members: [host0, vt0]}]
)";
}

VolumeLoadShape vol0_shape() {
  VolumeLoadShape s;
  s.lun = 0;
  s.slots = kBlocks / kIoBlocks;
  s.io_blocks = kIoBlocks;
  s.prefill_base = 5000000;
  return s;
}

VolumeLoadShape vol1_shape() {
  VolumeLoadShape s = vol0_shape();
  s.lun = 2;
  s.prefill_base = 7000000;
  return s;
}

// A slow sweep, so that when the migration ends the snapshot still maps
// chunks to the blocks it leaves (they must be pushed first).
sim::FabricOptions slow_sweep() {
  sim::FabricOptions o;
  o.adjust_cp_config = [](cp::CpConfig& c) { c.sweep_interval_ns = 3 * sim::kNsPerMs; };
  return o;
}

// The latest migration of `volume` (a default one if none).
MigrationProgress migration(cp::ControlPath& cp, const std::string& volume) {
  MigrationProgress out;
  for (const MigrationProgress& m : cp.migrations()) {
    if (m.volume == volume) out = m;
  }
  return out;
}

bool swept(cp::ControlPath& cp, const std::string& name) {
  for (const cp::SnapshotInfo& s : cp.snapshots())
    if (s.name == name) return s.swept;
  return false;
}

// Starts migrating volume `volume`'s only VSEG to `disk` from `lba`; *done
// is set when it ends (*ok: it succeeded).
void migrate(VirtualTestbed& tb, const std::string& volume, const std::string& disk, uint64_t lba,
             bool* done, bool* ok) {
  std::string error;
  cp::ControlPath& cp = tb.virtualization().control_path();
  ASSERT_TRUE(cp.start_migration({volume, 0, tb.disk(disk).wwpn(), 0, lba}, &error, [=](bool r) {
    *done = true;
    *ok = r;
  })) << error;
}

// Runs the load until `until()` or `limit` steps.
template <typename F>
void run_until(VolumeLoad& load, F until, int limit = 40000) {
  for (int i = 0; i < limit && !until(); ++i)
    load.run(1);
}

// What the tests check at the end, once the load has drained, over the
// load's slots: the volume reads back every acknowledged write, the
// migration's destination (read straight from the disk) holds it too, and
// the snapshot its instant.
void expect_images(VirtualTestbed& tb, VolumeLoad& load,
                   const std::vector<std::set<uint64_t>>& at_instant) {
  EXPECT_EQ(load.errors, 0u);
  EXPECT_EQ(load.mismatches, 0u) << "the volume read back other data than acknowledged";
  load.expect_image(1, at_instant, "snap0");
  load.expect_image(0, load.exactly(), "vol0");
  uint64_t lost = 0;
  std::vector<uint8_t> got(kIoBlocks * 512);
  for (uint64_t s = 0; s < load.shape.slots; ++s) {
    tb.disk("disk2").store(0)->read((kDestLba + load.shape.first_lba + s * kIoBlocks) * 512, got);
    if (got != load.data(load.content[s]) && ++lost <= 5)
      ADD_FAILURE() << "the destination's slot " << s << " is not the volume's";
  }
  EXPECT_EQ(lost, 0u) << "slots of the destination differ from the acknowledged writes";
}

// vol1, migrated onto the blocks vol0 left, holds its own data.
void expect_vol1(VirtualTestbed& tb) {
  VolumeLoad vol1(tb, vol1_shape(), 1);
  vol1.expect_image(2, vol1.exactly(), "vol1");
}

TEST(Compound, ASnapshotTakenDuringAMigrationHoldsItsInstantAfterBothEnd) {
  VirtualTestbed tb(compound_yaml(), 3, slow_sweep());
  ASSERT_TRUE(tb.ok());
  cp::ControlPath& cp = tb.virtualization().control_path();
  VolumeLoad load(tb, vol0_shape(), 41);
  load.prefill("disk0", kSourceLba);
  VolumeLoad(tb, vol1_shape(), 1).prefill("disk3", 0);
  load.run(200);

  bool migrated = false, migrated_ok = false;
  migrate(tb, "vol0", "disk2", kDestLba, &migrated, &migrated_ok);
  // Mid-migration: a third of the VSEG on P2, the barrier, the rest on P1.
  run_until(load, [&] { return migration(cp, "vol0").copied_blocks >= kBlocks / 3; });
  const std::vector<std::set<uint64_t>> at_instant = load.snapshot_under_load(cp, "vol0", "snap0");
  const MigrationProgress at_snapshot = migration(cp, "vol0");
  ASSERT_EQ(at_snapshot.state, MigrationProgress::State::kRunning)
      << "the migration ended before the snapshot was taken: the test did not exercise figure 33";
  EXPECT_LT(at_snapshot.copied_blocks, kBlocks * 2 / 3);
  const cp::CpStats taken = cp.stats();

  run_until(load, [&] { return migrated; });
  ASSERT_TRUE(migrated && migrated_ok) << "the migration did not end well";
  const cp::CpStats migration_end = cp.stats();
  EXPECT_FALSE(swept(cp, "snap0")) << "the sweep was done first: nothing was left on P1";
  // The blocks vol0 left are free again: vol1 moves onto them and so
  // overwrites them, while the load goes on.
  bool moved = false, moved_ok = false;
  migrate(tb, "vol1", "disk0", kSourceLba, &moved, &moved_ok);
  run_until(
      load, [&] { return moved && swept(cp, "snap0"); }, 100000);
  EXPECT_TRUE(moved && moved_ok);
  EXPECT_TRUE(swept(cp, "snap0"));
  load.run(200);
  load.drain();
  expect_images(tb, load, at_instant);
  expect_vol1(tb);

  const cp::CpStats& s = cp.stats();
  const MigrationProgress end = migration(cp, "vol0");
  EXPECT_GT(s.cow_pushes - taken.cow_pushes, 0u) << "no write met a shared chunk";
  EXPECT_GT(end.barrier_writes - at_snapshot.barrier_writes, 0u)
      << "no write met the barrier after the snapshot";
  EXPECT_GT(migration_end.migration_pushes, 0u)
      << "no chunk was left on P1 at the migration's end: the test did not exercise it";
  EXPECT_EQ(cp.snapshots().at(0).own_blocks, kBlocks);
  std::printf(
      "snapshot during migration: taken at %llu of %llu blocks copied; %llu copy-on-write "
      "pushes, %llu sweep pushes (%llu of them at the migration's end), %llu barrier writes, "
      "%llu writes waited for a push, %llu host writes\n",
      static_cast<unsigned long long>(at_snapshot.copied_blocks),
      static_cast<unsigned long long>(kBlocks),
      static_cast<unsigned long long>(s.cow_pushes - taken.cow_pushes),
      static_cast<unsigned long long>(s.sweep_pushes),
      static_cast<unsigned long long>(migration_end.migration_pushes),
      static_cast<unsigned long long>(end.barrier_writes),
      static_cast<unsigned long long>(s.cow_write_waits),
      static_cast<unsigned long long>(load.writes));
}

// The other order: the source of a snapshot migrates. The host writes
// only the first half of the volume, so the snapshot shares the second half
// on P1 until the migration ends (the sweep, from block 0 on, is slow):
// those chunks are pushed before the blocks are freed.
TEST(Compound, TheSourceOfASnapshotMigratesAndTheSnapshotKeepsItsInstant) {
  VirtualTestbed tb(compound_yaml(), 3, slow_sweep());
  ASSERT_TRUE(tb.ok());
  cp::ControlPath& cp = tb.virtualization().control_path();
  VolumeLoadShape lower = vol0_shape();
  lower.slots /= 2;
  VolumeLoadShape upper = lower;
  upper.first_lba = lower.slots * kIoBlocks;
  upper.prefill_base += lower.slots;
  VolumeLoad load(tb, lower, 43);
  VolumeLoad untouched(tb, upper, 1);
  load.prefill("disk0", kSourceLba);
  untouched.prefill("disk0", kSourceLba + upper.first_lba);
  VolumeLoad(tb, vol1_shape(), 1).prefill("disk3", 0);
  load.run(200);
  const std::vector<std::set<uint64_t>> at_instant = load.snapshot_under_load(cp, "vol0", "snap0");
  load.run(200);
  std::string error;
  EXPECT_FALSE(cp.start_migration({"snap0", 0, tb.disk("disk2").wwpn(), 0, kDestLba}, &error));
  EXPECT_NE(error.find("a snapshot's VSEG cannot migrate"), std::string::npos) << error;
  bool migrated = false, migrated_ok = false;
  migrate(tb, "vol0", "disk2", kDestLba, &migrated, &migrated_ok);
  run_until(load, [&] { return migrated; });
  ASSERT_TRUE(migrated && migrated_ok);
  EXPECT_FALSE(swept(cp, "snap0"));
  bool moved = false, moved_ok = false;
  migrate(tb, "vol1", "disk0", kSourceLba, &moved, &moved_ok);
  run_until(
      load, [&] { return moved && swept(cp, "snap0"); }, 100000);
  EXPECT_TRUE(moved && moved_ok);
  EXPECT_TRUE(swept(cp, "snap0"));
  load.drain();
  expect_images(tb, load, at_instant);
  expect_images(tb, untouched, untouched.exactly());
  expect_vol1(tb);
  EXPECT_GT(cp.stats().migration_pushes, 0u);
  EXPECT_GT(migration(cp, "vol0").barrier_writes, 0u);
}

// Copy-on-write pushes of the first chunks start as the snapshot is taken
// and the migration starts right after, so a push ends while its chunk is
// the copy barrier: giving the root's chunk its own flags back must keep
// the barrier's FoW (the host's writes there wait for the barrier to move
// rather than go to P1 on the FP while the chunk is copied).
TEST(Compound, PushesEndingOnTheBarrierKeepItsWritesWaiting) {
  for (uint64_t seed : {51, 52, 53, 54}) {
    SCOPED_TRACE(seed);
    VirtualTestbed tb(compound_yaml(), 3);
    ASSERT_TRUE(tb.ok());
    cp::ControlPath& cp = tb.virtualization().control_path();
    // The load on the first chunks only: each is written again and again
    // while the pushes and the barrier pass it.
    VolumeLoadShape shape = vol0_shape();
    shape.slots = 128;
    shape.write_percent = 80;
    VolumeLoad load(tb, shape, seed);
    load.prefill("disk0", kSourceLba);
    load.run(100);
    const std::vector<std::set<uint64_t>> at_instant =
        load.snapshot_under_load(cp, "vol0", "snap0");
    bool migrated = false, migrated_ok = false;
    migrate(tb, "vol0", "disk2", kDestLba, &migrated, &migrated_ok);
    run_until(load, [&] { return migrated && swept(cp, "snap0"); });
    ASSERT_TRUE(migrated && migrated_ok);
    EXPECT_TRUE(swept(cp, "snap0"));
    load.run(100);
    load.drain();
    expect_images(tb, load, at_instant);
  }
}

// The topology's `services` list: a migration, and a snapshot of the same
// volume while it runs, under the host's own verifying workload.
TEST(Compound, ScheduledInTheTopologyBothRunUnderTheHostsWorkload) {
  const std::string yaml =
      scheduled_services_yaml(11,
                              "  - {at: 5ms, migrate: {volume: vol0, disk: disk1, to_lba: 10000}}\n"
                              "  - {at: 7ms, snapshot: {source: vol0, name: snap0}}\n");
  auto topology = sim::parse_topology_yaml(yaml, "test.yaml");
  ASSERT_TRUE(topology.ok()) << topology.status();
  topology->duration_ns = 300 * sim::kNsPerMs;
  auto fabric = sim::Fabric::build(*topology, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  ASSERT_TRUE((*fabric)->run().ok());
  const sim::HostStats& h = (*fabric)->host("host0")->stats();
  EXPECT_GT(h.ios_completed, 1000u);
  EXPECT_EQ(h.verify_errors, 0u);
  cp::ControlPath& cp = (*fabric)->switch_named("sw0")->virtualization()->control_path();
  ASSERT_EQ(cp.migrations().size(), 1u);
  EXPECT_EQ(cp.migrations()[0].state, MigrationProgress::State::kDone);
  ASSERT_EQ(cp.snapshots().size(), 1u);
  EXPECT_TRUE(cp.snapshots()[0].ready);
  EXPECT_LT(cp.snapshots()[0].taken_ns, cp.migrations()[0].finished_ns)
      << "the snapshot was not taken during the migration";
  EXPECT_TRUE(cp.snapshots()[0].swept);
  EXPECT_TRUE(cp.snapshots()[0].error.empty()) << cp.snapshots()[0].error;
}

}  // namespace
}  // namespace splitpath::testing
