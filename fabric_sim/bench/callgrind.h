// Instruction counts from valgrind's callgrind: the stable speed figure on
// shared, noisy machines (wall time moves with the neighbours; the number of
// instructions a deterministic run executes does not).
//
// A figure is the difference between two runs of the same command that differ
// only in how much work they do: set-up, bring-up and exit cancel out, and
// (instructions(n2) - instructions(n1)) / (units(n2) - units(n1)) is what one
// unit of work costs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace splitpath::sim {

// Whether `valgrind` is on the PATH and runs.
bool callgrind_available();

// The instructions (event Ir) of a callgrind output file's `totals:` line (or
// `summary:` when there is no totals line). Errors say what is missing.
absl::StatusOr<uint64_t> parse_callgrind_totals(std::string_view text);

struct CallgrindRun {
  uint64_t instructions = 0;
  std::string output;  // what the command printed on stdout
};

// Runs `argv` (argv[0] a path) under `valgrind --tool=callgrind`, counting
// only inside functions matching `toggle_collect` (callgrind's
// --toggle-collect pattern) when it is not empty. Scratch files go to
// `scratch_dir` and are removed. Fails if valgrind cannot run or the command
// exits non-zero (the error carries the end of its stderr).
absl::StatusOr<CallgrindRun> run_under_callgrind(const std::vector<std::string>& argv,
                                                 const std::string& toggle_collect,
                                                 const std::string& scratch_dir);

}  // namespace splitpath::sim
