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
  const bool mirror = entry.descriptor.mirror_sides() > 0;
  if (mirror && !write) {
    const int side = entry.descriptor.read_side(read_turn);
    if (side >= 0) loc = entry.descriptor.locate_side(static_cast<uint32_t>(side), rel);
  } else if (mirror) {
    for (uint32_t i = 0; i < entry.descriptor.mirror_sides(); ++i) {
      if (!map::side_writable(entry.descriptor.side(i).state) || i >= disks.size()) continue;
      copies.push_back(LegTarget{disks[i], entry.descriptor.locate_side(i, rel).target});
    }
    if (!copies.empty()) {
      loc = entry.descriptor.locate_side(0, rel);  // status and run: any side's
      loc.element = 0;
      loc.target = copies[0].storage;
    }
  }
  if (loc.status != map::LocateStatus::kOk || loc.element >= disks.size()) return std::nullopt;
  LegPlan p;
  p.mirror = mirror;
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
