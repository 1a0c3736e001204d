// What `splitpath replay` prints: one JSON object (--json) or a readable summary
// of the same figures.
//
// JSON (nlohmann::ordered_json, keys in this order):
//   "file", "link_type", "mode" ("timed" | "fast" | "closed-loop"),
//   "topology" (its source, or "<built from FILE>"), "built_from_trace",
//   "trace": {"records", "frames", "commands" (FCP commands extracted),
//             "span_ns" (first FCP_CMND to last FCP_RSP)},
//   "ports": [{"role" ("initiator" | "target"), "id" ("01.0e.01"), "wwpn" (or
//             null), "node" (the simulated host/disk/virtual target, or null)}],
//   "commands_replayed", "commands_compared", "unanswered_in_trace",
//   "sim_timeouts",
//   "mismatches": {"count", "first": [up to kDescribedMismatches of {"frame",
//                  "initiator", "target", "lun", "opcode", "lba", "blocks",
//                  "what"}]},
//   "skipped": {"commands" (not replayed), "reasons" {REASON: count},
//               "task_management", "undecoded_command", "multi_level_lun",
//               "missing_command" (frames of exchanges without their command),
//               "undecoded_headers", "short_frames", "bad_encapsulation",
//               "truncated_file", "fip", "other_ethertype"},
//   "problems": {"count", "first": [up to kDescribedProblems of {"frame", "reason"}]},
//   "notes": [ports left out of the replay, and why],
//   "latency_us": {"trace": {...}, "simulation": {...}} over the compared
//                 commands (p50, p99, p999, max, mean: latency_json.h),
//   "sim_duration_ns" (replay start to last completion), "sim_start_ns",
//   "itls": [{"initiator", "target", "lun", "commands", "replayed", "mismatches"}],
//   "switches": [{"name", "virtualization": virtualization_json()}] for
//               switches serving virtual targets,
//   "captured_frames", "read_error" (null, or why the trace ended early).
#pragma once

#include <cstddef>
#include <string>

#include "fabric_sim/replay/replay_engine.h"
#include "fabric_sim/replay/replay_plan.h"
#include "fabric_sim/replay/trace_commands.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim::replay {

inline constexpr size_t kDescribedMismatches = 10;
inline constexpr size_t kDescribedProblems = 20;

nlohmann::ordered_json replay_json(const TraceCommandStream& stream, const ReplayPlan& plan,
                                   const ReplayResult& result);
// The readable summary of replay_json's object.
std::string format_replay_summary(const nlohmann::ordered_json& report);

}  // namespace splitpath::sim::replay
