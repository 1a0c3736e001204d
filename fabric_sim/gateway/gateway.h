// A fabric served in real time over NBD and/or iSCSI: the topology with the
// gateway's initiators added (gateway_setup.h), the fabric built from it,
// the initiator pool both protocols claim from (initiator_pool.h), the NBD
// server and the iSCSI target, and the real-time driver that runs them all
// on one thread. Used by `splitpath serve` and by the end-to-end tests (which
// run it on a thread of their own and read the disks once it stopped).
//
// In serve mode the topology's own hosts log in and discover but run no job:
// the volumes belong to the outside clients. Scheduled services and faults
// happen at their simulated times, which real-time mode makes wall-clock
// times counted from the start.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "fabric_sim/gateway/initiator_pool.h"
#include "fabric_sim/gateway/iscsi_server.h"
#include "fabric_sim/gateway/nbd_server.h"
#include "fabric_sim/gateway/realtime_driver.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

struct GatewayOptions {
  // Gateway initiator N_Ports: the NBD connections and iSCSI sessions served
  // at once, both protocols together.
  uint32_t initiators = 4;
  // Leave the topology's LUN masking as it is: a LUN masked to named
  // initiators stays hidden from the gateway's, so no client reaches it.
  // Otherwise the gateway initiators join every masking list.
  bool keep_lun_masking = false;
  std::optional<NbdServerOptions> nbd = NbdServerOptions{};  // nullopt: no NBD
  std::optional<IscsiServerOptions> iscsi;                   // nullopt: no iSCSI
  FabricOptions fabric;
};

class Gateway {
 public:
  // Builds everything and binds the listeners. Fails with a message (bad
  // address, port in use, no virtual volume, too few free switch ports, no
  // protocol to serve).
  static absl::StatusOr<std::unique_ptr<Gateway>> create(Topology topology,
                                                         const GatewayOptions& options);

  // Runs the fabric in real time until every initiator has found every
  // export and virtual target, then starts accepting. Fails if that takes
  // longer than `timeout` of wall time (a fabric that cannot log in or zones
  // the volumes away).
  absl::Status bring_up(std::chrono::milliseconds timeout);
  // Runs in real time until request_stop() (or stop() from a handler).
  void run() { driver_.run(); }
  // From any thread.
  void request_stop() { driver_.request_stop(); }

  Fabric& fabric() { return *fabric_; }
  InitiatorPool& pool() { return *pool_; }
  bool has_nbd() const { return nbd_ != nullptr; }
  bool has_iscsi() const { return iscsi_ != nullptr; }
  // Preconditions: has_nbd(), has_iscsi().
  NbdServer& nbd() { return *nbd_; }
  IscsiServer& iscsi() { return *iscsi_; }
  const Topology& topology() const { return fabric_->topology(); }
  boost::asio::io_context& io() { return io_; }
  RealTimeDriver& driver() { return driver_; }

 private:
  Gateway(std::unique_ptr<Fabric> fabric, GatewayPlan plan, const GatewayOptions& options);

  // Destroyed last: the connections its handlers (and the fabric's pending
  // SCSI callbacks) keep alive own sockets on it.
  boost::asio::io_context io_;
  std::unique_ptr<Fabric> fabric_;
  RealTimeDriver driver_;
  std::unique_ptr<InitiatorPool> pool_;
  std::unique_ptr<NbdServer> nbd_;
  std::unique_ptr<IscsiServer> iscsi_;
};

}  // namespace splitpath::sim
