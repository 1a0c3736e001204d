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
//
// Mirror sides: the harness asks the CP to fail a side of a plain mirrored
// VSEG (cp::ControlPath::fail_mirror_side: DEAD, the FPs split writes to the
// live sides only) under load and, some milliseconds after the failure is
// done, to return it (return_mirror_side: RESYNC while the extents whose age
// differs are copied, then ALIVE). Mirrors take no range move, flag change,
// migration, split or image, so the harness's model needs no change: the
// durability checker judges every read (a read served by a side that is not
// ALIVE would return stale data), the mirror checker compares the ALIVE
// sides at the end (a returned side must match). A return the CP refuses
// while the mirror is busy (a state change pending, another side
// resynchronizing) is asked again; a failed resync is asked again a few
// times. Every failure asked for and every resync the CPs started (asked
// for, or when a side's disk came back) must end: the drain waits for them,
// one that makes no progress long after the last fault healed is stuck.
//
// The DVE cluster (kind dve_cluster): an OplockCluster on the fabric's
// kernel, beside the fabric (it sends no frame). Its requests and faults fire
// as the host I/Os complete, like the planned operations; a DVE that is not
// online is asked nothing (skipped, counted). A DVE fenced by an eviction
// stays down until someone boots it: the harness boots every offline DVE
// whenever no partition is active (a crashed one when its crash heals).
// After the fabric's end checks, the run goes on until every cluster fault
// has healed and the cluster has settled, then judges it.
#include "fabric_sim/torture/torture_run.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include "absl/status/status.h"
#include "fabric_sim/cluster/oplock_cluster.h"
#include "fabric_sim/node/block_stamp.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/replication_site.h"
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
#include "splitpath/map/journal_record.h"
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
// How long the DVE cluster may take to settle once its last fault healed:
// fences (a lease), boots (waiting for caretakers), recoveries and retries.
constexpr SimTime kDveSettle = 200 * kNsPerMs;

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

// One mirror side failure the harness asked for, and its return.
struct MirrorSideRecord {
  enum Phase : uint8_t { kFailing, kDead, kReturning, kEnded };
  size_t vseg = 0;
  uint32_t side = 0;
  SimTime return_after = 0;  // after the failure's done
  SimTime requested = 0;     // the failure
  SimTime failed = 0;        // its done; 0: not yet
  bool dead = false;         // the failure's done(true)
  Phase phase = kFailing;
  uint32_t refusals = 0;         // returns refused (asked again)
  uint32_t resyncs = 0;          // returns accepted
  SimTime return_requested = 0;  // the last accepted return
  SimTime returned = 0;          // its done; 0: not yet
  bool alive = false;            // the last return ended ALIVE
  std::string outcome;           // why it ended otherwise
};

// A resync a CP reports running: since when it has copied nothing more.
struct ResyncWatch {
  uint64_t copied_extents = 0;
  SimTime since = 0;
  bool seen = false;
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

// A 64-bit digest of a block (FNV-1a over 8-byte words): what a replication
// barrier keeps of each replicated block until its epoch is applied.
uint64_t block_digest(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  return h;
}

// The replication (kind replication) the harness started, and what it
// checks: the replicated volumes' digests at each barrier, kept until the
// remote applies the epoch (or a later one).
struct ReplicationRun {
  std::unique_ptr<ReplicationSite> site;
  SimTime started = 0;
  struct Capture {
    SimTime at = 0;
    std::vector<std::vector<uint64_t>> digests;  // per replicated volume, per volume block
  };
  std::map<uint64_t, Capture> captures;  // by epoch
  uint64_t epochs_checked = 0;
  uint64_t blocks_compared = 0;
  uint64_t blocks_excused = 0;  // a failed write touched them
  SimTime max_lag = 0;
  // The last shipped epoch's journals, as read (violation history).
  std::vector<std::string> shipped_notes;
};

// How journal `j`'s records read in the staging area `bytes`: from its first
// block while the sequence goes on (as the remote array reads them), and
// block by block past holes (a header never written, or its sequence
// skipped: as the journal checker reads them).
std::string describe_staged(const cp::StagedJournal& j, const std::vector<uint8_t>& bytes) {
  uint64_t in_order = 0, all = 0, at = 0, hole_at = 0;
  bool hole = false;
  int64_t last = -1;
  while (at < j.blocks) {
    map::JournalRecordHeader h;
    if (!map::decode_journal_header(bytes.data() + at * j.block_size, &h) ||
        h.journal_id != j.journal_id || h.block_size != j.block_size || h.blocks == 0 ||
        h.blocks > j.blocks - at - 1 || static_cast<int64_t>(h.sequence) <= last) {
      ++at;
      continue;
    }
    if (!hole && h.sequence == in_order) {
      ++in_order;
    } else if (!hole) {
      hole = true;
      hole_at = h.sequence;
    }
    ++all;
    last = h.sequence;
    at += 1 + h.blocks;
  }
  return fmt::format(
      "journal {} of {} (epoch {}, staging LBA {}): {} records in sequence from the start{}, {} "
      "in all",
      j.journal_id, j.volume, j.epoch, j.staging_lba, in_order,
      hole ? fmt::format(", then a hole (the next record is sequence {})", hole_at) : "", all);
}

// The DVE cluster (kind dve_cluster) the harness runs, and what it asked.
struct DveClusterRun {
  std::unique_ptr<OplockCluster> cluster;
  size_t next_op = 0;
  struct Update {
    size_t op = 0;  // index in TortureDveCluster::ops
    SimTime requested = 0;
    uint64_t lost = 0;  // the DVE's crashes and fences when asked
    SimTime done = 0;   // 0: not yet
  };
  std::vector<Update> updates;
  std::vector<uint64_t> crashes;  // by DVE - 1: crashes the harness made
  std::vector<bool> crashed;      // by DVE - 1: down until its crash heals
  std::vector<bool> booting;      // by DVE - 1: boot() asked, not online yet
  uint32_t partitions = 0;        // active
  std::multiset<uint32_t> losses;
  std::multiset<SimTime> jitters;
  size_t faults_active = 0;
  uint64_t skipped = 0;             // requests to a DVE that was not online
  std::deque<std::string> history;  // the last requests and faults
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
        split_(scenario_.vsegs.size(), kWhole),
        mirror_side_of_(scenario_.vsegs.size()) {
    for (const TortureVseg& v : scenario_.vsegs)
      plain_mirrors_ = plain_mirrors_ || v.place[0].mirrored();
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
  void fail_mirror_side(const PlannedOp& op);
  void on_mirror_side_failed(size_t record, bool ok);
  void return_mirror_side(uint64_t record);
  void on_mirror_side_returned(size_t record, bool ok);
  std::string describe_mirror_side(const MirrorSideRecord& m) const;
  // The CP's report of the mirror of `vseg`, if it has one.
  std::optional<cp::MirrorReport> mirror_report(size_t vseg);
  // Every mirror report of every CP.
  std::vector<cp::MirrorReport> all_mirrors() const;
  // A failure or a return asked for has not ended, or a CP resync runs.
  bool mirror_sides_busy() const;
  bool resyncs_running() const;
  // The tick's watch: a failure that never ends, a resync that stops copying.
  void watch_mirror_sides(SimTime stall);
  // The end of the run: every failure asked for and every resync ended.
  void check_mirror_sides();
  void mirror_notes(std::vector<std::string>* out) const;
  void start_replication(const PlannedOp& op);
  // At a barrier (the group paused): the replicated volumes' digests.
  void capture_replicas(uint64_t epoch);
  // The initial copy, at the first barrier (the group paused): each image
  // becomes its volume's data device. Epoch 0 is not applied: its journals
  // miss the records of those sealed before the start (released by the
  // journal checker), so a block's last record in them may be older than
  // the data device (seed 4 --all-faults: another port's journal, full and
  // released before the start, held the newer write). Epochs from 1 on hold
  // every record after their previous barrier.
  void initial_copy();
  // Epoch `epoch` applied: each remote image against its barrier's capture.
  void check_replicas(uint64_t epoch);
  std::optional<cp::ReplicationStatus> replication_status() const;
  // After the drain: the remote catches up; every closed epoch but the last
  // one must be applied.
  void finish_replication();
  void start_dve_cluster();
  // BrokenMechanisms::dve_ack_keeps_cache: an acquire reaching a DVE that
  // caches the oplock is acked at once, the DVE left as it was.
  void break_dve_acks();
  // The tick's part: fires the cluster's due requests and faults, boots
  // offline DVEs, reports the cluster's violations.
  void dve_tick(uint64_t ios);
  void fire_dve(size_t index);
  void dve_request(const DveClusterOp& op, size_t index);
  void heal_dve(uint64_t index);
  void boot_offline_dves();
  uint64_t dve_lost(uint32_t dve) const;
  void dve_log(std::string line);
  // After the fabric's end checks: every fault healed, the cluster settles,
  // then every update of a DVE never crashed nor fenced since must have ended.
  void finish_dve_cluster();
  // Every DVE online, every update of a DVE neither crashed nor fenced since ended.
  bool dve_settled();
  void check_dve_cluster(bool settled);
  void dve_notes(std::vector<std::string>* out) const;
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
  std::vector<MirrorSideRecord> mirror_sides_;
  std::vector<std::optional<size_t>> mirror_side_of_;  // by VSEG: its record under way
  uint64_t mirror_sides_refused_ = 0;
  uint64_t mirror_sides_skipped_ = 0;
  std::vector<std::string> mirror_side_failures_;
  std::optional<ReplicationRun> replication_;
  std::optional<DveClusterRun> dve_;
  uint64_t replications_refused_ = 0;
  std::vector<std::string> replication_failures_;
  std::map<std::tuple<std::string, uint32_t, size_t>, ResyncWatch> resync_watch_;
  bool plain_mirrors_ = false;
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

std::string Runner::describe_mirror_side(const MirrorSideRecord& m) const {
  const TortureVseg& v = scenario_.vsegs[m.vseg];
  const PlaceElement& side = v.place[0].sides[m.side];
  std::string state;
  switch (m.phase) {
    case MirrorSideRecord::kFailing:
      state = "failing";
      break;
    case MirrorSideRecord::kDead:
      state = fmt::format("DEAD at {}, its return asked at {}", m.failed,
                          std::max(m.failed + m.return_after, m.return_requested));
      break;
    case MirrorSideRecord::kReturning:
      state = fmt::format("DEAD at {}, returning since {}", m.failed, m.return_requested);
      break;
    case MirrorSideRecord::kEnded:
      state = m.alive ? fmt::format("DEAD at {}, ALIVE again at {}", m.failed, m.returned)
                      : fmt::format("ended: {}", m.outcome);
      break;
  }
  return fmt::format(
      "  mirror side {} ({} LUN {} LBA {}) of {} VSEG LBA [{}, +{}): failure asked at {}, {} "
      "resyncs asked, {} returns refused; {}",
      m.side, side.disk, side.lun, side.lba, scenario_.topology.volumes[v.volume].name,
      v.volume_lba, v.blocks, m.requested, m.resyncs, m.refusals, state);
}

std::optional<cp::MirrorReport> Runner::mirror_report(size_t vseg) {
  const TortureVseg& v = scenario_.vsegs[vseg];
  const std::string& volume = scenario_.topology.volumes[v.volume].name;
  for (const cp::MirrorReport& m : control_path_of(vseg).mirrors())
    if (m.volume == volume && m.lba == v.volume_lba) return m;
  return std::nullopt;
}

std::vector<cp::MirrorReport> Runner::all_mirrors() const {
  std::vector<cp::MirrorReport> out;
  for (const auto& sw : fabric_->switches()) {
    if (!sw->virtualization()) continue;
    // A DVE fenced or booting again has a stale copy of a shared mirror's
    // side states until it applies the record.
    for (cp::MirrorReport& m : sw->virtualization()->control_path().mirrors())
      if (m.current) out.push_back(std::move(m));
  }
  return out;
}

bool Runner::resyncs_running() const {
  if (!plain_mirrors_) return false;
  for (const cp::MirrorReport& m : all_mirrors())
    for (const cp::ResyncProgress& p : m.resyncs)
      if (p.state == cp::ResyncProgress::State::kRunning) return true;
  return false;
}

bool Runner::mirror_sides_busy() const {
  for (const MirrorSideRecord& m : mirror_sides_)
    if (m.phase != MirrorSideRecord::kEnded) return true;
  return resyncs_running();
}

void Runner::mirror_notes(std::vector<std::string>* out) const {
  for (const MirrorSideRecord& m : mirror_sides_)
    out->push_back(describe_mirror_side(m));
  for (const cp::MirrorReport& m : all_mirrors()) {
    std::string sides;
    for (const cp::MirrorSideReport& s : m.sides) {
      sides += fmt::format(" {}{}",
                           s.state == map::SideState::kAlive  ? "ALIVE"
                           : s.state == map::SideState::kDead ? "DEAD"
                                                              : "RESYNC",
                           s.why.empty() ? "" : " (" + s.why + ")");
    }
    out->push_back(fmt::format("  the CP's mirror {} VSEG {} LBA {}: generation {}, sides{}",
                               m.volume, m.vseg_id, m.lba, m.generation, sides));
    for (const cp::ResyncProgress& p : m.resyncs) {
      out->push_back(fmt::format(
          "    resync of side {} started {}: {}, {} of {} stale extents copied ({} blocks)", p.side,
          p.started_ns,
          p.state == cp::ResyncProgress::State::kRunning ? std::string("running")
          : p.state == cp::ResyncProgress::State::kDone
              ? fmt::format("done at {}", p.finished_ns)
              : fmt::format("failed at {}: {}", p.finished_ns, p.error),
          p.copied_extents, p.stale_extents, p.copied_blocks));
    }
  }
}

void Runner::fail_mirror_side(const PlannedOp& op) {
  const TortureVseg& v = scenario_.vsegs[op.vseg];
  const VolumeConfig& vol = scenario_.topology.volumes[v.volume];
  Kernel& k = fabric_->kernel();
  const std::string what = fmt::format("failure of mirror side {} of {} VSEG LBA [{}, +{})",
                                       op.port, vol.name, v.volume_lba, v.blocks);
  if (mirror_side_of_[op.vseg]) {
    ++mirror_sides_skipped_;
    log_.log(k.now(), "MIRROR skipped: {}: a failure or return of a side of the VSEG is under way",
             what);
    return;
  }
  const size_t record = mirror_sides_.size();
  MirrorSideRecord m;
  m.vseg = op.vseg;
  m.side = op.port;
  m.return_after = op.duration_ns;
  m.requested = k.now();
  mirror_sides_.push_back(m);
  // In force before the call, in case the CP ends it at once.
  mirror_side_of_[op.vseg] = record;
  log_.log(k.now(), "MIRROR requested: {}", what);
  std::string error;
  if (!control_path_of(op.vseg).fail_mirror_side(
          vol.name, op.lba, op.port, &error,
          [this, record](bool ok) { on_mirror_side_failed(record, ok); })) {
    // Nothing happened (the side is DEAD already, or the last ALIVE one).
    mirror_sides_.pop_back();
    mirror_side_of_[op.vseg].reset();
    ++mirror_sides_refused_;
    log_.log(k.now(), "MIRROR refused: {}: {}", what, error);
    return;
  }
  ++faults_injected_;
}

void Runner::on_mirror_side_failed(size_t record, bool ok) {
  MirrorSideRecord& m = mirror_sides_[record];
  Kernel& k = fabric_->kernel();
  m.failed = k.now();
  if (!ok) {
    m.phase = MirrorSideRecord::kEnded;
    m.outcome = "the failure did not apply";
    mirror_side_of_[m.vseg].reset();
    mirror_side_failures_.push_back(describe_mirror_side(m));
    log_.log(k.now(), "MIRROR failed:{}", describe_mirror_side(m));
    return;
  }
  m.dead = true;
  m.phase = MirrorSideRecord::kDead;
  log_.log(k.now(), "MIRROR side DEAD:{}", describe_mirror_side(m));
  k.schedule_in<&Runner::return_mirror_side>(m.return_after, this, uint64_t{record});
}

void Runner::return_mirror_side(uint64_t record) {
  constexpr uint32_t kMaxRefusals = 100;
  constexpr SimTime kRetry = 5 * kNsPerMs;
  MirrorSideRecord& m = mirror_sides_[record];
  Kernel& k = fabric_->kernel();
  const TortureVseg& v = scenario_.vsegs[m.vseg];
  const VolumeConfig& vol = scenario_.topology.volumes[v.volume];
  auto end = [&](const std::string& why) {
    m.phase = MirrorSideRecord::kEnded;
    m.outcome = why;
    mirror_side_of_[m.vseg].reset();
    log_.log(k.now(), "MIRROR return ends:{}", describe_mirror_side(m));
  };
  const std::optional<cp::MirrorReport> report = mirror_report(m.vseg);
  if (!report || m.side >= report->sides.size()) {
    ++mirror_sides_refused_;
    mirror_side_failures_.push_back(describe_mirror_side(m) + ": the CP has no such mirror");
    return end("the CP has no such mirror");
  }
  if (report->sides[m.side].state == map::SideState::kAlive) return end("ALIVE already");
  std::string error;
  m.phase = MirrorSideRecord::kReturning;
  m.return_requested = k.now();
  if (control_path_of(m.vseg).return_mirror_side(
          vol.name, v.volume_lba, m.side, &error,
          [this, record](bool ok) { on_mirror_side_returned(static_cast<size_t>(record), ok); })) {
    ++m.resyncs;
    log_.log(k.now(), "MIRROR return asked:{}", describe_mirror_side(m));
    return;
  }
  // Refused while the mirror is busy (a state change pending, another side
  // resynchronizing, or this one still RESYNC): asked again a bit later.
  m.phase = MirrorSideRecord::kDead;
  log_.log(k.now(), "MIRROR return refused: {}:{}", error, describe_mirror_side(m));
  if (++m.refusals < kMaxRefusals) {
    k.schedule_in<&Runner::return_mirror_side>(kRetry, this, record);
    return;
  }
  ++mirror_sides_refused_;
  mirror_side_failures_.push_back(describe_mirror_side(m) + ": " + error);
  end("its return was refused: " + error);
}

void Runner::on_mirror_side_returned(size_t record, bool ok) {
  constexpr uint32_t kMaxResyncs = 3;
  MirrorSideRecord& m = mirror_sides_[record];
  Kernel& k = fabric_->kernel();
  m.returned = k.now();
  m.alive = ok;
  if (ok) {
    m.phase = MirrorSideRecord::kEnded;
    mirror_side_of_[m.vseg].reset();
    log_.log(k.now(), "MIRROR side ALIVE:{}", describe_mirror_side(m));
    return;
  }
  // The resync failed (a copy failed under faults, or the side failed again):
  // the side is DEAD again, and asked back again some time later.
  log_.log(k.now(), "MIRROR resync failed:{}", describe_mirror_side(m));
  if (m.resyncs < kMaxResyncs) {
    m.phase = MirrorSideRecord::kDead;
    k.schedule_in<&Runner::return_mirror_side>(m.return_after, this, uint64_t{record});
    return;
  }
  m.phase = MirrorSideRecord::kEnded;
  m.outcome = fmt::format("{} resyncs failed", m.resyncs);
  mirror_side_of_[m.vseg].reset();
}

void Runner::watch_mirror_sides(SimTime stall) {
  if (!plain_mirrors_ || violation_) return;
  Kernel& k = fabric_->kernel();
  const SimTime bound = kDrainTimeout + stall;
  for (const MirrorSideRecord& m : mirror_sides_) {
    if (m.phase == MirrorSideRecord::kFailing && faults_active_ == 0 &&
        k.now() > std::max(m.requested, quiet_since_) + bound) {
      Violation v{kResync, k.now(), "a mirror side failure never ended", {}};
      mirror_notes(&v.history);
      cp_notes(scenario_.topology.volumes[scenario_.vsegs[m.vseg].volume].switch_name, &v.history);
      fail(v);
      return;
    }
  }
  for (const auto& sw : fabric_->switches()) {
    if (!sw->virtualization()) continue;
    for (const cp::MirrorReport& m : sw->virtualization()->control_path().mirrors()) {
      // The data must stay readable somewhere: the CP never lets the last
      // ALIVE side of a mirror die.
      if (std::none_of(m.sides.begin(), m.sides.end(), [](const cp::MirrorSideReport& s) {
            return s.state == map::SideState::kAlive;
          })) {
        Violation v{kResync,
                    k.now(),
                    fmt::format("mirror {} VSEG {} LBA {} has no ALIVE side left (generation {})",
                                m.volume, m.vseg_id, m.lba, m.generation),
                    {}};
        mirror_notes(&v.history);
        cp_notes(sw->name(), &v.history);
        fail(v);
        return;
      }
      for (size_t i = 0; i < m.resyncs.size(); ++i) {
        const cp::ResyncProgress& p = m.resyncs[i];
        const auto key = std::make_tuple(sw->name(), m.vseg_id, i);
        if (p.state != cp::ResyncProgress::State::kRunning) {
          resync_watch_.erase(key);
          continue;
        }
        ResyncWatch& w = resync_watch_[key];
        if (!w.seen || w.copied_extents != p.copied_extents) {
          w = ResyncWatch{p.copied_extents, k.now(), true};
          continue;
        }
        if (faults_active_ == 0 && k.now() > std::max(w.since, quiet_since_) + bound) {
          Violation v{
              kResync,
              k.now(),
              fmt::format("the resync of side {} of {} VSEG LBA {} is stuck: {} of {} "
                          "stale extents copied, none since {}",
                          p.side, m.volume, m.lba, p.copied_extents, p.stale_extents, w.since),
              {}};
          mirror_notes(&v.history);
          cp_notes(sw->name(), &v.history);
          fail(v);
          return;
        }
      }
    }
  }
}

void Runner::check_mirror_sides() {
  if (!plain_mirrors_) return;
  Kernel& k = fabric_->kernel();
  for (const MirrorSideRecord& m : mirror_sides_) {
    if (m.phase == MirrorSideRecord::kEnded) continue;
    Violation v{kResync,
                k.now(),
                fmt::format("a mirror side failure or return asked for never ended:{}",
                            describe_mirror_side(m)),
                {}};
    mirror_notes(&v.history);
    fail(v);
    return;
  }
  for (const cp::MirrorReport& m : all_mirrors()) {
    // Every fault has healed: a side that died because its disk left the
    // fabric is back (its disk is), resynchronized by the CP by itself (once
    // no other side of the VSEG resynchronizes or changes state).
    for (size_t i = 0; i < m.sides.size(); ++i) {
      const cp::MirrorSideReport& side = m.sides[i];
      if (side.state != map::SideState::kDead || side.why != "its disk left the fabric") continue;
      Violation v{kResync,
                  k.now(),
                  fmt::format("side {} of mirror {} VSEG LBA {} is still DEAD at the end because "
                              "its disk left the fabric, though every fault healed",
                              i, m.volume, m.lba),
                  {}};
      mirror_notes(&v.history);
      fail(v);
      return;
    }
    for (const cp::ResyncProgress& p : m.resyncs) {
      if (p.state != cp::ResyncProgress::State::kRunning) continue;
      Violation v{
          kResync,
          k.now(),
          fmt::format("the resync of side {} of {} VSEG LBA {} started at {} never "
                      "ended ({} of {} stale extents copied)",
                      p.side, m.volume, m.lba, p.started_ns, p.copied_extents, p.stale_extents),
          {}};
      mirror_notes(&v.history);
      fail(v);
      return;
    }
  }
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
  if (op.kind == FaultKind::kMirrorSide) {
    fail_mirror_side(op);
    return;
  }
  if (op.kind == FaultKind::kReplication) {
    start_replication(op);
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
  if (dve_) dve_tick(ios);
  if (replication_) {
    if (const std::optional<cp::ReplicationStatus> st = replication_status())
      replication_->max_lag = std::max<SimTime>(replication_->max_lag, st->lag_ns);
  }
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
  watch_mirror_sides(stall);
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

void Runner::start_replication(const PlannedOp& op) {
  Kernel& k = fabric_->kernel();
  const TortureReplication& rep = *scenario_.replication;
  cp::ControlPath& cp = fabric_->switch_named(rep.switch_name)->virtualization()->control_path();
  Disk* remote = fabric_->disk(rep.disk);
  // The journals sealed so far are the journal checker's (read and
  // released now); from the start on, the replication ships them.
  journal_.consume(*fabric_);
  std::vector<ReplicationSite::Image> images;
  for (size_t i = 0; i < rep.volumes.size(); ++i) {
    const VolumeConfig& vol = scenario_.topology.volumes[rep.volumes[i]];
    images.push_back(ReplicationSite::Image{vol.name, remote, rep.lun, rep.image_lba[i]});
  }
  ReplicationRun run;
  run.site = std::make_unique<ReplicationSite>(cp, rep.name, remote, rep.lun, images);
  run.started = k.now();
  run.site->on_applied = [this](uint64_t epoch) { check_replicas(epoch); };
  cp::ReplicationRequest request;
  request.name = rep.name;
  for (size_t vol : rep.volumes)
    request.volumes.push_back(scenario_.topology.volumes[vol].name);
  request.interval_ns = rep.interval_ns;
  request.staging_wwpn = remote->config().wwpn;
  request.staging_lun = rep.lun;
  request.staging_lba = rep.staging_lba;
  request.staging_blocks = rep.staging_blocks;
  request.on_barrier = [this](uint64_t epoch) { capture_replicas(epoch); };
  request.on_shipped = [this](const cp::ShippedEpoch& e) {
    const TortureReplication& r = *scenario_.replication;
    // The journal checker reads the epoch's journals where they are now.
    replication_->shipped_notes.clear();
    for (const cp::StagedJournal& j : e.journals) {
      journal_.read_staged(*fabric_, r.disk, r.lun, j);
      std::vector<uint8_t> bytes(uint64_t{j.blocks} * j.block_size);
      fabric_->disk(r.disk)->store(r.lun)->read(j.staging_lba * j.block_size, bytes);
      replication_->shipped_notes.push_back(describe_staged(j, bytes));
    }
    if (e.epoch > 0) {
      replication_->site->apply(e);
      return;
    }
    // Epoch 0 holds the records since the start, but not those of the
    // journals sealed before (the journal checker released them): the
    // initial copy at its barrier stands for it (initial_copy).
    fabric_->switch_named(r.switch_name)
        ->virtualization()
        ->control_path()
        .release_staged(r.name, e.epoch);
    check_replicas(e.epoch);
  };
  replication_ = std::move(run);
  std::string error;
  if (!cp.start_replication(request, &error)) {
    replication_.reset();
    ++replications_refused_;
    replication_failures_.push_back(error);
    log_.log(k.now(), "REPLICATION refused: {}", error);
    return;
  }
  journal_.set_replicated(rep.volumes);
  log_.log(k.now(), "REPLICATION {} started (op at {} I/Os): every {} us to {}", rep.name,
           op.at_ios, rep.interval_ns / kNsPerUs, rep.disk);
}

void Runner::initial_copy() {
  const TortureReplication& rep = *scenario_.replication;
  Disk* remote = fabric_->disk(rep.disk);
  for (size_t i = 0; i < rep.volumes.size(); ++i) {
    const uint32_t bs = scenario_.topology.volumes[rep.volumes[i]].block_size;
    for (const TortureVseg& v : scenario_.vsegs) {
      if (v.volume != rep.volumes[i]) continue;
      const PlaceElement at = v.place[0].locate(0);
      std::vector<uint8_t> bytes(v.blocks * bs);
      fabric_->disk(at.disk)->store(at.lun)->read(at.lba * bs, bytes);
      remote->mutable_store(rep.lun)->write((rep.image_lba[i] + v.volume_lba) * bs, bytes);
    }
  }
}

std::optional<cp::ReplicationStatus> Runner::replication_status() const {
  if (!replication_) return std::nullopt;
  const TortureReplication& rep = *scenario_.replication;
  for (const cp::ReplicationStatus& st :
       fabric_->switch_named(rep.switch_name)->virtualization()->control_path().replications())
    if (st.name == rep.name) return st;
  return std::nullopt;
}

void Runner::capture_replicas(uint64_t epoch) {
  const TortureReplication& rep = *scenario_.replication;
  if (epoch == 0) initial_copy();
  ReplicationRun::Capture c;
  c.at = fabric_->kernel().now();
  for (size_t vol : rep.volumes) {
    const uint32_t bs = scenario_.topology.volumes[vol].block_size;
    std::vector<uint64_t> digests;
    std::vector<uint8_t> bytes;
    for (const TortureVseg& v : scenario_.vsegs) {
      if (v.volume != vol) continue;
      if (digests.size() < v.volume_lba + v.blocks) digests.resize(v.volume_lba + v.blocks);
      const PlaceElement at = v.place[0].locate(0);
      bytes.resize(v.blocks * bs);
      fabric_->disk(at.disk)->store(at.lun)->read(at.lba * bs, bytes);
      for (uint64_t b = 0; b < v.blocks; ++b)
        digests[v.volume_lba + b] = block_digest(bytes.data() + b * bs, bs);
    }
    c.digests.push_back(std::move(digests));
  }
  replication_->captures[epoch] = std::move(c);
  log_.log(fabric_->kernel().now(), "REPLICATION barrier: epoch {} closed", epoch);
}

void Runner::check_replicas(uint64_t epoch) {
  Kernel& k = fabric_->kernel();
  const TortureReplication& rep = *scenario_.replication;
  ReplicationRun& run = *replication_;
  auto it = run.captures.find(epoch);
  if (it == run.captures.end()) {
    fail(
        Violation{kReplication,
                  k.now(),
                  fmt::format("replication {}: epoch {} was applied but its barrier was never seen",
                              rep.name, epoch),
                  {}});
    return;
  }
  const ReplicationRun::Capture& c = it->second;
  Disk* remote = fabric_->disk(rep.disk);
  for (size_t i = 0; i < rep.volumes.size() && !violation_; ++i) {
    const size_t vol = rep.volumes[i];
    const uint32_t bs = scenario_.topology.volumes[vol].block_size;
    const uint64_t per_block = bs / kStampUnit;
    const std::vector<uint64_t>& digests = c.digests[i];
    std::vector<uint8_t> image(digests.size() * bs);
    remote->store(rep.lun)->read(rep.image_lba[i] * bs, image);
    for (uint64_t b = 0; b < digests.size(); ++b) {
      const uint8_t* block = image.data() + b * bs;
      if (block_digest(block, bs) == digests[b]) {
        ++run.blocks_compared;
        continue;
      }
      bool excused = false;
      for (uint64_t u = 0; u < per_block; ++u)
        excused = excused || mirror_.failed_unit(vol, b * per_block + u);
      if (excused) {
        ++run.blocks_excused;
        continue;
      }
      Violation v;
      v.invariant = kReplication;
      v.at = k.now();
      v.summary = fmt::format(
          "replication {}: epoch {} (barrier at {} ns) applied, but the remote image of {} LBA {} "
          "({} LUN {} LBA {}) differs from the volume at the barrier, and no write to the block "
          "failed",
          rep.name, epoch, c.at, scenario_.topology.volumes[vol].name, b, rep.disk, rep.lun,
          rep.image_lba[i] + b);
      v.history.push_back(fmt::format("the remote image holds {}", describe_unit(block)));
      for (const TortureVseg& s : scenario_.vsegs) {
        if (s.volume != vol || b < s.volume_lba || b >= s.volume_lba + s.blocks) continue;
        const PlaceElement at = s.place[0].locate(b - s.volume_lba);
        std::vector<uint8_t> now(bs);
        fabric_->disk(at.disk)->store(at.lun)->read(at.lba * bs, now);
        v.history.push_back(fmt::format("the data device ({} LUN {} LBA {}) holds now {}", at.disk,
                                        at.lun, at.lba, describe_unit(now.data())));
      }
      const ReplicationSiteStats& st = run.site->stats();
      v.history.push_back(fmt::format(
          "the remote has applied {} epochs ({} journals read, {} records, {} blocks written, {} "
          "superseded, {} malformed records)",
          st.epochs_applied, st.journals_read, st.records_applied, st.blocks_written,
          st.blocks_superseded, st.malformed_records));
      for (const std::string& note : run.shipped_notes)
        v.history.push_back("the epoch's " + note);
      for (std::string& note : unit_notes(vol, b * per_block))
        v.history.push_back(std::move(note));
      fail(std::move(v));
      break;
    }
  }
  ++run.epochs_checked;
  // Captures of this epoch and older ones are no longer needed.
  run.captures.erase(run.captures.begin(), run.captures.upper_bound(epoch));
  if (const std::optional<cp::ReplicationStatus> st = replication_status())
    run.max_lag = std::max<SimTime>(run.max_lag, st->lag_ns);
}

void Runner::finish_replication() {
  if (!replication_) return;
  Kernel& k = fabric_->kernel();
  const TortureReplication& rep = *scenario_.replication;
  // Every fault has healed: the remote catches up within some intervals
  // (an epoch's journals are shipped 8 at once, as staging slots free up).
  const SimTime deadline = k.now() + 200 * rep.interval_ns + kDrainTimeout;
  auto caught_up = [&] {
    const std::optional<cp::ReplicationStatus> st = replication_status();
    return st && st->epochs_applied >= st->epochs_closed;
  };
  while (!violation_ && !caught_up() && k.now() < deadline)
    k.run_until(std::min(deadline, k.now() + rep.interval_ns / 4));
  if (violation_) return;
  const std::optional<cp::ReplicationStatus> st = replication_status();
  if (!st || st->epochs_applied + 1 < st->epochs_closed) {
    Violation v{kReplication,
                k.now(),
                fmt::format("replication {}: the remote did not catch up after the run", rep.name),
                {}};
    v.history.push_back(fmt::format("started at {} ns, a barrier every {} us to {}",
                                    replication_->started, rep.interval_ns / kNsPerUs, rep.disk));
    if (st) {
      v.history.push_back(fmt::format(
          "epochs closed {}, shipped {}, applied {}; {} journals ({} bytes) shipped, {} copy "
          "failures, lag {} ns, {} bytes",
          st->epochs_closed, st->epochs_shipped, st->epochs_applied, st->journals_shipped,
          st->bytes_shipped, st->copy_failures, st->lag_ns, st->lag_bytes));
    }
    cp_notes(rep.switch_name, &v.history);
    fail(v);
  }
}

void Runner::start_dve_cluster() {
  const TortureDveCluster& c = *scenario_.dve_cluster;
  OplockClusterOptions o;
  o.dves = c.dves;
  o.seed = c.network_seed;
  // Timeouts short enough for several evictions, fences and recoveries in a
  // run: a partition or a crash of a few milliseconds evicts.
  o.config.response_timeout_ns = 2 * kNsPerMs;
  o.config.lease_ns = 6 * kNsPerMs;
  o.config.retry_ns = kNsPerMs / 2;
  o.config.boot_wait_ns = 4 * kNsPerMs;
  o.config.sweep_age_ns = 20 * kNsPerMs;
  o.config.sweep_interval_ns = 5 * kNsPerMs;
  DveClusterRun run;
  run.cluster = std::make_unique<OplockCluster>(fabric_->kernel(), o);
  run.crashes.assign(c.dves, 0);
  run.crashed.assign(c.dves, false);
  run.booting.assign(c.dves, false);
  dve_ = std::move(run);
  if (options_.broken.dve_ack_keeps_cache) break_dve_acks();
  dve_->cluster->boot_all();
  dve_log(fmt::format("DVE cluster of {} DVEs booted", c.dves));
}

void Runner::break_dve_acks() {
  OplockCluster& cluster = *dve_->cluster;
  for (uint32_t dve = 1; dve <= cluster.size(); ++dve) {
    cluster.network().attach(dve, [&cluster, dve](const cp::cluster::DveMessage& m) {
      cp::cluster::OplockNode& node = cluster.node(dve);
      if (m.kind != cp::cluster::MsgKind::kAcquire || !node.cache_valid(m.oplock)) {
        node.receive(m);
        return;
      }
      cp::cluster::DveMessage ack;
      ack.kind = cp::cluster::MsgKind::kAck;
      ack.oplock = m.oplock;
      ack.from = dve;
      ack.to = m.from;
      ack.round = m.round;
      cluster.network().send(ack);
    });
  }
}

uint64_t Runner::dve_lost(uint32_t dve) const {
  return dve_->crashes[dve - 1] + dve_->cluster->fenced(dve);
}

void Runner::dve_log(std::string line) {
  log_.log(fabric_->kernel().now(), "DVE {}", line);
  dve_->history.push_back(fmt::format("{} ns: {}", fabric_->kernel().now(), std::move(line)));
  if (dve_->history.size() > 40) dve_->history.pop_front();
}

void Runner::dve_tick(uint64_t ios) {
  const std::vector<DveClusterOp>& ops = scenario_.dve_cluster->ops;
  while (dve_->next_op < ops.size() && ops[dve_->next_op].at_ios <= ios && ios < options_.ops)
    fire_dve(dve_->next_op++);
  boot_offline_dves();
  if (!dve_->cluster->violations().empty()) check_dve_cluster(false);
}

std::string describe_oplocks(const std::vector<cp::cluster::OplockId>& ids) {
  std::string out;
  for (const cp::cluster::OplockId& id : ids)
    out += (out.empty() ? "" : " ") + cp::cluster::to_string(id);
  return out;
}

void Runner::dve_request(const DveClusterOp& op, size_t index) {
  OplockCluster& cluster = *dve_->cluster;
  const std::string what =
      fmt::format("{} of {}{} on dve{}", dve_cluster_op_name(op.kind), describe_oplocks(op.oplocks),
                  op.restrictive ? " (restrictive)" : "", op.dve);
  if (!cluster.node(op.dve).online()) {
    ++dve_->skipped;
    dve_log("SKIP " + what + ": offline");
    return;
  }
  dve_log(what);
  if (op.kind == DveClusterOp::Kind::kShare) {
    cluster.share(op.dve, op.oplocks.front());
  } else if (op.kind == DveClusterOp::Kind::kUnshare) {
    cluster.node(op.dve).unshare(op.oplocks.front());
  } else {
    const size_t record = dve_->updates.size();
    dve_->updates.push_back({index, fabric_->kernel().now(), dve_lost(op.dve), 0});
    cluster.update(op.dve, op.oplocks, op.restrictive,
                   [this, record] { dve_->updates[record].done = fabric_->kernel().now(); });
  }
}

void Runner::fire_dve(size_t index) {
  const DveClusterOp& op = scenario_.dve_cluster->ops[index];
  DveNetwork& net = dve_->cluster->network();
  switch (op.kind) {
    case DveClusterOp::Kind::kUpdate:
    case DveClusterOp::Kind::kShare:
    case DveClusterOp::Kind::kUnshare:
      dve_request(op, index);
      return;
    case DveClusterOp::Kind::kLoss:
      dve_->losses.insert(op.loss_ppm);
      net.set_loss_ppm(*dve_->losses.rbegin());
      dve_log(fmt::format("FAULT loss {} ppm for {} us", op.loss_ppm, op.duration_ns / kNsPerUs));
      break;
    case DveClusterOp::Kind::kPartition:
      ++dve_->partitions;
      net.partition(op.groups);
      dve_log(fmt::format("FAULT partition {} for {} us", fmt::join(op.groups, " | "),
                          op.duration_ns / kNsPerUs));
      break;
    case DveClusterOp::Kind::kCrash:
      if (dve_->crashed[op.dve - 1]) {
        ++dve_->skipped;
        dve_log(fmt::format("SKIP crash of dve{}: down already", op.dve));
        return;
      }
      dve_->cluster->node(op.dve).crash();
      ++dve_->crashes[op.dve - 1];
      dve_->crashed[op.dve - 1] = true;
      dve_->booting[op.dve - 1] = false;
      dve_log(fmt::format("FAULT crash of dve{} for {} us", op.dve, op.duration_ns / kNsPerUs));
      break;
    case DveClusterOp::Kind::kJitter:
      dve_->jitters.insert(op.jitter_ns);
      net.set_jitter(*dve_->jitters.rbegin());
      dve_log(fmt::format("FAULT jitter {} us for {} us", op.jitter_ns / kNsPerUs,
                          op.duration_ns / kNsPerUs));
      break;
  }
  ++dve_->faults_active;
  fabric_->kernel().schedule_in<&Runner::heal_dve>(op.duration_ns, this, index);
}

void Runner::heal_dve(uint64_t index) {
  const DveClusterOp& op = scenario_.dve_cluster->ops[index];
  DveNetwork& net = dve_->cluster->network();
  switch (op.kind) {
    case DveClusterOp::Kind::kLoss:
      dve_->losses.erase(dve_->losses.find(op.loss_ppm));
      net.set_loss_ppm(dve_->losses.empty() ? 0 : *dve_->losses.rbegin());
      break;
    case DveClusterOp::Kind::kPartition:
      if (--dve_->partitions == 0) net.heal();
      break;
    case DveClusterOp::Kind::kCrash:
      dve_->crashed[op.dve - 1] = false;
      break;
    case DveClusterOp::Kind::kJitter:
      dve_->jitters.erase(dve_->jitters.find(op.jitter_ns));
      net.set_jitter(dve_->jitters.empty() ? 0 : *dve_->jitters.rbegin());
      break;
    default:
      break;
  }
  --dve_->faults_active;
  dve_log(fmt::format(
      "HEAL {}{}", dve_cluster_op_name(op.kind),
      op.kind == DveClusterOp::Kind::kCrash ? fmt::format(" of dve{}", op.dve) : std::string()));
  boot_offline_dves();
}

// A fenced DVE stays down until booted; booting it inside a partition would
// only get it evicted again, so the harness waits for the heal.
void Runner::boot_offline_dves() {
  if (dve_->partitions > 0) return;
  OplockCluster& cluster = *dve_->cluster;
  for (uint32_t dve = 1; dve <= cluster.size(); ++dve) {
    if (cluster.node(dve).online() || dve_->crashed[dve - 1] || dve_->booting[dve - 1]) continue;
    dve_->booting[dve - 1] = true;
    dve_log(fmt::format("BOOT dve{}", dve));
    cluster.node(dve).boot([this, dve] {
      dve_->booting[dve - 1] = false;
      dve_log(fmt::format("dve{} online", dve));
    });
  }
}

bool Runner::dve_settled() {
  for (uint32_t dve = 1; dve <= dve_->cluster->size(); ++dve)
    if (!dve_->cluster->node(dve).online()) return false;
  for (const DveClusterRun::Update& u : dve_->updates) {
    const uint32_t dve = scenario_.dve_cluster->ops[u.op].dve;
    if (!u.done && dve_lost(dve) == u.lost) return false;
  }
  return true;
}

void Runner::finish_dve_cluster() {
  Kernel& k = fabric_->kernel();
  // The last faults heal within their durations (at most some tens of ms).
  const SimTime heal_deadline = k.now() + kNsPerSec;
  while (!violation_ && dve_->faults_active > 0 && k.now() < heal_deadline)
    k.run_until(k.now() + kNsPerMs);
  // A round that started before the heal may still time out and evict a
  // DVE, which fences when its lease runs out and is booted again: give
  // that time (a response timeout and a lease) before waiting to settle.
  if (!violation_) k.run_until(k.now() + 10 * kNsPerMs);
  const SimTime deadline = k.now() + kDveSettle;
  while (!violation_ && !dve_settled() && k.now() < deadline)
    k.run_until(k.now() + kNsPerMs);
  if (!violation_) check_dve_cluster(dve_settled());
}

void Runner::check_dve_cluster(bool settled) {
  Kernel& k = fabric_->kernel();
  OplockCluster& cluster = *dve_->cluster;
  Violation v{kOplock, k.now(), "", {}};
  if (!cluster.violations().empty()) {
    v.summary = cluster.violations().front();
    v.history = cluster.violations();
  } else if (!settled) {
    for (const DveClusterRun::Update& u : dve_->updates) {
      const DveClusterOp& op = scenario_.dve_cluster->ops[u.op];
      if (u.done || dve_lost(op.dve) != u.lost) continue;
      if (v.summary.empty())
        v.summary = fmt::format("update never ended: {} on dve{}, asked at {} ns",
                                describe_oplocks(op.oplocks), op.dve, u.requested);
      v.history.push_back(fmt::format("update of {} on dve{} asked at {} ns never ended",
                                      describe_oplocks(op.oplocks), op.dve, u.requested));
    }
    for (uint32_t dve = 1; dve <= cluster.size(); ++dve) {
      if (cluster.node(dve).online()) continue;
      if (v.summary.empty())
        v.summary = fmt::format("dve{} is still offline long after every fault healed", dve);
      v.history.push_back(fmt::format("dve{} offline", dve));
    }
  }
  if (v.summary.empty()) return;
  dve_notes(&v.history);
  fail(v);
}

void Runner::dve_notes(std::vector<std::string>* out) const {
  OplockCluster& cluster = *dve_->cluster;
  for (uint32_t dve = 1; dve <= cluster.size(); ++dve) {
    const cp::cluster::OplockNode& n = cluster.node(dve);
    std::string states;
    for (const cp::cluster::OplockId& id : scenario_.dve_cluster->oplocks)
      states +=
          fmt::format(" {}={}", cp::cluster::to_string(id), cp::cluster::state_name(n.state(id)));
    out->push_back(fmt::format("dve{}: {}, {} crashes, {} fences, {} evictions;{}", dve,
                               n.online() ? "online" : "offline", dve_->crashes[dve - 1],
                               cluster.fenced(dve), n.stats().evictions, states));
  }
  out->push_back("the cluster's last requests and faults:");
  for (const std::string& line : dve_->history)
    out->push_back("  " + line);
}

absl::StatusOr<TortureRunResult> Runner::run() {
  const auto wall_start = std::chrono::steady_clock::now();
  if (auto s = validate_topology(scenario_.topology); !s.ok()) {
    return absl::InternalError(fmt::format("seed {}: the generated topology is invalid: {}",
                                           options_.seed, std::string(s.message())));
  }
  FabricOptions fabric_options;
  const bool skip_drain = options_.broken.skip_drain;
  const bool resync_readable = options_.broken.resync_readable;
  fabric_options.adjust_cp_config = [skip_drain, resync_readable](cp::CpConfig& c) {
    c.skip_drain_for_testing = skip_drain;
    c.resync_side_readable_for_testing = resync_readable;
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
  if (scenario_.dve_cluster) start_dve_cluster();
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
             reconfigs_running() || images_pending() || mirror_sides_busy();
    for (const auto& h : fabric_->hosts())
      b = b || h->outstanding() > 0;
    return b;
  };
  // Running migrations may take longer: the tick reports one that stops
  // making steps; this bounds the wait in any case.
  const SimTime migration_deadline = deadline + kMigrationDrain;
  auto until = [&] {
    return migrations_running() || images_pending() || mirror_sides_busy() ? migration_deadline
                                                                           : deadline;
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
    if (mirror_sides_busy()) {
      mirror_notes(&v.history);
      v.invariant = kResync;
    }
    if (reconfigs_running()) v.invariant = kReconfig;
    if (migrations_running()) v.invariant = kMigration;
    // Only a snapshot not taken or not swept by now: check_images() says which.
    bool others = updates_pending_ > 0 || faults_active_ > 0 || migrations_running() ||
                  reconfigs_running() || mirror_sides_busy();
    for (const auto& h : fabric_->hosts())
      others = others || h->outstanding() > 0;
    if (!others) check_images();
    fail(v);
  }
  if (auto v = tracker_->violation(); v && !violation_) fail(*v);
  if (!violation_) finish_replication();
  if (!violation_) {
    tracker_->end_open_writes();
    check_mirror_sides();
    if (!violation_) {
      if (auto v = mirror_.check(*fabric_, k.now())) fail(*v);
    }
    if (!violation_) {
      if (auto v = journal_.check(*fabric_, mirror_, k.now())) fail(*v);
    }
    if (!violation_) check_images();
  }
  if (!violation_ && dve_) finish_dve_cluster();
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
  for (const MirrorSideRecord& m : mirror_sides_) {
    r.mirror_sides_failed += m.dead ? 1 : 0;
    r.mirror_side_returns += m.resyncs;
    r.mirror_side_returns_done += m.alive ? 1 : 0;
  }
  r.mirror_sides_refused = mirror_sides_refused_;
  r.replications_skipped = scenario_.replication_skipped ? 1 : 0;
  r.replications_refused = replications_refused_;
  r.replication_failures = replication_failures_;
  if (replication_) {
    ++r.replications_started;
    r.replication_epochs_checked = replication_->epochs_checked;
    r.replication_blocks_compared = replication_->blocks_compared;
    r.replication_max_lag_ns = replication_->max_lag;
    if (const std::optional<cp::ReplicationStatus> st = replication_status()) {
      r.replication_epochs_closed = st->epochs_closed;
      r.replication_epochs_applied = st->epochs_applied;
      r.replication_journals_shipped = st->journals_shipped;
      r.replication_bytes_shipped = st->bytes_shipped;
      r.replication_copy_failures = st->copy_failures;
    }
  }
  if (dve_) {
    const OplockCluster& cluster = *dve_->cluster;
    r.dve_updates = cluster.updates_done();
    r.dve_messages = cluster.messages();
    r.dve_recoveries = cluster.recoveries().size();
    r.dve_checks = cluster.checks();
    r.dve_skipped = dve_->skipped;
    for (uint32_t dve = 1; dve <= cluster.size(); ++dve) {
      r.dve_evictions += dve_->cluster->node(dve).stats().evictions;
      r.dve_fences += cluster.fenced(dve);
    }
  }
  r.mirror_sides_skipped = mirror_sides_skipped_;
  r.mirror_side_failures = mirror_side_failures_;
  for (const auto& sw : fabric_->switches()) {
    if (!sw->virtualization()) continue;
    const cp::ControlPath& cp = sw->virtualization()->control_path();
    const cp::CpStats& st = cp.stats();
    r.mirror_side_deaths += st.side_deaths;
    r.resync_extents += st.resync_extents;
    r.resync_blocks += st.resync_blocks;
    for (const cp::MirrorReport& m : cp.mirrors()) {
      for (const cp::ResyncProgress& p : m.resyncs) {
        r.resyncs_done += p.state == cp::ResyncProgress::State::kDone ? 1 : 0;
        if (p.state != cp::ResyncProgress::State::kFailed) continue;
        ++r.resyncs_failed;
        r.mirror_side_failures.push_back(fmt::format("resync of side {} of {} VSEG LBA {}: {}",
                                                     p.side, m.volume, m.lba, p.error));
      }
    }
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
  // No command-line switch: a test's (BrokenMechanisms::resync_readable).
  if (options_.broken.resync_readable) r.replay_command += " (resync_readable broken)";
  if (options_.broken.dve_ack_keeps_cache) r.replay_command += " (dve_ack_keeps_cache broken)";
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
