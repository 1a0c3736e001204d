#include "fabric_sim/switch/port_fp.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "fabric_sim/net/link.h"

namespace splitpath::sim {

std::unique_ptr<PortFp> PortFp::create(Kernel& kernel, FramePool& pool, PortFpOwner& owner,
                                       const hal::sim::SimPortConfig& port_config,
                                       const fp::FastPathConfig& fp_config,
                                       SimTime mailbox_latency_ns, std::string* error) {
  std::unique_ptr<PortFp> p(new PortFp(kernel, pool, owner, mailbox_latency_ns));
  const char* why = nullptr;
  p->port_ = hal::sim::SimPort::create(port_config, p->clock_, &why);
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
  p->cp_buffer_.resize(port_config.mbox_max_msg_size);
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
  port_->drain_tx(
      kernel_.now(),
      [](void* ctx, const hal::sim::TxFrameView& f) {
        auto* self = static_cast<PortFp*>(ctx);
        return self->owner_.route_from_fp(self->index(), {f.data, f.length});
      },
      this);
  hal::sim::TxFrameView next;
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
