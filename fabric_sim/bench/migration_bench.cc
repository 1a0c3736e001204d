#include "fabric_sim/bench/migration_bench.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
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
constexpr uint64_t kHostWwpn = 0x1000'5350'0000'0000ull;
constexpr uint64_t kTargetWwpn = 0x5000'5350'0010'0000ull;
constexpr uint64_t kDiskWwpn = 0x5000'5350'0001'0000ull;  // disk0; disk1 is + 1
// Where the idle copy puts the VSEG on disk1 (not block 0, so that a copy
// to the wrong offset shows in the check of the destination's bytes).
constexpr uint64_t kDestLba = 4096;
constexpr SimTime kStep = 100 * kNsPerUs;  // the kernel is stopped this often to look

constexpr uint64_t kPatternSalt = 0;  // the source's bytes: slot_pattern(slot, kPatternSalt)

cp::ControlPath& control_path(Fabric& f) {
  return bench_control_path(f);
}

// Runs the kernel until the migration `id` has ended or `limit` has passed.
absl::StatusOr<cp::MigrationProgress> wait_for(Fabric& f, uint32_t id, const bool& finished,
                                               SimTime limit) {
  const SimTime end = f.kernel().now() + limit;
  while (!finished && f.kernel().now() < end) {
    f.run_until(f.kernel().now() + kStep);
  }
  for (const cp::MigrationProgress& p : control_path(f).migrations()) {
    if (p.id != id) continue;
    if (!finished) {
      return absl::DeadlineExceededError(
          fmt::format("migration: not done after {} ms of simulated time ({:.1f}% copied)",
                      limit / kNsPerMs, p.percent()));
    }
    if (p.state != cp::MigrationProgress::State::kDone)
      return absl::InternalError(fmt::format("migration: failed: {}", p.error));
    return p;
  }
  return absl::InternalError("migration: the CP does not know it");
}

absl::StatusOr<uint32_t> start(Fabric& f, uint64_t disk_wwpn, uint64_t dest_lba, bool* finished) {
  cp::ControlPath& cp = control_path(f);
  std::string error;
  if (!cp.start_migration({"vol0", 0, disk_wwpn, 0, dest_lba}, &error,
                          [finished](bool) { *finished = true; })) {
    return absl::InternalError("migration: " + error);
  }
  return cp.migrations().back().id;
}

// A host writing 4 KiB to seeded random slots of the VSEG, `depth` at a
// time (closed loop: each completion sends the next write), each write's
// latency recorded.
class Writer {
 public:
  Writer(Fabric& f, uint64_t slots, uint32_t depth, uint64_t seed, LatencyHistogram* into)
      : f_(f), host_(*f.host("host0")), rng_(seed), slots_(slots), depth_(depth), into_(into) {
    for (const DiscoveredLun& l : host_.luns())
      target_ = l.target;
  }

  // Sends `depth` writes, and another as each completes while `more()`.
  void start(std::function<bool()> more) {
    more_ = std::move(more);
    while (in_flight_ < depth_ && more_() && send()) {
    }
  }

  // Runs until every write sent has completed (or `limit` has passed).
  void drain(SimTime limit) {
    const SimTime end = f_.kernel().now() + limit;
    while (in_flight_ > 0 && f_.kernel().now() < end)
      f_.run_until(f_.kernel().now() + kStep);
  }

  uint64_t issued() const { return issued_; }
  uint64_t errors() const { return errors_ + in_flight_; }

 private:
  bool send() {
    const uint64_t lba = rng_.uniform(slots_) * kWriteBlocks;
    std::array<uint8_t, fc::kMaxCdbSize> cdb{};
    const auto n = fc::encode_cdb(fc::make_write(lba, kWriteBlocks), cdb);
    const SimTime issued = f_.kernel().now();
    if (!n.ok() || !host_.submit_command(target_, 0, {cdb.data(), *n}, 0, data_,
                                         [this, issued](const ScsiResult& r) {
                                           --in_flight_;
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
    ++in_flight_;
    ++issued_;
    return true;
  }

  Fabric& f_;
  Host& host_;
  Rng rng_;
  uint64_t slots_;
  uint32_t depth_;
  LatencyHistogram* into_;
  std::function<bool()> more_;
  fc::FcId target_{0};
  std::vector<uint8_t> data_ = std::vector<uint8_t>(kWriteBytes, 0xA5);
  uint32_t in_flight_ = 0;
  uint64_t issued_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace

MigrationBenchOptions migration_bench_options(bool quick) {
  MigrationBenchOptions o;
  o.vseg_bytes = (quick ? 16ull : 64ull) << 20;
  return o;
}

absl::StatusOr<Topology> migration_bench_topology(const MigrationBenchOptions& o) {
  if (o.vseg_bytes == 0 || o.vseg_bytes % kWriteBytes != 0) {
    return absl::InvalidArgumentError(
        fmt::format("migration bench: the VSEG's {} bytes are not whole 4 KiB", o.vseg_bytes));
  }
  if (o.write_depth == 0 || o.copy_rounds == 0)
    return absl::InvalidArgumentError("migration bench: no writes in flight or no copy");
  const uint64_t blocks = o.vseg_bytes / kBlockSize;
  Topology t = service_bench_topology({.source = "<migration bench>",
                                       .seed = o.seed,
                                       .limit_ns = o.limit_ns,
                                       .host_wwpn = kHostWwpn,
                                       .target_wwpn = kTargetWwpn,
                                       .disk_wwpn = kDiskWwpn,
                                       .disk_blocks = {blocks, blocks + kDestLba},
                                       .vseg_blocks = blocks});
  if (absl::Status s = validate_topology(t); !s.ok()) return s;
  return t;
}

absl::StatusOr<MigrationBenchResult> run_migration_bench(const MigrationBenchOptions& o) {
  const QuietInfo quiet_info;
  auto topology = migration_bench_topology(o);
  if (!topology.ok()) return topology.status();
  auto built = Fabric::build(*topology, {});
  if (!built.ok()) return built.status();
  Fabric& f = **built;
  if (auto st = bring_up_bench_host(f, 1, kStep, "migration"); !st.ok()) return st;
  const uint64_t slots = o.vseg_bytes / kWriteBytes;
  SparseStore* source = f.disk("disk0")->mutable_store(0);
  for (uint64_t s = 0; s < slots; ++s)
    source->write(s * kWriteBytes, slot_pattern(s, kPatternSalt));

  MigrationBenchResult r;
  r.vseg_bytes = o.vseg_bytes;
  // The idle copy, back and forth: disk0 LBA 0 to disk1 LBA kDestLba and
  // back, ending on disk1. The simulated rate is the first round's (all
  // rounds copy alike), the wall time the best round's.
  for (uint32_t round = 0; round < o.copy_rounds; ++round) {
    const bool to_disk1 = round % 2 == 0;
    const uint64_t dest_lba = to_disk1 ? kDestLba : 0;
    bool finished = false;
    auto id = start(f, kDiskWwpn + (to_disk1 ? 1 : 0), dest_lba, &finished);
    if (!id.ok()) return id.status();
    const auto wall_start = std::chrono::steady_clock::now();
    auto p = wait_for(f, *id, finished, o.limit_ns);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    if (!p.ok()) return p.status();
    const uint64_t copied = p->copied_blocks * p->block_size;
    const double sim = static_cast<double>(p->finished_ns - p->started_ns) / 1e9;
    if (copied != o.vseg_bytes) {
      return absl::InternalError(
          fmt::format("migration: copied {} bytes of the VSEG's {}", copied, o.vseg_bytes));
    }
    if (wall <= 0 || sim <= 0) return absl::InternalError("migration: took no time");
    if (round == 0) {
      r.copied_bytes = copied;
      r.copy_sim_seconds = sim;
    }
    if (round == 0 || wall < r.copy_wall_seconds) r.copy_wall_seconds = wall;
    const SparseStore* dest = f.disk(to_disk1 ? "disk1" : "disk0")->store(0);
    std::vector<uint8_t> got(kWriteBytes);
    for (uint64_t s = 0; s < slots; ++s) {
      dest->read(dest_lba * kBlockSize + s * kWriteBytes, got);
      if (got != slot_pattern(s, kPatternSalt)) {
        return absl::InternalError(
            fmt::format("migration: the destination's 4 KiB slot {} differs from the source's", s));
      }
    }
  }
  r.mb_per_wall_s = static_cast<double>(r.copied_bytes) / 1e6 / r.copy_wall_seconds;
  r.mb_per_sim_s = static_cast<double>(r.copied_bytes) / 1e6 / r.copy_sim_seconds;
  // The write penalty: from disk1 to disk0 (or, after an even number of
  // rounds, back) under writes, then the same writes alone.
  {
    const bool on_disk1 = o.copy_rounds % 2 == 1;
    bool finished = false;
    auto id = start(f, kDiskWwpn + (on_disk1 ? 0 : 1), on_disk1 ? 0 : kDestLba, &finished);
    if (!id.ok()) return id.status();
    Writer during(f, slots, o.write_depth, o.seed, &r.migrating);
    during.start([&finished] { return !finished; });
    auto p = wait_for(f, *id, finished, o.limit_ns);
    if (!p.ok()) return p.status();
    during.drain(o.limit_ns);
    r.loaded_copied_bytes = p->copied_blocks * p->block_size;
    r.loaded_copy_sim_seconds = static_cast<double>(p->finished_ns - p->started_ns) / 1e9;
    r.barrier_writes = p->barrier_writes;
    r.writes = during.issued();
    Writer quiet(f, slots, o.write_depth, o.seed, &r.quiet);
    quiet.start([&quiet, &r] { return quiet.issued() < r.writes; });
    quiet.drain(o.limit_ns);
    if (during.errors() > 0 || quiet.errors() > 0) {
      return absl::InternalError(
          fmt::format("migration: {} of the host's writes during the migration and {} without "
                      "one failed or did not complete",
                      during.errors(), quiet.errors()));
    }
    if (r.loaded_copied_bytes != o.vseg_bytes) {
      return absl::InternalError(fmt::format("migration under writes: copied {} bytes of {}",
                                             r.loaded_copied_bytes, o.vseg_bytes));
    }
    if (r.writes == 0 || r.quiet.count() != r.writes || r.migrating.count() != r.writes)
      return absl::InternalError("migration: no host write ran during the migration");
    r.mean_penalty = r.migrating.mean() / r.quiet.mean();
    r.p99_penalty = static_cast<double>(r.migrating.percentile(0.99)) /
                    static_cast<double>(r.quiet.percentile(0.99));
  }
  return r;
}

}  // namespace splitpath::sim
