#include "fabric_sim/bench/mirror_bench.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cp/control_path.h"
#include "fabric_sim/bench/service_bench_fabric.h"
#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/topology_validate.h"
#include "fmt/format.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"

namespace splitpath::sim {
namespace {

constexpr uint32_t kBlockSize = kServiceBenchBlockSize;
constexpr uint32_t kWriteBytes = 4096;
constexpr uint32_t kWriteBlocks = kWriteBytes / kBlockSize;
constexpr uint64_t kHostWwpn = 0x1000'5350'0000'0003ull;
constexpr uint64_t kTargetWwpn = 0x5000'5350'0010'0003ull;
constexpr uint64_t kDiskWwpn = 0x5000'5350'0001'0030ull;  // disk0; disk1 is + 1
constexpr SimTime kStep = 100 * kNsPerUs;  // the kernel is stopped this often to look
constexpr SimTime kFineStep = 2 * kNsPerUs;
constexpr uint32_t kSide = 1;  // the side failed and returned

// The host's 4 KiB writes to seeded random slots of [0, slots), `depth` in
// flight (closed loop: each completion sends the next while more() says so),
// never two to one slot at once. Each write carries the pattern of a salt of
// its own (the shared counter *salt), remembered in content[slot]; its
// latency is recorded, its slot's age extent noted.
class Writer {
 public:
  Writer(Fabric& f, uint64_t slots, uint32_t depth, uint64_t seed, uint64_t* salt,
         std::vector<uint64_t>* content, LatencyHistogram* into)
      : f_(f),
        host_(*f.host("host0")),
        rng_(seed),
        slots_(slots),
        depth_(depth),
        salt_(salt),
        content_(content),
        into_(into) {
    for (const DiscoveredLun& l : host_.luns())
      target_ = l.target;
  }

  void start(std::function<bool()> more) {
    more_ = std::move(more);
    while (in_flight_.size() < depth_ && more_() && send()) {
    }
  }

  void drain(SimTime limit) {
    const SimTime end = f_.kernel().now() + limit;
    while (!in_flight_.empty() && f_.kernel().now() < end)
      f_.run_until(f_.kernel().now() + kStep);
  }

  uint64_t issued() const { return issued_; }
  uint64_t errors() const { return errors_ + in_flight_.size(); }
  // The age extents (of `extent_blocks` blocks) the writes touched.
  std::set<uint64_t> extents(uint64_t extent_blocks) const {
    std::set<uint64_t> out;
    for (uint64_t slot : written_)
      out.insert(slot * kWriteBlocks / extent_blocks);
    return out;
  }

 private:
  bool send() {
    uint64_t slot = rng_.uniform(slots_);
    while (in_flight_.contains(slot))
      slot = rng_.uniform(slots_);
    const uint64_t salt = ++*salt_;
    std::array<uint8_t, fc::kMaxCdbSize> cdb{};
    const auto n = fc::encode_cdb(fc::make_write(slot * kWriteBlocks, kWriteBlocks), cdb);
    const SimTime issued = f_.kernel().now();
    if (!n.ok() || !host_.submit_command(target_, 0, {cdb.data(), *n}, 0, slot_pattern(slot, salt),
                                         [this, issued, slot](const ScsiResult& r) {
                                           in_flight_.erase(slot);
                                           if (r.timed_out || r.status != fc::scsi_status::kGood) {
                                             ++errors_;
                                           } else {
                                             into_->record(f_.kernel().now() - issued);
                                           }
                                           if (more_()) send();
                                         })) {
      ++errors_;
      return false;
    }
    (*content_)[slot] = salt;
    in_flight_.insert(slot);
    written_.insert(slot);
    ++issued_;
    return true;
  }

  Fabric& f_;
  Host& host_;
  Rng rng_;
  uint64_t slots_;
  uint32_t depth_;
  uint64_t* salt_;
  std::vector<uint64_t>* content_;
  LatencyHistogram* into_;
  std::function<bool()> more_;
  fc::FcId target_{0};
  std::set<uint64_t> in_flight_;
  std::set<uint64_t> written_;
  uint64_t issued_ = 0;
  uint64_t errors_ = 0;
};

std::optional<cp::MirrorReport> report(Fabric& f) {
  for (const cp::MirrorReport& m : bench_control_path(f).mirrors())
    if (m.volume == "vol0") return m;
  return std::nullopt;
}

// Runs the kernel until `finished` or `limit` has passed, in steps of `step`.
void run_until_finished(Fabric& f, const bool& finished, SimTime limit, SimTime step) {
  const SimTime end = f.kernel().now() + limit;
  while (!finished && f.kernel().now() < end)
    f.run_until(f.kernel().now() + step);
}

}  // namespace

MirrorBenchOptions mirror_bench_options(bool quick) {
  MirrorBenchOptions o;
  o.vseg_bytes = (quick ? 16ull : 64ull) << 20;
  o.hot_bytes = o.vseg_bytes / 4;
  o.writes = quick ? 512 : 2048;
  return o;
}

absl::StatusOr<Topology> mirror_bench_topology(const MirrorBenchOptions& o) {
  if (o.vseg_bytes == 0 || o.vseg_bytes % kWriteBytes != 0) {
    return absl::InvalidArgumentError(
        fmt::format("mirror bench: the VSEG's {} bytes are not whole 4 KiB", o.vseg_bytes));
  }
  if (o.hot_bytes == 0 || o.hot_bytes % kWriteBytes != 0 || o.hot_bytes > o.vseg_bytes) {
    return absl::InvalidArgumentError(fmt::format(
        "mirror bench: the written region's {} bytes are not whole 4 KiB within the VSEG's {}",
        o.hot_bytes, o.vseg_bytes));
  }
  if (o.depth == 0 || o.depth > 64 || o.writes == 0) {
    return absl::InvalidArgumentError(
        fmt::format("mirror bench: {} writes in flight (1 to 64) and {} writes (at least 1)",
                    o.depth, o.writes));
  }
  const uint64_t blocks = o.vseg_bytes / kBlockSize;
  Topology t = service_bench_topology({.source = "<mirror bench>",
                                       .seed = o.seed,
                                       .limit_ns = o.limit_ns,
                                       .host_wwpn = kHostWwpn,
                                       .target_wwpn = kTargetWwpn,
                                       .disk_wwpn = kDiskWwpn,
                                       .disk_blocks = {blocks, blocks},
                                       .vseg_blocks = blocks});
  VsegConfig& seg = t.volumes[0].vsegs[0];
  MirrorConfig mirror;
  mirror.sides.push_back(MirrorSideConfig{"disk0", 0, 0, 0});
  mirror.sides.push_back(MirrorSideConfig{"disk1", 0, 0, 0});
  seg.mirror = std::move(mirror);
  seg.disk.clear();
  seg.lun = 0;
  seg.lba = 0;
  if (absl::Status s = validate_topology(t); !s.ok()) return s;
  return t;
}

absl::StatusOr<MirrorBenchResult> run_mirror_bench(const MirrorBenchOptions& o) {
  const QuietInfo quiet_info;
  auto topology = mirror_bench_topology(o);
  if (!topology.ok()) return topology.status();
  auto built = Fabric::build(*topology, {});
  if (!built.ok()) return built.status();
  Fabric& f = **built;
  if (auto st = bring_up_bench_host(f, 1, kStep, "mirror"); !st.ok()) return st;
  cp::ControlPath& cp = bench_control_path(f);
  const uint64_t slots = o.vseg_bytes / kWriteBytes;
  const uint64_t hot_slots = o.hot_bytes / kWriteBytes;
  // Both sides hold the same data to start with: salt 0.
  for (const char* disk : {"disk0", "disk1"}) {
    SparseStore* store = f.disk(disk)->mutable_store(0);
    for (uint64_t s = 0; s < slots; ++s)
      store->write(s * kWriteBytes, slot_pattern(s, 0));
  }
  std::vector<uint64_t> content(slots, 0);
  uint64_t salt = 0;
  auto m = report(f);
  if (!m || m->sides.size() != 2)
    return absl::InternalError("mirror bench: the CP has no two-sided mirror of vol0");

  MirrorBenchResult r;
  r.vseg_bytes = o.vseg_bytes;
  r.depth = o.depth;
  r.writes = o.writes;
  const uint64_t extent_blocks = m->age_extent_blocks;
  r.age_extent_bytes = extent_blocks * m->block_size;
  auto host_errors = [](const Writer& w, const char* what) -> absl::Status {
    if (w.errors() == 0) return absl::OkStatus();
    return absl::InternalError(fmt::format(
        "mirror bench: {} of the host's writes {} failed or did not complete", w.errors(), what));
  };

  // Every side ALIVE.
  Writer alive(f, hot_slots, o.depth, o.seed, &salt, &content, &r.alive);
  alive.start([&] { return alive.issued() < o.writes; });
  alive.drain(o.limit_ns);
  if (auto s = host_errors(alive, "with every side ALIVE"); !s.ok()) return s;

  // Side 1 DEAD: the same writes again.
  bool failed = false;
  bool fail_ok = false;
  std::string error;
  if (!cp.fail_mirror_side("vol0", 0, kSide, &error, [&](bool ok) {
        failed = true;
        fail_ok = ok;
      })) {
    return absl::InternalError("mirror bench: fail_mirror_side: " + error);
  }
  run_until_finished(f, failed, o.limit_ns, kStep);
  m = report(f);
  if (!failed || !fail_ok || !m || m->sides[kSide].state != map::SideState::kDead)
    return absl::InternalError("mirror bench: side 1 is not DEAD after fail_mirror_side");
  const uint64_t age_faults_before = cp.stats().age_faults;
  Writer dead(f, hot_slots, o.depth, o.seed, &salt, &content, &r.dead);
  dead.start([&] { return dead.issued() < o.writes; });
  dead.drain(o.limit_ns);
  if (auto s = host_errors(dead, "while side 1 was DEAD"); !s.ok()) return s;
  r.age_faults = cp.stats().age_faults - age_faults_before;
  // No write was in flight before the failure was done or after the DEAD
  // run drained: the extents the DEAD run wrote are those written while the
  // side was DEAD.
  const std::set<uint64_t> dirty = dead.extents(extent_blocks);
  const uint64_t vseg_blocks = o.vseg_bytes / kBlockSize;
  r.dirty_extents = dirty.size();
  for (uint64_t e : dirty)
    r.dirty_bytes += std::min(extent_blocks, vseg_blocks - e * extent_blocks) * kBlockSize;

  // The return, under writes to the whole VSEG from the moment the side is
  // RESYNC (it gets every write from then on) until it is ALIVE.
  bool returned = false;
  bool return_ok = false;
  const auto wall_start = std::chrono::steady_clock::now();
  if (!cp.return_mirror_side("vol0", 0, kSide, &error, [&](bool ok) {
        returned = true;
        return_ok = ok;
      })) {
    return absl::InternalError("mirror bench: return_mirror_side: " + error);
  }
  {
    const SimTime end = f.kernel().now() + o.limit_ns;
    while (!returned && f.kernel().now() < end) {
      m = report(f);
      if (m && m->sides[kSide].state == map::SideState::kResync) break;
      f.run_until(f.kernel().now() + kFineStep);
    }
  }
  Writer during(f, slots, o.depth, o.seed + 1, &salt, &content, &r.resync_write);
  during.start([&] { return !returned; });
  run_until_finished(f, returned, o.limit_ns, kStep);
  r.resync_wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  during.drain(o.limit_ns);
  if (auto s = host_errors(during, "during the resync"); !s.ok()) return s;
  r.resync_writes = during.issued();
  m = report(f);
  if (!returned || !return_ok || !m || m->sides[kSide].state != map::SideState::kAlive ||
      m->resyncs.empty()) {
    return absl::InternalError(
        fmt::format("mirror bench: side 1 is not ALIVE {} ms of simulated time after its return",
                    o.limit_ns / kNsPerMs));
  }
  const cp::ResyncProgress& p = m->resyncs.back();
  if (p.state != cp::ResyncProgress::State::kDone || p.finished_ns <= p.started_ns)
    return absl::InternalError("mirror bench: the resync did not end done: " + p.error);
  r.generation = m->generation;
  r.stale_extents = p.stale_extents;
  r.copied_extents = p.copied_extents;
  r.copied_bytes = p.copied_blocks * m->block_size;
  r.resync_sim_seconds = static_cast<double>(p.finished_ns - p.started_ns) / 1e9;
  if (r.copied_extents != r.stale_extents) {
    return absl::InternalError(fmt::format("mirror bench: the resync copied {} of {} stale extents",
                                           r.copied_extents, r.stale_extents));
  }
  if (r.dirty_bytes == 0 || r.copied_bytes > r.dirty_bytes) {
    return absl::InternalError(
        fmt::format("mirror bench: the resync copied {} bytes, the {} age extents written while "
                    "the side was DEAD hold {}",
                    r.copied_bytes, r.dirty_extents, r.dirty_bytes));
  }
  if (r.resync_wall_seconds <= 0 || r.resync_sim_seconds <= 0)
    return absl::InternalError("mirror bench: the resync took no time");
  r.copied_over_dirty = static_cast<double>(r.copied_bytes) / static_cast<double>(r.dirty_bytes);
  constexpr double kMiB = 1 << 20;
  r.mib_per_wall_s = static_cast<double>(r.copied_bytes) / kMiB / r.resync_wall_seconds;
  r.mib_per_sim_s = static_cast<double>(r.copied_bytes) / kMiB / r.resync_sim_seconds;
  if (r.alive.count() != o.writes || r.dead.count() != o.writes || r.alive.mean() <= 0)
    return absl::InternalError("mirror bench: the ALIVE and DEAD runs did not time every write");
  r.dead_penalty = r.dead.mean() / r.alive.mean();
  r.dead_p99_penalty =
      static_cast<double>(r.dead.percentile(0.99)) / static_cast<double>(r.alive.percentile(0.99));

  // Both sides hold the last write of every slot.
  std::vector<uint8_t> got(kWriteBytes);
  for (const char* disk : {"disk0", "disk1"}) {
    const SparseStore* store = f.disk(disk)->store(0);
    for (uint64_t s = 0; s < slots; ++s) {
      store->read(s * kWriteBytes, got);
      if (got != slot_pattern(s, content[s])) {
        return absl::InternalError(
            fmt::format("mirror bench: {} 4 KiB slot {} does not hold its last write (salt {})",
                        disk, s, content[s]));
      }
    }
  }
  r.slots_checked = slots;
  return r;
}

}  // namespace splitpath::sim
