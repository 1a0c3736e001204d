// Test support for the CP: a fake CpEnvironment (virtual time, scheduled
// functions run in time order, everything the CP sends recorded) and a harness
// that plays the FPs and the disks around one ControlPath.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "cp/control_path.h"
#include "cp/target/els_responder.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi_cdb_encode.h"
#include "splitpath/fpapi.h"

namespace splitpath::cp::testing {

struct SentMessage {
  uint64_t seq = 0;  // order among messages and frames
  uint64_t at_ns = 0;
  uint32_t port = 0;
  fpapi::MsgType type{};
  std::vector<uint8_t> payload;
};

struct SentFrame {
  uint64_t seq = 0;
  uint64_t at_ns = 0;
  std::vector<uint8_t> bytes;
};

class FakeEnv : public CpEnvironment {
 public:
  explicit FakeEnv(uint32_t ports, uint8_t domain = 5) : ports_(ports), domain_(domain) {}

  uint64_t now_ns() const override { return now_; }
  void schedule(uint64_t delay_ns, std::function<void()> fn) override {
    events_.push(Event{now_ + delay_ns, next_event_++, std::move(fn)});
  }
  uint8_t domain() const override { return domain_; }
  uint32_t fp_port_count() const override { return ports_; }
  uint32_t virtual_initiator(uint32_t port) const override {
    return (uint32_t{domain_} << 16) | (port << 8) | 0xFF;
  }
  void send_to_fp(uint32_t port, fpapi::MsgType type, std::span<const uint8_t> payload) override {
    EXPECT_LE(payload.size(), fpapi::kMaxMessageSize);
    messages.push_back(SentMessage{seq_++, now_, port, type,
                                   std::vector<uint8_t>(payload.begin(), payload.end())});
  }
  void send_frame(std::span<const uint8_t> frame) override {
    frames.push_back(SentFrame{seq_++, now_, std::vector<uint8_t>(frame.begin(), frame.end())});
  }
  void register_virtual_target(uint32_t port_id, uint64_t wwpn, uint64_t wwnn) override {
    registered.emplace_back(port_id, wwpn, wwnn);
  }
  void deregister_virtual_target(uint32_t port_id) override { deregistered.push_back(port_id); }
  std::optional<uint32_t> find_port_id(uint64_t wwpn) const override {
    auto it = name_server.find(wwpn);
    if (it == name_server.end()) return std::nullopt;
    return it->second;
  }

  // Runs the events due within `ns` from now, in (time, order), and advances
  // the clock by `ns`.
  void run_for(uint64_t ns) {
    const uint64_t end = now_ + ns;
    while (!events_.empty() && events_.top().at <= end) {
      Event e = events_.top();
      events_.pop();
      now_ = e.at;
      e.fn();
    }
    now_ = end;
  }

  std::vector<SentMessage> messages;
  std::vector<SentFrame> frames;
  std::vector<std::tuple<uint32_t, uint64_t, uint64_t>> registered;
  std::vector<uint32_t> deregistered;
  std::map<uint64_t, uint32_t> name_server;

 private:
  struct Event {
    uint64_t at;
    uint64_t order;
    std::function<void()> fn;
    bool operator>(const Event& o) const { return std::tie(at, order) > std::tie(o.at, o.order); }
  };
  uint32_t ports_;
  uint8_t domain_;
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  uint64_t next_event_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
};

// Decoded copies of what the CP sent.
template <class M>
std::vector<M> decoded(const std::vector<SentMessage>& all, uint32_t port, fpapi::MsgType type,
                       std::vector<uint64_t>* seqs = nullptr) {
  std::vector<M> out;
  for (const SentMessage& m : all) {
    if (m.port != port || m.type != type) continue;
    M msg;
    EXPECT_TRUE(fpapi::decode(m.payload, &msg)) << fpapi::msg_type_name(type);
    out.push_back(msg);
    if (seqs) seqs->push_back(m.seq);
  }
  return out;
}

inline constexpr uint64_t kDiskA = 0x500A000000000001;
inline constexpr uint64_t kDiskB = 0x500B000000000002;
inline constexpr uint32_t kDiskAId = 0x010100;
inline constexpr uint32_t kDiskBId = 0x010200;
inline constexpr uint64_t kHost1 = 0x2100000000000011;
inline constexpr uint64_t kHost2 = 0x2100000000000022;
inline constexpr uint32_t kHost1Id = 0x020100;
inline constexpr uint32_t kHost2Id = 0x020200;
inline constexpr uint64_t kTargetWwpn = 0x5005350000000001;
inline constexpr uint32_t kMaxTransfer = 64 * 1024;  // 128 blocks of 512

// Volumes of the harness:
//   vol0: VSEG 0 = 1000 blocks on disk A LUN 1 from LBA 5000, extents of 100;
//         VSEG 1 = 500 blocks on disk B LUN 2 from LBA 0, one extent.
//   vol1: VSEG 2 = 200 blocks on disk B LUN 2 from LBA 10000, FoW.
// Target "t0": LUN 0 -> vol0 (any initiator), LUN 1 -> vol1 (host 1 only),
// LUN 2 -> vol1 read-only.
class CpHarness : public ::testing::Test {
 protected:
  static constexpr uint32_t kPorts = 2;
  bool lazy_logins = false;
  // Volumes and targets a test defines after the standard ones.
  std::function<void(ControlPath&)> extra_definitions;

  CpHarness() : env(kPorts) {
    env.name_server[kDiskA] = kDiskAId;
    env.name_server[kDiskB] = kDiskBId;
  }

  // The harness logs every port in at once (eager_vi_logins) unless a test
  // sets lazy_logins to see logins made on demand.
  void define(const CpConfig& config = CpConfig{}) {
    CpConfig c = config;
    c.eager_vi_logins = c.eager_vi_logins || !lazy_logins;
    cp = std::make_unique<ControlPath>(env, c);
    VolumeDef v0;
    v0.name = "vol0";
    v0.vsegs = {VsegDef{1000, kDiskA, 1, 5000, 100, 0}, VsegDef{500, kDiskB, 2, 0, 0, 0}};
    VolumeDef v1;
    v1.name = "vol1";
    v1.vsegs = {VsegDef{200, kDiskB, 2, 10000, 0, map::redirect_flags::kFaultOnWrite}};
    std::string error;
    ASSERT_TRUE(cp->add_volume(v0, &error)) << error;
    ASSERT_TRUE(cp->add_volume(v1, &error)) << error;
    VirtualTargetDef t;
    t.name = "t0";
    t.wwpn = kTargetWwpn;
    t.luns = {LunDef{0, "vol0", {}, false}, LunDef{1, "vol1", {kHost1}, false},
              LunDef{2, "vol1", {}, true}};
    ASSERT_TRUE(cp->add_target(t, &error)) << error;
    if (extra_definitions) extra_definitions(*cp);
  }

  // define(), start(), discover replies, every login accepted; then forgets
  // what was sent.
  void bring_up(const CpConfig& config = CpConfig{}) {
    define(config);
    cp->start();
    for (uint32_t p = 0; p < kPorts; ++p) {
      fpapi::FpDiscoverReply r;
      r.port_index = p;
      r.virtual_initiator = env.virtual_initiator(p);
      r.max_transfer_bytes = kMaxTransfer;
      deliver(p, r);
    }
    accept_logins();
    accept_logins();
    clear();
  }

  void clear() {
    env.messages.clear();
    env.frames.clear();
    answered_frames_ = 0;
  }

  template <class M>
  void deliver(uint32_t port, const M& msg, uint64_t run_ns = 1'000'000) {
    deliver_as(port, fpapi::TypeOf<M>::value, msg, run_ns);
  }
  template <class M>
  void deliver_as(uint32_t port, fpapi::MsgType type, const M& msg, uint64_t run_ns = 1'000'000) {
    std::array<uint8_t, 1024> buf{};
    const size_t n = fpapi::encode(msg, buf);
    ASSERT_GT(n, 0u);
    cp->on_fp_message(port, static_cast<uint32_t>(type), std::span<const uint8_t>(buf.data(), n));
    env.run_for(run_ns);
  }

  // A frame as an FP hands it to the CP.
  void deliver_frame(uint32_t port, std::span<const uint8_t> frame, uint64_t run_ns = 1'000'000) {
    fpapi::CpFrame f;
    f.length = static_cast<uint32_t>(frame.size());
    f.frame.assign(frame);
    deliver(port, f, run_ns);
  }

  // Plays the disks: answers every unanswered PLOGI/PRLI from a virtual
  // initiator to a disk with an LS_ACC, delivered to that VI's port.
  void accept_logins(const std::optional<uint32_t>& only_disk = std::nullopt) {
    std::vector<SentFrame> pending;
    for (size_t i = answered_frames_; i < env.frames.size(); ++i)
      pending.push_back(env.frames[i]);
    answered_frames_ = env.frames.size();
    for (const SentFrame& f : pending) {
      auto h = fc::decode_frame_header(f.bytes);
      if (!h.ok() || h->r_ctl != fc::rctl::kElsRequest) continue;
      const uint32_t disk = h->d_id.value;
      if (only_disk && disk != *only_disk) continue;
      uint64_t wwpn = 0;
      for (const auto& [w, id] : env.name_server)
        if (id == disk) wwpn = w;
      if (wwpn == 0) continue;
      ElsAnswer a = answer_els(f.bytes, wwpn, wwpn + 1);
      for (uint32_t p = 0; p < kPorts; ++p) {
        if (env.virtual_initiator(p) == h->s_id.value) deliver_frame(p, a.reply_frame);
      }
    }
  }

  std::vector<uint8_t> host_plogi(uint32_t host_id, uint64_t host_wwpn, uint16_t ox_id) {
    return make_plogi(host_id, cp->target_port_id("t0"), ox_id, host_wwpn, host_wwpn + 1);
  }

  static fpapi::UpstreamIo make_io(uint32_t utag, uint32_t target, uint16_t lun,
                                   const fc::ScsiCommand& cmd, uint32_t data_length,
                                   uint32_t initiator = kHost1Id, uint16_t ox_id = 0x100) {
    fpapi::UpstreamIo io;
    io.utag = utag;
    io.initiator = initiator;
    io.target_id = target;
    io.ox_id = ox_id;
    io.lun = lun;
    io.data_length = data_length;
    io.cdb_length = cmd.cdb_length;
    (void)fc::encode_cdb(cmd, io.cdb);
    if (cmd.kind == fc::ScsiCommandKind::kWrite) {
      io.write_data = 1;
    } else if (data_length) {
      io.read_data = 1;
    }
    return io;
  }

  void queue_io(uint32_t port, fpapi::FaultKind reason, const fpapi::UpstreamIo& io) {
    fpapi::CpQueueIO q;
    q.reason = reason;
    q.io = io;
    deliver(port, q);
  }

  template <class M>
  std::vector<M> sent(uint32_t port, fpapi::MsgType type, std::vector<uint64_t>* seqs = nullptr) {
    return decoded<M>(env.messages, port, type, seqs);
  }
  template <class M>
  std::vector<M> sent(uint32_t port, std::vector<uint64_t>* seqs = nullptr) {
    return decoded<M>(env.messages, port, fpapi::TypeOf<M>::value, seqs);
  }

  uint32_t target_id() const { return cp->target_port_id("t0"); }

  FakeEnv env;
  std::unique_ptr<ControlPath> cp;

 private:
  size_t answered_frames_ = 0;
};

}  // namespace splitpath::cp::testing
