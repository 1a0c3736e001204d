#include "fabric_sim/bench/dve_snapshot_bench.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cp/cluster/oplock_node.h"
#include "cp/control_path.h"
#include "fabric_sim/bench/service_bench_fabric.h"
#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "fmt/format.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"

namespace splitpath::sim {
namespace {

constexpr uint32_t kBlockSize = 512;
constexpr uint32_t kWriteBytes = 4096;
constexpr uint32_t kWriteBlocks = kWriteBytes / kBlockSize;
// The kernel is stopped this often to look for the take's and the sweep's end.
constexpr SimTime kStep = 10 * kNsPerUs;
constexpr uint64_t kNone = ~0ull;
constexpr std::array<const char*, 2> kSwitches = {"sw0", "sw1"};

// Both topologies: the same switches, ISL, disks and hosts; `dves` 2 shares
// vol and snap with sw1 and gives host1 vt1 there.
std::string bench_yaml(const DveSnapshotBenchOptions& o, uint32_t dves) {
  const uint64_t blocks = o.volume_bytes / kBlockSize;
  const std::string shared = dves == 2 ? ", shared_with: [sw1]" : "";
  std::string yaml = fmt::format(R"(seed: {seed}
switches:
  - {{name: sw0, domain: 1, ports: 8}}
  - {{name: sw1, domain: 2, ports: 8}}
isls:
  - {{a: sw0:7, b: sw1:7, delay: 1us}}
disks:
  - {{name: disk0, port: sw0:4, latency: 20us, luns: [{{lun: 0, size: {bytes}}}]}}
  - {{name: disk1, port: sw1:4, latency: 20us, luns: [{{lun: 0, size: {bytes}}}]}}
hosts:
  - {{name: host0, port: sw0:0}}
  - {{name: host1, port: sw1:0}}
volumes:
  - {{name: vol, switch: sw0{shared}, vsegs: [{{disk: disk0, lba: 0, blocks: {blocks}}}]}}
  - {{name: snap, switch: sw0{shared}, vsegs: [{{disk: disk1, lba: 0, blocks: {blocks}}}]}}
virtual_targets:
  - {{name: vt0, switch: sw0, luns: [{{lun: 0, volume: vol}}, {{lun: 1, volume: snap}}]}}
)",
                                 fmt::arg("seed", o.seed), fmt::arg("bytes", o.volume_bytes),
                                 fmt::arg("shared", shared), fmt::arg("blocks", blocks));
  if (dves == 2) {
    yaml += R"(  - {name: vt1, switch: sw1, luns: [{lun: 0, volume: vol}, {lun: 1, volume: snap}]}
zones:
  - {name: z0, members: [host0, vt0]}
  - {name: z1, members: [host1, vt1]}
)";
  } else {
    yaml += R"(zones:
  - {name: z0, members: [host0, host1, vt0]}
)";
  }
  return yaml;
}

// Every slot's last acknowledged write and the write in flight to it (each
// named by its pattern's salt; 0 is the prefill), and while the snapshot is
// being taken, what its point in time may hold.
struct Slots {
  std::vector<uint64_t> content;
  std::vector<uint64_t> in_flight;
  std::vector<std::vector<uint64_t>> at_snapshot;
  bool taking = false;  // from take_snapshot to its done callback
  uint64_t errors = 0;

  explicit Slots(uint64_t n) : content(n, 0), in_flight(n, kNone), at_snapshot(n) {}

  void start_taking() {
    taking = true;
    for (uint64_t s = 0; s < content.size(); ++s) {
      at_snapshot[s] = {content[s]};
      if (in_flight[s] != kNone) at_snapshot[s].push_back(in_flight[s]);
    }
  }
};

// One host writing 4 KiB to seeded random slots of `phase` parity, `depth`
// in flight, the next one sent as a write completes.
class HostLoad {
 public:
  HostLoad(Fabric& f, const std::string& host, uint32_t phase, uint64_t seed, Slots& slots)
      : host_(*f.host(host)),
        phase_(phase),
        rng_(Rng::derive(seed, host)),
        next_salt_(1 + (uint64_t{phase} << 40)),
        slots_(slots) {
    for (const DiscoveredLun& l : host_.luns())
      if (l.lun == 0) target_ = l.target;
  }

  void start(uint32_t depth) {
    for (uint32_t i = 0; i < depth; ++i)
      issue();
  }
  void stop() { stopping_ = true; }
  uint64_t completed() const { return completed_; }
  size_t outstanding() const { return outstanding_; }

 private:
  void issue() {
    const uint64_t half = slots_.content.size() / 2;
    uint64_t s = 0;
    do {
      s = 2 * rng_.uniform(half) + phase_;
    } while (slots_.in_flight[s] != kNone);
    const uint64_t salt = next_salt_++;
    std::array<uint8_t, fc::kMaxCdbSize> cdb{};
    const auto n = fc::encode_cdb(fc::make_write(s * kWriteBlocks, kWriteBlocks), cdb);
    if (!n.ok()) {
      ++slots_.errors;
      return;
    }
    slots_.in_flight[s] = salt;
    if (slots_.taking) slots_.at_snapshot[s].push_back(salt);
    ++outstanding_;
    const bool sent =
        host_.submit_command(target_, 0, {cdb.data(), *n}, 0, slot_pattern(s, salt),
                             [this, s, salt](const ScsiResult& r) {
                               --outstanding_;
                               slots_.in_flight[s] = kNone;
                               if (r.timed_out || r.status != fc::scsi_status::kGood) {
                                 ++slots_.errors;
                               } else {
                                 slots_.content[s] = salt;
                                 ++completed_;
                               }
                               if (!stopping_) issue();
                             });
    if (!sent) {
      --outstanding_;
      slots_.in_flight[s] = kNone;
      ++slots_.errors;
    }
  }

  Host& host_;
  fc::FcId target_{0};
  uint32_t phase_;
  Rng rng_;
  uint64_t next_salt_;
  Slots& slots_;
  bool stopping_ = false;
  uint64_t completed_ = 0;
  size_t outstanding_ = 0;
};

uint64_t oplock_messages(Fabric& f) {
  uint64_t sum = 0;
  for (const char* name : kSwitches) {
    SwitchVirtualization* v = f.switch_named(name)->virtualization();
    if (v == nullptr) continue;
    if (const cp::cluster::OplockNode* node = v->control_path().dve())
      sum += node->stats().messages_sent();
  }
  return sum;
}

struct Pushes {
  uint64_t cow = 0, sweep = 0;
  uint64_t all() const { return cow + sweep; }
};

Pushes pushes(Fabric& f, const char* name) {
  Switch& sw = *f.switch_named(name);
  if (sw.virtualization() == nullptr) return {};
  const cp::CpStats s = sw.virtualization_stats().cp;
  return {s.cow_pushes, s.sweep_pushes};
}

absl::Status check_image(const Fabric& f, const char* disk, const Slots& slots, bool snapshot) {
  const SparseStore* store = f.disk(disk)->store(0);
  std::vector<uint8_t> got(kWriteBytes);
  for (uint64_t s = 0; s < slots.content.size(); ++s) {
    store->read(s * kWriteBytes, got);
    const std::vector<uint64_t> allowed =
        snapshot ? slots.at_snapshot[s] : std::vector<uint64_t>{slots.content[s]};
    const bool match = std::any_of(allowed.begin(), allowed.end(),
                                   [&](uint64_t salt) { return got == slot_pattern(s, salt); });
    if (!match) {
      return absl::InternalError(fmt::format("dve snapshot bench: slot {} of {} on {} holds {}", s,
                                             snapshot ? "the snapshot" : "the volume", disk,
                                             snapshot ? "none of its writes at the point in time"
                                                      : "other than its last acknowledged write"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<DveSnapshotBenchPoint> measure(const DveSnapshotBenchOptions& o, uint32_t dves,
                                              uint64_t chunks) {
  const auto wall_start = std::chrono::steady_clock::now();
  DveSnapshotBenchPoint p;
  p.dves = dves;
  const std::string what = fmt::format("dve snapshot bench, {} DVE{}", dves, dves == 1 ? "" : "s");
  auto topology = parse_topology_yaml(bench_yaml(o, dves), "<dve snapshot bench>");
  if (!topology.ok()) return topology.status();
  FabricOptions fo;
  fo.adjust_cp_config = [&o](cp::CpConfig& c) { c.sweep_interval_ns = o.sweep_interval_ns; };
  auto built = Fabric::build(*topology, fo);
  if (!built.ok()) return built.status();
  Fabric& f = **built;
  Kernel& kernel = f.kernel();
  for (const char* h : {"host0", "host1"})
    f.host(h)->stop_workload();
  // Both hosts have found vol and snap, and the virtual initiators have
  // logged into both disks: no measured write or push waits for a login.
  for (;;) {
    bool ready = true;
    for (const char* h : {"host0", "host1"})
      ready = ready && f.host(h)->luns().size() == 2;
    for (const char* name : kSwitches) {
      Switch& sw = *f.switch_named(name);
      ready = ready && (sw.virtualization() == nullptr ||
                        sw.virtualization_stats().cp.vi_logins_pending == 0);
    }
    if (ready) break;
    if (kernel.now() >= kNsPerSec)
      return absl::DeadlineExceededError(what + ": the hosts did not find their LUNs in 1 s");
    f.run_until(kernel.now() + 100 * kNsPerUs);
  }
  const uint64_t slot_count = o.volume_bytes / kWriteBytes;
  {
    SparseStore* source = f.disk("disk0")->mutable_store(0);
    for (uint64_t s = 0; s < slot_count; ++s)
      source->write(s * kWriteBytes, slot_pattern(s, 0));
  }
  Slots slots(slot_count);
  HostLoad load0(f, "host0", 0, o.seed, slots);
  HostLoad load1(f, "host1", 1, o.seed, slots);
  auto completed = [&] { return load0.completed() + load1.completed(); };
  load0.start(o.depth);
  load1.start(o.depth);
  f.run_until(kernel.now() + o.warmup_ns);
  const uint64_t quiet_before = completed();
  f.run_until(kernel.now() + o.quiet_ns);
  p.quiet_writes = completed() - quiet_before;
  p.quiet_iops = static_cast<double>(p.quiet_writes) / (static_cast<double>(o.quiet_ns) / 1e9);

  // The snapshot, under the hosts' writes.
  cp::ControlPath& cp0 = f.switch_named("sw0")->virtualization()->control_path();
  const Pushes before0 = pushes(f, "sw0"), before1 = pushes(f, "sw1");
  const uint64_t take_messages_before = oplock_messages(f);
  struct Taken {
    bool done = false, ok = false;
    SimTime at = 0;
    uint64_t messages = 0, writes = 0;
  } taken;
  const SimTime take_start = kernel.now();
  slots.start_taking();
  std::string error;
  if (!cp0.take_snapshot({"vol", "snap"}, &error, [&](bool ok) {
        taken = {true, ok, kernel.now(), oplock_messages(f), completed()};
        slots.taking = false;
      })) {
    return absl::InternalError(what + ": " + error);
  }
  while (!taken.done && kernel.now() < take_start + o.limit_ns)
    f.run_until(kernel.now() + kStep);
  if (!taken.done || !taken.ok)
    return absl::InternalError(what + (taken.done ? ": the snapshot failed" : ": not taken"));
  p.take_sim_us = static_cast<double>(taken.at - take_start) / 1e3;
  p.take_oplock_messages = taken.messages - take_messages_before;

  // The sweep, under the hosts' writes.
  bool swept = false;
  while (!swept && kernel.now() < taken.at + o.limit_ns) {
    f.run_until(kernel.now() + kStep);
    for (const cp::SnapshotInfo& s : cp0.snapshots()) {
      if (s.name != "snap") continue;
      if (!s.error.empty()) return absl::InternalError(what + ": the snapshot failed: " + s.error);
      swept = s.swept;
    }
  }
  if (!swept) return absl::DeadlineExceededError(what + ": the snapshot was not swept");
  const SimTime sweep_ns = kernel.now() - taken.at;
  p.sweep_sim_us = static_cast<double>(sweep_ns) / 1e3;
  p.sweep_writes = completed() - taken.writes;
  p.sweep_iops = static_cast<double>(p.sweep_writes) / (static_cast<double>(sweep_ns) / 1e9);
  p.oplock_messages = oplock_messages(f) - taken.messages;
  const Pushes after0 = pushes(f, "sw0"), after1 = pushes(f, "sw1");
  p.taker_pushes = after0.all() - before0.all();
  p.peer_pushes = after1.all() - before1.all();
  p.peer_cow_pushes = after1.cow - before1.cow;
  if (p.taker_pushes + p.peer_pushes != chunks) {
    return absl::InternalError(fmt::format("{}: {} + {} chunks pushed, of {}", what, p.taker_pushes,
                                           p.peer_pushes, chunks));
  }
  p.oplock_messages_per_push = static_cast<double>(p.oplock_messages) / static_cast<double>(chunks);

  // The hosts stop; every write ends, then both images must hold.
  load0.stop();
  load1.stop();
  const SimTime drain_end = kernel.now() + o.limit_ns;
  while ((load0.outstanding() > 0 || load1.outstanding() > 0) && kernel.now() < drain_end)
    f.run_until(kernel.now() + kStep);
  if (load0.outstanding() > 0 || load1.outstanding() > 0)
    return absl::DeadlineExceededError(what + ": the hosts' writes did not all end");
  if (slots.errors > 0)
    return absl::InternalError(fmt::format("{}: {} host writes failed", what, slots.errors));
  if (auto s = check_image(f, "disk1", slots, true); !s.ok()) return s;
  if (auto s = check_image(f, "disk0", slots, false); !s.ok()) return s;
  p.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return p;
}

}  // namespace

DveSnapshotBenchOptions dve_snapshot_bench_options(bool /*quick*/) {
  return {};
}

absl::StatusOr<DveSnapshotBenchResult> run_dve_snapshot_bench(const DveSnapshotBenchOptions& o) {
  const QuietInfo quiet_info;
  const uint64_t chunk_bytes = cp::CpConfig{}.copy_granularity_bytes;
  if (o.volume_bytes == 0 || o.volume_bytes % chunk_bytes != 0 || o.depth == 0) {
    return absl::InvalidArgumentError(fmt::format(
        "dve snapshot bench: {} bytes are not whole {} KiB chunks, or no writes in flight",
        o.volume_bytes, chunk_bytes / 1024));
  }
  DveSnapshotBenchResult r;
  r.chunks = o.volume_bytes / chunk_bytes;
  for (uint32_t dves : {1u, 2u}) {
    auto p = measure(o, dves, r.chunks);
    if (!p.ok()) return p.status();
    r.points[dves - 1] = *p;
  }
  if (r.points[0].sweep_iops <= 0)
    return absl::InternalError("dve snapshot bench: no write completed during the sweep");
  r.sweep_iops_ratio = r.points[1].sweep_iops / r.points[0].sweep_iops;
  return r;
}

}  // namespace splitpath::sim
