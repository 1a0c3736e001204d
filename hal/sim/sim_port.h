// The simulator's port ASIC: a software implementation of hal.h.
//
// A SimPort owns, for one switch port, everything the firmware sees through
// sp_hal: a fixed pool of frame buffers, a receive ring and a transmit ring of
// buffer ids, table memory of a configured size, a bounded mailbox pair to the
// CP, and a processing engine that charges simulated time per frame. All of it
// is allocated by create(); nothing is allocated afterwards.
//
// Two other parties drive it besides the firmware:
// - the wire side (the switch, or a test): push_rx() delivers a frame from the
//   link, tx_front()/pop_tx()/drain_tx() take transmitted frames;
// - the CP side: cp_send()/cp_recv() are the CP's end of the mailbox.
// Neither needs the fabric: time comes from an injected Clock. Everything runs
// in one thread: the wire and CP sides call the port from simulator events,
// never from inside a hook or a firmware call.
//
// Processing cost. Firmware code runs in zero simulated time, so the port
// models the time it would take: an engine that is busy until busy_until_ns().
// Each frame the firmware receives, and each frame it originates (transmits
// from an allocated buffer), occupies the engine for frame_cost_ns, starting no
// earlier than now; charge_cycles() occupies it for cycles / core_mhz us more.
// A frame the firmware transmits may leave no earlier than the engine's
// busy-until time at that moment (its ready time), so a port under load
// delivers at most one frame per frame_cost_ns, and the transmit ring, the
// receive ring and finally the link's credits fill up behind it.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "hal/sim/clock.h"
#include "splitpath/hal.h"

namespace splitpath::hal::sim {

struct SimPortConfig {
  uint32_t port_index = 0;
  uint64_t wwpn = 0;  // required: non-zero
  uint32_t rx_ring_size = 64;
  uint32_t tx_ring_size = 64;
  // At least rx_ring_size + tx_ring_size, so a full transmit ring cannot starve
  // reception; the rest is what the firmware may hold.
  uint32_t buffer_count = 256;
  uint32_t max_frame_payload = SP_HAL_MAX_FRAME_PAYLOAD;
  uint32_t max_transfer_bytes = 1u << 20;
  uint64_t table_memory_bytes = 1u << 20;
  uint32_t mbox_max_msg_size = 512;
  uint32_t mbox_to_cp_depth = 64;
  uint32_t mbox_from_cp_depth = 64;
  // 200 ns per frame keeps up with full-size frames at 32GFC (about 660 ns each
  // on the wire) and limits a port to 5 M frames/s of small ones.
  uint32_t frame_cost_ns = 200;
  uint32_t core_mhz = 1000;  // 0: charged cycles are counted but take no time
};

// Callbacks to whatever hosts the port (the switch). Each may be null. They run
// inside port operations, often inside the firmware's call, so they must only
// record or schedule work, never call the port or the firmware.
struct SimPortHooks {
  void* ctx = nullptr;
  // tx_burst queued frames; `ready_ns` is the ready time of the first of them.
  void (*tx_queued)(void* ctx, uint64_t ready_ns) = nullptr;
  // push_rx was refused since the last call and the port can now accept a frame.
  void (*rx_space)(void* ctx) = nullptr;
  // The firmware posted a message to the CP.
  void (*to_cp_posted)(void* ctx) = nullptr;
};

// A transmitted frame waiting in the transmit ring. `data` stays valid until
// the frame is popped.
struct TxFrameView {
  const uint8_t* data = nullptr;
  uint32_t length = 0;
  uint64_t ready_ns = 0;  // earliest time it may start onto the link
};

class SimPort {
 public:
  // Why `config` is unusable, or nullptr if it is fine.
  static const char* check_config(const SimPortConfig& config);
  // A port reading time from `clock`, which must outlive it. Returns nullptr,
  // with the reason in *error if error is non-null, when the configuration is
  // invalid or its memory cannot be had.
  static std::unique_ptr<SimPort> create(const SimPortConfig& config, const Clock& clock,
                                         const char** error = nullptr);

  SimPort(const SimPort&) = delete;
  SimPort& operator=(const SimPort&) = delete;
  ~SimPort() = default;

  // What the firmware gets. Valid for the life of the port.
  const sp_hal* hal() const { return &hal_; }
  const SimPortConfig& config() const { return config_; }
  void set_hooks(const SimPortHooks& hooks) { hooks_ = hooks; }

  // --- Wire side ---
  // A frame arrived from the link; its bytes are copied into a buffer from the
  // pool, stamped with now. kOk: queued, the caller may return the link credit.
  // kRetry (ring full) or kNoBuffers (pool empty): nothing queued; the caller
  // keeps the frame and its credit and tries again after the rx_space hook.
  // kInvalidArgument (null bytes, length < 24) or kTooLarge (length >
  // max_frame_size): malformed, the caller drops it.
  Status push_rx(const uint8_t* bytes, uint32_t length);
  bool can_accept_rx() const { return rx_ring_.count < rx_ring_.capacity && free_count_ > 0; }
  uint32_t rx_queued() const { return rx_ring_.count; }

  uint32_t tx_queued() const { return tx_ring_.count; }
  // The oldest transmitted frame, ready or not; false when the ring is empty.
  bool tx_front(TxFrameView* out) const;
  // Removes the oldest transmitted frame and frees its buffer. The ring must not
  // be empty.
  void pop_tx();
  // Hands `sink` each frame, oldest first, whose ready time is at most
  // `now_ns`, popping those it accepts; stops at the first it refuses (returns
  // false) or that is not ready. Returns the number popped.
  using TxSink = bool (*)(void* ctx, const TxFrameView& frame);
  uint32_t drain_tx(uint64_t now_ns, TxSink sink, void* ctx);

  // --- CP side of the mailbox; same results as mbox_send / mbox_recv ---
  Status cp_send(uint32_t type, const void* data, uint32_t length);
  Status cp_recv(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length);
  uint32_t to_cp_queued() const { return to_cp_.count; }
  uint32_t from_cp_queued() const { return from_cp_.count; }

  // --- Introspection ---
  uint64_t now_ns() const;
  uint64_t busy_until_ns() const { return busy_until_ns_; }
  uint32_t free_buffers() const { return free_count_; }
  const sp_hal_stats& stats() const { return stats_; }

 private:
  enum class BufState : uint8_t {
    kFree,
    kRxQueued,  // in the receive ring
    kFirmware,  // held by the firmware
    kInBatch,   // held by the firmware and named earlier in the call being checked
    kTxQueued,  // in the transmit ring
  };

  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  using AlignedBytes = std::unique_ptr<uint8_t, FreeDeleter>;

  // A FIFO of buffer ids with a ready time per entry (used by the transmit ring).
  struct Ring {
    std::vector<uint32_t> ids;
    std::vector<uint64_t> ready_ns;
    uint32_t capacity = 0;
    uint32_t head = 0;
    uint32_t count = 0;
    void init(uint32_t n) {
      ids.assign(n, 0);
      ready_ns.assign(n, 0);
      capacity = n;
    }
    uint32_t slot(uint32_t i) const { return (head + i) % capacity; }
    void push(uint32_t id, uint64_t ready) {
      const uint32_t s = slot(count);
      ids[s] = id;
      ready_ns[s] = ready;
      ++count;
    }
    void pop() {
      head = (head + 1) % capacity;
      --count;
    }
  };

  // One direction of the mailbox: `depth` fixed slots of max_size bytes.
  struct Mailbox {
    std::vector<uint8_t> bytes;
    std::vector<uint32_t> types;
    std::vector<uint32_t> lengths;
    uint32_t depth = 0;
    uint32_t max_size = 0;
    uint32_t head = 0;
    uint32_t count = 0;
    void init(uint32_t n, uint32_t size);
    Status push(uint32_t type, const void* data, uint32_t length);
    Status pop(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length);
  };

  SimPort(const SimPortConfig& config, const Clock& clock);
  bool allocate(const char** error);

  static SimPort* self(sp_hal_port* port) { return reinterpret_cast<SimPort*>(port); }
  // The operations of the tables in sim_port.cc.
  static sp_hal_status op_rx_burst(sp_hal_port* port, sp_hal_buf** bufs, uint32_t max,
                                   uint32_t* received);
  static sp_hal_status op_tx_burst(sp_hal_port* port, sp_hal_buf* const* bufs, uint32_t count,
                                   uint32_t* accepted);
  static sp_hal_status op_alloc_bufs(sp_hal_port* port, sp_hal_buf** bufs, uint32_t count);
  static sp_hal_status op_free_bufs(sp_hal_port* port, sp_hal_buf* const* bufs, uint32_t count);
  static uint64_t op_now_ns(sp_hal_port* port);
  static sp_hal_status op_charge_cycles(sp_hal_port* port, uint32_t cycles);
  static sp_hal_status op_port_info(sp_hal_port* port, sp_hal_port_info* info);
  static sp_hal_status op_table_memory(sp_hal_port* port, void** base, uint64_t* size);
  static sp_hal_status op_mbox_send(sp_hal_port* port, uint32_t type, const void* data,
                                    uint32_t length);
  static sp_hal_status op_mbox_recv(sp_hal_port* port, uint32_t* type, void* buf, uint32_t capacity,
                                    uint32_t* length);
  static sp_hal_status op_get_stats(sp_hal_port* port, sp_hal_stats* stats);

  static const sp_hal_fast_ops kFastOps;
  static const sp_hal_ctrl_ops kCtrlOps;

  sp_hal_status rx_burst(sp_hal_buf** bufs, uint32_t max, uint32_t* received);
  sp_hal_status tx_burst(sp_hal_buf* const* bufs, uint32_t count, uint32_t* accepted);
  sp_hal_status alloc_bufs(sp_hal_buf** bufs, uint32_t count);
  sp_hal_status free_bufs(sp_hal_buf* const* bufs, uint32_t count);
  void charge_cycles(uint32_t cycles);
  void fill_info(sp_hal_port_info* info) const;

  // Checks that bufs[0 .. count) are distinct buffers the firmware holds, with
  // lengths fit to send when `for_tx`, and marks them kInBatch. On failure
  // restores them and returns the status; the call then changes nothing.
  sp_hal_status claim_batch(sp_hal_buf* const* bufs, uint32_t count, bool for_tx);
  void release_to_pool(uint32_t id);
  void occupy_engine(uint64_t ns);
  sp_hal_status invalid(sp_hal_status status) {
    ++stats_.invalid_calls;
    return status;
  }
  void notify_rx_space();

  SimPortConfig config_;
  const Clock& clock_;
  mutable uint64_t last_now_ns_ = 0;
  uint32_t max_frame_size_ = 0;
  uint32_t buf_stride_ = 0;  // bytes between buffers: max_frame_size rounded up to 64

  sp_hal hal_{};
  SimPortHooks hooks_;

  AlignedBytes buf_memory_;
  AlignedBytes table_memory_;
  std::vector<sp_hal_buf> descs_;
  std::vector<BufState> state_;
  std::vector<uint8_t> originated_;  // 1: allocated by the firmware, not received
  std::vector<uint32_t> free_ids_;   // a stack of free buffer ids
  uint32_t free_count_ = 0;
  Ring rx_ring_;
  Ring tx_ring_;
  Mailbox to_cp_;
  Mailbox from_cp_;
  bool rx_refused_ = false;  // push_rx refused since the last rx_space notification

  uint64_t busy_until_ns_ = 0;
  uint64_t cycle_remainder_ = 0;  // cycles * 1000 not yet converted to whole ns
  sp_hal_stats stats_{};
};

}  // namespace splitpath::hal::sim
