#include "fabric_sim/kernel/rng.h"

#include <cmath>

namespace splitpath::sim {

double Rng::exponential(double mean) {
  // 1 - unit() lies in (0, 1], so the logarithm is finite.
  return -mean * std::log(1.0 - unit());
}

}  // namespace splitpath::sim
