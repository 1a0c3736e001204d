#include "fabric_sim/bench/micro_bench.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>

#include "absl/container/btree_map.h"
#include "fabric_sim/bench/event_chains.h"
#include "fabric_sim/bench/fragmented_map.h"
#include "fabric_sim/bench/switch_testbed.h"
#include "fabric_sim/kernel/kernel.h"
#include "fp_firmware/rmap/rmap_cache.h"

namespace splitpath::sim {
namespace {

using map::Extent;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kVsegId = 1;
using bench_map::for_each_extent;
using bench_map::kSeed;
using bench_map::SplitMix;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

using bench_map::Btree;
using bench_map::g_map_bytes;
using bench_map::StdMap;

// The best of `rounds` timed rounds of `lookups` lookups at uniform random LBAs
// of [0, blocks); `find` returns whether the LBA hit an extent, plus a value
// folded into a sink so the lookups are not optimized away.
template <typename Find>
RmapBenchRow time_lookups(const char* name, const RmapBenchOptions& o, uint64_t blocks,
                          Find&& find) {
  RmapBenchRow row;
  row.structure = name;
  row.ns_per_lookup = std::numeric_limits<double>::max();
  volatile uint64_t sink = 0;
  for (uint32_t r = 0; r < std::max<uint32_t>(1, o.rounds); ++r) {
    SplitMix rng{kSeed + 1 + r};
    uint64_t misses = 0;
    uint64_t fold = 0;
    const auto start = Clock::now();
    for (uint64_t i = 0; i < o.lookups; ++i) {
      uint32_t value = 0;
      if (!find(rng.below(blocks), &value)) ++misses;
      fold += value;
    }
    const double s = seconds_since(start);
    sink = sink + fold;
    row.ns_per_lookup = std::min(row.ns_per_lookup, s * 1e9 / static_cast<double>(o.lookups));
    row.misses += misses;
  }
  return row;
}

template <typename Map>
bool ordered_find(const Map& m, uint64_t lba, uint32_t* value) {
  auto it = m.upper_bound(lba);
  if (it == m.begin()) return false;
  --it;
  if (!it->second.contains(lba)) return false;
  *value = it->second.redirect_index;
  return true;
}

template <typename Map>
RmapBenchRow ordered_map_row(const char* name, const RmapBenchOptions& o) {
  const uint64_t before = g_map_bytes;
  auto m = std::make_unique<Map>();
  const uint64_t blocks =
      for_each_extent(o.extents, [&](const Extent& e) { m->emplace_hint(m->end(), e.start, e); });
  const double bytes = static_cast<double>(g_map_bytes - before);
  RmapBenchRow row = time_lookups(
      name, o, blocks, [&](uint64_t lba, uint32_t* value) { return ordered_find(*m, lba, value); });
  row.bytes_per_extent = bytes / static_cast<double>(o.extents);
  return row;
}

RmapBenchRow trie_row(const RmapBenchOptions& o, uint64_t* blocks_out) {
  fp::RmapConfig config;
  config.policy = fp::RmapPolicy::kLru;
  config.max_vsegs = 1;
  const size_t bytes = fp::RmapCache::bytes_for(static_cast<uint32_t>(o.extents), config);
  // Left uninitialised: pages commit as the pools grow, as on a port's table memory.
  std::unique_ptr<std::byte[]> region(new std::byte[bytes]);
  auto cache = std::make_unique<fp::RmapCache>();
  if (cache->init({region.get(), bytes}, config) != map::RmapStatus::kOk) std::abort();
  map::VsegDescriptor v;
  v.id = kVsegId;
  v.length = for_each_extent(o.extents, [](const Extent&) {});
  if (cache->add_vseg(v) != map::RmapStatus::kOk) std::abort();
  for_each_extent(o.extents, [&](const Extent& e) {
    if (cache->insert(kVsegId, e) != map::RmapStatus::kOk) std::abort();
  });
  *blocks_out = v.length;
  RmapBenchRow row = time_lookups("fp_trie", o, v.length, [&](uint64_t lba, uint32_t* value) {
    const fp::RmapLookup r = cache->lookup(kVsegId, lba);
    *value = r.extent.redirect_index;
    return r.status == map::RmapStatus::kOk;
  });
  row.bytes_per_extent =
      static_cast<double>(cache->stats().bytes_used) / static_cast<double>(o.extents);
  return row;
}

}  // namespace

RmapBenchResult run_rmap_bench(const RmapBenchOptions& options) {
  RmapBenchResult out;
  out.extents = options.extents;
  out.rows.push_back(trie_row(options, &out.blocks));
  out.rows.push_back(ordered_map_row<Btree>("absl_btree", options));
  out.rows.push_back(ordered_map_row<StdMap>("std_map", options));
  return out;
}

WorkTimed measure_des_events(uint32_t pending, uint64_t events) {
  Kernel kernel;
  std::vector<EventChain> chains;
  start_event_chains(kernel, pending, chains);
  // Mean delay ahead is 512 ns over `pending` chains: about pending / 512
  // events per simulated ns.
  const uint64_t before = kernel.events_processed();
  const auto start = Clock::now();
  SimTime horizon = kernel.now();
  const SimTime step = std::max<SimTime>(1, 512'000 / std::max<uint32_t>(1, pending));
  while (kernel.events_processed() - before < events) {
    horizon += step;
    kernel.run_until(horizon);
  }
  const double s = seconds_since(start);
  return {kernel.events_processed() - before, s};
}

WorkTimed measure_frames_switched(uint32_t pairs, uint64_t sim_ns) {
  SwitchTestbed bed(pairs);
  Kernel& kernel = bed.kernel();
  kernel.run_until(100 * kNsPerUs);  // warm up the pool and the event heap
  const uint64_t before = bed.frames_switched();
  const auto start = Clock::now();
  kernel.run_until(kernel.now() + sim_ns);
  const double s = seconds_since(start);
  return {bed.frames_switched() - before, s};
}

}  // namespace splitpath::sim
