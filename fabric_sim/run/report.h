// What a run reports: one JSON object for machines (--json) and a readable
// summary for people. Both come from the same figures; nothing in them depends
// on wall-clock time, so the same seed and topology give the same report.
#pragma once

#include <string>

#include "fabric_sim/run/fabric.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim {

nlohmann::ordered_json make_report(const Fabric& fabric);
std::string format_summary(const nlohmann::ordered_json& report);

}  // namespace splitpath::sim
