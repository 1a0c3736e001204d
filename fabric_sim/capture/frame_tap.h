// Where switches report the frames they see, for capture. A tap is shared by
// every switch of a fabric; a capture records each frame once per switch it
// passes (see Switch).
#pragma once

#include <cstdint>
#include <span>

#include "fabric_sim/kernel/kernel.h"

namespace splitpath::sim {

class FrameTap {
 public:
  virtual ~FrameTap() = default;
  virtual void on_frame(SimTime at, std::span<const uint8_t> frame) = 0;
};

}  // namespace splitpath::sim
