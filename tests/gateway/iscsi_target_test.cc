// The iSCSI target state machine (fabric_sim/gateway/iscsi_target.h) driven
// PDU by PDU against a fake Environment that records what it sends and the
// SCSI commands it is given, which the test then ends: login stages and their
// failures, discovery, reads with Data-In carrying the status, writes with
// immediate, unsolicited and R2T-solicited data, sense data, residuals, the
// command window, task management, NOP, long Text answers, Logout, and the
// protocol violations that drop the connection.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "fabric_sim/gateway/iscsi_target.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::sim::iscsi {
namespace {

constexpr uint64_t kWwpn = 0x500a0b0c0d0e0f10ULL;

class FakeEnv : public Environment {
 public:
  struct Submitted {
    uint64_t id = 0;
    uint16_t lun = 0;
    std::vector<uint8_t> cdb;
    uint32_t data_in_length = 0;
    std::vector<uint8_t> data_out;
    Done done;
  };

  FakeEnv() {
    targets_.push_back(TargetInfo{target_iqn(kWwpn), "vt0", kWwpn});
    targets_.push_back(TargetInfo{target_iqn(kWwpn + 1), "vt1", kWwpn + 1});
  }

  void send(std::vector<uint8_t> bytes) override {
    stream.insert(stream.end(), bytes.begin(), bytes.end());
  }
  void close(const std::string& why, bool v) override {
    ++closes;
    reason = why;
    violation = v;
  }
  const std::vector<TargetInfo>& targets() const override { return targets_; }
  std::string target_address() const override { return "127.0.0.1:3260,1"; }
  uint16_t new_tsih() override { return 0x77; }
  bool attach(size_t index) override {
    attached = static_cast<int>(index);
    return attach_ok;
  }
  bool lun_exists(uint16_t lun) const override { return lun <= 1; }
  uint64_t submit(uint16_t lun, std::vector<uint8_t> cdb, uint32_t data_in_length,
                  std::vector<uint8_t> data_out, Done done) override {
    submitted.push_back(
        Submitted{next_id, lun, std::move(cdb), data_in_length, std::move(data_out), done});
    return next_id++;
  }
  void reset(uint16_t lun, bool whole_target, ResetDone done) override {
    resets.push_back(Reset{lun, whole_target, std::move(done)});
  }
  bool cancel(uint64_t id) override {
    for (auto it = submitted.begin(); it != submitted.end(); ++it) {
      if (it->id == id && cancellable) {
        submitted.erase(it);
        return true;
      }
    }
    return false;
  }

  // The PDUs sent since the last call.
  std::vector<Pdu> take() {
    size_t consumed = 0;
    auto pdus = split_pdus(stream, kMaxDataSegmentLength, &consumed);
    EXPECT_TRUE(pdus.ok());
    stream.erase(stream.begin(), stream.begin() + static_cast<ptrdiff_t>(consumed));
    return pdus.ok() ? *pdus : std::vector<Pdu>{};
  }
  // Ends the oldest submitted command.
  void finish(ScsiOutcome o) {
    ASSERT_FALSE(submitted.empty());
    auto s = std::move(submitted.front());
    submitted.pop_front();
    s.done(std::move(o));
  }

  std::vector<uint8_t> stream;
  std::deque<Submitted> submitted;
  struct Reset {
    uint16_t lun = 0;
    bool whole_target = false;
    ResetDone done;
  };
  std::deque<Reset> resets;
  int closes = 0;
  std::string reason;
  bool violation = false;
  bool attach_ok = true;
  bool cancellable = false;
  int attached = -1;

 private:
  std::vector<TargetInfo> targets_;
  uint64_t next_id = 1;
};

// Builds the initiator's PDUs.
Pdu login(uint8_t csg, uint8_t nsg, bool transit, const TextPairs& keys, uint32_t cmd_sn = 100,
          bool cont = false) {
  Pdu p;
  p.bhs[0] = 0x40 | opcode::kLoginRequest;
  p.bhs[1] = static_cast<uint8_t>((transit ? 0x80 : 0) | (cont ? 0x40 : 0) | (csg << 2) | nsg);
  p.bhs[8] = 0x80;
  p.bhs[13] = 1;
  p.set_u32(16, 0x10);
  p.set_u32(24, cmd_sn);
  p.data = encode_text(keys);
  return p;
}

Pdu command(uint32_t itt, uint32_t cmd_sn, std::vector<uint8_t> cdb, bool read, bool write,
            uint32_t expected, std::vector<uint8_t> immediate = {}, bool final_bit = true,
            uint16_t lun = 0) {
  Pdu p;
  p.bhs[0] = opcode::kScsiCommand;
  p.bhs[1] =
      static_cast<uint8_t>((final_bit ? 0x80 : 0) | (read ? 0x40 : 0) | (write ? 0x20 : 0) | 1);
  fc::store_lun(p.bhs.data() + 8, fc::make_lun(lun));
  p.set_u32(16, itt);
  p.set_u32(20, expected);
  p.set_u32(24, cmd_sn);
  cdb.resize(16, 0);
  std::copy(cdb.begin(), cdb.end(), p.bhs.begin() + 32);
  p.data = std::move(immediate);
  return p;
}

Pdu data_out(uint32_t itt, uint32_t ttt, uint32_t data_sn, uint32_t offset,
             std::vector<uint8_t> data, bool final_bit) {
  Pdu p;
  p.bhs[0] = opcode::kDataOut;
  p.bhs[1] = final_bit ? 0x80 : 0;
  p.set_u32(16, itt);
  p.set_u32(20, ttt);
  p.set_u32(36, data_sn);
  p.set_u32(40, offset);
  p.data = std::move(data);
  return p;
}

std::vector<uint8_t> read10(uint32_t lba, uint16_t blocks) {
  return {0x28,
          0,
          static_cast<uint8_t>(lba >> 24),
          static_cast<uint8_t>(lba >> 16),
          static_cast<uint8_t>(lba >> 8),
          static_cast<uint8_t>(lba),
          0,
          static_cast<uint8_t>(blocks >> 8),
          static_cast<uint8_t>(blocks),
          0};
}

std::vector<uint8_t> write10(uint32_t lba, uint16_t blocks) {
  auto c = read10(lba, blocks);
  c[0] = 0x2a;
  return c;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

std::string value_of(const Pdu& p, const std::string& key) {
  auto pairs = parse_text(p.data);
  if (!pairs.ok()) return "<bad text>";
  for (const auto& [k, v] : *pairs)
    if (k == key) return v;
  return "<absent>";
}

class IscsiTarget : public ::testing::Test {
 protected:
  IscsiTarget() : conn(env, settings(), "test") {}

  static ConnectionSettings settings() {
    ConnectionSettings s;
    s.command_window = 4;
    return s;
  }

  // Logs a normal session in to vt0 in two steps, with these operational keys.
  void normal_login(TextPairs op_keys) {
    conn.on_pdu(login(stage::kSecurity, stage::kOperational, true,
                      {{"InitiatorName", "iqn.test:init"},
                       {"TargetName", target_iqn(kWwpn)},
                       {"SessionType", "Normal"},
                       {"AuthMethod", "None"}}));
    auto first = env.take();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].bhs[36], 0) << env.reason;
    EXPECT_EQ(value_of(first[0], "AuthMethod"), "None");
    EXPECT_EQ(value_of(first[0], "TargetPortalGroupTag"), "1");
    EXPECT_EQ(value_of(first[0], "TargetAlias"), "vt0");
    op_keys.emplace_back("HeaderDigest", "None");
    op_keys.emplace_back("DataDigest", "None");
    conn.on_pdu(login(stage::kOperational, stage::kFullFeature, true, op_keys));
    auto second = env.take();
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].bhs[36], 0) << env.reason;
    EXPECT_EQ(second[0].bhs[1], 0x80 | (1 << 2) | 3);    // T, CSG 1, NSG 3
    EXPECT_EQ(second[0].u16(14), 0x77);                  // TSIH
    EXPECT_EQ(second[0].u32(24), first[0].u32(24) + 1);  // StatSN
    EXPECT_EQ(second[0].u32(28), 100u);                  // ExpCmdSN: the login's CmdSN
    EXPECT_EQ(value_of(second[0], "MaxRecvDataSegmentLength"), "262144");
    ASSERT_EQ(conn.phase(), Connection::Phase::kFullFeature);
    EXPECT_EQ(env.attached, 0);
  }

  FakeEnv env;
  Connection conn;
};

TEST_F(IscsiTarget, DiscoverySessionListsEveryTargetThenLogsOut) {
  conn.on_pdu(login(
      stage::kSecurity, stage::kFullFeature, true,
      {{"InitiatorName", "iqn.test:init"}, {"SessionType", "Discovery"}, {"AuthMethod", "None"}}));
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].opcode(), opcode::kLoginResponse);
  EXPECT_EQ(r[0].bhs[36], 0);
  EXPECT_EQ(value_of(r[0], "MaxRecvDataSegmentLength"), "262144");
  EXPECT_EQ(value_of(r[0], "TargetAlias"), "<absent>");
  EXPECT_TRUE(conn.discovery());
  EXPECT_EQ(env.attached, -1);  // no initiator for a discovery session

  Pdu text;
  text.bhs[0] = opcode::kTextRequest;
  text.bhs[1] = 0x80;
  text.set_u32(16, 5);
  text.set_u32(20, kReservedTag);
  text.set_u32(24, 100);
  text.data = encode_text({{"SendTargets", "All"}});
  conn.on_pdu(text);
  auto t = env.take();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].opcode(), opcode::kTextResponse);
  EXPECT_EQ(t[0].bhs[1], 0x80);
  EXPECT_EQ(t[0].u32(20), kReservedTag);
  auto pairs = parse_text(t[0].data);
  ASSERT_TRUE(pairs.ok());
  ASSERT_EQ(pairs->size(), 4u);
  EXPECT_EQ((*pairs)[0],
            std::make_pair(std::string("TargetName"),
                           std::string("iqn.2026-12.io.splitpath:vt-500a0b0c0d0e0f10")));
  EXPECT_EQ((*pairs)[1].second, "127.0.0.1:3260,1");
  EXPECT_EQ((*pairs)[2].second, target_iqn(kWwpn + 1));

  // A SCSI command has no place in a discovery session.
  Pdu logout;
  logout.bhs[0] = 0x40 | opcode::kLogoutRequest;
  logout.bhs[1] = 0x80;
  logout.set_u32(16, 6);
  logout.set_u32(24, 101);
  conn.on_pdu(logout);
  auto l = env.take();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].opcode(), opcode::kLogoutResponse);
  EXPECT_EQ(l[0].bhs[2], logout::kClosed);
  EXPECT_EQ(env.closes, 1);
  EXPECT_FALSE(env.violation);
}

TEST_F(IscsiTarget, ScsiCommandInADiscoverySessionDrops) {
  conn.on_pdu(login(stage::kSecurity, stage::kFullFeature, true,
                    {{"InitiatorName", "iqn.test:init"}, {"SessionType", "Discovery"}}));
  env.take();
  conn.on_pdu(command(1, 100, {0}, false, false, 0));
  EXPECT_TRUE(env.violation);
  EXPECT_NE(env.reason.find("discovery session"), std::string::npos) << env.reason;
}

TEST_F(IscsiTarget, LoginFailures) {
  {
    FakeEnv e;
    Connection c(e, settings(), "t");
    c.on_pdu(login(stage::kSecurity, stage::kOperational, true,
                   {{"InitiatorName", "iqn.x"}, {"TargetName", "iqn.nobody"}}));
    auto r = e.take();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].bhs[36], 2);
    EXPECT_EQ(r[0].bhs[37], 3);  // not found
    EXPECT_EQ(e.closes, 1);
    EXPECT_FALSE(e.violation);
  }
  {
    FakeEnv e;
    Connection c(e, settings(), "t");
    c.on_pdu(
        login(stage::kSecurity, stage::kOperational, true, {{"TargetName", target_iqn(kWwpn)}}));
    auto r = e.take();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].bhs[37], 7);  // missing parameter: InitiatorName
  }
  {
    FakeEnv e;
    Connection c(e, settings(), "t");
    c.on_pdu(login(
        stage::kSecurity, stage::kOperational, true,
        {{"InitiatorName", "iqn.x"}, {"TargetName", target_iqn(kWwpn)}, {"AuthMethod", "CHAP"}}));
    auto r = e.take();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].bhs[36], 2);
    EXPECT_EQ(r[0].bhs[37], 1);  // authentication failure
  }
  {
    // No initiator free when the session enters the full feature phase.
    FakeEnv e;
    e.attach_ok = false;
    Connection c(e, settings(), "t");
    c.on_pdu(login(stage::kOperational, stage::kFullFeature, true,
                   {{"InitiatorName", "iqn.x"}, {"TargetName", target_iqn(kWwpn + 1)}}));
    auto r = e.take();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].bhs[36], 3);
    EXPECT_EQ(r[0].bhs[37], 2);  // out of resources
    EXPECT_EQ(e.attached, 1);
  }
  {
    // A connection joining an existing session (TSIH set).
    FakeEnv e;
    Connection c(e, settings(), "t");
    Pdu p = login(stage::kSecurity, stage::kOperational, true, {{"InitiatorName", "iqn.x"}});
    p.set_u16(14, 5);
    c.on_pdu(p);
    auto r = e.take();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].bhs[37], 0x0a);
  }
  {
    // A SCSI Command during login is a violation.
    FakeEnv e;
    Connection c(e, settings(), "t");
    c.on_pdu(command(1, 1, {0}, false, false, 0));
    EXPECT_TRUE(e.violation);
    EXPECT_NE(e.reason.find("during login"), std::string::npos);
  }
}

TEST_F(IscsiTarget, LoginKeysContinuedOverSeveralPdus) {
  const auto keys = encode_text({{"InitiatorName", "iqn.test:init"},
                                 {"TargetName", target_iqn(kWwpn)},
                                 {"AuthMethod", "None"}});
  Pdu a = login(stage::kSecurity, 0, false, {}, 100, true);
  a.data.assign(keys.begin(), keys.begin() + 10);  // cut inside a key
  conn.on_pdu(a);
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].data.empty());
  EXPECT_EQ(r[0].bhs[36], 0);
  Pdu b = login(stage::kSecurity, stage::kOperational, true, {});
  b.data.assign(keys.begin() + 10, keys.end());
  conn.on_pdu(b);
  r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[36], 0);
  EXPECT_EQ(value_of(r[0], "AuthMethod"), "None");
}

TEST_F(IscsiTarget, ReadSendsDataInWithTheStatusInTheLastPdu) {
  normal_login({{"MaxRecvDataSegmentLength", "1024"}, {"MaxBurstLength", "2048"}});
  conn.on_pdu(command(0x42, 100, read10(8, 8), true, false, 4096));
  ASSERT_EQ(env.submitted.size(), 1u);
  EXPECT_EQ(env.submitted[0].cdb.size(), 16u);
  EXPECT_EQ(env.submitted[0].cdb[0], 0x28);
  EXPECT_EQ(env.submitted[0].data_in_length, 4096u);
  EXPECT_TRUE(env.submitted[0].data_out.empty());
  EXPECT_TRUE(env.take().empty());
  ScsiOutcome o;
  o.data_in = pattern(4096, 3);
  env.finish(o);
  auto r = env.take();
  ASSERT_EQ(r.size(), 4u);
  std::vector<uint8_t> got;
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].opcode(), opcode::kDataIn);
    EXPECT_EQ(r[i].itt(), 0x42u);
    EXPECT_EQ(r[i].u32(36), i);         // DataSN
    EXPECT_EQ(r[i].u32(40), i * 1024);  // offset
    EXPECT_EQ(r[i].data.size(), 1024u);
    got.insert(got.end(), r[i].data.begin(), r[i].data.end());
  }
  EXPECT_EQ(got, pattern(4096, 3));
  EXPECT_EQ(r[0].bhs[1], 0);      // within the first 2048-byte burst
  EXPECT_EQ(r[1].bhs[1], 0x80);   // F: the burst ends
  EXPECT_EQ(r[3].bhs[1], 0x81);   // F and S
  EXPECT_EQ(r[3].bhs[3], 0);      // GOOD
  EXPECT_EQ(r[3].u32(28), 101u);  // ExpCmdSN
  EXPECT_EQ(conn.stats().commands, 1u);
}

TEST_F(IscsiTarget, ShortReadReportsUnderflowAndOverflow) {
  normal_login({});
  // The target sent 36 of the 255 bytes INQUIRY asked for.
  conn.on_pdu(command(1, 100, {0x12, 0, 0, 0, 255, 0}, true, false, 255));
  ScsiOutcome o;
  o.data_in = pattern(36, 1);
  o.underrun = true;
  o.residual = 219;
  env.finish(o);
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[1], 0x80 | 0x02 | 0x01);  // F, U, S
  EXPECT_EQ(r[0].u32(44), 219u);
  // The target had more than the 512 bytes expected.
  conn.on_pdu(command(2, 101, read10(0, 2), true, false, 512));
  ScsiOutcome p;
  p.data_in = pattern(512, 1);
  p.overrun = true;
  p.residual = 512;
  env.finish(p);
  r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[1], 0x80 | 0x04 | 0x01);  // F, O, S
  EXPECT_EQ(r[0].u32(44), 512u);
  // No data at all, and the target said nothing: the whole length is residual.
  conn.on_pdu(command(3, 102, read10(0, 1), true, false, 512));
  env.finish(ScsiOutcome{});
  r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].opcode(), opcode::kScsiResponse);
  EXPECT_EQ(r[0].bhs[1], 0x80 | 0x02);
  EXPECT_EQ(r[0].u32(44), 512u);
}

TEST_F(IscsiTarget, CheckConditionCarriesTheSenseData) {
  normal_login({});
  conn.on_pdu(command(7, 100, read10(0xffffff, 1), true, false, 512));
  ScsiOutcome o;
  o.status = fc::scsi_status::kCheckCondition;
  o.sense = {0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x21, 0, 0, 0, 0, 0};
  env.finish(o);
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].opcode(), opcode::kScsiResponse);
  EXPECT_EQ(r[0].bhs[3], fc::scsi_status::kCheckCondition);
  ASSERT_EQ(r[0].data.size(), 20u);
  EXPECT_EQ(r[0].data[1], 18);
  EXPECT_EQ(r[0].data[2 + 2], 5);
  EXPECT_EQ(r[0].data[2 + 12], 0x21);
  EXPECT_EQ(conn.stats().not_good, 1u);
}

TEST_F(IscsiTarget, CommandsTheFabricNeverAnsweredGetAbortedCommand) {
  normal_login({});
  conn.on_pdu(command(7, 100, {0}, false, false, 0));
  ScsiOutcome o;
  o.sent = false;
  env.finish(o);
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[3], fc::scsi_status::kCheckCondition);
  EXPECT_EQ(r[0].data[2 + 2], fc::sense_key::kAbortedCommand);
  EXPECT_EQ(r[0].data[2 + 12], 0x08);
}

TEST_F(IscsiTarget, WriteWithImmediateUnsolicitedAndSolicitedData) {
  normal_login({{"InitialR2T", "No"},
                {"ImmediateData", "Yes"},
                {"FirstBurstLength", "8192"},
                {"MaxBurstLength", "16384"},
                {"MaxOutstandingR2T", "2"}});
  // 49152 bytes: 4096 immediate, 4096 unsolicited (FirstBurstLength 8192),
  // then R2Ts of 16384, 16384 and 8192.
  const auto data = pattern(49152, 9);
  auto slice = [&](size_t from, size_t n) {
    return std::vector<uint8_t>(data.begin() + static_cast<ptrdiff_t>(from),
                                data.begin() + static_cast<ptrdiff_t>(from + n));
  };
  conn.on_pdu(command(9, 100, write10(0, 96), false, true, 49152, slice(0, 4096), false));
  EXPECT_TRUE(env.take().empty());  // unsolicited data is still coming
  conn.on_pdu(data_out(9, kReservedTag, 0, 4096, slice(4096, 4096), true));
  auto r2ts = env.take();
  ASSERT_EQ(r2ts.size(), 2u);  // MaxOutstandingR2T 2
  EXPECT_EQ(r2ts[0].opcode(), opcode::kR2t);
  EXPECT_EQ(r2ts[0].u32(36), 0u);  // R2TSN
  EXPECT_EQ(r2ts[0].u32(40), 8192u);
  EXPECT_EQ(r2ts[0].u32(44), 16384u);
  EXPECT_EQ(r2ts[1].u32(36), 1u);
  EXPECT_EQ(r2ts[1].u32(40), 24576u);
  EXPECT_EQ(r2ts[1].u32(44), 16384u);
  const uint32_t ttt0 = r2ts[0].u32(20);
  const uint32_t ttt1 = r2ts[1].u32(20);
  EXPECT_NE(ttt0, kReservedTag);
  EXPECT_NE(ttt0, ttt1);
  // R2Ts carry the StatSN the next status will have, without using it.
  EXPECT_EQ(r2ts[0].u32(24), r2ts[1].u32(24));
  conn.on_pdu(data_out(9, ttt0, 0, 8192, slice(8192, 8192), false));
  conn.on_pdu(data_out(9, ttt0, 1, 16384, slice(16384, 8192), true));
  auto third = env.take();
  ASSERT_EQ(third.size(), 1u);  // the first burst done: room for the last R2T
  EXPECT_EQ(third[0].opcode(), opcode::kR2t);
  EXPECT_EQ(third[0].u32(36), 2u);
  EXPECT_EQ(third[0].u32(40), 40960u);
  EXPECT_EQ(third[0].u32(44), 8192u);
  conn.on_pdu(data_out(9, ttt1, 0, 24576, slice(24576, 16384), true));
  EXPECT_TRUE(env.submitted.empty());
  conn.on_pdu(data_out(9, third[0].u32(20), 0, 40960, slice(40960, 8192), true));
  EXPECT_EQ(env.closes, 0) << env.reason;
  ASSERT_EQ(env.submitted.size(), 1u);
  EXPECT_EQ(env.submitted[0].data_out, data);
  EXPECT_EQ(env.submitted[0].data_in_length, 0u);
  env.finish(ScsiOutcome{});
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].opcode(), opcode::kScsiResponse);
  EXPECT_EQ(r[0].bhs[3], 0);
  EXPECT_EQ(conn.stats().r2ts, 3u);
  EXPECT_EQ(conn.stats().data_out_bytes, 49152u - 4096u);
}

TEST_F(IscsiTarget, WriteWithInitialR2tGetsEveryByteSolicited) {
  normal_login({{"ImmediateData", "No"}, {"MaxBurstLength", "4096"}});
  conn.on_pdu(command(3, 100, write10(0, 8), false, true, 4096));
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].u32(40), 0u);
  EXPECT_EQ(r[0].u32(44), 4096u);
  conn.on_pdu(data_out(3, r[0].u32(20), 0, 0, pattern(4096, 1), true));
  ASSERT_EQ(env.submitted.size(), 1u);
}

TEST_F(IscsiTarget, DataOutViolationsDrop) {
  struct Case {
    const char* name;
    uint32_t data_sn;
    uint32_t offset;
    size_t length;
    bool final_bit;
    bool wrong_ttt;
    const char* expect;
  };
  for (const Case& c : {Case{"DataSN", 1, 0, 512, true, false, "DataSN"},
                        Case{"offset", 0, 512, 512, true, false, "offset"},
                        Case{"too long", 0, 0, 8192, true, false, "past"},
                        Case{"short sequence", 0, 0, 512, true, false, "ended"},
                        Case{"ttt", 0, 0, 4096, true, true, "Target Transfer Tag"}}) {
    FakeEnv e;
    Connection conn2(e, settings(), "t");
    conn2.on_pdu(login(
        stage::kOperational, stage::kFullFeature, true,
        {{"InitiatorName", "iqn.x"}, {"TargetName", target_iqn(kWwpn)}, {"ImmediateData", "No"}}));
    e.take();
    conn2.on_pdu(command(3, 100, write10(0, 8), false, true, 4096));
    auto r = e.take();
    ASSERT_EQ(r.size(), 1u) << c.name;
    const uint32_t ttt = c.wrong_ttt ? r[0].u32(20) + 100 : r[0].u32(20);
    conn2.on_pdu(
        data_out(3, ttt, c.data_sn, c.offset, std::vector<uint8_t>(c.length), c.final_bit));
    EXPECT_EQ(e.closes, 1) << c.name;
    EXPECT_TRUE(e.violation) << c.name;
    EXPECT_NE(e.reason.find(c.expect), std::string::npos) << c.name << ": " << e.reason;
  }
}

TEST_F(IscsiTarget, ImmediateDataViolationsDrop) {
  normal_login({{"FirstBurstLength", "4096"}});
  // More immediate data than FirstBurstLength.
  conn.on_pdu(command(3, 100, write10(0, 16), false, true, 8192, pattern(4608, 1)));
  EXPECT_TRUE(env.violation);
  EXPECT_NE(env.reason.find("FirstBurstLength"), std::string::npos) << env.reason;
}

TEST_F(IscsiTarget, UnsolicitedDataWhereInitialR2tIsYesDrops) {
  normal_login({});  // InitialR2T defaults to Yes
  conn.on_pdu(command(3, 100, write10(0, 16), false, true, 8192, pattern(512, 1), false));
  EXPECT_TRUE(env.violation);
  EXPECT_NE(env.reason.find("InitialR2T"), std::string::npos) << env.reason;
}

TEST_F(IscsiTarget, CmdSnOutsideTheWindowDrops) {
  normal_login({});
  EXPECT_EQ(conn.max_cmd_sn(), 103u);  // window of 4 from ExpCmdSN 100
  conn.on_pdu(command(1, 104, {0}, false, false, 0));
  EXPECT_TRUE(env.violation);
  EXPECT_NE(env.reason.find("CmdSN 104"), std::string::npos) << env.reason;
  EXPECT_NE(env.reason.find("outside the command window"), std::string::npos) << env.reason;
}

TEST_F(IscsiTarget, CmdSnTooLowDrops) {
  normal_login({});
  conn.on_pdu(command(1, 99, {0}, false, false, 0));
  EXPECT_TRUE(env.violation);
  EXPECT_NE(env.reason.find("CmdSN 99"), std::string::npos) << env.reason;
}

TEST_F(IscsiTarget, TheWindowOpensAsCommandsEnd) {
  normal_login({});
  for (uint32_t i = 0; i < 4; ++i)
    conn.on_pdu(command(10 + i, 100 + i, {0}, false, false, 0));
  EXPECT_EQ(env.closes, 0) << env.reason;
  EXPECT_EQ(conn.exp_cmd_sn(), 104u);
  EXPECT_EQ(conn.max_cmd_sn(), 103u);  // closed: four in progress
  // An immediate command passes a closed window.
  Pdu nop;
  nop.bhs[0] = 0x40 | opcode::kNopOut;
  nop.bhs[1] = 0x80;
  nop.set_u32(16, 99);
  nop.set_u32(20, kReservedTag);
  nop.set_u32(24, 104);
  nop.data = {1, 2, 3};
  conn.on_pdu(nop);
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].opcode(), opcode::kNopIn);
  EXPECT_EQ(r[0].itt(), 99u);
  EXPECT_EQ(r[0].data, (std::vector<uint8_t>{1, 2, 3}));
  const uint32_t stat_sn = r[0].u32(24);
  env.finish(ScsiOutcome{});
  r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].u32(24), stat_sn + 1);
  EXPECT_EQ(r[0].u32(32), 104u);  // MaxCmdSN opened by one
  conn.on_pdu(command(20, 104, {0}, false, false, 0));
  EXPECT_EQ(env.closes, 0) << env.reason;
}

TEST_F(IscsiTarget, ImmediateCommandsCannotPileUpBeyondTwiceTheWindow) {
  normal_login({});
  for (uint32_t i = 0; i < 8; ++i) {
    Pdu p = command(10 + i, 100, {0}, false, false, 0);
    p.bhs[0] |= 0x40;  // immediate: no CmdSN used
    conn.on_pdu(p);
  }
  EXPECT_EQ(env.closes, 0) << env.reason;
  EXPECT_EQ(conn.tasks(), 8u);
  Pdu p = command(30, 100, {0}, false, false, 0);
  p.bhs[0] |= 0x40;
  conn.on_pdu(p);
  EXPECT_TRUE(env.violation);
  EXPECT_NE(env.reason.find("beyond 8 tasks"), std::string::npos) << env.reason;
}

TEST_F(IscsiTarget, DuplicateTaskTagDrops) {
  normal_login({});
  conn.on_pdu(command(5, 100, {0}, false, false, 0));
  conn.on_pdu(command(5, 101, {0}, false, false, 0));
  EXPECT_TRUE(env.violation);
  EXPECT_NE(env.reason.find("in use"), std::string::npos) << env.reason;
}

TEST_F(IscsiTarget, AbortTaskWaitsForTheFabricAndSuppressesTheResponse) {
  normal_login({});
  conn.on_pdu(command(5, 100, read10(0, 1), true, false, 512));
  Pdu tmf;
  tmf.bhs[0] = 0x40 | opcode::kTaskManagementRequest;
  tmf.bhs[1] = 0x80 | tmf::kAbortTask;
  tmf.set_u32(16, 6);
  tmf.set_u32(20, 5);
  tmf.set_u32(24, 101);
  tmf.set_u32(32, 100);
  conn.on_pdu(tmf);
  EXPECT_TRUE(env.take().empty());  // the read is still in the fabric
  env.finish(ScsiOutcome{});
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].opcode(), opcode::kTaskManagementResponse);
  EXPECT_EQ(r[0].itt(), 6u);
  EXPECT_EQ(r[0].bhs[2], tmf::kFunctionComplete);
  // Now the task is gone.
  tmf.set_u32(16, 7);
  conn.on_pdu(tmf);
  r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[2], tmf::kTaskDoesNotExist);
}

TEST_F(IscsiTarget, AbortTaskOfAQueuedCommandAnswersAtOnce) {
  env.cancellable = true;
  normal_login({});
  conn.on_pdu(command(5, 100, read10(0, 1), true, false, 512));
  Pdu tmf;
  tmf.bhs[0] = 0x40 | opcode::kTaskManagementRequest;
  tmf.bhs[1] = 0x80 | tmf::kAbortTask;
  tmf.set_u32(16, 6);
  tmf.set_u32(20, 5);
  tmf.set_u32(24, 101);
  conn.on_pdu(tmf);
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[2], tmf::kFunctionComplete);
  EXPECT_TRUE(env.submitted.empty());
  EXPECT_EQ(conn.commands_in_fabric(), 0u);
}

TEST_F(IscsiTarget, LunResetAbortsTheLunsTasks) {
  normal_login({{"ImmediateData", "No"}});
  conn.on_pdu(command(1, 100, read10(0, 1), true, false, 512, {}, true, 0));
  conn.on_pdu(command(2, 101, read10(0, 1), true, false, 512, {}, true, 1));
  conn.on_pdu(command(3, 102, write10(0, 1), false, true, 512, {}, true, 0));  // awaits data
  env.take();                                                                  // its R2T
  Pdu tmf;
  tmf.bhs[0] = 0x40 | opcode::kTaskManagementRequest;
  tmf.bhs[1] = 0x80 | tmf::kLogicalUnitReset;
  tmf.set_u32(16, 9);
  tmf.set_u32(20, kReservedTag);
  tmf.set_u32(24, 103);
  conn.on_pdu(tmf);
  EXPECT_TRUE(env.take().empty());
  EXPECT_TRUE(env.resets.empty());
  env.finish(ScsiOutcome{});  // LUN 0's read: aborted, no answer of its own
  // Then the LU itself is reset at the target, which answers.
  EXPECT_TRUE(env.take().empty());
  ASSERT_EQ(env.resets.size(), 1u);
  EXPECT_EQ(env.resets.front().lun, 0);
  EXPECT_FALSE(env.resets.front().whole_target);
  env.resets.front().done(true);
  env.resets.pop_front();
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].opcode(), opcode::kTaskManagementResponse);
  EXPECT_EQ(r[0].bhs[2], tmf::kFunctionComplete);
  // Data-Out for the aborted write, already on its way, is discarded.
  conn.on_pdu(data_out(3, 1, 0, 0, pattern(512, 1), true));
  EXPECT_EQ(env.closes, 0) << env.reason;
  env.finish(ScsiOutcome{});  // LUN 1's read is answered
  r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].itt(), 2u);
  // A LUN that does not exist.
  tmf.bhs[9] = 9;
  tmf.set_u32(16, 10);
  tmf.set_u32(24, 104);
  conn.on_pdu(tmf);
  r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[2], tmf::kLunDoesNotExist);
}

TEST_F(IscsiTarget, UnsupportedTaskManagementFunctions) {
  normal_login({});
  const std::pair<uint8_t, uint8_t> cases[] = {{tmf::kTaskReassign, tmf::kReassignNotSupported},
                                               {tmf::kClearAca, tmf::kNotSupported},
                                               {42, tmf::kRejected}};
  uint32_t sn = 100;
  for (auto [function, response] : cases) {
    Pdu tmf;
    tmf.bhs[0] = opcode::kTaskManagementRequest;
    tmf.bhs[1] = 0x80 | function;
    tmf.set_u32(16, sn);
    tmf.set_u32(24, sn++);
    conn.on_pdu(tmf);
    auto r = env.take();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].bhs[2], response) << int(function);
  }
}

TEST_F(IscsiTarget, TargetResetsAbortTheSessionsTasksThenResetTheTarget) {
  normal_login({});
  conn.on_pdu(command(1, 100, read10(0, 1), true, false, 512, {}, true, 1));
  Pdu tmf;
  tmf.bhs[0] = 0x40 | opcode::kTaskManagementRequest;
  tmf.bhs[1] = 0x80 | tmf::kTargetWarmReset;
  tmf.set_u32(16, 9);
  tmf.set_u32(20, kReservedTag);
  tmf.set_u32(24, 101);
  conn.on_pdu(tmf);
  EXPECT_TRUE(env.resets.empty());  // the read is still in the fabric
  env.finish(ScsiOutcome{});
  EXPECT_TRUE(env.take().empty());
  ASSERT_EQ(env.resets.size(), 1u);
  EXPECT_TRUE(env.resets.front().whole_target);
  env.resets.front().done(true);
  env.resets.pop_front();
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].opcode(), opcode::kTaskManagementResponse);
  EXPECT_EQ(r[0].bhs[2], tmf::kFunctionComplete);
  EXPECT_EQ(env.closes, 0);
  // A reset the target did not carry out is rejected.
  tmf.set_u32(16, 10);
  tmf.set_u32(24, 102);
  conn.on_pdu(tmf);
  ASSERT_EQ(env.resets.size(), 1u);
  env.resets.front().done(false);
  env.resets.pop_front();
  r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[2], tmf::kRejected);
  // A cold reset: answered, then the session ends.
  tmf.bhs[1] = 0x80 | tmf::kTargetColdReset;
  tmf.set_u32(16, 11);
  tmf.set_u32(24, 103);
  conn.on_pdu(tmf);
  ASSERT_EQ(env.resets.size(), 1u);
  EXPECT_TRUE(env.resets.front().whole_target);
  env.resets.front().done(true);
  env.resets.pop_front();
  r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[2], tmf::kFunctionComplete);
  EXPECT_EQ(env.closes, 1);
  EXPECT_FALSE(env.violation);
  EXPECT_EQ(conn.phase(), Connection::Phase::kClosed);
}

TEST_F(IscsiTarget, LongTextAnswersContinue) {
  normal_login({{"MaxRecvDataSegmentLength", "512"}});
  Pdu text;
  text.bhs[0] = opcode::kTextRequest;
  text.bhs[1] = 0x80;
  text.set_u32(16, 5);
  text.set_u32(20, kReservedTag);
  text.set_u32(24, 100);
  // Unknown keys make the answer long: 40 of them, each answered.
  TextPairs keys;
  for (int i = 0; i < 40; ++i)
    keys.emplace_back("X-com.example.key" + std::to_string(i), "1");
  text.data = encode_text(keys);
  conn.on_pdu(text);
  std::vector<uint8_t> answer;
  uint32_t cmd_sn = 101;
  for (int round = 0; round < 20; ++round) {
    auto r = env.take();
    ASSERT_EQ(r.size(), 1u);
    ASSERT_LE(r[0].data.size(), 512u);
    answer.insert(answer.end(), r[0].data.begin(), r[0].data.end());
    if (r[0].final_bit()) {
      EXPECT_EQ(r[0].u32(20), kReservedTag);
      break;
    }
    EXPECT_EQ(r[0].bhs[1] & 0x40, 0x40);  // C
    Pdu more;
    more.bhs[0] = opcode::kTextRequest;
    more.bhs[1] = 0x80;
    more.set_u32(16, 5);
    more.set_u32(20, r[0].u32(20));
    more.set_u32(24, cmd_sn++);
    conn.on_pdu(more);
  }
  auto pairs = parse_text(answer);
  ASSERT_TRUE(pairs.ok());
  EXPECT_EQ(pairs->size(), 40u);
  EXPECT_EQ((*pairs)[39].second, "NotUnderstood");
}

TEST_F(IscsiTarget, LogoutDiscardsWhatIsLeftAndClosesAfterTheResponse) {
  normal_login({});
  conn.on_pdu(command(5, 100, read10(0, 1), true, false, 512));
  Pdu logout;
  logout.bhs[0] = 0x40 | opcode::kLogoutRequest;
  logout.bhs[1] = 0x80 | logout::kCloseSession;
  logout.set_u32(16, 6);
  logout.set_u32(24, 101);
  conn.on_pdu(logout);
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].opcode(), opcode::kLogoutResponse);
  EXPECT_EQ(env.closes, 1);
  EXPECT_FALSE(env.violation);
  env.finish(ScsiOutcome{});
  EXPECT_TRUE(env.take().empty());
  EXPECT_EQ(conn.commands_in_fabric(), 0u);
}

TEST_F(IscsiTarget, SnackIsRejected) {
  normal_login({});
  Pdu snack;
  snack.bhs[0] = opcode::kSnackRequest;
  snack.bhs[1] = 0x80;
  conn.on_pdu(snack);
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].opcode(), opcode::kReject);
  EXPECT_EQ(r[0].bhs[2], reject::kCommandNotSupported);
  EXPECT_EQ(r[0].data.size(), 48u);
  EXPECT_EQ(env.closes, 0);
}

TEST_F(IscsiTarget, LocallyRefusedCommands) {
  normal_login({});
  // A LUN in a format the gateway does not address.
  Pdu p = command(1, 100, {0}, false, false, 0);
  p.bhs[8] = 0xc0;
  conn.on_pdu(p);
  auto r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[3], fc::scsi_status::kCheckCondition);
  EXPECT_EQ(r[0].data[2 + 12], 0x25);
  EXPECT_TRUE(env.submitted.empty());
  // A bidirectional command.
  conn.on_pdu(command(2, 101, {0}, true, true, 512));
  r = env.take();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].bhs[3], fc::scsi_status::kCheckCondition);
  EXPECT_EQ(r[0].data[2 + 12], 0x24);
}

}  // namespace
}  // namespace splitpath::sim::iscsi
