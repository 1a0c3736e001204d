#include "fabric_sim/bench/service_bench_fabric.h"

#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fmt/format.h"

namespace splitpath::sim {

Topology service_bench_topology(const ServiceBenchFabric& o) {
  Topology t;
  t.source = o.source;
  t.seed = o.seed;
  t.duration_ns = o.limit_ns;
  SwitchConfig sw;
  sw.name = "sw0";
  sw.domain = 1;
  sw.ports = 4;
  t.switches.push_back(sw);
  HostConfig h;
  h.name = "host0";
  h.wwpn = o.host_wwpn;
  h.attach.port = {"sw0", 0};
  h.workload.verify = false;  // its job is stopped: the bench sends its own writes
  t.hosts.push_back(h);
  for (uint32_t i = 0; i < 2; ++i) {
    DiskConfig d;
    d.name = fmt::format("disk{}", i);
    d.wwpn = o.disk_wwpn + i;
    d.attach.port = {"sw0", 1 + i};
    d.luns.push_back(LunConfig{0, o.disk_blocks[i], kServiceBenchBlockSize});
    t.disks.push_back(d);
  }
  VolumeConfig v;
  v.name = "vol0";
  v.switch_name = "sw0";
  v.block_size = kServiceBenchBlockSize;
  v.vsegs.push_back(VsegConfig{"disk0", 0, 0, o.vseg_blocks, 0, false, false});
  t.volumes.push_back(v);
  VirtualTargetConfig vt;
  vt.name = "vt0";
  vt.switch_name = "sw0";
  vt.wwpn = o.target_wwpn;
  vt.luns.push_back(VirtualLunConfig{0, "vol0", {o.host_wwpn}, false});
  t.virtual_targets.push_back(vt);
  t.zones.push_back(ZoneConfig{"z0", {o.host_wwpn, o.target_wwpn}});
  return t;
}

std::vector<uint8_t> slot_pattern(uint64_t slot, uint64_t salt) {
  std::vector<uint8_t> out(4096);
  uint64_t x = slot * 0x9E3779B97F4A7C15ull + salt * 0xD1B54A32D192ED03ull + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<uint8_t>(x);
  }
  return out;
}

cp::ControlPath& bench_control_path(Fabric& f) {
  return f.switch_named("sw0")->virtualization()->control_path();
}

absl::Status bring_up_bench_host(Fabric& f, size_t luns, SimTime step, const std::string& bench) {
  Host& host = *f.host("host0");
  host.stop_workload();
  for (;;) {
    const bool ready = host.luns().size() == luns &&
                       f.switch_named("sw0")->virtualization_stats().cp.vi_logins_pending == 0;
    if (ready) return absl::OkStatus();
    if (f.kernel().now() >= kNsPerSec) {
      return absl::DeadlineExceededError(
          fmt::format("{} bench: the host did not find its {} LUNs in 1 s", bench, luns));
    }
    f.run_until(f.kernel().now() + step);
  }
}

}  // namespace splitpath::sim
