// The scenario `splitpath run` uses when given no topology file: one switch, two
// hosts and four disks, zoned so that disk2 is shared by both hosts.
#pragma once

#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

// The scenario as YAML; it doubles as an example of the file format.
const char* default_topology_yaml();

// default_topology_yaml(), parsed (source "<default>").
Topology default_topology();

}  // namespace splitpath::sim
