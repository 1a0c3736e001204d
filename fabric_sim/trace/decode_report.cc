#include "fabric_sim/trace/decode_report.h"

#include "fabric_sim/run/latency_json.h"

#include <algorithm>
#include <array>
#include <map>
#include <tuple>
#include <utility>

#include "fmt/format.h"
#include "splitpath/fc/bls.h"
#include "splitpath/fc/ct.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::sim::trace {

namespace {

using Json = nlohmann::ordered_json;

// Never throws: bytes that are not UTF-8 (a file name, a libpcap message) are
// replaced.
std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string fc_id(fc::FcId id) {
  return fmt::format("{:02x}.{:02x}.{:02x}", id.domain(), id.area(), id.port());
}
std::string hex8(uint32_t v) {
  return fmt::format("0x{:02x}", v);
}
std::string hex16(uint32_t v) {
  return fmt::format("0x{:04x}", v);
}

// Names for the listing. Unknown codes print as hex.
const char* scsi_opcode_name(uint8_t op) {
  switch (op) {
    case 0x00:
      return "TEST UNIT READY";
    case 0x03:
      return "REQUEST SENSE";
    case 0x08:
      return "READ(6)";
    case 0x0A:
      return "WRITE(6)";
    case 0x12:
      return "INQUIRY";
    case 0x15:
      return "MODE SELECT(6)";
    case 0x16:
      return "RESERVE(6)";
    case 0x17:
      return "RELEASE(6)";
    case 0x1A:
      return "MODE SENSE(6)";
    case 0x1B:
      return "START STOP UNIT";
    case 0x1E:
      return "PREVENT ALLOW MEDIUM REMOVAL";
    case 0x25:
      return "READ CAPACITY(10)";
    case 0x28:
      return "READ(10)";
    case 0x2A:
      return "WRITE(10)";
    case 0x2F:
      return "VERIFY(10)";
    case 0x35:
      return "SYNCHRONIZE CACHE(10)";
    case 0x41:
      return "WRITE SAME(10)";
    case 0x42:
      return "UNMAP";
    case 0x4D:
      return "LOG SENSE";
    case 0x55:
      return "MODE SELECT(10)";
    case 0x5A:
      return "MODE SENSE(10)";
    case 0x5E:
      return "PERSISTENT RESERVE IN";
    case 0x5F:
      return "PERSISTENT RESERVE OUT";
    case 0x83:
      return "EXTENDED COPY";
    case 0x84:
      return "RECEIVE COPY RESULTS";
    case 0x88:
      return "READ(16)";
    case 0x89:
      return "COMPARE AND WRITE";
    case 0x8A:
      return "WRITE(16)";
    case 0x8F:
      return "VERIFY(16)";
    case 0x91:
      return "SYNCHRONIZE CACHE(16)";
    case 0x93:
      return "WRITE SAME(16)";
    case 0x9E:
      return "SERVICE ACTION IN(16)";
    case 0xA0:
      return "REPORT LUNS";
    case 0xA3:
      return "MAINTENANCE IN";
    case 0xA4:
      return "MAINTENANCE OUT";
    case 0xA8:
      return "READ(12)";
    case 0xAA:
      return "WRITE(12)";
    default:
      return nullptr;
  }
}

const char* scsi_status_name(uint8_t s) {
  switch (s) {
    case fc::scsi_status::kGood:
      return "GOOD";
    case fc::scsi_status::kCheckCondition:
      return "CHECK CONDITION";
    case fc::scsi_status::kConditionMet:
      return "CONDITION MET";
    case fc::scsi_status::kBusy:
      return "BUSY";
    case fc::scsi_status::kReservationConflict:
      return "RESERVATION CONFLICT";
    case fc::scsi_status::kTaskSetFull:
      return "TASK SET FULL";
    case fc::scsi_status::kAcaActive:
      return "ACA ACTIVE";
    case fc::scsi_status::kTaskAborted:
      return "TASK ABORTED";
    default:
      return "?";
  }
}

const char* sense_key_name(uint8_t k) {
  static constexpr const char* kNames[16] = {
      "NO SENSE",       "RECOVERED ERROR", "NOT READY",      "MEDIUM ERROR",
      "HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
      "BLANK CHECK",    "VENDOR SPECIFIC", "COPY ABORTED",   "ABORTED COMMAND",
      "RESERVED",       "VOLUME OVERFLOW", "MISCOMPARE",     "COMPLETED"};
  return kNames[k & 0x0F];
}

const char* els_name(uint8_t code) {
  switch (code) {
    case 0x01:
      return "LS_RJT";
    case 0x02:
      return "ACC";
    case 0x03:
      return "PLOGI";
    case 0x04:
      return "FLOGI";
    case 0x05:
      return "LOGO";
    case 0x0E:
      return "RTV";
    case 0x0F:
      return "RLS";
    case 0x10:
      return "ECHO";
    case 0x12:
      return "RRQ";
    case 0x13:
      return "REC";
    case 0x14:
      return "SRR";
    case 0x18:
      return "RDP";
    case 0x20:
      return "PRLI";
    case 0x21:
      return "PRLO";
    case 0x24:
      return "TPRLO";
    case 0x50:
      return "PDISC";
    case 0x51:
      return "FDISC";
    case 0x52:
      return "ADISC";
    case 0x60:
      return "FAN";
    case 0x61:
      return "RSCN";
    case 0x62:
      return "SCR";
    case 0x78:
      return "RNID";
    case 0x79:
      return "RLIR";
    case 0x7A:
      return "LIRR";
    case 0x7D:
      return "RPSC";
    default:
      return nullptr;
  }
}

// Name-server command codes (FC-GS-7); meaningful under GS_Type 0xFC subtype 0x02.
const char* ns_name(uint16_t code) {
  switch (code) {
    case 0x0100:
      return "GA_NXT";
    case 0x0101:
      return "GID_A";
    case 0x0112:
      return "GPN_ID";
    case 0x0113:
      return "GNN_ID";
    case 0x0114:
      return "GCS_ID";
    case 0x0117:
      return "GFT_ID";
    case 0x0118:
      return "GSPN_ID";
    case 0x011A:
      return "GPT_ID";
    case 0x011F:
      return "GFF_ID";
    case 0x0121:
      return "GID_PN";
    case 0x0131:
      return "GID_NN";
    case 0x0171:
      return "GID_FT";
    case 0x0172:
      return "GPN_FT";
    case 0x0173:
      return "GNN_FT";
    case 0x01A1:
      return "GID_PT";
    case 0x0212:
      return "RPN_ID";
    case 0x0213:
      return "RNN_ID";
    case 0x0214:
      return "RCS_ID";
    case 0x0217:
      return "RFT_ID";
    case 0x0218:
      return "RSPN_ID";
    case 0x021A:
      return "RPT_ID";
    case 0x021F:
      return "RFF_ID";
    case 0x0239:
      return "RSNN_NN";
    case 0x0300:
      return "DA_ID";
    default:
      return nullptr;
  }
}

std::string ct_text(uint16_t code, uint8_t gs_type, uint8_t gs_subtype) {
  if (code == fc::ct_cmd::kAcc) return "ACC";
  if (code == fc::ct_cmd::kRjt) return "RJT";
  const char* n =
      gs_type == fc::gs_type::kDirectoryService && gs_subtype == fc::gs_subtype::kNameServer
          ? ns_name(code)
          : nullptr;
  return n ? n : fmt::format("GS_Type 0x{:02x} command 0x{:04x}", gs_type, code);
}

const char* bls_name(uint8_t r_ctl) {
  switch (r_ctl) {
    case 0x80:
      return "BA_NOP";
    case fc::rctl::kBlsAbts:
      return "ABTS";
    case 0x82:
      return "BA_RMC";
    case fc::rctl::kBlsBaAcc:
      return "BA_ACC";
    case fc::rctl::kBlsBaRjt:
      return "BA_RJT";
    case 0x86:
      return "PRMT";
    default:
      return "BLS";
  }
}

std::string opcode_text(uint8_t op) {
  const char* n = scsi_opcode_name(op);
  return n ? fmt::format("{} 0x{:02x}", n, op) : fmt::format("opcode 0x{:02x}", op);
}

std::string lun_text(const std::optional<uint16_t>& n, const fc::ScsiLun& raw) {
  if (n) return std::to_string(*n);
  std::string s = "0x";
  for (uint8_t b : raw.bytes)
    s += fmt::format("{:02x}", b);
  return s;
}

// One row per initiator / target / LUN; "no rsp" counts commands without an
// FCP_RSP (open at the end of the trace, aborted, or OX_ID reused).
constexpr char kRow[] =
    "{:<9} {:<9} {:>5} {:>7} {:>7} {:>7} {:>6} {:>13} {:>13} {:>6} {:>6} {:>9} {:>9} {:>9} "
    "{:>9}\n";

double us(uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

Json itl_json(const ItlSummary& s, bool with_key) {
  Json j;
  if (with_key) {
    j["initiator"] = fc_id(s.initiator);
    j["target"] = fc_id(s.target);
    if (s.lun_number) {
      j["lun"] = *s.lun_number;
    } else {
      j["lun"] = lun_text(s.lun_number, s.lun);
    }
  }
  j["commands"] = s.commands;
  j["reads"] = s.reads;
  j["writes"] = s.writes;
  j["other"] = s.other;
  j["bytes_read"] = s.bytes_read;
  j["bytes_written"] = s.bytes_written;
  j["errors"] = s.errors;
  j["incomplete"] = s.incomplete;
  j["aborted"] = s.aborted;
  j["latency_us"] = latency_json(s.latency);
  return j;
}

ItlSummary total_of(const std::vector<ItlSummary>& rows) {
  ItlSummary t;
  for (const ItlSummary& s : rows) {
    t.commands += s.commands;
    t.reads += s.reads;
    t.writes += s.writes;
    t.other += s.other;
    t.bytes_read += s.bytes_read;
    t.bytes_written += s.bytes_written;
    t.errors += s.errors;
    t.incomplete += s.incomplete;
    t.aborted += s.aborted;
    t.latency.merge(s.latency);
  }
  return t;
}

struct ExchangeCounts {
  uint64_t by_kind[5] = {};
  uint64_t by_state[4] = {};
  uint64_t els_requests = 0, els_acc = 0, els_rjt = 0;
  uint64_t ct_requests = 0, ct_acc = 0, ct_rjt = 0;
  uint64_t aborts = 0;
};

ExchangeCounts count_exchanges(const std::vector<Exchange>& all) {
  ExchangeCounts c;
  for (const Exchange& e : all) {
    ++c.by_kind[static_cast<int>(e.kind)];
    ++c.by_state[static_cast<int>(e.state)];
    if (e.kind == ExchangeKind::kEls) {
      ++c.els_requests;
      if (e.reply == fc::els_cmd::kAcc) ++c.els_acc;
      if (e.reply == fc::els_cmd::kLsRjt) ++c.els_rjt;
    } else if (e.kind == ExchangeKind::kCt) {
      ++c.ct_requests;
      if (e.reply == fc::ct_cmd::kAcc) ++c.ct_acc;
      if (e.reply == fc::ct_cmd::kRjt) ++c.ct_rjt;
    } else if (e.kind == ExchangeKind::kBls) {
      ++c.aborts;
    }
  }
  return c;
}

std::string link_text(const FrameInfo& f) {
  std::string s;
  if (!f.sof.empty() || !f.eof.empty()) s = fmt::format(" [{}/{}", f.sof, f.eof);
  if (f.fip) s += fmt::format("{}FIP", s.empty() ? " [" : " ");
  if (f.vlan >= 0) s += fmt::format("{}VLAN {}", s.empty() ? " [" : " ", f.vlan);
  if (f.crc == CrcCheck::kBad) s += fmt::format("{}CRC BAD", s.empty() ? " [" : " ");
  if (!s.empty()) s += "]";
  return s;
}

std::string detail_text(const FrameInfo& f) {
  switch (f.kind) {
    case FrameKind::kFcpCmnd: {
      std::string s = "LUN " + (f.lun ? std::to_string(*f.lun) : std::string("?"));
      if (f.task_management) s += fmt::format(" task management 0x{:02x}", *f.task_management);
      if (f.opcode) s += " " + opcode_text(*f.opcode);
      if (f.lba) s += fmt::format(" LBA {}", *f.lba);
      if (f.transfer_length) s += fmt::format(" len {}", *f.transfer_length);
      if (f.fcp_dl) s += fmt::format(" FCP_DL {}", *f.fcp_dl);
      return s;
    }
    case FrameKind::kFcpXferRdy:
      if (!f.burst_length) return "";
      return fmt::format("offset {} burst {}", f.relative_offset.value_or(0), *f.burst_length);
    case FrameKind::kFcpData:
      return fmt::format("offset {} bytes {} {}", f.relative_offset.value_or(0),
                         f.data_bytes.value_or(0), f.from_responder ? "in" : "out");
    case FrameKind::kFcpRsp: {
      if (!f.status) return "";
      std::string s = fmt::format("status 0x{:02x} {}", *f.status, scsi_status_name(*f.status));
      if (f.sense_key) {
        s += fmt::format(" sense {:x}/{:02x}/{:02x} {}", *f.sense_key, f.asc.value_or(0),
                         f.ascq.value_or(0), sense_key_name(*f.sense_key));
      }
      if (f.residual) s += fmt::format(" resid {:+}", *f.residual);
      if (f.rsp_code) s += fmt::format(" RSP_CODE {}", *f.rsp_code);
      if (f.latency_ns) s += fmt::format(" latency {:.3f} us", us(*f.latency_ns));
      return s;
    }
    case FrameKind::kEls: {
      if (f.continuation) return "continuation";
      if (!f.els) return "";
      const char* n = els_name(*f.els);
      std::string s = n ? n : fmt::format("ELS 0x{:02x}", *f.els);
      if (f.request) {
        const char* r = els_name(static_cast<uint8_t>(*f.request));
        s += fmt::format(" ({})", r ? r : fmt::format("0x{:02x}", *f.request));
      }
      if (f.reject_reason) {
        s += fmt::format(" reason 0x{:02x} explanation 0x{:02x}", *f.reject_reason,
                         f.reject_explanation.value_or(0));
      }
      return s;
    }
    case FrameKind::kCt: {
      if (f.continuation) return "continuation";
      if (!f.ct) return "";
      std::string s = ct_text(*f.ct, f.gs_type, f.gs_subtype);
      if (f.request) s += " (" + ct_text(*f.request, f.gs_type, f.gs_subtype) + ")";
      if (f.reject_reason) {
        s += fmt::format(" reason 0x{:02x} explanation 0x{:02x}", *f.reject_reason,
                         f.reject_explanation.value_or(0));
      }
      return s;
    }
    case FrameKind::kBls: {
      std::string s = bls_name(f.header.r_ctl);
      if (f.reject_reason) s += fmt::format(" reason 0x{:02x}", *f.reject_reason);
      return s;
    }
    default:
      return "";
  }
}

}  // namespace

void TraceDecoder::run(const std::function<void(const FrameInfo&)>& on_frame) {
  TraceFrame frame;
  FrameInfo info;
  while (reader_.next(frame)) {
    if (!any_) first_ns_ = frame.time_ns;
    any_ = true;
    last_ns_ = std::max(last_ns_, frame.time_ns);
    tracker_.add(frame, info);
    if (on_frame) on_frame(info);
  }
}

std::vector<ItlSummary> TraceDecoder::summary() const {
  using Key = std::tuple<uint32_t, uint32_t, bool, std::array<uint8_t, fc::kLunSize>>;
  std::map<Key, ItlSummary> rows;
  for (const Exchange& e : tracker_.exchanges()) {
    if (e.kind != ExchangeKind::kFcp) continue;
    const Key k{e.originator.value, e.responder.value, !e.lun_number.has_value(), e.lun.bytes};
    auto [it, inserted] = rows.try_emplace(k);
    ItlSummary& s = it->second;
    if (inserted) {
      s.initiator = e.originator;
      s.target = e.responder;
      s.lun = e.lun;
      s.lun_number = e.lun_number;
    }
    ++s.commands;
    const bool read = e.opcode && fc::scsi_is_read(*e.opcode);
    const bool write = e.opcode && fc::scsi_is_write(*e.opcode);
    if (read) {
      ++s.reads;
      s.bytes_read += e.data_in;
    } else if (write) {
      ++s.writes;
      s.bytes_written += e.data_out;
    } else {
      ++s.other;
    }
    if (e.status && *e.status != fc::scsi_status::kGood) ++s.errors;
    if (e.state == ExchangeState::kOpen || e.state == ExchangeState::kSuperseded) ++s.incomplete;
    if (e.state == ExchangeState::kAborted) ++s.aborted;
    if (e.latency_ns) s.latency.record(*e.latency_ns);
  }
  std::vector<ItlSummary> out;
  out.reserve(rows.size());
  for (auto& [k, s] : rows)
    out.push_back(std::move(s));
  return out;
}

std::vector<TraceProblem> TraceDecoder::problems() const {
  std::vector<TraceProblem> all = reader_.problems();
  all.insert(all.end(), tracker_.problems().begin(), tracker_.problems().end());
  std::stable_sort(all.begin(), all.end(),
                   [](const TraceProblem& a, const TraceProblem& b) { return a.frame < b.frame; });
  return all;
}

std::string frame_line(const FrameInfo& f, uint64_t origin_ns) {
  const uint64_t rel = f.time_ns >= origin_ns ? f.time_ns - origin_ns : 0;
  const std::string time = fmt::format("{}.{:09d}", rel / 1000000000ull, rel % 1000000000ull);
  if (f.kind == FrameKind::kUndecoded) {
    return fmt::format("{:>7} {:>14}  {}{}", f.number, time, f.note, link_text(f));
  }
  const fc::FrameHeader& h = f.header;
  const std::string exchange = f.exchange ? fmt::format("#{}", f.exchange) : "-";
  std::string line =
      fmt::format("{:>7} {:>14}  {} -> {}  {:02x}/{:02x}  {:04x}/{:04x} {:<7} {:<12} {}", f.number,
                  time, fc_id(h.s_id), fc_id(h.d_id), h.r_ctl, h.type, h.ox_id, h.rx_id, exchange,
                  frame_kind_name(f.kind), detail_text(f));
  line += link_text(f);
  if (!f.note.empty()) line += "  ! " + f.note;
  while (!line.empty() && line.back() == ' ')
    line.pop_back();
  return line;
}

Json frame_json(const FrameInfo& f) {
  Json j;
  j["number"] = f.number;
  j["time_ns"] = f.time_ns;
  if (f.kind != FrameKind::kUndecoded) {
    const fc::FrameHeader& h = f.header;
    j["s_id"] = fc_id(h.s_id);
    j["d_id"] = fc_id(h.d_id);
    j["r_ctl"] = hex8(h.r_ctl);
    j["type"] = hex8(h.type);
    j["ox_id"] = hex16(h.ox_id);
    j["rx_id"] = hex16(h.rx_id);
  }
  j["kind"] = frame_kind_name(f.kind);
  j["exchange"] = f.exchange;
  if (f.lun) j["lun"] = *f.lun;
  if (f.task_management) j["tmf"] = hex8(*f.task_management);
  if (f.opcode) j["opcode"] = hex8(*f.opcode);
  if (f.lba) j["lba"] = *f.lba;
  if (f.transfer_length) j["length"] = *f.transfer_length;
  if (f.fcp_dl) j["fcp_dl"] = *f.fcp_dl;
  if (!f.cdb_error.empty()) j["cdb_error"] = f.cdb_error;
  if (f.relative_offset) j["relative_offset"] = *f.relative_offset;
  if (f.burst_length) j["burst_length"] = *f.burst_length;
  if (f.data_bytes) j["data_bytes"] = *f.data_bytes;
  if (f.status) j["status"] = hex8(*f.status);
  if (f.sense_key) j["sense_key"] = hex8(*f.sense_key);
  if (f.asc) j["asc"] = hex8(*f.asc);
  if (f.ascq) j["ascq"] = hex8(*f.ascq);
  if (f.residual) j["residual"] = *f.residual;
  if (f.rsp_code) j["rsp_code"] = hex8(*f.rsp_code);
  if (f.latency_ns) j["latency_ns"] = *f.latency_ns;
  if (f.els) j["els"] = hex8(*f.els);
  if (f.ct) {
    j["ct"] = hex16(*f.ct);
    j["gs_type"] = hex8(f.gs_type);
  }
  if (f.request) j["request"] = f.kind == FrameKind::kCt ? hex16(*f.request) : hex8(*f.request);
  if (f.reject_reason) j["reject_reason"] = hex8(*f.reject_reason);
  if (f.reject_explanation) j["reject_explanation"] = hex8(*f.reject_explanation);
  if (f.kind == FrameKind::kBls) j["bls"] = bls_name(f.header.r_ctl);
  if (!f.sof.empty()) j["sof"] = f.sof;
  if (!f.eof.empty()) j["eof"] = f.eof;
  if (f.crc != CrcCheck::kAbsent) j["crc"] = f.crc == CrcCheck::kGood ? "good" : "bad";
  if (f.vlan >= 0) j["vlan"] = f.vlan;
  if (f.fip) j["fip"] = true;
  if (f.orphan) j["orphan"] = true;
  if (!f.note.empty()) j["note"] = f.note;
  return j;
}

Json results_json(const TraceDecoder& d) {
  const ExchangeTracker& t = d.tracker();
  const std::vector<ItlSummary> rows = d.summary();
  const ExchangeCounts c = count_exchanges(t.exchanges());
  Json r;
  r["exchanges"] = t.exchanges().size();
  Json summary = Json::array();
  for (const ItlSummary& s : rows)
    summary.push_back(itl_json(s, true));
  r["summary"] = std::move(summary);

  Json totals = itl_json(total_of(rows), false);
  totals["frames"] = d.reader().records();
  totals["fc_frames"] = d.reader().frames();
  totals["time_span_ns"] = d.last_time_ns() - d.first_time_ns();
  Json kinds;
  const char* kind_keys[] = {"fcp", "els", "ct", "bls", "other"};  // ExchangeKind order
  for (int k = 0; k < 5; ++k)
    kinds[kind_keys[k]] = c.by_kind[k];
  totals["exchanges"] = std::move(kinds);
  Json states;
  for (ExchangeState s : {ExchangeState::kComplete, ExchangeState::kOpen, ExchangeState::kAborted,
                          ExchangeState::kSuperseded}) {
    states[exchange_state_name(s)] = c.by_state[static_cast<int>(s)];
  }
  totals["exchange_states"] = std::move(states);
  totals["els"] = Json{{"requests", c.els_requests}, {"acc", c.els_acc}, {"ls_rjt", c.els_rjt}};
  totals["ct"] = Json{{"requests", c.ct_requests}, {"acc", c.ct_acc}, {"rjt", c.ct_rjt}};
  totals["bad_crc"] = d.reader().bad_crc();
  r["totals"] = std::move(totals);

  Json problems = Json::array();
  for (const TraceProblem& p : d.problems())
    problems.push_back(Json{{"frame", p.frame}, {"reason", p.reason}});
  r["problems"] = std::move(problems);

  const TraceSkipped& sk = d.reader().skipped();
  Json skipped;
  skipped["fip"] = sk.fip;
  skipped["other_ethertype"] = sk.other_ethertype;
  skipped["short_frames"] = sk.short_frames;
  skipped["bad_encapsulation"] = sk.bad_encapsulation;
  skipped["truncated_file"] = sk.truncated_file;
  skipped["undecoded_headers"] = t.undecoded_frames();
  skipped["missing_command"] = t.orphan_frames();
  r["skipped"] = std::move(skipped);
  if (d.reader().read_error().ok()) {
    r["read_error"] = nullptr;
  } else {
    r["read_error"] = std::string(d.reader().read_error().message());
  }
  return r;
}

std::string results_text(const TraceDecoder& d, size_t max_problems) {
  const TraceReader& reader = d.reader();
  const ExchangeTracker& t = d.tracker();
  const std::vector<ItlSummary> rows = d.summary();
  const ExchangeCounts c = count_exchanges(t.exchanges());
  const uint64_t span = d.last_time_ns() - d.first_time_ns();
  std::string out = fmt::format(
      "splitpath decode: {}: link type {} ({}), {} frames ({} FC), {} exchanges, {}.{:09d} s\n",
      reader.name(), reader.link_type(), link_type_name(reader.link_type()), reader.records(),
      reader.frames(), t.exchanges().size(), span / 1000000000ull, span % 1000000000ull);
  out += fmt::format(kRow, "initiator", "target", "LUN", "cmds", "reads", "writes", "other",
                     "bytes read", "bytes written", "errors", "no rsp", "p50 us", "p99 us",
                     "p999 us", "max us");
  auto row = [&out](const std::string& i, const std::string& t2, const std::string& lun,
                    const ItlSummary& s) {
    auto lat = [](uint64_t ns) { return fmt::format("{:.1f}", us(ns)); };
    out += fmt::format(kRow, i, t2, lun, s.commands, s.reads, s.writes, s.other, s.bytes_read,
                       s.bytes_written, s.errors, s.incomplete + s.aborted,
                       lat(s.latency.percentile(0.50)), lat(s.latency.percentile(0.99)),
                       lat(s.latency.percentile(0.999)), lat(s.latency.max()));
  };
  for (const ItlSummary& s : rows)
    row(fc_id(s.initiator), fc_id(s.target), lun_text(s.lun_number, s.lun), s);
  row("total", "", "", total_of(rows));
  out += fmt::format(
      "exchanges: FCP {}, ELS {} ({} ACC, {} LS_RJT), CT {} ({} ACC, {} RJT), BLS {}, other {}; "
      "complete {}, incomplete {}, aborted {}, OX_ID reused {}\n",
      c.by_kind[0], c.by_kind[1], c.els_acc, c.els_rjt, c.by_kind[2], c.ct_acc, c.ct_rjt,
      c.by_kind[3], c.by_kind[4], c.by_state[static_cast<int>(ExchangeState::kComplete)],
      c.by_state[static_cast<int>(ExchangeState::kOpen)],
      c.by_state[static_cast<int>(ExchangeState::kAborted)],
      c.by_state[static_cast<int>(ExchangeState::kSuperseded)]);
  const TraceSkipped& sk = reader.skipped();
  out += fmt::format(
      "skipped: FIP {}, other ethertypes {}, too short {}, bad FCoE encapsulation {}, cut file {}, "
      "undecodable headers {}, missing their command {}; bad CRC (decoded) {}\n",
      sk.fip, sk.other_ethertype, sk.short_frames, sk.bad_encapsulation, sk.truncated_file,
      t.undecoded_frames(), t.orphan_frames(), reader.bad_crc());
  const std::vector<TraceProblem> problems = d.problems();
  out += fmt::format("problems: {}\n", problems.size());
  for (size_t i = 0; i < problems.size() && i < max_problems; ++i)
    out += fmt::format("  frame {}: {}\n", problems[i].frame, problems[i].reason);
  if (problems.size() > max_problems) {
    out += fmt::format("  ... and {} more (all are in --json)\n", problems.size() - max_problems);
  }
  if (!reader.read_error().ok()) {
    out += fmt::format("reading stopped early: {}\n", std::string(reader.read_error().message()));
  }
  return out;
}

void write_text_report(TraceReader& reader, const DecodeOptions& options, std::ostream& out) {
  TraceDecoder decoder(reader);
  uint64_t listed = 0;
  decoder.run([&](const FrameInfo& f) {
    if (!options.list_frames || listed >= options.limit) return;
    ++listed;
    out << frame_line(f, reader.first_record_ns()) << '\n';
  });
  if (options.list_frames && listed > 0) out << '\n';
  out << results_text(decoder);
}

void write_json_report(TraceReader& reader, const DecodeOptions& options, std::ostream& out) {
  Json head;
  head["file"] = reader.name();
  head["link_type"] = reader.link_type();
  head["link_type_name"] = link_type_name(reader.link_type());
  std::string text = dump(head);
  text.pop_back();  // the closing brace: "frames" and the results follow
  out << text << (head.empty() ? "" : ",") << "\"frames\":[";
  TraceDecoder decoder(reader);
  uint64_t listed = 0;
  decoder.run([&](const FrameInfo& f) {
    if (!options.list_frames || listed >= options.limit) return;
    out << (listed ? "," : "") << dump(frame_json(f));
    ++listed;
  });
  const std::string tail = dump(results_json(decoder));
  out << "]," << tail.substr(1) << '\n';
}

Json decode_json(TraceReader& reader, const DecodeOptions& options) {
  Json j;
  j["file"] = reader.name();
  j["link_type"] = reader.link_type();
  j["link_type_name"] = link_type_name(reader.link_type());
  Json frames = Json::array();
  TraceDecoder decoder(reader);
  uint64_t listed = 0;
  decoder.run([&](const FrameInfo& f) {
    if (!options.list_frames || listed >= options.limit) return;
    frames.push_back(frame_json(f));
    ++listed;
  });
  j["frames"] = std::move(frames);
  Json results = results_json(decoder);
  for (auto& [k, v] : results.items())
    j[k] = std::move(v);
  return j;
}

}  // namespace splitpath::sim::trace
