#include "fabric_sim/gateway/realtime_driver.h"

#include <algorithm>

#include "boost/asio/post.hpp"

namespace splitpath::sim {

RealTimeDriver::RealTimeDriver(Kernel& kernel, boost::asio::io_context& io)
    : kernel_(kernel), io_(io), work_(boost::asio::make_work_guard(io)) {}

void RealTimeDriver::begin() {
  if (begun_) return;
  begun_ = true;
  wall_start_ = std::chrono::steady_clock::now();
  sim_start_ = kernel_.now();
}

void RealTimeDriver::run() {
  begin();
  while (!stopped_)
    turn();
}

void RealTimeDriver::request_stop() {
  boost::asio::post(io_, [this] { stopped_ = true; });
}

SimTime RealTimeDriver::wall_sim_time() const {
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now() - wall_start_);
  return sim_start_ + static_cast<SimTime>(elapsed.count());
}

void RealTimeDriver::turn() {
  io_.poll();
  if (stopped_) return;
  // Run what is due by the wall clock, a slice at a time so sockets are served
  // even while the simulation is behind.
  const SimTime due = wall_sim_time();
  if (kernel_.now() < due) {
    kernel_.run_until(std::min(due, kernel_.now() + kSlice));
    return;
  }
  // Caught up: wait for sockets or the next event's wall time.
  const SimTime next = kernel_.next_event_time();
  const SimTime wall = wall_sim_time();
  const SimTime wait = next <= wall ? 0 : std::min(next - wall, kMaxWait);
  if (wait > 0) io_.run_one_for(std::chrono::nanoseconds(wait));
}

}  // namespace splitpath::sim
