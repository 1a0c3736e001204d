// Received frames: transparent switching, the relay between an upstream
// exchange and its downstream legs (headers rewritten in the received
// buffer), FCP_RSP handling, and frames for virtual addresses that go to the
// CP (CpFrame).
#include "fp_firmware/fast_path_impl.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"

namespace splitpath::fp {

namespace {

uint32_t payload_length(const sp_hal_buf* buf) {
  return buf->length - static_cast<uint32_t>(fc::kFrameHeaderSize);
}

uint8_t* payload(sp_hal_buf* buf) {
  return buf->data + fc::kFrameHeaderSize;
}

// Sets the relative offset of a relayed data frame (and says it is present).
void set_relative_offset(uint8_t* frame, uint32_t offset) {
  fc::store_be24(frame + 9, fc::load_be24(frame + 9) | fc::fctl::kRelativeOffsetPresent);
  fc::store_be32(frame + 20, offset);
}

// Whether a remap's FCP_RSP lets the FP complete the host I/O itself: GOOD,
// no residual, no FCP response code.
bool completes_on_fp(const fc::FcpRsp& r) {
  return r.scsi_status == fc::scsi_status::kGood && !r.resid_under && !r.resid_over &&
         (r.rsp_info_length == 0 || r.rsp_code() == fc::fcp_rsp_code::kTmfComplete);
}

}  // namespace

void FastPath::Impl::drop(sp_hal_buf* buf) {
  ++stats.dropped_frames;
  free_buf(buf);
}

void FastPath::Impl::to_cp_frame(sp_hal_buf* buf) {
  fpapi::CpFrame f;
  f.length = buf->length;
  f.frame.assign(fc::ConstBytes(
      buf->data, buf->length < fpapi::kMaxFrameChunk ? buf->length : fpapi::kMaxFrameChunk));
  post(f);
  free_buf(buf);
}

void FastPath::Impl::on_frame(sp_hal_buf* buf) {
  const uint32_t d_id = fc::peek_d_id(buf->data).value;
  const bool to_vi = discovered && d_id == vi;
  const bool to_target = discovered && !to_vi && is_virtual_target(d_id);
  if (!to_vi && !to_target) {
    ++stats.transparent_frames;
    transmit(buf);
    return;
  }
  const auto h = fc::decode_frame_header(fc::ConstBytes(buf->data, buf->length));
  if (!h.ok() || h->type != fc::fc_type::kFcp) {
    to_cp_frame(buf);  // ELS, BLS (a host's ABTS, a target's BA_ACC), CT
    return;
  }
  if (to_vi) {
    on_downstream_frame(buf, *h);
  } else if (h->r_ctl == fc::rctl::kDeviceDataUnsolicitedCmd) {
    on_command(buf, *h);
  } else {
    on_host_frame(buf, *h);
  }
}

void FastPath::Impl::on_host_frame(sp_hal_buf* buf, const fc::FrameHeader& h) {
  Upstream* u = h.r_ctl == fc::rctl::kDeviceDataSolicitedData ? up_for_host_frame(h) : nullptr;
  if (u == nullptr) return drop(buf);
  const uint32_t offset = fc::fcp_data_relative_offset(h);
  const uint32_t n = payload_length(buf);
  // The leg holding these bytes, or every copy of a split write.
  uint32_t legs[map::kMaxMirrorSides];
  uint32_t count = 0;
  for (uint32_t i = u->first_leg; i != kNone && count < map::kMaxMirrorSides;
       i = down[i].next_leg) {
    const Downstream& d = down[i];
    if (d.direction != fpapi::DataDirection::kWrite || offset < d.upstream_offset ||
        uint64_t{offset} + n > uint64_t{d.upstream_offset} + d.data_length) {
      continue;
    }
    legs[count++] = i;
    if (d.copies <= 1) break;
  }
  if (count > 0) return fan_out_host_data(buf, *u, legs, count, offset, n);
  // Data the CP asked for (FPGetData) goes to it in chunks.
  if (offset >= u->get_offset && uint64_t{offset} + n <= u->get_end) {
    for (uint32_t done = 0; done < n; done += fpapi::kMaxChunk) {
      fpapi::FpGetDataReply r;
      r.utag = utag_of(*u);
      r.offset = offset + done;
      const uint32_t chunk = n - done < fpapi::kMaxChunk ? n - done : fpapi::kMaxChunk;
      r.data.assign(fc::ConstBytes(payload(buf) + done, chunk));
      post(r);
    }
    free_buf(buf);
    return;
  }
  drop(buf);
}

void FastPath::Impl::on_downstream_frame(sp_hal_buf* buf, const fc::FrameHeader& h) {
  Downstream* dp = down_for_frame(h);
  if (dp == nullptr) return drop(buf);
  Downstream& d = *dp;
  if (d.rx_id == fc::kUnassignedXid) d.rx_id = h.rx_id;
  Upstream* u = d.upstream != kNone ? &up[d.upstream] : nullptr;
  // A copy's legs talk only to each other (copy.cc), never to a host.
  if (u != nullptr && u->state == Upstream::State::kCopy) return on_copy_frame(buf, h, d, *u);
  const uint16_t up_rx = u != nullptr ? up_rx_id(*u) : 0;

  switch (h.r_ctl) {
    case fc::rctl::kDeviceDataDataDescriptor: {
      const auto x = fc::decode_fcp_xfer_rdy(fc::ConstBytes(payload(buf), payload_length(buf)));
      if (!x.ok() || u == nullptr || d.direction != fpapi::DataDirection::kWrite) {
        return drop(buf);
      }
      on_write_leg_xfer_rdy(buf, d, *u, x->relative_offset, x->burst_length);
      return;
    }
    case fc::rctl::kDeviceDataSolicitedData: {
      const uint32_t offset = fc::fcp_data_relative_offset(h);
      const uint32_t n = payload_length(buf);
      if (u == nullptr || d.direction != fpapi::DataDirection::kRead ||
          uint64_t{offset} + n > d.data_length) {
        return drop(buf);
      }
      readdress(buf->data, u->io.initiator, u->io.target_id, u->io.ox_id, up_rx);
      set_relative_offset(buf->data, d.upstream_offset + offset);
      d.bytes += n;
      stats.read_bytes += n;
      transmit(buf);
      return;
    }
    case fc::rctl::kDeviceDataCommandStatus:
      break;
    default:
      return drop(buf);
  }

  auto decoded = fc::decode_fcp_rsp(fc::ConstBytes(payload(buf), payload_length(buf)));
  fc::FcpRsp rsp;
  if (decoded.ok()) {
    rsp = *decoded;
  } else {
    rsp.scsi_status = fc::scsi_status::kCheckCondition;  // unreadable: an error, never GOOD
  }
  if (d.remap) {
    const uint32_t side_target = d.target;  // which side failed, for the CP
    down_release(d);
    if (u == nullptr) return drop(buf);
    if (completes_on_fp(rsp) && u->legs > 0) {
      free_buf(buf);  // other sides of a split write are still writing
      return;
    }
    if (completes_on_fp(rsp)) {
      readdress(buf->data, u->io.initiator, u->io.target_id, u->io.ox_id, up_rx);
      transmit(buf);
      ++stats.fp_completed;
      up_release(*u);
      return;
    }
    free_buf(buf);
    while (u->first_leg != kNone)
      abort_leg(down[u->first_leg]);  // the other sides of a split write
    queue_to_cp(*u, fpapi::FaultKind::kDownstreamError, &rsp, side_target);
    return;
  }
  fpapi::CpDispatchIOComplete c;
  c.dtag = d.dtag;
  c.utag = u != nullptr ? utag_of(*u) : fpapi::kNoTag;
  c.scsi_status = rsp.scsi_status;
  // An FCP response code other than "no failure" (e.g. FCP_CMND fields
  // invalid from a disk the virtual initiator is not logged into) means the
  // command never ran, whatever the SCSI status byte says.
  if (rsp.rsp_info_length != 0 && rsp.rsp_code() != fc::fcp_rsp_code::kTmfComplete)
    c.transport_error = 1;
  c.residual_flags = static_cast<uint8_t>((rsp.resid_under ? fc::fcp_rsp_flags::kResidUnder : 0) |
                                          (rsp.resid_over ? fc::fcp_rsp_flags::kResidOver : 0));
  c.residual = rsp.residual;
  c.bytes_transferred = d.bytes;
  c.sense.assign(rsp.sense_bytes());
  free_buf(buf);
  if (c.transport_error || !completes_on_fp(rsp) || d.bytes != d.data_length) abort_copies_of(d);
  down_release(d);
  post(c);
}

}  // namespace splitpath::fp
