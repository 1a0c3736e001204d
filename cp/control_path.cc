// Message intake with the CP cost model, and bring-up.
//
// Cost model: every FP message waits in `inbox` and is handled one at a time;
// handling one takes message_cost_ns (plus fault_cost_ns for a CpQueueIO) of
// modeled CP time, and what it sends leaves when that time has passed. Timers
// (drain polls, login retries) and calls from the switch (start,
// change_mapping) are not charged.
#include "cp/control_path.h"

#include <utility>

#include "cp/control_path_impl.h"

namespace splitpath::cp {

void ControlPath::Impl::later(uint64_t delay_ns, std::function<void()> fn) {
  std::weak_ptr<bool> token = alive;
  env.schedule(delay_ns, [token, fn = std::move(fn)] {
    if (token.lock()) fn();
  });
}

void ControlPath::Impl::enqueue(uint32_t port, uint32_t type, std::span<const uint8_t> payload) {
  Inbound m;
  m.port = port;
  m.type = type;
  m.payload.assign(payload.begin(), payload.end());
  m.cost = config.message_cost_ns +
           (type == static_cast<uint32_t>(fpapi::MsgType::kCpQueueIO) ? config.fault_cost_ns : 0);
  inbox.push_back(std::move(m));
  if (!busy) {
    busy = true;
    later(inbox.front().cost, [this] { run_next(); });
  }
}

void ControlPath::Impl::run_next() {
  Inbound m = std::move(inbox.front());
  inbox.pop_front();
  stats.busy_ns += m.cost;
  ++stats.messages;
  handle(m.port, m.type, m.payload);
  if (inbox.empty()) {
    busy = false;
  } else {
    later(inbox.front().cost, [this] { run_next(); });
  }
}

namespace {

template <class M>
bool decode_into(std::span<const uint8_t> payload, M* msg, CpStats* stats) {
  if (fpapi::decode(payload, msg)) return true;
  ++stats->malformed_messages;
  return false;
}

}  // namespace

void ControlPath::Impl::handle(uint32_t port, uint32_t type, std::span<const uint8_t> payload) {
  if (port >= port_count()) {
    ++stats.dropped;
    return;
  }
  using fpapi::MsgType;
  switch (static_cast<MsgType>(type)) {
    case MsgType::kFpDiscoverReply: {
      fpapi::FpDiscoverReply r;
      if (decode_into(payload, &r, &stats)) link.set_port_info(port, r);
      return;
    }
    case MsgType::kFpReply: {
      fpapi::FpReply r;
      if (decode_into(payload, &r, &stats)) (void)link.on_reply(r);
      return;
    }
    case MsgType::kFpQueryPendingIOsReply: {
      fpapi::FpQueryPendingIOsReply r;
      if (decode_into(payload, &r, &stats) && !link.on_pending_reply(r)) ++stats.dropped;
      return;
    }
    case MsgType::kCpMappingMiss: {
      fpapi::CpMappingMiss m;
      if (decode_into(payload, &m, &stats)) on_miss(port, m);
      return;
    }
    case MsgType::kCpQueueIO: {
      fpapi::CpQueueIO q;
      if (decode_into(payload, &q, &stats)) on_queue_io(port, q);
      return;
    }
    case MsgType::kCpDispatchIOComplete: {
      fpapi::CpDispatchIOComplete c;
      if (decode_into(payload, &c, &stats)) on_dispatch_complete(port, c);
      return;
    }
    case MsgType::kCpFrame: {
      fpapi::CpFrame f;
      if (decode_into(payload, &f, &stats)) on_frame(port, f);
      return;
    }
    case MsgType::kFpGetDataReply: {
      fpapi::FpGetDataReply r;
      if (decode_into(payload, &r, &stats)) on_get_data_reply(port, r);
      return;
    }
    case MsgType::kFpQueryStatisticsReply:
      // The CP does not ask for it.
      ++stats.dropped;
      return;
    default:
      ++stats.malformed_messages;
      return;
  }
}

void ControlPath::Impl::start() {
  if (started) return;
  started = true;
  dve_start();
  const uint32_t ports = port_count();
  ensure_logins_sized();
  for (uint32_t p = 0; p < ports; ++p) {
    fpapi::FpDiscover d;
    d.req_id = link.next_req_id();
    d.virtual_initiator = env.virtual_initiator(p);
    link.send(p, d);
  }
  for (const Target& t : metadata.targets())
    env.register_virtual_target(t.port_id, t.def.wwpn, t.wwnn);
  for (uint32_t p = 0; p < ports; ++p) {
    for (const Target& t : metadata.targets()) {
      for (const Lun& l : t.luns)
        send_expose(p, t, l, 0, {}, link.next_req_id());
    }
    for (const auto& [id, seg] : metadata.vsegs()) {
      fpapi::FpMapping m;
      m.req_id = fpapi::kNoTag;
      m.kind = fpapi::MappingKind::kVseg;
      m.lv_id = seg.lv_id;
      m.vseg = seg.descriptor;
      link.send_as(p, fpapi::MsgType::kFpAddMapping, m);
    }
  }
  resolve_disks();
}

ControlPath::ControlPath(CpEnvironment& env, const CpConfig& config)
    : impl_(std::make_unique<Impl>(env, config)) {}

ControlPath::~ControlPath() = default;

bool ControlPath::add_volume(const VolumeDef& volume, std::string* error) {
  if (impl_->started) {
    if (error) *error = "add_volume after start()";
    return false;
  }
  if (!impl_->metadata.add_volume(volume, error)) return false;
  if (volume.shared) impl_->shared_volumes.insert(volume.name);
  return true;
}

bool ControlPath::add_target(const VirtualTargetDef& target, std::string* error) {
  if (impl_->started) {
    if (error) *error = "add_target after start()";
    return false;
  }
  return impl_->metadata.add_target(target, impl_->env.domain(), error);
}

void ControlPath::start() {
  impl_->start();
}

void ControlPath::on_fp_message(uint32_t port, uint32_t type, std::span<const uint8_t> payload) {
  impl_->enqueue(port, type, payload);
}

void ControlPath::on_fabric_change(uint32_t port_id) {
  impl_->on_fabric_change(port_id & map::kPortIdMask);
}

void ControlPath::change_mapping(const MappingChange& change, std::function<void(bool)> done) {
  impl_->change_mapping(change, std::move(done));
}

const CpStats& ControlPath::stats() const {
  uint64_t pending = 0;
  for (const auto& per_port : impl_->logins) {
    for (const ViLogin& l : per_port)
      pending += l.wanted && l.state != ViLogin::State::kReady;
  }
  impl_->stats.vi_logins_pending = pending;
  return impl_->stats;
}

uint32_t ControlPath::target_port_id(const std::string& target_name) const {
  const Target* t = impl_->metadata.target_by_name(target_name);
  return t ? t->port_id : 0;
}

}  // namespace splitpath::cp
