#include "fabric_sim/net/link.h"

#include <algorithm>
#include <utility>

namespace splitpath::sim {

// Event arguments carry the direction in bit 0 and the link epoch above it, so
// arrivals and credits scheduled before a link reset are recognised and ignored.
static uint64_t pack(uint64_t epoch, int side) {
  return (epoch << 1) | static_cast<uint64_t>(side);
}

Link::Link(Kernel& kernel, FramePool& pool, std::string name, LinkParams params)
    : kernel_(kernel), pool_(pool), name_(std::move(name)), params_(params) {
  for (Direction& d : dir_) {
    d.credits = params_.bb_credit;
    d.returning.resize(params_.bb_credit);
  }
}

void Link::collect_credits(Direction& d, SimTime now) {
  while (d.returning_count > 0 && d.returning[d.returning_head] <= now) {
    d.returning_head = static_cast<uint16_t>((d.returning_head + 1) % d.returning.size());
    --d.returning_count;
    ++d.credits;
  }
}

SimTime Link::serialization_ns(uint32_t size) const {
  // bytes / (MB/s) = microseconds; round up to whole nanoseconds.
  const uint64_t mbps = link_megabytes_per_second(params_.speed);
  const uint64_t wire = uint64_t{size} + kWireOverheadBytes;
  return (wire * 1000 + mbps - 1) / mbps;
}

void Link::transmit(int side, Frame* frame) {
  Direction& d = dir_[side];
  if (!up_) {
    ++d.stats.dropped;
    if (frame->credit_link) frame->credit_link->release_credit(frame->credit_side);
    pool_.free(frame);
    return;
  }
  d.queue.push(frame);
  try_send(side);
}

void Link::try_send(int side) {
  Direction& d = dir_[side];
  while (!d.queue.empty()) {
    const SimTime now = kernel_.now();
    collect_credits(d, now);
    Frame* f = d.queue.front();
    SimTime start = std::max(d.busy_until, f->ready_at);
    if (d.credits == 0) {
      // Blocked until the next R_RDY arrives; with none on the way, until
      // release_credit() sends one.
      if (d.returning_count == 0) return;
      start = std::max(start, d.returning[d.returning_head]);
    }
    if (start > now) {
      if (!d.kick_pending) {
        d.kick_pending = true;
        kernel_.schedule_at<&Link::on_kick>(start, this, pack(epoch_, side));
      }
      return;
    }
    d.queue.pop();
    --d.credits;
    // The frame leaves the buffer it occupied on its way in (a switch's ingress
    // port): that buffer's credit goes back now.
    if (f->credit_link) {
      Link* in = f->credit_link;
      f->credit_link = nullptr;
      in->release_credit(f->credit_side);
    }
    const SimTime ser = serialization_ns(f->size);
    d.busy_until = now + ser;
    d.stats.frames++;
    d.stats.bytes += f->size;
    d.in_flight.push(f);
    d.last_arrival = std::max(d.last_arrival, now + ser + params_.propagation_ns);
    kernel_.schedule_at<&Link::on_arrival>(d.last_arrival, this, pack(epoch_, side));
  }
}

void Link::on_kick(uint64_t arg) {
  const int side = static_cast<int>(arg & 1);
  if ((arg >> 1) != epoch_) return;
  dir_[side].kick_pending = false;
  try_send(side);
}

void Link::on_arrival(uint64_t arg) {
  const int side = static_cast<int>(arg & 1);
  if ((arg >> 1) != epoch_) return;
  Direction& d = dir_[side];
  Frame* f = d.in_flight.pop();
  d.receiver->on_frame(*this, d.receiver_side, f);
}

void Link::release_credit(int side) {
  // The R_RDY travels from `side` back to the transmitter at the other end.
  if (!up_) return;
  Direction& d = dir_[1 - side];
  if (d.credits + d.returning_count >= params_.bb_credit) return;  // a stray R_RDY
  const size_t tail = (d.returning_head + d.returning_count) % d.returning.size();
  d.last_return = std::max(d.last_return, kernel_.now() + params_.propagation_ns);
  d.returning[tail] = d.last_return;
  ++d.returning_count;
  if (d.credits == 0 && !d.kick_pending) try_send(1 - side);
}

void Link::drop_all(Direction& d) {
  while (!d.queue.empty()) {
    Frame* f = d.queue.pop();
    if (f->credit_link) f->credit_link->release_credit(f->credit_side);
    ++d.stats.dropped;
    pool_.free(f);
  }
  while (!d.in_flight.empty()) {
    ++d.stats.dropped;
    pool_.free(d.in_flight.pop());
  }
}

void Link::set_up(bool up) {
  if (up == up_) return;
  up_ = up;
  ++epoch_;
  for (Direction& d : dir_) {
    drop_all(d);
    d.kick_pending = false;
    d.busy_until = kernel_.now();
    d.credits = params_.bb_credit;
    d.returning_head = 0;
    d.returning_count = 0;
    d.last_arrival = 0;
    d.last_return = 0;
  }
  for (int s = 0; s < 2; ++s) {
    if (dir_[1 - s].receiver) dir_[1 - s].receiver->on_link_state(*this, s, up);
  }
}

}  // namespace splitpath::sim
