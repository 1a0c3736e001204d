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

#include "tests/virtualization/two_dves.h"

namespace splitpath::testing {
namespace {

using namespace two_dves;

Outcome snapshot_through_two_dves(bool coherent) {
  // The sweep is slow enough that the hosts' writes push chunks too.
  TwoDves t(coherent, 200'000);
  EXPECT_TRUE(t.ok());
  if (!t.ok()) return {};
  t.run(300);
  t.take();
  t.run(1500);  // chunks pushed and swept under the hosts' writes
  t.wait_swept("sw0");
  return t.check({"sw0", "sw1"});
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

// sw0 takes the snapshot, then loses power in the middle of its sweep
// (1 ms a chunk). host1 goes on writing through sw1: needing a chunk's
// oplock, sw1 evicts sw0, inherits its task journal and goes on with the
// sweep. The snapshot verifies through sw1 and on its disk.
TEST(DveSnapshot, ASurvivorGoesOnWithTheSweepOfACrashedTaker) {
  TwoDves t(true, 1'000'000);
  ASSERT_TRUE(t.ok());
  t.run(300);
  t.take();
  t.run(300);
  EXPECT_FALSE(t.swept("sw0"));
  t.tb().fabric().crash_dve(t.tb().sw("sw0"));
  t.run(3000, /*host0=*/false);
  t.wait_swept("sw1");
  const Outcome r = t.check({"sw1"}, /*host0_up=*/false);
  const cp::CpStats& s1 = t.tb().stats("sw1").cp;
  std::printf("after the crash: chunks pushed by sw1 %llu, tasks resumed %llu; swept %d\n",
              static_cast<unsigned long long>(r.pushes1),
              static_cast<unsigned long long>(s1.dve_tasks_resumed), r.swept);
  ASSERT_NE(t.tb().fabric().storehouse(), nullptr);
  EXPECT_TRUE(t.tb().fabric().storehouse()->evicted(1));
  EXPECT_EQ(s1.dve_tasks_resumed, 1u);
  EXPECT_TRUE(r.swept);
  EXPECT_EQ(r.snapshot_wrong_sw1, 0u);
  EXPECT_EQ(r.snapshot_wrong_disk, 0u);
  EXPECT_EQ(r.volume_wrong, 0u);
  EXPECT_EQ(r.read_errors, 0u);
}

// sw1 is cut from the other DVEs with its FPs holding extents of `vol`; sw0
// takes the snapshot, evicting sw1 once it does not answer and waiting out
// its lease; sw1 fences itself. Its FPs must serve nothing more of the
// volume: a host1 write landing on the source after the snapshot's point
// would be lost from it. The snapshot verifies on its disk.
TEST(DveSnapshot, AFencedDveServesNothingMoreOfASharedVolume) {
  TwoDves t(true, 200'000);
  ASSERT_TRUE(t.ok());
  t.run(300);
  t.tb().fabric().dve_network()->set_isolated(2, true);
  t.take();
  t.run(1500);
  t.wait_swept("sw0");
  ASSERT_NE(t.cp("sw1").dve(), nullptr);
  EXPECT_FALSE(t.cp("sw1").dve()->online());
  EXPECT_TRUE(t.swept("sw0"));
  const Outcome r = t.check({"sw0"}, /*host0_up=*/true, /*host1_up=*/false);
  std::printf("host1 wrote %llu times in all; snapshot slots wrong on disk %llu\n",
              static_cast<unsigned long long>(r.writes1),
              static_cast<unsigned long long>(r.snapshot_wrong_disk));
  EXPECT_EQ(r.snapshot_wrong_disk, 0u);
  EXPECT_EQ(r.snapshot_wrong_sw0, 0u);
}

// As above, then sw1 boots again (CpConfig::dve_reboot_after_ns): while it
// is still cut off it does not come on line (it would evict sw0 for not
// answering, and sw0 it again, in turn); once it reaches sw0 it does, learns
// of the snapshot taken meanwhile, and serves host1 again: the snapshot and
// the volume verify through both DVEs.
TEST(DveSnapshot, AFencedDveBootsAgainOnceItReachesItsPeerAndServesTheSnapshotTakenMeanwhile) {
  TwoDves t(true, 200'000);
  ASSERT_TRUE(t.ok());
  t.run(300);
  // host1 idle from here until sw1 is back: a write it had in flight at the
  // fence would time out, landed or not.
  t.run(100, /*host0=*/true, /*host1=*/false);
  t.tb().fabric().dve_network()->set_isolated(2, true);
  t.begin_take();
  for (int i = 0; i < 100000 && !t.taken(); ++i)
    t.run(1, /*host0=*/true, /*host1=*/false);
  ASSERT_TRUE(t.taken());
  t.end_take();
  t.run(1500, /*host0=*/true, /*host1=*/false);
  t.wait_swept("sw0");
  ASSERT_NE(t.cp("sw1").dve(), nullptr);
  t.tb().run_for(400 * sim::kNsPerMs);
  const cp::cluster::OplockNode& sw0 = *t.cp("sw0").dve();
  const cp::cluster::OplockNode& sw1 = *t.cp("sw1").dve();
  EXPECT_FALSE(sw1.online());
  EXPECT_GE(sw1.stats().probes_unanswered, 2u);
  EXPECT_TRUE(sw0.online());
  EXPECT_EQ(sw0.stats().fenced, 0u);
  EXPECT_EQ(sw1.stats().evictions, 0u);
  t.tb().fabric().dve_network()->set_isolated(2, false);
  t.tb().run_for(200 * sim::kNsPerMs);
  EXPECT_TRUE(sw1.online());
  EXPECT_FALSE(t.tb().fabric().storehouse()->evicted(2));
  t.run(1500);
  const Outcome r = t.check({"sw0", "sw1"});
  std::printf(
      "sw1: fenced %llu, probes unanswered %llu; host1 wrote %llu times; wrong: snapshot "
      "via sw1 %llu, disk %llu, volume %llu; read errors %llu\n",
      static_cast<unsigned long long>(sw1.stats().fenced),
      static_cast<unsigned long long>(sw1.stats().probes_unanswered),
      static_cast<unsigned long long>(r.writes1),
      static_cast<unsigned long long>(r.snapshot_wrong_sw1),
      static_cast<unsigned long long>(r.snapshot_wrong_disk),
      static_cast<unsigned long long>(r.volume_wrong),
      static_cast<unsigned long long>(r.read_errors));
  EXPECT_TRUE(r.swept);
  EXPECT_EQ(r.snapshot_wrong_sw0, 0u);
  EXPECT_EQ(r.snapshot_wrong_sw1, 0u);
  EXPECT_EQ(r.snapshot_wrong_disk, 0u);
  EXPECT_EQ(r.volume_wrong, 0u);
  EXPECT_EQ(r.read_errors, 0u);
}

// Holds the LV Reconfig oplocks of both volumes of the snapshot acquired.
bool holds_lv_oplocks(const cp::cluster::OplockNode& node) {
  int acquired = 0;
  for (const cp::cluster::OplockId& id : node.known_oplocks()) {
    acquired += id.luid == cp::cluster::Luid::kLvReconfig &&
                node.state(id) == cp::cluster::OplockState::kAcquired;
  }
  return acquired == 2;
}

// sw0 takes the snapshot while its host's writes to the source are slow
// (disk0 answers 40 ms late): the snapshot's update drains them for that
// long. Right after sw0 holds the LV Reconfig oplocks (the snapshot is in the
// record, not yet in force at sw0) sw0 is cut from the other DVEs; sw1
// evicts it when its host writes, waits out its lease and replays its task
// journal. The sweep must be in it, so that sw1 finishes it: a sweep sw0
// recorded only once its snapshot was in force would come after that replay.
TEST(DveSnapshot, ATakerEvictedBeforeItsSnapshotIsInForceLeavesItsSweepToItsEvictor) {
  TwoDves t(true, 1'000'000);
  ASSERT_TRUE(t.ok());
  t.run(300);
  t.run(100, /*host0=*/true, /*host1=*/false);  // sw1 idle: nothing to drain
  t.tb().disk("disk0").set_extra_delay(40 * sim::kNsPerMs);
  t.run(10, /*host0=*/true, /*host1=*/false);
  t.begin_take();
  ASSERT_NE(t.cp("sw0").dve(), nullptr);
  for (int i = 0; i < 1000 && !holds_lv_oplocks(*t.cp("sw0").dve()); ++i)
    t.tb().run_for(sim::kNsPerUs);
  ASSERT_TRUE(holds_lv_oplocks(*t.cp("sw0").dve()));
  t.tb().fabric().dve_network()->set_isolated(1, true);
  t.tb().disk("disk0").set_extra_delay(0);
  t.run(5000, /*host0=*/false);
  t.end_take();
  t.wait_swept("sw1");
  const Outcome r = t.check({"sw1"}, /*host0_up=*/false);
  const cp::CpStats& s1 = t.tb().stats("sw1").cp;
  std::printf("sw1: tasks resumed %llu, chunks pushed %llu, swept %d; sw0 online %d\n",
              static_cast<unsigned long long>(s1.dve_tasks_resumed),
              static_cast<unsigned long long>(r.pushes1), r.swept, t.cp("sw0").dve()->online());
  ASSERT_NE(t.tb().fabric().storehouse(), nullptr);
  EXPECT_TRUE(t.tb().fabric().storehouse()->evicted(1));
  EXPECT_TRUE(t.tb().fabric().storehouse()->tasks(1).empty());  // nothing orphaned
  EXPECT_EQ(s1.dve_tasks_resumed, 1u);
  EXPECT_TRUE(r.swept);
  EXPECT_EQ(r.snapshot_wrong_sw1, 0u);
  EXPECT_EQ(r.snapshot_wrong_disk, 0u);
  EXPECT_EQ(r.volume_wrong, 0u);
  EXPECT_EQ(r.read_errors, 0u);
}

}  // namespace
}  // namespace splitpath::testing
