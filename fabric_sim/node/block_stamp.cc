#include "fabric_sim/node/block_stamp.h"

#include <algorithm>

#include "splitpath/fc/crc32.h"
#include "splitpath/fc/wire.h"

namespace splitpath::sim {

namespace {

void fill_pattern(const BlockStamp& s, uint8_t* p, size_t n) {
  uint64_t x = s.unit * 0x9E3779B97F4A7C15ull ^ s.generation * 0xC2B2AE3D27D4EB4Full ^ s.writer;
  for (size_t i = 0; i < n; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    fc::store_be64(p + i, x);
  }
}

}  // namespace

void write_stamp(const BlockStamp& stamp, std::span<uint8_t, kStampUnit> out) {
  uint8_t* p = out.data();
  fc::store_be64(p, kStampMagic);
  fc::store_be64(p + 8, stamp.unit);
  fc::store_be64(p + 16, stamp.generation);
  fc::store_be64(p + 24, stamp.writer);
  fill_pattern(stamp, p + 32, 476);  // the last 4 pattern bytes are overwritten by the CRC
  fc::store_be32(p + 508, fc::crc32(p, 508));
}

StampCheck read_stamp(std::span<const uint8_t, kStampUnit> unit, BlockStamp* stamp) {
  const uint8_t* p = unit.data();
  if (fc::load_be64(p) != kStampMagic) {
    return std::all_of(p, p + kStampUnit, [](uint8_t b) { return b == 0; }) ? StampCheck::kZero
                                                                            : StampCheck::kCorrupt;
  }
  if (fc::load_be32(p + 508) != fc::crc32(p, 508)) return StampCheck::kCorrupt;
  stamp->unit = fc::load_be64(p + 8);
  stamp->generation = fc::load_be64(p + 16);
  stamp->writer = fc::load_be64(p + 24);
  return stamp->generation == 0 ? StampCheck::kCorrupt : StampCheck::kValid;
}

}  // namespace splitpath::sim
