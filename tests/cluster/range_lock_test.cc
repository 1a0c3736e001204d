#include "cp/cluster/range_lock.h"

#include <gtest/gtest.h>

#include <vector>

namespace splitpath::cp::cluster {
namespace {

TEST(RangeLocks, OverlappingRangesWaitInArrivalOrder) {
  RangeLocks locks;
  std::vector<int> granted;
  uint64_t first = 0, second = 0;
  locks.lock(1, 0, 100, [&](uint64_t t) { granted.push_back(1), first = t; });
  locks.lock(1, 50, 100, [&](uint64_t t) { granted.push_back(2), second = t; });
  locks.lock(1, 200, 10, [&](uint64_t) { granted.push_back(3); });  // disjoint: at once
  locks.lock(2, 0, 100, [&](uint64_t) { granted.push_back(4); });   // another object
  locks.lock(1, 120, 10, [&](uint64_t) { granted.push_back(5); });  // behind waiter 2
  EXPECT_EQ(granted, (std::vector<int>{1, 3, 4}));
  locks.unlock(first);
  EXPECT_EQ(granted, (std::vector<int>{1, 3, 4, 2}));
  locks.unlock(second);
  EXPECT_EQ(granted, (std::vector<int>{1, 3, 4, 2, 5}));
  EXPECT_EQ(locks.waiting(), 0u);
}

}  // namespace
}  // namespace splitpath::cp::cluster
