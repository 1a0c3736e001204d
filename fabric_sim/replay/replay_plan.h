// Where a trace is replayed: the simulated fabric (a Topology) and how the
// trace's N_Port IDs map onto its nodes.
//
// plan_from_trace builds the fabric from the trace alone: one switch "sw0"; each
// initiator a host ("init0", "init1", ...) on its own port, each target a disk
// ("tgt0", ...) on its own port with the LUNs the trace addresses, each sized
// from the trace's READ CAPACITY data (block size and capacity) or, without it,
// to cover the largest LBA + length touched (at least kDefaultLunBlocks blocks
// of 512 bytes), plus the LUNs its REPORT LUNS answers list; no zoning, but the
// LUN masking those answers show: when each initiator with an answer got a
// whole list, a LUN listed to some and not to others is masked to them (and to
// initiators of the target with no answer in the trace); other LUNs, and every
// LUN of a target without REPORT LUNS data, are unmasked. Nodes keep the
// trace's WWPNs; a port whose WWPN the trace does not show gets one made from
// its N_Port ID (initiators 10:00:00:00:00:II:II:II, targets
// 50:00:00:00:00:II:II:II).
//
// plan_onto maps the trace onto a given topology: entries of its `replay`
// section first (topology.h, README in fabric_sim/topology/), then by WWPN (a
// trace initiator whose WWPN is a host's, a trace target whose WWPN is a disk's
// or a virtual target's). Ports that map to nothing are not replayed; each gets
// a note saying so and how many commands that leaves out.
//
// In both, every host's own job is disabled by the replay (its workload only
// sizes its command slots: queue_depth is raised to the trace's concurrency).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabric_sim/replay/trace_commands.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim::replay {

inline constexpr uint64_t kDefaultLunBlocks = 2097152;  // 1 GiB of 512-byte blocks

struct PlannedTarget {
  std::string name;  // disk or virtual target
  uint64_t wwpn = 0;
  std::map<uint16_t, uint16_t> luns;  // trace LUN -> simulated LUN; absent: the same
  uint16_t lun(uint16_t trace_lun) const {
    auto it = luns.find(trace_lun);
    return it == luns.end() ? trace_lun : it->second;
  }
};

struct ReplayPlan {
  Topology topology;
  std::map<uint32_t, std::string> hosts;      // trace initiator N_Port ID -> host name
  std::map<uint32_t, PlannedTarget> targets;  // trace target N_Port ID -> simulated target
  std::vector<std::string> notes;             // ports left out, and why
  bool built_from_trace = false;
};

// Fails only when the trace has more ports than one switch holds (256).
absl::StatusOr<ReplayPlan> plan_from_trace(const TraceCommandStream& stream, uint64_t seed);
// Never fails: unmapped ports are noted.
ReplayPlan plan_onto(const TraceCommandStream& stream, Topology topology);

// "01.0e.01" for a trace N_Port ID.
std::string format_port_id(fc::FcId id);
// Per trace (initiator, target, LUN): the most commands in flight at once in the
// trace (at least 1); answered commands count from FCP_CMND to FCP_RSP.
std::map<std::tuple<uint32_t, uint32_t, uint16_t>, uint32_t> trace_concurrency(
    const TraceCommandStream& stream);

}  // namespace splitpath::sim::replay
