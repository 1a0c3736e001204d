// The micro figures of `splitpath bench`, measured in process with a steady
// clock, each next to its reference in the same run so machine noise cancels in
// the ratios:
//  - the FP's cached Rmap (fp_firmware/rmap, figure 34's trie) against
//    absl::btree_map and std::map holding the same fragmented extents
//    (contiguous extents of 1..64 blocks, seeded), looked up at uniform random
//    LBAs: ns per lookup and memory per extent;
//  - the DES kernel: events per second with `pending` events queued;
//  - one switch streaming small frames between port pairs
//    (switch_testbed.h): frames switched per second of wall time.
// bench/ holds the Google Benchmark versions of the same measurements.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace splitpath::sim {

struct RmapBenchOptions {
  uint64_t extents = 1'000'000;
  uint64_t lookups = 2'000'000;  // per structure and round
  uint32_t rounds = 3;           // the best round counts
};

struct RmapBenchRow {
  std::string structure;  // "fp_trie", "absl_btree", "std_map"
  double ns_per_lookup = 0;
  double bytes_per_extent = 0;
  uint64_t misses = 0;  // lookups that found no extent: 0, or the run is wrong
};

struct RmapBenchResult {
  uint64_t extents = 0;
  uint64_t blocks = 0;             // the VSEG the extents cover
  std::vector<RmapBenchRow> rows;  // fp_trie, absl_btree, std_map
};

// Builds the three structures one after another (only one alive at a time, as
// 16 million extents take about a gigabyte each) and times the lookups.
// extents must be 1 .. 2^32 - 2 (the FP's leaf index is 32 bits).
RmapBenchResult run_rmap_bench(const RmapBenchOptions& options);

// Work done in a measured stretch and the wall seconds it took.
struct WorkTimed {
  uint64_t units = 0;  // events processed, frames switched
  double seconds = 0;
  double per_second() const { return seconds > 0 ? static_cast<double>(units) / seconds : 0; }
};

// A kernel keeping `pending` events queued, each scheduling its successor a
// pseudo-random delay ahead, run for at least `events` events.
WorkTimed measure_des_events(uint32_t pending, uint64_t events);
inline double measure_des_events_per_s(uint32_t pending, uint64_t events) {
  return measure_des_events(pending, events).per_second();
}

// One switch with `pairs` source ports streaming to `pairs` sink ports, over
// `sim_ns` of simulated time: the frames it switched.
WorkTimed measure_frames_switched(uint32_t pairs, uint64_t sim_ns);
inline double measure_frames_switched_per_s(uint32_t pairs, uint64_t sim_ns) {
  return measure_frames_switched(pairs, sim_ns).per_second();
}

}  // namespace splitpath::sim
