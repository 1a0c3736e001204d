// The pending-I/O tables as the restrictive-update drain sees them:
// FPRemoveMapping's now_ns, FPQueryPendingIOs with its filters, and
// FPAbortPendingIOs (ABTS downstream, kAborted to the CP).
#include <gtest/gtest.h>

#include "fp_firmware/fp_test_fixture.h"

namespace splitpath::fp::testing {
namespace {

fpapi::FpQueryPendingIOsReply query(FpFixture& t, const fpapi::PendingFilter& f) {
  fpapi::FpQueryPendingIOs q;
  q.req_id = 77;
  q.filter = f;
  t.cp_send(q);
  t.run();
  const auto r = t.cp_expect<fpapi::FpQueryPendingIOsReply>();
  EXPECT_EQ(r.req_id, 77u);
  return r;
}

// Two extents: [0, 1000) through redirect 0 and [1000, 2000) through
// redirect 1, which has FoR set so reads there are queued to the CP.
void two_extents(FpFixture& t) {
  t.bring_up(0);
  t.call_ok(FpFixture::extent_mapping(kVsegId, 0, 1000, 0), MsgType::kFpAddMapping);
  t.call_ok(FpFixture::redirect_mapping(kVsegId, 1, map::redirect_flags::kFaultOnRead),
            MsgType::kFpAddMapping);
  t.call_ok(FpFixture::extent_mapping(kVsegId, 1000, 1000, 1), MsgType::kFpAddMapping);
}

TEST(FpPending, RemoveMappingThenDrainQueryByTimeAndOwner) {
  FpFixture t;
  two_extents(t);
  t.host_rw(0xA, false, kVsegStart + 10, 8);    // FP-owned, inside the removed range
  t.host_rw(0xB, true, kVsegStart + 500, 8);    // FP-owned, outside it
  t.host_rw(0xC, false, kVsegStart + 1500, 8);  // queued to the CP (FoR)
  t.run();
  const Frame ca = t.expect_frame();
  (void)t.expect_frame();
  const auto queued = t.cp_expect<fpapi::CpQueueIO>();
  EXPECT_EQ(queued.reason, fpapi::FaultKind::kFaultOnRead);

  t.clock.advance(5000);
  fpapi::FpMapping rm = FpFixture::extent_mapping(kVsegId, 0, 100);
  t.cp_send(rm, MsgType::kFpRemoveMapping);
  t.run();
  const auto removed = t.cp_expect<fpapi::FpReply>();
  EXPECT_EQ(removed.status, fpapi::ApiStatus::kOk);
  EXPECT_EQ(removed.value, 1u);  // the whole overlapping extent is dropped
  EXPECT_GE(removed.now_ns, 6000u);

  // An I/O started after the removal cannot use the entry: it misses.
  t.clock.advance(1000);
  t.host_rw(0xD, false, kVsegStart + 20, 8);
  t.run();
  (void)t.cp_expect<fpapi::CpMappingMiss>();

  fpapi::PendingFilter f;
  f.vseg_id = kVsegId;
  f.start = 0;
  f.length = 100;
  f.started_by_ns = removed.now_ns;
  f.owner = fpapi::kOwnerFp;
  auto r = query(t, f);
  EXPECT_EQ(r.count, 1u);
  ASSERT_EQ(r.listed, 1);
  EXPECT_EQ(r.ios[0].vseg_id, kVsegId);
  EXPECT_EQ(r.ios[0].start, 10u);
  EXPECT_EQ(r.ios[0].blocks, 8u);
  EXPECT_EQ(r.ios[0].owner, fpapi::kOwnerFp);
  EXPECT_EQ(r.ios[0].legs, 1);
  EXPECT_EQ(r.oldest_ns, r.ios[0].started_ns);
  EXPECT_LE(r.oldest_ns, removed.now_ns);

  f.owner = fpapi::kAnyOwner;  // the held miss started after the bound
  EXPECT_EQ(query(t, f).count, 1u);
  f.started_by_ns = ~0ull;
  EXPECT_EQ(query(t, f).count, 2u);

  fpapi::PendingFilter all;
  EXPECT_EQ(query(t, all).count, 4u);
  all.owner = fpapi::kOwnerCp;
  r = query(t, all);
  EXPECT_EQ(r.count, 2u);  // the FoR one and the held miss
  all = {};
  all.utag = queued.io.utag;
  r = query(t, all);
  EXPECT_EQ(r.count, 1u);
  EXPECT_EQ(r.ios[0].start, 1500u);

  // The drain ends when the old I/O completes.
  t.disk_rsp(ca, 0x40, fc::scsi_status::kGood);
  t.run();
  (void)t.expect_frame();
  f.started_by_ns = removed.now_ns;
  f.owner = fpapi::kOwnerFp;
  r = query(t, f);
  EXPECT_EQ(r.count, 0u);
  EXPECT_EQ(r.oldest_ns, 0u);
}

TEST(FpPending, AbortEndsDownstreamExchangesAndHandsTheIoToTheCp) {
  FpFixture t;
  two_extents(t);
  t.host_rw(0xA, true, kVsegStart + 10, 8);
  t.host_rw(0xB, true, kVsegStart + 20, 8);
  t.run();
  const Frame ca = t.expect_frame();
  (void)t.expect_frame();
  // The disk has answered A with XFER_RDY, so its RX_ID is known.
  uint8_t x[fc::kFcpXferRdySize];
  ASSERT_TRUE(fc::encode_fcp_xfer_rdy({0, 4096}, x).ok());
  t.push(header(fc::rctl::kDeviceDataDataDescriptor, kVi, kDisk, kFctlXferRdy, ca.h.ox_id, 0x99),
         x);
  t.run();
  (void)t.expect_frame();

  // The host aborted A (its ABTS went to the CP): the CP aborts by exchange.
  fpapi::FpAbortPendingIOs a;
  a.req_id = 5;
  a.filter.initiator = kHost;
  a.filter.ox_id = 0xA;
  t.cp_send(a);
  t.run();
  const Frame abts = t.expect_frame();
  EXPECT_EQ(abts.h.r_ctl, fc::rctl::kBlsAbts);
  EXPECT_EQ(abts.h.type, fc::fc_type::kBls);
  EXPECT_EQ(abts.h.d_id.value, kDisk);
  EXPECT_EQ(abts.h.s_id.value, kVi);
  EXPECT_EQ(abts.h.ox_id, ca.h.ox_id);
  EXPECT_EQ(abts.h.rx_id, 0x99);
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  EXPECT_EQ(q.reason, fpapi::FaultKind::kAborted);
  EXPECT_EQ(q.io.ox_id, 0xA);
  const auto reply = t.cp_expect<fpapi::FpReply>();
  EXPECT_EQ(reply.req_id, 5u);
  EXPECT_EQ(reply.value, 1u);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 1u);

  // Late frames of the aborted exchange are dropped; the target's BA_ACC
  // goes to the CP.
  t.disk_rsp(ca, 0x99, fc::scsi_status::kGood);
  uint8_t acc[fc::kBaAccSize] = {};
  t.push(header(fc::rctl::kBlsBaAcc, kVi, kDisk, fc::fctl::kExchangeContext, ca.h.ox_id, 0x99, 0,
                fc::fc_type::kBls),
         acc);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  EXPECT_EQ(t.fp.statistics().dropped_frames, 1u);
  const auto frame = t.cp_expect<fpapi::CpFrame>();
  EXPECT_EQ(frame.length, fc::kFrameHeaderSize + fc::kBaAccSize);
  EXPECT_EQ(frame.frame.data[0], fc::rctl::kBlsBaAcc);

  // The CP completes it silently: nothing reaches the host.
  fpapi::FpQueueIOComplete done;
  done.utag = q.io.utag;
  done.silent = 1;
  t.cp_send(done);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  EXPECT_EQ(t.fp.statistics().upstream_pending, 1u);

  // A drain timeout aborts everything FP-owned in a range.
  fpapi::FpAbortPendingIOs drain;
  drain.req_id = 6;
  drain.filter.vseg_id = kVsegId;
  drain.filter.start = 0;
  drain.filter.length = 1000;
  drain.filter.owner = fpapi::kOwnerFp;
  t.cp_send(drain);
  t.run();
  EXPECT_EQ(t.expect_frame().h.r_ctl, fc::rctl::kBlsAbts);
  EXPECT_EQ(t.cp_expect<fpapi::CpQueueIO>().io.ox_id, 0xB);
  EXPECT_EQ(t.cp_expect<fpapi::FpReply>().value, 1u);
  EXPECT_EQ(t.fp.statistics().faults[static_cast<size_t>(fpapi::FaultKind::kAborted)], 2u);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 0u);
}

TEST(FpPending, AbortOfACpOwnedIoEndsItsLegs) {
  FpFixture t;
  two_extents(t);
  t.host_rw(0xE, false, kVsegStart + 1500, 8);
  t.run();
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  fpapi::FpDispatchIO d;
  d.dtag = 44;
  d.utag = q.io.utag;
  d.target_id = kDisk;
  d.direction = fpapi::DataDirection::kRead;
  d.data_length = 4096;
  d.cdb_length = 16;
  (void)fc::encode_cdb(fc::make_rw(fc::scsi_op::kRead16, 1, 8), fc::MutableBytes(d.cdb.data(), 16));
  t.cp_send(d);
  t.run();
  (void)t.expect_frame();
  fpapi::FpAbortPendingIOs a;
  a.req_id = 8;
  a.filter.utag = q.io.utag;
  t.cp_send(a);
  t.run();
  EXPECT_EQ(t.expect_frame().h.r_ctl, fc::rctl::kBlsAbts);
  const auto leg = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(leg.dtag, 44u);
  EXPECT_EQ(leg.transport_error, 1);
  EXPECT_EQ(t.cp_expect<fpapi::CpQueueIO>().reason, fpapi::FaultKind::kAborted);
  EXPECT_EQ(t.cp_expect<fpapi::FpReply>().value, 1u);
}

// An initiator that left the fabric: OX_ID 0xFFFF (unassigned) in the filter
// matches every exchange of that initiator, whoever owns it, and no other.
TEST(FpPending, AbortByInitiatorWithUnassignedOxIdEndsAllItsExchanges) {
  FpFixture t;
  two_extents(t);
  t.host_rw(0xA, true, kVsegStart + 10, 8);             // FP-owned
  t.host_rw(0xB, false, kVsegStart + 1500, 8);          // CP-owned (FoR)
  t.host_rw(0xC, true, kVsegStart + 30, 8, 0, kHost2);  // another host
  t.run();
  (void)t.expect_frame();
  (void)t.expect_frame();
  EXPECT_EQ(t.cp_expect<fpapi::CpQueueIO>().io.ox_id, 0xB);
  fpapi::FpAbortPendingIOs a;
  a.req_id = 9;
  a.filter.initiator = kHost;
  a.filter.ox_id = 0xFFFF;
  t.cp_send(a);
  t.run();
  EXPECT_EQ(t.expect_frame().h.r_ctl, fc::rctl::kBlsAbts);  // A's downstream leg
  EXPECT_TRUE(t.tx_idle());
  const auto first = t.cp_expect<fpapi::CpQueueIO>();
  const auto second = t.cp_expect<fpapi::CpQueueIO>();
  EXPECT_EQ(first.reason, fpapi::FaultKind::kAborted);
  EXPECT_EQ(second.reason, fpapi::FaultKind::kAborted);
  EXPECT_EQ(first.io.ox_id + second.io.ox_id, 0xA + 0xB);
  EXPECT_EQ(t.cp_expect<fpapi::FpReply>().value, 2u);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 1u);  // C's leg runs on
}

}  // namespace
}  // namespace splitpath::fp::testing
