// The "dves" array of the run report and its lines in the readable summary:
// every DVE of the cluster of the switches serving shared volumes, whether it
// is on line or evicted, its oplock traffic, the peers it evicted and
// recovered, and the shared mirrors' write authority it won, gave up and
// reconciled. Absent when no volume is shared.
#pragma once

#include <string>

#include "fabric_sim/run/fabric.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim {

// Null when the fabric has no DVE cluster.
nlohmann::ordered_json dves_json(const Fabric& fabric);

std::string format_dves_lines(const nlohmann::ordered_json& dves);

}  // namespace splitpath::sim
