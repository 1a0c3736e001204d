// Multipath on the CP's metadata (figures 11 and 12): a VSEG on a dual-ported
// disk has a redirect entry per path; switching moves its extents (per entry)
// or redefines the entry they use (global).
#include "cp/path_switch.h"

#include <gtest/gtest.h>

#include "cp/metadata.h"

namespace splitpath::cp {
namespace {

constexpr uint64_t kPortA = 0x500A000000000001;
constexpr uint64_t kPortB = 0x500A000000000002;
constexpr uint32_t kIdA = 0x010400;
constexpr uint32_t kIdB = 0x010500;

// One VSEG of 1000 blocks from LBA 5000 of LUN 1, in extents of 300 blocks,
// reachable through ports A and B of one disk.
Metadata dual_path(MultipathPolicy policy) {
  Metadata m;
  VolumeDef v;
  v.name = "v";
  v.multipath = policy;
  VsegDef seg{1000, kPortA, 1, 5000, 300, 0};
  seg.alternate_paths = {kPortB};
  v.vsegs = {seg};
  std::string error;
  EXPECT_TRUE(m.add_volume(v, &error)) << error;
  m.set_disk_port_id(m.disk_index(kPortA), kIdA);
  m.set_disk_port_id(m.disk_index(kPortB), kIdB);
  return m;
}

Vseg& only_vseg(Metadata& m) {
  return *m.vseg(m.volume("v")->vsegs[0]);
}

TEST(CpPathSwitch, EachPathHasARedirectEntryToTheSameBlocks) {
  Metadata m = dual_path(MultipathPolicy::kPerEntry);
  const Vseg& s = only_vseg(m);
  ASSERT_EQ(s.redirects.size(), 2u);
  ASSERT_TRUE(s.multipath);
  EXPECT_EQ(s.multipath->path_disks,
            (std::vector<uint32_t>{m.disk_index(kPortA), m.disk_index(kPortB)}));
  for (uint32_t p = 0; p < 2; ++p) {
    const map::StorageElement e = s.redirects[p].descriptor.element(0);
    EXPECT_EQ(e.port_id, p == 0 ? kIdA : kIdB);
    EXPECT_EQ(e.lun, 1u);
    EXPECT_EQ(e.start_lba, 5000u);
    EXPECT_EQ(path_of_entry(s, static_cast<map::RedirectIndex>(p)), p);
  }
  const PathRange on_a = extents_on_path(s, 0);
  EXPECT_EQ(on_a.start, 0u);
  EXPECT_EQ(on_a.length, 1000u);
  EXPECT_EQ(extents_on_path(s, 1).length, 0u);
}

TEST(CpPathSwitch, PerEntryRepointsTheExtents) {  // figure 11
  Metadata m = dual_path(MultipathPolicy::kPerEntry);
  Vseg& s = only_vseg(m);
  const map::RedirectEntry entry0 = s.redirects[0];
  const PathSwitch done = switch_path(&s, 0, 1, kIdB);
  EXPECT_EQ(done.extents_moved, 4u);
  EXPECT_TRUE(done.changed.empty());
  for (const auto& [start, e] : s.rmap)
    EXPECT_EQ(e.redirect_index, 1u) << "extent at " << start;
  EXPECT_EQ(s.redirects[0], entry0);  // the entries themselves stay
  EXPECT_EQ(extents_on_path(s, 0).length, 0u);
  EXPECT_EQ(extents_on_path(s, 1).length, 1000u);
  // Nothing is left on path 0 to move; back again moves all four.
  EXPECT_EQ(switch_path(&s, 0, 1, kIdB).extents_moved, 0u);
  EXPECT_EQ(switch_path(&s, 1, 0, kIdA).extents_moved, 4u);
  EXPECT_EQ(s.extent_at(999)->redirect_index, 0u);
}

TEST(CpPathSwitch, GlobalRedefinesTheEntryTheExtentsUse) {  // figure 12
  Metadata m = dual_path(MultipathPolicy::kGlobal);
  Vseg& s = only_vseg(m);
  EXPECT_EQ(switch_path(&s, 1, 0, kIdA).changed.size(), 0u);  // path 1 is not in use
  const PathSwitch done = switch_path(&s, 0, 1, kIdB);
  EXPECT_EQ(done.extents_moved, 0u);
  ASSERT_EQ(done.changed, (std::vector<map::RedirectIndex>{0}));
  for (const auto& [start, e] : s.rmap)
    EXPECT_EQ(e.redirect_index, 0u);
  EXPECT_EQ(s.redirects[0].descriptor.element(0).port_id, kIdB);
  EXPECT_EQ(s.redirects[0].descriptor.element(0).start_lba, 5000u);
  EXPECT_EQ(s.redirect_disk[0], m.disk_index(kPortB));
  EXPECT_EQ(path_of_entry(s, 0), 1u);
  EXPECT_EQ(extents_on_path(s, 0).length, 0u);
  EXPECT_EQ(extents_on_path(s, 1).length, 1000u);
  // A later port ID change of path B reaches entry 0 too.
  m.set_disk_port_id(m.disk_index(kPortB), 0x010600);
  EXPECT_EQ(s.redirects[0].descriptor.element(0).port_id, 0x010600u);
  // And back to path A.
  ASSERT_EQ(switch_path(&s, 1, 0, kIdA).changed.size(), 1u);
  EXPECT_EQ(s.redirects[0].descriptor.element(0).port_id, kIdA);
  EXPECT_EQ(s.redirect_disk[0], m.disk_index(kPortA));
}

TEST(CpPathSwitch, AlternatePathsAreValidated) {
  Metadata m;
  VolumeDef v;
  v.name = "v";
  VsegDef seg{1000, kPortA, 1, 5000, 300, 0};
  seg.alternate_paths = {kPortA};
  v.vsegs = {seg};
  std::string error;
  EXPECT_FALSE(m.add_volume(v, &error));
  EXPECT_NE(error.find("alternate path"), std::string::npos) << error;
  v.vsegs[0].alternate_paths = {kPortB};
  v.vsegs[0].stripe = StripeDef{8, {StripeColumnDef{kPortA, 0, 0}}};
  EXPECT_FALSE(m.add_volume(v, &error));
  EXPECT_NE(error.find("simple VSEGs"), std::string::npos) << error;
}

}  // namespace
}  // namespace splitpath::cp
