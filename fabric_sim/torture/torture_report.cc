#include "fabric_sim/torture/torture_report.h"

#include <algorithm>

#include "fmt/format.h"

namespace splitpath::sim::torture {

nlohmann::ordered_json run_json(const TortureRunResult& r) {
  nlohmann::ordered_json j;
  j["seed"] = r.seed;
  j["ios_completed"] = r.ios_completed;
  j["io_errors"] = r.io_errors;
  j["faults_injected"] = r.faults_injected;
  j["updates"] = r.updates;
  j["units_checked"] = r.units_checked;
  j["downstream_checked"] = r.downstream_checked;
  j["short_reads"] = r.short_reads;
  j["host_verify_errors"] = r.host_verify_errors;
  j["striped_vsegs"] = r.striped_vsegs;
  j["spans_stripe_units"] = r.spans_stripe_units;
  j["mirrored_vsegs"] = r.mirrored_vsegs;
  j["serializations"] = r.serializations;
  j["mirror_blocks_compared"] = r.mirror_blocks_compared;
  j["multipath_disks"] = r.multipath_disks;
  j["path_failovers"] = r.path_failovers;
  j["journaled_vsegs"] = r.journaled_vsegs;
  j["journal_swaps"] = r.journal_swaps;
  j["journals_recycled"] = r.journals_recycled;
  j["journal_records"] = r.journal_records;
  j["journal_blocks_compared"] = r.journal_blocks_compared;
  j["migrations_started"] = r.migrations_started;
  j["migrations_done"] = r.migrations_done;
  j["migrations_failed"] = r.migrations_failed;
  j["migrations_refused"] = r.migrations_refused;
  j["migrations_skipped"] = r.migrations_skipped;
  j["migration_blocks_copied"] = r.migration_blocks_copied;
  j["migration_barrier_writes"] = r.migration_barrier_writes;
  j["migration_failures"] = r.migration_failures;
  j["snapshots_taken"] = r.snapshots_taken;
  j["snapshots_swept"] = r.snapshots_swept;
  j["incrementals_taken"] = r.incrementals_taken;
  j["images_failed"] = r.images_failed;
  j["images_refused"] = r.images_refused;
  j["images_skipped"] = r.images_skipped;
  j["cow_pushes"] = r.cow_pushes;
  j["sweep_pushes"] = r.sweep_pushes;
  j["redirects_on_write"] = r.redirects_on_write;
  j["read_only_writes_refused"] = r.read_only_writes_refused;
  j["image_units_judged"] = r.image_units_judged;
  j["image_failures"] = r.image_failures;
  j["vseg_splits"] = r.vseg_splits;
  j["vseg_merges"] = r.vseg_merges;
  j["reconfigs_refused"] = r.reconfigs_refused;
  j["reconfigs_skipped"] = r.reconfigs_skipped;
  j["reconfig_failures"] = r.reconfig_failures;
  j["mirror_sides_failed"] = r.mirror_sides_failed;
  j["mirror_side_returns"] = r.mirror_side_returns;
  j["mirror_side_returns_done"] = r.mirror_side_returns_done;
  j["mirror_sides_refused"] = r.mirror_sides_refused;
  j["mirror_sides_skipped"] = r.mirror_sides_skipped;
  j["mirror_side_deaths"] = r.mirror_side_deaths;
  j["resyncs_done"] = r.resyncs_done;
  j["resyncs_failed"] = r.resyncs_failed;
  j["resync_extents"] = r.resync_extents;
  j["resync_blocks"] = r.resync_blocks;
  j["mirror_side_failures"] = r.mirror_side_failures;
  j["replications_started"] = r.replications_started;
  j["replications_skipped"] = r.replications_skipped;
  j["replications_refused"] = r.replications_refused;
  j["replication_epochs_closed"] = r.replication_epochs_closed;
  j["replication_epochs_applied"] = r.replication_epochs_applied;
  j["replication_epochs_checked"] = r.replication_epochs_checked;
  j["replication_blocks_compared"] = r.replication_blocks_compared;
  j["replication_journals_shipped"] = r.replication_journals_shipped;
  j["replication_bytes_shipped"] = r.replication_bytes_shipped;
  j["replication_copy_failures"] = r.replication_copy_failures;
  j["replication_max_lag_ns"] = r.replication_max_lag_ns;
  j["replication_failures"] = r.replication_failures;
  j["dve_updates"] = r.dve_updates;
  j["dve_messages"] = r.dve_messages;
  j["dve_evictions"] = r.dve_evictions;
  j["dve_fences"] = r.dve_fences;
  j["dve_recoveries"] = r.dve_recoveries;
  j["dve_checks"] = r.dve_checks;
  j["dve_skipped"] = r.dve_skipped;
  j["updates_skipped"] = r.updates_skipped;
  j["events"] = r.events;
  j["sim_seconds"] = static_cast<double>(r.sim_ns) / 1e9;
  j["fault_kinds"] = r.fault_kinds;
  auto violations = nlohmann::ordered_json::array();
  for (const Violation& v : r.violations) {
    nlohmann::ordered_json o;
    o["invariant"] = v.invariant;
    o["at_ns"] = v.at;
    o["summary"] = v.summary;
    o["history"] = v.history;
    violations.push_back(o);
  }
  j["violations"] = violations;
  return j;
}

std::string run_line(const TortureRunResult& r) {
  return fmt::format(
      "seed {}: {} I/Os ({} errors), {:.3f} s simulated, {} faults, {} updates, {} units "
      "checked, {} downstream commands checked, {} striped VSEGs, {} spans_stripe_units, "
      "{} mirrored VSEGs, {} serializations, {} mirror blocks compared, {} multipath disks, {} "
      "path failovers, {} journaled VSEGs, {} journal swaps ({} recycled), {} journal records "
      "replayed, {} migrations ({} done, {} failed, {} refused, {} skipped, {} blocks copied, {} "
      "writes met the barrier), {} snapshots ({} swept) and {} incrementals taken ({} failed, {} "
      "refused, {} skipped; {} copy-on-write and {} sweep pushes, {} redirects on write, {} "
      "read-only writes refused), {} VSEG splits and {} merges ({} refused, {} skipped), "
      "{} mirror sides failed and {} returns asked ({} ALIVE again, {} refused, {} skipped; "
      "{} side deaths, {} resyncs done, {} failed, {} extents and {} blocks copied), "
      "{} replications ({} skipped, {} refused; {} epochs closed, {} applied, {} checked, {} "
      "journals and {} bytes shipped, {} copy failures, max lag {:.3f} ms), "
      "{} DVE updates ({} messages, {} evictions, {} fences, {} recoveries, {} checks, {} "
      "skipped), {:.2f} s wall: {}\n",
      r.seed, r.ios_completed, r.io_errors, static_cast<double>(r.sim_ns) / 1e9, r.faults_injected,
      r.updates, r.units_checked, r.downstream_checked, r.striped_vsegs, r.spans_stripe_units,
      r.mirrored_vsegs, r.serializations, r.mirror_blocks_compared, r.multipath_disks,
      r.path_failovers, r.journaled_vsegs, r.journal_swaps, r.journals_recycled, r.journal_records,
      r.migrations_started, r.migrations_done, r.migrations_failed, r.migrations_refused,
      r.migrations_skipped, r.migration_blocks_copied, r.migration_barrier_writes,
      r.snapshots_taken, r.snapshots_swept, r.incrementals_taken, r.images_failed, r.images_refused,
      r.images_skipped, r.cow_pushes, r.sweep_pushes, r.redirects_on_write,
      r.read_only_writes_refused, r.vseg_splits, r.vseg_merges, r.reconfigs_refused,
      r.reconfigs_skipped, r.mirror_sides_failed, r.mirror_side_returns, r.mirror_side_returns_done,
      r.mirror_sides_refused, r.mirror_sides_skipped, r.mirror_side_deaths, r.resyncs_done,
      r.resyncs_failed, r.resync_extents, r.resync_blocks, r.replications_started,
      r.replications_skipped, r.replications_refused, r.replication_epochs_closed,
      r.replication_epochs_applied, r.replication_epochs_checked, r.replication_journals_shipped,
      r.replication_bytes_shipped, r.replication_copy_failures,
      static_cast<double>(r.replication_max_lag_ns) / 1e6, r.dve_updates, r.dve_messages,
      r.dve_evictions, r.dve_fences, r.dve_recoveries, r.dve_checks, r.dve_skipped, r.wall_seconds,
      r.violations.empty() ? "ok" : "VIOLATION of " + r.violations.front().invariant);
}

std::string violation_text(const TortureRunResult& r) {
  std::string out;
  for (const Violation& v : r.violations) {
    out += fmt::format("torture: seed {} violates the {} invariant at {} ns\n  {}\n", r.seed,
                       v.invariant, v.at, v.summary);
    for (const std::string& line : v.history)
      out += "  " + line + "\n";
  }
  out += r.scenario;
  out += "replay: " + r.replay_command + "\n";
  return out;
}

void CampaignTotals::add(const TortureRunResult& r) {
  ++runs;
  failed_runs += r.violations.empty() ? 0 : 1;
  ios += r.ios_completed;
  faults += r.faults_injected;
  striped_runs += r.striped_vsegs > 0 ? 1 : 0;
  spans_stripe_units += r.spans_stripe_units;
  mirrored_runs += r.mirrored_vsegs > 0 ? 1 : 0;
  multipath_runs += r.multipath_disks > 0 ? 1 : 0;
  serializations += r.serializations;
  path_failovers += r.path_failovers;
  journaled_runs += r.journaled_vsegs > 0 ? 1 : 0;
  journal_swaps += r.journal_swaps;
  journal_records += r.journal_records;
  migrations_started += r.migrations_started;
  migrations_done += r.migrations_done;
  migrations_failed += r.migrations_failed;
  migration_blocks_copied += r.migration_blocks_copied;
  snapshots_taken += r.snapshots_taken;
  incrementals_taken += r.incrementals_taken;
  images_failed += r.images_failed;
  image_runs += r.snapshots_taken + r.incrementals_taken > 0 ? 1 : 0;
  vseg_splits += r.vseg_splits;
  vseg_merges += r.vseg_merges;
  reconfigs_refused += r.reconfigs_refused;
  mirror_sides_failed += r.mirror_sides_failed;
  mirror_side_returns += r.mirror_side_returns;
  resyncs_done += r.resyncs_done;
  resyncs_failed += r.resyncs_failed;
  resync_blocks += r.resync_blocks;
  replications_started += r.replications_started;
  replications_skipped += r.replications_skipped;
  replication_epochs_closed += r.replication_epochs_closed;
  replication_epochs_applied += r.replication_epochs_applied;
  replication_epochs_checked += r.replication_epochs_checked;
  replication_journals_shipped += r.replication_journals_shipped;
  replication_bytes_shipped += r.replication_bytes_shipped;
  replication_max_lag_ns = std::max(replication_max_lag_ns, r.replication_max_lag_ns);
  dve_runs += r.dve_checks > 0 ? 1 : 0;
  dve_updates += r.dve_updates;
  dve_messages += r.dve_messages;
  dve_evictions += r.dve_evictions;
  dve_fences += r.dve_fences;
  dve_recoveries += r.dve_recoveries;
  dve_checks += r.dve_checks;
  sim_seconds += static_cast<double>(r.sim_ns) / 1e9;
  wall_seconds += r.wall_seconds;
}

double CampaignTotals::ios_per_wall_minute() const {
  return wall_seconds > 0 ? static_cast<double>(ios) * 60 / wall_seconds : 0;
}

double CampaignTotals::sim_hours_per_wall_minute() const {
  return wall_seconds > 0 ? sim_seconds / 3600 * 60 / wall_seconds : 0;
}

nlohmann::ordered_json totals_json(const CampaignTotals& t) {
  nlohmann::ordered_json j;
  j["runs"] = t.runs;
  j["failed_runs"] = t.failed_runs;
  j["ios_completed"] = t.ios;
  j["faults_injected"] = t.faults;
  j["striped_runs"] = t.striped_runs;
  j["spans_stripe_units"] = t.spans_stripe_units;
  j["mirrored_runs"] = t.mirrored_runs;
  j["serializations"] = t.serializations;
  j["multipath_runs"] = t.multipath_runs;
  j["path_failovers"] = t.path_failovers;
  j["journaled_runs"] = t.journaled_runs;
  j["journal_swaps"] = t.journal_swaps;
  j["journal_records"] = t.journal_records;
  j["migrations_started"] = t.migrations_started;
  j["migrations_done"] = t.migrations_done;
  j["migrations_failed"] = t.migrations_failed;
  j["migration_blocks_copied"] = t.migration_blocks_copied;
  j["snapshots_taken"] = t.snapshots_taken;
  j["incrementals_taken"] = t.incrementals_taken;
  j["images_failed"] = t.images_failed;
  j["image_runs"] = t.image_runs;
  j["vseg_splits"] = t.vseg_splits;
  j["vseg_merges"] = t.vseg_merges;
  j["reconfigs_refused"] = t.reconfigs_refused;
  j["mirror_sides_failed"] = t.mirror_sides_failed;
  j["mirror_side_returns"] = t.mirror_side_returns;
  j["resyncs_done"] = t.resyncs_done;
  j["resyncs_failed"] = t.resyncs_failed;
  j["resync_blocks"] = t.resync_blocks;
  j["replications_started"] = t.replications_started;
  j["replications_skipped"] = t.replications_skipped;
  j["replication_epochs_closed"] = t.replication_epochs_closed;
  j["replication_epochs_applied"] = t.replication_epochs_applied;
  j["replication_epochs_checked"] = t.replication_epochs_checked;
  j["replication_journals_shipped"] = t.replication_journals_shipped;
  j["replication_bytes_shipped"] = t.replication_bytes_shipped;
  j["replication_max_lag_ns"] = t.replication_max_lag_ns;
  j["dve_runs"] = t.dve_runs;
  j["dve_updates"] = t.dve_updates;
  j["dve_messages"] = t.dve_messages;
  j["dve_evictions"] = t.dve_evictions;
  j["dve_fences"] = t.dve_fences;
  j["dve_recoveries"] = t.dve_recoveries;
  j["dve_checks"] = t.dve_checks;
  j["sim_seconds"] = t.sim_seconds;
  j["wall_seconds"] = t.wall_seconds;
  j["ios_per_wall_minute"] = t.ios_per_wall_minute();
  j["sim_hours_per_wall_minute"] = t.sim_hours_per_wall_minute();
  return j;
}

std::string totals_line(const CampaignTotals& t) {
  return fmt::format(
      "{} runs, {} with a violation: {} I/Os, {} faults, {} runs with stripes, {} "
      "spans_stripe_units, {} runs with mirrors, {} serializations, {} runs with multipath, {} "
      "path failovers, {} runs with journals, {} journal swaps, {} journal records replayed, "
      "{} migrations ({} done, {} failed, {} blocks copied), {} snapshots and {} incrementals "
      "taken in {} runs ({} failed), {} VSEG splits and {} merges ({} refused), "
      "{} mirror sides failed, {} returns asked, {} resyncs done ({} failed, {} blocks copied), "
      "{} replications ({} skipped; {} epochs closed, {} applied, {} checked, {} journals and {} "
      "bytes shipped, max lag {:.3f} ms), {} runs with a DVE cluster ({} updates, {} messages, "
      "{} evictions, {} fences, {} recoveries, {} checks), {:.1f} s simulated in {:.1f} s wall "
      "({:.0f} I/Os and {:.4f} simulated hours per wall minute)\n",
      t.runs, t.failed_runs, t.ios, t.faults, t.striped_runs, t.spans_stripe_units, t.mirrored_runs,
      t.serializations, t.multipath_runs, t.path_failovers, t.journaled_runs, t.journal_swaps,
      t.journal_records, t.migrations_started, t.migrations_done, t.migrations_failed,
      t.migration_blocks_copied, t.snapshots_taken, t.incrementals_taken, t.image_runs,
      t.images_failed, t.vseg_splits, t.vseg_merges, t.reconfigs_refused, t.mirror_sides_failed,
      t.mirror_side_returns, t.resyncs_done, t.resyncs_failed, t.resync_blocks,
      t.replications_started, t.replications_skipped, t.replication_epochs_closed,
      t.replication_epochs_applied, t.replication_epochs_checked, t.replication_journals_shipped,
      t.replication_bytes_shipped, static_cast<double>(t.replication_max_lag_ns) / 1e6, t.dve_runs,
      t.dve_updates, t.dve_messages, t.dve_evictions, t.dve_fences, t.dve_recoveries, t.dve_checks,
      t.sim_seconds, t.wall_seconds, t.ios_per_wall_minute(), t.sim_hours_per_wall_minute());
}

}  // namespace splitpath::sim::torture
