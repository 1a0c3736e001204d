// The mirror figures of `splitpath bench` (figures 30-31, cp/mirror_state.cc):
// on service_bench_fabric's one switch, vol0 is one VSEG mirrored on disk0
// and disk1 (both from LBA 0, LUN 0 of vt0 to the host), measured in one run:
//  - the write penalty of a DEAD side: the host writes 4 KiB to seeded
//    random slots of the VSEG's first `hot_bytes`, `depth` writes in flight
//    (each completion sends the next), `writes` of them with every side
//    ALIVE; then side 1 is failed (fail_mirror_side) and the same writes
//    (same slots, order and depth) run again while it is DEAD: the first
//    write to each age-list extent faults to the CP, which records the
//    generation in the live side's age list (cp::CpStats::age_faults). Their
//    simulated latencies side by side;
//  - the resync: side 1 returns (return_mirror_side) while the host writes
//    4 KiB to seeded random slots of the whole VSEG, `depth` in flight, until
//    it is ALIVE. The blocks copied per second of wall time of that phase
//    (the simulator's speed, load included) and per simulated second
//    (ResyncProgress started_ns to finished_ns); the bytes copied against
//    the bytes of the age extents the host wrote while the side was DEAD
//    (every extent a write in flight then touched, the VSEG's last one
//    counted at its own length): fast resync copies those and nothing else.
// Every write carries a pattern of its own; at the end both sides hold the
// last one written to every slot (the prefilled pattern where none was).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/node/latency_histogram.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

struct MirrorBenchOptions {
  uint64_t vseg_bytes = 64ull << 20;  // whole 4 KiB slots
  // The region the ALIVE and DEAD writes go to, from the VSEG's first block:
  // whole 4 KiB slots, at most the VSEG.
  uint64_t hot_bytes = 16ull << 20;
  uint64_t writes = 2048;  // in each of the ALIVE and DEAD runs (at least 1)
  uint32_t depth = 1;      // host writes in flight (1 to 64)
  uint64_t seed = 1;       // the slots written
  // A run that takes longer in simulated time fails (a hung resync).
  SimTime limit_ns = 60 * kNsPerSec;
};

// The suite's sizes: a 64 MiB VSEG written in its first 16 MiB, 2048 writes
// each; with --quick 16 MiB, 4 MiB and 512.
MirrorBenchOptions mirror_bench_options(bool quick);

// The fabric, validated: host0; vol0 one VSEG mirrored on disk0 and disk1,
// both sides from LBA 0.
absl::StatusOr<Topology> mirror_bench_topology(const MirrorBenchOptions& options);

struct MirrorBenchResult {
  uint64_t vseg_bytes = 0;
  uint32_t depth = 0;
  uint64_t age_extent_bytes = 0;  // cp::MirrorReport::age_extent_blocks times the block size
  // The write penalty.
  uint64_t writes = 0;      // each run
  LatencyHistogram alive;   // ns, every side ALIVE
  LatencyHistogram dead;    // ns, the same writes while side 1 is DEAD
  uint64_t age_faults = 0;  // cp::CpStats::age_faults during the DEAD run
  double dead_penalty = 0;  // dead.mean() / alive.mean()
  double dead_p99_penalty = 0;
  // The resync.
  uint64_t dirty_extents = 0;     // age extents written while side 1 was DEAD
  uint64_t dirty_bytes = 0;       // their bytes
  uint64_t stale_extents = 0;     // ResyncProgress::stale_extents
  uint64_t copied_extents = 0;    // ResyncProgress::copied_extents
  uint64_t copied_bytes = 0;      // ResyncProgress::copied_blocks times the block size
  double copied_over_dirty = 0;   // copied_bytes / dirty_bytes
  uint64_t resync_writes = 0;     // host writes sent while the side was resynchronized
  LatencyHistogram resync_write;  // ns, those writes
  double resync_sim_seconds = 0;  // started_ns to finished_ns
  double resync_wall_seconds = 0;
  double mib_per_wall_s = 0;  // copied_bytes / 2^20 / resync_wall_seconds
  double mib_per_sim_s = 0;   // copied_bytes / 2^20 / resync_sim_seconds
  uint64_t generation = 0;    // the mirror's at the end: DEAD, RESYNC, ALIVE (3)
  uint64_t slots_checked = 0;
};

// Builds the fabric and runs both measurements. Fails on out-of-range
// options, if the side is not DEAD after the failure or not ALIVE after its
// return (within limit_ns), if a host write fails, if the resync copied
// other than the extents it found stale or more bytes than the dirty
// extents hold, or if a side's bytes differ from the last writes.
absl::StatusOr<MirrorBenchResult> run_mirror_bench(const MirrorBenchOptions& options);

}  // namespace splitpath::sim
