#include "fabric_sim/kernel/kernel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "fabric_sim/kernel/rng.h"

namespace splitpath::sim {
namespace {

struct Recorder {
  Kernel* kernel;
  std::vector<std::pair<SimTime, uint64_t>> seen;
  void on_event(uint64_t arg) { seen.emplace_back(kernel->now(), arg); }
};

TEST(Kernel, RunsEventsInTimeThenSchedulingOrder) {
  Kernel k;
  Recorder r{&k, {}};
  k.schedule_at<&Recorder::on_event>(30, &r, 1);
  k.schedule_at<&Recorder::on_event>(10, &r, 2);
  k.schedule_at<&Recorder::on_event>(10, &r, 3);  // same instant: after 2
  k.schedule_at<&Recorder::on_event>(20, &r, 4);
  k.run_until(100);
  ASSERT_EQ(r.seen.size(), 4u);
  EXPECT_EQ(r.seen[0], std::make_pair(SimTime{10}, uint64_t{2}));
  EXPECT_EQ(r.seen[1], std::make_pair(SimTime{10}, uint64_t{3}));
  EXPECT_EQ(r.seen[2], std::make_pair(SimTime{20}, uint64_t{4}));
  EXPECT_EQ(r.seen[3], std::make_pair(SimTime{30}, uint64_t{1}));
  EXPECT_EQ(k.now(), 100u);
}

TEST(Kernel, StopsAtTheEndTimeAndResumes) {
  Kernel k;
  Recorder r{&k, {}};
  k.schedule_at<&Recorder::on_event>(50, &r, 1);
  k.schedule_at<&Recorder::on_event>(150, &r, 2);
  EXPECT_EQ(k.run_until(100), 1u);
  EXPECT_EQ(k.now(), 100u);
  EXPECT_EQ(k.pending(), 1u);
  EXPECT_EQ(k.run_until(200), 1u);
  EXPECT_EQ(r.seen.back().first, 150u);
}

TEST(Kernel, PastTimesRunNowNotBackwards) {
  Kernel k;
  Recorder r{&k, {}};
  k.run_until(500);
  k.schedule_at<&Recorder::on_event>(100, &r, 7);
  k.run_until(600);
  ASSERT_EQ(r.seen.size(), 1u);
  EXPECT_EQ(r.seen[0].first, 500u);
}

TEST(Kernel, HeapOrdersManyRandomEvents) {
  Kernel k;
  Recorder r{&k, {}};
  Rng rng(42);
  for (uint64_t i = 0; i < 10000; ++i)
    k.schedule_at<&Recorder::on_event>(rng.uniform(1000), &r, i);
  k.run_until(1000);
  ASSERT_EQ(r.seen.size(), 10000u);
  for (size_t i = 1; i < r.seen.size(); ++i) {
    ASSERT_LE(r.seen[i - 1].first, r.seen[i].first);
    if (r.seen[i - 1].first == r.seen[i].first) {
      ASSERT_LT(r.seen[i - 1].second, r.seen[i].second) << "same-time events out of order";
    }
  }
}

// Events scheduled near and far ahead (the two heaps), from ever later
// instants and by events themselves, run in exactly (time, scheduling order):
// the order a single sorted queue gives.
struct Scheduler {
  Kernel* kernel;
  Rng* rng;
  uint64_t next_id = 0;
  std::vector<std::pair<SimTime, uint64_t>> expected;  // (time, id) of every event scheduled
  std::vector<std::pair<SimTime, uint64_t>> seen;
  void schedule() {
    // Delays around the far horizon and both sides of it, and some at "now".
    const uint64_t pick = rng->uniform(4);
    const SimTime delay = pick == 0   ? 0
                          : pick == 1 ? rng->uniform(2000)
                          : pick == 2 ? Kernel::kFarHorizon - 1 + rng->uniform(3)
                                      : Kernel::kFarHorizon + rng->uniform(5 * Kernel::kFarHorizon);
    const uint64_t id = next_id++;
    expected.emplace_back(kernel->now() + delay, id);
    kernel->schedule_in<&Scheduler::on_event>(delay, this, id);
  }
  void on_event(uint64_t id) {
    seen.emplace_back(kernel->now(), id);
    if (next_id < 20000) schedule();
    if (next_id < 20000 && rng->uniform(2) == 0) schedule();
  }
};

TEST(Kernel, NearAndFarEventsRunInTimeThenSchedulingOrder) {
  Kernel k;
  Rng rng(7);
  Scheduler s{&k, &rng, 0, {}, {}};
  for (int i = 0; i < 300; ++i)
    s.schedule();
  k.run_until(UINT64_MAX);
  // Ids are handed out in scheduling order, so (time, id) is (time, sequence).
  std::sort(s.expected.begin(), s.expected.end());
  EXPECT_EQ(s.seen, s.expected);
  EXPECT_EQ(s.seen.size(), 20000u);
  EXPECT_EQ(k.pending(), 0u);
}

TEST(Rng, SameSeedSameStreamOtherSeedOtherStream) {
  Rng a(5), b(5), c(6);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    (void)c;
  }
  Rng d(5), e(6);
  int same = 0;
  for (int i = 0; i < 100; ++i)
    same += d.next() == e.next();
  EXPECT_EQ(same, 0);
}

TEST(Rng, DerivedStreamsDependOnNameOnly) {
  Rng a = Rng::derive(9, "host0");
  Rng b = Rng::derive(9, "host0");
  Rng c = Rng::derive(9, "host1");
  EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(Rng::derive(9, "host0").next(), c.next());
  EXPECT_EQ(stable_hash("abc"), 0xE71FA2190541574Bull);  // FNV-1a 64 of "abc"
}

TEST(Rng, UniformStaysInBounds) {
  Rng r(1);
  for (int i = 0; i < 10000; ++i)
    ASSERT_LT(r.uniform(7), 7u);
  EXPECT_EQ(r.uniform(0), 0u);
  double sum = 0;
  for (int i = 0; i < 10000; ++i)
    sum += r.exponential(10.0);
  EXPECT_NEAR(sum / 10000, 10.0, 0.5);
}

}  // namespace
}  // namespace splitpath::sim
