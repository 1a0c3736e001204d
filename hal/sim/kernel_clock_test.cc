// The simulated port driven by the fabric's event kernel through KernelClock,
// with the hooks used the way the switch will use them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <vector>

#include "fabric_sim/kernel/kernel.h"
#include "hal/sim/kernel_clock.h"
#include "hal/sim/sim_port.h"

namespace splitpath::hal::sim {
namespace {

// ---- Under the event kernel ------------------------------------------------------------

// A minimal host for one port, standing in for the switch: frames arrive from a
// link every `gap` ns and wait (holding their credit) while the port refuses
// them; the firmware takes one frame whenever the engine is free and forwards it;
// transmitted frames leave at their ready times.
class MiniSwitch {
 public:
  MiniSwitch(splitpath::sim::Kernel& kernel, SimPort& port) : kernel_(kernel), port_(port) {
    SimPortHooks h;
    h.ctx = this;
    h.rx_space = [](void* ctx) {
      auto* s = static_cast<MiniSwitch*>(ctx);
      s->kernel_.schedule_in<&MiniSwitch::retry_held>(0, s);
    };
    h.tx_queued = [](void* ctx, uint64_t ready) {
      auto* s = static_cast<MiniSwitch*>(ctx);
      s->kernel_.schedule_at<&MiniSwitch::drain>(ready, s);
    };
    port_.set_hooks(h);
  }

  void send_frames(uint32_t count, uint64_t gap) {
    for (uint32_t i = 0; i < count; ++i)
      kernel_.schedule_at<&MiniSwitch::arrive>(i * gap, this, i);
  }

  std::vector<uint64_t> departures;
  std::vector<uint32_t> order;
  uint32_t max_held = 0;

 private:
  void arrive(uint64_t tag) {
    held_.push_back(static_cast<uint32_t>(tag));
    retry_held(0);
  }
  void retry_held(uint64_t) {
    while (!held_.empty()) {
      uint8_t f[64] = {};
      std::memcpy(f + 16, &held_.front(), sizeof(uint32_t));
      if (port_.push_rx(f, sizeof f) != Status::kOk) break;
      held_.pop_front();
      kernel_.schedule_in<&MiniSwitch::run_firmware>(0, this);
    }
    max_held = std::max(max_held, static_cast<uint32_t>(held_.size()));
  }
  void run_firmware(uint64_t) {
    Hal hal(port_.hal());
    if (port_.busy_until_ns() > kernel_.now()) {
      kernel_.schedule_at<&MiniSwitch::run_firmware>(port_.busy_until_ns(), this);
      return;
    }
    sp_hal_buf* b = nullptr;
    if (hal.rx_burst(&b, 1).count == 1) {
      if (hal.tx_burst(&b, 1).count != 1) ADD_FAILURE() << "transmit ring full";
    }
  }
  void drain(uint64_t) {
    port_.drain_tx(
        kernel_.now(),
        [](void* ctx, const TxFrameView& f) {
          auto* s = static_cast<MiniSwitch*>(ctx);
          uint32_t tag = 0;
          std::memcpy(&tag, f.data + 16, sizeof tag);
          s->order.push_back(tag);
          s->departures.push_back(s->kernel_.now());
          return true;
        },
        this);
  }

  splitpath::sim::Kernel& kernel_;
  SimPort& port_;
  std::deque<uint32_t> held_;
};

TEST(SimPort, UnderTheEventKernelAnOverloadedPortPacesOutputAndPushesBack) {
  splitpath::sim::Kernel kernel;
  KernelClock clock(kernel);
  SimPortConfig c;
  c.wwpn = 1;
  c.rx_ring_size = 2;
  c.tx_ring_size = 2;
  c.buffer_count = 6;
  c.frame_cost_ns = 100;
  auto port = SimPort::create(c, clock);
  MiniSwitch sw(kernel, *port);
  sw.send_frames(50, 40);  // 25 M frames/s offered, 10 M frames/s possible
  kernel.run_until(1000000);

  ASSERT_EQ(sw.order.size(), 50u);
  for (uint32_t i = 0; i < 50; ++i)
    EXPECT_EQ(sw.order[i], i);
  EXPECT_EQ(sw.departures.front(), 100u);
  for (size_t i = 1; i < sw.departures.size(); ++i)
    EXPECT_EQ(sw.departures[i] - sw.departures[i - 1], 100u) << i;
  EXPECT_GT(port->stats().rx_refused, 0u);
  EXPECT_GT(sw.max_held, 10u) << "the link held frames and credits while the port was full";
  EXPECT_EQ(port->free_buffers(), c.buffer_count);
}

}  // namespace
}  // namespace splitpath::hal::sim
