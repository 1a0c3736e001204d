// FPCopyIO (FPAPI.md, "FPCopyIO"): the FP copies blocks from a source disk to
// a destination disk from its virtual initiator, the data never reaching the
// CP (the copy agent of snapshots and migration).
// - The copy is anchored on an upstream entry in state kCopy, which has no
//   host exchange: it never matches a host frame nor a pending-I/O filter.
// - Its first leg W is a WRITE(16) of every block to the destination.
// - Each FCP_XFER_RDY of W (offset o, burst n: whole blocks inside the copy)
//   opens a read leg R, a READ(16) of exactly those blocks from the source,
//   sent in the XFER_RDY's own receive buffer.
// - Each FCP_DATA frame of R is readdressed in place into W's exchange at
//   relative offset o + x, with an initiator's F_CTL: no copy, no buffer.
// - R's FCP_RSP GOOD with all its bytes ends R; any other ending of R ends
//   the copy with R's status and sense (ABTS to W). W's FCP_RSP ends the
//   copy (ABTS to any R still open): GOOD only with every byte written.
// Completion: CpDispatchIOComplete with the copy's dtag and utag kNoTag.
#include "fp_firmware/fast_path_impl.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb_encode.h"

namespace splitpath::fp {

namespace {

uint32_t payload_length(const sp_hal_buf* buf) {
  return buf->length - static_cast<uint32_t>(fc::kFrameHeaderSize);
}

uint8_t* payload(sp_hal_buf* buf) {
  return buf->data + fc::kFrameHeaderSize;
}

// The F_CTL of an initiator's data frame (what the simulated hosts send):
// relative offset present, no exchange context; the frame that ends a burst
// ends the sequence and passes the initiative back. The fill-bytes count of
// the received frame stays, as its payload does.
uint32_t initiator_data_fctl(uint32_t received, bool last) {
  uint32_t f = fc::fctl::kRelativeOffsetPresent | (received & fc::fctl::kFillBytesMask);
  if (last) f |= fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
  return f;
}

// An FCP response code other than "no failure": the command did not run.
bool rsp_code_failed(const fc::FcpRsp& r) {
  return r.rsp_info_length != 0 && r.rsp_code() != fc::fcp_rsp_code::kTmfComplete;
}

// GOOD, no residual, no failing response code.
bool rsp_good(const fc::FcpRsp& r) {
  return r.scsi_status == fc::scsi_status::kGood && !r.resid_under && !r.resid_over &&
         !rsp_code_failed(r);
}

}  // namespace

Downstream* FastPath::Impl::copy_write_leg(Upstream& u) {
  for (uint32_t i = u.first_leg; i != kNone; i = down[i].next_leg) {
    if (down[i].direction == fpapi::DataDirection::kWrite) return &down[i];
  }
  return nullptr;
}

CpResult FastPath::Impl::start_copy(const fpapi::FpCopyIO& m) {
  const uint32_t src = m.src_target & map::kPortIdMask;
  const uint32_t dst = m.dst_target & map::kPortIdMask;
  const uint64_t bytes = uint64_t{m.blocks} * m.block_size;
  // Physical N_Ports only: the FP's own addresses never answer a command.
  auto physical = [this](uint32_t id) { return id != 0 && id != vi && !is_virtual_target(id); };
  const bool ok = discovered && m.blocks > 0 && m.block_size > 0 && m.block_size % 4 == 0 &&
                  bytes <= 0xFFFFFFFFu && physical(src) && physical(dst) &&
                  m.src_lba + m.blocks > m.src_lba && m.dst_lba + m.blocks > m.dst_lba;
  if (!ok) {
    fpapi::CpDispatchIOComplete c;
    c.dtag = m.dtag;
    c.utag = fpapi::kNoTag;
    c.transport_error = 1;
    post(c);
    return CpResult::kDone;
  }
  if (up_free == kNone || down_free == kNone) return CpResult::kRetry;  // wait for an entry
  sp_hal_buf* buf = alloc_buf();
  if (buf == nullptr) return CpResult::kRetry;
  Upstream& u = *up_alloc();  // neither can fail: both free lists were checked
  u.state = Upstream::State::kCopy;
  u.started_ns = now();
  u.block_size = m.block_size;
  u.blocks = m.blocks;
  u.lv_lba = m.src_lba;
  u.io.utag = m.dtag;
  u.io.initiator = 0;
  u.io.target_id = src;
  u.io.lun = m.src_lun;
  u.io.data_length = static_cast<uint32_t>(bytes);
  Downstream& w = *down_alloc(&u);
  w.direction = fpapi::DataDirection::kWrite;
  w.target = dst;
  w.data_length = u.io.data_length;
  w.dtag = m.dtag;
  uint8_t cdb[16] = {};
  fc::encode_read_write16(true, m.dst_lba, m.blocks, false, false,
                          std::span<uint8_t, 16>(cdb, sizeof cdb));
  send_cmnd(buf, w, m.dst_lun, std::span<const uint8_t>(cdb, sizeof cdb), 0);
  return CpResult::kDone;
}

void FastPath::Impl::on_copy_frame(sp_hal_buf* buf, const fc::FrameHeader& h, Downstream& d,
                                   Upstream& u) {
  const bool write_leg = d.direction == fpapi::DataDirection::kWrite;
  switch (h.r_ctl) {
    case fc::rctl::kDeviceDataDataDescriptor: {
      const auto x = fc::decode_fcp_xfer_rdy(fc::ConstBytes(payload(buf), payload_length(buf)));
      if (!write_leg) return drop(buf);
      // A burst the copy cannot serve (unreadable, empty, not whole blocks,
      // past the end) leaves the destination waiting: the copy fails.
      const uint32_t o = x.ok() ? x->relative_offset : 0;
      const uint32_t n = x.ok() ? x->burst_length : 0;
      const bool whole = n > 0 && o % u.block_size == 0 && n % u.block_size == 0 &&
                         uint64_t{o} + n <= u.io.data_length;
      // The burst's READ; without a downstream entry the copy cannot go on,
      // and the destination would wait for this burst forever: it fails.
      Downstream* r = whole ? down_alloc(&u) : nullptr;
      if (r == nullptr) {
        free_buf(buf);
        return fail_copy(u);
      }
      r->direction = fpapi::DataDirection::kRead;
      r->target = u.io.target_id;
      r->upstream_offset = o;
      r->data_length = n;
      r->dtag = u.io.utag;
      uint8_t cdb[16] = {};
      fc::encode_read_write16(false, u.lv_lba + o / u.block_size, n / u.block_size, false, false,
                              std::span<uint8_t, 16>(cdb, sizeof cdb));
      send_cmnd(buf, *r, u.io.lun, std::span<const uint8_t>(cdb, sizeof cdb), 0);
      return;
    }
    case fc::rctl::kDeviceDataSolicitedData: {
      if (write_leg) return drop(buf);
      const uint32_t x = fc::fcp_data_relative_offset(h);
      const uint32_t n = payload_length(buf);
      Downstream* w = copy_write_leg(u);
      if (w == nullptr || uint64_t{x} + n > d.data_length) {
        // Data the destination did not ask for: the copy cannot be trusted.
        drop(buf);
        return fail_copy(u);
      }
      readdress(buf->data, w->target, vi, w->ox_id, w->rx_id);
      fc::store_be24(buf->data + 9, initiator_data_fctl(h.f_ctl, x + n == d.data_length));
      fc::store_be32(buf->data + 20, d.upstream_offset + x);
      d.bytes += n;
      w->bytes += n;
      transmit(buf);
      return;
    }
    case fc::rctl::kDeviceDataCommandStatus:
      break;
    default:
      return drop(buf);
  }

  const auto decoded = fc::decode_fcp_rsp(fc::ConstBytes(payload(buf), payload_length(buf)));
  free_buf(buf);
  fc::FcpRsp rsp;
  if (decoded.ok()) rsp = *decoded;
  fpapi::CpDispatchIOComplete c;
  c.scsi_status = decoded.ok() ? rsp.scsi_status : fc::scsi_status::kCheckCondition;
  c.sense.assign(rsp.sense_bytes());
  if (!write_leg) {
    if (decoded.ok() && rsp_good(rsp) && d.bytes == d.data_length) {
      down_release(d);  // this burst is read; the destination's answer ends the copy
      return;
    }
    // The source failed: its status and sense, or a transport error when it
    // gave none (GOOD with data missing, a response code, an unreadable RSP).
    c.transport_error =
        !decoded.ok() || rsp_code_failed(rsp) || rsp.scsi_status == fc::scsi_status::kGood;
    down_release(d);  // the source ended its exchange itself: no ABTS
    Downstream* w = copy_write_leg(u);
    c.bytes_transferred = w != nullptr ? w->bytes : 0;
    return end_copy(u, c);
  }
  c.residual_flags = static_cast<uint8_t>((rsp.resid_under ? fc::fcp_rsp_flags::kResidUnder : 0) |
                                          (rsp.resid_over ? fc::fcp_rsp_flags::kResidOver : 0));
  c.residual = rsp.residual;
  c.bytes_transferred = d.bytes;
  // GOOD only with every byte written.
  c.transport_error =
      !decoded.ok() || rsp_code_failed(rsp) ||
      (rsp.scsi_status == fc::scsi_status::kGood && (!rsp_good(rsp) || d.bytes != d.data_length));
  down_release(d);
  end_copy(u, c);
}

void FastPath::Impl::end_copy(Upstream& u, fpapi::CpDispatchIOComplete& c) {
  // Legs still open are given up (no completion of their own: the copy
  // completes once, below).
  while (u.first_leg != kNone) {
    Downstream& d = down[u.first_leg];
    send_abts(d);
    down_release(d);
  }
  c.dtag = u.io.utag;
  c.utag = fpapi::kNoTag;
  post(c);
  up_release(u);
}

void FastPath::Impl::fail_copy(Upstream& u) {
  fpapi::CpDispatchIOComplete c;
  c.transport_error = 1;
  const Downstream* w = copy_write_leg(u);
  c.bytes_transferred = w != nullptr ? w->bytes : 0;
  end_copy(u, c);
}

}  // namespace splitpath::fp
