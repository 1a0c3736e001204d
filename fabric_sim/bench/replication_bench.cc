#include "fabric_sim/bench/replication_bench.h"

#include <chrono>
#include <string>
#include <vector>

#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/replication_site.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "fmt/format.h"

namespace splitpath::sim {

namespace {

constexpr uint64_t kVolumeBlocks = 16384;  // 8 MiB each
constexpr uint64_t kDataLba[2] = {0, 32768};

std::string bench_yaml(const ReplicationBenchOptions& o) {
  return fmt::format(R"(seed: {}
duration: {}us
switches:
  - {{name: sw0, domain: 1, ports: 8}}
  - {{name: sw1, domain: 2, ports: 8}}
isls:
  - {{a: sw0:7, b: sw1:7, speed: 32G, delay: 100us, bb_credit: 400}}
disks:
  - {{name: disk0, port: sw0:4, speed: 32G, delay: 1us, luns: [{{lun: 0, size: 64MiB}}]}}
  - {{name: disk1, port: sw0:5, speed: 32G, delay: 1us, luns: [{{lun: 0, size: 128MiB}}]}}
  - {{name: remote, port: sw1:4, speed: 32G, delay: 1us, luns: [{{lun: 0, size: 256MiB}}, {{lun: 1, size: 16MiB}}, {{lun: 2, size: 16MiB}}]}}
hosts:
  - {{name: host0, port: sw0:0, workload: {{read_percent: 0, block_size: 4096, queue_depth: {}, lba_count: 16384}}}}
volumes:
  - name: vol0
    switch: sw0
    vsegs:
      - blocks: 16384
        journal:
          data: {{disk: disk0, lba: {}}}
          journal: {{disk: disk1, lba: 0, blocks: 131072}}
          journal_blocks: 1024
  - name: vol1
    switch: sw0
    vsegs:
      - blocks: 16384
        journal:
          data: {{disk: disk0, lba: {}}}
          journal: {{disk: disk1, lba: 131072, blocks: 131072}}
          journal_blocks: 1024
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{{lun: 0, volume: vol0}}, {{lun: 1, volume: vol1}}]
zones:
  - {{name: z0, members: [host0, vt0]}}
replications:
  - name: rep0
    switch: sw0
    volumes: [vol0, vol1]
    interval: {}us
    staging: {{disk: remote, lun: 0, blocks: 262144}}
    images:
      - {{volume: vol0, disk: remote, lun: 1}}
      - {{volume: vol1, disk: remote, lun: 2}}
)",
                     o.seed, o.duration_ns / 1000, o.depth, kDataLba[0], kDataLba[1],
                     o.interval_ns / 1000);
}

}  // namespace

ReplicationBenchOptions replication_bench_options(bool quick) {
  ReplicationBenchOptions o;
  if (quick) o.duration_ns = 50 * kNsPerMs;
  return o;
}

absl::StatusOr<ReplicationBenchResult> run_replication_bench(const ReplicationBenchOptions& o) {
  auto topology = parse_topology_yaml(bench_yaml(o), "<replication bench>");
  if (!topology.ok()) return topology.status();
  auto built = Fabric::build(*topology, {});
  if (!built.ok()) return built.status();
  Fabric& f = **built;
  const auto start = std::chrono::steady_clock::now();
  if (auto st = f.run(); !st.ok()) return st;
  const auto end = std::chrono::steady_clock::now();
  ReplicationBenchResult r;
  r.wall_s = std::chrono::duration<double>(end - start).count();
  r.sim_s = static_cast<double>(o.duration_ns) / 1e9;
  r.host_writes = f.host("host0")->stats().writes;
  r.write_mean_us = f.host("host0")->stats().write_latency.mean() / 1e3;
  cp::ControlPath& cp = f.switch_named("sw0")->virtualization()->control_path();
  const cp::ReplicationStatus at_stop = cp.replications().at(0);
  r.lag_ns = at_stop.lag_ns;
  r.lag_bytes = at_stop.lag_bytes;
  // The remote catches up; then it must hold the volumes.
  f.run_until(f.kernel().now() + 20 * o.interval_ns);
  const cp::ReplicationStatus s = cp.replications().at(0);
  r.epochs_closed = s.epochs_closed;
  r.epochs_applied = s.epochs_applied;
  r.journals_shipped = s.journals_shipped;
  r.bytes_shipped = s.bytes_shipped;
  const ReplicationSite* site = f.replication_site(0);
  if (!site) return absl::InternalError("the replication did not start");
  r.records_applied = site->stats().records_applied;
  r.blocks_superseded = site->stats().blocks_superseded;
  std::vector<uint8_t> a(kVolumeBlocks * 512), b(kVolumeBlocks * 512);
  for (int v = 0; v < 2; ++v) {
    f.disk("disk0")->store(0)->read(kDataLba[v] * 512, a);
    f.disk("remote")->store(static_cast<uint16_t>(1 + v))->read(0, b);
    if (a != b) {
      return absl::InternalError(
          fmt::format("the remote image of vol{} differs from the volume after catching up", v));
    }
  }
  if (r.epochs_applied + 1 < r.epochs_closed) {
    return absl::InternalError(
        fmt::format("the remote applied {} of {} epochs", r.epochs_applied, r.epochs_closed));
  }
  return r;
}

}  // namespace splitpath::sim
