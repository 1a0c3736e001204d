#include "cp/storage_layout.h"

#include <algorithm>
#include <bit>

#include "absl/strings/str_format.h"

namespace splitpath::cp {

bool layout_of(const VsegDef& def, const std::string& what, map::StorageDescriptor* descriptor,
               std::vector<uint64_t>* disk_wwpns, std::vector<PhysicalRange>* ranges,
               std::string* error) {
  auto fail = [&](std::string msg) {
    if (error) *error = absl::StrFormat("%s: %s", what, msg);
    return false;
  };
  disk_wwpns->clear();
  ranges->clear();
  if (def.stripe && def.mirror) return fail("both stripe and mirror");
  if (def.mirror) return mirror_layout_of(def, what, descriptor, disk_wwpns, ranges, error);
  if (!def.stripe) {
    if (def.disk_wwpn == 0) return fail("disk_wwpn is 0");
    if (def.lba + def.blocks < def.lba) return fail("lba + blocks overflows");
    *descriptor = map::StorageDescriptor::make_simple(map::SimpleStorage{0, def.lun, 0, def.lba});
    disk_wwpns->push_back(def.disk_wwpn);
    ranges->push_back(PhysicalRange{def.disk_wwpn, def.lun, def.lba, def.blocks});
    return true;
  }
  const StripeDef& s = *def.stripe;
  if (s.columns.empty() || s.columns.size() > map::kMaxStripeColumns) {
    return fail(absl::StrFormat("stripe has %u columns (1 to %u)", s.columns.size(),
                                map::kMaxStripeColumns));
  }
  if (!std::has_single_bit(s.unit_blocks) ||
      s.unit_blocks > (uint64_t{1} << map::kMaxStripeUnitShift)) {
    return fail(absl::StrFormat("stripe unit of %u blocks is not a power of two from 1 to %u",
                                s.unit_blocks, uint64_t{1} << map::kMaxStripeUnitShift));
  }
  map::StripeStorage st;
  st.width = static_cast<uint8_t>(s.columns.size());
  st.unit_shift = static_cast<uint8_t>(std::countr_zero(s.unit_blocks));
  for (size_t c = 0; c < s.columns.size(); ++c) {
    const StripeColumnDef& col = s.columns[c];
    if (col.disk_wwpn == 0) return fail(absl::StrFormat("stripe column %u: disk_wwpn is 0", c));
    const uint64_t n = st.column_blocks(def.blocks, static_cast<uint32_t>(c));
    if (col.lba + n < col.lba) {
      return fail(absl::StrFormat("stripe column %u: lba + blocks overflows", c));
    }
    const PhysicalRange r{col.disk_wwpn, col.lun, col.lba, n};
    for (size_t o = 0; o < ranges->size(); ++o) {
      if (r.overlaps((*ranges)[o])) {
        return fail(absl::StrFormat("stripe column %u overlaps column %u on disk 0x%016x LUN %u", c,
                                    o, col.disk_wwpn, col.lun));
      }
    }
    st.columns[c] = map::StorageElement{0, col.lun, 0, col.lba};
    disk_wwpns->push_back(col.disk_wwpn);
    ranges->push_back(r);
  }
  if (!map::StorageDescriptor::make_stripe(st, descriptor)) return fail("stripe is malformed");
  return true;
}

bool mirror_layout_of(const VsegDef& def, const std::string& what,
                      map::StorageDescriptor* descriptor, std::vector<uint64_t>* disk_wwpns,
                      std::vector<PhysicalRange>* ranges, std::string* error) {
  auto fail = [&](std::string msg) {
    if (error) *error = absl::StrFormat("%s: %s", what, msg);
    return false;
  };
  disk_wwpns->clear();
  ranges->clear();
  const MirrorDef& m = *def.mirror;
  if (m.sides.size() < map::kMinMirrorSides || m.sides.size() > map::kMaxMirrorSides) {
    return fail(absl::StrFormat("mirror has %u sides (%u to %u)", m.sides.size(),
                                map::kMinMirrorSides, map::kMaxMirrorSides));
  }
  map::MirrorStorage ms;
  ms.sides = static_cast<uint8_t>(m.sides.size());
  for (size_t i = 0; i < m.sides.size(); ++i) {
    const MirrorSideDef& s = m.sides[i];
    if (s.disk_wwpn == 0) return fail(absl::StrFormat("mirror side %u: disk_wwpn is 0", i));
    if (s.lba + def.blocks < s.lba) {
      return fail(absl::StrFormat("mirror side %u: lba + blocks overflows", i));
    }
    // Every side holds all the VSEG's blocks: the sides are the same size.
    const PhysicalRange r{s.disk_wwpn, s.lun, s.lba, def.blocks};
    for (size_t o = 0; o < ranges->size(); ++o) {
      if (r.overlaps((*ranges)[o])) {
        return fail(absl::StrFormat("mirror side %u overlaps side %u on disk 0x%016x LUN %u", i, o,
                                    s.disk_wwpn, s.lun));
      }
    }
    ms.side[i].storage = map::StorageElement{0, s.lun, 0, s.lba};
    ms.side[i].state = map::SideState::kAlive;
    ms.side[i].read_cost = s.read_cost;
    disk_wwpns->push_back(s.disk_wwpn);
    ranges->push_back(r);
  }
  if (!map::StorageDescriptor::make_mirror(ms, descriptor)) return fail("mirror is malformed");
  return true;
}

}  // namespace splitpath::cp
