// Online migration of a volume two DVEs serve at once, end to end (figures
// 23-24 with 28): sw0 migrates `vol` from disk0 to disk2 while host0 writes
// its even slots through sw0 and host1 its odd ones through sw1. Each step
// is made under the chunks' Rmap oplocks: sw1 drains them, then maps them
// as the migration's record says (its writes into the copy barrier wait).
// - The volume, read through both DVEs and on disk2, holds every
//   acknowledged write.
// - sw0 loses power in the middle: sw1 evicts it, inherits its task
//   journal and finishes the migration; no acknowledged write is lost.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "tests/virtualization/two_dves.h"

namespace splitpath::testing {
namespace {

using namespace two_dves;

constexpr uint64_t kDestLba = 1024;

cp::MigrationRequest to_disk2(TwoDves& t) {
  cp::MigrationRequest r;
  r.volume = "vol";
  r.disk_wwpn = t.tb().disk("disk2").wwpn();
  r.dest_lba = kDestLba;
  return r;
}

uint64_t copied(TwoDves& t, const std::string& sw) {
  const auto m = t.cp(sw).migrations();
  return m.empty() ? 0 : m.back().copied_blocks;
}

cp::MigrationProgress::State state(TwoDves& t, const std::string& sw) {
  const auto m = t.cp(sw).migrations();
  return m.empty() ? cp::MigrationProgress::State::kFailed : m.back().state;
}

TEST(DveMigration, TwoHostsWritingThroughTwoDvesDuringAMigrationVerify) {
  TwoDves t(true, 200'000);
  ASSERT_TRUE(t.ok());
  t.run(300);
  std::string error;
  bool done = false;
  ASSERT_TRUE(t.cp("sw0").start_migration(to_disk2(t), &error, [&](bool ok) {
    EXPECT_TRUE(ok);
    done = true;
  })) << error;
  for (int i = 0; i < 20000 && !done; ++i)
    t.run(1);
  EXPECT_TRUE(done);
  t.run(300);  // sw1 follows the last step when it next uses the volume
  t.volume_disk = "disk2";
  t.volume_lba = kDestLba;
  const Outcome r = t.check({"sw0", "sw1"});
  const cp::MigrationProgress m0 = t.cp("sw0").migrations().back();
  std::printf(
      "writes through sw0 %llu, sw1 %llu; %llu writes met the barrier on sw0; oplock "
      "messages %llu\n",
      static_cast<unsigned long long>(r.writes0), static_cast<unsigned long long>(r.writes1),
      static_cast<unsigned long long>(m0.barrier_writes),
      static_cast<unsigned long long>(r.messages));
  EXPECT_GT(r.writes0, 200u);
  EXPECT_GT(r.writes1, 200u);
  EXPECT_EQ(state(t, "sw1"), cp::MigrationProgress::State::kDone);
  EXPECT_EQ(r.volume_wrong, 0u);
  EXPECT_EQ(r.read_errors, 0u);
}

TEST(DveMigration, ASurvivorFinishesTheMigrationOfACrashedDve) {
  TwoDves t(true, 200'000);
  ASSERT_TRUE(t.ok());
  t.run(300);
  std::string error;
  ASSERT_TRUE(t.cp("sw0").start_migration(to_disk2(t), &error)) << error;
  // sw0 loses power once a quarter of the VSEG has moved.
  for (int i = 0; i < 20000 && copied(t, "sw0") < kBlocks / 4; ++i)
    t.run(1);
  ASSERT_EQ(state(t, "sw0"), cp::MigrationProgress::State::kRunning);
  const uint64_t copied_at_crash = copied(t, "sw0");
  t.tb().fabric().crash_dve(t.tb().sw("sw0"));
  for (int i = 0; i < 20000 && state(t, "sw1") != cp::MigrationProgress::State::kDone; ++i)
    t.run(1, /*host0=*/false);
  t.run(300, /*host0=*/false);
  t.volume_disk = "disk2";
  t.volume_lba = kDestLba;
  const Outcome r = t.check({"sw1"}, /*host0_up=*/false);
  const cp::CpStats& s1 = t.tb().stats("sw1").cp;
  std::printf("sw0 crashed with %llu of %llu blocks copied; sw1 took over (%llu tasks)\n",
              static_cast<unsigned long long>(copied_at_crash),
              static_cast<unsigned long long>(kBlocks),
              static_cast<unsigned long long>(s1.dve_tasks_resumed));
  EXPECT_GT(copied_at_crash, 0u);
  EXPECT_LT(copied_at_crash, kBlocks);
  ASSERT_NE(t.tb().fabric().storehouse(), nullptr);
  EXPECT_TRUE(t.tb().fabric().storehouse()->evicted(1));
  EXPECT_EQ(s1.dve_tasks_resumed, 1u);
  EXPECT_EQ(state(t, "sw1"), cp::MigrationProgress::State::kDone);
  EXPECT_EQ(r.volume_wrong, 0u);
  EXPECT_EQ(r.read_errors, 0u);
}

}  // namespace
}  // namespace splitpath::testing
