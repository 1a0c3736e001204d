// CRC-32 as Fibre Channel and Ethernet use it (polynomial 0x04C11DB7, reflected,
// initial value and final XOR 0xFFFFFFFF): the frame CRC of FC-FS-3 and FCoE.
// The frame CRC is carried least-significant byte first.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace splitpath::fc {

namespace detail {
// Slicing-by-8 tables: table[0] is the classic byte table; table[k][b] is the
// CRC of byte b followed by k zero bytes, so eight input bytes fold in at once.
constexpr std::array<std::array<uint32_t, 256>, 8> make_crc32_tables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (size_t k = 1; k < 8; ++k)
      t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  }
  return t;
}
inline constexpr std::array<std::array<uint32_t, 256>, 8> kCrc32Tables = make_crc32_tables();
}  // namespace detail

// Continues a CRC over more bytes: crc32(b, n) == crc32_update(0, b, n).
constexpr uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t size) {
  const auto& t = detail::kCrc32Tables;
  crc = ~crc;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    // Bytes are combined explicitly (not loaded as words) so the result does not
    // depend on the host's byte order.
    const uint32_t lo = crc ^ (uint32_t{data[i]} | (uint32_t{data[i + 1]} << 8) |
                               (uint32_t{data[i + 2]} << 16) | (uint32_t{data[i + 3]} << 24));
    const uint32_t hi = uint32_t{data[i + 4]} | (uint32_t{data[i + 5]} << 8) |
                        (uint32_t{data[i + 6]} << 16) | (uint32_t{data[i + 7]} << 24);
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
  }
  for (; i < size; ++i)
    crc = t[0][(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

constexpr uint32_t crc32(const uint8_t* data, size_t size) {
  return crc32_update(0, data, size);
}

}  // namespace splitpath::fc
