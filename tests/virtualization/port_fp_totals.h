// What the end-to-end virtualization tests add up over a switch's port FPs,
// and the small deterministic generator their workloads draw from.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tests/support/virtual_testbed.h"

namespace splitpath::testing {

// `field` summed over every port FP of the switch.
inline uint64_t sum(const sim::SwitchVirtualizationStats& s, uint64_t sim::PortFpStats::*field) {
  uint64_t n = 0;
  for (const auto& p : s.ports)
    n += p.*field;
  return n;
}

// Faults of kind `k` over every port FP of the switch.
inline uint64_t faults(const sim::SwitchVirtualizationStats& s, fpapi::FaultKind k) {
  uint64_t n = 0;
  for (const auto& p : s.ports)
    n += p.faults[static_cast<size_t>(k)];
  return n;
}

// xorshift64: the same draws on every platform and run.
struct Rng {
  uint64_t x;
  uint64_t next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

}  // namespace splitpath::testing
