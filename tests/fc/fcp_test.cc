#include "splitpath/fc/fcp.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace splitpath::fc {
namespace {

using test::Bytes;
using test::bytes;
using test::expect_error;
using test::expect_prefixes_fail;
using test::expect_round_trip;

// FCP_CMND of frame 3 of bluecmd-fc2-real-frames.pcap: LUN 0, simple, RDDATA,
// READ(10) LBA 0xFFFF80, 8 blocks, FCP_DL 4096.
const Bytes kRead10Cmnd = bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // FCP_LUN
                                 0x00, 0x00, 0x00, 0x02,  // CRN, attr, TMF, RDDATA
                                 0x28, 0x00, 0x00, 0xff, 0xff, 0x80, 0x00, 0x00,
                                 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // CDB
                                 0x00, 0x00, 0x10, 0x00});                        // FCP_DL

TEST(FcpCmnd, DecodesCapturedRead10) {
  auto r = decode_fcp_cmnd(kRead10Cmnd);
  ASSERT_TRUE(r.ok()) << test::describe(r.error());
  EXPECT_EQ(r->lun, make_peripheral_lun(0));
  EXPECT_EQ(r->crn, 0);
  EXPECT_EQ(r->task_attribute, TaskAttribute::kSimple);
  EXPECT_EQ(r->task_management_flags, 0);
  EXPECT_TRUE(r->rddata);
  EXPECT_FALSE(r->wrdata);
  EXPECT_EQ(r->cdb_length, 16);
  EXPECT_EQ(r->cdb[0], 0x28);
  EXPECT_EQ(r->cdb[5], 0x80);
  EXPECT_EQ(r->fcp_dl, 4096u);
  EXPECT_EQ(r->cdb_bytes().size(), 16u);
}

TEST(FcpCmnd, EncodesExpectedBytes) {
  FcpCmnd c;
  c.lun = make_peripheral_lun(0);
  c.rddata = true;
  const uint8_t cdb[] = {0x28, 0x00, 0x00, 0xff, 0xff, 0x80, 0x00, 0x00, 0x08, 0x00};
  ASSERT_TRUE(set_fcp_cdb(c, cdb));
  c.fcp_dl = 4096;
  Bytes out = expect_round_trip(c, encode_fcp_cmnd, decode_fcp_cmnd);
  EXPECT_EQ(out, kRead10Cmnd);
}

TEST(FcpCmnd, RoundTripsAllFields) {
  FcpCmnd c;
  c.lun = make_flat_lun(1000);
  c.crn = 7;
  c.task_priority = 9;
  c.task_attribute = TaskAttribute::kOrdered;
  c.wrdata = true;
  Bytes cdb32(32);
  for (size_t i = 0; i < cdb32.size(); ++i)
    cdb32[i] = uint8_t(i + 1);
  ASSERT_TRUE(set_fcp_cdb(c, cdb32));
  EXPECT_EQ(c.cdb_length, 32);
  c.fcp_dl = 0xDEADBEEF;
  Bytes out = expect_round_trip(c, encode_fcp_cmnd, decode_fcp_cmnd);
  EXPECT_EQ(out.size(), 48u);
  EXPECT_EQ(out[11], (4 << 2) | 0x01);  // 4 additional words, WRDATA
  EXPECT_EQ(out[9], (9 << 3) | 2);
  for (auto a : {TaskAttribute::kSimple, TaskAttribute::kHeadOfQueue, TaskAttribute::kAca,
                 TaskAttribute::kUntagged}) {
    c.task_attribute = a;
    expect_round_trip(c, encode_fcp_cmnd, decode_fcp_cmnd);
  }
  c.task_management_flags = fcp_tmf::kLogicalUnitReset;
  expect_round_trip(c, encode_fcp_cmnd, decode_fcp_cmnd);
}

TEST(FcpCmnd, SetCdbPadsToWords) {
  FcpCmnd c;
  const uint8_t six[6] = {0, 0, 0, 0, 0, 0};
  ASSERT_TRUE(set_fcp_cdb(c, six));
  EXPECT_EQ(c.cdb_length, 16);
  Bytes b17(17, 1);
  ASSERT_TRUE(set_fcp_cdb(c, b17));
  EXPECT_EQ(c.cdb_length, 20);
  EXPECT_EQ(c.cdb[17], 0);
  Bytes b33(33, 1);
  EXPECT_FALSE(set_fcp_cdb(c, b33));
  EXPECT_EQ(c.cdb_length, 20);
}

TEST(FcpCmnd, Malformed) {
  expect_prefixes_fail(kRead10Cmnd, decode_fcp_cmnd);
  Bytes b = kRead10Cmnd;
  b[11] = 0x03;  // RDDATA + WRDATA
  expect_error(decode_fcp_cmnd(b), WireErrc::kBadValue, "rddata_wrdata", 11);
  b = kRead10Cmnd;
  b[11] = 0x06;  // one additional word, but the payload has none
  expect_error(decode_fcp_cmnd(b), WireErrc::kBadLength, "additional_cdb_length", 11);
  b = kRead10Cmnd;
  b[11] = 5 << 2;  // 20 additional bytes: more than kMaxCdbSize
  b.resize(32 + 20);
  expect_error(decode_fcp_cmnd(b), WireErrc::kUnsupported, "additional_cdb_length", 11);
  b = kRead10Cmnd;
  b.push_back(0);  // trailing byte
  expect_error(decode_fcp_cmnd(b), WireErrc::kBadLength, "additional_cdb_length", 11);
  for (uint8_t attr : {3, 6, 7}) {
    b = kRead10Cmnd;
    b[9] = attr;
    expect_error(decode_fcp_cmnd(b), WireErrc::kBadValue, "task_attribute", 9);
  }
  for (uint8_t tmf : {0x01, 0x08, 0x80}) {
    b = kRead10Cmnd;
    b[10] = tmf;
    expect_error(decode_fcp_cmnd(b), WireErrc::kBadValue, "task_management_flags", 10);
  }
}

TEST(FcpCmnd, EncoderRejectsBadStructs) {
  std::array<uint8_t, 64> buf{};
  FcpCmnd c;
  c.rddata = c.wrdata = true;
  expect_error(encode_fcp_cmnd(c, buf), WireErrc::kBadValue, "rddata_wrdata", 11);
  c = FcpCmnd{};
  c.cdb_length = 18;
  expect_error(encode_fcp_cmnd(c, buf), WireErrc::kBadValue, "cdb_length", 11);
  c.cdb_length = 36;
  expect_error(encode_fcp_cmnd(c, buf), WireErrc::kBadValue, "cdb_length", 11);
  c = FcpCmnd{};
  c.task_priority = 16;
  expect_error(encode_fcp_cmnd(c, buf), WireErrc::kBadValue, "task_priority", 9);
}

TEST(FcpXferRdy, KnownBytesAndErrors) {
  FcpXferRdy x{0x10000, 0x8000};
  Bytes out = expect_round_trip(x, encode_fcp_xfer_rdy, decode_fcp_xfer_rdy);
  EXPECT_EQ(out, bytes({0, 1, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0}));
  expect_prefixes_fail(out, decode_fcp_xfer_rdy);
  out[6] = 0;
  expect_error(decode_fcp_xfer_rdy(out), WireErrc::kBadValue, "burst_length", 4);
  std::array<uint8_t, 12> buf{};
  expect_error(encode_fcp_xfer_rdy(FcpXferRdy{0, 0}, buf), WireErrc::kBadValue, "burst_length", 4);
}

TEST(FcpData, RelativeOffset) {
  FrameHeader h;
  h.parameter = 0x800;
  EXPECT_EQ(fcp_data_relative_offset(h), 0u);
  h.f_ctl = fctl::kRelativeOffsetPresent;
  EXPECT_EQ(fcp_data_relative_offset(h), 0x800u);
}

// FCP_RSP from fikonfarm-fcoe1-merged.pcap frame 55: CHECK CONDITION, RESID_UNDER
// 3064, 40 bytes of sense: UNIT ATTENTION, POWER ON/RESET 29/00.
Bytes captured_check_condition() {
  Bytes b = bytes({0,    0,    0,    0,    0,    0,    0,    0,  // reserved
                   0x00, 0x00, 0x0a, 0x02,                       // qualifier, flags, status
                   0x00, 0x00, 0x0b, 0xf8,                       // FCP_RESID
                   0x00, 0x00, 0x00, 0x28,                       // FCP_SNS_LEN
                   0x00, 0x00, 0x00, 0x00,                       // FCP_RSP_LEN
                   0xf0, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x10,
                   0x00, 0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00});
  b.resize(24 + 40, 0);
  return b;
}

TEST(FcpRsp, DecodesCapturedCheckCondition) {
  Bytes b = captured_check_condition();
  auto r = decode_fcp_rsp(b);
  ASSERT_TRUE(r.ok()) << test::describe(r.error());
  EXPECT_EQ(r->scsi_status, 0x02);
  EXPECT_TRUE(r->resid_under);
  EXPECT_FALSE(r->resid_over);
  EXPECT_EQ(r->residual, 3064u);
  EXPECT_EQ(r->sense_length, 40);
  EXPECT_EQ(r->rsp_info_length, 0);
  EXPECT_EQ(r->sense[2], 0x06);
  EXPECT_EQ(r->sense[12], 0x29);
  // Re-encoding reproduces the captured bytes.
  std::array<uint8_t, kFcpRspMaxSize> buf{};
  auto n = encode_fcp_rsp(*r, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + *n), b);
  expect_prefixes_fail(b, decode_fcp_rsp);
}

TEST(FcpRsp, RoundTrips) {
  FcpRsp good;
  Bytes out = expect_round_trip(good, encode_fcp_rsp, decode_fcp_rsp);
  EXPECT_EQ(out, Bytes(24, 0));
  FcpRsp tmf = make_fcp_rsp_code(fcp_rsp_code::kTmfNotSupported);
  out = expect_round_trip(tmf, encode_fcp_rsp, decode_fcp_rsp);
  EXPECT_EQ(out.size(), 28u);
  EXPECT_EQ(out[10], fcp_rsp_flags::kRspLenValid);
  EXPECT_EQ(out[27], 0x04);
  FcpRsp full;
  full.status_qualifier = 0x1234;
  full.conf_req = true;
  full.resid_over = true;
  full.scsi_status = 0x02;
  full.residual = 512;
  full.rsp_info_length = 8;
  full.rsp_info[3] = fcp_rsp_code::kCmndFieldsInvalid;
  Bytes sense(96);
  for (size_t i = 0; i < sense.size(); ++i)
    sense[i] = uint8_t(0x70 + i);
  ASSERT_TRUE(set_fcp_sense(full, sense));
  out = expect_round_trip(full, encode_fcp_rsp, decode_fcp_rsp);
  EXPECT_EQ(out.size(), 24u + 8 + 96);
  EXPECT_EQ(out[10], 0x10 | 0x04 | 0x02 | 0x01);
  expect_prefixes_fail(out, decode_fcp_rsp);
  EXPECT_FALSE(set_fcp_sense(full, Bytes(97)));
}

TEST(FcpRsp, Malformed) {
  Bytes b(24, 0);
  b[10] = fcp_rsp_flags::kResidOver | fcp_rsp_flags::kResidUnder;
  expect_error(decode_fcp_rsp(b), WireErrc::kBadValue, "fcp_rsp_flags", 10);
  b[10] = 0x80;  // FCP_BIDI_RSP
  expect_error(decode_fcp_rsp(b), WireErrc::kUnsupported, "fcp_rsp_flags", 10);
  b[10] = fcp_rsp_flags::kRspLenValid;
  b[23] = 6;
  b.resize(30);
  expect_error(decode_fcp_rsp(b), WireErrc::kBadValue, "fcp_rsp_len", 20);
  b[23] = 8;
  expect_error(decode_fcp_rsp(b), WireErrc::kBadLength, "fcp_rsp_len", 20);
  b = Bytes(24 + 100, 0);
  b[10] = fcp_rsp_flags::kSnsLenValid;
  b[19] = 97;
  expect_error(decode_fcp_rsp(b), WireErrc::kUnsupported, "fcp_sns_len", 16);
  b[19] = 18;
  b.resize(24 + 17);
  expect_error(decode_fcp_rsp(b), WireErrc::kBadLength, "fcp_sns_len", 16);
  b.resize(24 + 20);  // fill bytes after the sense data are ignored
  EXPECT_TRUE(decode_fcp_rsp(b).ok());
  // Lengths are ignored when their valid bit is clear.
  b = Bytes(24, 0);
  b[19] = 200;
  b[23] = 3;
  EXPECT_TRUE(decode_fcp_rsp(b).ok());
}

TEST(FcpRsp, EncoderRejectsBadStructs) {
  std::array<uint8_t, kFcpRspMaxSize> buf{};
  FcpRsp r;
  r.rsp_info_length = 5;
  expect_error(encode_fcp_rsp(r, buf), WireErrc::kBadValue, "fcp_rsp_len", 20);
  r = FcpRsp{};
  r.sense_length = 97;
  expect_error(encode_fcp_rsp(r, buf), WireErrc::kBadValue, "fcp_sns_len", 16);
  r = FcpRsp{};
  r.resid_over = r.resid_under = true;
  expect_error(encode_fcp_rsp(r, buf), WireErrc::kBadValue, "fcp_rsp_flags", 10);
}

}  // namespace
}  // namespace splitpath::fc
