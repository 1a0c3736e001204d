// The remap primitive end to end: a host READ/WRITE to a virtual LUN becomes a
// remapped FCP_CMND from the virtual initiator, XFER_RDY/DATA/RSP are relayed
// with rewritten headers and offsets and identical data, GOOD completes on the
// FP, anything else goes to the CP (figure 6). And none of it allocates.
#include <gtest/gtest.h>

#include <set>

#include "fp_firmware/fp_test_fixture.h"
#include "tests/support/alloc_counter.h"

namespace splitpath::fp::testing {
namespace {

TEST(FpRemap, ReadIsRemappedAndRelayed) {
  FpFixture t;
  t.bring_up();
  t.host_rw(0x100, false, kVsegStart + 100, 8);
  t.run();

  const Frame cmnd = t.expect_frame();
  EXPECT_EQ(cmnd.h.r_ctl, fc::rctl::kDeviceDataUnsolicitedCmd);
  EXPECT_EQ(cmnd.h.d_id.value, kDisk);
  EXPECT_EQ(cmnd.h.s_id.value, kVi);
  EXPECT_EQ(cmnd.h.f_ctl, kFctlCmnd);
  EXPECT_EQ(cmnd.h.rx_id, fc::kUnassignedXid);
  const fc::FcpCmnd c = FpFixture::decode_cmnd(cmnd);
  EXPECT_EQ(*fc::decode_lun(c.lun), kDiskLun);
  EXPECT_TRUE(c.rddata);
  EXPECT_FALSE(c.wrdata);
  EXPECT_EQ(c.fcp_dl, 8 * kBlock);
  const fc::ScsiCommand s = FpFixture::decode_scsi(cmnd);
  EXPECT_EQ(s.opcode, fc::scsi_op::kRead16);
  EXPECT_EQ(s.lba, kDiskStart + 100);
  EXPECT_EQ(s.transfer_length, 8u);
  EXPECT_TRUE(t.tx_idle());

  // The disk answers on its exchange (RX_ID 0x55) with two data frames.
  const std::vector<uint8_t> data = pattern(8 * kBlock, 3);
  for (uint32_t off = 0; off < data.size(); off += 2048) {
    t.push(header(fc::rctl::kDeviceDataSolicitedData, kVi, kDisk,
                  data_fctl(true, off + 2048 == data.size()), cmnd.h.ox_id, 0x55, off),
           std::span<const uint8_t>(data.data() + off, 2048));
  }
  t.run();
  uint16_t host_rx = 0;
  for (uint32_t off = 0; off < data.size(); off += 2048) {
    const Frame f = t.expect_frame();
    EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataSolicitedData);
    EXPECT_EQ(f.h.d_id.value, kHost);
    EXPECT_EQ(f.h.s_id.value, kTarget);
    EXPECT_EQ(f.h.ox_id, 0x100);
    EXPECT_EQ(f.h.f_ctl, data_fctl(true, off + 2048 == data.size()));
    EXPECT_EQ(f.h.parameter, off);
    if (off == 0) host_rx = f.h.rx_id;
    EXPECT_EQ(f.h.rx_id, host_rx);
    EXPECT_NE(f.h.rx_id, fc::kUnassignedXid);
    EXPECT_EQ(f.payload, std::vector<uint8_t>(data.begin() + off, data.begin() + off + 2048));
  }

  t.disk_rsp(cmnd, 0x55, fc::scsi_status::kGood);
  t.run();
  const Frame rsp = t.expect_frame();
  EXPECT_EQ(rsp.h.d_id.value, kHost);
  EXPECT_EQ(rsp.h.s_id.value, kTarget);
  EXPECT_EQ(rsp.h.ox_id, 0x100);
  EXPECT_EQ(rsp.h.rx_id, host_rx);
  EXPECT_EQ(rsp.h.f_ctl, kFctlRsp);
  EXPECT_EQ(FpFixture::decode_rsp(rsp).scsi_status, fc::scsi_status::kGood);
  EXPECT_TRUE(t.cp_idle());

  const fpapi::FpStatistics st = t.fp.statistics();
  EXPECT_EQ(st.commands, 1u);
  EXPECT_EQ(st.fp_completed, 1u);
  EXPECT_EQ(st.read_bytes, data.size());
  EXPECT_EQ(st.upstream_pending, 0u);
  EXPECT_EQ(st.downstream_pending, 0u);
}

TEST(FpRemap, WriteIsRemappedAndRelayedInTwoBursts) {
  FpFixture t;
  t.bring_up();
  t.host_rw(0x200, true, kVsegStart + 5, 8);
  t.run();
  const Frame cmnd = t.expect_frame();
  const fc::FcpCmnd c = FpFixture::decode_cmnd(cmnd);
  EXPECT_TRUE(c.wrdata);
  EXPECT_EQ(c.fcp_dl, 8 * kBlock);
  const fc::ScsiCommand s = FpFixture::decode_scsi(cmnd);
  EXPECT_EQ(s.opcode, fc::scsi_op::kWrite16);
  EXPECT_EQ(s.lba, kDiskStart + 5);

  const std::vector<uint8_t> data = pattern(8 * kBlock, 9);
  uint16_t host_rx = 0;
  for (uint32_t burst = 0; burst < 2; ++burst) {
    const uint32_t off = burst * 2048;
    uint8_t x[fc::kFcpXferRdySize];
    ASSERT_TRUE(fc::encode_fcp_xfer_rdy({off, 2048}, x).ok());
    t.push(
        header(fc::rctl::kDeviceDataDataDescriptor, kVi, kDisk, kFctlXferRdy, cmnd.h.ox_id, 0x66),
        x);
    t.run();
    const Frame xr = t.expect_frame();
    EXPECT_EQ(xr.h.r_ctl, fc::rctl::kDeviceDataDataDescriptor);
    EXPECT_EQ(xr.h.d_id.value, kHost);
    EXPECT_EQ(xr.h.s_id.value, kTarget);
    EXPECT_EQ(xr.h.ox_id, 0x200);
    EXPECT_EQ(xr.h.f_ctl, kFctlXferRdy);
    if (burst == 0) host_rx = xr.h.rx_id;
    EXPECT_EQ(xr.h.rx_id, host_rx);
    const auto xd = fc::decode_fcp_xfer_rdy(xr.payload);
    ASSERT_TRUE(xd.ok());
    EXPECT_EQ(xd->relative_offset, off);
    EXPECT_EQ(xd->burst_length, 2048u);

    // The host sends the burst on its exchange, echoing the FP's RX_ID.
    t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost, data_fctl(false, true), 0x200,
                  host_rx, off),
           std::span<const uint8_t>(data.data() + off, 2048));
    t.run();
    const Frame d = t.expect_frame();
    EXPECT_EQ(d.h.d_id.value, kDisk);
    EXPECT_EQ(d.h.s_id.value, kVi);
    EXPECT_EQ(d.h.ox_id, cmnd.h.ox_id);
    EXPECT_EQ(d.h.rx_id, 0x66);
    EXPECT_EQ(d.h.parameter, off);
    EXPECT_EQ(d.h.f_ctl, data_fctl(false, true));
    EXPECT_EQ(d.payload, std::vector<uint8_t>(data.begin() + off, data.begin() + off + 2048));
  }
  t.disk_rsp(cmnd, 0x66, fc::scsi_status::kGood);
  t.run();
  const Frame rsp = t.expect_frame();
  EXPECT_EQ(rsp.h.d_id.value, kHost);
  EXPECT_EQ(rsp.h.rx_id, host_rx);
  EXPECT_EQ(FpFixture::decode_rsp(rsp).scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(t.fp.statistics().write_bytes, data.size());
  EXPECT_EQ(t.fp.statistics().fp_completed, 1u);
  EXPECT_TRUE(t.cp_idle());
}

TEST(FpRemap, DownstreamErrorGoesToTheCpWhichAnswersTheHost) {
  FpFixture t;
  t.bring_up();
  t.host_rw(0x300, false, kVsegStart, 4);
  t.run();
  const Frame cmnd = t.expect_frame();
  const std::vector<uint8_t> sense = {0x70, 0, 0x03, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x11, 0};
  t.disk_rsp(cmnd, 0x77, fc::scsi_status::kCheckCondition, 4 * kBlock, sense);
  t.run();
  EXPECT_TRUE(t.tx_idle());  // the CP alone answers the host
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  EXPECT_EQ(q.reason, fpapi::FaultKind::kDownstreamError);
  EXPECT_EQ(q.downstream_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(q.downstream_residual, 4 * kBlock);
  EXPECT_EQ(std::vector<uint8_t>(q.sense.view().begin(), q.sense.view().end()), sense);
  EXPECT_EQ(q.io.initiator, kHost);
  EXPECT_EQ(q.io.ox_id, 0x300);
  EXPECT_EQ(q.io.lv_id, kLv);
  EXPECT_EQ(t.fp.statistics().faults[static_cast<size_t>(fpapi::FaultKind::kDownstreamError)], 1u);

  fpapi::FpQueueIOComplete done;
  done.utag = q.io.utag;
  done.scsi_status = fc::scsi_status::kCheckCondition;
  done.sense.assign(sense);
  t.cp_send(done);
  t.run();
  const Frame rsp = t.expect_frame();
  EXPECT_EQ(rsp.h.d_id.value, kHost);
  EXPECT_EQ(rsp.h.s_id.value, kTarget);
  EXPECT_EQ(rsp.h.ox_id, 0x300);
  const fc::FcpRsp r = FpFixture::decode_rsp(rsp);
  EXPECT_EQ(r.scsi_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(std::vector<uint8_t>(r.sense_bytes().begin(), r.sense_bytes().end()), sense);
  EXPECT_EQ(t.fp.statistics().cp_completed, 1u);
  EXPECT_EQ(t.fp.statistics().upstream_pending, 0u);
}

// Polls once, counting the heap allocations made inside the firmware.
uint64_t counted_poll(FpFixture& t) {
  uint64_t n = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t before = splitpath::testing::allocation_count();
    const bool more = t.fp.poll();
    n += splitpath::testing::allocation_count() - before;
    if (!more) break;
  }
  return n;
}

TEST(FpRemap, IoPathAllocatesNothingAfterInit) {
  FpFixture t;
  t.bring_up();
  uint64_t allocations = 0;
  const std::vector<uint8_t> data = pattern(2048, 1);
  for (uint16_t i = 0; i < 20; ++i) {
    const bool write = i % 2 == 1;
    t.host_rw(static_cast<uint16_t>(0x400 + i), write, kVsegStart + i * 4, 4);
    allocations += counted_poll(t);
    const Frame cmnd = t.expect_frame();
    if (write) {
      uint8_t x[fc::kFcpXferRdySize];
      ASSERT_TRUE(fc::encode_fcp_xfer_rdy({0, 2048}, x).ok());
      t.push(
          header(fc::rctl::kDeviceDataDataDescriptor, kVi, kDisk, kFctlXferRdy, cmnd.h.ox_id, 0x10),
          x);
      allocations += counted_poll(t);
      const Frame xr = t.expect_frame();
      t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost, data_fctl(false, true),
                    xr.h.ox_id, xr.h.rx_id, 0),
             data);
    } else {
      t.push(header(fc::rctl::kDeviceDataSolicitedData, kVi, kDisk, data_fctl(true, true),
                    cmnd.h.ox_id, 0x10, 0),
             data);
    }
    allocations += counted_poll(t);
    (void)t.expect_frame();
    t.disk_rsp(cmnd, 0x10, fc::scsi_status::kGood);
    allocations += counted_poll(t);
    EXPECT_EQ(FpFixture::decode_rsp(t.expect_frame()).scsi_status, fc::scsi_status::kGood);
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(t.fp.statistics().fp_completed, 20u);
}

}  // namespace
}  // namespace splitpath::fp::testing

namespace splitpath::fp::testing {
namespace {

// An ended exchange's IDs do not come back at once: each new exchange gets an
// OX_ID (downstream) and an RX_ID (upstream) not used by the previous ones, so
// a stray frame of an old exchange, or an analyzer reassembling sequences,
// never takes it for the new one. (Reusing the just-freed entry's ID made
// tshark report every reused data sequence as a retransmission.)
TEST(FpRemap, ExchangeIdsAreNotReusedAtOnce) {
  FpFixture t;
  t.bring_up();
  std::set<uint16_t> ox_ids;
  std::set<uint16_t> rx_ids;
  for (uint16_t i = 0; i < 8; ++i) {
    t.host_rw(static_cast<uint16_t>(0x200 + i), false, kVsegStart + 100, 1);
    t.run();
    const Frame cmnd = t.expect_frame();
    EXPECT_TRUE(ox_ids.insert(cmnd.h.ox_id).second) << "OX_ID reused: " << cmnd.h.ox_id;
    t.disk_rsp(cmnd, 0x55, fc::scsi_status::kGood);
    t.run();
    const Frame rsp = t.expect_frame();
    EXPECT_TRUE(rx_ids.insert(rsp.h.rx_id).second) << "RX_ID reused: " << rsp.h.rx_id;
    EXPECT_EQ(t.fp.statistics().upstream_pending, 0u);
  }
}

}  // namespace
}  // namespace splitpath::fp::testing
