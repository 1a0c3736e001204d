// The topology's scheduled data services (`services:`, `splitpath run
// --service`): each started at its time on the CP of the switch serving its
// volume, its outcome kept for the run report and its progress logged as it
// goes.
#include <algorithm>
#include <utility>

#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/virtualization_setup.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace splitpath::sim {

namespace {

// How often a running migration's progress is looked at (simulated time).
constexpr SimTime kWatchInterval = 200 * kNsPerUs;

}  // namespace

const char* service_state_name(ServiceOutcome::State state) {
  switch (state) {
    case ServiceOutcome::State::kScheduled:
      return "scheduled";
    case ServiceOutcome::State::kRefused:
      return "refused";
    case ServiceOutcome::State::kRunning:
      return "running";
    case ServiceOutcome::State::kDone:
      return "done";
    case ServiceOutcome::State::kFailed:
      return "failed";
  }
  return "?";
}

void Fabric::start_service(uint64_t index) {
  const ServiceConfig& s = topology_.services[index];
  service_outcomes_[index].started_ns = kernel_.now();
  if (!s.snapshots.empty()) return start_snapshots(s.snapshots, index);
  if (s.incremental) return start_incremental(*s.incremental, index);
  if (s.migrate) return start_migration(*s.migrate, index);
  if (s.grow || s.split || s.merge) return start_reconfig(s, index);
  if (s.mirror_fail || s.mirror_return) return start_mirror_side(s, index);
}

void Fabric::start_replication(uint64_t index) {
  const ReplicationConfig& c = topology_.replications[index];
  Switch* sw = switch_named(c.switch_name);
  Disk* staging = disk(c.staging_disk);
  if (!sw || !sw->virtualization() || !staging) {
    replication_errors_[index] = fmt::format("switch '{}' does not virtualize", c.switch_name);
    return;
  }
  cp::ControlPath& cp = sw->virtualization()->control_path();
  std::vector<ReplicationSite::Image> images;
  for (const ReplicationImageConfig& i : c.images)
    images.push_back(ReplicationSite::Image{i.volume, disk(i.disk), i.lun, i.lba});
  auto site = std::make_unique<ReplicationSite>(cp, c.name, staging, c.staging_lun, images);
  ReplicationSite* s = site.get();
  cp::ReplicationRequest r;
  r.name = c.name;
  r.volumes = c.volumes;
  r.interval_ns = c.interval_ns;
  r.staging_wwpn = staging->wwpn();
  r.staging_lun = c.staging_lun;
  r.staging_lba = c.staging_lba;
  r.staging_blocks = c.staging_blocks;
  // The remote array applies an epoch as soon as it is staged.
  r.on_shipped = [s](const cp::ShippedEpoch& e) { s->apply(e); };
  std::string error;
  if (!cp.start_replication(r, &error)) {
    spdlog::warn("replication '{}' refused: {}", c.name, error);
    replication_errors_[index] = error;
    return;
  }
  replication_sites_[index] = std::move(site);
}

void Fabric::start_mirror_side(const ServiceConfig& s, uint64_t index) {
  const MirrorSideServiceConfig& m = s.mirror_fail ? *s.mirror_fail : *s.mirror_return;
  cp::ControlPath* cp = service_cp(m.volume, index);
  if (!cp) return;
  std::string error;
  const bool ok =
      s.mirror_fail
          ? cp->fail_mirror_side(
                m.volume, m.lba, m.side, &error,
                service_done(index, fmt::format("failing side {} of '{}'", m.side, m.volume)))
          : cp->return_mirror_side(
                m.volume, m.lba, m.side, &error,
                service_done(index, fmt::format("returning side {} of '{}'", m.side, m.volume)));
  if (!ok) refuse_service(index, error);
}

void Fabric::start_reconfig(const ServiceConfig& s, uint64_t index) {
  const std::string& volume = s.grow ? s.grow->volume : s.split ? s.split->volume : s.merge->volume;
  cp::ControlPath* cp = service_cp(volume, index);
  if (!cp) return;
  std::string error;
  bool ok = false;
  if (s.grow) {
    cp::GrowRequest r;
    r.volume = volume;
    for (const VolumeConfig& v : topology_.volumes) {
      if (v.name == volume) r.vseg = vseg_def_of(topology_, v, s.grow->vseg);
    }
    r.vseg.alternate_paths.clear();  // a grown VSEG is reached through the disk's own port
    ok = cp->grow_volume(
        r, &error,
        service_done(index, fmt::format("growing '{}' by {} blocks", volume, r.vseg.blocks)));
  } else if (s.split) {
    ok = cp->split_vseg(
        volume, s.split->lba, &error,
        service_done(index, fmt::format("splitting '{}' at LBA {}", volume, s.split->lba)));
  } else {
    ok = cp->merge_vsegs(
        volume, s.merge->lba, &error,
        service_done(index, fmt::format("merging '{}' at LBA {}", volume, s.merge->lba)));
  }
  if (!ok) refuse_service(index, error);
}

cp::ControlPath* Fabric::service_cp(const std::string& volume, uint64_t index) {
  for (const VolumeConfig& v : topology_.volumes) {
    if (v.name != volume) continue;
    Switch* sw = switch_named(v.switch_name);
    if (sw && sw->virtualization()) {
      service_outcomes_[index].cp = &sw->virtualization()->control_path();
      return &sw->virtualization()->control_path();
    }
  }
  refuse_service(index, fmt::format("no switch serves volume '{}'", volume));
  return nullptr;
}

void Fabric::refuse_service(uint64_t index, const std::string& error) {
  ServiceOutcome& o = service_outcomes_[index];
  o.state = ServiceOutcome::State::kRefused;
  o.error = error;
  o.finished_ns = kernel_.now();
  spdlog::error("service {}: {}", index, error);
}

std::function<void(bool)> Fabric::service_done(uint64_t index, std::string what) {
  service_outcomes_[index].state = ServiceOutcome::State::kRunning;
  return [this, index, what = std::move(what)](bool ok) {
    ServiceOutcome& o = service_outcomes_[index];
    o.state = ok ? ServiceOutcome::State::kDone : ServiceOutcome::State::kFailed;
    o.finished_ns = kernel_.now();
    if (ok) {
      spdlog::info("service {}: {} done", index, what);
    } else {
      o.error = what + " failed";
      spdlog::error("service {}: {} failed", index, what);
    }
  };
}

void Fabric::start_migration(const MigrateConfig& m, uint64_t index) {
  cp::ControlPath* cp = service_cp(m.volume, index);
  if (!cp) return;
  Disk* d = disk(m.disk);
  if (!d) return refuse_service(index, fmt::format("no disk '{}'", m.disk));
  cp::MigrationRequest r;
  r.volume = m.volume;
  r.lba = m.lba;
  r.disk_wwpn = d->wwpn();
  r.lun = m.lun;
  r.dest_lba = m.to_lba;
  std::string error;
  if (!cp->start_migration(r, &error,
                           service_done(index, fmt::format("migration of '{}'", m.volume)))) {
    return refuse_service(index, error);
  }
  service_outcomes_[index].migration_id = cp->migrations().back().id;
  watch_service(index);
}

void Fabric::start_snapshots(const std::vector<SnapshotConfig>& group, uint64_t index) {
  cp::ControlPath* cp = service_cp(group.front().source, index);
  if (!cp) return;
  std::vector<cp::SnapshotRequest> requests;
  std::string names;
  for (const SnapshotConfig& s : group) {
    // One CP takes one point in time; volumes of several switches would need
    // the DVEs to agree on it.
    if (service_cp(s.source, index) != cp) {
      return refuse_service(index, fmt::format("snapshot '{}': volume '{}' is not served by the "
                                               "switch serving '{}' (a group-atomic snapshot "
                                               "is taken by one CP)",
                                               s.name, s.source, group.front().source));
    }
    requests.push_back({s.source, s.name});
    names += (names.empty() ? "'" : ", '") + s.name + "'";
  }
  std::string error;
  auto done = service_done(index, fmt::format("snapshot {}", names));
  const bool ok = requests.size() == 1 ? cp->take_snapshot(requests.front(), &error, done)
                                       : cp->take_snapshots(requests, &error, done);
  if (!ok) return refuse_service(index, error);
  watch_service(index);
}

void Fabric::watch_sweep(uint64_t index) {
  const ServiceOutcome& o = service_outcomes_[index];
  bool running = o.state == ServiceOutcome::State::kRunning;  // not taken yet
  double least = 100;
  std::string line;
  for (const SnapshotConfig& s : topology_.services[index].snapshots) {
    for (const cp::SnapshotInfo& info : o.cp->snapshots()) {
      if (info.name != s.name || !info.ready || !info.error.empty()) continue;
      running = running || !info.swept;
      const double percent =
          info.blocks ? 100.0 * double(info.own_blocks) / double(info.blocks) : 100.0;
      least = std::min(least, percent);
      line += fmt::format("{}'{}' {:.0f}%", line.empty() ? "" : ", ", info.name, percent);
    }
  }
  int& logged = service_logged_tenths_[index];
  if (!line.empty() && static_cast<int>(least / 10) > logged) {
    logged = static_cast<int>(least / 10);
    spdlog::info("snapshot {} on its own storage", line);
  }
  if (running) kernel_.schedule_in<&Fabric::watch_service>(kWatchInterval, this, index);
}

void Fabric::start_incremental(const IncrementalConfig& s, uint64_t index) {
  cp::ControlPath* cp = service_cp(s.base, index);
  if (!cp) return;
  std::string error;
  if (!cp->take_incremental({s.base, s.name}, &error,
                            service_done(index, fmt::format("incremental '{}'", s.name)))) {
    refuse_service(index, error);
  }
}

void Fabric::watch_service(uint64_t index) {
  if (!topology_.services[index].snapshots.empty()) return watch_sweep(index);
  const ServiceOutcome& o = service_outcomes_[index];
  for (const cp::MigrationProgress& p : o.cp->migrations()) {
    if (p.id != o.migration_id) continue;
    const int tenths = static_cast<int>(p.percent() / 10);
    int& logged = service_logged_tenths_[index];
    if (tenths > logged || p.state != cp::MigrationProgress::State::kRunning) {
      logged = tenths;
      const double rate = p.rate_bytes_per_s(kernel_.now());
      if (p.state == cp::MigrationProgress::State::kFailed) {
        spdlog::error("migration {} of volume '{}' failed: {}", p.id, p.volume, p.error);
      } else {
        spdlog::info(
            "migration {} of volume '{}' VSEG {}: {:.0f}% ({:.1f} MB/s, {} left, {} "
            "writes met the barrier)",
            p.id, p.volume, p.vseg_id, p.percent(), rate / 1e6,
            p.eta_s(kernel_.now()) < 0 ? std::string("?")
                                       : fmt::format("{:.2f} ms", p.eta_s(kernel_.now()) * 1e3),
            p.barrier_writes);
      }
    }
    if (p.state == cp::MigrationProgress::State::kRunning)
      kernel_.schedule_in<&Fabric::watch_service>(kWatchInterval, this, index);
  }
}

}  // namespace splitpath::sim
