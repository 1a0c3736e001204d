// Every check of figure 7 that faults an I/O to the CP, in FPAPI.md's order,
// and the mapping-miss protocol (QUEUE, CONTINUE, IGNORE).
#include <gtest/gtest.h>

#include "fp_firmware/fp_test_fixture.h"

namespace splitpath::fp::testing {
namespace {

using fpapi::FaultKind;

// The next CP message is CpQueueIO `kind` for host exchange `ox_id`, and
// nothing went on the wire.
fpapi::CpQueueIO expect_fault(FpFixture& t, FaultKind kind, uint16_t ox_id) {
  t.run();
  EXPECT_TRUE(t.tx_idle());
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  EXPECT_EQ(q.reason, kind) << fpapi::fault_kind_name(q.reason);
  EXPECT_EQ(q.io.ox_id, ox_id);
  EXPECT_EQ(q.io.initiator == kHost || q.io.initiator == kHost2, true);
  EXPECT_EQ(q.io.target_id, kTarget);
  EXPECT_EQ(t.fp.statistics().faults[static_cast<size_t>(kind)], 1u);
  EXPECT_TRUE(t.cp_idle());
  return q;
}

TEST(FpFaults, NotReadWrite) {
  FpFixture t;
  t.bring_up();
  fc::FcpCmnd c;
  c.lun = fc::make_lun(0);
  c.rddata = true;
  c.fcp_dl = 36;
  (void)fc::encode_cdb(fc::make_inquiry(36), fc::MutableBytes(c.cdb.data(), c.cdb.size()));
  t.host_cmnd(0x10, c);
  const auto q = expect_fault(t, FaultKind::kNotReadWrite, 0x10);
  EXPECT_EQ(q.io.cdb[0], fc::scsi_op::kInquiry);
  EXPECT_EQ(q.io.lv_id, fpapi::kNoTag);  // faulted before the LUN lookup
  EXPECT_EQ(q.io.data_length, 36u);
  EXPECT_EQ(q.io.read_data, 1);
}

TEST(FpFaults, TaskManagementIsNotReadWrite) {
  FpFixture t;
  t.bring_up();
  fc::FcpCmnd c;
  c.lun = fc::make_lun(0);
  c.task_management_flags = fc::fcp_tmf::kLogicalUnitReset;
  t.host_cmnd(0x11, c);
  const auto q = expect_fault(t, FaultKind::kNotReadWrite, 0x11);
  EXPECT_EQ(q.io.task_management, fc::fcp_tmf::kLogicalUnitReset);
}

TEST(FpFaults, LunNotExposed) {
  FpFixture t;
  t.bring_up();
  t.host_rw(0x12, false, kVsegStart, 1, /*lun=*/5);
  const auto q = expect_fault(t, FaultKind::kLunNotExposed, 0x12);
  EXPECT_EQ(q.io.lun, 5);
  EXPECT_EQ(q.io.lv_id, fpapi::kNoTag);
}

TEST(FpFaults, HiddenLunIsNotExposed) {
  FpFixture t;
  t.bring_up();
  fpapi::FpHide h;
  h.req_id = 9;
  h.target_id = kTarget;
  t.cp_send(h);
  t.run();
  EXPECT_EQ(t.cp_expect<fpapi::FpReply>().value, 1u);
  t.host_rw(0x13, false, kVsegStart, 1);
  expect_fault(t, FaultKind::kLunNotExposed, 0x13);
}

TEST(FpFaults, InitiatorNotListedIsMasked) {
  FpFixture t;
  t.bring_up();
  t.expose(kTarget, 1, 0, {kHost2});
  t.host_rw(0x14, false, kVsegStart, 1, 1, kHost);
  const auto q = expect_fault(t, FaultKind::kLunMasked, 0x14);
  EXPECT_EQ(q.io.lv_id, kLv);
  // The listed initiator passes, and one appended later too.
  t.host_rw(0x15, false, kVsegStart, 1, 1, kHost2);
  t.run();
  EXPECT_EQ(t.expect_frame().h.d_id.value, kDisk);
  t.expose(kTarget, 1, fpapi::expose_flags::kAppend, {kHost});
  t.host_rw(0x16, false, kVsegStart, 1, 1, kHost);
  t.run();
  EXPECT_EQ(t.expect_frame().h.d_id.value, kDisk);
  EXPECT_TRUE(t.cp_idle());
}

TEST(FpFaults, WriteToReadOnlyLunIsMasked) {
  FpFixture t;
  t.bring_up();
  t.expose(kTarget, 2, fpapi::expose_flags::kAnyInitiator | fpapi::expose_flags::kReadOnly);
  t.host_rw(0x17, true, kVsegStart, 1, 2);
  expect_fault(t, FaultKind::kLunMasked, 0x17);
  t.host_rw(0x18, false, kVsegStart, 1, 2);  // reads pass
  t.run();
  EXPECT_EQ(t.expect_frame().h.d_id.value, kDisk);
}

TEST(FpFaults, NoVsegIsNoMapping) {
  FpFixture t;
  t.bring_up();
  t.host_rw(0x19, false, kVsegStart - 10, 1);
  const auto q = expect_fault(t, FaultKind::kNoMapping, 0x19);
  EXPECT_EQ(q.io.lv_id, kLv);
}

TEST(FpFaults, SpansVsegs) {
  FpFixture t;
  t.bring_up();
  t.host_rw(0x1A, false, kVsegStart + kVsegLength - 2, 4);
  expect_fault(t, FaultKind::kSpansVsegs, 0x1A);
}

TEST(FpFaults, MissThenQueueIsNoMapping) {
  FpFixture t;
  t.bring_up(/*extent_length=*/0);
  t.host_rw(0x1B, true, kVsegStart + 40, 8);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  const auto miss = t.cp_expect<fpapi::CpMappingMiss>();
  EXPECT_EQ(miss.lv_id, kLv);
  EXPECT_EQ(miss.vseg_id, kVsegId);
  EXPECT_EQ(miss.lba, 40u);
  EXPECT_EQ(miss.blocks, 8u);
  EXPECT_EQ(miss.is_write, 1);
  EXPECT_EQ(t.fp.statistics().mapping_misses, 1u);
  fpapi::CpMappingMissReply r;
  r.utag = miss.utag;
  r.action = fpapi::MissAction::kQueue;
  t.cp_send(r);
  const auto q = expect_fault(t, FaultKind::kNoMapping, 0x1B);
  EXPECT_EQ(q.io.utag, miss.utag);
}

TEST(FpFaults, MissThenContinueDispatches) {
  FpFixture t;
  t.bring_up(0);
  t.host_rw(0x1C, false, kVsegStart + 40, 8);
  t.run();
  const auto miss = t.cp_expect<fpapi::CpMappingMiss>();
  // The CP loads the extent first; the mailbox is FIFO, so it is in place
  // when the FP acts on the reply.
  fpapi::FpMapping m = FpFixture::extent_mapping(kVsegId, 32, 64);
  m.req_id = fpapi::kNoTag;
  t.cp_send(m, MsgType::kFpAddMapping);
  fpapi::CpMappingMissReply r;
  r.utag = miss.utag;
  r.action = fpapi::MissAction::kContinue;
  t.cp_send(r);
  t.run();
  const Frame cmnd = t.expect_frame();
  EXPECT_EQ(cmnd.h.d_id.value, kDisk);
  EXPECT_EQ(FpFixture::decode_scsi(cmnd).lba, kDiskStart + 40);
  EXPECT_TRUE(t.cp_idle());
}

TEST(FpFaults, MissThenContinueWithoutMappingIsNoMapping) {
  FpFixture t;
  t.bring_up(0);
  t.host_rw(0x1D, false, kVsegStart + 40, 8);
  t.run();
  const auto miss = t.cp_expect<fpapi::CpMappingMiss>();
  fpapi::CpMappingMissReply r;
  r.utag = miss.utag;
  r.action = fpapi::MissAction::kContinue;
  t.cp_send(r);
  expect_fault(t, FaultKind::kNoMapping, 0x1D);
  EXPECT_EQ(t.fp.statistics().mapping_misses, 1u);
}

TEST(FpFaults, MissThenIgnoreForgetsTheCommand) {
  FpFixture t;
  t.bring_up(0);
  t.host_rw(0x1E, false, kVsegStart + 40, 8);
  t.run();
  const auto miss = t.cp_expect<fpapi::CpMappingMiss>();
  EXPECT_EQ(t.fp.statistics().upstream_pending, 1u);
  fpapi::CpMappingMissReply r;
  r.utag = miss.utag;
  r.action = fpapi::MissAction::kIgnore;
  t.cp_send(r);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  EXPECT_TRUE(t.cp_idle());
  EXPECT_EQ(t.fp.statistics().upstream_pending, 0u);
}

TEST(FpFaults, SpansExtents) {
  FpFixture t;
  t.bring_up(/*extent_length=*/100);
  t.host_rw(0x1F, false, kVsegStart + 98, 4);
  expect_fault(t, FaultKind::kSpansExtents, 0x1F);
}

TEST(FpFaults, FaultOnRead) {
  FpFixture t;
  t.bring_up();
  fpapi::FpMapping m = FpFixture::redirect_mapping(kVsegId, 0, map::redirect_flags::kFaultOnRead);
  t.call_ok(m, MsgType::kFpReplaceMapping);
  t.host_rw(0x20, false, kVsegStart, 1);
  expect_fault(t, FaultKind::kFaultOnRead, 0x20);
  t.host_rw(0x21, true, kVsegStart, 1);  // writes still remap
  t.run();
  EXPECT_EQ(t.expect_frame().h.d_id.value, kDisk);
}

TEST(FpFaults, FaultOnWrite) {
  FpFixture t;
  t.bring_up();
  fpapi::FpMapping m = FpFixture::redirect_mapping(kVsegId, 0, map::redirect_flags::kFaultOnWrite);
  t.call_ok(m, MsgType::kFpReplaceMapping);
  t.host_rw(0x22, true, kVsegStart, 1);
  expect_fault(t, FaultKind::kFaultOnWrite, 0x22);
}

TEST(FpFaults, FcpDlDisagreeingWithTheCdbIsCapacity) {
  FpFixture t;
  t.bring_up();
  t.host_rw(0x23, false, kVsegStart, 4, 0, kHost, /*fcp_dl=*/100);
  expect_fault(t, FaultKind::kCapacity, 0x23);
}

TEST(FpFaults, TransferAboveTheFpLimitIsCapacity) {
  FpFixture t;
  t.bring_up();
  const uint32_t blocks = (t.port->config().max_transfer_bytes / kBlock) + 8;
  t.host_rw(0x24, false, kVsegStart, blocks);
  expect_fault(t, FaultKind::kCapacity, 0x24);
}

TEST(FpFaults, EntryWithoutStorageIsCapacity) {
  FpFixture t;
  t.bring_up();
  fpapi::FpMapping m = FpFixture::redirect_mapping(kVsegId, 0);
  // Every kind with a layout is served by a primitive; an entry with no
  // storage behind it is one the FP cannot serve.
  m.redirect.descriptor = map::StorageDescriptor{};
  t.call_ok(m, MsgType::kFpReplaceMapping);
  t.host_rw(0x25, false, kVsegStart, 1);
  expect_fault(t, FaultKind::kCapacity, 0x25);
}

}  // namespace
}  // namespace splitpath::fp::testing
