// SCSI sense data (SPC-4): sense keys, the additional sense codes a disk
// reports, and fixed-format sense data.
//
//   fixed format (SPC-4), 18 bytes as encoded here:
//     0      bit 7 VALID, bits 6..0 response code (0x70 current, 0x71 deferred)
//     2      bit 7 FILEMARK, bit 6 EOM, bit 5 ILI, bits 3..0 sense key
//     3..6   INFORMATION
//     7      additional sense length (n - 8; 10 here)
//     8..11  command-specific information
//     12     ASC, 13 ASCQ, 14 FRU code
//     15..17 bit 7 SKSV, then the sense-key-specific field. For ILLEGAL REQUEST
//            (field pointer format): byte 15 bit 6 C/D (1 = CDB,
//            0 = parameter data), bit 3 BPV, bits 2..0 bit pointer; 16..17 field
//            pointer (byte offset of the bad field).
#pragma once

#include <cstddef>
#include <cstdint>

#include "splitpath/fc/wire.h"

namespace splitpath::fc {

namespace sense_key {
inline constexpr uint8_t kNoSense = 0x0;
inline constexpr uint8_t kRecoveredError = 0x1;
inline constexpr uint8_t kNotReady = 0x2;
inline constexpr uint8_t kMediumError = 0x3;
inline constexpr uint8_t kHardwareError = 0x4;
inline constexpr uint8_t kIllegalRequest = 0x5;
inline constexpr uint8_t kUnitAttention = 0x6;
inline constexpr uint8_t kDataProtect = 0x7;
inline constexpr uint8_t kBlankCheck = 0x8;
inline constexpr uint8_t kVendorSpecific = 0x9;
inline constexpr uint8_t kCopyAborted = 0xA;
inline constexpr uint8_t kAbortedCommand = 0xB;
inline constexpr uint8_t kVolumeOverflow = 0xD;
inline constexpr uint8_t kMiscompare = 0xE;
inline constexpr uint8_t kCompleted = 0xF;
}  // namespace sense_key

struct AscAscq {
  uint8_t asc = 0;
  uint8_t ascq = 0;
  friend constexpr bool operator==(AscAscq, AscAscq) = default;
};

// Additional sense codes (SPC-4 annex D). RESERVATION CONFLICT is a status with no
// sense data.
namespace asc {
inline constexpr AscAscq kNoAdditionalSense{0x00, 0x00};
inline constexpr AscAscq kLogicalUnitNotReady{0x04, 0x00};  // cause not reportable
inline constexpr AscAscq kLogicalUnitBecomingReady{0x04, 0x01};
inline constexpr AscAscq kLogicalUnitCommunicationFailure{0x08, 0x00};
inline constexpr AscAscq kLogicalUnitCommunicationTimeout{0x08, 0x01};
inline constexpr AscAscq kWriteError{0x0C, 0x00};
inline constexpr AscAscq kUnrecoveredReadError{0x11, 0x00};
inline constexpr AscAscq kParameterListLengthError{0x1A, 0x00};
inline constexpr AscAscq kMiscompareDuringVerify{0x1D, 0x00};
inline constexpr AscAscq kInvalidCommandOperationCode{0x20, 0x00};
inline constexpr AscAscq kLbaOutOfRange{0x21, 0x00};
inline constexpr AscAscq kInvalidFieldInCdb{0x24, 0x00};
inline constexpr AscAscq kLogicalUnitNotSupported{0x25, 0x00};
inline constexpr AscAscq kInvalidFieldInParameterList{0x26, 0x00};
inline constexpr AscAscq kWriteProtected{0x27, 0x00};
inline constexpr AscAscq kPowerOnReset{0x29, 0x00};
inline constexpr AscAscq kParametersChanged{0x2A, 0x00};
inline constexpr AscAscq kModeParametersChanged{0x2A, 0x01};
inline constexpr AscAscq kReservationsPreempted{0x2A, 0x03};
inline constexpr AscAscq kReservationsReleased{0x2A, 0x04};
inline constexpr AscAscq kRegistrationsPreempted{0x2A, 0x05};
inline constexpr AscAscq kCapacityDataChanged{0x2A, 0x09};
inline constexpr AscAscq kCommandsClearedByAnotherInitiator{0x2F, 0x00};
inline constexpr AscAscq kSavingParametersNotSupported{0x39, 0x00};
inline constexpr AscAscq kMediumNotPresent{0x3A, 0x00};
inline constexpr AscAscq kInquiryDataChanged{0x3F, 0x03};
inline constexpr AscAscq kReportedLunsDataChanged{0x3F, 0x0E};
inline constexpr AscAscq kInternalTargetFailure{0x44, 0x00};
}  // namespace asc

inline constexpr size_t kFixedSenseSize = 18;
inline constexpr size_t kFixedSenseMinSize = 8;  // through the additional sense length
inline constexpr uint8_t kSenseCurrentFixed = 0x70;
inline constexpr uint8_t kSenseDeferredFixed = 0x71;
static_assert(kFixedSenseSize == kFixedSenseMinSize + 10);

// Sense-key-specific field (bytes 15..17 without SKSV), 23 bits. For ILLEGAL REQUEST
// it is a field pointer; make_field_pointer / the accessors below build and read it.
constexpr uint32_t make_field_pointer(bool in_cdb, uint16_t byte_offset, bool bit_valid = false,
                                      uint8_t bit = 0) {
  return (in_cdb ? 0x400000u : 0u) | (bit_valid ? 0x080000u : 0u) | (uint32_t{bit & 0x7u} << 16) |
         byte_offset;
}
constexpr bool field_pointer_in_cdb(uint32_t sks) {
  return (sks & 0x400000u) != 0;
}
constexpr bool field_pointer_bit_valid(uint32_t sks) {
  return (sks & 0x080000u) != 0;
}
constexpr uint8_t field_pointer_bit(uint32_t sks) {
  return (sks >> 16) & 0x7;
}
constexpr uint16_t field_pointer_offset(uint32_t sks) {
  return static_cast<uint16_t>(sks);
}

struct SenseData {
  bool deferred = false;  // response code 0x71 instead of 0x70
  bool valid = false;     // INFORMATION holds a meaningful value
  bool filemark = false;
  bool eom = false;
  bool ili = false;
  uint8_t sense_key = 0;  // sense_key::
  uint32_t information = 0;
  uint32_t command_specific = 0;
  AscAscq code;  // asc::
  uint8_t fru = 0;
  bool sksv = false;
  uint32_t sense_key_specific = 0;  // 23 bits

  friend constexpr bool operator==(const SenseData&, const SenseData&) = default;
};

constexpr SenseData make_sense(uint8_t key, AscAscq code) {
  SenseData s;
  s.sense_key = key;
  s.code = code;
  return s;
}

// ILLEGAL REQUEST with a field pointer at `byte_offset` of the CDB (in_cdb) or of
// the parameter list, optionally to `bit` within that byte.
constexpr SenseData make_illegal_request(AscAscq code, bool in_cdb, uint16_t byte_offset,
                                         int bit = -1) {
  SenseData s = make_sense(sense_key::kIllegalRequest, code);
  s.sksv = true;
  s.sense_key_specific =
      make_field_pointer(in_cdb, byte_offset, bit >= 0, static_cast<uint8_t>(bit < 0 ? 0 : bit));
  return s;
}
constexpr SenseData make_invalid_field_in_cdb(uint16_t byte_offset, int bit = -1) {
  return make_illegal_request(asc::kInvalidFieldInCdb, true, byte_offset, bit);
}

// Decodes fixed-format sense data. Fields beyond the additional sense length read
// as zero; bytes beyond 18 are ignored. Errors: fewer than 8 bytes (kTruncated);
// descriptor format 0x72/0x73 (kUnsupported "response_code", 0); any other code
// (kBadValue "response_code", 0); additional sense length past the buffer
// (kBadLength "additional_sense_length", 7).
constexpr WireResult<SenseData> decode_sense_data(ConstBytes data) {
  if (data.size() < kFixedSenseMinSize) {
    return wire_error(WireErrc::kTruncated, "sense_data", static_cast<uint32_t>(data.size()));
  }
  const uint8_t code = data[0] & 0x7F;
  if (code == 0x72 || code == 0x73) return wire_error(WireErrc::kUnsupported, "response_code", 0);
  if (code != kSenseCurrentFixed && code != kSenseDeferredFixed) {
    return wire_error(WireErrc::kBadValue, "response_code", 0);
  }
  const size_t total = kFixedSenseMinSize + data[7];
  if (total > data.size()) return wire_error(WireErrc::kBadLength, "additional_sense_length", 7);
  uint8_t b[kFixedSenseSize] = {};
  for (size_t i = 0; i < kFixedSenseSize && i < total; ++i)
    b[i] = data[i];
  SenseData s;
  s.deferred = code == kSenseDeferredFixed;
  s.valid = (b[0] & 0x80) != 0;
  s.filemark = (b[2] & 0x80) != 0;
  s.eom = (b[2] & 0x40) != 0;
  s.ili = (b[2] & 0x20) != 0;
  s.sense_key = b[2] & 0x0F;
  s.information = load_be32(b + 3);
  s.command_specific = load_be32(b + 8);
  s.code = AscAscq{b[12], b[13]};
  s.fru = b[14];
  s.sksv = (b[15] & 0x80) != 0;
  s.sense_key_specific = load_be24(b + 15) & 0x7FFFFF;
  return s;
}

// Writes 18 bytes of fixed-format sense data (additional sense length 10).
// Errors: sense key above 15 or sense_key_specific above 23 bits (kBadValue),
// output too small (kBufferTooSmall).
constexpr WireResult<size_t> encode_sense_data(const SenseData& s, MutableBytes out) {
  if (s.sense_key > 0x0F) return wire_error(WireErrc::kBadValue, "sense_key", 2);
  if (s.sense_key_specific > 0x7FFFFF) {
    return wire_error(WireErrc::kBadValue, "sense_key_specific", 15);
  }
  if (out.size() < kFixedSenseSize) return wire_error(WireErrc::kBufferTooSmall, "sense_data", 0);
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>((s.valid ? 0x80 : 0) |
                              (s.deferred ? kSenseDeferredFixed : kSenseCurrentFixed));
  p[1] = 0;
  p[2] = static_cast<uint8_t>((s.filemark ? 0x80 : 0) | (s.eom ? 0x40 : 0) | (s.ili ? 0x20 : 0) |
                              s.sense_key);
  store_be32(p + 3, s.information);
  p[7] = kFixedSenseSize - kFixedSenseMinSize;
  store_be32(p + 8, s.command_specific);
  p[12] = s.code.asc;
  p[13] = s.code.ascq;
  p[14] = s.fru;
  store_be24(p + 15, (s.sksv ? 0x800000u : 0u) | s.sense_key_specific);
  return kFixedSenseSize;
}

}  // namespace splitpath::fc
