// The snapshot figures of `splitpath bench` (figures 20-21): one switch, one
// host, two disks, a volume of one VSEG on disk0 and snapshot volumes of the
// same size declared on disk1 (each one simple range of its own), measured
// in one run on two fabrics:
//  - the copy-on-write penalty, with the background sweep off
//    (CpConfig::sweep_interval_ns = 0, through FabricOptions): once a
//    snapshot is taken, the host writes 4 KiB into seeded random 64 KiB
//    chunks of the source the snapshot still shares, one write in flight;
//    each such first write waits in the CP for its chunk's push (FPCopyIO of
//    the chunk to the snapshot's storage, the snapshot's Rmap update, the
//    source's Rmap update); right after it, a later 4 KiB write into the same
//    chunk, pushed already, stays on the FP. Their simulated latencies side
//    by side;
//  - the sweep, with the CP's default interval: snapshots of the idle volume
//    taken one after another, each swept to its own storage (and its bytes
//    checked there): MB pushed per second of wall time (best round) and per
//    simulated second.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/node/latency_histogram.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

struct SnapshotBenchOptions {
  uint64_t vseg_bytes = 64ull << 20;  // a multiple of the 64 KiB chunk
  // Chunks the host writes first (then once more each), seeded distinct
  // random ones; at most the VSEG's chunks.
  uint32_t chunks_written = 256;
  // Snapshots of the idle volume swept one after another: the wall time is
  // the best round's (at least 1). Each has a snapshot volume of its own.
  uint32_t sweep_rounds = 3;
  uint64_t seed = 1;  // the chunks written and the 4 KiB slots in them
  // A run that takes longer in simulated time fails (a hung push or sweep).
  SimTime limit_ns = 60 * kNsPerSec;
};

// The suite's sizes: a 64 MiB VSEG and 256 chunks written, 16 MiB and 64
// with --quick.
SnapshotBenchOptions snapshot_bench_options(bool quick);

// The fabric the figures run on, validated: host0; disk0 holding vol0 (one
// VSEG from LBA 0, the host's LUN 0); disk1 holding snap0, snap1, ... (one
// per sweep round, each one VSEG the size of vol0's, back to back; LUNs 1,
// 2, ...).
absl::StatusOr<Topology> snapshot_bench_topology(const SnapshotBenchOptions& options);

struct SnapshotBenchResult {
  uint64_t vseg_bytes = 0;
  uint64_t chunk_bytes = 0;  // the CP's copy granularity
  // The copy-on-write penalty (sweep off).
  uint64_t chunks_written = 0;    // first writes; as many later writes
  uint64_t cow_pushes = 0;        // CpStats::cow_pushes during the first writes
  uint64_t cow_write_waits = 0;   // CpStats::cow_write_waits during them
  uint64_t cow_pushed_bytes = 0;  // SnapshotInfo::own_blocks times the block size
  // CpQueueIO (faults to the CP) during the later writes: 0 when they
  // stayed on the FP.
  uint64_t later_faults = 0;
  // CpMappingMiss during the later writes: the source's update at the end
  // of a push drops the FPs' cached extent, so a later write may first load
  // it again (a few us), then goes on on the FP.
  uint64_t later_misses = 0;
  LatencyHistogram first;  // ns, the first write into each chunk
  LatencyHistogram later;  // ns, the write into it right after
  double cow_penalty = 0;  // first.mean() / later.mean()
  // The sweep (the CP's default interval).
  uint64_t swept_bytes = 0;       // the first round's SnapshotInfo::own_blocks times the block size
  uint64_t sweep_pushes = 0;      // CpStats::sweep_pushes of the first round
  double sweep_sim_seconds = 0;   // from the point in time to every block pushed
  double sweep_wall_seconds = 0;  // the simulator's run over the same span, best round
  double mb_per_wall_s = 0;       // swept_bytes / 1e6 / sweep_wall_seconds
  double mb_per_sim_s = 0;        // swept_bytes / 1e6 / sweep_sim_seconds
};

// Builds the fabrics and runs both measurements. Fails if a snapshot is not
// taken, a push or the sweep does not finish in limit_ns, a host write fails,
// the pushes are other than one per chunk written first, a sweep pushes other
// than the VSEG's bytes, or a snapshot's storage differs from the source's
// image at the snapshot's point in time.
absl::StatusOr<SnapshotBenchResult> run_snapshot_bench(const SnapshotBenchOptions& options);

}  // namespace splitpath::sim
