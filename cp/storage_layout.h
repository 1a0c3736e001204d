// The physical layout of a VSEG definition: its storage descriptor (simple,
// stripe, mirror or stripe of mirrors), checked with precise errors, and the disk ranges it
// occupies (for the CP's overlap checks). The descriptor's internals stay in
// splitpath/map/storage_descriptor.h; this unit only builds one from a
// VsegDef.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cp/control_path.h"
#include "splitpath/map/storage_descriptor.h"

namespace splitpath::cp {

// Blocks [lba, lba + blocks) of LUN `lun` of disk `wwpn`.
struct PhysicalRange {
  uint64_t wwpn = 0;
  uint16_t lun = 0;
  uint64_t lba = 0;
  uint64_t blocks = 0;
  bool overlaps(const PhysicalRange& o) const {
    return wwpn == o.wwpn && lun == o.lun && lba < o.lba + o.blocks && o.lba < lba + blocks;
  }
};

// The descriptor of `def` (port IDs 0: the CP fills them in as disks
// resolve), its disks' WWPNs in element order and the disk ranges it
// occupies. False with *error (naming `what`, e.g. "volume 'v' VSEG 1") if the
// stripe is malformed: no or too many columns, a unit that is not a power of
// two or too large, a column with disk_wwpn 0 or past the end of LBAs, two
// columns sharing blocks.
bool layout_of(const VsegDef& def, const std::string& what, map::StorageDescriptor* descriptor,
               std::vector<uint64_t>* disk_wwpns, std::vector<PhysicalRange>* ranges,
               std::string* error);

// The same for a stripe of mirrors (def.stripe with mirror columns): every
// column a mirror of the same 2 or more sides, columns x sides at most 8, a
// unit that is a power of two up to 2^24 blocks, each side of a column
// holding all the column's blocks (so a column's sides are the same size),
// none with disk_wwpn 0 or past the end of LBAs, no two elements sharing
// blocks. Sides start ALIVE.
bool stripe_of_mirrors_layout_of(const VsegDef& def, const std::string& what,
                                 map::StorageDescriptor* descriptor,
                                 std::vector<uint64_t>* disk_wwpns,
                                 std::vector<PhysicalRange>* ranges, std::string* error);

// The same for a mirrored VSEG (def.mirror): 2 to 8 sides, each holding all
// `def.blocks` blocks (so the sides are the same size), none with disk_wwpn
// 0 or past the end of LBAs, no two sharing blocks. Sides start ALIVE.
bool mirror_layout_of(const VsegDef& def, const std::string& what,
                      map::StorageDescriptor* descriptor, std::vector<uint64_t>* disk_wwpns,
                      std::vector<PhysicalRange>* ranges, std::string* error);

// The same for a journaled VSEG (def.journal): the descriptor names the data
// range and the first journal of the area (the CP gives each FP its own);
// ranges: the data range and the whole journal area. False if a disk_wwpn
// is 0, a range overflows, a journal cannot hold one record, the area holds
// fewer than 2 journals, or the area overlaps the data.
bool journal_layout_of(const VsegDef& def, const std::string& what,
                       map::StorageDescriptor* descriptor, std::vector<uint64_t>* disk_wwpns,
                       std::vector<PhysicalRange>* ranges, std::string* error);

}  // namespace splitpath::cp
