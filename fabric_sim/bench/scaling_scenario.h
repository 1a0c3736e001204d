// The port-scaling scenario of the split path: one switch, `loaded_ports`
// hosts each on its own port, each reading and writing its own virtual volume
// (on its own disk, behind its own port) through one virtual target. With the
// FPs on, every host port's FP moves its I/O alone and the switch's I/O rate
// grows with the ports carrying load; with every I/O forced to the CP
// (fp.enabled false), the one CP is the bottleneck. This is the
// specification's claim that bandwidth scales with the number of port FPs.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

struct ScalingOptions {
  uint32_t loaded_ports = 1;  // 1 .. 128
  bool fp_enabled = true;
  // The switch's bring-up (the CP exposes every LUN on every port FP and
  // logs the hosts in) and the FPs' first misses, left out of the figures.
  SimTime warmup_ns = 30 * kNsPerMs;
  SimTime duration_ns = 20 * kNsPerMs;  // measured, after the warm-up
  uint32_t queue_depth = 16;            // per host
  uint32_t block_size = 4096;           // bytes per I/O
  uint32_t read_percent = 70;
  uint64_t seed = 1;
  // Null disks (node/null_disk.h: no latency, no media time, no data) and hosts
  // that do not verify: every cost left is the frames' and the switch's.
  bool null_disks = false;
  // The window starts at warmup_ns, or later: once every host has completed an
  // I/O, plus settle_ns for its FP's first misses. The CP brings the switch up
  // alone, and its work grows with ports times LUNs (it exposes every LUN on
  // every port FP), so at 64 ports it outlasts a fixed warm-up.
  SimTime settle_ns = 10 * kNsPerMs;
  SimTime ready_limit_ns = 2 * kNsPerSec;  // fail if the hosts are not all running by then
};

// A validated topology for `options`.
absl::StatusOr<Topology> scaling_topology(const ScalingOptions& options);

struct ScalingPoint {
  uint32_t loaded_ports = 0;
  bool fp_enabled = true;
  uint64_t ios = 0;                // completed in the measured window
  double sim_seconds = 0;          // the measured window
  double iops = 0;                 // host I/Os per simulated second
  double mb_per_s = 0;             // per simulated second
  double fp_fraction = 0;          // of the switch's virtual I/O in the window
  double wall_seconds = 0;         // the whole run: build, bring-up, window, drain
  double window_wall_seconds = 0;  // the measured window alone
  double measured_from_s = 0;      // simulated time the window started
  uint32_t hosts_active = 0;       // hosts that completed I/O in the window
  uint64_t verify_errors = 0;
  uint64_t io_errors = 0;
};

// Builds and runs the scenario; measures it. Fails if some host has not
// completed an I/O by ready_limit_ns.
absl::StatusOr<ScalingPoint> run_scaling_point(const ScalingOptions& options);

// "loaded_ports,fp,ios,sim_seconds,iops,mb_per_s,fp_fraction,wall_seconds,verify_errors,io_errors,
// measured_from_s,hosts_active"
std::string scaling_csv_header();
std::string scaling_csv_row(const ScalingPoint& p);

}  // namespace splitpath::sim
