#include "fabric_sim/torture/placement.h"

namespace splitpath::sim::torture {

Placement::Placement(const TortureScenario& scenario) {
  for (const TortureVseg& v : scenario.vsegs) {
    where_.emplace_back(v.blocks, uint8_t{0});
    copying_.emplace_back(v.blocks, kNotCopying);
  }
}

uint64_t Placement::moved_blocks(size_t vseg) const {
  uint64_t n = 0;
  for (uint8_t p : where_[vseg])
    n += p;
  return n;
}

std::optional<uint8_t> Placement::copying_into(size_t vseg, uint64_t block) const {
  const uint8_t p = copying_[vseg][block];
  if (p == kNotCopying) return std::nullopt;
  return p;
}

}  // namespace splitpath::sim::torture
