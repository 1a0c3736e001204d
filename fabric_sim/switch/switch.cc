#include "fabric_sim/switch/switch.h"

#include <utility>

#include "fabric_sim/switch/fabric_services.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/switch/virtual_addresses.h"

namespace splitpath::sim {

Switch::Switch(Kernel& kernel, FramePool& pool, const SwitchConfig& config, const ZoneSet& zones)
    : kernel_(kernel),
      pool_(pool),
      config_(config),
      zones_(zones),
      ports_(config.ports),
      domain_routes_(256) {
  for (uint32_t i = 0; i < ports_.size(); ++i) {
    ports_[i].sw = this;
    ports_[i].index = i;
  }
  services_ = std::make_unique<FabricServices>(*this);
}

Switch::~Switch() = default;

absl::Status Switch::enable_virtualization(const VirtualizationSetup& setup, SimTime start_ns) {
  auto v = SwitchVirtualization::create(*this, setup);
  if (!v.ok()) return v.status();
  virtualization_ = std::move(*v);
  kernel_.schedule_at(
      start_ns, [](void* ctx, uint64_t) { static_cast<SwitchVirtualization*>(ctx)->start(); },
      virtualization_.get());
  return absl::OkStatus();
}

SwitchVirtualizationStats Switch::virtualization_stats() const {
  return virtualization_ ? virtualization_->stats() : SwitchVirtualizationStats{};
}

void Switch::register_virtual_target(fc::FcId id, uint64_t wwpn, uint64_t wwnn) {
  services_->register_virtual_target(id, wwpn, wwnn);
}

void Switch::deregister_virtual_target(fc::FcId id) {
  services_->deregister_virtual_target(id);
}

void Switch::connect(uint32_t port, Link& link, int side, PortRole role) {
  Port& p = ports_.at(port);
  p.link = &link;
  p.side = side;
  p.role = role;
  link.attach(side, &p);
}

void Switch::set_route(uint8_t domain, std::vector<uint32_t> ports) {
  if (domain_routes_[domain].empty()) remote_domains_.push_back(domain);
  domain_routes_[domain] = std::move(ports);
}

void Switch::set_tap(FrameTap* tap, std::vector<bool> selected) {
  tap_ = tap;
  select_all_ = selected.empty();
  selected_ = std::move(selected);
}

void Switch::Port::on_frame(Link& /*link*/, int /*side*/, Frame* frame) {
  sw->ingress(*this, frame);
}

void Switch::Port::on_link_state(Link& /*link*/, int /*side*/, bool up) {
  if (!up && role == PortRole::kFPort) sw->services_->on_port_down(index);
}

int Switch::route(fc::FcId d_id, uint16_t ox_id) const {
  // Domain controllers (FF.FC.dd) live on the switch of domain dd.
  const uint8_t domain = fc::is_domain_controller(d_id) ? d_id.port() : d_id.domain();
  if (domain == config_.domain && !fc::is_domain_controller(d_id)) {
    auto it = logins_.find(d_id.value);
    return it == logins_.end() ? -1 : static_cast<int>(it->second.port);
  }
  const auto& candidates = domain_routes_[domain];
  if (candidates.empty()) return -1;
  if (candidates.size() == 1) return static_cast<int>(candidates[0]);
  return static_cast<int>(candidates[ox_id % candidates.size()]);
}

bool Switch::zoning_allows(fc::FcId s_id, fc::FcId d_id) {
  if (!zones_.enforced()) return true;
  // The virtual initiators' traffic with the disks behind volumes is the
  // switch's own, not subject to zoning.
  if (is_virtual_initiator_id(d_id) || is_virtual_initiator_id(s_id)) return true;
  if (zoning_cache_generation_ != name_server_.generation()) {
    zoning_cache_.clear();
    zoning_cache_generation_ = name_server_.generation();
  }
  const uint64_t key = (uint64_t{s_id.value} << 24) | d_id.value;
  auto it = zoning_cache_.find(key);
  if (it != zoning_cache_.end()) return it->second;
  const NameServerEntry* src = name_server_.find(s_id);
  const NameServerEntry* dst = name_server_.find(d_id);
  // A virtual target that no zone lists is open to every host: LUN masking
  // decides what each sees.
  const bool open_target = dst && is_virtual_target_id(d_id) && !zones_.lists(dst->wwpn);
  const bool ok = src && dst && (open_target || zones_.permitted(src->wwpn, dst->wwpn));
  zoning_cache_.emplace(key, ok);
  return ok;
}

void Switch::ingress(Port& in, Frame* frame) {
  in.stats.rx_frames++;
  in.stats.rx_bytes += frame->size;
  if (frame->size < fc::kFrameHeaderSize) {
    if (tap_ && selected(in.index)) capture(frame);
    drop(in, frame, &SwitchPortStats::drop_malformed);
    return;
  }
  const fc::FcId d_id = frame->d_id();
  const fc::FcId s_id = frame->s_id();
  if (fc::is_well_known(d_id) ||
      (fc::is_domain_controller(d_id) && d_id.port() == config_.domain)) {
    if (tap_ && selected(in.index)) capture(frame);
    in.link->release_credit(in.side);
    services_->on_frame(in.index, frame);
    return;
  }
  const int out = route(d_id, fc::load_be16(frame->bytes + 16));
  if (tap_ && (selected(in.index) || (out >= 0 && selected(static_cast<uint32_t>(out))))) {
    capture(frame);
  }
  if (in.role == PortRole::kFPort) {
    // Only addresses this port handed out may send, and only within a zone.
    auto login = logins_.find(s_id.value);
    if (login == logins_.end() || login->second.port != in.index) {
      drop(in, frame, &SwitchPortStats::drop_not_logged_in);
      return;
    }
    if (!fc::is_well_known(s_id) && !zoning_allows(s_id, d_id)) {
      drop(in, frame, &SwitchPortStats::drop_zoning);
      return;
    }
  }
  if (virtualization_) {
    // The port's FP decides: a virtual address, or transparent switching.
    frame->credit_link = in.link;
    frame->credit_side = static_cast<uint8_t>(in.side);
    virtualization_->ingress(in.index, frame);
    return;
  }
  if (out < 0) {
    drop(in, frame, &SwitchPortStats::drop_no_route);
    return;
  }
  forward(in, out, frame);
}

void Switch::forward_from_fp(uint32_t port, Frame* frame) {
  Port& from = ports_[port];
  const int out = route(frame->d_id(), fc::load_be16(frame->bytes + 16));
  if (out < 0 || !ports_[static_cast<uint32_t>(out)].link) {
    ++from.stats.drop_no_route;
    pool_.free(frame);
    return;
  }
  Port& egress = ports_[static_cast<uint32_t>(out)];
  // Frames the FPs originate or rewrite are recorded as they leave; frames
  // they switch unchanged were recorded on the way in.
  if (tap_ && selected(egress.index) && is_virtual_id(frame->s_id())) capture(frame);
  frame->ready_at = kernel_.now() + config_.latency_ns;
  frame->credit_link = nullptr;
  egress.link->transmit(egress.side, frame);
}

void Switch::forward(Port& in, int out, Frame* frame) {
  Port& egress = ports_[static_cast<uint32_t>(out)];
  if (!egress.link) {
    drop(in, frame, &SwitchPortStats::drop_no_route);
    return;
  }
  // The frame holds its ingress receive buffer until it starts out of the switch.
  frame->ready_at = kernel_.now() + config_.latency_ns;
  frame->credit_link = in.link;
  frame->credit_side = static_cast<uint8_t>(in.side);
  egress.link->transmit(egress.side, frame);
}

void Switch::drop(Port& in, Frame* frame, uint64_t SwitchPortStats::*counter) {
  ++(in.stats.*counter);
  in.link->release_credit(in.side);
  pool_.free(frame);
}

void Switch::send(Frame* frame, SimTime delay) {
  const int out = route(frame->d_id(), fc::load_be16(frame->bytes + 16));
  if (out < 0 || !ports_[static_cast<uint32_t>(out)].link) {
    pool_.free(frame);
    return;
  }
  Port& egress = ports_[static_cast<uint32_t>(out)];
  if (tap_ && selected(egress.index)) capture(frame);
  frame->ready_at = kernel_.now() + delay;
  frame->credit_link = nullptr;
  egress.link->transmit(egress.side, frame);
}

void Switch::logout(fc::FcId id) {
  services_->logout(id);
}

}  // namespace splitpath::sim
