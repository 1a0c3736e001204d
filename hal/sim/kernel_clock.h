// Adapter from the fabric's discrete-event kernel to the simulated port's
// clock. Header-only and the one place hal/sim meets fabric_sim/, so the port
// library itself does not depend on the fabric.
#pragma once

#include <cstdint>

#include "fabric_sim/kernel/kernel.h"
#include "hal/sim/clock.h"

namespace splitpath::hal::sim {

class KernelClock final : public Clock {
 public:
  explicit KernelClock(const splitpath::sim::Kernel& kernel) : kernel_(kernel) {}
  uint64_t now_ns() const override { return kernel_.now(); }

 private:
  const splitpath::sim::Kernel& kernel_;
};

}  // namespace splitpath::hal::sim
