// The HAL conformance suite run on the simulated port ASIC, in three shapes: the
// defaults the fabric uses, the smallest configuration the contract allows, and
// odd sizes that exercise ring wrap-around and cycle-to-time rounding.
#include <memory>

#include "hal/conformance/conformance.h"
#include "hal/sim/clock.h"
#include "hal/sim/sim_port.h"

namespace splitpath::hal::sim {
namespace {

class SimHarness final : public conformance::Harness {
 public:
  explicit SimHarness(const SimPortConfig& config) : port_(SimPort::create(config, clock_)) {}

  const sp_hal* hal() override { return port_ ? port_->hal() : nullptr; }
  Status inject_rx(const uint8_t* bytes, uint32_t length) override {
    return port_->push_rx(bytes, length);
  }
  bool collect_tx(conformance::TxFrame* out) override {
    TxFrameView frame;
    if (!port_->tx_front(&frame)) return false;
    out->bytes.assign(frame.data, frame.data + frame.length);
    out->ready_ns = frame.ready_ns;
    port_->pop_tx();
    return true;
  }
  void advance_ns(uint64_t ns) override { clock_.advance(ns); }
  Status cp_send(uint32_t type, const void* data, uint32_t length) override {
    return port_->cp_send(type, data, length);
  }
  Status cp_recv(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length) override {
    return port_->cp_recv(type, buf, capacity, length);
  }

 private:
  // Time starts away from zero so that a zero timestamp stands out.
  ManualClock clock_{1000000};
  std::unique_ptr<SimPort> port_;
};

std::unique_ptr<conformance::Harness> make_default() {
  SimPortConfig c;
  c.port_index = 3;
  c.wwpn = 0x2000'0000'C9AA'BB03ull;
  return std::make_unique<SimHarness>(c);
}

std::unique_ptr<conformance::Harness> make_minimal() {
  SimPortConfig c;
  c.port_index = 0;
  c.wwpn = 1;
  c.rx_ring_size = 1;
  c.tx_ring_size = 1;
  c.buffer_count = 4;
  c.max_frame_payload = SP_HAL_MIN_FRAME_PAYLOAD_LIMIT;
  c.max_transfer_bytes = 512;
  c.table_memory_bytes = SP_HAL_MIN_TABLE_MEM_BYTES;
  c.mbox_max_msg_size = SP_HAL_MBOX_MIN_MSG_SIZE;
  c.mbox_to_cp_depth = SP_HAL_MBOX_MIN_DEPTH;
  c.mbox_from_cp_depth = SP_HAL_MBOX_MIN_DEPTH;
  c.frame_cost_ns = 0;
  c.core_mhz = 0;
  return std::make_unique<SimHarness>(c);
}

std::unique_ptr<conformance::Harness> make_odd() {
  SimPortConfig c;
  c.port_index = 47;
  c.wwpn = 0x5000'0000'0000'002Full;
  c.rx_ring_size = 5;
  c.tx_ring_size = 3;
  c.buffer_count = 9;
  c.max_frame_payload = 2100;
  c.table_memory_bytes = SP_HAL_MIN_TABLE_MEM_BYTES + 13;
  c.mbox_max_msg_size = 333;
  c.mbox_to_cp_depth = 11;
  c.mbox_from_cp_depth = 9;
  c.frame_cost_ns = 77;
  c.core_mhz = 333;
  return std::make_unique<SimHarness>(c);
}

}  // namespace
}  // namespace splitpath::hal::sim

SPLITPATH_HAL_CONFORMANCE_SUITE(sim, &splitpath::hal::sim::make_default);
SPLITPATH_HAL_CONFORMANCE_SUITE(sim_minimal, &splitpath::hal::sim::make_minimal);
SPLITPATH_HAL_CONFORMANCE_SUITE(sim_odd, &splitpath::hal::sim::make_odd);
