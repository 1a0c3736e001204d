// The DVE cluster figures of `splitpath bench` (cp/cluster): for 2, 4 and 8
// DVEs sharing one Rmap oplock over the coherency network (20 us per
// message), the messages a joining DVE sends and receives to reach sharing,
// the messages and simulated time of a restrictive metadata update when
// every DVE shares the oplock (the next update by the same DVE, the only
// sharer then, must send none: the run fails otherwise). And the wall-clock
// rate of contended updates among 4 DVEs.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace splitpath::sim {

struct ClusterBenchPoint {
  uint32_t dves = 0;
  uint64_t join_share_messages = 0;  // the last DVE: uninterested -> sharing
  uint64_t update_messages = 0;      // sharing -> acquired -> sharing, all sharing
  double update_sim_us = 0;
  uint64_t update_again_messages = 0;  // the same DVE again: the only sharer
};

struct ClusterBenchResult {
  std::vector<ClusterBenchPoint> points;
  uint64_t contended_updates = 0;
  double contended_wall_s = 0;
  double contended_messages_per_update = 0;
};

absl::StatusOr<ClusterBenchResult> run_cluster_bench(bool quick);

}  // namespace splitpath::sim
