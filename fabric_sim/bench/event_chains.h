// The DES kernel load both event-rate benchmarks run (`splitpath bench` in
// micro_bench.cc, the Google Benchmark in bench/des_bench.cc): `pending` chains
// of events, each scheduling its successor a pseudo-random 1..1024 ns ahead, so
// the queue keeps its size and times interleave as they do in a fabric.
#pragma once

#include <cstdint>
#include <vector>

#include "fabric_sim/kernel/kernel.h"

namespace splitpath::sim {

struct EventChain {
  Kernel* kernel;
  uint64_t state;
  void on_event(uint64_t) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    kernel->schedule_in<&EventChain::on_event>(1 + (state >> 54), this);
  }
};

// Fills `chains` with `pending` chains, starts them on `kernel` and runs it
// until its queue has reached its working size. `chains` must not change size
// while the kernel runs: the events point into it.
inline void start_event_chains(Kernel& kernel, size_t pending, std::vector<EventChain>& chains) {
  chains.assign(pending, EventChain{&kernel, 0});
  for (size_t i = 0; i < pending; ++i) {
    chains[i].state = i * 7919 + 1;
    kernel.schedule_in<&EventChain::on_event>(i, &chains[i]);
  }
  kernel.run_until(10'000);
}

}  // namespace splitpath::sim
