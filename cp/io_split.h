// Splitting of CP-owned READ/WRITEs into downstream legs: each leg stays
// inside one VSEG, one Rmap extent, one stripe unit and the FP's maximum
// transfer size, and is sent as READ(16)/WRITE(16) to the storage element
// the extent's descriptor locates (the disk, or the stripe column).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "cp/metadata.h"
#include "splitpath/fpapi.h"

namespace splitpath::cp {

// A READ or WRITE as the host sent it.
struct RwRequest {
  bool write = false;
  bool fua = false;
  uint64_t lba = 0;     // volume block
  uint32_t blocks = 0;  // transfer length in blocks
};

// Decodes a READ/WRITE(6/10/12/16) CDB; nullopt if it is not one or is
// malformed.
std::optional<RwRequest> decode_rw(std::span<const uint8_t> cdb);

// The first leg of volume blocks [lba, lba + blocks) of LV `lv_id`: at most
// `max_blocks` (at least 1), ending at the VSEG's and the extent's end and
// at the end of a stripe unit.
struct LegPlan {
  uint32_t vseg_id = 0;
  uint64_t vseg_lba = 0;  // VSEG-relative first block
  uint32_t blocks = 0;
  map::RedirectIndex redirect_index = 0;
  uint32_t disk = 0;  // index into Metadata::disks() of the element the leg goes to
  // That element's port_id and lun; start_lba is the leg's first physical block.
  map::StorageElement storage;
};
// nullopt if no VSEG or extent holds `lba`, or the redirect entry's
// descriptor cannot locate it (no storage, a kind without a layout yet).
std::optional<LegPlan> plan_leg(const Metadata& metadata, uint32_t lv_id, uint64_t lba,
                                uint64_t blocks, uint32_t max_blocks);

// The READ(16)/WRITE(16) CDB of a leg at physical block `lba`.
std::array<uint8_t, fpapi::kCdbSize> leg_cdb(bool write, uint64_t lba, uint32_t blocks, bool fua);

}  // namespace splitpath::cp
