// The whole `splitpath bench` suite run in process: the port-scaling curve in
// simulated time (FP on versus CP only) and the trace decoder against tcpdump
// on one generated capture, reduced to figures (bench_figures.h).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabric_sim/bench/bench_figures.h"
#include "fabric_sim/bench/scaling_scenario.h"

namespace splitpath::sim {

struct BenchSuiteOptions {
  bool quick = false;
  std::string scratch_dir;  // where the decode capture is written
};

struct BenchSuiteResult {
  std::vector<Figure> figures;
  std::vector<ScalingPoint> scaling;  // FP and CP-only point per port count
};

absl::StatusOr<BenchSuiteResult> run_bench_suite(const BenchSuiteOptions& options);

// One line per figure: name, value, unit, gated.
std::string format_figures_table(const std::vector<Figure>& figures);

}  // namespace splitpath::sim
