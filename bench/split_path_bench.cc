// Wall-time cost of one host I/O through a virtualizing switch: on the FP path
// (the port FP remaps it) and with every I/O forced to the CP (fp.enabled
// false). Both run the same one-port scenario (fabric_sim/bench/
// scaling_scenario.h) side by side; compare their wall_s_per_io.
#include <benchmark/benchmark.h>

#include "fabric_sim/bench/scaling_scenario.h"

namespace {

void BM_VirtualIo(benchmark::State& state) {
  splitpath::sim::ScalingOptions o;
  o.loaded_ports = 1;
  o.fp_enabled = state.range(0) != 0;
  // All of the run counts (the one-port bring-up is short), so the wall time
  // divides by every I/O it paid for.
  o.warmup_ns = 0;
  o.duration_ns = 10 * splitpath::sim::kNsPerMs;
  uint64_t ios = 0;
  for (auto _ : state) {
    auto point = splitpath::sim::run_scaling_point(o);
    if (!point.ok()) {
      state.SkipWithError(std::string(point.status().message()).c_str());
      return;
    }
    ios += point->ios;
  }
  state.SetLabel(o.fp_enabled ? "fp" : "cp_only");
  state.SetItemsProcessed(static_cast<int64_t>(ios));
  state.counters["wall_s_per_io"] = benchmark::Counter(
      static_cast<double>(ios), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_VirtualIo)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->MinTime(0.5);

}  // namespace
