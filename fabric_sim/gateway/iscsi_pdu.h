// iSCSI PDUs (RFC 7143, section 11) as pure functions over bytes: framing (the
// 48-byte Basic Header Segment, Additional Header Segments, the data segment
// padded to a multiple of 4 bytes), decoders of the PDUs an initiator sends
// and builders of those a target sends, and the text key=value format of
// Login and Text PDUs. Nothing here touches a socket or the simulation; the
// connection state machine (iscsi_target.h) feeds it the bytes it reads.
//
// No digests: HeaderDigest and DataDigest are negotiated to None. All
// integers on the wire are big-endian.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "splitpath/fc/scsi_lun.h"

namespace splitpath::sim::iscsi {

inline constexpr size_t kBhsSize = 48;
// Initiator Task Tag / Target Transfer Tag "reserved" value.
inline constexpr uint32_t kReservedTag = 0xffffffff;
// The largest data segment the 24-bit DataSegmentLength allows.
inline constexpr uint32_t kMaxDataSegmentLength = (1u << 24) - 1;
// What either side may send before MaxRecvDataSegmentLength is declared
// (and the limit of Login PDUs).
inline constexpr uint32_t kDefaultMaxRecvDataSegmentLength = 8192;

namespace opcode {
// Initiator PDUs.
inline constexpr uint8_t kNopOut = 0x00;
inline constexpr uint8_t kScsiCommand = 0x01;
inline constexpr uint8_t kTaskManagementRequest = 0x02;
inline constexpr uint8_t kLoginRequest = 0x03;
inline constexpr uint8_t kTextRequest = 0x04;
inline constexpr uint8_t kDataOut = 0x05;
inline constexpr uint8_t kLogoutRequest = 0x06;
inline constexpr uint8_t kSnackRequest = 0x10;
// Target PDUs.
inline constexpr uint8_t kNopIn = 0x20;
inline constexpr uint8_t kScsiResponse = 0x21;
inline constexpr uint8_t kTaskManagementResponse = 0x22;
inline constexpr uint8_t kLoginResponse = 0x23;
inline constexpr uint8_t kTextResponse = 0x24;
inline constexpr uint8_t kDataIn = 0x25;
inline constexpr uint8_t kLogoutResponse = 0x26;
inline constexpr uint8_t kR2t = 0x31;
inline constexpr uint8_t kAsyncMessage = 0x32;
inline constexpr uint8_t kReject = 0x3f;
}  // namespace opcode

// The name of an opcode, for log lines ("SCSI Command", "0x1a").
std::string opcode_name(uint8_t op);

// AHS types.
inline constexpr uint8_t kAhsExtendedCdb = 1;
inline constexpr uint8_t kAhsBidiReadLength = 2;

struct Ahs {
  uint8_t type = 0;
  std::vector<uint8_t> data;  // the AHS-specific bytes (AHSLength of them)
};

// One whole PDU: the BHS as bytes, its AHSs and its data segment (unpadded).
// TotalAHSLength and DataSegmentLength in `bhs` are set by encode_pdu().
struct Pdu {
  std::array<uint8_t, kBhsSize> bhs{};
  std::vector<Ahs> ahs;
  std::vector<uint8_t> data;

  uint8_t opcode() const { return bhs[0] & 0x3f; }
  bool immediate() const { return (bhs[0] & 0x40) != 0; }
  bool final_bit() const { return (bhs[1] & 0x80) != 0; }
  uint32_t u32(size_t offset) const;
  void set_u32(size_t offset, uint32_t value);
  uint16_t u16(size_t offset) const;
  void set_u16(size_t offset, uint16_t value);
  uint32_t itt() const { return u32(16); }
};

// How many bytes follow a BHS: its AHSs, then its data segment and padding.
struct Framing {
  uint32_t ahs_bytes = 0;    // TotalAHSLength * 4
  uint32_t data_length = 0;  // DataSegmentLength
  uint32_t rest() const { return ahs_bytes + padded(data_length); }
  static uint32_t padded(uint32_t n) { return (n + 3) & ~3u; }
};
// Reads the lengths of a 48-byte BHS. Fails (naming the problem) if the data
// segment is longer than `max_data_segment` (the receiver's
// MaxRecvDataSegmentLength) or `bhs` is not 48 bytes.
absl::StatusOr<Framing> parse_framing(std::span<const uint8_t> bhs, uint32_t max_data_segment);
// A whole PDU from its BHS and the parse_framing().rest() bytes after it.
// Fails on an AHS whose length runs past TotalAHSLength or a size mismatch.
absl::StatusOr<Pdu> parse_pdu(std::span<const uint8_t> bhs, std::span<const uint8_t> rest);
// The PDU's bytes: BHS (with TotalAHSLength and DataSegmentLength filled
// in), each AHS padded to 4 bytes, the data segment padded with zeros.
std::vector<uint8_t> encode_pdu(const Pdu& pdu);
// Splits a byte stream into PDUs (tests, the fuzz target): the PDUs whole in
// `bytes`; `consumed` gets how many bytes they took. Fails on the first bad
// PDU.
absl::StatusOr<std::vector<Pdu>> split_pdus(std::span<const uint8_t> bytes,
                                            uint32_t max_data_segment, size_t* consumed = nullptr);

// --- PDUs from the initiator ------------------------------------------------

struct ScsiCommand {
  bool immediate = false;
  bool final_bit = false;  // no unsolicited Data-Out follows
  bool read = false;
  bool write = false;
  uint8_t attributes = 0;
  fc::ScsiLun lun;
  uint32_t itt = 0;
  uint32_t expected_length = 0;  // Expected Data Transfer Length
  uint32_t cmd_sn = 0;
  uint32_t exp_stat_sn = 0;
  std::vector<uint8_t> cdb;  // 16 bytes, plus an Extended CDB AHS's
  std::optional<uint32_t> bidi_read_length;
};
// Fails if the opcode is not SCSI Command, if F and W are both 0 (the
// unsolicited data would have no end), if R and W are both 0 with a nonzero
// expected length, or on a malformed AHS.
absl::StatusOr<ScsiCommand> decode_scsi_command(const Pdu& pdu);

struct DataOut {
  bool final_bit = false;
  fc::ScsiLun lun;
  uint32_t itt = 0;
  uint32_t ttt = 0;
  uint32_t exp_stat_sn = 0;
  uint32_t data_sn = 0;
  uint32_t buffer_offset = 0;
};
absl::StatusOr<DataOut> decode_data_out(const Pdu& pdu);

struct NopOut {
  bool immediate = false;
  fc::ScsiLun lun;
  uint32_t itt = 0;
  uint32_t ttt = 0;
  uint32_t cmd_sn = 0;
  uint32_t exp_stat_sn = 0;
};
// Fails if ITT is reserved without the I bit (RFC 7143 11.18).
absl::StatusOr<NopOut> decode_nop_out(const Pdu& pdu);

namespace tmf {
inline constexpr uint8_t kAbortTask = 1;
inline constexpr uint8_t kAbortTaskSet = 2;
inline constexpr uint8_t kClearAca = 3;
inline constexpr uint8_t kClearTaskSet = 4;
inline constexpr uint8_t kLogicalUnitReset = 5;
inline constexpr uint8_t kTargetWarmReset = 6;
inline constexpr uint8_t kTargetColdReset = 7;
inline constexpr uint8_t kTaskReassign = 8;
// Responses.
inline constexpr uint8_t kFunctionComplete = 0;
inline constexpr uint8_t kTaskDoesNotExist = 1;
inline constexpr uint8_t kLunDoesNotExist = 2;
inline constexpr uint8_t kTaskStillAllegiant = 3;
inline constexpr uint8_t kReassignNotSupported = 4;
inline constexpr uint8_t kNotSupported = 5;
inline constexpr uint8_t kAuthorizationFailed = 6;
inline constexpr uint8_t kRejected = 255;
}  // namespace tmf

struct TaskManagementRequest {
  bool immediate = false;
  uint8_t function = 0;
  fc::ScsiLun lun;
  uint32_t itt = 0;
  uint32_t referenced_task_tag = 0;
  uint32_t cmd_sn = 0;
  uint32_t exp_stat_sn = 0;
  uint32_t ref_cmd_sn = 0;
  uint32_t exp_data_sn = 0;
};
// Fails without the F bit or with data.
absl::StatusOr<TaskManagementRequest> decode_task_management(const Pdu& pdu);

// Login stages (CSG/NSG).
namespace stage {
inline constexpr uint8_t kSecurity = 0;
inline constexpr uint8_t kOperational = 1;
inline constexpr uint8_t kFullFeature = 3;
}  // namespace stage

struct LoginRequest {
  bool transit = false;
  bool cont = false;
  uint8_t csg = 0;
  uint8_t nsg = 0;
  uint8_t version_max = 0;
  uint8_t version_min = 0;
  std::array<uint8_t, 6> isid{};
  uint16_t tsih = 0;
  uint32_t itt = 0;
  uint16_t cid = 0;
  uint32_t cmd_sn = 0;
  uint32_t exp_stat_sn = 0;
};
// Fails without the I bit, with T and C both set, with CSG 2 or NSG 2, or
// with a transit to a stage that is not after CSG.
absl::StatusOr<LoginRequest> decode_login_request(const Pdu& pdu);

struct TextRequest {
  bool immediate = false;
  bool final_bit = false;
  bool cont = false;
  uint32_t itt = 0;
  uint32_t ttt = 0;
  uint32_t cmd_sn = 0;
  uint32_t exp_stat_sn = 0;
};
// Fails with F and C both set.
absl::StatusOr<TextRequest> decode_text_request(const Pdu& pdu);

namespace logout {
inline constexpr uint8_t kCloseSession = 0;
inline constexpr uint8_t kCloseConnection = 1;
inline constexpr uint8_t kRemoveForRecovery = 2;
// Responses.
inline constexpr uint8_t kClosed = 0;
inline constexpr uint8_t kCidNotFound = 1;
inline constexpr uint8_t kRecoveryNotSupported = 2;
inline constexpr uint8_t kCleanupFailed = 3;
}  // namespace logout

struct LogoutRequest {
  bool immediate = false;
  uint8_t reason = 0;
  uint32_t itt = 0;
  uint16_t cid = 0;
  uint32_t cmd_sn = 0;
  uint32_t exp_stat_sn = 0;
};
// Fails without the F bit, with data, or with a reason code above 2.
absl::StatusOr<LogoutRequest> decode_logout_request(const Pdu& pdu);

// --- PDUs from the target ---------------------------------------------------

// The sequence numbers every target response carries.
struct SeqNumbers {
  uint32_t stat_sn = 0;
  uint32_t exp_cmd_sn = 0;
  uint32_t max_cmd_sn = 0;
};

struct ScsiResponse {
  uint32_t itt = 0;
  uint8_t response = 0;  // 0: command completed at target, 1: target failure
  uint8_t status = 0;
  bool overflow = false;
  bool underflow = false;
  uint32_t residual = 0;
  uint32_t exp_data_sn = 0;    // Data-In PDUs sent for the command
  std::vector<uint8_t> sense;  // sent as SenseLength + sense data
};
Pdu build_scsi_response(const ScsiResponse& r, const SeqNumbers& sn);

struct DataIn {
  bool final_bit = false;
  bool has_status = false;  // S: carries the status (then also F)
  uint8_t status = 0;
  bool overflow = false;
  bool underflow = false;
  uint32_t residual = 0;
  fc::ScsiLun lun;
  uint32_t itt = 0;
  uint32_t data_sn = 0;
  uint32_t buffer_offset = 0;
};
// `sn.stat_sn` is sent only with has_status. `data` is the data segment.
Pdu build_data_in(const DataIn& d, const SeqNumbers& sn, std::span<const uint8_t> data);

struct R2t {
  fc::ScsiLun lun;
  uint32_t itt = 0;
  uint32_t ttt = 0;
  uint32_t r2t_sn = 0;
  uint32_t buffer_offset = 0;
  uint32_t desired_length = 0;
};
Pdu build_r2t(const R2t& r, const SeqNumbers& sn);

Pdu build_nop_in(const fc::ScsiLun& lun, uint32_t itt, uint32_t ttt, const SeqNumbers& sn,
                 std::span<const uint8_t> data);
Pdu build_task_management_response(uint32_t itt, uint8_t response, const SeqNumbers& sn);

struct LoginResponse {
  bool transit = false;
  bool cont = false;
  uint8_t csg = 0;
  uint8_t nsg = 0;
  uint8_t version_max = 0;
  uint8_t version_active = 0;
  std::array<uint8_t, 6> isid{};
  uint16_t tsih = 0;
  uint32_t itt = 0;
  uint8_t status_class = 0;
  uint8_t status_detail = 0;
};
Pdu build_login_response(const LoginResponse& r, const SeqNumbers& sn,
                         std::span<const uint8_t> data);

Pdu build_text_response(bool final_bit, bool cont, uint32_t itt, uint32_t ttt, const SeqNumbers& sn,
                        std::span<const uint8_t> data);
Pdu build_logout_response(uint32_t itt, uint8_t response, const SeqNumbers& sn);

namespace reject {
inline constexpr uint8_t kDataDigestError = 0x02;
inline constexpr uint8_t kSnackReject = 0x03;
inline constexpr uint8_t kProtocolError = 0x04;
inline constexpr uint8_t kCommandNotSupported = 0x05;
inline constexpr uint8_t kImmediateCommandReject = 0x06;
inline constexpr uint8_t kTaskInProgress = 0x07;
inline constexpr uint8_t kInvalidDataAck = 0x08;
inline constexpr uint8_t kInvalidPduField = 0x09;
inline constexpr uint8_t kLongOperationReject = 0x0a;
inline constexpr uint8_t kWaitingForLogout = 0x0c;
}  // namespace reject
// The rejected PDU's BHS is the data segment.
Pdu build_reject(uint8_t reason, const std::array<uint8_t, kBhsSize>& rejected,
                 const SeqNumbers& sn);

// --- Text: key=value pairs, each followed by a NUL ----------------------------

using TextPairs = std::vector<std::pair<std::string, std::string>>;
// Fails on a pair without '=', an empty key, a key longer than 63 bytes, a
// key with characters RFC 7143 does not allow, or a value longer than 8192
// bytes. Trailing bytes without a final NUL are an error; NUL padding is not.
absl::StatusOr<TextPairs> parse_text(std::span<const uint8_t> data);
std::vector<uint8_t> encode_text(const TextPairs& pairs);

// Serial number arithmetic (RFC 1982, 32 bits): a < b.
inline bool sn_less(uint32_t a, uint32_t b) {
  return a != b && static_cast<uint32_t>(b - a) < 0x80000000u;
}

}  // namespace splitpath::sim::iscsi
