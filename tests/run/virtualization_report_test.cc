// The "virtualization" object of the run report and its summary line, from
// hand-made SwitchVirtualizationStats.
#include "fabric_sim/run/virtualization_report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fabric_sim/run/report.h"

namespace splitpath::sim {
namespace {

using nlohmann::ordered_json;

size_t kind(fpapi::FaultKind k) {
  return static_cast<size_t>(k);
}

std::vector<std::string> keys(const ordered_json& j) {
  std::vector<std::string> out;
  for (const auto& [k, v] : j.items())
    out.push_back(k);
  return out;
}

std::vector<std::string> all_fault_kinds() {
  std::vector<std::string> out;
  for (size_t k = 0; k < fpapi::kFaultKinds; ++k)
    out.push_back(fpapi::fault_kind_name(static_cast<fpapi::FaultKind>(k)));
  return out;
}

SwitchVirtualizationStats two_ports() {
  SwitchVirtualizationStats s;
  s.enabled = true;
  PortFpStats p0;
  p0.port = 0;
  p0.commands = 1000;
  p0.fp_completed = 900;
  p0.cp_completed = 100;
  p0.mapping_misses = 40;
  p0.read_bytes = 4096 * 630;
  p0.write_bytes = 4096 * 370;
  p0.transparent_frames = 12;
  p0.faults[kind(fpapi::FaultKind::kNoMapping)] = 40;
  p0.faults[kind(fpapi::FaultKind::kSpansVsegs)] = 2;
  p0.faults[kind(fpapi::FaultKind::kNotReadWrite)] = 58;
  p0.cached_extents = 300;
  p0.extent_capacity = 4000;
  p0.evictions = 0;
  PortFpStats p1;
  p1.port = 1;
  p1.commands = 500;
  p1.fp_completed = 300;
  p1.cp_completed = 200;
  p1.mapping_misses = 10;
  p1.faults[kind(fpapi::FaultKind::kNoMapping)] = 10;
  p1.faults[kind(fpapi::FaultKind::kFaultOnWrite)] = 190;
  p1.cached_extents = 4000;
  p1.extent_capacity = 4000;
  p1.evictions = 7;
  s.ports = {p0, p1};
  s.cp.messages = 123;
  s.cp.mapping_misses = 50;
  s.cp.queued_ios = 300;
  s.cp.faults[kind(fpapi::FaultKind::kFaultOnWrite)] = 190;
  s.cp.completed_ios = 300;
  s.cp.error_completions = 1;
  s.cp.dispatched = 250;
  s.cp.target_commands = 58;
  s.cp.els_answered = 6;
  s.cp.updates = 2;
  s.cp.drain_waits = 3;
  s.cp.aborted_ios = 0;
  s.cp.busy_ns = 6'000'000;
  return s;
}

TEST(FpFraction, HitsOverCompletions) {
  EXPECT_EQ(fp_fraction(0, 0), 0.0);
  EXPECT_EQ(fp_fraction(0, 5), 0.0);
  EXPECT_EQ(fp_fraction(5, 0), 1.0);
  EXPECT_DOUBLE_EQ(fp_fraction(3, 1), 0.75);
  EXPECT_DOUBLE_EQ(fp_fraction(1200, 300), 0.8);
}

TEST(VirtualizationJson, SumsPortsAndKeepsEveryField) {
  const ordered_json j = virtualization_json(two_ports());
  EXPECT_EQ(keys(j), (std::vector<std::string>{"fp_hits", "cp_completed", "cp_faults",
                                               "fp_fraction", "mapping_misses", "cp", "ports"}));
  EXPECT_EQ(j["fp_hits"], 1200u);
  EXPECT_EQ(j["cp_completed"], 300u);
  EXPECT_DOUBLE_EQ(j["fp_fraction"].get<double>(), 0.8);
  EXPECT_EQ(j["mapping_misses"], 50u);

  // Every fault kind is present, in enum order, summed over the ports.
  EXPECT_EQ(keys(j["cp_faults"]), all_fault_kinds());
  EXPECT_EQ(j["cp_faults"]["no_mapping"], 50u);
  EXPECT_EQ(j["cp_faults"]["spans_vsegs"], 2u);
  EXPECT_EQ(j["cp_faults"]["not_read_write"], 58u);
  EXPECT_EQ(j["cp_faults"]["fault_on_write"], 190u);
  EXPECT_EQ(j["cp_faults"]["lun_masked"], 0u);
  uint64_t total = 0;
  for (const auto& [k, v] : j["cp_faults"].items())
    total += v.get<uint64_t>();
  EXPECT_EQ(total, 300u);

  const ordered_json& cp = j["cp"];
  EXPECT_EQ(keys(cp), (std::vector<std::string>{
                          "messages",         "mapping_misses",  "queued_ios",
                          "faults",           "completed_ios",   "error_completions",
                          "dispatched",       "target_commands", "els_answered",
                          "updates",          "drain_waits",     "aborted_ios",
                          "stale_leg_aborts", "path_tests",      "paths_failed",
                          "path_failovers",   "path_failbacks",  "failovers_without_path",
                          "path_failed_ios",  "journal_swaps",   "journals_recycled",
                          "busy_ns"}));
  EXPECT_EQ(cp["messages"], 123u);
  EXPECT_EQ(cp["mapping_misses"], 50u);
  EXPECT_EQ(cp["queued_ios"], 300u);
  EXPECT_EQ(keys(cp["faults"]), all_fault_kinds());
  EXPECT_EQ(cp["faults"]["fault_on_write"], 190u);
  EXPECT_EQ(cp["completed_ios"], 300u);
  EXPECT_EQ(cp["error_completions"], 1u);
  EXPECT_EQ(cp["dispatched"], 250u);
  EXPECT_EQ(cp["target_commands"], 58u);
  EXPECT_EQ(cp["els_answered"], 6u);
  EXPECT_EQ(cp["updates"], 2u);
  EXPECT_EQ(cp["drain_waits"], 3u);
  EXPECT_EQ(cp["aborted_ios"], 0u);
  EXPECT_EQ(cp["stale_leg_aborts"], 0u);
  EXPECT_EQ(cp["busy_ns"], 6'000'000u);

  ASSERT_EQ(j["ports"].size(), 2u);
  const ordered_json& p0 = j["ports"][0];
  EXPECT_EQ(keys(p0), (std::vector<std::string>{
                          "port", "commands", "fp_hits", "cp_completed", "cp_faults", "fp_fraction",
                          "mapping_misses", "cached_extents", "extent_capacity", "evictions",
                          "read_bytes", "write_bytes", "transparent_frames"}));
  EXPECT_EQ(p0["port"], 0u);
  EXPECT_EQ(p0["commands"], 1000u);
  EXPECT_EQ(p0["fp_hits"], 900u);
  EXPECT_EQ(p0["cp_completed"], 100u);
  EXPECT_EQ(keys(p0["cp_faults"]), all_fault_kinds());
  EXPECT_EQ(p0["cp_faults"]["no_mapping"], 40u);
  EXPECT_DOUBLE_EQ(p0["fp_fraction"].get<double>(), 0.9);
  EXPECT_EQ(p0["mapping_misses"], 40u);
  EXPECT_EQ(p0["cached_extents"], 300u);
  EXPECT_EQ(p0["extent_capacity"], 4000u);
  EXPECT_EQ(p0["evictions"], 0u);
  EXPECT_EQ(p0["read_bytes"], 4096u * 630);
  EXPECT_EQ(p0["write_bytes"], 4096u * 370);
  EXPECT_EQ(p0["transparent_frames"], 12u);
  const ordered_json& p1 = j["ports"][1];
  EXPECT_EQ(p1["port"], 1u);
  EXPECT_DOUBLE_EQ(p1["fp_fraction"].get<double>(), 0.6);
  EXPECT_EQ(p1["evictions"], 7u);
  EXPECT_EQ(p1["cp_faults"]["fault_on_write"], 190u);
}

TEST(VirtualizationJson, NoIoMeansZeroFraction) {
  SwitchVirtualizationStats s;
  s.enabled = true;
  s.ports.resize(3);
  for (uint32_t p = 0; p < 3; ++p)
    s.ports[p].port = p;
  const ordered_json j = virtualization_json(s);
  EXPECT_EQ(j["fp_hits"], 0u);
  EXPECT_EQ(j["cp_completed"], 0u);
  EXPECT_EQ(j["fp_fraction"].get<double>(), 0.0);
  EXPECT_EQ(keys(j["cp_faults"]), all_fault_kinds());
  ASSERT_EQ(j["ports"].size(), 3u);
  EXPECT_EQ(j["ports"][2]["port"], 2u);
  EXPECT_EQ(j["ports"][2]["fp_fraction"].get<double>(), 0.0);
  // Even with no ports at all.
  EXPECT_EQ(virtualization_json(SwitchVirtualizationStats{})["ports"].size(), 0u);
  // Same input, same JSON (the report is deterministic).
  EXPECT_EQ(virtualization_json(two_ports()).dump(), virtualization_json(two_ports()).dump());
}

TEST(VirtualizationSummary, OneLineWithNonZeroFaultKinds) {
  EXPECT_EQ(format_virtualization_line("sw0", virtualization_json(two_ports())),
            "switch sw0 virtualization: 1200 FP hits, 300 CP-completed, 80.0% on the fast path; "
            "CP faults: not_read_write 58, spans_vsegs 2, no_mapping 50, fault_on_write 190\n");
  SwitchVirtualizationStats idle;
  idle.enabled = true;
  EXPECT_EQ(format_virtualization_line("core", virtualization_json(idle)),
            "switch core virtualization: 0 FP hits, 0 CP-completed, 0.0% on the fast path; no CP "
            "faults\n");
}

TEST(VirtualizationSummary, FormatSummaryPrintsTheLineAfterItsSwitch) {
  ordered_json r;
  r["seed"] = 1;
  r["topology"] = "<default>";
  r["sim_seconds"] = 0.2;
  r["frames"] = 10;
  r["events"] = 20;
  r["ios_completed"] = 1500;
  r["verify_errors"] = 0;
  r["io_errors"] = 0;
  r["hosts"] = ordered_json::array();
  ordered_json sw0;
  sw0["name"] = "sw0";
  sw0["domain"] = 1;
  sw0["ports"] = ordered_json::array();
  sw0["virtualization"] = virtualization_json(two_ports());
  ordered_json sw1;
  sw1["name"] = "sw1";
  sw1["domain"] = 2;
  sw1["ports"] = ordered_json::array();
  r["switches"] = ordered_json::array({sw0, sw1});
  const std::string summary = format_summary(r);
  const std::string expected =
      "switch sw0 (domain 1): 0 frames in, 0 dropped\n"
      "switch sw0 virtualization: 1200 FP hits, 300 CP-completed, 80.0% on the fast path; CP "
      "faults: not_read_write 58, spans_vsegs 2, no_mapping 50, fault_on_write 190\n"
      "switch sw1 (domain 2): 0 frames in, 0 dropped\n"
      "total: ";
  EXPECT_NE(summary.find(expected), std::string::npos) << summary;
  EXPECT_EQ(summary.find("switch sw1 virtualization"), std::string::npos) << summary;
}

}  // namespace
}  // namespace splitpath::sim
