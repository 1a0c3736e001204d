// Splitting of CP-owned READ/WRITEs into downstream legs: each leg stays
// inside one VSEG, one Rmap extent, one stripe unit and the FP's maximum
// transfer size, and is sent as READ(16)/WRITE(16) to the storage element
// the extent's descriptor locates (the disk, or the stripe column).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "cp/metadata.h"
#include "splitpath/fpapi.h"

namespace splitpath::cp {

// What a CP-owned command does to each leg (block_commands.cc): the
// split-path way, each leg carries the host's command to the storage
// element, in its 16-byte form at the element's LBA, and the disk does it.
enum class BlockOp : uint8_t {
  kRead,
  kWrite,            // WRITE, and WRITE AND VERIFY (as a WRITE with FUA)
  kWriteSame,        // WRITE SAME: the host's one block over every block
  kDeallocate,       // UNMAP, WRITE SAME with NDOB: no Data-Out, zeros
  kVerify,           // VERIFY BYTCHK 0: no Data-Out, the medium checked
  kVerifyData,       // VERIFY BYTCHK 1: the Data-Out compared block by block
  kVerifyOne,        // VERIFY BYTCHK 3: one Data-Out block compared with each
  kCompareAndWrite,  // COMPARE AND WRITE: N blocks compared, then N written
};

// Whether legs of `op` change the medium (they go to every mirror side).
constexpr bool op_writes(BlockOp op) {
  return op == BlockOp::kWrite || op == BlockOp::kWriteSame || op == BlockOp::kDeallocate ||
         op == BlockOp::kCompareAndWrite;
}

// A READ or WRITE (or another block command) as the host sent it.
struct RwRequest {
  BlockOp op = BlockOp::kRead;
  bool write = false;  // op_writes(op)
  bool fua = false;
  bool unmap = false;   // WRITE SAME's UNMAP bit
  uint64_t lba = 0;     // volume block
  uint32_t blocks = 0;  // transfer length in blocks
};

// Decodes a READ/WRITE(6/10/12/16) CDB; nullopt if it is not one or is
// malformed.
std::optional<RwRequest> decode_rw(std::span<const uint8_t> cdb);

// Decodes READ/WRITE and the block commands the CP carries out leg by leg:
// WRITE AND VERIFY, VERIFY, WRITE SAME, COMPARE AND WRITE (UNMAP's ranges are
// in its parameter list: see decode_unmap). nullopt for anything else or a
// malformed CDB (the device server then answers it).
std::optional<RwRequest> decode_block_io(std::span<const uint8_t> cdb);

// The Data-Out bytes a command of `op` over `blocks` blocks takes.
uint64_t data_out_bytes(BlockOp op, uint64_t blocks, uint32_t block_size);

// One element a leg goes to: a disk (index into Metadata::disks()) and that
// element's port_id and lun, start_lba being the leg's first physical block.
struct LegTarget {
  uint32_t disk = 0;
  map::StorageElement storage;
  uint32_t element = 0;  // the descriptor element (a mirror's side)
};

// The first leg of volume blocks [lba, lba + blocks) of LV `lv_id`: at most
// `max_blocks` (at least 1), ending at the VSEG's and the extent's end and
// at the end of a stripe unit. A read of a mirror goes to one readable side
// (`read_turn` picks among the cheapest, round robin); a write to a mirror
// to every writable side (`copies`). A stripe of mirrors is a mirror per
// column: the leg goes to the sides of the column holding its first block.
struct LegPlan {
  uint32_t vseg_id = 0;
  uint64_t vseg_lba = 0;  // VSEG-relative first block
  uint32_t blocks = 0;
  map::RedirectIndex redirect_index = 0;
  uint32_t disk = 0;  // index into Metadata::disks() of the element the leg goes to
  // That element's port_id and lun; start_lba is the leg's first physical block.
  map::StorageElement storage;
  // A write to a mirror: every writable side, the first being disk/storage
  // above (write splitting: each gets the same data). Empty otherwise.
  std::vector<LegTarget> copies;
  // The entry's descriptor is a mirror or a stripe of mirrors, or this is a
  // write to a journal (split like one: serialized, copies = the data element
  // and the journal element).
  bool mirror = false;
  bool journal = false;       // a write to a journaled VSEG: copies[1] is the journal
  uint32_t element = 0;       // the element disk/storage are (a stripe column, a mirror side)
  uint64_t extent_start = 0;  // VSEG-relative extent holding the leg
  uint64_t extent_length = 0;
};
// nullopt if no VSEG or extent holds `lba`, or the redirect entry's
// descriptor cannot locate it (no storage, a kind without a layout yet, a
// mirror without a readable or writable side).
std::optional<LegPlan> plan_leg(const Metadata& metadata, uint32_t lv_id, uint64_t lba,
                                uint64_t blocks, uint32_t max_blocks, bool write = false,
                                uint32_t read_turn = 0);

// The READ(16)/WRITE(16) CDB of a leg at physical block `lba`.
std::array<uint8_t, fpapi::kCdbSize> leg_cdb(bool write, uint64_t lba, uint32_t blocks, bool fua);

// A leg of `op`: its CDB at physical block `lba`, and the host bytes it
// moves (`offset` = the leg's first block's byte offset in the command).
struct LegCommand {
  std::array<uint8_t, fpapi::kCdbSize> cdb{};
  fpapi::DataDirection direction = fpapi::DataDirection::kNone;
  uint32_t upstream_offset = 0;
  uint32_t data_length = 0;
};
LegCommand leg_command(const RwRequest& rw, uint64_t lba, uint32_t blocks, uint32_t offset,
                       uint32_t block_size);

}  // namespace splitpath::cp
