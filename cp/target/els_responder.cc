#include "cp/target/els_responder.h"

#include <algorithm>
#include <array>

#include "splitpath/fc/bls.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/wire.h"

namespace splitpath::cp {

namespace {

// LS_RJT reason code explanations of FC-LS-3 that els.h does not name.
constexpr uint8_t kExplanationRxDataFieldSize = 0x07;  // service parameter error
constexpr uint8_t kExplanationInvalidNPortName = 0x0D;

// Receive data field sizes a login may state (FC-FS-3).
constexpr uint16_t kMinDataFieldSize = 256;
constexpr uint16_t kMaxDataFieldSize = fc::kMaxFramePayload;

constexpr uint8_t kDfCtlOptionalHeaders = 0x70;

// The header of `frame` (at least 24 bytes) with DF_CTL's optional-header bits
// ignored, so that a frame announcing them can still be answered.
fc::FrameHeader raw_header(std::span<const uint8_t> frame) {
  std::array<uint8_t, fc::kFrameHeaderSize> bytes{};
  std::copy_n(frame.begin(), fc::kFrameHeaderSize, bytes.begin());
  bytes[13] &= static_cast<uint8_t>(~kDfCtlOptionalHeaders);
  return *fc::decode_frame_header(bytes);
}

std::vector<uint8_t> make_frame(const fc::FrameHeader& h, std::span<const uint8_t> payload) {
  std::vector<uint8_t> frame(fc::kFrameHeaderSize + payload.size());
  (void)fc::encode_frame_header(h, frame);
  std::copy(payload.begin(), payload.end(), frame.begin() + fc::kFrameHeaderSize);
  return frame;
}

fc::FrameHeader request_header(uint32_t s_id, uint32_t d_id, uint16_t ox_id) {
  fc::FrameHeader h;
  h.r_ctl = fc::rctl::kElsRequest;
  h.d_id = fc::FcId{d_id & 0xFFFFFF};
  h.s_id = fc::FcId{s_id & 0xFFFFFF};
  h.type = fc::fc_type::kEls;
  h.f_ctl = kFctlOriginatorFirst;
  h.ox_id = ox_id;
  h.rx_id = fc::kUnassignedXid;
  return h;
}

std::vector<uint8_t> els_reply(const fc::FrameHeader& request, std::span<const uint8_t> payload) {
  fc::FrameHeader h;
  h.r_ctl = fc::rctl::kElsReply;
  h.d_id = request.s_id;
  h.s_id = request.d_id;
  h.type = fc::fc_type::kEls;
  h.f_ctl = kFctlResponderLast;
  h.ox_id = request.ox_id;
  h.rx_id = request.rx_id != fc::kUnassignedXid ? request.rx_id : kElsResponderRxId;
  return make_frame(h, payload);
}

std::vector<uint8_t> ls_rjt_reply(const fc::FrameHeader& request, uint8_t reason,
                                  uint8_t explanation) {
  std::array<uint8_t, fc::kLsRjtSize> payload{};
  (void)fc::encode_ls_rjt(fc::LsRjt{reason, explanation, 0}, payload);
  return els_reply(request, payload);
}

fc::ServiceParameters login_parameters(uint8_t command, uint64_t wwpn, uint64_t wwnn) {
  fc::ServiceParameters s;
  s.command = command;
  s.common.bb_rx_data_field_size = fc::kDefaultDataFieldSize;
  s.common.features = fc::csp_features::kContinuouslyIncreasingRelOff;
  s.common.set_plogi_sequences(255, 0x1F);
  s.port_name = fc::Wwn{wwpn};
  s.node_name = fc::Wwn{wwnn};
  s.class3.valid = true;
  s.class3.sequential_delivery = true;
  s.class3.rx_data_field_size = fc::kDefaultDataFieldSize;
  return s;
}

// Why a login's service parameters are refused, as an LS_RJT explanation; kNone
// if they are acceptable.
uint8_t plogi_problem(const fc::ServiceParameters& s) {
  if (!s.class3.valid) return fc::ls_rjt_explanation::kServiceParamOptions;
  if (s.class3.rx_data_field_size < kMinDataFieldSize ||
      s.class3.rx_data_field_size > kMaxDataFieldSize) {
    return kExplanationRxDataFieldSize;
  }
  if (s.port_name.value == 0) return kExplanationInvalidNPortName;
  return fc::ls_rjt_explanation::kNone;
}

}  // namespace

std::vector<uint8_t> make_els_reject(std::span<const uint8_t> request_frame, uint8_t reason,
                                     uint8_t explanation) {
  if (request_frame.size() < fc::kFrameHeaderSize) return {};
  return ls_rjt_reply(raw_header(request_frame), reason, explanation);
}

ElsAnswer answer_els(std::span<const uint8_t> request_frame, uint64_t wwpn, uint64_t wwnn) {
  ElsAnswer a;
  if (request_frame.size() < fc::kFrameHeaderSize) return a;
  const fc::FrameHeader h = raw_header(request_frame);
  if (h.r_ctl != fc::rctl::kElsRequest || h.type != fc::fc_type::kEls) return a;
  const auto payload = request_frame.subspan(fc::kFrameHeaderSize);

  auto reject = [&](uint8_t reason, uint8_t explanation) {
    a.reply_frame = ls_rjt_reply(h, reason, explanation);
    a.reject_reason = reason;
    a.reject_explanation = explanation;
    return a;
  };
  auto accept = [&](std::span<const uint8_t> acc_payload) {
    a.reply_frame = els_reply(h, acc_payload);
    a.accepted = true;
    return a;
  };
  auto bad_length = [&] {
    return reject(fc::ls_rjt_reason::kProtocolError, fc::ls_rjt_explanation::kInvalidPayloadLength);
  };

  // The payload would start after the optional headers, which Splitpath never
  // sends; reading it at byte 24 would misread it.
  if (request_frame[13] & kDfCtlOptionalHeaders) {
    return reject(fc::ls_rjt_reason::kProtocolError, fc::ls_rjt_explanation::kNone);
  }
  auto code = fc::els_command_code(payload);
  if (!code.ok()) return bad_length();
  a.command = *code;

  switch (*code) {
    case fc::els_cmd::kPlogi: {
      auto params = fc::decode_service_parameters(payload);
      if (!params.ok()) {
        if (params.error().code == fc::WireErrc::kTruncated) return bad_length();
        return reject(fc::ls_rjt_reason::kLogicalError, kExplanationRxDataFieldSize);
      }
      if (const uint8_t why = plogi_problem(*params); why != fc::ls_rjt_explanation::kNone) {
        return reject(fc::ls_rjt_reason::kLogicalError, why);
      }
      std::array<uint8_t, fc::kServiceParametersSize> acc{};
      (void)fc::encode_service_parameters(login_parameters(fc::els_cmd::kAcc, wwpn, wwnn), acc);
      a.initiator_wwpn = params->port_name.value;
      a.logged_in = true;
      return accept(acc);
    }
    case fc::els_cmd::kPrli:
    case fc::els_cmd::kPrlo: {
      auto page = fc::decode_prli(payload);
      if (!page.ok()) {
        if (page.error().code == fc::WireErrc::kUnsupported) {
          return reject(fc::ls_rjt_reason::kUnableToPerform,
                        fc::ls_rjt_explanation::kRequestNotSupported);
        }
        return bad_length();
      }
      fc::Prli acc;
      acc.command = fc::els_cmd::kAcc;
      acc.response_code = fc::prli_response::kRequestExecuted;
      if (*code == fc::els_cmd::kPrli) {
        acc.establish_image_pair = page->establish_image_pair;
        acc.service_parameters = fc::prli_fcp::kTargetFunction | fc::prli_fcp::kReadXferRdyDisabled;
      } else {
        acc.establish_image_pair = false;
        a.logged_out = true;
      }
      std::array<uint8_t, fc::kPrliSize> out{};
      (void)fc::encode_prli(acc, out);
      return accept(out);
    }
    case fc::els_cmd::kLogo: {
      if (!fc::decode_logo(payload).ok()) return bad_length();
      std::array<uint8_t, fc::kElsCommandSize> acc{};
      (void)fc::encode_els_acc(acc);
      a.logged_out = true;
      return accept(acc);
    }
    case kElsAdisc: {
      if (payload.size() < kAdiscSize) return bad_length();
      std::array<uint8_t, kAdiscSize> acc{};
      acc[0] = fc::els_cmd::kAcc;
      fc::store_be64(acc.data() + 8, wwpn);
      fc::store_be64(acc.data() + 16, wwnn);
      fc::store_be24(acc.data() + 25, h.d_id.value);
      return accept(acc);
    }
    default:
      return reject(fc::ls_rjt_reason::kCommandNotSupported, fc::ls_rjt_explanation::kNone);
  }
}

std::vector<uint8_t> answer_abts(std::span<const uint8_t> abts_frame) {
  if (abts_frame.size() < fc::kFrameHeaderSize) return {};
  const fc::FrameHeader abts = raw_header(abts_frame);
  if (abts.r_ctl != fc::rctl::kBlsAbts || abts.type != fc::fc_type::kBls) return {};

  fc::FrameHeader h;
  h.d_id = abts.s_id;
  h.s_id = abts.d_id;
  h.type = fc::fc_type::kBls;
  // The BA_ACC goes the other way in the exchange: from the responder if the
  // originator sent the ABTS, and back.
  h.f_ctl = ((abts.f_ctl & fc::fctl::kExchangeContext) ? 0 : fc::fctl::kExchangeContext) |
            fc::fctl::kLastSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
  h.ox_id = abts.ox_id;
  h.rx_id = abts.rx_id;

  if (abts.ox_id == fc::kUnassignedXid) {
    h.r_ctl = fc::rctl::kBlsBaRjt;
    std::array<uint8_t, fc::kBaRjtSize> rjt{};
    (void)fc::encode_ba_rjt(
        fc::BaRjt{fc::ba_rjt_reason::kLogicalError, fc::ba_rjt_explanation::kInvalidOxIdRxId, 0},
        rjt);
    return make_frame(h, rjt);
  }
  h.r_ctl = fc::rctl::kBlsBaAcc;
  fc::BaAcc acc;
  acc.seq_id_valid = false;
  acc.ox_id = abts.ox_id;
  acc.rx_id = abts.rx_id;
  acc.low_seq_cnt = 0;
  acc.high_seq_cnt = 0xFFFF;
  std::array<uint8_t, fc::kBaAccSize> payload{};
  (void)fc::encode_ba_acc(acc, payload);
  return make_frame(h, payload);
}

std::vector<uint8_t> make_plogi(uint32_t s_id, uint32_t d_id, uint16_t ox_id, uint64_t wwpn,
                                uint64_t wwnn) {
  std::array<uint8_t, fc::kServiceParametersSize> payload{};
  (void)fc::encode_service_parameters(login_parameters(fc::els_cmd::kPlogi, wwpn, wwnn), payload);
  return make_frame(request_header(s_id, d_id, ox_id), payload);
}

std::vector<uint8_t> make_prli_initiator(uint32_t s_id, uint32_t d_id, uint16_t ox_id) {
  fc::Prli prli;
  prli.command = fc::els_cmd::kPrli;
  prli.establish_image_pair = true;
  prli.service_parameters = fc::prli_fcp::kInitiatorFunction | fc::prli_fcp::kReadXferRdyDisabled;
  std::array<uint8_t, fc::kPrliSize> payload{};
  (void)fc::encode_prli(prli, payload);
  return make_frame(request_header(s_id, d_id, ox_id), payload);
}

std::vector<uint8_t> make_logo(uint32_t s_id, uint32_t d_id, uint16_t ox_id, uint64_t wwpn) {
  std::array<uint8_t, fc::kLogoSize> payload{};
  (void)fc::encode_logo(fc::Logo{fc::FcId{s_id & 0xFFFFFF}, fc::Wwn{wwpn}}, payload);
  return make_frame(request_header(s_id, d_id, ox_id), payload);
}

ElsReply parse_els_reply(std::span<const uint8_t> frame, uint8_t request_command) {
  ElsReply r;
  auto header = fc::decode_frame_header(frame);
  if (!header.ok()) return r;
  if (header->r_ctl != fc::rctl::kElsReply || header->type != fc::fc_type::kEls) return r;
  r.ox_id = header->ox_id;
  const auto payload = frame.subspan(fc::kFrameHeaderSize);
  auto code = fc::els_command_code(payload);
  if (!code.ok()) return r;
  r.code = *code;
  if (*code == fc::els_cmd::kLsRjt) {
    if (auto rjt = fc::decode_ls_rjt(payload); rjt.ok()) {
      r.reject_reason = rjt->reason;
      r.reject_explanation = rjt->explanation;
    }
    return r;
  }
  if (*code != fc::els_cmd::kAcc) return r;
  switch (request_command) {
    case fc::els_cmd::kPlogi: {
      auto params = fc::decode_service_parameters(payload);
      if (!params.ok()) return r;
      r.port_name = params->port_name.value;
      r.node_name = params->node_name.value;
      r.accepted = true;
      return r;
    }
    case fc::els_cmd::kPrli: {
      auto page = fc::decode_prli(payload);
      if (!page.ok()) return r;
      r.prli_response_code = page->response_code;
      r.fcp_service_parameters = page->service_parameters;
      r.accepted = page->response_code == fc::prli_response::kRequestExecuted;
      return r;
    }
    default:
      r.accepted = true;
      return r;
  }
}

}  // namespace splitpath::cp
