// The FP's cached Rmap: trie maintenance, the pools carved from table memory,
// and replacement.
//
// Canonical form, kept by every update: a slot (of a root array or of a
// 16-slot array) covering blocks [lo, lo + 2^w) holds
//   - kEmpty when no cached extent overlaps that range,
//   - the extent's leaf when exactly one does,
//   - a 16-slot array covering 2^(w-4) blocks a slot when two or more do.
// So an array exists only where extents meet inside its range, a slot covering
// one block never holds an array (extents do not overlap), and the structure
// is a function of the set of cached extents alone. Insert splits leaves into
// arrays along the paths of the new extent's first and last blocks; removal
// empties the removed extent's slots and collapses, bottom-up along the same
// two paths, every array left with at most one distinct leaf (figure 34's
// pruning of single-hit legs). Slots wholly inside an extent are set or
// cleared directly, so an update costs O(levels x 16) plus the root slots the
// extent spans.
//
// Ranges are handled as inclusive [first, last] so a VSEG may span the whole
// 64-bit LBA space without overflow; a root slot covers at most 2^60 blocks.
#include "fp_firmware/rmap/rmap_cache.h"

#include <new>

namespace splitpath::fp {
namespace {

constexpr uint32_t kNoNode = 0xFFFFFFFF;

constexpr uint64_t range_last(uint64_t lo, uint32_t w) {
  return lo + (w >= 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1);
}

constexpr uintptr_t align_up(uintptr_t p, uintptr_t a) {
  return (p + a - 1) & ~(a - 1);
}

constexpr uint32_t node_ref(uint32_t node) {
  return node << 1;
}
constexpr uint32_t leaf_ref(uint32_t leaf) {
  return (leaf << 1) | 1;
}

// The root array of a VSEG: the narrowest slots (a multiple of 4 bits wide,
// so 16-slot arrays finish at bit 0) of which `slots` cover the VSEG.
constexpr uint32_t root_shift_for(uint64_t length, uint32_t slots) {
  uint32_t shift = 0;
  while (((length - 1) >> shift) >= slots)
    shift += RmapCache::kStride;
  return shift;
}

constexpr bool config_ok(const RmapConfig& c) {
  return c.max_vsegs >= 1 && c.max_vsegs <= RmapCache::kMaxVsegs &&
         c.node_percent <= RmapCache::kMaxNodePercent &&
         (c.root_array_slots == 0 || (c.root_array_slots >= RmapCache::kMinRootArraySlots &&
                                      c.root_array_slots <= RmapCache::kMaxRootArraySlots &&
                                      uint64_t{c.max_vsegs} * c.root_array_slots <= (1u << 30))) &&
         (c.policy == RmapPolicy::kLru || c.policy == RmapPolicy::kRandom ||
          c.policy == RmapPolicy::kSequential);
}

// Sizing for `extents` extents. Arrays: the configured share, plus enough for
// any single insert (two paths of arrays). Root arrays: the configured size,
// or two slots per extent shared by the VSEGs.
struct Sizing {
  uint64_t nodes;
  uint32_t root_slots;  // per VSEG
  uint64_t bytes;       // arrays + root arrays + leaves (with the empty leaf)
};

constexpr uint64_t cache_line(uint64_t bytes) {
  return (bytes + 63) & ~uint64_t{63};
}

constexpr Sizing sizing_for(uint64_t extents, const RmapConfig& c) {
  Sizing s{};
  s.nodes = (extents * c.node_percent + 99) / 100 + 2 * RmapCache::kMaxLevels;
  if (c.root_array_slots != 0) {
    s.root_slots = c.root_array_slots;
  } else {
    const uint64_t slots = extents * 2 / c.max_vsegs;
    s.root_slots = slots < RmapCache::kMinRootArraySlots   ? RmapCache::kMinRootArraySlots
                   : slots > RmapCache::kMaxRootArraySlots ? RmapCache::kMaxRootArraySlots
                                                           : static_cast<uint32_t>(slots);
  }
  s.bytes = s.nodes * RmapCache::kNodeBytes +
            cache_line(uint64_t{c.max_vsegs} * s.root_slots * sizeof(uint32_t)) +
            (extents + 1) * RmapCache::kLeafBytes;
  return s;
}

// The VSEG table and its hash index, each rounded to a cache line.
struct Header {
  uint64_t vseg_bytes;
  uint64_t hash_bytes;
  uint32_t hash_bits;
};

constexpr Header header_for(uint32_t max_vsegs, size_t vseg_size) {
  uint32_t bits = 1;
  while ((1u << bits) < 2 * max_vsegs)
    ++bits;
  return {cache_line(uint64_t{max_vsegs} * vseg_size),
          cache_line((uint64_t{1} << bits) * sizeof(uint16_t)), bits};
}

// Leaf and array indices must fit a slot with its tag bit.
constexpr uint64_t kMaxExtents = 0x3FFFFFFE;

}  // namespace

size_t RmapCache::bytes_for(uint32_t extents, const RmapConfig& config) {
  if (!config_ok(config) || extents > kMaxExtents) return 0;
  const Header h = header_for(config.max_vsegs, sizeof(Vseg));
  const uint64_t bytes = 63 + h.vseg_bytes + h.hash_bytes + sizing_for(extents, config).bytes;
  if (bytes > static_cast<uint64_t>(static_cast<size_t>(-1))) return 0;
  return static_cast<size_t>(bytes);
}

map::RmapStatus RmapCache::init(std::span<std::byte> table_memory, const RmapConfig& config) {
  forget();
  if (!config_ok(config) || table_memory.data() == nullptr) return map::RmapStatus::kInvalid;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(table_memory.data());
  const uintptr_t end = begin + table_memory.size();
  if (end < begin) return map::RmapStatus::kInvalid;
  const Header h = header_for(config.max_vsegs, sizeof(Vseg));
  uintptr_t p = align_up(begin, 64);
  if (p > end || end - p < h.vseg_bytes + h.hash_bytes) return map::RmapStatus::kInvalid;
  const uintptr_t vseg_at = p;
  const uintptr_t hash_at = vseg_at + h.vseg_bytes;
  p = hash_at + h.hash_bytes;

  // The largest extent count whose pools fit the rest (the size is monotonic
  // in the count).
  const uint64_t rest = end - p;
  uint64_t lo = 0;
  uint64_t hi = rest / kLeafBytes < kMaxExtents ? rest / kLeafBytes : kMaxExtents;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    if (sizing_for(mid, config).bytes <= rest) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  if (lo == 0) return map::RmapStatus::kInvalid;
  const Sizing sz = sizing_for(lo, config);

  config_ = config;
  region_ = table_memory.data();
  region_bytes_ = table_memory.size();
  reserved_bytes_ = static_cast<size_t>(p - begin + sz.bytes);

  vsegs_ = reinterpret_cast<Vseg*>(vseg_at);
  for (uint32_t i = 0; i < config.max_vsegs; ++i)
    new (&vsegs_[i]) Vseg{};
  hash_bits_ = h.hash_bits;
  vseg_hash_ = reinterpret_cast<uint16_t*>(hash_at);
  for (uint32_t i = 0; i < (1u << hash_bits_); ++i)
    new (&vseg_hash_[i]) uint16_t{kNoSlot};

  nodes_ = reinterpret_cast<Node*>(p);
  node_capacity_ = static_cast<uint32_t>(sz.nodes);
  p += sz.nodes * kNodeBytes;
  roots_ = reinterpret_cast<uint32_t*>(p);  // slots are written when a VSEG is added
  root_slots_ = sz.root_slots;
  p += cache_line(uint64_t{config.max_vsegs} * root_slots_ * sizeof(uint32_t));
  leaves_ = reinterpret_cast<Leaf*>(p);
  leaf_capacity_ = static_cast<uint32_t>(lo + 1);
  new (&leaves_[0]) Leaf{0, 0, 0, kFreeLeaf, 0, 0, 0};  // the empty range

  use_tracking_ = config.policy == RmapPolicy::kLru ? UseTracking::kLru
                  : config.working_set_window != 0  ? UseTracking::kLastUse
                                                    : UseTracking::kNone;
  rng_ = config.seed;  // splitmix64 state: any seed, 0 included, is fine
  return map::RmapStatus::kOk;
}

void RmapCache::forget() {
  config_ = {};
  region_ = nullptr;
  region_bytes_ = 0;
  reserved_bytes_ = 0;
  vsegs_ = nullptr;
  vseg_hash_ = nullptr;
  hash_bits_ = 0;
  vsegs_loaded_ = 0;
  roots_ = nullptr;
  root_slots_ = 0;
  hint_ = &kNoVseg;
  nodes_ = nullptr;
  node_capacity_ = 0;
  nodes_bumped_ = 0;
  free_node_head_ = kNoNode;
  nodes_in_use_ = 0;
  leaves_ = nullptr;
  leaf_capacity_ = 0;
  leaves_bumped_ = 1;
  free_leaf_head_ = 0;
  leaves_in_use_ = 0;
  list_head_ = 0;
  list_tail_ = 0;
  use_tracking_ = UseTracking::kNone;
  recent_count_ = 0;
  clock_ = 0;
  rng_ = 0;
  stats_ = {};
}

void RmapCache::reset() {
  if (region_ == nullptr) return;
  const RmapConfig config = config_;
  (void)init({region_, region_bytes_}, config);
}

uint64_t RmapCache::next_random() {
  uint64_t z = (rng_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void RmapCache::apply_recent_uses() {
  for (uint32_t i = 0; i < recent_count_; ++i) {
    const uint32_t leaf = recent_[i];
    if (leaf != list_tail_) {
      list_unlink(leaf);
      list_append(leaf);
    }
  }
  recent_count_ = 0;
}

// --- pools -------------------------------------------------------------------

uint32_t RmapCache::alloc_node() {
  uint32_t n;
  if (free_node_head_ != kNoNode) {
    n = free_node_head_;
    free_node_head_ = nodes_[n].slot[0];
  } else {
    n = nodes_bumped_++;  // callers reserved it: nodes_in_use_ < node_capacity_
    new (&nodes_[n]) Node{};
  }
  ++nodes_in_use_;
  return n;
}

void RmapCache::free_node(uint32_t node) {
  nodes_[node].slot[0] = free_node_head_;
  free_node_head_ = node;
  --nodes_in_use_;
}

uint32_t RmapCache::alloc_leaf() {
  uint32_t f;
  if (free_leaf_head_ != 0) {
    f = free_leaf_head_;
    free_leaf_head_ = leaves_[f].next;
  } else {
    f = leaves_bumped_++;  // callers reserved it: leaves_in_use_ + 1 < leaf_capacity_
    new (&leaves_[f]) Leaf{};
  }
  ++leaves_in_use_;
  return f;
}

void RmapCache::free_leaf(uint32_t leaf) {
  Leaf& f = leaves_[leaf];
  f.start = 0;
  f.length = 0;
  f.vseg = kFreeLeaf;
  f.prev = 0;
  f.next = free_leaf_head_;
  free_leaf_head_ = leaf;
  --leaves_in_use_;
}

// --- VSEGs ---------------------------------------------------------------------

map::RmapStatus RmapCache::add_vseg(const map::VsegDescriptor& vseg) {
  if (region_ == nullptr || vseg.length == 0) return map::RmapStatus::kInvalid;
  apply_recent_uses();
  uint32_t s = find_vseg(vseg.id);
  if (s != kNoSlot) {
    Vseg& v = vsegs_[s];
    if (v.desc.length == vseg.length) {
      v.desc = vseg;
      return map::RmapStatus::kOk;
    }
    stats_.removed += drop_range(s, 0, v.desc.length - 1);
  } else {
    if (vsegs_loaded_ == config_.max_vsegs) return map::RmapStatus::kFull;
    s = 0;
    while (vsegs_[s].in_use != 0)
      ++s;
    const uint32_t mask = (1u << hash_bits_) - 1;
    uint32_t h = hash_vseg(vseg.id);
    while (vseg_hash_[h] != kNoSlot)
      h = (h + 1) & mask;
    vseg_hash_[h] = static_cast<uint16_t>(s);
    ++vsegs_loaded_;
  }
  const uint32_t shift = root_shift_for(vseg.length, root_slots_);
  vsegs_[s] = Vseg{vseg, s * root_slots_, shift, 1, 0};
  const uint64_t slots = ((vseg.length - 1) >> shift) + 1;
  for (uint64_t i = 0; i < slots; ++i)
    roots_[vsegs_[s].root + i] = kEmpty;
  return map::RmapStatus::kOk;
}

map::RmapStatus RmapCache::remove_vseg(uint32_t vseg_id) {
  const uint32_t s = find_vseg(vseg_id);
  if (s == kNoSlot) return map::RmapStatus::kMiss;
  apply_recent_uses();
  stats_.removed += drop_range(s, 0, vsegs_[s].desc.length - 1);
  vsegs_[s] = Vseg{};  // length 0: a stale lookup hint no longer matches
  // Linear-probing deletion by backward shift: keep every other id reachable
  // from its home slot without tombstones.
  const uint32_t mask = (1u << hash_bits_) - 1;
  uint32_t hole = hash_vseg(vseg_id);
  while (vseg_hash_[hole] != s)
    hole = (hole + 1) & mask;
  vseg_hash_[hole] = kNoSlot;
  for (uint32_t j = (hole + 1) & mask; vseg_hash_[j] != kNoSlot; j = (j + 1) & mask) {
    const uint32_t home = hash_vseg(vsegs_[vseg_hash_[j]].desc.id);
    // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
    const bool home_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_between) {
      vseg_hash_[hole] = vseg_hash_[j];
      vseg_hash_[j] = kNoSlot;
      hole = j;
    }
  }
  --vsegs_loaded_;
  return map::RmapStatus::kOk;
}

// --- trie ----------------------------------------------------------------------

// The lookup's slow path: the VSEG is not the previous lookup's, is not
// loaded, or the LBA is past its end.
RmapCache::Resolved RmapCache::resolve_vseg(uint32_t vseg_id, uint64_t lba) {
  const uint32_t vi = find_vseg(vseg_id);
  if (vi == kNoSlot) {
    ++stats_.misses;
    return {nullptr, map::RmapStatus::kMiss};
  }
  if (lba >= vsegs_[vi].desc.length) {
    ++stats_.invalid;
    return {nullptr, map::RmapStatus::kInvalid};
  }
  hint_ = &vsegs_[vi];
  return {hint_, map::RmapStatus::kOk};
}

RmapLookup RmapCache::peek(uint32_t vseg_id, uint64_t lba) const {
  const uint32_t vi = find_vseg(vseg_id);
  if (vi == kNoSlot) return {};
  const Vseg& v = vsegs_[vi];
  if (lba >= v.desc.length) return {map::RmapStatus::kInvalid, {}};
  const Leaf& f = leaves_[walk(v, lba)];
  if (lba - f.start >= f.length) return {};
  RmapLookup r{map::RmapStatus::kOk, {}};
  r.extent.start = f.start;
  r.extent.length = f.length;
  r.extent.redirect_index = f.redirect;
  return r;
}

uint32_t RmapCache::find_exact(const Vseg& v, uint64_t start, uint64_t length) const {
  const uint32_t leaf = walk(v, start);
  const Leaf& f = leaves_[leaf];
  return f.length != 0 && f.start == start && f.length == length ? leaf : 0;
}

// The leaf of the lowest-addressed extent overlapping [a, b] under the slot
// `ref` covering [lo, lo + 2^w), or 0.
uint32_t RmapCache::first_overlap(uint32_t ref, uint64_t lo, uint32_t w, uint64_t a,
                                  uint64_t b) const {
  if ((ref & 1) != 0) {
    const Leaf& f = leaves_[ref >> 1];
    if (f.length == 0 || f.start > b || f.start + (f.length - 1) < a) return 0;
    return ref >> 1;
  }
  const Node& n = nodes_[ref >> 1];
  const uint32_t cw = w - kStride;
  const uint64_t hi = range_last(lo, w);
  const uint32_t i0 = static_cast<uint32_t>(((a > lo ? a : lo) - lo) >> cw);
  const uint32_t i1 = static_cast<uint32_t>(((b < hi ? b : hi) - lo) >> cw);
  for (uint32_t i = i0; i <= i1; ++i) {
    const uint32_t found = first_overlap(n.slot[i], lo + (uint64_t{i} << cw), cw, a, b);
    if (found != 0) return found;
  }
  return 0;
}

// The same over a VSEG's root array; [a, b] lies inside the VSEG.
uint32_t RmapCache::first_overlap(const Vseg& v, uint64_t a, uint64_t b) const {
  const uint32_t w = v.root_shift;
  for (uint64_t i = a >> w; i <= b >> w; ++i) {
    const uint32_t found = first_overlap(roots_[v.root + i], i << w, w, a, b);
    if (found != 0) return found;
  }
  return 0;
}

// Arrays an insert of [s, last] would create under the slot `ref` covering
// [lo, lo + 2^w), which [s, last] overlaps but does not cover. Only slots
// partly covered by the new extent can need arrays; those it covers are empty.
uint32_t RmapCache::nodes_needed(uint32_t ref, uint64_t lo, uint32_t w, uint64_t s,
                                 uint64_t last) const {
  if ((ref & 1) != 0) {
    return ref == kEmpty ? 0 : split_nodes(leaves_[ref >> 1], lo, w, s, last);
  }
  const Node& n = nodes_[ref >> 1];
  const uint32_t cw = w - kStride;
  const uint64_t hi = range_last(lo, w);
  const uint32_t i0 = static_cast<uint32_t>(((s > lo ? s : lo) - lo) >> cw);
  const uint32_t i1 = static_cast<uint32_t>(((last < hi ? last : hi) - lo) >> cw);
  uint32_t count = 0;
  for (uint32_t i = i0; i <= i1; ++i) {
    const uint64_t clo = lo + (uint64_t{i} << cw);
    if (clo >= s && range_last(clo, cw) <= last) continue;
    count += nodes_needed(n.slot[i], clo, cw, s, last);
  }
  return count;
}

// Arrays needed below a slot holding leaf `f` once [s, last] (disjoint from f)
// also overlaps it: one here, and more wherever a child still overlaps both.
uint32_t RmapCache::split_nodes(const Leaf& f, uint64_t lo, uint32_t w, uint64_t s,
                                uint64_t last) const {
  const uint32_t cw = w - kStride;
  const uint64_t f_last = f.start + (f.length - 1);
  const uint64_t hi = range_last(lo, w);
  const uint32_t i0 = static_cast<uint32_t>(((s > lo ? s : lo) - lo) >> cw);
  const uint32_t i1 = static_cast<uint32_t>(((last < hi ? last : hi) - lo) >> cw);
  uint32_t count = 1;
  for (uint32_t i = i0; i <= i1; ++i) {
    const uint64_t clo = lo + (uint64_t{i} << cw);
    const uint64_t chi = range_last(clo, cw);
    if (f.start <= chi && f_last >= clo) count += split_nodes(f, clo, cw, s, last);
  }
  return count;
}

// Adds leaf `ref` = [s, last] under `slot` covering [lo, lo + 2^w), which
// [s, last] overlaps but does not cover. The arrays it creates were reserved
// by the caller (nodes_needed).
void RmapCache::trie_insert(uint32_t& slot, uint64_t lo, uint32_t w, uint32_t ref, uint64_t s,
                            uint64_t last) {
  if (slot == kEmpty) {
    slot = ref;
    return;
  }
  const uint32_t cw = w - kStride;  // w >= 4: a one-block slot cannot hold two extents
  if ((slot & 1) != 0) {
    // A second extent in this range: the slot becomes an array whose children
    // hold the old leaf where it reaches.
    const Leaf& f = leaves_[slot >> 1];
    const uint64_t f_last = f.start + (f.length - 1);
    const uint32_t n = alloc_node();
    for (uint32_t i = 0; i < kFanout; ++i) {
      const uint64_t clo = lo + (uint64_t{i} << cw);
      const bool reaches = f.start <= range_last(clo, cw) && f_last >= clo;
      nodes_[n].slot[i] = reaches ? slot : kEmpty;
    }
    slot = node_ref(n);
  }
  Node& node = nodes_[slot >> 1];
  const uint64_t hi = range_last(lo, w);
  const uint32_t i0 = static_cast<uint32_t>(((s > lo ? s : lo) - lo) >> cw);
  const uint32_t i1 = static_cast<uint32_t>(((last < hi ? last : hi) - lo) >> cw);
  for (uint32_t i = i0; i <= i1; ++i) {
    const uint64_t clo = lo + (uint64_t{i} << cw);
    if (clo >= s && range_last(clo, cw) <= last) {
      node.slot[i] = ref;  // wholly inside the new extent, so it was empty
    } else {
      trie_insert(node.slot[i], clo, cw, ref, s, last);
    }
  }
}

// Removes leaf `ref` = [s, last] under `slot` (which it overlaps but does not
// cover) and collapses arrays left with at most one distinct leaf into their
// parent slot.
void RmapCache::trie_remove(uint32_t& slot, uint64_t lo, uint32_t w, uint32_t ref, uint64_t s,
                            uint64_t last) {
  if ((slot & 1) != 0) {
    if (slot == ref) slot = kEmpty;
    return;
  }
  Node& node = nodes_[slot >> 1];
  const uint32_t cw = w - kStride;
  const uint64_t hi = range_last(lo, w);
  const uint32_t i0 = static_cast<uint32_t>(((s > lo ? s : lo) - lo) >> cw);
  const uint32_t i1 = static_cast<uint32_t>(((last < hi ? last : hi) - lo) >> cw);
  for (uint32_t i = i0; i <= i1; ++i) {
    const uint64_t clo = lo + (uint64_t{i} << cw);
    if (clo >= s && range_last(clo, cw) <= last) {
      node.slot[i] = kEmpty;
    } else {
      trie_remove(node.slot[i], clo, cw, ref, s, last);
    }
  }
  uint32_t only = kEmpty;
  for (uint32_t i = 0; i < kFanout; ++i) {
    const uint32_t r = node.slot[i];
    if ((r & 1) == 0) return;  // a child array: two or more extents remain
    if (r != kEmpty) {
      if (only == kEmpty) {
        only = r;
      } else if (only != r) {
        return;
      }
    }
  }
  free_node(slot >> 1);
  slot = only;
}

void RmapCache::drop_leaf(uint32_t leaf) {
  Leaf& f = leaves_[leaf];
  const Vseg& v = vsegs_[f.vseg];
  const uint32_t w = v.root_shift;
  const uint64_t s = f.start;
  const uint64_t last = f.start + (f.length - 1);
  for (uint64_t i = s >> w; i <= last >> w; ++i) {
    const uint64_t lo = i << w;
    uint32_t& slot = roots_[v.root + i];
    if (lo >= s && range_last(lo, w) <= last) {
      slot = kEmpty;
    } else {
      trie_remove(slot, lo, w, leaf_ref(leaf), s, last);
    }
  }
  list_unlink(leaf);
  free_leaf(leaf);
}

uint32_t RmapCache::drop_range(uint32_t vseg_slot, uint64_t first, uint64_t last) {
  const Vseg& v = vsegs_[vseg_slot];
  uint32_t dropped = 0;
  for (;;) {
    const uint32_t leaf = first_overlap(v, first, last);
    if (leaf == 0) break;
    const uint64_t f_last = leaves_[leaf].start + (leaves_[leaf].length - 1);
    drop_leaf(leaf);
    ++dropped;
    if (f_last >= last) break;
    first = f_last + 1;
  }
  return dropped;
}

// --- updates -------------------------------------------------------------------

map::RmapStatus RmapCache::insert(uint32_t vseg_id, const map::Extent& extent) {
  const uint32_t vi = find_vseg(vseg_id);
  if (vi == kNoSlot) return map::RmapStatus::kInvalid;
  const uint64_t vlen = vsegs_[vi].desc.length;
  if (extent.length == 0 || extent.start >= vlen || extent.length > vlen - extent.start) {
    return map::RmapStatus::kInvalid;
  }
  apply_recent_uses();
  const uint64_t s = extent.start;
  const uint64_t last = s + (extent.length - 1);
  stats_.replaced += drop_range(vi, s, last);

  const Vseg& v = vsegs_[vi];
  const uint32_t w = v.root_shift;
  for (;;) {
    uint32_t need = 0;
    for (uint64_t i = s >> w; i <= last >> w; ++i) {
      const uint64_t lo = i << w;
      if (lo < s || range_last(lo, w) > last)
        need += nodes_needed(roots_[v.root + i], lo, w, s, last);
    }
    if (node_capacity_ - nodes_in_use_ >= need && leaves_in_use_ + 1 < leaf_capacity_) break;
    if (!evict_one()) {
      ++stats_.rejected;
      return map::RmapStatus::kFull;
    }
  }
  const uint32_t leaf = alloc_leaf();
  Leaf& f = leaves_[leaf];
  f.start = s;
  f.length = extent.length;
  f.redirect = extent.redirect_index;
  f.vseg = static_cast<uint16_t>(vi);
  f.last_use = static_cast<uint32_t>(clock_);  // loaded now: part of the working set
  list_append(leaf);
  for (uint64_t i = s >> w; i <= last >> w; ++i) {
    const uint64_t lo = i << w;
    uint32_t& slot = roots_[v.root + i];
    if (lo >= s && range_last(lo, w) <= last) {
      slot = leaf_ref(leaf);  // wholly inside the new extent, so it was empty
    } else {
      trie_insert(slot, lo, w, leaf_ref(leaf), s, last);
    }
  }
  ++stats_.inserts;
  return map::RmapStatus::kOk;
}

map::RmapStatus RmapCache::replace(uint32_t vseg_id, const map::Extent& extent) {
  const uint32_t vi = find_vseg(vseg_id);
  if (vi == kNoSlot) return map::RmapStatus::kInvalid;
  if (extent.length != 0 && extent.start < vsegs_[vi].desc.length) {
    const uint32_t leaf = find_exact(vsegs_[vi], extent.start, extent.length);
    if (leaf != 0) {
      leaves_[leaf].redirect = extent.redirect_index;
      return map::RmapStatus::kOk;
    }
  }
  return insert(vseg_id, extent);
}

RmapRemoval RmapCache::remove(uint32_t vseg_id, uint64_t start, uint64_t length) {
  const uint32_t vi = find_vseg(vseg_id);
  if (vi == kNoSlot || length == 0) return {map::RmapStatus::kInvalid, 0};
  apply_recent_uses();
  const uint64_t vlen = vsegs_[vi].desc.length;
  if (start >= vlen) return {map::RmapStatus::kOk, 0};
  const uint64_t last = length - 1 > vlen - 1 - start ? vlen - 1 : start + (length - 1);
  const uint32_t n = drop_range(vi, start, last);
  stats_.removed += n;
  return {map::RmapStatus::kOk, n};
}

// --- replacement ---------------------------------------------------------------

// A cached extent that may be displaced now, or 0 if every one is inside the
// working-set window (or none is cached).
uint32_t RmapCache::choose_victim() {
  if (leaves_in_use_ == 0) return 0;
  switch (config_.policy) {
    case RmapPolicy::kLru:
      // The list head is the least recently used; if it is in the window, so
      // is everything else.
      return is_protected(leaves_[list_head_]) ? 0 : list_head_;
    case RmapPolicy::kSequential:
      // Load order; an extent inside the window gets a second chance at the
      // back of the queue, like a clock hand passing a referenced page.
      for (uint32_t tries = leaves_in_use_; tries > 0; --tries) {
        const uint32_t h = list_head_;
        if (!is_protected(leaves_[h])) return h;
        list_unlink(h);
        list_append(h);
      }
      return 0;
    case RmapPolicy::kRandom: {
      const uint32_t span = leaves_bumped_ - 1;  // leaves 1 .. leaves_bumped_ - 1
      const uint32_t first = static_cast<uint32_t>(next_random() % span);
      for (uint32_t k = 0; k < span; ++k) {
        const uint32_t f = 1 + (first + k) % span;
        if (leaves_[f].vseg != kFreeLeaf && !is_protected(leaves_[f])) return f;
      }
      return 0;
    }
  }
  return 0;
}

bool RmapCache::evict_one() {
  const uint32_t victim = choose_victim();
  if (victim == 0) return false;
  drop_leaf(victim);
  ++stats_.evictions;
  return true;
}

uint32_t RmapCache::trim_working_set() {
  if (config_.working_set_window == 0) return 0;
  apply_recent_uses();
  uint32_t n = 0;
  for (uint32_t f = list_head_; f != 0;) {
    const uint32_t next = leaves_[f].next;
    if (!is_protected(leaves_[f])) {
      drop_leaf(f);
      ++n;
    } else if (config_.policy == RmapPolicy::kLru) {
      break;  // LRU order: the rest are more recent
    }
    f = next;
  }
  stats_.trimmed += n;
  return n;
}

uint32_t RmapCache::working_set_size() const {
  if (config_.working_set_window == 0) return leaves_in_use_;
  uint32_t n = 0;
  for (uint32_t f = list_head_; f != 0; f = leaves_[f].next)
    n += is_protected(leaves_[f]) ? 1 : 0;
  return n;
}

RmapStats RmapCache::stats() const {
  RmapStats s = stats_;
  s.lookups = clock_;
  s.hits = clock_ - s.misses - s.invalid;
  s.extents = leaves_in_use_;
  s.capacity_extents = capacity_extents();
  s.nodes = nodes_in_use_;
  s.node_capacity = node_capacity_;
  if (region_ != nullptr) {
    const Header h = header_for(config_.max_vsegs, sizeof(Vseg));
    uint64_t root_slots = 0;
    for (uint32_t i = 0; i < config_.max_vsegs; ++i) {
      const Vseg& v = vsegs_[i];
      if (v.in_use != 0) root_slots += ((v.desc.length - 1) >> v.root_shift) + 1;
    }
    s.bytes_used = h.vseg_bytes + h.hash_bytes + root_slots * sizeof(uint32_t) +
                   uint64_t{nodes_in_use_} * kNodeBytes +
                   (uint64_t{leaves_in_use_} + 1) * kLeafBytes;
  }
  s.bytes_reserved = reserved_bytes_;
  return s;
}

}  // namespace splitpath::fp
