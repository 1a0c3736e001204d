// A latency histogram as report JSON: percentiles, max and mean in microseconds.
#pragma once

#include "fabric_sim/node/latency_histogram.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim {

nlohmann::ordered_json latency_json(const LatencyHistogram& h);

}  // namespace splitpath::sim
