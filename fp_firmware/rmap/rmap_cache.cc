// The FP's cached Rmap: trie maintenance, the pools carved from table memory,
// and replacement.
//
// Canonical form, kept by every update: a slot covering blocks [lo, lo + 2^w)
// holds
//   - kEmpty when no cached extent overlaps that range,
//   - the extent's leaf when exactly one does,
//   - an array of 16 slots covering 2^(w-4) blocks each when two or more do.
// So an array exists only where extents meet inside its range, a slot covering
// one block never holds an array (extents do not overlap), and the structure
// is a function of the set of cached extents alone. Insert splits leaves into
// arrays along the paths of the new extent's first and last blocks; removal
// empties the removed extent's slots and collapses, bottom-up along the same
// two paths, every array left with at most one distinct leaf (figure 34's
// pruning of single-hit legs). The slots strictly inside an extent are set or
// cleared in bulk, so both cost O(levels x 16).
//
// Ranges are handled as inclusive [first, last] so a VSEG may span the whole
// 64-bit LBA space without overflow. A root slot covers 2^(top_shift + 4)
// blocks, at most 2^64; array slots cover at most 2^60.
#include "fp_firmware/rmap/rmap_cache.h"

#include <new>

namespace splitpath::fp {
namespace {

constexpr uint32_t kNoNode = 0xFFFFFFFF;

constexpr uint64_t range_last(uint64_t lo, uint32_t w) {
  return lo + (w >= 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1);
}

constexpr uintptr_t align_up(uintptr_t p, uintptr_t a) { return (p + a - 1) & ~(a - 1); }

constexpr uint32_t node_ref(uint32_t node) { return node << 1; }
constexpr uint32_t leaf_ref(uint32_t leaf) { return (leaf << 1) | 1; }

// Key bits of a VSEG rounded up to whole levels, at least one level.
constexpr uint32_t top_shift_for(uint64_t length) {
  uint32_t bits = 0;
  for (uint64_t v = length - 1; v != 0; v >>= 1) ++bits;
  const uint32_t levels = bits == 0 ? 1 : (bits + RmapCache::kStride - 1) / RmapCache::kStride;
  return (levels - 1) * RmapCache::kStride;
}

// Fixed-size part of the region: VSEG table and its hash index, each rounded
// to a cache line.
struct Layout {
  size_t vseg_bytes;
  size_t hash_bytes;
  uint32_t hash_bits;
};

constexpr Layout layout_for(uint32_t max_vsegs, size_t vseg_size) {
  uint32_t bits = 1;
  while ((1u << bits) < 2 * max_vsegs) ++bits;
  Layout l{};
  l.vseg_bytes = align_up(max_vsegs * vseg_size, 64);
  l.hash_bytes = align_up((size_t{1} << bits) * sizeof(uint16_t), 64);
  l.hash_bits = bits;
  return l;
}

constexpr bool config_ok(const RmapConfig& c) {
  return c.max_vsegs >= 1 && c.max_vsegs <= RmapCache::kMaxVsegs &&
         c.node_percent <= RmapCache::kMaxNodePercent &&
         (c.policy == RmapPolicy::kLru || c.policy == RmapPolicy::kRandom ||
          c.policy == RmapPolicy::kSequential);
}

constexpr uint64_t nodes_for(uint64_t extents, uint32_t percent) {
  return (extents * percent + 99) / 100 + 2 * RmapCache::kMaxLevels;
}

}  // namespace

size_t RmapCache::bytes_for(uint32_t extents, const RmapConfig& config) {
  if (!config_ok(config)) return 0;
  const Layout l = layout_for(config.max_vsegs, sizeof(Vseg));
  const uint64_t bytes = 63 + l.vseg_bytes + l.hash_bytes +
                         nodes_for(extents, config.node_percent) * kNodeBytes +
                         (uint64_t{extents} + 1) * kLeafBytes;
  if (bytes > static_cast<uint64_t>(static_cast<size_t>(-1))) return 0;
  return static_cast<size_t>(bytes);
}

map::RmapStatus RmapCache::init(std::span<std::byte> table_memory, const RmapConfig& config) {
  forget();
  if (!config_ok(config) || table_memory.data() == nullptr) return map::RmapStatus::kInvalid;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(table_memory.data());
  const uintptr_t end = begin + table_memory.size();
  if (end < begin) return map::RmapStatus::kInvalid;
  const Layout l = layout_for(config.max_vsegs, sizeof(Vseg));
  uintptr_t p = align_up(begin, 64);
  if (p > end || end - p < l.vseg_bytes + l.hash_bytes) return map::RmapStatus::kInvalid;
  const uintptr_t vseg_at = p;
  const uintptr_t hash_at = vseg_at + l.vseg_bytes;
  p = hash_at + l.hash_bytes;

  // Split the rest between arrays and leaves: the largest extent count E with
  // nodes_for(E) arrays and E + 1 leaves fitting.
  const uint64_t rest = end - p;
  const uint64_t fixed = 2 * kMaxLevels * kNodeBytes + kLeafBytes;
  if (rest < fixed + kLeafBytes) return map::RmapStatus::kInvalid;
  const uint64_t per_extent_x100 = 100 * kLeafBytes + uint64_t{config.node_percent} * kNodeBytes;
  uint64_t extents = (rest - fixed) * 100 / per_extent_x100;
  if (extents > 0x3FFFFFFE) extents = 0x3FFFFFFE;  // leaf and node indices fit a slot
  auto need = [&](uint64_t e) {
    return nodes_for(e, config.node_percent) * kNodeBytes + (e + 1) * kLeafBytes;
  };
  while (extents > 0 && need(extents) > rest) --extents;
  if (extents == 0) return map::RmapStatus::kInvalid;
  const uint64_t nodes = nodes_for(extents, config.node_percent);

  config_ = config;
  region_ = table_memory.data();
  region_bytes_ = table_memory.size();
  reserved_bytes_ = static_cast<size_t>(p - begin + need(extents));

  vsegs_ = reinterpret_cast<Vseg*>(vseg_at);
  for (uint32_t i = 0; i < config.max_vsegs; ++i) {
    new (&vsegs_[i]) Vseg{{}, kEmpty, 0, 0, 0};
  }
  hash_bits_ = l.hash_bits;
  vseg_hash_ = reinterpret_cast<uint16_t*>(hash_at);
  for (uint32_t i = 0; i < (1u << hash_bits_); ++i) new (&vseg_hash_[i]) uint16_t{kNoSlot};

  nodes_ = reinterpret_cast<Node*>(p);
  node_capacity_ = static_cast<uint32_t>(nodes);
  nodes_bumped_ = 0;
  free_node_head_ = kNoNode;
  leaves_ = reinterpret_cast<Leaf*>(p + nodes * kNodeBytes);
  leaf_capacity_ = static_cast<uint32_t>(extents + 1);
  new (&leaves_[0]) Leaf{0, 0, 0, kFreeLeaf, 0, 0, 0};  // the empty range
  leaves_bumped_ = 1;
  free_leaf_head_ = 0;

  track_use_ = config.policy == RmapPolicy::kLru || config.working_set_window != 0;
  // splitmix64 state; any seed (even 0) gives a full-period sequence.
  rng_ = config.seed;
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
  track_use_ = false;
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
  const uint32_t found = find_vseg(vseg.id);
  if (found != kNoSlot) {
    Vseg& v = vsegs_[found];
    if (v.desc.length != vseg.length) {
      stats_.removed += drop_range(found, 0, v.desc.length - 1);
      v.top_shift = top_shift_for(vseg.length);
    }
    v.desc = vseg;
    return map::RmapStatus::kOk;
  }
  if (vsegs_loaded_ == config_.max_vsegs) return map::RmapStatus::kFull;
  uint32_t s = 0;
  while (vsegs_[s].in_use != 0) ++s;
  vsegs_[s] = Vseg{vseg, kEmpty, top_shift_for(vseg.length), 0, 1};
  const uint32_t mask = (1u << hash_bits_) - 1;
  uint32_t h = hash_vseg(vseg.id);
  while (vseg_hash_[h] != kNoSlot) h = (h + 1) & mask;
  vseg_hash_[h] = static_cast<uint16_t>(s);
  ++vsegs_loaded_;
  return map::RmapStatus::kOk;
}

map::RmapStatus RmapCache::remove_vseg(uint32_t vseg_id) {
  const uint32_t s = find_vseg(vseg_id);
  if (s == kNoSlot) return map::RmapStatus::kMiss;
  stats_.removed += drop_range(s, 0, vsegs_[s].desc.length - 1);
  vsegs_[s].in_use = 0;
  // Linear-probing deletion by backward shift: keep every other id reachable
  // from its home slot without tombstones.
  const uint32_t mask = (1u << hash_bits_) - 1;
  uint32_t hole = hash_vseg(vseg_id);
  while (vseg_hash_[hole] != s) hole = (hole + 1) & mask;
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

RmapLookup RmapCache::peek(uint32_t vseg_id, uint64_t lba) const {
  const uint32_t vi = find_vseg(vseg_id);
  if (vi == kNoSlot) return {};
  const Vseg& v = vsegs_[vi];
  if (lba >= v.desc.length) return {map::RmapStatus::kInvalid, {}};
  uint32_t ref = v.root;
  uint32_t shift = v.top_shift;
  while ((ref & 1) == 0) {
    ref = nodes_[ref >> 1].slot[(lba >> shift) & (kFanout - 1)];
    shift -= kStride;
  }
  const Leaf& f = leaves_[ref >> 1];
  if (lba - f.start >= f.length) return {};
  RmapLookup r{map::RmapStatus::kOk, {}};
  r.extent.start = f.start;
  r.extent.length = f.length;
  r.extent.redirect_index = f.redirect;
  return r;
}

uint32_t RmapCache::find_exact(const Vseg& v, uint64_t start, uint64_t length) const {
  uint32_t ref = v.root;
  uint32_t shift = v.top_shift;
  while ((ref & 1) == 0) {
    ref = nodes_[ref >> 1].slot[(start >> shift) & (kFanout - 1)];
    shift -= kStride;
  }
  const Leaf& f = leaves_[ref >> 1];
  return f.length != 0 && f.start == start && f.length == length ? ref >> 1 : 0;
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

// Arrays an insert of [s, last] would create under the slot `ref` covering
// [lo, lo + 2^w), which [s, last] overlaps. Only slots partly covered by the
// new extent can need arrays; those fully covered are empty.
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

// Adds leaf `ref` = [s, last] under `slot` covering [lo, lo + 2^w). The
// arrays it creates were reserved by the caller (nodes_needed).
void RmapCache::trie_insert(uint32_t& slot, uint64_t lo, uint32_t w, uint32_t ref, uint64_t s,
                            uint64_t last) {
  const uint32_t cw = w - kStride;
  if ((slot & 1) != 0) {
    if (slot == kEmpty) {
      slot = ref;
      return;
    }
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

// Removes leaf `ref` = [s, last] under `slot` and collapses arrays left with
// at most one distinct leaf into their parent slot.
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
  Vseg& v = vsegs_[f.vseg];
  trie_remove(v.root, 0, v.top_shift + kStride, leaf_ref(leaf), f.start, f.start + (f.length - 1));
  --v.extents;
  list_unlink(leaf);
  free_leaf(leaf);
}

uint32_t RmapCache::drop_range(uint32_t vseg_slot, uint64_t first, uint64_t last) {
  Vseg& v = vsegs_[vseg_slot];
  const uint32_t w = v.top_shift + kStride;
  uint32_t dropped = 0;
  for (;;) {
    const uint32_t leaf = first_overlap(v.root, 0, w, first, last);
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
  const uint64_t s = extent.start;
  const uint64_t last = s + (extent.length - 1);
  stats_.replaced += drop_range(vi, s, last);

  const uint32_t w = vsegs_[vi].top_shift + kStride;
  for (;;) {
    const uint32_t need = nodes_needed(vsegs_[vi].root, 0, w, s, last);
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
  Vseg& v = vsegs_[vi];
  trie_insert(v.root, 0, w, leaf_ref(leaf), s, last);
  ++v.extents;
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
  for (uint32_t f = list_head_; f != 0; f = leaves_[f].next) n += is_protected(leaves_[f]) ? 1 : 0;
  return n;
}

RmapStats RmapCache::stats() const {
  RmapStats s = stats_;
  s.extents = leaves_in_use_;
  s.capacity_extents = leaf_capacity_ == 0 ? 0 : leaf_capacity_ - 1;
  s.nodes = nodes_in_use_;
  s.node_capacity = node_capacity_;
  if (region_ != nullptr) {
    const Layout l = layout_for(config_.max_vsegs, sizeof(Vseg));
    s.bytes_used = l.vseg_bytes + l.hash_bytes + uint64_t{nodes_in_use_} * kNodeBytes +
                   (uint64_t{leaves_in_use_} + 1) * kLeafBytes;
  }
  s.bytes_reserved = reserved_bytes_;
  return s;
}

}  // namespace splitpath::fp
