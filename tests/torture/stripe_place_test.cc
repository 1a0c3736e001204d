// The torture model of a striped VSEG: where each block lives (column
// (b >> s) mod N at lba_c + (((b >> s) / N) << s) + (b & (2^s - 1))), the
// inverse the revocation checker uses, the revocation checker on a stripe's
// columns, and the generator's striped scenarios (valid, columns on different
// disks while there are disks, units that I/Os both fit and cross).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fabric_sim/topology/topology_validate.h"
#include "fabric_sim/torture/placement.h"
#include "fabric_sim/torture/revocation_checker.h"
#include "fabric_sim/torture/scenario.h"

namespace splitpath::sim::torture {
namespace {

// Three columns of 4-block units on two disks (column 2 back on disk a).
VsegPlace three_columns() {
  VsegPlace p;
  p.unit_shift = 2;
  p.columns = {PlaceElement{"a", 0, 1000}, PlaceElement{"b", 0, 2000}, PlaceElement{"a", 0, 5000}};
  return p;
}

TEST(TortureStripePlace, EachBlockLivesOnItsColumn) {
  const VsegPlace p = three_columns();
  // Block 0-3: unit 0, column 0 row 0; block 13: unit 3, column 0 row 1
  // offset 1; block 22: unit 5, column 2 row 1 offset 2.
  EXPECT_EQ(p.locate(0).disk, "a");
  EXPECT_EQ(p.locate(3).lba, 1003u);
  EXPECT_EQ(p.locate(4).disk, "b");
  EXPECT_EQ(p.locate(4).lba, 2000u);
  EXPECT_EQ(p.locate(13).disk, "a");
  EXPECT_EQ(p.locate(13).lba, 1005u);
  EXPECT_EQ(p.locate(22).lba, 5006u);
  // Unstriped: one element from lba.
  VsegPlace simple;
  simple.disk = "c";
  simple.lba = 7;
  EXPECT_EQ(simple.locate(10).lba, 17u);
  EXPECT_EQ(simple.elements(), 1u);
}

TEST(TortureStripePlace, ColumnsHoldEveryBlockExactlyOnce) {
  for (uint64_t blocks : {1u, 4u, 11u, 12u, 13u, 25u, 100u}) {
    const VsegPlace p = three_columns();
    uint64_t total = 0;
    std::set<uint64_t> seen;
    for (size_t c = 0; c < p.elements(); ++c) {
      const uint64_t n = p.element_blocks(c, blocks);
      total += n;
      for (uint64_t cb = 0; cb < n; ++cb) {
        const uint64_t b = p.block_at(c, cb);
        ASSERT_LT(b, blocks) << "column " << c << " block " << cb;
        EXPECT_TRUE(seen.insert(b).second);
        EXPECT_EQ(p.locate(b).lba, p.columns[c].lba + cb);
        EXPECT_EQ(p.locate(b).disk, p.columns[c].disk);
      }
    }
    EXPECT_EQ(total, blocks);
    EXPECT_EQ(seen.size(), blocks);
  }
}

// A downstream command to a stripe column for a block that moved to the
// shadow area is a revocation violation naming the volume LBA; the same
// command for a block still on the stripe is fine.
TEST(TortureStripePlace, RevocationJudgesColumnsBlockByBlock) {
  TortureScenario s;
  VolumeConfig vol;
  vol.name = "v";
  s.topology.volumes.push_back(vol);
  TortureVseg v;
  v.volume_lba = 100;
  v.blocks = 24;
  v.place[0] = three_columns();
  v.place[1].disk = "shadow";
  s.vsegs.push_back(v);
  Placement placement(s);
  RevocationChecker checker(s, placement, nullptr);
  // Column 1 (disk b) row 1 holds units 4: blocks 16-19.
  DownstreamCommand c{0, 0x010200, "b", 0, 2004, 4, true};
  EXPECT_FALSE(checker.on_command(c).has_value());
  placement.set_place(0, 18, 1);
  auto bad = checker.on_command(c);
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(bad->summary.find("volume v LBA 118"), std::string::npos) << bad->summary;
  // Column 0 at the same rows does not hold block 18.
  EXPECT_FALSE(checker.on_command(DownstreamCommand{0, 0x010200, "a", 0, 1004, 4, false}));
  // The shadow area now holds block 18 and only it.
  EXPECT_FALSE(checker.on_command(DownstreamCommand{0, 0x010200, "shadow", 0, 18, 1, false}));
  EXPECT_TRUE(checker.on_command(DownstreamCommand{0, 0x010200, "shadow", 0, 17, 1, false}));
}

// Over many seeds the generator stripes some VSEGs, every scenario is a valid
// topology, striped VSEGs' columns use distinct disks while there are
// enough of them, units range from one block past the largest host I/O, and
// range moves of striped VSEGs go to the shadow area only.
TEST(TortureStripePlace, GeneratedStripesAreValidAndVaried) {
  size_t striped = 0;
  std::set<size_t> widths;
  std::set<uint8_t> shifts;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    const TortureScenario s = generate_scenario(seed, 3000, seed % 2 == 0);
    ASSERT_TRUE(validate_topology(s.topology).ok()) << "seed " << seed;
    for (size_t i = 0; i < s.vsegs.size(); ++i) {
      const VsegPlace& home = s.vsegs[i].place[0];
      if (!home.striped()) continue;
      ++striped;
      widths.insert(home.columns.size());
      shifts.insert(home.unit_shift);
      EXPECT_FALSE(s.vsegs[i].place[1].striped());
      std::set<std::string> disks;
      for (const PlaceElement& c : home.columns)
        disks.insert(c.disk);
      const uint32_t block_size = s.topology.volumes[s.vsegs[i].volume].block_size;
      size_t eligible = 0;
      for (const DiskConfig& d : s.topology.disks) {
        for (const LunConfig& l : d.luns)
          eligible += l.block_size == block_size ? 1 : 0;
      }
      EXPECT_EQ(disks.size(), std::min(eligible, home.columns.size())) << "seed " << seed;
      for (const PlannedOp& op : s.ops) {
        if (op.kind == FaultKind::kRangeMove && op.vseg == i) {
          EXPECT_EQ(op.lun, 1u);
        }
      }
    }
  }
  EXPECT_GT(striped, 50u);
  EXPECT_TRUE(widths.count(1) && widths.count(8)) << "widths 1 to 8";
  EXPECT_TRUE(shifts.count(0) && shifts.count(8) && *shifts.rbegin() > 8) << "units 1 to 2^14";
}

}  // namespace
}  // namespace splitpath::sim::torture
