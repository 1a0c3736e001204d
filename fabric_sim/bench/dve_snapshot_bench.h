// The figures of `splitpath bench` for snapshots of a volume several DVEs
// serve at once (cp/dve_snapshot.cc, figures 28-29): the same snapshot under
// load, done twice side by side in one run on the same two-switch fabric
// (host0 on sw0, host1 on sw1, one ISL; vol on disk0 behind sw0, its
// snapshot volume on disk1 behind sw1):
//  - 1 DVE: vol and snap are served by sw0 alone; both hosts reach them
//    through vt0 on sw0 (host1 over the ISL);
//  - 2 DVEs: vol and snap are `shared_with` sw1; host0 goes through vt0 on
//    sw0, host1 through vt1 on sw1.
// In each, the hosts write 4 KiB to seeded random slots of the volume
// (host0 the even ones, host1 the odd ones), `depth` each in flight, a new
// write as soon as one completes; after a warm-up and a quiet window sw0
// takes snapshot `snap` of `vol`, and the hosts go on writing until the
// snapshot is swept (the sweep slowed down so that the hosts' writes push
// chunks too). Measured in simulated time: the take (take_snapshot to its
// done callback), the sweep (done to every chunk pushed), the hosts' write
// rate in the quiet window and during the sweep; with 2 DVEs also the chunks
// each DVE pushed and the oplock messages both sent meanwhile. The run
// fails unless the snapshot's own storage holds every slot as it was at the
// point in time, the volume every slot's last acknowledged write, and each
// chunk was pushed exactly once.
#pragma once

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"

namespace splitpath::sim {

struct DveSnapshotBenchOptions {
  uint64_t volume_bytes = 4ull << 20;  // a multiple of the CP's 64 KiB chunk
  uint32_t depth = 4;                  // writes in flight per host
  SimTime warmup_ns = 1 * kNsPerMs;    // before the quiet window
  SimTime quiet_ns = 2 * kNsPerMs;     // the writes' rate without a snapshot
  // The CP's sweep: one chunk, then this long (CpConfig::sweep_interval_ns,
  // 50 us by default); slower, so the hosts' writes fault chunks too.
  SimTime sweep_interval_ns = 200 * kNsPerUs;
  uint64_t seed = 1;                 // the topology's, and the slots written
  SimTime limit_ns = 1 * kNsPerSec;  // a take or sweep that has not ended by then fails
};

// The same in the full run and with --quick: a few hundred ms of wall time.
DveSnapshotBenchOptions dve_snapshot_bench_options(bool quick);

struct DveSnapshotBenchPoint {
  uint32_t dves = 0;
  double take_sim_us = 0;     // take_snapshot to its done callback
  double sweep_sim_us = 0;    // the done callback to the snapshot swept
  uint64_t quiet_writes = 0;  // both hosts', completed in the quiet window
  uint64_t sweep_writes = 0;  // completed from the done callback to swept
  double quiet_iops = 0;
  double sweep_iops = 0;
  // Chunks pushed (copy on write and sweep) by sw0, the DVE taking the
  // snapshot, and by sw1 (0 with one DVE).
  uint64_t taker_pushes = 0;
  uint64_t peer_pushes = 0;
  uint64_t peer_cow_pushes = 0;
  // Oplock messages sent by every DVE from the done callback to swept (0
  // with one DVE: sw0 is no DVE), and per chunk pushed.
  uint64_t oplock_messages = 0;
  double oplock_messages_per_push = 0;
  uint64_t take_oplock_messages = 0;  // sent from take_snapshot to its done callback
  double wall_s = 0;                  // the whole point, bring-up included
};

struct DveSnapshotBenchResult {
  uint64_t chunks = 0;
  std::array<DveSnapshotBenchPoint, 2> points{};  // 1 DVE, 2 DVEs
  double sweep_iops_ratio = 0;                    // points[1].sweep_iops / points[0].sweep_iops
};

absl::StatusOr<DveSnapshotBenchResult> run_dve_snapshot_bench(const DveSnapshotBenchOptions& o);

}  // namespace splitpath::sim
