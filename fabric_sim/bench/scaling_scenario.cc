#include "fabric_sim/bench/scaling_scenario.h"

#include <chrono>

#include "absl/status/status.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/report.h"
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
  t.duration_ns = o.duration_ns;
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
    t.hosts.push_back(h);
    DiskConfig d;
    d.name = fmt::format("disk{}", i);
    d.wwpn = 0x5000'5350'0001'0000ull + i;
    d.attach.port = {"sw0", n + i};
    d.luns.push_back(LunConfig{0, kVolumeBlocks * 4, 512});
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

absl::StatusOr<ScalingPoint> run_scaling_point(const ScalingOptions& o) {
  auto topology = scaling_topology(o);
  if (!topology.ok()) return topology.status();
  const auto start = std::chrono::steady_clock::now();
  auto fabric = Fabric::build(*topology, {});
  if (!fabric.ok()) return fabric.status();
  if (absl::Status s = (*fabric)->run(); !s.ok()) return s;
  const auto report = make_report(**fabric);
  ScalingPoint p;
  p.loaded_ports = o.loaded_ports;
  p.fp_enabled = o.fp_enabled;
  p.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  p.ios = report["ios_completed"].get<uint64_t>();
  p.sim_seconds = static_cast<double>(o.duration_ns) / 1e9;
  double mb = 0;
  for (const auto& h : report["hosts"])
    mb += h["mb_per_s"].get<double>();
  p.iops = static_cast<double>(p.ios) / p.sim_seconds;
  p.mb_per_s = mb;
  const auto& sw = report["switches"][0];
  if (sw.contains("virtualization")) p.fp_fraction = sw["virtualization"]["fp_fraction"];
  p.verify_errors = report["verify_errors"].get<uint64_t>();
  p.io_errors = report["io_errors"].get<uint64_t>();
  return p;
}

std::string scaling_csv_header() {
  return "loaded_ports,fp,ios,sim_seconds,iops,mb_per_s,fp_fraction,wall_seconds,verify_errors,"
         "io_errors";
}

std::string scaling_csv_row(const ScalingPoint& p) {
  return fmt::format("{},{},{},{:.6f},{:.0f},{:.1f},{:.4f},{:.3f},{},{}", p.loaded_ports,
                     p.fp_enabled ? "on" : "cp_only", p.ios, p.sim_seconds, p.iops, p.mb_per_s,
                     p.fp_fraction, p.wall_seconds, p.verify_errors, p.io_errors);
}

}  // namespace splitpath::sim
