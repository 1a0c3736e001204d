// The data services' figures of `splitpath bench`: online migration (figures
// 23-24) of one VSEG on a whole simulated fabric (one switch, one host, two
// disks), measured in one run:
//  - the copy: the idle VSEG moves from disk0 to disk1 (and back, and
//    again, for the best wall time); bytes copied per
//    second of wall time (the simulator's speed at copying) and per
//    simulated second (the modeled copy rate: one copy-granularity chunk per
//    restrictive update, FPCopyIO from disk to disk);
//  - the write penalty: the VSEG moves back while the host writes 4 KiB to
//    it, `write_depth` at a time, at seeded random 4 KiB slots, until the
//    migration is done; then the same writes (same slots, same order, same
//    depth) with no migration. Their simulated latencies side by side, and
//    the writes that met the copy barrier (they wait in the CP for it).
// Snapshots' copy-on-write penalty is measured in snapshot_bench.h.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/node/latency_histogram.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

struct MigrationBenchOptions {
  uint64_t vseg_bytes = 64ull << 20;  // a multiple of 4 KiB
  // Idle copies, back and forth between the disks: the wall time is the
  // best round's (at least 1).
  uint32_t copy_rounds = 3;
  // Host writes in flight in the penalty run. At 1 (a synchronous writer)
  // every write's latency is its own: with more, the writes queue behind one
  // another, on one disk without a migration but on two during one (the
  // blocks copied are on the destination already), which hides the
  // migration's cost.
  uint32_t write_depth = 1;
  uint64_t seed = 1;  // the host writes' slots
  // A run that takes longer in simulated time fails (a hung migration).
  SimTime limit_ns = 60 * kNsPerSec;
};

// The suite's sizes: a 64 MiB VSEG, 16 MiB with --quick.
MigrationBenchOptions migration_bench_options(bool quick);

// The fabric the figures run on, validated: host0, disk0 holding the VSEG
// (volume vol0, one VSEG from LBA 0) and disk1, its destination.
absl::StatusOr<Topology> migration_bench_topology(const MigrationBenchOptions& options);

struct MigrationBenchResult {
  uint64_t vseg_bytes = 0;
  // The idle copy.
  uint64_t copied_bytes = 0;     // MigrationProgress::copied_blocks times the block size
  double copy_sim_seconds = 0;   // MigrationProgress started_ns to finished_ns
  double copy_wall_seconds = 0;  // the simulator's run over the same span, best round
  double mb_per_wall_s = 0;      // copied_bytes / 1e6 / copy_wall_seconds
  double mb_per_sim_s = 0;       // copied_bytes / 1e6 / copy_sim_seconds
  // The write penalty.
  uint64_t loaded_copied_bytes = 0;  // the migration under writes
  double loaded_copy_sim_seconds = 0;
  uint64_t writes = 0;          // during the migration; as many again without one
  uint64_t barrier_writes = 0;  // MigrationProgress::barrier_writes of that migration
  LatencyHistogram quiet;       // ns, no migration
  LatencyHistogram migrating;   // ns, the same writes during the migration
  double mean_penalty = 0;      // migrating.mean() / quiet.mean()
  double p99_penalty = 0;       // the same of the 99th percentiles
};

// Builds the fabric and runs both measurements. Fails if a migration does not
// finish in limit_ns or fails, if it copied other than the VSEG's bytes, if
// the destination's bytes differ from the source's after the idle copy, or if
// a host write fails.
absl::StatusOr<MigrationBenchResult> run_migration_bench(const MigrationBenchOptions& options);

}  // namespace splitpath::sim
