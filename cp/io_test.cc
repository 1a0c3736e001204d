// CP-owned READ/WRITEs: splitting into linked legs, completion, errors.
#include <gtest/gtest.h>

#include "cp/target/scsi_target.h"
#include "cp/testing/cp_harness.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {
namespace {

using fpapi::FaultKind;
using fpapi::MsgType;
using testing::CpHarness;
using testing::kDiskA;
using testing::kDiskAId;
using testing::kDiskB;
using testing::kDiskBId;
using testing::kHost1Id;
using testing::kHost2Id;

using CpIoTest = CpHarness;

struct LegView {
  uint32_t target = 0;
  uint16_t lun = 0;
  uint64_t lba = 0;
  uint32_t blocks = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  bool write = false;
};

LegView view(const fpapi::FpDispatchIO& d) {
  auto c = fc::decode_cdb(d.cdb);
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(d.cdb_length, 16);
  EXPECT_TRUE(c->opcode == fc::scsi_op::kRead16 || c->opcode == fc::scsi_op::kWrite16);
  return LegView{d.target_id,
                 d.lun,
                 c->lba,
                 c->transfer_length,
                 d.upstream_offset,
                 d.data_length,
                 c->kind == fc::ScsiCommandKind::kWrite};
}

void expect_leg(const fpapi::FpDispatchIO& d, uint32_t target, uint16_t lun, uint64_t lba,
                uint32_t blocks, uint32_t offset) {
  const LegView v = view(d);
  EXPECT_EQ(v.target, target);
  EXPECT_EQ(v.lun, lun);
  EXPECT_EQ(v.lba, lba);
  EXPECT_EQ(v.blocks, blocks);
  EXPECT_EQ(v.offset, offset);
  EXPECT_EQ(v.length, blocks * 512);
}

class CpIoFixture : public CpIoTest {
 protected:
  void complete_leg(uint32_t port, const fpapi::FpDispatchIO& d, uint8_t status = 0,
                    std::span<const uint8_t> sense = {}) {
    fpapi::CpDispatchIOComplete c;
    c.dtag = d.dtag;
    c.utag = d.utag;
    c.scsi_status = status;
    c.bytes_transferred = status == 0 ? d.data_length : 0;
    c.sense.assign(sense);
    deliver(port, c);
  }
};

TEST_F(CpIoFixture, SpansExtentsSplitsAtTheExtentBoundary) {
  bring_up();
  queue_io(0, FaultKind::kSpansExtents,
           make_io(11, target_id(), 0, fc::make_read(90, 20), 20 * 512, kHost2Id));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 2u);
  expect_leg(legs[0], kDiskAId, 1, 5090, 10, 0);
  expect_leg(legs[1], kDiskAId, 1, 5100, 10, 10 * 512);
  EXPECT_EQ(legs[0].utag, 11u);
  EXPECT_EQ(legs[0].direction, fpapi::DataDirection::kRead);
  EXPECT_NE(legs[0].dtag, legs[1].dtag);
  complete_leg(0, legs[1]);
  EXPECT_TRUE(sent<fpapi::FpQueueIOComplete>(0).empty());
  complete_leg(0, legs[0]);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].utag, 11u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(done[0].silent, 0);
  EXPECT_EQ(cp->stats().dispatched, 2u);
  EXPECT_EQ(cp->stats().faults[static_cast<size_t>(FaultKind::kSpansExtents)], 1u);
}

TEST_F(CpIoFixture, SpansVsegsGoesToBothDisks) {
  bring_up();
  queue_io(1, FaultKind::kSpansVsegs,
           make_io(12, target_id(), 0, fc::make_write(995, 10), 10 * 512, kHost2Id));
  auto legs = sent<fpapi::FpDispatchIO>(1);
  ASSERT_EQ(legs.size(), 2u);
  expect_leg(legs[0], kDiskAId, 1, 5995, 5, 0);
  expect_leg(legs[1], kDiskBId, 2, 0, 5, 5 * 512);
  EXPECT_TRUE(view(legs[0]).write);
  EXPECT_EQ(legs[1].direction, fpapi::DataDirection::kWrite);
  complete_leg(1, legs[0]);
  complete_leg(1, legs[1]);
  auto done = sent<fpapi::FpQueueIOComplete>(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kGood);
}

TEST_F(CpIoFixture, CapacitySplitsAtMaxTransferWithBoundedLegs) {
  CpConfig config;
  config.max_legs_per_io = 2;
  bring_up(config);
  // VSEG 1 (one extent of 500): 300 blocks -> 128 + 128 + 44 (64 KiB FP limit).
  queue_io(0, FaultKind::kCapacity,
           make_io(13, target_id(), 0, fc::make_read(1000, 300), 300 * 512, kHost2Id));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 2u);
  expect_leg(legs[0], kDiskBId, 2, 0, 128, 0);
  expect_leg(legs[1], kDiskBId, 2, 128, 128, 128 * 512);
  complete_leg(0, legs[0]);
  legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 3u);
  expect_leg(legs[2], kDiskBId, 2, 256, 44, 256 * 512);
  complete_leg(0, legs[1]);
  complete_leg(0, legs[2]);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kGood);
}

TEST_F(CpIoFixture, FaultOnWriteIsProcessedByTheCp) {
  bring_up();
  deliver_frame(0, host_plogi(kHost1Id, testing::kHost1, 0x40));
  queue_io(0, FaultKind::kFaultOnWrite,
           make_io(14, target_id(), 1, fc::make_write(10, 4), 4 * 512, kHost1Id));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 1u);
  expect_leg(legs[0], kDiskBId, 2, 10010, 4, 0);
  EXPECT_TRUE(view(legs[0]).write);
}

TEST_F(CpIoFixture, LegErrorPassesItsSenseToTheHost) {
  bring_up();
  queue_io(0, FaultKind::kSpansExtents,
           make_io(15, target_id(), 0, fc::make_read(90, 20), 20 * 512, kHost2Id));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 2u);
  const std::vector<uint8_t> sense = check_condition(fc::sense_key::kMediumError, 0x11, 0x00).sense;
  complete_leg(0, legs[0]);
  complete_leg(0, legs[1], fc::scsi_status::kCheckCondition, sense);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(std::vector<uint8_t>(done[0].sense.view().begin(), done[0].sense.view().end()), sense);
  EXPECT_EQ(cp->stats().error_completions, 1u);
}

TEST_F(CpIoFixture, ErrorsWithoutLegs) {
  bring_up();
  auto expect_check = [&](uint32_t utag, uint8_t key, fc::AscAscq code) {
    auto done = sent<fpapi::FpQueueIOComplete>(0);
    ASSERT_FALSE(done.empty());
    EXPECT_EQ(done.back().utag, utag);
    EXPECT_EQ(done.back().scsi_status, fc::scsi_status::kCheckCondition);
    auto s = fc::decode_sense_data(done.back().sense.view());
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->sense_key, key);
    EXPECT_EQ(s->code, code);
  };
  fpapi::UpstreamIo io = make_io(20, target_id(), 9, fc::make_read(0, 1), 512, kHost2Id);
  io.lv_id = fpapi::kNoTag;
  queue_io(0, FaultKind::kLunNotExposed, io);
  expect_check(20, fc::sense_key::kIllegalRequest, fc::asc::kLogicalUnitNotSupported);
  // Host 2 may not use LUN 1.
  queue_io(0, FaultKind::kLunMasked,
           make_io(21, target_id(), 1, fc::make_read(0, 1), 512, kHost2Id));
  expect_check(21, fc::sense_key::kIllegalRequest, fc::asc::kLogicalUnitNotSupported);
  // LUN 2 is read-only.
  queue_io(0, FaultKind::kLunMasked,
           make_io(22, target_id(), 2, fc::make_write(0, 1), 512, kHost2Id));
  expect_check(22, fc::sense_key::kDataProtect, fc::asc::kWriteProtected);
  // Past the end of vol0 (1500 blocks).
  queue_io(0, FaultKind::kNoMapping,
           make_io(23, target_id(), 0, fc::make_read(1498, 4), 4 * 512, kHost2Id));
  expect_check(23, fc::sense_key::kIllegalRequest, fc::asc::kLbaOutOfRange);
  EXPECT_TRUE(sent<fpapi::FpDispatchIO>(0).empty());
}

TEST_F(CpIoFixture, DownstreamErrorPassesTheDiskStatus) {
  bring_up();
  fpapi::CpQueueIO q;
  q.reason = FaultKind::kDownstreamError;
  q.io = make_io(30, target_id(), 0, fc::make_read(0, 8), 4096, kHost2Id);
  q.downstream_status = fc::scsi_status::kCheckCondition;
  const std::vector<uint8_t> sense = check_condition(fc::sense_key::kMediumError, 0x11, 0).sense;
  q.sense.assign(sense);
  deliver(0, q);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(std::vector<uint8_t>(done[0].sense.view().begin(), done[0].sense.view().end()), sense);
  q.io.utag = 31;
  q.downstream_status = fc::scsi_status::kBusy;
  q.sense.length = 0;
  deliver(0, q);
  done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].scsi_status, fc::scsi_status::kBusy);
}

TEST_F(CpIoFixture, ShortFcpDlMovesLessAndReportsOverrun) {
  bring_up();
  queue_io(0, FaultKind::kSpansExtents,
           make_io(32, target_id(), 0, fc::make_read(90, 20), 10 * 512, kHost2Id));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 1u);
  expect_leg(legs[0], kDiskAId, 1, 5090, 10, 0);
  complete_leg(0, legs[0]);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].residual_flags, fc::fcp_rsp_flags::kResidOver);
  EXPECT_EQ(done[0].residual, 10u * 512);
}

TEST_F(CpIoFixture, FaultEveryIoSetsForAndFowOnRedirects) {
  CpConfig config;
  config.fault_every_io = true;
  define(config);
  cp->start();
  env.run_for(0);
  accept_logins();
  accept_logins();
  for (uint32_t p = 0; p < kPorts; ++p) {
    size_t redirects = 0;
    for (const auto& m : sent<fpapi::FpMapping>(p, MsgType::kFpAddMapping)) {
      if (m.kind != fpapi::MappingKind::kRedirect) continue;
      ++redirects;
      EXPECT_TRUE(m.redirect.fault_on_read());
      EXPECT_TRUE(m.redirect.fault_on_write());
    }
    EXPECT_EQ(redirects, 3u);
  }
}

TEST_F(CpIoFixture, IoWaitsForTheDiskLogin) {
  define();
  cp->start();
  env.run_for(0);
  queue_io(0, FaultKind::kNoMapping,
           make_io(40, target_id(), 0, fc::make_read(0, 8), 8 * 512, kHost2Id));
  EXPECT_TRUE(sent<fpapi::FpDispatchIO>(0).empty());
  accept_logins();
  accept_logins();
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 1u);
  expect_leg(legs[0], kDiskAId, 1, 5000, 8, 0);
}

TEST_F(CpIoFixture, SpansStripeUnitsSplitsIntoOneLegPerUnitOnItsColumn) {
  // Two columns (disk A LUN 3 from 0, disk B LUN 4 from 100), 16-block units.
  extra_definitions = [](ControlPath& cp) {
    VolumeDef v;
    v.name = "striped";
    VsegDef d;
    d.blocks = 320;
    d.stripe = StripeDef{16, {{kDiskA, 3, 0}, {kDiskB, 4, 100}}};
    v.vsegs = {d};
    std::string error;
    ASSERT_TRUE(cp.add_volume(v, &error)) << error;
    VirtualTargetDef t;
    t.name = "t1";
    t.wwpn = 0x5000000000000777;
    t.luns = {LunDef{0, "striped", {}, false}};
    ASSERT_TRUE(cp.add_target(t, &error)) << error;
  };
  CpConfig config;
  config.max_legs_per_io = 8;
  bring_up(config);
  // Blocks 10..49: units 0 (A), 1 (B), 2 (A, row 1), 3 (B, row 1).
  queue_io(0, FaultKind::kSpansStripeUnits,
           make_io(15, cp->target_port_id("t1"), 0, fc::make_write(10, 40), 40 * 512, kHost2Id));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 4u);
  expect_leg(legs[0], kDiskAId, 3, 10, 6, 0);
  expect_leg(legs[1], kDiskBId, 4, 100, 16, 6 * 512);
  expect_leg(legs[2], kDiskAId, 3, 16, 16, 22 * 512);
  expect_leg(legs[3], kDiskBId, 4, 116, 2, 38 * 512);
  for (const auto& l : legs) {
    EXPECT_TRUE(view(l).write);
    complete_leg(0, l);
  }
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(cp->stats().faults[static_cast<size_t>(FaultKind::kSpansStripeUnits)], 1u);
}

TEST_F(CpIoFixture, StripeEntryReachesAnFpOnlyWithEveryColumnLoggedIn) {
  lazy_logins = true;
  extra_definitions = [](ControlPath& cp) {
    VolumeDef v;
    v.name = "striped";
    VsegDef d;
    d.blocks = 320;
    d.extent_blocks = 32;
    d.stripe = StripeDef{16, {{kDiskA, 3, 0}, {kDiskB, 4, 100}}};
    v.vsegs = {d};
    std::string error;
    ASSERT_TRUE(cp.add_volume(v, &error)) << error;
  };
  bring_up();
  fpapi::CpMappingMiss miss;
  miss.utag = 16;
  miss.lv_id = 3;    // after vol0 and vol1
  miss.vseg_id = 4;  // after their three VSEGs
  miss.lba = 40;
  miss.blocks = 4;
  deliver(1, miss);
  // Neither disk is logged in from port 1 yet: QUEUE, and both logins start.
  auto replies = sent<fpapi::CpMappingMissReply>(1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].action, fpapi::MissAction::kQueue);
  EXPECT_TRUE(sent<fpapi::FpMapping>(1, MsgType::kFpAddMapping).empty());
  accept_logins();
  accept_logins();
  clear();
  deliver(1, miss);
  replies = sent<fpapi::CpMappingMissReply>(1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].action, fpapi::MissAction::kContinue);
  auto adds = sent<fpapi::FpMapping>(1, MsgType::kFpAddMapping);
  ASSERT_EQ(adds.size(), 2u);  // the stripe entry, then the extent
  map::StripeStorage s;
  ASSERT_TRUE(adds[0].redirect.descriptor.stripe(&s));
  EXPECT_EQ(s.width, 2u);
  EXPECT_EQ(s.unit_shift, 4u);
  EXPECT_EQ(s.columns[0].port_id, kDiskAId);
  EXPECT_EQ(s.columns[1].port_id, kDiskBId);
  EXPECT_EQ(s.columns[1].start_lba, 100u);
  EXPECT_EQ(adds[1].extent.start, 32u);
}

}  // namespace
}  // namespace splitpath::cp
