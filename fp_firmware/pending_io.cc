// The pending I/O tables: upstream entries (host exchanges to virtual targets)
// and downstream entries (exchanges from the virtual initiator), both fixed
// arrays with free lists, indexed straight by the exchange ids the FP hands
// out (upstream RX_ID, downstream OX_ID).
#include "fp_firmware/fast_path_impl.h"

namespace splitpath::fp {

Upstream* FastPath::Impl::up_alloc() {
  if (up_free == kNone) return nullptr;
  Upstream& u = up[up_free];
  up_free = u.first_leg;
  if (up_free == kNone) up_free_tail = kNone;
  const uint16_t generation = static_cast<uint16_t>(u.generation + 1);
  u = Upstream();
  u.generation = generation;
  u.state = Upstream::State::kCp;  // callers set the real state
  ++up_count;
  return &u;
}

void FastPath::Impl::up_release(Upstream& u) {
  // Legs still linked are abandoned with the I/O.
  while (u.first_leg != kNone)
    abort_leg(down[u.first_leg]);
  if (u.in_mirror_writes) remove_mirror_write(u);
  u.state = Upstream::State::kFree;
  u.first_leg = kNone;
  const uint32_t self = up_index(u);
  if (up_free_tail == kNone) {
    up_free = self;
  } else {
    up[up_free_tail].first_leg = self;
  }
  up_free_tail = self;
  --up_count;
}

Upstream* FastPath::Impl::up_by_utag(uint32_t utag) {
  const uint32_t index = utag & 0xFFFF;
  if (index >= config.upstream_capacity) return nullptr;
  Upstream& u = up[index];
  if (u.state == Upstream::State::kFree || u.generation != (utag >> 16)) return nullptr;
  return &u;
}

Upstream* FastPath::Impl::up_for_host_frame(const fc::FrameHeader& h) {
  if (h.rx_id == fc::kUnassignedXid) return nullptr;
  Upstream& u = up[h.rx_id % config.upstream_capacity];
  // A copy (kCopy) has no host exchange.
  if (u.state == Upstream::State::kFree || u.state == Upstream::State::kCopy ||
      up_rx_id(u) != h.rx_id || u.io.initiator != h.s_id.value || u.io.target_id != h.d_id.value ||
      u.io.ox_id != h.ox_id) {
    return nullptr;
  }
  return &u;
}

Downstream* FastPath::Impl::down_alloc(Upstream* u) {
  if (down_free == kNone) return nullptr;
  if (u != nullptr && u->legs >= config.max_legs_per_io) return nullptr;
  Downstream& d = down[down_free];
  down_free = d.next_leg;
  if (down_free == kNone) down_free_tail = kNone;
  const auto generation = static_cast<uint8_t>(d.generation + 1);
  d = Downstream();
  d.generation = generation;
  d.ox_id = exchange_id(down_index(d), generation, config.downstream_capacity);
  d.active = 1;
  d.started_ns = now();
  if (u != nullptr) {
    d.upstream = up_index(*u);
    d.next_leg = u->first_leg;
    u->first_leg = down_index(d);
    ++u->legs;
  }
  ++down_count;
  return &d;
}

void FastPath::Impl::down_release(Downstream& d) {
  if (d.upstream != kNone) {
    Upstream& u = up[d.upstream];
    const uint32_t self = down_index(d);
    for (uint32_t* link = &u.first_leg; *link != kNone; link = &down[*link].next_leg) {
      if (*link == self) {
        *link = d.next_leg;
        --u.legs;
        break;
      }
    }
  }
  if (journal_headers[down_index(d)] != nullptr) {
    free_buf(journal_headers[down_index(d)]);
    journal_headers[down_index(d)] = nullptr;
  }
  d.journal = 0;
  d.active = 0;
  d.upstream = kNone;
  d.next_leg = kNone;
  const uint32_t self = down_index(d);
  if (down_free_tail == kNone) {
    down_free = self;
  } else {
    down[down_free_tail].next_leg = self;
  }
  down_free_tail = self;
  --down_count;
}

Downstream* FastPath::Impl::down_for_frame(const fc::FrameHeader& h) {
  if (h.ox_id == fc::kUnassignedXid) return nullptr;
  Downstream& d = down[h.ox_id % config.downstream_capacity];
  if (!d.active || d.ox_id != h.ox_id || d.target != h.s_id.value) return nullptr;
  // The target's RX_ID, once known, must stay the same.
  if (d.rx_id != fc::kUnassignedXid && h.rx_id != fc::kUnassignedXid && h.rx_id != d.rx_id) {
    return nullptr;
  }
  return &d;
}

uint8_t FastPath::Impl::owner_of(const Upstream& u) {
  return u.state == Upstream::State::kFp ? fpapi::kOwnerFp : fpapi::kOwnerCp;
}

bool FastPath::Impl::matches(const Upstream& u, const fpapi::PendingFilter& f) const {
  if (u.state == Upstream::State::kFree) return false;
  // A copy (kCopy) is no host I/O: no drain waits for it; only a filter
  // naming copies (and, with a utag, its dtag) finds it, so the CP can end
  // one whose frames were lost.
  if (u.state == Upstream::State::kCopy) {
    return f.owner == fpapi::kOwnerCopy && (f.utag == fpapi::kNoTag || f.utag == u.io.utag);
  }
  if (f.owner != fpapi::kAnyOwner && f.owner != owner_of(u)) return false;
  if (u.started_ns > f.started_by_ns) return false;
  if (f.utag != fpapi::kNoTag && f.utag != utag_of(u)) return false;
  if (f.initiator != fpapi::kNoTag &&
      (f.initiator != u.io.initiator || (f.ox_id != 0xFFFF && f.ox_id != u.io.ox_id))) {
    return false;
  }
  if (f.vseg_id != fpapi::kNoTag) {
    if (u.vseg_id != f.vseg_id) return false;
    // [u.start, u.start + blocks) overlaps [f.start, f.start + f.length),
    // with the filter's end saturating (length ~0 means "to the end").
    const uint64_t f_end = f.start + f.length < f.start ? ~0ull : f.start + f.length;
    const uint64_t u_end = u.start + (u.blocks == 0 ? 1 : u.blocks);
    if (u.start >= f_end || u_end <= f.start) return false;
  }
  return true;
}

void FastPath::Impl::queue_to_cp(Upstream& u, fpapi::FaultKind reason, const fc::FcpRsp* rsp,
                                 uint32_t downstream_target) {
  u.state = Upstream::State::kCp;
  u.started_ns = now();
  fpapi::CpQueueIO q;
  q.reason = reason;
  q.io = u.io;
  q.io.utag = utag_of(u);
  if (rsp != nullptr) {
    q.downstream_status = rsp->scsi_status;
    q.downstream_residual = rsp->residual;
    q.sense.assign(rsp->sense_bytes());
  }
  q.downstream_target = downstream_target;
  ++stats.faults[static_cast<size_t>(reason)];
  post(q);
}

void FastPath::Impl::abort_leg(Downstream& d) {
  send_abts(d);
  // A copy's legs complete once, as the copy (copy.cc's end_copy).
  const bool copy_leg = d.upstream != kNone && up[d.upstream].state == Upstream::State::kCopy;
  if (!d.remap && !copy_leg) {
    fpapi::CpDispatchIOComplete c;
    c.dtag = d.dtag;
    c.utag = d.upstream == kNone ? fpapi::kNoTag : utag_of(up[d.upstream]);
    c.transport_error = 1;
    c.bytes_transferred = d.bytes;
    post(c);
  }
  down_release(d);
}

}  // namespace splitpath::fp
