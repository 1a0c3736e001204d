// Frames switched per second of wall time through one switch (see
// tests/support/switch_testbed.h), with heap allocations per switched frame.
#include <benchmark/benchmark.h>

#include "tests/support/alloc_counter.h"
#include "tests/support/switch_testbed.h"

namespace splitpath::sim {
namespace {

void BM_FramesSwitched(benchmark::State& state) {
  testing::SwitchTestbed bed(static_cast<uint32_t>(state.range(0)));
  Kernel& kernel = bed.kernel();
  kernel.run_until(100 * kNsPerUs);  // warm up the pool and the event heap
  const uint64_t frames_before = bed.frames_switched();
  const uint64_t events_before = kernel.events_processed();
  const uint64_t allocs_before = testing::allocation_count();
  SimTime horizon = kernel.now();
  for (auto _ : state) {
    horizon += 10 * kNsPerUs;
    kernel.run_until(horizon);
  }
  const auto frames = static_cast<double>(bed.frames_switched() - frames_before);
  state.counters["frames/s"] = benchmark::Counter(frames, benchmark::Counter::kIsRate);
  state.counters["events/frame"] =
      static_cast<double>(kernel.events_processed() - events_before) / std::max(1.0, frames);
  state.counters["allocs/frame"] =
      static_cast<double>(testing::allocation_count() - allocs_before) / std::max(1.0, frames);
}
BENCHMARK(BM_FramesSwitched)->Arg(1)->Arg(8)->Arg(32)->UseRealTime();

}  // namespace
}  // namespace splitpath::sim
