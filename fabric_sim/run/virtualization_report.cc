#include "fabric_sim/run/virtualization_report.h"

#include <array>
#include <cstddef>

#include "fmt/format.h"

namespace splitpath::sim {
namespace {

using Faults = std::array<uint64_t, fpapi::kFaultKinds>;

nlohmann::ordered_json faults_json(const Faults& faults) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (size_t k = 0; k < fpapi::kFaultKinds; ++k)
    j[fpapi::fault_kind_name(static_cast<fpapi::FaultKind>(k))] = faults[k];
  return j;
}

nlohmann::ordered_json cp_json(const cp::CpStats& s) {
  nlohmann::ordered_json j;
  j["messages"] = s.messages;
  j["mapping_misses"] = s.mapping_misses;
  j["queued_ios"] = s.queued_ios;
  j["faults"] = faults_json(s.faults);
  j["completed_ios"] = s.completed_ios;
  j["error_completions"] = s.error_completions;
  j["dispatched"] = s.dispatched;
  j["target_commands"] = s.target_commands;
  j["els_answered"] = s.els_answered;
  j["updates"] = s.updates;
  j["drain_waits"] = s.drain_waits;
  j["aborted_ios"] = s.aborted_ios;
  j["stale_leg_aborts"] = s.stale_leg_aborts;
  j["path_tests"] = s.path_tests;
  j["paths_failed"] = s.paths_failed;
  j["path_failovers"] = s.path_failovers;
  j["path_failbacks"] = s.path_failbacks;
  j["failovers_without_path"] = s.failovers_without_path;
  j["path_failed_ios"] = s.path_failed_ios;
  j["journal_swaps"] = s.journal_swaps;
  j["journals_recycled"] = s.journals_recycled;
  j["busy_ns"] = s.busy_ns;
  return j;
}

nlohmann::ordered_json port_json(const PortFpStats& p) {
  nlohmann::ordered_json j;
  j["port"] = p.port;
  j["commands"] = p.commands;
  j["fp_hits"] = p.fp_completed;
  j["cp_completed"] = p.cp_completed;
  j["cp_faults"] = faults_json(p.faults);
  j["fp_fraction"] = fp_fraction(p.fp_completed, p.cp_completed);
  j["mapping_misses"] = p.mapping_misses;
  j["cached_extents"] = p.cached_extents;
  j["extent_capacity"] = p.extent_capacity;
  j["evictions"] = p.evictions;
  j["read_bytes"] = p.read_bytes;
  j["write_bytes"] = p.write_bytes;
  j["transparent_frames"] = p.transparent_frames;
  return j;
}

}  // namespace

double fp_fraction(uint64_t fp_hits, uint64_t cp_completed) {
  const uint64_t total = fp_hits + cp_completed;
  return total == 0 ? 0.0 : static_cast<double>(fp_hits) / static_cast<double>(total);
}

nlohmann::ordered_json virtualization_json(const SwitchVirtualizationStats& stats) {
  uint64_t fp_hits = 0, cp_completed = 0, misses = 0;
  Faults faults{};
  auto ports = nlohmann::ordered_json::array();
  for (const PortFpStats& p : stats.ports) {
    fp_hits += p.fp_completed;
    cp_completed += p.cp_completed;
    misses += p.mapping_misses;
    for (size_t k = 0; k < fpapi::kFaultKinds; ++k)
      faults[k] += p.faults[k];
    ports.push_back(port_json(p));
  }
  nlohmann::ordered_json j;
  j["fp_hits"] = fp_hits;
  j["cp_completed"] = cp_completed;
  j["cp_faults"] = faults_json(faults);
  j["fp_fraction"] = fp_fraction(fp_hits, cp_completed);
  j["mapping_misses"] = misses;
  j["cp"] = cp_json(stats.cp);
  j["ports"] = ports;
  return j;
}

std::string format_virtualization_line(const std::string& switch_name,
                                       const nlohmann::ordered_json& v) {
  std::string faults;
  for (const auto& [kind, count] : v["cp_faults"].items()) {
    if (count.get<uint64_t>() == 0) continue;
    faults += fmt::format("{}{} {}", faults.empty() ? "" : ", ", kind, count.get<uint64_t>());
  }
  return fmt::format(
      "switch {} virtualization: {} FP hits, {} CP-completed, {:.1f}% on the fast path; {}\n",
      switch_name, v["fp_hits"].get<uint64_t>(), v["cp_completed"].get<uint64_t>(),
      100.0 * v["fp_fraction"].get<double>(),
      faults.empty() ? std::string("no CP faults") : "CP faults: " + faults);
}

}  // namespace splitpath::sim
