// Counts heap allocations in the benchmark process, so benchmarks can report
// allocations per operation (and the switching path can prove it makes none).
#pragma once

#include <cstdint>

namespace splitpath::testing {

uint64_t allocation_count();

}  // namespace splitpath::testing
