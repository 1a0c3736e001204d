// SCSI parameter data a disk returns or accepts, besides sense, INQUIRY and mode
// data (scsi_sense.h, scsi_inquiry.h, scsi_mode.h):
//
//   READ CAPACITY(10) data (SBC-3), 8 bytes: 0..3 returned LBA (0xFFFFFFFF
//     when the last LBA does not fit), 4..7 block length
//   READ CAPACITY(16) data (SBC-3), 32 bytes: 0..7 returned LBA, 8..11 block
//     length, 12 bits 3..1 P_TYPE bit 0 PROT_EN, 13 bits 3..0 logical blocks per
//     physical block exponent, 14 bit 7 LBPME bit 6 LBPRZ bits 5..0 + 15 lowest
//     aligned LBA, 16..31 reserved
//   REPORT LUNS data (SPC-4): 0..3 LUN list length (8 * n), 4..7 reserved,
//     then n 8-byte LUNs
//   PERSISTENT RESERVE OUT parameter list (SPC-4), 24 bytes
//   PERSISTENT RESERVE IN READ KEYS / READ RESERVATION data (SPC-4)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "splitpath/fc/scsi_lun.h"
#include "splitpath/fc/wire.h"

namespace splitpath::fc {

// ------------------------------------------------------- READ CAPACITY

inline constexpr size_t kReadCapacity10DataSize = 8;
inline constexpr size_t kReadCapacity16DataSize = 32;

struct ReadCapacity10Data {
  uint32_t returned_lba = 0;  // last LBA, or 0xFFFFFFFF: use READ CAPACITY(16)
  uint32_t block_length = 512;
  friend constexpr bool operator==(const ReadCapacity10Data&, const ReadCapacity10Data&) = default;
};

constexpr ReadCapacity10Data make_read_capacity10_data(uint64_t last_lba, uint32_t block_length) {
  return {last_lba > 0xFFFFFFFEu ? 0xFFFFFFFFu : static_cast<uint32_t>(last_lba), block_length};
}

constexpr WireResult<ReadCapacity10Data> decode_read_capacity10_data(ConstBytes data) {
  if (data.size() < kReadCapacity10DataSize) {
    return wire_error(WireErrc::kTruncated, "read_capacity10", static_cast<uint32_t>(data.size()));
  }
  return ReadCapacity10Data{load_be32(data.data()), load_be32(data.data() + 4)};
}

constexpr WireResult<size_t> encode_read_capacity10_data(const ReadCapacity10Data& d,
                                                         MutableBytes out) {
  if (out.size() < kReadCapacity10DataSize) {
    return wire_error(WireErrc::kBufferTooSmall, "read_capacity10", 0);
  }
  store_be32(out.data(), d.returned_lba);
  store_be32(out.data() + 4, d.block_length);
  return kReadCapacity10DataSize;
}

struct ReadCapacity16Data {
  uint64_t last_lba = 0;
  uint32_t block_length = 512;
  uint8_t p_type = 0;  // 0..7
  bool prot_en = false;
  uint8_t lb_per_pb_exponent = 0;   // 0..15
  bool lbpme = false;               // logical block provisioning (thin) enabled
  bool lbprz = false;               // unmapped blocks read as zero
  uint16_t lowest_aligned_lba = 0;  // 14 bits
  friend constexpr bool operator==(const ReadCapacity16Data&, const ReadCapacity16Data&) = default;
};

// Errors: fewer than 32 bytes (kTruncated).
constexpr WireResult<ReadCapacity16Data> decode_read_capacity16_data(ConstBytes data) {
  if (data.size() < kReadCapacity16DataSize) {
    return wire_error(WireErrc::kTruncated, "read_capacity16", static_cast<uint32_t>(data.size()));
  }
  const uint8_t* p = data.data();
  ReadCapacity16Data d;
  d.last_lba = load_be64(p);
  d.block_length = load_be32(p + 8);
  d.p_type = (p[12] >> 1) & 0x7;
  d.prot_en = (p[12] & 0x01) != 0;
  d.lb_per_pb_exponent = p[13] & 0x0F;
  d.lbpme = (p[14] & 0x80) != 0;
  d.lbprz = (p[14] & 0x40) != 0;
  d.lowest_aligned_lba = static_cast<uint16_t>(((p[14] & 0x3F) << 8) | p[15]);
  return d;
}

constexpr WireResult<size_t> encode_read_capacity16_data(const ReadCapacity16Data& d,
                                                         MutableBytes out) {
  if (d.p_type > 7 || d.lb_per_pb_exponent > 15 || d.lowest_aligned_lba > 0x3FFF) {
    return wire_error(WireErrc::kBadValue, "read_capacity16", 12);
  }
  if (out.size() < kReadCapacity16DataSize) {
    return wire_error(WireErrc::kBufferTooSmall, "read_capacity16", 0);
  }
  uint8_t* p = out.data();
  for (size_t i = 0; i < kReadCapacity16DataSize; ++i)
    p[i] = 0;
  store_be64(p, d.last_lba);
  store_be32(p + 8, d.block_length);
  p[12] = static_cast<uint8_t>((d.p_type << 1) | (d.prot_en ? 1 : 0));
  p[13] = d.lb_per_pb_exponent;
  p[14] = static_cast<uint8_t>((d.lbpme ? 0x80 : 0) | (d.lbprz ? 0x40 : 0) |
                               (d.lowest_aligned_lba >> 8));
  p[15] = static_cast<uint8_t>(d.lowest_aligned_lba);
  return kReadCapacity16DataSize;
}

// --------------------------------------------------------- REPORT LUNS

inline constexpr size_t kReportLunsHeaderSize = 8;

constexpr size_t report_luns_size(size_t lun_count) {
  return kReportLunsHeaderSize + kLunSize * lun_count;
}

// Writes REPORT LUNS parameter data the way a device server honors ALLOCATION
// LENGTH: pass `out` already cut to the allocation length. Writes the first
// min(out.size(), report_luns_size(luns.size())) bytes of the full data — possibly
// ending inside the header or a LUN — while LUN LIST LENGTH always states the full
// list. Never fails; returns the number of bytes written.
constexpr size_t encode_report_luns(std::span<const ScsiLun> luns, MutableBytes out) {
  const size_t full = report_luns_size(luns.size());
  const size_t n = out.size() < full ? out.size() : full;
  uint8_t header[kReportLunsHeaderSize] = {};
  store_be32(header, static_cast<uint32_t>(kLunSize * luns.size()));
  for (size_t i = 0; i < n; ++i) {
    if (i < kReportLunsHeaderSize) {
      out[i] = header[i];
    } else {
      const size_t k = i - kReportLunsHeaderSize;
      out[i] = luns[k / kLunSize].bytes[k % kLunSize];
    }
  }
  return n;
}

// A decoded REPORT LUNS response; entries are read in place from the buffer given
// to decode_report_luns, which must outlive the view.
struct ReportLunsView {
  uint32_t lun_list_length = 0;  // as stated, in bytes
  size_t count = 0;              // whole entries present in the buffer
  bool truncated = false;        // the buffer holds fewer entries than stated
  ConstBytes entries;

  constexpr ScsiLun lun(size_t i) const { return load_lun(entries.data() + i * kLunSize); }
};

// Accepts data cut short by the allocation length (truncated = true). Errors: fewer
// than 8 bytes (kTruncated); list length not a multiple of 8 (kBadLength
// "lun_list_length", 0).
constexpr WireResult<ReportLunsView> decode_report_luns(ConstBytes data) {
  if (data.size() < kReportLunsHeaderSize) {
    return wire_error(WireErrc::kTruncated, "report_luns", static_cast<uint32_t>(data.size()));
  }
  ReportLunsView v;
  v.lun_list_length = load_be32(data.data());
  if (v.lun_list_length % kLunSize != 0) {
    return wire_error(WireErrc::kBadLength, "lun_list_length", 0);
  }
  const size_t stated = v.lun_list_length / kLunSize;
  const size_t present = (data.size() - kReportLunsHeaderSize) / kLunSize;
  v.count = present < stated ? present : stated;
  v.truncated = present < stated;
  v.entries = data.subspan(kReportLunsHeaderSize, v.count * kLunSize);
  return v;
}

// ------------------------------------------------- PERSISTENT RESERVE

inline constexpr size_t kPrOutParameterListSize = 24;

struct PrOutParameters {
  uint64_t reservation_key = 0;
  uint64_t service_action_reservation_key = 0;
  bool all_tg_pt = false;
  bool aptpl = false;  // activate persist through power loss
  friend constexpr bool operator==(const PrOutParameters&, const PrOutParameters&) = default;
};

// Decodes the basic PERSISTENT RESERVE OUT parameter list (not REGISTER AND MOVE).
// The disk maps kBadLength to PARAMETER LIST LENGTH ERROR and other errors to
// INVALID FIELD IN PARAMETER LIST at `offset`. Errors: length other than 24
// (kBadLength "parameter_list", size); SPEC_I_PT (kUnsupported "spec_i_pt", 20).
constexpr WireResult<PrOutParameters> decode_pr_out_parameters(ConstBytes data) {
  if (data.size() != kPrOutParameterListSize) {
    return wire_error(WireErrc::kBadLength, "parameter_list", static_cast<uint32_t>(data.size()));
  }
  const uint8_t* p = data.data();
  if (p[20] & 0x08) return wire_error(WireErrc::kUnsupported, "spec_i_pt", 20);
  PrOutParameters r;
  r.reservation_key = load_be64(p);
  r.service_action_reservation_key = load_be64(p + 8);
  r.all_tg_pt = (p[20] & 0x04) != 0;
  r.aptpl = (p[20] & 0x01) != 0;
  return r;
}

constexpr WireResult<size_t> encode_pr_out_parameters(const PrOutParameters& r, MutableBytes out) {
  if (out.size() < kPrOutParameterListSize) {
    return wire_error(WireErrc::kBufferTooSmall, "parameter_list", 0);
  }
  uint8_t* p = out.data();
  for (size_t i = 0; i < kPrOutParameterListSize; ++i)
    p[i] = 0;
  store_be64(p, r.reservation_key);
  store_be64(p + 8, r.service_action_reservation_key);
  p[20] = static_cast<uint8_t>((r.all_tg_pt ? 0x04 : 0) | (r.aptpl ? 0x01 : 0));
  return kPrOutParameterListSize;
}

// UNMAP parameter list (SBC-3): 0..1 UNMAP DATA LENGTH (n - 2), 2..3 UNMAP
// BLOCK DESCRIPTOR DATA LENGTH, 4..7 reserved, then 16-byte block descriptors
// (0..7 LBA, 8..11 NUMBER OF LOGICAL BLOCKS, 12..15 reserved).
inline constexpr size_t kUnmapHeaderSize = 8;
inline constexpr size_t kUnmapDescriptorSize = 16;

struct UnmapDescriptor {
  uint64_t lba = 0;
  uint32_t blocks = 0;
  friend constexpr bool operator==(const UnmapDescriptor&, const UnmapDescriptor&) = default;
};

// The number of block descriptors the list holds: as many whole ones as both
// the descriptor data length and the bytes received cover (SBC-3 ignores a
// partial one). Errors: 1..7 bytes (kBadLength "parameter_list", the size),
// which a device server reports as PARAMETER LIST LENGTH ERROR.
constexpr WireResult<size_t> decode_unmap_descriptor_count(ConstBytes data) {
  if (data.empty()) return size_t{0};
  if (data.size() < kUnmapHeaderSize) {
    return wire_error(WireErrc::kBadLength, "parameter_list", static_cast<uint32_t>(data.size()));
  }
  const size_t declared = load_be16(data.data() + 2);
  const size_t present = std::min(declared, data.size() - kUnmapHeaderSize);
  return present / kUnmapDescriptorSize;
}

// Block descriptor `i` (< decode_unmap_descriptor_count(data)).
constexpr UnmapDescriptor unmap_descriptor(ConstBytes data, size_t i) {
  const uint8_t* p = data.data() + kUnmapHeaderSize + i * kUnmapDescriptorSize;
  return UnmapDescriptor{load_be64(p), load_be32(p + 8)};
}

constexpr WireResult<size_t> encode_unmap_parameters(std::span<const UnmapDescriptor> descriptors,
                                                     MutableBytes out) {
  const size_t n = kUnmapHeaderSize + descriptors.size() * kUnmapDescriptorSize;
  if (n > 0xFFFF) return wire_error(WireErrc::kBadValue, "descriptors", 0);
  if (out.size() < n) return wire_error(WireErrc::kBufferTooSmall, "parameter_list", 0);
  uint8_t* p = out.data();
  for (size_t i = 0; i < n; ++i)
    p[i] = 0;
  store_be16(p, static_cast<uint16_t>(n - 2));
  store_be16(p + 2, static_cast<uint16_t>(n - kUnmapHeaderSize));
  for (size_t i = 0; i < descriptors.size(); ++i) {
    uint8_t* d = p + kUnmapHeaderSize + i * kUnmapDescriptorSize;
    store_be64(d, descriptors[i].lba);
    store_be32(d + 8, descriptors[i].blocks);
  }
  return n;
}

// PERSISTENT RESERVE IN, READ KEYS: 0..3 PRgeneration, 4..7 additional length
// (8 * n), then n 8-byte keys. Truncation to the allocation length as in
// encode_report_luns; returns bytes written.
constexpr size_t encode_pr_in_read_keys(uint32_t generation, std::span<const uint64_t> keys,
                                        MutableBytes out) {
  const size_t full = 8 + 8 * keys.size();
  const size_t n = out.size() < full ? out.size() : full;
  uint8_t header[8] = {};
  store_be32(header, generation);
  store_be32(header + 4, static_cast<uint32_t>(8 * keys.size()));
  for (size_t i = 0; i < n; ++i) {
    if (i < 8) {
      out[i] = header[i];
    } else {
      const size_t k = i - 8;
      out[i] = static_cast<uint8_t>(keys[k / 8] >> (8 * (7 - k % 8)));
    }
  }
  return n;
}

// A decoded READ KEYS response; keys are read in place from the decoded buffer.
struct PrKeysView {
  uint32_t generation = 0;
  uint32_t additional_length = 0;  // as stated, in bytes
  size_t count = 0;                // whole keys present in the buffer
  bool truncated = false;          // the buffer holds fewer keys than stated
  ConstBytes entries;

  constexpr uint64_t key(size_t i) const { return load_be64(entries.data() + 8 * i); }
};

// Accepts data cut short by the allocation length (truncated = true). Errors: fewer
// than 8 bytes (kTruncated); additional length not a multiple of 8 (kBadLength
// "additional_length", 4).
constexpr WireResult<PrKeysView> decode_pr_in_read_keys(ConstBytes data) {
  if (data.size() < 8) {
    return wire_error(WireErrc::kTruncated, "read_keys", static_cast<uint32_t>(data.size()));
  }
  PrKeysView v;
  v.generation = load_be32(data.data());
  v.additional_length = load_be32(data.data() + 4);
  if (v.additional_length % 8 != 0) return wire_error(WireErrc::kBadLength, "additional_length", 4);
  const size_t stated = v.additional_length / 8;
  const size_t present = (data.size() - 8) / 8;
  v.count = present < stated ? present : stated;
  v.truncated = present < stated;
  v.entries = data.subspan(8, v.count * 8);
  return v;
}

// PERSISTENT RESERVE IN, READ RESERVATION: 0..3 PRgeneration, 4..7 additional length
// (0 or 16); with a reservation: 8..15 key, 21 bits 7..4 scope, 3..0 type.
struct PrReservation {
  uint32_t generation = 0;
  bool present = false;
  uint64_t key = 0;
  uint8_t scope = 0;
  uint8_t type = 0;
  friend constexpr bool operator==(const PrReservation&, const PrReservation&) = default;
};

// Truncation to the allocation length as in encode_report_luns; returns bytes written.
constexpr size_t encode_pr_in_read_reservation(const PrReservation& r, MutableBytes out) {
  uint8_t full[24] = {};
  store_be32(full, r.generation);
  store_be32(full + 4, r.present ? 16 : 0);
  if (r.present) {
    store_be64(full + 8, r.key);
    full[21] = static_cast<uint8_t>((r.scope << 4) | (r.type & 0x0F));
  }
  const size_t len = r.present ? 24 : 8;
  const size_t n = out.size() < len ? out.size() : len;
  for (size_t i = 0; i < n; ++i)
    out[i] = full[i];
  return n;
}

// Errors: fewer than 8 bytes, or than 24 when a reservation is present (kTruncated);
// additional length other than 0 or 16 (kBadLength "additional_length", 4).
constexpr WireResult<PrReservation> decode_pr_in_read_reservation(ConstBytes data) {
  if (data.size() < 8) {
    return wire_error(WireErrc::kTruncated, "read_reservation", static_cast<uint32_t>(data.size()));
  }
  PrReservation r;
  r.generation = load_be32(data.data());
  const uint32_t add = load_be32(data.data() + 4);
  if (add != 0 && add != 16) return wire_error(WireErrc::kBadLength, "additional_length", 4);
  if (add == 16) {
    if (data.size() < 24) {
      return wire_error(WireErrc::kTruncated, "read_reservation",
                        static_cast<uint32_t>(data.size()));
    }
    r.present = true;
    r.key = load_be64(data.data() + 8);
    r.scope = data[21] >> 4;
    r.type = data[21] & 0x0F;
  }
  return r;
}

}  // namespace splitpath::fc
