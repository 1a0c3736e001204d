// The gateway's initiator N_Ports (gateway_setup.h), shared by every protocol
// `splitpath serve` speaks: an NBD connection or an iSCSI session claims a
// free one for its lifetime and gives it back once closed and its commands
// ended. Also answers what an initiator sees: an export's LUN through it, and
// whether every initiator has found every export and logged in to every
// virtual target (the gateway then starts serving).
//
// Runs on the thread of the RealTimeDriver that owns the fabric's kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fabric_sim/gateway/gateway_setup.h"
#include "fabric_sim/node/host.h"

namespace splitpath::sim {

class Fabric;
class Kernel;

// An export as a connection sees it, through its initiator.
struct ResolvedExport {
  const GatewayExport* config = nullptr;
  DiscoveredLun lun;
  uint64_t size_bytes = 0;
};

class InitiatorPool {
 public:
  InitiatorPool(Fabric& fabric, GatewayPlan plan);

  // Fails if a planned initiator is missing from the fabric.
  absl::Status check() const;
  // Every initiator has found every export's LUN and every LUN of every
  // virtual target, and is logged in to every virtual target.
  bool ready() const;

  // A free initiator's index, marked busy; nullopt if all are in use.
  std::optional<size_t> claim();
  void release(size_t index);
  size_t size() const { return hosts_.size(); }
  size_t busy() const;

  Host& host(size_t index) const { return *hosts_[index]; }
  const std::string& name(size_t index) const { return plan_.initiators[index]; }
  const GatewayPlan& plan() const { return plan_; }
  Fabric& fabric() { return fabric_; }
  Kernel& kernel();

  // The export named `name` through initiator `index`; nullopt if unknown or
  // not (yet) found by that initiator.
  std::optional<ResolvedExport> resolve(size_t index, const std::string& name) const;
  // The LUN `lun` of the virtual target `target_wwpn` as initiator `index`
  // found it; nullopt if it did not.
  std::optional<DiscoveredLun> lun(size_t index, uint64_t target_wwpn, uint16_t lun) const;

 private:
  Fabric& fabric_;
  GatewayPlan plan_;
  std::vector<Host*> hosts_;
  std::vector<bool> busy_;
};

}  // namespace splitpath::sim
