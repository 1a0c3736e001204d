#include "splitpath/fc/scsi_sense.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace splitpath::fc {
namespace {

using test::Bytes;
using test::bytes;
using test::expect_error;
using test::expect_prefixes_fail;
using test::expect_round_trip;

TEST(SenseData, InvalidFieldInCdbKnownBytes) {
  // ILLEGAL REQUEST, INVALID FIELD IN CDB, field pointer to CDB byte 2, bit 5.
  SenseData s = make_invalid_field_in_cdb(2, 5);
  Bytes out = expect_round_trip(s, encode_sense_data, decode_sense_data);
  EXPECT_EQ(out, bytes({0x70, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x00,
                        0x24, 0x00, 0x00, 0xCD, 0x00, 0x02}));
  EXPECT_TRUE(field_pointer_in_cdb(s.sense_key_specific));
  EXPECT_TRUE(field_pointer_bit_valid(s.sense_key_specific));
  EXPECT_EQ(field_pointer_bit(s.sense_key_specific), 5);
  EXPECT_EQ(field_pointer_offset(s.sense_key_specific), 2);
  expect_prefixes_fail(out, decode_sense_data);
}

TEST(SenseData, ParameterListPointerWithoutBit) {
  SenseData s = make_illegal_request(asc::kInvalidFieldInParameterList, false, 20);
  Bytes out = expect_round_trip(s, encode_sense_data, decode_sense_data);
  EXPECT_EQ(out[15], 0x80);
  EXPECT_EQ(out[16], 0x00);
  EXPECT_EQ(out[17], 20);
  EXPECT_FALSE(field_pointer_in_cdb(s.sense_key_specific));
}

TEST(SenseData, AllFieldsRoundTrip) {
  SenseData s = make_sense(sense_key::kMediumError, asc::kUnrecoveredReadError);
  s.deferred = true;
  s.valid = true;
  s.information = 0x12345678;
  s.command_specific = 0x9ABCDEF0;
  s.filemark = s.eom = s.ili = true;
  s.fru = 3;
  s.sksv = true;
  s.sense_key_specific = 0x7FFFFF;
  Bytes out = expect_round_trip(s, encode_sense_data, decode_sense_data);
  EXPECT_EQ(out[0], 0xF1);
  EXPECT_EQ(out[2], 0xE3);
  for (auto code :
       {asc::kLogicalUnitNotReady, asc::kLogicalUnitBecomingReady, asc::kWriteError,
        asc::kLbaOutOfRange, asc::kLogicalUnitNotSupported, asc::kPowerOnReset,
        asc::kParameterListLengthError, asc::kSavingParametersNotSupported, asc::kMediumNotPresent,
        asc::kInternalTargetFailure, asc::kInvalidCommandOperationCode}) {
    expect_round_trip(make_sense(sense_key::kNotReady, code), encode_sense_data, decode_sense_data);
  }
  EXPECT_EQ(asc::kLogicalUnitBecomingReady, (AscAscq{0x04, 0x01}));
}

TEST(SenseData, CapturedUnitAttention) {
  // Sense bytes of an FCP_RSP in fikonfarm-fcoe1-merged.pcap: VALID set, additional
  // sense length 16, UNIT ATTENTION, 29/00.
  Bytes b = bytes({0xf0, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00,
                   0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  auto s = decode_sense_data(b);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->valid);
  EXPECT_FALSE(s->deferred);
  EXPECT_EQ(s->sense_key, sense_key::kUnitAttention);
  EXPECT_EQ(s->code, asc::kPowerOnReset);
  expect_prefixes_fail(b, decode_sense_data);
}

TEST(SenseData, ShortAdditionalLengthReadsZero) {
  // Additional sense length 6: through ASC/ASCQ only.
  Bytes b = bytes({0x70, 0, 0x02, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0x04, 0x01});
  auto s = decode_sense_data(b);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->code, asc::kLogicalUnitBecomingReady);
  EXPECT_FALSE(s->sksv);
}

TEST(SenseData, Malformed) {
  Bytes b = bytes({0x72, 0, 0, 0, 0, 0, 0, 0});
  expect_error(decode_sense_data(b), WireErrc::kUnsupported, "response_code", 0);
  b[0] = 0x7F;
  expect_error(decode_sense_data(b), WireErrc::kBadValue, "response_code", 0);
  b[0] = 0x70;
  b[7] = 1;
  expect_error(decode_sense_data(b), WireErrc::kBadLength, "additional_sense_length", 7);
  std::array<uint8_t, 18> buf{};
  SenseData s;
  s.sense_key = 16;
  expect_error(encode_sense_data(s, buf), WireErrc::kBadValue, "sense_key", 2);
  s = SenseData{};
  s.sense_key_specific = 0x800000;
  expect_error(encode_sense_data(s, buf), WireErrc::kBadValue, "sense_key_specific", 15);
}

}  // namespace
}  // namespace splitpath::fc
