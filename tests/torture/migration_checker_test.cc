// Online migrations in the torture harness: the revocation checker accepts
// the copy's WRITE into the destination of the blocks in the copy barrier
// (Placement::copying_into) and nothing else; the generator plans migrations
// from their own stream, leaving every other kind's schedule as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "fabric_sim/torture/placement.h"
#include "fabric_sim/torture/revocation_checker.h"
#include "fabric_sim/torture/scenario.h"

namespace splitpath::sim::torture {
namespace {

constexpr uint32_t kVi = 0x010200;  // a virtual initiator

// One simple VSEG of 32 blocks: its own place on disk "src" from LBA 100, its
// shadow area on disk "dst" from LBA 500.
TortureScenario one_vseg() {
  TortureScenario s;
  VolumeConfig vol;
  vol.name = "v";
  s.topology.volumes.push_back(vol);
  TortureVseg v;
  v.volume_lba = 1000;
  v.blocks = 32;
  v.place[0].disk = "src";
  v.place[0].lba = 100;
  v.place[1].disk = "dst";
  v.place[1].lba = 500;
  v.migratable = true;
  s.vsegs.push_back(v);
  return s;
}

DownstreamCommand write(const std::string& disk, uint64_t lba, uint32_t blocks) {
  return DownstreamCommand{0, kVi, disk, 0, lba, blocks, true};
}

DownstreamCommand read(const std::string& disk, uint64_t lba, uint32_t blocks) {
  return DownstreamCommand{0, kVi, disk, 0, lba, blocks, false};
}

// Blocks [8, 16) are the copy barrier of a migration from the own place to
// the shadow area (on_step moved = false).
void barrier(Placement& p, uint64_t start, uint64_t blocks, uint8_t into) {
  for (uint64_t b = start; b < start + blocks; ++b)
    p.set_copying(0, b, into);
}

TEST(TortureMigrationChecker, TheCopyWriteIntoTheBarrierIsAccepted) {
  const TortureScenario s = one_vseg();
  Placement placement(s);
  RevocationChecker checker(s, placement, nullptr);
  // Before the barrier, a write to the destination is a revocation violation.
  EXPECT_TRUE(checker.on_command(write("dst", 508, 8)).has_value());
  barrier(placement, 8, 8, 1);
  EXPECT_EQ(placement.copying_into(0, 8), std::optional<uint8_t>(1));
  EXPECT_FALSE(placement.copying_into(0, 7).has_value());
  // The copy: READ from the source, WRITE into the destination, whole or in
  // pieces.
  EXPECT_FALSE(checker.on_command(read("src", 108, 8)).has_value());
  EXPECT_FALSE(checker.on_command(write("dst", 508, 8)).has_value());
  EXPECT_FALSE(checker.on_command(write("dst", 512, 2)).has_value());
}

TEST(TortureMigrationChecker, AWriteToTheDestinationOutsideTheBarrierIsAViolation) {
  const TortureScenario s = one_vseg();
  Placement placement(s);
  RevocationChecker checker(s, placement, nullptr);
  barrier(placement, 8, 8, 1);
  // Block 16, just past the barrier: not copied yet, it lives on the source.
  auto past = checker.on_command(write("dst", 516, 1));
  ASSERT_TRUE(past.has_value());
  EXPECT_EQ(past->invariant, kRevocation);
  EXPECT_NE(past->summary.find("volume v LBA 1016"), std::string::npos) << past->summary;
  // A write overlapping the barrier and the block before it.
  auto before = checker.on_command(write("dst", 507, 4));
  ASSERT_TRUE(before.has_value());
  EXPECT_NE(before->summary.find("volume v LBA 1007"), std::string::npos) << before->summary;
  // A READ of a barrier block from the destination: the block is not there
  // yet (only the copy's writes are).
  auto early_read = checker.on_command(read("dst", 508, 1));
  ASSERT_TRUE(early_read.has_value());
  EXPECT_NE(early_read->summary.find("copy barrier"), std::string::npos) << early_read->summary;
}

TEST(TortureMigrationChecker, AWriteToTheSourceOfABarrierBlockIsAViolation) {
  const TortureScenario s = one_vseg();
  Placement placement(s);
  RevocationChecker checker(s, placement, nullptr);
  barrier(placement, 8, 8, 1);
  // Writes into the barrier wait in the CP: one reaching the source could be
  // lost to the copy.
  auto v = checker.on_command(write("src", 110, 1));
  ASSERT_TRUE(v.has_value());
  EXPECT_NE(v->summary.find("volume v LBA 1010"), std::string::npos) << v->summary;
  EXPECT_NE(v->summary.find("must wait"), std::string::npos) << v->summary;
  // Outside the barrier the source is where blocks live.
  EXPECT_FALSE(checker.on_command(write("src", 116, 8)).has_value());
}

TEST(TortureMigrationChecker, MovedBlocksLiveOnTheDestinationOnly) {
  const TortureScenario s = one_vseg();
  Placement placement(s);
  RevocationChecker checker(s, placement, nullptr);
  barrier(placement, 8, 8, 1);
  // The barrier moves (on_step moved = true): placement changes, the mark goes.
  for (uint64_t b = 8; b < 16; ++b) {
    placement.set_place(0, b, 1);
    placement.clear_copying(0, b);
  }
  EXPECT_FALSE(checker.on_command(write("dst", 508, 8)).has_value());
  EXPECT_FALSE(checker.on_command(read("dst", 508, 8)).has_value());
  EXPECT_TRUE(checker.on_command(read("src", 108, 1)).has_value());
  EXPECT_TRUE(checker.on_command(write("src", 115, 1)).has_value());
  // A migration back (shadow area -> own place): the copy writes the own place.
  barrier(placement, 8, 4, 0);
  EXPECT_FALSE(checker.on_command(write("src", 108, 4)).has_value());
  EXPECT_TRUE(checker.on_command(write("src", 112, 1)).has_value());
  EXPECT_TRUE(checker.on_command(write("dst", 508, 1)).has_value());
}

// The non-migration part of a scenario: the enabled kinds and every planned
// operation but the migrations.
std::vector<std::string> others(const TortureScenario& s) {
  std::vector<std::string> out;
  for (size_t k = 0; k < kFaultKinds; ++k) {
    if (static_cast<FaultKind>(k) != FaultKind::kMigration && s.enabled[k])
      out.push_back(fault_kind_name(static_cast<FaultKind>(k)));
  }
  for (const PlannedOp& op : s.ops) {
    if (op.kind == FaultKind::kMigration) continue;
    out.push_back(std::to_string(op.at_ios) + " " + fault_kind_name(op.kind) + " " + op.target +
                  " " + std::to_string(op.port) + " " + std::to_string(op.lun) + " " +
                  std::to_string(op.lba) + " " + std::to_string(op.count) + " " +
                  std::to_string(op.vseg) + " " + std::to_string(op.duration_ns) + " " +
                  std::to_string(op.delay_ns) + " " + std::to_string(op.flags));
  }
  return out;
}

// Migrations come from their own stream (torture/migrations) and the swarm's
// last draw: a scenario with them has the schedule it has without them.
TEST(TortureMigrationScenario, MigrationsLeaveTheOtherKindsScheduleAsItWas) {
  size_t with_migrations = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    const bool all = seed % 3 == 0;
    const TortureScenario a = generate_scenario(seed, 20000, all);
    const TortureScenario b = generate_scenario(seed, 20000, all, {"migration"});
    EXPECT_EQ(others(a), others(b)) << "seed " << seed;
    EXPECT_FALSE(b.enabled[static_cast<size_t>(FaultKind::kMigration)]);
    size_t n = 0;
    for (const PlannedOp& op : a.ops) {
      if (op.kind != FaultKind::kMigration) continue;
      ++n;
      const TortureVseg& v = a.vsegs[op.vseg];
      // A whole VSEG on simple storage.
      EXPECT_TRUE(v.migratable) << "seed " << seed;
      EXPECT_FALSE(v.place[0].striped() || v.place[0].write_authority()) << "seed " << seed;
      EXPECT_EQ(op.lba, v.volume_lba);
      EXPECT_EQ(op.count, v.blocks);
      EXPECT_LT(op.at_ios, 20000u * 9 / 10);
    }
    if (n > 0) {
      ++with_migrations;
      EXPECT_TRUE(a.enabled[static_cast<size_t>(FaultKind::kMigration)]);
    }
    EXPECT_TRUE(
        std::is_sorted(a.ops.begin(), a.ops.end(),
                       [](const PlannedOp& x, const PlannedOp& y) { return x.at_ios < y.at_ios; }))
        << "seed " << seed;
  }
  EXPECT_GT(with_migrations, 40u);
}

TEST(TortureMigrationScenario, TheKindHasAName) {
  FaultKind k = FaultKind::kDiskFailure;
  ASSERT_TRUE(parse_fault_kind("migration", &k));
  EXPECT_EQ(k, FaultKind::kMigration);
  EXPECT_EQ(static_cast<size_t>(FaultKind::kMigration), 10u);
  // The kinds before it keep their indices and names.
  EXPECT_EQ(static_cast<size_t>(FaultKind::kSlowLinks), 9u);
  EXPECT_STREQ(fault_kind_name(FaultKind::kSlowLinks), "slow_links");
}

}  // namespace
}  // namespace splitpath::sim::torture
