// Reports of torture runs: one JSON object per run (byte-stable: the same run
// gives the same object), a one-line text summary per run, a violation's full
// text, and campaign totals with the throughput per minute of wall time.
#pragma once

#include <string>
#include <vector>

#include "fabric_sim/torture/torture_run.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim::torture {

// seed, ios_completed, io_errors, faults_injected, updates, units_checked,
// downstream_checked, short_reads, host_verify_errors, striped_vsegs,
// spans_stripe_units, mirrored_vsegs, serializations, mirror_blocks_compared,
// multipath_disks, path_failovers, journaled_vsegs, journal_swaps,
// journal_records, journal_blocks_compared, migrations_started,
// migrations_done, migrations_failed, migrations_refused, migrations_skipped,
// migration_blocks_copied, migration_barrier_writes, migration_failures,
// snapshots_taken, snapshots_swept, incrementals_taken, images_failed,
// images_refused, images_skipped, cow_pushes, sweep_pushes,
// redirects_on_write, read_only_writes_refused, image_units_judged,
// image_failures, vseg_splits, vseg_merges, reconfigs_refused,
// reconfigs_skipped, reconfig_failures, mirror_sides_failed,
// mirror_side_returns, mirror_side_returns_done, mirror_sides_refused,
// mirror_sides_skipped, mirror_side_deaths, resyncs_done, resyncs_failed,
// resync_extents, resync_blocks, mirror_side_failures, replications_started,
// replications_skipped, replications_refused, replication_epochs_closed,
// replication_epochs_applied, replication_epochs_checked,
// replication_blocks_compared, replication_journals_shipped,
// replication_bytes_shipped, replication_copy_failures,
// replication_max_lag_ns, replication_failures, dve_updates, dve_messages,
// dve_evictions, dve_fences, dve_recoveries, dve_checks, dve_skipped,
// updates_skipped, events,
// sim_seconds, fault_kinds,
// violations [{invariant, at_ns, summary, history}]. No wall time: the object
// depends on the seed and options only.
nlohmann::ordered_json run_json(const TortureRunResult& r);
std::string run_line(const TortureRunResult& r);
// The seed, the invariant, the summary, the history and the scenario.
std::string violation_text(const TortureRunResult& r);

struct CampaignTotals {
  uint64_t runs = 0;
  uint64_t failed_runs = 0;
  uint64_t ios = 0;
  uint64_t faults = 0;
  uint64_t striped_runs = 0;  // runs with at least one striped VSEG
  uint64_t spans_stripe_units = 0;
  uint64_t mirrored_runs = 0;   // runs with at least one mirrored VSEG
  uint64_t multipath_runs = 0;  // runs with at least one multi-ported disk
  uint64_t serializations = 0;
  uint64_t path_failovers = 0;
  uint64_t journaled_runs = 0;  // runs with at least one journaled VSEG
  uint64_t journal_swaps = 0;
  uint64_t journal_records = 0;
  uint64_t migrations_started = 0;
  uint64_t migrations_done = 0;
  uint64_t migrations_failed = 0;
  uint64_t migration_blocks_copied = 0;
  uint64_t snapshots_taken = 0;
  uint64_t incrementals_taken = 0;
  uint64_t images_failed = 0;
  uint64_t image_runs = 0;  // runs with at least one snapshot or incremental taken
  uint64_t vseg_splits = 0;
  uint64_t vseg_merges = 0;
  uint64_t reconfigs_refused = 0;
  uint64_t mirror_sides_failed = 0;
  uint64_t mirror_side_returns = 0;
  uint64_t resyncs_done = 0;
  uint64_t resyncs_failed = 0;
  uint64_t resync_blocks = 0;
  uint64_t replications_started = 0;
  uint64_t replications_skipped = 0;
  uint64_t replication_epochs_closed = 0;
  uint64_t replication_epochs_applied = 0;
  uint64_t replication_epochs_checked = 0;
  uint64_t replication_journals_shipped = 0;
  uint64_t replication_bytes_shipped = 0;
  SimTime replication_max_lag_ns = 0;  // the largest of any run
  uint64_t dve_runs = 0;               // runs with a DVE cluster
  uint64_t dve_updates = 0;
  uint64_t dve_messages = 0;
  uint64_t dve_evictions = 0;
  uint64_t dve_fences = 0;
  uint64_t dve_recoveries = 0;
  uint64_t dve_checks = 0;
  double sim_seconds = 0;
  double wall_seconds = 0;
  void add(const TortureRunResult& r);
  double ios_per_wall_minute() const;
  double sim_hours_per_wall_minute() const;
};
nlohmann::ordered_json totals_json(const CampaignTotals& t);
std::string totals_line(const CampaignTotals& t);

}  // namespace splitpath::sim::torture
