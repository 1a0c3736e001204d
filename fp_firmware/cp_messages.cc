// The CP's calls, as they arrive in the mailbox (FPAPI.md): bring-up,
// mappings, the pending-I/O queries and aborts, statistics, and the CP-owned
// I/O operations (FPDispatchIO, FPGetData, FPPutData, FPQueueIOComplete,
// CpMappingMissReply), and FPCopyIO (copy.cc).
#include <cstring>

#include "fp_firmware/fast_path_impl.h"
#include "splitpath/fc/fcp.h"

namespace splitpath::fp {

namespace {

using fpapi::ApiStatus;
using fpapi::MsgType;

bool has_req_id(MsgType t) {
  switch (t) {
    case MsgType::kFpDiscover:
    case MsgType::kFpExpose:
    case MsgType::kFpHide:
    case MsgType::kFpAddMapping:
    case MsgType::kFpReplaceMapping:
    case MsgType::kFpRemoveMapping:
    case MsgType::kFpQueryPendingIOs:
    case MsgType::kFpAbortPendingIOs:
    case MsgType::kFpQueryStatistics:
      return true;
    default:
      return false;
  }
}

}  // namespace

void FastPath::Impl::handle_mailbox(bool* did_work) {
  if (stashed) {
    if (on_cp_message(stash_type, std::span<const uint8_t>(stash, stash_length)) ==
        CpResult::kRetry) {
      return;
    }
    stashed = false;
    *did_work = true;
  }
  uint8_t buf[fpapi::kMaxMessageSize];
  while (outbox_has_room()) {
    uint32_t type = 0;
    uint32_t length = 0;
    // kTooLarge cannot be an FP API message (none exceeds kMaxMessageSize);
    // it stays queued and the FP reads no further.
    if (hal.mbox_recv(&type, buf, sizeof buf, &length) != hal::Status::kOk) return;
    *did_work = true;
    if (on_cp_message(type, std::span<const uint8_t>(buf, length)) == CpResult::kRetry) {
      stashed = true;
      stash_type = type;
      stash_length = length;
      std::memcpy(stash, buf, length);
      return;
    }
  }
}

CpResult FastPath::Impl::on_cp_message(uint32_t raw_type, std::span<const uint8_t> p) {
  const auto type = static_cast<MsgType>(raw_type);
  auto invalid = [&]() {
    if (has_req_id(type) && p.size() >= 4)
      reply(fc::load_be32(p.data()), type, ApiStatus::kInvalid, 0);
    return CpResult::kDone;
  };

  switch (type) {
    case MsgType::kFpDiscover: {
      fpapi::FpDiscover m;
      if (!fpapi::decode(p, &m)) return invalid();
      vi = m.virtual_initiator & map::kPortIdMask;
      discovered = true;
      fpapi::FpDiscoverReply r;
      r.req_id = m.req_id;
      r.port_index = info.port_index;
      r.wwpn = info.wwpn;
      r.virtual_initiator = vi;
      r.max_transfer_bytes = info.max_transfer_bytes;
      r.max_frame_payload = info.max_frame_payload;
      r.upstream_capacity = config.upstream_capacity;
      r.downstream_capacity = config.downstream_capacity;
      r.extent_capacity = rmap.capacity_extents();
      r.vseg_capacity = config.rmap.max_vsegs;
      r.redirect_capacity = config.redirect_capacity;
      r.exposure_capacity = config.exposure_capacity;
      r.table_mem_bytes = table_mem_bytes;
      post(r);
      return CpResult::kDone;
    }
    case MsgType::kFpExpose: {
      fpapi::FpExpose m;
      if (!fpapi::decode(p, &m)) return invalid();
      const ApiStatus st = expose(m);
      reply(m.req_id, type, st, st == ApiStatus::kOk ? 1 : 0);
      return CpResult::kDone;
    }
    case MsgType::kFpHide: {
      fpapi::FpHide m;
      if (!fpapi::decode(p, &m)) return invalid();
      const uint32_t n = hide(m);
      reply(m.req_id, type, n > 0 ? ApiStatus::kOk : ApiStatus::kNotFound, n);
      return CpResult::kDone;
    }
    case MsgType::kFpAddMapping:
    case MsgType::kFpReplaceMapping:
    case MsgType::kFpRemoveMapping: {
      fpapi::FpMapping m;
      if (!fpapi::decode(p, &m)) return invalid();
      uint32_t value = 0;
      const ApiStatus st = mapping(type, m, &value);
      reply(m.req_id, type, st, value);
      return CpResult::kDone;
    }
    case MsgType::kFpQueryPendingIOs: {
      fpapi::FpQueryPendingIOs m;
      if (!fpapi::decode(p, &m)) return invalid();
      fpapi::FpQueryPendingIOsReply r;
      r.req_id = m.req_id;
      r.now_ns = now();
      for (uint32_t i = 0; i < config.upstream_capacity; ++i) {
        const Upstream& u = up[i];
        if (!matches(u, m.filter)) continue;
        if (r.count == 0 || u.started_ns < r.oldest_ns) r.oldest_ns = u.started_ns;
        if (r.listed < fpapi::kMaxPendingListed) {
          fpapi::PendingIoInfo& io = r.ios[r.listed++];
          io.utag = utag_of(u);
          io.vseg_id = u.vseg_id;
          io.start = u.start;
          io.blocks = u.blocks;
          io.owner = owner_of(u);
          io.is_write = u.is_write;
          io.legs = u.legs;
          io.started_ns = u.started_ns;
        }
        ++r.count;
      }
      post(r);
      return CpResult::kDone;
    }
    case MsgType::kFpAbortPendingIOs: {
      fpapi::FpAbortPendingIOs m;
      if (!fpapi::decode(p, &m)) return invalid();
      uint32_t n = 0;
      for (uint32_t i = 0; i < config.upstream_capacity; ++i) {
        Upstream& u = up[i];
        if (!matches(u, m.filter)) continue;
        ++n;
        if (u.state == Upstream::State::kCopy) {
          fail_copy(u);  // CpDispatchIOComplete with transport_error
          continue;
        }
        while (u.first_leg != kNone)
          abort_leg(down[u.first_leg]);
        queue_to_cp(u, fpapi::FaultKind::kAborted);
      }
      reply(m.req_id, type, ApiStatus::kOk, n);
      return CpResult::kDone;
    }
    case MsgType::kFpQueryStatistics: {
      fpapi::FpQueryStatistics m;
      if (!fpapi::decode(p, &m)) return invalid();
      fpapi::FpStatistics st = stats;
      st.req_id = m.req_id;
      st.upstream_pending = up_count;
      st.downstream_pending = down_count;
      post(st);
      return CpResult::kDone;
    }
    case MsgType::kFpDispatchIO: {
      fpapi::FpDispatchIO m;
      if (!fpapi::decode(p, &m)) return CpResult::kDone;
      Upstream* u = nullptr;
      bool ok = m.cdb_length > 0 && m.cdb_length <= fpapi::kCdbSize &&
                (m.copies <= 1 || (m.copies <= map::kMaxMirrorSides && m.utag != fpapi::kNoTag &&
                                   m.direction == fpapi::DataDirection::kWrite)) &&
                (m.journal == 0 || m.copies >= 2);
      if (m.utag != fpapi::kNoTag) {
        u = up_by_utag(m.utag);
        ok = ok && u != nullptr && u->state == Upstream::State::kCp &&
             u->legs < config.max_legs_per_io &&
             uint64_t{m.upstream_offset} + m.data_length <= u->io.data_length &&
             (m.journal == 0 || u->block_size >= map::kJournalHeaderBytes);
      } else {
        ok = ok && (m.direction == fpapi::DataDirection::kNone || m.data_length == 0);
      }
      if (ok && down_free == kNone) return CpResult::kRetry;  // wait for an exchange
      sp_hal_buf* buf = ok ? alloc_buf() : nullptr;
      if (ok && buf == nullptr) return CpResult::kRetry;
      Downstream* d = ok ? down_alloc(u) : nullptr;
      // A journal leg's header block waits in a buffer of its own.
      if (d != nullptr && m.journal != 0 &&
          !hold_journal_header(*d, m.journal_header.data(), u->block_size)) {
        down_release(*d);
        free_buf(buf);
        return CpResult::kRetry;
      }
      if (d == nullptr) {
        if (buf != nullptr) free_buf(buf);
        fpapi::CpDispatchIOComplete c;
        c.dtag = m.dtag;
        c.utag = m.utag;
        c.transport_error = 1;
        post(c);
        return CpResult::kDone;
      }
      d->dtag = m.dtag;
      d->direction = m.direction;
      d->target = m.target_id & map::kPortIdMask;
      d->data_length = m.data_length;
      d->upstream_offset = m.upstream_offset;
      d->copies = m.copies;
      send_cmnd(buf, *d, m.lun, std::span<const uint8_t>(m.cdb.data(), m.cdb_length), 0);
      return CpResult::kDone;
    }
    case MsgType::kFpCopyIO: {
      fpapi::FpCopyIO m;
      if (!fpapi::decode(p, &m)) return CpResult::kDone;
      return start_copy(m);
    }
    case MsgType::kFpGetData: {
      fpapi::FpGetData m;
      if (!fpapi::decode(p, &m)) return CpResult::kDone;
      Upstream* u = up_by_utag(m.utag);
      ApiStatus st = ApiStatus::kOk;
      if (u == nullptr || u->state != Upstream::State::kCp) {
        st = ApiStatus::kNotFound;
      } else if (m.length == 0 || uint64_t{m.offset} + m.length > u->io.data_length) {
        st = ApiStatus::kInvalid;
      }
      if (st != ApiStatus::kOk) {
        fpapi::FpGetDataReply r;
        r.utag = m.utag;
        r.offset = m.offset;
        r.status = st;
        post(r);
        return CpResult::kDone;
      }
      sp_hal_buf* buf = alloc_buf();
      if (buf == nullptr) return CpResult::kRetry;
      u->get_offset = m.offset;
      u->get_end = m.offset + m.length;
      send_host_xfer_rdy(buf, *u, m.offset, m.length);
      return CpResult::kDone;
    }
    case MsgType::kFpPutData: {
      fpapi::FpPutData m;
      if (!fpapi::decode(p, &m)) return CpResult::kDone;
      Upstream* u = up_by_utag(m.utag);
      if (u == nullptr || u->state != Upstream::State::kCp || m.data.length == 0) {
        return CpResult::kDone;
      }
      sp_hal_buf* buf = alloc_buf();
      if (buf == nullptr) return CpResult::kRetry;
      const bool last = uint64_t{m.offset} + m.data.length >= u->io.data_length;
      uint32_t f_ctl = fc::fctl::kExchangeContext | fc::fctl::kRelativeOffsetPresent;
      if (last) f_ctl |= fc::fctl::kEndSequence;
      uint8_t* out = start_frame(buf, fc::rctl::kDeviceDataSolicitedData, fc::fc_type::kFcp,
                                 u->io.initiator, u->io.target_id, f_ctl, u->io.ox_id, up_rx_id(*u),
                                 m.offset, u->seq_id, u->seq_cnt++);
      std::memcpy(out, m.data.data.data(), m.data.length);
      buf->length += m.data.length;
      if (last) {
        ++u->seq_id;
        u->seq_cnt = 0;
      }
      transmit(buf);
      return CpResult::kDone;
    }
    case MsgType::kFpQueueIOComplete: {
      fpapi::FpQueueIOComplete m;
      if (!fpapi::decode(p, &m)) return CpResult::kDone;
      Upstream* u = up_by_utag(m.utag);
      if (u == nullptr || u->state != Upstream::State::kCp) return CpResult::kDone;
      if (m.silent) {
        up_release(*u);
        return CpResult::kDone;
      }
      sp_hal_buf* buf = alloc_buf();
      if (buf == nullptr) return CpResult::kRetry;
      fc::FcpRsp rsp;
      rsp.scsi_status = m.scsi_status;
      rsp.resid_under = (m.residual_flags & fc::fcp_rsp_flags::kResidUnder) != 0;
      rsp.resid_over = !rsp.resid_under && (m.residual_flags & fc::fcp_rsp_flags::kResidOver) != 0;
      rsp.residual = rsp.resid_under || rsp.resid_over ? m.residual : 0;
      (void)fc::set_fcp_sense(rsp, m.sense.view());
      send_host_rsp(buf, *u, rsp);
      ++stats.cp_completed;
      up_release(*u);
      return CpResult::kDone;
    }
    case MsgType::kCpMappingMissReply: {
      fpapi::CpMappingMissReply m;
      if (!fpapi::decode(p, &m)) return CpResult::kDone;
      Upstream* u = up_by_utag(m.utag);
      if (u == nullptr || u->state != Upstream::State::kMissHeld) return CpResult::kDone;
      switch (m.action) {
        case fpapi::MissAction::kContinue:
          classify_mapped(*u, true);
          break;
        case fpapi::MissAction::kIgnore:
          up_release(*u);
          break;
        default:
          queue_to_cp(*u, fpapi::FaultKind::kNoMapping);
          break;
      }
      return CpResult::kDone;
    }
    default:
      return CpResult::kDone;  // not a CP -> FP call: ignored
  }
}

}  // namespace splitpath::fp
