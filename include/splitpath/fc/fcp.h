// FCP information units (FCP-4): the frame payloads of SCSI over Fibre
// Channel. Frame header R_CTL/TYPE select the IU (frame_header.h, TYPE 0x08).
//
//   FCP_CMND (R_CTL 0x06), 32 + 4n bytes:
//     0..7   FCP_LUN
//     8      command reference number (CRN)
//     9      bits 6..3 task priority, bits 2..0 task attribute
//     10     task management flags
//     11     bits 7..2 additional FCP_CDB length (4-byte words), bit 1 RDDATA,
//            bit 0 WRDATA
//     12..27 FCP_CDB (16 bytes), then 4n bytes of additional CDB
//     28+4n  FCP_DL (4 bytes)
//   FCP_XFER_RDY (R_CTL 0x05), 12 bytes:
//     0..3 FCP_DATA_RO, 4..7 FCP_BURST_LEN, 8..11 reserved
//   FCP_DATA (R_CTL 0x01): raw data; the relative offset is the frame header's
//     parameter field when F_CTL relative-offset-present is set.
//   FCP_RSP (R_CTL 0x07), 24 + response info + sense bytes:
//     0..7 reserved, 8..9 retry delay timer / status qualifier, 10 flags,
//     11 SCSI status, 12..15 FCP_RESID, 16..19 FCP_SNS_LEN, 20..23 FCP_RSP_LEN,
//     24.. FCP_RSP_INFO (FCP_RSP_LEN bytes), then FCP_SNS_INFO (FCP_SNS_LEN bytes)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi_lun.h"
#include "splitpath/fc/wire.h"

namespace splitpath::fc {

// ---------------------------------------------------------------- FCP_CMND

inline constexpr size_t kFcpCmndMinSize = 32;
inline constexpr size_t kFcpCdbBaseSize = 16;
// Largest CDB this codec carries: 16 bytes plus at most 4 additional words.
inline constexpr size_t kMaxCdbSize = 32;
static_assert(kFcpCmndMinSize == kLunSize + 4 + kFcpCdbBaseSize + 4);

enum class TaskAttribute : uint8_t {
  kSimple = 0,
  kHeadOfQueue = 1,
  kOrdered = 2,
  kAca = 4,
  kUntagged = 5,
};

// Task management flags (byte 10). At most one is set; a nonzero byte makes the
// IU a task management request whose CDB is ignored.
namespace fcp_tmf {
inline constexpr uint8_t kAbortTaskSet = 0x02;
inline constexpr uint8_t kClearTaskSet = 0x04;
inline constexpr uint8_t kLogicalUnitReset = 0x10;
inline constexpr uint8_t kTargetReset = 0x20;  // obsolete in FCP-4, still seen
inline constexpr uint8_t kClearAca = 0x40;
inline constexpr uint8_t kValidMask = 0x76;
}  // namespace fcp_tmf

struct FcpCmnd {
  ScsiLun lun;
  uint8_t crn = 0;
  uint8_t task_priority = 0;  // 0..15
  TaskAttribute task_attribute = TaskAttribute::kSimple;
  uint8_t task_management_flags = 0;  // fcp_tmf::
  bool rddata = false;
  bool wrdata = false;
  uint8_t cdb_length = kFcpCdbBaseSize;    // 16 + 4 * additional words, at most kMaxCdbSize
  std::array<uint8_t, kMaxCdbSize> cdb{};  // bytes past cdb_length are zero after decode
  uint32_t fcp_dl = 0;                     // bytes the command expects to transfer

  constexpr ConstBytes cdb_bytes() const { return ConstBytes(cdb.data(), cdb_length); }
  friend constexpr bool operator==(const FcpCmnd&, const FcpCmnd&) = default;
};

constexpr size_t fcp_cmnd_size(const FcpCmnd& c) {
  return size_t{12} + c.cdb_length + 4;
}

// Decodes an FCP_CMND payload. Errors: fewer than 32 bytes (kTruncated "fcp_cmnd");
// reserved task attribute (kBadValue "task_attribute", 9) or task management bits
// (kBadValue "task_management_flags", 10); additional CDB length above 4 words
// (kUnsupported "additional_cdb_length", 11) or disagreeing with the payload size
// (kBadLength "additional_cdb_length", 11); RDDATA and WRDATA both set (kBadValue
// "rddata_wrdata", 11; bidirectional commands are not supported).
constexpr WireResult<FcpCmnd> decode_fcp_cmnd(ConstBytes payload) {
  if (payload.size() < kFcpCmndMinSize) {
    return wire_error(WireErrc::kTruncated, "fcp_cmnd", static_cast<uint32_t>(payload.size()));
  }
  const uint8_t* p = payload.data();
  FcpCmnd c;
  c.lun = load_lun(p);
  c.crn = p[8];
  c.task_priority = (p[9] >> 3) & 0x0F;
  const uint8_t attr = p[9] & 0x07;
  if (attr == 3 || attr > 5) return wire_error(WireErrc::kBadValue, "task_attribute", 9);
  c.task_attribute = static_cast<TaskAttribute>(attr);
  c.task_management_flags = p[10];
  if (p[10] & ~fcp_tmf::kValidMask) {
    return wire_error(WireErrc::kBadValue, "task_management_flags", 10);
  }
  const size_t add_words = p[11] >> 2;
  if (add_words > (kMaxCdbSize - kFcpCdbBaseSize) / 4) {
    return wire_error(WireErrc::kUnsupported, "additional_cdb_length", 11);
  }
  if (payload.size() != kFcpCmndMinSize + 4 * add_words) {
    return wire_error(WireErrc::kBadLength, "additional_cdb_length", 11);
  }
  c.rddata = (p[11] & 0x02) != 0;
  c.wrdata = (p[11] & 0x01) != 0;
  if (c.rddata && c.wrdata) return wire_error(WireErrc::kBadValue, "rddata_wrdata", 11);
  c.cdb_length = static_cast<uint8_t>(kFcpCdbBaseSize + 4 * add_words);
  for (size_t i = 0; i < c.cdb_length; ++i)
    c.cdb[i] = p[12 + i];
  c.fcp_dl = load_be32(p + 12 + c.cdb_length);
  return c;
}

// Errors: cdb_length not 16 + 4n within kMaxCdbSize (kBadValue "cdb_length"), task
// priority above 15 or a reserved attribute (kBadValue), RDDATA with WRDATA
// (kBadValue "rddata_wrdata"), output too small (kBufferTooSmall).
constexpr WireResult<size_t> encode_fcp_cmnd(const FcpCmnd& c, MutableBytes out) {
  if (c.cdb_length < kFcpCdbBaseSize || c.cdb_length > kMaxCdbSize || c.cdb_length % 4 != 0) {
    return wire_error(WireErrc::kBadValue, "cdb_length", 11);
  }
  const uint8_t attr = static_cast<uint8_t>(c.task_attribute);
  if (attr == 3 || attr > 5) return wire_error(WireErrc::kBadValue, "task_attribute", 9);
  if (c.task_priority > 15) return wire_error(WireErrc::kBadValue, "task_priority", 9);
  if (c.task_management_flags & ~fcp_tmf::kValidMask) {
    return wire_error(WireErrc::kBadValue, "task_management_flags", 10);
  }
  if (c.rddata && c.wrdata) return wire_error(WireErrc::kBadValue, "rddata_wrdata", 11);
  const size_t n = fcp_cmnd_size(c);
  if (out.size() < n) return wire_error(WireErrc::kBufferTooSmall, "fcp_cmnd", 0);
  uint8_t* p = out.data();
  store_lun(p, c.lun);
  p[8] = c.crn;
  p[9] = static_cast<uint8_t>((c.task_priority << 3) | attr);
  p[10] = c.task_management_flags;
  p[11] = static_cast<uint8_t>(((c.cdb_length - kFcpCdbBaseSize) / 4) << 2 | (c.rddata ? 0x02 : 0) |
                               (c.wrdata ? 0x01 : 0));
  for (size_t i = 0; i < c.cdb_length; ++i)
    p[12 + i] = c.cdb[i];
  store_be32(p + 12 + c.cdb_length, c.fcp_dl);
  return n;
}

// Copies `cdb` (at most kMaxCdbSize bytes, padded to 16 + 4n) into the command.
// Returns false, leaving the command unchanged, if the CDB is longer than kMaxCdbSize.
constexpr bool set_fcp_cdb(FcpCmnd& c, ConstBytes cdb) {
  if (cdb.size() > kMaxCdbSize) return false;
  c.cdb = {};
  for (size_t i = 0; i < cdb.size(); ++i)
    c.cdb[i] = cdb[i];
  size_t len = cdb.size() < kFcpCdbBaseSize ? kFcpCdbBaseSize : (cdb.size() + 3) / 4 * 4;
  c.cdb_length = static_cast<uint8_t>(len);
  return true;
}

// ------------------------------------------------------------ FCP_XFER_RDY

inline constexpr size_t kFcpXferRdySize = 12;

struct FcpXferRdy {
  uint32_t relative_offset = 0;
  uint32_t burst_length = 0;  // never zero on the wire

  friend constexpr bool operator==(const FcpXferRdy&, const FcpXferRdy&) = default;
};

// Errors: fewer than 12 bytes (kTruncated), zero burst length (kBadValue
// "burst_length", 4).
constexpr WireResult<FcpXferRdy> decode_fcp_xfer_rdy(ConstBytes payload) {
  if (payload.size() < kFcpXferRdySize) {
    return wire_error(WireErrc::kTruncated, "fcp_xfer_rdy", static_cast<uint32_t>(payload.size()));
  }
  FcpXferRdy x{load_be32(payload.data()), load_be32(payload.data() + 4)};
  if (x.burst_length == 0) return wire_error(WireErrc::kBadValue, "burst_length", 4);
  return x;
}

constexpr WireResult<size_t> encode_fcp_xfer_rdy(const FcpXferRdy& x, MutableBytes out) {
  if (x.burst_length == 0) return wire_error(WireErrc::kBadValue, "burst_length", 4);
  if (out.size() < kFcpXferRdySize) {
    return wire_error(WireErrc::kBufferTooSmall, "fcp_xfer_rdy", 0);
  }
  store_be32(out.data(), x.relative_offset);
  store_be32(out.data() + 4, x.burst_length);
  store_be32(out.data() + 8, 0);
  return kFcpXferRdySize;
}

// ---------------------------------------------------------------- FCP_DATA

// Offset of an FCP_DATA frame's payload within the command's data: the header
// parameter when F_CTL says a relative offset is present, else 0.
constexpr uint32_t fcp_data_relative_offset(const FrameHeader& h) {
  return (h.f_ctl & fctl::kRelativeOffsetPresent) ? h.parameter : 0;
}

// ----------------------------------------------------------------- FCP_RSP

inline constexpr size_t kFcpRspMinSize = 24;
inline constexpr size_t kMaxFcpSenseLength = 96;
inline constexpr size_t kMaxFcpRspInfoLength = 8;
inline constexpr size_t kFcpRspMaxSize = kFcpRspMinSize + kMaxFcpRspInfoLength + kMaxFcpSenseLength;
static_assert(kFcpRspMaxSize <= kMaxFramePayload);

// FCP_RSP flags (byte 10).
namespace fcp_rsp_flags {
inline constexpr uint8_t kRspLenValid = 0x01;
inline constexpr uint8_t kSnsLenValid = 0x02;
inline constexpr uint8_t kResidOver = 0x04;
inline constexpr uint8_t kResidUnder = 0x08;
inline constexpr uint8_t kConfReq = 0x10;
inline constexpr uint8_t kBidiMask = 0xE0;  // bidirectional residuals: unsupported
}  // namespace fcp_rsp_flags

// RSP_CODE, byte 3 of FCP_RSP_INFO (FCP-4).
namespace fcp_rsp_code {
inline constexpr uint8_t kTmfComplete = 0x00;  // also "no failure"
inline constexpr uint8_t kDataLengthMismatch = 0x01;
inline constexpr uint8_t kCmndFieldsInvalid = 0x02;
inline constexpr uint8_t kDataRoMismatch = 0x03;
inline constexpr uint8_t kTmfNotSupported = 0x04;
inline constexpr uint8_t kTmfFailed = 0x05;
inline constexpr uint8_t kTmfIncorrectLun = 0x09;
}  // namespace fcp_rsp_code

// FCP_RSP_LEN_VALID and FCP_SNS_LEN_VALID are derived from rsp_info_length and
// sense_length: a length of zero means the flag is clear.
struct FcpRsp {
  uint16_t status_qualifier = 0;  // retry delay timer / status qualifier
  bool conf_req = false;
  bool resid_under = false;
  bool resid_over = false;
  uint8_t scsi_status = 0;  // scsi_status:: in scsi_cdb.h
  uint32_t residual = 0;
  uint8_t rsp_info_length = 0;  // 0, 4 or 8
  std::array<uint8_t, kMaxFcpRspInfoLength> rsp_info{};
  uint8_t sense_length = 0;  // 0..kMaxFcpSenseLength
  std::array<uint8_t, kMaxFcpSenseLength> sense{};

  constexpr uint8_t rsp_code() const { return rsp_info[3]; }
  constexpr ConstBytes sense_bytes() const { return ConstBytes(sense.data(), sense_length); }
  friend constexpr bool operator==(const FcpRsp&, const FcpRsp&) = default;
};

constexpr size_t fcp_rsp_size(const FcpRsp& r) {
  return kFcpRspMinSize + r.rsp_info_length + r.sense_length;
}

// An FCP_RSP carrying only RSP_CODE (task management replies, FCP-level errors).
constexpr FcpRsp make_fcp_rsp_code(uint8_t rsp_code) {
  FcpRsp r;
  r.rsp_info_length = 4;
  r.rsp_info[3] = rsp_code;
  return r;
}

// Decodes an FCP_RSP payload. Bytes after the sense data (fill) are ignored.
// Errors: fewer than 24 bytes (kTruncated); bidirectional flags (kUnsupported
// "fcp_rsp_flags", 10); RESID_UNDER with RESID_OVER (kBadValue "fcp_rsp_flags", 10);
// FCP_RSP_LEN not 0, 4 or 8 (kBadValue "fcp_rsp_len", 20); FCP_SNS_LEN above 96
// (kUnsupported "fcp_sns_len", 16); response info or sense past the payload
// (kBadLength "fcp_rsp_len" 20 / "fcp_sns_len" 16).
constexpr WireResult<FcpRsp> decode_fcp_rsp(ConstBytes payload) {
  if (payload.size() < kFcpRspMinSize) {
    return wire_error(WireErrc::kTruncated, "fcp_rsp", static_cast<uint32_t>(payload.size()));
  }
  const uint8_t* p = payload.data();
  FcpRsp r;
  r.status_qualifier = load_be16(p + 8);
  const uint8_t flags = p[10];
  if (flags & fcp_rsp_flags::kBidiMask) {
    return wire_error(WireErrc::kUnsupported, "fcp_rsp_flags", 10);
  }
  r.conf_req = (flags & fcp_rsp_flags::kConfReq) != 0;
  r.resid_under = (flags & fcp_rsp_flags::kResidUnder) != 0;
  r.resid_over = (flags & fcp_rsp_flags::kResidOver) != 0;
  if (r.resid_under && r.resid_over) return wire_error(WireErrc::kBadValue, "fcp_rsp_flags", 10);
  r.scsi_status = p[11];
  r.residual = load_be32(p + 12);
  const uint32_t sns_len = (flags & fcp_rsp_flags::kSnsLenValid) ? load_be32(p + 16) : 0;
  const uint32_t rsp_len = (flags & fcp_rsp_flags::kRspLenValid) ? load_be32(p + 20) : 0;
  if (rsp_len != 0 && rsp_len != 4 && rsp_len != 8) {
    return wire_error(WireErrc::kBadValue, "fcp_rsp_len", 20);
  }
  if (kFcpRspMinSize + rsp_len > payload.size()) {
    return wire_error(WireErrc::kBadLength, "fcp_rsp_len", 20);
  }
  if (sns_len > kMaxFcpSenseLength) return wire_error(WireErrc::kUnsupported, "fcp_sns_len", 16);
  if (kFcpRspMinSize + rsp_len + sns_len > payload.size()) {
    return wire_error(WireErrc::kBadLength, "fcp_sns_len", 16);
  }
  r.rsp_info_length = static_cast<uint8_t>(rsp_len);
  for (size_t i = 0; i < rsp_len; ++i)
    r.rsp_info[i] = p[kFcpRspMinSize + i];
  r.sense_length = static_cast<uint8_t>(sns_len);
  for (size_t i = 0; i < sns_len; ++i)
    r.sense[i] = p[kFcpRspMinSize + rsp_len + i];
  return r;
}

// Errors: rsp_info_length not 0/4/8, sense_length above 96, both residual flags
// (kBadValue); output too small (kBufferTooSmall).
constexpr WireResult<size_t> encode_fcp_rsp(const FcpRsp& r, MutableBytes out) {
  if (r.rsp_info_length != 0 && r.rsp_info_length != 4 && r.rsp_info_length != 8) {
    return wire_error(WireErrc::kBadValue, "fcp_rsp_len", 20);
  }
  if (r.sense_length > kMaxFcpSenseLength) {
    return wire_error(WireErrc::kBadValue, "fcp_sns_len", 16);
  }
  if (r.resid_under && r.resid_over) return wire_error(WireErrc::kBadValue, "fcp_rsp_flags", 10);
  const size_t n = fcp_rsp_size(r);
  if (out.size() < n) return wire_error(WireErrc::kBufferTooSmall, "fcp_rsp", 0);
  uint8_t* p = out.data();
  for (size_t i = 0; i < 8; ++i)
    p[i] = 0;
  store_be16(p + 8, r.status_qualifier);
  p[10] = static_cast<uint8_t>((r.conf_req ? fcp_rsp_flags::kConfReq : 0) |
                               (r.resid_under ? fcp_rsp_flags::kResidUnder : 0) |
                               (r.resid_over ? fcp_rsp_flags::kResidOver : 0) |
                               (r.sense_length ? fcp_rsp_flags::kSnsLenValid : 0) |
                               (r.rsp_info_length ? fcp_rsp_flags::kRspLenValid : 0));
  p[11] = r.scsi_status;
  store_be32(p + 12, r.residual);
  store_be32(p + 16, r.sense_length);
  store_be32(p + 20, r.rsp_info_length);
  for (size_t i = 0; i < r.rsp_info_length; ++i)
    p[kFcpRspMinSize + i] = r.rsp_info[i];
  for (size_t i = 0; i < r.sense_length; ++i) {
    p[kFcpRspMinSize + r.rsp_info_length + i] = r.sense[i];
  }
  return n;
}

// Copies sense bytes into the response; returns false, leaving it unchanged, if
// there are more than kMaxFcpSenseLength.
constexpr bool set_fcp_sense(FcpRsp& r, ConstBytes sense) {
  if (sense.size() > kMaxFcpSenseLength) return false;
  r.sense = {};
  for (size_t i = 0; i < sense.size(); ++i)
    r.sense[i] = sense[i];
  r.sense_length = static_cast<uint8_t>(sense.size());
  return true;
}

}  // namespace splitpath::fc
