#include "cp/io_split.h"

#include <algorithm>

#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"

namespace splitpath::cp {

std::optional<RwRequest> decode_rw(std::span<const uint8_t> cdb) {
  auto c = fc::decode_cdb(cdb);
  if (!c.ok()) return std::nullopt;
  if (c->kind != fc::ScsiCommandKind::kRead && c->kind != fc::ScsiCommandKind::kWrite) {
    return std::nullopt;
  }
  RwRequest r;
  r.write = c->kind == fc::ScsiCommandKind::kWrite;
  r.op = r.write ? BlockOp::kWrite : BlockOp::kRead;
  r.fua = c->fua;
  r.lba = c->lba;
  r.blocks = c->transfer_length;
  return r;
}

std::optional<RwRequest> decode_block_io(std::span<const uint8_t> cdb) {
  auto c = fc::decode_cdb(cdb);
  if (!c.ok()) return std::nullopt;
  RwRequest r;
  r.fua = c->fua;
  r.lba = c->lba;
  r.blocks = c->transfer_length;
  switch (c->kind) {
    case fc::ScsiCommandKind::kRead:
      r.op = BlockOp::kRead;
      break;
    case fc::ScsiCommandKind::kWrite:
      r.op = BlockOp::kWrite;
      break;
    case fc::ScsiCommandKind::kWriteAndVerify:
      // The disk acknowledges a FUA write once it is on the medium, which is
      // what the verification of WRITE AND VERIFY stands for here.
      r.op = BlockOp::kWrite;
      r.fua = true;
      break;
    case fc::ScsiCommandKind::kVerify:
      r.op = c->bytchk == fc::bytchk::kCompare      ? BlockOp::kVerifyData
             : c->bytchk == fc::bytchk::kCompareOne ? BlockOp::kVerifyOne
                                                    : BlockOp::kVerify;
      break;
    case fc::ScsiCommandKind::kWriteSame:
      r.op = c->ndob ? BlockOp::kDeallocate : BlockOp::kWriteSame;
      r.unmap = c->unmap;
      break;
    case fc::ScsiCommandKind::kCompareAndWrite:
      r.op = BlockOp::kCompareAndWrite;
      break;
    default:
      return std::nullopt;
  }
  r.write = op_writes(r.op);
  return r;
}

uint64_t data_out_bytes(BlockOp op, uint64_t blocks, uint32_t block_size) {
  switch (op) {
    case BlockOp::kWrite:
    case BlockOp::kVerifyData:
      return blocks * block_size;
    case BlockOp::kWriteSame:
    case BlockOp::kVerifyOne:
      return block_size;
    case BlockOp::kCompareAndWrite:
      return 2 * blocks * block_size;
    case BlockOp::kRead:
    case BlockOp::kDeallocate:
    case BlockOp::kVerify:
      return 0;
  }
  return 0;
}

std::optional<LegPlan> plan_leg(const Metadata& metadata, uint32_t lv_id, uint64_t lba,
                                uint64_t blocks, uint32_t max_blocks, bool write,
                                uint32_t read_turn) {
  const Vseg* seg = metadata.vseg_at(lv_id, lba);
  if (!seg) return std::nullopt;
  const uint64_t rel = lba - seg->descriptor.virtual_start_lba;
  const map::Extent* e = seg->extent_at(rel);
  if (!e || e->redirect_index >= seg->redirects.size()) return std::nullopt;
  const map::RedirectEntry& entry = seg->redirects[e->redirect_index];
  const std::vector<uint32_t>& disks = seg->redirect_disks[e->redirect_index];
  std::vector<LegTarget> copies;
  map::Location loc = entry.descriptor.locate(rel);
  // The mirror the leg writes (or reads one side of): the descriptor itself,
  // or a stripe of mirrors' column holding `rel`, its sides being elements
  // first .. first + sides - 1 and `side_lba` the column block.
  map::StorageDescriptor m = entry.descriptor;
  uint64_t side_lba = rel;
  uint32_t first = 0;
  uint64_t run = ~uint64_t{0};
  if (entry.descriptor.kind == map::StorageKind::kStripeOfMirrors) {
    const map::Location col = entry.descriptor.locate_column(rel);
    if (col.status != map::LocateStatus::kOk) return std::nullopt;
    m = entry.descriptor.column_mirror(col.element);
    side_lba = col.target.start_lba;
    first = col.element * entry.descriptor.sides_per_column();
    run = col.run;
  }
  const bool mirror = m.mirror_sides() > 0;
  map::JournalStorage journal;
  const bool journaled = entry.descriptor.journal(&journal) && disks.size() >= 2;
  if (journaled) {
    // Reads: the data element. Writes: the data element and the journal
    // (its first block: the CP picks where the record goes).
    loc.status = map::LocateStatus::kOk;
    loc.element = 0;
    loc.target = journal.data;
    loc.target.start_lba += rel;
    loc.run = write ? journal.capacity_blocks - 1 : ~uint64_t{0};
    if (write) {
      copies.push_back(LegTarget{disks[0], loc.target, 0});
      copies.push_back(LegTarget{disks[1], journal.journal, 1});
    }
  } else if (mirror && !write) {
    const int side = m.read_side(read_turn);
    if (side >= 0) {
      loc = m.locate_side(static_cast<uint32_t>(side), side_lba);
      loc.element = static_cast<uint8_t>(first + static_cast<uint32_t>(side));
      loc.run = run;
    }
  } else if (mirror) {
    for (uint32_t i = 0; i < m.mirror_sides(); ++i) {
      if (!map::side_writable(m.side(i).state) || first + i >= disks.size()) continue;
      copies.push_back(LegTarget{disks[first + i], m.locate_side(i, side_lba).target, first + i});
    }
    if (!copies.empty()) {
      loc = m.locate_side(0, side_lba);  // status: any side's
      loc.element = static_cast<uint8_t>(first);
      loc.target = copies[0].storage;
      loc.run = run;
    }
  }
  LegPlan p;
  p.mirror = mirror || (journaled && write);
  p.journal = journaled && write;
  p.extent_start = e->start;
  p.extent_length = e->length;
  p.vseg_id = seg->descriptor.id;
  p.vseg_lba = rel;
  const uint64_t n =
      std::min({blocks, e->end() - rel, loc.run, uint64_t{std::max(max_blocks, 1u)}});
  p.blocks = static_cast<uint32_t>(n);
  p.redirect_index = e->redirect_index;
  p.element = loc.element;
  p.disk = copies.empty() ? disks[loc.element] : copies[0].disk;
  p.storage = loc.target;
  p.copies = std::move(copies);
  return p;
}

std::array<uint8_t, fpapi::kCdbSize> leg_cdb(bool write, uint64_t lba, uint32_t blocks, bool fua) {
  std::array<uint8_t, fpapi::kCdbSize> cdb{};
  const fc::ScsiCommand c =
      fc::make_rw(write ? fc::scsi_op::kWrite16 : fc::scsi_op::kRead16, lba, blocks, fua);
  (void)fc::encode_cdb(c, cdb);
  return cdb;
}

LegCommand leg_command(const RwRequest& rw, uint64_t lba, uint32_t blocks, uint32_t offset,
                       uint32_t block_size) {
  LegCommand leg;
  fc::ScsiCommand c;
  const uint32_t bytes = blocks * block_size;
  switch (rw.op) {
    case BlockOp::kRead:
    case BlockOp::kWrite:
      leg.cdb = leg_cdb(rw.op == BlockOp::kWrite, lba, blocks, rw.fua);
      leg.direction =
          rw.op == BlockOp::kWrite ? fpapi::DataDirection::kWrite : fpapi::DataDirection::kRead;
      leg.upstream_offset = offset;
      leg.data_length = bytes;
      return leg;
    case BlockOp::kWriteSame:
      c = fc::make_write_same(lba, blocks, rw.unmap);
      leg.direction = fpapi::DataDirection::kWrite;
      leg.data_length = block_size;  // every leg takes the host's one block
      break;
    case BlockOp::kDeallocate:
      c = fc::make_write_same(lba, blocks, /*unmap=*/true, /*ndob=*/true);
      break;
    case BlockOp::kVerify:
      c = fc::make_verify(lba, blocks);
      break;
    case BlockOp::kVerifyData:
      c = fc::make_verify(lba, blocks, fc::bytchk::kCompare);
      leg.direction = fpapi::DataDirection::kWrite;
      leg.upstream_offset = offset;
      leg.data_length = bytes;
      break;
    case BlockOp::kVerifyOne:
      c = fc::make_verify(lba, blocks, fc::bytchk::kCompareOne);
      leg.direction = fpapi::DataDirection::kWrite;
      leg.data_length = block_size;
      break;
    case BlockOp::kCompareAndWrite:
      c = fc::make_compare_and_write(lba, static_cast<uint8_t>(blocks), rw.fua);
      leg.direction = fpapi::DataDirection::kWrite;
      leg.data_length = 2 * bytes;  // the whole command is one leg
      break;
  }
  (void)fc::encode_cdb(c, leg.cdb);
  return leg;
}

}  // namespace splitpath::cp
