// What `splitpath serve` adds to a topology so that outside clients can reach
// its virtual volumes: initiator N_Ports (hosts that run no job) on free ports
// of the switch serving the first virtual target, allowed by zoning and LUN
// masking to see every virtual LUN; the list of NBD exports, one per virtual
// volume a virtual target presents; and the list of iSCSI targets, one per
// virtual target that presents a LUN.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

struct GatewayExport {
  std::string name;  // the virtual volume's
  uint64_t target_wwpn = 0;
  uint16_t lun = 0;
  bool read_only = false;
};

// A virtual target as the gateway presents it (an iSCSI target).
struct GatewayTarget {
  std::string name;  // the virtual target's
  uint64_t wwpn = 0;
  struct Lun {
    uint16_t lun = 0;
    std::string volume;
    bool read_only = false;
  };
  std::vector<Lun> luns;  // in the topology's order
};

struct GatewayPlan {
  std::vector<std::string> initiators;  // host names, in the order added
  std::vector<GatewayExport> exports;   // in the topology's volume order
  std::vector<GatewayTarget> targets;   // in the topology's virtual target order
};

// Adds `count` gateway initiators ("gw0", "gw1", ...) to `topology`: WWPNs
// unused by anything in it, on the lowest free ports of the first virtual
// target's switch, in a zone of their own with every virtual target (when the
// topology zones), and added to every virtual LUN's host list that masks.
// With `keep_lun_masking` they are not: a masked LUN is then neither
// exported nor listed. Fails with a message if the topology has no virtual
// target, or the switch has too few free ports.
absl::StatusOr<GatewayPlan> add_gateway_initiators(Topology& topology, uint32_t count,
                                                   bool keep_lun_masking = false);

}  // namespace splitpath::sim
