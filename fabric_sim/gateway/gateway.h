// A fabric served over NBD in real time: the topology with the gateway's
// initiators added (gateway_setup.h), the fabric built from it, the NBD
// server and the real-time driver that runs both on one thread. Used by
// `splitpath serve` and by the end-to-end tests (which run it on a thread of
// their own and read the disks once it stopped).
//
// In serve mode the topology's own hosts log in and discover but run no job:
// the volumes belong to the NBD clients. Scheduled services and faults happen
// at their simulated times, which real-time mode makes wall-clock times
// counted from the start.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "fabric_sim/gateway/nbd_server.h"
#include "fabric_sim/gateway/realtime_driver.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

struct GatewayOptions {
  uint32_t initiators = 4;  // concurrent NBD connections
  NbdServerOptions nbd;
  FabricOptions fabric;
};

class Gateway {
 public:
  // Builds everything and binds the listener. Fails with a message (bad
  // address, port in use, no virtual volume, too few free switch ports).
  static absl::StatusOr<std::unique_ptr<Gateway>> create(Topology topology,
                                                         const GatewayOptions& options);

  // Runs the fabric in real time until every initiator has found every
  // export, then starts accepting. Fails if that takes longer than `timeout`
  // of wall time (a fabric that cannot log in or zones the volumes away).
  absl::Status bring_up(std::chrono::milliseconds timeout);
  // Runs in real time until request_stop() (or stop() from a handler).
  void run() { driver_.run(); }
  // From any thread.
  void request_stop() { driver_.request_stop(); }

  Fabric& fabric() { return *fabric_; }
  NbdServer& server() { return *server_; }
  const Topology& topology() const { return fabric_->topology(); }
  boost::asio::io_context& io() { return io_; }
  RealTimeDriver& driver() { return driver_; }

 private:
  Gateway(std::unique_ptr<Fabric> fabric, GatewayPlan plan, const GatewayOptions& options);

  boost::asio::io_context io_;
  std::unique_ptr<Fabric> fabric_;
  RealTimeDriver driver_;
  std::unique_ptr<NbdServer> server_;
};

}  // namespace splitpath::sim
