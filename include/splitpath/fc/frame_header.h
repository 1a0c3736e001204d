// The FC-2 frame header (FC-FS-3 clause 9): six big-endian words in front of
// every frame payload.
//
//   word 0: R_CTL  | D_ID (24)
//   word 1: CS_CTL | S_ID (24)
//   word 2: TYPE   | F_CTL (24)
//   word 3: SEQ_ID | DF_CTL | SEQ_CNT (16)
//   word 4: OX_ID (16) | RX_ID (16)
//   word 5: parameter (32): relative offset for data frames
#pragma once

#include <cstdint>

#include "splitpath/fc/wire.h"

namespace splitpath::fc {

inline constexpr size_t kFrameHeaderSize = 24;
inline constexpr size_t kMaxFramePayload = 2112;
inline constexpr size_t kMaxFrameSize = kFrameHeaderSize + kMaxFramePayload;
// The data field size hosts and disks in the simulator negotiate in PLOGI.
inline constexpr size_t kDefaultDataFieldSize = 2048;
// Unassigned RX_ID / OX_ID.
inline constexpr uint16_t kUnassignedXid = 0xFFFF;

// R_CTL values used by Splitpath: routing bits (7..4) plus information category.
namespace rctl {
inline constexpr uint8_t kDeviceDataSolicitedData = 0x01;   // FCP_DATA
inline constexpr uint8_t kDeviceDataUnsolicitedCtl = 0x02;  // CT request
inline constexpr uint8_t kDeviceDataSolicitedCtl = 0x03;    // CT response
inline constexpr uint8_t kDeviceDataDataDescriptor = 0x05;  // FCP_XFER_RDY
inline constexpr uint8_t kDeviceDataUnsolicitedCmd = 0x06;  // FCP_CMND
inline constexpr uint8_t kDeviceDataCommandStatus = 0x07;   // FCP_RSP
inline constexpr uint8_t kElsRequest = 0x22;
inline constexpr uint8_t kElsReply = 0x23;
inline constexpr uint8_t kBlsAbts = 0x81;
inline constexpr uint8_t kBlsBaAcc = 0x84;
inline constexpr uint8_t kBlsBaRjt = 0x85;
}  // namespace rctl

// TYPE field values.
namespace fc_type {
inline constexpr uint8_t kBls = 0x00;
inline constexpr uint8_t kEls = 0x01;
inline constexpr uint8_t kFcp = 0x08;
inline constexpr uint8_t kCt = 0x20;  // Fibre Channel Services (FC-GS)
}  // namespace fc_type

// F_CTL bits (24-bit field).
namespace fctl {
inline constexpr uint32_t kExchangeContext = 1u << 23;  // set: frame from the responder
inline constexpr uint32_t kSequenceContext = 1u << 22;  // set: frame from the recipient
inline constexpr uint32_t kFirstSequence = 1u << 21;
inline constexpr uint32_t kLastSequence = 1u << 20;
inline constexpr uint32_t kEndSequence = 1u << 19;
inline constexpr uint32_t kSequenceInitiative = 1u << 16;
inline constexpr uint32_t kRelativeOffsetPresent = 1u << 3;
inline constexpr uint32_t kFillBytesMask = 0x3;
}  // namespace fctl

struct FrameHeader {
  uint8_t r_ctl = 0;
  FcId d_id;
  uint8_t cs_ctl = 0;
  FcId s_id;
  uint8_t type = 0;
  uint32_t f_ctl = 0;  // 24 bits
  uint8_t seq_id = 0;
  uint8_t df_ctl = 0;
  uint16_t seq_cnt = 0;
  uint16_t ox_id = kUnassignedXid;
  uint16_t rx_id = kUnassignedXid;
  uint32_t parameter = 0;

  friend constexpr bool operator==(const FrameHeader&, const FrameHeader&) = default;
};

// Reads the header at the start of `frame`. Fails if fewer than 24 bytes, or if
// DF_CTL announces optional headers (Splitpath never sends them, and a payload
// behind them would be misread).
constexpr WireResult<FrameHeader> decode_frame_header(ConstBytes frame) {
  if (frame.size() < kFrameHeaderSize) {
    return wire_error(WireErrc::kTruncated, "frame_header", static_cast<uint32_t>(frame.size()));
  }
  const uint8_t* p = frame.data();
  FrameHeader h;
  h.r_ctl = p[0];
  h.d_id = FcId{load_be24(p + 1)};
  h.cs_ctl = p[4];
  h.s_id = FcId{load_be24(p + 5)};
  h.type = p[8];
  h.f_ctl = load_be24(p + 9);
  h.seq_id = p[12];
  h.df_ctl = p[13];
  h.seq_cnt = load_be16(p + 14);
  h.ox_id = load_be16(p + 16);
  h.rx_id = load_be16(p + 18);
  h.parameter = load_be32(p + 20);
  if (h.df_ctl & 0x70) {
    return wire_error(WireErrc::kUnsupported, "df_ctl", 13);
  }
  return h;
}

// Writes the header into the first 24 bytes of `out`.
constexpr WireResult<size_t> encode_frame_header(const FrameHeader& h, MutableBytes out) {
  if (out.size() < kFrameHeaderSize) {
    return wire_error(WireErrc::kBufferTooSmall, "frame_header", 0);
  }
  uint8_t* p = out.data();
  p[0] = h.r_ctl;
  store_be24(p + 1, h.d_id.value);
  p[4] = h.cs_ctl;
  store_be24(p + 5, h.s_id.value);
  p[8] = h.type;
  store_be24(p + 9, h.f_ctl);
  p[12] = h.seq_id;
  p[13] = h.df_ctl;
  store_be16(p + 14, h.seq_cnt);
  store_be16(p + 16, h.ox_id);
  store_be16(p + 18, h.rx_id);
  store_be32(p + 20, h.parameter);
  return kFrameHeaderSize;
}

// Fast accessors for the switching path, which needs only a few fields and has
// already checked that the frame holds a full header.
constexpr FcId peek_d_id(const uint8_t* frame) {
  return FcId{load_be24(frame + 1)};
}
constexpr FcId peek_s_id(const uint8_t* frame) {
  return FcId{load_be24(frame + 5)};
}

}  // namespace splitpath::fc
