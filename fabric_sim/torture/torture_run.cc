// The runner: builds the scenario's fabric, breaks the mechanisms asked for,
// installs the checkers, fires the planned faults and updates as the host
// I/Os complete, and watches for deadlock, all on the fabric's kernel.
//
// Range moves and data: the restrictive update of a range move changes only
// the mapping. The harness copies the moved blocks' data from their old place
// to the new one in the update's completion callback. At that instant the
// range is quiescent when the protocol works: every I/O that used the old
// mapping has ended (the drain), and the I/Os held for the new one resume only
// after the callback returns. So the copy is what a migration service's copy
// would leave, the durability model needs no change across moves, and a
// broken drain shows up as acknowledged writes lost to the old place.
//
// Migrations and data: an online migration (cp::ControlPath::start_migration)
// copies the blocks itself (FPCopyIO); the harness never does. Its on_step
// tells the harness as blocks become the copy barrier (they are then marked
// as being copied into the destination: the copy's WRITEs there are
// legitimate) and as they move (their placement becomes the destination).
// The durability model is host-level and needs no change for migrations
// either.
//
// Snapshots and incrementals: the harness asks the CP for them
// (take_snapshot, take_incremental) and tells the snapshot checker when each
// is asked for and taken; from then on no range move, flag change or
// migration touches the source's (base's) VSEGs (the image shares their
// storage, which the harness's own copies would overwrite). The end of the
// run waits for every snapshot's sweep, then judges the snapshots' storage
// and the bases from the disk stores (snapshot_checker.h).
//
// VSEG splits and merges: the harness asks the CP to split a simple VSEG at
// a block inside it (cp::ControlPath::split_vseg) and, some milliseconds
// after the split is done, to merge the halves back (merge_vsegs at the
// split LBA). Neither moves a block nor changes its volume LBA: only the
// CP's VSEG boundaries change, so the harness's model (placement, the
// checkers) stays in terms of the scenario's VSEGs. While a VSEG is split
// (from the split's request to the merge's done) no range move, flag change,
// migration or snapshot/incremental of its volume is asked for (skipped):
// the model of the VSEG would have to follow the CP's halves. Every split
// and merge the CP accepted must end (done) before the run does.
#include "fabric_sim/torture/torture_run.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "absl/status/status.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/topology/topology_validate.h"
#include "fabric_sim/torture/durability_checker.h"
#include "fabric_sim/torture/event_log.h"
#include "fabric_sim/torture/io_tracker.h"
#include "fabric_sim/torture/journal_checker.h"
#include "fabric_sim/torture/mirror_checker.h"
#include "fabric_sim/torture/placement.h"
#include "fabric_sim/torture/progress_checker.h"
#include "fabric_sim/torture/revocation_checker.h"
#include "fabric_sim/torture/scenario.h"
#include "fabric_sim/torture/snapshot_checker.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "splitpath/fpapi.h"
#include "splitpath/map/rmap_types.h"

namespace splitpath::sim::torture {

namespace {

constexpr SimTime kTick = 200 * kNsPerUs;  // how often the harness looks at the run
// A write that failed may still land this long after its failure.
constexpr SimTime kIndeterminate = kNsPerSec;
// The disks' late writes when their ordering is broken.
constexpr SimTime kLateWrite = 3 * kNsPerMs;
// The CP's drain timeout (cp::CpConfig default): an update may take this long.
constexpr SimTime kDrainTimeout = 500 * kNsPerMs;
// How much longer than the rest the end of a run waits for migrations.
constexpr SimTime kMigrationDrain = 30 * kNsPerSec;

// One VSEG split or merge the CP accepted.
struct ReconfigRecord {
  size_t vseg = 0;
  bool merge = false;
  uint64_t lba = 0;  // volume LBA: where the second half starts
  SimTime requested = 0;
  SimTime done = 0;  // 0: running
  bool ok = false;
  SimTime merge_after = 0;  // a split: how long after its done the merge is asked
};

struct UpdateRecord {
  SimTime requested = 0;
  SimTime done = 0;  // 0: not yet
  bool ok = false;
  const PlannedOp* op = nullptr;
};

// One migration the CP accepted.
struct MigrationRecord {
  size_t vseg = 0;
  uint8_t from = 0;  // the place every block lived in at the start
  uint8_t to = 0;
  uint32_t cp_id = 0;  // cp::MigrationProgress::id
  SimTime requested = 0;
  SimTime last_step = 0;  // the last on_step, or the start
  SimTime done = 0;       // 0: running
  bool ok = false;
  uint64_t steps = 0;
  uint64_t blocks_moved = 0;
  std::string error;  // failed: the CP's reason
};

class Runner {
 public:
  Runner(const TortureOptions& options, TortureScenario scenario)
      : options_(options),
        scenario_(std::move(scenario)),
        placement_(scenario_),
        durability_(kIndeterminate,
                    [this](size_t volume, uint64_t unit) { return unit_notes(volume, unit); }),
        revocation_(scenario_, placement_, [this](size_t vseg) { return vseg_notes(vseg); }),
        mirror_(scenario_),
        journal_(scenario_),
        snapshots_(durability_),
        migrating_(scenario_.vsegs.size()),
        image_locked_(scenario_.vsegs.size(), kNotAnImageSource),
        split_(scenario_.vsegs.size(), kWhole) {
    revocation_.set_snapshot_reads([this](size_t vseg, uint8_t place) {
      return image_locked_[vseg] == kSnapshotSource && migrating_[vseg] &&
             migrations_[*migrating_[vseg]].from == place;
    });
  }

  absl::StatusOr<TortureRunResult> run();

 private:
  void tick(uint64_t);
  void fire(const PlannedOp& op);
  void heal(uint64_t index);
  void change_mapping(const PlannedOp& op);
  void on_update_done(size_t record, bool ok);
  void start_migration(const PlannedOp& op);
  void on_migration_step(size_t record, uint64_t start, uint64_t blocks, bool moved);
  void on_migration_done(size_t record, bool ok);
  cp::ControlPath& control_path_of(size_t vseg);
  std::string describe_migration(const MigrationRecord& m) const;
  bool migrations_running() const;
  void split_vseg(const PlannedOp& op);
  void merge_vseg(uint64_t split_record);
  void on_reconfig_done(size_t record, bool ok);
  std::string describe_reconfig(const ReconfigRecord& r) const;
  bool reconfigs_running() const { return reconfigs_pending_ > 0 || merges_planned_ > 0; }
  void take_image(const PlannedOp& op);
  void on_image_done(size_t index, bool ok);
  // The CP's view of snapshot `name` (on the switch of `volume`), if any.
  std::optional<cp::SnapshotInfo> snapshot_info(size_t volume, const std::string& name);
  // Polls the CP for snapshots whose push failed (the checker stops judging them).
  void poll_snapshots();
  bool images_pending();
  void check_images();
  size_t volume_index(const std::string& name) const;
  cp::ControlPath& control_path_of_volume(size_t volume);
  void copy_block(size_t vseg, uint64_t block, uint8_t from, uint8_t to);
  uint64_t ios_completed() const;
  void fail(Violation v);
  std::vector<std::string> unit_notes(size_t volume, uint64_t unit) const;
  std::vector<std::string> vseg_notes(size_t vseg) const;
  void cp_notes(const std::string& switch_name, std::vector<std::string>* out) const;
  // Login state, discovered LUNs and outstanding I/Os of every host.
  void host_notes(std::vector<std::string>* out) const;
  std::string describe_update(const UpdateRecord& u) const;
  // Nested faults on one target: the target heals when the last one does.
  bool begin_fault(const std::string& key) { return active_[key]++ == 0; }
  bool end_fault(const std::string& key) { return --active_[key] == 0; }

  const TortureOptions& options_;
  TortureScenario scenario_;
  Placement placement_;
  DurabilityChecker durability_;
  RevocationChecker revocation_;
  ProgressChecker progress_;
  MirrorChecker mirror_;
  JournalChecker journal_;
  SnapshotChecker snapshots_;
  EventLog log_;
  std::unique_ptr<PcapWriter> capture_;
  std::unique_ptr<Fabric> fabric_;
  std::unique_ptr<IoTracker> tracker_;
  size_t next_op_ = 0;
  std::vector<const PlannedOp*> healing_;  // by kernel event argument
  std::map<std::string, int> active_;
  size_t faults_active_ = 0;
  std::vector<UpdateRecord> updates_;
  size_t updates_pending_ = 0;
  std::vector<MigrationRecord> migrations_;
  std::vector<std::optional<size_t>> migrating_;  // by VSEG: its running migration
  uint64_t migrations_refused_ = 0;
  uint64_t migrations_skipped_ = 0;
  uint64_t updates_skipped_ = 0;
  enum ImageSource : uint8_t { kNotAnImageSource, kSnapshotSource, kIncrementalBase };
  std::vector<ImageSource> image_locked_;  // by VSEG
  uint64_t images_refused_ = 0;
  uint64_t images_skipped_ = 0;
  // By VSEG: whole, a split asked, split (a merge planned), a merge asked.
  enum SplitState : uint8_t { kWhole, kSplitting, kSplit, kMerging };
  std::vector<SplitState> split_;
  std::vector<ReconfigRecord> reconfigs_;
  size_t reconfigs_pending_ = 0;  // accepted, not done
  size_t merges_planned_ = 0;     // splits done whose merge is not asked yet
  uint64_t reconfigs_refused_ = 0;
  uint64_t reconfigs_skipped_ = 0;
  std::vector<std::string> reconfig_failures_;
  uint64_t faults_injected_ = 0;
  uint64_t last_ios_ = 0;
  SimTime last_progress_ = 0;
  SimTime quiet_since_ = 0;  // since when no fault is active
  std::optional<Violation> violation_;
};

uint64_t Runner::ios_completed() const {
  uint64_t n = 0;
  for (const auto& h : fabric_->hosts())
    n += h->stats().ios_completed;
  return n;
}

void Runner::fail(Violation v) {
  if (violation_) return;
  log_.log(v.at, "VIOLATION {}: {}", v.invariant, v.summary);
  violation_ = std::move(v);
  fabric_->kernel().stop();
}

std::string Runner::describe_update(const UpdateRecord& u) const {
  const PlannedOp& op = *u.op;
  const std::string what =
      op.kind == FaultKind::kRangeMove
          ? fmt::format("move to its {}", op.lun == 0 ? "own place" : "shadow area")
          : fmt::format("flags {:#x}", op.flags);
  return fmt::format("  update of {} LBA [{}, +{}) ({}): requested {}, {}",
                     scenario_.topology.volumes[scenario_.vsegs[op.vseg].volume].name, op.lba,
                     op.count, what, u.requested,
                     u.done ? fmt::format("{} at {}", u.ok ? "done" : "refused", u.done)
                            : std::string("in progress"));
}

std::vector<std::string> Runner::unit_notes(size_t volume, uint64_t unit) const {
  std::vector<std::string> out;
  const uint64_t per_block = scenario_.topology.volumes[volume].block_size / kStampUnit;
  const uint64_t block = unit / per_block;
  for (const UpdateRecord& u : updates_) {
    const TortureVseg& v = scenario_.vsegs[u.op->vseg];
    if (v.volume == volume && block >= u.op->lba && block < u.op->lba + u.op->count) {
      if (out.empty()) out.push_back("restrictive updates covering the unit:");
      out.push_back(describe_update(u));
    }
  }
  for (const MigrationRecord& m : migrations_) {
    const TortureVseg& v = scenario_.vsegs[m.vseg];
    if (v.volume == volume && block >= v.volume_lba && block < v.volume_lba + v.blocks)
      out.push_back(describe_migration(m));
  }
  for (size_t s = 0; s < scenario_.vsegs.size(); ++s) {
    const TortureVseg& v = scenario_.vsegs[s];
    if (v.volume == volume && block >= v.volume_lba && block < v.volume_lba + v.blocks) {
      const uint8_t p = placement_.place_of(s, block - v.volume_lba);
      const PlaceElement at = v.place[p].locate(block - v.volume_lba);
      out.push_back(fmt::format(
          "the block lives in its {}: {} LUN {} LBA {}",
          p == 0 ? (v.place[p].striped() ? "own place (striped)" : "own place") : "shadow area",
          at.disk, at.lun, at.lba));
    }
  }
  return out;
}

void Runner::host_notes(std::vector<std::string>* out) const {
  static constexpr const char* kStates[] = {"offline", "flogi", "registering", "ready"};
  for (const auto& h : fabric_->hosts()) {
    out->push_back(fmt::format("host {}: login {}, {} LUNs discovered, {} I/Os outstanding",
                               h->name(), kStates[static_cast<size_t>(h->login_state())],
                               h->luns().size(), h->outstanding()));
  }
}

void Runner::cp_notes(const std::string& switch_name, std::vector<std::string>* out) const {
  const cp::CpStats c = fabric_->switch_named(switch_name)->virtualization_stats().cp;
  out->push_back(fmt::format(
      "cp of {}: updates {}, drain_waits {}, aborted_ios {}, stale_leg_aborts {}, "
      "queued_ios {}, completed_ios {}, dispatched {}, error_completions {}, dropped {}, "
      "vi_logins {}, vi_logins_pending {}",
      switch_name, c.updates, c.drain_waits, c.aborted_ios, c.stale_leg_aborts, c.queued_ios,
      c.completed_ios, c.dispatched, c.error_completions, c.dropped, c.vi_logins,
      c.vi_logins_pending));
}

std::vector<std::string> Runner::vseg_notes(size_t vseg) const {
  std::vector<std::string> out{"restrictive updates of the VSEG:"};
  for (const UpdateRecord& u : updates_)
    if (u.op->vseg == vseg) out.push_back(describe_update(u));
  for (const MigrationRecord& m : migrations_)
    if (m.vseg == vseg) out.push_back(describe_migration(m));
  for (const ReconfigRecord& r : reconfigs_)
    if (r.vseg == vseg) out.push_back(describe_reconfig(r));
  return out;
}

std::string Runner::describe_reconfig(const ReconfigRecord& r) const {
  const TortureVseg& v = scenario_.vsegs[r.vseg];
  return fmt::format(
      "  {} of {} VSEG LBA [{}, +{}) at LBA {}: requested {}, {}", r.merge ? "merge" : "split",
      scenario_.topology.volumes[v.volume].name, v.volume_lba, v.blocks, r.lba, r.requested,
      !r.done ? std::string("running") : fmt::format("{} at {}", r.ok ? "done" : "failed", r.done));
}

void Runner::split_vseg(const PlannedOp& op) {
  const TortureVseg& v = scenario_.vsegs[op.vseg];
  const VolumeConfig& vol = scenario_.topology.volumes[v.volume];
  Kernel& k = fabric_->kernel();
  const std::string what = fmt::format("split of {} VSEG LBA [{}, +{}) at LBA {}", vol.name,
                                       v.volume_lba, v.blocks, op.lba);
  auto skip = [&](const std::string& why) {
    ++reconfigs_skipped_;
    log_.log(k.now(), "RECONFIG skipped: {}: {}", what, why);
  };
  if (split_[op.vseg] != kWhole) return skip("the VSEG is split already");
  if (migrating_[op.vseg]) return skip("a migration of the VSEG runs");
  if (image_locked_[op.vseg] != kNotAnImageSource)
    return skip("the volume has a snapshot or an incremental");
  for (const UpdateRecord& u : updates_)
    if (!u.done && u.op->vseg == op.vseg)
      return skip("a restrictive update of the VSEG is pending");
  const uint8_t from = placement_.place_of(op.vseg, 0);
  for (uint64_t b = 1; b < v.blocks; ++b)
    if (placement_.place_of(op.vseg, b) != from)
      return skip("its blocks do not all live in one place (range moves)");
  const size_t record = reconfigs_.size();
  reconfigs_.push_back(ReconfigRecord{op.vseg, false, op.lba, k.now(), 0, false, op.duration_ns});
  // In force before the call, in case the CP ends it at once.
  ++reconfigs_pending_;
  split_[op.vseg] = kSplitting;
  log_.log(k.now(), "RECONFIG requested: {}", what);
  std::string error;
  if (!control_path_of(op.vseg).split_vseg(
          vol.name, op.lba, &error, [this, record](bool ok) { on_reconfig_done(record, ok); })) {
    // Nothing happened (no callback): not a violation.
    reconfigs_.pop_back();
    --reconfigs_pending_;
    split_[op.vseg] = kWhole;
    ++reconfigs_refused_;
    log_.log(k.now(), "RECONFIG refused: {}: {}", what, error);
    return;
  }
  ++faults_injected_;
}

void Runner::merge_vseg(uint64_t split_record) {
  const ReconfigRecord s = reconfigs_[split_record];
  const VolumeConfig& vol = scenario_.topology.volumes[scenario_.vsegs[s.vseg].volume];
  Kernel& k = fabric_->kernel();
  --merges_planned_;
  const size_t record = reconfigs_.size();
  reconfigs_.push_back(ReconfigRecord{s.vseg, true, s.lba, k.now(), 0, false, 0});
  ++reconfigs_pending_;
  split_[s.vseg] = kMerging;
  log_.log(k.now(), "RECONFIG requested: {}", describe_reconfig(reconfigs_[record]));
  std::string error;
  if (!control_path_of(s.vseg).merge_vsegs(
          vol.name, s.lba, &error, [this, record](bool ok) { on_reconfig_done(record, ok); })) {
    // The VSEG stays split in the CP: nothing else touches it for the rest
    // of the run.
    reconfigs_.pop_back();
    --reconfigs_pending_;
    split_[s.vseg] = kSplit;
    ++reconfigs_refused_;
    reconfig_failures_.push_back(fmt::format("merge of {} at LBA {}: {}", vol.name, s.lba, error));
    log_.log(k.now(), "RECONFIG refused: merge of {} at LBA {}: {}", vol.name, s.lba, error);
    return;
  }
}

void Runner::on_reconfig_done(size_t record, bool ok) {
  ReconfigRecord& r = reconfigs_[record];
  Kernel& k = fabric_->kernel();
  r.done = k.now();
  r.ok = ok;
  --reconfigs_pending_;
  log_.log(r.done, "RECONFIG {}{}", ok ? "done" : "failed", describe_reconfig(r));
  if (!ok) {
    // The CP changed nothing (its turn came and the request no longer
    // fitted, or the update did not apply): a split VSEG stays split, a
    // whole one whole.
    ++reconfigs_refused_;
    reconfig_failures_.push_back(describe_reconfig(r));
    split_[r.vseg] = r.merge ? kSplit : kWhole;
    return;
  }
  if (r.merge) {
    split_[r.vseg] = kWhole;
    return;
  }
  split_[r.vseg] = kSplit;
  ++merges_planned_;
  k.schedule_in<&Runner::merge_vseg>(r.merge_after, this, uint64_t{record});
}

std::string Runner::describe_migration(const MigrationRecord& m) const {
  const TortureVseg& v = scenario_.vsegs[m.vseg];
  return fmt::format(
      "  migration {} of {} LBA [{}, +{}) from its {} to its {}: requested {}, {} steps, {} "
      "blocks moved, {}",
      m.cp_id, scenario_.topology.volumes[v.volume].name, v.volume_lba, v.blocks,
      m.from == 0 ? "own place" : "shadow area", m.to == 0 ? "own place" : "shadow area",
      m.requested, m.steps, m.blocks_moved,
      !m.done ? fmt::format("running (last step at {})", m.last_step)
      : m.ok  ? fmt::format("done at {}", m.done)
              : fmt::format("failed at {}: {}", m.done, m.error));
}

cp::ControlPath& Runner::control_path_of(size_t vseg) {
  const VolumeConfig& vol = scenario_.topology.volumes[scenario_.vsegs[vseg].volume];
  return fabric_->switch_named(vol.switch_name)->virtualization()->control_path();
}

bool Runner::migrations_running() const {
  return std::any_of(migrations_.begin(), migrations_.end(),
                     [](const MigrationRecord& m) { return m.done == 0; });
}

void Runner::start_migration(const PlannedOp& op) {
  const TortureVseg& v = scenario_.vsegs[op.vseg];
  const VolumeConfig& vol = scenario_.topology.volumes[v.volume];
  Kernel& k = fabric_->kernel();
  const std::string what =
      fmt::format("migration of {} LBA [{}, +{})", vol.name, v.volume_lba, v.blocks);
  auto skip = [&](const std::string& why) {
    ++migrations_skipped_;
    log_.log(k.now(), "MIGRATION skipped: {}: {}", what, why);
  };
  if (migrating_[op.vseg]) return skip("another migration of the VSEG runs");
  for (const UpdateRecord& u : updates_)
    if (!u.done && u.op->vseg == op.vseg)
      return skip("a restrictive update of the VSEG is pending");
  const uint8_t from = placement_.place_of(op.vseg, 0);
  for (uint64_t b = 1; b < v.blocks; ++b)
    if (placement_.place_of(op.vseg, b) != from)
      return skip("its blocks do not all live in one place (range moves)");
  const auto to = static_cast<uint8_t>(1 - from);
  const VsegPlace& dst = v.place[to];
  const size_t record = migrations_.size();
  migrations_.push_back(
      MigrationRecord{op.vseg, from, to, 0, k.now(), k.now(), 0, false, 0, 0, {}});
  cp::MigrationRequest request;
  request.volume = vol.name;
  request.lba = v.volume_lba;
  request.disk_wwpn = fabric_->disk(dst.disk)->config().wwpn;
  request.lun = dst.lun;
  request.dest_lba = dst.lba;
  request.on_step = [this, record](uint64_t start, uint64_t blocks, bool moved) {
    on_migration_step(record, start, blocks, moved);
  };
  cp::ControlPath& cp = control_path_of(op.vseg);
  std::string error;
  if (!cp.start_migration(request, &error,
                          [this, record](bool ok) { on_migration_done(record, ok); })) {
    // Nothing happened (no step, no callback): not a violation.
    migrations_.pop_back();
    ++migrations_refused_;
    log_.log(k.now(), "MIGRATION refused: {} to its {}: {}", what,
             to == 0 ? "own place" : "shadow area", error);
    return;
  }
  ++faults_injected_;
  const std::vector<cp::MigrationProgress> all = cp.migrations();
  for (const cp::MigrationProgress& p : all)
    migrations_[record].cp_id = std::max(migrations_[record].cp_id, p.id);
  migrating_[op.vseg] = record;
  log_.log(k.now(), "MIGRATION started: {} to {} LUN {} LBA {} (its {}), CP migration {}", what,
           dst.disk, dst.lun, dst.lba, to == 0 ? "own place" : "shadow area",
           migrations_[record].cp_id);
}

void Runner::on_migration_step(size_t record, uint64_t start, uint64_t blocks, bool moved) {
  MigrationRecord& m = migrations_[record];
  m.last_step = fabric_->kernel().now();
  ++m.steps;
  const uint64_t end = std::min(start + blocks, scenario_.vsegs[m.vseg].blocks);
  for (uint64_t b = start; b < end; ++b) {
    if (moved) {
      placement_.set_place(m.vseg, b, m.to);
      placement_.clear_copying(m.vseg, b);
    } else {
      placement_.set_copying(m.vseg, b, m.to);
    }
  }
  if (moved) m.blocks_moved += end > start ? end - start : 0;
  log_.log(m.last_step, "MIGRATION {} of {} step: VSEG blocks [{}, +{}) {}", m.cp_id,
           scenario_.topology.volumes[scenario_.vsegs[m.vseg].volume].name, start, blocks,
           moved ? "moved to the destination" : "are the copy barrier");
}

void Runner::on_migration_done(size_t record, bool ok) {
  MigrationRecord& m = migrations_[record];
  m.done = fabric_->kernel().now();
  m.ok = ok;
  migrating_[m.vseg].reset();
  // A failed migration's barrier goes back to the source: no block is being
  // copied any more (done or failed).
  for (uint64_t b = 0; b < scenario_.vsegs[m.vseg].blocks; ++b)
    placement_.clear_copying(m.vseg, b);
  if (!ok) {
    for (const cp::MigrationProgress& p : control_path_of(m.vseg).migrations())
      if (p.id == m.cp_id) m.error = p.error;
    if (m.error.empty()) m.error = "no reason given";
  }
  log_.log(m.done, "MIGRATION {}{}", ok ? "done" : "failed", describe_migration(m));
}

size_t Runner::volume_index(const std::string& name) const {
  for (size_t i = 0; i < scenario_.topology.volumes.size(); ++i)
    if (scenario_.topology.volumes[i].name == name) return i;
  return 0;
}

cp::ControlPath& Runner::control_path_of_volume(size_t volume) {
  const VolumeConfig& vol = scenario_.topology.volumes[volume];
  return fabric_->switch_named(vol.switch_name)->virtualization()->control_path();
}

void Runner::take_image(const PlannedOp& op) {
  Kernel& k = fabric_->kernel();
  const bool snapshot = op.kind == FaultKind::kSnapshot;
  const std::string what =
      fmt::format("{} {} of {}", snapshot ? "snapshot" : "incremental", op.image, op.target);
  const size_t source = volume_index(op.target);
  const size_t image = volume_index(op.image);
  for (size_t s = 0; s < scenario_.vsegs.size(); ++s) {
    if (scenario_.vsegs[s].volume != source) continue;
    std::string why;
    // A snapshot may be taken while its source migrates (figure 33); an
    // incremental's base may not migrate.
    if (migrating_[s] && !snapshot) why = "a migration of a source VSEG runs";
    // The image has the scenario's layout of the source.
    if (split_[s] != kWhole) why = "a source VSEG is split";
    for (const UpdateRecord& u : updates_)
      if (!u.done && u.op->vseg == s) why = "a restrictive update of a source VSEG is pending";
    if (!why.empty()) {
      ++images_skipped_;
      log_.log(k.now(), "IMAGE skipped: {}: {}", what, why);
      return;
    }
  }
  cp::ControlPath& cp = control_path_of_volume(source);
  const size_t index = snapshots_.images().size();
  auto done = [this, index](bool ok) { on_image_done(index, ok); };
  std::string error;
  const bool accepted = snapshot ? cp.take_snapshot({op.target, op.image}, &error, done)
                                 : cp.take_incremental({op.target, op.image}, &error, done);
  if (!accepted) {
    ++images_refused_;
    log_.log(k.now(), "IMAGE refused: {}: {}", what, error);
    return;
  }
  ++faults_injected_;
  const VolumeConfig& vol = scenario_.topology.volumes[source];
  uint64_t blocks = 0;
  for (const VsegConfig& seg : vol.vsegs)
    blocks += seg.blocks;
  snapshots_.requested(op.kind, op.image, source, image, blocks * vol.block_size / kStampUnit,
                       k.now());
  for (size_t s = 0; s < scenario_.vsegs.size(); ++s)
    if (scenario_.vsegs[s].volume == source && image_locked_[s] != kIncrementalBase)
      image_locked_[s] = snapshot ? kSnapshotSource : kIncrementalBase;
  log_.log(k.now(), "IMAGE requested: {}", what);
}

void Runner::on_image_done(size_t index, bool ok) {
  Kernel& k = fabric_->kernel();
  if (index >= snapshots_.images().size()) return;
  const SnapshotChecker::Image& m = snapshots_.images()[index];
  std::string error;
  if (!ok && m.kind == FaultKind::kSnapshot) {
    if (auto info = snapshot_info(m.source, m.name)) error = info->error;
  }
  snapshots_.taken(index, ok, k.now(), error);
  log_.log(k.now(), "IMAGE {} {}: {}", ok ? "taken" : "failed", m.name, m.error);
}

std::optional<cp::SnapshotInfo> Runner::snapshot_info(size_t volume, const std::string& name) {
  for (const cp::SnapshotInfo& i : control_path_of_volume(volume).snapshots())
    if (i.name == name) return i;
  return std::nullopt;
}

void Runner::poll_snapshots() {
  for (size_t i = 0; i < snapshots_.images().size(); ++i) {
    const SnapshotChecker::Image& m = snapshots_.images()[i];
    if (m.kind != FaultKind::kSnapshot || m.state != SnapshotChecker::State::kTaken) continue;
    const std::optional<cp::SnapshotInfo> info = snapshot_info(m.source, m.name);
    if (info && !info->error.empty()) {
      snapshots_.broken(i, info->error);
      log_.log(fabric_->kernel().now(), "IMAGE broken: {}: {}", m.name, info->error);
    }
  }
}

// Snapshots not taken yet, or taken and still sweeping (and not broken);
// incrementals not taken yet.
bool Runner::images_pending() {
  poll_snapshots();
  for (const SnapshotChecker::Image& m : snapshots_.images()) {
    if (m.state == SnapshotChecker::State::kRequested) return true;
    if (m.kind != FaultKind::kSnapshot || m.state != SnapshotChecker::State::kTaken) continue;
    const std::optional<cp::SnapshotInfo> info = snapshot_info(m.source, m.name);
    if (!info || !info->swept) return true;
  }
  return false;
}

// The end of the run: every snapshot is taken and swept (or failed under
// faults, reported), its storage holds the source at its instant; every
// base is as it was when its first incremental was taken.
void Runner::check_images() {
  Kernel& k = fabric_->kernel();
  poll_snapshots();
  std::vector<bool> base_judged(scenario_.topology.volumes.size(), false);
  for (size_t i = 0; i < snapshots_.images().size() && !violation_; ++i) {
    const SnapshotChecker::Image& m = snapshots_.images()[i];
    const VolumeConfig& src = scenario_.topology.volumes[m.source];
    const VolumeConfig& img = scenario_.topology.volumes[m.image];
    uint64_t blocks = 0;
    for (const VsegConfig& seg : img.vsegs)
      blocks += seg.blocks;
    if (m.state == SnapshotChecker::State::kRequested) {
      fail(Violation{kSnapshot,
                     k.now(),
                     fmt::format("{} {} of {} was never taken (requested at {})",
                                 m.kind == FaultKind::kSnapshot ? "snapshot" : "incremental",
                                 m.name, src.name, m.requested),
                     {}});
      cp_notes(src.switch_name, &violation_->history);
      break;
    }
    if (m.state != SnapshotChecker::State::kTaken) continue;
    if (m.kind == FaultKind::kSnapshot) {
      const std::optional<cp::SnapshotInfo> info = snapshot_info(m.source, m.name);
      if (!info || !info->swept) {
        fail(Violation{kSnapshot,
                       k.now(),
                       fmt::format("snapshot {} of {} never finished its sweep (taken at {}: {} of "
                                   "{} blocks on its own storage), and the CP reports no error",
                                   m.name, src.name, m.done, info ? info->own_blocks : 0,
                                   info ? info->blocks : 0),
                       {}});
        cp_notes(src.switch_name, &violation_->history);
        break;
      }
      // Every block was pushed to the snapshot's own storage: read it there.
      auto locate = [&](uint64_t b) {
        uint64_t lba = 0;
        for (const VsegConfig& seg : img.vsegs) {
          if (b < lba + seg.blocks) return PlaceElement{seg.disk, seg.lun, seg.lba + (b - lba)};
          lba += seg.blocks;
        }
        return PlaceElement{};
      };
      const std::vector<UnitData> data =
          SnapshotChecker::read_volume(*fabric_, blocks, img.block_size, locate);
      if (auto v = snapshots_.judge(i, m.image, data, k.now(),
                                    fmt::format("snapshot {} of {}", m.name, src.name)))
        fail(*v);
    } else if (!base_judged[m.source]) {
      // The base, where the placement says each of its blocks lives (no
      // range move or migration touched it since).
      base_judged[m.source] = true;
      auto locate = [&](uint64_t b) {
        for (size_t s = 0; s < scenario_.vsegs.size(); ++s) {
          const TortureVseg& v = scenario_.vsegs[s];
          if (v.volume == m.source && b >= v.volume_lba && b < v.volume_lba + v.blocks)
            return v.place[placement_.place_of(s, b - v.volume_lba)].locate(b - v.volume_lba);
        }
        return PlaceElement{};
      };
      const std::vector<UnitData> data =
          SnapshotChecker::read_volume(*fabric_, blocks, src.block_size, locate);
      if (auto v = snapshots_.judge(i, m.source, data, k.now(),
                                    fmt::format("base {} of incremental {}", src.name, m.name)))
        fail(*v);
    }
  }
}

void Runner::copy_block(size_t vseg, uint64_t block, uint8_t from, uint8_t to) {
  const TortureVseg& v = scenario_.vsegs[vseg];
  const uint32_t bs = scenario_.topology.volumes[v.volume].block_size;
  const PlaceElement src = v.place[from].locate(block);
  const PlaceElement dst = v.place[to].locate(block);
  std::vector<uint8_t> data(bs);
  fabric_->disk(src.disk)->store(src.lun)->read(src.lba * bs, data);
  fabric_->disk(dst.disk)->mutable_store(dst.lun)->write(dst.lba * bs, data);
}

void Runner::on_update_done(size_t record, bool ok) {
  UpdateRecord& u = updates_[record];
  u.done = fabric_->kernel().now();
  u.ok = ok;
  --updates_pending_;
  const PlannedOp& op = *u.op;
  log_.log(u.done, "UPDATE {} {}", ok ? "done" : "refused", describe_update(u));
  if (!ok || op.kind != FaultKind::kRangeMove) return;
  const TortureVseg& v = scenario_.vsegs[op.vseg];
  const auto to = static_cast<uint8_t>(op.lun);
  for (uint64_t b = op.lba - v.volume_lba; b < op.lba - v.volume_lba + op.count; ++b) {
    const uint8_t from = placement_.place_of(op.vseg, b);
    if (from == to) continue;
    copy_block(op.vseg, b, from, to);
    placement_.set_place(op.vseg, b, to);
  }
}

void Runner::change_mapping(const PlannedOp& op) {
  const TortureVseg& v = scenario_.vsegs[op.vseg];
  const VolumeConfig& vol = scenario_.topology.volumes[v.volume];
  cp::MappingChange change;
  change.volume = vol.name;
  change.lba = op.lba;
  change.blocks = op.count;
  if (op.kind == FaultKind::kRangeMove) {
    const VsegPlace& to = v.place[op.lun];
    map::SimpleStorage storage;
    storage.lun = to.lun;
    storage.start_lba = to.lba;  // disk block of VSEG block 0
    change.storage = storage;
    change.disk_wwpn = fabric_->disk(to.disk)->config().wwpn;
  } else {
    change.flags = op.flags;
  }
  const size_t record = updates_.size();
  updates_.push_back(UpdateRecord{fabric_->kernel().now(), 0, false, &op});
  ++updates_pending_;
  log_.log(fabric_->kernel().now(), "UPDATE requested {}", describe_update(updates_.back()));
  Switch* sw = fabric_->switch_named(vol.switch_name);
  sw->virtualization()->control_path().change_mapping(
      change, [this, record](bool ok) { on_update_done(record, ok); });
}

void Runner::fire(const PlannedOp& op) {
  Kernel& k = fabric_->kernel();
  if (op.kind == FaultKind::kSnapshot || op.kind == FaultKind::kIncremental) {
    take_image(op);
    return;
  }
  if (op.kind == FaultKind::kVsegSplit) {
    split_vseg(op);
    return;
  }
  // The harness's model of a split VSEG is its scenario VSEG: nothing may
  // change its blocks' place or flags, or migrate it, until it is whole.
  if ((op.kind == FaultKind::kRangeMove || op.kind == FaultKind::kFlagChange ||
       op.kind == FaultKind::kMigration) &&
      split_[op.vseg] != kWhole) {
    ++(op.kind == FaultKind::kMigration ? migrations_skipped_ : updates_skipped_);
    log_.log(k.now(), "SKIP {} of {} LBA [{}, +{}): the VSEG is split", fault_kind_name(op.kind),
             scenario_.topology.volumes[scenario_.vsegs[op.vseg].volume].name, op.lba, op.count);
    return;
  }
  // The source of a snapshot may still migrate (figure 33), nothing else.
  const bool locked = op.kind == FaultKind::kMigration
                          ? image_locked_[op.vseg] == kIncrementalBase
                          : image_locked_[op.vseg] != kNotAnImageSource;
  if ((op.kind == FaultKind::kRangeMove || op.kind == FaultKind::kFlagChange ||
       op.kind == FaultKind::kMigration) &&
      locked) {
    ++(op.kind == FaultKind::kMigration ? migrations_skipped_ : updates_skipped_);
    log_.log(k.now(), "SKIP {} of {} LBA [{}, +{}): the volume has a snapshot or an incremental",
             fault_kind_name(op.kind),
             scenario_.topology.volumes[scenario_.vsegs[op.vseg].volume].name, op.lba, op.count);
    return;
  }
  if (op.kind == FaultKind::kMigration) {
    start_migration(op);
    return;
  }
  if ((op.kind == FaultKind::kRangeMove || op.kind == FaultKind::kFlagChange) &&
      migrating_[op.vseg]) {
    ++updates_skipped_;
    log_.log(k.now(), "SKIP {} of {} LBA [{}, +{}): a migration of its VSEG runs",
             fault_kind_name(op.kind),
             scenario_.topology.volumes[scenario_.vsegs[op.vseg].volume].name, op.lba, op.count);
    return;
  }
  ++faults_injected_;
  log_.log(k.now(), "FAULT {} {} port {} lun {} lba {} count {} for {} ns",
           fault_kind_name(op.kind), op.target, op.port, op.lun, op.lba, op.count, op.duration_ns);
  if (op.kind == FaultKind::kRangeMove || op.kind == FaultKind::kFlagChange) {
    change_mapping(op);
    return;
  }
  switch (op.kind) {
    // Disk faults hit the device: every port of a multi-ported disk.
    case FaultKind::kDiskFailure:
      if (begin_fault("offline:" + op.target)) {
        for (Disk* port : fabric_->ports_of(op.target))
          port->set_offline(true);
      }
      break;
    case FaultKind::kMediumError:
      begin_fault("medium:" + op.target);
      for (Disk* port : fabric_->ports_of(op.target))
        port->add_medium_error(op.lun, op.lba, op.count);
      break;
    case FaultKind::kSlowDisk:
      begin_fault("slow:" + op.target);
      for (Disk* port : fabric_->ports_of(op.target))
        port->set_extra_delay(op.delay_ns);
      break;
    case FaultKind::kHostLinkLoss:
      if (begin_fault("link:" + op.target)) {
        tracker_->abandon_host(fabric_->host(op.target)->port_id().value, k.now());
        fabric_->link_of(op.target)->set_up(false);
      }
      break;
    case FaultKind::kDiskLinkLoss:
      if (begin_fault(fmt::format("link:{}#{}", op.target, op.port)))
        fabric_->ports_of(op.target)[op.port]->link()->set_up(false);
      break;
    case FaultKind::kIslLoss:
      if (begin_fault("link:" + op.target)) fabric_->link_of(op.target)->set_up(false);
      break;
    default:
      break;
  }
  ++faults_active_;
  healing_.push_back(&op);
  k.schedule_in<&Runner::heal>(op.duration_ns, this, healing_.size() - 1);
}

void Runner::heal(uint64_t index) {
  const PlannedOp& op = *healing_[index];
  log_.log(fabric_->kernel().now(), "HEAL {} {}", fault_kind_name(op.kind), op.target);
  switch (op.kind) {
    case FaultKind::kDiskFailure:
      if (end_fault("offline:" + op.target)) {
        for (Disk* port : fabric_->ports_of(op.target))
          port->set_offline(false);
      }
      break;
    case FaultKind::kMediumError:
      if (end_fault("medium:" + op.target)) {
        for (Disk* port : fabric_->ports_of(op.target))
          port->clear_medium_errors();
      }
      break;
    case FaultKind::kSlowDisk:
      if (end_fault("slow:" + op.target)) {
        for (Disk* port : fabric_->ports_of(op.target))
          port->set_extra_delay(0);
      }
      break;
    case FaultKind::kDiskLinkLoss:
      if (end_fault(fmt::format("link:{}#{}", op.target, op.port)))
        fabric_->ports_of(op.target)[op.port]->link()->set_up(true);
      break;
    case FaultKind::kHostLinkLoss:
    case FaultKind::kIslLoss:
      if (end_fault("link:" + op.target)) fabric_->link_of(op.target)->set_up(true);
      break;
    default:
      break;
  }
  if (--faults_active_ == 0) quiet_since_ = fabric_->kernel().now();
}

void Runner::tick(uint64_t) {
  Kernel& k = fabric_->kernel();
  const uint64_t ios = ios_completed();
  while (next_op_ < scenario_.ops.size() && scenario_.ops[next_op_].at_ios <= ios &&
         ios < options_.ops)
    fire(scenario_.ops[next_op_++]);
  if (auto v = tracker_->violation()) fail(*v);
  if (auto v = progress_.check(k.now())) fail(*v);
  journal_.consume(*fabric_);
  if (ios != last_ios_) {
    last_ios_ = ios;
    last_progress_ = k.now();
  }
  // Deadlock: no host I/O has completed for long after every fault healed
  // (hosts time out, rediscover and retry well within this).
  const SimTime stall = 2 * scenario_.max_io_timeout_ns + kDrainTimeout + 200 * kNsPerMs;
  const SimTime since = std::max(last_progress_, quiet_since_);
  if (faults_active_ == 0 && updates_pending_ == 0 && reconfigs_pending_ == 0 &&
      k.now() > since + stall && ios < options_.ops) {
    Violation v{kProgress,
                k.now(),
                fmt::format("no host I/O has completed since {} (no fault active since {})",
                            last_progress_, quiet_since_),
                {}};
    host_notes(&v.history);
    fail(v);
  }
  // A migration makes a step (a restrictive update and a copy) at a time:
  // one that has made none for as long as an update may take, with no fault
  // active, is stuck.
  for (const MigrationRecord& m : migrations_) {
    if (!m.done && faults_active_ == 0 &&
        k.now() > std::max(m.last_step, quiet_since_) + kDrainTimeout + stall) {
      Violation v{kProgress, k.now(), "a migration is stuck", {describe_migration(m)}};
      cp::ControlPath& cp = control_path_of(m.vseg);
      for (const cp::MigrationProgress& p : cp.migrations()) {
        if (p.id != m.cp_id) continue;
        v.history.push_back(
            fmt::format("  the CP's progress: {} of {} blocks copied, {} writes met the barrier",
                        p.copied_blocks, p.blocks, p.barrier_writes));
      }
      const cp::CpStats stats = cp.stats();
      v.history.push_back(fmt::format("  the CP's copies: {} sent, {} failed, {} blocks copied",
                                      stats.copies, stats.copy_failures, stats.copied_blocks));
      cp_notes(scenario_.topology.volumes[scenario_.vsegs[m.vseg].volume].switch_name, &v.history);
      fail(v);
      break;
    }
  }
  // A split or merge is one restrictive update, run one at a time per CP
  // (in the order asked): one that has not ended long after the last fault
  // healed is stuck.
  for (const ReconfigRecord& r : reconfigs_) {
    if (!r.done && faults_active_ == 0 &&
        k.now() > std::max(r.requested, quiet_since_) + kDrainTimeout + stall) {
      Violation v{kReconfig,
                  k.now(),
                  fmt::format("a VSEG {} is stuck", r.merge ? "merge" : "split"),
                  {describe_reconfig(r)}};
      cp_notes(scenario_.topology.volumes[scenario_.vsegs[r.vseg].volume].switch_name, &v.history);
      fail(v);
      break;
    }
  }
  for (const UpdateRecord& u : updates_) {
    if (!u.done && k.now() > u.requested + kDrainTimeout + stall) {
      Violation v{
          kProgress, k.now(), "a restrictive update has not completed", {describe_update(u)}};
      cp_notes(scenario_.topology.volumes[scenario_.vsegs[u.op->vseg].volume].switch_name,
               &v.history);
      fail(v);
      break;
    }
  }
  if (!violation_) k.schedule_in<&Runner::tick>(kTick, this);
}

absl::StatusOr<TortureRunResult> Runner::run() {
  const auto wall_start = std::chrono::steady_clock::now();
  if (auto s = validate_topology(scenario_.topology); !s.ok()) {
    return absl::InternalError(fmt::format("seed {}: the generated topology is invalid: {}",
                                           options_.seed, std::string(s.message())));
  }
  FabricOptions fabric_options;
  const bool skip_drain = options_.broken.skip_drain;
  fabric_options.adjust_cp_config = [skip_drain](cp::CpConfig& c) {
    c.skip_drain_for_testing = skip_drain;
  };
  if (options_.broken.fp_ignores_revocation) {
    fabric_options.adjust_fp_config = [](fp::FastPathConfig& c) {
      c.ignore_remove_mapping_for_testing = true;
    };
  }
  auto fabric = Fabric::build(scenario_.topology, fabric_options);
  if (!fabric.ok()) return fabric.status();
  fabric_ = std::move(*fabric);
  journal_.attach(*fabric_);
  if (!options_.pcap_path.empty()) {
    auto writer = PcapWriter::open(options_.pcap_path);
    if (!writer.ok()) return writer.status();
    capture_ = std::move(*writer);
  }
  if (!options_.event_log_path.empty() && !log_.open(options_.event_log_path))
    return absl::InvalidArgumentError("cannot write " + options_.event_log_path);
  if (options_.broken.disk_late_writes) {
    for (const auto& d : fabric_->disks())
      d->set_late_writes_for_testing(kLateWrite);
  }
  tracker_ = std::make_unique<IoTracker>(scenario_, *fabric_, durability_, revocation_, progress_,
                                         mirror_, log_, capture_.get());
  tracker_->set_snapshot_checker(&snapshots_);
  tracker_->attach();
  durability_.set_excuse([this](size_t volume) {
    // A snapshot the CP reports broken (a push failed) is no longer exact.
    const SnapshotChecker::Image* m = snapshots_.image_of_volume(volume);
    if (!m || m->kind != FaultKind::kSnapshot) return false;
    poll_snapshots();
    return m->state == SnapshotChecker::State::kBroken;
  });
  Kernel& k = fabric_->kernel();
  k.schedule_in<&Runner::tick>(kTick, this);
  while (!violation_ && !tracker_->violation() && ios_completed() < options_.ops &&
         k.now() < options_.max_sim_ns) {
    k.run_until(k.now() + kNsPerMs);
  }
  // Stop issuing; let outstanding commands, updates and faults finish.
  for (const auto& h : fabric_->hosts())
    h->stop_workload();
  const SimTime deadline =
      k.now() + 2 * scenario_.max_io_timeout_ns + 2 * kDrainTimeout + 200 * kNsPerMs;
  auto busy = [&] {
    bool b = updates_pending_ > 0 || faults_active_ > 0 || migrations_running() ||
             reconfigs_running() || images_pending();
    for (const auto& h : fabric_->hosts())
      b = b || h->outstanding() > 0;
    return b;
  };
  // Running migrations may take longer: the tick reports one that stops
  // making steps; this bounds the wait in any case.
  const SimTime migration_deadline = deadline + kMigrationDrain;
  auto until = [&] {
    return migrations_running() || images_pending() ? migration_deadline : deadline;
  };
  while (!violation_ && !tracker_->violation() && busy() && k.now() < until())
    k.run_until(std::min(until(), k.now() + kNsPerMs));
  if (!violation_ && !tracker_->violation() && busy()) {
    Violation v{kProgress, k.now(), "the run did not drain", {}};
    for (const auto& h : fabric_->hosts())
      if (h->outstanding() > 0)
        v.history.push_back(
            fmt::format("{}: {} commands outstanding", h->name(), h->outstanding()));
    for (const UpdateRecord& u : updates_)
      if (!u.done) v.history.push_back(describe_update(u));
    for (const MigrationRecord& m : migrations_)
      if (!m.done) v.history.push_back(describe_migration(m));
    for (const ReconfigRecord& rc : reconfigs_)
      if (!rc.done) v.history.push_back(describe_reconfig(rc));
    if (reconfigs_running()) v.invariant = kReconfig;
    if (migrations_running()) v.invariant = kMigration;
    // Only a snapshot not taken or not swept by now: check_images() says which.
    bool others =
        updates_pending_ > 0 || faults_active_ > 0 || migrations_running() || reconfigs_running();
    for (const auto& h : fabric_->hosts())
      others = others || h->outstanding() > 0;
    if (!others) check_images();
    fail(v);
  }
  if (auto v = tracker_->violation(); v && !violation_) fail(*v);
  if (!violation_) {
    tracker_->end_open_writes();
    if (auto v = mirror_.check(*fabric_, k.now())) fail(*v);
    if (!violation_) {
      if (auto v = journal_.check(*fabric_, mirror_, k.now())) fail(*v);
    }
    if (!violation_) check_images();
  }
  if (capture_) {
    if (auto s = capture_->close(); !s.ok()) return s;
  }

  TortureRunResult r;
  r.seed = options_.seed;
  r.ios_completed = ios_completed();
  for (const auto& h : fabric_->hosts()) {
    const HostStats& s = h->stats();
    r.io_errors += s.check_conditions + s.other_status + s.timeouts;
    r.host_verify_errors += s.verify_errors;
  }
  r.faults_injected = faults_injected_;
  for (const TortureVseg& v : scenario_.vsegs) {
    r.striped_vsegs += v.place[0].striped() ? 1 : 0;
    r.mirrored_vsegs += v.place[0].split_writes() ? 1 : 0;
    r.journaled_vsegs += v.place[0].journaled() ? 1 : 0;
  }
  r.journal_records = journal_.records_read();
  r.journal_blocks_compared = journal_.blocks_compared();
  r.mirror_blocks_compared = mirror_.blocks_compared();
  for (const DiskConfig& d : scenario_.topology.disks)
    r.multipath_disks += d.more_ports.empty() ? 0 : 1;
  for (const auto& sw : fabric_->switches()) {
    if (!sw->virtualization()) continue;
    const cp::CpStats cp = sw->virtualization_stats().cp;
    r.spans_stripe_units += cp.faults[static_cast<size_t>(fpapi::FaultKind::kSpansStripeUnits)];
    r.serializations += cp.faults[static_cast<size_t>(fpapi::FaultKind::kSerialization)];
    r.path_failovers += cp.path_failovers;
    r.journal_swaps += cp.journal_swaps;
    r.journals_recycled += cp.journals_recycled;
  }
  for (const UpdateRecord& u : updates_)
    r.updates += u.ok ? 1 : 0;
  r.updates_skipped = updates_skipped_;
  r.migrations_refused = migrations_refused_;
  r.migrations_skipped = migrations_skipped_;
  for (const MigrationRecord& m : migrations_) {
    ++r.migrations_started;
    r.migrations_done += m.done && m.ok ? 1 : 0;
    if (m.done && !m.ok) {
      ++r.migrations_failed;
      r.migration_failures.push_back(fmt::format(
          "{}: {}", scenario_.topology.volumes[scenario_.vsegs[m.vseg].volume].name, m.error));
    }
    for (const cp::MigrationProgress& p : control_path_of(m.vseg).migrations())
      if (p.id == m.cp_id) {
        r.migration_blocks_copied += p.copied_blocks;
        r.migration_barrier_writes += p.barrier_writes;
      }
  }
  for (size_t i = 0; i < snapshots_.images().size(); ++i) {
    const SnapshotChecker::Image& m = snapshots_.images()[i];
    const bool snapshot = m.kind == FaultKind::kSnapshot;
    if (m.state == SnapshotChecker::State::kTaken || m.state == SnapshotChecker::State::kBroken)
      ++(snapshot ? r.snapshots_taken : r.incrementals_taken);
    if (m.state == SnapshotChecker::State::kFailed || m.state == SnapshotChecker::State::kBroken) {
      ++r.images_failed;
      r.image_failures.push_back(fmt::format("{}: {}", m.name, m.error));
    }
    if (snapshot) {
      const std::optional<cp::SnapshotInfo> info = snapshot_info(m.source, m.name);
      r.snapshots_swept += info && info->swept ? 1 : 0;
    }
  }
  for (const ReconfigRecord& rc : reconfigs_) {
    if (rc.done && rc.ok) ++(rc.merge ? r.vseg_merges : r.vseg_splits);
  }
  r.reconfigs_refused = reconfigs_refused_;
  r.reconfigs_skipped = reconfigs_skipped_;
  r.reconfig_failures = reconfig_failures_;
  r.images_refused = images_refused_;
  r.images_skipped = images_skipped_;
  r.read_only_writes_refused = snapshots_.refused_writes();
  r.image_units_judged = snapshots_.units_judged();
  for (const auto& sw : fabric_->switches()) {
    if (!sw->virtualization()) continue;
    const cp::CpStats& cp = sw->virtualization()->control_path().stats();
    r.cow_pushes += cp.cow_pushes;
    r.sweep_pushes += cp.sweep_pushes;
    r.redirects_on_write += cp.redirects_on_write;
  }
  r.units_checked = durability_.units_checked();
  r.downstream_checked = tracker_->counters().downstream;
  r.short_reads = tracker_->counters().short_reads;
  r.events = k.events_processed();
  r.sim_ns = k.now();
  for (size_t i = 0; i < kFaultKinds; ++i)
    if (scenario_.enabled[i]) r.fault_kinds.push_back(fault_kind_name(static_cast<FaultKind>(i)));
  r.scenario = describe_scenario(scenario_);
  r.replay_command =
      fmt::format("splitpath torture --seed {} --ops {}", options_.seed, options_.ops);
  if (options_.all_fault_kinds) r.replay_command += " --all-faults";
  if (!options_.without_kinds.empty())
    r.replay_command += " --without " + fmt::format("{}", fmt::join(options_.without_kinds, ","));
  if (options_.broken.skip_drain) r.replay_command += " --break drain";
  if (options_.broken.fp_ignores_revocation) r.replay_command += " --break fp-revocation";
  if (options_.broken.disk_late_writes) r.replay_command += " --break disk-ordering";
  if (violation_) r.violations.push_back(*violation_);
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

}  // namespace

absl::StatusOr<TortureRunResult> run_torture(const TortureOptions& options) {
  Runner runner(options, generate_scenario(options.seed, options.ops, options.all_fault_kinds,
                                           options.without_kinds));
  return runner.run();
}

}  // namespace splitpath::sim::torture
