#include "fabric_sim/switch/fabric_services.h"

#include "fabric_sim/switch/virtual_addresses.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "fabric_sim/net/ct_iu.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/switch/virtual_addresses.h"
#include "splitpath/fc/els.h"

namespace splitpath::sim {

namespace {

constexpr uint32_t kFctlReply = fc::fctl::kExchangeContext | fc::fctl::kLastSequence |
                                fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
constexpr uint32_t kFctlRequest =
    fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;

// Service parameters of the switch's answer to FLOGI/FDISC (an F_Port) and to
// PLOGI at a well-known address.
fc::ServiceParameters fabric_parameters(bool f_port, uint64_t switch_wwn) {
  fc::ServiceParameters s;
  s.command = fc::els_cmd::kAcc;
  s.common.bb_credit = 32;
  s.common.bb_rx_data_field_size = fc::kDefaultDataFieldSize;
  s.common.features = f_port ? fc::csp_features::kFPort : 0;
  s.common.set_r_a_tov(10000);
  s.port_name = fc::Wwn{switch_wwn};
  s.node_name = fc::Wwn{switch_wwn};
  s.class3.sequential_delivery = true;
  s.class3.rx_data_field_size = fc::kDefaultDataFieldSize;
  return s;
}

uint64_t switch_wwn(uint8_t domain) {
  return 0x1000000000000000ull | (uint64_t{domain} << 16);
}

}  // namespace

void FabricServices::send_frame(const fc::FrameHeader& h, std::span<const uint8_t> payload) {
  Frame* f = sw_.pool().alloc();
  (void)fc::encode_frame_header(h, {f->bytes, fc::kFrameHeaderSize});
  std::memcpy(f->payload_ptr(), payload.data(), payload.size());
  f->size = static_cast<uint16_t>(fc::kFrameHeaderSize + payload.size());
  sw_.send(f, kServiceLatencyNs);
}

void FabricServices::send_reply(const fc::FrameHeader& request, uint8_t r_ctl,
                                std::span<const uint8_t> payload) {
  fc::FrameHeader h;
  h.r_ctl = r_ctl;
  h.d_id = request.s_id;
  h.s_id = request.d_id;
  h.type = request.type;
  h.f_ctl = kFctlReply;
  h.ox_id = request.ox_id;
  h.rx_id = next_rx_id_++;
  send_frame(h, payload);
}

void FabricServices::send_els_reply(const fc::FrameHeader& request,
                                    std::span<const uint8_t> payload) {
  send_reply(request, fc::rctl::kElsReply, payload);
}

void FabricServices::send_ls_rjt(const fc::FrameHeader& request, uint8_t reason,
                                 uint8_t explanation) {
  std::array<uint8_t, fc::kLsRjtSize> rjt{};
  (void)fc::encode_ls_rjt(fc::LsRjt{reason, explanation, 0}, rjt);
  send_els_reply(request, rjt);
}

void FabricServices::send_ct_reply(const fc::FrameHeader& request, std::span<const uint8_t> iu) {
  send_reply(request, fc::rctl::kDeviceDataSolicitedCtl, iu);
}

void FabricServices::on_frame(uint32_t port, Frame* frame) {
  auto header = fc::decode_frame_header(frame->data());
  if (header.ok()) {
    const fc::FrameHeader& h = *header;
    const auto payload = frame->payload();
    const bool from_switch = fc::is_domain_controller(h.s_id);
    if (h.type == fc::fc_type::kEls && h.r_ctl == fc::rctl::kElsRequest) {
      if (h.d_id == fc::kFabricLoginServer) {
        handle_login_server(port, h, payload);
      } else if (h.d_id == fc::kDirectoryServer) {
        handle_name_server_els(h, payload);
      } else if (h.d_id == fc::kFabricController) {
        handle_fabric_controller(h, payload);
      } else {
        send_ls_rjt(h, fc::ls_rjt_reason::kCommandNotSupported, fc::ls_rjt_explanation::kNone);
      }
    } else if (h.type == fc::fc_type::kCt && h.r_ctl == fc::rctl::kDeviceDataUnsolicitedCtl &&
               (h.d_id == fc::kDirectoryServer || from_switch)) {
      handle_ct(h, payload, from_switch);
    }
    // Everything else (ACCs to our RSCNs, stray frames) needs no answer.
  }
  sw_.pool().free(frame);
}

void FabricServices::handle_login_server(uint32_t port, const fc::FrameHeader& h,
                                         std::span<const uint8_t> payload) {
  auto code = fc::els_command_code(payload);
  if (!code.ok()) {
    return send_ls_rjt(h, fc::ls_rjt_reason::kProtocolError,
                       fc::ls_rjt_explanation::kInvalidPayloadLength);
  }
  auto& logins = sw_.logins();
  if (*code == fc::els_cmd::kLogo) {
    auto logo = fc::decode_logo(payload);
    if (logo.ok()) logout(logo->port_id);
    std::array<uint8_t, fc::kElsCommandSize> acc{};
    (void)fc::encode_els_acc(acc);
    // The sender no longer has an address; answer to the one it used.
    return send_els_reply(h, acc);
  }
  if (*code != fc::els_cmd::kFlogi && *code != fc::els_cmd::kFdisc) {
    return send_ls_rjt(h, fc::ls_rjt_reason::kCommandNotSupported, fc::ls_rjt_explanation::kNone);
  }
  auto params = fc::decode_service_parameters(payload);
  if (!params.ok()) {
    return send_ls_rjt(h, fc::ls_rjt_reason::kProtocolError,
                       fc::ls_rjt_explanation::kServiceParamOptions);
  }
  if (sw_.port_role(port) != PortRole::kFPort) {
    return send_ls_rjt(h, fc::ls_rjt_reason::kUnableToPerform, fc::ls_rjt_explanation::kNone);
  }
  const fc::FcId base = fc::FcId::from_parts(sw_.domain(), static_cast<uint8_t>(port), 0);
  fc::FcId assigned = base;
  if (*code == fc::els_cmd::kFlogi) {
    // A new FLOGI on a port ends every earlier login through it.
    on_port_down(port);
  } else {
    // FDISC (NPIV) needs the port's FLOGI first; it gets the next free port byte.
    if (!logins.contains(base.value)) {
      return send_ls_rjt(h, fc::ls_rjt_reason::kLogicalError,
                         fc::ls_rjt_explanation::kNPortLoginRequired);
    }
    // Port bytes from kMaxNPortIdsPerPort up are the switch's own (see
    // virtual_addresses.h).
    uint32_t p = 1;
    while (p < kMaxNPortIdsPerPort &&
           logins.contains(fc::FcId::from_parts(sw_.domain(), static_cast<uint8_t>(port),
                                                static_cast<uint8_t>(p))
                               .value)) {
      ++p;
    }
    if (p == kMaxNPortIdsPerPort) {
      return send_ls_rjt(h, fc::ls_rjt_reason::kUnableToPerform,
                         fc::ls_rjt_explanation::kInsufficientResources);
    }
    assigned =
        fc::FcId::from_parts(sw_.domain(), static_cast<uint8_t>(port), static_cast<uint8_t>(p));
  }
  logins[assigned.value] = LocalLogin{port, params->port_name.value, params->node_name.value};
  NameServerEntry& e = sw_.name_server().upsert(assigned, sw_.domain());
  e.wwpn = params->port_name.value;
  e.wwnn = params->node_name.value;

  std::array<uint8_t, fc::kServiceParametersSize> acc{};
  (void)fc::encode_service_parameters(fabric_parameters(true, switch_wwn(sw_.domain())), acc);
  fc::FrameHeader reply;
  reply.r_ctl = fc::rctl::kElsReply;
  reply.d_id = assigned;  // the N_Port learns its address from this D_ID
  reply.s_id = fc::kFabricLoginServer;
  reply.type = fc::fc_type::kEls;
  reply.f_ctl = kFctlReply;
  reply.ox_id = h.ox_id;
  reply.rx_id = next_rx_id_++;
  send_frame(reply, acc);

  // Tell the other switches the name, as RPN_ID and RNN_ID from this domain.
  for (auto [cmd, name] :
       {std::pair{fc::ct_cmd::kRpnId, e.wwpn}, std::pair{fc::ct_cmd::kRnnId, e.wwnn}}) {
    std::array<uint8_t, 64> iu{};
    // A named copy: clang 14 cannot capture a structured binding.
    const uint64_t port_name = name;
    const size_t n = build_ct_iu(fc::make_ns_request(cmd), iu, [&](std::span<uint8_t> out) {
      return fc::encode_ns_id_name({assigned, fc::Wwn{port_name}}, out);
    });
    replicate({iu.data(), n});
  }
}

void FabricServices::handle_name_server_els(const fc::FrameHeader& h,
                                            std::span<const uint8_t> payload) {
  auto code = fc::els_command_code(payload);
  if (code.ok() && *code == fc::els_cmd::kPlogi && fc::decode_service_parameters(payload).ok()) {
    std::array<uint8_t, fc::kServiceParametersSize> acc{};
    (void)fc::encode_service_parameters(fabric_parameters(false, switch_wwn(sw_.domain())), acc);
    return send_els_reply(h, acc);
  }
  if (code.ok() && *code == fc::els_cmd::kLogo) {
    std::array<uint8_t, fc::kElsCommandSize> acc{};
    (void)fc::encode_els_acc(acc);
    return send_els_reply(h, acc);
  }
  send_ls_rjt(h, fc::ls_rjt_reason::kCommandNotSupported, fc::ls_rjt_explanation::kNone);
}

void FabricServices::handle_fabric_controller(const fc::FrameHeader& h,
                                              std::span<const uint8_t> payload) {
  auto code = fc::els_command_code(payload);
  if (code.ok() && *code == fc::els_cmd::kScr) {
    auto function = fc::decode_scr(payload);
    NameServerEntry* e = sw_.name_server().find(h.s_id);
    if (!function.ok() || !e) {
      return send_ls_rjt(h, fc::ls_rjt_reason::kUnableToPerform, fc::ls_rjt_explanation::kNone);
    }
    e->wants_rscn = *function != fc::scr_function::kClear;
    std::array<uint8_t, fc::kElsCommandSize> acc{};
    (void)fc::encode_els_acc(acc);
    return send_els_reply(h, acc);
  }
  send_ls_rjt(h, fc::ls_rjt_reason::kCommandNotSupported, fc::ls_rjt_explanation::kNone);
}

int FabricServices::apply_registration(const fc::CtPreamble& pre, std::span<const uint8_t> body,
                                       fc::FcId requester, uint8_t home_domain, bool from_switch) {
  NameServerDb& db = sw_.name_server();
  auto target = fc::decode_ns_port_id(body);
  if (!target.ok()) return fc::ns_explanation::kNone;
  // A node registers only itself; another switch registers its own ports.
  if (!from_switch && *target != requester) return fc::ns_explanation::kAccessDenied;
  if (pre.command_response == fc::ct_cmd::kDaId) {
    if (!db.erase(*target)) return fc::ns_explanation::kPortIdNotRegistered;
    return -1;
  }
  NameServerEntry* e = db.find(*target);
  if (!e) {
    if (!from_switch) return fc::ns_explanation::kPortIdNotRegistered;
    e = &db.upsert(*target, home_domain);
  }
  db.touch();
  switch (pre.command_response) {
    case fc::ct_cmd::kRpnId:
    case fc::ct_cmd::kRnnId: {
      auto r = fc::decode_ns_id_name(body);
      if (!r.ok()) return fc::ns_explanation::kNone;
      (pre.command_response == fc::ct_cmd::kRpnId ? e->wwpn : e->wwnn) = r->name.value;
      return -1;
    }
    case fc::ct_cmd::kRftId: {
      auto r = fc::decode_rft_id(body);
      if (!r.ok()) return fc::ns_explanation::kNone;
      e->fc4_types = r->types.bitmap;
      return -1;
    }
    case fc::ct_cmd::kRffId: {
      auto r = fc::decode_rff_id(body);
      if (!r.ok()) return fc::ns_explanation::kNone;
      if (r->type == fc::fc_type::kFcp) e->fcp_features = r->features;
      return -1;
    }
    default:
      return fc::ns_explanation::kNone;
  }
}

void FabricServices::handle_ct(const fc::FrameHeader& h, std::span<const uint8_t> payload,
                               bool from_switch) {
  auto pre = fc::decode_ct_preamble(payload);
  if (!pre.ok()) return;  // not a CT_IU: nothing to answer in
  const auto body = fc::ct_body(payload);
  std::array<uint8_t, fc::kCtPreambleSize + 4 * 256> out{};
  auto reject = [&](uint8_t reason, uint8_t explanation) {
    if (from_switch) return;
    const size_t n =
        build_ct_iu(fc::make_ct_reject(*pre, reason, explanation), out,
                    [](std::span<uint8_t>) { return fc::WireResult<size_t>(size_t{0}); });
    send_ct_reply(h, {out.data(), n});
  };
  if (pre->gs_type != fc::gs_type::kDirectoryService ||
      pre->gs_subtype != fc::gs_subtype::kNameServer) {
    return reject(fc::ct_reason::kCommandNotSupported, fc::ns_explanation::kNone);
  }
  NameServerDb& db = sw_.name_server();
  const NameServerEntry* requester = db.find(h.s_id);
  auto visible = [&](const NameServerEntry& e) {
    // A virtual target that no zone lists is visible to every initiator (LUN
    // masking on the FP decides what each may access); one that a zone lists
    // is zoned like a disk.
    return from_switch || (is_virtual_target_id(e.port_id) && !sw_.zones().lists(e.wwpn)) ||
           (requester && sw_.zone_permits(requester->wwpn, e.wwpn));
  };
  switch (pre->command_response) {
    case fc::ct_cmd::kRpnId:
    case fc::ct_cmd::kRnnId:
    case fc::ct_cmd::kRftId:
    case fc::ct_cmd::kRffId:
    case fc::ct_cmd::kDaId: {
      const int why = apply_registration(*pre, body, h.s_id, h.s_id.port(), from_switch);
      if (why >= 0) return reject(fc::ct_reason::kUnableToPerform, static_cast<uint8_t>(why));
      if (!from_switch) {
        replicate(payload);
        const size_t n = build_ct_iu(fc::make_ct_accept(*pre), out, [](std::span<uint8_t>) {
          return fc::WireResult<size_t>(size_t{0});
        });
        send_ct_reply(h, {out.data(), n});
      }
      auto target = fc::decode_ns_port_id(body);
      if (target.ok() && (pre->command_response == fc::ct_cmd::kRftId ||
                          pre->command_response == fc::ct_cmd::kDaId)) {
        notify_change(*target);
      }
      return;
    }
    case fc::ct_cmd::kGidFt: {
      auto req = fc::decode_gid_ft_request(body);
      if (!req.ok()) return reject(fc::ct_reason::kInvalidCtIuSize, fc::ns_explanation::kNone);
      std::vector<fc::FcId> ids;
      for (const auto& [id, e] : db.entries()) {
        if (e.has_fc4_type(req->type) && visible(e) &&
            (req->domain_scope == 0 || e.port_id.domain() == req->domain_scope)) {
          ids.push_back(e.port_id);
        }
      }
      if (ids.empty()) {
        return reject(fc::ct_reason::kUnableToPerform, fc::ns_explanation::kFc4TypesNotRegistered);
      }
      if (ids.size() > 255) ids.resize(255);
      const size_t n = build_ct_iu(fc::make_ct_accept(*pre), out, [&](std::span<uint8_t> o) {
        return fc::encode_gid_ft_acc(ids, o);
      });
      return send_ct_reply(h, {out.data(), n});
    }
    case fc::ct_cmd::kGpnId:
    case fc::ct_cmd::kGnnId: {
      auto id = fc::decode_ns_port_id(body);
      if (!id.ok()) return reject(fc::ct_reason::kInvalidCtIuSize, fc::ns_explanation::kNone);
      const NameServerEntry* e = db.find(*id);
      if (!e || !visible(*e)) {
        return reject(fc::ct_reason::kUnableToPerform, fc::ns_explanation::kPortIdNotRegistered);
      }
      const uint64_t name = pre->command_response == fc::ct_cmd::kGpnId ? e->wwpn : e->wwnn;
      const size_t n = build_ct_iu(fc::make_ct_accept(*pre), out, [&](std::span<uint8_t> o) {
        return fc::encode_ns_name(fc::Wwn{name}, o);
      });
      return send_ct_reply(h, {out.data(), n});
    }
    default:
      return reject(fc::ct_reason::kCommandNotSupported, fc::ns_explanation::kNone);
  }
}

void FabricServices::register_virtual_target(fc::FcId id, uint64_t wwpn, uint64_t wwnn) {
  NameServerEntry& e = sw_.name_server().upsert(id, sw_.domain());
  e.wwpn = wwpn;
  e.wwnn = wwnn;
  e.set_fc4_type(fc::fc_type::kFcp);
  e.fcp_features = fc::fc4_features::kTarget;
  sw_.name_server().touch();
  // The same registrations an N_Port makes, replicated as it would be.
  std::array<uint8_t, 96> iu{};
  for (auto [cmd, name] :
       {std::pair{fc::ct_cmd::kRpnId, wwpn}, std::pair{fc::ct_cmd::kRnnId, wwnn}}) {
    const uint64_t port_name = name;  // clang 14 cannot capture a structured binding
    const size_t n = build_ct_iu(fc::make_ns_request(cmd), iu, [&](std::span<uint8_t> out) {
      return fc::encode_ns_id_name({id, fc::Wwn{port_name}}, out);
    });
    replicate({iu.data(), n});
  }
  fc::RftId rft{id, {}};
  rft.types.set(fc::fc_type::kFcp);
  size_t n = build_ct_iu(fc::make_ns_request(fc::ct_cmd::kRftId), iu,
                         [&](std::span<uint8_t> out) { return fc::encode_rft_id(rft, out); });
  replicate({iu.data(), n});
  const fc::RffId rff{id, fc::fc4_features::kTarget, fc::fc_type::kFcp};
  n = build_ct_iu(fc::make_ns_request(fc::ct_cmd::kRffId), iu,
                  [&](std::span<uint8_t> out) { return fc::encode_rff_id(rff, out); });
  replicate({iu.data(), n});
  notify_change(id);
}

void FabricServices::deregister_virtual_target(fc::FcId id) {
  if (!sw_.name_server().erase(id)) return;
  replicate_departure(id);
  notify_change(id);
}

void FabricServices::replicate(std::span<const uint8_t> ct_iu) {
  for (uint8_t domain : sw_.remote_domains()) {
    fc::FrameHeader h;
    h.r_ctl = fc::rctl::kDeviceDataUnsolicitedCtl;
    h.d_id = fc::domain_controller(domain);
    h.s_id = fc::domain_controller(sw_.domain());
    h.type = fc::fc_type::kCt;
    h.f_ctl = kFctlRequest;
    h.ox_id = next_rx_id_++;
    send_frame(h, ct_iu);
  }
}

void FabricServices::replicate_departure(fc::FcId id) {
  std::array<uint8_t, 64> iu{};
  const size_t n =
      build_ct_iu(fc::make_ns_request(fc::ct_cmd::kDaId), iu,
                  [&](std::span<uint8_t> out) { return fc::encode_ns_port_id(id, out); });
  replicate({iu.data(), n});
}

void FabricServices::notify_change(fc::FcId affected) {
  // The switch's own CP registers for changes like any N_Port.
  if (SwitchVirtualization* v = sw_.virtualization()) v->on_fabric_change(affected);
  // RSCN from the fabric controller to each local port that asked for them
  // (SCR) and may see the affected port.
  const NameServerEntry* changed = sw_.name_server().find(affected);
  std::array<uint8_t, 8> rscn{};
  const fc::RscnPage page{0, fc::rscn_format::kPort, affected};
  auto n = fc::encode_rscn({&page, 1}, rscn);
  for (const auto& [id, login] : sw_.logins()) {
    if (id == affected.value) continue;
    const NameServerEntry* e = sw_.name_server().find(fc::FcId{id});
    if (!e || !e->wants_rscn) continue;
    const bool open_target =
        is_virtual_target_id(affected) && changed && !sw_.zones().lists(changed->wwpn);
    if (changed && !open_target && !sw_.zone_permits(e->wwpn, changed->wwpn)) {
      continue;
    }
    fc::FrameHeader h;
    h.r_ctl = fc::rctl::kElsRequest;
    h.d_id = fc::FcId{id};
    h.s_id = fc::kFabricController;
    h.type = fc::fc_type::kEls;
    h.f_ctl = kFctlRequest;
    h.ox_id = next_rx_id_++;
    send_frame(h, {rscn.data(), *n});
  }
}

void FabricServices::logout(fc::FcId id) {
  if (!sw_.logins().erase(id.value)) return;
  sw_.name_server().erase(id);
  replicate_departure(id);
  notify_change(id);
}

void FabricServices::on_port_down(uint32_t port) {
  std::vector<fc::FcId> gone;
  for (const auto& [id, login] : sw_.logins()) {
    if (login.port == port) gone.push_back(fc::FcId{id});
  }
  // Hash-map order is not deterministic; departures are announced in ID order.
  std::sort(gone.begin(), gone.end());
  for (fc::FcId id : gone)
    logout(id);
}

}  // namespace splitpath::sim
