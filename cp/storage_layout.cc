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
  if (def.journal && (def.stripe || def.mirror)) return fail("journaled and striped or mirrored");
  if (def.mirror) return mirror_layout_of(def, what, descriptor, disk_wwpns, ranges, error);
  if (def.journal) return journal_layout_of(def, what, descriptor, disk_wwpns, ranges, error);
  if (!def.stripe) {
    if (def.disk_wwpn == 0) return fail("disk_wwpn is 0");
    if (def.lba + def.blocks < def.lba) return fail("lba + blocks overflows");
    *descriptor = map::StorageDescriptor::make_simple(map::SimpleStorage{0, def.lun, 0, def.lba});
    disk_wwpns->push_back(def.disk_wwpn);
    ranges->push_back(PhysicalRange{def.disk_wwpn, def.lun, def.lba, def.blocks});
    return true;
  }
  const StripeDef& s = *def.stripe;
  for (const StripeColumnDef& col : s.columns) {
    if (col.mirror)
      return stripe_of_mirrors_layout_of(def, what, descriptor, disk_wwpns, ranges, error);
  }
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

bool stripe_of_mirrors_layout_of(const VsegDef& def, const std::string& what,
                                 map::StorageDescriptor* descriptor,
                                 std::vector<uint64_t>* disk_wwpns,
                                 std::vector<PhysicalRange>* ranges, std::string* error) {
  auto fail = [&](std::string msg) {
    if (error) *error = absl::StrFormat("%s: %s", what, msg);
    return false;
  };
  disk_wwpns->clear();
  ranges->clear();
  const StripeDef& s = *def.stripe;
  if (s.columns.empty()) return fail("stripe of mirrors has no columns");
  for (size_t c = 0; c < s.columns.size(); ++c) {
    if (!s.columns[c].mirror) {
      return fail(absl::StrFormat(
          "stripe column %u is not a mirror but other columns are (all columns the same form)", c));
    }
  }
  const size_t sides = s.columns[0].mirror->sides.size();
  for (size_t c = 0; c < s.columns.size(); ++c) {
    const size_t n = s.columns[c].mirror->sides.size();
    if (n < map::kMinMirrorSides) {
      return fail(absl::StrFormat("stripe column %u: mirror has %u sides (at least %u)", c, n,
                                  map::kMinMirrorSides));
    }
    if (n != sides) {
      return fail(absl::StrFormat(
          "stripe column %u has %u sides but column 0 has %u (every column the same)", c, n,
          sides));
    }
  }
  if (s.columns.size() * sides > map::kMaxStorageElements) {
    return fail(absl::StrFormat(
        "stripe of mirrors has %u columns x %u sides = %u disks (at most %u)", s.columns.size(),
        sides, s.columns.size() * sides, map::kMaxStorageElements));
  }
  if (!std::has_single_bit(s.unit_blocks) ||
      s.unit_blocks > (uint64_t{1} << map::kMaxStripeUnitShift)) {
    return fail(absl::StrFormat("stripe unit of %u blocks is not a power of two from 1 to %u",
                                s.unit_blocks, uint64_t{1} << map::kMaxStripeUnitShift));
  }
  map::StripeOfMirrorsStorage st;
  st.columns = static_cast<uint8_t>(s.columns.size());
  st.sides = static_cast<uint8_t>(sides);
  st.unit_shift = static_cast<uint8_t>(std::countr_zero(s.unit_blocks));
  std::vector<std::pair<size_t, size_t>> owner;  // (column, side) of each range
  for (size_t c = 0; c < s.columns.size(); ++c) {
    // Every side of the column holds all its blocks: the sides are the same size.
    const uint64_t n = st.column_blocks(def.blocks, static_cast<uint32_t>(c));
    st.column[c].sides = st.sides;
    for (size_t i = 0; i < sides; ++i) {
      const MirrorSideDef& side = s.columns[c].mirror->sides[i];
      if (side.disk_wwpn == 0) {
        return fail(absl::StrFormat("stripe column %u mirror side %u: disk_wwpn is 0", c, i));
      }
      if (side.lba + n < side.lba) {
        return fail(
            absl::StrFormat("stripe column %u mirror side %u: lba + blocks overflows", c, i));
      }
      const PhysicalRange r{side.disk_wwpn, side.lun, side.lba, n};
      for (size_t o = 0; o < ranges->size(); ++o) {
        if (r.overlaps((*ranges)[o])) {
          return fail(absl::StrFormat(
              "stripe column %u mirror side %u overlaps column %u side %u on disk 0x%016x LUN %u",
              c, i, owner[o].first, owner[o].second, side.disk_wwpn, side.lun));
        }
      }
      st.column[c].side[i].storage = map::StorageElement{0, side.lun, 0, side.lba};
      st.column[c].side[i].state = map::SideState::kAlive;
      st.column[c].side[i].read_cost = side.read_cost;
      disk_wwpns->push_back(side.disk_wwpn);
      ranges->push_back(r);
      owner.emplace_back(c, i);
    }
  }
  if (!map::StorageDescriptor::make_stripe_of_mirrors(st, descriptor)) {
    return fail("stripe of mirrors is malformed");
  }
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

bool journal_layout_of(const VsegDef& def, const std::string& what,
                       map::StorageDescriptor* descriptor, std::vector<uint64_t>* disk_wwpns,
                       std::vector<PhysicalRange>* ranges, std::string* error) {
  auto fail = [&](std::string msg) {
    if (error) *error = absl::StrFormat("%s: %s", what, msg);
    return false;
  };
  disk_wwpns->clear();
  ranges->clear();
  const JournalDef& j = *def.journal;
  if (j.disk_wwpn == 0) return fail("journal data disk_wwpn is 0");
  if (j.journal_wwpn == 0) return fail("journal disk_wwpn is 0");
  if (j.lba + def.blocks < j.lba) return fail("journal data lba + blocks overflows");
  if (j.journal_lba + j.area_blocks < j.journal_lba) {
    return fail("journal area lba + blocks overflows");
  }
  if (j.journal_blocks < map::kMinJournalBlocks) {
    return fail(absl::StrFormat("journal_blocks %u is below %u (one record of one block)",
                                j.journal_blocks, map::kMinJournalBlocks));
  }
  // Each port FP, the CP and a spare for swaps need one at least.
  if (j.area_blocks / j.journal_blocks < 2) {
    return fail(absl::StrFormat("journal area of %u blocks holds fewer than 2 journals of %u",
                                j.area_blocks, j.journal_blocks));
  }
  const PhysicalRange data{j.disk_wwpn, j.lun, j.lba, def.blocks};
  const PhysicalRange area{j.journal_wwpn, j.journal_lun, j.journal_lba, j.area_blocks};
  if (data.overlaps(area)) return fail("journal area overlaps the data range");
  map::JournalStorage js;
  js.data = map::StorageElement{0, j.lun, 0, j.lba};
  js.journal = map::StorageElement{0, j.journal_lun, 0, j.journal_lba};
  js.capacity_blocks = j.journal_blocks;
  if (!map::StorageDescriptor::make_journal(js, descriptor)) return fail("journal is malformed");
  disk_wwpns->push_back(j.disk_wwpn);
  disk_wwpns->push_back(j.journal_wwpn);
  ranges->push_back(data);
  ranges->push_back(area);
  return true;
}

}  // namespace splitpath::cp
