// Where each block of each VSEG currently lives: in its own place (0) or in
// its shadow area (1). The harness changes it when a range move's restrictive
// update completes (and copies the data then, see torture_run.cc) and when a
// migration's step moves blocks to the destination (the CP copied them); the
// revocation checker judges downstream commands by it.
//
// A block in a migration's copy barrier is also marked "being copied into"
// the destination place: the copy agent's WRITE there is legitimate although
// the block does not live there yet (nothing else is).
#pragma once

#include <cstdint>
#include <optional>
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

  // The place a migration is copying the block into (it is in the copy
  // barrier), if any.
  std::optional<uint8_t> copying_into(size_t vseg, uint64_t block) const;
  void set_copying(size_t vseg, uint64_t block, uint8_t place) { copying_[vseg][block] = place; }
  void clear_copying(size_t vseg, uint64_t block) { copying_[vseg][block] = kNotCopying; }

 private:
  static constexpr uint8_t kNotCopying = 0xFF;
  std::vector<std::vector<uint8_t>> where_;    // [vseg][vseg-relative block]
  std::vector<std::vector<uint8_t>> copying_;  // [vseg][vseg-relative block]
};

}  // namespace splitpath::sim::torture
