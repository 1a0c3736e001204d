// The "services" array of the run report and its lines in the readable
// summary: per scheduled data service (topology `services`), what it was,
// whether it ran, and where it got to (a migration's copy progress and the
// writes that met its barrier; each snapshot's copy-on-write and sweep
// progress; an LV reconfiguration's volume), all in simulated time.
#pragma once

#include <string>

#include "fabric_sim/run/fabric.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim {

nlohmann::ordered_json services_json(const Fabric& fabric);

// One line per service, each with a newline; "" when there are none.
std::string format_services_lines(const nlohmann::ordered_json& services);

}  // namespace splitpath::sim
