#include "fabric_sim/gateway/iscsi_target.h"

#include <algorithm>
#include <array>
#include <utility>

#include "fmt/format.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::sim::iscsi {
namespace {

std::vector<uint8_t> fixed_sense(const fc::SenseData& s) {
  std::vector<uint8_t> out(fc::kFixedSenseSize);
  (void)fc::encode_sense_data(s, out);
  return out;
}

std::vector<uint8_t> sense_of(uint8_t key, fc::AscAscq code) {
  return fixed_sense(fc::make_sense(key, code));
}

// How many aborted Initiator Task Tags are remembered (their late Data-Out
// is discarded rather than taken for a violation).
constexpr size_t kAbortedMemory = 1024;

}  // namespace

std::string target_iqn(uint64_t wwpn) {
  return fmt::format("{}{:016x}", kIqnPrefix, wwpn);
}

Connection::Connection(Environment& env, const ConnectionSettings& settings, std::string label)
    : env_(env),
      settings_(settings),
      label_(std::move(label)),
      negotiation_(settings.negotiation) {}

Connection::~Connection() = default;

uint32_t Connection::max_data_segment() const {
  return phase_ == Phase::kFullFeature ? params_.target_max_recv_dsl
                                       : kDefaultMaxRecvDataSegmentLength;
}

void Connection::on_framing_error(const std::string& reason) {
  drop(reason);
}

void Connection::drop(const std::string& reason) {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  env_.close(reason, true);
}

void Connection::emit(const Pdu& pdu) {
  env_.send(encode_pdu(pdu));
}

SeqNumbers Connection::peek_sn() const {
  return SeqNumbers{stat_sn_, exp_cmd_sn_, max_cmd_sn_};
}

SeqNumbers Connection::status_sn() {
  SeqNumbers sn = peek_sn();
  ++stat_sn_;
  return sn;
}

void Connection::update_window() {
  // MaxCmdSN never goes back (an initiator ignores a smaller one); it opens
  // as commands end.
  const uint32_t busy = static_cast<uint32_t>(std::min<size_t>(tasks_.size(), 0xffff));
  const uint32_t room = settings_.command_window > busy ? settings_.command_window - busy : 0;
  const uint32_t candidate = exp_cmd_sn_ - 1 + room;
  if (sn_less(max_cmd_sn_, candidate)) max_cmd_sn_ = candidate;
}

bool Connection::take_cmd_sn(bool immediate, uint32_t cmd_sn, const char* what) {
  if (immediate) return true;
  if (cmd_sn != exp_cmd_sn_) {
    const bool in_window = !sn_less(cmd_sn, exp_cmd_sn_) && !sn_less(max_cmd_sn_, cmd_sn);
    drop(fmt::format("{} with CmdSN {} {} (ExpCmdSN {}, MaxCmdSN {})", what, cmd_sn,
                     in_window ? "out of order" : "outside the command window", exp_cmd_sn_,
                     max_cmd_sn_));
    return false;
  }
  if (sn_less(max_cmd_sn_, cmd_sn)) {
    drop(fmt::format("{} with CmdSN {} beyond MaxCmdSN {}", what, cmd_sn, max_cmd_sn_));
    return false;
  }
  ++exp_cmd_sn_;
  return true;
}

void Connection::on_pdu(const Pdu& pdu) {
  if (phase_ == Phase::kClosed) return;
  const uint8_t op = pdu.opcode();
  if (phase_ == Phase::kLogin) {
    if (op != opcode::kLoginRequest)
      return drop(fmt::format("a {} PDU during login", opcode_name(op)));
    return on_login(pdu);
  }
  const bool session_pdu =
      op == opcode::kScsiCommand || op == opcode::kDataOut || op == opcode::kTaskManagementRequest;
  if (discovery_ && session_pdu)
    return drop(fmt::format("a {} PDU in a discovery session", opcode_name(op)));
  switch (op) {
    case opcode::kScsiCommand:
      return on_scsi_command(pdu);
    case opcode::kDataOut:
      return on_data_out(pdu);
    case opcode::kNopOut:
      return on_nop_out(pdu);
    case opcode::kTaskManagementRequest:
      return on_task_management(pdu);
    case opcode::kTextRequest:
      return on_text(pdu);
    case opcode::kLogoutRequest:
      return on_logout(pdu);
    case opcode::kSnackRequest:
      // ErrorRecoveryLevel=0: no SNACK.
      emit(build_reject(reject::kCommandNotSupported, pdu.bhs, status_sn()));
      return;
    default:
      return drop(fmt::format("a {} PDU in the full feature phase", opcode_name(op)));
  }
}

// --- Login ---------------------------------------------------------------------------

void Connection::fail_login(uint16_t status, const std::string& reason) {
  LoginResponse r;
  r.csg = leading_.csg;
  r.isid = leading_.isid;
  r.itt = leading_.itt;
  r.status_class = static_cast<uint8_t>(status >> 8);
  r.status_detail = static_cast<uint8_t>(status);
  emit(build_login_response(r, status_sn(), {}));
  phase_ = Phase::kClosed;
  env_.close(fmt::format("login failed ({:#06x}): {}", status, reason), false);
}

void Connection::send_login_response(const LoginRequest& request, bool transit, uint8_t nsg,
                                     const TextPairs& keys) {
  LoginResponse r;
  r.transit = transit;
  r.csg = request.csg;
  r.nsg = transit ? nsg : 0;
  r.isid = leading_.isid;
  r.tsih = transit && nsg == stage::kFullFeature ? tsih_ : 0;
  r.itt = request.itt;
  const auto data = encode_text(keys);
  emit(build_login_response(r, status_sn(), data));
}

void Connection::on_login(const Pdu& pdu) {
  auto request = decode_login_request(pdu);
  if (!request.ok()) return drop(std::string(request.status().message()));
  const LoginRequest& l = *request;
  if (!login_started_) {
    login_started_ = true;
    leading_ = l;
    stage_ = l.csg;
    exp_cmd_sn_ = l.cmd_sn;
    max_cmd_sn_ = l.cmd_sn - 1;
    update_window();
    if (l.version_min != 0)
      return fail_login(
          login_status::kUnsupportedVersion,
          fmt::format("iSCSI version {}..{}, only 0 is served", l.version_min, l.version_max));
    if (l.tsih != 0)
      return fail_login(
          login_status::kSessionDoesNotExist,
          fmt::format("TSIH {}: a connection joining a session (MaxConnections=1)", l.tsih));
  } else if (l.isid != leading_.isid || l.tsih != leading_.tsih || l.cid != leading_.cid ||
             l.itt != leading_.itt) {
    return fail_login(login_status::kInitiatorError,
                      "ISID, TSIH, CID or Initiator Task Tag changed during login");
  }
  if (l.csg != stage_)
    return fail_login(
        login_status::kInitiatorError,
        fmt::format("a Login Request in stage {} where the login is in stage {}", l.csg, stage_));
  login_keys_.insert(login_keys_.end(), pdu.data.begin(), pdu.data.end());
  if (login_keys_.size() > settings_.max_text)
    return fail_login(login_status::kInitiatorError,
                      fmt::format("more than {} bytes of login keys", settings_.max_text));
  if (l.cont) {
    // More keys follow: an empty response asks for them.
    return send_login_response(l, false, 0, {});
  }
  auto keys = parse_text(login_keys_);
  login_keys_.clear();
  if (!keys.ok())
    return fail_login(login_status::kInitiatorError, std::string(keys.status().message()));
  auto outcome = negotiation_.on_keys(*keys, l.csg);
  if (outcome.status != login_status::kSuccess) return fail_login(outcome.status, outcome.error);
  TextPairs reply = std::move(outcome.reply);

  if (!identity_checked_) {
    identity_checked_ = true;
    discovery_ = negotiation_.discovery();
    if (negotiation_.initiator_name().empty())
      return fail_login(login_status::kMissingParameter,
                        "the leading Login Request has no InitiatorName");
    if (!discovery_) {
      const std::string& name = negotiation_.target_name();
      if (name.empty())
        return fail_login(login_status::kMissingParameter,
                          "a normal session's leading Login Request has no TargetName");
      const auto& targets = env_.targets();
      for (size_t i = 0; i < targets.size(); ++i)
        if (targets[i].iqn == name) target_ = i;
      if (!target_)
        return fail_login(login_status::kNotFound, fmt::format("no target named '{}'", name));
    }
  }
  if (!first_response_sent_) {
    first_response_sent_ = true;
    if (!discovery_) {
      reply.emplace_back("TargetAlias", env_.targets()[*target_].alias);
      reply.emplace_back("TargetPortalGroupTag", "1");
    }
  }

  uint8_t nsg = 0;
  if (l.transit) {
    nsg = l.nsg;
    if (nsg == stage::kFullFeature) {
      if (l.csg == stage::kSecurity) {
        for (auto& pair : negotiation_.finish_operational())
          reply.push_back(std::move(pair));
      }
      if (!discovery_ && !env_.attach(*target_))
        return fail_login(login_status::kOutOfResources,
                          "every gateway initiator is in use (--initiators)");
      tsih_ = env_.new_tsih();
    }
  }
  send_login_response(l, l.transit, nsg, reply);
  if (!l.transit) return;
  stage_ = nsg;
  if (nsg == stage::kFullFeature) {
    params_ = negotiation_.params();
    phase_ = Phase::kFullFeature;
    spdlog::info(
        "iscsi {}: {} session of '{}'{} (MaxRecvDataSegmentLength {}/{}, "
        "MaxBurstLength {}, FirstBurstLength {}, ImmediateData {}, InitialR2T {})",
        label_, discovery_ ? "discovery" : "normal", negotiation_.initiator_name(),
        discovery_ ? "" : fmt::format(" to {}", env_.targets()[*target_].iqn),
        params_.target_max_recv_dsl, params_.initiator_max_recv_dsl, params_.max_burst_length,
        params_.first_burst_length, params_.immediate_data ? "Yes" : "No",
        params_.initial_r2t ? "Yes" : "No");
  }
}

// --- SCSI commands ---------------------------------------------------------------------

void Connection::on_scsi_command(const Pdu& pdu) {
  auto decoded = decode_scsi_command(pdu);
  if (!decoded.ok()) return drop(std::string(decoded.status().message()));
  ScsiCommand& c = *decoded;
  if (!take_cmd_sn(c.immediate, c.cmd_sn, "a SCSI Command")) return;
  if (c.itt == kReservedTag) return drop("a SCSI Command with the reserved Initiator Task Tag");
  if (tasks_.contains(c.itt))
    return drop(fmt::format("a SCSI Command with Initiator Task Tag {:#x}, already in use", c.itt));
  // Immediate commands bypass the window: they may not pile up without end.
  if (tasks_.size() >= 2 * static_cast<size_t>(settings_.command_window))
    return drop(
        fmt::format("a SCSI Command beyond {} tasks in progress (immediate commands "
                    "past the command window)",
                    tasks_.size()));
  const auto immediate = pdu.data.size();
  if (immediate > 0) {
    if (!c.write) return drop("immediate data with a SCSI Command that writes nothing (W=0)");
    if (!params_.immediate_data) return drop("immediate data where ImmediateData=No");
    if (immediate > params_.first_burst_length)
      return drop(fmt::format("{} bytes of immediate data, above FirstBurstLength {}", immediate,
                              params_.first_burst_length));
    if (immediate > c.expected_length)
      return drop(fmt::format("{} bytes of immediate data for an expected length of {}", immediate,
                              c.expected_length));
  }
  if (!c.final_bit && params_.initial_r2t)
    return drop("unsolicited Data-Out announced (F=0) where InitialR2T=Yes");
  forget_aborted(c.itt);

  auto task = std::make_unique<Task>();
  Task& t = *task;
  t.itt = c.itt;
  t.lun_bytes = c.lun;
  if (c.read && c.write) {
    t.local_sense = fixed_sense(fc::make_invalid_field_in_cdb(0));  // bidirectional
  } else if (c.bidi_read_length) {
    t.local_sense = fixed_sense(fc::make_invalid_field_in_cdb(0));
  } else if (c.cdb.size() > fc::kMaxCdbSize) {
    t.local_sense = sense_of(fc::sense_key::kIllegalRequest, fc::asc::kInvalidCommandOperationCode);
  } else if (c.expected_length > settings_.max_command_data) {
    t.local_sense = fixed_sense(fc::make_invalid_field_in_cdb(0));
  } else if (auto lun = fc::decode_lun(c.lun); !lun.ok()) {
    t.local_sense = sense_of(fc::sense_key::kIllegalRequest, fc::asc::kLogicalUnitNotSupported);
  } else {
    t.lun = *lun;
  }
  if (c.write && t.local_sense.empty()) {
    t.data_out.resize(c.expected_length);
    std::copy(pdu.data.begin(), pdu.data.end(), t.data_out.begin());
  }
  t.received = static_cast<uint32_t>(immediate);
  t.unsolicited_open = !c.final_bit;
  t.unsolicited_limit = std::min(params_.first_burst_length, c.expected_length);
  t.command = std::move(c);
  tasks_.emplace(t.itt, std::move(task));
  update_window();
  start_r2ts(t);
  maybe_execute(t);
}

void Connection::start_r2ts(Task& t) {
  if (t.unsolicited_open || !t.command.write) return;
  if (!t.r2t_started) {
    t.r2t_started = true;
    // A command the gateway answers itself solicits nothing.
    t.next_r2t_offset = t.local_sense.empty() ? t.received : t.command.expected_length;
  }
  while (t.bursts.size() < params_.max_outstanding_r2t &&
         t.next_r2t_offset < t.command.expected_length) {
    Burst b;
    b.ttt = next_ttt_++;
    if (next_ttt_ == kReservedTag) next_ttt_ = 1;
    b.offset = t.next_r2t_offset;
    b.length = std::min(params_.max_burst_length, t.command.expected_length - b.offset);
    t.next_r2t_offset += b.length;
    R2t r;
    r.lun = t.lun_bytes;
    r.itt = t.itt;
    r.ttt = b.ttt;
    r.r2t_sn = t.r2t_sn++;
    r.buffer_offset = b.offset;
    r.desired_length = b.length;
    emit(build_r2t(r, peek_sn()));
    ++stats_.r2ts;
    t.bursts.push_back(b);
  }
}

void Connection::on_data_out(const Pdu& pdu) {
  auto decoded = decode_data_out(pdu);
  if (!decoded.ok()) return drop(std::string(decoded.status().message()));
  const DataOut& d = *decoded;
  auto it = tasks_.find(d.itt);
  if (it == tasks_.end()) {
    if (aborted_.contains(d.itt)) return;  // sent before the initiator heard of the abort
    return drop(fmt::format("a SCSI Data-Out for Initiator Task Tag {:#x}, no such task", d.itt));
  }
  Task& t = *it->second;
  if (t.state != Task::State::kCollecting || !t.command.write)
    return drop(fmt::format("a SCSI Data-Out for task {:#x}, which expects none", d.itt));
  const auto length = static_cast<uint32_t>(pdu.data.size());
  auto place = [&](uint32_t offset) {
    if (!t.data_out.empty())
      std::copy(pdu.data.begin(), pdu.data.end(), t.data_out.begin() + offset);
    t.received += length;
    stats_.data_out_bytes += length;
  };
  if (d.ttt == kReservedTag) {
    if (!t.unsolicited_open)
      return drop(
          fmt::format("unsolicited Data-Out for task {:#x} after its unsolicited data "
                      "ended",
                      d.itt));
    if (d.data_sn != t.unsolicited_data_sn)
      return drop(fmt::format("unsolicited Data-Out for task {:#x} with DataSN {}, expected {}",
                              d.itt, d.data_sn, t.unsolicited_data_sn));
    if (d.buffer_offset != t.received)
      return drop(fmt::format("unsolicited Data-Out for task {:#x} at offset {}, expected {}",
                              d.itt, d.buffer_offset, t.received));
    if (uint64_t{t.received} + length > t.unsolicited_limit)
      return drop(
          fmt::format("unsolicited data for task {:#x} past {} bytes (FirstBurstLength "
                      "or the expected length)",
                      d.itt, t.unsolicited_limit));
    place(d.buffer_offset);
    ++t.unsolicited_data_sn;
    if (d.final_bit) {
      t.unsolicited_open = false;
      start_r2ts(t);
    }
  } else {
    auto b = std::find_if(t.bursts.begin(), t.bursts.end(),
                          [&](const Burst& x) { return x.ttt == d.ttt; });
    if (b == t.bursts.end())
      return drop(
          fmt::format("a SCSI Data-Out for task {:#x} with Target Transfer Tag {:#x}, "
                      "which no R2T gave",
                      d.itt, d.ttt));
    if (d.data_sn != b->next_data_sn)
      return drop(fmt::format("a SCSI Data-Out for task {:#x} with DataSN {}, expected {}", d.itt,
                              d.data_sn, b->next_data_sn));
    if (d.buffer_offset != b->offset + b->received)
      return drop(fmt::format("a SCSI Data-Out for task {:#x} at offset {}, expected {}", d.itt,
                              d.buffer_offset, b->offset + b->received));
    if (uint64_t{b->received} + length > b->length)
      return drop(fmt::format("a SCSI Data-Out for task {:#x} past the {} bytes its R2T asked",
                              d.itt, b->length));
    place(d.buffer_offset);
    b->received += length;
    ++b->next_data_sn;
    if (d.final_bit) {
      if (b->received != b->length)
        return drop(
            fmt::format("a SCSI Data-Out sequence for task {:#x} ended (F) after {} of "
                        "the {} bytes its R2T asked",
                        d.itt, b->received, b->length));
      t.bursts.erase(b);
      start_r2ts(t);
    }
  }
  maybe_execute(t);
}

void Connection::maybe_execute(Task& t) {
  if (t.state != Task::State::kCollecting) return;
  if (t.command.write) {
    if (t.unsolicited_open || !t.bursts.empty()) return;
    if (t.next_r2t_offset < t.command.expected_length) return;
  }
  execute(t);
}

void Connection::execute(Task& t) {
  if (!t.local_sense.empty()) {
    std::vector<uint8_t> sense = std::move(t.local_sense);
    respond(t, fc::scsi_status::kCheckCondition, std::move(sense), {}, false, false, 0);
    return;
  }
  t.state = Task::State::kInFabric;
  ++in_fabric_;
  const uint32_t itt = t.itt;
  const uint32_t data_in = t.command.read ? t.command.expected_length : 0;
  t.backend_id = env_.submit(t.lun, t.command.cdb, data_in, std::move(t.data_out),
                             [this, itt](ScsiOutcome o) { on_outcome(itt, std::move(o)); });
  t.data_out = {};
}

void Connection::on_outcome(uint32_t itt, ScsiOutcome o) {
  --in_fabric_;
  auto it = tasks_.find(itt);
  if (it == tasks_.end()) return;
  Task& t = *it->second;
  if (t.aborted || phase_ == Phase::kClosed) {
    tasks_.erase(it);
    settle_tmfs(itt);
    return;
  }
  if (!o.sent) {
    respond(t, fc::scsi_status::kCheckCondition,
            sense_of(fc::sense_key::kAbortedCommand, fc::asc::kLogicalUnitCommunicationFailure), {},
            false, false, 0);
    return;
  }
  if (o.timed_out) {
    respond(t, fc::scsi_status::kCheckCondition,
            sense_of(fc::sense_key::kAbortedCommand, fc::asc::kLogicalUnitCommunicationTimeout), {},
            false, false, 0);
    return;
  }
  const uint32_t expected = t.command.expected_length;
  std::vector<uint8_t> data;
  if (t.command.read) {
    data = std::move(o.data_in);
    if (data.size() > expected) data.resize(expected);
  }
  bool underflow = o.underrun && !o.overrun;
  bool overflow = o.overrun;
  uint32_t residual = o.underrun || o.overrun ? o.residual : 0;
  if (t.command.read && !overflow && data.size() < expected && o.status == fc::scsi_status::kGood) {
    // Less data than expected, whatever the target's residual said.
    underflow = true;
    residual = expected - static_cast<uint32_t>(data.size());
  }
  respond(t, o.status, std::move(o.sense), data, underflow, overflow, residual);
}

void Connection::respond(Task& t, uint8_t status, std::vector<uint8_t> sense,
                         const std::vector<uint8_t>& data, bool underflow, bool overflow,
                         uint32_t residual) {
  const uint32_t itt = t.itt;
  tasks_.erase(itt);  // `t` is gone
  update_window();
  ++stats_.commands;
  if (status != fc::scsi_status::kGood) ++stats_.not_good;
  stats_.data_in_bytes += data.size();
  const bool status_in_data = !data.empty() && sense.empty() && status == fc::scsi_status::kGood;
  uint32_t data_sn = 0;
  const uint32_t chunk = std::max<uint32_t>(params_.initiator_max_recv_dsl, 512);
  const uint32_t burst = std::max<uint32_t>(params_.max_burst_length, 512);
  for (uint32_t offset = 0; offset < data.size();) {
    const uint32_t burst_end =
        std::min<uint32_t>(static_cast<uint32_t>(data.size()), (offset / burst + 1) * burst);
    const uint32_t n = std::min(chunk, burst_end - offset);
    const bool last = offset + n == data.size();
    DataIn d;
    d.final_bit = offset + n == burst_end;
    d.itt = itt;
    d.data_sn = data_sn++;
    d.buffer_offset = offset;
    const std::span<const uint8_t> part(data.data() + offset, n);
    if (last && status_in_data) {
      d.has_status = true;
      d.status = status;
      d.underflow = underflow;
      d.overflow = overflow;
      d.residual = residual;
      emit(build_data_in(d, status_sn(), part));
    } else {
      emit(build_data_in(d, peek_sn(), part));
    }
    offset += n;
  }
  if (status_in_data) return;
  ScsiResponse r;
  r.itt = itt;
  r.status = status;
  r.underflow = underflow;
  r.overflow = overflow;
  r.residual = residual;
  r.exp_data_sn = data_sn;
  r.sense = std::move(sense);
  emit(build_scsi_response(r, status_sn()));
}

// --- Task management ----------------------------------------------------------------------

bool Connection::abort(Task& t) {
  ++stats_.aborted;
  if (t.state == Task::State::kInFabric && !env_.cancel(t.backend_id)) {
    t.aborted = true;
    return true;
  }
  if (t.state == Task::State::kInFabric) --in_fabric_;
  const uint32_t itt = t.itt;
  tasks_.erase(itt);
  aborted_.insert(itt);
  aborted_order_.push_back(itt);
  while (aborted_order_.size() > kAbortedMemory) {
    aborted_.erase(aborted_order_.front());
    aborted_order_.pop_front();
  }
  return false;
}

void Connection::forget_aborted(uint32_t itt) {
  if (aborted_.erase(itt) == 0) return;
  aborted_order_.erase(std::find(aborted_order_.begin(), aborted_order_.end(), itt));
}

void Connection::settle_tmfs(uint32_t itt) {
  update_window();
  for (auto it = tmfs_.begin(); it != tmfs_.end();) {
    it->waiting.erase(itt);
    if (it->waiting.empty() && phase_ != Phase::kClosed) {
      const PendingTmf done = std::move(*it);
      it = tmfs_.erase(it);
      finish_tmf(done);
    } else {
      ++it;
    }
  }
}

void Connection::finish_tmf(const PendingTmf& t) {
  if (!t.reset) {
    emit(build_task_management_response(t.itt, tmf::kFunctionComplete, status_sn()));
    return;
  }
  const bool cold = *t.reset == tmf::kTargetColdReset;
  env_.reset(t.lun, *t.reset != tmf::kLogicalUnitReset, [this, itt = t.itt, cold](bool done) {
    if (phase_ == Phase::kClosed) return;
    emit(build_task_management_response(itt, done ? tmf::kFunctionComplete : tmf::kRejected,
                                        status_sn()));
    // RFC 7143 11.5.1: after a cold reset the target closes its connections.
    // iscsi-test-cu's Reserve6.TargetColdReset wants the response first and
    // then logs in again, so the session ends once the response is written.
    if (cold && done) {
      phase_ = Phase::kClosed;
      env_.close("TARGET COLD RESET", false);
    }
  });
}

void Connection::on_task_management(const Pdu& pdu) {
  auto decoded = decode_task_management(pdu);
  if (!decoded.ok()) return drop(std::string(decoded.status().message()));
  const TaskManagementRequest& r = *decoded;
  if (!take_cmd_sn(r.immediate, r.cmd_sn, "a Task Management Function Request")) return;
  ++stats_.task_management;
  auto answer = [&](uint8_t response) {
    emit(build_task_management_response(r.itt, response, status_sn()));
  };
  PendingTmf pending;
  pending.itt = r.itt;
  switch (r.function) {
    case tmf::kAbortTask: {
      auto it = tasks_.find(r.referenced_task_tag);
      if (it == tasks_.end() || it->second->lun_bytes != r.lun) {
        // Ended already, or never seen: RFC 7143 11.5.1.
        const bool received = !sn_less(r.ref_cmd_sn, exp_cmd_sn_) &&
                              !sn_less(max_cmd_sn_, r.ref_cmd_sn) &&
                              sn_less(r.ref_cmd_sn, r.cmd_sn);
        answer(received ? tmf::kFunctionComplete : tmf::kTaskDoesNotExist);
        return;
      }
      spdlog::info("iscsi {}: ABORT TASK {:#x}", label_, r.referenced_task_tag);
      if (abort(*it->second)) pending.waiting.insert(r.referenced_task_tag);
      break;
    }
    case tmf::kAbortTaskSet:
    case tmf::kClearTaskSet:
    case tmf::kLogicalUnitReset: {
      auto lun = fc::decode_lun(r.lun);
      if (!lun.ok() || !env_.lun_exists(*lun)) return answer(tmf::kLunDoesNotExist);
      spdlog::info("iscsi {}: {} of LUN {}", label_,
                   r.function == tmf::kLogicalUnitReset ? "LOGICAL UNIT RESET"
                   : r.function == tmf::kAbortTaskSet   ? "ABORT TASK SET"
                                                        : "CLEAR TASK SET",
                   *lun);
      std::vector<uint32_t> itts;
      for (const auto& [itt, task] : tasks_)
        if (task->lun_bytes == r.lun && !task->aborted) itts.push_back(itt);
      for (uint32_t itt : itts)
        if (abort(*tasks_.at(itt))) pending.waiting.insert(itt);
      if (r.function == tmf::kLogicalUnitReset) {
        // The LU's tasks from every nexus, its SCSI-2 reservation: the
        // virtual target resets it (FCP LOGICAL UNIT RESET).
        pending.reset = r.function;
        pending.lun = *lun;
      }
      break;
    }
    case tmf::kTargetWarmReset:
    case tmf::kTargetColdReset: {
      spdlog::info("iscsi {}: TARGET {} RESET", label_,
                   r.function == tmf::kTargetColdReset ? "COLD" : "WARM");
      std::vector<uint32_t> itts;
      for (const auto& [itt, task] : tasks_)
        if (!task->aborted) itts.push_back(itt);
      for (uint32_t itt : itts)
        if (abort(*tasks_.at(itt))) pending.waiting.insert(itt);
      pending.reset = r.function;  // FCP TARGET RESET
      break;
    }
    case tmf::kTaskReassign:
      return answer(tmf::kReassignNotSupported);
    case tmf::kClearAca:
      return answer(tmf::kNotSupported);
    default:
      return answer(tmf::kRejected);
  }
  update_window();
  if (pending.waiting.empty()) return finish_tmf(pending);
  tmfs_.push_back(std::move(pending));
}

// --- NOP, Text, Logout ----------------------------------------------------------------------

void Connection::on_nop_out(const Pdu& pdu) {
  auto decoded = decode_nop_out(pdu);
  if (!decoded.ok()) return drop(std::string(decoded.status().message()));
  const NopOut& n = *decoded;
  if (!take_cmd_sn(n.immediate, n.cmd_sn, "a NOP-Out")) return;
  ++stats_.nops;
  if (n.itt == kReservedTag) return;  // no answer wanted
  if (n.ttt != kReservedTag)
    return drop(
        fmt::format("a NOP-Out answering Target Transfer Tag {:#x}, which no NOP-In gave", n.ttt));
  const size_t echo = std::min<size_t>(pdu.data.size(), params_.initiator_max_recv_dsl);
  emit(build_nop_in(n.lun, n.itt, kReservedTag, status_sn(),
                    std::span<const uint8_t>(pdu.data.data(), echo)));
}

void Connection::send_text_chunk(TextExchange& x) {
  const size_t n =
      std::min<size_t>(x.out.size(), std::max<uint32_t>(params_.initiator_max_recv_dsl, 512));
  const bool last = n == x.out.size();
  if (!last) {
    x.ttt = next_ttt_++;
    if (next_ttt_ == kReservedTag) next_ttt_ = 1;
  }
  const std::vector<uint8_t> part(x.out.begin(), x.out.begin() + static_cast<ptrdiff_t>(n));
  x.out.erase(x.out.begin(), x.out.begin() + static_cast<ptrdiff_t>(n));
  emit(build_text_response(last, !last, x.itt, last ? kReservedTag : x.ttt, status_sn(), part));
  if (last) text_.reset();
}

void Connection::on_text(const Pdu& pdu) {
  auto decoded = decode_text_request(pdu);
  if (!decoded.ok()) return drop(std::string(decoded.status().message()));
  const TextRequest& r = *decoded;
  if (!take_cmd_sn(r.immediate, r.cmd_sn, "a Text Request")) return;
  ++stats_.texts;
  if (r.ttt != kReservedTag) {
    // The initiator goes on with an exchange the target keeps open.
    if (!text_ || text_->itt != r.itt || text_->ttt != r.ttt)
      return drop(
          fmt::format("a Text Request with Target Transfer Tag {:#x}, which no Text "
                      "Response gave",
                      r.ttt));
    if (!text_->out.empty()) {
      if (!pdu.data.empty()) return drop("keys in a Text Request asking for the rest of an answer");
      return send_text_chunk(*text_);
    }
  } else if (!text_ || text_->itt != r.itt) {
    text_ = TextExchange{};  // a new exchange replaces one left open
    text_->itt = r.itt;
  }
  TextExchange& x = *text_;
  x.keys.insert(x.keys.end(), pdu.data.begin(), pdu.data.end());
  if (x.keys.size() > settings_.max_text)
    return drop(fmt::format("more than {} bytes of text keys", settings_.max_text));
  if (r.cont) {
    // More keys follow: an empty answer asks for them.
    x.ttt = next_ttt_++;
    if (next_ttt_ == kReservedTag) next_ttt_ = 1;
    emit(build_text_response(false, false, x.itt, x.ttt, status_sn(), {}));
    return;
  }
  auto keys = parse_text(x.keys);
  if (!keys.ok()) return drop(std::string(keys.status().message()));
  TextPairs reply;
  const auto& targets = env_.targets();
  auto list = [&](const TargetInfo& t) {
    reply.emplace_back("TargetName", t.iqn);
    reply.emplace_back("TargetAddress", env_.target_address());
  };
  for (const auto& [key, value] : *keys) {
    if (key == "SendTargets") {
      if (value == "All") {
        for (const auto& t : targets)
          list(t);
      } else if (value.empty()) {
        if (target_) list(targets[*target_]);
      } else {
        for (const auto& t : targets)
          if (t.iqn == value) list(t);
      }
    } else if (key == "MaxRecvDataSegmentLength") {
      auto n = parse_number(value);
      if (!n || *n < 512 || *n > kMaxDataSegmentLength)
        return drop(fmt::format("MaxRecvDataSegmentLength={:.64}", value));
      params_.initiator_max_recv_dsl = *n;
    } else if (value == "NotUnderstood" || value == "Irrelevant" || value == "Reject") {
      // An answer to nothing the target offered: ignored.
    } else if (key.rfind("X-", 0) == 0 || key.rfind("X#", 0) == 0) {
      reply.emplace_back(key, "NotUnderstood");
    } else {
      // Everything else is negotiated at login only (or unknown).
      reply.emplace_back(key, "Reject");
    }
  }
  x.keys.clear();
  x.ttt = kReservedTag;
  x.out = encode_text(reply);
  send_text_chunk(x);
}

void Connection::on_logout(const Pdu& pdu) {
  auto decoded = decode_logout_request(pdu);
  if (!decoded.ok()) return drop(std::string(decoded.status().message()));
  const LogoutRequest& l = *decoded;
  if (!take_cmd_sn(l.immediate, l.cmd_sn, "a Logout Request")) return;
  if (l.reason == logout::kRemoveForRecovery) {
    emit(build_logout_response(l.itt, logout::kRecoveryNotSupported, status_sn()));
    return;
  }
  if (l.reason == logout::kCloseConnection && l.cid != leading_.cid) {
    emit(build_logout_response(l.itt, logout::kCidNotFound, status_sn()));
    return;
  }
  // The session ends: what is left is aborted, its answers discarded.
  std::vector<uint32_t> itts;
  for (const auto& [itt, task] : tasks_)
    if (!task->aborted) itts.push_back(itt);
  for (uint32_t itt : itts)
    abort(*tasks_.at(itt));
  tmfs_.clear();
  emit(build_logout_response(l.itt, logout::kClosed, status_sn()));
  phase_ = Phase::kClosed;
  env_.close("logged out", false);
}

}  // namespace splitpath::sim::iscsi
