#include "fabric_sim/bench/scaling_scenario.h"

#include <chrono>

#include "absl/status/status.h"
#include "fabric_sim/node/null_disk.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/topology_validate.h"
#include "fmt/format.h"

namespace splitpath::sim {
namespace {

constexpr uint64_t kVolumeBlocks = 131072;  // 64 MiB of 512-byte blocks
constexpr uint64_t kExtentBlocks = 2048;    // 64 extents per volume

}  // namespace

absl::StatusOr<Topology> scaling_topology(const ScalingOptions& o) {
  if (o.loaded_ports < 1 || o.loaded_ports > 128) {
    return absl::InvalidArgumentError(
        fmt::format("loaded ports must be 1 to 128, not {}", o.loaded_ports));
  }
  const uint32_t n = o.loaded_ports;
  Topology t;
  t.source = fmt::format("<scaling {} ports>", n);
  t.seed = o.seed;
  t.duration_ns = o.warmup_ns + o.duration_ns;
  SwitchConfig sw;
  sw.name = "sw0";
  sw.domain = 1;
  sw.ports = 2 * n;
  t.switches.push_back(sw);
  VirtualTargetConfig vt;
  vt.name = "vt0";
  vt.switch_name = "sw0";
  vt.wwpn = 0x5000'5350'0010'0000ull;
  for (uint32_t i = 0; i < n; ++i) {
    HostConfig h;
    h.name = fmt::format("host{}", i);
    h.wwpn = 0x1000'5350'0000'0000ull + i;
    h.attach.port = {"sw0", i};
    h.workload.read_percent = o.read_percent;
    h.workload.block_size = o.block_size;
    h.workload.queue_depth = o.queue_depth;
    h.workload.lba_count = kVolumeBlocks;
    h.workload.verify = !o.null_disks;
    t.hosts.push_back(h);
    DiskConfig d;
    d.name = fmt::format("disk{}", i);
    d.wwpn = 0x5000'5350'0001'0000ull + i;
    d.attach.port = {"sw0", n + i};
    d.luns.push_back(LunConfig{0, kVolumeBlocks * 4, 512});
    if (o.null_disks) d = null_disk_config(d.name, d.wwpn, d.attach, kVolumeBlocks * 4);
    t.disks.push_back(d);
    VolumeConfig v;
    v.name = fmt::format("vol{}", i);
    v.switch_name = "sw0";
    v.vsegs.push_back(VsegConfig{d.name, 0, 0, kVolumeBlocks, kExtentBlocks, false, false});
    t.volumes.push_back(v);
    vt.luns.push_back(VirtualLunConfig{static_cast<uint16_t>(i), v.name, {h.wwpn}, false});
    t.zones.push_back(ZoneConfig{fmt::format("z{}", i), {h.wwpn, vt.wwpn}});
  }
  t.virtual_targets.push_back(vt);
  t.fp.enabled = o.fp_enabled;
  if (absl::Status s = validate_topology(t); !s.ok()) return s;
  return t;
}

namespace {

// What the window's figures are differences of.
struct Totals {
  uint64_t ios = 0;
  uint64_t bytes = 0;
  uint64_t fp_hits = 0;
  uint64_t cp_completed = 0;
  uint64_t verify_errors = 0;
  uint64_t io_errors = 0;
};

Totals totals(const Fabric& fabric) {
  Totals t;
  for (const auto& h : fabric.hosts()) {
    const HostStats& s = h->stats();
    t.ios += s.ios_completed;
    t.bytes += s.bytes_read + s.bytes_written;
    t.verify_errors += s.verify_errors;
    t.io_errors += s.check_conditions + s.other_status + s.timeouts + s.protocol_errors;
  }
  for (const auto& sw : fabric.switches()) {
    for (const PortFpStats& p : sw->virtualization_stats().ports) {
      t.fp_hits += p.fp_completed;
      t.cp_completed += p.cp_completed;
    }
  }
  return t;
}

}  // namespace

absl::StatusOr<ScalingPoint> run_scaling_point(const ScalingOptions& o) {
  auto topology = scaling_topology(o);
  if (!topology.ok()) return topology.status();
  const auto start = std::chrono::steady_clock::now();
  auto fabric = Fabric::build(*topology, {});
  if (!fabric.ok()) return fabric.status();
  Fabric& f = **fabric;
  f.run_until(o.warmup_ns);
  // Past the fixed warm-up, wait for the last host to start (in 1 ms steps:
  // stopping the kernel does not change what it runs, so a point whose hosts
  // all started in the warm-up measures the same window as without the check).
  auto all_running = [&f] {
    for (const auto& h : f.hosts()) {
      if (h->stats().ios_completed == 0) return false;
    }
    return true;
  };
  SimTime from = o.warmup_ns;
  if (!all_running()) {
    while (!all_running()) {
      if (f.kernel().now() >= o.ready_limit_ns) {
        return absl::DeadlineExceededError(
            fmt::format("scaling, {} ports: not every host completed an I/O in {} ms",
                        o.loaded_ports, o.ready_limit_ns / kNsPerMs));
      }
      f.run_until(f.kernel().now() + kNsPerMs);
    }
    from = f.kernel().now() + o.settle_ns;
    f.run_until(from);
  }
  const Totals before = totals(f);
  std::vector<uint64_t> host_before;
  for (const auto& h : f.hosts())
    host_before.push_back(h->stats().ios_completed);
  const auto window_start = std::chrono::steady_clock::now();
  f.run_until(from + o.duration_ns);
  const double window_wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
  const Totals after = totals(f);
  uint32_t active = 0;
  for (size_t i = 0; i < f.hosts().size(); ++i) {
    if (f.hosts()[i]->stats().ios_completed > host_before[i]) ++active;
  }
  if (absl::Status s = f.run(); !s.ok()) return s;  // drains the hosts
  const Totals end = totals(f);
  ScalingPoint p;
  p.loaded_ports = o.loaded_ports;
  p.fp_enabled = o.fp_enabled;
  p.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  p.window_wall_seconds = window_wall;
  p.measured_from_s = static_cast<double>(from) / 1e9;
  p.hosts_active = active;
  p.ios = after.ios - before.ios;
  p.sim_seconds = static_cast<double>(o.duration_ns) / 1e9;
  p.iops = static_cast<double>(p.ios) / p.sim_seconds;
  p.mb_per_s = static_cast<double>(after.bytes - before.bytes) / 1e6 / p.sim_seconds;
  const uint64_t hits = after.fp_hits - before.fp_hits;
  const uint64_t cp = after.cp_completed - before.cp_completed;
  p.fp_fraction = hits + cp == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(hits + cp);
  // Errors over the whole run, warm-up and drain included.
  p.verify_errors = end.verify_errors;
  p.io_errors = end.io_errors;
  return p;
}

std::string scaling_csv_header() {
  return "loaded_ports,fp,ios,sim_seconds,iops,mb_per_s,fp_fraction,wall_seconds,verify_errors,"
         "io_errors,measured_from_s,hosts_active";
}

std::string scaling_csv_row(const ScalingPoint& p) {
  return fmt::format("{},{},{},{:.6f},{:.0f},{:.1f},{:.4f},{:.3f},{},{},{:.3f},{}", p.loaded_ports,
                     p.fp_enabled ? "on" : "cp_only", p.ios, p.sim_seconds, p.iops, p.mb_per_s,
                     p.fp_fraction, p.wall_seconds, p.verify_errors, p.io_errors, p.measured_from_s,
                     p.hosts_active);
}

}  // namespace splitpath::sim
