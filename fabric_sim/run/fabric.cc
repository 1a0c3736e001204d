#include "fabric_sim/run/fabric.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "cp/cluster/storehouse.h"
#include "fabric_sim/run/virtualization_setup.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fmt/format.h"

namespace splitpath::sim {

class Fabric::CaptureTap : public FrameTap {
 public:
  explicit CaptureTap(PcapWriter& writer) : writer_(writer) {}
  void on_frame(SimTime at, std::span<const uint8_t> frame) override { writer_.write(at, frame); }

 private:
  PcapWriter& writer_;
};

namespace {

// "sw0:3" -> ("sw0", 3); false if malformed.
bool split_port_ref(const std::string& text, std::string* sw, uint32_t* port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  uint32_t value = 0;
  for (size_t i = colon + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9' || value > 100000) return false;
    value = value * 10 + static_cast<uint32_t>(text[i] - '0');
  }
  *sw = text.substr(0, colon);
  *port = value;
  return true;
}

}  // namespace

Fabric::Fabric(const Topology& topology) : topology_(topology) {}
Fabric::~Fabric() = default;

absl::StatusOr<std::unique_ptr<Fabric>> Fabric::build(const Topology& topology,
                                                      const FabricOptions& options) {
  std::unique_ptr<Fabric> fabric(new Fabric(topology));
  absl::Status status = fabric->wire(options);
  if (!status.ok()) return status;
  return fabric;
}

Switch* Fabric::switch_named(const std::string& name) const {
  for (const auto& s : switches_) {
    if (s->name() == name) return s.get();
  }
  return nullptr;
}

Host* Fabric::host(const std::string& name) const {
  for (const auto& h : hosts_) {
    if (h->name() == name) return h.get();
  }
  return nullptr;
}

Disk* Fabric::disk(const std::string& name) const {
  for (const auto& d : disks_) {
    if (d->name() == name) return d.get();
  }
  return nullptr;
}

Link* Fabric::link_of(const std::string& target) const {
  if (Host* h = host(target)) return h->link();
  if (Disk* d = disk(target)) return d->link();
  std::string sw_name;
  uint32_t port = 0;
  if (!split_port_ref(target, &sw_name, &port)) return nullptr;
  Switch* sw = switch_named(sw_name);
  if (!sw || port >= sw->port_count()) return nullptr;
  return const_cast<Link*>(sw->port_link(port));
}

std::vector<Disk*> Fabric::ports_of(const std::string& disk_name) const {
  std::vector<Disk*> ports;
  if (Disk* d = disk(disk_name)) ports.push_back(d);
  for (const auto& p : more_disk_ports_) {
    if (p->config().name == disk_name) ports.push_back(p.get());
  }
  return ports;
}

absl::Status Fabric::wire(const FabricOptions& options) {
  for (const ZoneConfig& z : topology_.zones)
    zones_.add_zone(z.name, z.members);
  for (const SwitchConfig& s : topology_.switches) {
    switches_.push_back(std::make_unique<Switch>(kernel_, pool_, s, zones_));
  }
  // Switches serving virtual targets get their FPs and CP; the CPs start at
  // time zero, with the disks, and log into them as they appear.
  for (auto& [name, setup] : virtualization_setups(topology_)) {
    if (options.adjust_cp_config) options.adjust_cp_config(setup.cp_config);
    setup.adjust_fp_config = options.adjust_fp_config;
    Switch* sw = switch_named(name);
    if (!sw)
      return absl::InvalidArgumentError(fmt::format("{}: no switch {}", topology_.source, name));
    if (auto s = sw->enable_virtualization(setup, 0); !s.ok()) return s;
  }
  build_cluster();
  for (const IslConfig& isl : topology_.isls) {
    Switch* a = switch_named(isl.a.switch_name);
    Switch* b = switch_named(isl.b.switch_name);
    if (!a || !b || isl.a.port >= a->port_count() || isl.b.port >= b->port_count()) {
      return absl::InvalidArgumentError(fmt::format("{}: ISL {}:{} - {}:{} names no such port",
                                                    topology_.source, isl.a.switch_name, isl.a.port,
                                                    isl.b.switch_name, isl.b.port));
    }
    auto link = std::make_unique<Link>(
        kernel_, pool_, fmt::format("{}:{}-{}:{}", a->name(), isl.a.port, b->name(), isl.b.port),
        isl.link);
    a->connect(isl.a.port, *link, 0, PortRole::kEPort);
    b->connect(isl.b.port, *link, 1, PortRole::kEPort);
    links_.push_back(std::move(link));
  }
  auto attach = [&](NPort& node, const AttachConfig& at) -> absl::Status {
    Switch* sw = switch_named(at.port.switch_name);
    if (!sw || at.port.port >= sw->port_count()) {
      return absl::InvalidArgumentError(fmt::format("{}: {} is attached to {}:{}, no such port",
                                                    topology_.source, node.name(),
                                                    at.port.switch_name, at.port.port));
    }
    auto link = std::make_unique<Link>(
        kernel_, pool_, fmt::format("{}-{}:{}", node.name(), sw->name(), at.port.port), at.link);
    node.connect(*link, 0);
    sw->connect(at.port.port, *link, 1, PortRole::kFPort);
    links_.push_back(std::move(link));
    return absl::OkStatus();
  };
  for (const DiskConfig& d : topology_.disks) {
    disks_.push_back(std::make_unique<Disk>(kernel_, pool_, d, topology_.seed));
    if (auto s = attach(*disks_.back(), d.attach); !s.ok()) return s;
    for (size_t p = 1; p <= d.more_ports.size(); ++p) {
      more_disk_ports_.push_back(
          std::make_unique<Disk>(kernel_, pool_, d, topology_.seed, p, *disks_.back()));
      if (auto s = attach(*more_disk_ports_.back(), d.more_ports[p - 1].attach); !s.ok()) return s;
    }
  }
  SimTime longest_timeout = 0;
  for (const HostConfig& h : topology_.hosts) {
    hosts_.push_back(std::make_unique<Host>(kernel_, pool_, h, topology_.seed));
    if (auto s = attach(*hosts_.back(), h.attach); !s.ok()) return s;
    longest_timeout = std::max(longest_timeout, h.workload.io_timeout_ns);
  }
  drain_ns_ = options.drain_ns ? options.drain_ns : longest_timeout + 10 * kNsPerMs;
  compute_routes();

  if (!options.pcap_path.empty()) {
    auto writer = PcapWriter::open(options.pcap_path);
    if (!writer.ok()) return writer.status();
    capture_ = std::move(*writer);
    tap_ = std::make_unique<CaptureTap>(*capture_);
    std::map<std::string, std::vector<bool>> selected;
    for (const std::string& ref : options.pcap_ports) {
      std::string sw_name;
      uint32_t port = 0;
      Switch* sw = split_port_ref(ref, &sw_name, &port) ? switch_named(sw_name) : nullptr;
      if (!sw || port >= sw->port_count()) {
        return absl::InvalidArgumentError(
            fmt::format("--pcap-ports: '{}' is not a switch port (expected SWITCH:PORT)", ref));
      }
      auto& bits = selected[sw_name];
      bits.resize(sw->port_count());
      bits[port] = true;
    }
    for (auto& sw : switches_) {
      if (options.pcap_ports.empty()) {
        sw->set_tap(tap_.get(), {});
      } else if (auto it = selected.find(sw->name()); it != selected.end()) {
        sw->set_tap(tap_.get(), it->second);
      }
    }
  }

  // Disks come up at time zero, hosts at their start time; then the faults.
  for (auto* ports : {&disks_, &more_disk_ports_}) {
    for (auto& d : *ports) {
      kernel_.schedule_at(
          0, [](void* ctx, uint64_t) { static_cast<Disk*>(ctx)->start(); }, d.get());
    }
  }
  for (auto& h : hosts_) {
    kernel_.schedule_at(
        h->config().start_ns, [](void* ctx, uint64_t) { static_cast<Host*>(ctx)->start(); },
        h.get());
  }
  for (size_t i = 0; i < topology_.faults.size(); ++i) {
    kernel_.schedule_at<&Fabric::apply_fault>(topology_.faults[i].at_ns, this, i);
  }
  service_outcomes_.resize(topology_.services.size());
  service_logged_tenths_.assign(topology_.services.size(), -1);
  for (size_t i = 0; i < topology_.services.size(); ++i) {
    kernel_.schedule_at<&Fabric::start_service>(topology_.services[i].at_ns, this, i);
  }
  replication_sites_.resize(topology_.replications.size());
  replication_errors_.resize(topology_.replications.size());
  for (size_t i = 0; i < topology_.replications.size(); ++i) {
    kernel_.schedule_at<&Fabric::start_replication>(topology_.replications[i].at_ns, this, i);
  }
  return absl::OkStatus();
}

// Shortest paths over ISLs (hop count), as FSPF would find them: for each switch
// and each other domain, the set of ISL ports on a shortest path.
void Fabric::compute_routes() {
  const size_t n = switches_.size();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i)
    index[switches_[i]->name()] = i;
  struct Edge {
    size_t to;
    uint32_t port;
  };
  std::vector<std::vector<Edge>> adj(n);
  for (const IslConfig& isl : topology_.isls) {
    const size_t a = index[isl.a.switch_name];
    const size_t b = index[isl.b.switch_name];
    adj[a].push_back({b, isl.a.port});
    adj[b].push_back({a, isl.b.port});
  }
  for (size_t dst = 0; dst < n; ++dst) {
    std::vector<int> dist(n, -1);
    std::deque<size_t> queue{dst};
    dist[dst] = 0;
    while (!queue.empty()) {
      const size_t u = queue.front();
      queue.pop_front();
      for (const Edge& e : adj[u]) {
        if (dist[e.to] < 0) {
          dist[e.to] = dist[u] + 1;
          queue.push_back(e.to);
        }
      }
    }
    for (size_t src = 0; src < n; ++src) {
      if (src == dst || dist[src] < 0) continue;
      std::vector<uint32_t> ports;
      for (const Edge& e : adj[src]) {
        if (dist[e.to] == dist[src] - 1) ports.push_back(e.port);
      }
      std::sort(ports.begin(), ports.end());
      switches_[src]->set_route(switches_[dst]->domain(), ports);
    }
  }
}

void Fabric::apply_fault(uint64_t index) {
  const FaultConfig& f = topology_.faults[index];
  Disk* d = disk(f.target);
  switch (f.kind) {
    case FaultKind::kMediumError:
      if (d) d->add_medium_error(f.lun, f.lba, f.count);
      break;
    case FaultKind::kClearMediumErrors:
      if (d) d->clear_medium_errors();
      break;
    case FaultKind::kDiskOffline:
    case FaultKind::kDiskOnline:
    case FaultKind::kDiskDelay:
      // The device, not one port: every port of a multi-ported disk.
      for (Disk* port : ports_of(f.target)) {
        if (f.kind == FaultKind::kDiskDelay) {
          port->set_extra_delay(f.delay_ns);
        } else {
          port->set_offline(f.kind == FaultKind::kDiskOffline);
        }
      }
      break;
    case FaultKind::kLinkDown:
    case FaultKind::kLinkUp:
      if (Link* l = link_of(f.target)) l->set_up(f.kind == FaultKind::kLinkUp);
      break;
    case FaultKind::kLinkDelay:
      if (Link* l = link_of(f.target)) l->set_propagation(f.delay_ns);
      break;
    case FaultKind::kDveCrash:
      if (Switch* sw = switch_named(f.target)) crash_dve(*sw);
      break;
    case FaultKind::kDveIsolate:
    case FaultKind::kDveRejoin:
      if (Switch* sw = switch_named(f.target); sw && dve_network_) {
        dve_network_->set_isolated(sw->domain(), f.kind == FaultKind::kDveIsolate);
      }
      break;
  }
}

void Fabric::build_cluster() {
  std::set<std::string> dves;
  for (const VolumeConfig& v : topology_.volumes) {
    if (v.shared_with.empty()) continue;
    dves.insert(v.switch_name);
    dves.insert(v.shared_with.begin(), v.shared_with.end());
  }
  if (dves.empty()) return;
  dve_network_ = std::make_unique<DveNetwork>(kernel_, topology_.seed, topology_.cp.dve_latency_ns);
  storehouse_ = std::make_unique<cp::cluster::Storehouse>();
  cp::cluster::OplockConfig config;
  config.response_timeout_ns = topology_.cp.dve_timeout_ns;
  config.lease_ns = topology_.cp.dve_lease_ns;
  config.retry_ns = std::max<SimTime>(1, topology_.cp.dve_timeout_ns / 5);
  config.boot_wait_ns = topology_.cp.dve_lease_ns;
  for (const std::string& name : dves) {
    Switch* sw = switch_named(name);
    if (!sw || !sw->virtualization()) continue;
    dve_envs_.push_back(std::make_unique<SimDveEnvironment>(kernel_, *dve_network_, *storehouse_));
    cp::ControlPath& cp = sw->virtualization()->control_path();
    cp.join_cluster(*dve_envs_.back(), config);
    dve_network_->attach(sw->domain(),
                         [&cp](const cp::cluster::DveMessage& m) { cp.on_dve_message(m); });
  }
}

// The switch loses power: its DVE stops (its lease lapses, so a peer evicts
// it and reconciles what it was writing) and every link of it goes down.
void Fabric::crash_dve(Switch& sw) {
  if (sw.virtualization()) sw.virtualization()->control_path().crash_dve();
  for (uint32_t p = 0; p < sw.port_count(); ++p) {
    for (auto& link : links_) {
      if (link.get() == sw.port_link(p)) link->set_up(false);
    }
  }
}

absl::Status Fabric::run() {
  kernel_.run_until(topology_.duration_ns);
  for (auto& h : hosts_)
    h->stop_workload();
  // Let outstanding commands finish (or time out) so that every write is either
  // acknowledged or reported failed.
  const SimTime deadline = topology_.duration_ns + drain_ns_;
  while (kernel_.now() < deadline) {
    bool busy = false;
    for (auto& h : hosts_)
      busy = busy || h->outstanding() > 0;
    if (!busy) break;
    kernel_.run_until(std::min(deadline, kernel_.now() + kNsPerMs));
  }
  if (capture_) return capture_->close();
  return absl::OkStatus();
}

}  // namespace splitpath::sim
