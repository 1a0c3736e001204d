// Internal: the state of a ControlPath and the units that work on it, one .cc
// file each:
//   control_path.cc       message intake, the CP cost model, bring-up (start)
//   fault_handler.cc      CpMappingMiss, CpQueueIO, CP-owned READ/WRITE legs
//   virtual_target.cc     host ELS/ABTS as virtual target, target commands
//   virtual_initiator.cc  resolving backing disks, PLOGI/PRLI from each port
//   restrictive_update.cc change_mapping (revoke, drain, change, reload)
//   mirror_authority.cc   who may write a mirror (or journaled) extent: one
//                         FP or the CP (serialization, figure 17)
//   journal.cc            journaled VSEGs' journals: one per port FP and one
//                         for the CP, swapped when full, sealed for a consumer
//   copy_agent.cc         disk-to-disk copies by a port's FP (FPCopyIO)
//   migration.cc          online migration: the copy barrier (figures 23-24)
//   snapshot.cc           snapshots: copy on write, the sweep (figures 20-21)
//   incremental.cc        incrementals: redirect on write (figure 22)
//   lv_reconfig.cc        growing volumes, splitting and merging VSEGs,
//                         CAPACITY DATA HAS CHANGED unit attentions
//   mirror_state.cc       mirror side states (ALIVE, DEAD, RESYNC), age
//                         lists, fast resynchronization (figures 30-31)
// Everything runs on the CP's one thread of control (the environment's event
// loop); nothing here locks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "cp/cluster/oplock_node.h"
#include "cp/control_path.h"
#include "cp/fp_link.h"
#include "cp/io_split.h"
#include "cp/metadata.h"
#include "cp/target/persistent_reservation.h"
#include "splitpath/fc/scsi_sense.h"
#include "splitpath/fpapi.h"

namespace splitpath::cp {

// Login of one port's virtual initiator into one backing disk.
struct ViLogin {
  enum class State : uint8_t { kIdle, kPlogi, kPrli, kReady };
  State state = State::kIdle;
  bool wanted = false;  // some I/O or host login through this port needs it
  uint16_t ox_id = 0;
  uint64_t attempt = 0;  // guards timers of earlier attempts
};

// A READ/WRITE the CP owns (queued to it), moved by linked FPDispatchIO legs.
struct CpIo {
  uint32_t port = 0;
  fpapi::UpstreamIo io;
  uint32_t lv_id = 0;
  uint32_t block_size = 512;
  bool write = false;  // op_writes(op)
  bool fua = false;
  RwRequest command;         // op, UNMAP bit, FUA for the legs
  uint64_t lba = 0;          // volume block of the first block
  uint64_t blocks = 0;       // blocks to move (FCP_DL permitting)
  uint64_t next = 0;         // blocks already dispatched
  uint32_t outstanding = 0;  // legs in flight
  bool blocked = false;      // waiting for an update or a disk login
  bool aborting = false;     // the host sent ABTS: wait for kAborted, send nothing
  bool stale = false;        // a restrictive update aborted its stuck legs: fail it
  bool failed = false;
  uint8_t status = 0;
  std::vector<uint8_t> sense;
  uint8_t residual_flags = 0;
  uint32_t residual = 0;
  // Mirror extents (MirrorExtentKey) this I/O holds write authority over.
  std::vector<std::pair<uint32_t, uint64_t>> mirror_holds;
  bool met_barrier = false;  // a write that waited for a migration's copy barrier
  bool met_push = false;     // a write that waited for a snapshot push
  // A mirror side failed under this write: once its legs are all back it
  // starts again (after the side's state change), on the live sides only.
  bool redo = false;
  uint32_t redos = 0;
  // UNMAP: the ranges after [lba, lba + blocks), done in turn.
  std::deque<std::pair<uint64_t, uint32_t>> more_ranges;
  uint64_t done_bytes = 0;  // Data-Out bytes of the ranges before this one
};

// A VSEG of an incremental volume (incremental.cc): each chunk maps to its
// read-only base's storage until its first write redirects it to its own.
struct IncrementalVseg {
  uint32_t base = 0;  // the base VSEG
  uint32_t own_disk = 0;
  map::SimpleStorage own;  // start_lba: the block of VSEG block 0
  uint8_t flags = 0;       // the flags of its own chunks (read and write)
};

// `blocks` blocks copied from one disk range to another by a port's FP
// (FPCopyIO); the disks by index into Metadata::disks().
struct CopyRequest {
  uint32_t src_disk = 0;
  uint16_t src_lun = 0;
  uint64_t src_lba = 0;
  uint32_t dst_disk = 0;
  uint16_t dst_lun = 0;
  uint64_t dst_lba = 0;
  uint32_t blocks = 0;
  uint32_t block_size = 512;
};

// A copy out at a port's FP, by dtag.
struct CopyTask {
  uint32_t port = 0;
  CopyRequest request;
  uint32_t attempt = 0;
  std::function<void(bool)> done;
  bool aborting = false;  // timed out: FPAbortPendingIOs sent
};

// An online migration of one simple VSEG (figures 23-24): blocks before
// `barrier_start` are on the destination (redirect entry "copied", read
// and write), [barrier_start, + barrier_blocks) is the copy barrier
// (the source, FoW: writes wait in the CP), the rest still on the source
// (read and write).
struct Migration {
  MigrationProgress progress;
  uint32_t dst_disk = 0;
  map::SimpleStorage dst;  // start_lba: the destination block of VSEG block 0
  uint8_t flags = 0;       // the VSEG's redirect flags before the migration
  uint64_t chunk_blocks = 0;
  uint64_t barrier_start = 0;
  uint64_t barrier_blocks = 0;
  bool barrier_set = false;  // the barrier's entry is in force (writes there wait)
  uint32_t copies_out = 0;
  bool copy_failed = false;
  std::function<void(bool)> done;
  std::function<void(uint64_t, uint64_t, bool)> on_step;  // MigrationRequest::on_step
  // Of a VSEG several DVEs serve (dve_migration.cc): each step is made under
  // the chunks' Rmap oplocks; `remote`: another DVE runs it, this one only
  // follows its record. The task's id in the task journal, its start line.
  bool shared = false;
  bool remote = false;
  uint64_t task_id = 0;
  uint64_t incarnation = 0;  // the DVE incarnation running it
  std::string line;
};

struct Leg {
  uint64_t io_key = 0;
  uint32_t vseg_id = 0;
  uint64_t start = 0;  // VSEG-relative
  uint64_t blocks = 0;
  bool mirror_write = false;  // one side's copy of a write to a mirror
  bool cp_journal = false;    // a record in the CP's journal `journal_id`
  uint16_t journal_id = 0;
  uint32_t element = 0;    // the descriptor element it goes to (a mirror's side)
  uint64_t io_offset = 0;  // byte offset of its first block in the host's command
};

// One age-list entry (figure 30): the generation of the last change the side
// holds for the extent, and the DVE that recorded it (its switch's domain).
struct AgeEntry {
  uint32_t generation = 0;
  uint16_t dve = 0;
  friend bool operator==(const AgeEntry&, const AgeEntry&) = default;
};

// A resync under way (mirror_state.cc): `stale` extents copied in order
// from side `from`, each under a copy barrier (FoW: writes into it wait).
struct MirrorResync {
  uint32_t side = 0;
  uint32_t from = 0;
  std::vector<uint64_t> stale;
  size_t next = 0;
  std::optional<uint64_t> barrier;  // the extent being copied
  bool aborted = false;             // the side died again meanwhile
  bool peer = false;                // another DVE resynchronizes the side (shared mirror)
  bool recopy = false;              // `from` died while an extent was copied from it
  uint64_t task_id = 0;             // shared mirror: the task in this DVE's task journal
  uint64_t incarnation = 0;         // the DVE incarnation that recorded it
  size_t history = 0;               // its ResyncProgress in MirrorAges::history
  std::function<void(bool)> done;
};

// A shared mirror's side states as recorded in the storehouse under its
// side-state oplock (dve_mirror_state.cc).
struct DveSideRecord {
  std::vector<map::SideState> state;
  std::vector<bool> path_lost;
};

// A mirrored VSEG's side states' bookkeeping: the generation number, one
// age list per side over fixed-size extents, which extents still fault
// their first write under this generation (FoW), and why sides died.
struct MirrorAges {
  uint32_t generation = 0;
  uint64_t extent_blocks = 0;
  uint64_t extents = 0;
  uint8_t base_flags = 0;                  // the entries' flags without the age FoW
  std::vector<std::vector<AgeEntry>> age;  // [side][extent]
  std::vector<bool> fow;                   // [extent]
  bool tracking = false;                   // some side is not ALIVE: writes are recorded
  std::vector<std::string> why;            // [side]
  std::vector<bool> path_lost;             // [side]: died with its disk; back when it is
  std::vector<bool> dying;                 // [side]: its death is queued, not applied yet
  uint32_t changes_pending = 0;            // state changes queued, not applied yet
  std::optional<MirrorResync> resync;
  std::vector<ResyncProgress> history;
  uint64_t deaths = 0;
};

// One journal of a journaled VSEG's area: journal_blocks blocks from `lba`.
struct CpJournal {
  uint16_t id = 0;
  uint64_t lba = 0;
  uint64_t epoch = 0;  // the replication epoch it was handed out in (its records belong to it)
};

// The journals of one journaled VSEG (journal.cc).
struct JournalSet {
  std::deque<uint64_t> free;           // first blocks of unused journals
  std::deque<CpJournal> sealed;        // full, oldest first, until released
  std::map<uint32_t, CpJournal> port;  // each port FP's journal
  // Ports whose journal is being swapped (their entry removed until the
  // swap ends), by swap id.
  std::map<uint32_t, uint64_t> swapping;
  // Journals an FP may still be writing records into: each is sealed once
  // that FP's I/Os into the VSEG started by `started_by_ns` have drained
  // (~0: bounded by the FP's time at the first poll), then `then` runs.
  struct Retiring {
    uint64_t id = 0;
    uint32_t port = 0;
    CpJournal journal;
    uint64_t started_by_ns = ~0ull;
    std::function<void()> then;
  };
  std::vector<Retiring> retiring;
  // Ports sent the entry without a journal (none was free): they get one
  // when a journal is released.
  std::set<uint32_t> starved;
  // The CP's own journal: its pointer and next sequence number, and the
  // record legs out in each CP journal (a full one is sealed once it has none).
  std::optional<CpJournal> cp;
  uint32_t cp_used = 0;
  uint32_t cp_seq = 0;
  std::map<uint16_t, uint32_t> cp_legs_out;
  std::vector<CpJournal> cp_full;  // full, legs still out
  uint16_t next_id = 1;
  // Asynchronous replication: the epoch journals handed out now belong to
  // (incremented at every barrier, replication.cc), and the ports that may
  // have written records into their journal since the last barrier (an
  // extent of the VSEG loaded there, or a journal handed to it while it may
  // hold extents): a barrier seals only theirs.
  uint64_t epoch = 0;
  std::set<uint32_t> may_write;
};

// An asynchronous ordered replication (replication.cc, figure 32).
struct Replication {
  ReplicationRequest request;
  std::vector<uint32_t> vsegs;  // every journaled VSEG of its volumes
  uint64_t closed = 0;          // epochs closed by a barrier (epoch e: before barrier e)
  std::map<uint64_t, uint64_t> barrier_ns;  // per closed epoch
  uint64_t shipped = 0;                     // epochs whose every journal is in the staging area
  uint64_t released = 0;                    // epochs the remote applied
  std::deque<uint64_t> free_slots;          // staging slots' first blocks
  uint32_t slot_blocks = 0;
  // Journals being shipped or shipped, not yet applied: by (vseg, journal id).
  std::map<std::pair<uint32_t, uint16_t>, StagedJournal> staged;
  // Journals being copied to the staging area: their epochs.
  std::map<std::pair<uint32_t, uint16_t>, uint64_t> in_flight;
  ReplicationStatus status;
};

// Write authority over one extent of a mirrored VSEG (figures 16-17): at most
// one holder at a time, one port's FP (which then serializes its own writes,
// figure 16) or the CP (which serializes its own, figure 17). Taking it from
// an FP revokes the extent there (FPRemoveMapping) and waits for that FP's
// I/Os into it to drain.
struct MirrorAuthority {
  enum class State : uint8_t { kNone, kFp, kRevoking, kCp };
  State state = State::kNone;
  uint32_t port = 0;        // kFp, kRevoking: the FP holding (or losing) it
  uint32_t cp_holders = 0;  // kCp: CP-owned I/Os writing into it
  bool give_back = false;   // the CP took it from `port` for a write: re-add it there after
  uint64_t revoke_id = 0;   // guards replies and timers of an earlier revoke
  uint64_t began_ns = 0;    // kRevoking: when
  uint64_t started_by_ns = 0;
  bool aborted = false;
  uint32_t vseg_id = 0;
  uint64_t start = 0;  // the extent, VSEG-relative
  uint64_t length = 0;
};
using MirrorExtentKey = std::pair<uint32_t, uint64_t>;  // (VSEG id, extent start)

// A chunk of a shared mirror as this DVE sees its mirror-write oplock
// (dve.cc): held once acquired (and released to sharing: this DVE's write
// authority), until another DVE acquires it.
struct DveChunk {
  bool held = false;
  bool acquiring = false;
  bool letting_go = false;
};

// A VSEG of a snapshot volume (snapshot.cc): each chunk maps either to the
// storage it shares with the live VSEG `root` (read only, not pushed yet) or
// to its own storage (read only, pushed).
struct SnapshotVseg {
  uint32_t snapshot = 0;   // index in Impl::snapshots
  uint32_t root = 0;       // the writable VSEG whose data it holds (through any chain)
  uint32_t own_disk = 0;   // its own storage
  map::SimpleStorage own;  // start_lba: the block of VSEG block 0
  uint64_t sweep_next = 0;
};

struct Snapshot {
  SnapshotInfo info;
  uint32_t lv_id = 0;
  std::vector<uint32_t> vsegs;
  uint32_t updates_left = 0;
  bool sweeping = false;
  // Taken by another DVE of the cluster (dve_snapshot.cc): that one sweeps it.
  bool taken_by_peer = false;
  // A shared snapshot's sweep is a task of its DVE's task journal, finished
  // by the DVE that evicts it: its id, and the DVE incarnation sweeping.
  uint64_t sweep_task = 0;
  uint64_t sweep_incarnation = 0;
  std::function<void(bool)> done;
};

// One restrictive update in progress (FPAPI.md, "Restrictive update").
struct Update {
  uint64_t id = 0;  // guards replies and timers of an earlier update
  MappingChange change;
  std::function<void(bool)> done;
  uint32_t vseg_id = 0;
  uint64_t start = 0;  // VSEG-relative
  uint64_t length = 0;
  uint32_t disk = 0;  // with change.storage
  uint64_t began_ns = 0;
  // Set for a multipath failover (multipath.cc): instead of remap_range,
  // `apply` changes the metadata and reloads what changed; the path is dead,
  // so pending I/Os are aborted at once (their hosts get ABORTED COMMAND and
  // retry) rather than waited for.
  std::function<void()> apply;
  bool path_failed = false;
  // Misses into the range wait for the update to end and then load the new
  // extent (CONTINUE), instead of being queued to the CP: a migration's
  // barrier steps keep reads on the FP.
  bool hold_misses = false;
  // Further ranges revoked and drained together with the first (a group
  // change: several VSEGs paused at once, e.g. a group-atomic snapshot).
  struct Range {
    uint32_t vseg_id = 0;
    uint64_t start = 0;
    uint64_t length = 0;
  };
  std::vector<Range> more;
  // Every range of the update, the first one first.
  std::vector<Range> ranges() const {
    std::vector<Range> out{Range{vseg_id, start, length}};
    out.insert(out.end(), more.begin(), more.end());
    return out;
  }
  struct PortDrain {
    bool removed = false;
    bool drained = false;
    bool aborted = false;
    uint64_t started_by_ns = 0;
    uint32_t removals_out = 0;  // FPRemoveMapping replies awaited (one per range)
    uint32_t range = 0;         // the range being polled
  };
  std::vector<PortDrain> ports;
};

// A multipath failover under way for one VSEG: its path `from` failed; the
// alternates are tested in order, from `next_candidate`.
struct Failover {
  uint32_t from = 0;
  uint32_t next_candidate = 0;
  uint64_t attempt = 0;   // guards the timers of earlier tests
  uint32_t retests = 0;   // of the current candidate, waiting for its login
  bool updating = false;  // the switch is in the update queue
  // A failback: `from` is the alternate in use and path 0, back in the name
  // server, the only candidate; the switch drains normally (nothing failed).
  bool failback = false;
};

// A TEST UNIT READY the CP sent down a path (an unlinked FPDispatchIO).
struct PathTest {
  uint32_t vseg_id = 0;
  uint32_t path = 0;
  uint64_t attempt = 0;
};

struct ControlPath::Impl {
  Impl(CpEnvironment& e, const CpConfig& c) : env(e), config(c), link(e) {}

  CpEnvironment& env;
  CpConfig config;
  FpLink link;
  Metadata metadata;
  CpStats stats;
  bool started = false;
  // Closures scheduled on the environment hold a weak reference to this, so
  // they do nothing once the ControlPath is gone.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  // The cost model: FP messages wait here and are handled one at a time.
  struct Inbound {
    uint32_t port = 0;
    uint32_t type = 0;
    std::vector<uint8_t> payload;
    uint64_t cost = 0;
  };
  std::deque<Inbound> inbox;
  bool busy = false;

  // Virtual initiator logins: [port][disk].
  std::vector<std::vector<ViLogin>> logins;
  uint16_t next_ox_id = 0x4000;
  bool resolve_scheduled = false;
  // Redirect entries loaded into each FP: key(port, vseg, index).
  absl::flat_hash_set<uint64_t> loaded_redirects;

  // Hosts: N_Port ID -> WWPN from PLOGI; (target, host) logins; exposures
  // already appended (target, lun, host).
  absl::flat_hash_map<uint32_t, uint64_t> host_wwpn;
  absl::flat_hash_set<uint64_t> host_logins;
  absl::flat_hash_set<uint64_t> appended;
  // Host exchanges aborted by ABTS: key(port, initiator, ox_id).
  absl::flat_hash_set<uint64_t> host_aborted;
  // Initiators that left the fabric, by key(port, initiator): the number of
  // FPAbortPendingIOs for all their exchanges still unanswered by that FP.
  absl::flat_hash_map<uint64_t, uint32_t> departed;

  // CP-owned READ/WRITEs by key(port, utag), and their legs by dtag.
  absl::flat_hash_map<uint64_t, CpIo> ios;
  absl::flat_hash_map<uint32_t, Leg> legs;
  uint32_t next_dtag = 1;

  // Multipath failovers by VSEG id, and the path tests out by dtag.
  absl::flat_hash_map<uint32_t, Failover> failovers;
  absl::flat_hash_map<uint32_t, PathTest> path_tests;
  uint64_t next_failover_attempt = 1;
  std::map<MirrorExtentKey, MirrorAuthority> mirror_authority;
  // ---- dve.cc: the DVE cluster
  struct DveClient;
  std::unique_ptr<cluster::OplockClient> dve_client;
  std::unique_ptr<cluster::OplockNode> dve;
  std::set<std::string> shared_volumes;    // VolumeDef::shared
  std::map<uint32_t, uint64_t> vseg_guid;  // shared VSEG id -> its guid, the same on every DVE
  std::map<uint64_t, uint32_t> guid_vseg;
  std::map<cluster::OplockId, DveChunk> dve_chunks;
  // ---- dve_snapshot.cc: snapshots of shared volumes
  cluster::DveEnvironment* dve_env = nullptr;
  std::map<uint32_t, uint64_t> lv_guid;     // shared LV id -> its guid, the same on every DVE
  std::set<cluster::OplockId> dve_current;  // shared, and the record applied since
  std::set<cluster::OplockId> dve_sharing;  // share requests out
  std::set<uint32_t> dve_applying;          // LVs taking a peer's snapshot here (I/O held)
  std::set<uint32_t> dve_applying_sides;    // VSEGs taking a peer's side states (I/O held)
  // Side-state changes waiting for their oplock: failed if this DVE crashes
  // or is fenced first (the oplock's request is lost with it).
  struct DveSideChange {
    uint32_t vseg_id = 0, side = 0;
    map::SideState to = map::SideState::kAlive;
    std::shared_ptr<std::function<void(bool)>> done;
  };
  std::map<uint64_t, DveSideChange> dve_side_changes;
  uint64_t dve_side_change_seq = 0;
  std::set<std::string> dve_snapshots_known;           // snapshot names taken here or by a peer
  bool applying_peer_snapshot = false;                 // take_snapshots runs for a peer's group
  uint64_t dve_incarnation = 0;                        // + 1 at each crash or fence
  std::map<std::string, uint64_t> dve_sweeps_adopted;  // snapshot not taken here yet -> task
  // The sweep tasks recorded with a snapshot's record, before it is taken
  // here: snapshot name -> task id and the incarnation that recorded it.
  std::map<std::string, std::pair<uint64_t, uint64_t>> dve_sweep_intents;
  uint32_t dve_task_seq = 0;
  std::set<std::string> dve_migrations_known;              // start lines of shared migrations
  std::map<std::string, uint64_t> dve_migrations_adopted;  // start line -> task
  // Misses held until this DVE shares the oplocks of their extent.
  std::vector<std::pair<uint32_t, fpapi::CpMappingMiss>> dve_held_misses;
  uint64_t next_revoke_id = 1;
  uint32_t mirror_read_turn = 0;            // CP-owned reads of mirrors: round robin
  std::map<uint32_t, JournalSet> journals;  // by VSEG id
  uint64_t next_journal_drain_id = 1;       // swaps and retiring journals
  bool journal_consumer = false;            // attach_journal_consumer()

  absl::flat_hash_map<uint32_t, CopyTask> copy_tasks;  // by dtag
  uint32_t copy_turn = 0;                              // the port the next copy tries first
  std::map<uint32_t, Migration> migrations;            // by id
  uint32_t next_migration_id = 1;

  std::vector<Snapshot> snapshots;
  std::map<uint32_t, SnapshotVseg> snapshot_vsegs;  // by VSEG id
  std::map<uint32_t, uint8_t> snapshot_roots;       // live VSEG id -> its flags before any snapshot
  std::set<std::pair<uint32_t, uint64_t>> pushing;  // (root VSEG, chunk) being pushed
  std::map<uint32_t, IncrementalVseg> incremental_vsegs;  // by VSEG id
  std::set<uint32_t> frozen_lvs;                          // incrementals' bases: read only
  std::set<uint32_t> incremental_lvs;
  std::set<std::pair<uint32_t, uint64_t>> redirecting;  // (incremental VSEG, chunk)

  // Misses held until the update in progress ends (Update::hold_misses).
  std::vector<std::pair<uint32_t, fpapi::CpMappingMiss>> held_misses;

  // LV reconfiguration (lv_reconfig.cc): the accepted grow/split/merge
  // requests not started yet (each re-checked when it starts), and whether
  // one is running.
  std::deque<std::function<void()>> reconfigs;
  bool reconfig_running = false;
  // Pending UNIT ATTENTIONs (ASC/ASCQ in the order they arose: CAPACITY DATA
  // HAS CHANGED, RESERVATIONS PREEMPTED/RELEASED, REGISTRATIONS PREEMPTED) by
  // lun_host_key(target, LUN, initiator), each reported once; while a
  // (target, LUN) has any, it is exposed masked: only the initiators without
  // one stay on the FPs' fast path (ua_exposures, by lun_key).
  absl::flat_hash_map<uint64_t, std::deque<fc::AscAscq>> pending_uas;
  std::set<uint64_t> ua_exposures;

  // Reservations (reservations.cc), one state per volume (by LV id) whatever
  // target and LUN present it; the PR OUT commands whose parameter list is
  // being fetched from the host (FpGetData), by io_key(port, utag).
  std::map<uint32_t, ReservationState> reservations;
  // Parameter lists (PR OUT's, UNMAP's) on their way from the host
  // (FpGetData, parameter_fetch.cc), by io_key(port, utag): `done` gets the
  // bytes once `want` have come.
  using ParametersDone =
      std::function<void(uint32_t port, const fpapi::UpstreamIo& io, std::vector<uint8_t>)>;
  struct ParameterFetch {
    fpapi::UpstreamIo io;
    uint32_t want = 0;
    std::vector<uint8_t> parameters;
    ParametersDone done;
  };
  std::map<uint64_t, ParameterFetch> parameter_fetches;

  std::map<uint32_t, MirrorAges> mirror_ages;       // by VSEG id (plain mirrors)
  std::map<std::string, Replication> replications;  // by name

  std::deque<Update> updates;  // front: in progress when `update_active`
  bool update_active = false;
  uint64_t next_update_id = 1;

  // ---- control_path.cc
  void later(uint64_t delay_ns, std::function<void()> fn);
  void enqueue(uint32_t port, uint32_t type, std::span<const uint8_t> payload);
  void run_next();
  void handle(uint32_t port, uint32_t type, std::span<const uint8_t> payload);
  void start();
  uint32_t port_count() const { return env.fp_port_count(); }
  static uint64_t io_key(uint32_t port, uint32_t utag) { return (uint64_t{port} << 32) | utag; }
  static uint64_t redirect_key(uint32_t port, uint32_t vseg, uint32_t index) {
    return (uint64_t{port} << 48) | (uint64_t{vseg} << 16) | index;
  }
  static uint64_t exchange_key(uint32_t port, uint32_t initiator, uint16_t ox_id) {
    return (uint64_t{port} << 40) | (uint64_t{initiator & 0xFFFFFF} << 16) | ox_id;
  }

  static uint64_t lun_host_key(uint32_t target, uint16_t lun, uint32_t host) {
    return (uint64_t{target & 0xFFFFFF} << 40) | (uint64_t{lun} << 24) | (host & 0xFFFFFF);
  }
  // A host's login into a virtual target.
  static uint64_t login_key(uint32_t target, uint32_t host) {
    return (uint64_t{target & 0xFFFFFF} << 24) | (host & 0xFFFFFF);
  }
  static uint64_t lun_key(uint32_t target, uint16_t lun) {
    return (uint64_t{target & 0xFFFFFF} << 16) | lun;
  }

  // ---- fault_handler.cc
  // `again`: a held miss answered now (counted when it came).
  void on_miss(uint32_t port, const fpapi::CpMappingMiss& miss, bool again = false);
  void on_queue_io(uint32_t port, const fpapi::CpQueueIO& q);
  void on_dispatch_complete(uint32_t port, const fpapi::CpDispatchIOComplete& c);
  void start_rw(uint32_t port, const fpapi::UpstreamIo& io);
  // A CP-owned block command whose checks passed: its CpIo, pumped.
  void begin_io(uint32_t port, const fpapi::UpstreamIo& io, uint32_t lv_id, const Volume& vol,
                const RwRequest& rw, std::deque<std::pair<uint64_t, uint32_t>> more_ranges);
  bool write_protected(const Lun& lun) const;
  // block_commands.cc: limits and Data-Out checks (true: answered with the
  // sense); UNMAP's parameter list, then its ranges.
  bool block_command_refused(uint32_t port, const fpapi::UpstreamIo& io, const RwRequest& rw,
                             uint32_t block_size);
  void start_unmap(uint32_t port, const fpapi::UpstreamIo& io);
  void unmap_parameters_in(uint32_t port, const fpapi::UpstreamIo& io,
                           std::span<const uint8_t> list);
  void pump(uint64_t key);
  void finish(uint64_t key);
  void retry_blocked();
  void complete(uint32_t port, uint32_t utag, uint8_t status, std::span<const uint8_t> sense,
                uint8_t residual_flags = 0, uint32_t residual = 0, bool silent = false);
  void complete_check(uint32_t port, uint32_t utag, uint8_t key, uint8_t asc, uint8_t ascq);
  // The redirect entry as the FPs get it (fault_every_io adds FoR|FoW).
  map::RedirectEntry fp_redirect(const Vseg& seg, map::RedirectIndex index) const;
  void send_redirect(uint32_t port, const Vseg& seg, map::RedirectIndex index, fpapi::MsgType type);
  // Whether every disk of the entry is logged in from `port` (want_login on
  // each, so the missing ones start).
  bool entry_ready(uint32_t port, const Vseg& seg, map::RedirectIndex index);
  // May `initiator` (N_Port ID) access `lun`? (LUN masking by WWPN.)
  bool allowed(const Lun& lun, uint32_t initiator) const;

  // ---- virtual_target.cc
  void on_frame(uint32_t port, const fpapi::CpFrame& frame);
  void on_target_els(uint32_t port, const Target& target, std::span<const uint8_t> frame);
  void on_abts(uint32_t port, std::span<const uint8_t> frame);
  void answer_command(uint32_t port, const fpapi::UpstreamIo& io);
  // ---- task_management.cc
  // Carries out the FCP task management function of `io` and answers it.
  void answer_task_management(uint32_t port, const fpapi::UpstreamIo& io);
  // Resets the LU `lun` of `target` (every LUN presenting its volume) for
  // `initiator`'s reset; adds the req_ids of the FPExposes sent to `reqs`.
  void reset_logical_unit(const Target& target, const Lun& lun, uint32_t initiator,
                          std::vector<uint32_t>& reqs);
  // Aborts the I/Os the CP owns on (target, LUN): they end without status.
  void abort_cp_tasks(uint32_t target, uint16_t lun);
  // The initiator `host` (N_Port ID) left the fabric or came back: its
  // logins are gone and its open exchanges end silently (FPAPI.md, "Host
  // departure").
  void on_initiator_gone(uint32_t host);
  // Has the host abandoned this exchange (ABTS, or it departed)? Then no
  // FCP_RSP may be sent for it.
  bool host_ended(uint32_t port, uint32_t initiator, uint16_t ox_id) const;
  // `masked`: list only `initiators`, even for a LUN any initiator may use
  // (while UAs are pending).
  void send_expose(uint32_t port, const Target& target, const Lun& lun, uint8_t extra_flags,
                   std::span<const uint32_t> initiators, uint32_t req_id, bool masked = false);

  // (Re-)exposes `lun` of `target` on every FP with the volume's capacity
  // now: to the initiators that may use the fast path (with UAs pending,
  // only the logged-in ones without one; the others fault to the CP).
  // Returns the req_ids of the FPExposes sent (each FP replies to each).
  std::vector<uint32_t> expose_lun(const Target& target, const Lun& lun);

  // ---- lv_reconfig.cc
  bool grow_volume(const GrowRequest& request, std::string* error, std::function<void(bool)> done);
  bool split_vseg(const std::string& volume, uint64_t lba, std::string* error,
                  std::function<void(bool)> done);
  bool merge_vsegs(const std::string& volume, uint64_t lba, std::string* error,
                   std::function<void(bool)> done);
  // Runs `start` now if no reconfiguration is running, else after the
  // ones before it; `start` must call end_reconfig() when done.
  void queue_reconfig(std::function<void()> start);
  // `start` (checks, then begins a split or merge) now if no
  // reconfiguration is running, else queued and checked again at its turn.
  bool start_or_queue_reconfig(const std::string& what, const std::string& volume,
                               std::function<bool(std::string*)> start, std::string* error,
                               std::function<void(bool)> done);
  // A restrictive update over whole VSEGs `ids`; `change` (the metadata
  // edit and the FPs' reload) runs under it; `done` gets its result.
  void reconfig_vsegs(const std::vector<uint32_t>& ids, std::function<void(bool)> done,
                      std::function<bool()> change);
  void end_reconfig();
  // Why a VSEG cannot be split or merged now (a data service uses it), or "".
  std::string reconfig_busy(uint32_t vseg_id);
  // The FPs' copies of `old_ids` are replaced by the metadata's VSEGs
  // `new_ids` (descriptors, then redirect entries; extents load on misses).
  void reload_vsegs(const std::vector<uint32_t>& old_ids, const std::vector<uint32_t>& new_ids);
  // The capacity of `lv_id` changed: every logged-in initiator of each LUN
  // exposing it gets a UA pending, and the LUN is exposed masked;
  // `exposed` runs once every FP has the new exposures (so no command the
  // FPs receive from then on bypasses a pending UA).
  void capacity_changed(uint32_t lv_id, std::function<void()> exposed);
  // A command from the FP (fresh, not yet started): if its initiator has a
  // UA pending for its LUN, answer CHECK CONDITION with it (the UA is then
  // delivered) and return true.
  bool deliver_unit_attention(uint32_t port, const fpapi::UpstreamIo& io);
  // `host` left: its pending UAs are void.
  void drop_unit_attentions(uint32_t host);
  // Queues UA `code` for (target, LUN, host) unless it is already pending,
  // and exposes the LUN masked (the caller re-exposes it).
  void queue_unit_attention(uint32_t target, uint16_t lun, uint32_t host, fc::AscAscq code);
  // Whether any UA is pending for (target, LUN).
  bool unit_attentions_pending(uint64_t lun_key) const;

  // ---- reservations.cc
  // The I_T nexus of `host` at the target with port ID `target`.
  Nexus nexus_of(uint32_t target, uint32_t host) const;
  // RESERVATION CONFLICT for a command a reservation forbids (answered, true).
  bool reservation_conflict(uint32_t port, const fpapi::UpstreamIo& io);
  // RESERVE(6), RELEASE(6), PERSISTENT RESERVE IN/OUT: answered (true), or not one.
  bool reservation_command(uint32_t port, const fpapi::UpstreamIo& io);
  void on_get_data_reply(uint32_t port, const fpapi::FpGetDataReply& r);
  void pr_out_parameters_in(uint32_t port, const fpapi::UpstreamIo& io,
                            std::vector<uint8_t> parameters);
  // Asks the host for the first `length` bytes of its Data-Out; false (and
  // nothing sent) when the CP already fetches for that utag.
  bool fetch_parameters(uint32_t port, const fpapi::UpstreamIo& io, uint32_t length,
                        ParametersDone done);
  // Ends a reservation command of `io` on volume `lv_id` with `r`: its data,
  // its UAs queued, and, when access changed, its status once every FP has
  // the LUNs' new exposures (a command sent after it meets the change).
  void reservation_done(uint32_t port, const fpapi::UpstreamIo& io, uint32_t lv_id,
                        ReservationResult r);
  // A reservation of `lv_id` restricts access: its LUNs are exposed masked.
  bool reservation_masked(uint32_t lv_id) const;
  // Whether a reservation lets `host` use `lun` of `target` on the fast path.
  bool reservation_fast_path(const Target& target, const Lun& lun, uint32_t host) const;
  // `host` logged out of `target` (0: of every target): SCSI-2 reservations
  // of its nexuses end.
  void reservation_nexus_lost(uint32_t target, uint32_t host);

  // ---- virtual_initiator.cc
  void resolve_disks();
  void on_fabric_change(uint32_t port_id);
  void start_login(uint32_t port, uint32_t disk);
  // Asks for the login of `port`'s virtual initiator into `disk`: starts it
  // now if the disk is resolved and no login is under way, else when it
  // resolves. Returns disk_ready(port, disk).
  bool want_login(uint32_t port, uint32_t disk);
  // want_login for every disk behind the LUNs of `target` that `host_wwpn`
  // may see: a host logging in through `port` will send I/O there.
  void want_logins_for_host(uint32_t port, const Target& target, uint64_t host_wwpn);
  void on_vi_frame(uint32_t port, std::span<const uint8_t> frame);
  void on_disk_ready(uint32_t port, uint32_t disk);
  bool disk_ready(uint32_t port, uint32_t disk) const;
  uint64_t vi_wwpn(uint32_t port) const;
  void ensure_logins_sized();

  // ---- multipath.cc
  // The fabric changed at N_Port `port_id` (on_fabric_change): a path of a
  // multipath VSEG that left the name server has failed.
  void check_paths(uint32_t port_id);
  void path_failed(uint32_t vseg_id, uint32_t path);
  // With VolumeDef::failback, if path 0 of the VSEG is in the name server and
  // some of its extents use another path, test path 0 and switch back.
  void maybe_fail_back(uint32_t vseg_id);
  void test_next_path(uint32_t vseg_id);
  // A CpDispatchIOComplete for a path test: true if it was one.
  bool on_path_test_complete(const fpapi::CpDispatchIOComplete& c);
  void switch_to_path(uint32_t vseg_id, uint32_t to);
  // ---- dve.cc
  // Gives the shared VSEGs their guids and cuts their mirrors' extents at the
  // chunks of their mirror-write oplocks (at start).
  void dve_start();
  // The mirror-write oplocks of [start, start + length) of VSEG `vseg_id`;
  // none if it is not a shared mirror.
  std::vector<cluster::OplockId> dve_chunks_of(uint32_t vseg_id, uint64_t start,
                                               uint64_t length) const;
  // May this DVE write [start, start + length) of a shared mirror? If not,
  // it starts winning the authority (the I/O waits, retried after).
  bool dve_may_write(uint32_t vseg_id, uint64_t start, uint64_t length);
  bool dve_holds(uint32_t vseg_id, uint64_t start, uint64_t length) const;
  // True (with *error) if `volume` is served by several DVEs: only its
  // mirror writes are coherent among them, so `service` is refused.
  bool refuse_shared(const std::string& volume, const char* service, std::string* error) const;
  // Another DVE acquires a chunk: this DVE's FPs and CP stop writing it.
  void dve_let_go(const cluster::OplockId& id, std::function<void()> done);
  void dve_check_let_go(cluster::OplockId id, std::function<void()> done);
  // An evicted DVE may have been writing a chunk: copy it from the first
  // ALIVE side to the others.
  void dve_reconcile(const cluster::OplockId& id, std::function<void()> done);
  // ---- dve_snapshot.cc
  // The live VSEG whose Rmap oplocks cover `vseg_id` (itself, or the root of
  // the snapshot it is), if it is shared and has snapshots; else ~0u.
  uint32_t dve_root_of(uint32_t vseg_id) const;
  bool dve_coherent(uint32_t root) const;
  std::vector<cluster::OplockId> dve_rmap_oplocks(uint32_t vseg_id, uint64_t start,
                                                  uint64_t length) const;
  std::optional<cluster::OplockId> dve_lv_oplock(uint32_t lv_id) const;
  // May this DVE use its metadata of [start, start + length) of `vseg_id`
  // (LV `lv_id`)? If not, it starts sharing what it lacks: the caller waits
  // (a miss in dve_held_misses, a CP I/O blocked) and is retried after.
  bool dve_ready(uint32_t lv_id, uint32_t vseg_id, uint64_t start, uint64_t length);
  bool dve_fresh(const cluster::OplockId& id) const;
  void dve_share(const cluster::OplockId& id);
  void dve_release_held();
  // Revokes the ranges at every FP and drains their I/O, then done().
  void dve_drain(const std::vector<Update::Range>& ranges, std::function<void()> done);
  void dve_revoke_shared();
  void dve_let_go_lv(const cluster::OplockId& id, std::function<void()> done);
  void dve_let_go_rmap(const cluster::OplockId& id, std::function<void()> done);
  bool dve_shared_snapshot(const std::vector<SnapshotRequest>& group) const;
  bool dve_take_snapshots(const std::vector<SnapshotRequest>& group, std::string* error,
                          std::function<void(bool)> done);
  // Takes the snapshot groups of the LV Reconfig record of `id` not taken here yet.
  void dve_apply_peer_snapshots(const cluster::OplockId& id);
  void dve_push_chunk(uint32_t root, uint64_t chunk, std::vector<uint32_t> targets, bool sweep);
  void dve_write_chunk_record(const cluster::OplockId& id);
  // Applies the pushes of the Rmap chunk record of `id` to this DVE's copy.
  void dve_refresh_chunk(const cluster::OplockId& id);
  // ---- dve_mirror_state.cc
  std::optional<cluster::OplockId> dve_side_oplock(uint32_t vseg_id) const;
  // change_side_state, made under the side-state oplock on a shared mirror
  // (done(false) if the record no longer allows the change).
  void set_side_state(uint32_t vseg_id, uint32_t side, map::SideState to, bool abort_pending,
                      std::function<void()> apply_extra, std::function<void(bool)> done);
  DveSideRecord dve_side_record(const cluster::OplockId& id, const Vseg& seg);
  // Brings this DVE's sides (but `skip`) to `rec`; returns how many changes
  // it started, each calling `done`.
  uint32_t dve_apply_side_record(uint32_t vseg_id, const DveSideRecord& rec, uint32_t skip,
                                 const std::function<void(bool)>& done);
  void dve_refresh_sides(const cluster::OplockId& id);
  // Crashed or fenced: this DVE's resyncs of shared mirrors end (the DVE
  // that evicts it takes them over from its task journal).
  void dve_end_shared_resyncs(const std::string& why);
  void dve_end_resync_task(const MirrorResync& r);
  // The caretaker of a DVE that was resynchronizing a side of a shared
  // mirror goes on with it.
  void dve_take_over_resync(const cluster::TaskRecord& task);
  void dve_share_at_boot();
  void dve_reboot(uint64_t incarnation);
  void dve_let_go_sides(const cluster::OplockId& id, std::function<void()> done);
  void dve_copy_under_write_oplocks(uint32_t vseg_id, uint64_t start, uint64_t length,
                                    const CopyRequest& copy, std::function<void(bool)> done);
  // ---- dve_migration.cc
  bool dve_start_migration(const MigrationRequest& request, std::string* error,
                           std::function<void(bool)> done);
  // A shared migration's step: its update runs under the chunks' Rmap oplocks.
  void dve_migration_step(uint32_t id, Update u);
  void dve_migration_failed(uint32_t id, MappingChange barrier_back);
  // The migration's state for the peers (and the task's progress).
  void dve_write_migration_record(uint32_t id);
  void dve_end_migration_task(Migration& m);
  // True (and the chunk brought up to date) if chunk `id` is of a VSEG with a shared migration.
  bool dve_refresh_migration_chunk(const cluster::OplockId& id);
  void dve_follow_migration(const std::string& line);
  void dve_take_over_migration(uint32_t id, uint64_t task_id);
  // The sweep of a shared snapshot as a task (recorded when it starts, ended
  // when it is done); an evicted DVE's sweeps go on at its caretaker.
  void dve_record_sweep_intents(const std::vector<SnapshotRequest>& group);
  void dve_drop_sweep_intents(const std::vector<SnapshotRequest>& group);
  // False if the snapshot is shared and this DVE does not sweep it.
  bool dve_record_sweep_task(uint32_t snapshot);
  void dve_end_sweep_task(Snapshot& snap);
  bool dve_may_sweep(Snapshot& snap);
  void dve_replay_task(uint32_t dead, const cluster::TaskRecord& task);
  void dve_resume_sweep(uint32_t snapshot, uint64_t task_id);
  // ---- mirror_authority.cc
  // A miss from `port` on extent `e` of `seg`: may the FP have it? Always for
  // other kinds; for a mirror, if no one else holds write authority (else the
  // I/O is queued and the holder FP's is revoked).
  bool grant_mirror_to_fp(uint32_t port, const Vseg& seg, const map::Extent& e);
  // Before a CP-owned write leg into a mirror extent: true if `io` holds (or
  // now takes) the authority and no other CP write into the range is out;
  // false if it must wait (blocked; retried when that changes).
  bool mirror_write_may_go(uint64_t key, CpIo& io, const LegPlan& plan);
  // The I/O is done: its authority holds end (given back to the FP it was
  // taken from, FPAddMapping).
  void release_mirror_holds(CpIo& io);
  void revoke_mirror(MirrorAuthority& a, bool give_back);
  void poll_mirror_drain(MirrorExtentKey k, uint64_t revoke_id);
  void mirror_revoked(MirrorExtentKey k, uint64_t revoke_id);
  // FPAddMapping of extent `e` (and its redirect entry if not loaded yet).
  void load_extent(uint32_t port, const Vseg& seg, const map::Extent& e);
  // Is `io` a WRITE whose first block lies on a mirrored VSEG?
  bool is_mirror_write(const fpapi::UpstreamIo& io) const;

  // ---- journal.cc
  // The journals of a journaled VSEG (its free list carved on first use).
  JournalSet& journal_set(const Vseg& seg);
  // An unused journal with a new id: a free one, else the oldest sealed one
  // (journals_recycled); nullopt if every journal is in use.
  std::optional<CpJournal> take_journal(const Vseg& seg);
  // The entry `port`'s FP gets: for a journaled VSEG, its descriptor names
  // that port's journal (taken now if it has none, or if the FP may have
  // lost the entry and with it its pointer: the old one retires); FoR|FoW if
  // no journal is free. False while that port's journal is being swapped:
  // the entry must not go out (the swap's end sends it).
  bool patch_journal(uint32_t port, const Vseg& seg, map::RedirectIndex index,
                     map::RedirectEntry* entry);
  // kJournalFull from `port` (step 122): swap its journal (remove the entry,
  // wait for its I/Os to drain, seal, give it a new one); the faulted write
  // is the CP's.
  void on_journal_full(uint32_t port, const fpapi::UpstreamIo& io);
  void end_journal_swap(uint32_t vseg_id, uint32_t port, uint64_t swap_id);
  // Seals `j`, which `port`'s FP may still be writing records into, once
  // the drain its Retiring describes is done.
  void retire_journal(uint32_t vseg_id, uint32_t port, const CpJournal& j, uint64_t started_by_ns,
                      std::function<void()> then);
  void poll_retiring(uint32_t vseg_id, uint64_t retire_id);
  // ControlPath::release_journal.
  bool release_sealed_journal(uint32_t vseg_id, uint16_t journal_id);
  // A journal was released: the ports sent the entry without one get it
  // again, now naming a journal.
  void feed_starved_ports(uint32_t vseg_id);
  // Is `port`'s journal of `vseg_id` being swapped? (Its misses are queued.)
  bool journal_swapping(uint32_t port, uint32_t vseg_id) const;
  // A CP-owned write leg of `blocks` into journaled `seg`: where its record
  // goes in the CP's journal (*lba) and its header; false if no journal is
  // free (the I/O waits).
  bool cp_journal_record(const Vseg& seg, const CpIo& io, const LegPlan& plan, uint64_t* lba,
                         map::JournalRecordHeader* header);
  // A record leg in the CP's journal `id` ended.
  void cp_journal_leg_done(uint32_t vseg_id, uint16_t id);

  // ---- copy_agent.cc
  // Copies by FPCopyIO from a port logged into both disks (waiting for the
  // logins if none is), trying again up to copy_retries times; done(false)
  // after that.
  void copy_blocks(const CopyRequest& request, std::function<void(bool)> done,
                   uint32_t attempt = 0);
  // The copies moving VSEG-relative blocks [start, end) of `seg`, from
  // wherever its extents map them now (one copy per extent piece), to the
  // simple storage `dst` (start_lba: the block of VSEG block 0) on `dst_disk`.
  std::vector<CopyRequest> plan_copies(const Vseg& seg, uint64_t start, uint64_t end,
                                       uint32_t dst_disk, const map::SimpleStorage& dst) const;
  // A CpDispatchIOComplete for a copy: true if it was one.
  bool on_copy_complete(const fpapi::CpDispatchIOComplete& c);
  // copy_timeout_ns after a copy was sent: if it is still out, abort it at
  // its FP; if it is still out one more timeout later (the FP does not
  // answer), give it up here.
  void copy_timed_out(uint32_t dtag, uint32_t attempt);
  void copy_failed(CopyTask task);

  // ---- migration.cc
  // check_only: the request is checked, nothing starts.
  bool start_migration(const MigrationRequest& request, std::string* error,
                       std::function<void(bool)> done, bool check_only = false);
  // Moves the barrier: the old barrier goes to the destination, the next
  // chunk becomes the barrier (one restrictive update); at the end the last
  // barrier moves and the source's entries are removed.
  void migration_step(uint32_t id);
  void migration_copy(uint32_t id);
  void migration_failed(uint32_t id, const std::string& why);
  // Does a write to [start, start + length) of `vseg_id` meet a copy
  // barrier? (It waits until the barrier moves.)
  bool in_copy_barrier(uint32_t vseg_id, uint64_t start, uint64_t length) const;
  // The part of [start, start + length) of `vseg_id` that is a copy barrier
  // in force (start, blocks), if any: it must keep FoW whatever else
  // changes its flags (a snapshot push giving a chunk back).
  std::optional<std::pair<uint64_t, uint64_t>> copy_barrier_within(uint32_t vseg_id, uint64_t start,
                                                                   uint64_t length) const;
  // After the last step: once no snapshot reads the source's blocks any
  // more (those still mapped there are pushed first), the VSEG gives them
  // up and the migration is done.
  void release_migration_source(uint32_t id);
  Migration* migration_of(uint32_t vseg_id);
  // The update's metadata change is done: the entries in `fresh` go to
  // every FP logged into their disks.
  void load_fresh_entries(const Vseg& seg, const std::vector<map::RedirectIndex>& fresh);
  void load_all_entries(const Vseg& seg);
  // Inside a restrictive update over the whole VSEG, once a service is done
  // with its table: unused redirect entries removed, neighbouring extents
  // with one entry merged (Metadata::compact_redirects), the FPs' copies of
  // the old entries removed and the new ones loaded.
  void compact_and_reload(uint32_t vseg_id);
  // A snapshot swept: its VSEGs, and its roots once no snapshot shares a
  // chunk of them any more, are compacted.
  void compact_after_sweep(uint32_t snapshot);

  // ---- snapshot.cc
  bool snapshot_request_ok(const SnapshotRequest& request, std::string* error);
  // Registers the snapshot and queues its VSEGs' re-pointing; adds the
  // source VSEGs that need FoW at the point in time to *roots. Its index.
  uint32_t queue_snapshot(const SnapshotRequest& request, std::set<uint32_t>* roots);
  bool snapshot_group_ok(const std::vector<SnapshotRequest>& group, std::string* error);
  bool take_snapshots(const std::vector<SnapshotRequest>& group, std::string* error,
                      std::function<void(bool)> done);
  uint64_t chunk_blocks_of(const Vseg& seg) const;
  // The snapshot VSEGs that still share chunk `chunk` of live VSEG `root`
  // (their mapping there names the same storage as the root's).
  std::vector<uint32_t> chunk_sharers(uint32_t root, uint64_t chunk) const;
  // Before a write leg into [start, start + blocks) of `vseg_id`: true if
  // it may go; false if a chunk it touches must first be pushed to the
  // snapshots sharing it (the push starts; the I/O waits).
  bool snapshot_write_may_go(CpIo& io, uint32_t vseg_id, uint64_t start, uint64_t blocks);
  // Pushes chunk `chunk` of `root` to `targets` (copy, then each target's
  // Rmap, drained, then the root's Rmap if no snapshot shares it any more).
  // On a root shared by several DVEs, under the chunk's Rmap oplock.
  void push_chunk(uint32_t root, uint64_t chunk, std::vector<uint32_t> targets, bool sweep);
  // The push itself, on this DVE alone; pushed() once the root's Rmap is done.
  void push_chunk_here(uint32_t root, uint64_t chunk, std::vector<uint32_t> targets, bool sweep,
                       std::function<void()> pushed);
  void sweep_step(uint32_t snapshot);
  // The chunks of snapshots of live VSEG `root` whose mapping names blocks
  // of `ranges` (the source storage a migration leaves), with the snapshot
  // VSEGs mapping them there; failed snapshots left out.
  std::map<uint64_t, std::vector<uint32_t>> snapshot_chunks_on(
      uint32_t root, const std::vector<PhysicalRange>& ranges) const;
  // Sets the flags of [start, start + length) of live VSEG `root` back to
  // its own (no snapshot shares it any more), keeping FoW on a copy
  // barrier inside it; the new entries go to the FPs.
  void restore_root_flags(uint32_t root, uint64_t start, uint64_t length);
  // The end of one of a snapshot's taking updates: after the last, it is taken.
  std::function<void(bool)> snapshot_update_done(uint32_t index);
  bool is_snapshot_lv(uint32_t lv_id) const;
  // Queues a restrictive update of [start, start + length) of `vseg_id`
  // whose `apply` changes the metadata (misses held meanwhile).
  void queue_update(uint32_t vseg_id, uint64_t start, uint64_t length, std::function<void()> apply,
                    std::function<void(bool)> done);

  // ---- incremental.cc
  bool take_incremental(const IncrementalRequest& request, std::string* error,
                        std::function<void(bool)> done);
  // Before a write leg into an incremental's VSEG: true if every chunk it
  // touches is the incremental's own; else the chunk is redirected (the
  // base's blocks copied to its own storage, then its Rmap moved) and the
  // I/O waits.
  bool incremental_write_may_go(CpIo& io, uint32_t vseg_id, uint64_t start, uint64_t blocks);
  void redirect_chunk(uint32_t vseg_id, uint64_t chunk);

  // ---- mirror_state.cc
  // The side-state bookkeeping of a VSEG whose entries are plain mirrors
  // (made on first use), else null.
  MirrorAges* mirror_ages_of(uint32_t vseg_id);
  // The writable side of plain mirror `seg` on N_Port `port_id`, if exactly one is.
  std::optional<uint32_t> mirror_side_on(const Vseg& seg, uint32_t port_id) const;
  // Does a write ending with this status mean the side failed (not a
  // passing condition such as BUSY or UNIT ATTENTION)?
  static bool side_write_failed(uint8_t status, std::span<const uint8_t> sense);
  // "a write failed with status 0x02, sense key 3h ASC/ASCQ 0Ch/00h".
  static std::string side_failure_text(uint8_t status, std::span<const uint8_t> sense);
  // Side `side` of `vseg_id` failed: unless another ALIVE side would not be
  // left, it becomes DEAD (a restrictive update of the whole VSEG: the
  // generation goes up, every extent gets FoW, the FPs' entries split
  // writes to the live sides only); `path_lost` (its disk left the fabric):
  // the I/Os pending in the VSEG are aborted (hosts retry) and the side
  // returns when the disk does. False if it does not die.
  bool side_failed(uint32_t vseg_id, uint32_t side, const std::string& why, bool path_lost,
                   std::function<void(bool)> done = {});
  // Queues the whole-VSEG update that makes `side` `to`; `apply_extra` runs
  // under it after the change.
  void change_side_state(uint32_t vseg_id, uint32_t side, map::SideState to, bool abort_pending,
                         std::function<void()> apply_extra, std::function<void(bool)> done);
  // Is a side state change of `vseg_id` queued? (Its writes wait for it.)
  bool mirror_changing(uint32_t vseg_id) const;
  // A write of [start, start + blocks) of `vseg_id` is about to go out: the
  // first one into each age-list extent under this generation records it in
  // the ALIVE sides' age lists, and the extent's FoW is lifted.
  void record_age(uint32_t vseg_id, uint64_t start, uint64_t blocks);
  // Does a write into [start, start + blocks) meet a resync copy barrier?
  bool in_resync_barrier(uint32_t vseg_id, uint64_t start, uint64_t blocks) const;
  // Sets the flags of age extent `k` (its age FoW, the barrier's) on the
  // metadata and loads new entries; inside an update of that extent.
  void set_age_extent_flags(uint32_t vseg_id, uint64_t k, bool fow);
  bool start_resync(uint32_t vseg_id, uint32_t side, std::string* error,
                    std::function<void(bool)> done);
  void resync_step(uint32_t vseg_id);
  void end_resync(uint32_t vseg_id, bool ok, const std::string& error);
  // The fabric changed at `port_id`: sides on a disk that left fail; DEAD
  // sides whose disk came back are resynchronized.
  void check_mirror_sides(uint32_t port_id);
  // Resynchronizes a DEAD side of `vseg_id` whose disk is back, if none is
  // resynchronizing and no state change is queued (after each one ends).
  void resume_returned_sides(uint32_t vseg_id);
  // The disks an FP needs logged in for entry `index` (a mirror's DEAD sides
  // left out: nothing goes to them).
  std::vector<uint32_t> entry_disks(const Vseg& seg, map::RedirectIndex index) const;

  // ---- replication.cc
  // Every interval: one restrictive update over every VSEG of the group
  // (their I/O paused and drained at every FP and in the CP), under which
  // every journal in use is sealed and replaced: the epoch ends there.
  void replication_barrier(const std::string& name);
  // Ships the sealed journals of closed epochs to the staging area, oldest
  // first, as staging slots allow; an epoch whose journals are all there
  // goes to the remote (on_shipped).
  void ship_journals(const std::string& name);
  // Are all journals of epochs <= `epoch` of `r`'s VSEGs sealed?
  bool epoch_sealed(const Replication& r, uint64_t epoch) const;

  // ---- restrictive_update.cc
  void change_mapping(const MappingChange& change, std::function<void(bool)> done);
  void begin_update();
  void poll_drain(uint32_t port);
  // drain_timeout_ns into an update: the CP's own legs into its range that are
  // still out are lost exchanges; abort their I/Os (they fail, retryable).
  void abort_stale_legs(uint64_t update_id);
  // The update in progress if it is `id`, else null.
  Update* current_update(uint64_t id);
  void maybe_finish_update();
  // Is VSEG-relative range [start, start + length) of `vseg_id` being updated?
  bool updating(uint32_t vseg_id, uint64_t start, uint64_t length) const;
};

}  // namespace splitpath::cp
