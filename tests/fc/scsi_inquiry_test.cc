#include "splitpath/fc/scsi_inquiry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "test_util.h"

namespace splitpath::fc {
namespace {

using test::Bytes;
using test::bytes;
using test::expect_error;
using test::expect_prefixes_fail;
using test::expect_round_trip;

InquiryData splitpath_disk() {
  InquiryData d;
  set_ascii_field(d.vendor, "SPLITPTH");
  set_ascii_field(d.product, "SimDisk");
  set_ascii_field(d.revision, "0.1");
  return d;
}

TEST(Inquiry, StandardDataKnownBytes) {
  Bytes out = expect_round_trip(splitpath_disk(), encode_inquiry_data, decode_inquiry_data);
  Bytes want = bytes({0x00, 0x00, 0x06, 0x02, 31, 0x00, 0x00, 0x02});
  for (char c : std::string("SPLITPTHSimDisk         0.1 "))
    want.push_back(uint8_t(c));
  EXPECT_EQ(out, want);
  expect_prefixes_fail(out, decode_inquiry_data);
}

TEST(Inquiry, AllFlagsRoundTrip) {
  InquiryData d = splitpath_disk();
  d.peripheral_qualifier = kQualifierNotPresent;
  d.device_type = kDeviceTypeUnknown;
  d.rmb = d.norm_aca = d.hisup = d.sccs = d.acc = d.three_pc = d.protect = true;
  d.enc_serv = d.multi_p = true;
  d.cmd_que = false;
  d.tpgs = 3;
  d.version = 0x07;
  Bytes out = expect_round_trip(d, encode_inquiry_data, decode_inquiry_data);
  EXPECT_EQ(out[0], 0x7F);
  EXPECT_EQ(out[5], 0xF9);
}

TEST(Inquiry, VersionDescriptorsMakeTheLongForm) {
  InquiryData d = splitpath_disk();
  d.version_descriptors = {version_descriptor::kSam5, version_descriptor::kSbc3};
  Bytes out = expect_round_trip(d, encode_inquiry_data, decode_inquiry_data);
  ASSERT_EQ(out.size(), kLongInquirySize);
  EXPECT_EQ(out[4], 91);
  EXPECT_EQ(Bytes(out.begin() + 58, out.begin() + 62), bytes({0x00, 0xA0, 0x04, 0xC0}));
  // Cut to 36 bytes (a short allocation length), the descriptors are gone.
  InquiryData cut = *decode_inquiry_data(ConstBytes(out.data(), 36));
  EXPECT_EQ(cut.version_descriptors, (std::array<uint16_t, 8>{}));
  Bytes small(95);
  expect_error(encode_inquiry_data(d, small), WireErrc::kBufferTooSmall, "inquiry_data", 0);
}

TEST(Inquiry, LongerDataAndErrors) {
  Bytes out(96, 0x20);
  ASSERT_TRUE(encode_inquiry_data(splitpath_disk(), out).ok());
  out[4] = 91;  // a 96-byte response: bytes past the descriptors are ignored
  std::fill(out.begin() + kVersionDescriptorsOffset, out.begin() + kVersionDescriptorsOffset + 16,
            0);
  EXPECT_EQ(*decode_inquiry_data(out), splitpath_disk());
  out[4] = 30;
  expect_error(decode_inquiry_data(out), WireErrc::kBadLength, "additional_length", 4);
  out[4] = 31;
  out[3] = 0x01;
  expect_error(decode_inquiry_data(out), WireErrc::kUnsupported, "response_data_format", 3);
  InquiryData bad;
  bad.tpgs = 4;
  expect_error(encode_inquiry_data(bad, out), WireErrc::kBadValue, "tpgs", 5);
}

TEST(Vpd, SupportedPages) {
  VpdSupportedPages v;
  v.count = 3;
  v.pages = {0x00, 0x80, 0x83};
  Bytes out = expect_round_trip(v, encode_vpd_supported_pages, decode_vpd_supported_pages);
  EXPECT_EQ(out, bytes({0x00, 0x00, 0x00, 0x03, 0x00, 0x80, 0x83}));
  expect_prefixes_fail(out, decode_vpd_supported_pages);
  out[1] = 0x80;
  expect_error(decode_vpd_supported_pages(out), WireErrc::kBadValue, "page_code", 1);
  Bytes many(4 + 40, 0);
  many[3] = 40;
  expect_error(decode_vpd_supported_pages(many), WireErrc::kUnsupported, "page_length", 2);
}

TEST(Vpd, UnitSerialNumber) {
  VpdUnitSerialNumber v = make_vpd_unit_serial_number("SP000042");
  Bytes out = expect_round_trip(v, encode_vpd_unit_serial_number, decode_vpd_unit_serial_number);
  EXPECT_EQ(out, bytes({0x00, 0x80, 0x00, 0x08, 'S', 'P', '0', '0', '0', '0', '4', '2'}));
  EXPECT_EQ(decode_vpd_unit_serial_number(out)->text(), "SP000042");
  expect_prefixes_fail(out, decode_vpd_unit_serial_number);
  EXPECT_EQ(make_vpd_unit_serial_number(std::string(100, 'x')).length, kMaxUnitSerialLength);
}

TEST(Vpd, DeviceIdentification) {
  VpdDeviceIdentification v;
  v.count = 3;
  v.designators[0] = make_naa_designator(0x6001405123456789ull);
  v.designators[1] = make_t10_vendor_designator("SPLITPTH", "disk7");
  v.designators[2] =
      make_naa_designator(0x21000024ff3d39a0ull, designator_association::kTargetPort);
  Bytes out =
      expect_round_trip(v, encode_vpd_device_identification, decode_vpd_device_identification);
  Bytes want =
      bytes({0x00, 0x83, 0x00, 12 + 17 + 12,
             // NAA, binary, LU association
             0x01, 0x03, 0x00, 0x08, 0x60, 0x01, 0x40, 0x51, 0x23, 0x45, 0x67, 0x89,
             // T10 vendor ID, ASCII
             0x02, 0x01, 0x00, 13, 'S', 'P', 'L', 'I', 'T', 'P', 'T', 'H', 'd', 'i', 's', 'k', '7',
             // NAA, target port, PIV, protocol FC
             0x01, 0x93, 0x00, 0x08, 0x21, 0x00, 0x00, 0x24, 0xff, 0x3d, 0x39, 0xa0});
  EXPECT_EQ(out, want);
  expect_prefixes_fail(out, decode_vpd_device_identification);
  auto d = decode_vpd_device_identification(out);
  EXPECT_EQ(designator_naa(d->designators[2]), 0x21000024ff3d39a0ull);
  EXPECT_TRUE(d->designators[2].piv);
  EXPECT_EQ(make_relative_target_port_designator(2).value[3], 2);

  Bytes bad = out;
  bad[4 + 3] = 9;  // NAA designator of 9 bytes
  bad[3] = static_cast<uint8_t>(bad[3] + 1);
  bad.insert(bad.begin() + 12 + 4, 0);
  expect_error(decode_vpd_device_identification(bad), WireErrc::kBadLength, "designator_length", 7);
  bad = out;
  bad[4] = 0x00;  // code set 0 is reserved
  expect_error(decode_vpd_device_identification(bad), WireErrc::kBadValue, "code_set", 4);
  bad = out;
  bad[5] = 0x33;  // association 3 is reserved
  expect_error(decode_vpd_device_identification(bad), WireErrc::kBadValue, "association", 5);
  bad = out;
  bad[3] = 2;  // page ends inside the first descriptor header
  bad.resize(6);
  expect_error(decode_vpd_device_identification(bad), WireErrc::kBadLength, "designator", 4);
}

TEST(Vpd, TooManyDesignators) {
  Bytes b = bytes({0x00, 0x83, 0x00, 0x00});
  for (int i = 0; i < 9; ++i) {
    for (int x : {0x01, 0x03, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8})
      b.push_back(uint8_t(x));
  }
  b[3] = 9 * 12;
  expect_error(decode_vpd_device_identification(b), WireErrc::kUnsupported, "designator",
               4 + 8 * 12);
}

}  // namespace
}  // namespace splitpath::fc
