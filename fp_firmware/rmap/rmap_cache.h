// The FP's cached Rmap (figure 34): for each loaded VSEG, the subset of its
// variable-length extents that this FP currently holds, as a compressed trie.
//
// The trie is the multi-level page table of figure 34: successive portions of
// the LBA (the key) index cascaded arrays until a leaf is reached; the leaves
// are the ranges (the extents: start, length, redirect index). The first
// portion indexes the VSEG's root array (up to root_array_slots slots, sized
// from table memory), every further 4 bits an array of 16 slots (one 64-byte
// cache line). A slot whose block range overlaps a single extent points
// straight to that extent's leaf (the "dashed arrows"), and a leg that leads to
// a single leaf is collapsed into its parent's pointer, so an array exists only
// where two or more extents meet; a lookup ends with the range check
// start <= LBA <= start + length - 1 at the leaf. A slot overlapping no extent
// is empty (a miss).
//
// Bounded by HAL table memory: everything lives in one caller-provided region
// (root arrays, and arrays and leaves from fixed pools carved from it); the
// capacity follows from its size. When the pools run out, an insert evicts
// extents chosen by the replacement policy (claims 105-106: LRU, random or
// sequential) among those outside the working-set window; if every cached
// extent is inside the window the insert returns kFull and the mapping stays
// uncached, which is always safe: a miss only faults the I/O to the CP.
//
// Calling context: one FP thread; nothing blocks, allocates, throws or calls
// the OS. Only the CP changes mappings (insert/replace/remove arrive as FP API
// messages); lookup runs per I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "splitpath/map/rmap_types.h"

namespace splitpath::fp {

// Which cached extent to displace when an insert needs room (claims 105-106).
enum class RmapPolicy : uint8_t {
  kLru,         // the least recently looked-up (or inserted) extent
  kRandom,      // a pseudo-random one, from RmapConfig::seed (deterministic)
  kSequential,  // in load order, first in first out (clock-like: see working_set_window)
};

struct RmapConfig {
  RmapPolicy policy = RmapPolicy::kLru;
  uint64_t seed = 1;  // kRandom only
  // The working-set window, in lookups (claims 106, 97): an extent looked up
  // (or loaded) within the last `working_set_window` lookups is in the working
  // set and is never evicted to make room; trim_working_set() drops the
  // others. 0 = no window: every extent may be replaced. Last uses are kept
  // modulo 2^32 lookups, so an extent idle for a multiple of that may pass
  // for recent during one window (it is only kept longer, never wrong).
  uint32_t working_set_window = 0;
  uint32_t max_vsegs = 16;      // VSEGs loaded at once; 1 .. 65534
  uint32_t node_percent = 100;  // trie arrays provisioned per 100 extents; 0 .. 1600
  // Root array slots each VSEG may use (16 .. 2^28); 0 = automatic: two
  // slots per extent of capacity, shared by max_vsegs. A VSEG's root array
  // indexes its top key bits, as many as fit (all but a multiple of 4), so a
  // bigger one replaces the top levels of 16-slot arrays with one indexed
  // step: in a densely fragmented map, slots of 16 blocks leave at most one
  // array between the root and a leaf, and cost no more than the arrays they
  // replace. 4 bytes a slot, reserved whether used or not.
  uint32_t root_array_slots = 0;
};

struct RmapStats {
  uint64_t lookups = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;     // includes lookups on a VSEG that is not loaded
  uint64_t invalid = 0;    // lookups beyond the VSEG's length
  uint64_t inserts = 0;    // extents cached by insert/replace
  uint64_t replaced = 0;   // cached extents dropped because an insert overlapped them
  uint64_t removed = 0;    // cached extents dropped by remove/remove_vseg
  uint64_t evictions = 0;  // extents displaced to make room
  uint64_t trimmed = 0;    // extents dropped by trim_working_set
  uint64_t rejected = 0;   // inserts answered kFull
  uint32_t extents = 0;    // cached now
  uint32_t capacity_extents = 0;
  uint32_t nodes = 0;  // trie arrays in use
  uint32_t node_capacity = 0;
  uint64_t bytes_used = 0;      // tables, root slots of loaded VSEGs, arrays, leaves in use now
  uint64_t bytes_reserved = 0;  // of the region, carved for the pools
};

struct RmapLookup {
  map::RmapStatus status = map::RmapStatus::kMiss;
  map::Extent extent;  // valid when status == kOk
};

struct RmapRemoval {
  map::RmapStatus status = map::RmapStatus::kOk;
  uint32_t extents = 0;  // cached extents invalidated
};

class RmapCache {
 public:
  static constexpr uint32_t kStride = 4;  // key bits per trie level
  static constexpr uint32_t kFanout = 1u << kStride;
  static constexpr uint32_t kMaxLevels = 64 / kStride;
  static constexpr size_t kNodeBytes = 64;
  static constexpr size_t kLeafBytes = 32;
  static constexpr uint32_t kMaxVsegs = 65534;
  static constexpr uint32_t kMaxNodePercent = 1600;
  static constexpr uint32_t kMinRootArraySlots = kFanout;
  static constexpr uint32_t kMaxRootArraySlots = 1u << 28;

  // Region bytes needed to hold `extents` extents with `config` (for a HAL
  // that sizes table memory). 0 if the config is invalid.
  static size_t bytes_for(uint32_t extents, const RmapConfig& config);

  RmapCache() = default;
  RmapCache(const RmapCache&) = delete;
  RmapCache& operator=(const RmapCache&) = delete;

  // Takes `table_memory` (owned by the caller, which keeps it alive and
  // untouched while this cache uses it) and sizes every table from it.
  // kInvalid: config out of range or the region too small for one extent.
  // May be called again to start over with another region or config.
  map::RmapStatus init(std::span<std::byte> table_memory, const RmapConfig& config);

  // Drops every extent and VSEG; keeps the region and config; zeroes stats.
  void reset();

  // Loads a VSEG with an empty Rmap. Re-adding a loaded id with the same
  // length updates the descriptor and keeps its extents; a different length
  // drops them. kFull: max_vsegs loaded. kInvalid: length 0.
  map::RmapStatus add_vseg(const map::VsegDescriptor& vseg);
  // Unloads a VSEG and drops its extents. kMiss if it is not loaded.
  map::RmapStatus remove_vseg(uint32_t vseg_id);

  // The cached extent of `vseg_id` containing `lba`. kMiss: not cached (or the
  // VSEG is not loaded); kInvalid: lba >= the VSEG's length. Counts in stats
  // and marks the extent used (LRU order, working set).
  RmapLookup lookup(uint32_t vseg_id, uint64_t lba);
  // The same without touching stats or recency (diagnostics, tests).
  RmapLookup peek(uint32_t vseg_id, uint64_t lba) const;

  // FPAddMapping: caches `extent` (any order). Cached extents it overlaps are
  // dropped first (never split: the CP sends whole extents). Evicts per the
  // policy when out of room. kFull: no room and nothing evictable (the
  // overlapped extents are still dropped). kInvalid: VSEG not loaded, length 0
  // or the extent reaches past the VSEG.
  map::RmapStatus insert(uint32_t vseg_id, const map::Extent& extent);
  // FPReplaceMapping: an extent with the same start and length gets the new
  // redirect index in place (needs no room, keeps its recency); otherwise as
  // insert.
  map::RmapStatus replace(uint32_t vseg_id, const map::Extent& extent);
  // FPRemoveMapping: drops every cached extent overlapping
  // [start, start + length). kInvalid: VSEG not loaded or an empty range.
  RmapRemoval remove(uint32_t vseg_id, uint64_t start, uint64_t length);

  // Drops every extent outside the working-set window (not looked up or
  // loaded within the last working_set_window lookups): the window shrinks
  // to the working set. Returns how many; 0 when there is no window. Walks the
  // cache, so call it off the I/O path (e.g. every window's worth of lookups).
  uint32_t trim_working_set();
  // Extents inside the working-set window now (all cached ones without a
  // window). Walks the cache.
  uint32_t working_set_size() const;

  RmapStats stats() const;
  const RmapConfig& config() const { return config_; }
  uint32_t capacity_extents() const { return leaf_capacity_ == 0 ? 0 : leaf_capacity_ - 1; }
  uint32_t root_array_slots() const { return root_slots_; }

 private:
  // A trie array: 16 slots, one cache line. Slot encoding: odd = leaf
  // (index << 1 | 1), even = array (index << 1). Leaf 0 is a permanent empty
  // range, so an empty slot is just a reference to it (kEmpty) and a lookup
  // needs no special case for it.
  struct alignas(64) Node {
    uint32_t slot[kFanout];
  };
  // A range of figure 34 (an extent) plus its replacement bookkeeping. 32
  // bytes, two per cache line, never straddling one.
  struct Leaf {
    uint64_t start;
    uint64_t length;  // 0 for the empty leaf and for free leaves
    map::RedirectIndex redirect;
    uint16_t vseg;      // owning VSEG slot; kFreeLeaf when free
    uint32_t last_use;  // low 32 bits of the lookup clock at the last use
    uint32_t prev;      // replacement list (LRU or load order); 0 = none
    uint32_t next;      // ... also the free list link
  };
  // A loaded VSEG. Its root array starts at roots_[root], slot i covering
  // blocks [i << root_shift, (i + 1) << root_shift); root_shift is a multiple
  // of 4 so the 16-slot arrays below end at bit 0. A free entry has length 0,
  // so no lookup matches it.
  struct Vseg {
    map::VsegDescriptor desc;
    uint32_t root;        // index of its first root slot in roots_
    uint32_t root_shift;  // 0 .. 60
    uint32_t in_use;
    uint32_t reserved;
  };
  static constexpr Vseg kNoVseg{};

  static constexpr uint32_t kEmpty = 1;  // reference to leaf 0
  static constexpr uint16_t kFreeLeaf = 0xFFFF;
  static constexpr uint16_t kNoSlot = 0xFFFF;

  static_assert(sizeof(Node) == kNodeBytes);
  static_assert(sizeof(Leaf) == kLeafBytes);

  void forget();
  uint32_t walk(const Vseg& v, uint64_t lba) const;
  struct Resolved {
    const Vseg* vseg;  // nullptr: `status` says why
    map::RmapStatus status;
  };
  Resolved resolve_vseg(uint32_t vseg_id, uint64_t lba);
  uint32_t find_vseg(uint32_t id) const;
  uint32_t hash_vseg(uint32_t id) const { return (id * 0x9E3779B1u) >> (32 - hash_bits_); }
  bool is_protected(const Leaf& leaf) const;
  void touch(uint32_t leaf, uint64_t now);
  void apply_recent_uses();

  uint32_t find_exact(const Vseg& v, uint64_t start, uint64_t length) const;
  uint32_t first_overlap(uint32_t ref, uint64_t lo, uint32_t w, uint64_t a, uint64_t b) const;
  uint32_t first_overlap(const Vseg& v, uint64_t a, uint64_t b) const;
  uint32_t nodes_needed(uint32_t ref, uint64_t lo, uint32_t w, uint64_t s, uint64_t last) const;
  uint32_t split_nodes(const Leaf& f, uint64_t lo, uint32_t w, uint64_t s, uint64_t last) const;
  void trie_insert(uint32_t& slot, uint64_t lo, uint32_t w, uint32_t ref, uint64_t s,
                   uint64_t last);
  void trie_remove(uint32_t& slot, uint64_t lo, uint32_t w, uint32_t ref, uint64_t s,
                   uint64_t last);
  void drop_leaf(uint32_t leaf);
  uint32_t drop_range(uint32_t vseg_slot, uint64_t first, uint64_t last);
  bool evict_one();
  uint32_t choose_victim();

  uint32_t alloc_node();
  void free_node(uint32_t node);
  uint32_t alloc_leaf();
  void free_leaf(uint32_t leaf);
  void list_append(uint32_t leaf);
  void list_unlink(uint32_t leaf);
  uint64_t next_random();

  RmapConfig config_;
  std::byte* region_ = nullptr;
  size_t region_bytes_ = 0;
  size_t reserved_bytes_ = 0;

  Vseg* vsegs_ = nullptr;
  uint16_t* vseg_hash_ = nullptr;  // open addressing, linear probing, kNoSlot = empty
  uint32_t hash_bits_ = 0;
  uint32_t vsegs_loaded_ = 0;
  uint32_t* roots_ = nullptr;  // max_vsegs root arrays of root_slots_ slots
  uint32_t root_slots_ = 0;
  const Vseg* hint_ = &kNoVseg;  // the VSEG of the last lookup

  Node* nodes_ = nullptr;
  uint32_t node_capacity_ = 0;
  uint32_t nodes_bumped_ = 0;  // arrays ever handed out; the rest of the pool is untouched
  uint32_t free_node_head_ = 0xFFFFFFFF;
  uint32_t nodes_in_use_ = 0;

  Leaf* leaves_ = nullptr;
  uint32_t leaf_capacity_ = 0;  // including the empty leaf 0
  uint32_t leaves_bumped_ = 1;
  uint32_t free_leaf_head_ = 0;
  uint32_t leaves_in_use_ = 0;  // excluding leaf 0

  uint32_t list_head_ = 0;  // least recently used / first loaded
  uint32_t list_tail_ = 0;
  // What a lookup hit records: nothing, the extent's last use (working set),
  // or that too plus its LRU position. Moving an extent to the LRU tail
  // writes its two list neighbours, two random cache lines; hits are logged
  // in recent_ instead and replayed in order (apply_recent_uses) before the
  // log fills and before anything reads or changes the list, which yields
  // exactly the order of moving each at once.
  enum class UseTracking : uint8_t { kNone, kLastUse, kLru };
  static constexpr uint32_t kRecentUses = 32;
  UseTracking use_tracking_ = UseTracking::kNone;
  uint32_t recent_count_ = 0;
  uint32_t recent_[kRecentUses] = {};
  uint64_t clock_ = 0;  // lookups so far (stats, and the working set's time)
  uint64_t rng_ = 0;
  RmapStats stats_;  // lookups and hits are derived in stats()
};

// The hot path is inline: the previous lookup's VSEG (or a hash probe), the
// root array, one 16-slot array per level below it where extents meet, the
// range check at the leaf.
inline uint32_t RmapCache::find_vseg(uint32_t id) const {
  if (hash_bits_ == 0) return kNoSlot;
  const uint32_t mask = (1u << hash_bits_) - 1;
  for (uint32_t h = hash_vseg(id);; h = (h + 1) & mask) {
    const uint16_t s = vseg_hash_[h];
    if (s == kNoSlot || vsegs_[s].desc.id == id) return s;
  }
}

inline bool RmapCache::is_protected(const Leaf& leaf) const {
  return config_.working_set_window != 0 &&
         static_cast<uint32_t>(static_cast<uint32_t>(clock_) - leaf.last_use) <
             config_.working_set_window;
}

inline void RmapCache::touch(uint32_t leaf, uint64_t now) {
  if (use_tracking_ == UseTracking::kNone) return;
  leaves_[leaf].last_use = static_cast<uint32_t>(now);
  if (use_tracking_ == UseTracking::kLru) {
    recent_[recent_count_++] = leaf;
    if (recent_count_ == kRecentUses) apply_recent_uses();
  }
}

inline void RmapCache::list_unlink(uint32_t leaf) {
  Leaf& f = leaves_[leaf];
  if (f.prev != 0) {
    leaves_[f.prev].next = f.next;
  } else {
    list_head_ = f.next;
  }
  if (f.next != 0) {
    leaves_[f.next].prev = f.prev;
  } else {
    list_tail_ = f.prev;
  }
  f.prev = 0;
  f.next = 0;
}

inline void RmapCache::list_append(uint32_t leaf) {
  Leaf& f = leaves_[leaf];
  f.prev = list_tail_;
  f.next = 0;
  if (list_tail_ != 0) {
    leaves_[list_tail_].next = leaf;
  } else {
    list_head_ = leaf;
  }
  list_tail_ = leaf;
}

// The root array slot, then one 16-slot array per 4 key bits until a leaf.
// Invariant: a slot covering a single block never holds an array, so the
// walk reaches a leaf before the shift runs out.
inline uint32_t RmapCache::walk(const Vseg& v, uint64_t lba) const {
  uint32_t ref = roots_[v.root + (lba >> v.root_shift)];
  uint32_t shift = v.root_shift;
  while ((ref & 1) == 0) {
    shift -= kStride;
    ref = nodes_[ref >> 1].slot[(lba >> shift) & (kFanout - 1)];
  }
  return ref >> 1;
}

inline RmapLookup RmapCache::lookup(uint32_t vseg_id, uint64_t lba) {
  const uint64_t now = ++clock_;
  const Vseg* v = hint_;
  if (v->desc.id != vseg_id || lba >= v->desc.length) {
    const Resolved r = resolve_vseg(vseg_id, lba);  // another VSEG, a miss or an invalid LBA
    if (r.vseg == nullptr) return {r.status, {}};
    v = r.vseg;
  }
  const uint32_t li = walk(*v, lba);
  const Leaf& f = leaves_[li];
  if (lba - f.start >= f.length) {  // also catches lba < start and the empty leaf
    ++stats_.misses;
    return {};
  }
  RmapLookup r{map::RmapStatus::kOk, {}};
  r.extent.start = f.start;
  r.extent.length = f.length;
  r.extent.redirect_index = f.redirect;
  touch(li, now);
  return r;
}

}  // namespace splitpath::fp
