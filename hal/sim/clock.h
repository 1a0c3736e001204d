// The time source of a simulated port. The port reads time only through this
// interface, so the conformance suite and unit tests drive time by hand
// (ManualClock) and the fabric drives it with its event kernel (KernelClock in
// kernel_clock.h).
#pragma once

#include <cstdint>

namespace splitpath::hal::sim {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since an arbitrary origin. The port clamps it, so a clock that
  // steps back does not make now_ns() decrease.
  virtual uint64_t now_ns() const = 0;
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_ns = 0) : now_(start_ns) {}
  uint64_t now_ns() const override { return now_; }
  void advance(uint64_t ns) { now_ += ns; }
  void set(uint64_t ns) { now_ = ns; }

 private:
  uint64_t now_;
};

}  // namespace splitpath::hal::sim
