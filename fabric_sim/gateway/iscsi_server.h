// The iSCSI target of `splitpath serve`: a TCP listener (Boost.Asio) whose
// every connection runs the RFC 7143 target state machine (iscsi_target.h).
// One iSCSI target per virtual target that presents a LUN, named after its
// WWPN (iqn.2026-12.io.splitpath:vt-<16 hex digits>), its LUNs the virtual
// target's. A discovery session lists them (SendTargets); a normal session
// to one claims a gateway initiator N_Port (initiator_pool.h) for its
// lifetime and carries each SCSI command, CDB as sent, to the virtual target
// across the switch (scsi_passthrough.h). A malformed PDU or a protocol
// violation drops only that connection, with a logged reason.
//
// Runs on the thread of the RealTimeDriver that owns the io_context and the
// fabric's kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "fabric_sim/gateway/initiator_pool.h"
#include "fabric_sim/gateway/iscsi_target.h"

namespace splitpath::sim {

struct IscsiServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 3260;  // 0: an ephemeral port (see IscsiServer::port())
  iscsi::ConnectionSettings settings;
};

struct IscsiServerStats {
  uint64_t connections = 0;
  uint64_t discovery_sessions = 0;
  uint64_t sessions = 0;        // normal sessions logged in
  uint64_t refused = 0;         // logins refused: no free initiator
  uint64_t login_failures = 0;  // every failed login (refused ones too)
  uint64_t dropped = 0;         // protocol violations
  uint64_t commands = 0;        // SCSI commands answered
  uint64_t not_good = 0;        // of which with a status other than GOOD
};

class IscsiServer {
 public:
  IscsiServer(boost::asio::io_context& io, InitiatorPool& pool, IscsiServerOptions options);
  ~IscsiServer();
  IscsiServer(const IscsiServer&) = delete;
  IscsiServer& operator=(const IscsiServer&) = delete;

  // Binds and listens (connections wait in the backlog until start()).
  absl::Status listen();
  uint16_t port() const { return port_; }
  // Starts accepting connections.
  void start();
  // Closes the listener (open connections stay until their initiators leave).
  void close();

  const std::vector<iscsi::TargetInfo>& targets() const { return targets_; }
  // The virtual target behind targets()[index], with its LUNs (GatewayPlan::targets).
  const GatewayTarget& target_config(size_t index) const { return pool_.plan().targets[index]; }
  const IscsiServerOptions& options() const { return options_; }
  IscsiServerStats& stats() { return stats_; }
  InitiatorPool& pool() { return pool_; }
  uint16_t new_tsih();

 private:
  void accept();

  InitiatorPool& pool_;
  IscsiServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::vector<iscsi::TargetInfo> targets_;
  IscsiServerStats stats_;
  uint64_t next_connection_ = 1;
  uint16_t next_tsih_ = 1;
};

}  // namespace splitpath::sim
