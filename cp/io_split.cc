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
  r.fua = c->fua;
  r.lba = c->lba;
  r.blocks = c->transfer_length;
  return r;
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

}  // namespace splitpath::cp
