#include "splitpath/fc/scsi_lun.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace splitpath::fc {
namespace {

using test::expect_error;

TEST(ScsiLun, PeripheralAndFlatForms) {
  EXPECT_EQ(make_peripheral_lun(5).bytes, (std::array<uint8_t, 8>{0x00, 0x05, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(make_flat_lun(0x1234).bytes, (std::array<uint8_t, 8>{0x52, 0x34, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(make_flat_lun(kMaxFlatLun).bytes,
            (std::array<uint8_t, 8>{0x7F, 0xFF, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(make_lun(255), make_peripheral_lun(255));
  EXPECT_EQ(make_lun(256), make_flat_lun(256));
}

TEST(ScsiLun, DecodeRoundTrips) {
  for (uint16_t n : {0, 1, 255})
    EXPECT_EQ(*decode_lun(make_peripheral_lun(uint8_t(n))), n);
  for (uint16_t n : {0, 1, 255, 256, 4000, 16383}) {
    EXPECT_EQ(*decode_lun(make_flat_lun(n)), n);
    EXPECT_EQ(*decode_lun(make_lun(n)), n);
  }
}

TEST(ScsiLun, RejectsOtherAddressing) {
  ScsiLun bus1 = make_peripheral_lun(3);
  bus1.bytes[0] = 0x01;  // peripheral method, bus 1
  expect_error(decode_lun(bus1), WireErrc::kUnsupported, "lun", 0);
  ScsiLun logical = make_peripheral_lun(3);
  logical.bytes[0] = 0x80;  // logical unit addressing
  expect_error(decode_lun(logical), WireErrc::kUnsupported, "lun", 0);
  ScsiLun two_level = make_flat_lun(7);
  two_level.bytes[3] = 1;
  expect_error(decode_lun(two_level), WireErrc::kUnsupported, "lun", 3);
}

static_assert(make_flat_lun(300).bytes[0] == 0x41);

}  // namespace
}  // namespace splitpath::fc
