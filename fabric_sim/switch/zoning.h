// WWPN zoning as the switch enforces it: two ports may exchange frames when
// some zone holds both their WWPNs. With no zone set configured, every port may
// reach every port.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace splitpath::sim {

class ZoneSet {
 public:
  ZoneSet() = default;
  void add_zone(const std::string& name, const std::vector<uint64_t>& member_wwpns);
  bool enforced() const { return !zone_names_.empty(); }
  bool permitted(uint64_t wwpn_a, uint64_t wwpn_b) const;
  // Whether some zone lists `wwpn`.
  bool lists(uint64_t wwpn) const { return zones_of_.contains(wwpn); }
  size_t zone_count() const { return zone_names_.size(); }

 private:
  std::vector<std::string> zone_names_;
  // Per WWPN, the sorted indices of the zones holding it.
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> zones_of_;
};

}  // namespace splitpath::sim
