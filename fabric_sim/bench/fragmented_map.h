// The fragmented map both Rmap benchmarks look up (`splitpath bench` in
// micro_bench.cc, the Google Benchmark in bench/rmap_bench.cc): contiguous
// extents of 1..64 blocks from block 0, each naming one of 16 redirect
// entries, drawn from a fixed seed so every run and both tools see the same
// map; and the ordered maps the FP's trie is measured against, which count
// the bytes they ask their allocator for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "absl/container/btree_map.h"

#include "splitpath/map/rmap_types.h"

namespace splitpath::sim::bench_map {

inline constexpr uint64_t kSeed = 0x526D6170;  // "Rmap"

// SplitMix64: cheap enough for the timed loops.
struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) by multiply-high: no division on the timed path.
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
};

// Calls f(extent) for each of the map's `n` extents; returns the blocks they cover.
template <typename F>
uint64_t for_each_extent(uint64_t n, F&& f) {
  SplitMix rng{kSeed};
  uint64_t lba = 0;
  for (uint64_t i = 0; i < n; ++i) {
    map::Extent e;
    e.start = lba;
    e.length = 1 + rng.below(64);
    e.redirect_index = static_cast<map::RedirectIndex>(rng.next() & 15);
    f(e);
    lba += e.length;
  }
  return lba;
}

// Bytes the ordered maps hold from their allocator (without malloc's overhead).
inline uint64_t g_map_bytes = 0;

template <typename T>
struct CountingAllocator {
  using value_type = T;
  CountingAllocator() = default;
  template <typename U>
  CountingAllocator(const CountingAllocator<U>&) {}  // NOLINT(google-explicit-constructor)
  T* allocate(size_t n) {
    g_map_bytes += n * sizeof(T);
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, size_t n) {
    g_map_bytes -= n * sizeof(T);
    std::allocator<T>{}.deallocate(p, n);
  }
  template <typename U>
  bool operator==(const CountingAllocator<U>&) const {
    return true;
  }
};

using Btree = absl::btree_map<uint64_t, map::Extent, std::less<uint64_t>,
                              CountingAllocator<std::pair<const uint64_t, map::Extent>>>;
using StdMap = std::map<uint64_t, map::Extent, std::less<uint64_t>,
                        CountingAllocator<std::pair<const uint64_t, map::Extent>>>;

}  // namespace splitpath::sim::bench_map
