// One torture run: the scenario of a seed built into a fabric, its hosts' jobs
// run under the scenario's faults and restrictive updates, with the
// durability, revocation and progress checkers judging the frames as they
// pass. The run stops at the first violation. The same options give the same
// result on every machine (wall time aside).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabric_sim/torture/torture_options.h"
#include "fabric_sim/torture/violation.h"

namespace splitpath::sim::torture {

struct TortureRunResult {
  uint64_t seed = 0;
  uint64_t ios_completed = 0;    // host I/Os that ended GOOD (the hosts' counters)
  uint64_t io_errors = 0;        // host I/Os that ended otherwise (faults make them)
  uint64_t faults_injected = 0;  // faults and updates the schedule fired
  uint64_t updates = 0;          // restrictive updates completed
  uint64_t units_checked = 0;    // 512-byte units of GOOD reads judged
  uint64_t downstream_checked = 0;
  uint64_t short_reads = 0;  // GOOD reads that lost data frames in the fabric (the host fails them)
  uint64_t host_verify_errors = 0;  // the hosts' own verification (independent)
  uint64_t striped_vsegs = 0;       // VSEGs of the scenario laid out as stripes
  // I/Os the FPs faulted to their CPs for crossing stripe units
  // (fpapi::FaultKind::kSpansStripeUnits), all switches.
  uint64_t spans_stripe_units = 0;
  uint64_t mirrored_vsegs = 0;           // VSEGs laid out as mirrors or stripes of mirrors
  uint64_t serializations = 0;           // writes faulted for serialization (kSerialization)
  uint64_t mirror_blocks_compared = 0;   // mirror blocks whose sides the end check compared
  uint64_t multipath_disks = 0;          // disks with more than one port
  uint64_t path_failovers = 0;           // multipath failovers the CPs made
  uint64_t journaled_vsegs = 0;          // VSEGs whose writes are journaled
  uint64_t journal_swaps = 0;            // journals the CPs swapped in for full ones
  uint64_t journals_recycled = 0;        // sealed journals reused before the checker read them
  uint64_t journal_records = 0;          // records the journal checker read and replayed
  uint64_t journal_blocks_compared = 0;  // data-device blocks compared with the replay
  // Online migrations the schedule fired: started by the CP (then done or
  // failed), refused by start_migration, skipped by the harness (the VSEG's
  // blocks in both places, an update or a migration of it pending); the
  // blocks the CP copied for them; why each failed one failed.
  uint64_t migrations_started = 0;
  uint64_t migrations_done = 0;
  uint64_t migrations_failed = 0;
  uint64_t migrations_refused = 0;
  uint64_t migrations_skipped = 0;
  uint64_t migration_blocks_copied = 0;
  uint64_t migration_barrier_writes = 0;  // host writes that met a copy barrier and waited
  std::vector<std::string> migration_failures;
  // Snapshots and incrementals the schedule fired: taken by the CP, failed
  // (the take failed, or a snapshot's push failed under faults: why, in
  // image_failures), refused by the CP, skipped by the harness (an update or
  // a migration of the source pending); snapshots swept; the CP's
  // copy-on-write and sweep pushes and redirects on write; writes to
  // read-only images and bases refused (DATA PROTECT, as they must be);
  // units the end check read from the disk stores and judged.
  uint64_t snapshots_taken = 0;
  uint64_t snapshots_swept = 0;
  uint64_t incrementals_taken = 0;
  uint64_t images_failed = 0;
  uint64_t images_refused = 0;
  uint64_t images_skipped = 0;
  uint64_t cow_pushes = 0;
  uint64_t sweep_pushes = 0;
  uint64_t redirects_on_write = 0;
  uint64_t read_only_writes_refused = 0;
  uint64_t image_units_judged = 0;
  std::vector<std::string> image_failures;
  // VSEG splits and merges (LV reconfiguration) the schedule fired: done by
  // the CP (done(true)), refused (split_vseg or merge_vsegs false, or
  // done(false): why, in reconfig_failures), skipped by the harness (the
  // VSEG migrating, split already, under an update or a data service, its
  // blocks not all in one place).
  uint64_t vseg_splits = 0;
  uint64_t vseg_merges = 0;
  uint64_t reconfigs_refused = 0;
  uint64_t reconfigs_skipped = 0;
  std::vector<std::string> reconfig_failures;
  // Mirror sides (kind mirror_side): failures the harness asked for that the
  // CP made (done(true)); returns the CP accepted (a failed resync is asked
  // again, up to 3 times) and those that ended ALIVE (done(true)); requests
  // the CP refused for good (why, in mirror_side_failures; a return refused
  // while the mirror is busy is asked again 5 ms later, up to 100 times);
  // failures skipped by the harness (one of the VSEG under way). The CPs'
  // side deaths of every cause (asked for, a failed write, a disk gone) and
  // resyncs of mirror sides of every cause (asked for, or started by the CP
  // when a side's disk came back): done, failed (why, in
  // mirror_side_failures), the extents and blocks they copied.
  uint64_t mirror_sides_failed = 0;
  uint64_t mirror_side_returns = 0;
  uint64_t mirror_side_returns_done = 0;
  uint64_t mirror_sides_refused = 0;
  uint64_t mirror_sides_skipped = 0;
  uint64_t mirror_side_deaths = 0;
  // Sides still DEAD at the end because their disk left the fabric, though
  // every fault healed: the CP never resynchronized them by itself (it
  // retries no resync refused while another side of the VSEG resynchronized
  // when the disk came back). Named in mirror_side_failures.
  uint64_t resyncs_done = 0;
  uint64_t resyncs_failed = 0;
  uint64_t resync_extents = 0;
  uint64_t resync_blocks = 0;
  std::vector<std::string> mirror_side_failures;
  // Replication (kind replication): started (0 or 1), skipped (the kind
  // drawn, no volume with every VSEG journaled), refused by the CP (why, in
  // replication_failures); the CP's epochs closed and applied by the end,
  // those the harness checked (each remote image against its barrier's
  // capture) and the blocks compared, journals and bytes shipped, copies
  // that failed (tried again), the largest lag seen.
  uint64_t replications_started = 0;
  uint64_t replications_skipped = 0;
  uint64_t replications_refused = 0;
  uint64_t replication_epochs_closed = 0;
  uint64_t replication_epochs_applied = 0;
  uint64_t replication_epochs_checked = 0;
  uint64_t replication_blocks_compared = 0;
  uint64_t replication_journals_shipped = 0;
  uint64_t replication_bytes_shipped = 0;
  uint64_t replication_copy_failures = 0;
  SimTime replication_max_lag_ns = 0;
  std::vector<std::string> replication_failures;
  // The DVE cluster (kind dve_cluster): updates done, messages the DVEs sent,
  // peers evicted, DVEs fenced, non-volatile oplocks recovered for evicted
  // DVEs, invariant checks made; requests and crashes skipped (the DVE was
  // not online, or down already).
  uint64_t dve_updates = 0;
  uint64_t dve_messages = 0;
  uint64_t dve_evictions = 0;
  uint64_t dve_fences = 0;
  uint64_t dve_recoveries = 0;
  uint64_t dve_checks = 0;
  uint64_t dve_skipped = 0;
  // Range moves and flag changes not requested: a migration of their VSEG
  // ran, it is split, or it is a snapshot's source or an incremental's base.
  uint64_t updates_skipped = 0;
  uint64_t events = 0;  // kernel events
  SimTime sim_ns = 0;
  double wall_seconds = 0;
  std::vector<std::string> fault_kinds;  // the kinds this run enabled (swarm)
  std::string scenario;                  // describe_scenario()
  std::string replay_command;            // the command line that runs it again
  std::vector<Violation> violations;     // empty when none; the run stops at the first
};

// Fails only if the scenario cannot be built (a generator bug) or the capture
// or event log cannot be written.
absl::StatusOr<TortureRunResult> run_torture(const TortureOptions& options);

}  // namespace splitpath::sim::torture
