#include "fabric_sim/run/services_report.h"

#include "fmt/format.h"

namespace splitpath::sim {

namespace {

nlohmann::ordered_json migration_json(const cp::MigrationProgress& p, SimTime now) {
  nlohmann::ordered_json j;
  j["vseg"] = p.vseg_id;
  j["percent"] = p.percent();
  j["copied_blocks"] = p.copied_blocks;
  j["blocks"] = p.blocks;
  j["mb_per_sim_s"] = p.rate_bytes_per_s(now) / 1e6;
  j["barrier_writes"] = p.barrier_writes;
  if (p.state == cp::MigrationProgress::State::kFailed) j["error"] = p.error;
  return j;
}

nlohmann::ordered_json snapshot_json(const cp::SnapshotInfo& s) {
  nlohmann::ordered_json j;
  j["name"] = s.name;
  j["source"] = s.source;
  j["ready"] = s.ready;
  j["taken_ns"] = s.taken_ns;
  j["own_blocks"] = s.own_blocks;
  j["blocks"] = s.blocks;
  j["swept"] = s.swept;
  if (!s.error.empty()) j["error"] = s.error;
  return j;
}

}  // namespace

nlohmann::ordered_json services_json(const Fabric& fabric) {
  auto out = nlohmann::ordered_json::array();
  const auto& configs = fabric.topology().services;
  const SimTime now = const_cast<Fabric&>(fabric).kernel().now();
  for (size_t i = 0; i < configs.size(); ++i) {
    const ServiceConfig& c = configs[i];
    const ServiceOutcome& o = fabric.service_outcomes()[i];
    nlohmann::ordered_json j;
    j["at_ns"] = c.at_ns;
    if (c.migrate) {
      j["kind"] = "migration";
      j["volume"] = c.migrate->volume;
    } else if (!c.snapshots.empty()) {
      j["kind"] = c.snapshots.size() > 1 ? "group_snapshot" : "snapshot";
    } else if (c.incremental) {
      j["kind"] = "incremental";
      j["base"] = c.incremental->base;
      j["name"] = c.incremental->name;
    } else if (c.grow) {
      j["kind"] = "grow";
      j["volume"] = c.grow->volume;
      j["blocks"] = c.grow->vseg.blocks;
    } else if (c.split || c.merge) {
      j["kind"] = c.split ? "split" : "merge";
      j["volume"] = c.split ? c.split->volume : c.merge->volume;
      j["lba"] = c.split ? c.split->lba : c.merge->lba;
    } else if (c.mirror_fail || c.mirror_return) {
      const MirrorSideServiceConfig& m = c.mirror_fail ? *c.mirror_fail : *c.mirror_return;
      j["kind"] = c.mirror_fail ? "mirror_fail" : "mirror_return";
      j["volume"] = m.volume;
      j["lba"] = m.lba;
      j["side"] = m.side;
    }
    j["state"] = service_state_name(o.state);
    if (!o.error.empty()) j["error"] = o.error;
    if (o.state != ServiceOutcome::State::kScheduled) j["started_ns"] = o.started_ns;
    if (o.state == ServiceOutcome::State::kDone || o.state == ServiceOutcome::State::kFailed)
      j["finished_ns"] = o.finished_ns;
    if (o.cp && c.migrate && o.state != ServiceOutcome::State::kRefused) {
      for (const cp::MigrationProgress& p : o.cp->migrations())
        if (p.id == o.migration_id) j["migration"] = migration_json(p, now);
    }
    if (!c.snapshots.empty()) {
      auto snaps = nlohmann::ordered_json::array();
      for (const SnapshotConfig& s : c.snapshots) {
        nlohmann::ordered_json sj = {{"name", s.name}, {"source", s.source}};
        // A refused service made no snapshot: an info of that name is another's.
        if (o.cp && o.state != ServiceOutcome::State::kRefused) {
          for (const cp::SnapshotInfo& info : o.cp->snapshots())
            if (info.name == s.name) sj = snapshot_json(info);
        }
        snaps.push_back(sj);
      }
      j["snapshots"] = snaps;
    }
    out.push_back(j);
  }
  return out;
}

std::string format_services_lines(const nlohmann::ordered_json& services) {
  std::string out;
  for (size_t i = 0; i < services.size(); ++i) {
    const auto& j = services[i];
    std::string what;
    const std::string kind = j.value("kind", std::string());
    if (kind == "migration") {
      what = fmt::format("migration of '{}'", j["volume"].get<std::string>());
    } else if (kind == "grow") {
      what = fmt::format("'{}' grows by {} blocks", j["volume"].get<std::string>(),
                         j["blocks"].get<uint64_t>());
    } else if (kind == "split" || kind == "merge") {
      what = fmt::format("{} of '{}' at LBA {}", kind, j["volume"].get<std::string>(),
                         j["lba"].get<uint64_t>());
    } else if (kind == "mirror_fail" || kind == "mirror_return") {
      what = fmt::format("{} side {} of '{}'", kind == "mirror_fail" ? "failing" : "returning",
                         j["side"].get<uint32_t>(), j["volume"].get<std::string>());
    } else if (j.contains("base")) {
      what = fmt::format("incremental '{}' of '{}'", j["name"].get<std::string>(),
                         j["base"].get<std::string>());
    } else if (j.contains("snapshots")) {
      for (const auto& s : j["snapshots"]) {
        what += fmt::format("{}'{}' of '{}'", what.empty() ? "snapshot " : ", ",
                            s["name"].get<std::string>(), s["source"].get<std::string>());
      }
    }
    out += fmt::format("service {} at {:.3f} ms: {}: {}", i, j["at_ns"].get<uint64_t>() / 1e6, what,
                       j["state"].get<std::string>());
    if (j.contains("error")) out += fmt::format(" ({})", j["error"].get<std::string>());
    if (j.contains("migration")) {
      const auto& m = j["migration"];
      out += fmt::format(", {:.0f}% copied, {:.1f} MB/s simulated, {} writes met the barrier",
                         m["percent"].get<double>(), m["mb_per_sim_s"].get<double>(),
                         m["barrier_writes"].get<uint64_t>());
    }
    if (j.contains("snapshots")) {
      for (const auto& s : j["snapshots"]) {
        if (!s.contains("blocks")) continue;
        const uint64_t blocks = s["blocks"].get<uint64_t>();
        out += fmt::format(
            ", '{}' {:.0f}% on its own storage{}", s["name"].get<std::string>(),
            blocks ? 100.0 * double(s["own_blocks"].get<uint64_t>()) / double(blocks) : 100.0,
            s["swept"].get<bool>() ? " (swept)" : "");
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace splitpath::sim
