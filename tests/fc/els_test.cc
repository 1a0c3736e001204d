#include "splitpath/fc/els.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_util.h"

namespace splitpath::fc {
namespace {

using test::Bytes;
using test::bytes;
using test::expect_error;
using test::expect_prefixes_fail;
using test::expect_round_trip;

// A host's FLOGI, with the values of the FLOGI in fikonfarm-fcoe1-merged.pcap.
ServiceParameters host_flogi() {
  ServiceParameters s;
  s.command = els_cmd::kFlogi;
  s.common.bb_credit = 10;
  s.common.features = csp_features::kContinuouslyIncreasingRelOff;
  s.common.bb_rx_data_field_size = 2112;
  s.common.word2 = 0;
  s.common.e_d_tov = 0;
  s.port_name = Wwn{0x2000001b21847463};
  s.node_name = Wwn{0x1000001b21847463};
  s.class3 = {true, true, 0, 0, 0};
  return s;
}

TEST(ServiceParameters, FlogiKnownBytes) {
  Bytes out = expect_round_trip(host_flogi(), encode_service_parameters, decode_service_parameters);
  ASSERT_EQ(out.size(), 116u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 36),
            bytes({0x04, 0x00, 0x00, 0x00,                          // FLOGI
                   0x20, 0x20, 0x00, 0x0a,                          // versions, BB_Credit
                   0x80, 0x00, 0x08, 0x40,                          // features, rx size 2112
                   0x00, 0x00, 0x00, 0x00,                          // word 2
                   0x00, 0x00, 0x00, 0x00,                          // E_D_TOV
                   0x20, 0x00, 0x00, 0x1b, 0x21, 0x84, 0x74, 0x63,  // port name
                   0x10, 0x00, 0x00, 0x1b, 0x21, 0x84, 0x74, 0x63}));
  EXPECT_EQ(out[68], 0x88);  // class 3 valid, sequential delivery
  for (size_t i = 36; i < 116; ++i) {
    if (i != 68) {
      EXPECT_EQ(out[i], 0) << i;
    }
  }
  expect_prefixes_fail(out, decode_service_parameters);
}

TEST(ServiceParameters, FabricAcceptAndPlogi) {
  // The FLOGI ACC of the Cisco forwarder in fikonfarm-fcoe1-merged.pcap.
  ServiceParameters acc;
  acc.command = els_cmd::kAcc;
  acc.common.fc_ph_version_low = 0x06;
  acc.common.bb_credit = 0;
  acc.common.features = 0x3300;
  acc.common.bb_rx_data_field_size = 2112;
  acc.common.set_r_a_tov(10000);
  acc.common.e_d_tov = 2000;
  acc.port_name = Wwn{0x200e000533d727c2};
  acc.node_name = Wwn{0x1000000533d727c2};
  acc.class3 = {true, true, 0, 0, 0};
  Bytes out = expect_round_trip(acc, encode_service_parameters, decode_service_parameters);
  EXPECT_EQ(Bytes(out.begin() + 4, out.begin() + 20),
            bytes({0x20, 0x06, 0x00, 0x00, 0x33, 0x00, 0x08, 0x40, 0x00, 0x00, 0x27, 0x10, 0x00,
                   0x00, 0x07, 0xd0}));
  auto d = decode_service_parameters(out);
  EXPECT_TRUE(d->common.f_port());
  EXPECT_EQ(d->common.r_a_tov(), 10000u);

  ServiceParameters plogi;
  plogi.common.set_plogi_sequences(255, 31);
  plogi.common.bb_sc_number = 3;
  plogi.port_name = Wwn{1};
  plogi.node_name = Wwn{2};
  out = expect_round_trip(plogi, encode_service_parameters, decode_service_parameters);
  EXPECT_EQ(out[10], 0x38);
  EXPECT_EQ(Bytes(out.begin() + 12, out.begin() + 16), bytes({0x00, 0xff, 0x00, 0x1f}));
  EXPECT_EQ(decode_service_parameters(out)->common.total_concurrent_sequences(), 255);
  EXPECT_EQ(decode_service_parameters(out)->common.relative_offset_by_category(), 31);
  EXPECT_EQ(Bytes(out.begin() + 68, out.begin() + 84),
            bytes({0x80, 0, 0, 0, 0, 0, 0x08, 0x00, 0x00, 0xff, 0, 0, 0x00, 0x01, 0, 0}));
  plogi.command = els_cmd::kFdisc;
  expect_round_trip(plogi, encode_service_parameters, decode_service_parameters);
}

TEST(ServiceParameters, Malformed) {
  std::array<uint8_t, 116> buf{};
  ASSERT_TRUE(encode_service_parameters(host_flogi(), buf).ok());
  Bytes b(buf.begin(), buf.end());
  b[0] = els_cmd::kLogo;
  expect_error(decode_service_parameters(b), WireErrc::kUnsupported, "els_command", 0);
  b[0] = els_cmd::kFlogi;
  b[10] = 0x00;
  b[11] = 0xFF;  // 255-byte data field
  expect_error(decode_service_parameters(b), WireErrc::kBadValue, "bb_rx_data_field_size", 10);
  b[10] = 0x08;
  b[11] = 0x41;  // 2113
  expect_error(decode_service_parameters(b), WireErrc::kBadValue, "bb_rx_data_field_size", 10);
  ServiceParameters s = host_flogi();
  s.common.bb_sc_number = 16;
  expect_error(encode_service_parameters(s, buf), WireErrc::kBadValue, "bb_rx_data_field_size", 10);
  b.resize(256);  // longer payloads are accepted
  b[11] = 0x40;
  EXPECT_TRUE(decode_service_parameters(b).ok());
}

TEST(Els, CommandCode) {
  EXPECT_EQ(*els_command_code(bytes({0x20, 0x10, 0x00, 0x14})), els_cmd::kPrli);
  expect_prefixes_fail(bytes({0x20, 0x10, 0x00, 0x14}), els_command_code);
  std::array<uint8_t, 4> acc{};
  EXPECT_EQ(*encode_els_acc(acc), 4u);
  EXPECT_EQ(acc, (std::array<uint8_t, 4>{0x02, 0, 0, 0}));
}

TEST(Logo, KnownBytes) {
  Logo l{FcId{0x020f00}, Wwn{0x21000024ff3d39a0}};
  Bytes out = expect_round_trip(l, encode_logo, decode_logo);
  EXPECT_EQ(out, bytes({0x05, 0, 0, 0, 0x00, 0x02, 0x0f, 0x00, 0x21, 0x00, 0x00, 0x24, 0xff, 0x3d,
                        0x39, 0xa0}));
  expect_prefixes_fail(out, decode_logo);
  out[0] = 0x03;
  expect_error(decode_logo(out), WireErrc::kBadValue, "els_command", 0);
}

TEST(Prli, CapturedRequestAndAccept) {
  // PRLI of bluecmd-fc2-real-frames.pcap: initiator, read XFER_RDY disabled, ...
  const Bytes req = bytes({0x20, 0x10, 0x00, 0x14, 0x08, 0x00, 0x20, 0x00, 0,    0,
                           0,    0,    0,    0,    0,    0,    0x00, 0x00, 0x07, 0xa2});
  auto r = decode_prli(req);
  ASSERT_TRUE(r.ok()) << test::describe(r.error());
  EXPECT_EQ(r->command, els_cmd::kPrli);
  EXPECT_TRUE(r->establish_image_pair);
  EXPECT_EQ(r->response_code, 0);
  EXPECT_TRUE(r->initiator());
  EXPECT_FALSE(r->target());
  EXPECT_TRUE(r->service_parameters & prli_fcp::kReadXferRdyDisabled);
  EXPECT_TRUE(r->service_parameters & prli_fcp::kRetry);
  EXPECT_EQ(expect_round_trip(*r, encode_prli, decode_prli), req);
  expect_prefixes_fail(req, decode_prli);
  // Its ACC in fikonfarm-fcoe1-merged.pcap: image pair established, request executed,
  // initiator and target function.
  Prli acc{
      els_cmd::kAcc, true, prli_response::kRequestExecuted,
      prli_fcp::kInitiatorFunction | prli_fcp::kTargetFunction | prli_fcp::kReadXferRdyDisabled};
  EXPECT_EQ(expect_round_trip(acc, encode_prli, decode_prli),
            bytes({0x02, 0x10, 0x00, 0x14, 0x08, 0x00, 0x21, 0x00, 0,    0,
                   0,    0,    0,    0,    0,    0,    0x00, 0x00, 0x00, 0x32}));
  Prli prlo{els_cmd::kPrlo, false, 0, 0};
  expect_round_trip(prlo, encode_prli, decode_prli);
}

TEST(Prli, Malformed) {
  const Bytes req = bytes({0x20, 0x10, 0x00, 0x14, 0x08, 0x00, 0x20, 0x00, 0,    0,
                           0,    0,    0,    0,    0,    0,    0x00, 0x00, 0x07, 0xa2});
  Bytes b = req;
  b[1] = 0x14;
  expect_error(decode_prli(b), WireErrc::kBadLength, "page_length", 1);
  b = req;
  b[3] = 0x18;  // payload length 24: not 4 + 16n
  expect_error(decode_prli(b), WireErrc::kBadLength, "payload_length", 2);
  b[3] = 0x24;  // 36: two pages, but only one in the buffer
  expect_error(decode_prli(b), WireErrc::kBadLength, "payload_length", 2);
  b = req;
  b[3] = 0x04;  // no page at all
  expect_error(decode_prli(b), WireErrc::kBadLength, "payload_length", 2);
  b = req;
  b[4] = 0x05;  // not an FCP page
  expect_error(decode_prli(b), WireErrc::kUnsupported, "type", 4);
  b = req;
  b[0] = 0x03;
  expect_error(decode_prli(b), WireErrc::kUnsupported, "els_command", 0);
  // Two pages, FCP second: the FCP page is used.
  b = req;
  b[3] = 0x24;
  b[4] = 0x05;
  b.insert(b.end(), req.begin() + 4, req.end());
  auto r = decode_prli(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->service_parameters, 0x7a2u);
}

TEST(LsRjt, KnownBytes) {
  LsRjt r{ls_rjt_reason::kLogicalError, ls_rjt_explanation::kNPortLoginRequired, 0};
  Bytes out = expect_round_trip(r, encode_ls_rjt, decode_ls_rjt);
  EXPECT_EQ(out, bytes({0x01, 0, 0, 0, 0, 0x03, 0x1e, 0}));
  expect_prefixes_fail(out, decode_ls_rjt);
  out[0] = 0x02;
  expect_error(decode_ls_rjt(out), WireErrc::kBadValue, "els_command", 0);
  EXPECT_EQ(ls_rjt_reason::kCommandNotSupported, 0x0B);
  EXPECT_EQ(ls_rjt_reason::kUnableToPerform, 0x09);
}

TEST(Scr, KnownBytes) {
  std::array<uint8_t, 8> buf{};
  ASSERT_EQ(*encode_scr(scr_function::kFull, buf), 8u);
  Bytes out(buf.begin(), buf.end());
  EXPECT_EQ(out, bytes({0x62, 0, 0, 0, 0, 0, 0, 0x03}));
  EXPECT_EQ(*decode_scr(out), scr_function::kFull);
  expect_prefixes_fail(out, decode_scr);
  out[0] = 0x61;
  expect_error(decode_scr(out), WireErrc::kBadValue, "els_command", 0);
}

TEST(Rscn, EncodeAndView) {
  const std::vector<RscnPage> pages = {{0, rscn_format::kPort, FcId{0x010203}},
                                       {1, rscn_format::kDomain, FcId{0x040000}}};
  std::array<uint8_t, 16> buf{};
  ASSERT_EQ(*encode_rscn(pages, buf), 12u);
  Bytes out(buf.begin(), buf.begin() + 12);
  EXPECT_EQ(out, bytes({0x61, 0x04, 0x00, 0x0c, 0x00, 0x01, 0x02, 0x03, 0x06, 0x04, 0x00, 0x00}));
  auto v = decode_rscn(out);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->count, 2u);
  EXPECT_EQ(v->page(0), pages[0]);
  EXPECT_EQ(v->page(1), pages[1]);
  expect_prefixes_fail(out, decode_rscn);
  expect_error(encode_rscn({}, buf), WireErrc::kBadValue, "pages", 2);
  expect_error(encode_rscn(pages, MutableBytes(buf.data(), 11)), WireErrc::kBufferTooSmall, "rscn",
               0);
  out[1] = 8;
  expect_error(decode_rscn(out), WireErrc::kBadLength, "page_length", 1);
}

}  // namespace
}  // namespace splitpath::fc
