// What a switch's virtualization did during a run, for the report: per port
// FP the figures its FP reports (FPQueryStatistics) and the state of its cached
// Rmap, and the CP's own counters.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "cp/control_path.h"
#include "splitpath/fpapi.h"

namespace splitpath::sim {

struct PortFpStats {
  uint32_t port = 0;
  uint64_t commands = 0;      // FCP_CMNDs to virtual targets entering this port
  uint64_t fp_completed = 0;  // host I/Os the FP completed alone (fp_hits)
  uint64_t cp_completed = 0;  // host I/Os completed by the CP (FPQueueIOComplete)
  uint64_t mapping_misses = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
  uint64_t transparent_frames = 0;
  std::array<uint64_t, fpapi::kFaultKinds> faults{};  // CpQueueIO by fault kind
  uint32_t cached_extents = 0;
  uint32_t extent_capacity = 0;
  uint64_t evictions = 0;
};

struct SwitchVirtualizationStats {
  bool enabled = false;  // the switch serves virtual targets
  std::vector<PortFpStats> ports;
  cp::CpStats cp;
};

}  // namespace splitpath::sim
