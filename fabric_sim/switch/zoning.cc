#include "fabric_sim/switch/zoning.h"

#include <algorithm>

namespace splitpath::sim {

void ZoneSet::add_zone(const std::string& name, const std::vector<uint64_t>& member_wwpns) {
  const auto index = static_cast<uint32_t>(zone_names_.size());
  zone_names_.push_back(name);
  for (uint64_t wwpn : member_wwpns) {
    auto& zones = zones_of_[wwpn];
    if (zones.empty() || zones.back() != index) zones.push_back(index);
  }
}

bool ZoneSet::permitted(uint64_t wwpn_a, uint64_t wwpn_b) const {
  if (!enforced()) return true;
  auto a = zones_of_.find(wwpn_a);
  auto b = zones_of_.find(wwpn_b);
  if (a == zones_of_.end() || b == zones_of_.end()) return false;
  // Both lists are sorted: a merge walk finds a common zone.
  auto i = a->second.begin();
  auto j = b->second.begin();
  while (i != a->second.end() && j != b->second.end()) {
    if (*i == *j) return true;
    if (*i < *j) {
      ++i;
    } else {
      ++j;
    }
  }
  return false;
}

}  // namespace splitpath::sim
