#include "fabric_sim/run/latency_json.h"

namespace splitpath::sim {

nlohmann::ordered_json latency_json(const LatencyHistogram& h) {
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  nlohmann::ordered_json j;
  j["p50"] = us(h.percentile(0.50));
  j["p99"] = us(h.percentile(0.99));
  j["p999"] = us(h.percentile(0.999));
  j["max"] = us(h.max());
  j["mean"] = h.mean() / 1000.0;
  return j;
}

}  // namespace splitpath::sim
