// A fabric described as data: switches, the links between them, hosts, disks,
// zones and a fault schedule. `splitpath run` reads it from YAML (see
// topology_yaml.h) or uses the embedded default scenario.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/net/link.h"

namespace splitpath::sim {

// Where a node or an ISL end plugs in: switch name and port index.
struct PortRef {
  std::string switch_name;
  uint32_t port = 0;
};

struct SwitchConfig {
  std::string name;
  uint8_t domain = 1;        // 1..239
  uint32_t ports = 16;       // 1..256
  SimTime latency_ns = 700;  // ingress to egress, per frame
};

// An inter-switch link (ISL).
struct IslConfig {
  PortRef a;
  PortRef b;
  LinkParams link;
};

// The link from a node (host or disk) to its switch port.
struct AttachConfig {
  PortRef port;
  LinkParams link;
};

struct LunConfig {
  uint16_t lun = 0;
  uint64_t blocks = 0;        // capacity in logical blocks
  uint32_t block_size = 512;  // 512 or 4096
};

struct DiskConfig {
  std::string name;
  uint64_t wwpn = 0;
  uint64_t wwnn = 0;  // 0: derived from wwpn
  AttachConfig attach;
  std::vector<LunConfig> luns;          // at least one
  SimTime latency_ns = 100 * kNsPerUs;  // per command, before data moves
  uint64_t bandwidth_mb_s = 1000;       // media transfer rate
  uint32_t queue_depth = 64;            // commands in service at once; more get TASK SET FULL
};

enum class AccessPattern : uint8_t { kRandom, kSequential };

// An fio-like job each host runs against every LUN it discovers.
struct WorkloadConfig {
  uint32_t read_percent = 70;  // 0..100
  uint32_t block_size = 4096;  // bytes, a multiple of the LUN block size
  uint32_t queue_depth = 8;    // outstanding commands per LUN
  AccessPattern pattern = AccessPattern::kRandom;
  uint64_t lba_start = 0;  // region of every LUN the job touches
  uint64_t lba_count = 0;  // 0: to the end of the LUN
  double rate_iops = 0;    // 0: closed loop; otherwise Poisson arrivals at this rate per LUN
  SimTime io_timeout_ns = 2 * kNsPerSec;
};

struct HostConfig {
  std::string name;
  uint64_t wwpn = 0;
  uint64_t wwnn = 0;  // 0: derived from wwpn
  AttachConfig attach;
  WorkloadConfig workload;
  SimTime start_ns = 0;  // when the host brings its link up and logs in
};

// WWPN zoning: ports may talk when they share a zone. Members name hosts or
// disks (or give a WWPN literally).
struct ZoneConfig {
  std::string name;
  std::vector<uint64_t> members;  // WWPNs
};

enum class FaultKind : uint8_t {
  kMediumError,  // disk `target`, LUN `lun`: LBAs [lba, lba+count) fail with MEDIUM ERROR
  kClearMediumErrors,
  kDiskOffline,  // disk stops answering (its port goes dark)
  kDiskOnline,
  kDiskDelay,  // disk adds `delay_ns` to every command from now on
  kLinkDown,   // the link of node `target`, or the ISL named "sw:port"
  kLinkUp,
};

struct FaultConfig {
  SimTime at_ns = 0;
  FaultKind kind = FaultKind::kMediumError;
  std::string target;  // disk/host name, or "switch:port" for a link
  uint16_t lun = 0;
  uint64_t lba = 0;
  uint64_t count = 1;
  SimTime delay_ns = 0;
};

struct Topology {
  std::string source;  // file name, or "<default>"
  uint64_t seed = 1;
  SimTime duration_ns = 200 * kNsPerMs;
  std::vector<SwitchConfig> switches;
  std::vector<IslConfig> isls;
  std::vector<HostConfig> hosts;
  std::vector<DiskConfig> disks;
  std::vector<ZoneConfig> zones;  // empty: every port may talk to every port
  std::vector<FaultConfig> faults;
};

}  // namespace splitpath::sim
