// An N_Port's logins: FLOGI to the fabric, PLOGI to the name server and the
// registrations there (RPN_ID, RNN_ID, RFT_ID, RFF_ID), SCR for state-change
// notifications, and the answers to peers' PLOGI, PRLI, LOGO and to RSCN.
#include <array>

#include "fabric_sim/net/ct_iu.h"
#include "fabric_sim/node/nport.h"
#include "splitpath/fc/ct.h"
#include "splitpath/fc/els.h"

namespace splitpath::sim {

namespace {

fc::ServiceParameters login_parameters(uint8_t command, uint64_t wwpn, uint64_t wwnn) {
  fc::ServiceParameters s;
  s.command = command;
  s.common.bb_credit = 32;
  s.common.bb_rx_data_field_size = fc::kDefaultDataFieldSize;
  if (command == fc::els_cmd::kPlogi || command == fc::els_cmd::kAcc) {
    s.common.features = fc::csp_features::kContinuouslyIncreasingRelOff;
    s.common.set_plogi_sequences(255, 0x1F);
  } else {
    s.common.set_r_a_tov(10000);
  }
  s.port_name = fc::Wwn{wwpn};
  s.node_name = fc::Wwn{wwnn};
  s.class3.sequential_delivery = true;
  s.class3.rx_data_field_size = fc::kDefaultDataFieldSize;
  return s;
}

bool is_acc(const std::span<const uint8_t> payload) {
  auto code = fc::els_command_code(payload);
  return code.ok() && *code == fc::els_cmd::kAcc;
}

bool is_ct_accept(const std::span<const uint8_t> payload) {
  auto preamble = fc::decode_ct_preamble(payload);
  return preamble.ok() && preamble->command_response == fc::ct_cmd::kAcc;
}

}  // namespace

void NPort::send_flogi() {
  login_state_ = LoginState::kFlogi;
  port_id_ = fc::FcId{0};
  std::array<uint8_t, fc::kServiceParametersSize> payload{};
  (void)fc::encode_service_parameters(login_parameters(fc::els_cmd::kFlogi, wwpn_, wwnn_), payload);
  send_els(fc::kFabricLoginServer, payload, [this](const ControlReply& reply) {
    if (reply.timed_out || !is_acc(reply.payload)) return fail_login("FLOGI");
    auto params = fc::decode_service_parameters(reply.payload);
    if (!params.ok() || !params->common.f_port()) return fail_login("FLOGI");
    // The fabric tells the N_Port its address in the D_ID of the ACC.
    port_id_ = reply.header.d_id;
    register_with_name_server();
  });
}

void NPort::register_with_name_server() {
  login_state_ = LoginState::kRegistering;
  std::array<uint8_t, fc::kServiceParametersSize> payload{};
  (void)fc::encode_service_parameters(login_parameters(fc::els_cmd::kPlogi, wwpn_, wwnn_), payload);
  send_els(fc::kDirectoryServer, payload, [this](const ControlReply& reply) {
    if (reply.timed_out || !is_acc(reply.payload)) return fail_login("name server PLOGI");
    register_next(0);
  });
}

// Registration steps, one CT request each, in the order real HBAs use.
void NPort::register_next(int step) {
  std::array<uint8_t, 128> buf{};
  size_t n = 0;
  switch (step) {
    case 0:
      n = build_ct_iu(fc::make_ns_request(fc::ct_cmd::kRpnId), buf, [&](std::span<uint8_t> out) {
        return fc::encode_ns_id_name({port_id_, fc::Wwn{wwpn_}}, out);
      });
      break;
    case 1:
      n = build_ct_iu(fc::make_ns_request(fc::ct_cmd::kRnnId), buf, [&](std::span<uint8_t> out) {
        return fc::encode_ns_id_name({port_id_, fc::Wwn{wwnn_}}, out);
      });
      break;
    case 2:
      n = build_ct_iu(fc::make_ns_request(fc::ct_cmd::kRftId), buf, [&](std::span<uint8_t> out) {
        fc::RftId r;
        r.port_id = port_id_;
        r.types.set(fc::fc_type::kFcp);
        return fc::encode_rft_id(r, out);
      });
      break;
    case 3:
      n = build_ct_iu(fc::make_ns_request(fc::ct_cmd::kRffId), buf, [&](std::span<uint8_t> out) {
        fc::RffId r;
        r.port_id = port_id_;
        r.features =
            role_ == Role::kInitiator ? fc::fc4_features::kInitiator : fc::fc4_features::kTarget;
        r.type = fc::fc_type::kFcp;
        return fc::encode_rff_id(r, out);
      });
      break;
    case 4: {
      // State change registration with the fabric controller (ELS, not CT).
      std::array<uint8_t, fc::kScrSize> scr{};
      (void)fc::encode_scr(fc::scr_function::kFull, scr);
      send_els(fc::kFabricController, scr, [this](const ControlReply& reply) {
        if (reply.timed_out || !is_acc(reply.payload)) return fail_login("SCR");
        login_state_ = LoginState::kReady;
        on_fabric_ready();
      });
      return;
    }
    default:
      return;
  }
  send_ct(fc::kDirectoryServer, std::span<const uint8_t>(buf.data(), n),
          [this, step](const ControlReply& reply) {
            if (reply.timed_out || !is_ct_accept(reply.payload)) {
              return fail_login("name server registration");
            }
            register_next(step + 1);
          });
}

void NPort::handle_els_request(const fc::FrameHeader& h, std::span<const uint8_t> payload) {
  auto code = fc::els_command_code(payload);
  auto reject = [&](uint8_t reason, uint8_t explanation) {
    std::array<uint8_t, fc::kLsRjtSize> rjt{};
    (void)fc::encode_ls_rjt(fc::LsRjt{reason, explanation, 0}, rjt);
    reply_els(h, rjt);
  };
  if (!code.ok())
    return reject(fc::ls_rjt_reason::kProtocolError, fc::ls_rjt_explanation::kInvalidPayloadLength);
  switch (*code) {
    case fc::els_cmd::kPlogi: {
      auto params = fc::decode_service_parameters(payload);
      if (!params.ok()) {
        return reject(fc::ls_rjt_reason::kProtocolError, fc::ls_rjt_explanation::kNone);
      }
      plogi_peers_.insert(h.s_id.value);
      prli_peers_.erase(h.s_id.value);
      peer_wwpns_[h.s_id.value] = params->port_name.value;
      std::array<uint8_t, fc::kServiceParametersSize> acc{};
      (void)fc::encode_service_parameters(login_parameters(fc::els_cmd::kAcc, wwpn_, wwnn_), acc);
      return reply_els(h, acc);
    }
    case fc::els_cmd::kPrli: {
      auto prli = fc::decode_prli(payload);
      if (!prli.ok())
        return reject(fc::ls_rjt_reason::kProtocolError, fc::ls_rjt_explanation::kNone);
      if (!plogi_peers_.contains(h.s_id.value)) {
        return reject(fc::ls_rjt_reason::kUnableToPerform,
                      fc::ls_rjt_explanation::kNPortLoginRequired);
      }
      prli_peers_.insert(h.s_id.value);
      fc::Prli acc;
      acc.command = fc::els_cmd::kAcc;
      acc.establish_image_pair = true;
      acc.response_code = fc::prli_response::kRequestExecuted;
      acc.service_parameters = role_ == Role::kTarget ? fc::prli_fcp::kTargetFunction |
                                                            fc::prli_fcp::kReadXferRdyDisabled
                                                      : fc::prli_fcp::kInitiatorFunction;
      std::array<uint8_t, fc::kPrliSize> out{};
      (void)fc::encode_prli(acc, out);
      return reply_els(h, out);
    }
    case fc::els_cmd::kLogo:
      plogi_peers_.erase(h.s_id.value);
      prli_peers_.erase(h.s_id.value);
      peer_wwpns_.erase(h.s_id.value);
      {
        std::array<uint8_t, fc::kElsCommandSize> acc{};
        (void)fc::encode_els_acc(acc);
        reply_els(h, acc);
      }
      return;
    case fc::els_cmd::kRscn: {
      std::array<uint8_t, fc::kElsCommandSize> acc{};
      (void)fc::encode_els_acc(acc);
      reply_els(h, acc);
      if (login_state_ == LoginState::kReady) on_state_change();
      return;
    }
    default:
      return reject(fc::ls_rjt_reason::kCommandNotSupported, fc::ls_rjt_explanation::kNone);
  }
}

void NPort::port_login(fc::FcId peer, std::function<void(bool, uint32_t)> done, uint32_t retries) {
  std::array<uint8_t, fc::kServiceParametersSize> payload{};
  (void)fc::encode_service_parameters(login_parameters(fc::els_cmd::kPlogi, wwpn_, wwnn_), payload);
  send_els(peer, payload, [this, peer, done, retries](const ControlReply& reply) {
    if (reply.timed_out && retries > 0) return port_login(peer, done, retries - 1);
    if (reply.timed_out || !is_acc(reply.payload)) return done(false, 0);
    plogi_peers_.insert(peer.value);
    if (auto params = fc::decode_service_parameters(reply.payload); params.ok()) {
      peer_wwpns_[peer.value] = params->port_name.value;
    }
    fc::Prli prli;
    prli.command = fc::els_cmd::kPrli;
    prli.service_parameters = role_ == Role::kInitiator ? fc::prli_fcp::kInitiatorFunction |
                                                              fc::prli_fcp::kReadXferRdyDisabled
                                                        : fc::prli_fcp::kTargetFunction;
    std::array<uint8_t, fc::kPrliSize> out{};
    (void)fc::encode_prli(prli, out);
    send_els(peer, out, [this, peer, done, retries](const ControlReply& r) {
      if (r.timed_out && retries > 0) return port_login(peer, done, retries - 1);
      if (r.timed_out || !is_acc(r.payload)) return done(false, 0);
      auto acc = fc::decode_prli(r.payload);
      if (!acc.ok() || acc->response_code != fc::prli_response::kRequestExecuted) {
        return done(false, 0);
      }
      prli_peers_.insert(peer.value);
      done(true, acc->service_parameters);
    });
  });
}

void NPort::port_logout(fc::FcId peer, std::function<void(bool)> done) {
  plogi_peers_.erase(peer.value);
  prli_peers_.erase(peer.value);
  peer_wwpns_.erase(peer.value);
  std::array<uint8_t, fc::kLogoSize> payload{};
  (void)fc::encode_logo(fc::Logo{port_id_, fc::Wwn{wwpn_}}, payload);
  send_els(peer, payload, [done = std::move(done)](const ControlReply& reply) {
    done(!reply.timed_out && is_acc(reply.payload));
  });
}

}  // namespace splitpath::sim
