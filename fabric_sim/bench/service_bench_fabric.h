// What the data services' benches (migration_bench, snapshot_bench) share:
// one switch with a host on port 0, disk0 and disk1 on ports 1 and 2, vol0 on
// disk0 exposed as LUN 0 of vt0 to the host only; a 4 KiB pattern per slot;
// the bring-up wait; the CP's info logs kept quiet while a bench runs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cp/control_path.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/topology.h"
#include "spdlog/spdlog.h"

namespace splitpath::sim {

inline constexpr uint32_t kServiceBenchBlockSize = 512;

struct ServiceBenchFabric {
  std::string source;  // the topology's name, e.g. "<migration bench>"
  uint64_t seed = 1;
  SimTime limit_ns = 0;
  uint64_t host_wwpn = 0;
  uint64_t target_wwpn = 0;
  uint64_t disk_wwpn = 0;  // disk0; disk1 is + 1
  std::array<uint64_t, 2> disk_blocks{};
  uint64_t vseg_blocks = 0;  // vol0: one VSEG, disk0 from block 0
};

// The topology, not validated yet: a bench adds its volumes and LUNs first.
Topology service_bench_topology(const ServiceBenchFabric& f);

// 4 KiB, different for every slot and `salt`.
std::vector<uint8_t> slot_pattern(uint64_t slot, uint64_t salt);

cp::ControlPath& bench_control_path(Fabric& f);

// Stops the host's own job and runs until it has found `luns` LUNs and the
// CP's virtual initiators have logged into the disks they want, so no
// measured I/O pays for a login; `bench` names the bench in the error.
absl::Status bring_up_bench_host(Fabric& f, size_t luns, SimTime step, const std::string& bench);

// The CP logs each service's start and end at info: quiet while a bench
// runs (warnings and errors still show).
class QuietInfo {
 public:
  QuietInfo() : level_(spdlog::get_level()) {
    if (level_ < spdlog::level::warn) spdlog::set_level(spdlog::level::warn);
  }
  ~QuietInfo() { spdlog::set_level(level_); }
  QuietInfo(const QuietInfo&) = delete;
  QuietInfo& operator=(const QuietInfo&) = delete;

 private:
  spdlog::level::level_enum level_;
};

}  // namespace splitpath::sim
