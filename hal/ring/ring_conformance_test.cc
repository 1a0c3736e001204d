// The HAL conformance suite run on hal/ring, in three shapes: its defaults
// (256 KiB of table memory), the smallest configuration the contract allows,
// and odd sizes that make every ring and the free queue wrap.
#include <memory>

#include "hal/conformance/conformance.h"
#include "hal/ring/ring_port.h"

namespace splitpath::hal::ring {
namespace {

class RingHarness final : public conformance::Harness {
 public:
  explicit RingHarness(const sp_ring_config& config)
      : port_(sp_ring_create(&config, sp_ring_time{&now_, &read_now}, nullptr)) {}
  ~RingHarness() override { sp_ring_destroy(port_); }
  RingHarness(const RingHarness&) = delete;
  RingHarness& operator=(const RingHarness&) = delete;

  const sp_hal* hal() override { return port_ ? sp_ring_hal(port_) : nullptr; }
  Status inject_rx(const uint8_t* bytes, uint32_t length) override {
    return to_status(sp_ring_wire_rx(port_, bytes, length));
  }
  // The wire takes the oldest posted descriptor; its buffer comes back only
  // when the firmware side reclaims it (poll, or on demand).
  bool collect_tx(conformance::TxFrame* out) override {
    const uint8_t* data = nullptr;
    uint32_t length = 0;
    uint64_t ready = 0;
    if (!sp_ring_wire_tx_peek(port_, &data, &length, &ready)) return false;
    out->bytes.assign(data, data + length);
    out->ready_ns = ready;
    sp_ring_wire_tx_done(port_);
    return true;
  }
  void advance_ns(uint64_t ns) override { now_ += ns; }
  Status cp_send(uint32_t type, const void* data, uint32_t length) override {
    return to_status(sp_ring_cp_send(port_, type, data, length));
  }
  Status cp_recv(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length) override {
    return to_status(sp_ring_cp_recv(port_, type, buf, capacity, length));
  }

 private:
  static uint64_t read_now(void* ctx) { return *static_cast<uint64_t*>(ctx); }

  uint64_t now_ = 2000000;  // away from zero, so a zero timestamp stands out
  sp_ring_port* port_;
};

std::unique_ptr<conformance::Harness> make_default() {
  sp_ring_config c;
  sp_ring_default_config(&c);
  c.port_index = 5;
  c.wwpn = 0x2000'0000'C9AA'BB05ull;
  return std::make_unique<RingHarness>(c);
}

std::unique_ptr<conformance::Harness> make_minimal() {
  sp_ring_config c;
  sp_ring_default_config(&c);
  c.wwpn = 1;
  c.rx_ring_size = 1;
  c.tx_ring_size = 1;
  c.buffer_count = 4;  // the suite holds up to four buffers at once
  c.max_frame_payload = SP_HAL_MIN_FRAME_PAYLOAD_LIMIT;
  c.max_transfer_bytes = 512;
  c.table_memory_bytes = SP_HAL_MIN_TABLE_MEM_BYTES;
  c.mbox_to_cp_depth = SP_HAL_MBOX_MIN_DEPTH;
  c.mbox_from_cp_depth = SP_HAL_MBOX_MIN_DEPTH;
  c.frame_cost_ns = 0;
  c.core_mhz = 0;
  return std::make_unique<RingHarness>(c);
}

std::unique_ptr<conformance::Harness> make_odd() {
  sp_ring_config c;
  sp_ring_default_config(&c);
  c.port_index = 61;
  c.wwpn = 0x5000'0000'0000'003Dull;
  c.rx_ring_size = 7;
  c.tx_ring_size = 2;
  c.buffer_count = 11;
  c.max_frame_payload = 2099;  // buffers of 2123 rounded up to 2128 bytes
  c.table_memory_bytes = SP_HAL_MIN_TABLE_MEM_BYTES + 4096 + 8;
  c.mbox_max_msg_size = 300;
  c.mbox_to_cp_depth = 9;
  c.mbox_from_cp_depth = 13;
  c.frame_cost_ns = 91;
  c.core_mhz = 777;
  return std::make_unique<RingHarness>(c);
}

}  // namespace
}  // namespace splitpath::hal::ring

SPLITPATH_HAL_CONFORMANCE_SUITE(ring, &splitpath::hal::ring::make_default);
SPLITPATH_HAL_CONFORMANCE_SUITE(ring_minimal, &splitpath::hal::ring::make_minimal);
SPLITPATH_HAL_CONFORMANCE_SUITE(ring_odd, &splitpath::hal::ring::make_odd);
