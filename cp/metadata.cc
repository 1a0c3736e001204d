#include "cp/metadata.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_format.h"
#include "splitpath/fc/wire.h"

namespace splitpath::cp {

namespace {

constexpr uint8_t kKnownRedirectFlags =
    map::redirect_flags::kFaultOnRead | map::redirect_flags::kFaultOnWrite;
constexpr uint32_t kMaxTargets = 0x7F;  // port bytes 0x80 .. 0xFE
constexpr uint16_t kMaxLun = 16383;     // flat-space addressing
// Chunk layout: 4 magic, 4 vseg id, 4 chunk index, 8 first block, 8 blocks,
// 4 extent count; each extent 8 start, 8 length, 2 redirect index, 1 flag
// (kContinued: the piece continues an extent of the previous chunk).
constexpr size_t kChunkHeader = 32;
constexpr size_t kChunkExtent = 19;
constexpr uint8_t kContinued = 0x01;

}  // namespace

const map::Extent* Vseg::extent_at(uint64_t lba) const {
  auto it = rmap.upper_bound(lba);
  if (it == rmap.begin()) return nullptr;
  --it;
  return it->second.contains(lba) ? &it->second : nullptr;
}

bool Metadata::add_volume(const VolumeDef& def, std::string* error) {
  auto fail = [&](std::string msg) {
    if (error) *error = std::move(msg);
    return false;
  };
  if (def.name.empty()) return fail("volume name is empty");
  if (volume(def.name)) return fail(absl::StrFormat("volume '%s' is already defined", def.name));
  if (def.block_size == 0 || def.block_size % 512 != 0) {
    return fail(absl::StrFormat("volume '%s': block_size %u is not a positive multiple of 512",
                                def.name, def.block_size));
  }
  if (def.vsegs.empty()) return fail(absl::StrFormat("volume '%s' has no VSEGs", def.name));
  struct Layout {
    map::StorageDescriptor descriptor;
    std::vector<uint64_t> wwpns;
    std::vector<PhysicalRange> ranges;
  };
  std::vector<Layout> layouts(def.vsegs.size());
  for (size_t i = 0; i < def.vsegs.size(); ++i) {
    const VsegDef& v = def.vsegs[i];
    const std::string what = absl::StrFormat("volume '%s' VSEG %d", def.name, i);
    if (v.blocks == 0) return fail(what + ": blocks is 0");
    Layout& l = layouts[i];
    std::string layout_error;
    if (!layout_of(v, what, &l.descriptor, &l.wwpns, &l.ranges, &layout_error)) {
      return fail(layout_error);
    }
    if (!v.alternate_paths.empty() && v.journal) {
      return fail(what + ": alternate paths are for simple VSEGs, not journaled ones");
    }
    if (!v.alternate_paths.empty() && v.stripe) {
      return fail(what + ": alternate paths are for simple VSEGs, not striped ones");
    }
    for (uint64_t wwpn : v.alternate_paths) {
      if (wwpn == 0 || wwpn == v.disk_wwpn ||
          std::count(v.alternate_paths.begin(), v.alternate_paths.end(), wwpn) > 1) {
        return fail(absl::StrFormat(
            "%s: alternate path 0x%016x is 0, the VSEG's disk, or given twice", what, wwpn));
      }
    }
    if (v.flags & ~kKnownRedirectFlags) {
      return fail(absl::StrFormat("%s: unknown redirect flags 0x%02x", what, v.flags));
    }
    // No two VSEGs (of any volume) may share physical blocks.
    for (const PhysicalRange& r : l.ranges) {
      for (size_t j = 0; j < i; ++j) {
        for (const PhysicalRange& o : layouts[j].ranges) {
          if (r.overlaps(o)) {
            return fail(absl::StrFormat("%s overlaps VSEG %d on disk 0x%016x LUN %u", what, j,
                                        r.wwpn, r.lun));
          }
        }
      }
      for (const Volume& vol : volumes_) {
        for (size_t j = 0; j < vol.vsegs.size(); ++j) {
          for (const PhysicalRange& o : vsegs_.at(vol.vsegs[j]).ranges) {
            if (r.overlaps(o)) {
              return fail(absl::StrFormat("%s overlaps volume '%s' VSEG %d on disk 0x%016x LUN %u",
                                          what, vol.name, j, r.wwpn, r.lun));
            }
          }
        }
      }
    }
  }

  Volume vol;
  vol.name = def.name;
  vol.lv_id = static_cast<uint32_t>(volumes_.size() + 1);
  vol.block_size = def.block_size;
  for (size_t i = 0; i < def.vsegs.size(); ++i) {
    insert_vseg(&vol, def.vsegs[i], layouts[i].descriptor, layouts[i].wwpns,
                std::move(layouts[i].ranges), &def);
  }
  volumes_.push_back(std::move(vol));
  return true;
}

uint32_t Metadata::insert_vseg(Volume* vol, const VsegDef& v,
                               const map::StorageDescriptor& descriptor,
                               const std::vector<uint64_t>& wwpns,
                               std::vector<PhysicalRange> ranges, const VolumeDef* volume_def) {
  Vseg seg;
  seg.descriptor.id = next_vseg_id_++;
  seg.descriptor.virtual_start_lba = vol->blocks;
  seg.descriptor.length = v.blocks;
  seg.lv_id = vol->lv_id;
  map::RedirectEntry entry;
  entry.flags = v.flags;
  entry.descriptor = descriptor;
  seg.redirects.push_back(entry);
  std::vector<uint32_t> disks;
  for (uint64_t wwpn : wwpns)
    disks.push_back(disk_index(wwpn));
  // A disk already resolved (a VSEG added after start) is addressed at once.
  for (size_t e = 0; e < disks.size(); ++e) {
    if (disks_[disks[e]].port_id) {
      seg.redirects[0].descriptor.set_element_port_id(static_cast<uint32_t>(e),
                                                      *disks_[disks[e]].port_id);
    }
  }
  seg.redirect_disk.push_back(disks[0]);
  seg.redirect_disks.push_back(std::move(disks));
  if (!v.alternate_paths.empty() && volume_def) add_paths(v, *volume_def, &seg);
  if (v.journal) {
    seg.journal_area =
        Vseg::JournalArea{v.journal->journal_wwpn, v.journal->journal_lun, v.journal->journal_lba,
                          v.journal->area_blocks, v.journal->journal_blocks};
  }
  seg.ranges = std::move(ranges);
  const uint64_t step = v.extent_blocks == 0 ? v.blocks : v.extent_blocks;
  for (uint64_t start = 0; start < v.blocks; start += step) {
    map::Extent e;
    e.start = start;
    e.length = std::min(step, v.blocks - start);
    e.redirect_index = 0;
    seg.rmap[start] = e;
  }
  const uint32_t id = seg.descriptor.id;
  vol->blocks += v.blocks;
  vol->vsegs.push_back(id);
  vsegs_[id] = std::move(seg);
  return id;
}

bool Metadata::append_vseg(const std::string& volume, const VsegDef& v, uint32_t* vseg_id,
                           std::string* error) {
  auto fail = [&](std::string msg) {
    if (error) *error = std::move(msg);
    return false;
  };
  Volume* vol = nullptr;
  for (Volume& x : volumes_)
    if (x.name == volume) vol = &x;
  if (!vol) return fail(absl::StrFormat("no volume '%s'", volume));
  const std::string what = absl::StrFormat("volume '%s' new VSEG %d", volume, vol->vsegs.size());
  if (v.blocks == 0) return fail(what + ": blocks is 0");
  if (vol->blocks + v.blocks < vol->blocks) return fail(what + ": the volume would overflow");
  if (v.journal) return fail(what + ": a journaled VSEG cannot be added to a volume");
  if (!v.alternate_paths.empty())
    return fail(what + ": a VSEG with alternate paths cannot be added to a volume");
  if (v.flags & ~kKnownRedirectFlags)
    return fail(absl::StrFormat("%s: unknown redirect flags 0x%02x", what, v.flags));
  map::StorageDescriptor descriptor;
  std::vector<uint64_t> wwpns;
  std::vector<PhysicalRange> ranges;
  std::string layout_error;
  if (!layout_of(v, what, &descriptor, &wwpns, &ranges, &layout_error)) return fail(layout_error);
  for (const PhysicalRange& r : ranges) {
    for (const Volume& other : volumes_) {
      for (size_t j = 0; j < other.vsegs.size(); ++j) {
        for (const PhysicalRange& o : vsegs_.at(other.vsegs[j]).ranges) {
          if (r.overlaps(o)) {
            return fail(absl::StrFormat("%s overlaps volume '%s' VSEG %d on disk 0x%016x LUN %u",
                                        what, other.name, j, r.wwpn, r.lun));
          }
        }
      }
    }
  }
  const uint32_t id = insert_vseg(vol, v, descriptor, wwpns, std::move(ranges), nullptr);
  if (vseg_id) *vseg_id = id;
  return true;
}

bool Metadata::simple_vseg(uint32_t vseg_id, std::string* error) const {
  auto fail = [&](std::string msg) {
    if (error) *error = std::move(msg);
    return false;
  };
  const Vseg* seg = vseg(vseg_id);
  if (!seg) return fail(absl::StrFormat("no VSEG %u", vseg_id));
  if (seg->multipath) return fail(absl::StrFormat("VSEG %u has alternate paths", vseg_id));
  if (seg->journal_area) return fail(absl::StrFormat("VSEG %u is journaled", vseg_id));
  for (const map::RedirectEntry& e : seg->redirects) {
    if (e.descriptor.kind != map::StorageKind::kSimple) {
      return fail(
          absl::StrFormat("VSEG %u is not a simple disk range (striped or mirrored)", vseg_id));
    }
  }
  if (seg->ranges.size() != 1 || seg->ranges[0].blocks != seg->descriptor.length)
    return fail(absl::StrFormat("VSEG %u is not one disk range", vseg_id));
  return true;
}

map::RedirectIndex Metadata::find_or_add_entry(Vseg* seg, const map::RedirectEntry& entry,
                                               const std::vector<uint32_t>& disks) {
  size_t index = 0;
  while (index < seg->redirects.size() &&
         !(seg->redirects[index] == entry && seg->redirect_disks[index] == disks)) {
    ++index;
  }
  if (index == seg->redirects.size()) {
    seg->redirects.push_back(entry);
    seg->redirect_disk.push_back(disks[0]);
    seg->redirect_disks.push_back(disks);
  }
  return static_cast<map::RedirectIndex>(index);
}

bool Metadata::split_vseg(uint32_t vseg_id, uint64_t at, uint32_t* new_id, std::string* error) {
  if (!simple_vseg(vseg_id, error)) return false;
  Vseg& a = vsegs_.at(vseg_id);
  if (at == 0 || at >= a.descriptor.length) {
    if (error)
      *error = absl::StrFormat("block %u is not inside VSEG %u (%u blocks) past its first", at,
                               vseg_id, a.descriptor.length);
    return false;
  }
  Volume* vol = nullptr;
  for (Volume& x : volumes_)
    if (x.lv_id == a.lv_id) vol = &x;
  if (!vol) {
    if (error) *error = absl::StrFormat("VSEG %u belongs to no volume", vseg_id);
    return false;
  }
  Vseg b;
  b.descriptor.id = next_vseg_id_++;
  b.descriptor.virtual_start_lba = a.descriptor.virtual_start_lba + at;
  b.descriptor.length = a.descriptor.length - at;
  b.lv_id = a.lv_id;
  // The same storage: the second VSEG's block 0 is the first's block `at`.
  b.redirects = a.redirects;
  for (map::RedirectEntry& e : b.redirects) {
    map::SimpleStorage s = e.descriptor.simple();
    s.start_lba += at;
    e.descriptor = map::StorageDescriptor::make_simple(s);
  }
  b.redirect_disk = a.redirect_disk;
  b.redirect_disks = a.redirect_disks;
  PhysicalRange tail = a.ranges[0];
  tail.lba += at;
  tail.blocks -= at;
  a.ranges[0].blocks = at;
  b.ranges.push_back(tail);
  split_extent_at(vseg_id, at);
  for (auto it = a.rmap.lower_bound(at); it != a.rmap.end();) {
    map::Extent e = it->second;
    e.start -= at;
    b.rmap[e.start] = e;
    it = a.rmap.erase(it);
  }
  a.descriptor.length = at;
  const uint32_t id = b.descriptor.id;
  vsegs_[id] = std::move(b);
  auto pos = std::find(vol->vsegs.begin(), vol->vsegs.end(), vseg_id);
  vol->vsegs.insert(pos + 1, id);
  if (new_id) *new_id = id;
  return true;
}

bool Metadata::merge_vsegs(uint32_t first_id, uint32_t second_id, std::string* error,
                           bool check_only) {
  auto fail = [&](std::string msg) {
    if (error) *error = std::move(msg);
    return false;
  };
  if (!simple_vseg(first_id, error) || !simple_vseg(second_id, error)) return false;
  Vseg& a = vsegs_.at(first_id);
  Vseg& b = vsegs_.at(second_id);
  if (a.lv_id != b.lv_id ||
      a.descriptor.virtual_start_lba + a.descriptor.length != b.descriptor.virtual_start_lba) {
    return fail(
        absl::StrFormat("VSEGs %u and %u are not neighbours in one volume", first_id, second_id));
  }
  const PhysicalRange& ra = a.ranges[0];
  const PhysicalRange& rb = b.ranges[0];
  if (ra.wwpn != rb.wwpn || ra.lun != rb.lun || ra.lba + ra.blocks != rb.lba) {
    return fail(absl::StrFormat(
        "VSEGs %u and %u are not contiguous on one disk LUN (0x%016x LUN %u blocks %u+%u, "
        "0x%016x LUN %u blocks %u+%u)",
        first_id, second_id, ra.wwpn, ra.lun, ra.lba, ra.blocks, rb.wwpn, rb.lun, rb.lba,
        rb.blocks));
  }
  const uint8_t flags = a.redirects[0].flags;
  for (const Vseg* s : {&a, &b}) {
    for (const map::RedirectEntry& e : s->redirects) {
      if (e.flags != flags) {
        return fail(absl::StrFormat("VSEGs %u and %u have different flags (0x%02x, 0x%02x)",
                                    first_id, second_id, flags, e.flags));
      }
    }
  }
  const uint64_t shift = a.descriptor.length;
  for (const map::RedirectEntry& e : b.redirects) {
    if (e.descriptor.simple().start_lba < shift)
      return fail(
          absl::StrFormat("VSEG %u maps blocks below LBA %u: cannot re-base", second_id, shift));
  }
  if (check_only) return true;
  // B's block j is A's block shift + j: its entries re-based on A's block 0,
  // equal ones shared.
  std::vector<map::RedirectIndex> index_of(b.redirects.size());
  for (size_t i = 0; i < b.redirects.size(); ++i) {
    map::RedirectEntry e = b.redirects[i];
    map::SimpleStorage s = e.descriptor.simple();
    s.start_lba -= shift;
    e.descriptor = map::StorageDescriptor::make_simple(s);
    index_of[i] = find_or_add_entry(&a, e, b.redirect_disks[i]);
  }
  for (const auto& [start, x] : b.rmap) {
    map::Extent e = x;
    e.start += shift;
    e.redirect_index = index_of[x.redirect_index];
    a.rmap[e.start] = e;
  }
  a.descriptor.length += b.descriptor.length;
  a.ranges[0].blocks += rb.blocks;
  for (Volume& vol : volumes_) {
    if (vol.lv_id == a.lv_id)
      vol.vsegs.erase(std::remove(vol.vsegs.begin(), vol.vsegs.end(), second_id), vol.vsegs.end());
  }
  vsegs_.erase(second_id);
  return true;
}

bool Metadata::add_target(const VirtualTargetDef& def, uint8_t domain, std::string* error) {
  auto fail = [&](std::string msg) {
    if (error) *error = std::move(msg);
    return false;
  };
  if (def.name.empty()) return fail("target name is empty");
  if (target_by_name(def.name)) {
    return fail(absl::StrFormat("target '%s' is already defined", def.name));
  }
  if (def.wwpn == 0) return fail(absl::StrFormat("target '%s': wwpn is 0", def.name));
  for (const Target& t : targets_) {
    if (t.def.wwpn == def.wwpn) {
      return fail(absl::StrFormat("target '%s': wwpn 0x%016x is already used by target '%s'",
                                  def.name, def.wwpn, t.def.name));
    }
  }
  if (targets_.size() >= kMaxTargets) {
    return fail(absl::StrFormat("target '%s': too many virtual targets (at most %u)", def.name,
                                kMaxTargets));
  }
  Target t;
  t.def = def;
  t.index = static_cast<uint32_t>(targets_.size());
  t.port_id = target_port_id(domain, t.index);
  t.wwnn = def.wwnn != 0 ? def.wwnn : (def.wwpn ^ (uint64_t{1} << 56));
  for (const LunDef& l : def.luns) {
    if (l.lun > kMaxLun) {
      return fail(absl::StrFormat("target '%s' LUN %u: above %u (flat addressing)", def.name, l.lun,
                                  kMaxLun));
    }
    for (const Lun& other : t.luns) {
      if (other.def.lun == l.lun) {
        return fail(absl::StrFormat("target '%s' LUN %u is defined twice", def.name, l.lun));
      }
    }
    const Volume* vol = volume(l.volume);
    if (!vol) {
      return fail(
          absl::StrFormat("target '%s' LUN %u: unknown volume '%s'", def.name, l.lun, l.volume));
    }
    t.luns.push_back(Lun{l, vol->lv_id});
  }
  targets_.push_back(std::move(t));
  return true;
}

const Volume* Metadata::volume(const std::string& name) const {
  for (const Volume& v : volumes_)
    if (v.name == name) return &v;
  return nullptr;
}

const Volume* Metadata::volume_by_lv(uint32_t lv_id) const {
  if (lv_id == 0 || lv_id > volumes_.size()) return nullptr;
  return &volumes_[lv_id - 1];
}

Vseg* Metadata::vseg(uint32_t id) {
  auto it = vsegs_.find(id);
  return it == vsegs_.end() ? nullptr : &it->second;
}

const Vseg* Metadata::vseg(uint32_t id) const {
  auto it = vsegs_.find(id);
  return it == vsegs_.end() ? nullptr : &it->second;
}

const Vseg* Metadata::vseg_at(uint32_t lv_id, uint64_t lba) const {
  const Volume* vol = volume_by_lv(lv_id);
  if (!vol) return nullptr;
  for (uint32_t id : vol->vsegs) {
    const Vseg& s = vsegs_.at(id);
    if (lba - s.descriptor.virtual_start_lba < s.descriptor.length) return &s;
  }
  return nullptr;
}

const Target* Metadata::target_by_port_id(uint32_t port_id) const {
  for (const Target& t : targets_)
    if (t.port_id == port_id) return &t;
  return nullptr;
}

const Target* Metadata::target_by_name(const std::string& name) const {
  for (const Target& t : targets_)
    if (t.def.name == name) return &t;
  return nullptr;
}

const Lun* Metadata::lun(uint32_t target_port_id, uint16_t lun) const {
  const Target* t = target_by_port_id(target_port_id);
  if (!t) return nullptr;
  for (const Lun& l : t->luns)
    if (l.def.lun == lun) return &l;
  return nullptr;
}

void Metadata::add_paths(const VsegDef& def, const VolumeDef& volume, Vseg* seg) {
  Vseg::Multipath mp;
  mp.policy = volume.multipath;
  mp.failback = volume.failback;
  mp.path_disks.push_back(seg->redirect_disk[0]);
  for (uint64_t wwpn : def.alternate_paths) {
    const uint32_t disk = disk_index(wwpn);
    map::RedirectEntry entry = seg->redirects[0];
    entry.descriptor.set_element_port_id(0, 0);  // filled in when the path resolves
    seg->redirects.push_back(entry);
    seg->redirect_disk.push_back(disk);
    seg->redirect_disks.push_back({disk});
    mp.path_disks.push_back(disk);
  }
  seg->multipath = std::move(mp);
}

uint32_t Metadata::disk_index(uint64_t wwpn) {
  auto it = disk_by_wwpn_.find(wwpn);
  if (it != disk_by_wwpn_.end()) return it->second;
  const auto index = static_cast<uint32_t>(disks_.size());
  disks_.push_back(Disk{wwpn, std::nullopt});
  disk_by_wwpn_[wwpn] = index;
  return index;
}

void Metadata::set_disk_port_id(uint32_t index, uint32_t port_id) {
  disks_[index].port_id = port_id;
  for (auto& [id, seg] : vsegs_) {
    for (size_t i = 0; i < seg.redirects.size(); ++i) {
      const std::vector<uint32_t>& disks = seg.redirect_disks[i];
      for (size_t e = 0; e < disks.size(); ++e) {
        if (disks[e] == index)
          seg.redirects[i].descriptor.set_element_port_id(static_cast<uint32_t>(e), port_id);
      }
    }
  }
}

bool Metadata::remap_range(uint32_t vseg_id, uint64_t start, uint64_t length,
                           const std::optional<map::SimpleStorage>& storage, uint32_t disk,
                           std::optional<uint8_t> flags,
                           std::vector<map::RedirectIndex>* new_indexes, std::string* error) {
  Vseg* seg = vseg(vseg_id);
  if (!seg || length == 0 || start >= seg->descriptor.length ||
      length > seg->descriptor.length - start) {
    if (error)
      *error = absl::StrFormat("range %u+%u is not inside VSEG %u", start, length, vseg_id);
    return false;
  }
  const uint64_t end = start + length;
  // Cut the extents that straddle either end of the range.
  split_extent_at(vseg_id, start);
  split_extent_at(vseg_id, end);
  for (auto it = seg->rmap.lower_bound(start); it != seg->rmap.end() && it->first < end; ++it) {
    map::Extent& e = it->second;
    map::RedirectEntry entry = seg->redirects[e.redirect_index];
    std::vector<uint32_t> entry_disks = seg->redirect_disks[e.redirect_index];
    if (storage) {
      map::SimpleStorage s = *storage;
      s.port_id = disks_[disk].port_id.value_or(0);
      entry.descriptor = map::StorageDescriptor::make_simple(s);
      entry_disks = {disk};
    }
    if (flags) entry.flags = *flags;
    size_t index = 0;
    while (index < seg->redirects.size() &&
           !(seg->redirects[index] == entry && seg->redirect_disks[index] == entry_disks)) {
      ++index;
    }
    if (index == seg->redirects.size()) {
      seg->redirects.push_back(entry);
      seg->redirect_disk.push_back(entry_disks[0]);
      seg->redirect_disks.push_back(std::move(entry_disks));
      if (new_indexes) new_indexes->push_back(static_cast<map::RedirectIndex>(index));
    }
    e.redirect_index = static_cast<map::RedirectIndex>(index);
  }
  return true;
}

void Metadata::split_extent_at(uint32_t vseg_id, uint64_t block) {
  Vseg* seg = vseg(vseg_id);
  if (!seg) return;
  auto it = seg->rmap.upper_bound(block);
  if (it == seg->rmap.begin()) return;
  --it;
  map::Extent& e = it->second;
  if (block > e.start && block < e.end()) {
    map::Extent tail = e;
    tail.start = block;
    tail.length = e.end() - block;
    e.length = block - e.start;
    seg->rmap[block] = tail;
  }
}

std::vector<uint32_t> Metadata::compact_redirects(uint32_t vseg_id) {
  Vseg* seg = vseg(vseg_id);
  if (!seg) return {};
  std::vector<uint32_t> renumbered(seg->redirects.size(), kNoEntry);
  for (const auto& [start, e] : seg->rmap)
    renumbered[e.redirect_index] = 0;
  uint32_t next = 0;
  for (size_t i = 0; i < renumbered.size(); ++i) {
    if (renumbered[i] == kNoEntry) continue;
    renumbered[i] = next;
    seg->redirects[next] = seg->redirects[i];
    seg->redirect_disk[next] = seg->redirect_disk[i];
    seg->redirect_disks[next] = seg->redirect_disks[i];
    ++next;
  }
  seg->redirects.resize(next);
  seg->redirect_disk.resize(next);
  seg->redirect_disks.resize(next);
  for (auto it = seg->rmap.begin(); it != seg->rmap.end();) {
    map::Extent& e = it->second;
    e.redirect_index = static_cast<map::RedirectIndex>(renumbered[e.redirect_index]);
    auto prev = it == seg->rmap.begin() ? seg->rmap.end() : std::prev(it);
    if (prev != seg->rmap.end() && prev->second.redirect_index == e.redirect_index &&
        prev->second.end() == e.start) {
      prev->second.length += e.length;
      it = seg->rmap.erase(it);
    } else {
      ++it;
    }
  }
  return renumbered;
}

std::vector<std::vector<uint8_t>> Metadata::serialize_rmap(uint32_t vseg_id, uint64_t chunk_blocks,
                                                           size_t chunk_bytes) const {
  std::vector<std::vector<uint8_t>> chunks;
  const Vseg* seg = vseg(vseg_id);
  if (!seg || chunk_blocks == 0 || chunk_bytes < kChunkHeader + kChunkExtent) return chunks;
  const size_t max_extents = (chunk_bytes - kChunkHeader) / kChunkExtent;
  const uint64_t n = (seg->descriptor.length + chunk_blocks - 1) / chunk_blocks;
  for (uint64_t c = 0; c < n; ++c) {
    const uint64_t first = c * chunk_blocks;
    const uint64_t blocks = std::min(chunk_blocks, seg->descriptor.length - first);
    std::vector<map::Extent> pieces;
    std::vector<bool> continued;
    auto it = seg->rmap.upper_bound(first);
    if (it != seg->rmap.begin()) --it;
    for (; it != seg->rmap.end() && it->first < first + blocks; ++it) {
      const map::Extent& e = it->second;
      if (e.end() <= first) continue;
      map::Extent p = e;
      p.start = std::max(e.start, first);
      p.length = std::min(e.end(), first + blocks) - p.start;
      pieces.push_back(p);
      continued.push_back(p.start != e.start);
    }
    if (pieces.size() > max_extents) return {};
    std::vector<uint8_t> out(chunk_bytes, 0);
    uint8_t* p = out.data();
    fc::store_be32(p, kRmapChunkMagic);
    fc::store_be32(p + 4, vseg_id);
    fc::store_be32(p + 8, static_cast<uint32_t>(c));
    fc::store_be64(p + 12, first);
    fc::store_be64(p + 20, blocks);
    fc::store_be32(p + 28, static_cast<uint32_t>(pieces.size()));
    p += kChunkHeader;
    for (size_t i = 0; i < pieces.size(); ++i) {
      fc::store_be64(p, pieces[i].start);
      fc::store_be64(p + 8, pieces[i].length);
      fc::store_be16(p + 16, pieces[i].redirect_index);
      p[18] = continued[i] ? kContinued : 0;
      p += kChunkExtent;
    }
    chunks.push_back(std::move(out));
  }
  return chunks;
}

bool Metadata::deserialize_rmap(std::span<const std::vector<uint8_t>> chunks,
                                absl::btree_map<uint64_t, map::Extent>* rmap) {
  rmap->clear();
  for (const std::vector<uint8_t>& chunk : chunks) {
    if (chunk.size() < kChunkHeader) return false;
    const uint8_t* p = chunk.data();
    if (fc::load_be32(p) != kRmapChunkMagic) return false;
    const uint64_t first = fc::load_be64(p + 12);
    const uint64_t blocks = fc::load_be64(p + 20);
    const uint32_t count = fc::load_be32(p + 28);
    if (count > (chunk.size() - kChunkHeader) / kChunkExtent) return false;
    p += kChunkHeader;
    for (uint32_t i = 0; i < count; ++i, p += kChunkExtent) {
      map::Extent e;
      e.start = fc::load_be64(p);
      e.length = fc::load_be64(p + 8);
      e.redirect_index = fc::load_be16(p + 16);
      if (e.length == 0 || e.start < first || e.end() > first + blocks) return false;
      if ((p[18] & kContinued) != 0 && rmap->empty()) return false;
      if (!rmap->empty()) {
        map::Extent& last = std::prev(rmap->end())->second;
        if (e.start < last.end()) return false;
        if ((p[18] & kContinued) != 0) {
          if (e.start != last.end() || e.redirect_index != last.redirect_index) return false;
          last.length += e.length;
          continue;
        }
      }
      (*rmap)[e.start] = e;
    }
  }
  return true;
}

}  // namespace splitpath::cp
