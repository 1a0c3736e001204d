// The write-splitting primitive (RAID 1, the primitives after figure 18) and
// FP serialization (figure 16, step 120 of figure 7):
// - a READ through a mirror entry is remapped to one readable side, round
//   robin among the sides of the lowest read cost (per redirect entry);
// - a WRITE overlapping a write still outstanding in this FP's upstream
//   pending list faults to the CP (kSerialization), which serializes it
//   (figure 17); any other WRITE gets one downstream I/O per writable side,
//   all stamped with one dispatch time. The host is asked for data only as
//   far as every side is ready (XFER_RDY gating), each host data frame goes
//   to every side (one copy per extra side from the HAL buffer pool), and the
//   host gets GOOD once every side has; a side failing aborts the others and
//   hands the I/O to the CP.
// A stripe of mirrors (RAID 10) comes here with the column its I/O falls in,
// viewed as a mirror; serialization compares VSEG blocks, so it covers every
// column of the VSEG at once.
// The same XFER_RDY gating and fan-out serve FPDispatchIO legs the CP sends
// as copies (FpDispatchIO::copies): the CP's own writes to a mirror.
#include <cstring>

#include "fp_firmware/fast_path_impl.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"

namespace splitpath::fp {

namespace {

bool same_group(const Downstream& a, const Downstream& b) {
  return a.direction == fpapi::DataDirection::kWrite && b.direction == a.direction &&
         a.copies == b.copies && a.upstream_offset == b.upstream_offset &&
         a.data_length == b.data_length;
}

void set_relative_offset(uint8_t* frame, uint32_t offset) {
  fc::store_be24(frame + 9, fc::load_be24(frame + 9) | fc::fctl::kRelativeOffsetPresent);
  fc::store_be32(frame + 20, offset);
}

}  // namespace

bool FastPath::Impl::overlaps_mirror_write(uint32_t vseg_id, uint64_t start,
                                           uint32_t blocks) const {
  for (uint32_t i = mirror_writes; i != kNone; i = up[i].next_mirror_write) {
    const Upstream& w = up[i];
    if (w.vseg_id == vseg_id && start < w.start + w.blocks && w.start < start + blocks) return true;
  }
  return false;
}

void FastPath::Impl::add_mirror_write(Upstream& u) {
  if (u.in_mirror_writes) return;
  u.in_mirror_writes = 1;
  u.next_mirror_write = mirror_writes;
  mirror_writes = up_index(u);
}

void FastPath::Impl::remove_mirror_write(Upstream& u) {
  const uint32_t self = up_index(u);
  for (uint32_t* link = &mirror_writes; *link != kNone; link = &up[*link].next_mirror_write) {
    if (*link == self) {
      *link = u.next_mirror_write;
      break;
    }
  }
  u.in_mirror_writes = 0;
  u.next_mirror_write = kNone;
}

void FastPath::Impl::dispatch_mirror(Upstream& u, Redirect& r, const map::StorageDescriptor& desc,
                                     uint64_t side_lba) {
  const uint32_t sides = desc.mirror_sides();
  if (!u.is_write) {
    const int side = desc.read_side(r.read_turn);
    // No readable side: the CP decides (a later issue handles dead sides).
    if (side < 0) return queue_to_cp(u, fpapi::FaultKind::kCapacity);
    r.read_turn = static_cast<uint8_t>((static_cast<uint32_t>(side) + 1) % sides);
    return dispatch_remap(u, desc.locate_side(static_cast<uint32_t>(side), side_lba).target);
  }

  // Step 120 (figure 16): a write overlapping an outstanding one is the CP's
  // to serialize; it stays in the list so later overlapping writes follow it.
  if (!config.skip_serialization_for_testing &&
      overlaps_mirror_write(u.vseg_id, u.start, u.blocks)) {
    add_mirror_write(u);
    return queue_to_cp(u, fpapi::FaultKind::kSerialization);
  }

  uint32_t writable[map::kMaxMirrorSides];
  uint32_t count = 0;
  for (uint32_t i = 0; i < sides; ++i) {
    if (map::side_writable(desc.side(i).state)) writable[count++] = i;
  }
  sp_hal_buf* bufs[map::kMaxMirrorSides];
  if (count == 0 || hal.alloc_bufs(bufs, count) != hal::Status::kOk) {
    return queue_to_cp(u, fpapi::FaultKind::kCapacity);
  }
  Downstream* legs[map::kMaxMirrorSides];
  for (uint32_t i = 0; i < count; ++i) {
    legs[i] = down_alloc(&u);
    if (legs[i] == nullptr) {
      for (uint32_t j = 0; j < i; ++j)
        down_release(*legs[j]);
      (void)hal.free_bufs(bufs, count);
      return queue_to_cp(u, fpapi::FaultKind::kCapacity);
    }
  }
  (void)hal.charge_cycles(config.classify_cycles * (count - 1));
  const RwCommand rw = decode_rw(u.io);
  const uint64_t t = now();
  u.state = Upstream::State::kFp;
  u.started_ns = t;
  add_mirror_write(u);
  for (uint32_t i = 0; i < count; ++i) {
    Downstream& d = *legs[i];
    const map::Location loc = desc.locate_side(writable[i], side_lba);
    d.remap = 1;
    d.direction = fpapi::DataDirection::kWrite;
    d.target = loc.target.port_id;
    d.data_length = u.io.data_length;
    d.copies = static_cast<uint8_t>(count);
    d.started_ns = t;
    uint8_t cdb[fpapi::kCdbSize] = {};
    fc::encode_read_write16(true, loc.target.start_lba, u.blocks, rw.fua, rw.dpo,
                            std::span<uint8_t, 16>(cdb, 16));
    send_cmnd(bufs[i], d, loc.target.lun, std::span<const uint8_t>(cdb, sizeof cdb),
              u.io.task_attribute);
  }
}

void FastPath::Impl::on_write_leg_xfer_rdy(sp_hal_buf* buf, Downstream& d, Upstream& u,
                                           uint32_t offset, uint32_t length) {
  uint8_t* p = buf->data + fc::kFrameHeaderSize;
  if (d.journal) {
    // The header block first; what is left is in the host's offsets.
    if (!journal_leg_xfer_rdy(d, u, offset, length, &offset, &length)) {
      // No buffer for the header block's frames: the record cannot be
      // written, so the write fails as when host data cannot be copied.
      free_buf(buf);
      return fail_split_write(u, d);
    }
    if (length == 0) {
      free_buf(buf);
      return;
    }
  }
  readdress(buf->data, u.io.initiator, u.io.target_id, u.io.ox_id, up_rx_id(u));
  if (d.copies <= 1) {
    fc::store_be32(p, offset + d.upstream_offset);
    transmit(buf);
    return;
  }
  // What the host was asked for so far: the group's smallest ready_end
  // (0 until every copy is dispatched).
  uint32_t members = 0;
  uint32_t from = d.ready_end;
  for (uint32_t i = u.first_leg; i != kNone; i = down[i].next_leg) {
    if (!same_group(down[i], d)) continue;
    ++members;
    if (down[i].ready_end < from) from = down[i].ready_end;
  }
  const uint64_t asked = uint64_t{offset} + length;
  const uint32_t end = asked < d.data_length ? static_cast<uint32_t>(asked) : d.data_length;
  if (end > d.ready_end) d.ready_end = end;
  uint32_t ready = d.ready_end;
  for (uint32_t i = u.first_leg; i != kNone; i = down[i].next_leg) {
    if (same_group(down[i], d) && down[i].ready_end < ready) ready = down[i].ready_end;
  }
  if (members < d.copies || ready <= from) {
    free_buf(buf);  // a copy is not ready yet (or not dispatched yet): wait for it
    return;
  }
  fc::store_be32(p, d.upstream_offset + from);
  fc::store_be32(p + 4, ready - from);
  transmit(buf);
}

void FastPath::Impl::fan_out_host_data(sp_hal_buf* buf, Upstream& u, const uint32_t* legs,
                                       uint32_t count, uint32_t offset, uint32_t n) {
  sp_hal_buf* bufs[map::kMaxMirrorSides];
  bufs[0] = buf;
  if (count > 1 && hal.alloc_bufs(bufs + 1, count - 1) != hal::Status::kOk) {
    // No buffer for the copies: the sides would differ, so the I/O fails
    // (the host retries) rather than wait for buffers while holding frames.
    drop(buf);
    return fail_split_write(u, down[legs[0]]);
  }
  for (uint32_t i = 1; i < count; ++i) {
    std::memcpy(bufs[i]->data, buf->data, buf->length);
    bufs[i]->length = buf->length;
  }
  for (uint32_t i = 0; i < count; ++i) {
    Downstream& d = down[legs[i]];
    readdress(bufs[i]->data, d.target, vi, d.ox_id, d.rx_id);
    set_relative_offset(bufs[i]->data, offset - d.upstream_offset + (d.journal ? u.block_size : 0));
    d.bytes += n;
    stats.write_bytes += n;
    transmit(bufs[i]);
  }
}

void FastPath::Impl::fail_split_write(Upstream& u, Downstream& d) {
  if (u.state == Upstream::State::kFp) {
    while (u.first_leg != kNone)
      abort_leg(down[u.first_leg]);
    queue_to_cp(u, fpapi::FaultKind::kDownstreamError);
  } else {
    abort_copies_of(d);
    abort_leg(d);
  }
}

void FastPath::Impl::abort_copies_of(const Downstream& d) {
  if (d.copies <= 1 || d.upstream == kNone) return;
  Upstream& u = up[d.upstream];
  bool again = true;
  while (again) {
    again = false;
    for (uint32_t i = u.first_leg; i != kNone; i = down[i].next_leg) {
      if (&down[i] != &d && same_group(down[i], d)) {
        abort_leg(down[i]);
        again = true;
        break;
      }
    }
  }
}

}  // namespace splitpath::fp
