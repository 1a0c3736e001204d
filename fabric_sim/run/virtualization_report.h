// The "virtualization" object of a switch in the run report, and its line in
// the readable summary: how much of the virtual I/O the port FPs completed
// alone (the fast path) and how much the CP had to handle, and why.
#pragma once

#include <string>

#include "fabric_sim/switch/virtualization_stats.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim {

// fp_hits / (fp_hits + cp_completed); 0 when neither completed any I/O.
double fp_fraction(uint64_t fp_hits, uint64_t cp_completed);

// One switch's figures:
//   fp_hits, cp_completed: host I/Os completed by the FPs alone / by the CP
//     (summed over ports);
//   cp_faults: {KIND: count} for every fpapi::FaultKind, the I/Os the FPs
//     queued to the CP (CpQueueIO) by reason, summed over ports;
//   fp_fraction, mapping_misses (summed over ports);
//   cp: the CP's own counters (CpStats), its "faults" by kind as above;
//   ports: per port FP the same figures plus its cached Rmap.
nlohmann::ordered_json virtualization_json(const SwitchVirtualizationStats& stats);

// The summary line for a switch's "virtualization" object, with a newline:
//   "switch sw0 virtualization: 1234 FP hits, 56 CP-completed, 95.7% on the
//   fast path; CP faults: no_mapping 50, spans_extents 6"
std::string format_virtualization_line(const std::string& switch_name,
                                       const nlohmann::ordered_json& virtualization);

}  // namespace splitpath::sim
