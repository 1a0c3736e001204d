// A fabric described as data: switches, the links between them, hosts, disks,
// zones and a fault schedule. `splitpath run` reads it from YAML (see
// topology_yaml.h) or uses the embedded default scenario.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/net/link.h"

namespace splitpath::sim {

// Where a node or an ISL end plugs in: switch name and port index.
struct PortRef {
  std::string switch_name;
  uint32_t port = 0;
};

struct SwitchConfig {
  std::string name;
  uint8_t domain = 1;        // 1..239
  uint32_t ports = 16;       // 1..256
  SimTime latency_ns = 700;  // ingress to egress, per frame
};

// An inter-switch link (ISL).
struct IslConfig {
  PortRef a;
  PortRef b;
  LinkParams link;
};

// The link from a node (host or disk) to its switch port.
struct AttachConfig {
  PortRef port;
  LinkParams link;
};

struct LunConfig {
  uint16_t lun = 0;
  uint64_t blocks = 0;        // capacity in logical blocks
  uint32_t block_size = 512;  // 512 or 4096
  // LUN masking: the WWPNs of the initiators that may see the LUN (each a
  // host's); empty: all. Others get it left out of REPORT LUNS and every
  // command but INQUIRY, REPORT LUNS and REQUEST SENSE refused as for an absent
  // LUN (disk_scsi.cc). The `= {}` lets LunConfig{lun, blocks, block_size}
  // leave it out (-Wmissing-field-initializers).
  std::vector<uint64_t> initiators = {};  // WWPNs that may see the LUN; empty: all
};

// A further port of a multi-ported disk: its own N_Port (WWPN) on its own
// switch port, in front of the same LUNs and data.
struct DiskPortConfig {
  uint64_t wwpn = 0;
  AttachConfig attach;  // the link parameters are the disk's
};

struct DiskConfig {
  std::string name;
  uint64_t wwpn = 0;    // of port 0
  uint64_t wwnn = 0;    // 0: derived from wwpn; every port of the disk shares it
  AttachConfig attach;  // port 0
  // Ports 1, 2, ... of a dual- (multi-) ported disk: the paths multipath uses.
  std::vector<DiskPortConfig> more_ports;
  std::vector<LunConfig> luns;          // at least one
  SimTime latency_ns = 100 * kNsPerUs;  // per command, before data moves
  uint64_t bandwidth_mb_s = 1000;       // media transfer rate
  uint32_t queue_depth = 64;            // commands in service at once; more get TASK SET FULL
  // Keeps no data (SPDK's null bdev): writes are dropped, reads return zeros.
  // See node/null_disk.h.
  bool null_data = false;
};

enum class AccessPattern : uint8_t { kRandom, kSequential };

// An fio-like job each host runs against every LUN it discovers.
struct WorkloadConfig {
  uint32_t read_percent = 70;  // 0..100
  uint32_t block_size = 4096;  // bytes, a multiple of the LUN block size
  uint32_t queue_depth = 8;    // outstanding commands per LUN
  AccessPattern pattern = AccessPattern::kRandom;
  uint64_t lba_start = 0;  // region of every LUN the job touches
  uint64_t lba_count = 0;  // 0: to the end of the LUN
  double rate_iops = 0;    // 0: closed loop; otherwise Poisson arrivals at this rate per LUN
  SimTime io_timeout_ns = 2 * kNsPerSec;
  // Times a command that ends in CHECK CONDITION with ABORTED COMMAND or UNIT
  // ATTENTION (or NOT READY, becoming ready) is sent again, as Linux's SCSI
  // mid-layer does (sd uses 5); 0: never, the command fails at once.
  uint32_t retries = 0;
  // Stamp every unit written and check every unit read against what this host
  // wrote (fio's verify). Off (zeros written, nothing checked) for disks that
  // keep no data (DiskConfig::null_data).
  bool verify = true;
};

struct HostConfig {
  std::string name;
  uint64_t wwpn = 0;
  uint64_t wwnn = 0;  // 0: derived from wwpn
  AttachConfig attach;
  WorkloadConfig workload;
  SimTime start_ns = 0;  // when the host brings its link up and logs in
};

// WWPN zoning: ports may talk when they share a zone. Members name hosts or
// disks (or give a WWPN literally).
struct ZoneConfig {
  std::string name;
  std::vector<uint64_t> members;  // WWPNs
};

enum class FaultKind : uint8_t {
  kMediumError,  // disk `target`, LUN `lun`: LBAs [lba, lba+count) fail with MEDIUM ERROR
  kClearMediumErrors,
  kDiskOffline,  // disk stops answering (its port goes dark)
  kDiskOnline,
  kDiskDelay,  // disk adds `delay_ns` to every command from now on
  kLinkDown,   // the link of node `target`, or the ISL named "sw:port"
  kLinkUp,
  kLinkDelay,   // that link's propagation delay becomes `delay_ns` (a slowdown, or back)
  kDveCrash,    // switch `target`'s DVE crashes: its CP stops and its ports go down
  kDveIsolate,  // switch `target`'s DVE messages no longer reach the other DVEs
  kDveRejoin,   // ...and reach them again
};

struct FaultConfig {
  SimTime at_ns = 0;
  FaultKind kind = FaultKind::kMediumError;
  std::string target;  // disk/host name, or "switch:port" for a link
  uint16_t lun = 0;
  uint64_t lba = 0;
  uint64_t count = 1;
  SimTime delay_ns = 0;
};

// --- Virtualization (the split path) ---

// The FP of every port of a switch: what its port ASIC (hal/sim) provides and
// how its cached Rmap is managed.
struct FpSettings {
  uint64_t table_memory_bytes = 4u << 20;  // HAL table memory per port
  uint32_t max_transfer_bytes = 1u << 20;  // larger I/Os fault to the CP (capacity)
  uint32_t frame_cost_ns = 200;            // per frame handled
  std::string rmap_policy = "lru";         // lru | random | sequential
  uint32_t working_set_window = 0;         // lookups; 0 = none
  bool enabled = true;      // false: every virtual I/O is forced to the CP (benchmarks)
  std::string hal = "sim";  // the port ASIC: sim (hal/sim) | ring (hal/ring)
};

// The CP of a switch.
struct CpSettings {
  SimTime mailbox_latency_ns = 2 * kNsPerUs;  // one way, per FP API message
  SimTime message_cost_ns = 2 * kNsPerUs;     // CP time per message
  SimTime fault_cost_ns = 20 * kNsPerUs;      // extra CP time per I/O fault
  // Mirrors' age-list extent (cp::CpConfig::age_extent_bytes).
  uint64_t age_extent_bytes = 256 * 1024;
  // The DVE cluster of the switches serving shared volumes: the latency of a
  // message between DVEs, how long a DVE waits for an answer before it
  // evicts the silent, the lease a DVE renews (an evicted one fences itself
  // by its end), and the bytes of a shared mirror one mirror-write oplock
  // covers.
  SimTime dve_latency_ns = 20 * kNsPerUs;
  SimTime dve_timeout_ns = 10 * kNsPerMs;
  SimTime dve_lease_ns = 30 * kNsPerMs;
  uint64_t mirror_write_chunk_bytes = 1024 * 1024;
};

// One side of a mirrored VSEG: LUN `lun` of disk `disk` from `lba`; reads go
// to the sides of the lowest `read_cost`, round robin.
struct MirrorSideConfig {
  std::string disk;
  uint16_t lun = 0;
  uint64_t lba = 0;
  uint8_t read_cost = 0;
};

// RAID 1: every block of the VSEG on every side.
struct MirrorConfig {
  std::vector<MirrorSideConfig> sides;
};

// One column of a striped VSEG: LUN `lun` of disk `disk` from `lba`, or a
// mirror (`mirror`; then disk, lun and lba are not given) whose every side
// holds the column's blocks: a stripe of mirrors (RAID 10).
struct StripeColumnConfig {
  std::string disk;
  uint16_t lun = 0;
  uint64_t lba = 0;
  std::optional<MirrorConfig> mirror = std::nullopt;
};

// RAID 0: stripe units of `unit_bytes` (a power-of-two number of the volume's
// blocks) dealt out round robin over the columns; RAID 10 when the columns
// are mirrors (all of them, with the same number of sides).
struct StripeConfig {
  uint64_t unit_bytes = 0;
  std::vector<StripeColumnConfig> columns;
};

// A journaled VSEG (the write-journaling primitive): its blocks on LUN
// `lun` of disk `disk` from `lba` (the data device), and every write also
// recorded in a journal: the area of `area_blocks` blocks of LUN
// `journal_lun` of disk `journal_disk` from `journal_lba`, carved into
// journals of `journal_blocks` blocks (one per port FP, one for the CP,
// swapped when full).
struct JournalConfig {
  std::string disk;
  uint16_t lun = 0;
  uint64_t lba = 0;
  std::string journal_disk;
  uint16_t journal_lun = 0;
  uint64_t journal_lba = 0;
  uint64_t area_blocks = 0;
  uint64_t journal_blocks = 0;
};

// One VSEG of a volume (figure 10): `blocks` blocks of LUN `lun` of disk
// `disk` from `lba`, or striped over `stripe`'s columns, or mirrored on
// `mirror`'s sides (then disk, lun and lba are not given), its Rmap cut into
// extents of `extent_blocks` (0: one).
struct VsegConfig {
  std::string disk;  // disk name
  uint16_t lun = 0;
  uint64_t lba = 0;
  uint64_t blocks = 0;
  uint64_t extent_blocks = 0;
  bool fault_on_read = false;
  bool fault_on_write = false;
  std::optional<StripeConfig> stripe = std::nullopt;
  std::optional<MirrorConfig> mirror = std::nullopt;
  std::optional<JournalConfig> journal = std::nullopt;
};

// A virtual volume (LV) served by the switch `switch_name`.
// What the CP does when a path to a multi-ported disk under a volume fails
// (figures 11 and 12 of the specification).
enum class MultipathPolicy : uint8_t {
  kPerEntry,  // figure 11: Rmap extents re-pointed to the alternate path's redirect entry
  kGlobal,    // figure 12: the redirect entry's storage descriptor changed to the alternate path
  kNone,      // only the disk's first port is used; a path failure fails I/Os
};

struct VolumeConfig {
  std::string name;
  std::string switch_name;
  uint32_t block_size = 512;
  MultipathPolicy multipath = MultipathPolicy::kPerEntry;
  // After a failover, switch back to the disk's first port once it returns
  // (`failback: immediate`); false (`manual`, the default): stay.
  bool failback = false;
  // Other switches whose DVEs serve the volume too (figure 28): hosts reach
  // it through any of them; its mirrors' writes are serialized among them.
  std::vector<std::string> shared_with;
  std::vector<VsegConfig> vsegs;  // in LBA order, at least one
};

struct VirtualLunConfig {
  uint16_t lun = 0;
  std::string volume;
  std::vector<uint64_t> hosts;  // WWPNs of the hosts that may see it; empty: all
  bool read_only = false;
};

// A virtual target the switch `switch_name` fabricates (a virtual DID in the
// name server) presenting volumes as LUNs.
struct VirtualTargetConfig {
  std::string name;
  std::string switch_name;
  uint64_t wwpn = 0;
  uint64_t wwnn = 0;  // 0: derived from wwpn
  std::vector<VirtualLunConfig> luns;
};

// --- Data services the CPs run, scheduled ---

// Online migration (figures 23-24): the VSEG of `volume` holding volume
// block `lba` moves to LUN `lun` of disk `disk` from `to_lba`, under I/O.
struct MigrateConfig {
  std::string volume;
  uint64_t lba = 0;
  std::string disk;
  uint16_t lun = 0;
  uint64_t to_lba = 0;
};

// A snapshot (figures 20-21): volume `name`, declared with its own storage
// (the same VSEG sizes as `source`), becomes a read-only point-in-time image
// of `source` (copy on write, then a background sweep).
struct SnapshotConfig {
  std::string source;
  std::string name;
};

// An incremental (figure 22): volume `name` (its own storage, the same VSEG
// sizes as `base`) starts as `base`'s image; `base` becomes read only.
struct IncrementalConfig {
  std::string base;
  std::string name;
};

// LV reconfiguration (lv_reconfig.cc): `volume` grows by a VSEG appended at
// its end (`vseg`: a VSEG as in `volumes`, simple, striped or mirrored); its
// hosts get UNIT ATTENTION / CAPACITY DATA HAS CHANGED once per LUN.
struct GrowConfig {
  std::string volume;
  VsegConfig vseg;
};

// The VSEG of `volume` holding block `lba` splits in two there (split), or the
// VSEG starting at `lba` merges into the one before it (merge).
struct VsegEditConfig {
  std::string volume;
  uint64_t lba = 0;
};

// A mirror side's state change (figures 30-31): side `side` of the mirrored
// VSEG of `volume` holding block `lba` is failed (DEAD, as if a write to it
// had failed) or returned (resynchronized from a live side, then ALIVE).
struct MirrorSideServiceConfig {
  std::string volume;
  uint64_t lba = 0;
  uint32_t side = 0;
};

// A service started at `at_ns` by the CP of the switch serving its volume
// (the topology's `services` list, or `splitpath run --service`).
struct ServiceConfig {
  SimTime at_ns = 0;
  std::optional<MigrateConfig> migrate;
  // One snapshot, or several taken group-atomically (one point in time).
  std::vector<SnapshotConfig> snapshots;
  std::optional<IncrementalConfig> incremental;
  std::optional<GrowConfig> grow;
  std::optional<VsegEditConfig> split;
  std::optional<VsegEditConfig> merge;
  std::optional<MirrorSideServiceConfig> mirror_fail;
  std::optional<MirrorSideServiceConfig> mirror_return;
};

// Asynchronous ordered replication (figure 32) of a group of journaled
// volumes served by switch `switch_name`: every `interval_ns` from `at_ns`
// the CP closes an epoch (every journal sealed at one barrier) and ships the
// sealed journals to the remote array's staging area (LUN `staging_lun` of
// disk `staging_disk`, `staging_blocks` blocks from `staging_lba`), which
// applies each epoch to its `images` (one per volume).
struct ReplicationImageConfig {
  std::string volume;
  std::string disk;
  uint16_t lun = 0;
  uint64_t lba = 0;
};
struct ReplicationConfig {
  std::string name;
  std::string switch_name;
  SimTime at_ns = 0;
  SimTime interval_ns = 10 * kNsPerMs;
  std::vector<std::string> volumes;
  std::string staging_disk;
  uint16_t staging_lun = 0;
  uint64_t staging_lba = 0;
  uint64_t staging_blocks = 0;
  std::vector<ReplicationImageConfig> images;
};

// --- Trace replay (`splitpath replay TRACE --topology FILE`) ---

// An address in a trace: a WWPN, or an N_Port ID when the trace shows no WWPN.
struct TraceAddress {
  bool is_wwpn = true;
  uint64_t value = 0;  // the WWPN, or the 24-bit N_Port ID
  friend bool operator==(const TraceAddress&, const TraceAddress&) = default;
};

// The trace initiator `trace` is replayed by the host `host`.
struct ReplayInitiatorMap {
  TraceAddress trace;
  std::string host;
};

// The trace LUN `trace_lun` of a mapped target is the LUN `lun` of the topology's target.
struct ReplayLunMap {
  uint16_t trace_lun = 0;
  uint16_t lun = 0;
};

// The trace target `trace` is the disk or virtual target named `target`; LUNs
// absent from `luns` keep their number.
struct ReplayTargetMap {
  TraceAddress trace;
  std::string target;
  std::vector<ReplayLunMap> luns;
};

// The `replay` section: explicit mappings; trace ports not listed map by WWPN
// (a host, disk or virtual target with the same WWPN) or are not replayed.
struct ReplayMapping {
  std::vector<ReplayInitiatorMap> initiators;
  std::vector<ReplayTargetMap> targets;
};

struct Topology {
  std::string source;  // file name, or "<default>"
  uint64_t seed = 1;
  SimTime duration_ns = 200 * kNsPerMs;
  std::vector<SwitchConfig> switches;
  std::vector<IslConfig> isls;
  std::vector<HostConfig> hosts;
  std::vector<DiskConfig> disks;
  std::vector<ZoneConfig> zones;  // empty: every port may talk to every port
  std::vector<FaultConfig> faults;
  std::vector<VolumeConfig> volumes;
  std::vector<VirtualTargetConfig> virtual_targets;
  std::vector<ServiceConfig> services;
  std::vector<ReplicationConfig> replications;
  FpSettings fp;         // every switch's port FPs
  CpSettings cp;         // every switch's CP
  ReplayMapping replay;  // used by `splitpath replay` only
};

}  // namespace splitpath::sim
