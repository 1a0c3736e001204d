// Bring-up and the frames that are not I/O: init's checks, transparent
// switching, FPDiscover, FPQueryStatistics, frames for virtual addresses that
// go to the CP, and FCP frames for no known exchange.
#include <gtest/gtest.h>

#include "fp_firmware/fp_test_fixture.h"

namespace splitpath::fp::testing {
namespace {

TEST(FpBasic, InitChecksTheHalConfigAndMemory) {
  hal::sim::ManualClock clock;
  auto port = hal::sim::SimPort::create(default_port_config(), clock);
  FastPath fp;
  EXPECT_EQ(fp.init(nullptr, default_fp_config()), InitStatus::kIncompatibleHal);
  FastPathConfig bad = default_fp_config();
  bad.upstream_capacity = 0;
  EXPECT_EQ(fp.init(port->hal(), bad), InitStatus::kBadConfig);
  EXPECT_EQ(FastPath::fixed_table_bytes(bad), 0u);
  bad = default_fp_config();
  bad.held_frame_capacity = port->config().buffer_count - 1;  // could lose a frame
  EXPECT_EQ(fp.init(port->hal(), bad), InitStatus::kBadConfig);
  FastPathConfig huge = default_fp_config();
  huge.upstream_capacity = 60000;
  huge.downstream_capacity = 60000;
  EXPECT_GT(FastPath::fixed_table_bytes(huge), port->config().table_memory_bytes);
  EXPECT_EQ(fp.init(port->hal(), huge), InitStatus::kNoMemory);
  EXPECT_FALSE(fp.poll());
  EXPECT_STREQ(init_status_name(InitStatus::kNoMemory), "no_memory");
  EXPECT_EQ(fp.init(port->hal(), FastPathConfig{}), InitStatus::kOk);  // the defaults fit 1 MiB
}

TEST(FpBasic, SwitchesEverythingTransparentlyBeforeDiscovery) {
  FpFixture t;
  const std::vector<uint8_t> payload = pattern(100, 1);
  t.push(header(fc::rctl::kDeviceDataUnsolicitedCmd, kTarget, kHost, kFctlCmnd, 1, 0xFFFF),
         payload);
  t.push(header(fc::rctl::kElsRequest, kDisk, kHost, kFctlCmnd, 2, 0xFFFF, 0, fc::fc_type::kEls),
         payload);
  t.run();
  for (uint16_t ox : {1, 2}) {
    const Frame f = t.expect_frame();
    EXPECT_EQ(f.h.ox_id, ox);
    EXPECT_EQ(f.payload, payload);
  }
  EXPECT_EQ(t.fp.statistics().transparent_frames, 2u);
  EXPECT_EQ(t.fp.statistics().commands, 0u);
  EXPECT_TRUE(t.cp_idle());
}

TEST(FpBasic, DiscoverReportsIdentityAndLimits) {
  FpFixture t;
  fpapi::FpDiscover d;
  d.req_id = 42;
  d.virtual_initiator = kVi;
  t.cp_send(d);
  t.run();
  const auto r = t.cp_expect<fpapi::FpDiscoverReply>();
  EXPECT_EQ(r.req_id, 42u);
  EXPECT_EQ(r.wwpn, t.port->config().wwpn);
  EXPECT_EQ(r.virtual_initiator, kVi);
  EXPECT_EQ(r.max_transfer_bytes, t.port->config().max_transfer_bytes);
  EXPECT_EQ(r.upstream_capacity, default_fp_config().upstream_capacity);
  EXPECT_EQ(r.downstream_capacity, default_fp_config().downstream_capacity);
  EXPECT_EQ(r.exposure_capacity, default_fp_config().exposure_capacity);
  EXPECT_EQ(r.redirect_capacity, default_fp_config().redirect_capacity);
  EXPECT_GT(r.extent_capacity, 1000u);
  EXPECT_EQ(r.table_mem_bytes, t.port->config().table_memory_bytes);
  EXPECT_EQ(t.fp.virtual_initiator(), kVi);
}

TEST(FpBasic, PhysicalAddressesStayTransparentAfterDiscovery) {
  FpFixture t;
  t.bring_up();
  const std::vector<uint8_t> payload = pattern(64, 2);
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kDisk, kHost, data_fctl(false, true), 3, 4),
         payload);
  t.run();
  const Frame f = t.expect_frame();
  EXPECT_EQ(f.h.d_id.value, kDisk);
  EXPECT_EQ(f.h.s_id.value, kHost);
  EXPECT_EQ(f.payload, payload);
  EXPECT_EQ(t.fp.statistics().transparent_frames, 1u);
}

TEST(FpBasic, NonFcpFramesForVirtualAddressesGoToTheCp) {
  FpFixture t;
  t.bring_up();
  // A host's ABTS to the virtual target, a PLOGI to it, a PRLI reply to the
  // virtual initiator.
  t.push(header(fc::rctl::kBlsAbts, kTarget, kHost, kFctlCmnd, 9, 3, 0, fc::fc_type::kBls));
  const std::vector<uint8_t> els = pattern(300, 4);  // longer than a CpFrame carries
  t.push(header(fc::rctl::kElsRequest, kTarget, kHost, kFctlCmnd, 10, 0xFFFF, 0, fc::fc_type::kEls),
         els);
  t.push(header(fc::rctl::kElsReply, kVi, kDisk, kFctlRsp, 11, 5, 0, fc::fc_type::kEls), els);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  const auto abts = t.cp_expect<fpapi::CpFrame>();
  EXPECT_EQ(abts.length, fc::kFrameHeaderSize);
  const auto h = fc::decode_frame_header(abts.frame.view());
  EXPECT_EQ(h->r_ctl, fc::rctl::kBlsAbts);
  EXPECT_EQ(h->ox_id, 9);
  const auto plogi = t.cp_expect<fpapi::CpFrame>();
  EXPECT_EQ(plogi.length, fc::kFrameHeaderSize + els.size());
  EXPECT_EQ(plogi.frame.length, fpapi::kMaxFrameChunk);
  EXPECT_EQ(plogi.frame.data[fc::kFrameHeaderSize], els[0]);
  const auto prli = t.cp_expect<fpapi::CpFrame>();
  EXPECT_EQ(fc::decode_frame_header(prli.frame.view())->d_id.value, kVi);
  EXPECT_EQ(t.fp.statistics().transparent_frames, 0u);
}

TEST(FpBasic, FcpFramesOfUnknownExchangesAreDropped) {
  FpFixture t;
  t.bring_up();
  const std::vector<uint8_t> data = pattern(512, 5);
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost, data_fctl(false, true), 1, 7),
         data);
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kVi, kDisk, data_fctl(true, true), 3, 7), data);
  t.push(header(fc::rctl::kDeviceDataCommandStatus, kVi, kDisk, kFctlRsp, 60000, 7), data);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  EXPECT_TRUE(t.cp_idle());
  EXPECT_EQ(t.fp.statistics().dropped_frames, 3u);
}

TEST(FpBasic, QueryStatisticsThroughTheApi) {
  FpFixture t;
  t.bring_up();
  t.host_rw(1, false, kVsegStart, 1);
  t.host_rw(2, false, kVsegStart, 1, /*lun=*/9);
  t.run();
  (void)t.cp_expect<fpapi::CpQueueIO>();
  fpapi::FpQueryStatistics q;
  q.req_id = 123;
  t.cp_send(q);
  t.run();
  const auto s = t.cp_expect<fpapi::FpStatistics>();
  EXPECT_EQ(s.req_id, 123u);
  EXPECT_EQ(s.commands, 2u);
  EXPECT_EQ(s.upstream_pending, 2u);
  EXPECT_EQ(s.downstream_pending, 1u);
  EXPECT_EQ(s.faults[static_cast<size_t>(fpapi::FaultKind::kLunNotExposed)], 1u);
  // Each command was charged the classification cost.
  EXPECT_EQ(t.port->stats().cycles_charged, 2u * default_fp_config().classify_cycles);
}

TEST(FpBasic, MalformedRequestsAreAnsweredInvalid) {
  FpFixture t;
  t.discover();
  t.cp_send_raw(MsgType::kFpExpose, {0, 0, 0, 17, 1});
  fpapi::FpMapping m = FpFixture::extent_mapping(99, 0, 10);  // no such VSEG
  t.cp_send(m, MsgType::kFpAddMapping);
  t.run();
  const auto bad = t.cp_expect<fpapi::FpReply>();
  EXPECT_EQ(bad.req_id, 17u);
  EXPECT_EQ(bad.status, fpapi::ApiStatus::kInvalid);
  EXPECT_EQ(t.cp_expect<fpapi::FpReply>().status, fpapi::ApiStatus::kNotFound);
}

}  // namespace
}  // namespace splitpath::fp::testing
