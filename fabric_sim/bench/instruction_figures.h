// The instruction-count figures of `splitpath bench` (callgrind.h): each the
// difference of two callgrind runs of a probe that do different amounts of
// the same work, per unit of work. Deterministic, so `--compare` gates them at
// 10% like the simulated-time figures.
//
// Probes are `splitpath bench probe KIND --units N` (run_probe below), run by
// re-executing the splitpath binary under valgrind:
//  - fp: the FP's poll() per 4 KiB READ of fp_path_bench.h (decision,
//    dispatch, relay and completion; the harness around it is not counted);
//    fp-remap-write and fp-stripe|mirror-read|write: the same per READ or
//    WRITE through each primitive (remap, stripe, write split);
//  - e2e / e2e-cp: the whole program per end-to-end 4 KiB I/O over null
//    disks, one host on one port, FP on / every I/O forced to the CP;
//  - des: per DES kernel event with 1024 pending;
//  - switch: per frame switched (switch_testbed.h);
// and the trace decoder (`splitpath decode FILE --no-frames`) per frame of a
// small-frame capture (decode_bench.h, 1-block I/Os).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabric_sim/bench/bench_figures.h"

namespace splitpath::sim {

// Runs probe `kind` with `units` of work (its own unit: I/Os, simulated
// microseconds, events); returns the units of work it measured (I/Os, events,
// frames). Errors name an unknown kind.
absl::StatusOr<uint64_t> run_probe(const std::string& kind, uint64_t units);
// The line a probe prints for run_probe's result, which the measuring side reads.
std::string probe_units_line(uint64_t units);

struct InstructionFigureOptions {
  std::string splitpath;    // the splitpath executable the probes run
  std::string scratch_dir;  // for callgrind output and the decode captures
};

// Every instruction figure. Fails if a probe fails or does no more work in its
// longer run than in its shorter one.
absl::StatusOr<std::vector<Figure>> measure_instruction_figures(
    const InstructionFigureOptions& options);

}  // namespace splitpath::sim
