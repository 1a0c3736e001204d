#include "fabric_sim/net/link.h"

#include <gtest/gtest.h>

#include <vector>

namespace splitpath::sim {
namespace {

// A port that records arrivals and returns credits after `hold_ns`.
class Sink : public FramePort {
 public:
  Sink(Kernel& k, FramePool& pool, SimTime hold_ns) : k_(k), pool_(pool), hold_ns_(hold_ns) {}
  void on_frame(Link& link, int side, Frame* frame) override {
    arrivals.push_back({k_.now(), frame->bytes[0]});
    pool_.free(frame);
    link_ = &link;
    side_ = side;
    if (hold_ns_ == 0) {
      link.release_credit(side);
    } else {
      k_.schedule_in<&Sink::release>(hold_ns_, this);
    }
  }
  void on_link_state(Link&, int, bool up) override { states.push_back(up); }
  void release(uint64_t) { link_->release_credit(side_); }
  std::vector<std::pair<SimTime, uint8_t>> arrivals;
  std::vector<bool> states;

 private:
  Kernel& k_;
  FramePool& pool_;
  SimTime hold_ns_;
  Link* link_ = nullptr;
  int side_ = 0;
};

Frame* make_frame(FramePool& pool, uint8_t tag, uint16_t size) {
  Frame* f = pool.alloc();
  f->size = size;
  f->bytes[0] = tag;
  return f;
}

TEST(Link, SerializationAndPropagationDelay) {
  Kernel k;
  FramePool pool;
  Link link(k, pool, "l", LinkParams{LinkSpeed::k8G, 1000, 4});
  Sink a(k, pool, 0), b(k, pool, 0);
  link.attach(0, &a);
  link.attach(1, &b);
  // 2048 + 24 bytes + 36 overhead = 2108 bytes at 800 MB/s = 2635 ns.
  EXPECT_EQ(link.serialization_ns(2072), 2635u);
  link.transmit(0, make_frame(pool, 1, 2072));
  link.transmit(0, make_frame(pool, 2, 2072));
  k.run_until(kNsPerMs);
  ASSERT_EQ(b.arrivals.size(), 2u);
  EXPECT_EQ(b.arrivals[0].first, 2635u + 1000u);
  EXPECT_EQ(b.arrivals[1].first, 2 * 2635u + 1000u);  // back to back
  EXPECT_EQ(b.arrivals[0].second, 1);
  EXPECT_EQ(b.arrivals[1].second, 2);
  EXPECT_EQ(link.stats(0).frames, 2u);
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(Link, CreditsLimitFramesInFlight) {
  Kernel k;
  FramePool pool;
  Link link(k, pool, "l", LinkParams{LinkSpeed::k32G, 100, 2});
  Sink a(k, pool, 0), b(k, pool, 1'000'000);  // b holds each buffer for 1 ms
  link.attach(0, &a);
  link.attach(1, &b);
  for (uint8_t i = 0; i < 5; ++i)
    link.transmit(0, make_frame(pool, i, 100));
  k.run_until(500'000);
  EXPECT_EQ(b.arrivals.size(), 2u) << "only bb_credit frames may be outstanding";
  k.run_until(10 * kNsPerMs);
  ASSERT_EQ(b.arrivals.size(), 5u);
  for (uint8_t i = 0; i < 5; ++i)
    EXPECT_EQ(b.arrivals[i].second, i) << "in order";
  // Frame 2 waited for a credit: 1 ms hold + 100 ns for the R_RDY to travel back.
  EXPECT_GE(b.arrivals[2].first, 1'000'000u + 100u);
}

TEST(Link, DownDropsQueuedAndInFlightFramesAndTellsBothEnds) {
  Kernel k;
  FramePool pool;
  Link link(k, pool, "l", LinkParams{LinkSpeed::k8G, 10'000, 8});
  Sink a(k, pool, 0), b(k, pool, 0);
  link.attach(0, &a);
  link.attach(1, &b);
  for (uint8_t i = 0; i < 3; ++i)
    link.transmit(0, make_frame(pool, i, 2000));
  k.run_until(1000);
  link.set_up(false);
  k.run_until(kNsPerMs);
  EXPECT_TRUE(b.arrivals.empty());
  EXPECT_EQ(link.stats(0).dropped, 3u);
  EXPECT_EQ(pool.in_use(), 0u);
  link.transmit(0, make_frame(pool, 9, 100));  // while down
  EXPECT_EQ(link.stats(0).dropped, 4u);
  link.set_up(true);
  link.transmit(0, make_frame(pool, 10, 100));
  k.run_until(2 * kNsPerMs);
  ASSERT_EQ(b.arrivals.size(), 1u);
  EXPECT_EQ(b.arrivals[0].second, 10);
  EXPECT_EQ(a.states, (std::vector<bool>{false, true}));
  EXPECT_EQ(b.states, (std::vector<bool>{false, true}));
}

TEST(FramePool, ReusesBuffersWithoutNewSlabs) {
  FramePool pool(16);
  for (int round = 0; round < 100; ++round) {
    Frame* f[16];
    for (auto& x : f)
      x = pool.alloc();
    for (auto& x : f)
      pool.free(x);
  }
  EXPECT_EQ(pool.slab_allocations(), 1u);
  EXPECT_EQ(pool.in_use(), 0u);
}

}  // namespace
}  // namespace splitpath::sim
