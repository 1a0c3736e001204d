#include "fabric_sim/switch/switch_virtualization.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/virtual_addresses.h"
#include "fmt/format.h"

namespace splitpath::sim {
namespace {

fp::RmapPolicy rmap_policy(const std::string& name) {
  if (name == "random") return fp::RmapPolicy::kRandom;
  if (name == "sequential") return fp::RmapPolicy::kSequential;
  return fp::RmapPolicy::kLru;  // the topology parser admits only these three
}

// The port's own WWPN (the FP reports it in FPDiscover): NAA 2 with the
// domain and port, distinct from the NAA 5 names the topology derives.
uint64_t port_wwpn(uint8_t domain, uint32_t port) {
  return 0x2000'0053'5000'0000ull | (uint64_t{domain} << 16) | port;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SwitchVirtualization>> SwitchVirtualization::create(
    Switch& sw, const VirtualizationSetup& setup) {
  std::unique_ptr<SwitchVirtualization> v(new SwitchVirtualization(sw));
  fp::FastPathConfig fp_config;
  fp_config.rmap.policy = rmap_policy(setup.fp.rmap_policy);
  fp_config.rmap.seed = setup.seed;
  fp_config.rmap.working_set_window = setup.fp.working_set_window;
  // Every FP holds the descriptor of every VSEG its switch serves (the CP
  // loads them all at bring-up; a VSEG an FP could not hold would send all of
  // its I/O to the CP).
  size_t vsegs = 0;
  for (const cp::VolumeDef& vol : setup.volumes)
    vsegs += vol.vsegs.size();
  fp_config.rmap.max_vsegs = static_cast<uint32_t>(
      std::clamp<size_t>(vsegs, fp_config.rmap.max_vsegs, fp::RmapCache::kMaxVsegs));
  if (setup.adjust_fp_config) setup.adjust_fp_config(fp_config);
  for (uint32_t p = 0; p < sw.port_count(); ++p) {
    hal::sim::SimPortConfig pc;
    pc.port_index = p;
    pc.wwpn = port_wwpn(sw.domain(), p);
    pc.table_memory_bytes = setup.fp.table_memory_bytes;
    pc.max_transfer_bytes = setup.fp.max_transfer_bytes;
    pc.frame_cost_ns = setup.fp.frame_cost_ns;
    fp_config.rmap.seed = setup.seed * 1000003 + p;  // each port's own random stream
    std::string error;
    auto port =
        PortFp::create(sw.kernel(), sw.pool(), *v, pc, fp_config, setup.cp.mailbox_latency_ns,
                       &error, setup.fp.hal == "ring" ? PortHal::kRing : PortHal::kSim);
    if (!port) {
      return absl::InvalidArgumentError(fmt::format("switch {} port {}: {}", sw.name(), p, error));
    }
    v->fps_.push_back(std::move(port));
  }
  v->cp_ = std::make_unique<cp::ControlPath>(*v, setup.cp_config);
  std::string error;
  for (const cp::VolumeDef& vol : setup.volumes) {
    if (!v->cp_->add_volume(vol, &error)) {
      return absl::InvalidArgumentError(
          fmt::format("switch {}: volume {}: {}", sw.name(), vol.name, error));
    }
  }
  for (const cp::VirtualTargetDef& t : setup.targets) {
    if (!v->cp_->add_target(t, &error)) {
      return absl::InvalidArgumentError(
          fmt::format("switch {}: virtual target {}: {}", sw.name(), t.name, error));
    }
  }
  return v;
}

SwitchVirtualization::~SwitchVirtualization() = default;

void SwitchVirtualization::start() {
  cp_->start();
}

int SwitchVirtualization::virtual_initiator_port(fc::FcId d_id) const {
  if (!is_virtual_initiator_id(d_id) || d_id.domain() != sw_.domain()) return -1;
  return d_id.area() < fps_.size() ? static_cast<int>(d_id.area()) : -1;
}

void SwitchVirtualization::ingress(uint32_t port, Frame* frame) {
  const int vi_port = virtual_initiator_port(frame->d_id());
  fps_[vi_port >= 0 ? static_cast<uint32_t>(vi_port) : port]->deliver(frame);
}

bool SwitchVirtualization::route_from_fp(uint32_t port, std::span<const uint8_t> bytes) {
  Frame* f = sw_.pool().alloc();
  std::memcpy(f->bytes, bytes.data(), bytes.size());
  f->size = static_cast<uint16_t>(bytes.size());
  const int vi_port = virtual_initiator_port(f->d_id());
  if (vi_port >= 0) {
    fps_[static_cast<uint32_t>(vi_port)]->deliver(f);
  } else {
    sw_.forward_from_fp(port, f);
  }
  return true;
}

void SwitchVirtualization::on_fp_message(uint32_t port, uint32_t type,
                                         std::span<const uint8_t> payload) {
  cp_->on_fp_message(port, type, payload);
}

uint64_t SwitchVirtualization::now_ns() const {
  return sw_.kernel().now();
}

void SwitchVirtualization::schedule(uint64_t delay_ns, std::function<void()> fn) {
  const uint64_t id = next_scheduled_++;
  scheduled_.emplace(id, std::move(fn));
  sw_.kernel().schedule_in<&SwitchVirtualization::run_scheduled>(delay_ns, this, id);
}

void SwitchVirtualization::run_scheduled(uint64_t id) {
  auto it = scheduled_.find(id);
  if (it == scheduled_.end()) return;
  std::function<void()> fn = std::move(it->second);
  scheduled_.erase(it);
  fn();
}

uint8_t SwitchVirtualization::domain() const {
  return sw_.domain();
}

uint32_t SwitchVirtualization::fp_port_count() const {
  return static_cast<uint32_t>(fps_.size());
}

uint32_t SwitchVirtualization::virtual_initiator(uint32_t port) const {
  return virtual_initiator_id(sw_.domain(), port).value;
}

void SwitchVirtualization::send_to_fp(uint32_t port, fpapi::MsgType type,
                                      std::span<const uint8_t> payload) {
  if (port >= fps_.size()) return;
  fps_[port]->to_fp(static_cast<uint32_t>(type), payload);
}

void SwitchVirtualization::send_frame(std::span<const uint8_t> bytes) {
  if (bytes.size() < fc::kFrameHeaderSize || bytes.size() > fc::kMaxFrameSize) return;
  Frame* f = sw_.pool().alloc();
  std::memcpy(f->bytes, bytes.data(), bytes.size());
  f->size = static_cast<uint16_t>(bytes.size());
  const int vi_port = virtual_initiator_port(f->d_id());
  if (vi_port >= 0) {
    fps_[static_cast<uint32_t>(vi_port)]->deliver(f);
  } else {
    sw_.send(f, 0);
  }
}

void SwitchVirtualization::register_virtual_target(uint32_t port_id, uint64_t wwpn, uint64_t wwnn) {
  sw_.register_virtual_target(fc::FcId{port_id}, wwpn, wwnn);
}

void SwitchVirtualization::deregister_virtual_target(uint32_t port_id) {
  sw_.deregister_virtual_target(fc::FcId{port_id});
}

std::optional<uint32_t> SwitchVirtualization::find_port_id(uint64_t wwpn) const {
  for (const auto& [id, entry] : sw_.name_server().entries()) {
    if (entry.wwpn == wwpn && !is_virtual_id(entry.port_id)) return id;
  }
  return std::nullopt;
}

SwitchVirtualizationStats SwitchVirtualization::stats() const {
  SwitchVirtualizationStats s;
  s.enabled = true;
  for (const auto& port : fps_) {
    const fpapi::FpStatistics f = port->firmware().statistics();
    const fp::RmapStats r = port->firmware().rmap_stats();
    PortFpStats p;
    p.port = port->index();
    p.commands = f.commands;
    p.fp_completed = f.fp_completed;
    p.cp_completed = f.cp_completed;
    p.mapping_misses = f.mapping_misses;
    p.read_bytes = f.read_bytes;
    p.write_bytes = f.write_bytes;
    p.transparent_frames = f.transparent_frames;
    p.faults = f.faults;
    p.cached_extents = r.extents;
    p.extent_capacity = r.capacity_extents;
    p.evictions = r.evictions;
    s.ports.push_back(p);
  }
  s.cp = cp_->stats();
  return s;
}

}  // namespace splitpath::sim
