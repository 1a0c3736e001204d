// Lookup cost of the FP's cached Rmap (figure 34's compressed trie) against
// ordered maps holding the same extents: absl::btree_map and std::map, where a
// lookup is upper_bound on the start then one step back and a range check.
//
// The map is fragmented: contiguous extents of 1..64 blocks (seeded), looked
// up at uniform random LBAs. Sizes: 10 thousand, 1 million and 16 million
// extents; the last needs up to 1.6 GB per structure and some seconds to
// build each, so it runs only with SPLITPATH_RMAP_BENCH_16M=1. Each structure
// is built outside the timed loop, kept while its benchmark runs, and freed
// before the next one is built. Counters: ns per lookup, bytes per extent (the
// trie's stats().bytes_used: root slots, arrays and leaves in use; for the
// maps what they asked their allocator for, without malloc's own overhead)
// and heap allocations per lookup.
#include <absl/container/btree_map.h>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <type_traits>
#include <vector>

#include "fabric_sim/bench/fragmented_map.h"
#include "fp_firmware/rmap/rmap_cache.h"
#include "tests/support/alloc_counter.h"

namespace splitpath::fp {
namespace {

using map::Extent;

constexpr uint32_t kVsegId = 1;
using sim::bench_map::for_each_extent;
using sim::bench_map::kSeed;
using sim::bench_map::SplitMix;

using sim::bench_map::Btree;
using sim::bench_map::g_map_bytes;
using sim::bench_map::StdMap;

struct TrieWorld {
  uint64_t extents = 0;
  uint64_t blocks = 0;
  std::unique_ptr<std::byte[]> region;
  RmapCache cache;
};
struct BtreeWorld {
  uint64_t extents = 0;
  uint64_t blocks = 0;
  uint64_t bytes = 0;
  Btree map;
};
struct StdMapWorld {
  uint64_t extents = 0;
  uint64_t blocks = 0;
  uint64_t bytes = 0;
  StdMap map;
};

// One structure is alive at a time (the 16M ones take about 1.5 GB each);
// it survives between runs of the same benchmark.
std::unique_ptr<TrieWorld> g_trie;
std::unique_ptr<BtreeWorld> g_btree;
std::unique_ptr<StdMapWorld> g_std;

TrieWorld& trie_world(uint64_t n, RmapPolicy policy) {
  g_btree.reset();
  g_std.reset();
  if (g_trie && g_trie->extents == n && g_trie->cache.config().policy == policy) return *g_trie;
  g_trie.reset();
  auto w = std::make_unique<TrieWorld>();
  RmapConfig config;
  config.policy = policy;
  config.max_vsegs = 1;
  const size_t bytes = RmapCache::bytes_for(static_cast<uint32_t>(n), config);
  w->region.reset(new std::byte[bytes]);  // left uninitialised: pages commit as the pools grow
  if (w->cache.init({w->region.get(), bytes}, config) != map::RmapStatus::kOk) std::abort();
  map::VsegDescriptor v;
  v.id = kVsegId;
  v.length = for_each_extent(n, [](const Extent&) {});  // the map covers the whole VSEG
  if (w->cache.add_vseg(v) != map::RmapStatus::kOk) std::abort();
  w->blocks = for_each_extent(n, [&](const Extent& e) {
    if (w->cache.insert(kVsegId, e) != map::RmapStatus::kOk) std::abort();
  });
  w->extents = n;
  g_trie = std::move(w);
  return *g_trie;
}

// Builds (or keeps) the ordered-map world for `n` extents in `slot`, after
// freeing every other world so only one structure is alive at a time.
template <typename World>
World& ordered_map_world(std::unique_ptr<World>& slot, uint64_t n) {
  g_trie.reset();
  if constexpr (std::is_same_v<World, BtreeWorld>) {
    g_std.reset();
  } else {
    g_btree.reset();
  }
  if (slot && slot->extents == n) return *slot;
  slot.reset();
  auto w = std::make_unique<World>();
  const uint64_t before = g_map_bytes;
  w->blocks =
      for_each_extent(n, [&](const Extent& e) { w->map.emplace_hint(w->map.end(), e.start, e); });
  w->bytes = g_map_bytes - before;
  w->extents = n;
  slot = std::move(w);
  return *slot;
}

BtreeWorld& btree_world(uint64_t n) {
  return ordered_map_world(g_btree, n);
}
StdMapWorld& std_world(uint64_t n) {
  return ordered_map_world(g_std, n);
}

// Ordered-map lookup: the last extent starting at or before lba, if it
// contains lba.
template <typename Map>
const Extent* ordered_find(const Map& m, uint64_t lba) {
  auto it = m.upper_bound(lba);
  if (it == m.begin()) return nullptr;
  --it;
  return it->second.contains(lba) ? &it->second : nullptr;
}

void report(benchmark::State& state, uint64_t extents, double bytes, uint64_t allocs,
            uint64_t hits) {
  const auto lookups = static_cast<double>(state.iterations());
  state.counters["ns/lookup"] =
      benchmark::Counter(lookups, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["bytes/extent"] = bytes / static_cast<double>(extents);
  state.counters["allocs/lookup"] = static_cast<double>(allocs) / std::max(1.0, lookups);
  if (hits != static_cast<uint64_t>(state.iterations())) state.SkipWithError("a lookup missed");
}

void BM_RmapLookupTrie(benchmark::State& state, RmapPolicy policy) {
  const auto n = static_cast<uint64_t>(state.range(0));
  TrieWorld& w = trie_world(n, policy);
  SplitMix rng{kSeed + 1};
  uint64_t hits = 0;
  const uint64_t allocs_before = testing::allocation_count();
  for (auto _ : state) {
    const RmapLookup r = w.cache.lookup(kVsegId, rng.below(w.blocks));
    hits += r.status == map::RmapStatus::kOk ? 1 : 0;
    benchmark::DoNotOptimize(r.extent.redirect_index);
  }
  const uint64_t allocs = testing::allocation_count() - allocs_before;
  report(state, n, static_cast<double>(w.cache.stats().bytes_used), allocs, hits);
}

void BM_RmapLookupBtree(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  BtreeWorld& w = btree_world(n);
  SplitMix rng{kSeed + 1};
  uint64_t hits = 0;
  const uint64_t allocs_before = testing::allocation_count();
  for (auto _ : state) {
    const Extent* e = ordered_find(w.map, rng.below(w.blocks));
    hits += e != nullptr ? 1 : 0;
    benchmark::DoNotOptimize(e);
  }
  report(state, n, static_cast<double>(w.bytes), testing::allocation_count() - allocs_before, hits);
}

void BM_RmapLookupStdMap(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  StdMapWorld& w = std_world(n);
  SplitMix rng{kSeed + 1};
  uint64_t hits = 0;
  const uint64_t allocs_before = testing::allocation_count();
  for (auto _ : state) {
    const Extent* e = ordered_find(w.map, rng.below(w.blocks));
    hits += e != nullptr ? 1 : 0;
    benchmark::DoNotOptimize(e);
  }
  report(state, n, static_cast<double>(w.bytes), testing::allocation_count() - allocs_before, hits);
}

// Side by side per size: the trie with LRU replacement (a hit records the
// extent's use), with sequential replacement (a hit writes nothing), the two
// ordered maps.
int register_rmap_benchmarks() {
  std::vector<int64_t> sizes{10'000, 1'000'000};
  const char* big = std::getenv("SPLITPATH_RMAP_BENCH_16M");
  if (big != nullptr && big[0] == '1') sizes.push_back(16'000'000);
  for (int64_t n : sizes) {
    benchmark::RegisterBenchmark("BM_RmapLookupTrieLru", BM_RmapLookupTrie, RmapPolicy::kLru)
        ->Arg(n)
        ->ArgName("extents");
    benchmark::RegisterBenchmark("BM_RmapLookupTrieSeq", BM_RmapLookupTrie, RmapPolicy::kSequential)
        ->Arg(n)
        ->ArgName("extents");
    benchmark::RegisterBenchmark("BM_RmapLookupBtree", BM_RmapLookupBtree)
        ->Arg(n)
        ->ArgName("extents");
    benchmark::RegisterBenchmark("BM_RmapLookupStdMap", BM_RmapLookupStdMap)
        ->Arg(n)
        ->ArgName("extents");
  }
  return 0;
}
[[maybe_unused]] const int registered = register_rmap_benchmarks();

}  // namespace
}  // namespace splitpath::fp
