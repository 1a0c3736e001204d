// Snapshots and incrementals in the torture harness: the snapshot checker,
// fed by hand, accepts a snapshot holding its source at the instant (writes
// in flight across the taking window either way) and flags a wrong block, a
// block from after the instant, an acknowledged write to a read-only image
// or base, and an incremental that lost its own writes or its base's
// content; the generator plans snapshots and incrementals from their own
// streams, leaving every other kind's schedule as it was.
#include "fabric_sim/torture/snapshot_checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "fabric_sim/torture/durability_checker.h"
#include "fabric_sim/torture/scenario.h"

namespace splitpath::sim::torture {
namespace {

constexpr uint64_t kWriter = 0x1000000000000001ull;
constexpr size_t kSource = 0;
constexpr size_t kImage = 1;
constexpr uint64_t kUnits = 8;

class SnapshotCheckerTest : public ::testing::Test {
 protected:
  SnapshotCheckerTest() : model_(kNsPerSec, nullptr), checker_(model_) {}

  // A write of `units` units of `volume` from `first`, with `generation`,
  // issued at `at` (its data passes at once).
  HostIo write(size_t volume, uint64_t first, uint32_t units, uint64_t generation, SimTime at) {
    HostIo io = io_at(volume, first, units, at, true);
    model_.begin_write(io);
    for (uint32_t i = 0; i < units; ++i) {
      io.data[i] = stamp(first + i, generation);
      model_.write_data(io, i);
    }
    return io;
  }
  std::optional<Violation> end(const HostIo& io, bool acked, SimTime at) {
    model_.end_write(io, acked, at);
    return checker_.end_write(io, acked);
  }
  // A host read of `volume` unit `unit` issued at `at` and ending at
  // `at + 1` with `got`.
  std::optional<Violation> read(size_t volume, uint64_t unit, UnitData got, SimTime at) {
    HostIo io = io_at(volume, unit, 1, at, false);
    model_.begin_read(io);
    io.data[0] = got;
    return model_.end_read(io, true, at + 1);
  }
  // A one-unit write issued at `at` whose data has not passed yet.
  HostIo io_for_late_data(size_t volume, uint64_t unit, SimTime at) {
    HostIo io = io_at(volume, unit, 1, at, true);
    model_.begin_write(io);
    return io;
  }
  static UnitData stamp(uint64_t unit, uint64_t generation) {
    return UnitData{true, StampCheck::kValid, BlockStamp{unit, generation, kWriter}};
  }
  static UnitData zeros() { return UnitData{true, StampCheck::kZero, {}}; }

  DurabilityChecker model_;
  SnapshotChecker checker_;

 private:
  HostIo io_at(size_t volume, uint64_t first, uint32_t units, SimTime at, bool is_write) {
    HostIo io;
    io.id = next_++;
    io.host = 0x010100;
    io.ox_id = static_cast<uint16_t>(io.id);
    io.write = is_write;
    io.volume = volume;
    io.first_unit = first;
    io.units = units;
    io.issued = at;
    io.data.resize(units);
    return io;
  }
  uint64_t next_ = 1;
};

// Source: every unit written with generation 1 (acknowledged before the
// snapshot is asked for at 100), unit 3 rewritten across the window
// (issued 90, acknowledged 150), unit 5 rewritten after it (generation 3,
// issued 300): the snapshot, taken at 200, holds generation 1 everywhere,
// unit 3 either generation.
TEST_F(SnapshotCheckerTest, ASnapshotHoldsTheSourceAtTheInstantAndAWrongBlockIsFlagged) {
  ASSERT_FALSE(end(write(kSource, 0, kUnits, 1, 10), true, 20));
  const HostIo across = write(kSource, 3, 1, 2, 90);
  const size_t snap =
      checker_.requested(FaultKind::kSnapshot, "snap0_v", kSource, kImage, kUnits, 100);
  ASSERT_FALSE(end(across, true, 150));
  checker_.taken(snap, true, 200);
  ASSERT_FALSE(end(write(kSource, 5, 1, 3, 300), true, 310));

  std::vector<UnitData> image;
  for (uint64_t u = 0; u < kUnits; ++u)
    image.push_back(stamp(u, 1));
  EXPECT_FALSE(checker_.judge(snap, kImage, image, 1000, "snap0_v"));
  image[3] = stamp(3, 2);  // the write across the window: either way
  EXPECT_FALSE(checker_.judge(snap, kImage, image, 1000, "snap0_v"));

  // The write after the instant is no part of the snapshot.
  std::vector<UnitData> later = image;
  later[5] = stamp(5, 3);
  auto v = checker_.judge(snap, kImage, later, 1000, "snap0_v");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->invariant, kSnapshot);
  EXPECT_NE(v->summary.find("unit 5"), std::string::npos) << v->summary;
  // Zeros where the source had acknowledged data, a block of another unit,
  // garbage.
  std::vector<UnitData> lost = image;
  lost[6] = zeros();
  EXPECT_TRUE(checker_.judge(snap, kImage, lost, 1000, "snap0_v").has_value());
  std::vector<UnitData> misplaced = image;
  misplaced[2] = stamp(1, 1);
  EXPECT_TRUE(checker_.judge(snap, kImage, misplaced, 1000, "snap0_v").has_value());
  std::vector<UnitData> garbage = image;
  garbage[0] = UnitData{true, StampCheck::kCorrupt, {}};
  EXPECT_TRUE(checker_.judge(snap, kImage, garbage, 1000, "snap0_v").has_value());
  // The source itself moved on.
  EXPECT_FALSE(read(kSource, 5, stamp(5, 3), 400));
  EXPECT_TRUE(read(kSource, 5, stamp(5, 1), 410).has_value());
}

// A write superseded before the instant is not in the snapshot either; a
// source never written leaves zeros.
TEST_F(SnapshotCheckerTest, AStaleBlockFromBeforeTheInstantIsFlagged) {
  ASSERT_FALSE(end(write(kSource, 0, 4, 1, 10), true, 20));
  ASSERT_FALSE(end(write(kSource, 0, 4, 2, 30), true, 40));
  const size_t snap = checker_.requested(FaultKind::kSnapshot, "s", kSource, kImage, kUnits, 100);
  checker_.taken(snap, true, 200);
  std::vector<UnitData> image(kUnits, zeros());
  for (uint64_t u = 0; u < 4; ++u)
    image[u] = stamp(u, 2);
  EXPECT_FALSE(checker_.judge(snap, kImage, image, 500, "s"));
  image[1] = stamp(1, 1);
  auto v = checker_.judge(snap, kImage, image, 500, "s");
  ASSERT_TRUE(v.has_value());
  EXPECT_NE(v->summary.find("stale"), std::string::npos) << v->summary;
}

// The image's own writes before it was taken are gone; host reads of the
// snapshot are judged against the source at the instant.
TEST_F(SnapshotCheckerTest, HostReadsOfTheSnapshotAreJudgedAgainstTheInstant) {
  ASSERT_FALSE(end(write(kImage, 2, 1, 7, 5), true, 8));  // before the snapshot
  ASSERT_FALSE(end(write(kSource, 2, 1, 1, 10), true, 20));
  const size_t snap = checker_.requested(FaultKind::kSnapshot, "s", kSource, kImage, kUnits, 100);
  checker_.taken(snap, true, 200);
  EXPECT_FALSE(read(kImage, 2, stamp(2, 1), 300));
  EXPECT_TRUE(read(kImage, 2, stamp(2, 7), 310).has_value()) << "the image's own old write";
  EXPECT_FALSE(read(kImage, 4, zeros(), 320));
}

TEST_F(SnapshotCheckerTest, AnAcknowledgedWriteToASnapshotOrABaseIsAViolation) {
  const size_t snap = checker_.requested(FaultKind::kSnapshot, "s", kSource, kImage, kUnits, 100);
  // Before the image is taken its LUN is an ordinary volume.
  EXPECT_FALSE(end(write(kImage, 0, 1, 1, 50), true, 60));
  checker_.taken(snap, true, 200);
  EXPECT_FALSE(end(write(kImage, 0, 1, 2, 300), false, 310)) << "DATA PROTECT: as it must";
  EXPECT_EQ(checker_.refused_writes(), 1u);
  auto v = end(write(kImage, 0, 1, 3, 400), true, 410);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->invariant, kSnapshot);
  EXPECT_NE(v->summary.find("read only"), std::string::npos) << v->summary;
  // The source of a snapshot stays writable; the base of an incremental not.
  EXPECT_FALSE(end(write(kSource, 0, 1, 4, 500), true, 510));
  const size_t inc = checker_.requested(FaultKind::kIncremental, "i", 2, 3, kUnits, 600);
  checker_.taken(inc, true, 700);
  EXPECT_FALSE(end(write(3, 0, 1, 5, 800), true, 810)) << "the incremental is written";
  EXPECT_TRUE(end(write(2, 0, 1, 6, 900), true, 910).has_value()) << "the base is read only";
}

// An incremental is its base at the instant overlaid with its own writes
// since; the base stays as it was.
TEST_F(SnapshotCheckerTest, AnIncrementalHoldsItsBaseOverlaidWithItsOwnWrites) {
  constexpr size_t kBase = 0, kInc = 1;
  ASSERT_FALSE(end(write(kBase, 0, kUnits, 1, 10), true, 20));
  const size_t inc =
      checker_.requested(FaultKind::kIncremental, "inc0_b", kBase, kInc, kUnits, 100);
  checker_.taken(inc, true, 200);
  ASSERT_FALSE(end(write(kInc, 4, 2, 9, 300), true, 320));
  EXPECT_FALSE(read(kInc, 0, stamp(0, 1), 400)) << "the base's block";
  EXPECT_FALSE(read(kInc, 4, stamp(4, 9), 410)) << "its own write";
  EXPECT_TRUE(read(kInc, 4, stamp(4, 1), 420).has_value()) << "its own write lost";
  EXPECT_TRUE(read(kInc, 1, zeros(), 430).has_value()) << "the base's block lost";
  EXPECT_TRUE(read(kBase, 4, stamp(4, 9), 440).has_value()) << "the base got the incremental's";
  std::vector<UnitData> base;
  for (uint64_t u = 0; u < kUnits; ++u)
    base.push_back(stamp(u, 1));
  EXPECT_FALSE(checker_.judge(inc, kBase, base, 1000, "base"));
  base[5] = stamp(5, 9);
  EXPECT_TRUE(checker_.judge(inc, kBase, base, 1000, "base").has_value());
}

// A base write in flight across the instant whose data passes after it:
// the incremental may hold it (and then so does the base).
TEST_F(SnapshotCheckerTest, AWriteInFlightAcrossTheInstantMayBeInTheImage) {
  constexpr size_t kBase = 0, kInc = 1;
  ASSERT_FALSE(end(write(kBase, 0, kUnits, 1, 10), true, 20));
  HostIo late = io_for_late_data(kBase, 2, 90);
  const size_t inc = checker_.requested(FaultKind::kIncremental, "i", kBase, kInc, kUnits, 100);
  checker_.taken(inc, true, 200);
  late.data[0] = stamp(2, 5);
  model_.write_data(late, 0);  // its data passes after the take
  ASSERT_FALSE(end(late, true, 250));
  EXPECT_FALSE(read(kInc, 2, stamp(2, 5), 300));
  EXPECT_FALSE(read(kInc, 2, stamp(2, 1), 310));
  EXPECT_TRUE(read(kInc, 2, stamp(2, 6), 320).has_value());
}

// A snapshot the CP reports broken (a push failed under faults) and one
// whose take failed are reported and no longer judged.
TEST_F(SnapshotCheckerTest, BrokenAndFailedImagesAreNotJudged) {
  ASSERT_FALSE(end(write(kSource, 0, kUnits, 1, 10), true, 20));
  const size_t snap = checker_.requested(FaultKind::kSnapshot, "s", kSource, kImage, kUnits, 100);
  checker_.taken(snap, true, 200);
  EXPECT_TRUE(read(kImage, 0, zeros(), 300).has_value());
  checker_.broken(snap, "a push failed: disk1 offline");
  EXPECT_EQ(checker_.images()[snap].state, SnapshotChecker::State::kBroken);
  EXPECT_FALSE(read(kImage, 0, zeros(), 310));
  const size_t failed = checker_.requested(FaultKind::kSnapshot, "t", kSource, 2, kUnits, 400);
  checker_.taken(failed, false, 500, "an update failed");
  EXPECT_EQ(checker_.images()[failed].state, SnapshotChecker::State::kFailed);
  EXPECT_FALSE(read(2, 0, zeros(), 600));
}

// The non-image part of a scenario: enabled kinds, volumes and every planned
// operation but snapshots and incrementals.
std::vector<std::string> others(const TortureScenario& s) {
  std::vector<std::string> out;
  for (size_t k = 0; k < kFaultKinds; ++k) {
    const auto kind = static_cast<FaultKind>(k);
    if (kind != FaultKind::kSnapshot && kind != FaultKind::kIncremental && s.enabled[k])
      out.push_back(fault_kind_name(kind));
  }
  for (const PlannedOp& op : s.ops) {
    if (op.kind == FaultKind::kSnapshot || op.kind == FaultKind::kIncremental) continue;
    out.push_back(std::to_string(op.at_ios) + " " + fault_kind_name(op.kind) + " " + op.target +
                  " " + std::to_string(op.lba) + " " + std::to_string(op.count) + " " +
                  std::to_string(op.vseg) + " " + std::to_string(op.duration_ns));
  }
  for (const TortureVseg& v : s.vsegs)
    out.push_back(s.topology.volumes[v.volume].name + " " + v.place[0].disk + " " +
                  std::to_string(v.place[0].lba) + " " + std::to_string(v.blocks));
  return out;
}

TEST(TortureSnapshotScenario, ImagesLeaveTheOtherKindsScheduleAsItWas) {
  size_t with_snapshots = 0, with_incrementals = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    const bool all = seed % 3 == 0;
    const TortureScenario a = generate_scenario(seed, 20000, all);
    const TortureScenario b = generate_scenario(seed, 20000, all, {"snapshot", "incremental"});
    EXPECT_EQ(others(a), others(b)) << "seed " << seed;
    EXPECT_TRUE(b.images.empty());
    bool snaps = false, incs = false;
    for (const PlannedOp& op : a.ops) {
      if (op.kind != FaultKind::kSnapshot && op.kind != FaultKind::kIncremental) continue;
      (op.kind == FaultKind::kSnapshot ? snaps : incs) = true;
      EXPECT_LT(op.at_ios, 20000u * 8 / 10);
      const VolumeConfig* src = nullptr;
      const VolumeConfig* img = nullptr;
      for (const VolumeConfig& v : a.topology.volumes) {
        if (v.name == op.target) src = &v;
        if (v.name == op.image) img = &v;
      }
      ASSERT_TRUE(src && img) << "seed " << seed;
      // The source's layout, each VSEG one simple disk range.
      ASSERT_EQ(src->vsegs.size(), img->vsegs.size());
      EXPECT_EQ(src->block_size, img->block_size);
      for (size_t i = 0; i < img->vsegs.size(); ++i) {
        EXPECT_EQ(src->vsegs[i].blocks, img->vsegs[i].blocks);
        EXPECT_FALSE(img->vsegs[i].disk.empty());
        EXPECT_FALSE(img->vsegs[i].stripe || img->vsegs[i].mirror || img->vsegs[i].journal);
        EXPECT_FALSE(src->vsegs[i].stripe || src->vsegs[i].mirror || src->vsegs[i].journal);
      }
      // Presented next to its source.
      bool presented = false;
      for (const VirtualTargetConfig& vt : a.topology.virtual_targets)
        for (const VirtualLunConfig& l : vt.luns)
          presented = presented || l.volume == img->name;
      EXPECT_TRUE(presented) << img->name;
    }
    with_snapshots += snaps;
    with_incrementals += incs;
    EXPECT_EQ(snaps, a.enabled[static_cast<size_t>(FaultKind::kSnapshot)]) << "seed " << seed;
    EXPECT_EQ(incs, a.enabled[static_cast<size_t>(FaultKind::kIncremental)]) << "seed " << seed;
    EXPECT_TRUE(
        std::is_sorted(a.ops.begin(), a.ops.end(),
                       [](const PlannedOp& x, const PlannedOp& y) { return x.at_ios < y.at_ios; }))
        << "seed " << seed;
  }
  EXPECT_GT(with_snapshots, 15u);
  EXPECT_GT(with_incrementals, 15u);
}

TEST(TortureSnapshotScenario, TheKindsHaveNames) {
  FaultKind k = FaultKind::kDiskFailure;
  ASSERT_TRUE(parse_fault_kind("snapshot", &k));
  EXPECT_EQ(k, FaultKind::kSnapshot);
  ASSERT_TRUE(parse_fault_kind("incremental", &k));
  EXPECT_EQ(k, FaultKind::kIncremental);
  EXPECT_EQ(static_cast<size_t>(FaultKind::kIncremental), 12u);
  EXPECT_EQ(static_cast<size_t>(FaultKind::kMigration), 10u);
}

}  // namespace
}  // namespace splitpath::sim::torture
