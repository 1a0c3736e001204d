// Real-time mode: runs the discrete-event kernel with simulated time tied to
// wall-clock time, and a Boost.Asio io_context on the same thread, so that
// outside programs (NBD clients) can talk to the simulation.
//
// Each turn runs the events due up to the simulated time that corresponds to
// the wall clock now (start time plus elapsed wall time), in slices, handling
// ready socket work between slices; then it waits for socket activity or the
// wall time of the next event, whichever comes first. Simulated time never
// runs ahead of the wall clock; when the simulation has more work than the
// wall clock allows it falls behind and catches up when it can. Everything
// (the kernel, the fabric, the socket handlers) runs on the thread that calls
// run(), so no locking is needed.
#pragma once

#include <chrono>
#include <cstdint>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "fabric_sim/kernel/kernel.h"

namespace splitpath::sim {

class RealTimeDriver {
 public:
  RealTimeDriver(Kernel& kernel, boost::asio::io_context& io);

  // Runs until stop() (or request_stop()) is called. May be called once.
  void run();
  // Runs until `done()` returns true (checked between slices) or stop().
  template <typename Done>
  void run_until(Done done) {
    begin();
    while (!stopped_ && !done())
      turn();
  }
  // From the driver's thread (a socket or kernel handler).
  void stop() { stopped_ = true; }
  // From any thread: posts stop() to the io_context.
  void request_stop();
  bool stopped() const { return stopped_; }

  // The simulated time that corresponds to the wall clock now.
  SimTime wall_sim_time() const;
  // Slices of simulated time run between looks at the sockets.
  static constexpr SimTime kSlice = 1 * kNsPerMs;
  // The longest wait for sockets, so stop requests and clock drift are seen.
  static constexpr SimTime kMaxWait = 50 * kNsPerMs;

 private:
  void begin();
  void turn();

  Kernel& kernel_;
  boost::asio::io_context& io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::chrono::steady_clock::time_point wall_start_;
  SimTime sim_start_ = 0;
  bool begun_ = false;
  bool stopped_ = false;
};

}  // namespace splitpath::sim
