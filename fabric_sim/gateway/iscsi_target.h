// One iSCSI connection's target side (RFC 7143, error recovery level 0, one
// connection per session) as a state machine over whole PDUs: the login
// phase (stages, text negotiation through iscsi_login.h, the leading login's
// checks), then the full feature phase of a discovery session (Text
// SendTargets, NOP, Logout) or of a normal session (SCSI Command with
// immediate, unsolicited and R2T-solicited data, Data-In with the status in
// its S bit, SCSI Response with sense data, NOP-Out/NOP-In, Task Management,
// Text, Logout), with CmdSN/ExpCmdSN/MaxCmdSN windowing and StatSN.
//
// It owns no socket and no fabric: an Environment sends its bytes, closes
// the connection, lists the targets and carries each SCSI command to the
// session's target (iscsi_connection.h over the fabric; a fake in the tests
// and the fuzz target). A command's CDB goes through as the initiator sent
// it, whatever its opcode; its data-out is gathered whole (immediate,
// unsolicited, then R2T by R2T) before the command is submitted.
//
// A protocol violation (a PDU that does not decode, one not allowed in the
// phase or session type, a CmdSN other than ExpCmdSN, a data segment above
// the declared MaxRecvDataSegmentLength, Data-Out that does not fit what was
// asked, an Initiator Task Tag in use ...) closes the connection at once,
// with the reason. A non-immediate command whose CmdSN is outside the window
// is such a violation here (RFC 7143 would have it ignored: on a single TCP
// connection it can only come from a broken initiator).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fabric_sim/gateway/iscsi_login.h"
#include "fabric_sim/gateway/iscsi_pdu.h"

namespace splitpath::sim::iscsi {

// A target the gateway presents.
struct TargetInfo {
  std::string iqn;
  std::string alias;
  uint64_t wwpn = 0;
};

// The IQN of the iSCSI target presenting the virtual target `wwpn`.
std::string target_iqn(uint64_t wwpn);
inline constexpr char kIqnPrefix[] = "iqn.2026-12.io.splitpath:vt-";

// How a command submitted to the Environment ended.
struct ScsiOutcome {
  bool sent = true;        // false: never reached the target (no path)
  bool timed_out = false;  // no answer in time (the initiator aborted it)
  uint8_t status = 0;
  std::vector<uint8_t> sense;    // as the target sent it
  std::vector<uint8_t> data_in;  // at most the data-in length asked
  bool underrun = false;         // the target's residual
  bool overrun = false;
  uint32_t residual = 0;
};

class Environment {
 public:
  virtual ~Environment() = default;
  // Bytes to write to the initiator, in order.
  virtual void send(std::vector<uint8_t> bytes) = 0;
  // Ends the connection: at once when `violation` (queued bytes are
  // discarded), else once every byte sent is written (a logout, a failed
  // login). Called once.
  virtual void close(const std::string& reason, bool violation) = 0;
  virtual const std::vector<TargetInfo>& targets() const = 0;
  // SendTargets' TargetAddress ("ADDRESS:PORT,1").
  virtual std::string target_address() const = 0;
  // A new session's TSIH (nonzero).
  virtual uint16_t new_tsih() = 0;
  // A normal session logs in to targets()[index]: false if it cannot be
  // served now (no initiator N_Port free).
  virtual bool attach(size_t index) = 0;
  // Whether the session's target has LUN `lun` (Task Management).
  virtual bool lun_exists(uint16_t lun) const = 0;
  // Carries one command to the session's target; `done` runs once, later
  // (never inside submit() or cancel()). Returns an id for cancel().
  using Done = std::function<void(ScsiOutcome)>;
  virtual uint64_t submit(uint16_t lun, std::vector<uint8_t> cdb, uint32_t data_in_length,
                          std::vector<uint8_t> data_out, Done done) = 0;
  // Takes back a command that has not reached the fabric yet: true, and its
  // `done` never runs.
  virtual bool cancel(uint64_t id) = 0;
  // Carries a LOGICAL UNIT RESET of `lun` (`whole_target`: a TARGET RESET)
  // to the session's target; `done(carried_out)` runs once, later.
  using ResetDone = std::function<void(bool)>;
  virtual void reset(uint16_t lun, bool whole_target, ResetDone done) = 0;
};

struct ConnectionSettings {
  TargetSettings negotiation;
  // Commands the window lets the initiator have outstanding (MaxCmdSN).
  uint32_t command_window = 32;
  // A command may transfer at most this much (larger ones get CHECK
  // CONDITION, INVALID FIELD IN CDB).
  uint32_t max_command_data = 16u << 20;
  // Login and Text keys gathered over continued PDUs: at most this much.
  uint32_t max_text = 65536;
};

struct ConnectionStats {
  uint64_t commands = 0;  // SCSI Commands answered
  uint64_t not_good = 0;  // of which with a status other than GOOD
  uint64_t data_in_bytes = 0;
  uint64_t data_out_bytes = 0;
  uint64_t r2ts = 0;
  uint64_t task_management = 0;
  uint64_t aborted = 0;  // tasks aborted by Task Management or Logout
  uint64_t nops = 0;
  uint64_t texts = 0;
};

class Connection {
 public:
  enum class Phase : uint8_t { kLogin, kFullFeature, kClosed };

  Connection(Environment& env, const ConnectionSettings& settings, std::string label);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The largest data segment the next PDU may carry (the framing limit):
  // 8192 in the login phase, then the MaxRecvDataSegmentLength declared.
  uint32_t max_data_segment() const;
  // One whole PDU from the initiator.
  void on_pdu(const Pdu& pdu);
  // The byte stream broke (framing): closes as a violation.
  void on_framing_error(const std::string& reason);

  Phase phase() const { return phase_; }
  bool discovery() const { return discovery_; }
  // A normal session's target (an index into Environment::targets()).
  std::optional<size_t> target() const { return target_; }
  const std::string& initiator_name() const { return negotiation_.initiator_name(); }
  const SessionParams& params() const { return params_; }
  // Commands submitted to the Environment and not yet ended.
  size_t commands_in_fabric() const { return in_fabric_; }
  size_t tasks() const { return tasks_.size(); }
  const ConnectionStats& stats() const { return stats_; }
  uint32_t exp_cmd_sn() const { return exp_cmd_sn_; }
  uint32_t max_cmd_sn() const { return max_cmd_sn_; }
  uint32_t stat_sn() const { return stat_sn_; }

 private:
  struct Burst {
    uint32_t ttt = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
    uint32_t received = 0;
    uint32_t next_data_sn = 0;
  };
  struct Task {
    enum class State : uint8_t { kCollecting, kInFabric };
    State state = State::kCollecting;
    uint32_t itt = 0;
    fc::ScsiLun lun_bytes;
    uint16_t lun = 0;
    ScsiCommand command;
    // CHECK CONDITION sense the gateway answers itself (after taking the
    // unsolicited data), without reaching the fabric.
    std::vector<uint8_t> local_sense;
    std::vector<uint8_t> data_out;  // expected_length bytes (writes)
    uint32_t received = 0;          // data-out bytes taken
    bool unsolicited_open = false;  // unsolicited Data-Out may still come
    uint32_t unsolicited_limit = 0;
    uint32_t unsolicited_data_sn = 0;
    bool r2t_started = false;
    uint32_t next_r2t_offset = 0;
    uint32_t r2t_sn = 0;
    std::vector<Burst> bursts;  // R2Ts outstanding
    uint64_t backend_id = 0;
    bool aborted = false;  // in the fabric, its answer to be discarded
  };
  struct PendingTmf {
    uint32_t itt = 0;
    std::set<uint32_t> waiting;  // aborted tasks still in the fabric
    // A reset: carried to the target once the session's tasks ended.
    std::optional<uint8_t> reset;  // the function (tmf::)
    uint16_t lun = 0;
  };
  struct TextExchange {
    uint32_t itt = 0;
    uint32_t ttt = kReservedTag;  // the target's, while it has more to send
    std::vector<uint8_t> keys;    // the initiator's, gathered over C=1 PDUs
    std::vector<uint8_t> out;     // the answer still to send
  };

  // Login phase.
  void on_login(const Pdu& pdu);
  void fail_login(uint16_t status, const std::string& reason);
  void send_login_response(const LoginRequest& request, bool transit, uint8_t nsg,
                           const TextPairs& keys);
  // Full feature phase.
  void on_scsi_command(const Pdu& pdu);
  void on_data_out(const Pdu& pdu);
  void on_nop_out(const Pdu& pdu);
  void on_task_management(const Pdu& pdu);
  void on_text(const Pdu& pdu);
  void on_logout(const Pdu& pdu);

  // A non-immediate command's CmdSN: must be ExpCmdSN, within MaxCmdSN.
  bool take_cmd_sn(bool immediate, uint32_t cmd_sn, const char* what);
  void update_window();
  SeqNumbers status_sn();  // for a PDU that carries a status: StatSN advances
  SeqNumbers peek_sn() const;
  void emit(const Pdu& pdu);
  void drop(const std::string& reason);

  void start_r2ts(Task& task);
  void maybe_execute(Task& task);
  void execute(Task& task);
  void on_outcome(uint32_t itt, ScsiOutcome outcome);
  void respond(Task& task, uint8_t status, std::vector<uint8_t> sense,
               const std::vector<uint8_t>& data, bool underflow, bool overflow, uint32_t residual);
  // Aborts one task: true if the fabric still has it (its TMF waits).
  bool abort(Task& task);
  void forget_aborted(uint32_t itt);
  void settle_tmfs(uint32_t itt);
  // Answers a TMF whose aborted tasks all ended, or first carries its reset.
  void finish_tmf(const PendingTmf& tmf);
  void send_text_chunk(TextExchange& text);

  Environment& env_;
  ConnectionSettings settings_;
  std::string label_;
  Negotiation negotiation_;
  SessionParams params_;
  Phase phase_ = Phase::kLogin;

  // Login.
  bool login_started_ = false;
  LoginRequest leading_;
  uint8_t stage_ = stage::kSecurity;
  std::vector<uint8_t> login_keys_;
  bool identity_checked_ = false;
  bool first_response_sent_ = false;
  bool discovery_ = false;
  std::optional<size_t> target_;
  uint16_t tsih_ = 0;

  // Sequence numbers.
  uint32_t stat_sn_ = 1;
  uint32_t exp_cmd_sn_ = 0;
  uint32_t max_cmd_sn_ = 0;

  std::map<uint32_t, std::unique_ptr<Task>> tasks_;  // by Initiator Task Tag
  size_t in_fabric_ = 0;
  uint32_t next_ttt_ = 1;
  std::vector<PendingTmf> tmfs_;
  // Tasks aborted while their Data-Out may still be on the way.
  std::set<uint32_t> aborted_;
  std::deque<uint32_t> aborted_order_;
  std::optional<TextExchange> text_;
  ConnectionStats stats_;
};

}  // namespace splitpath::sim::iscsi
