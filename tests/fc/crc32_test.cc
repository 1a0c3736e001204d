#include "splitpath/fc/crc32.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace splitpath::fc {
namespace {

// The reference bytewise CRC-32 (reflected 0x04C11DB7), to check the sliced one.
uint32_t bitwise_crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFF;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

TEST(Crc32, CheckValue) {
  const char* check = "123456789";  // the CRC catalogue's check input
  EXPECT_EQ(crc32(reinterpret_cast<const uint8_t*>(check), 9), 0xCBF43926u);
  EXPECT_EQ(crc32(nullptr, 0), 0u);
}

TEST(Crc32, SlicedMatchesBitwiseAtEveryLengthAndSplit) {
  std::vector<uint8_t> data(300);
  uint32_t x = 12345;
  for (auto& b : data)
    b = static_cast<uint8_t>((x = x * 1103515245 + 12345) >> 16);
  for (size_t n = 0; n <= data.size(); ++n) {
    ASSERT_EQ(crc32(data.data(), n), bitwise_crc32(data.data(), n)) << n;
  }
  for (size_t split = 0; split <= data.size(); split += 7) {
    const uint32_t head = crc32(data.data(), split);
    EXPECT_EQ(crc32_update(head, data.data() + split, data.size() - split),
              bitwise_crc32(data.data(), data.size()));
  }
}

}  // namespace
}  // namespace splitpath::fc
