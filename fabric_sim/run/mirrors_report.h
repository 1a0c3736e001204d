// The "mirrors" array of the run report and its lines in the readable
// summary: every mirrored VSEG of every switch's CP, its generation number,
// its sides' states (and why a side died) and each resync: the extents
// whose age differed, those copied, the bytes copied against the volume's,
// and how long it took in simulated time.
#pragma once

#include <string>

#include "fabric_sim/run/fabric.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim {

nlohmann::ordered_json mirrors_json(const Fabric& fabric);

// One line per mirror whose sides changed state, each with a newline; ""
// when none did.
std::string format_mirrors_lines(const nlohmann::ordered_json& mirrors);

}  // namespace splitpath::sim
