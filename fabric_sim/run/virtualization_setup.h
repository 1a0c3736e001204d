// From a topology's volumes and virtual targets to what each switch's CP is
// given: the CP's metadata in its own terms (disks by WWPN, hosts by WWPN)
// plus the FP and CP settings.
#pragma once

#include <map>
#include <string>

#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

// One setup per switch that serves a volume or a virtual target, by switch
// name. The topology is already validated (names resolve).
std::map<std::string, VirtualizationSetup> virtualization_setups(const Topology& topology);

// VSEG `seg` of volume `volume` as the CP defines it (disks by WWPN; a VSEG
// on a multi-ported disk gets its other ports as alternate paths).
cp::VsegDef vseg_def_of(const Topology& topology, const VolumeConfig& volume,
                        const VsegConfig& seg);

}  // namespace splitpath::sim
