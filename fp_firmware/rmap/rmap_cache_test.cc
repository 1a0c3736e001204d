// Tests of the FP's cached Rmap (figure 34): lookups at extent boundaries,
// updates as the FP API delivers them, replacement policies and the
// working-set window under bounded table memory, and confinement to the
// caller's region.
#include "fp_firmware/rmap/rmap_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "tests/support/alloc_counter.h"

namespace splitpath::fp {
namespace {

using map::Extent;
using map::RmapStatus;
using map::VsegDescriptor;

constexpr uint32_t kVseg = 7;

Extent ext(uint64_t start, uint64_t length, map::RedirectIndex redirect) {
  Extent e;
  e.start = start;
  e.length = length;
  e.redirect_index = redirect;
  return e;
}

VsegDescriptor vseg(uint32_t id, uint64_t length) {
  VsegDescriptor v;
  v.id = id;
  v.virtual_start_lba = 1000;
  v.length = length;
  return v;
}

// A region with a canary after it, and the cache living inside it.
class Region {
 public:
  static constexpr size_t kCanary = 256;
  static constexpr std::byte kPattern{0xA5};

  explicit Region(size_t bytes, size_t misalign = 0)
      : storage_(bytes + misalign + kCanary, kPattern), misalign_(misalign), bytes_(bytes) {}
  std::span<std::byte> span() { return {storage_.data() + misalign_, bytes_}; }
  bool canaries_intact() const {
    for (size_t i = 0; i < misalign_; ++i) {
      if (storage_[i] != kPattern) return false;
    }
    for (size_t i = misalign_ + bytes_; i < storage_.size(); ++i) {
      if (storage_[i] != kPattern) return false;
    }
    return true;
  }

 private:
  std::vector<std::byte> storage_;
  size_t misalign_;
  size_t bytes_;
};

// A cache over its own region, with one VSEG loaded.
struct Fixture {
  explicit Fixture(uint32_t extents, RmapConfig config = {}, uint64_t vseg_length = 1u << 30)
      : region(RmapCache::bytes_for(extents, config)) {
    EXPECT_EQ(cache.init(region.span(), config), RmapStatus::kOk);
    EXPECT_EQ(cache.add_vseg(vseg(kVseg, vseg_length)), RmapStatus::kOk);
  }
  Region region;
  RmapCache cache;
};

void expect_hit(RmapCache& c, uint64_t lba, const Extent& want, uint32_t id = kVseg) {
  const RmapLookup r = c.lookup(id, lba);
  ASSERT_EQ(r.status, RmapStatus::kOk) << "lba " << lba;
  EXPECT_EQ(r.extent, want) << "lba " << lba;
}

void expect_miss(RmapCache& c, uint64_t lba, uint32_t id = kVseg) {
  EXPECT_EQ(c.lookup(id, lba).status, RmapStatus::kMiss) << "lba " << lba;
}

bool cached(const RmapCache& c, uint64_t lba, uint32_t id = kVseg) {
  return c.peek(id, lba).status == RmapStatus::kOk;
}

TEST(RmapCacheTest, LookupAtEveryBoundary) {
  Fixture f(64);
  const Extent e = ext(100, 50, 7);
  ASSERT_EQ(f.cache.insert(kVseg, e), RmapStatus::kOk);
  expect_miss(f.cache, 0);
  expect_miss(f.cache, 99);
  expect_hit(f.cache, 100, e);  // first block
  expect_hit(f.cache, 125, e);
  expect_hit(f.cache, 149, e);  // last block
  expect_miss(f.cache, 150);    // one past
  expect_miss(f.cache, (1u << 30) - 1);
  EXPECT_EQ(f.cache.lookup(kVseg, 1u << 30).status, RmapStatus::kInvalid);  // past the VSEG
}

TEST(RmapCacheTest, SingleExtentCoversTheWholeVseg) {
  // Figure 19: a VSEG is loaded with an Rmap of a single extent.
  Fixture f(8, {}, 1000);
  const Extent e = ext(0, 1000, 0);
  ASSERT_EQ(f.cache.insert(kVseg, e), RmapStatus::kOk);
  expect_hit(f.cache, 0, e);
  expect_hit(f.cache, 999, e);
  EXPECT_EQ(f.cache.lookup(kVseg, 1000).status, RmapStatus::kInvalid);
  EXPECT_EQ(f.cache.stats().nodes, 0u);  // the root slot points at the leaf directly
}

TEST(RmapCacheTest, Figure34Ranges) {
  // The ranges of figure 34 in an 8-bit key space: the trie has arrays only
  // where ranges meet, and every other key inside a range reaches its leaf.
  RmapConfig config;
  config.root_array_slots = 16;  // the root array indexes the top 4 key bits
  Fixture f(8, config, 256);
  const Extent a = ext(0x11, 2, 1);     // 0x11..0x12, value A
  const Extent b = ext(0x14, 4, 2);     // 0x14..0x17
  const Extent c = ext(0x30, 0x50, 3);  // 0x30..0x7f: "0011" and "01" prefixes
  for (const Extent& e : {a, b, c})
    ASSERT_EQ(f.cache.insert(kVseg, e), RmapStatus::kOk);
  expect_miss(f.cache, 0x10);
  expect_hit(f.cache, 0x11, a);
  expect_hit(f.cache, 0x12, a);
  expect_miss(f.cache, 0x13);
  expect_hit(f.cache, 0x14, b);
  expect_hit(f.cache, 0x17, b);
  expect_miss(f.cache, 0x18);
  expect_miss(f.cache, 0x2F);
  expect_hit(f.cache, 0x30, c);
  expect_hit(f.cache, 0x7F, c);
  expect_miss(f.cache, 0x80);
  // One 16-slot array, for root slot 0x10..0x1f where a and b meet; c fills
  // root slots 0x30..0x7f directly.
  EXPECT_EQ(f.cache.stats().nodes, 1u);
}

TEST(RmapCacheTest, AdjacentAndGappedExtents) {
  Fixture f(64);
  const Extent a = ext(0, 13, 0);   // blocks 0..12 -> redirect 0 (the specification's example)
  const Extent b = ext(13, 5, 1);   // 13..17 -> 1
  const Extent c = ext(18, 2, 0);   // 18..19 -> 0
  const Extent d = ext(40, 24, 2);  // gap 20..39
  for (const Extent& e : {d, b, a, c})
    ASSERT_EQ(f.cache.insert(kVseg, e), RmapStatus::kOk);
  for (uint64_t lba = 0; lba < 13; ++lba)
    expect_hit(f.cache, lba, a);
  for (uint64_t lba = 13; lba < 18; ++lba)
    expect_hit(f.cache, lba, b);
  expect_hit(f.cache, 18, c);
  expect_hit(f.cache, 19, c);
  for (uint64_t lba = 20; lba < 40; ++lba)
    expect_miss(f.cache, lba);
  expect_hit(f.cache, 40, d);
  expect_hit(f.cache, 63, d);
  expect_miss(f.cache, 64);
}

TEST(RmapCacheTest, OverlappingInsertReplacesWholeExtents) {
  Fixture f(64);
  ASSERT_EQ(f.cache.insert(kVseg, ext(0, 100, 1)), RmapStatus::kOk);
  ASSERT_EQ(f.cache.insert(kVseg, ext(100, 100, 2)), RmapStatus::kOk);
  ASSERT_EQ(f.cache.insert(kVseg, ext(300, 10, 3)), RmapStatus::kOk);
  // Overlaps the tail of the first and the head of the second: both go whole,
  // the CP refills them on their next miss.
  const Extent n = ext(90, 20, 9);
  ASSERT_EQ(f.cache.insert(kVseg, n), RmapStatus::kOk);
  expect_miss(f.cache, 0);
  expect_miss(f.cache, 89);
  expect_hit(f.cache, 90, n);
  expect_hit(f.cache, 109, n);
  expect_miss(f.cache, 110);
  expect_miss(f.cache, 199);
  expect_hit(f.cache, 300, ext(300, 10, 3));
  EXPECT_EQ(f.cache.stats().replaced, 2u);
  EXPECT_EQ(f.cache.stats().extents, 2u);
  // Same range, new value.
  const Extent m = ext(90, 20, 4);
  ASSERT_EQ(f.cache.insert(kVseg, m), RmapStatus::kOk);
  expect_hit(f.cache, 95, m);
  EXPECT_EQ(f.cache.stats().extents, 2u);
}

TEST(RmapCacheTest, ReplaceUpdatesInPlaceOrInserts) {
  Fixture f(64);
  ASSERT_EQ(f.cache.insert(kVseg, ext(10, 10, 1)), RmapStatus::kOk);
  ASSERT_EQ(f.cache.insert(kVseg, ext(20, 10, 1)), RmapStatus::kOk);
  const uint32_t nodes = f.cache.stats().nodes;
  ASSERT_EQ(f.cache.replace(kVseg, ext(10, 10, 5)), RmapStatus::kOk);
  expect_hit(f.cache, 15, ext(10, 10, 5));
  expect_hit(f.cache, 25, ext(20, 10, 1));
  EXPECT_EQ(f.cache.stats().nodes, nodes);
  EXPECT_EQ(f.cache.stats().inserts, 2u);
  // Different bounds: behaves as an insert.
  ASSERT_EQ(f.cache.replace(kVseg, ext(15, 10, 6)), RmapStatus::kOk);
  expect_miss(f.cache, 10);
  expect_hit(f.cache, 15, ext(15, 10, 6));
  expect_miss(f.cache, 25);
}

TEST(RmapCacheTest, RemoveInvalidatesEverythingOverlapped) {
  Fixture f(64);
  for (uint64_t i = 0; i < 10; ++i) {
    ASSERT_EQ(f.cache.insert(kVseg, ext(i * 10, 10, static_cast<uint16_t>(i))), RmapStatus::kOk);
  }
  // Blocks 25..44 touch extents 2, 3 and 4: all three go whole, nothing split.
  const RmapRemoval r = f.cache.remove(kVseg, 25, 20);
  EXPECT_EQ(r.status, RmapStatus::kOk);
  EXPECT_EQ(r.extents, 3u);
  expect_hit(f.cache, 19, ext(10, 10, 1));
  for (uint64_t lba = 20; lba < 50; ++lba)
    expect_miss(f.cache, lba);
  expect_hit(f.cache, 50, ext(50, 10, 5));
  // A range over a gap removes nothing; past the VSEG is clipped.
  EXPECT_EQ(f.cache.remove(kVseg, 20, 30).extents, 0u);
  EXPECT_EQ(f.cache.remove(kVseg, 95, std::numeric_limits<uint64_t>::max()).extents, 1u);
  EXPECT_EQ(f.cache.remove(kVseg, 0, 0).status, RmapStatus::kInvalid);
  EXPECT_EQ(f.cache.remove(99, 0, 10).status, RmapStatus::kInvalid);
  EXPECT_EQ(f.cache.stats().removed, 4u);
  // Removing an extent collapses the arrays its neighbours no longer share.
  RmapConfig small_root;
  small_root.root_array_slots = 16;
  Fixture g(64, small_root, 1u << 20);
  ASSERT_EQ(g.cache.insert(kVseg, ext(1000, 7, 1)), RmapStatus::kOk);
  EXPECT_EQ(g.cache.stats().nodes, 0u);
  ASSERT_EQ(g.cache.insert(kVseg, ext(1007, 9, 2)), RmapStatus::kOk);
  EXPECT_GT(g.cache.stats().nodes, 0u);
  EXPECT_EQ(g.cache.remove(kVseg, 1010, 1).extents, 1u);
  EXPECT_EQ(g.cache.stats().nodes, 0u);
  expect_hit(g.cache, 1006, ext(1000, 7, 1));
  expect_miss(g.cache, 1007);
  // Removing everything collapses the trie completely.
  EXPECT_EQ(f.cache.remove(kVseg, 0, 1u << 30).extents, 6u);
  EXPECT_EQ(f.cache.stats().extents, 0u);
  EXPECT_EQ(f.cache.stats().nodes, 0u);
}

TEST(RmapCacheTest, RejectsInvalidArguments) {
  Fixture f(16, {}, 100);
  EXPECT_EQ(f.cache.insert(kVseg, ext(0, 0, 0)), RmapStatus::kInvalid);
  EXPECT_EQ(f.cache.insert(kVseg, ext(100, 1, 0)), RmapStatus::kInvalid);
  EXPECT_EQ(f.cache.insert(kVseg, ext(99, 2, 0)), RmapStatus::kInvalid);
  EXPECT_EQ(f.cache.insert(kVseg, ext(1, std::numeric_limits<uint64_t>::max(), 0)),
            RmapStatus::kInvalid);
  EXPECT_EQ(f.cache.insert(kVseg + 1, ext(0, 1, 0)), RmapStatus::kInvalid);
  EXPECT_EQ(f.cache.insert(kVseg, ext(99, 1, 0)), RmapStatus::kOk);
  EXPECT_EQ(f.cache.add_vseg(vseg(3, 0)), RmapStatus::kInvalid);

  RmapCache c;
  std::byte small[256];
  EXPECT_EQ(c.init(small, {}), RmapStatus::kInvalid);
  RmapConfig bad;
  bad.max_vsegs = 0;
  EXPECT_EQ(RmapCache::bytes_for(10, bad), 0u);
  EXPECT_EQ(c.init(f.region.span(), bad), RmapStatus::kInvalid);
  EXPECT_EQ(c.lookup(1, 0).status, RmapStatus::kMiss);  // never initialised: everything misses
}

TEST(RmapCacheTest, SeveralVsegs) {
  RmapConfig config;
  config.max_vsegs = 4;
  Region region(RmapCache::bytes_for(64, config));
  RmapCache c;
  ASSERT_EQ(c.init(region.span(), config), RmapStatus::kOk);
  for (uint32_t id : {10u, 20u, 30u, 40u})
    ASSERT_EQ(c.add_vseg(vseg(id, 1000)), RmapStatus::kOk);
  EXPECT_EQ(c.add_vseg(vseg(50, 1000)), RmapStatus::kFull);
  for (uint32_t id : {10u, 20u, 30u, 40u}) {
    ASSERT_EQ(c.insert(id, ext(id, 5, static_cast<uint16_t>(id))), RmapStatus::kOk);
  }
  for (uint32_t id : {10u, 20u, 30u, 40u}) {
    expect_hit(c, id, ext(id, 5, static_cast<uint16_t>(id)), id);
    expect_miss(c, id + 5, id);
  }
  expect_miss(c, 10, 50);  // not loaded: a miss the CP answers by loading the VSEG
  EXPECT_EQ(c.remove_vseg(20), RmapStatus::kOk);
  EXPECT_EQ(c.remove_vseg(20), RmapStatus::kMiss);
  expect_miss(c, 20, 20);
  for (uint32_t id : {10u, 30u, 40u})
    expect_hit(c, id, ext(id, 5, static_cast<uint16_t>(id)), id);
  EXPECT_EQ(c.stats().extents, 3u);
  ASSERT_EQ(c.add_vseg(vseg(50, 1000)), RmapStatus::kOk);
  // Re-adding with the same length keeps the extents; a new length drops them.
  ASSERT_EQ(c.add_vseg(vseg(30, 1000)), RmapStatus::kOk);
  expect_hit(c, 30, ext(30, 5, 30), 30);
  ASSERT_EQ(c.add_vseg(vseg(30, 1u << 20)), RmapStatus::kOk);
  expect_miss(c, 30, 30);
  ASSERT_EQ(c.insert(30, ext((1u << 20) - 1, 1, 1)), RmapStatus::kOk);
  expect_hit(c, (1u << 20) - 1, ext((1u << 20) - 1, 1, 1), 30);
}

TEST(RmapCacheTest, LookupAfterItsVsegWentAway) {
  // The lookup remembers the last VSEG it used; removing or replacing that
  // VSEG must not leave a stale path.
  RmapConfig config;
  config.max_vsegs = 2;
  Region region(RmapCache::bytes_for(32, config));
  RmapCache c;
  ASSERT_EQ(c.init(region.span(), config), RmapStatus::kOk);
  ASSERT_EQ(c.add_vseg(vseg(1, 100)), RmapStatus::kOk);
  ASSERT_EQ(c.insert(1, ext(0, 100, 1)), RmapStatus::kOk);
  expect_hit(c, 50, ext(0, 100, 1), 1);
  ASSERT_EQ(c.remove_vseg(1), RmapStatus::kOk);
  expect_miss(c, 50, 1);
  ASSERT_EQ(c.add_vseg(vseg(2, 100)), RmapStatus::kOk);  // reuses the slot
  expect_miss(c, 50, 1);
  expect_miss(c, 50, 2);
  ASSERT_EQ(c.insert(2, ext(40, 20, 2)), RmapStatus::kOk);
  expect_hit(c, 50, ext(40, 20, 2), 2);
  expect_miss(c, 50, 1);
  // Same id, new length: a new Rmap behind the same slot.
  ASSERT_EQ(c.add_vseg(vseg(2, 1u << 30)), RmapStatus::kOk);
  expect_miss(c, 50, 2);
  ASSERT_EQ(c.insert(2, ext(1u << 29, 1, 3)), RmapStatus::kOk);
  expect_hit(c, 1u << 29, ext(1u << 29, 1, 3), 2);
  EXPECT_EQ(c.lookup(2, 1u << 30).status, RmapStatus::kInvalid);
}

TEST(RmapCacheTest, RootArraySizing) {
  RmapConfig config;
  config.max_vsegs = 4;
  Region region(RmapCache::bytes_for(1000, config));
  RmapCache c;
  ASSERT_EQ(c.init(region.span(), config), RmapStatus::kOk);
  EXPECT_EQ(c.root_array_slots(), 2 * c.capacity_extents() / 4);  // automatic
  config.root_array_slots = 16;
  Region small(RmapCache::bytes_for(1000, config));
  ASSERT_EQ(c.init(small.span(), config), RmapStatus::kOk);
  EXPECT_EQ(c.root_array_slots(), 16u);
  EXPECT_LT(small.span().size(), region.span().size());
  config.root_array_slots = 15;
  EXPECT_EQ(RmapCache::bytes_for(1000, config), 0u);
  EXPECT_EQ(c.init(small.span(), config), RmapStatus::kInvalid);
}

TEST(RmapCacheTest, VsegHashSurvivesChurn) {
  // Many ids colliding in a small hash index, added and removed in a mixed
  // order: every loaded one stays reachable.
  RmapConfig config;
  config.max_vsegs = 32;
  Region region(RmapCache::bytes_for(16, config));
  RmapCache c;
  ASSERT_EQ(c.init(region.span(), config), RmapStatus::kOk);
  std::mt19937 rng(5);
  std::map<uint32_t, bool> loaded;
  for (int step = 0; step < 2000; ++step) {
    const uint32_t id = rng() % 64;
    if (loaded.count(id) != 0 && rng() % 2 == 0) {
      ASSERT_EQ(c.remove_vseg(id), RmapStatus::kOk);
      loaded.erase(id);
    } else if (loaded.count(id) == 0 && loaded.size() < 32) {
      ASSERT_EQ(c.add_vseg(vseg(id, 100 + id)), RmapStatus::kOk);
      loaded[id] = true;
    }
    for (uint32_t probe = 0; probe < 64; ++probe) {
      const RmapStatus want = loaded.count(probe) != 0 ? RmapStatus::kInvalid : RmapStatus::kMiss;
      ASSERT_EQ(c.peek(probe, 100000).status, want) << "step " << step << " id " << probe;
    }
  }
}

TEST(RmapCacheTest, WholeSixtyFourBitVseg) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  Fixture f(64, {}, max);
  const Extent top = ext(max - 10, 10, 1);  // up to the last block of the VSEG
  const Extent low = ext(0, 1, 2);
  const Extent mid = ext(uint64_t{1} << 63, uint64_t{1} << 62, 3);
  for (const Extent& e : {top, low, mid})
    ASSERT_EQ(f.cache.insert(kVseg, e), RmapStatus::kOk);
  expect_hit(f.cache, max - 10, top);
  expect_hit(f.cache, max - 1, top);
  EXPECT_EQ(f.cache.lookup(kVseg, max).status, RmapStatus::kInvalid);
  expect_miss(f.cache, max - 11);
  expect_hit(f.cache, 0, low);
  expect_miss(f.cache, 1);
  expect_hit(f.cache, uint64_t{1} << 63, mid);
  expect_hit(f.cache, (uint64_t{1} << 63) + (uint64_t{1} << 62) - 1, mid);
  expect_miss(f.cache, (uint64_t{1} << 63) + (uint64_t{1} << 62));
  EXPECT_EQ(f.cache.remove(kVseg, 0, max).extents, 3u);
  EXPECT_EQ(f.cache.stats().nodes, 0u);
}

// Random updates and lookups against a std::map model of the same semantics
// (overlapping inserts drop whole extents, removals drop whole extents).
class Model {
 public:
  void insert(const Extent& e) {
    drop(e.start, e.end() - 1);
    extents_[e.start] = e;
  }
  uint32_t drop(uint64_t first, uint64_t last) {
    uint32_t n = 0;
    auto it = extents_.upper_bound(last);
    while (it != extents_.begin()) {
      --it;
      if (it->second.end() - 1 < first) break;
      it = extents_.erase(it);
      ++n;
    }
    return n;
  }
  const Extent* find(uint64_t lba) const {
    auto it = extents_.upper_bound(lba);
    if (it == extents_.begin()) return nullptr;
    --it;
    return it->second.contains(lba) ? &it->second : nullptr;
  }
  void erase(uint64_t start) { extents_.erase(start); }
  size_t size() const { return extents_.size(); }
  const std::map<uint64_t, Extent>& extents() const { return extents_; }

 private:
  std::map<uint64_t, Extent> extents_;
};

void run_random_model(uint64_t seed, uint64_t vseg_length, uint64_t max_len,
                      uint32_t root_array_slots, size_t min_peak) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " vseg_length " << vseg_length
                                    << " root_array_slots " << root_array_slots);
  RmapConfig config;
  config.root_array_slots = root_array_slots;
  Fixture f(16000, config, vseg_length);
  size_t most = 0;
  Model model;
  std::mt19937_64 rng(seed);
  auto rand_below = [&](uint64_t n) { return rng() % n; };
  for (int step = 0; step < 20000; ++step) {
    const uint64_t op = rand_below(10);
    if (op < 6) {
      const uint64_t len = 1 + rand_below(max_len);
      const uint64_t start = rand_below(vseg_length - len + 1);
      const Extent e = ext(start, len, static_cast<uint16_t>(rand_below(16)));
      ASSERT_EQ(f.cache.insert(kVseg, e), RmapStatus::kOk) << "step " << step;
      model.insert(e);
    } else if (op < 7) {
      const uint64_t len = 1 + rand_below(max_len * 3);
      const uint64_t start = rand_below(vseg_length);
      const uint32_t want =
          model.drop(start, start + len - 1 < vseg_length - 1 ? start + len - 1 : vseg_length - 1);
      ASSERT_EQ(f.cache.remove(kVseg, start, len).extents, want) << "step " << step;
    } else {
      for (int k = 0; k < 8; ++k) {
        const uint64_t lba = rand_below(vseg_length);
        const Extent* want = model.find(lba);
        const RmapLookup got = f.cache.lookup(kVseg, lba);
        if (want == nullptr) {
          ASSERT_EQ(got.status, RmapStatus::kMiss) << "step " << step << " lba " << lba;
        } else {
          ASSERT_EQ(got.status, RmapStatus::kOk) << "step " << step << " lba " << lba;
          ASSERT_EQ(got.extent, *want) << "step " << step << " lba " << lba;
          // And at its boundaries.
          ASSERT_EQ(f.cache.peek(kVseg, want->start).extent, *want);
          ASSERT_EQ(f.cache.peek(kVseg, want->end() - 1).extent, *want);
        }
      }
    }
    ASSERT_EQ(f.cache.stats().extents, model.size()) << "step " << step;
    most = model.size() > most ? model.size() : most;
    if (step % 2500 == 0) {
      // Canonical form: the trie depends only on the set of extents, so a
      // cache built afresh from the model has exactly as many arrays.
      Fixture fresh(16000, config, vseg_length);
      for (const auto& [start, e] : model.extents())
        ASSERT_EQ(fresh.cache.insert(kVseg, e), RmapStatus::kOk);
      ASSERT_EQ(f.cache.stats().nodes, fresh.cache.stats().nodes) << "step " << step;
    }
  }
  EXPECT_GE(most, min_peak);  // the map did fill up
  EXPECT_EQ(f.cache.stats().evictions, 0u);
  f.cache.remove(kVseg, 0, vseg_length);
  EXPECT_EQ(f.cache.stats().nodes, 0u);  // canonical form: nothing left behind
  EXPECT_TRUE(f.region.canaries_intact());
}

TEST(RmapCacheTest, RandomAgainstModelDense) {
  for (uint32_t slots : {0u, 16u, 300u, 65536u})
    run_random_model(0x5EED0001, 20000, 64, slots, 250);
}
TEST(RmapCacheTest, RandomAgainstModelSparse) {
  for (uint32_t slots : {0u, 16u, 5000u})
    run_random_model(0x5EED0002, 1ull << 40, 1 << 20, slots, 5000);
}
TEST(RmapCacheTest, RandomAgainstModelSmallExtents) {
  for (uint32_t slots : {0u, 16u, 4096u})
    run_random_model(0x5EED0003, 3000, 4, slots, 500);
}
TEST(RmapCacheTest, RandomAgainstModelLongExtents) {
  // Extents spanning many root slots and arrays.
  for (uint32_t slots : {0u, 16u, 256u})
    run_random_model(0x5EED0004, 1u << 24, 1u << 18, slots, 50);
}

// A cache too small for the map: inserts evict, evicted extents miss, and a
// hit always returns the extent last inserted there.
void run_bounded(RmapPolicy policy, uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << "policy " << static_cast<int>(policy) << " seed " << seed);
  RmapConfig config;
  config.policy = policy;
  config.seed = seed;
  config.node_percent = 50;  // arrays run out too, not only leaves
  Region region(RmapCache::bytes_for(200, config));
  RmapCache c;
  ASSERT_EQ(c.init(region.span(), config), RmapStatus::kOk);
  ASSERT_EQ(c.add_vseg(vseg(kVseg, 100000)), RmapStatus::kOk);
  Model truth;  // the CP's map: everything ever inserted
  std::mt19937_64 rng(seed);
  uint64_t hits = 0;
  for (int step = 0; step < 20000; ++step) {
    if (rng() % 2 == 0) {
      const uint64_t len = 1 + rng() % 40;
      const uint64_t start = rng() % (100000 - len);
      const Extent e = ext(start, len, static_cast<uint16_t>(rng()));
      ASSERT_EQ(c.insert(kVseg, e), RmapStatus::kOk);
      truth.insert(e);
    } else {
      const uint64_t lba = rng() % 100000;
      const RmapLookup got = c.lookup(kVseg, lba);
      const Extent* want = truth.find(lba);
      if (got.status == RmapStatus::kOk) {
        ASSERT_NE(want, nullptr) << "lba " << lba;
        ASSERT_EQ(got.extent, *want) << "lba " << lba;
        ++hits;
      } else {
        ASSERT_EQ(got.status, RmapStatus::kMiss);
      }
    }
    ASSERT_LE(c.stats().extents, c.capacity_extents());
  }
  const RmapStats s = c.stats();
  EXPECT_GT(s.evictions, 1000u);
  EXPECT_GT(hits, 0u);
  EXPECT_LE(s.nodes, s.node_capacity);
  EXPECT_LE(s.bytes_used, s.bytes_reserved);
  EXPECT_LE(s.bytes_reserved, region.span().size());
  EXPECT_TRUE(region.canaries_intact());
}

TEST(RmapCacheTest, BoundedLruNeverReturnsWrongData) {
  run_bounded(RmapPolicy::kLru, 11);
}
TEST(RmapCacheTest, BoundedRandomNeverReturnsWrongData) {
  run_bounded(RmapPolicy::kRandom, 12);
}
TEST(RmapCacheTest, BoundedSequentialNeverReturnsWrongData) {
  run_bounded(RmapPolicy::kSequential, 13);
}

// Room for exactly four extents far apart (no arrays beyond the few shared
// ones), so the victim each policy picks is visible.
struct Small {
  explicit Small(RmapConfig config) : region(RmapCache::bytes_for(4, config)) {
    EXPECT_EQ(cache.init(region.span(), config), RmapStatus::kOk);
    EXPECT_EQ(cache.capacity_extents(), 4u);
    EXPECT_EQ(cache.add_vseg(vseg(kVseg, 1u << 20)), RmapStatus::kOk);
  }
  RmapStatus load(int i) {
    return cache.insert(kVseg, ext(i * 1000ull, 10, static_cast<uint16_t>(i)));
  }
  bool has(int i) const { return cached(cache, i * 1000ull); }
  Region region;
  RmapCache cache;
};

TEST(RmapCacheTest, LruEvictsTheLeastRecentlyLookedUp) {
  RmapConfig config;
  config.policy = RmapPolicy::kLru;
  Small s(config);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(s.load(i), RmapStatus::kOk);
  ASSERT_EQ(s.cache.lookup(kVseg, 0).status, RmapStatus::kOk);     // 0 becomes recent
  ASSERT_EQ(s.cache.lookup(kVseg, 2005).status, RmapStatus::kOk);  // then 2
  ASSERT_EQ(s.load(4), RmapStatus::kOk);                           // evicts 1
  EXPECT_TRUE(s.has(0));
  EXPECT_FALSE(s.has(1));
  EXPECT_TRUE(s.has(2));
  EXPECT_TRUE(s.has(3));
  ASSERT_EQ(s.load(5), RmapStatus::kOk);  // evicts 3
  EXPECT_FALSE(s.has(3));
  ASSERT_EQ(s.load(6), RmapStatus::kOk);  // evicts 0
  EXPECT_FALSE(s.has(0));
  EXPECT_TRUE(s.has(2));
  EXPECT_EQ(s.cache.stats().evictions, 3u);
  expect_miss(s.cache, 1000);  // evicted: a miss, never stale data
}

TEST(RmapCacheTest, LruOrderSurvivesManyLookups) {
  // Hits are logged and replayed in batches; the order must still be exact
  // across batch boundaries and with repeats.
  RmapConfig config;
  config.policy = RmapPolicy::kLru;
  Small s(config);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(s.load(i), RmapStatus::kOk);
  const int order[] = {3, 1, 3, 3, 0, 2, 1, 0};  // last uses: 3, 2, 1, 0 (least recent first)
  for (int round = 0; round < 25; ++round) {
    for (int i : order)
      ASSERT_EQ(s.cache.lookup(kVseg, i * 1000ull).status, RmapStatus::kOk);
  }
  ASSERT_EQ(s.load(4), RmapStatus::kOk);
  EXPECT_FALSE(s.has(3));
  ASSERT_EQ(s.load(5), RmapStatus::kOk);
  EXPECT_FALSE(s.has(2));
  ASSERT_EQ(s.cache.lookup(kVseg, 1000).status, RmapStatus::kOk);  // 1 becomes most recent
  ASSERT_EQ(s.load(6), RmapStatus::kOk);
  EXPECT_FALSE(s.has(0));
  EXPECT_TRUE(s.has(1));
  ASSERT_EQ(s.load(7), RmapStatus::kOk);
  EXPECT_FALSE(s.has(4));
  EXPECT_TRUE(s.has(1));
}

TEST(RmapCacheTest, SequentialEvictsInInsertionOrder) {
  RmapConfig config;
  config.policy = RmapPolicy::kSequential;
  Small s(config);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(s.load(i), RmapStatus::kOk);
  for (int k = 0; k < 3; ++k)
    ASSERT_EQ(s.cache.lookup(kVseg, 0).status, RmapStatus::kOk);
  for (int i = 4; i < 8; ++i) {
    ASSERT_EQ(s.load(i), RmapStatus::kOk);
    EXPECT_FALSE(s.has(i - 4)) << i;  // lookups do not matter: load order does
    EXPECT_TRUE(s.has(i - 3)) << i;
  }
}

TEST(RmapCacheTest, RandomIsDeterministicForASeed) {
  auto survivors = [](uint64_t seed) {
    RmapConfig config;
    config.policy = RmapPolicy::kRandom;
    config.seed = seed;
    Small s(config);
    std::vector<int> out;
    for (int i = 0; i < 40; ++i)
      EXPECT_EQ(s.load(i), RmapStatus::kOk);
    for (int i = 0; i < 40; ++i) {
      if (s.has(i)) out.push_back(i);
    }
    EXPECT_EQ(out.size(), 4u);
    EXPECT_EQ(s.cache.stats().evictions, 36u);
    return out;
  };
  EXPECT_EQ(survivors(1), survivors(1));
  EXPECT_EQ(survivors(77), survivors(77));
  // Not LRU/FIFO in disguise: some seed keeps something other than the last four.
  bool differs = false;
  for (uint64_t seed = 1; seed <= 8; ++seed)
    differs |= survivors(seed) != std::vector<int>{36, 37, 38, 39};
  EXPECT_TRUE(differs);
}

TEST(RmapCacheTest, WorkingSetWindowProtectsRecentExtents) {
  RmapConfig config;
  config.policy = RmapPolicy::kSequential;
  config.working_set_window = 10;  // lookups
  Small s(config);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(s.load(i), RmapStatus::kOk);
  // All four were loaded within the window: nothing may be displaced.
  EXPECT_EQ(s.load(4), RmapStatus::kFull);
  EXPECT_FALSE(s.has(4));
  EXPECT_EQ(s.cache.stats().rejected, 1u);
  EXPECT_EQ(s.cache.working_set_size(), 4u);
  // Ten lookups later only extent 2 (looked up last) is still in the window.
  for (int k = 0; k < 9; ++k)
    expect_miss(s.cache, 999999);
  ASSERT_EQ(s.cache.lookup(kVseg, 2000).status, RmapStatus::kOk);
  EXPECT_EQ(s.cache.working_set_size(), 1u);
  // Sequential skips it (second chance) and takes the first loaded outside.
  ASSERT_EQ(s.load(4), RmapStatus::kOk);
  EXPECT_FALSE(s.has(0));
  EXPECT_TRUE(s.has(2));
  ASSERT_EQ(s.load(5), RmapStatus::kOk);
  ASSERT_EQ(s.load(6), RmapStatus::kOk);
  EXPECT_TRUE(s.has(2));
  EXPECT_FALSE(s.has(1));
  EXPECT_FALSE(s.has(3));
  // Now 2, 4, 5, 6 are all inside the window again.
  EXPECT_EQ(s.load(7), RmapStatus::kFull);
}

TEST(RmapCacheTest, WorkingSetWindowWithLru) {
  RmapConfig config;
  config.policy = RmapPolicy::kLru;
  config.working_set_window = 5;
  Small s(config);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(s.load(i), RmapStatus::kOk);
  EXPECT_EQ(s.load(4), RmapStatus::kFull);
  for (int k = 0; k < 5; ++k)
    ASSERT_EQ(s.cache.lookup(kVseg, 3000).status, RmapStatus::kOk);
  ASSERT_EQ(s.load(4), RmapStatus::kOk);  // 0 is the least recent and outside the window
  EXPECT_FALSE(s.has(0));
}

TEST(RmapCacheTest, TrimShrinksToTheWorkingSet) {
  for (RmapPolicy policy : {RmapPolicy::kLru, RmapPolicy::kRandom, RmapPolicy::kSequential}) {
    RmapConfig config;
    config.policy = policy;
    config.working_set_window = 100;
    Fixture f(64, config);
    for (uint64_t i = 0; i < 50; ++i)
      ASSERT_EQ(f.cache.insert(kVseg, ext(i * 10, 10, 0)), RmapStatus::kOk);
    for (int k = 0; k < 100; ++k) {
      ASSERT_EQ(f.cache.lookup(kVseg, (k % 5) * 10).status, RmapStatus::kOk);  // extents 0..4
    }
    EXPECT_EQ(f.cache.working_set_size(), 5u);
    EXPECT_EQ(f.cache.trim_working_set(), 45u);
    EXPECT_EQ(f.cache.stats().extents, 5u);
    EXPECT_EQ(f.cache.stats().trimmed, 45u);
    for (uint64_t i = 0; i < 50; ++i)
      EXPECT_EQ(cached(f.cache, i * 10), i < 5) << i;
  }
  Fixture none(8);
  ASSERT_EQ(none.cache.insert(kVseg, ext(0, 1, 0)), RmapStatus::kOk);
  EXPECT_EQ(none.cache.trim_working_set(), 0u);  // no window: nothing to trim
  EXPECT_EQ(none.cache.working_set_size(), 1u);
}

TEST(RmapCacheTest, Stats) {
  Fixture f(100);
  const RmapStats empty = f.cache.stats();
  EXPECT_GE(empty.capacity_extents, 100u);
  EXPECT_EQ(empty.extents, 0u);
  EXPECT_GT(empty.bytes_used, 0u);  // the VSEG table
  EXPECT_LE(empty.bytes_reserved, f.region.span().size());
  ASSERT_EQ(f.cache.insert(kVseg, ext(0, 10, 1)), RmapStatus::kOk);
  ASSERT_EQ(f.cache.insert(kVseg, ext(10, 10, 2)), RmapStatus::kOk);
  (void)f.cache.lookup(kVseg, 5);
  (void)f.cache.lookup(kVseg, 15);
  (void)f.cache.lookup(kVseg, 25);
  (void)f.cache.lookup(kVseg, 1u << 30);
  (void)f.cache.lookup(99, 0);
  const RmapStats s = f.cache.stats();
  EXPECT_EQ(s.lookups, 5u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.invalid, 1u);
  EXPECT_EQ(s.inserts, 2u);
  EXPECT_EQ(s.extents, 2u);
  EXPECT_EQ(s.evictions, 0u);
  EXPECT_EQ(s.bytes_used,
            empty.bytes_used + s.nodes * RmapCache::kNodeBytes + 2 * RmapCache::kLeafBytes);
  f.cache.reset();
  EXPECT_EQ(f.cache.stats().lookups, 0u);
  EXPECT_EQ(f.cache.stats().extents, 0u);
  expect_miss(f.cache, 5);  // the VSEG is gone too
}

TEST(RmapCacheTest, StaysInsideItsRegionAndNeverAllocates) {
  // A misaligned region with canaries on both sides, filled to overflowing by
  // all three policies.
  for (RmapPolicy policy : {RmapPolicy::kLru, RmapPolicy::kRandom, RmapPolicy::kSequential}) {
    RmapConfig config;
    config.policy = policy;
    config.working_set_window = 50;
    const size_t bytes = 10000 + 13;
    Region region(bytes, 3);
    RmapCache c;
    ASSERT_EQ(c.init(region.span(), config), RmapStatus::kOk);
    ASSERT_EQ(c.add_vseg(vseg(kVseg, 1u << 24)), RmapStatus::kOk);
    ASSERT_EQ(c.add_vseg(vseg(kVseg + 1, 1u << 12)), RmapStatus::kOk);
    std::mt19937_64 rng(99);
    const uint64_t before = splitpath::testing::allocation_count();
    for (int step = 0; step < 50000; ++step) {
      const uint32_t id = kVseg + static_cast<uint32_t>(rng() % 2);
      const uint64_t span = id == kVseg ? (1u << 24) : (1u << 12);
      const uint64_t len = 1 + rng() % 64;
      const uint64_t start = rng() % (span - len);
      switch (rng() % 8) {
        case 0:
          (void)c.remove(id, start, len);
          break;
        case 1:
        case 2:
          (void)c.insert(id, ext(start, len, 1));
          break;
        case 3:
          if (step % 1000 == 0) (void)c.trim_working_set();
          break;
        default:
          (void)c.lookup(id, start);
      }
    }
    EXPECT_EQ(splitpath::testing::allocation_count(), before);
    const RmapStats s = c.stats();
    EXPECT_GT(s.evictions + s.rejected, 0u);
    EXPECT_LE(s.bytes_reserved, bytes);
    EXPECT_TRUE(region.canaries_intact());
  }
}

TEST(RmapCacheTest, ExactSizeRegion) {
  // A heap block of exactly the region's size: under AddressSanitizer any
  // access past it is reported.
  RmapConfig config;
  config.policy = RmapPolicy::kRandom;
  const size_t bytes = RmapCache::bytes_for(100, config);
  std::unique_ptr<std::byte[]> region(new std::byte[bytes]);
  RmapCache c;
  ASSERT_EQ(c.init({region.get(), bytes}, config), RmapStatus::kOk);
  ASSERT_EQ(c.add_vseg(vseg(kVseg, 1u << 16)), RmapStatus::kOk);
  std::mt19937_64 rng(3);
  for (int step = 0; step < 20000; ++step) {
    const uint64_t start = rng() % ((1u << 16) - 64);
    if (rng() % 2 == 0) {
      ASSERT_EQ(c.insert(kVseg, ext(start, 1 + rng() % 64, 0)), RmapStatus::kOk);
    } else {
      (void)c.lookup(kVseg, start);
    }
  }
  EXPECT_GT(c.stats().evictions, 0u);
  EXPECT_LE(c.stats().bytes_reserved, bytes);
}

}  // namespace
}  // namespace splitpath::fp
