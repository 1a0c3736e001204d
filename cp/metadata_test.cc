#include "cp/metadata.h"

#include <gtest/gtest.h>

#include "cp/io_split.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"

namespace splitpath::cp {
namespace {

constexpr uint64_t kDisk = 0x500A000000000001;

Metadata two_vsegs() {
  Metadata m;
  VolumeDef v;
  v.name = "v";
  v.vsegs = {VsegDef{1000, kDisk, 1, 5000, 300, 0}, VsegDef{50, kDisk, 1, 0, 0, 0}};
  std::string error;
  EXPECT_TRUE(m.add_volume(v, &error)) << error;
  return m;
}

TEST(CpMetadata, VolumesCutIntoVsegsAndExtents) {
  Metadata m = two_vsegs();
  const Volume* v = m.volume("v");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->blocks, 1050u);
  ASSERT_EQ(v->vsegs.size(), 2u);
  const Vseg* s = m.vseg(v->vsegs[0]);
  ASSERT_EQ(s->rmap.size(), 4u);  // 300, 300, 300, 100
  EXPECT_EQ(s->extent_at(999)->start, 900u);
  EXPECT_EQ(s->extent_at(999)->length, 100u);
  EXPECT_EQ(s->extent_at(1000), nullptr);
  EXPECT_EQ(m.vseg_at(v->lv_id, 1000)->descriptor.id, v->vsegs[1]);
  EXPECT_EQ(m.vseg_at(v->lv_id, 1050), nullptr);
  EXPECT_EQ(m.disks().size(), 1u);
}

TEST(CpMetadata, ErrorsNameTheField) {
  Metadata m = two_vsegs();
  std::string error;
  VolumeDef v;
  v.name = "w";
  EXPECT_FALSE(m.add_volume(v, &error));
  EXPECT_EQ(error, "volume 'w' has no VSEGs");
  v.vsegs = {VsegDef{10, 0, 0, 0, 0, 0}};
  EXPECT_FALSE(m.add_volume(v, &error));
  EXPECT_EQ(error, "volume 'w' VSEG 0: disk_wwpn is 0");
  v.block_size = 1000;
  EXPECT_FALSE(m.add_volume(v, &error));
  EXPECT_EQ(error, "volume 'w': block_size 1000 is not a positive multiple of 512");
  v.block_size = 512;
  v.vsegs = {VsegDef{10, kDisk, 1, 0, 0, 0x80}};
  EXPECT_FALSE(m.add_volume(v, &error));
  EXPECT_EQ(error, "volume 'w' VSEG 0: unknown redirect flags 0x80");
  v.vsegs = {VsegDef{10, kDisk, 2, 0, 0, 0}, VsegDef{10, kDisk, 2, 5, 0, 0}};
  EXPECT_FALSE(m.add_volume(v, &error));
  EXPECT_EQ(error, "volume 'w' VSEG 1 overlaps VSEG 0 on disk 0x500a000000000001 LUN 2");
  VirtualTargetDef t;
  t.name = "t";
  t.wwpn = 1;
  t.luns = {LunDef{0, "v", {}, false}, LunDef{0, "v", {}, false}};
  EXPECT_FALSE(m.add_target(t, 5, &error));
  EXPECT_EQ(error, "target 't' LUN 0 is defined twice");
  t.luns = {LunDef{0, "v", {}, false}};
  EXPECT_TRUE(m.add_target(t, 5, &error));
  EXPECT_EQ(m.targets()[0].port_id, 0x05FF80u);
}

TEST(CpMetadata, RemapRangeSplitsExtentsAndAddsAnEntry) {
  Metadata m = two_vsegs();
  const uint32_t id = m.volume("v")->vsegs[0];
  std::vector<map::RedirectIndex> fresh;
  std::string error;
  const uint32_t disk2 = m.disk_index(0x777);
  ASSERT_TRUE(m.remap_range(id, 250, 100, map::SimpleStorage{0, 4, 0, 9000}, disk2, std::nullopt,
                            &fresh, &error))
      << error;
  ASSERT_EQ(fresh.size(), 1u);
  const Vseg* s = m.vseg(id);
  EXPECT_EQ(s->extent_at(249)->redirect_index, 0);
  EXPECT_EQ(s->extent_at(249)->start, 0u);
  EXPECT_EQ(s->extent_at(249)->length, 250u);
  EXPECT_EQ(s->extent_at(250)->redirect_index, fresh[0]);
  EXPECT_EQ(s->extent_at(250)->length, 50u);  // 250..299
  EXPECT_EQ(s->extent_at(300)->redirect_index, fresh[0]);
  EXPECT_EQ(s->extent_at(300)->length, 50u);  // 300..349
  EXPECT_EQ(s->extent_at(350)->redirect_index, 0);
  EXPECT_EQ(s->extent_at(350)->start, 350u);
  EXPECT_EQ(s->redirect_disk[fresh[0]], disk2);
  // Same change again: no new entry.
  fresh.clear();
  ASSERT_TRUE(m.remap_range(id, 260, 10, map::SimpleStorage{0, 4, 0, 9000}, disk2, std::nullopt,
                            &fresh, &error));
  EXPECT_TRUE(fresh.empty());
  EXPECT_FALSE(m.remap_range(id, 990, 20, std::nullopt, 0, 1, &fresh, &error));
  // The port ID is filled in when the disk resolves.
  m.set_disk_port_id(disk2, 0x010203);
  EXPECT_EQ(m.vseg(id)->redirects[1].descriptor.simple().port_id, 0x010203u);
}

TEST(CpMetadata, RmapChunksRoundTrip) {
  Metadata m = two_vsegs();
  const uint32_t id = m.volume("v")->vsegs[0];
  auto chunks = m.serialize_rmap(id, 256, 128);
  ASSERT_EQ(chunks.size(), 4u);
  for (const auto& c : chunks)
    EXPECT_EQ(c.size(), 128u);
  absl::btree_map<uint64_t, map::Extent> back;
  ASSERT_TRUE(Metadata::deserialize_rmap(chunks, &back));
  EXPECT_EQ(back.size(), m.vseg(id)->rmap.size());
  for (const auto& [start, e] : m.vseg(id)->rmap)
    EXPECT_EQ(back.at(start), e);
  chunks[1][0] ^= 0xFF;
  EXPECT_FALSE(Metadata::deserialize_rmap(chunks, &back));
  EXPECT_TRUE(m.serialize_rmap(id, 256, 60).empty());  // room for one extent a chunk
}

TEST(CpIoSplit, LegsStopAtExtentVsegAndTransferLimits) {
  Metadata m = two_vsegs();
  const uint32_t lv = m.volume("v")->lv_id;
  auto p = plan_leg(m, lv, 290, 100, 64);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->blocks, 10u);
  EXPECT_EQ(p->vseg_lba, 290u);
  EXPECT_EQ(p->storage.start_lba, 5290u);  // the leg's own first physical block
  p = plan_leg(m, lv, 300, 100, 64);
  EXPECT_EQ(p->blocks, 64u);
  p = plan_leg(m, lv, 990, 100, 64);
  EXPECT_EQ(p->blocks, 10u);
  p = plan_leg(m, lv, 1000, 100, 64);
  EXPECT_EQ(p->vseg_lba, 0u);
  EXPECT_EQ(p->blocks, 50u);
  EXPECT_FALSE(plan_leg(m, lv, 1050, 1, 64));
  auto cdb = leg_cdb(true, 0x123456789, 7, true);
  auto c = fc::decode_cdb(cdb);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->opcode, fc::scsi_op::kWrite16);
  EXPECT_EQ(c->lba, 0x123456789u);
  EXPECT_EQ(c->transfer_length, 7u);
  EXPECT_TRUE(c->fua);
  std::array<uint8_t, 16> host{};
  (void)fc::encode_cdb(fc::make_read(10, 256), host);
  auto rw = decode_rw(host);
  ASSERT_TRUE(rw);
  EXPECT_FALSE(rw->write);
  EXPECT_EQ(rw->blocks, 256u);
}

// Three columns, 16-block units, on disks A, B, C from LBAs 100, 0, 700.
Metadata striped(uint64_t blocks = 480) {
  Metadata m;
  VolumeDef v;
  v.name = "s";
  VsegDef d;
  d.blocks = blocks;
  d.stripe = StripeDef{16, {{kDisk, 1, 100}, {kDisk + 1, 0, 0}, {kDisk + 2, 2, 700}}};
  v.vsegs = {d};
  std::string error;
  EXPECT_TRUE(m.add_volume(v, &error)) << error;
  return m;
}

TEST(CpIoSplit, StripedLegsStopAtStripeUnitsOnTheirColumns) {
  Metadata m = striped();
  const uint32_t lv = m.volume("s")->lv_id;
  const uint32_t a = m.disk_index(kDisk), b = m.disk_index(kDisk + 1), c = m.disk_index(kDisk + 2);
  // Blocks 10..40: unit 0 (col A) 10..15, unit 1 (col B) 16..31, unit 2 (col C) 32..40.
  auto p = plan_leg(m, lv, 10, 31, 64);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->blocks, 6u);
  EXPECT_EQ(p->disk, a);
  EXPECT_EQ(p->storage.lun, 1u);
  EXPECT_EQ(p->storage.start_lba, 110u);
  p = plan_leg(m, lv, 16, 25, 64);
  EXPECT_EQ(p->blocks, 16u);
  EXPECT_EQ(p->disk, b);
  EXPECT_EQ(p->storage.start_lba, 0u);
  p = plan_leg(m, lv, 32, 9, 64);
  EXPECT_EQ(p->blocks, 9u);
  EXPECT_EQ(p->disk, c);
  EXPECT_EQ(p->storage.start_lba, 700u);
  // Unit 4 is column B's second row; the transfer limit still applies.
  p = plan_leg(m, lv, 64 + 3, 100, 8);
  EXPECT_EQ(p->blocks, 8u);
  EXPECT_EQ(p->disk, b);
  EXPECT_EQ(p->storage.start_lba, 16u + 3);
  // Port IDs reach every column that names the disk.
  m.set_disk_port_id(c, 0x010C00);
  p = plan_leg(m, lv, 32, 1, 64);
  EXPECT_EQ(p->storage.port_id, 0x010C00u);
  EXPECT_EQ(plan_leg(m, lv, 0, 1, 64)->storage.port_id, 0u);
}

TEST(CpMetadata, StripeColumnsHoldTheirUnits) {
  // 100 blocks in 16-block units over 3 columns: units 0..6, the last 4 blocks.
  map::StripeStorage s;
  s.width = 3;
  s.unit_shift = 4;
  EXPECT_EQ(s.column_blocks(100, 0), 16u + 16u + 4u);
  EXPECT_EQ(s.column_blocks(100, 1), 32u);
  EXPECT_EQ(s.column_blocks(100, 2), 32u);
  EXPECT_EQ(s.column_blocks(8, 2), 0u);
}

TEST(CpMetadata, BadStripesAreRejectedPrecisely) {
  auto reject = [](StripeDef s, uint64_t blocks = 480) {
    Metadata m;
    VolumeDef v;
    v.name = "s";
    VsegDef d;
    d.blocks = blocks;
    d.stripe = std::move(s);
    v.vsegs = {d};
    std::string error;
    EXPECT_FALSE(m.add_volume(v, &error));
    return error;
  };
  EXPECT_EQ(reject(StripeDef{24, {{kDisk, 0, 0}, {kDisk + 1, 0, 0}}}),
            "volume 's' VSEG 0: stripe unit of 24 blocks is not a power of two from 1 to 16777216");
  EXPECT_EQ(reject(StripeDef{0, {{kDisk, 0, 0}}}),
            "volume 's' VSEG 0: stripe unit of 0 blocks is not a power of two from 1 to 16777216");
  EXPECT_EQ(reject(StripeDef{16, {}}), "volume 's' VSEG 0: stripe has 0 columns (1 to 8)");
  EXPECT_EQ(reject(StripeDef{16, std::vector<StripeColumnDef>(9, {kDisk, 0, 0})}),
            "volume 's' VSEG 0: stripe has 9 columns (1 to 8)");
  EXPECT_EQ(reject(StripeDef{16, {{kDisk, 0, 0}, {0, 0, 0}}}),
            "volume 's' VSEG 0: stripe column 1: disk_wwpn is 0");
  // Column 0 holds 160 blocks from LBA 0; column 1 starts inside them.
  EXPECT_EQ(
      reject(StripeDef{16, {{kDisk, 0, 0}, {kDisk + 1, 0, 0}, {kDisk, 0, 159}}}),
      "volume 's' VSEG 0: stripe column 2 overlaps column 0 on disk 0x500a000000000001 LUN 0");
  // A striped volume and a simple one may not share blocks either.
  Metadata m = striped();
  VolumeDef w;
  w.name = "w";
  w.vsegs = {VsegDef{10, kDisk + 2, 2, 859, 0, 0}};
  std::string error;
  EXPECT_FALSE(m.add_volume(w, &error));
  EXPECT_EQ(error, "volume 'w' VSEG 0 overlaps volume 's' VSEG 0 on disk 0x500a000000000003 LUN 2");
  w.vsegs = {VsegDef{10, kDisk + 2, 2, 860, 0, 0}};
  EXPECT_TRUE(m.add_volume(w, &error)) << error;
}

// Two sides (A from LBA 100, B LUN 1 from LBA 0, read costs 2 and 1) and a
// third side C from 700 with cost 1.
Metadata mirrored(std::vector<MirrorSideDef> sides = {
                      {kDisk, 0, 100, 2}, {kDisk + 1, 1, 0, 1}, {kDisk + 2, 0, 700, 1}}) {
  Metadata m;
  VolumeDef v;
  v.name = "m";
  VsegDef d;
  d.blocks = 480;
  d.extent_blocks = 160;
  d.mirror = MirrorDef{std::move(sides)};
  v.vsegs = {d};
  std::string error;
  EXPECT_TRUE(m.add_volume(v, &error)) << error;
  return m;
}

TEST(CpIoSplit, MirrorWritesGoToEverySideAndReadsToTheCheapest) {
  Metadata m = mirrored();
  const uint32_t lv = m.volume("m")->lv_id;
  const uint32_t a = m.disk_index(kDisk), b = m.disk_index(kDisk + 1), c = m.disk_index(kDisk + 2);
  // A write: one copy per side, at each side's LBA; cut at the extent.
  auto p = plan_leg(m, lv, 150, 40, 64, /*write=*/true);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->mirror);
  EXPECT_EQ(p->blocks, 10u);
  EXPECT_EQ(p->extent_start, 0u);
  ASSERT_EQ(p->copies.size(), 3u);
  EXPECT_EQ(p->copies[0].disk, a);
  EXPECT_EQ(p->copies[0].storage.start_lba, 250u);
  EXPECT_EQ(p->copies[1].disk, b);
  EXPECT_EQ(p->copies[1].storage.lun, 1u);
  EXPECT_EQ(p->copies[1].storage.start_lba, 150u);
  EXPECT_EQ(p->copies[2].storage.start_lba, 850u);
  // Reads: the cost-1 sides B and C, round robin by turn; never A.
  std::vector<uint32_t> disks;
  for (uint32_t turn = 0; turn < 4; ++turn) {
    p = plan_leg(m, lv, 200, 8, 64, /*write=*/false, turn);
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->copies.empty());
    disks.push_back(p->disk);
  }
  // read_turn is the side to start from: the cheapest readable at or after it.
  EXPECT_EQ(disks, (std::vector<uint32_t>{b, b, c, b}));
  EXPECT_EQ(p->element, 1u);
  EXPECT_EQ(p->storage.start_lba, 200u);  // side B from LBA 0
}

TEST(CpMetadata, BadMirrorsAreRejectedPrecisely) {
  auto reject = [](std::vector<MirrorSideDef> sides, bool stripe = false) {
    Metadata m;
    VolumeDef v;
    v.name = "m";
    VsegDef d;
    d.blocks = 480;
    d.mirror = MirrorDef{std::move(sides)};
    if (stripe) d.stripe = StripeDef{16, {{kDisk + 5, 0, 0}}};
    v.vsegs = {d};
    std::string error;
    EXPECT_FALSE(m.add_volume(v, &error));
    return error;
  };
  EXPECT_EQ(reject({{kDisk, 0, 0, 0}}), "volume 'm' VSEG 0: mirror has 1 sides (2 to 8)");
  EXPECT_EQ(reject(std::vector<MirrorSideDef>(9, {kDisk, 0, 0, 0})),
            "volume 'm' VSEG 0: mirror has 9 sides (2 to 8)");
  EXPECT_EQ(reject({{kDisk, 0, 0, 0}, {0, 0, 0, 0}}),
            "volume 'm' VSEG 0: mirror side 1: disk_wwpn is 0");
  EXPECT_EQ(reject({{kDisk, 0, 0, 0}, {kDisk, 0, 479, 0}}),
            "volume 'm' VSEG 0: mirror side 1 overlaps side 0 on disk 0x500a000000000001 LUN 0");
  EXPECT_EQ(reject({{kDisk, 0, 0, 0}, {kDisk, 0, 480, 0}}, true),
            "volume 'm' VSEG 0: both stripe and mirror");
  // Sides of one disk that do not overlap are fine.
  Metadata ok = mirrored({{kDisk, 0, 0, 0}, {kDisk, 0, 480, 0}});
  EXPECT_EQ(ok.volumes().size(), 1u);
}

// Two columns of two sides (disks A, B | C, D), 16-block units.
Metadata raid10(std::vector<StripeColumnDef> columns = {}) {
  if (columns.empty()) {
    columns = {{0, 0, 0, MirrorDef{{{kDisk, 0, 100, 0}, {kDisk + 1, 1, 0, 0}}}},
               {0, 0, 0, MirrorDef{{{kDisk + 2, 0, 700, 0}, {kDisk + 3, 0, 50, 0}}}}};
  }
  Metadata m;
  VolumeDef v;
  v.name = "r";
  VsegDef d;
  d.blocks = 480;
  d.extent_blocks = 240;
  d.stripe = StripeDef{16, std::move(columns)};
  v.vsegs = {d};
  std::string error;
  EXPECT_TRUE(m.add_volume(v, &error)) << error;
  return m;
}

TEST(CpIoSplit, StripeOfMirrorsLegsGoToTheSidesOfTheirColumn) {
  Metadata m = raid10();
  const uint32_t lv = m.volume("r")->lv_id;
  const uint32_t a = m.disk_index(kDisk), b = m.disk_index(kDisk + 1);
  const uint32_t c = m.disk_index(kDisk + 2), d = m.disk_index(kDisk + 3);
  // Every element's disk is listed, column-major.
  const Vseg* seg = m.vseg_at(lv, 0);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->redirect_disks[0], (std::vector<uint32_t>{a, b, c, d}));
  EXPECT_EQ(seg->redirects[0].descriptor.kind, map::StorageKind::kStripeOfMirrors);
  // A write at 20..40: unit 1 (column 1, column block 4) up to 31, to C and D.
  auto p = plan_leg(m, lv, 20, 20, 64, /*write=*/true);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->mirror);
  EXPECT_EQ(p->blocks, 12u);
  ASSERT_EQ(p->copies.size(), 2u);
  EXPECT_EQ(p->copies[0].disk, c);
  EXPECT_EQ(p->copies[0].storage.start_lba, 704u);
  EXPECT_EQ(p->copies[1].disk, d);
  EXPECT_EQ(p->copies[1].storage.start_lba, 54u);
  EXPECT_EQ(p->disk, c);
  // Then unit 2 (column 0, second row): A and B at column block 16.
  p = plan_leg(m, lv, 32, 8, 64, /*write=*/true);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->copies.size(), 2u);
  EXPECT_EQ(p->copies[0].disk, a);
  EXPECT_EQ(p->copies[0].storage.start_lba, 116u);
  EXPECT_EQ(p->copies[1].disk, b);
  EXPECT_EQ(p->copies[1].storage.lun, 1u);
  EXPECT_EQ(p->copies[1].storage.start_lba, 16u);
  // Reads: one side of the column, round robin by turn.
  std::vector<uint32_t> disks;
  for (uint32_t turn = 0; turn < 3; ++turn) {
    p = plan_leg(m, lv, 48 + 2, 30, 64, /*write=*/false, turn);
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->copies.empty());
    EXPECT_EQ(p->blocks, 14u);
    disks.push_back(p->disk);
    EXPECT_EQ(p->storage.start_lba, (p->disk == c ? 700u : 50u) + 16 + 2);
  }
  EXPECT_EQ(disks, (std::vector<uint32_t>{c, d, c}));
  // Port IDs reach the elements.
  m.set_disk_port_id(d, 0x010D00);
  p = plan_leg(m, lv, 16, 1, 64, /*write=*/true);
  EXPECT_EQ(p->copies[1].storage.port_id, 0x010D00u);
}

TEST(CpMetadata, BadStripesOfMirrorsAreRejectedPrecisely) {
  auto reject = [](std::vector<StripeColumnDef> columns, uint64_t unit = 16) {
    Metadata m;
    VolumeDef v;
    v.name = "r";
    VsegDef d;
    d.blocks = 480;
    d.stripe = StripeDef{unit, std::move(columns)};
    v.vsegs = {d};
    std::string error;
    EXPECT_FALSE(m.add_volume(v, &error));
    return error;
  };
  auto mirror = [](uint64_t disk, uint32_t sides, uint64_t lba = 0) {
    MirrorDef md;
    for (uint32_t i = 0; i < sides; ++i)
      md.sides.push_back({disk + i, 0, lba, 0});
    return StripeColumnDef{0, 0, 0, md};
  };
  EXPECT_EQ(reject({mirror(kDisk, 2), mirror(kDisk + 10, 1)}),
            "volume 'r' VSEG 0: stripe column 1: mirror has 1 sides (at least 2)");
  EXPECT_EQ(reject({mirror(kDisk, 2), mirror(kDisk + 10, 3)}),
            "volume 'r' VSEG 0: stripe column 1 has 3 sides but column 0 has 2 (every column the "
            "same)");
  EXPECT_EQ(reject({mirror(kDisk, 3), mirror(kDisk + 10, 3), mirror(kDisk + 20, 3)}),
            "volume 'r' VSEG 0: stripe of mirrors has 3 columns x 3 sides = 9 disks (at most 8)");
  EXPECT_EQ(reject({mirror(kDisk, 2), {kDisk + 10, 0, 0}}),
            "volume 'r' VSEG 0: stripe column 1 is not a mirror but other columns are (all "
            "columns the same form)");
  EXPECT_EQ(reject({mirror(kDisk, 2), mirror(kDisk + 10, 2)}, 24),
            "volume 'r' VSEG 0: stripe unit of 24 blocks is not a power of two from 1 to 16777216");
  EXPECT_EQ(reject({mirror(kDisk, 2), mirror(0, 2)}),
            "volume 'r' VSEG 0: stripe column 1 mirror side 0: disk_wwpn is 0");
  // Column 1's side 0 is disk kDisk from LBA 200: column 0's side 0 holds
  // blocks [0, 240) of it.
  EXPECT_EQ(reject({mirror(kDisk, 2), mirror(kDisk, 2, 200)}),
            "volume 'r' VSEG 0: stripe column 1 mirror side 0 overlaps column 0 side 0 on disk "
            "0x500a000000000001 LUN 0");
  // Columns that share a disk without sharing blocks are fine.
  Metadata ok = raid10({mirror(kDisk, 2), mirror(kDisk, 2, 240)});
  EXPECT_EQ(ok.volumes().size(), 1u);
}

TEST(CpMetadata, AppendSplitAndMergeKeepEveryBlockWhereItWas) {
  Metadata m = two_vsegs();
  const uint32_t lv = m.volume("v")->lv_id;
  std::string error;
  uint32_t grown = 0;
  EXPECT_FALSE(m.append_vseg("v", VsegDef{10, kDisk, 1, 5990, 0, 0}, &grown, &error));
  EXPECT_EQ(error,
            "volume 'v' new VSEG 2 overlaps volume 'v' VSEG 0 on disk 0x500a000000000001 LUN 1");
  ASSERT_TRUE(m.append_vseg("v", VsegDef{200, kDisk, 1, 6000, 0, 0}, &grown, &error)) << error;
  EXPECT_EQ(m.volume("v")->blocks, 1250u);
  EXPECT_EQ(m.vseg_at(lv, 1050)->descriptor.id, grown);
  EXPECT_EQ(m.vseg(grown)->descriptor.virtual_start_lba, 1050u);

  const uint32_t first = m.volume("v")->vsegs[0];
  uint32_t second = 0;
  EXPECT_FALSE(m.split_vseg(first, 0, &second, &error));
  ASSERT_TRUE(m.split_vseg(first, 450, &second, &error)) << error;
  ASSERT_EQ(m.volume("v")->vsegs.size(), 4u);
  EXPECT_EQ(m.volume("v")->vsegs[1], second);
  const Vseg* b = m.vseg(second);
  EXPECT_EQ(b->descriptor.virtual_start_lba, 450u);
  EXPECT_EQ(b->descriptor.length, 550u);
  EXPECT_EQ(m.vseg(first)->descriptor.length, 450u);
  // Volume block 500 stays at disk block 5500, now block 50 of the second.
  EXPECT_EQ(b->extent_at(50)->start, 0u);
  EXPECT_EQ(b->extent_at(50)->length, 150u);
  EXPECT_EQ(b->redirects[b->extent_at(50)->redirect_index].descriptor.simple().start_lba, 5450u);
  EXPECT_EQ(m.vseg(first)->extent_at(449)->length, 150u);

  // The first two are contiguous again on disk; the 50-block one is not.
  EXPECT_FALSE(m.merge_vsegs(second, m.volume("v")->vsegs[2], &error));
  EXPECT_NE(error.find("not contiguous"), std::string::npos) << error;
  EXPECT_FALSE(m.merge_vsegs(first, m.volume("v")->vsegs[2], &error));
  EXPECT_NE(error.find("not neighbours"), std::string::npos) << error;
  ASSERT_TRUE(m.merge_vsegs(first, second, &error)) << error;
  EXPECT_EQ(m.vseg(second), nullptr);
  const Vseg* a = m.vseg(first);
  EXPECT_EQ(a->descriptor.length, 1000u);
  EXPECT_EQ(a->redirects.size(), 1u);
  EXPECT_EQ(a->ranges[0].blocks, 1000u);
  EXPECT_EQ(a->extent_at(500)->start, 450u);
  EXPECT_EQ(a->redirects[a->extent_at(999)->redirect_index].descriptor.simple().start_lba, 5000u);
  EXPECT_EQ(m.volume("v")->vsegs.size(), 3u);
  EXPECT_EQ(m.volume("v")->blocks, 1250u);
}

}  // namespace
}  // namespace splitpath::cp
