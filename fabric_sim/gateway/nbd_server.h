// The NBD server of `splitpath serve`: a TCP listener (Boost.Asio) whose every
// connection negotiates an export (fixed newstyle) and then becomes a
// simulated initiator: it claims one of the gateway's initiator N_Ports
// (initiator_pool.h) and carries each request across the switch as SCSI
// (scsi_bridge.h). A malformed request or a protocol violation drops only
// that connection, with a logged reason.
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

namespace splitpath::sim {

struct NbdServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 10809;  // 0: an ephemeral port (see NbdServer::port())
  // The largest READ/WRITE a client may send (NBD_INFO_BLOCK_SIZE maximum).
  uint32_t max_block = 1u << 20;
};

struct NbdServerStats {
  uint64_t connections = 0;
  uint64_t refused = 0;  // no free initiator
  uint64_t dropped = 0;  // protocol violations
  uint64_t requests = 0;
  uint64_t errors = 0;  // requests answered with an error
};

class NbdServer {
 public:
  NbdServer(boost::asio::io_context& io, InitiatorPool& pool, NbdServerOptions options);
  ~NbdServer();
  NbdServer(const NbdServer&) = delete;
  NbdServer& operator=(const NbdServer&) = delete;

  // Binds and listens (connections wait in the backlog until start()).
  absl::Status listen();
  uint16_t port() const { return port_; }
  // Starts accepting connections.
  void start();
  // Closes the listener (open connections stay until their clients leave).
  void close();

  const GatewayPlan& plan() const { return pool_.plan(); }
  const NbdServerOptions& options() const { return options_; }
  NbdServerStats& stats() { return stats_; }
  InitiatorPool& pool() { return pool_; }

 private:
  void accept();

  InitiatorPool& pool_;
  NbdServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  NbdServerStats stats_;
  uint64_t next_connection_ = 1;
};

}  // namespace splitpath::sim
