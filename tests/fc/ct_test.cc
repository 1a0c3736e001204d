#include "splitpath/fc/ct.h"

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

TEST(CtPreamble, RequestAcceptReject) {
  CtPreamble req = make_ns_request(ct_cmd::kRftId);
  Bytes out = expect_round_trip(req, encode_ct_preamble, decode_ct_preamble);
  EXPECT_EQ(out, bytes({0x01, 0x00, 0x00, 0x00, 0xfc, 0x02, 0x00, 0x00, 0x02, 0x17, 0x00, 0x00,
                        0x00, 0x00, 0x00, 0x00}));
  expect_prefixes_fail(out, decode_ct_preamble);
  CtPreamble acc = make_ct_accept(req);
  out = expect_round_trip(acc, encode_ct_preamble, decode_ct_preamble);
  EXPECT_EQ(out[8], 0x80);
  EXPECT_EQ(out[9], 0x02);
  CtPreamble rjt =
      make_ct_reject(req, ct_reason::kUnableToPerform, ns_explanation::kFc4TypesNotRegistered);
  out = expect_round_trip(rjt, encode_ct_preamble, decode_ct_preamble);
  EXPECT_EQ(out, bytes({0x01, 0x00, 0x00, 0x00, 0xfc, 0x02, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00,
                        0x00, 0x09, 0x07, 0x00}));
  CtPreamble full = req;
  full.in_id = FcId{0x123456};
  full.options = 0x10;
  full.max_residual_size = 0x0100;
  full.fragment_id = 1;
  full.vendor = 0xAA;
  expect_round_trip(full, encode_ct_preamble, decode_ct_preamble);
  out[0] = 0x02;
  expect_error(decode_ct_preamble(out), WireErrc::kUnsupported, "revision", 0);
  EXPECT_EQ(ct_body(ConstBytes(out)).size(), 0u);
}

TEST(NameServer, RftIdCaptured) {
  // RFT_ID body of fikonfarm-fcoe1-merged.pcap: 01.0e.01 registers FCP and GS.
  Bytes body = bytes({0x00, 0x01, 0x0e, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01});
  body.resize(36, 0);
  auto r = decode_rft_id(body);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->port_id, FcId{0x010e01});
  EXPECT_TRUE(r->types.test(0x08));
  EXPECT_TRUE(r->types.test(0x20));
  EXPECT_FALSE(r->types.test(0x01));
  RftId mine{FcId{0x010e01}, {}};
  mine.types.set(0x08);
  mine.types.set(0x20);
  EXPECT_EQ(expect_round_trip(mine, encode_rft_id, decode_rft_id), body);
  expect_prefixes_fail(body, decode_rft_id);
  Fc4Types t;
  t.set(0xFF);
  EXPECT_EQ(t.bitmap[28], 0x80);
  EXPECT_TRUE(t.test(0xFF));
}

TEST(NameServer, RegistrationsAndQueries) {
  NsIdName rpn{FcId{0x010203}, Wwn{0x21000024ff3d39a0}};
  Bytes out = expect_round_trip(rpn, encode_ns_id_name, decode_ns_id_name);
  EXPECT_EQ(out, bytes({0x00, 0x01, 0x02, 0x03, 0x21, 0x00, 0x00, 0x24, 0xff, 0x3d, 0x39, 0xa0}));
  expect_prefixes_fail(out, decode_ns_id_name);

  RffId rff{FcId{0x010203}, fc4_features::kInitiator, 0x08};
  out = expect_round_trip(rff, encode_rff_id, decode_rff_id);
  EXPECT_EQ(out, bytes({0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x02, 0x08}));
  expect_prefixes_fail(out, decode_rff_id);

  GidFtRequest gid;
  out = expect_round_trip(gid, encode_gid_ft_request, decode_gid_ft_request);
  EXPECT_EQ(out, bytes({0x00, 0x00, 0x00, 0x08}));
  expect_prefixes_fail(out, decode_gid_ft_request);

  std::array<uint8_t, 8> buf{};
  ASSERT_EQ(*encode_ns_port_id(FcId{0x0a0b0c}, buf), 4u);
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + 4), bytes({0, 0x0a, 0x0b, 0x0c}));
  EXPECT_EQ(*decode_ns_port_id(Bytes(buf.begin(), buf.begin() + 4)), FcId{0x0a0b0c});
  expect_prefixes_fail(Bytes(buf.begin(), buf.begin() + 4), decode_ns_port_id);
  ASSERT_EQ(*encode_ns_name(Wwn{0x2000001b21847463}, buf), 8u);
  EXPECT_EQ(*decode_ns_name(Bytes(buf.begin(), buf.end())), Wwn{0x2000001b21847463});
  expect_prefixes_fail(Bytes(buf.begin(), buf.end()), decode_ns_name);
  expect_error(encode_ns_name(Wwn{}, MutableBytes(buf.data(), 7)), WireErrc::kBufferTooSmall,
               "name", 0);
}

TEST(GidFt, AcceptWithLastBit) {
  const std::vector<FcId> ids = {FcId{0x010000}, FcId{0x020f00}};
  std::array<uint8_t, 16> buf{};
  ASSERT_EQ(*encode_gid_ft_acc(ids, buf), 8u);
  Bytes out(buf.begin(), buf.begin() + 8);
  EXPECT_EQ(out, bytes({0x00, 0x01, 0x00, 0x00, 0x80, 0x02, 0x0f, 0x00}));
  auto v = decode_gid_ft_acc(out);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->complete);
  ASSERT_EQ(v->count, 2u);
  EXPECT_EQ(v->port_id(0), ids[0]);
  EXPECT_EQ(v->port_id(1), ids[1]);
  // A reply cut before the Last entry: whole entries, not complete.
  for (size_t n = 4; n < out.size(); ++n) {
    auto cut = decode_gid_ft_acc(ConstBytes(out.data(), n));
    ASSERT_TRUE(cut.ok());
    EXPECT_FALSE(cut->complete);
    EXPECT_EQ(cut->count, n / 4);
  }
  expect_prefixes_fail(Bytes(out.begin(), out.begin() + 4), decode_gid_ft_acc);
  // Entries after Last are ignored.
  Bytes more = bytes({0x80, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00});
  EXPECT_EQ(decode_gid_ft_acc(more)->count, 1u);
  expect_error(encode_gid_ft_acc({}, buf), WireErrc::kBadValue, "port_ids", 0);
  expect_error(encode_gid_ft_acc(ids, MutableBytes(buf.data(), 7)), WireErrc::kBufferTooSmall,
               "gid_ft_acc", 0);
}

}  // namespace
}  // namespace splitpath::fc
