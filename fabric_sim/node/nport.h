// The N_Port side of a node (host or disk): the link to its switch port, fabric
// login (FLOGI), name-server registration, port login and process login with
// peers, control exchanges with timeouts, and the frame plumbing hosts and disks
// share. Hosts and disks add the FCP initiator or target on top.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/net/frame.h"
#include "fabric_sim/net/link.h"
#include "fabric_sim/node/fcp_frames.h"
#include "splitpath/fc/frame_header.h"

namespace splitpath::sim {

// Where a node is in bringing itself onto the fabric.
enum class LoginState : uint8_t {
  kOffline,      // link down or not started
  kFlogi,        // FLOGI sent
  kRegistering,  // name-server PLOGI and registrations in progress
  kReady,        // logged in and registered
};

struct NPortStats {
  uint64_t rx_frames = 0;
  uint64_t tx_frames = 0;
  uint64_t rx_dropped = 0;        // malformed, unexpected, or for an unknown exchange
  uint64_t control_timeouts = 0;  // ELS/CT exchanges that got no answer
  uint64_t login_failures = 0;
};

class NPort : public FramePort {
 public:
  // Roles this port registers with the name server (RFF_ID FC-4 features).
  enum class Role : uint8_t { kInitiator, kTarget };

  NPort(Kernel& kernel, FramePool& pool, std::string name, uint64_t wwpn, uint64_t wwnn, Role role,
        Rng rng);
  ~NPort() override;
  NPort(const NPort&) = delete;
  NPort& operator=(const NPort&) = delete;

  void connect(Link& link, int side);
  // Starts fabric login (now): FLOGI, then name-server registration.
  void start();

  const std::string& name() const { return name_; }
  uint64_t wwpn() const { return wwpn_; }
  uint64_t wwnn() const { return wwnn_; }
  fc::FcId port_id() const { return port_id_; }
  LoginState login_state() const { return login_state_; }
  const NPortStats& port_stats() const { return port_stats_; }
  Link* link() const { return link_; }

  void on_frame(Link& link, int side, Frame* frame) final;
  void on_link_state(Link& link, int side, bool up) final;

 protected:
  // Answer to a control (ELS or CT) request: the reply's header and payload, or
  // `timed_out` with an empty payload.
  struct ControlReply {
    bool timed_out = false;
    fc::FrameHeader header;
    std::span<const uint8_t> payload;
  };
  using ControlCallback = std::function<void(const ControlReply&)>;

  // Sends an ELS (TYPE 01) or CT (TYPE 20) request in a new exchange; `done` runs
  // on the reply or after the control timeout.
  void send_els(fc::FcId d_id, std::span<const uint8_t> payload, ControlCallback done);
  void send_ct(fc::FcId d_id, std::span<const uint8_t> payload, ControlCallback done);
  // PLOGI then PRLI (FCP) with `peer`; `done(true, peer's PRLI service
  // parameters)` once both are accepted. A PLOGI or PRLI that times out is
  // retried from the PLOGI, up to kLoginRetries times (as libfc's remote-port
  // login does): a busy peer (a switch CP answering for a virtual target while
  // it brings up every port) may answer after the control timeout. A reject
  // is final.
  static constexpr uint32_t kLoginRetries = 3;
  void port_login(fc::FcId peer, std::function<void(bool, uint32_t)> done,
                  uint32_t retries = kLoginRetries);
  // LOGO to `peer`: the login with it ends at once (no command is sent to it
  // any more); `done(accepted)` runs on its LS_ACC (true), LS_RJT or after the
  // control timeout.
  void port_logout(fc::FcId peer, std::function<void(bool)> done);
  // Replies to a received ELS request in its exchange.
  void reply_els(const fc::FrameHeader& request, std::span<const uint8_t> payload);

  // Identifies one sequence of FCP_DATA frames within an exchange.
  struct DataSequence {
    fc::FcId d_id;
    bool from_target = false;
    uint16_t ox_id = 0;
    uint16_t rx_id = 0;
    uint8_t seq_id = 0;
  };
  // Sends bytes [offset, end) of an exchange's data as one sequence of FCP_DATA
  // frames of at most the data field size; fill(relative_offset, payload)
  // writes each frame's bytes.
  template <typename Fill>
  void send_data_sequence(const DataSequence& seq, uint32_t offset, uint32_t end, Fill fill) {
    uint16_t seq_cnt = 0;
    while (offset < end) {
      const uint32_t n = std::min<uint32_t>(fc::kDefaultDataFieldSize, end - offset);
      Frame* f = new_frame(fcp_header(fc::rctl::kDeviceDataSolicitedData, seq.d_id, port_id_,
                                      fcp_data_fctl(seq.from_target, offset + n == end), seq.ox_id,
                                      seq.rx_id, seq.seq_id, seq_cnt++, offset),
                           n);
      fill(offset, std::span<uint8_t>(f->payload_ptr(), n));
      send(f);
      offset += n;
    }
  }

  // Allocates a frame and writes `h` into it; the caller fills `payload_size`
  // bytes after the header and calls send().
  Frame* new_frame(const fc::FrameHeader& h, size_t payload_size);
  void send(Frame* frame);
  Kernel& kernel() { return kernel_; }
  FramePool& pool() { return pool_; }
  Rng& rng() { return rng_; }
  // Peers that completed PLOGI and PRLI with this port.
  bool peer_logged_in(fc::FcId peer) const { return prli_peers_.contains(peer.value); }
  // The port name (WWPN) a peer gave in its PLOGI, or in its ACC of ours; 0
  // once it is logged out (LOGO, link down) or if it never logged in. Targets
  // use it for LUN masking, which names initiators by WWPN, not N_Port ID.
  uint64_t peer_wwpn(fc::FcId peer) const {
    auto it = peer_wwpns_.find(peer.value);
    return it == peer_wwpns_.end() ? 0 : it->second;
  }

  // --- Hooks for hosts and disks. ---
  // Logged in and registered with the name server.
  virtual void on_fabric_ready() {}
  // Link lost or login failed: every exchange is gone.
  virtual void on_fabric_lost() {}
  // An FCP frame (TYPE 08) arrived. The callee owns `frame` and frees it.
  virtual void on_fcp_frame(const fc::FrameHeader& h, Frame* frame) = 0;
  // The fabric announced a change (RSCN).
  virtual void on_state_change() {}
  // A BLS ABTS for exchange `ox_id` from `peer` (the frame is already answered).
  virtual void on_abort(fc::FcId /*peer*/, uint16_t /*ox_id*/) {}

  SimTime control_timeout_ns_ = 20 * kNsPerMs;

 private:
  struct PendingControl {
    ControlCallback done;
    uint64_t token = 0;
  };

  void send_control(uint8_t r_ctl, uint8_t type, fc::FcId d_id, std::span<const uint8_t> payload,
                    ControlCallback done);
  void on_control_timeout(uint64_t token);
  void handle_els_request(const fc::FrameHeader& h, std::span<const uint8_t> payload);
  void handle_bls(const fc::FrameHeader& h);
  void release(Frame* frame);
  void fail_login(const char* step);

  // Login steps (fabric_login.cc).
  void send_flogi();
  void register_with_name_server();
  void register_next(int step);

  Kernel& kernel_;
  FramePool& pool_;
  std::string name_;
  uint64_t wwpn_;
  uint64_t wwnn_;
  Role role_;
  Rng rng_;
  Link* link_ = nullptr;
  int side_ = 0;
  fc::FcId port_id_{0};
  LoginState login_state_ = LoginState::kOffline;
  NPortStats port_stats_;
  uint16_t next_control_oxid_ = 0x8000;
  uint64_t next_token_ = 1;
  uint64_t link_epoch_ = 0;
  absl::flat_hash_map<uint16_t, PendingControl> pending_control_;
  absl::flat_hash_set<uint32_t> plogi_peers_;
  absl::flat_hash_set<uint32_t> prli_peers_;
  absl::flat_hash_map<uint32_t, uint64_t> peer_wwpns_;  // plogi_peers_' N_Port ID -> WWPN
};

}  // namespace splitpath::sim
