// Multipath on the CP's metadata (figures 11 and 12): which path each redirect
// entry of a multipath VSEG goes through, which extents a failed path serves,
// and the switch itself, per entry (figure 11: the Rmap extents re-pointed from
// the failed path's redirect entry to the alternate's) or global (figure 12:
// the storage descriptor of the redirect entry the extents use redefined to go
// through the alternate path). Pure metadata: the restrictive update around a
// switch (revoke, drain, reload) is multipath.cc's.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "cp/metadata.h"
#include "splitpath/map/rmap_types.h"

namespace splitpath::cp {

// The path redirect entry `index` of `seg` goes through; nullopt if `seg` has
// no multipath or the entry is not one of its paths' (one a later restrictive
// update made).
std::optional<uint32_t> path_of_entry(const Vseg& seg, map::RedirectIndex index);

// VSEG-relative blocks [start, start + length) covering every extent whose
// redirect entry goes through `path` (length 0: none does).
struct PathRange {
  uint64_t start = 0;
  uint64_t length = 0;
};
PathRange extents_on_path(const Vseg& seg, uint32_t path);

struct PathSwitch {
  size_t extents_moved = 0;                 // per entry: extents re-pointed
  std::vector<map::RedirectIndex> changed;  // global: redirect entries redefined
};

// Moves the I/O of `seg` from path `from` to path `to` (both < its paths) by
// its policy. Per entry: every extent through `from`'s entry now uses `to`'s.
// Global: entry 0, if it goes through `from`, gets path `to`'s storage
// descriptor (the same blocks through N_Port `to_port_id`, path `to`'s disk
// port) and disk. The caller reloads the changed entries into the FPs.
PathSwitch switch_path(Vseg* seg, uint32_t from, uint32_t to, uint32_t to_port_id);

}  // namespace splitpath::cp
