#include "fabric_sim/trace/exchange_tracker.h"

#include <utility>

#include "fmt/format.h"
#include "splitpath/fc/bls.h"
#include "splitpath/fc/ct.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::sim::trace {

namespace {

std::string describe(const fc::WireError& e) {
  return fmt::format("{} {} at byte {}", e.field, fc::wire_errc_name(e.code), e.offset);
}

std::string fc_id_text(fc::FcId id) {
  return fmt::format("{:02x}.{:02x}.{:02x}", id.domain(), id.area(), id.port());
}

FrameKind classify(const fc::FrameHeader& h) {
  const uint8_t routing = h.r_ctl & 0xF0;
  if (routing == 0x80) return FrameKind::kBls;
  if (routing == 0xC0) return FrameKind::kLinkControl;
  switch (h.type) {
    case fc::fc_type::kFcp:
      switch (h.r_ctl) {
        case fc::rctl::kDeviceDataUnsolicitedCmd:
          return FrameKind::kFcpCmnd;
        case fc::rctl::kDeviceDataDataDescriptor:
          return FrameKind::kFcpXferRdy;
        case fc::rctl::kDeviceDataSolicitedData:
          return FrameKind::kFcpData;
        case fc::rctl::kDeviceDataCommandStatus:
          return FrameKind::kFcpRsp;
        default:
          return FrameKind::kFcpOther;
      }
    case fc::fc_type::kEls:
      return routing == 0x20 ? FrameKind::kEls : FrameKind::kOther;
    case fc::fc_type::kCt:
      return routing == 0x00 ? FrameKind::kCt : FrameKind::kOther;
    default:
      return FrameKind::kOther;
  }
}

bool is_fcp(FrameKind k) {
  return k == FrameKind::kFcpCmnd || k == FrameKind::kFcpXferRdy || k == FrameKind::kFcpData ||
         k == FrameKind::kFcpRsp || k == FrameKind::kFcpOther;
}

void finish(Exchange* ex) {
  if (ex->state == ExchangeState::kOpen) ex->state = ExchangeState::kComplete;
}

}  // namespace

const char* frame_kind_name(FrameKind kind) {
  switch (kind) {
    case FrameKind::kUndecoded:
      return "UNDECODED";
    case FrameKind::kFcpCmnd:
      return "FCP_CMND";
    case FrameKind::kFcpXferRdy:
      return "FCP_XFER_RDY";
    case FrameKind::kFcpData:
      return "FCP_DATA";
    case FrameKind::kFcpRsp:
      return "FCP_RSP";
    case FrameKind::kFcpOther:
      return "FCP";
    case FrameKind::kEls:
      return "ELS";
    case FrameKind::kCt:
      return "CT";
    case FrameKind::kBls:
      return "BLS";
    case FrameKind::kLinkControl:
      return "LINK_CONTROL";
    case FrameKind::kOther:
      return "OTHER";
  }
  return "OTHER";
}

const char* exchange_kind_name(ExchangeKind kind) {
  switch (kind) {
    case ExchangeKind::kFcp:
      return "FCP";
    case ExchangeKind::kEls:
      return "ELS";
    case ExchangeKind::kCt:
      return "CT";
    case ExchangeKind::kBls:
      return "BLS";
    case ExchangeKind::kOther:
      return "OTHER";
  }
  return "OTHER";
}

const char* exchange_state_name(ExchangeState state) {
  switch (state) {
    case ExchangeState::kOpen:
      return "open";
    case ExchangeState::kComplete:
      return "complete";
    case ExchangeState::kAborted:
      return "aborted";
    case ExchangeState::kSuperseded:
      return "superseded";
  }
  return "open";
}

void ExchangeTracker::problem(uint64_t frame, std::string reason, FrameInfo& info) {
  if (info.note.empty()) {
    info.note = reason;
  } else {
    info.note += "; " + reason;
  }
  problems_.push_back(TraceProblem{frame, std::move(reason)});
}

ExchangeTracker::Open* ExchangeTracker::start(uint64_t k, ExchangeKind kind,
                                              const fc::FrameHeader& h, FrameInfo& info) {
  auto [it, inserted] = open_.try_emplace(k);
  last_key_ = k;  // an insertion may move every entry: the cache follows the new one
  last_open_ = &it->second;
  if (!inserted) {
    Exchange& old = exchanges_[it->second.index];
    if (old.state == ExchangeState::kOpen) {
      old.state = ExchangeState::kSuperseded;
      info.note = fmt::format("OX_ID 0x{:04x} reused while exchange {} (frame {}) had no response",
                              h.ox_id, old.id, old.first_frame);
    }
    it->second = Open{};
  }
  Exchange& ex = exchanges_.emplace_back();
  ex.id = exchanges_.size();
  ex.kind = kind;
  ex.originator = info.from_responder ? h.d_id : h.s_id;
  ex.responder = info.from_responder ? h.s_id : h.d_id;
  ex.ox_id = h.ox_id;
  ex.first_frame = info.number;
  ex.start_ns = info.time_ns;
  it->second.index = exchanges_.size() - 1;
  return &it->second;
}

FrameInfo ExchangeTracker::add(const TraceFrame& frame) {
  FrameInfo info;
  add(frame, info);
  return info;
}

void ExchangeTracker::add(const TraceFrame& frame, FrameInfo& info) {
  info.reset();
  info.number = frame.number;
  info.time_ns = frame.time_ns;
  if (!frame.sof.empty()) info.sof = frame.sof;
  if (!frame.eof.empty()) info.eof = frame.eof;
  info.crc = frame.crc;
  info.vlan = frame.vlan;
  info.fip = frame.fip;
  const auto h = fc::decode_frame_header(frame.fc);
  if (!h.ok()) {
    ++undecoded_frames_;
    problem(frame.number, "cannot decode the FC header: " + describe(h.error()), info);
    return;
  }
  info.header = *h;
  info.kind = classify(*h);
  info.payload_size =
      frame.wire_size > fc::kFrameHeaderSize ? frame.wire_size - fc::kFrameHeaderSize : 0;
  const fc::ConstBytes payload = fc::ConstBytes(frame.fc).subspan(fc::kFrameHeaderSize);
  info.from_responder = (h->f_ctl & fc::fctl::kExchangeContext) != 0;
  const fc::FcId originator = info.from_responder ? h->d_id : h->s_id;
  const fc::FcId responder = info.from_responder ? h->s_id : h->d_id;
  const uint64_t k = key(originator, responder, h->ox_id);

  Open* open = nullptr;
  if (info.kind == FrameKind::kFcpCmnd) {
    open = start(k, ExchangeKind::kFcp, *h, info);
  } else if (info.kind == FrameKind::kEls && h->r_ctl == fc::rctl::kElsRequest) {
    open = start(k, ExchangeKind::kEls, *h, info);
  } else if (info.kind == FrameKind::kCt && h->r_ctl == fc::rctl::kDeviceDataUnsolicitedCtl) {
    open = start(k, ExchangeKind::kCt, *h, info);
  } else if (last_open_ && last_key_ == k) {
    open = last_open_;  // most frames follow one of the same exchange
  } else {
    auto it = open_.find(k);
    // The reply to FLOGI/FDISC goes to the address just assigned; the request
    // came from 00.00.00.
    if (it == open_.end() && info.from_responder)
      it = open_.find(key(fc::FcId{0}, responder, h->ox_id));
    if (it != open_.end()) {
      open = &it->second;
      last_key_ = k;
      last_open_ = open;
    } else if (info.kind == FrameKind::kBls && h->r_ctl == fc::rctl::kBlsAbts) {
      open = start(k, ExchangeKind::kBls, *h, info);
    }
  }

  Exchange* ex = nullptr;
  if (open) {
    ex = &exchanges_[open->index];
    info.exchange = ex->id;
    ++ex->frames;
    ex->last_frame = frame.number;
    ex->end_ns = frame.time_ns;
    if (info.from_responder && h->rx_id != fc::kUnassignedXid) ex->rx_id = h->rx_id;
    Side& side = open->side[info.from_responder ? 1 : 0];
    info.continuation = side.in_sequence && side.seq_id == h->seq_id;
    side.seq_id = h->seq_id;
    side.in_sequence = (h->f_ctl & fc::fctl::kEndSequence) == 0;
  } else {
    ++orphan_frames_;
    info.orphan = true;
    problem(frame.number,
            fmt::format("exchange missing its command: {} of exchange {} -> {} OX_ID 0x{:04x}, "
                        "whose first frames are not in the capture",
                        frame_kind_name(info.kind), fc_id_text(originator), fc_id_text(responder),
                        h->ox_id),
            info);
  }

  if (is_fcp(info.kind)) {
    decode_fcp(*h, payload, ex, info);
  } else if (info.kind == FrameKind::kEls) {
    decode_els(payload, ex, info);
  } else if (info.kind == FrameKind::kCt) {
    decode_ct(payload, ex, info);
  } else if (info.kind == FrameKind::kBls) {
    decode_bls(*h, payload, ex, info);
  }
}

void ExchangeTracker::decode_fcp(const fc::FrameHeader& h, fc::ConstBytes payload, Exchange* ex,
                                 FrameInfo& info) {
  if (ex && ex->kind != ExchangeKind::kFcp) ex = nullptr;  // e.g. an ABTS-only exchange
  switch (info.kind) {
    case FrameKind::kFcpCmnd: {
      const auto c = fc::decode_fcp_cmnd(payload);
      if (!c.ok()) {
        problem(info.number, "FCP_CMND: " + describe(c.error()), info);
        return;
      }
      const auto lun = fc::decode_lun(c->lun);
      if (lun.ok()) info.lun = *lun;
      info.fcp_dl = c->fcp_dl;
      if (c->task_management_flags != 0) {
        info.task_management = c->task_management_flags;
      } else {
        info.opcode = c->cdb[0];
        const auto cmd = fc::decode_cdb(c->cdb_bytes());
        if (!cmd.ok()) {
          info.cdb_error = describe(cmd.error());
        } else if (cmd->kind == fc::ScsiCommandKind::kRead ||
                   cmd->kind == fc::ScsiCommandKind::kWrite ||
                   cmd->kind == fc::ScsiCommandKind::kSynchronizeCache ||
                   cmd->kind == fc::ScsiCommandKind::kVerify ||
                   cmd->kind == fc::ScsiCommandKind::kWriteAndVerify ||
                   cmd->kind == fc::ScsiCommandKind::kWriteSame ||
                   cmd->kind == fc::ScsiCommandKind::kCompareAndWrite) {
          info.lba = cmd->lba;
          info.transfer_length = cmd->transfer_length;
        }
      }
      if (ex) {
        ex->lun = c->lun;
        ex->lun_number = info.lun;
        ex->cmnd_decoded = true;
        ex->task_management = c->task_management_flags;
        ex->opcode = info.opcode;
        ex->lba = info.lba;
        ex->transfer_length = info.transfer_length;
        ex->fcp_dl = c->fcp_dl;
      }
      return;
    }
    case FrameKind::kFcpXferRdy: {
      const auto x = fc::decode_fcp_xfer_rdy(payload);
      if (!x.ok()) {
        problem(info.number, "FCP_XFER_RDY: " + describe(x.error()), info);
        return;
      }
      info.relative_offset = x->relative_offset;
      info.burst_length = x->burst_length;
      if (ex) ++ex->xfer_rdy;
      return;
    }
    case FrameKind::kFcpData: {
      // Fill bytes pad the last frame of a sequence to a word.
      const uint32_t fill =
          (h.f_ctl & fc::fctl::kEndSequence) ? h.f_ctl & fc::fctl::kFillBytesMask : 0;
      const uint32_t bytes = info.payload_size > fill ? info.payload_size - fill : 0;
      info.data_bytes = bytes;
      info.relative_offset = fc::fcp_data_relative_offset(h);
      if (ex) (info.from_responder ? ex->data_in : ex->data_out) += bytes;
      return;
    }
    case FrameKind::kFcpRsp: {
      const auto r = fc::decode_fcp_rsp(payload);
      if (!r.ok()) {
        problem(info.number, "FCP_RSP: " + describe(r.error()), info);
        return;
      }
      info.status = r->scsi_status;
      if (r->resid_under) info.residual = int64_t{r->residual};
      if (r->resid_over) info.residual = -int64_t{r->residual};
      if (r->rsp_info_length) info.rsp_code = r->rsp_code();
      if (r->sense_length) {
        const auto s = fc::decode_sense_data(r->sense_bytes());
        if (s.ok()) {
          info.sense_key = s->sense_key;
          info.asc = s->code.asc;
          info.ascq = s->code.ascq;
        } else {
          info.note = "sense data not decoded: " + describe(s.error());
        }
      }
      if (ex) {
        finish(ex);
        ex->status = info.status;
        ex->sense_key = info.sense_key;
        ex->asc = info.asc;
        ex->ascq = info.ascq;
        ex->residual = info.residual;
        if (ex->cmnd_decoded && info.time_ns >= ex->start_ns) {
          ex->latency_ns = info.time_ns - ex->start_ns;
          info.latency_ns = ex->latency_ns;
        }
      }
      return;
    }
    default:
      return;
  }
}

void ExchangeTracker::decode_els(fc::ConstBytes payload, Exchange* ex, FrameInfo& info) {
  if (info.continuation) return;
  const auto code = fc::els_command_code(payload);
  if (!code.ok()) {
    problem(info.number, "ELS: " + describe(code.error()), info);
    return;
  }
  info.els = *code;
  if (ex && ex->kind != ExchangeKind::kEls) ex = nullptr;
  if (info.header.r_ctl == fc::rctl::kElsRequest) {
    if (ex) ex->command = *code;
    return;
  }
  if (info.header.r_ctl != fc::rctl::kElsReply) return;
  if (*code == fc::els_cmd::kLsRjt) {
    const auto rjt = fc::decode_ls_rjt(payload);
    if (rjt.ok()) {
      info.reject_reason = rjt->reason;
      info.reject_explanation = rjt->explanation;
    }
  }
  if (ex) {
    info.request = ex->command;
    ex->reply = *code;
    finish(ex);
  }
}

void ExchangeTracker::decode_ct(fc::ConstBytes payload, Exchange* ex, FrameInfo& info) {
  if (info.continuation) return;
  const auto p = fc::decode_ct_preamble(payload);
  if (!p.ok()) {
    problem(info.number, "CT: " + describe(p.error()), info);
    return;
  }
  info.ct = p->command_response;
  info.gs_type = p->gs_type;
  info.gs_subtype = p->gs_subtype;
  if (ex && ex->kind != ExchangeKind::kCt) ex = nullptr;
  if (info.header.r_ctl == fc::rctl::kDeviceDataUnsolicitedCtl) {
    if (ex) {
      ex->command = p->command_response;
      ex->gs_type = p->gs_type;
      ex->gs_subtype = p->gs_subtype;
    }
    return;
  }
  if (p->command_response == fc::ct_cmd::kRjt) {
    info.reject_reason = p->reason_code;
    info.reject_explanation = p->explanation;
  }
  if (ex) {
    info.request = ex->command;
    ex->reply = p->command_response;
    finish(ex);
  }
}

void ExchangeTracker::decode_bls(const fc::FrameHeader& h, fc::ConstBytes payload, Exchange* ex,
                                 FrameInfo& info) {
  switch (h.r_ctl) {
    case fc::rctl::kBlsAbts:
      if (!ex) return;
      if (ex->kind == ExchangeKind::kBls) {
        ex->command = h.r_ctl;
      } else if (ex->state == ExchangeState::kOpen) {
        ex->state = ExchangeState::kAborted;
      }
      return;
    case fc::rctl::kBlsBaAcc:
    case fc::rctl::kBlsBaRjt: {
      if (h.r_ctl == fc::rctl::kBlsBaAcc) {
        const auto a = fc::decode_ba_acc(payload);
        if (!a.ok()) problem(info.number, "BA_ACC: " + describe(a.error()), info);
      } else {
        const auto r = fc::decode_ba_rjt(payload);
        if (!r.ok()) {
          problem(info.number, "BA_RJT: " + describe(r.error()), info);
        } else {
          info.reject_reason = r->reason;
          info.reject_explanation = r->explanation;
        }
      }
      if (!ex) return;
      ex->abort_answered = true;
      if (ex->kind == ExchangeKind::kBls) {
        info.request = ex->command;
        ex->reply = h.r_ctl;
        finish(ex);
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace splitpath::sim::trace
