// The figures of `splitpath bench`, a baseline file holding them, and the
// regression check of `--compare`: a figure regresses when it is more than
// `tolerance` worse than the baseline's, in the figure's own direction.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace splitpath::sim {

struct Figure {
  std::string name;  // stable key, e.g. "scaling.fp_iops_growth_1_to_32"
  double value = 0;
  std::string unit;
  bool higher_is_better = true;
  // Compared against a baseline: same-run ratios and simulated-time figures,
  // not raw wall-clock rates, which move with the machine.
  bool gated = false;
};

struct Regression {
  std::string name;
  double baseline = 0;
  double current = 0;
  double worse_by = 0;  // fraction, > tolerance
};

struct Comparison {
  std::vector<Regression> regressions;
  std::vector<std::string> missing;  // gated baseline figures this run lacks
};

// The JSON object {"figures": [{name, value, unit, higher_is_better, gated}]}.
std::string figures_json(const std::vector<Figure>& figures);
// Reads a baseline written by figures_json; errors name `path` and the field.
absl::StatusOr<std::vector<Figure>> read_baseline(const std::string& path);

Comparison compare_figures(const std::vector<Figure>& baseline, const std::vector<Figure>& current,
                           double tolerance = 0.10);

}  // namespace splitpath::sim
