// The "replications" array of the run report and its lines in the readable
// summary: per topology replication, its epochs (closed at barriers,
// shipped, applied at the remote), the journals and bytes shipped, the
// shipping copies that failed and were tried again, the remote's lag behind
// the primary (simulated time since the barrier its images are at, and the
// journal bytes not applied yet) and what the remote merged.
#pragma once

#include <string>

#include "fabric_sim/run/fabric.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim {

nlohmann::ordered_json replications_json(const Fabric& fabric);

// One line per replication, each with a newline; "" when there are none.
std::string format_replication_lines(const nlohmann::ordered_json& replications);

}  // namespace splitpath::sim
