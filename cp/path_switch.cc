#include "cp/path_switch.h"

#include <algorithm>

namespace splitpath::cp {

std::optional<uint32_t> path_of_entry(const Vseg& seg, map::RedirectIndex index) {
  if (!seg.multipath) return std::nullopt;
  const Vseg::Multipath& mp = *seg.multipath;
  if (index >= mp.path_disks.size()) return std::nullopt;
  if (index == 0 && mp.policy == MultipathPolicy::kGlobal) return mp.active;
  return index;
}

PathRange extents_on_path(const Vseg& seg, uint32_t path) {
  uint64_t first = ~uint64_t{0};
  uint64_t end = 0;
  for (const auto& [start, e] : seg.rmap) {
    if (path_of_entry(seg, e.redirect_index) != path) continue;
    first = std::min(first, e.start);
    end = std::max(end, e.end());
  }
  if (end == 0) return {};
  return {first, end - first};
}

PathSwitch switch_path(Vseg* seg, uint32_t from, uint32_t to, uint32_t to_port_id) {
  PathSwitch result;
  if (!seg->multipath || from == to) return result;
  Vseg::Multipath& mp = *seg->multipath;
  if (from >= mp.path_disks.size() || to >= mp.path_disks.size()) return result;
  if (mp.policy == MultipathPolicy::kPerEntry) {
    for (auto& [start, e] : seg->rmap) {
      if (path_of_entry(*seg, e.redirect_index) != from) continue;
      e.redirect_index = static_cast<map::RedirectIndex>(to);
      ++result.extents_moved;
    }
    return result;
  }
  if (mp.active != from) return result;
  // Every path reaches the same LUN blocks: only the element's port differs.
  map::RedirectEntry entry = seg->redirects[0];
  entry.descriptor.set_element_port_id(0, to_port_id);
  seg->redirects[0] = entry;
  seg->redirect_disk[0] = mp.path_disks[to];
  seg->redirect_disks[0] = {mp.path_disks[to]};
  mp.active = to;
  result.changed.push_back(0);
  return result;
}

}  // namespace splitpath::cp
