// Fuzz target for the iSCSI target (fabric_sim/gateway/iscsi_pdu.h and
// iscsi_target.h): the bytes are an initiator's side of a connection, framed
// into PDUs with the limit the state machine declares and fed to it, against
// a fake environment that ends each SCSI command one PDU later (GOOD with
// data, or CHECK CONDITION with sense, in turn). Nothing may crash; every
// drop must say why; and what the target sends must hold up: whole PDUs that
// parse, data segments within what the initiator declared, StatSN advancing
// by one per status, R2Ts within the burst and command lengths, nothing sent
// after the connection closed, a command's data within the limit.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "fabric_sim/gateway/iscsi_pdu.h"
#include "fabric_sim/gateway/iscsi_target.h"
#include "spdlog/spdlog.h"

namespace iscsi = splitpath::sim::iscsi;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "iscsi_fuzz: %s\n", what);
  std::abort();
}

class Env : public iscsi::Environment {
 public:
  Env() {
    targets_.push_back({iscsi::target_iqn(0x5000000000001000ULL), "vt0", 0x5000000000001000ULL});
    targets_.push_back({iscsi::target_iqn(0x5000000000002000ULL), "vt1", 0x5000000000002000ULL});
  }
  void send(std::vector<uint8_t> bytes) override {
    if (closed) fail("bytes sent after the connection closed");
    stream.insert(stream.end(), bytes.begin(), bytes.end());
  }
  void close(const std::string& reason, bool) override {
    if (closed) fail("closed twice");
    if (reason.empty()) fail("closed without a reason");
    closed = true;
  }
  const std::vector<iscsi::TargetInfo>& targets() const override { return targets_; }
  std::string target_address() const override { return "127.0.0.1:3260,1"; }
  uint16_t new_tsih() override { return 1; }
  bool attach(size_t index) override {
    if (index >= targets_.size()) fail("attach to a target that does not exist");
    return true;
  }
  bool lun_exists(uint16_t lun) const override { return lun < 2; }
  uint64_t submit(uint16_t, std::vector<uint8_t> cdb, uint32_t data_in_length,
                  std::vector<uint8_t> data_out, Done done) override {
    if (cdb.empty() || cdb.size() > 32) fail("a CDB of a bad size submitted");
    if (data_in_length > max_data || data_out.size() > max_data)
      fail("a command above max_command_data submitted");
    if (data_in_length > 0 && !data_out.empty()) fail("a bidirectional command submitted");
    pending.push_back({next_id, data_in_length, std::move(done)});
    return next_id++;
  }
  bool cancel(uint64_t id) override {
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (it->id == id && id % 2 == 0) {
        pending.erase(it);
        return true;
      }
    }
    return false;
  }
  void reset(uint16_t, bool, ResetDone done) override { resets.push_back(std::move(done)); }
  // Ends the oldest command (a reset once no command is left).
  void finish_one() {
    if (pending.empty() && !resets.empty()) {
      ResetDone done = std::move(resets.front());
      resets.pop_front();
      done(next_id++ % 2 == 0);
      return;
    }
    if (pending.empty()) return;
    Pending p = std::move(pending.front());
    pending.pop_front();
    iscsi::ScsiOutcome o;
    if (p.id % 3 == 0) {
      o.status = 0x02;
      o.sense = {0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0};
    } else {
      o.data_in.assign(p.data_in_length - p.data_in_length / 4, static_cast<uint8_t>(p.id));
      o.underrun = o.data_in.size() < p.data_in_length;
      o.residual = static_cast<uint32_t>(p.data_in_length - o.data_in.size());
    }
    p.done(std::move(o));
  }

  struct Pending {
    uint64_t id;
    uint32_t data_in_length;
    Done done;
  };
  std::vector<uint8_t> stream;
  std::deque<Pending> pending;
  std::deque<ResetDone> resets;
  bool closed = false;
  uint32_t max_data = 0;

 private:
  std::vector<iscsi::TargetInfo> targets_;
  uint64_t next_id = 1;
};

// Checks what the target sent since the last call.
struct Checker {
  bool have_stat_sn = false;
  uint32_t next_stat_sn = 0;

  void check(Env& env, const iscsi::Connection& conn) {
    size_t consumed = 0;
    auto pdus = iscsi::split_pdus(env.stream, iscsi::kMaxDataSegmentLength, &consumed);
    if (!pdus.ok()) fail("the target sent a PDU that does not parse");
    if (consumed != env.stream.size()) fail("the target sent part of a PDU");
    env.stream.clear();
    const auto& params = conn.params();
    for (const auto& p : *pdus) {
      if ((p.bhs[0] & 0x40) != 0) fail("a target PDU with the I bit");
      const uint8_t op = p.opcode();
      if (op < 0x20) fail("the target sent an initiator opcode");
      const bool login = op == iscsi::opcode::kLoginResponse;
      const uint32_t limit = login ? iscsi::kDefaultMaxRecvDataSegmentLength
                                   : std::max<uint32_t>(params.initiator_max_recv_dsl, 512);
      // A SCSI Response's sense is at most 2 + 252 bytes whatever the limit.
      if (p.data.size() > limit && !(op == iscsi::opcode::kScsiResponse && p.data.size() <= 254))
        fail("a data segment above the initiator's MaxRecvDataSegmentLength");
      bool status = op == iscsi::opcode::kScsiResponse || login ||
                    op == iscsi::opcode::kTaskManagementResponse ||
                    op == iscsi::opcode::kTextResponse || op == iscsi::opcode::kLogoutResponse ||
                    op == iscsi::opcode::kReject;
      if (op == iscsi::opcode::kDataIn && (p.bhs[1] & 0x01)) status = true;
      if (op == iscsi::opcode::kNopIn && p.itt() != iscsi::kReservedTag) status = true;
      if (status) {
        const uint32_t sn = p.u32(24);
        if (have_stat_sn && sn != next_stat_sn) fail("StatSN did not advance by one");
        have_stat_sn = true;
        next_stat_sn = sn + 1;
      }
      if (op == iscsi::opcode::kR2t) {
        const uint32_t length = p.u32(44);
        if (length == 0 || length > params.max_burst_length) fail("an R2T of a bad length");
        if (uint64_t{p.u32(40)} + length > env.max_data) fail("an R2T past the command");
      }
      if (op == iscsi::opcode::kDataIn && (p.bhs[1] & 0x01) && (p.bhs[1] & 0x80) == 0)
        fail("a Data-In with status but no F bit");
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  Env env;
  iscsi::ConnectionSettings settings;
  settings.max_command_data = 1 << 20;
  settings.negotiation.max_recv_data_segment_length = 65536;
  env.max_data = settings.max_command_data;
  Checker checker;
  {
    iscsi::Connection conn(env, settings, "fuzz");
    std::span<const uint8_t> in(data, size);
    while (in.size() >= iscsi::kBhsSize && conn.phase() != iscsi::Connection::Phase::kClosed) {
      const auto bhs = in.first(iscsi::kBhsSize);
      auto framing = iscsi::parse_framing(bhs, conn.max_data_segment());
      if (!framing.ok()) {
        if (framing.status().message().empty()) fail("a framing error without a message");
        conn.on_framing_error(std::string(framing.status().message()));
        break;
      }
      if (in.size() - iscsi::kBhsSize < framing->rest()) break;
      auto pdu = iscsi::parse_pdu(bhs, in.subspan(iscsi::kBhsSize, framing->rest()));
      in = in.subspan(iscsi::kBhsSize + framing->rest());
      if (!pdu.ok()) {
        if (pdu.status().message().empty()) fail("a PDU error without a message");
        conn.on_framing_error(std::string(pdu.status().message()));
        break;
      }
      conn.on_pdu(*pdu);
      checker.check(env, conn);
      env.finish_one();
      checker.check(env, conn);
    }
    while (!env.pending.empty() || !env.resets.empty()) {
      env.finish_one();
      checker.check(env, conn);
    }
    if (conn.commands_in_fabric() != 0) fail("commands left in the fabric after all ended");
  }
  return 0;
}
