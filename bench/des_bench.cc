// Discrete-event kernel throughput: events per second of wall time with a
// realistic number of events pending (one per link direction, timer and
// in-flight frame of a mid-sized fabric).
#include <benchmark/benchmark.h>

#include "fabric_sim/bench/event_chains.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/kernel/rng.h"
#include "tests/support/alloc_counter.h"

namespace splitpath::sim {
namespace {

void BM_DesEvents(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  Kernel kernel;
  std::vector<EventChain> chains;
  start_event_chains(kernel, pending, chains);
  const uint64_t allocs_before = testing::allocation_count();
  const uint64_t events_before = kernel.events_processed();
  SimTime horizon = kernel.now();
  for (auto _ : state) {
    horizon += 1000;
    kernel.run_until(horizon);
  }
  const auto events = static_cast<double>(kernel.events_processed() - events_before);
  state.counters["events/s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["allocs/event"] =
      static_cast<double>(testing::allocation_count() - allocs_before) / std::max(1.0, events);
  state.counters["pending"] = static_cast<double>(kernel.pending());
}
BENCHMARK(BM_DesEvents)->Arg(64)->Arg(1024)->Arg(16384)->UseRealTime();

}  // namespace
}  // namespace splitpath::sim
