// MODE SENSE parameter data (SPC-4 mode parameters, SBC-3 mode pages): enough
// for a disk to answer MODE SENSE(6)/(10) for the caching and control pages and
// for page 0x3F (all pages).
//
//   mode parameter header(6): 0 mode data length (n - 1), 1 medium type,
//     2 device-specific (SBC: bit 7 WP, bit 4 DPOFUA), 3 block descriptor length
//   mode parameter header(10): 0..1 mode data length (n - 2), 2 medium type,
//     3 device-specific, 4 bit 0 LONGLBA, 6..7 block descriptor length
//   block descriptor (SBC-3): short, 8 bytes: 0..3 number of blocks (0xFFFFFFFF
//     when larger), 5..7 block length; long (LONGLBA), 16 bytes: 0..7 blocks,
//     12..15 block length
//   caching page 0x08 (SBC-3), 20 bytes: 0 PS | page code, 1 page length 0x12,
//     2 IC ABPF CAP DISC SIZE WCE MF RCD, 3 retention priorities, 4..11 prefetch
//     limits, 12 FSW LBCSS DRA .. NV_DIS, 13 cache segments, 14..15 segment size
//   control page 0x0A (SPC-4), 12 bytes: 0 PS | page code, 1 page length 0x0A,
//     2 TST TMF_ONLY DPICZ D_SENSE GLTSD RLEC, 3 queue algorithm modifier NUAR
//     QERR, 4 RAC UA_INTLCK_CTRL SWP, 5 ATO TAS ATMPE RWWP autoload mode,
//     8..9 busy timeout period, 10..11 extended self-test completion time
#pragma once

#include <cstddef>
#include <cstdint>

#include "splitpath/fc/wire.h"

namespace splitpath::fc {

// ---------------------------------------------------------- MODE SENSE

namespace mode_page {
inline constexpr uint8_t kCaching = 0x08;
inline constexpr uint8_t kControl = 0x0A;
inline constexpr uint8_t kAllPages = 0x3F;
}  // namespace mode_page
inline constexpr size_t kCachingPageSize = 20;
inline constexpr size_t kControlPageSize = 12;
static_assert(kCachingPageSize == 2 + 0x12 && kControlPageSize == 2 + 0x0A);
inline constexpr uint8_t kDeviceSpecificWp = 0x80;
inline constexpr uint8_t kDeviceSpecificDpoFua = 0x10;

struct BlockDescriptor {
  uint64_t number_of_blocks = 0;  // short form saturates at 0xFFFFFFFF
  uint32_t block_length = 512;    // 24 bits in the short form
  friend constexpr bool operator==(const BlockDescriptor&, const BlockDescriptor&) = default;
};

struct CachingPage {
  bool ps = false;  // parameters saveable
  bool ic = false;
  bool abpf = false;
  bool cap = false;
  bool disc = false;
  bool size = false;
  bool wce = false;  // write cache enabled
  bool mf = false;
  bool rcd = false;                            // read cache disabled
  uint8_t demand_read_retention_priority = 0;  // 0..15
  uint8_t write_retention_priority = 0;        // 0..15
  uint16_t disable_prefetch_transfer_length = 0;
  uint16_t minimum_prefetch = 0;
  uint16_t maximum_prefetch = 0;
  uint16_t maximum_prefetch_ceiling = 0;
  bool fsw = false;
  bool lbcss = false;
  bool dra = false;
  bool nv_dis = false;
  uint8_t number_of_cache_segments = 0;
  uint16_t cache_segment_size = 0;
  friend constexpr bool operator==(const CachingPage&, const CachingPage&) = default;
};

struct ControlPage {
  bool ps = false;
  uint8_t tst = 0;  // 0..7
  bool tmf_only = false;
  bool dpicz = false;
  bool d_sense = false;  // descriptor-format sense wanted
  bool gltsd = false;
  bool rlec = false;
  uint8_t queue_algorithm_modifier = 0;  // 0..15; 1 = unrestricted reordering
  bool nuar = false;
  uint8_t qerr = 0;  // 0..3
  bool rac = false;
  uint8_t ua_intlck_ctrl = 0;  // 0..3
  bool swp = false;
  bool ato = false;
  bool tas = false;
  bool atmpe = false;
  bool rwwp = false;
  uint8_t autoload_mode = 0;  // 0..7
  uint16_t busy_timeout_period = 0;
  uint16_t extended_self_test_completion_time = 0;
  friend constexpr bool operator==(const ControlPage&, const ControlPage&) = default;
};

// What MODE SENSE returns. The disk fills the pages it was asked for (one page
// code, or both for mode_page::kAllPages) and sets has_block_descriptor = !DBD.
struct ModeSenseData {
  uint8_t medium_type = 0;
  uint8_t device_specific = 0;  // kDeviceSpecificWp, kDeviceSpecificDpoFua
  bool long_lba = false;        // MODE SENSE(10) only: 16-byte block descriptor
  bool has_block_descriptor = false;
  BlockDescriptor block_descriptor;
  bool has_caching = false;
  CachingPage caching;
  bool has_control = false;
  ControlPage control;
  friend constexpr bool operator==(const ModeSenseData&, const ModeSenseData&) = default;
};

namespace detail {
constexpr void encode_caching_page(const CachingPage& c, uint8_t* p) {
  p[0] = static_cast<uint8_t>((c.ps ? 0x80 : 0) | mode_page::kCaching);
  p[1] = kCachingPageSize - 2;
  p[2] = static_cast<uint8_t>((c.ic ? 0x80 : 0) | (c.abpf ? 0x40 : 0) | (c.cap ? 0x20 : 0) |
                              (c.disc ? 0x10 : 0) | (c.size ? 0x08 : 0) | (c.wce ? 0x04 : 0) |
                              (c.mf ? 0x02 : 0) | (c.rcd ? 0x01 : 0));
  p[3] = static_cast<uint8_t>((c.demand_read_retention_priority << 4) |
                              (c.write_retention_priority & 0x0F));
  store_be16(p + 4, c.disable_prefetch_transfer_length);
  store_be16(p + 6, c.minimum_prefetch);
  store_be16(p + 8, c.maximum_prefetch);
  store_be16(p + 10, c.maximum_prefetch_ceiling);
  p[12] = static_cast<uint8_t>((c.fsw ? 0x80 : 0) | (c.lbcss ? 0x40 : 0) | (c.dra ? 0x20 : 0) |
                               (c.nv_dis ? 0x01 : 0));
  p[13] = c.number_of_cache_segments;
  store_be16(p + 14, c.cache_segment_size);
  for (size_t i = 16; i < kCachingPageSize; ++i)
    p[i] = 0;
}
constexpr CachingPage decode_caching_page(const uint8_t* p) {
  CachingPage c;
  c.ps = (p[0] & 0x80) != 0;
  c.ic = (p[2] & 0x80) != 0;
  c.abpf = (p[2] & 0x40) != 0;
  c.cap = (p[2] & 0x20) != 0;
  c.disc = (p[2] & 0x10) != 0;
  c.size = (p[2] & 0x08) != 0;
  c.wce = (p[2] & 0x04) != 0;
  c.mf = (p[2] & 0x02) != 0;
  c.rcd = (p[2] & 0x01) != 0;
  c.demand_read_retention_priority = p[3] >> 4;
  c.write_retention_priority = p[3] & 0x0F;
  c.disable_prefetch_transfer_length = load_be16(p + 4);
  c.minimum_prefetch = load_be16(p + 6);
  c.maximum_prefetch = load_be16(p + 8);
  c.maximum_prefetch_ceiling = load_be16(p + 10);
  c.fsw = (p[12] & 0x80) != 0;
  c.lbcss = (p[12] & 0x40) != 0;
  c.dra = (p[12] & 0x20) != 0;
  c.nv_dis = (p[12] & 0x01) != 0;
  c.number_of_cache_segments = p[13];
  c.cache_segment_size = load_be16(p + 14);
  return c;
}
constexpr void encode_control_page(const ControlPage& c, uint8_t* p) {
  p[0] = static_cast<uint8_t>((c.ps ? 0x80 : 0) | mode_page::kControl);
  p[1] = kControlPageSize - 2;
  p[2] = static_cast<uint8_t>((c.tst << 5) | (c.tmf_only ? 0x10 : 0) | (c.dpicz ? 0x08 : 0) |
                              (c.d_sense ? 0x04 : 0) | (c.gltsd ? 0x02 : 0) | (c.rlec ? 0x01 : 0));
  p[3] = static_cast<uint8_t>((c.queue_algorithm_modifier << 4) | (c.nuar ? 0x08 : 0) |
                              ((c.qerr & 0x3) << 1));
  p[4] = static_cast<uint8_t>((c.rac ? 0x40 : 0) | ((c.ua_intlck_ctrl & 0x3) << 4) |
                              (c.swp ? 0x08 : 0));
  p[5] = static_cast<uint8_t>((c.ato ? 0x80 : 0) | (c.tas ? 0x40 : 0) | (c.atmpe ? 0x20 : 0) |
                              (c.rwwp ? 0x10 : 0) | (c.autoload_mode & 0x7));
  p[6] = 0;
  p[7] = 0;
  store_be16(p + 8, c.busy_timeout_period);
  store_be16(p + 10, c.extended_self_test_completion_time);
}
constexpr ControlPage decode_control_page(const uint8_t* p) {
  ControlPage c;
  c.ps = (p[0] & 0x80) != 0;
  c.tst = p[2] >> 5;
  c.tmf_only = (p[2] & 0x10) != 0;
  c.dpicz = (p[2] & 0x08) != 0;
  c.d_sense = (p[2] & 0x04) != 0;
  c.gltsd = (p[2] & 0x02) != 0;
  c.rlec = (p[2] & 0x01) != 0;
  c.queue_algorithm_modifier = p[3] >> 4;
  c.nuar = (p[3] & 0x08) != 0;
  c.qerr = (p[3] >> 1) & 0x3;
  c.rac = (p[4] & 0x40) != 0;
  c.ua_intlck_ctrl = (p[4] >> 4) & 0x3;
  c.swp = (p[4] & 0x08) != 0;
  c.ato = (p[5] & 0x80) != 0;
  c.tas = (p[5] & 0x40) != 0;
  c.atmpe = (p[5] & 0x20) != 0;
  c.rwwp = (p[5] & 0x10) != 0;
  c.autoload_mode = p[5] & 0x7;
  c.busy_timeout_period = load_be16(p + 8);
  c.extended_self_test_completion_time = load_be16(p + 10);
  return c;
}
}  // namespace detail

constexpr size_t mode_sense_size(const ModeSenseData& m, bool ten) {
  size_t n = ten ? 8 : 4;
  if (m.has_block_descriptor) n += (ten && m.long_lba) ? 16 : 8;
  if (m.has_caching) n += kCachingPageSize;
  if (m.has_control) n += kControlPageSize;
  return n;
}

// Writes the full mode parameter list for MODE SENSE(6) (ten = false) or (10):
// header, optional block descriptor, then the caching and control pages in page
// code order. The caller truncates to the allocation length. Errors: long_lba with
// the 6-byte form, block length above 24 bits in a short descriptor, or a field
// out of range (kBadValue); output too small (kBufferTooSmall).
constexpr WireResult<size_t> encode_mode_sense(const ModeSenseData& m, bool ten, MutableBytes out) {
  if (m.long_lba && !ten) return wire_error(WireErrc::kBadValue, "long_lba", 4);
  const bool long_bd = ten && m.long_lba;
  if (m.has_block_descriptor && !long_bd && m.block_descriptor.block_length > 0xFFFFFF) {
    return wire_error(WireErrc::kBadValue, "block_length", 0);
  }
  if (m.has_control && (m.control.tst > 7 || m.control.queue_algorithm_modifier > 15)) {
    return wire_error(WireErrc::kBadValue, "control_page", 0);
  }
  if (m.has_caching &&
      (m.caching.demand_read_retention_priority > 15 || m.caching.write_retention_priority > 15)) {
    return wire_error(WireErrc::kBadValue, "caching_page", 0);
  }
  const size_t n = mode_sense_size(m, ten);
  if (!ten && n > 256) return wire_error(WireErrc::kBadValue, "mode_data_length", 0);
  if (out.size() < n) return wire_error(WireErrc::kBufferTooSmall, "mode_sense", 0);
  uint8_t* p = out.data();
  const size_t bd_len = m.has_block_descriptor ? (long_bd ? 16 : 8) : 0;
  size_t off = 0;
  if (ten) {
    store_be16(p, static_cast<uint16_t>(n - 2));
    p[2] = m.medium_type;
    p[3] = m.device_specific;
    p[4] = long_bd ? 0x01 : 0;
    p[5] = 0;
    store_be16(p + 6, static_cast<uint16_t>(bd_len));
    off = 8;
  } else {
    p[0] = static_cast<uint8_t>(n - 1);
    p[1] = m.medium_type;
    p[2] = m.device_specific;
    p[3] = static_cast<uint8_t>(bd_len);
    off = 4;
  }
  if (m.has_block_descriptor) {
    const BlockDescriptor& b = m.block_descriptor;
    if (long_bd) {
      store_be64(p + off, b.number_of_blocks);
      store_be32(p + off + 8, 0);
      store_be32(p + off + 12, b.block_length);
    } else {
      store_be32(p + off, b.number_of_blocks > 0xFFFFFFFFu
                              ? 0xFFFFFFFFu
                              : static_cast<uint32_t>(b.number_of_blocks));
      p[off + 4] = 0;
      store_be24(p + off + 5, b.block_length);
    }
    off += bd_len;
  }
  if (m.has_caching) {
    detail::encode_caching_page(m.caching, p + off);
    off += kCachingPageSize;
  }
  if (m.has_control) detail::encode_control_page(m.control, p + off);
  return n;
}

// Decodes MODE SENSE(6) (ten = false) or (10) data. Pages other than caching and
// control, and subpages, are skipped. Errors: buffer shorter than the header or the
// mode data length (kTruncated / kBadLength "mode_data_length", 0); block descriptor
// length other than 0 or 8 (16 with LONGLBA) (kBadValue "block_descriptor_length");
// descriptor or a page running past the data (kBadLength "block_descriptor_length" /
// "page_length"); caching or control page with the wrong page length (kBadLength
// "page_length").
constexpr WireResult<ModeSenseData> decode_mode_sense(ConstBytes data, bool ten) {
  const size_t hdr = ten ? 8 : 4;
  if (data.size() < hdr) {
    return wire_error(WireErrc::kTruncated, "mode_header", static_cast<uint32_t>(data.size()));
  }
  const uint8_t* p = data.data();
  const size_t total = ten ? size_t{load_be16(p)} + 2 : size_t{p[0]} + 1;
  if (total < hdr || total > data.size()) {
    return wire_error(WireErrc::kBadLength, "mode_data_length", 0);
  }
  ModeSenseData m;
  size_t bd_len = 0;
  if (ten) {
    m.medium_type = p[2];
    m.device_specific = p[3];
    m.long_lba = (p[4] & 0x01) != 0;
    bd_len = load_be16(p + 6);
  } else {
    m.medium_type = p[1];
    m.device_specific = p[2];
    bd_len = p[3];
  }
  const uint32_t bd_field = ten ? 6 : 3;
  if (bd_len != 0 && bd_len != (m.long_lba ? 16u : 8u)) {
    return wire_error(WireErrc::kBadValue, "block_descriptor_length", bd_field);
  }
  if (hdr + bd_len > total)
    return wire_error(WireErrc::kBadLength, "block_descriptor_length", bd_field);
  if (bd_len != 0) {
    m.has_block_descriptor = true;
    const uint8_t* b = p + hdr;
    if (m.long_lba) {
      m.block_descriptor = {load_be64(b), load_be32(b + 12)};
    } else {
      m.block_descriptor = {load_be32(b), load_be24(b + 5)};
    }
  }
  size_t off = hdr + bd_len;
  while (off < total) {
    const uint32_t o = static_cast<uint32_t>(off);
    if (off + 2 > total) return wire_error(WireErrc::kBadLength, "page_length", o);
    const bool spf = (p[off] & 0x40) != 0;
    size_t page_len = 0;
    if (spf) {
      if (off + 4 > total) return wire_error(WireErrc::kBadLength, "page_length", o + 2);
      page_len = 4 + size_t{load_be16(p + off + 2)};
    } else {
      page_len = 2 + size_t{p[off + 1]};
    }
    if (off + page_len > total) return wire_error(WireErrc::kBadLength, "page_length", o + 1);
    const uint8_t code = p[off] & 0x3F;
    if (!spf && code == mode_page::kCaching) {
      if (page_len != kCachingPageSize)
        return wire_error(WireErrc::kBadLength, "page_length", o + 1);
      m.has_caching = true;
      m.caching = detail::decode_caching_page(p + off);
    } else if (!spf && code == mode_page::kControl) {
      if (page_len != kControlPageSize)
        return wire_error(WireErrc::kBadLength, "page_length", o + 1);
      m.has_control = true;
      m.control = detail::decode_control_page(p + off);
    }
    off += page_len;
  }
  return m;
}

}  // namespace splitpath::fc
