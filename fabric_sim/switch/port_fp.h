// One switch port's fast path as the simulator runs it: the port ASIC (hal/sim's
// SimPort, or hal/ring's ring port: PortHal) with the port firmware
// (fp::FastPath) on it, driven by kernel events.
//
// - Frames reach the FP through deliver(): they wait in an ingress queue,
//   holding the link credit of the port they came in on, until the port's
//   receive ring takes them; the credit returns then. A busy FP (its engine
//   more than kPollLead behind) is polled later, so its rings fill and the
//   links behind it run out of credit, as on hardware.
// - Frames the FP transmits leave its transmit ring at their ready time (the
//   ASIC's cost model) and go to the owner's route_from_fp().
// - FP API messages: to_fp() posts a CP message after the mailbox latency
//   (held while the mailbox is full); messages the FP posts reach the owner's
//   on_fp_message() one mailbox latency after they were posted.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/net/frame.h"
#include "fp_firmware/fast_path.h"
#include "hal/sim/kernel_clock.h"
#include "hal/sim/sim_port.h"

namespace splitpath::sim {

// Which HAL implementation is the port ASIC (topology `fp.hal`).
enum class PortHal : uint8_t {
  kSim,   // hal/sim SimPort, configured from SimPortConfig
  kRing,  // hal/ring: its own rings, buffers and mailboxes; identity, table
          // memory, transfer limit and frame cost from SimPortConfig
};

// The port ASIC's wire and CP sides as PortFp drives them, over either HAL
// (adapters in port_fp.cc).
class PortAsic {
 public:
  virtual ~PortAsic() = default;
  virtual const sp_hal* hal() const = 0;
  // The same three hooks on either HAL (hal/ring calls tx_queued its doorbell).
  virtual void set_hooks(const hal::sim::SimPortHooks& hooks) = 0;
  // As SimPort::push_rx.
  virtual hal::Status push_rx(const uint8_t* bytes, uint32_t length) = 0;
  virtual uint64_t busy_until_ns() const = 0;
  // The oldest transmitted frame not yet taken by the wire; false if none.
  virtual bool tx_front(hal::sim::TxFrameView* out) const = 0;
  // The wire took the frame tx_front() returned.
  virtual void pop_tx() = 0;
  virtual hal::Status cp_send(uint32_t type, const void* data, uint32_t length) = 0;
  virtual hal::Status cp_recv(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length) = 0;
};

// What hosts the port FPs (the switch's virtualization).
class PortFpOwner {
 public:
  virtual ~PortFpOwner() = default;
  // A frame the FP of `port` transmitted. Returns false to be asked again
  // later (the frame stays in the transmit ring).
  virtual bool route_from_fp(uint32_t port, std::span<const uint8_t> frame) = 0;
  // A message the FP of `port` posted to the CP, after the mailbox latency.
  virtual void on_fp_message(uint32_t port, uint32_t type, std::span<const uint8_t> payload) = 0;
};

class PortFp {
 public:
  // Fails (nullptr, *error set) if the port or the firmware refuse the
  // configuration (e.g. table memory too small for the FP's tables).
  static std::unique_ptr<PortFp> create(Kernel& kernel, FramePool& pool, PortFpOwner& owner,
                                        const hal::sim::SimPortConfig& port_config,
                                        const fp::FastPathConfig& fp_config,
                                        SimTime mailbox_latency_ns, std::string* error,
                                        PortHal hal_kind = PortHal::kSim);
  ~PortFp();
  PortFp(const PortFp&) = delete;
  PortFp& operator=(const PortFp&) = delete;

  // A frame for this FP. Takes ownership; releases frame->credit_link's
  // credit (if any) once the port has taken it.
  void deliver(Frame* frame);
  // Posts a CP message to this FP, arriving one mailbox latency from now.
  void to_fp(uint32_t type, std::span<const uint8_t> payload);

  const fp::FastPath& firmware() const { return fp_; }
  const PortAsic& asic() const { return *port_; }
  uint32_t index() const { return index_; }

 private:
  // How far ahead of the engine the firmware may run: beyond it, the next
  // poll waits for the engine.
  static constexpr SimTime kPollLead = 2 * kNsPerUs;

  struct Message {
    uint32_t type = 0;
    std::vector<uint8_t> payload;
  };

  PortFp(Kernel& kernel, FramePool& pool, PortFpOwner& owner, SimTime mailbox_latency_ns);

  static void hook_tx_queued(void* ctx, uint64_t ready_ns);
  static void hook_rx_space(void* ctx);
  static void hook_to_cp_posted(void* ctx);

  void schedule_poll();
  void on_poll(uint64_t);
  void on_drain(uint64_t);
  void on_message_arrives(uint64_t);
  void on_message_to_cp(uint64_t);
  void feed_rx();
  void feed_mailbox();

  Kernel& kernel_;
  FramePool& pool_;
  PortFpOwner& owner_;
  SimTime mailbox_latency_ns_;
  hal::sim::KernelClock clock_;
  std::unique_ptr<PortAsic> port_;
  uint32_t index_ = 0;
  fp::FastPath fp_;

  FrameQueue ingress_;                // frames the receive ring has not taken yet
  std::deque<Message> in_flight_;     // CP messages on their way (mailbox latency)
  std::deque<Message> mailbox_wait_;  // arrived, waiting for room in the mailbox
  bool poll_scheduled_ = false;
  SimTime drain_at_ = ~SimTime{0};  // time of the scheduled transmit drain; ~0: none
  std::vector<uint8_t> cp_buffer_;
};

}  // namespace splitpath::sim
