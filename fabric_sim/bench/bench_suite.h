// The whole `splitpath bench` suite run in process, reduced to figures
// (bench_figures.h), each next to its reference in the same run:
//  - the FP's Rmap lookup against absl::btree_map and std::map on 10 thousand,
//    1 million and (full run only) 16 million fragmented extents
//    (micro_bench.h);
//  - the FP's figure 7 decision and dispatch per I/O (fp_path_bench.h), and
//    the same I/O end to end through the FP and through the CP;
//  - DES kernel events per second, frames switched per second;
//  - end-to-end simulated 4 KiB I/Os per second of wall time over null disks,
//    one host on one port and 32 hosts on 32 ports;
//  - the port-scaling curve in simulated time (FP on versus CP only);
//  - online migration of a VSEG: the copy's rate per wall and per simulated
//    second, and 4 KiB host writes' latency during it against without it
//    (migration_bench.h);
//  - snapshots: a 4 KiB host write's latency into a chunk a fresh snapshot
//    still shares (copy on write) against a later write into it, and the
//    sweep's push rate per wall and per simulated second
//    (snapshot_bench.h);
//  - LV reconfiguration: 4 KiB host writes' latency while a VSEG is split
//    and merged back against without it, each one's duration, and a grow's
//    duration and its UNIT ATTENTION's arrival (reconfig_bench.h);
//  - block commands: emptying a volume by WRITE of its data against WRITE
//    SAME of a zero block and UNMAP: simulated time, Data-Out bytes, the
//    disk's allocated bytes after (block_command_bench.h);
//  - mirrors: 4 KiB host writes' latency while a side is DEAD (first writes
//    to an age extent fault to the CP) against every side ALIVE, and the
//    side's resync under writes: its copy rate per wall and per simulated
//    second, the bytes copied against the age extents written while it was
//    DEAD (mirror_bench.h);
//  - asynchronous replication: the journal bytes shipped to the remote per
//    wall and per simulated second under 4 KiB writes, the epochs closed and
//    applied, the remote's lag when the writes stop (replication_bench.h);
//  - the DVE cluster: oplock messages per transition and a restrictive
//    update's simulated time with 2, 4 and 8 DVEs (cluster_bench.h); a
//    snapshot of a volume under two hosts' writes served by one DVE and by
//    two: the take's and sweep's simulated time, the writes' rate during the
//    sweep, the chunks each DVE pushed, oplock messages per chunk
//    (dve_snapshot_bench.h);
//  - the trace decoder against tcpdump on generated captures;
//  - instruction counts under callgrind (instruction_figures.h), when
//    valgrind is installed and the splitpath executable is known.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabric_sim/bench/bench_figures.h"
#include "fabric_sim/bench/block_command_bench.h"
#include "fabric_sim/bench/micro_bench.h"
#include "fabric_sim/bench/migration_bench.h"
#include "fabric_sim/bench/mirror_bench.h"
#include "fabric_sim/bench/reconfig_bench.h"
#include "fabric_sim/bench/replication_bench.h"
#include "fabric_sim/bench/scaling_scenario.h"
#include "fabric_sim/bench/snapshot_bench.h"

namespace splitpath::sim {

struct BenchSuiteOptions {
  bool quick = false;
  std::string scratch_dir;  // where the decode capture is written
  // The splitpath executable the instruction probes run under callgrind;
  // empty: no instruction figures (a note says so).
  std::string splitpath_executable;
};

struct BenchSuiteResult {
  std::vector<Figure> figures;
  std::vector<ScalingPoint> scaling;  // FP and CP-only point per port count
  std::vector<RmapBenchResult> rmap;  // per map size
  std::vector<std::string> notes;     // printed under the table
  MigrationBenchResult migration;     // the migration figures' run
  SnapshotBenchResult snapshot;       // the snapshot figures' run
  ReconfigBenchResult reconfig;       // the LV reconfiguration figures' run
  MirrorBenchResult mirror;           // the mirror figures' run
};

absl::StatusOr<BenchSuiteResult> run_bench_suite(const BenchSuiteOptions& options);

// One line per figure: name, value, unit, gated; then the notes.
std::string format_figures_table(const std::vector<Figure>& figures);

}  // namespace splitpath::sim
