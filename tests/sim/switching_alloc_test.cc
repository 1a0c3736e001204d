// Switching a frame allocates nothing once the frame pool and the event queue
// have grown to their working size (STYLE.md: no allocation per frame).
#include <gtest/gtest.h>

#include "tests/support/alloc_counter.h"
#include "tests/support/switch_testbed.h"

namespace splitpath::sim {
namespace {

TEST(Switching, SteadyStateAllocatesNothingPerFrame) {
  testing::SwitchTestbed bed(8);
  bed.kernel().run_until(200 * kNsPerUs);  // warm-up
  const uint64_t frames_before = bed.frames_delivered();
  const uint64_t allocs_before = testing::allocation_count();
  bed.kernel().run_until(2 * kNsPerMs);
  const uint64_t frames = bed.frames_delivered() - frames_before;
  EXPECT_GT(frames, 10000u);
  EXPECT_EQ(testing::allocation_count() - allocs_before, 0u)
      << "allocations while switching " << frames << " frames";
}

}  // namespace
}  // namespace splitpath::sim
