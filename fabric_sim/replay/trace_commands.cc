#include "fabric_sim/replay/trace_commands.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "fabric_sim/trace/exchange_tracker.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_data.h"

namespace splitpath::sim::replay {

namespace {

// Addresses FF.FF.F0 and up are the fabric's well-known services, never a node.
bool is_node_address(fc::FcId id) {
  return id.value != 0 && id.value < 0xFFFFF0;
}

bool is_read_capacity(const std::vector<uint8_t>& cdb) {
  if (cdb.empty()) return false;
  if (cdb[0] == fc::scsi_op::kReadCapacity10) return true;
  return cdb[0] == fc::scsi_op::kServiceActionIn16 && cdb.size() > 1 &&
         (cdb[1] & 0x1F) == fc::kSaReadCapacity16;
}

bool is_report_luns(const std::vector<uint8_t>& cdb) {
  return !cdb.empty() && cdb[0] == fc::scsi_op::kReportLuns;
}

// REPORT LUNS data kept per command: a header and every LUN 0..16383.
constexpr size_t kMaxReportLunsBytes = fc::kReportLunsHeaderSize + 8 * 16384;

// What the extraction keeps per open FCP exchange while the trace is read.
struct Pending {
  size_t index = 0;              // into the stream's commands
  std::vector<uint8_t> data_in;  // READ CAPACITY and REPORT LUNS data only
  uint64_t captured_in = 0;      // data_in bytes the trace held (overlaps count twice)
  uint64_t captured = 0;         // data_out bytes the trace held (overlaps count twice)
};

class Extractor {
 public:
  explicit Extractor(TraceCommandStream& out) : out_(out) {}

  void add(const trace::TraceFrame& frame) {
    trace::FrameInfo& info = info_;
    tracker_.add(frame, info);
    if (info.kind == trace::FrameKind::kUndecoded || frame.fc.size() < fc::kFrameHeaderSize) return;
    const fc::ConstBytes payload(frame.fc.data() + fc::kFrameHeaderSize,
                                 frame.fc.size() - fc::kFrameHeaderSize);
    switch (info.kind) {
      case trace::FrameKind::kFcpCmnd:
        on_cmnd(frame, info, payload);
        break;
      case trace::FrameKind::kFcpData:
        on_data(info, payload);
        break;
      case trace::FrameKind::kEls:
        on_els(info, payload);
        break;
      default:
        break;
    }
  }

  void finish(const trace::TraceReader& reader) {
    const std::vector<trace::Exchange>& exchanges = tracker_.exchanges();
    for (auto& [id, p] : pending_) {
      TraceCommand& c = out_.commands[p.index];
      if (id == 0 || id > exchanges.size()) continue;
      const trace::Exchange& e = exchanges[id - 1];
      c.answered = e.status.has_value();
      c.status = e.status.value_or(0);
      c.sense_key = e.sense_key;
      c.asc = e.asc;
      c.ascq = e.ascq;
      c.data_in = e.data_in;
      c.data_out_bytes = e.data_out;
      c.latency_ns = e.latency_ns;
      if (c.write_data) {
        c.write_data_missing =
            static_cast<uint32_t>(c.fcp_dl - std::min<uint64_t>(c.fcp_dl, p.captured));
      }
      if (c.answered && c.status == 0 && is_read_capacity(c.cdb)) note_capacity(c, p.data_in);
      if (c.answered && c.status == 0 && is_report_luns(c.cdb)) note_report_luns(c, p);
    }
    out_.records = reader.records();
    out_.frames = reader.frames();
    out_.reader_skipped = reader.skipped();
    out_.read_error = reader.read_error();
    out_.undecoded_headers = tracker_.undecoded_frames();
    out_.missing_command = tracker_.orphan_frames();
    out_.problems = reader.problems();
    const auto& more = tracker_.problems();
    out_.problems.insert(out_.problems.end(), more.begin(), more.end());
    std::stable_sort(out_.problems.begin(), out_.problems.end(),
                     [](const auto& a, const auto& b) { return a.frame < b.frame; });
  }

 private:
  void on_cmnd(const trace::TraceFrame& frame, const trace::FrameInfo& info,
               fc::ConstBytes payload) {
    auto cmnd = fc::decode_fcp_cmnd(payload);
    if (!cmnd.ok() || info.exchange == 0) {
      ++out_.skipped.undecoded_command;
      return;
    }
    if (cmnd->task_management_flags != 0) {
      ++out_.skipped.task_management;
      return;
    }
    if (!info.lun) {
      ++out_.skipped.multi_level_lun;
      return;
    }
    TraceCommand c;
    c.exchange = info.exchange;
    c.frame = frame.number;
    c.time_ns = frame.time_ns;
    c.initiator = info.header.s_id;
    c.target = info.header.d_id;
    c.lun = *info.lun;
    const fc::ConstBytes cdb = cmnd->cdb_bytes();
    c.cdb.assign(cdb.begin(), cdb.end());
    c.opcode = cdb.empty() ? 0 : cdb[0];
    c.lba = info.lba;
    c.blocks = info.transfer_length;
    c.fcp_dl = cmnd->fcp_dl;
    c.read_data = cmnd->rddata;
    c.write_data = cmnd->wrdata;
    Pending p;
    p.index = out_.commands.size();
    if (c.lba && c.blocks) {
      LunExtent& lun = out_.luns[{c.target.value, c.lun}];
      lun.end_lba = std::max(lun.end_lba, *c.lba + *c.blocks);
    } else {
      (void)out_.luns[{c.target.value, c.lun}];
    }
    out_.commands.push_back(std::move(c));
    pending_[info.exchange] = std::move(p);
  }

  void on_data(const trace::FrameInfo& info, fc::ConstBytes payload) {
    auto it = pending_.find(info.exchange);
    if (it == pending_.end()) return;
    Pending& p = it->second;
    TraceCommand& c = out_.commands[p.index];
    const uint64_t offset = info.relative_offset.value_or(info.header.parameter);
    const size_t size = std::min<size_t>(payload.size(), info.data_bytes.value_or(payload.size()));
    if (!info.from_responder) {
      const uint64_t limit = std::min(c.fcp_dl, kMaxBufferedWrite);
      if (!c.write_data || offset >= limit) return;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(size, limit - offset));
      if (c.data_out.size() < offset + n) c.data_out.resize(offset + n);
      std::memcpy(c.data_out.data() + offset, payload.data(), n);
      p.captured += n;
      return;
    }
    // READ CAPACITY data is small (at most its 32 bytes are kept), REPORT LUNS
    // data bounded by the LUNs a single-level address can name.
    const size_t limit = is_read_capacity(c.cdb) ? fc::kReadCapacity16DataSize
                         : is_report_luns(c.cdb) ? kMaxReportLunsBytes
                                                 : 0;
    if (offset >= limit) return;
    const size_t n = std::min<size_t>(size, limit - offset);
    if (p.data_in.size() < offset + n) p.data_in.resize(offset + n);
    std::memcpy(p.data_in.data() + offset, payload.data(), n);
    p.captured_in += n;
  }

  // A GOOD REPORT LUNS answer: the LUNs it lists join what the target told the
  // initiator; an answer the trace does not hold whole (cut short by the
  // allocation length or the capture, bytes missing) marks the pair incomplete.
  void note_report_luns(const TraceCommand& c, const Pending& p) {
    ReportedLuns& r = out_.report_luns[{c.target.value, c.initiator.value}];
    auto list = fc::decode_report_luns(p.data_in);
    if (!list.ok() || list->truncated || p.captured_in < p.data_in.size()) {
      r.complete = false;
      return;
    }
    for (size_t i = 0; i < list->count; ++i) {
      // Multi-level LUNs are not replayed (CommandsSkipped): nothing to mask.
      if (auto lun = fc::decode_lun(list->lun(i)); lun.ok()) r.luns.insert(*lun);
    }
  }

  void note_capacity(const TraceCommand& c, const std::vector<uint8_t>& data) {
    uint64_t last_lba = 0;
    uint32_t block = 0;
    if (c.cdb[0] == fc::scsi_op::kReadCapacity10) {
      auto d = fc::decode_read_capacity10_data(data);
      if (!d.ok() || d->returned_lba == 0xFFFFFFFF) return;
      last_lba = d->returned_lba;
      block = d->block_length;
    } else {
      auto d = fc::decode_read_capacity16_data(data);
      if (!d.ok()) return;
      last_lba = d->last_lba;
      block = d->block_length;
    }
    if (block == 0 || last_lba == ~0ull) return;
    LunExtent& lun = out_.luns[{c.target.value, c.lun}];
    lun.block_size = block;
    lun.capacity_blocks = std::max(lun.capacity_blocks, last_lba + 1);
  }

  // PLOGI and its ACC name both ends; FLOGI/FDISC name the originator, whose
  // address is the D_ID of the ACC.
  void on_els(const trace::FrameInfo& info, fc::ConstBytes payload) {
    if (!info.els) return;
    const bool login_request = *info.els == fc::els_cmd::kPlogi ||
                               *info.els == fc::els_cmd::kFlogi || *info.els == fc::els_cmd::kFdisc;
    const bool login_acc =
        *info.els == fc::els_cmd::kAcc && info.request &&
        (*info.request == fc::els_cmd::kPlogi || *info.request == fc::els_cmd::kFlogi ||
         *info.request == fc::els_cmd::kFdisc);
    if (!login_request && !login_acc) return;
    auto sp = fc::decode_service_parameters(payload);
    if (!sp.ok() || sp->port_name.value == 0) return;
    if (login_request) {
      if (*info.els == fc::els_cmd::kPlogi) {
        learn(info.header.s_id, sp->port_name.value);
      } else {
        fabric_logins_[info.exchange] = sp->port_name.value;
      }
      return;
    }
    if (*info.request == fc::els_cmd::kPlogi) {
      learn(info.header.s_id, sp->port_name.value);
    } else if (auto it = fabric_logins_.find(info.exchange); it != fabric_logins_.end()) {
      learn(info.header.d_id, it->second);
    }
  }

  void learn(fc::FcId id, uint64_t wwpn) {
    if (is_node_address(id)) out_.wwpns[id.value] = wwpn;
  }

  TraceCommandStream& out_;
  trace::ExchangeTracker tracker_;
  trace::FrameInfo info_;                                  // reused frame after frame
  std::map<uint64_t, Pending> pending_;                    // by exchange id
  absl::flat_hash_map<uint64_t, uint64_t> fabric_logins_;  // exchange id -> WWPN
};

}  // namespace

std::vector<fc::FcId> TraceCommandStream::initiators() const {
  std::vector<fc::FcId> out;
  for (const TraceCommand& c : commands) {
    if (std::find(out.begin(), out.end(), c.initiator) == out.end()) out.push_back(c.initiator);
  }
  return out;
}

std::vector<fc::FcId> TraceCommandStream::targets() const {
  std::vector<fc::FcId> out;
  for (const TraceCommand& c : commands) {
    if (std::find(out.begin(), out.end(), c.target) == out.end()) out.push_back(c.target);
  }
  return out;
}

uint64_t TraceCommandStream::wwpn_of(fc::FcId id) const {
  auto it = wwpns.find(id.value);
  return it == wwpns.end() ? 0 : it->second;
}

TraceCommandStream extract_commands(trace::TraceReader& reader) {
  TraceCommandStream out;
  out.file = reader.name();
  out.link_type = reader.link_type();
  Extractor extractor(out);
  trace::TraceFrame frame;
  while (reader.next(frame))
    extractor.add(frame);
  extractor.finish(reader);
  return out;
}

}  // namespace splitpath::sim::replay
