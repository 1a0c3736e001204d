// The LV reconfiguration figures of `splitpath bench` (cp/lv_reconfig.cc):
// on service_bench_fabric's one switch (host on port 0, vol0 of one VSEG on
// disk0, LUN 0 of vt0), measured in one run:
//  - the write penalty of a VSEG split and of a merge: the host writes 4 KiB
//    to seeded random slots of vol0, `depth` writes in flight (each
//    completion sends the next), while the CP splits vol0's VSEG in the
//    middle and then merges it back (each a restrictive update over the
//    whole VSEGs: revoke, drain, change, reload), `rounds` times. The writes
//    sent while a split (a merge) ran are sent again afterwards, same slots,
//    order and depth, with no reconfiguration: their simulated latencies
//    side by side, and each split's and merge's simulated duration (request
//    to done);
//  - the grow: vol0 grows by a VSEG on disk0 after its own blocks; the
//    simulated time from grow_volume to done, and until the host's READ
//    got its UNIT ATTENTION (CAPACITY DATA HAS CHANGED): READs sent one at a
//    time from done on, until one meets it (those answered GOOD before are
//    counted); READ CAPACITY(16) then reports the new capacity, and a WRITE
//    into the new blocks meets no UA and lands on disk0 after vol0's
//    first VSEG.
// Every slot written is read back from disk0's store at the end.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/node/latency_histogram.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

struct ReconfigBenchOptions {
  uint64_t vseg_bytes = 64ull << 20;  // vol0's one VSEG; whole 4 KiB slots, at least two
  uint64_t grow_bytes = 16ull << 20;  // the VSEG the grow appends; whole 4 KiB slots
  uint32_t depth = 8;                 // host writes in flight (1 to 64)
  uint32_t rounds = 16;               // splits, each followed by its merge (at least 1)
  uint64_t seed = 1;                  // the slots written
  // A run that takes longer in simulated time fails (a hung update).
  SimTime limit_ns = 10 * kNsPerSec;
};

// The suite's sizes: a 64 MiB VSEG, 16 MiB with --quick (the same depth and
// rounds).
ReconfigBenchOptions reconfig_bench_options(bool quick);

// The fabric, validated: host0; disk0 holding vol0 (one VSEG from LBA 0,
// the host's LUN 0) and room after it for the grow.
absl::StatusOr<Topology> reconfig_bench_topology(const ReconfigBenchOptions& options);

struct ReconfigBenchResult {
  uint32_t depth = 0;
  uint32_t rounds = 0;
  // Writes sent while a split (a merge) ran, over all rounds; as many again
  // with no reconfiguration.
  uint64_t split_writes = 0;
  uint64_t merge_writes = 0;
  LatencyHistogram split_overlap;  // ns, the writes sent while a split ran
  LatencyHistogram split_quiet;    // ns, the same writes with none
  LatencyHistogram merge_overlap;
  LatencyHistogram merge_quiet;
  double split_penalty = 0;      // split_overlap.mean() / split_quiet.mean()
  double split_p99_penalty = 0;  // of the 99th percentiles
  double merge_penalty = 0;
  double merge_p99_penalty = 0;
  LatencyHistogram split_duration;  // ns, each split from request to done
  LatencyHistogram merge_duration;
  // The grow.
  uint64_t capacity_before = 0;  // blocks
  uint64_t capacity_after = 0;   // READ CAPACITY(16)'s, after the grow
  SimTime grow_ns = 0;           // grow_volume to done
  SimTime ua_ns = 0;             // grow_volume to the host's command answered with the UA
  // The host's READs, sent one at a time from done on, answered GOOD before
  // the one with the UA: the CP's grow is done at once (no restrictive
  // update), and the FPs get the LUN's masked exposure a mailbox latency
  // later; a command that reaches them first runs without its UA.
  uint64_t commands_before_ua = 0;
  uint64_t unit_attentions = 0;  // UAs the host got after the grow (1)
  uint64_t slots_checked = 0;    // distinct slots written and read back
};

// Builds the fabric and runs the measurements. Fails if an option is out of
// range, a reconfiguration is refused, fails or does not finish in limit_ns,
// a host write fails, no write overlapped a split or a merge, the UA does
// not come (or comes twice), READ CAPACITY(16) reports other than the old
// capacity plus the grow, or a slot on disk0 differs from what was last
// written to it.
absl::StatusOr<ReconfigBenchResult> run_reconfig_bench(const ReconfigBenchOptions& options);

}  // namespace splitpath::sim
