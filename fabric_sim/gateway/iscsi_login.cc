#include "fabric_sim/gateway/iscsi_login.h"

#include <algorithm>
#include <string_view>

#include "fmt/format.h"

namespace splitpath::sim::iscsi {
namespace {

std::optional<bool> parse_bool(std::string_view v) {
  if (v == "Yes") return true;
  if (v == "No") return false;
  return std::nullopt;
}

const char* yes_no(bool b) {
  return b ? "Yes" : "No";
}

bool list_has(std::string_view list, std::string_view item) {
  size_t at = 0;
  while (at <= list.size()) {
    const size_t comma = list.find(',', at);
    const size_t end = comma == std::string_view::npos ? list.size() : comma;
    if (list.substr(at, end - at) == item) return true;
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  return false;
}

std::optional<uint32_t> in_range(std::string_view v, uint32_t lo, uint32_t hi) {
  auto n = parse_number(v);
  if (!n || *n < lo || *n > hi) return std::nullopt;
  return n;
}

}  // namespace

std::optional<uint32_t> parse_number(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (digit >= base) return std::nullopt;
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
    if (value > 0xffffffffULL) return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

Negotiation::Negotiation(const TargetSettings& settings) : settings_(settings) {}

Negotiation::Outcome Negotiation::on_keys(const TextPairs& keys, uint8_t csg) {
  Outcome out;
  auto fail = [&](uint16_t status, std::string why) {
    if (out.status == login_status::kSuccess) {
      out.status = status;
      out.error = std::move(why);
    }
  };
  auto answer = [&](const std::string& key, std::string value) {
    out.reply.emplace_back(key, std::move(value));
  };
  for (const auto& [key, value] : keys) {
    // Answers to the target's own declarations.
    if (value == "NotUnderstood" || value == "Irrelevant" || value == "Reject") continue;
    if (key == "InitiatorName") {
      if (value.empty()) fail(login_status::kMissingParameter, "an empty InitiatorName");
      initiator_name_ = value;
    } else if (key == "InitiatorAlias") {
      initiator_alias_ = value;
    } else if (key == "TargetName") {
      target_name_ = value;
    } else if (key == "SessionType") {
      if (value == "Discovery") {
        discovery_ = true;
      } else if (value == "Normal") {
        discovery_ = false;
      } else {
        fail(login_status::kInitiatorError, fmt::format("SessionType={:.64}", value));
      }
    } else if (key == "TargetAlias" || key == "TargetAddress" || key == "TargetPortalGroupTag") {
      // Only the target declares these; an initiator's are ignored.
    } else if (key == "AuthMethod") {
      if (list_has(value, "None")) {
        auth_none_ = true;
        answer(key, "None");
      } else {
        answer(key, "Reject");
        fail(login_status::kAuthenticationFailure,
             fmt::format("AuthMethod={:.64}: only None is served", value));
      }
    } else if (key.rfind("CHAP_", 0) == 0 || key.rfind("SRP_", 0) == 0 ||
               key.rfind("KRB_", 0) == 0 || key.rfind("SPKM_", 0) == 0) {
      fail(login_status::kAuthenticationFailure,
           fmt::format("{}: authentication is not served (AuthMethod=None)", key));
    } else if (key == "HeaderDigest" || key == "DataDigest") {
      answer(key, list_has(value, "None") ? "None" : "Reject");
    } else if (key == "MaxConnections") {
      answer(key, in_range(value, 1, 65535) ? "1" : "Reject");
    } else if (key == "InitialR2T") {
      if (auto b = parse_bool(value)) {
        params_.initial_r2t = *b || settings_.initial_r2t;
        answer(key, yes_no(params_.initial_r2t));
      } else {
        answer(key, "Reject");
      }
    } else if (key == "ImmediateData") {
      if (auto b = parse_bool(value)) {
        params_.immediate_data = *b && settings_.immediate_data;
        answer(key, yes_no(params_.immediate_data));
      } else {
        answer(key, "Reject");
      }
    } else if (key == "MaxRecvDataSegmentLength") {
      if (auto n = in_range(value, 512, kMaxDataSegmentLength)) {
        params_.initiator_max_recv_dsl = *n;
      } else {
        fail(login_status::kInitiatorError, fmt::format("MaxRecvDataSegmentLength={:.64}", value));
      }
    } else if (key == "MaxBurstLength") {
      if (auto n = in_range(value, 512, kMaxDataSegmentLength)) {
        params_.max_burst_length = std::min(*n, settings_.max_burst_length);
        answer(key, std::to_string(params_.max_burst_length));
      } else {
        answer(key, "Reject");
      }
    } else if (key == "FirstBurstLength") {
      if (auto n = in_range(value, 512, kMaxDataSegmentLength)) {
        params_.first_burst_length = std::min(*n, settings_.first_burst_length);
        answer(key, std::to_string(params_.first_burst_length));
      } else {
        answer(key, "Reject");
      }
    } else if (key == "DefaultTime2Wait") {
      if (auto n = in_range(value, 0, 3600)) {
        params_.default_time2wait = std::max(*n, settings_.default_time2wait);
        answer(key, std::to_string(params_.default_time2wait));
      } else {
        answer(key, "Reject");
      }
    } else if (key == "DefaultTime2Retain") {
      if (auto n = in_range(value, 0, 3600)) {
        params_.default_time2retain = std::min(*n, settings_.default_time2retain);
        answer(key, std::to_string(params_.default_time2retain));
      } else {
        answer(key, "Reject");
      }
    } else if (key == "MaxOutstandingR2T") {
      if (auto n = in_range(value, 1, 65535)) {
        params_.max_outstanding_r2t = std::min(*n, settings_.max_outstanding_r2t);
        answer(key, std::to_string(params_.max_outstanding_r2t));
      } else {
        answer(key, "Reject");
      }
    } else if (key == "DataPDUInOrder" || key == "DataSequenceInOrder") {
      // OR with the target's Yes: Yes whatever the initiator prefers.
      answer(key, parse_bool(value) ? "Yes" : "Reject");
    } else if (key == "ErrorRecoveryLevel") {
      answer(key, in_range(value, 0, 2) ? "0" : "Reject");
    } else if (key == "IFMarker" || key == "OFMarker") {
      answer(key, parse_bool(value) ? "No" : "Reject");
    } else if (key == "IFMarkInt" || key == "OFMarkInt") {
      answer(key, "Irrelevant");
    } else if (key == "TaskReporting") {
      answer(key, "RFC3720");
    } else if (key == "iSCSIProtocolLevel") {
      if (auto n = in_range(value, 0, 31)) {
        answer(key, std::to_string(std::min<uint32_t>(*n, 1)));
      } else {
        answer(key, "Reject");
      }
    } else if (key == "SendTargets") {
      answer(key, "Irrelevant");  // a full feature phase Text Request's
    } else {
      answer(key, "NotUnderstood");
    }
  }
  if (csg == stage::kOperational) {
    for (auto& pair : finish_operational())
      out.reply.push_back(std::move(pair));
  }
  return out;
}

TextPairs Negotiation::finish_operational() {
  TextPairs owed;
  if (!declared_mrdsl_) {
    declared_mrdsl_ = true;
    params_.target_max_recv_dsl = settings_.max_recv_data_segment_length;
    owed.emplace_back("MaxRecvDataSegmentLength",
                      std::to_string(settings_.max_recv_data_segment_length));
  }
  params_.first_burst_length = std::min(params_.first_burst_length, params_.max_burst_length);
  return owed;
}

}  // namespace splitpath::sim::iscsi
