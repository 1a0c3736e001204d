// A torture scenario drawn from a seed: a random topology (1-3 switches with
// ISLs, hosts, disks, volumes with random VSEG layouts, extent sizes and
// FoR/FoW flags, virtual targets with LUN masking, FP table memory from tiny to
// large, Rmap policies, both port HALs), the hosts' random jobs, and a random
// schedule of faults and operations over the run's host I/Os. Swarm testing:
// each scenario enables a random subset of the fault kinds.
//
// Every choice comes from Rng::derive(seed, ...): the same seed gives the same
// scenario on every machine.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cp/cluster/oplock_id.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim::torture {

enum class FaultKind : uint8_t {
  kDiskFailure,    // a disk goes offline, and returns
  kMediumError,    // an LBA range fails with MEDIUM ERROR, then is repaired
  kHostLinkLoss,   // a host's link goes down, and up
  kDiskLinkLoss,   // a disk's link (a path to it) goes down, and up
  kIslLoss,        // an ISL goes down, and up
  kSlowDisk,       // a disk adds latency to every command for a while
  kRangeMove,      // restrictive update: a volume range moves to other disk blocks
  kFlagChange,     // restrictive update: FoR/FoW of a volume range change
  kTablePressure,  // topology: tiny FP table memory and small extents (evictions)
  kSlowLinks,      // topology: 8GFC links with few credits and long fibre
  kMigration,      // online migration: a whole simple VSEG moves to its other place
  kSnapshot,       // a snapshot of a volume under load (figures 20-21)
  kIncremental,    // an incremental of a base, written on its own LUN (figure 22)
  kVsegSplit,      // LV reconfiguration: a simple VSEG split in two under I/O, then merged back
  kMirrorSide,     // a side of a plain mirror failed (DEAD) under I/O, then returned (resync)
  kReplication,    // asynchronous ordered replication of journaled volumes to a remote array
  kDveCluster,     // a DVE cluster running the oplock protocol under network faults and crashes
  kSharedMirror,   // mirrored volumes served by two switches' DVEs at once (figure 28)
};
inline constexpr size_t kFaultKinds = 18;
const char* fault_kind_name(FaultKind kind);

// Blocks of one LUN of one disk from `lba`: a place's only element, or one
// column of a striped place.
struct PlaceElement {
  std::string disk;
  uint16_t lun = 0;
  uint64_t lba = 0;
};

// Where a VSEG's blocks can live: its own place (the VSEG of the topology) and
// a shadow area of the same size the harness moves ranges to and back. A
// striped VSEG's own place is its stripe (RAID 0): VSEG block b is in stripe
// unit u = b >> unit_shift, on column u mod N at column block
// ((u / N) << unit_shift) + (b & (2^unit_shift - 1)). A mirrored VSEG's own
// place is its sides (RAID 1): VSEG block b is at every side's lba + b. A
// stripe of mirrors (RAID 10) is a stripe whose column c is mirrored on
// column_sides[c] (the first of them columns[c]): the column block is on
// every side of the column. A journaled VSEG's own place is its data device
// (like an unstriped one), every write also recorded in `journal`'s area.
// Shadow areas are never striped, mirrored or journaled.
// The journal area of a journaled VSEG: `area_blocks` blocks from `at`,
// carved by the CP into journals of `journal_blocks` blocks.
struct JournalArea {
  PlaceElement at;
  uint64_t area_blocks = 0;
  uint64_t journal_blocks = 0;
};

struct VsegPlace {
  std::string disk;
  uint16_t lun = 0;
  uint64_t lba = 0;  // disk block of VSEG block 0 (unstriped)
  uint8_t unit_shift = 0;
  std::vector<PlaceElement> columns;                    // empty: not striped
  std::vector<PlaceElement> sides;                      // empty: not mirrored
  std::vector<std::vector<PlaceElement>> column_sides;  // empty: not RAID 10
  std::optional<JournalArea> journal;                   // empty: not journaled

  bool striped() const { return !columns.empty(); }
  bool mirrored() const { return !sides.empty(); }
  bool raid10() const { return !column_sides.empty(); }
  // Writes go to several copies (a mirror or a stripe of mirrors).
  bool split_writes() const { return mirrored() || raid10(); }
  bool journaled() const { return journal.has_value(); }
  // Some port FP holds the write authority over its ranges (split writes or
  // a journal: cp/mirror_authority.cc).
  bool write_authority() const { return split_writes() || journaled(); }
  size_t sides_per_column() const { return raid10() ? column_sides[0].size() : 1; }
  // The elements: one, the columns (RAID 10: every side of every column,
  // column-major) or the sides.
  size_t elements() const {
    return striped() ? columns.size() * sides_per_column() : mirrored() ? sides.size() : 1;
  }
  PlaceElement element(size_t i) const;
  // Blocks of a VSEG of `vseg_blocks` blocks on element `i`.
  uint64_t element_blocks(size_t i, uint64_t vseg_blocks) const;
  // The disk block of VSEG block `block` (a mirror: on its first side).
  PlaceElement locate(uint64_t block) const;
  // Every disk block holding VSEG block `block`: one, or one per side.
  std::vector<PlaceElement> copies_of(uint64_t block) const;
  // The VSEG block at block `element_block` of element `i` (the inverse).
  uint64_t block_at(size_t i, uint64_t element_block) const;
};

struct TortureVseg {
  size_t volume = 0;        // index in topology.volumes
  uint64_t volume_lba = 0;  // first volume block of the VSEG
  uint64_t blocks = 0;
  VsegPlace place[2];  // [0]: the topology's; [1]: the shadow area
  // The CP can migrate it (cp::ControlPath::start_migration): simple storage,
  // neither striped, mirrored, journaled nor multipath.
  bool migratable = false;
};

// One planned fault or operation. It fires once the run has completed
// `at_ios` host I/Os; faults that heal do so `duration_ns` after firing.
struct PlannedOp {
  uint64_t at_ios = 0;
  FaultKind kind = FaultKind::kDiskFailure;
  std::string target;  // disk or host name, or ISL end "switch:port"
  uint32_t port = 0;   // disk link loss: which port of a multi-ported disk
  uint16_t lun = 0;
  uint64_t lba = 0;    // medium errors: disk LBA; updates: volume LBA
  uint64_t count = 0;  // blocks
  // Updates, migrations, splits, mirror sides: index in TortureScenario::vsegs.
  size_t vseg = 0;
  // VSEG splits: `lba` is the volume block the second half starts at (inside
  // the VSEG, never its first block); the merge back is asked `duration_ns`
  // after the split is done. Mirror sides: `target` is the volume, `lba` the
  // VSEG's first volume block, `port` the side failed; its return is asked
  // `duration_ns` after the failure is done.
  SimTime duration_ns = 0;
  SimTime delay_ns = 0;  // slow disk
  uint8_t flags = 0;     // flag change: the new redirect flags
  // Snapshots and incrementals: `target` is the source (the base), `image`
  // the volume that becomes its snapshot (its incremental).
  std::string image;
};

// The replication of a scenario (kind replication, figure 32): a group of
// journaled volumes of one switch (every VSEG journaled, one block size)
// replicated every `interval_ns` to the remote array `disk` (a disk added to
// the topology, on another switch when there is one, so ISL faults hit the
// link), its staging area `staging_blocks` blocks from `staging_lba` and one
// image per volume (`image_lba[i]` for `volumes[i]`), all on LUN `lun`. The
// harness starts it when its PlannedOp fires.
struct TortureReplication {
  std::string name;
  std::string switch_name;
  std::vector<size_t> volumes;  // indices in topology.volumes
  SimTime interval_ns = 0;
  std::string disk;
  uint16_t lun = 0;
  uint64_t staging_lba = 0;
  uint64_t staging_blocks = 0;
  std::vector<uint64_t> image_lba;
};

// One operation or fault of the DVE cluster (kind dve_cluster). It fires once
// the run has completed `at_ios` host I/Os; faults heal `duration_ns` later
// (a crashed DVE boots again then).
struct DveClusterOp {
  enum class Kind : uint8_t { kUpdate, kShare, kUnshare, kLoss, kPartition, kCrash, kJitter };
  uint64_t at_ios = 0;
  Kind kind = Kind::kUpdate;
  uint32_t dve = 0;  // update, share, unshare, crash: DVE ids are 1..dves
  // Update: 1-3 consecutive chunks of one object, in index order; share and
  // unshare: one.
  std::vector<cp::cluster::OplockId> oplocks;
  bool restrictive = false;
  uint32_t loss_ppm = 0;
  SimTime jitter_ns = 0;
  std::vector<std::set<uint32_t>> groups;  // partition: every DVE in one group
  SimTime duration_ns = 0;
};
const char* dve_cluster_op_name(DveClusterOp::Kind kind);

// The DVE cluster of a scenario (kind dve_cluster): `dves` DVEs running the
// oplock protocol (cp/cluster/PROTOCOL.md) over their coherency network on the
// run's kernel, beside the fabric (it touches no frame), over `oplocks`
// (Rmap chunks, volatile, and mirror write serialization chunks,
// non-volatile), with its schedule of operations and faults.
struct TortureDveCluster {
  uint32_t dves = 0;
  uint64_t network_seed = 0;  // the coherency network's loss and jitter draws
  std::vector<cp::cluster::OplockId> oplocks;
  std::vector<DveClusterOp> ops;  // ordered by at_ios
};

struct TortureScenario {
  uint64_t seed = 0;
  Topology topology;
  std::vector<TortureVseg> vsegs;
  std::vector<PlannedOp> ops;  // ordered by at_ios
  bool enabled[kFaultKinds] = {};
  // Volumes declared for snapshots and incrementals (indices in
  // topology.volumes): each the same VSEG layout as its source, each VSEG
  // one simple disk range of its own. They are no TortureVseg: no range
  // move, flag change or migration touches them.
  std::vector<size_t> images;
  // Kind replication: the replication, if one is planned; skipped: the kind
  // was drawn but no volume has every VSEG journaled.
  std::optional<TortureReplication> replication;
  bool replication_skipped = false;
  // Kind dve_cluster: the cluster, if the kind is on.
  std::optional<TortureDveCluster> dve_cluster;
  // Kind shared_mirror: the volumes (indices in topology.volumes) another
  // switch's DVE serves too, each through a virtual target of its own there.
  std::vector<size_t> shared_volumes;
  // The longest host I/O timeout: the bound of the progress checker.
  SimTime max_io_timeout_ns = 0;
};

// Draws the scenario of `seed` for a run of `ops` host I/Os. `all_kinds`
// enables every fault kind instead of a random subset; the kinds named in
// `without` are never enabled (the other draws stay the same).
TortureScenario generate_scenario(uint64_t seed, uint64_t ops, bool all_kinds,
                                  const std::vector<std::string>& without = {});
// The kind named `name` (fault_kind_name), false if none.
bool parse_fault_kind(const std::string& name, FaultKind* kind);

// One line per switch, disk, volume, host and enabled fault kind: what a
// failing seed's report shows before the violation.
std::string describe_scenario(const TortureScenario& s);

}  // namespace splitpath::sim::torture
