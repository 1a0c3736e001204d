// Basic link services (FC-LS-3): TYPE 0x00 frames that abort exchanges.
//
//   ABTS (R_CTL 0x81): no payload; OX_ID/RX_ID in the frame header name the exchange
//   BA_ACC (R_CTL 0x84), 12 bytes: 0 SEQ_ID validity (0x80 valid, 0x00 invalid),
//     1 SEQ_ID of the last deliverable sequence, 2..3 reserved, 4..5 OX_ID,
//     6..7 RX_ID, 8..9 low SEQ_CNT, 10..11 high SEQ_CNT
//   BA_RJT (R_CTL 0x85), 4 bytes: 0 reserved, 1 reason code, 2 reason explanation,
//     3 vendor unique
#pragma once

#include <cstddef>
#include <cstdint>

#include "splitpath/fc/wire.h"

namespace splitpath::fc {

inline constexpr size_t kAbtsPayloadSize = 0;
inline constexpr size_t kBaAccSize = 12;
inline constexpr size_t kBaRjtSize = 4;
inline constexpr uint8_t kSeqIdValid = 0x80;
inline constexpr uint8_t kSeqIdInvalid = 0x00;

namespace ba_rjt_reason {
inline constexpr uint8_t kInvalidCommandCode = 0x01;
inline constexpr uint8_t kLogicalError = 0x03;
inline constexpr uint8_t kLogicalBusy = 0x05;
inline constexpr uint8_t kProtocolError = 0x07;
inline constexpr uint8_t kUnableToPerform = 0x09;
inline constexpr uint8_t kVendorSpecific = 0xFF;
}  // namespace ba_rjt_reason

namespace ba_rjt_explanation {
inline constexpr uint8_t kNone = 0x00;
inline constexpr uint8_t kInvalidOxIdRxId = 0x03;
inline constexpr uint8_t kSequenceAborted = 0x05;  // no sequence information provided
}  // namespace ba_rjt_explanation

struct BaAcc {
  bool seq_id_valid = false;
  uint8_t seq_id = 0;
  uint16_t ox_id = 0;
  uint16_t rx_id = 0;
  uint16_t low_seq_cnt = 0;
  uint16_t high_seq_cnt = 0;
  friend constexpr bool operator==(const BaAcc&, const BaAcc&) = default;
};

// Errors: fewer than 12 bytes (kTruncated); SEQ_ID validity other than 0x00 or
// 0x80 (kBadValue "seq_id_validity", 0).
constexpr WireResult<BaAcc> decode_ba_acc(ConstBytes payload) {
  if (payload.size() < kBaAccSize) {
    return wire_error(WireErrc::kTruncated, "ba_acc", static_cast<uint32_t>(payload.size()));
  }
  const uint8_t* p = payload.data();
  if (p[0] != kSeqIdValid && p[0] != kSeqIdInvalid) {
    return wire_error(WireErrc::kBadValue, "seq_id_validity", 0);
  }
  BaAcc a;
  a.seq_id_valid = p[0] == kSeqIdValid;
  a.seq_id = p[1];
  a.ox_id = load_be16(p + 4);
  a.rx_id = load_be16(p + 6);
  a.low_seq_cnt = load_be16(p + 8);
  a.high_seq_cnt = load_be16(p + 10);
  return a;
}

constexpr WireResult<size_t> encode_ba_acc(const BaAcc& a, MutableBytes out) {
  if (out.size() < kBaAccSize) return wire_error(WireErrc::kBufferTooSmall, "ba_acc", 0);
  uint8_t* p = out.data();
  p[0] = a.seq_id_valid ? kSeqIdValid : kSeqIdInvalid;
  p[1] = a.seq_id;
  p[2] = p[3] = 0;
  store_be16(p + 4, a.ox_id);
  store_be16(p + 6, a.rx_id);
  store_be16(p + 8, a.low_seq_cnt);
  store_be16(p + 10, a.high_seq_cnt);
  return kBaAccSize;
}

struct BaRjt {
  uint8_t reason = ba_rjt_reason::kUnableToPerform;
  uint8_t explanation = ba_rjt_explanation::kNone;
  uint8_t vendor = 0;
  friend constexpr bool operator==(const BaRjt&, const BaRjt&) = default;
};

// Errors: fewer than 4 bytes (kTruncated).
constexpr WireResult<BaRjt> decode_ba_rjt(ConstBytes payload) {
  if (payload.size() < kBaRjtSize) {
    return wire_error(WireErrc::kTruncated, "ba_rjt", static_cast<uint32_t>(payload.size()));
  }
  return BaRjt{payload[1], payload[2], payload[3]};
}

constexpr WireResult<size_t> encode_ba_rjt(const BaRjt& r, MutableBytes out) {
  if (out.size() < kBaRjtSize) return wire_error(WireErrc::kBufferTooSmall, "ba_rjt", 0);
  out[0] = 0;
  out[1] = r.reason;
  out[2] = r.explanation;
  out[3] = r.vendor;
  return kBaRjtSize;
}

}  // namespace splitpath::fc
