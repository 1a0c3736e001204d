// The real-time driver: kernel events run in order, none before its wall
// time (simulated time never runs ahead of the wall clock), and socket-side
// work posted from another thread runs on the driver's thread. No assertion
// depends on how fast the machine is.
#include "fabric_sim/gateway/realtime_driver.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "gtest/gtest.h"

namespace splitpath::sim {
namespace {

struct Chain {
  Kernel* kernel = nullptr;
  RealTimeDriver* driver = nullptr;
  std::vector<SimTime> times;
  uint64_t ahead_of_wall = 0;
  static constexpr int kEvents = 20;
  static constexpr SimTime kStep = 2 * kNsPerMs;

  void on_event(uint64_t n) {
    times.push_back(kernel->now());
    if (kernel->now() > driver->wall_sim_time()) ++ahead_of_wall;
    if (n + 1 < kEvents) {
      kernel->schedule_in<&Chain::on_event>(kStep, this, n + 1);
    } else {
      driver->stop();
    }
  }
};

TEST(RealTimeDriver, EventsNeverRunAheadOfTheWallClock) {
  Kernel kernel;
  boost::asio::io_context io;
  RealTimeDriver driver(kernel, io);
  Chain chain;
  chain.kernel = &kernel;
  chain.driver = &driver;
  kernel.schedule_at<&Chain::on_event>(Chain::kStep, &chain, 0);
  driver.run();
  ASSERT_EQ(chain.times.size(), static_cast<size_t>(Chain::kEvents));
  for (int i = 0; i < Chain::kEvents; ++i)
    EXPECT_EQ(chain.times[i], Chain::kStep * (i + 1));
  EXPECT_EQ(chain.ahead_of_wall, 0u);
  // The run took at least the simulated time it covered.
  EXPECT_GE(driver.wall_sim_time(), Chain::kStep * Chain::kEvents);
}

TEST(RealTimeDriver, StopRequestedFromAnotherThread) {
  Kernel kernel;
  boost::asio::io_context io;
  RealTimeDriver driver(kernel, io);
  bool ran_on_driver_thread = false;
  const auto driver_thread = std::this_thread::get_id();
  std::thread other([&] {
    boost::asio::post(io,
                      [&] { ran_on_driver_thread = std::this_thread::get_id() == driver_thread; });
    driver.request_stop();
  });
  driver.run();  // an empty kernel: only the stop request ends it
  other.join();
  EXPECT_TRUE(ran_on_driver_thread);
  EXPECT_TRUE(driver.stopped());
}

}  // namespace
}  // namespace splitpath::sim
