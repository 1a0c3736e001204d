#include "fabric_sim/switch/port_fp.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "fabric_sim/net/link.h"
#include "hal/ring/ring_port.h"

namespace splitpath::sim {
namespace {

class SimAsic final : public PortAsic {
 public:
  explicit SimAsic(std::unique_ptr<hal::sim::SimPort> port) : port_(std::move(port)) {}
  const sp_hal* hal() const override { return port_->hal(); }
  void set_hooks(const hal::sim::SimPortHooks& hooks) override { port_->set_hooks(hooks); }
  hal::Status push_rx(const uint8_t* bytes, uint32_t length) override {
    return port_->push_rx(bytes, length);
  }
  uint64_t busy_until_ns() const override { return port_->busy_until_ns(); }
  bool tx_front(hal::sim::TxFrameView* out) const override { return port_->tx_front(out); }
  void pop_tx() override { port_->pop_tx(); }
  hal::Status cp_send(uint32_t type, const void* data, uint32_t length) override {
    return port_->cp_send(type, data, length);
  }
  hal::Status cp_recv(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length) override {
    return port_->cp_recv(type, buf, capacity, length);
  }

 private:
  std::unique_ptr<hal::sim::SimPort> port_;
};

// hal/ring keeps a sent descriptor until the firmware reclaims it (poll); the
// switch polls the FP after every transmit drain, so buffers come back.
class RingAsic final : public PortAsic {
 public:
  explicit RingAsic(sp_ring_port* port) : port_(port) {}
  ~RingAsic() override { sp_ring_destroy(port_); }
  RingAsic(const RingAsic&) = delete;
  RingAsic& operator=(const RingAsic&) = delete;

  const sp_hal* hal() const override { return sp_ring_hal(port_); }
  void set_hooks(const hal::sim::SimPortHooks& hooks) override {
    const sp_ring_hooks h{hooks.ctx, hooks.tx_queued, hooks.rx_space, hooks.to_cp_posted};
    sp_ring_set_hooks(port_, &h);
  }
  hal::Status push_rx(const uint8_t* bytes, uint32_t length) override {
    return hal::to_status(sp_ring_wire_rx(port_, bytes, length));
  }
  uint64_t busy_until_ns() const override { return sp_ring_busy_until_ns(port_); }
  bool tx_front(hal::sim::TxFrameView* out) const override {
    return sp_ring_wire_tx_peek(port_, &out->data, &out->length, &out->ready_ns) != 0;
  }
  void pop_tx() override { sp_ring_wire_tx_done(port_); }
  hal::Status cp_send(uint32_t type, const void* data, uint32_t length) override {
    return hal::to_status(sp_ring_cp_send(port_, type, data, length));
  }
  hal::Status cp_recv(uint32_t* type, void* buf, uint32_t capacity, uint32_t* length) override {
    return hal::to_status(sp_ring_cp_recv(port_, type, buf, capacity, length));
  }

 private:
  sp_ring_port* port_;
};

uint64_t kernel_now(void* ctx) {
  return static_cast<const Kernel*>(ctx)->now();
}

std::unique_ptr<PortAsic> make_asic(PortHal kind, const hal::sim::SimPortConfig& c,
                                    const hal::sim::Clock& clock, Kernel& kernel,
                                    const char** why) {
  if (kind == PortHal::kSim) {
    auto port = hal::sim::SimPort::create(c, clock, why);
    return port ? std::make_unique<SimAsic>(std::move(port)) : nullptr;
  }
  sp_ring_config rc;
  sp_ring_default_config(&rc);
  rc.port_index = c.port_index;
  rc.wwpn = c.wwpn;
  rc.table_memory_bytes = c.table_memory_bytes;
  rc.max_transfer_bytes = c.max_transfer_bytes;
  rc.frame_cost_ns = c.frame_cost_ns;
  rc.core_mhz = c.core_mhz;
  sp_ring_port* port = sp_ring_create(&rc, sp_ring_time{&kernel, &kernel_now}, why);
  return port ? std::make_unique<RingAsic>(port) : nullptr;
}

}  // namespace

std::unique_ptr<PortFp> PortFp::create(Kernel& kernel, FramePool& pool, PortFpOwner& owner,
                                       const hal::sim::SimPortConfig& port_config,
                                       const fp::FastPathConfig& fp_config,
                                       SimTime mailbox_latency_ns, std::string* error,
                                       PortHal hal_kind) {
  std::unique_ptr<PortFp> p(new PortFp(kernel, pool, owner, mailbox_latency_ns));
  const char* why = nullptr;
  p->index_ = port_config.port_index;
  p->port_ = make_asic(hal_kind, port_config, p->clock_, kernel, &why);
  if (!p->port_) {
    *error = std::string("port ASIC: ") + (why ? why : "cannot be created");
    return nullptr;
  }
  hal::sim::SimPortHooks hooks;
  hooks.ctx = p.get();
  hooks.tx_queued = &PortFp::hook_tx_queued;
  hooks.rx_space = &PortFp::hook_rx_space;
  hooks.to_cp_posted = &PortFp::hook_to_cp_posted;
  p->port_->set_hooks(hooks);
  const fp::InitStatus s = p->fp_.init(p->port_->hal(), fp_config);
  if (s != fp::InitStatus::kOk) {
    *error = std::string("port firmware: ") + fp::init_status_name(s);
    return nullptr;
  }
  sp_hal_port_info info{};
  (void)hal::Hal(p->port_->hal()).port_info(&info);
  p->cp_buffer_.resize(info.mbox_max_msg_size);
  return p;
}

PortFp::PortFp(Kernel& kernel, FramePool& pool, PortFpOwner& owner, SimTime mailbox_latency_ns)
    : kernel_(kernel),
      pool_(pool),
      owner_(owner),
      mailbox_latency_ns_(mailbox_latency_ns),
      clock_(kernel) {}

PortFp::~PortFp() {
  while (!ingress_.empty())
    pool_.free(ingress_.pop());
}

void PortFp::deliver(Frame* frame) {
  ingress_.push(frame);
  feed_rx();
}

// Frames enter the receive ring in arrival order; the first the ring refuses
// stops the rest, which wait for the rx_space hook.
void PortFp::feed_rx() {
  bool fed = false;
  while (!ingress_.empty()) {
    Frame* f = ingress_.front();
    const hal::Status s = port_->push_rx(f->bytes, f->size);
    if (hal::is_retry(s)) break;
    ingress_.pop();
    if (f->credit_link) f->credit_link->release_credit(f->credit_side);
    pool_.free(f);  // a malformed frame (push_rx refused it for good) is dropped here too
    fed = fed || s == hal::Status::kOk;
  }
  if (fed) schedule_poll();
}

void PortFp::to_fp(uint32_t type, std::span<const uint8_t> payload) {
  in_flight_.push_back(Message{type, {payload.begin(), payload.end()}});
  kernel_.schedule_in<&PortFp::on_message_arrives>(mailbox_latency_ns_, this);
}

// Every message travels the same latency, so they arrive in the order sent.
void PortFp::on_message_arrives(uint64_t) {
  mailbox_wait_.push_back(std::move(in_flight_.front()));
  in_flight_.pop_front();
  feed_mailbox();
}

void PortFp::feed_mailbox() {
  bool fed = false;
  while (!mailbox_wait_.empty()) {
    const Message& m = mailbox_wait_.front();
    if (hal::is_retry(
            port_->cp_send(m.type, m.payload.data(), static_cast<uint32_t>(m.payload.size())))) {
      break;
    }
    mailbox_wait_.pop_front();
    fed = true;
  }
  if (fed) schedule_poll();
}

void PortFp::schedule_poll() {
  if (poll_scheduled_) return;
  poll_scheduled_ = true;
  const SimTime now = kernel_.now();
  const SimTime busy = port_->busy_until_ns();
  const SimTime at = busy > now + kPollLead ? busy - kPollLead : now;
  kernel_.schedule_at<&PortFp::on_poll>(at, this);
}

void PortFp::on_poll(uint64_t) {
  poll_scheduled_ = false;
  // One turn of the firmware loop per event; a loop with more to do is polled
  // again, after the engine has caught up if it is far behind. A firmware
  // held back (full transmit ring, no buffer, outbox short of room) says it
  // is idle: what frees the resource (a transmit drain, the CP taking a
  // message, a frame or message arriving) polls it again.
  const bool more = fp_.poll();
  feed_mailbox();
  feed_rx();
  if (more) schedule_poll();
}

void PortFp::hook_tx_queued(void* ctx, uint64_t ready_ns) {
  auto* self = static_cast<PortFp*>(ctx);
  const SimTime at = std::max<SimTime>(ready_ns, self->kernel_.now());
  if (at >= self->drain_at_) return;
  self->drain_at_ = at;
  self->kernel_.schedule_at<&PortFp::on_drain>(at, self, at);
}

void PortFp::on_drain(uint64_t scheduled_for) {
  if (scheduled_for != drain_at_) return;  // superseded by an earlier drain
  drain_at_ = ~SimTime{0};
  hal::sim::TxFrameView next;
  while (port_->tx_front(&next) && next.ready_ns <= kernel_.now() &&
         owner_.route_from_fp(index(), {next.data, next.length})) {
    port_->pop_tx();
  }
  if (port_->tx_front(&next)) {
    const SimTime at = std::max<SimTime>(next.ready_ns, kernel_.now() + 1);
    drain_at_ = at;
    kernel_.schedule_at<&PortFp::on_drain>(at, this, at);
  }
  // Room in the transmit ring lets a firmware holding frames go on.
  schedule_poll();
}

void PortFp::hook_rx_space(void* ctx) {
  auto* self = static_cast<PortFp*>(ctx);
  self->kernel_.schedule_in(
      0, [](void* c, uint64_t) { static_cast<PortFp*>(c)->feed_rx(); }, self);
}

void PortFp::hook_to_cp_posted(void* ctx) {
  auto* self = static_cast<PortFp*>(ctx);
  self->kernel_.schedule_in<&PortFp::on_message_to_cp>(self->mailbox_latency_ns_, self);
}

// One event per posted message, each one latency after its post: the oldest
// message is the one due.
void PortFp::on_message_to_cp(uint64_t) {
  uint32_t type = 0;
  uint32_t length = 0;
  const hal::Status s =
      port_->cp_recv(&type, cp_buffer_.data(), static_cast<uint32_t>(cp_buffer_.size()), &length);
  if (s != hal::Status::kOk) return;
  // The FP may post again once the mailbox has room.
  schedule_poll();
  owner_.on_fp_message(index(), type, {cp_buffer_.data(), length});
}

}  // namespace splitpath::sim
