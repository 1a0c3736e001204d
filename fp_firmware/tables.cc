// The FP's cached configuration tables: exposures with their LUN-masking
// lists, the virtual targets, VSEGs (with their LV), and redirect entries;
// and the FPAddMapping / FPReplaceMapping / FPRemoveMapping calls on them and
// on the cached Rmap. Exposures, targets and VSEGs are compact arrays (small,
// scanned in order); redirect entries are hashed because every remapped I/O
// looks one up.
#include "fp_firmware/fast_path_impl.h"

namespace splitpath::fp {

namespace {
uint32_t redirect_hash_of(uint32_t vseg_id, map::RedirectIndex index) {
  return (vseg_id * 0x9E3779B1u) ^ (uint32_t{index} * 0x85EBCA77u);
}
}  // namespace

bool FastPath::Impl::is_virtual_target(uint32_t id) const {
  for (uint32_t i = 0; i < target_count; ++i) {
    if (targets[i] == id) return true;
  }
  return false;
}

const Exposure* FastPath::Impl::find_exposure(uint32_t target, uint16_t lun) const {
  for (uint32_t i = 0; i < exposure_count; ++i) {
    if (exposures[i].target_id == target && exposures[i].lun == lun) return &exposures[i];
  }
  return nullptr;
}

bool FastPath::Impl::initiator_allowed(const Exposure& e, uint32_t initiator) const {
  if (e.flags & fpapi::expose_flags::kAnyInitiator) return true;
  const uint32_t* list =
      initiators + static_cast<size_t>(&e - exposures) * config.initiators_per_exposure;
  for (uint32_t i = 0; i < e.initiator_count; ++i) {
    if (list[i] == initiator) return true;
  }
  return false;
}

fpapi::ApiStatus FastPath::Impl::expose(const fpapi::FpExpose& m) {
  const uint32_t target = m.target_id & map::kPortIdMask;
  if (m.initiator_count > fpapi::kMaxInitiatorsPerExpose || m.block_size == 0) {
    return fpapi::ApiStatus::kInvalid;
  }
  Exposure* e = const_cast<Exposure*>(find_exposure(target, m.lun));
  const bool append = (m.flags & fpapi::expose_flags::kAppend) != 0;
  if (e == nullptr) {
    if (exposure_count == config.exposure_capacity) return fpapi::ApiStatus::kFull;
    if (!is_virtual_target(target)) {
      if (target_count == config.exposure_capacity) return fpapi::ApiStatus::kFull;
      targets[target_count++] = target;
    }
    e = &exposures[exposure_count++];
    *e = Exposure();
    e->target_id = target;
    e->lun = m.lun;
  } else if (!append) {
    e->initiator_count = 0;
  }
  if (!append || e->initiator_count == 0) {
    e->flags = static_cast<uint8_t>(m.flags & ~fpapi::expose_flags::kAppend);
    e->lv_id = m.lv_id;
    e->block_size = m.block_size;
    e->capacity_blocks = m.capacity_blocks;
  }
  uint32_t* list = initiators + static_cast<size_t>(e - exposures) * config.initiators_per_exposure;
  for (uint32_t i = 0; i < m.initiator_count; ++i) {
    const uint32_t id = m.initiators[i] & map::kPortIdMask;
    bool present = false;
    for (uint32_t j = 0; j < e->initiator_count && !present; ++j)
      present = list[j] == id;
    if (present) continue;
    if (e->initiator_count == config.initiators_per_exposure) return fpapi::ApiStatus::kFull;
    list[e->initiator_count++] = id;
  }
  return fpapi::ApiStatus::kOk;
}

uint32_t FastPath::Impl::hide(const fpapi::FpHide& m) {
  // The target stays virtual: its later commands fault (kLunNotExposed)
  // instead of being switched to an address nobody owns.
  const uint32_t target = m.target_id & map::kPortIdMask;
  uint32_t removed = 0;
  for (uint32_t i = 0; i < exposure_count;) {
    Exposure& e = exposures[i];
    if (e.target_id != target || (m.lun != fpapi::kAllLuns && e.lun != m.lun)) {
      ++i;
      continue;
    }
    const uint32_t last = exposure_count - 1;
    if (i != last) {
      e = exposures[last];
      uint32_t* dst = initiators + static_cast<size_t>(i) * config.initiators_per_exposure;
      const uint32_t* src = initiators + static_cast<size_t>(last) * config.initiators_per_exposure;
      for (uint32_t j = 0; j < e.initiator_count; ++j)
        dst[j] = src[j];
    }
    --exposure_count;
    ++removed;
  }
  return removed;
}

const Vseg* FastPath::Impl::vseg_for_lba(uint32_t lv_id, uint64_t lv_lba) const {
  for (uint32_t i = 0; i < vseg_count; ++i) {
    const Vseg& v = vsegs[i];
    if (v.lv_id == lv_id && lv_lba - v.desc.virtual_start_lba < v.desc.length) return &v;
  }
  return nullptr;
}

const Vseg* FastPath::Impl::find_vseg(uint32_t vseg_id) const {
  for (uint32_t i = 0; i < vseg_count; ++i) {
    if (vsegs[i].desc.id == vseg_id) return &vsegs[i];
  }
  return nullptr;
}

const map::RedirectEntry* FastPath::Impl::find_redirect(uint32_t vseg_id,
                                                        map::RedirectIndex index) const {
  const Redirect* r = const_cast<Impl*>(this)->find_redirect_slot(vseg_id, index);
  return r != nullptr ? &r->entry : nullptr;
}

Redirect* FastPath::Impl::find_redirect_slot(uint32_t vseg_id, map::RedirectIndex index) {
  const uint32_t mask = redirect_hash_size - 1;
  for (uint32_t h = redirect_hash_of(vseg_id, index) & mask;; h = (h + 1) & mask) {
    const uint32_t slot = redirect_hash[h];
    if (slot == kNone) return nullptr;
    Redirect& r = redirects[slot];
    if (r.vseg_id == vseg_id && r.index == index) return &r;
  }
}

namespace {

// The hash slot holding `slot`, or kNone.
uint32_t hash_position(const FastPath::Impl& s, uint32_t slot) {
  const Redirect& r = s.redirects[slot];
  const uint32_t mask = s.redirect_hash_size - 1;
  for (uint32_t h = redirect_hash_of(r.vseg_id, r.index) & mask;; h = (h + 1) & mask) {
    if (s.redirect_hash[h] == kNone) return kNone;
    if (s.redirect_hash[h] == slot) return h;
  }
}

// Removes one cached redirect entry (backward-shift deletion keeps every
// probe chain unbroken without tombstones).
void erase_redirect(FastPath::Impl& s, uint32_t slot) {
  const uint32_t mask = s.redirect_hash_size - 1;
  uint32_t hole = hash_position(s, slot);
  s.redirects[slot].used = 0;
  --s.redirect_count;
  if (hole == kNone) return;
  s.redirect_hash[hole] = kNone;
  for (uint32_t h = (hole + 1) & mask; s.redirect_hash[h] != kNone; h = (h + 1) & mask) {
    const Redirect& r = s.redirects[s.redirect_hash[h]];
    const uint32_t home = redirect_hash_of(r.vseg_id, r.index) & mask;
    // Move the entry back if its home is not in (hole, h].
    if (((h - home) & mask) >= ((h - hole) & mask)) {
      s.redirect_hash[hole] = s.redirect_hash[h];
      s.redirect_hash[h] = kNone;
      hole = h;
    }
  }
}

fpapi::ApiStatus put_redirect(FastPath::Impl& s, uint32_t vseg_id, map::RedirectIndex index,
                              const map::RedirectEntry& entry) {
  if (Redirect* cached = s.find_redirect_slot(vseg_id, index)) {
    // A new journal (another descriptor) starts at its first block.
    if (!(cached->entry.descriptor == entry.descriptor)) {
      cached->journal_used = 0;
      cached->journal_seq = 0;
    }
    cached->entry = entry;
    return fpapi::ApiStatus::kOk;
  }
  if (s.redirect_count == s.config.redirect_capacity) return fpapi::ApiStatus::kFull;
  uint32_t slot = 0;
  while (s.redirects[slot].used)
    ++slot;
  Redirect& r = s.redirects[slot];
  r.used = 1;
  r.read_turn = 0;
  r.journal_used = 0;
  r.journal_seq = 0;
  r.vseg_id = vseg_id;
  r.index = index;
  r.entry = entry;
  ++s.redirect_count;
  const uint32_t mask = s.redirect_hash_size - 1;
  uint32_t h = redirect_hash_of(vseg_id, index) & mask;
  while (s.redirect_hash[h] != kNone)
    h = (h + 1) & mask;
  s.redirect_hash[h] = slot;
  return fpapi::ApiStatus::kOk;
}

uint32_t erase_redirects(FastPath::Impl& s, uint32_t vseg_id, bool all, map::RedirectIndex index) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < s.config.redirect_capacity; ++i) {
    const Redirect& r = s.redirects[i];
    if (r.used && r.vseg_id == vseg_id && (all || r.index == index)) {
      erase_redirect(s, i);
      ++n;
    }
  }
  return n;
}

fpapi::ApiStatus from_rmap(map::RmapStatus st) {
  switch (st) {
    case map::RmapStatus::kOk:
      return fpapi::ApiStatus::kOk;
    case map::RmapStatus::kFull:
      return fpapi::ApiStatus::kFull;
    case map::RmapStatus::kMiss:
      return fpapi::ApiStatus::kNotFound;
    case map::RmapStatus::kInvalid:
      break;
  }
  return fpapi::ApiStatus::kInvalid;
}

}  // namespace

fpapi::ApiStatus FastPath::Impl::mapping(fpapi::MsgType type, const fpapi::FpMapping& m,
                                         uint32_t* value) {
  using fpapi::ApiStatus;
  using fpapi::MappingKind;
  using fpapi::MsgType;
  *value = 0;
  const uint32_t id = m.vseg.id;
  const Vseg* v = find_vseg(id);
  switch (m.kind) {
    case MappingKind::kVseg: {
      if (type == MsgType::kFpRemoveMapping) {
        if (v == nullptr) return ApiStatus::kNotFound;
        const RmapStats before = rmap.stats();
        (void)rmap.remove_vseg(id);
        *value = 1 + static_cast<uint32_t>(rmap.stats().removed - before.removed) +
                 erase_redirects(*this, id, true, 0);
        Vseg& slot = vsegs[v - vsegs];
        slot = vsegs[--vseg_count];
        return ApiStatus::kOk;
      }
      if (m.vseg.length == 0) return ApiStatus::kInvalid;
      if (v == nullptr && vseg_count == config.rmap.max_vsegs) return ApiStatus::kFull;
      const ApiStatus st = from_rmap(rmap.add_vseg(m.vseg));
      if (st != ApiStatus::kOk) return st;
      Vseg& slot = v != nullptr ? vsegs[v - vsegs] : vsegs[vseg_count++];
      slot.lv_id = m.lv_id;
      slot.desc = m.vseg;
      *value = 1;
      return ApiStatus::kOk;
    }
    case MappingKind::kRedirect: {
      if (v == nullptr) return ApiStatus::kNotFound;
      if (type == MsgType::kFpRemoveMapping) {
        *value = erase_redirects(*this, id, false, m.redirect_index);
        return *value ? ApiStatus::kOk : ApiStatus::kNotFound;
      }
      // A malformed descriptor is refused, never cached to mis-map later.
      if (!m.redirect.descriptor.valid()) return ApiStatus::kInvalid;
      const ApiStatus st = put_redirect(*this, id, m.redirect_index, m.redirect);
      *value = st == ApiStatus::kOk ? 1 : 0;
      return st;
    }
    case MappingKind::kExtent: {
      if (v == nullptr) return ApiStatus::kNotFound;
      if (type == MsgType::kFpRemoveMapping) {
        if (config.ignore_remove_mapping_for_testing) return ApiStatus::kOk;  // the broken FP
        const RmapRemoval r = rmap.remove(id, m.extent.start, m.extent.length);
        *value = r.extents;
        return from_rmap(r.status);
      }
      const map::RmapStatus st = type == MsgType::kFpReplaceMapping ? rmap.replace(id, m.extent)
                                                                    : rmap.insert(id, m.extent);
      *value = st == map::RmapStatus::kOk ? 1 : 0;
      return from_rmap(st);
    }
  }
  return ApiStatus::kInvalid;
}

}  // namespace splitpath::fp
