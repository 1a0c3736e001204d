// Where a VSEG's blocks are stored, for the services that compare and move
// storage (snapshots, incrementals): a simple descriptor's disk, LUN and
// the block of VSEG block 0.
#pragma once

#include <cstdint>
#include <optional>

#include "cp/metadata.h"

namespace splitpath::cp {

// The storage a VSEG maps block `block` to: (disk index, LUN, block of
// VSEG block 0), or disk ~0 if it is not simple.
struct Place {
  uint32_t disk = ~0u;
  uint16_t lun = 0;
  uint64_t base = 0;
  friend bool operator==(const Place&, const Place&) = default;
};

inline Place place_at(const Vseg& seg, uint64_t block) {
  const map::Extent* e = seg.extent_at(block);
  if (!e || e->redirect_index >= seg.redirects.size()) return {};
  const map::StorageDescriptor& d = seg.redirects[e->redirect_index].descriptor;
  if (d.kind != map::StorageKind::kSimple) return {};
  return Place{seg.redirect_disk[e->redirect_index], d.simple().lun, d.simple().start_lba};
}

// The single simple storage every extent of `seg` maps to, if it has one.
inline std::optional<Place> uniform_place(const Vseg& seg, uint8_t* flags) {
  std::optional<Place> out;
  for (const auto& [start, e] : seg.rmap) {
    const Place p = place_at(seg, start);
    if (p.disk == ~0u || (out && !(*out == p))) return std::nullopt;
    if (flags && out && *flags != seg.redirects[e.redirect_index].flags) return std::nullopt;
    if (flags) *flags = seg.redirects[e.redirect_index].flags;
    out = p;
  }
  return out;
}

}  // namespace splitpath::cp
