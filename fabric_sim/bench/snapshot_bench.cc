#include "fabric_sim/bench/snapshot_bench.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cp/control_path.h"
#include "fabric_sim/bench/service_bench_fabric.h"
#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/topology/topology_validate.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"

namespace splitpath::sim {
namespace {

constexpr uint32_t kBlockSize = kServiceBenchBlockSize;
constexpr uint32_t kWriteBytes = 4096;
constexpr uint32_t kWriteBlocks = kWriteBytes / kBlockSize;
constexpr uint64_t kHostWwpn = 0x1000'5350'0000'0001ull;
constexpr uint64_t kTargetWwpn = 0x5000'5350'0010'0001ull;
constexpr uint64_t kDiskWwpn = 0x5000'5350'0002'0000ull;  // disk0; disk1 is + 1
// The kernel is stopped this often to look: finer while a write or the
// sweep runs, so that its end is seen within 10 us.
constexpr SimTime kStep = 100 * kNsPerUs;
constexpr SimTime kFineStep = 10 * kNsPerUs;

constexpr uint64_t kPatternSalt = 7;  // the source's bytes: slot_pattern(slot, kPatternSalt)

cp::ControlPath& control_path(Fabric& f) {
  return bench_control_path(f);
}

std::string snapshot_name(uint32_t i) {
  return fmt::format("snap{}", i);
}

std::optional<cp::SnapshotInfo> snapshot_info(Fabric& f, const std::string& name) {
  for (const cp::SnapshotInfo& s : control_path(f).snapshots())
    if (s.name == name) return s;
  return std::nullopt;
}

// A fabric of snapshot_bench_topology, brought up, the source filled with
// slot_pattern. The host sees the snapshot volumes too: its login makes port
// 0's virtual initiator log into both disks, and the bench waits for that,
// so no push waits for a login (the first would pay resolve_retry_ns, 100 us,
// for port 0 to log into disk1). `sweep`: the CP's default sweep interval,
// otherwise none.
absl::StatusOr<std::unique_ptr<Fabric>> bring_up(const SnapshotBenchOptions& o, bool sweep) {
  auto topology = snapshot_bench_topology(o);
  if (!topology.ok()) return topology.status();
  FabricOptions fo;
  fo.adjust_cp_config = [sweep](cp::CpConfig& c) {
    if (!sweep) c.sweep_interval_ns = 0;
  };
  auto built = Fabric::build(*topology, fo);
  if (!built.ok()) return built.status();
  Fabric& f = **built;
  if (auto st = bring_up_bench_host(f, 1 + o.sweep_rounds, kStep, "snapshot"); !st.ok()) return st;
  SparseStore* source = f.disk("disk0")->mutable_store(0);
  for (uint64_t s = 0; s < o.vseg_bytes / kWriteBytes; ++s)
    source->write(s * kWriteBytes, slot_pattern(s, kPatternSalt));
  return built;
}

// Takes snapshot `name` of vol0 and runs until its point in time is taken.
// `on_taken` runs in the simulation at that instant.
absl::Status take(Fabric& f, const std::string& name, SimTime limit,
                  std::function<void()> on_taken = {}) {
  struct State {
    bool done = false, ok = false;
  };
  auto state = std::make_shared<State>();
  std::string error;
  if (!control_path(f).take_snapshot({"vol0", name}, &error,
                                     [state, on_taken = std::move(on_taken)](bool r) {
                                       state->done = true;
                                       state->ok = r;
                                       if (on_taken) on_taken();
                                     })) {
    return absl::InternalError("snapshot bench: " + error);
  }
  const SimTime end = f.kernel().now() + limit;
  while (!state->done && f.kernel().now() < end)
    f.run_until(f.kernel().now() + kStep);
  if (!state->done) {
    return absl::DeadlineExceededError(fmt::format(
        "snapshot bench: '{}' not taken after {} ms of simulated time", name, limit / kNsPerMs));
  }
  if (!state->ok) return absl::InternalError(fmt::format("snapshot bench: '{}' failed", name));
  return absl::OkStatus();
}

// One 4 KiB write of `data` to vol0 at block `lba`, alone: its simulated
// latency.
absl::StatusOr<SimTime> write_one(Fabric& f, uint64_t lba, std::vector<uint8_t> data,
                                  SimTime limit) {
  Host& host = *f.host("host0");
  fc::FcId target{0};
  for (const DiscoveredLun& l : host.luns())
    target = l.target;
  std::array<uint8_t, fc::kMaxCdbSize> cdb{};
  const auto n = fc::encode_cdb(fc::make_write(lba, kWriteBlocks), cdb);
  if (!n.ok()) return absl::InternalError("snapshot bench: a WRITE CDB that does not encode");
  const SimTime issued = f.kernel().now();
  struct State {
    bool done = false, good = false;
    SimTime latency = 0;
  };
  auto state = std::make_shared<State>();
  Kernel& kernel = f.kernel();
  if (!host.submit_command(target, 0, {cdb.data(), *n}, 0, std::move(data),
                           [state, &kernel, issued](const ScsiResult& r) {
                             state->done = true;
                             state->good = !r.timed_out && r.status == fc::scsi_status::kGood;
                             state->latency = kernel.now() - issued;
                           })) {
    return absl::InternalError("snapshot bench: the host could not send a write");
  }
  const SimTime end = issued + limit;
  while (!state->done && f.kernel().now() < end)
    f.run_until(f.kernel().now() + kFineStep);
  if (!state->done || !state->good) {
    return absl::InternalError(fmt::format("snapshot bench: the write at LBA {} {}", lba,
                                           state->done ? "failed" : "did not complete"));
  }
  return state->latency;
}

// Checks that snapshot `index`'s storage on disk1 holds the source's
// prefilled image in the chunks `chunks` (every chunk if empty).
absl::Status check_image(Fabric& f, const SnapshotBenchOptions& o, uint32_t index,
                         uint64_t chunk_bytes, const std::vector<uint64_t>& chunks) {
  const SparseStore* store = f.disk("disk1")->store(0);
  const uint64_t base = index * o.vseg_bytes;
  const uint64_t slots_per_chunk = chunk_bytes / kWriteBytes;
  std::vector<uint8_t> got(kWriteBytes);
  auto check_slot = [&](uint64_t s) -> absl::Status {
    store->read(base + s * kWriteBytes, got);
    if (got != slot_pattern(s, kPatternSalt)) {
      return absl::InternalError(fmt::format(
          "snapshot bench: {}'s 4 KiB slot {} differs from the source's at the point in time",
          snapshot_name(index), s));
    }
    return absl::OkStatus();
  };
  if (chunks.empty()) {
    for (uint64_t s = 0; s < o.vseg_bytes / kWriteBytes; ++s)
      if (auto st = check_slot(s); !st.ok()) return st;
    return absl::OkStatus();
  }
  for (uint64_t c : chunks)
    for (uint64_t s = c * slots_per_chunk; s < (c + 1) * slots_per_chunk; ++s)
      if (auto st = check_slot(s); !st.ok()) return st;
  return absl::OkStatus();
}

// The copy-on-write penalty: snap0 of vol0 with the sweep off, then for each
// of `chunks_written` seeded distinct chunks a first 4 KiB write (it waits
// for the chunk's push) and right after it a later one (the chunk pushed).
absl::Status run_cow(const SnapshotBenchOptions& o, SnapshotBenchResult* r) {
  auto built = bring_up(o, /*sweep=*/false);
  if (!built.ok()) return built.status();
  Fabric& f = **built;
  cp::ControlPath& cp = control_path(f);
  if (auto s = take(f, snapshot_name(0), o.limit_ns); !s.ok()) return s;
  const uint64_t chunks = o.vseg_bytes / r->chunk_bytes;
  const uint64_t slots_per_chunk = r->chunk_bytes / kWriteBytes;
  Rng rng(o.seed);
  std::vector<uint64_t> order(chunks);
  std::iota(order.begin(), order.end(), 0);
  for (uint64_t i = chunks - 1; i > 0; --i)
    std::swap(order[i], order[rng.uniform(i + 1)]);
  order.resize(o.chunks_written);
  const cp::CpStats before = cp.stats();
  for (uint64_t c : order) {
    const uint64_t first_slot = c * slots_per_chunk + rng.uniform(slots_per_chunk);
    const uint64_t later_slot = c * slots_per_chunk + rng.uniform(slots_per_chunk);
    auto first = write_one(f, first_slot * kWriteBlocks, std::vector<uint8_t>(kWriteBytes, 0xA5),
                           o.limit_ns);
    if (!first.ok()) return first.status();
    r->first.record(*first);
    const uint64_t queued = cp.stats().queued_ios;
    const uint64_t misses = cp.stats().mapping_misses;
    auto later = write_one(f, later_slot * kWriteBlocks, std::vector<uint8_t>(kWriteBytes, 0x5A),
                           o.limit_ns);
    if (!later.ok()) return later.status();
    r->later.record(*later);
    r->later_faults += cp.stats().queued_ios - queued;
    r->later_misses += cp.stats().mapping_misses - misses;
  }
  const cp::CpStats& after = cp.stats();
  r->chunks_written = order.size();
  r->cow_pushes = after.cow_pushes - before.cow_pushes;
  r->cow_write_waits = after.cow_write_waits - before.cow_write_waits;
  const auto info = snapshot_info(f, snapshot_name(0));
  if (!info) return absl::InternalError("snapshot bench: the CP does not know snap0");
  if (!info->error.empty())
    return absl::InternalError("snapshot bench: snap0 failed: " + info->error);
  r->cow_pushed_bytes = info->own_blocks * kBlockSize;
  if (after.sweep_pushes != 0)
    return absl::InternalError("snapshot bench: the sweep ran although it was turned off");
  if (r->cow_pushes != r->chunks_written ||
      r->cow_pushed_bytes != r->chunks_written * r->chunk_bytes) {
    return absl::InternalError(
        fmt::format("snapshot bench: {} first writes made {} pushes of {} bytes in all",
                    r->chunks_written, r->cow_pushes, r->cow_pushed_bytes));
  }
  return check_image(f, o, 0, r->chunk_bytes, order);
}

// The sweep: snapshots of the idle vol0 one after another, each swept to
// its own storage with the CP's default interval.
absl::Status run_sweep(const SnapshotBenchOptions& o, SnapshotBenchResult* r) {
  auto built = bring_up(o, /*sweep=*/true);
  if (!built.ok()) return built.status();
  Fabric& f = **built;
  cp::ControlPath& cp = control_path(f);
  for (uint32_t round = 0; round < o.sweep_rounds; ++round) {
    const std::string name = snapshot_name(round);
    const uint64_t pushes_before = cp.stats().sweep_pushes;
    // The wall clock starts at the point in time, as the sweep does.
    auto wall_start = std::chrono::steady_clock::now();
    if (auto s = take(f, name, o.limit_ns,
                      [&wall_start] { wall_start = std::chrono::steady_clock::now(); });
        !s.ok()) {
      return s;
    }
    const SimTime end = f.kernel().now() + o.limit_ns;
    std::optional<cp::SnapshotInfo> info = snapshot_info(f, name);
    while (info && !info->swept && info->error.empty() && f.kernel().now() < end) {
      f.run_until(f.kernel().now() + kFineStep);
      info = snapshot_info(f, name);
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    if (!info) return absl::InternalError("snapshot bench: the CP does not know " + name);
    if (!info->error.empty())
      return absl::InternalError(fmt::format("snapshot bench: {} failed: {}", name, info->error));
    if (!info->swept) {
      return absl::DeadlineExceededError(
          fmt::format("snapshot bench: {} not swept after {} ms of simulated time", name,
                      o.limit_ns / kNsPerMs));
    }
    const uint64_t swept = info->own_blocks * kBlockSize;
    const double sim = static_cast<double>(f.kernel().now() - info->taken_ns) / 1e9;
    if (swept != o.vseg_bytes) {
      return absl::InternalError(fmt::format(
          "snapshot bench: the sweep of {} pushed {} bytes of {}", name, swept, o.vseg_bytes));
    }
    if (wall <= 0 || sim <= 0) return absl::InternalError("snapshot bench: the sweep took no time");
    if (round == 0) {
      r->swept_bytes = swept;
      r->sweep_pushes = cp.stats().sweep_pushes - pushes_before;
      r->sweep_sim_seconds = sim;
    }
    if (round == 0 || wall < r->sweep_wall_seconds) r->sweep_wall_seconds = wall;
    if (auto s = check_image(f, o, round, r->chunk_bytes, {}); !s.ok()) return s;
  }
  if (cp.stats().cow_pushes != 0)
    return absl::InternalError("snapshot bench: a push on write while the volume was idle");
  r->mb_per_wall_s = static_cast<double>(r->swept_bytes) / 1e6 / r->sweep_wall_seconds;
  r->mb_per_sim_s = static_cast<double>(r->swept_bytes) / 1e6 / r->sweep_sim_seconds;
  return absl::OkStatus();
}

}  // namespace

SnapshotBenchOptions snapshot_bench_options(bool quick) {
  SnapshotBenchOptions o;
  o.vseg_bytes = (quick ? 16ull : 64ull) << 20;
  o.chunks_written = quick ? 64 : 256;
  return o;
}

absl::StatusOr<Topology> snapshot_bench_topology(const SnapshotBenchOptions& o) {
  const uint64_t chunk_bytes = cp::CpConfig{}.copy_granularity_bytes;
  if (o.vseg_bytes == 0 || o.vseg_bytes % chunk_bytes != 0) {
    return absl::InvalidArgumentError(
        fmt::format("snapshot bench: the VSEG's {} bytes are not whole {} KiB chunks", o.vseg_bytes,
                    chunk_bytes / 1024));
  }
  if (o.chunks_written == 0 || o.chunks_written > o.vseg_bytes / chunk_bytes) {
    return absl::InvalidArgumentError(fmt::format("snapshot bench: {} chunks to write, of {}",
                                                  o.chunks_written, o.vseg_bytes / chunk_bytes));
  }
  if (o.sweep_rounds == 0) return absl::InvalidArgumentError("snapshot bench: no sweep");
  const uint64_t blocks = o.vseg_bytes / kBlockSize;
  Topology t = service_bench_topology({.source = "<snapshot bench>",
                                       .seed = o.seed,
                                       .limit_ns = o.limit_ns,
                                       .host_wwpn = kHostWwpn,
                                       .target_wwpn = kTargetWwpn,
                                       .disk_wwpn = kDiskWwpn,
                                       .disk_blocks = {blocks, blocks * o.sweep_rounds},
                                       .vseg_blocks = blocks});
  const VolumeConfig v = t.volumes.front();
  for (uint32_t i = 0; i < o.sweep_rounds; ++i) {
    VolumeConfig s = v;
    s.name = snapshot_name(i);
    s.vsegs = {VsegConfig{"disk1", 0, i * blocks, blocks, 0, false, false}};
    t.volumes.push_back(s);
  }
  VirtualTargetConfig& vt = t.virtual_targets.front();
  for (uint32_t i = 0; i < o.sweep_rounds; ++i) {
    vt.luns.push_back(
        VirtualLunConfig{static_cast<uint16_t>(1 + i), snapshot_name(i), {kHostWwpn}, false});
  }
  if (absl::Status s = validate_topology(t); !s.ok()) return s;
  return t;
}

absl::StatusOr<SnapshotBenchResult> run_snapshot_bench(const SnapshotBenchOptions& o) {
  const QuietInfo quiet_info;
  if (auto t = snapshot_bench_topology(o); !t.ok()) return t.status();
  SnapshotBenchResult r;
  r.vseg_bytes = o.vseg_bytes;
  r.chunk_bytes = cp::CpConfig{}.copy_granularity_bytes;
  if (auto s = run_cow(o, &r); !s.ok()) return s;
  if (r.first.count() != r.chunks_written || r.later.count() != r.chunks_written)
    return absl::InternalError("snapshot bench: a write was not timed");
  r.cow_penalty = r.first.mean() / r.later.mean();
  if (auto s = run_sweep(o, &r); !s.ok()) return s;
  return r;
}

}  // namespace splitpath::sim
