// CRC-32 as Fibre Channel and Ethernet use it (polynomial 0x04C11DB7, reflected,
// initial value and final XOR 0xFFFFFFFF): the frame CRC of FC-FS-3 and FCoE.
// The frame CRC is carried least-significant byte first.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace splitpath::fc {

namespace detail {
constexpr std::array<uint32_t, 256> make_crc32_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
inline constexpr std::array<uint32_t, 256> kCrc32Table = make_crc32_table();
}  // namespace detail

// Continues a CRC over more bytes: crc32(b, n) == crc32_update(0, b, n).
constexpr uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t size) {
  crc = ~crc;
  for (size_t i = 0; i < size; ++i)
    crc = detail::kCrc32Table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

constexpr uint32_t crc32(const uint8_t* data, size_t size) {
  return crc32_update(0, data, size);
}

}  // namespace splitpath::fc
