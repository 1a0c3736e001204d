#include "splitpath/fc/bls.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace splitpath::fc {
namespace {

using test::Bytes;
using test::bytes;
using test::expect_error;
using test::expect_prefixes_fail;
using test::expect_round_trip;

TEST(Bls, BaAccKnownBytes) {
  BaAcc a{true, 5, 0x1234, 0x5678, 0, 7};
  Bytes out = expect_round_trip(a, encode_ba_acc, decode_ba_acc);
  EXPECT_EQ(out, bytes({0x80, 0x05, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x07}));
  expect_prefixes_fail(out, decode_ba_acc);
  BaAcc none{false, 0, 0x0001, 0xFFFF, 0, 0xFFFF};
  out = expect_round_trip(none, encode_ba_acc, decode_ba_acc);
  EXPECT_EQ(out[0], 0x00);
  out[0] = 0x40;
  expect_error(decode_ba_acc(out), WireErrc::kBadValue, "seq_id_validity", 0);
}

TEST(Bls, BaRjtKnownBytes) {
  BaRjt r{ba_rjt_reason::kLogicalError, ba_rjt_explanation::kInvalidOxIdRxId, 0};
  Bytes out = expect_round_trip(r, encode_ba_rjt, decode_ba_rjt);
  EXPECT_EQ(out, bytes({0x00, 0x03, 0x03, 0x00}));
  expect_prefixes_fail(out, decode_ba_rjt);
  EXPECT_EQ(kAbtsPayloadSize, 0u);
}

}  // namespace
}  // namespace splitpath::fc
