#include "splitpath/fc/scsi_data.h"

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

TEST(ReadCapacity, TenByteData) {
  Bytes out = expect_round_trip(make_read_capacity10_data(0x0FFFFF, 512),
                                encode_read_capacity10_data, decode_read_capacity10_data);
  EXPECT_EQ(out, bytes({0x00, 0x0F, 0xFF, 0xFF, 0x00, 0x00, 0x02, 0x00}));
  expect_prefixes_fail(out, decode_read_capacity10_data);
  EXPECT_EQ(make_read_capacity10_data(0xFFFFFFFEull, 512).returned_lba, 0xFFFFFFFEu);
  EXPECT_EQ(make_read_capacity10_data(0xFFFFFFFFull, 512).returned_lba, 0xFFFFFFFFu);
  EXPECT_EQ(make_read_capacity10_data(1ull << 40, 4096).returned_lba, 0xFFFFFFFFu);
}

TEST(ReadCapacity, SixteenByteData) {
  ReadCapacity16Data d;
  d.last_lba = (1ull << 40) - 1;
  d.block_length = 4096;
  d.lbpme = true;
  Bytes out = expect_round_trip(d, encode_read_capacity16_data, decode_read_capacity16_data);
  Bytes want = bytes({0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x10, 0x00, 0x00,
                      0x00, 0x80, 0x00});
  want.resize(32, 0);
  EXPECT_EQ(out, want);
  expect_prefixes_fail(out, decode_read_capacity16_data);
  d.p_type = 2;
  d.prot_en = d.lbprz = true;
  d.lb_per_pb_exponent = 3;
  d.lowest_aligned_lba = 0x3FFF;
  out = expect_round_trip(d, encode_read_capacity16_data, decode_read_capacity16_data);
  EXPECT_EQ(out[12], 0x05);
  EXPECT_EQ(out[14], 0xFF);
  d.lowest_aligned_lba = 0x4000;
  std::array<uint8_t, 32> buf{};
  EXPECT_EQ(encode_read_capacity16_data(d, buf).error().code, WireErrc::kBadValue);
}

TEST(ReportLuns, FullAndTruncated) {
  const std::vector<ScsiLun> luns = {make_lun(0), make_lun(1), make_lun(300)};
  Bytes out(64, 0xEE);
  ASSERT_EQ(encode_report_luns(luns, out), 32u);
  out.resize(32);
  EXPECT_EQ(out, bytes({0,    0,    0, 24, 0, 0, 0, 0,     // header
                        0x00, 0x00, 0, 0,  0, 0, 0, 0,     // LUN 0
                        0x00, 0x01, 0, 0,  0, 0, 0, 0,     // LUN 1
                        0x41, 0x2C, 0, 0,  0, 0, 0, 0}));  // LUN 300, flat
  auto v = decode_report_luns(out);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->lun_list_length, 24u);
  ASSERT_EQ(v->count, 3u);
  EXPECT_FALSE(v->truncated);
  for (size_t i = 0; i < luns.size(); ++i)
    EXPECT_EQ(v->lun(i), luns[i]);

  // Allocation length 20: header plus one and a half entries; LUN LIST LENGTH still
  // states all three.
  Bytes cut(20, 0xEE);
  ASSERT_EQ(encode_report_luns(luns, cut), 20u);
  EXPECT_EQ(Bytes(cut.begin(), cut.begin() + 20), Bytes(out.begin(), out.begin() + 20));
  v = decode_report_luns(cut);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->count, 1u);
  EXPECT_TRUE(v->truncated);
  // Allocation length 2: part of the header.
  Bytes two(2);
  EXPECT_EQ(encode_report_luns(luns, two), 2u);
  EXPECT_EQ(two, bytes({0, 0}));
  // Every prefix shorter than the header fails; longer ones decode as truncated.
  expect_prefixes_fail(Bytes(out.begin(), out.begin() + 8), decode_report_luns);
  for (size_t n = 8; n < out.size(); ++n) {
    Bytes p(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = decode_report_luns(p);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->truncated);
    EXPECT_EQ(r->count, (n - 8) / 8);
  }
  Bytes empty(8, 0xEE);
  EXPECT_EQ(encode_report_luns({}, empty), 8u);
  EXPECT_EQ(empty, Bytes(8, 0));
  out[3] = 23;
  expect_error(decode_report_luns(out), WireErrc::kBadLength, "lun_list_length", 0);
}

TEST(PersistentReserve, OutParameterList) {
  PrOutParameters p{0x1122334455667788ull, 0x99AABBCCDDEEFF00ull, true, true};
  Bytes out = expect_round_trip(p, encode_pr_out_parameters, decode_pr_out_parameters);
  Bytes want = bytes({0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC,
                      0xDD, 0xEE, 0xFF, 0x00, 0,    0,    0,    0,    0x05, 0,    0,    0});
  EXPECT_EQ(out, want);
  expect_prefixes_fail(out, decode_pr_out_parameters);
  out.push_back(0);
  expect_error(decode_pr_out_parameters(out), WireErrc::kBadLength, "parameter_list", 25);
  out.pop_back();
  out[20] = 0x08;
  expect_error(decode_pr_out_parameters(out), WireErrc::kUnsupported, "spec_i_pt", 20);
}

TEST(Unmap, ParameterList) {
  const UnmapDescriptor d[] = {{0x0102030405060708ull, 9}, {7, 0xFFFFFFFF}};
  Bytes out(8 + 32);
  auto n = encode_unmap_parameters(d, out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 40u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 8), bytes({0, 38, 0, 32, 0, 0, 0, 0}));
  auto count = decode_unmap_descriptor_count(out);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2u);
  EXPECT_EQ(unmap_descriptor(out, 0), d[0]);
  EXPECT_EQ(unmap_descriptor(out, 1), d[1]);
  // A partial descriptor is ignored; so is what the declared length leaves out.
  EXPECT_EQ(*decode_unmap_descriptor_count(ConstBytes(out.data(), 39)), 1u);
  out[3] = 16;
  EXPECT_EQ(*decode_unmap_descriptor_count(out), 1u);
  EXPECT_EQ(*decode_unmap_descriptor_count(Bytes{}), 0u);
  expect_error(decode_unmap_descriptor_count(ConstBytes(out.data(), 7)), WireErrc::kBadLength,
               "parameter_list", 7);
  Bytes small(39);
  expect_error(encode_unmap_parameters(d, small), WireErrc::kBufferTooSmall, "parameter_list", 0);
}

TEST(PersistentReserve, ReadKeysAndReservation) {
  const std::vector<uint64_t> keys = {0xAB, 0x1122334455667788ull};
  Bytes out(64);
  ASSERT_EQ(encode_pr_in_read_keys(7, keys, out), 24u);
  out.resize(24);
  EXPECT_EQ(out, bytes({0, 0, 0, 7,    0,    0,    0,    16,   0,    0,    0,    0,
                        0, 0, 0, 0xAB, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}));
  auto v = decode_pr_in_read_keys(out);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->generation, 7u);
  ASSERT_EQ(v->count, 2u);
  EXPECT_EQ(v->key(1), keys[1]);
  Bytes cut(12);
  EXPECT_EQ(encode_pr_in_read_keys(7, keys, cut), 12u);
  EXPECT_TRUE(decode_pr_in_read_keys(cut)->truncated);
  expect_prefixes_fail(Bytes(out.begin(), out.begin() + 8), decode_pr_in_read_keys);

  PrReservation r{3, true, 0xAB, 0, 1};
  Bytes res(24);
  ASSERT_EQ(encode_pr_in_read_reservation(r, res), 24u);
  EXPECT_EQ(res[7], 16);
  EXPECT_EQ(res[21], 0x01);
  EXPECT_EQ(*decode_pr_in_read_reservation(res), r);
  expect_prefixes_fail(res, decode_pr_in_read_reservation);
  PrReservation none{9, false, 0, 0, 0};
  Bytes res0(24);
  ASSERT_EQ(encode_pr_in_read_reservation(none, res0), 8u);
  res0.resize(8);
  EXPECT_EQ(*decode_pr_in_read_reservation(res0), none);
  res0[7] = 8;
  expect_error(decode_pr_in_read_reservation(res0), WireErrc::kBadLength, "additional_length", 4);
}

}  // namespace
}  // namespace splitpath::fc
