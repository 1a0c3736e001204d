// Verifiable block contents, in the style of fio's verify: every 512-byte unit a
// host writes carries a header naming its address, the write generation and the
// writer, a pattern derived from them, and a checksum over the whole unit. A
// reader can tell a good unit from a stale, misdirected or corrupted one without
// keeping a copy of the data.
//
//   0..7   magic "SPSTAMP1"
//   8..15  unit address (byte offset in the LUN / 512), big-endian
//   16..23 write generation, big-endian (> 0)
//   24..31 writer WWPN, big-endian
//   32..507 pattern from (address, generation, writer)
//   508..511 CRC-32 of bytes 0..507, big-endian
#pragma once

#include <cstdint>
#include <span>

namespace splitpath::sim {

inline constexpr uint32_t kStampUnit = 512;
inline constexpr uint64_t kStampMagic = 0x53505354414D5031ull;  // "SPSTAMP1"

struct BlockStamp {
  uint64_t unit = 0;
  uint64_t generation = 0;
  uint64_t writer = 0;
};

// Fills one 512-byte unit.
void write_stamp(const BlockStamp& stamp, std::span<uint8_t, kStampUnit> out);

enum class StampCheck : uint8_t {
  kValid,    // a well-formed stamp; `stamp` holds what it says
  kZero,     // never written: all zero bytes
  kCorrupt,  // neither: garbage, a torn unit or a bad checksum
};

StampCheck read_stamp(std::span<const uint8_t, kStampUnit> unit, BlockStamp* stamp);

}  // namespace splitpath::sim
