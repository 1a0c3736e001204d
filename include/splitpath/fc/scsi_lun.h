// SCSI logical unit numbers (SAM-5 LUN formats): the 8-byte LUN carried in
// FCP_CMND (FCP-4) and in REPORT LUNS parameter data (SPC-4), kept as the raw
// bytes. Helpers cover the two single-level forms Splitpath uses:
//
//   peripheral device addressing method, LUN 0..255:
//     byte 0 = 00b | bus 0, byte 1 = LUN, bytes 2..7 = 0
//   flat space addressing method, LUN 0..16383:
//     byte 0 = 01b << 6 | LUN[13:8], byte 1 = LUN[7:0], bytes 2..7 = 0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "splitpath/fc/wire.h"

namespace splitpath::fc {

inline constexpr size_t kLunSize = 8;
inline constexpr uint16_t kMaxPeripheralLun = 255;
inline constexpr uint16_t kMaxFlatLun = 16383;

struct ScsiLun {
  std::array<uint8_t, kLunSize> bytes{};

  friend constexpr bool operator==(const ScsiLun&, const ScsiLun&) = default;
};

constexpr ScsiLun make_peripheral_lun(uint8_t lun) {
  ScsiLun l;
  l.bytes[1] = lun;
  return l;
}

// Precondition: lun <= kMaxFlatLun (higher bits are dropped).
constexpr ScsiLun make_flat_lun(uint16_t lun) {
  ScsiLun l;
  l.bytes[0] = static_cast<uint8_t>(0x40 | ((lun >> 8) & 0x3F));
  l.bytes[1] = static_cast<uint8_t>(lun);
  return l;
}

// Peripheral form for 0..255, flat form above (what targets report in REPORT LUNS).
// Precondition: lun <= kMaxFlatLun.
constexpr ScsiLun make_lun(uint16_t lun) {
  return lun <= kMaxPeripheralLun ? make_peripheral_lun(static_cast<uint8_t>(lun))
                                  : make_flat_lun(lun);
}

// The LUN number of a single-level peripheral (bus 0) or flat-space LUN. Any other
// addressing method, a nonzero bus, or a second level is kUnsupported ("lun", byte
// offset of the offending LUN byte).
constexpr WireResult<uint16_t> decode_lun(const ScsiLun& lun) {
  for (uint32_t i = 2; i < kLunSize; ++i) {
    if (lun.bytes[i] != 0) return wire_error(WireErrc::kUnsupported, "lun", i);
  }
  const uint8_t method = lun.bytes[0] >> 6;
  if (method == 0) {
    if (lun.bytes[0] != 0) return wire_error(WireErrc::kUnsupported, "lun", 0);
    return uint16_t{lun.bytes[1]};
  }
  if (method == 1) {
    return static_cast<uint16_t>(((lun.bytes[0] & 0x3F) << 8) | lun.bytes[1]);
  }
  return wire_error(WireErrc::kUnsupported, "lun", 0);
}

// Raw copies; callers check bounds.
constexpr ScsiLun load_lun(const uint8_t* p) {
  ScsiLun l;
  for (size_t i = 0; i < kLunSize; ++i)
    l.bytes[i] = p[i];
  return l;
}
constexpr void store_lun(uint8_t* p, const ScsiLun& lun) {
  for (size_t i = 0; i < kLunSize; ++i)
    p[i] = lun.bytes[i];
}

}  // namespace splitpath::fc
