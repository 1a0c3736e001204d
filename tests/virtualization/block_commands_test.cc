// The block commands other than READ/WRITE end to end (cp/block_commands.cc):
// WRITE SAME, UNMAP, VERIFY, WRITE AND VERIFY and COMPARE AND WRITE sent
// through frames to a virtual volume that spans two disks (two VSEGs, two
// extents each) and to one mirrored on two disks. The CP cuts each into
// legs at extent and VSEG boundaries and sends every leg to its disk as the
// same command at the physical LBA; the checks read the disks' stores.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cp/target/scsi_target.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"
#include "splitpath/fc/scsi_data.h"
#include "splitpath/fc/scsi_inquiry.h"
#include "splitpath/fc/scsi_sense.h"
#include "tests/support/virtual_testbed.h"

namespace splitpath::testing {
namespace {

constexpr uint32_t kBlock = 512;
constexpr uint8_t kGood = fc::scsi_status::kGood;
constexpr uint8_t kCheck = fc::scsi_status::kCheckCondition;

// LUN 0 (spanned): blocks 0..2047 on disk0 at 100 (extents of 1024), blocks
// 2048..4095 on disk1 at 300. LUN 1 (mirrored): 2048 blocks on disk2 at 0
// and disk3 at 500. LUN 2: LUN 0 again, read only.
const char* const kYaml = R"(seed: 9
switches: [{name: sw0, domain: 1, ports: 8}]
disks:
  - {name: disk0, port: sw0:2, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk1, port: sw0:3, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk2, port: sw0:4, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk3, port: sw0:5, luns: [{lun: 0, size: 4MiB}]}
hosts:
  - {name: host0, port: sw0:0}
volumes:
  - name: spanned
    switch: sw0
    vsegs:
      - {disk: disk0, lba: 100, blocks: 2048, extent_blocks: 1024}
      - {disk: disk1, lba: 300, blocks: 2048, extent_blocks: 1024}
  - name: mirrored
    switch: sw0
    vsegs:
      - blocks: 2048
        extent_blocks: 512
        mirror:
          sides:
            - {disk: disk2, lba: 0}
            - {disk: disk3, lba: 500}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: spanned}, {lun: 1, volume: mirrored},
           {lun: 2, volume: spanned, read_only: true}]
zones: [{name: z0, members: [host0, vt0]}]
)";

class BlockCommands : public ::testing::Test {
 protected:
  BlockCommands() : tb(kYaml, 3) {}

  sim::ScsiResult run(uint16_t lun, const fc::ScsiCommand& cmd, std::vector<uint8_t> out = {},
                      uint32_t in = 0) {
    return tb.command("host0", lun, cmd, in, std::move(out));
  }

  // Volume block `lba` of `spanned`, straight from its disk.
  std::vector<uint8_t> spanned(uint64_t lba, uint64_t blocks) {
    std::vector<uint8_t> out;
    for (uint64_t b = lba; b < lba + blocks; ++b) {
      const auto one = b < 2048 ? tb.disk_bytes("disk0", 0, 100 + b, 1)
                                : tb.disk_bytes("disk1", 0, 300 + b - 2048, 1);
      out.insert(out.end(), one.begin(), one.end());
    }
    return out;
  }
  std::vector<uint8_t> side(int s, uint64_t lba, uint64_t blocks) {
    return s == 0 ? tb.disk_bytes("disk2", 0, lba, blocks)
                  : tb.disk_bytes("disk3", 0, 500 + lba, blocks);
  }

  VirtualTestbed tb;
};

std::vector<uint8_t> repeated(const std::vector<uint8_t>& block, uint64_t times) {
  std::vector<uint8_t> out;
  for (uint64_t i = 0; i < times; ++i)
    out.insert(out.end(), block.begin(), block.end());
  return out;
}

void expect_sense(const sim::ScsiResult& r, uint8_t key, fc::AscAscq code) {
  EXPECT_EQ(r.status, kCheck);
  EXPECT_EQ(r.sense.sense_key, key);
  EXPECT_EQ(r.sense.code.asc, code.asc);
  EXPECT_EQ(r.sense.code.ascq, code.ascq);
}

TEST_F(BlockCommands, WriteSameFillsEveryBlockAcrossExtentsAndVsegsAndTouchesNoOther) {
  ASSERT_TRUE(tb.ok());
  const std::vector<uint8_t> before = spanned(1000, 1100);
  const std::vector<uint8_t> block = pattern(1, 1);
  // Blocks 1010..2059: the end of extent 0, all of extent 1, into VSEG 2.
  EXPECT_EQ(run(0, fc::make_write_same(1010, 1050), block).status, kGood);
  const std::vector<uint8_t> after = spanned(1000, 1100);
  EXPECT_TRUE(std::equal(after.begin(), after.begin() + 10 * kBlock, before.begin()));
  EXPECT_EQ(std::vector<uint8_t>(after.begin() + 10 * kBlock, after.begin() + 1060 * kBlock),
            repeated(block, 1050));
  EXPECT_TRUE(
      std::equal(after.begin() + 1060 * kBlock, after.end(), before.begin() + 1060 * kBlock));
  // VERIFY with BYTCHK 3 compares that one block with each, in every leg.
  EXPECT_EQ(run(0, fc::make_verify(1010, 1050, fc::bytchk::kCompareOne), block).status, kGood);
  expect_sense(run(0, fc::make_verify(1009, 1050, fc::bytchk::kCompareOne), block),
               fc::sense_key::kMiscompare, fc::asc::kMiscompareDuringVerify);
  // WRITE SAME(10) reads back through the volume too.
  EXPECT_EQ(
      run(0, fc::make_write_same(5, 3, false, false, fc::scsi_op::kWriteSame10), block).status,
      kGood);
  EXPECT_EQ(tb.read("host0", 0, 4, 5).data_in.size(), 5 * kBlock);
  EXPECT_EQ(spanned(5, 3), repeated(block, 3));
  EXPECT_GE(tb.disk("disk1").stats().write_sames, 1u);
}

TEST_F(BlockCommands, WriteSameAndCompareAndWriteReachBothMirrorSides) {
  ASSERT_TRUE(tb.ok());
  const std::vector<uint8_t> block = pattern(2, 1);
  EXPECT_EQ(run(1, fc::make_write_same(500, 40), block).status, kGood);  // crosses extent 512
  EXPECT_EQ(side(0, 500, 40), repeated(block, 40));
  EXPECT_EQ(side(1, 500, 40), repeated(block, 40));
  std::vector<uint8_t> caw = block;
  const std::vector<uint8_t> next = pattern(3, 1);
  caw.insert(caw.end(), next.begin(), next.end());
  EXPECT_EQ(run(1, fc::make_compare_and_write(511, 1), caw).status, kGood);
  EXPECT_EQ(side(0, 511, 1), next);
  EXPECT_EQ(side(1, 511, 1), next);
}

TEST_F(BlockCommands, UnmapDeallocatesEveryRangeAndFreesTheDisksSpace) {
  ASSERT_TRUE(tb.ok());
  ASSERT_EQ(tb.write("host0", 0, 2000, pattern(4, 96)).status, kGood);  // both VSEGs
  ASSERT_EQ(tb.write("host0", 1, 100, pattern(5, 16)).status, kGood);
  const uint64_t disk1_before = tb.disk("disk1").store(0)->allocated_bytes();
  const fc::UnmapDescriptor ranges[] = {{2000, 40}, {2056, 24}};
  std::vector<uint8_t> list(8 + 16 * 2);
  ASSERT_TRUE(fc::encode_unmap_parameters(ranges, list).ok());
  EXPECT_EQ(run(0, fc::make_unmap(static_cast<uint16_t>(list.size())), list).status, kGood);
  const std::vector<uint8_t> now = spanned(2000, 96);
  const std::vector<uint8_t> written = pattern(4, 96);
  EXPECT_EQ(std::vector<uint8_t>(now.begin(), now.begin() + 40 * kBlock),
            std::vector<uint8_t>(40 * kBlock, 0));
  EXPECT_TRUE(std::equal(now.begin() + 40 * kBlock, now.begin() + 56 * kBlock,
                         written.begin() + 40 * kBlock));  // between the ranges
  EXPECT_EQ(std::vector<uint8_t>(now.begin() + 56 * kBlock, now.begin() + 80 * kBlock),
            std::vector<uint8_t>(24 * kBlock, 0));
  EXPECT_TRUE(std::equal(now.begin() + 80 * kBlock, now.end(), written.begin() + 80 * kBlock));
  EXPECT_LT(tb.disk("disk1").store(0)->allocated_bytes(), disk1_before);
  // WRITE SAME(16) with NDOB deallocates both sides of a mirror.
  EXPECT_EQ(run(1, fc::make_write_same(100, 16, true, true)).status, kGood);
  EXPECT_EQ(side(0, 100, 16), std::vector<uint8_t>(16 * kBlock, 0));
  EXPECT_EQ(side(1, 100, 16), std::vector<uint8_t>(16 * kBlock, 0));
}

TEST_F(BlockCommands, VerifyComparesEveryLegAndReportsTheHostsOffsetOfAMiscompare) {
  ASSERT_TRUE(tb.ok());
  std::vector<uint8_t> data = pattern(6, 64);
  ASSERT_EQ(tb.write("host0", 0, 2016, data).status, kGood);  // 32 blocks each VSEG
  EXPECT_EQ(run(0, fc::make_verify(2016, 64, fc::bytchk::kCompare), data).status, kGood);
  EXPECT_EQ(run(0, fc::make_verify(2016, 64)).status, kGood);
  // A byte of block 40 (in the second VSEG's leg) differs.
  data[40 * kBlock + 7] ^= 0xFF;
  const sim::ScsiResult r = run(0, fc::make_verify(2016, 64, fc::bytchk::kCompare), data);
  expect_sense(r, fc::sense_key::kMiscompare, fc::asc::kMiscompareDuringVerify);
  EXPECT_TRUE(r.sense.valid);
  EXPECT_EQ(r.sense.information, 40 * kBlock + 7);
  // A medium error under a VERIFY without data is found too.
  tb.disk("disk1").add_medium_error(0, 300 + 10, 1);
  expect_sense(run(0, fc::make_verify(2040, 40)), fc::sense_key::kMediumError,
               fc::asc::kUnrecoveredReadError);
}

TEST_F(BlockCommands, CompareAndWriteWritesOnlyWhenTheDataMatches) {
  ASSERT_TRUE(tb.ok());
  const std::vector<uint8_t> old_block = pattern(7, 1);
  ASSERT_EQ(tb.write("host0", 0, 2048, old_block).status, kGood);
  std::vector<uint8_t> wrong = pattern(8, 2);
  const sim::ScsiResult miss = run(0, fc::make_compare_and_write(2048, 1), wrong);
  expect_sense(miss, fc::sense_key::kMiscompare, fc::asc::kMiscompareDuringVerify);
  EXPECT_EQ(spanned(2048, 1), old_block);
  std::vector<uint8_t> right = old_block;
  const std::vector<uint8_t> new_block = pattern(9, 1);
  right.insert(right.end(), new_block.begin(), new_block.end());
  EXPECT_EQ(run(0, fc::make_compare_and_write(2048, 1), right).status, kGood);
  EXPECT_EQ(spanned(2048, 1), new_block);
  EXPECT_EQ(tb.disk("disk1").stats().compare_and_writes, 2u);
}

TEST_F(BlockCommands, WriteAndVerifyWrites) {
  ASSERT_TRUE(tb.ok());
  const std::vector<uint8_t> data = pattern(10, 8);
  EXPECT_EQ(run(0, fc::make_write_and_verify(2044, 8), data).status, kGood);
  EXPECT_EQ(spanned(2044, 8), data);
}

TEST_F(BlockCommands, CommandsBeyondTheLimitsOrTheVolumeAreRefusedAndChangeNothing) {
  ASSERT_TRUE(tb.ok());
  const std::vector<uint8_t> block = pattern(11, 1);
  const std::vector<uint8_t> before = spanned(4000, 96);
  expect_sense(run(0, fc::make_write_same(4000, 97), block), fc::sense_key::kIllegalRequest,
               fc::asc::kLbaOutOfRange);
  expect_sense(run(0, fc::make_write_same(4000, 0), block), fc::sense_key::kIllegalRequest,
               fc::asc::kInvalidFieldInCdb);  // WSNZ
  expect_sense(run(0, fc::make_compare_and_write(4000, 2), pattern(1, 4)),
               fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInCdb);
  expect_sense(run(0, fc::make_compare_and_write(4000, 1), pattern(1, 1)),  // half the data
               fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInCdb);
  const fc::UnmapDescriptor ranges[] = {{4000, 10}, {4090, 7}};  // the second passes the end
  std::vector<uint8_t> list(8 + 16 * 2);
  ASSERT_TRUE(fc::encode_unmap_parameters(ranges, list).ok());
  expect_sense(run(0, fc::make_unmap(static_cast<uint16_t>(list.size())), list),
               fc::sense_key::kIllegalRequest, fc::asc::kLbaOutOfRange);
  expect_sense(run(0, fc::make_unmap(4), std::vector<uint8_t>(4)), fc::sense_key::kIllegalRequest,
               fc::asc::kParameterListLengthError);
  expect_sense(run(2, fc::make_write_same(4000, 8), block), fc::sense_key::kDataProtect,
               fc::asc::kWriteProtected);
  expect_sense(run(2, fc::make_unmap(static_cast<uint16_t>(list.size())), list),
               fc::sense_key::kDataProtect, fc::asc::kWriteProtected);
  EXPECT_EQ(spanned(4000, 96), before);
  // A read-only LUN still verifies.
  EXPECT_EQ(run(2, fc::make_verify(4000, 8)).status, kGood);
}

TEST_F(BlockCommands, TheLuReportsThinProvisioningAndItsLimits) {
  ASSERT_TRUE(tb.ok());
  const sim::ScsiResult b0 = run(0, fc::make_inquiry(64, true, fc::vpd_page::kBlockLimits), {}, 64);
  ASSERT_EQ(b0.data_in.size(), 64u);
  EXPECT_EQ(b0.data_in[5], cp::kMaxCompareAndWriteBlocks);
  EXPECT_EQ(fc::load_be32(b0.data_in.data() + 20), cp::kMaxUnmapBlocks);
  EXPECT_EQ(fc::load_be32(b0.data_in.data() + 24), cp::kMaxUnmapDescriptors);
  const sim::ScsiResult b2 =
      run(0, fc::make_inquiry(8, true, fc::vpd_page::kLogicalBlockProvisioning), {}, 8);
  ASSERT_EQ(b2.data_in.size(), 8u);
  EXPECT_EQ(b2.data_in[5] & 0xE0, 0xE0);  // LBPU, LBPWS, LBPWS10
  const sim::ScsiResult cap = run(0, fc::make_read_capacity16(32), {}, 32);
  auto d = fc::decode_read_capacity16_data(cap.data_in);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->lbpme);
  EXPECT_TRUE(d->lbprz);
  const sim::ScsiResult inq = run(0, fc::make_inquiry(96), {}, 96);
  auto std_inq = fc::decode_inquiry_data(inq.data_in);
  ASSERT_TRUE(std_inq.ok());
  EXPECT_NE(std::find(std_inq->version_descriptors.begin(), std_inq->version_descriptors.end(),
                      fc::version_descriptor::kSbc3),
            std_inq->version_descriptors.end());
}

}  // namespace
}  // namespace splitpath::testing
