#include "fabric_sim/run/replication_report.h"

#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fmt/format.h"

namespace splitpath::sim {

nlohmann::ordered_json replications_json(const Fabric& fabric) {
  auto out = nlohmann::ordered_json::array();
  const auto& configs = fabric.topology().replications;
  for (size_t i = 0; i < configs.size(); ++i) {
    const ReplicationConfig& c = configs[i];
    nlohmann::ordered_json j;
    j["name"] = c.name;
    j["volumes"] = c.volumes;
    j["interval_ns"] = c.interval_ns;
    const ReplicationSite* site = fabric.replication_site(i);
    const Switch* sw = fabric.switch_named(c.switch_name);
    if (!site || !sw || !sw->virtualization()) {
      j["state"] = fabric.replication_error(i).empty() ? "scheduled" : "refused";
      if (!fabric.replication_error(i).empty()) j["error"] = fabric.replication_error(i);
      out.push_back(j);
      continue;
    }
    j["state"] = "running";
    for (const cp::ReplicationStatus& s : sw->virtualization()->control_path().replications()) {
      if (s.name != c.name) continue;
      j["epochs_closed"] = s.epochs_closed;
      j["epochs_shipped"] = s.epochs_shipped;
      j["epochs_applied"] = s.epochs_applied;
      j["journals_shipped"] = s.journals_shipped;
      j["bytes_shipped"] = s.bytes_shipped;
      j["copy_failures"] = s.copy_failures;
      j["lag_ns"] = s.lag_ns;
      j["lag_bytes"] = s.lag_bytes;
    }
    const ReplicationSiteStats& r = site->stats();
    j["remote"] = {{"records_applied", r.records_applied},
                   {"blocks_written", r.blocks_written},
                   {"blocks_superseded", r.blocks_superseded},
                   {"at_barrier_ns", r.last_barrier_ns}};
    out.push_back(j);
  }
  return out;
}

std::string format_replication_lines(const nlohmann::ordered_json& replications) {
  std::string out;
  for (const auto& j : replications) {
    out += fmt::format("replication '{}': {}", j["name"].get<std::string>(),
                       j["state"].get<std::string>());
    if (j.contains("error")) out += fmt::format(" ({})", j["error"].get<std::string>());
    if (j.contains("epochs_closed")) {
      out += fmt::format(
          ", {} epochs closed, {} applied at the remote, {} journals ({:.2f} MiB) shipped, {} "
          "copy failures, lag {:.3f} ms / {:.2f} MiB",
          j["epochs_closed"].get<uint64_t>(), j["epochs_applied"].get<uint64_t>(),
          j["journals_shipped"].get<uint64_t>(), j["bytes_shipped"].get<uint64_t>() / 1048576.0,
          j["copy_failures"].get<uint64_t>(), j["lag_ns"].get<uint64_t>() / 1e6,
          j["lag_bytes"].get<uint64_t>() / 1048576.0);
    }
    out += "\n";
  }
  return out;
}

}  // namespace splitpath::sim
