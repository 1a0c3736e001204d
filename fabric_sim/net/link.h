// A full-duplex Fibre Channel link between two ports, with per-frame
// serialization delay at the link rate, a propagation delay, in-order delivery
// and buffer-to-buffer credit flow control.
//
// Each direction has a transmit queue. A frame starts onto the wire when the
// transmitter is idle, the frame is ready (Frame::ready_at) and the transmitter
// holds a credit; it arrives at the far port after its serialization time plus
// the propagation delay. The receiver owns the frame from then on and returns
// the credit (an R_RDY, which takes the propagation delay to travel back) by
// calling release_credit() once it no longer holds the receive buffer.
//
// R_RDYs in flight are kept as arrival times, not events: the transmitter
// collects those that have arrived when it next wants to send, and schedules a
// wake-up only when it is blocked waiting for one. That keeps a switched frame
// at about three events.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/net/frame.h"

namespace splitpath::sim {

class Link;

// Anything that can sit at the end of a link: a switch port, a host, a disk.
class FramePort {
 public:
  virtual ~FramePort() = default;
  // A frame has arrived over `link` at side `side`. The port owns the frame and
  // must call link.release_credit(side) when its receive buffer is free.
  virtual void on_frame(Link& link, int side, Frame* frame) = 0;
  // The link went down or came up.
  virtual void on_link_state(Link& /*link*/, int /*side*/, bool /*up*/) {}
};

// FC link rates and their data rates in MB/s (after line coding).
enum class LinkSpeed : uint8_t { k8G, k16G, k32G, k64G };
constexpr uint32_t link_megabytes_per_second(LinkSpeed s) {
  switch (s) {
    case LinkSpeed::k8G:
      return 800;
    case LinkSpeed::k16G:
      return 1600;
    case LinkSpeed::k32G:
      return 3200;
    case LinkSpeed::k64G:
      return 6400;
  }
  return 800;
}

struct LinkParams {
  LinkSpeed speed = LinkSpeed::k32G;
  SimTime propagation_ns = 500;  // ~100 m of fibre
  uint16_t bb_credit = 32;       // receive buffers at each end
};

struct LinkDirectionStats {
  uint64_t frames = 0;
  uint64_t bytes = 0;
  uint64_t dropped = 0;  // transmitted while the link was down
};

class Link {
 public:
  // Bytes a frame occupies on the wire besides header and payload: SOF, CRC,
  // EOF and the minimum six idle words between frames.
  static constexpr uint32_t kWireOverheadBytes = 4 + 4 + 4 + 24;

  Link(Kernel& kernel, FramePool& pool, std::string name, LinkParams params);
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Connects `port` at `side`: it receives the frames sent from the other side.
  void attach(int side, FramePort* port) {
    dir_[1 - side].receiver = port;
    dir_[1 - side].receiver_side = side;
  }

  // Queues `frame` for transmission from `side` to the other side. The link owns
  // the frame until it is delivered (or dropped, and then freed, if the link is
  // down).
  void transmit(int side, Frame* frame);

  // The port at `side` frees one receive buffer: one credit goes back to the far
  // transmitter.
  void release_credit(int side);

  // Brings the link down (frames queued or in flight are lost) or up (credits
  // are restored). Both ends are told.
  void set_up(bool up);
  bool up() const { return up_; }
  // The propagation delay of frames (and R_RDYs) sent from now on (a slow or
  // long path); what is in flight keeps its delay, and nothing overtakes it.
  void set_propagation(SimTime ns) { params_.propagation_ns = ns; }

  const std::string& name() const { return name_; }
  const LinkParams& params() const { return params_; }
  // Statistics of the direction leaving `side`.
  const LinkDirectionStats& stats(int side) const { return dir_[side].stats; }
  size_t queued(int side) const { return dir_[side].queue.size(); }
  // Serialization time of a frame of `size` bytes (header + payload).
  SimTime serialization_ns(uint32_t size) const;

 private:
  // One direction, from side s (dir_[s]) to side 1-s.
  struct Direction {
    FrameQueue queue;      // waiting to be sent
    FrameQueue in_flight;  // on the wire, in arrival order
    SimTime busy_until = 0;
    uint16_t credits = 0;
    // R_RDYs travelling back to this transmitter: arrival times, oldest first
    // (a ring of bb_credit entries).
    std::vector<SimTime> returning;
    uint16_t returning_head = 0;
    uint16_t returning_count = 0;
    bool kick_pending = false;
    SimTime last_arrival = 0;  // frames arrive in the order sent, whatever the delay
    SimTime last_return = 0;   // and R_RDYs too
    FramePort* receiver = nullptr;
    int receiver_side = 0;
    LinkDirectionStats stats;
  };

  void try_send(int side);
  void on_kick(uint64_t side);
  void on_arrival(uint64_t side);
  void collect_credits(Direction& d, SimTime now);
  void drop_all(Direction& d);

  Kernel& kernel_;
  FramePool& pool_;
  std::string name_;
  LinkParams params_;
  bool up_ = true;
  uint64_t epoch_ = 0;  // bumped on link down so stale events are ignored
  Direction dir_[2];
};

}  // namespace splitpath::sim
