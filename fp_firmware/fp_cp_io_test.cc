// CP-owned I/Os: FPDispatchIO legs linked to a queued upstream I/O (the data
// moves between host and disk through the FP, never through the CP), and the
// CP acting as the virtual target with FPPutData, FPGetData and
// FPQueueIOComplete.
#include <gtest/gtest.h>

#include "fp_firmware/fp_test_fixture.h"

namespace splitpath::fp::testing {
namespace {

fpapi::FpDispatchIO leg(uint32_t dtag, uint32_t utag, uint32_t offset, uint32_t length, bool write,
                        uint64_t lba) {
  fpapi::FpDispatchIO d;
  d.dtag = dtag;
  d.utag = utag;
  d.upstream_offset = offset;
  d.target_id = kDisk;
  d.lun = kDiskLun;
  d.direction = write ? fpapi::DataDirection::kWrite : fpapi::DataDirection::kRead;
  d.data_length = length;
  const fc::ScsiCommand c =
      fc::make_rw(write ? fc::scsi_op::kWrite16 : fc::scsi_op::kRead16, lba, length / kBlock);
  d.cdb_length = 16;
  (void)fc::encode_cdb(c, fc::MutableBytes(d.cdb.data(), d.cdb.size()));
  return d;
}

// A host I/O of 8 blocks the FP queues to the CP (FoR/FoW on the entry).
fpapi::CpQueueIO queued_io(FpFixture& t, bool write, uint16_t ox_id) {
  t.bring_up();
  const uint8_t flags =
      write ? map::redirect_flags::kFaultOnWrite : map::redirect_flags::kFaultOnRead;
  t.call_ok(FpFixture::redirect_mapping(kVsegId, 0, flags), MsgType::kFpReplaceMapping);
  t.host_rw(ox_id, write, kVsegStart, 8);
  t.run();
  return t.cp_expect<fpapi::CpQueueIO>();
}

TEST(FpCpIo, DispatchedLegsCarryAQueuedWrite) {
  FpFixture t;
  const auto q = queued_io(t, true, 0x500);
  t.cp_send(leg(1, q.io.utag, 0, 2048, true, 7000));
  t.cp_send(leg(2, q.io.utag, 2048, 2048, true, 9000));
  t.run();
  const Frame c1 = t.expect_frame();
  const Frame c2 = t.expect_frame();
  EXPECT_EQ(c1.h.s_id.value, kVi);
  EXPECT_EQ(FpFixture::decode_scsi(c1).lba, 7000u);
  EXPECT_EQ(FpFixture::decode_scsi(c2).lba, 9000u);
  EXPECT_TRUE(FpFixture::decode_cmnd(c2).wrdata);
  EXPECT_EQ(FpFixture::decode_cmnd(c2).fcp_dl, 2048u);
  EXPECT_NE(c1.h.ox_id, c2.h.ox_id);

  const std::vector<uint8_t> data = pattern(4096, 5);
  const Frame* legs[2] = {&c2, &c1};  // the second leg asks first
  const uint16_t disk_rx[2] = {0x82, 0x81};
  const uint32_t host_off[2] = {2048, 0};
  for (int i = 0; i < 2; ++i) {
    uint8_t x[fc::kFcpXferRdySize];
    ASSERT_TRUE(fc::encode_fcp_xfer_rdy({0, 2048}, x).ok());
    t.push(header(fc::rctl::kDeviceDataDataDescriptor, kVi, kDisk, kFctlXferRdy, legs[i]->h.ox_id,
                  disk_rx[i]),
           x);
    t.run();
    const Frame xr = t.expect_frame();
    EXPECT_EQ(xr.h.d_id.value, kHost);
    EXPECT_EQ(xr.h.s_id.value, kTarget);
    EXPECT_EQ(xr.h.ox_id, 0x500);
    EXPECT_EQ(fc::decode_fcp_xfer_rdy(xr.payload)->relative_offset, host_off[i]);
    t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost, data_fctl(false, true), 0x500,
                  xr.h.rx_id, host_off[i]),
           std::span<const uint8_t>(data.data() + host_off[i], 2048));
    t.run();
    const Frame d = t.expect_frame();
    EXPECT_EQ(d.h.d_id.value, kDisk);
    EXPECT_EQ(d.h.s_id.value, kVi);
    EXPECT_EQ(d.h.ox_id, legs[i]->h.ox_id);
    EXPECT_EQ(d.h.rx_id, disk_rx[i]);
    EXPECT_EQ(d.h.parameter, 0u);
    EXPECT_EQ(d.payload,
              std::vector<uint8_t>(data.begin() + host_off[i], data.begin() + host_off[i] + 2048));
  }
  t.disk_rsp(c2, 0x82, fc::scsi_status::kGood);
  t.disk_rsp(c1, 0x81, fc::scsi_status::kGood);
  t.run();
  EXPECT_TRUE(t.tx_idle());  // the host hears nothing until the CP completes
  for (uint32_t dtag : {2u, 1u}) {
    const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
    EXPECT_EQ(done.dtag, dtag);
    EXPECT_EQ(done.utag, q.io.utag);
    EXPECT_EQ(done.scsi_status, fc::scsi_status::kGood);
    EXPECT_EQ(done.transport_error, 0);
    EXPECT_EQ(done.bytes_transferred, 2048u);
  }
  fpapi::FpQueueIOComplete qc;
  qc.utag = q.io.utag;
  t.cp_send(qc);
  t.run();
  const Frame rsp = t.expect_frame();
  EXPECT_EQ(rsp.h.d_id.value, kHost);
  EXPECT_EQ(rsp.h.ox_id, 0x500);
  EXPECT_EQ(FpFixture::decode_rsp(rsp).scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(t.fp.statistics().cp_completed, 1u);
  EXPECT_EQ(t.fp.statistics().write_bytes, 4096u);
  EXPECT_EQ(t.fp.statistics().upstream_pending, 0u);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 0u);
}

TEST(FpCpIo, DispatchedLegsCarryAQueuedRead) {
  FpFixture t;
  const auto q = queued_io(t, false, 0x501);
  t.cp_send(leg(1, q.io.utag, 0, 2048, false, 100));
  t.cp_send(leg(2, q.io.utag, 2048, 2048, false, 200));
  t.run();
  const Frame c1 = t.expect_frame();
  const Frame c2 = t.expect_frame();
  EXPECT_TRUE(FpFixture::decode_cmnd(c1).rddata);
  const std::vector<uint8_t> data = pattern(4096, 11);
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kVi, kDisk, data_fctl(true, true), c2.h.ox_id,
                0x92, 0),
         std::span<const uint8_t>(data.data() + 2048, 2048));
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kVi, kDisk, data_fctl(true, true), c1.h.ox_id,
                0x91, 0),
         std::span<const uint8_t>(data.data(), 2048));
  t.run();
  const Frame d2 = t.expect_frame();
  const Frame d1 = t.expect_frame();
  EXPECT_EQ(d2.h.d_id.value, kHost);
  EXPECT_EQ(d2.h.s_id.value, kTarget);
  EXPECT_EQ(d2.h.ox_id, 0x501);
  EXPECT_EQ(d2.h.parameter, 2048u);
  EXPECT_EQ(d1.h.parameter, 0u);
  EXPECT_EQ(d1.h.rx_id, d2.h.rx_id);
  EXPECT_EQ(d2.payload, std::vector<uint8_t>(data.begin() + 2048, data.end()));
  EXPECT_EQ(d1.payload, std::vector<uint8_t>(data.begin(), data.begin() + 2048));
  t.disk_rsp(c1, 0x91, fc::scsi_status::kGood);
  t.disk_rsp(c2, 0x92, fc::scsi_status::kCheckCondition, 0, std::vector<uint8_t>{0x70, 0, 3});
  t.run();
  const auto done1 = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done1.dtag, 1u);
  EXPECT_EQ(done1.bytes_transferred, 2048u);
  const auto done2 = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done2.dtag, 2u);
  EXPECT_EQ(done2.scsi_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(done2.sense.length, 3);
  EXPECT_EQ(t.fp.statistics().read_bytes, 4096u);
}

TEST(FpCpIo, UnlinkedDispatchAndBadUtag) {
  FpFixture t;
  t.bring_up();
  fpapi::FpDispatchIO d;
  d.dtag = 7;
  d.target_id = kDisk;
  d.lun = kDiskLun;
  d.cdb_length = 6;  // TEST UNIT READY
  t.cp_send(d);
  t.run();
  const Frame c = t.expect_frame();
  EXPECT_EQ(c.h.s_id.value, kVi);
  EXPECT_EQ(FpFixture::decode_cmnd(c).cdb[0], fc::scsi_op::kTestUnitReady);
  t.disk_rsp(c, 0x33, fc::scsi_status::kGood);
  t.run();
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 7u);
  EXPECT_EQ(done.utag, fpapi::kNoTag);
  EXPECT_EQ(done.transport_error, 0);

  t.cp_send(leg(8, 0x12345, 0, 512, true, 0));
  t.run();
  EXPECT_TRUE(t.tx_idle());
  const auto bad = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(bad.dtag, 8u);
  EXPECT_EQ(bad.transport_error, 1);
}

// A disk that refuses a leg at the FCP level (an FCP_RSP with RSP_CODE 2,
// FCP_CMND fields invalid, and a GOOD status byte: it answers so when the
// virtual initiator is not logged in) did not run it: the leg must not report
// GOOD to the CP, or the CP completes the host's READ GOOD without its data.
// Found by `splitpath torture --seed 5`.
TEST(FpCpIo, ALegRefusedWithAnFcpResponseCodeIsATransportError) {
  FpFixture t;
  t.bring_up();
  fpapi::FpDispatchIO d;
  d.dtag = 10;
  d.target_id = kDisk;
  d.lun = kDiskLun;
  d.cdb_length = 6;  // TEST UNIT READY
  t.cp_send(d);
  t.run();
  const Frame c = t.expect_frame();
  fc::FcpRsp r = fc::make_fcp_rsp_code(fc::fcp_rsp_code::kCmndFieldsInvalid);
  std::vector<uint8_t> p(fc::fcp_rsp_size(r));
  ASSERT_TRUE(fc::encode_fcp_rsp(r, p).ok());
  t.push(header(fc::rctl::kDeviceDataCommandStatus, kVi, kDisk, kFctlRsp, c.h.ox_id, 0xFFFF), p);
  t.run();
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 10u);
  EXPECT_EQ(done.scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(done.transport_error, 1);
}

TEST(FpCpIo, PutDataAndQueueIoCompleteAnswerATargetCommand) {
  FpFixture t;
  t.bring_up();
  fc::FcpCmnd c;
  c.lun = fc::make_lun(0);
  c.rddata = true;
  c.fcp_dl = 400;
  (void)fc::encode_cdb(fc::make_inquiry(400), fc::MutableBytes(c.cdb.data(), c.cdb.size()));
  t.host_cmnd(0x600, c);
  t.run();
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  const std::vector<uint8_t> data = pattern(300, 21);
  for (uint32_t off = 0; off < data.size(); off += fpapi::kMaxChunk) {
    fpapi::FpPutData p;
    p.utag = q.io.utag;
    p.offset = off;
    const size_t n = std::min<size_t>(fpapi::kMaxChunk, data.size() - off);
    p.data.assign(std::span<const uint8_t>(data.data() + off, n));
    t.cp_send(p);
  }
  fpapi::FpQueueIOComplete qc;
  qc.utag = q.io.utag;
  qc.residual_flags = fc::fcp_rsp_flags::kResidUnder;
  qc.residual = 100;
  t.cp_send(qc);
  t.run();
  std::vector<uint8_t> got;
  uint16_t rx = 0;
  for (uint32_t off = 0; off < data.size(); off += fpapi::kMaxChunk) {
    const Frame f = t.expect_frame();
    EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataSolicitedData);
    EXPECT_EQ(f.h.d_id.value, kHost);
    EXPECT_EQ(f.h.s_id.value, kTarget);
    EXPECT_EQ(f.h.ox_id, 0x600);
    EXPECT_EQ(f.h.parameter, off);
    EXPECT_TRUE(f.h.f_ctl & fc::fctl::kRelativeOffsetPresent);
    EXPECT_TRUE(f.h.f_ctl & fc::fctl::kExchangeContext);
    if (off == 0) rx = f.h.rx_id;
    EXPECT_EQ(f.h.rx_id, rx);
    got.insert(got.end(), f.payload.begin(), f.payload.end());
  }
  EXPECT_EQ(got, data);
  const Frame rsp = t.expect_frame();
  EXPECT_EQ(rsp.h.rx_id, rx);
  const fc::FcpRsp r = FpFixture::decode_rsp(rsp);
  EXPECT_EQ(r.scsi_status, fc::scsi_status::kGood);
  EXPECT_TRUE(r.resid_under);
  EXPECT_EQ(r.residual, 100u);
  EXPECT_EQ(t.fp.statistics().cp_completed, 1u);
}

TEST(FpCpIo, GetDataSolicitsHostBytesForTheCp) {
  FpFixture t;
  const auto q = queued_io(t, true, 0x700);
  fpapi::FpGetData g;
  g.utag = q.io.utag;
  g.offset = 1024;
  g.length = 1024;
  t.cp_send(g);
  t.run();
  const Frame xr = t.expect_frame();
  EXPECT_EQ(xr.h.r_ctl, fc::rctl::kDeviceDataDataDescriptor);
  EXPECT_EQ(xr.h.d_id.value, kHost);
  EXPECT_EQ(xr.h.s_id.value, kTarget);
  EXPECT_EQ(xr.h.f_ctl, kFctlXferRdy);
  const auto x = fc::decode_fcp_xfer_rdy(xr.payload);
  EXPECT_EQ(x->relative_offset, 1024u);
  EXPECT_EQ(x->burst_length, 1024u);
  const std::vector<uint8_t> data = pattern(1024, 33);
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost, data_fctl(false, true), 0x700,
                xr.h.rx_id, 1024),
         data);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  std::vector<uint8_t> got;
  while (got.size() < data.size()) {
    const auto r = t.cp_expect<fpapi::FpGetDataReply>();
    EXPECT_EQ(r.utag, q.io.utag);
    EXPECT_EQ(r.status, fpapi::ApiStatus::kOk);
    EXPECT_EQ(r.offset, 1024 + got.size());
    if (r.data.length == 0) break;
    got.insert(got.end(), r.data.view().begin(), r.data.view().end());
  }
  EXPECT_EQ(got, data);
  EXPECT_TRUE(t.cp_idle());

  g.utag = 0xFFFF0000;  // no such I/O
  t.cp_send(g);
  t.run();
  EXPECT_EQ(t.cp_expect<fpapi::FpGetDataReply>().status, fpapi::ApiStatus::kNotFound);
}

}  // namespace
}  // namespace splitpath::fp::testing
