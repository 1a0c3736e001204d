// The asynchronous replication figures of `splitpath bench` (cp/replication.cc,
// run/replication_site.cc): a host writes 4 KiB at random, `depth` in
// flight, to a group of two journaled volumes on one switch, replicated
// every `interval_ns` over an ISL to a remote array on a second switch, for
// `duration_ns` of simulated time. Measured in one run: the journal bytes
// shipped (and the records the remote merged and applied) per wall-clock
// second and per simulated second, the epochs closed and applied, the
// remote's lag when the writes stop, and each epoch's barrier cost to the
// host (write latency while the group is paused against the run's mean).
// At the end, once the remote has caught up, its images must equal the
// volumes block for block (else the run fails).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"

namespace splitpath::sim {

struct ReplicationBenchOptions {
  SimTime duration_ns = 200 * kNsPerMs;
  SimTime interval_ns = 2 * kNsPerMs;
  uint32_t depth = 8;
  uint64_t seed = 1;
};

// 200 ms of writes; 50 ms with --quick.
ReplicationBenchOptions replication_bench_options(bool quick);

struct ReplicationBenchResult {
  double wall_s = 0;  // the workload window, wall clock
  double sim_s = 0;
  uint64_t host_writes = 0;
  uint64_t epochs_closed = 0;
  uint64_t epochs_applied = 0;
  uint64_t journals_shipped = 0;
  uint64_t bytes_shipped = 0;
  uint64_t records_applied = 0;
  uint64_t blocks_superseded = 0;
  uint64_t lag_ns = 0;     // when the writes stopped
  uint64_t lag_bytes = 0;  // idem
  double write_mean_us = 0;
};

absl::StatusOr<ReplicationBenchResult> run_replication_bench(const ReplicationBenchOptions& o);

}  // namespace splitpath::sim
