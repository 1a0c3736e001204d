// Where each block of each VSEG currently lives: in its own place (0) or in
// its shadow area (1). The harness changes it when a range move's restrictive
// update completes (and copies the data then, see torture_run.cc); the
// revocation checker judges downstream commands by it.
#pragma once

#include <cstdint>
#include <vector>

#include "fabric_sim/torture/scenario.h"

namespace splitpath::sim::torture {

class Placement {
 public:
  explicit Placement(const TortureScenario& scenario);

  uint8_t place_of(size_t vseg, uint64_t block) const { return where_[vseg][block]; }
  void set_place(size_t vseg, uint64_t block, uint8_t place) { where_[vseg][block] = place; }
  // Blocks of `vseg` that have been moved at least once (reports).
  uint64_t moved_blocks(size_t vseg) const;

 private:
  std::vector<std::vector<uint8_t>> where_;  // [vseg][vseg-relative block]
};

}  // namespace splitpath::sim::torture
