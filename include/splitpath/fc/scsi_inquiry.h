// INQUIRY data (SPC-4) and the vital product data pages a disk serves
// (SPC-4): 0x00 supported pages, 0x80 unit serial number, 0x83 device
// identification.
//
//   standard INQUIRY data, 36 bytes as encoded here:
//     0 bits 7..5 peripheral qualifier, 4..0 device type; 1 bit 7 RMB; 2 version;
//     3 bit 5 NormACA, bit 4 HiSup, bits 3..0 response data format (2);
//     4 additional length (n - 5; 31); 5 SCCS ACC TPGS(2) 3PC - - PROTECT;
//     6 bit 6 EncServ, bit 4 MultiP; 7 bit 1 CmdQue;
//     8..15 T10 vendor, 16..31 product, 32..35 revision (ASCII, space padded)
//   with version descriptors, 96 bytes (additional length 91): 36..57 zero,
//     58..73 eight 2-byte version descriptors, 74..95 zero
//   VPD page: 0 qualifier/type, 1 page code, 2..3 page length (n - 4), 4.. page
//   designation descriptor (page 0x83): 0 bits 7..4 protocol identifier, 3..0 code
//     set; 1 bit 7 PIV, bits 5..4 association, 3..0 designator type; 3 designator
//     length; 4.. designator
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "splitpath/fc/wire.h"

namespace splitpath::fc {

inline constexpr size_t kStandardInquirySize = 36;
inline constexpr uint8_t kDeviceTypeDisk = 0x00;  // direct access block device
inline constexpr uint8_t kDeviceTypeUnknown = 0x1F;
inline constexpr uint8_t kQualifierNotPresent = 0x3;  // with kDeviceTypeUnknown: no LU
inline constexpr uint8_t kVersionSpc4 = 0x06;
static_assert(kStandardInquirySize == 8 + 8 + 16 + 4);
inline constexpr size_t kLongInquirySize = 96;  // with the version descriptors
inline constexpr size_t kVersionDescriptorsOffset = 58;

// Version descriptors (SPC-4 table 8): the standards a device claims.
namespace version_descriptor {
inline constexpr uint16_t kSam5 = 0x00A0;
inline constexpr uint16_t kSpc4 = 0x0460;
inline constexpr uint16_t kSbc3 = 0x04C0;
inline constexpr uint16_t kFcp4 = 0x0A40;
}  // namespace version_descriptor

// Copies `text` into a fixed ASCII field, truncating or padding with spaces.
constexpr void set_ascii_field(std::span<char> field, std::string_view text) {
  for (size_t i = 0; i < field.size(); ++i)
    field[i] = i < text.size() ? text[i] : ' ';
}

struct InquiryData {
  uint8_t peripheral_qualifier = 0;
  uint8_t device_type = kDeviceTypeDisk;
  bool rmb = false;
  uint8_t version = kVersionSpc4;
  bool norm_aca = false;
  bool hisup = false;
  bool sccs = false;
  bool acc = false;
  uint8_t tpgs = 0;  // 0..3
  bool three_pc = false;
  bool protect = false;
  bool enc_serv = false;
  bool multi_p = false;
  bool cmd_que = true;
  std::array<char, 8> vendor{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  std::array<char, 16> product{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
                               ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  std::array<char, 4> revision{' ', ' ', ' ', ' '};
  std::array<uint16_t, 8> version_descriptors{};  // all zero: the 36-byte form

  friend constexpr bool operator==(const InquiryData&, const InquiryData&) = default;
};

// Decodes standard INQUIRY data; bytes past 36 are ignored. Errors: fewer than 36
// bytes (kTruncated); response data format other than 2 (kUnsupported
// "response_data_format", 3); additional length below 31 (kBadLength
// "additional_length", 4).
constexpr WireResult<InquiryData> decode_inquiry_data(ConstBytes data) {
  if (data.size() < kStandardInquirySize) {
    return wire_error(WireErrc::kTruncated, "inquiry_data", static_cast<uint32_t>(data.size()));
  }
  const uint8_t* p = data.data();
  if ((p[3] & 0x0F) != 2) return wire_error(WireErrc::kUnsupported, "response_data_format", 3);
  if (p[4] < kStandardInquirySize - 5) {
    return wire_error(WireErrc::kBadLength, "additional_length", 4);
  }
  InquiryData d;
  d.peripheral_qualifier = p[0] >> 5;
  d.device_type = p[0] & 0x1F;
  d.rmb = (p[1] & 0x80) != 0;
  d.version = p[2];
  d.norm_aca = (p[3] & 0x20) != 0;
  d.hisup = (p[3] & 0x10) != 0;
  d.sccs = (p[5] & 0x80) != 0;
  d.acc = (p[5] & 0x40) != 0;
  d.tpgs = (p[5] >> 4) & 0x3;
  d.three_pc = (p[5] & 0x08) != 0;
  d.protect = (p[5] & 0x01) != 0;
  d.enc_serv = (p[6] & 0x40) != 0;
  d.multi_p = (p[6] & 0x10) != 0;
  d.cmd_que = (p[7] & 0x02) != 0;
  for (size_t i = 0; i < 8; ++i)
    d.vendor[i] = static_cast<char>(p[8 + i]);
  for (size_t i = 0; i < 16; ++i)
    d.product[i] = static_cast<char>(p[16 + i]);
  for (size_t i = 0; i < 4; ++i)
    d.revision[i] = static_cast<char>(p[32 + i]);
  // Version descriptors count only when the data and its additional length hold them.
  const size_t held = std::min<size_t>(data.size(), size_t{p[4]} + 5);
  for (size_t i = 0; i < d.version_descriptors.size(); ++i) {
    const size_t at = kVersionDescriptorsOffset + 2 * i;
    if (at + 2 <= held) d.version_descriptors[i] = load_be16(p + at);
  }
  return d;
}

// Writes 36 bytes (additional length 31), or 96 (91) with version descriptors. Errors: qualifier
// above 7, device type above 31 or TPGS above 3 (kBadValue); output too small (kBufferTooSmall).
constexpr WireResult<size_t> encode_inquiry_data(const InquiryData& d, MutableBytes out) {
  if (d.peripheral_qualifier > 7 || d.device_type > 0x1F) {
    return wire_error(WireErrc::kBadValue, "peripheral", 0);
  }
  if (d.tpgs > 3) return wire_error(WireErrc::kBadValue, "tpgs", 5);
  bool versions = false;
  for (uint16_t v : d.version_descriptors)
    versions = versions || v != 0;
  const size_t n = versions ? kLongInquirySize : kStandardInquirySize;
  if (out.size() < n) return wire_error(WireErrc::kBufferTooSmall, "inquiry_data", 0);
  uint8_t* p = out.data();
  for (size_t i = 0; i < n; ++i)
    p[i] = 0;
  p[0] = static_cast<uint8_t>((d.peripheral_qualifier << 5) | d.device_type);
  p[1] = d.rmb ? 0x80 : 0;
  p[2] = d.version;
  p[3] = static_cast<uint8_t>((d.norm_aca ? 0x20 : 0) | (d.hisup ? 0x10 : 0) | 2);
  p[4] = static_cast<uint8_t>(n - 5);
  p[5] = static_cast<uint8_t>((d.sccs ? 0x80 : 0) | (d.acc ? 0x40 : 0) | (d.tpgs << 4) |
                              (d.three_pc ? 0x08 : 0) | (d.protect ? 0x01 : 0));
  p[6] = static_cast<uint8_t>((d.enc_serv ? 0x40 : 0) | (d.multi_p ? 0x10 : 0));
  p[7] = d.cmd_que ? 0x02 : 0;
  for (size_t i = 0; i < 8; ++i)
    p[8 + i] = static_cast<uint8_t>(d.vendor[i]);
  for (size_t i = 0; i < 16; ++i)
    p[16 + i] = static_cast<uint8_t>(d.product[i]);
  for (size_t i = 0; i < 4; ++i)
    p[32 + i] = static_cast<uint8_t>(d.revision[i]);
  if (versions) {
    for (size_t i = 0; i < d.version_descriptors.size(); ++i)
      store_be16(p + kVersionDescriptorsOffset + 2 * i, d.version_descriptors[i]);
  }
  return n;
}

// ------------------------------------------------------------------ VPD

namespace vpd_page {
inline constexpr uint8_t kSupportedPages = 0x00;
inline constexpr uint8_t kUnitSerialNumber = 0x80;
inline constexpr uint8_t kDeviceIdentification = 0x83;
inline constexpr uint8_t kBlockLimits = 0xB0;
inline constexpr uint8_t kBlockDeviceCharacteristics = 0xB1;
inline constexpr uint8_t kLogicalBlockProvisioning = 0xB2;
}  // namespace vpd_page

inline constexpr size_t kVpdHeaderSize = 4;
inline constexpr size_t kMaxVpdPages = 32;
inline constexpr size_t kMaxUnitSerialLength = 64;
inline constexpr size_t kMaxDesignators = 8;
inline constexpr size_t kMaxDesignatorLength = 64;

namespace detail {
// Checks the 4-byte VPD header and that the page length fits `data`; returns the
// page length or the error.
constexpr WireResult<uint16_t> check_vpd(ConstBytes data, uint8_t page_code) {
  if (data.size() < kVpdHeaderSize) {
    return wire_error(WireErrc::kTruncated, "vpd_header", static_cast<uint32_t>(data.size()));
  }
  if (data[1] != page_code) return wire_error(WireErrc::kBadValue, "page_code", 1);
  const uint16_t len = load_be16(data.data() + 2);
  if (kVpdHeaderSize + len > data.size()) {
    return wire_error(WireErrc::kBadLength, "page_length", 2);
  }
  return len;
}
constexpr void put_vpd_header(uint8_t* p, uint8_t qualifier, uint8_t type, uint8_t page,
                              size_t len) {
  p[0] = static_cast<uint8_t>((qualifier << 5) | (type & 0x1F));
  p[1] = page;
  store_be16(p + 2, static_cast<uint16_t>(len));
}
}  // namespace detail

struct VpdSupportedPages {
  uint8_t peripheral_qualifier = 0;
  uint8_t device_type = kDeviceTypeDisk;
  uint8_t count = 0;
  std::array<uint8_t, kMaxVpdPages> pages{};  // ascending; entries past count are zero

  friend constexpr bool operator==(const VpdSupportedPages&, const VpdSupportedPages&) = default;
};

// Errors: header/page length (see check_vpd: kTruncated, kBadValue "page_code",
// kBadLength "page_length"); more than kMaxVpdPages (kUnsupported "page_length", 2).
constexpr WireResult<VpdSupportedPages> decode_vpd_supported_pages(ConstBytes data) {
  auto len = detail::check_vpd(data, vpd_page::kSupportedPages);
  if (!len.ok()) return len.error();
  if (*len > kMaxVpdPages) return wire_error(WireErrc::kUnsupported, "page_length", 2);
  VpdSupportedPages v;
  v.peripheral_qualifier = data[0] >> 5;
  v.device_type = data[0] & 0x1F;
  v.count = static_cast<uint8_t>(*len);
  for (size_t i = 0; i < v.count; ++i)
    v.pages[i] = data[kVpdHeaderSize + i];
  return v;
}

constexpr WireResult<size_t> encode_vpd_supported_pages(const VpdSupportedPages& v,
                                                        MutableBytes out) {
  if (v.count > kMaxVpdPages) return wire_error(WireErrc::kBadValue, "count", 2);
  const size_t n = kVpdHeaderSize + v.count;
  if (out.size() < n) return wire_error(WireErrc::kBufferTooSmall, "vpd_page", 0);
  detail::put_vpd_header(out.data(), v.peripheral_qualifier, v.device_type,
                         vpd_page::kSupportedPages, v.count);
  for (size_t i = 0; i < v.count; ++i)
    out[kVpdHeaderSize + i] = v.pages[i];
  return n;
}

struct VpdUnitSerialNumber {
  uint8_t peripheral_qualifier = 0;
  uint8_t device_type = kDeviceTypeDisk;
  uint8_t length = 0;
  std::array<char, kMaxUnitSerialLength> serial{};  // ASCII; entries past length are zero

  constexpr std::string_view text() const { return std::string_view(serial.data(), length); }
  friend constexpr bool operator==(const VpdUnitSerialNumber&,
                                   const VpdUnitSerialNumber&) = default;
};

constexpr VpdUnitSerialNumber make_vpd_unit_serial_number(std::string_view serial) {
  VpdUnitSerialNumber v;
  v.length = static_cast<uint8_t>(serial.size() < kMaxUnitSerialLength ? serial.size()
                                                                       : kMaxUnitSerialLength);
  for (size_t i = 0; i < v.length; ++i)
    v.serial[i] = serial[i];
  return v;
}

// Errors: as check_vpd; a serial longer than kMaxUnitSerialLength (kUnsupported
// "page_length", 2).
constexpr WireResult<VpdUnitSerialNumber> decode_vpd_unit_serial_number(ConstBytes data) {
  auto len = detail::check_vpd(data, vpd_page::kUnitSerialNumber);
  if (!len.ok()) return len.error();
  if (*len > kMaxUnitSerialLength) return wire_error(WireErrc::kUnsupported, "page_length", 2);
  VpdUnitSerialNumber v;
  v.peripheral_qualifier = data[0] >> 5;
  v.device_type = data[0] & 0x1F;
  v.length = static_cast<uint8_t>(*len);
  for (size_t i = 0; i < v.length; ++i)
    v.serial[i] = static_cast<char>(data[kVpdHeaderSize + i]);
  return v;
}

constexpr WireResult<size_t> encode_vpd_unit_serial_number(const VpdUnitSerialNumber& v,
                                                           MutableBytes out) {
  if (v.length > kMaxUnitSerialLength) return wire_error(WireErrc::kBadValue, "length", 2);
  const size_t n = kVpdHeaderSize + v.length;
  if (out.size() < n) return wire_error(WireErrc::kBufferTooSmall, "vpd_page", 0);
  detail::put_vpd_header(out.data(), v.peripheral_qualifier, v.device_type,
                         vpd_page::kUnitSerialNumber, v.length);
  for (size_t i = 0; i < v.length; ++i)
    out[kVpdHeaderSize + i] = static_cast<uint8_t>(v.serial[i]);
  return n;
}

// ------------------------------------------- device identification (0x83)

namespace designator_type {
inline constexpr uint8_t kVendorSpecific = 0x0;
inline constexpr uint8_t kT10VendorId = 0x1;
inline constexpr uint8_t kEui64 = 0x2;
inline constexpr uint8_t kNaa = 0x3;
inline constexpr uint8_t kRelativeTargetPort = 0x4;
inline constexpr uint8_t kTargetPortGroup = 0x5;
inline constexpr uint8_t kLogicalUnitGroup = 0x6;
inline constexpr uint8_t kMd5LogicalUnit = 0x7;
inline constexpr uint8_t kScsiNameString = 0x8;
}  // namespace designator_type
namespace code_set {
inline constexpr uint8_t kBinary = 0x1;
inline constexpr uint8_t kAscii = 0x2;
inline constexpr uint8_t kUtf8 = 0x3;
}  // namespace code_set
namespace designator_association {
inline constexpr uint8_t kLogicalUnit = 0x0;
inline constexpr uint8_t kTargetPort = 0x1;
inline constexpr uint8_t kTargetDevice = 0x2;
}  // namespace designator_association
// Protocol identifiers (SPC-4); meaningful when PIV is set.
inline constexpr uint8_t kProtocolIdFibreChannel = 0x0;

struct Designator {
  uint8_t protocol_identifier = 0;
  uint8_t code_set = code_set::kBinary;
  bool piv = false;
  uint8_t association = designator_association::kLogicalUnit;
  uint8_t type = designator_type::kNaa;
  uint8_t length = 0;
  std::array<uint8_t, kMaxDesignatorLength> value{};  // entries past length are zero

  friend constexpr bool operator==(const Designator&, const Designator&) = default;
};

// NAA designator (8 bytes, binary), e.g. an NAA 5 or NAA 6 identifier or a WWPN
// (NAA 2/5). Target-port and target-device designators carry PIV and protocol FC.
constexpr Designator make_naa_designator(
    uint64_t naa, uint8_t association = designator_association::kLogicalUnit) {
  Designator d;
  d.association = association;
  d.type = designator_type::kNaa;
  d.piv = association != designator_association::kLogicalUnit;
  d.protocol_identifier = kProtocolIdFibreChannel;
  d.length = 8;
  store_be64(d.value.data(), naa);
  return d;
}
// The first 8 bytes of an NAA designator; the 16-byte NAA 6 form's extension is
// left in value[8..15].
constexpr uint64_t designator_naa(const Designator& d) {
  return load_be64(d.value.data());
}

// T10 vendor ID designator (ASCII): vendor padded to 8 bytes, then `id`, truncated
// to kMaxDesignatorLength in total.
constexpr Designator make_t10_vendor_designator(std::string_view vendor, std::string_view id) {
  Designator d;
  d.code_set = code_set::kAscii;
  d.type = designator_type::kT10VendorId;
  for (size_t i = 0; i < 8; ++i)
    d.value[i] = static_cast<uint8_t>(i < vendor.size() ? vendor[i] : ' ');
  size_t n = 8;
  for (size_t i = 0; i < id.size() && n < kMaxDesignatorLength; ++i) {
    d.value[n++] = static_cast<uint8_t>(id[i]);
  }
  d.length = static_cast<uint8_t>(n);
  return d;
}

// Relative target port designator (association target port, 4 bytes).
constexpr Designator make_relative_target_port_designator(uint16_t port) {
  Designator d;
  d.piv = true;
  d.protocol_identifier = kProtocolIdFibreChannel;
  d.association = designator_association::kTargetPort;
  d.type = designator_type::kRelativeTargetPort;
  d.length = 4;
  store_be16(d.value.data() + 2, port);
  return d;
}

struct VpdDeviceIdentification {
  uint8_t peripheral_qualifier = 0;
  uint8_t device_type = kDeviceTypeDisk;
  uint8_t count = 0;
  std::array<Designator, kMaxDesignators> designators{};

  friend constexpr bool operator==(const VpdDeviceIdentification&,
                                   const VpdDeviceIdentification&) = default;
};

// Errors: as check_vpd; a descriptor header or designator running past the page
// (kBadLength "designator" / "designator_length" at the descriptor's offset); a
// reserved code set (kBadValue "code_set"); association 3 (kBadValue "association");
// NAA length not 8 or 16 (kBadLength "designator_length"); more than
// kMaxDesignators or a designator longer than kMaxDesignatorLength (kUnsupported).
constexpr WireResult<VpdDeviceIdentification> decode_vpd_device_identification(ConstBytes data) {
  auto len = detail::check_vpd(data, vpd_page::kDeviceIdentification);
  if (!len.ok()) return len.error();
  VpdDeviceIdentification v;
  v.peripheral_qualifier = data[0] >> 5;
  v.device_type = data[0] & 0x1F;
  const size_t end = kVpdHeaderSize + *len;
  size_t off = kVpdHeaderSize;
  while (off < end) {
    const uint32_t o = static_cast<uint32_t>(off);
    if (off + 4 > end) return wire_error(WireErrc::kBadLength, "designator", o);
    const uint8_t* p = data.data() + off;
    const size_t dlen = p[3];
    if (off + 4 + dlen > end) return wire_error(WireErrc::kBadLength, "designator_length", o + 3);
    if (v.count == kMaxDesignators) return wire_error(WireErrc::kUnsupported, "designator", o);
    if (dlen > kMaxDesignatorLength) {
      return wire_error(WireErrc::kUnsupported, "designator_length", o + 3);
    }
    Designator d;
    d.protocol_identifier = p[0] >> 4;
    d.code_set = p[0] & 0x0F;
    if (d.code_set < code_set::kBinary || d.code_set > code_set::kUtf8) {
      return wire_error(WireErrc::kBadValue, "code_set", o);
    }
    d.piv = (p[1] & 0x80) != 0;
    d.association = (p[1] >> 4) & 0x3;
    if (d.association == 3) return wire_error(WireErrc::kBadValue, "association", o + 1);
    d.type = p[1] & 0x0F;
    if (d.type == designator_type::kNaa && dlen != 8 && dlen != 16) {
      return wire_error(WireErrc::kBadLength, "designator_length", o + 3);
    }
    d.length = static_cast<uint8_t>(dlen);
    for (size_t i = 0; i < dlen; ++i)
      d.value[i] = p[4 + i];
    v.designators[v.count++] = d;
    off += 4 + dlen;
  }
  return v;
}

constexpr size_t vpd_device_identification_size(const VpdDeviceIdentification& v) {
  size_t n = kVpdHeaderSize;
  for (size_t i = 0; i < v.count && i < kMaxDesignators; ++i)
    n += 4 + v.designators[i].length;
  return n;
}

// Errors: count or a designator length above its maximum, or a field out of range
// (kBadValue); output too small (kBufferTooSmall).
constexpr WireResult<size_t> encode_vpd_device_identification(const VpdDeviceIdentification& v,
                                                              MutableBytes out) {
  if (v.count > kMaxDesignators) return wire_error(WireErrc::kBadValue, "count", 2);
  for (size_t i = 0; i < v.count; ++i) {
    const Designator& d = v.designators[i];
    if (d.length > kMaxDesignatorLength || d.protocol_identifier > 0xF || d.code_set > 0xF ||
        d.association > 3 || d.type > 0xF) {
      return wire_error(WireErrc::kBadValue, "designator", static_cast<uint32_t>(i));
    }
  }
  const size_t n = vpd_device_identification_size(v);
  if (out.size() < n) return wire_error(WireErrc::kBufferTooSmall, "vpd_page", 0);
  uint8_t* p = out.data();
  detail::put_vpd_header(p, v.peripheral_qualifier, v.device_type, vpd_page::kDeviceIdentification,
                         n - kVpdHeaderSize);
  size_t off = kVpdHeaderSize;
  for (size_t i = 0; i < v.count; ++i) {
    const Designator& d = v.designators[i];
    p[off] = static_cast<uint8_t>((d.protocol_identifier << 4) | d.code_set);
    p[off + 1] = static_cast<uint8_t>((d.piv ? 0x80 : 0) | (d.association << 4) | d.type);
    p[off + 2] = 0;
    p[off + 3] = d.length;
    for (size_t j = 0; j < d.length; ++j)
      p[off + 4 + j] = d.value[j];
    off += 4 + d.length;
  }
  return n;
}

}  // namespace splitpath::fc
