// The control path (CP) of one switch: owns the virtualization metadata (LVs,
// their VSEGs, each VSEG's authoritative Rmap and storage redirect table),
// manages every port FP of the switch through FP API messages (fpapi.h), and
// does what the FPs cannot:
// - answers CpMappingMiss by loading the extent into the FP (FPAddMapping,
//   CONTINUE);
// - processes I/Os queued to it (CpQueueIO): READ/WRITE that span extents or
//   VSEGs, exceed the FP's capacity, or fault on FoR/FoW, split into linked
//   downstream I/Os with FPDispatchIO; every other SCSI command to a virtual
//   LUN, answered as the virtual target; error completions (figure 6);
// - acts as each virtual target and virtual initiator for non-FCP traffic
//   (PLOGI, PRLI, LOGO, ABTS), and registers virtual targets with fabricated
//   N_Port IDs in the name server (FPExpose / FPHide);
// - changes mappings with the restrictive-update protocol: revoke the FP
//   entries, wait for (or abort) the pending I/Os that may use them, change the
//   metadata, then let the FPs load the new entries.
//
// The CP is software on the switch's control processor: each message it handles
// costs modeled time (CpConfig), one at a time, so it is far slower than an FP.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "splitpath/fpapi.h"
#include "splitpath/map/rmap_types.h"

namespace splitpath::cp {

namespace cluster {
class DveEnvironment;
class OplockNode;
struct DveMessage;
struct OplockConfig;
}  // namespace cluster

// What the CP needs of the switch it runs on. The simulator implements it over
// its fabric; a real switch over its OS and port drivers.
class CpEnvironment {
 public:
  virtual ~CpEnvironment() = default;
  virtual uint64_t now_ns() const = 0;
  // Runs `fn` `delay_ns` from now (in order of time, then of scheduling).
  virtual void schedule(uint64_t delay_ns, std::function<void()> fn) = 0;
  virtual uint8_t domain() const = 0;
  // Ports with an FP, numbered 0 .. fp_port_count() - 1.
  virtual uint32_t fp_port_count() const = 0;
  // The N_Port ID port `port`'s FP uses as the initiator of downstream I/O; the
  // switch delivers frames for it to that FP.
  virtual uint32_t virtual_initiator(uint32_t port) const = 0;
  // Posts an FP API message to the FP of `port`. The environment queues it if
  // the mailbox is full and models the mailbox latency; messages to one port
  // arrive in order.
  virtual void send_to_fp(uint32_t port, fpapi::MsgType type, std::span<const uint8_t> payload) = 0;
  // Sends a frame the CP originates (ELS/BLS answers as a virtual target,
  // PLOGI/PRLI from a virtual initiator) into the switch, routed by D_ID.
  virtual void send_frame(std::span<const uint8_t> frame) = 0;
  // Registers a virtual target (an FCP target N_Port) with the name server so
  // hosts find it, and makes the switch steer frames for `port_id` to the FP
  // of the port they enter.
  virtual void register_virtual_target(uint32_t port_id, uint64_t wwpn, uint64_t wwnn) = 0;
  virtual void deregister_virtual_target(uint32_t port_id) = 0;
  // The N_Port ID of a port logged into the fabric, from the name server.
  virtual std::optional<uint32_t> find_port_id(uint64_t wwpn) const = 0;
};

struct CpConfig {
  // Modeled CP time per message handled, and extra per I/O fault processed
  // (software speed: far slower than the FP's per-frame cost).
  uint64_t message_cost_ns = 2'000;
  uint64_t fault_cost_ns = 20'000;
  // Restrictive updates: how often pending I/Os are polled while draining, and
  // when the CP gives up waiting and aborts them (FPAbortPendingIOs).
  uint64_t drain_poll_ns = 20'000;
  uint64_t drain_timeout_ns = 500'000'000;
  uint64_t els_timeout_ns = 20'000'000;
  // How often the CP retries resolving backing disks that have not logged in.
  uint64_t resolve_retry_ns = 100'000;
  // Log every port's virtual initiator into every backing disk as soon as it
  // resolves, instead of when a host login or an I/O through the port needs
  // it (ports x disks logins: for small switches and tests).
  bool eager_vi_logins = false;
  // For tests only: skip the drain step of restrictive updates, to prove a
  // test can tell.
  bool skip_drain_for_testing = false;
  // Every redirect entry the CP hands the FPs gets FoR|FoW, so every virtual
  // READ/WRITE is processed by the CP (to measure FP against CP-only).
  bool fault_every_io = false;
  // Legs (FPDispatchIO) of one CP-owned I/O outstanding at once (a write to a
  // mirror dispatches one per side together, so it may exceed this).
  uint32_t max_legs_per_io = 4;
  // For tests only: no write serialization for mirrors at the CP (several
  // ports' FPs may hold write authority over one mirror extent, and the CP's
  // own overlapping writes go out together), to show the sides then differ.
  bool skip_serialization_for_testing = false;
  // Tests only: a snapshot of a shared volume is taken and pushed by the DVE
  // asked alone, its peers never learn of it (shows what the oplocks prevent).
  bool skip_snapshot_coherence_for_testing = false;
  // Tests only: each DVE changes a shared mirror's side states on its own,
  // its peers never learn of them (shows what the side-state oplock prevents).
  bool skip_side_state_coherence_for_testing = false;
  // Multipath: how long a path test (TEST UNIT READY down a path) may take
  // before the path counts as failed, and how often a failover that found no
  // path it could test yet (no virtual initiator logged in) tries again.
  uint64_t path_test_timeout_ns = 20'000'000;
  uint64_t path_retest_ns = 1'000'000;
  // Data services: the amount of data pushed at once (a migration's copy
  // barrier, a snapshot's copy on write), rounded to whole blocks.
  uint64_t copy_granularity_bytes = 64 * 1024;
  // A copy (FPCopyIO) that fails is tried again this many times, after
  // resolve_retry_ns doubling with each attempt (a busy disk's TASK SET
  // FULL passes), before the service that asked for it fails; one that has
  // not ended after copy_timeout_ns (its frames were lost with a disk or a
  // link) is aborted at the FP and counts as failed.
  uint32_t copy_retries = 10;
  uint64_t copy_timeout_ns = 200'000'000;
  // Snapshots: the background sweep pushes one chunk, then waits this long
  // (it yields to the host I/O's copy-on-write pushes); 0 turns it off.
  uint64_t sweep_interval_ns = 50'000;
  // Mirrors (figures 30-31): the fixed size of an age-list extent, rounded to
  // whole blocks. After a side changes state, the first write to each extent
  // faults to the CP, which records the generation in the live sides' age
  // lists; a returning side is resynchronized extent by extent.
  uint64_t age_extent_bytes = 256 * 1024;
  // DVE cluster: the blocks of a shared mirror one mirror-write oplock covers
  // (its extents are cut there, so each is inside one).
  uint64_t mirror_write_chunk_blocks = 2048;
  // DVE cluster: a DVE evicted by its peers (fenced) boots again this long
  // after; it comes on line once it reaches the cluster's members (0: it
  // stays down).
  uint64_t dve_reboot_after_ns = 100'000'000;
  // For tests only: a returning side is ALIVE (read too) while it is
  // resynchronized, not RESYNC, to show that reads then see stale data.
  bool resync_side_readable_for_testing = false;
};

// What the CP does when a path of a multipath VSEG fails (figures 11, 12).
enum class MultipathPolicy : uint8_t {
  kPerEntry,  // figure 11: the affected Rmap extents move to the alternate path's redirect entry
  kGlobal,    // figure 12: the redirect entry's storage descriptor moves to the alternate path
};

// One VSEG of a volume: `blocks` blocks mapped linearly onto a LUN of a
// physical disk, its Rmap cut into extents of `extent_blocks` (0: one extent)
// that share one redirect entry.
// One side of a mirrored VSEG: blocks of LUN `lun` of disk `disk_wwpn` from
// `lba`, and its read cost (reads go to the cheapest sides, round robin).
struct MirrorSideDef {
  uint64_t disk_wwpn = 0;
  uint16_t lun = 0;
  uint64_t lba = 0;
  uint8_t read_cost = 0;
};

// RAID 1: every block on every side (map::MirrorStorage); sides start ALIVE.
struct MirrorDef {
  std::vector<MirrorSideDef> sides;  // map::kMinMirrorSides .. map::kMaxMirrorSides
};

// One column of a striped VSEG: blocks of LUN `lun` of disk `disk_wwpn` from
// `lba`, or (`mirror`, then disk_wwpn, lun and lba are unused) a mirror whose
// every side holds the column's blocks: a stripe of mirrors (RAID 10).
struct StripeColumnDef {
  uint64_t disk_wwpn = 0;
  uint16_t lun = 0;
  uint64_t lba = 0;
  std::optional<MirrorDef> mirror = std::nullopt;
};

// RAID 0 over the columns: stripe units of `unit_blocks` blocks (a power of
// two) dealt out round robin (map::StripeStorage); RAID 10 when the columns
// are mirrors (map::StripeOfMirrorsStorage: all columns mirrors of the same
// number of sides, columns x sides at most map::kMaxStorageElements).
struct StripeDef {
  uint64_t unit_blocks = 0;
  std::vector<StripeColumnDef> columns;  // 1 .. map::kMaxStripeColumns
};

// A journaled VSEG (the write-journaling primitive): its blocks on the data
// range (disk_wwpn, lun, lba), and a journal area of `area_blocks` blocks of
// LUN `journal_lun` of disk `journal_wwpn` from `journal_lba`, carved into
// journals of `journal_blocks` blocks each. Every port FP writing the VSEG
// gets a journal of its own, the CP one for its own writes; full ones are
// sealed for a consumer (ControlPath::sealed_journals).
struct JournalDef {
  uint64_t disk_wwpn = 0;
  uint16_t lun = 0;
  uint64_t lba = 0;
  uint64_t journal_wwpn = 0;
  uint16_t journal_lun = 0;
  uint64_t journal_lba = 0;
  uint64_t area_blocks = 0;
  uint32_t journal_blocks = 0;
};

// A journal of a journaled VSEG: `blocks` blocks of LUN `lun` of disk
// `disk_wwpn` from `lba`, its records tagged with `journal_id`
// (splitpath/map/journal_record.h).
struct JournalInfo {
  uint32_t vseg_id = 0;
  uint16_t journal_id = 0;
  uint64_t disk_wwpn = 0;
  uint16_t lun = 0;
  uint64_t lba = 0;
  uint32_t blocks = 0;
  uint64_t epoch = 0;  // the replication epoch its records belong to
};

// Asynchronous ordered replication (figure 32) of a group of volumes whose
// VSEGs are all journaled: every `interval_ns` the CP pauses the group's
// I/O at every FP (a restrictive update over all its VSEGs), seals every
// journal in use and hands out empty ones, and resumes: the epoch ends at
// that barrier. The copy agent ships each sealed journal, whole, to a slot
// of the remote site's staging area (`staging_*`, slots of the largest
// journal); once every journal of an epoch is there, `on_shipped` hands them
// to the remote, which merges them (last write per block wins) and applies
// them, then calls release_staged: the remote image is the group's image at
// that barrier. A copy that fails (the link to the remote is down) is tried
// again later: nothing is lost, the remote lags.
struct StagedJournal {
  std::string volume;
  uint32_t vseg_id = 0;
  uint16_t journal_id = 0;
  uint64_t epoch = 0;
  uint64_t staging_lba = 0;
  uint32_t blocks = 0;
  uint32_t block_size = 512;
};
struct ShippedEpoch {
  std::string replication;
  uint64_t epoch = 0;       // journals of epochs up to this one (older ones shipped before)
  uint64_t barrier_ns = 0;  // when its barrier was
  std::vector<StagedJournal> journals;
};
struct ReplicationRequest {
  std::string name;
  std::vector<std::string> volumes;
  uint64_t interval_ns = 10'000'000;
  uint64_t staging_wwpn = 0;
  uint16_t staging_lun = 0;
  uint64_t staging_lba = 0;
  uint64_t staging_blocks = 0;
  // At each barrier, while the group's I/O is paused (every acknowledged
  // write on its data devices, none in flight): the epoch that ends.
  std::function<void(uint64_t epoch)> on_barrier;
  std::function<void(const ShippedEpoch&)> on_shipped;
};
struct ReplicationStatus {
  std::string name;
  uint64_t epochs_closed = 0;
  uint64_t epochs_shipped = 0;
  uint64_t epochs_applied = 0;
  uint64_t journals_shipped = 0;
  uint64_t bytes_shipped = 0;
  uint64_t copy_failures = 0;  // shipping copies that failed (tried again)
  uint64_t lag_ns = 0;         // now - the barrier of the last applied epoch (0: none yet)
  uint64_t lag_bytes = 0;      // sealed journal bytes not yet applied
};

// A VSEG on one disk range (disk_wwpn, lun, lba), or striped over several
// (`stripe`), or mirrored on several (`mirror`); with either, disk_wwpn, lun
// and lba are unused.
struct VsegDef {
  uint64_t blocks = 0;
  uint64_t disk_wwpn = 0;
  uint16_t lun = 0;
  uint64_t lba = 0;  // first physical block
  uint64_t extent_blocks = 0;
  uint8_t flags = 0;  // map::redirect_flags, e.g. FoW
  std::optional<StripeDef> stripe = std::nullopt;
  // Multipath (simple VSEGs only): the WWPNs of further ports of the same
  // device, through which LUN `lun` from `lba` is the same storage. The CP
  // keeps a redirect entry per path and fails over between them.
  std::vector<uint64_t> alternate_paths = {};
  std::optional<MirrorDef> mirror = std::nullopt;
  std::optional<JournalDef> journal = std::nullopt;  // then disk_wwpn, lun and lba are unused
};

// A virtual volume (LV, figure 10): its VSEGs in LBA order.
struct VolumeDef {
  std::string name;
  uint32_t block_size = 512;
  std::vector<VsegDef> vsegs;
  MultipathPolicy multipath = MultipathPolicy::kPerEntry;  // for VSEGs with alternate_paths
  // When the first path (the disk's own port) is back in the name server
  // after a failover, test it and switch back to it (dm-multipath's
  // "failback immediate"); false: stay on the alternate ("manual").
  bool failback = false;
  // Served by several DVEs at once (figure 28; `join_cluster`): the writes of
  // its mirrored VSEGs are serialized among the DVEs with non-volatile
  // mirror-write oplocks, one per `CpConfig::mirror_write_chunk_blocks`.
  bool shared = false;
};

struct LunDef {
  uint16_t lun = 0;
  std::string volume;
  std::vector<uint64_t> initiators;  // WWPNs allowed; empty: every initiator
  bool read_only = false;
};

// A virtual target the CP fabricates and exposes on every port FP.
struct VirtualTargetDef {
  std::string name;
  uint64_t wwpn = 0;
  uint64_t wwnn = 0;  // 0: derived from wwpn
  std::vector<LunDef> luns;
};

// A restrictive update of a volume's mapping: blocks [lba, lba + blocks) of the
// volume (inside one VSEG) get new storage and/or flags.
struct MappingChange {
  std::string volume;
  uint64_t lba = 0;
  uint64_t blocks = 0;
  std::optional<map::SimpleStorage> storage;  // by disk WWPN: see disk_wwpn
  uint64_t disk_wwpn = 0;                     // with storage: the disk; storage.port_id ignored
  std::optional<uint8_t> flags;               // new redirect flags
};

// Online migration (figures 23-24) of one VSEG's storage to a new disk
// range: the VSEG holding volume block `lba` of `volume` moves to LUN `lun`
// of disk `disk_wwpn` from `dest_lba`, under I/O.
struct MigrationRequest {
  std::string volume;
  uint64_t lba = 0;
  uint64_t disk_wwpn = 0;
  uint16_t lun = 0;
  uint64_t dest_lba = 0;
  // Told, as each step's restrictive update takes effect, of VSEG-relative
  // blocks [start, start + blocks) becoming the copy barrier (moved = false:
  // the copy into the destination may start) or moving to the destination
  // (moved = true: I/Os now go there). For monitors and test harnesses.
  std::function<void(uint64_t start, uint64_t blocks, bool moved)> on_step = {};
};

// Where a migration is: blocks copied of the VSEG's, since when, the writes
// that met the copy barrier (they wait for it to move).
struct MigrationProgress {
  enum class State : uint8_t { kRunning, kDone, kFailed };
  uint32_t id = 0;
  std::string volume;
  uint32_t vseg_id = 0;
  State state = State::kRunning;
  uint64_t blocks = 0;
  uint64_t copied_blocks = 0;
  uint32_t block_size = 512;
  uint64_t started_ns = 0;
  uint64_t finished_ns = 0;  // kDone, kFailed
  uint64_t barrier_writes = 0;
  std::string error;  // kFailed

  double percent() const { return blocks ? 100.0 * double(copied_blocks) / double(blocks) : 100; }
  // Bytes copied per second of simulated time, at `now_ns`.
  double rate_bytes_per_s(uint64_t now_ns) const;
  // Seconds left at that rate (0 when done, -1 while nothing is copied yet).
  double eta_s(uint64_t now_ns) const;
};

// One side of a mirrored VSEG as the CP has it now.
struct MirrorSideReport {
  uint64_t disk_wwpn = 0;
  uint16_t lun = 0;
  uint64_t lba = 0;
  map::SideState state = map::SideState::kAlive;
  std::string why;  // why it died last (empty if it never did)
};

// A resynchronization of one side (fast resync, figure 31): the age-list
// extents whose generation differed from a live side's when it began
// (`stale_extents`), how many are copied, and the blocks copied.
struct ResyncProgress {
  enum class State : uint8_t { kRunning, kDone, kFailed };
  uint32_t side = 0;
  State state = State::kRunning;
  uint64_t extents = 0;  // all of the VSEG's age-list extents
  uint64_t stale_extents = 0;
  uint64_t copied_extents = 0;
  uint64_t copied_blocks = 0;
  uint64_t started_ns = 0;
  uint64_t finished_ns = 0;
  std::string error;  // kFailed

  double percent() const {
    return stale_extents ? 100.0 * double(copied_extents) / double(stale_extents) : 100;
  }
};

// A mirrored VSEG: its sides, the current generation number (incremented at
// every side state change), its age-list extent size, and its resyncs.
struct MirrorReport {
  std::string volume;
  uint32_t vseg_id = 0;
  uint64_t lba = 0;  // the volume block of VSEG block 0
  uint64_t blocks = 0;
  uint32_t block_size = 512;
  uint32_t generation = 0;
  uint64_t age_extent_blocks = 0;
  uint64_t deaths = 0;
  std::vector<MirrorSideReport> sides;
  std::vector<ResyncProgress> resyncs;  // oldest first
  // False while this DVE's copy of a shared mirror's side states may be
  // stale: fenced, booting, or not yet through the record since it shared
  // the Mirror Side State Changes oplock again (its misses wait meanwhile).
  bool current = true;
};

// A snapshot (figures 20-21): volume `name`, declared with storage of its
// own (the same VSEGs as `source`, each one simple disk range), becomes a
// read-only point-in-time image of `source`. A snapshot of a snapshot is
// taken the same way.
struct SnapshotRequest {
  std::string source;
  std::string name;
};

struct SnapshotInfo {
  std::string source;
  std::string name;
  bool ready = false;     // the point in time has been taken
  uint64_t taken_ns = 0;  // when
  uint64_t blocks = 0;
  uint64_t own_blocks = 0;  // pushed to its own storage (copy on write or the sweep)
  bool swept = false;       // every block is on its own storage
  std::string error;        // a push failed: the image is no longer exact
};

// An incremental (figure 22): volume `name`, declared with storage of its
// own (its private backing store, the same VSEGs as `base`), starts as the
// same image as `base`, which becomes read only; writes to the incremental
// are redirected to its own storage, so several incrementals of one base
// diverge independently.
struct IncrementalRequest {
  std::string base;
  std::string name;
};

// Growing a volume (LV reconfiguration): VSEG `vseg` is appended at the end
// of volume `volume`, under I/O. The volume's capacity grows by vseg.blocks;
// every host logged into a virtual target exposing the volume gets UNIT
// ATTENTION / CAPACITY DATA HAS CHANGED once per LUN on its next command.
struct GrowRequest {
  std::string volume;
  VsegDef vseg;
};

struct CpStats {
  uint64_t messages = 0;
  uint64_t mapping_misses = 0;                        // CpMappingMiss answered
  uint64_t queued_ios = 0;                            // CpQueueIO received
  std::array<uint64_t, fpapi::kFaultKinds> faults{};  // CpQueueIO by reason
  uint64_t completed_ios = 0;                         // FPQueueIOComplete sent
  uint64_t error_completions = 0;
  uint64_t dispatched = 0;       // FPDispatchIO sent
  uint64_t target_commands = 0;  // non-READ/WRITE commands answered as virtual target
  uint64_t els_answered = 0;
  uint64_t updates = 0;      // restrictive updates completed
  uint64_t drain_waits = 0;  // FPQueryPendingIOs polls that found I/Os pending
  uint64_t aborted_ios = 0;
  // CP-owned I/Os failed because a leg into a range being updated outlived
  // drain_timeout_ns (its exchange was lost, e.g. with the host's ABTS).
  uint64_t stale_leg_aborts = 0;
  uint64_t busy_ns = 0;             // modeled CP time
  uint64_t malformed_messages = 0;  // FP messages that did not decode: dropped
  uint64_t dropped = 0;    // well-formed but for nothing known (dtag, frame, reply): dropped
  uint64_t vi_logins = 0;  // virtual initiator PRLIs accepted by backing disks
  // Now, not a count: virtual-initiator logins wanted and not yet complete
  // (waiting for the disk to appear, or under way).
  uint64_t vi_logins_pending = 0;
  // Multipath: TEST UNIT READYs sent down paths, paths found failed (gone
  // from the name server, or the test failed), VSEGs switched to an
  // alternate path, and failovers that found no working path.
  uint64_t path_tests = 0;
  uint64_t paths_failed = 0;
  uint64_t path_failovers = 0;
  uint64_t path_failbacks = 0;  // switches back to the first path once it returned
  uint64_t failovers_without_path = 0;
  // Host I/Os on a failed path ended with ABORTED COMMAND for the host to retry.
  uint64_t path_failed_ios = 0;
  // Mirror write authority (figure 17): FPRemoveMapping of a mirror extent
  // from a port's FP so the CP (or another port) may write it, and mirror
  // writes the CP held back behind an overlapping one of its own.
  uint64_t mirror_revokes = 0;
  uint64_t mirror_write_waits = 0;
  // Journals (the write-journaling primitive): journals sealed full and
  // replaced (a port FP's after kJournalFull, or the CP's own), and sealed
  // journals reused before a consumer released them (their records lost).
  uint64_t journal_swaps = 0;
  uint64_t journals_recycled = 0;
  // Data services: FPCopyIOs sent, failed, and blocks copied by them;
  // CP-owned writes that met a migration's copy barrier and waited for it.
  uint64_t copies = 0;
  uint64_t copy_failures = 0;
  uint64_t copy_timeouts = 0;  // copies aborted at the FP after copy_timeout_ns
  uint64_t copied_blocks = 0;
  uint64_t barrier_write_waits = 0;
  uint64_t migrations_done = 0;
  // Snapshots: chunks pushed before a source write (copy on write, per
  // snapshot) and by the background sweep, and writes that waited for a push.
  uint64_t cow_pushes = 0;
  uint64_t sweep_pushes = 0;
  uint64_t cow_write_waits = 0;
  // Chunks pushed to snapshots at the end of a migration of their source,
  // because they still read the blocks the migration left (figure 33).
  uint64_t migration_pushes = 0;
  // Incrementals: chunks redirected to an incremental's own storage (the
  // base's blocks of the chunk copied there first).
  uint64_t redirects_on_write = 0;
  // LV reconfiguration: volumes grown, VSEGs split and merged, and UNIT
  // ATTENTION / CAPACITY DATA HAS CHANGED delivered (one per initiator, LUN
  // and capacity change; the reservation UAs are counted here too).
  uint64_t volumes_grown = 0;
  uint64_t vseg_splits = 0;
  uint64_t vseg_merges = 0;
  uint64_t unit_attentions = 0;
  // Reservations (reservations.cc): RESERVE/RELEASE(6) and PERSISTENT RESERVE
  // IN/OUT answered, and commands answered RESERVATION CONFLICT.
  uint64_t reservation_commands = 0;
  uint64_t reservation_conflicts = 0;
  // Mirror side states (figures 30-31): sides marked DEAD (a write to them
  // failed, their disk left the fabric, or an administrator said so), side
  // state changes made, first writes to an age-list extent recorded after a
  // change, host writes the CP did again on the live sides after a side
  // failed under them, and resyncs (extents and blocks copied).
  uint64_t side_deaths = 0;
  uint64_t side_state_changes = 0;
  uint64_t age_faults = 0;
  uint64_t side_failure_redos = 0;
  uint64_t resyncs_done = 0;
  uint64_t resync_extents = 0;
  uint64_t resync_blocks = 0;
  // DVE cluster: write authority over shared mirror chunks won from the
  // other DVEs, given up to them, and chunks an evicted DVE may have been
  // writing that this one reconciled (copied from the first ALIVE side).
  uint64_t dve_authority_acquired = 0;
  uint64_t dve_authority_given_up = 0;
  uint64_t dve_reconciled_chunks = 0;
  uint64_t dve_reconciled_blocks = 0;
  uint64_t dve_tasks_resumed = 0;  // an evicted DVE's tasks this DVE went on with
};

class ControlPath {
 public:
  ControlPath(CpEnvironment& env, const CpConfig& config);
  ~ControlPath();

  // --- DVE cluster (cp/dve.cc) ---
  // Makes this CP a DVE (id: its domain) of the cluster `env` connects,
  // before start(): shared volumes' mirror writes then need the DVE's write
  // authority over their chunks, and an evicted DVE's chunks are reconciled.
  void join_cluster(cluster::DveEnvironment& env, const cluster::OplockConfig& config);
  void on_dve_message(const cluster::DveMessage& message);
  // The DVE crashes: it sends and answers nothing more, its lease lapses
  // (the switch takes its ports down).
  void crash_dve();
  // Null unless join_cluster was called.
  const cluster::OplockNode* dve() const;

  ControlPath(const ControlPath&) = delete;
  ControlPath& operator=(const ControlPath&) = delete;

  // Metadata, before start(). False with a precise *error on bad input
  // (unknown volume, overlapping definitions, zero sizes).
  bool add_volume(const VolumeDef& volume, std::string* error);
  bool add_target(const VirtualTargetDef& target, std::string* error);

  // Brings the switch's virtualization up: FPDiscover on every port, virtual
  // targets registered and exposed, VSEG descriptors loaded, virtual
  // initiators logged in with the backing disks as they appear.
  void start();

  // An FP API message from port `port`'s FP (the environment calls this as the
  // mailbox delivers it).
  void on_fp_message(uint32_t port, uint32_t type, std::span<const uint8_t> payload);

  // The fabric changed at N_Port `port_id` (it logged in, registered, or
  // went away: what an RSCN tells). A backing disk there has forgotten the
  // virtual initiators' logins, so the CP logs them in again (and resolves a
  // disk it was still waiting for).
  void on_fabric_change(uint32_t port_id);

  // A restrictive update (see MappingChange); `done(true)` once the new
  // mapping is in force, `done(false)` with a logged reason if it is invalid.
  void change_mapping(const MappingChange& change, std::function<void(bool)> done);

  const CpStats& stats() const;
  // Journaled VSEGs: the journals sealed full, oldest first, not yet
  // released (a consumer reads their records, then releases them for
  // reuse); and the journals in use (each port FP's and the CP's, plus full
  // ones whose writes are still out), whose records so far are valid.
  std::vector<JournalInfo> sealed_journals() const;
  std::vector<JournalInfo> active_journals() const;
  // Returns a sealed journal to its VSEG's free journals; false if unknown.
  bool release_journal(uint32_t vseg_id, uint16_t journal_id);
  // A consumer will read and release every sealed journal: none is reused
  // before it is released. When a VSEG has no free journal, its writes wait
  // for one instead (a port without a journal faults them to the CP, whose
  // own writes are held) until release_journal. Without a consumer the
  // oldest sealed journal is reused (journals_recycled).
  void attach_journal_consumer();
  // Asynchronous ordered replication (replication.cc). False with a precise
  // *error (unknown volume, a VSEG that is not journaled, a staging area
  // smaller than a journal, a name in use).
  bool start_replication(const ReplicationRequest& request, std::string* error);
  // The remote applied epochs up to `epoch`: their staging slots are free.
  void release_staged(const std::string& name, uint64_t epoch);
  std::vector<ReplicationStatus> replications() const;

  // Starts an online migration (after start()); false with a precise *error
  // if the request cannot be served (unknown volume, a VSEG that is not a
  // single simple disk range, a destination overlapping used blocks, a
  // snapshot's VSEG, an incremental or its base). The source of snapshots
  // may migrate (figure 33): chunks it moves stop being shared with them.
  // `done(true)` when every block is on the destination, the source's
  // redirect entries are gone and no snapshot reads the source's blocks any
  // more (those it still mapped there are pushed to its own storage first):
  // only then are the source's blocks free; `done(false)` if a copy failed
  // for good (the VSEG then stays where each block was).
  bool start_migration(const MigrationRequest& request, std::string* error,
                       std::function<void(bool)> done = {});
  std::vector<MigrationProgress> migrations() const;

  // Takes a snapshot (after start()): false with a precise *error if it
  // cannot (unknown volumes, different layouts, storage that is not one
  // simple range per VSEG, the snapshot volume migrating or already a
  // snapshot). The source may be migrating (figure 33): the snapshot maps
  // each chunk where the source does at the instant (P2 if copied, P1 for
  // the barrier and the rest), and the migration goes on.
  // `done(true)` once the point in time is taken: from then on the first
  // write to each copy-granularity chunk of the source pushes the chunk's
  // old data to the snapshot's storage first (copy on write), and a sweep
  // pushes the rest in the background. Writes to the snapshot are refused
  // (DATA PROTECT).
  bool take_snapshot(const SnapshotRequest& request, std::string* error,
                     std::function<void(bool)> done = {});
  // A group-atomic snapshot of several volumes: one point in time for all
  // (their I/O paused at every FP and in the CP together), so a write that
  // completed before another began is in every snapshot the later one is.
  bool take_snapshots(const std::vector<SnapshotRequest>& group, std::string* error,
                      std::function<void(bool)> done = {});
  std::vector<SnapshotInfo> snapshots() const;
  // Takes an incremental (after start()); false with a precise *error.
  // `done(true)` once the base is read only and the incremental maps it.
  bool take_incremental(const IncrementalRequest& request, std::string* error,
                        std::function<void(bool)> done = {});

  // LV reconfiguration (after start(), lv_reconfig.cc). Each is false with
  // a precise *error if it cannot be served; accepted ones run one at a time
  // in the order asked (each checked again when its turn comes: done(false)
  // if it no longer fits). grow_volume appends a VSEG (simple, striped or
  // mirrored; not journaled or multipath) on blocks no VSEG uses; the new
  // capacity is in force at done(true): every FP exposes it, with the
  // hosts' UNIT ATTENTIONs pending, so no command sent later misses one.
  bool grow_volume(const GrowRequest& request, std::string* error,
                   std::function<void(bool)> done = {});
  // Splits the VSEG holding volume block `lba` of `volume` in two at `lba`
  // (the second starting there, on the same storage), under I/O: a
  // restrictive update of the VSEG. Simple VSEGs only (no stripe, mirror,
  // journal, alternate paths), not under a data service.
  bool split_vseg(const std::string& volume, uint64_t lba, std::string* error,
                  std::function<void(bool)> done = {});
  // Merges the VSEG starting at volume block `lba` into the one before it,
  // under I/O: both simple, contiguous on one disk LUN, with the same flags.
  bool merge_vsegs(const std::string& volume, uint64_t lba, std::string* error,
                   std::function<void(bool)> done = {});

  // Mirrors (mirror_state.cc). Every mirrored VSEG, its sides' states and
  // resyncs. fail_mirror_side marks side `side` of the mirrored VSEG holding
  // volume block `lba` DEAD (as a failed write would); done(true) once every
  // FP splits writes to the live sides only. return_mirror_side brings a
  // DEAD side back: RESYNC (it gets writes, serves no reads) while the
  // extents whose age differs are copied from a live side, then ALIVE
  // (done(true)); done(false) if the resync failed (the side is DEAD again).
  // Sides whose disk left the fabric return by themselves when it is back.
  std::vector<MirrorReport> mirrors() const;
  bool fail_mirror_side(const std::string& volume, uint64_t lba, uint32_t side, std::string* error,
                        std::function<void(bool)> done = {});
  bool return_mirror_side(const std::string& volume, uint64_t lba, uint32_t side,
                          std::string* error, std::function<void(bool)> done = {});

  // The N_Port ID fabricated for a virtual target, 0 if unknown.
  uint32_t target_port_id(const std::string& target_name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace splitpath::cp
