// The topology's scheduled data services (`services:`, `splitpath run
// --service`): each started at its time on the CP of the switch serving its
// volume, its progress logged as it goes.
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "spdlog/spdlog.h"

namespace splitpath::sim {

namespace {

// How often a running service's progress is looked at (simulated time).
constexpr SimTime kWatchInterval = 200 * kNsPerUs;

}  // namespace

void Fabric::start_service(uint64_t index) {
  const ServiceConfig& s = topology_.services[index];
  if (s.snapshot) return start_snapshot(*s.snapshot, index);
  if (s.incremental) return start_incremental(*s.incremental, index);
  if (!s.migrate) return;
  const MigrateConfig& m = *s.migrate;
  const VolumeConfig* vol = nullptr;
  for (const VolumeConfig& v : topology_.volumes)
    if (v.name == m.volume) vol = &v;
  Switch* sw = vol ? switch_named(vol->switch_name) : nullptr;
  Disk* d = disk(m.disk);
  if (!sw || !sw->virtualization() || !d) {
    spdlog::error("service {}: migration of volume '{}' cannot start: no switch serves it", index,
                  m.volume);
    return;
  }
  cp::MigrationRequest r;
  r.volume = m.volume;
  r.lba = m.lba;
  r.disk_wwpn = d->wwpn();
  r.lun = m.lun;
  r.dest_lba = m.to_lba;
  cp::ControlPath& cp = sw->virtualization()->control_path();
  std::string error;
  if (!cp.start_migration(r, &error)) {
    spdlog::error("service {}: {}", index, error);
    return;
  }
  service_runs_[index].cp = &cp;
  service_runs_[index].migration_id = cp.migrations().back().id;
  watch_service(index);
}

void Fabric::start_snapshot(const SnapshotConfig& s, uint64_t index) {
  const VolumeConfig* vol = nullptr;
  for (const VolumeConfig& v : topology_.volumes)
    if (v.name == s.source) vol = &v;
  Switch* sw = vol ? switch_named(vol->switch_name) : nullptr;
  if (!sw || !sw->virtualization()) {
    spdlog::error("service {}: snapshot '{}' cannot start: no switch serves '{}'", index, s.name,
                  s.source);
    return;
  }
  std::string error;
  const std::string name = s.name;
  if (!sw->virtualization()->control_path().take_snapshot(
          {s.source, s.name}, &error, [name](bool ok) {
            if (ok)
              spdlog::info("snapshot '{}' taken", name);
            else
              spdlog::error("snapshot '{}' failed", name);
          })) {
    spdlog::error("service {}: {}", index, error);
  }
}

void Fabric::start_incremental(const IncrementalConfig& s, uint64_t index) {
  const VolumeConfig* vol = nullptr;
  for (const VolumeConfig& v : topology_.volumes)
    if (v.name == s.base) vol = &v;
  Switch* sw = vol ? switch_named(vol->switch_name) : nullptr;
  std::string error;
  if (!sw || !sw->virtualization()) {
    spdlog::error("service {}: incremental '{}' cannot start: no switch serves '{}'", index, s.name,
                  s.base);
  } else if (!sw->virtualization()->control_path().take_incremental({s.base, s.name}, &error)) {
    spdlog::error("service {}: {}", index, error);
  }
}

void Fabric::watch_service(uint64_t index) {
  ServiceRun& run = service_runs_[index];
  if (!run.cp) return;
  for (const cp::MigrationProgress& p : run.cp->migrations()) {
    if (p.id != run.migration_id) continue;
    const int tenths = static_cast<int>(p.percent() / 10);
    if (tenths > run.logged_tenths || p.state != cp::MigrationProgress::State::kRunning) {
      run.logged_tenths = tenths;
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
