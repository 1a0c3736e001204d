// iSCSI login negotiation (RFC 7143, sections 6 and 13) as a pure function of
// the keys an initiator offers: the target's answers, the session's
// negotiated operational parameters, and the reasons a login fails. No
// authentication: the security stage accepts AuthMethod=None only.
//
// Keys answered (each with its result function): HeaderDigest and
// DataDigest (None only), MaxConnections (1), InitialR2T (OR),
// ImmediateData (AND), MaxBurstLength, FirstBurstLength, MaxOutstandingR2T,
// DefaultTime2Retain, ErrorRecoveryLevel (0) and iSCSIProtocolLevel (min),
// DefaultTime2Wait (max), DataPDUInOrder and DataSequenceInOrder (OR, Yes),
// IFMarker and OFMarker (No), IFMarkInt and OFMarkInt (Irrelevant),
// TaskReporting (RFC3720), AuthMethod (None). Declarations taken:
// InitiatorName, InitiatorAlias, TargetName, SessionType,
// MaxRecvDataSegmentLength. Unknown keys get NotUnderstood; an out-of-range
// value gets Reject (the key keeps its default).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fabric_sim/gateway/iscsi_pdu.h"

namespace splitpath::sim::iscsi {

// What the target offers (and declares) in a negotiation.
struct TargetSettings {
  uint32_t max_recv_data_segment_length = 262144;  // declared: what it accepts
  uint32_t max_burst_length = 1048576;
  uint32_t first_burst_length = 65536;
  uint32_t max_outstanding_r2t = 8;
  bool initial_r2t = false;    // the target's side of the OR: allows unsolicited data
  bool immediate_data = true;  // the target's side of the AND
  uint32_t default_time2wait = 2;
  uint32_t default_time2retain = 0;
};

// A session's operational parameters once negotiated (RFC 7143 defaults
// until then).
struct SessionParams {
  // What the initiator accepts in one PDU's data segment (its declaration).
  uint32_t initiator_max_recv_dsl = kDefaultMaxRecvDataSegmentLength;
  // What the target accepts (its declaration; in force in full feature phase).
  uint32_t target_max_recv_dsl = kDefaultMaxRecvDataSegmentLength;
  uint32_t max_burst_length = 262144;
  uint32_t first_burst_length = 65536;
  uint32_t max_outstanding_r2t = 1;
  bool initial_r2t = true;
  bool immediate_data = true;
  bool data_pdu_in_order = true;
  bool data_sequence_in_order = true;
  uint32_t error_recovery_level = 0;
  uint32_t max_connections = 1;
  uint32_t default_time2wait = 2;
  uint32_t default_time2retain = 20;
};

// Login Response status (class << 8 | detail).
namespace login_status {
inline constexpr uint16_t kSuccess = 0x0000;
inline constexpr uint16_t kInitiatorError = 0x0200;
inline constexpr uint16_t kAuthenticationFailure = 0x0201;
inline constexpr uint16_t kNotFound = 0x0203;
inline constexpr uint16_t kUnsupportedVersion = 0x0205;
inline constexpr uint16_t kMissingParameter = 0x0207;
inline constexpr uint16_t kSessionDoesNotExist = 0x020a;
inline constexpr uint16_t kInvalidDuringLogin = 0x020b;
inline constexpr uint16_t kTargetError = 0x0300;
inline constexpr uint16_t kServiceUnavailable = 0x0301;
inline constexpr uint16_t kOutOfResources = 0x0302;
}  // namespace login_status

class Negotiation {
 public:
  explicit Negotiation(const TargetSettings& settings);

  struct Outcome {
    TextPairs reply;                           // the target's answers, in the initiator's order
    uint16_t status = login_status::kSuccess;  // not kSuccess: the login fails
    std::string error;                         // why, for the log
  };
  // The keys of one Login Request (its data, continuations joined) in stage
  // `csg`. Answers every negotiated key (again if offered again);
  // declarations need no answer.
  Outcome on_keys(const TextPairs& keys, uint8_t csg);
  // The declarations the target owes before leaving the operational stage
  // (its MaxRecvDataSegmentLength once), and the final consistency of the
  // parameters (FirstBurstLength at most MaxBurstLength).
  TextPairs finish_operational();

  const SessionParams& params() const { return params_; }
  const std::string& initiator_name() const { return initiator_name_; }
  const std::string& initiator_alias() const { return initiator_alias_; }
  const std::string& target_name() const { return target_name_; }
  // "Normal" unless the initiator declared SessionType=Discovery.
  bool discovery() const { return discovery_; }
  bool auth_none_agreed() const { return auth_none_; }

 private:
  TargetSettings settings_;
  SessionParams params_;
  std::string initiator_name_;
  std::string initiator_alias_;
  std::string target_name_;
  bool discovery_ = false;
  bool auth_none_ = false;
  bool declared_mrdsl_ = false;
};

// A numerical value as RFC 7143 writes them: decimal, or hex with 0x.
// nullopt if malformed or above 2^32 - 1.
std::optional<uint32_t> parse_number(std::string_view text);

}  // namespace splitpath::sim::iscsi
