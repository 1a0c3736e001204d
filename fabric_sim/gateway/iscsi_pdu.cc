#include "fabric_sim/gateway/iscsi_pdu.h"

#include <algorithm>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace splitpath::sim::iscsi {
namespace {

absl::Status bad(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

uint32_t load24(const uint8_t* p) {
  return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
}

absl::Status expect_opcode(const Pdu& pdu, uint8_t op) {
  if (pdu.opcode() != op)
    return bad(
        fmt::format("expected a {} PDU, got {}", opcode_name(op), opcode_name(pdu.opcode())));
  return absl::OkStatus();
}

fc::ScsiLun lun_of(const Pdu& pdu) {
  return fc::load_lun(pdu.bhs.data() + 8);
}

void put_lun(Pdu& pdu, const fc::ScsiLun& lun) {
  fc::store_lun(pdu.bhs.data() + 8, lun);
}

void put_sn(Pdu& pdu, const SeqNumbers& sn) {
  pdu.set_u32(24, sn.stat_sn);
  pdu.set_u32(28, sn.exp_cmd_sn);
  pdu.set_u32(32, sn.max_cmd_sn);
}

Pdu target_pdu(uint8_t op, uint8_t flags) {
  Pdu p;
  p.bhs[0] = op;
  p.bhs[1] = flags;
  return p;
}

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '+' || c == '@' || c == '_';
}

}  // namespace

std::string opcode_name(uint8_t op) {
  switch (op) {
    case opcode::kNopOut:
      return "NOP-Out";
    case opcode::kScsiCommand:
      return "SCSI Command";
    case opcode::kTaskManagementRequest:
      return "Task Management Function Request";
    case opcode::kLoginRequest:
      return "Login Request";
    case opcode::kTextRequest:
      return "Text Request";
    case opcode::kDataOut:
      return "SCSI Data-Out";
    case opcode::kLogoutRequest:
      return "Logout Request";
    case opcode::kSnackRequest:
      return "SNACK Request";
    case opcode::kNopIn:
      return "NOP-In";
    case opcode::kScsiResponse:
      return "SCSI Response";
    case opcode::kTaskManagementResponse:
      return "Task Management Function Response";
    case opcode::kLoginResponse:
      return "Login Response";
    case opcode::kTextResponse:
      return "Text Response";
    case opcode::kDataIn:
      return "SCSI Data-In";
    case opcode::kLogoutResponse:
      return "Logout Response";
    case opcode::kR2t:
      return "R2T";
    case opcode::kAsyncMessage:
      return "Asynchronous Message";
    case opcode::kReject:
      return "Reject";
    default:
      return fmt::format("opcode {:#04x}", op);
  }
}

uint32_t Pdu::u32(size_t offset) const {
  return (uint32_t{bhs[offset]} << 24) | (uint32_t{bhs[offset + 1]} << 16) |
         (uint32_t{bhs[offset + 2]} << 8) | bhs[offset + 3];
}

void Pdu::set_u32(size_t offset, uint32_t value) {
  bhs[offset] = static_cast<uint8_t>(value >> 24);
  bhs[offset + 1] = static_cast<uint8_t>(value >> 16);
  bhs[offset + 2] = static_cast<uint8_t>(value >> 8);
  bhs[offset + 3] = static_cast<uint8_t>(value);
}

uint16_t Pdu::u16(size_t offset) const {
  return static_cast<uint16_t>((bhs[offset] << 8) | bhs[offset + 1]);
}

void Pdu::set_u16(size_t offset, uint16_t value) {
  bhs[offset] = static_cast<uint8_t>(value >> 8);
  bhs[offset + 1] = static_cast<uint8_t>(value);
}

absl::StatusOr<Framing> parse_framing(std::span<const uint8_t> bhs, uint32_t max_data_segment) {
  if (bhs.size() != kBhsSize) return bad(fmt::format("a BHS of {} bytes, not 48", bhs.size()));
  Framing f;
  f.ahs_bytes = uint32_t{bhs[4]} * 4;
  f.data_length = load24(bhs.data() + 5);
  if (f.data_length > max_data_segment) {
    return bad(
        fmt::format("{} with a data segment of {} bytes, above the {} the target declared "
                    "(MaxRecvDataSegmentLength)",
                    opcode_name(bhs[0] & 0x3f), f.data_length, max_data_segment));
  }
  return f;
}

absl::StatusOr<Pdu> parse_pdu(std::span<const uint8_t> bhs, std::span<const uint8_t> rest) {
  auto framing = parse_framing(bhs, kMaxDataSegmentLength);
  if (!framing.ok()) return framing.status();
  if (rest.size() != framing->rest())
    return bad(fmt::format("a PDU body of {} bytes where its BHS announces {}", rest.size(),
                           framing->rest()));
  Pdu pdu;
  std::copy(bhs.begin(), bhs.end(), pdu.bhs.begin());
  auto ahs = rest.first(framing->ahs_bytes);
  while (!ahs.empty()) {
    if (ahs.size() < 4) return bad("a truncated AHS");
    const uint32_t length = (uint32_t{ahs[0]} << 8) | ahs[1];
    const uint32_t total = Framing::padded(3 + length);
    if (total > ahs.size())
      return bad(fmt::format("an AHS of length {} past TotalAHSLength ({} bytes)", length,
                             framing->ahs_bytes));
    Ahs a;
    a.type = ahs[2];
    a.data.assign(ahs.begin() + 3, ahs.begin() + 3 + length);
    pdu.ahs.push_back(std::move(a));
    ahs = ahs.subspan(total);
  }
  const auto data = rest.subspan(framing->ahs_bytes, framing->data_length);
  pdu.data.assign(data.begin(), data.end());
  return pdu;
}

std::vector<uint8_t> encode_pdu(const Pdu& pdu) {
  std::vector<uint8_t> out(pdu.bhs.begin(), pdu.bhs.end());
  for (const auto& a : pdu.ahs) {
    const auto length = static_cast<uint16_t>(a.data.size());
    out.push_back(static_cast<uint8_t>(length >> 8));
    out.push_back(static_cast<uint8_t>(length));
    out.push_back(a.type);
    out.insert(out.end(), a.data.begin(), a.data.end());
    out.resize(kBhsSize + Framing::padded(static_cast<uint32_t>(out.size() - kBhsSize)), 0);
  }
  const uint32_t ahs_bytes = static_cast<uint32_t>(out.size() - kBhsSize);
  out[4] = static_cast<uint8_t>(ahs_bytes / 4);
  const auto n = static_cast<uint32_t>(pdu.data.size());
  out[5] = static_cast<uint8_t>(n >> 16);
  out[6] = static_cast<uint8_t>(n >> 8);
  out[7] = static_cast<uint8_t>(n);
  out.insert(out.end(), pdu.data.begin(), pdu.data.end());
  out.resize(out.size() + (Framing::padded(n) - n), 0);
  return out;
}

absl::StatusOr<std::vector<Pdu>> split_pdus(std::span<const uint8_t> bytes,
                                            uint32_t max_data_segment, size_t* consumed) {
  std::vector<Pdu> out;
  size_t at = 0;
  while (bytes.size() - at >= kBhsSize) {
    const auto bhs = bytes.subspan(at, kBhsSize);
    auto framing = parse_framing(bhs, max_data_segment);
    if (!framing.ok()) return framing.status();
    if (bytes.size() - at - kBhsSize < framing->rest()) break;
    auto pdu = parse_pdu(bhs, bytes.subspan(at + kBhsSize, framing->rest()));
    if (!pdu.ok()) return pdu.status();
    out.push_back(*std::move(pdu));
    at += kBhsSize + framing->rest();
  }
  if (consumed) *consumed = at;
  return out;
}

// --- Initiator PDUs ------------------------------------------------------------

absl::StatusOr<ScsiCommand> decode_scsi_command(const Pdu& pdu) {
  if (auto s = expect_opcode(pdu, opcode::kScsiCommand); !s.ok()) return s;
  ScsiCommand c;
  c.immediate = pdu.immediate();
  c.final_bit = pdu.final_bit();
  c.read = (pdu.bhs[1] & 0x40) != 0;
  c.write = (pdu.bhs[1] & 0x20) != 0;
  c.attributes = pdu.bhs[1] & 0x07;
  c.lun = lun_of(pdu);
  c.itt = pdu.u32(16);
  c.expected_length = pdu.u32(20);
  c.cmd_sn = pdu.u32(24);
  c.exp_stat_sn = pdu.u32(28);
  c.cdb.assign(pdu.bhs.begin() + 32, pdu.bhs.end());
  if (!c.final_bit && !c.write)
    return bad("a SCSI Command with neither F nor W: unsolicited data without end");
  if (!c.read && !c.write && c.expected_length != 0)
    return bad(
        fmt::format("a SCSI Command with neither R nor W expects {} bytes", c.expected_length));
  for (const auto& a : pdu.ahs) {
    if (a.type == kAhsExtendedCdb) {
      // A reserved byte, then the CDB's bytes past 16.
      if (a.data.empty() || c.cdb.size() > 16) return bad("a malformed Extended CDB AHS");
      c.cdb.insert(c.cdb.end(), a.data.begin() + 1, a.data.end());
    } else if (a.type == kAhsBidiReadLength) {
      if (a.data.size() != 5) return bad("a malformed Bidirectional Read Length AHS");
      c.bidi_read_length = (uint32_t{a.data[1]} << 24) | (uint32_t{a.data[2]} << 16) |
                           (uint32_t{a.data[3]} << 8) | a.data[4];
    } else {
      return bad(fmt::format("an AHS of unknown type {}", a.type));
    }
  }
  return c;
}

absl::StatusOr<DataOut> decode_data_out(const Pdu& pdu) {
  if (auto s = expect_opcode(pdu, opcode::kDataOut); !s.ok()) return s;
  if (!pdu.ahs.empty()) return bad("a SCSI Data-Out with an AHS");
  DataOut d;
  d.final_bit = pdu.final_bit();
  d.lun = lun_of(pdu);
  d.itt = pdu.u32(16);
  d.ttt = pdu.u32(20);
  d.exp_stat_sn = pdu.u32(28);
  d.data_sn = pdu.u32(36);
  d.buffer_offset = pdu.u32(40);
  return d;
}

absl::StatusOr<NopOut> decode_nop_out(const Pdu& pdu) {
  if (auto s = expect_opcode(pdu, opcode::kNopOut); !s.ok()) return s;
  if (!pdu.ahs.empty()) return bad("a NOP-Out with an AHS");
  NopOut n;
  n.immediate = pdu.immediate();
  n.lun = lun_of(pdu);
  n.itt = pdu.u32(16);
  n.ttt = pdu.u32(20);
  n.cmd_sn = pdu.u32(24);
  n.exp_stat_sn = pdu.u32(28);
  if (n.itt == kReservedTag && !n.immediate)
    return bad("a NOP-Out with the reserved Initiator Task Tag but no I bit");
  return n;
}

absl::StatusOr<TaskManagementRequest> decode_task_management(const Pdu& pdu) {
  if (auto s = expect_opcode(pdu, opcode::kTaskManagementRequest); !s.ok()) return s;
  if (!pdu.final_bit()) return bad("a Task Management Function Request without the F bit");
  if (!pdu.data.empty() || !pdu.ahs.empty())
    return bad("a Task Management Function Request with a data segment or AHS");
  TaskManagementRequest t;
  t.immediate = pdu.immediate();
  t.function = pdu.bhs[1] & 0x7f;
  t.lun = lun_of(pdu);
  t.itt = pdu.u32(16);
  t.referenced_task_tag = pdu.u32(20);
  t.cmd_sn = pdu.u32(24);
  t.exp_stat_sn = pdu.u32(28);
  t.ref_cmd_sn = pdu.u32(32);
  t.exp_data_sn = pdu.u32(36);
  return t;
}

absl::StatusOr<LoginRequest> decode_login_request(const Pdu& pdu) {
  if (auto s = expect_opcode(pdu, opcode::kLoginRequest); !s.ok()) return s;
  if (!pdu.immediate()) return bad("a Login Request without the I bit");
  if (!pdu.ahs.empty()) return bad("a Login Request with an AHS");
  LoginRequest l;
  l.transit = (pdu.bhs[1] & 0x80) != 0;
  l.cont = (pdu.bhs[1] & 0x40) != 0;
  l.csg = (pdu.bhs[1] >> 2) & 3;
  l.nsg = pdu.bhs[1] & 3;
  l.version_max = pdu.bhs[2];
  l.version_min = pdu.bhs[3];
  std::copy(pdu.bhs.begin() + 8, pdu.bhs.begin() + 14, l.isid.begin());
  l.tsih = pdu.u16(14);
  l.itt = pdu.u32(16);
  l.cid = pdu.u16(20);
  l.cmd_sn = pdu.u32(24);
  l.exp_stat_sn = pdu.u32(28);
  if (l.transit && l.cont) return bad("a Login Request with both T and C");
  if (l.csg != stage::kSecurity && l.csg != stage::kOperational)
    return bad(fmt::format("a Login Request in stage {} (CSG)", l.csg));
  if (l.transit && (l.nsg == 2 || l.nsg <= l.csg))
    return bad(fmt::format("a Login Request moving from stage {} to stage {}", l.csg, l.nsg));
  return l;
}

absl::StatusOr<TextRequest> decode_text_request(const Pdu& pdu) {
  if (auto s = expect_opcode(pdu, opcode::kTextRequest); !s.ok()) return s;
  if (!pdu.ahs.empty()) return bad("a Text Request with an AHS");
  TextRequest t;
  t.immediate = pdu.immediate();
  t.final_bit = pdu.final_bit();
  t.cont = (pdu.bhs[1] & 0x40) != 0;
  t.itt = pdu.u32(16);
  t.ttt = pdu.u32(20);
  t.cmd_sn = pdu.u32(24);
  t.exp_stat_sn = pdu.u32(28);
  if (t.final_bit && t.cont) return bad("a Text Request with both F and C");
  if (t.itt == kReservedTag) return bad("a Text Request with the reserved Initiator Task Tag");
  return t;
}

absl::StatusOr<LogoutRequest> decode_logout_request(const Pdu& pdu) {
  if (auto s = expect_opcode(pdu, opcode::kLogoutRequest); !s.ok()) return s;
  if (!pdu.final_bit()) return bad("a Logout Request without the F bit");
  if (!pdu.data.empty() || !pdu.ahs.empty())
    return bad("a Logout Request with a data segment or AHS");
  LogoutRequest l;
  l.immediate = pdu.immediate();
  l.reason = pdu.bhs[1] & 0x7f;
  l.itt = pdu.u32(16);
  l.cid = pdu.u16(20);
  l.cmd_sn = pdu.u32(24);
  l.exp_stat_sn = pdu.u32(28);
  if (l.reason > logout::kRemoveForRecovery)
    return bad(fmt::format("a Logout Request with reason code {}", l.reason));
  return l;
}

// --- Target PDUs -----------------------------------------------------------------

Pdu build_scsi_response(const ScsiResponse& r, const SeqNumbers& sn) {
  Pdu p =
      target_pdu(opcode::kScsiResponse, 0x80 | (r.overflow ? 0x04 : 0) | (r.underflow ? 0x02 : 0));
  p.bhs[2] = r.response;
  p.bhs[3] = r.status;
  p.set_u32(16, r.itt);
  put_sn(p, sn);
  p.set_u32(36, r.exp_data_sn);
  p.set_u32(44, r.overflow || r.underflow ? r.residual : 0);
  if (!r.sense.empty()) {
    const auto n = static_cast<uint16_t>(std::min<size_t>(r.sense.size(), 0xffff));
    p.data.push_back(static_cast<uint8_t>(n >> 8));
    p.data.push_back(static_cast<uint8_t>(n));
    p.data.insert(p.data.end(), r.sense.begin(), r.sense.begin() + n);
  }
  return p;
}

Pdu build_data_in(const DataIn& d, const SeqNumbers& sn, std::span<const uint8_t> data) {
  const bool final_bit = d.final_bit || d.has_status;
  uint8_t flags = final_bit ? 0x80 : 0;
  if (d.has_status) flags |= 0x01 | (d.overflow ? 0x04 : 0) | (d.underflow ? 0x02 : 0);
  Pdu p = target_pdu(opcode::kDataIn, flags);
  if (d.has_status) p.bhs[3] = d.status;
  put_lun(p, d.lun);
  p.set_u32(16, d.itt);
  p.set_u32(20, kReservedTag);
  if (d.has_status) {
    put_sn(p, sn);
  } else {
    p.set_u32(28, sn.exp_cmd_sn);
    p.set_u32(32, sn.max_cmd_sn);
  }
  p.set_u32(36, d.data_sn);
  p.set_u32(40, d.buffer_offset);
  if (d.has_status && (d.overflow || d.underflow)) p.set_u32(44, d.residual);
  p.data.assign(data.begin(), data.end());
  return p;
}

Pdu build_r2t(const R2t& r, const SeqNumbers& sn) {
  Pdu p = target_pdu(opcode::kR2t, 0x80);
  put_lun(p, r.lun);
  p.set_u32(16, r.itt);
  p.set_u32(20, r.ttt);
  put_sn(p, sn);
  p.set_u32(36, r.r2t_sn);
  p.set_u32(40, r.buffer_offset);
  p.set_u32(44, r.desired_length);
  return p;
}

Pdu build_nop_in(const fc::ScsiLun& lun, uint32_t itt, uint32_t ttt, const SeqNumbers& sn,
                 std::span<const uint8_t> data) {
  Pdu p = target_pdu(opcode::kNopIn, 0x80);
  put_lun(p, lun);
  p.set_u32(16, itt);
  p.set_u32(20, ttt);
  put_sn(p, sn);
  p.data.assign(data.begin(), data.end());
  return p;
}

Pdu build_task_management_response(uint32_t itt, uint8_t response, const SeqNumbers& sn) {
  Pdu p = target_pdu(opcode::kTaskManagementResponse, 0x80);
  p.bhs[2] = response;
  p.set_u32(16, itt);
  put_sn(p, sn);
  return p;
}

Pdu build_login_response(const LoginResponse& r, const SeqNumbers& sn,
                         std::span<const uint8_t> data) {
  Pdu p = target_pdu(opcode::kLoginResponse,
                     static_cast<uint8_t>((r.transit ? 0x80 : 0) | (r.cont ? 0x40 : 0) |
                                          ((r.csg & 3) << 2) | (r.nsg & 3)));
  p.bhs[2] = r.version_max;
  p.bhs[3] = r.version_active;
  std::copy(r.isid.begin(), r.isid.end(), p.bhs.begin() + 8);
  p.set_u16(14, r.tsih);
  p.set_u32(16, r.itt);
  put_sn(p, sn);
  p.bhs[36] = r.status_class;
  p.bhs[37] = r.status_detail;
  p.data.assign(data.begin(), data.end());
  return p;
}

Pdu build_text_response(bool final_bit, bool cont, uint32_t itt, uint32_t ttt, const SeqNumbers& sn,
                        std::span<const uint8_t> data) {
  Pdu p = target_pdu(opcode::kTextResponse,
                     static_cast<uint8_t>((final_bit ? 0x80 : 0) | (cont ? 0x40 : 0)));
  p.set_u32(16, itt);
  p.set_u32(20, ttt);
  put_sn(p, sn);
  p.data.assign(data.begin(), data.end());
  return p;
}

Pdu build_logout_response(uint32_t itt, uint8_t response, const SeqNumbers& sn) {
  Pdu p = target_pdu(opcode::kLogoutResponse, 0x80);
  p.bhs[2] = response;
  p.set_u32(16, itt);
  put_sn(p, sn);
  // Time2Wait and Time2Retain 0: ERL 0, nothing to come back to.
  return p;
}

Pdu build_reject(uint8_t reason, const std::array<uint8_t, kBhsSize>& rejected,
                 const SeqNumbers& sn) {
  Pdu p = target_pdu(opcode::kReject, 0x80);
  p.bhs[2] = reason;
  p.set_u32(16, kReservedTag);
  put_sn(p, sn);
  p.data.assign(rejected.begin(), rejected.end());
  return p;
}

// --- Text ------------------------------------------------------------------------

absl::StatusOr<TextPairs> parse_text(std::span<const uint8_t> data) {
  TextPairs out;
  size_t at = 0;
  while (at < data.size()) {
    const auto nul = std::find(data.begin() + static_cast<ptrdiff_t>(at), data.end(), 0);
    if (nul == data.end()) return bad("text without its final NUL");
    const size_t end = static_cast<size_t>(nul - data.begin());
    if (end == at) {  // NUL padding
      ++at;
      continue;
    }
    const std::string_view pair(reinterpret_cast<const char*>(data.data()) + at, end - at);
    at = end + 1;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos)
      return bad(fmt::format("text '{:.64}' is not key=value", pair));
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = pair.substr(eq + 1);
    if (key.empty()) return bad("text with an empty key");
    if (key.size() > 63) return bad(fmt::format("a text key of {} bytes (at most 63)", key.size()));
    if (!std::all_of(key.begin(), key.end(), key_char))
      return bad(fmt::format("a text key '{:.64}' with characters RFC 7143 does not allow", key));
    if (value.size() > 8192)
      return bad(fmt::format("a value of {} bytes for key {} (at most 8192)", value.size(), key));
    out.emplace_back(std::string(key), std::string(value));
  }
  return out;
}

std::vector<uint8_t> encode_text(const TextPairs& pairs) {
  std::vector<uint8_t> out;
  for (const auto& [k, v] : pairs) {
    out.insert(out.end(), k.begin(), k.end());
    out.push_back('=');
    out.insert(out.end(), v.begin(), v.end());
    out.push_back(0);
  }
  return out;
}

}  // namespace splitpath::sim::iscsi
