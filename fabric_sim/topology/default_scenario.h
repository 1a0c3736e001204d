// The scenario `splitpath run` uses when given no topology file: one switch, two
// hosts and four disks; the switch serves two virtual volumes over disk0..disk2
// through one virtual target, with LUN masking (host0 sees both volumes, host1
// only vol1, which both share) and zoning that keeps the hosts off the disks.
#pragma once

#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

// The scenario as YAML; it doubles as an example of the file format.
const char* default_topology_yaml();

// default_topology_yaml(), parsed (source "<default>").
Topology default_topology();

}  // namespace splitpath::sim
