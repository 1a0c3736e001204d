// The rules a topology must follow beyond the types of its fields: names and
// addresses are unique, every reference resolves, values are in range. The YAML
// reader applies them after parsing; code that builds a Topology directly can call
// validate_topology() itself.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fabric_sim/topology/field_lines.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

inline constexpr uint64_t kMinDomain = 1;
inline constexpr uint64_t kMaxDomain = 239;
inline constexpr uint64_t kMaxSwitchPorts = 256;
inline constexpr uint64_t kMaxQueueDepth = 1024;
inline constexpr size_t kMaxDiskPorts = 4;    // N_Ports of one multi-ported disk
inline constexpr uint64_t kMaxRetries = 100;  // a host's retries of one command
inline constexpr uint64_t kMaxLun = 16383;    // SAM flat LUN space
inline constexpr uint64_t kMaxBbCredit = 65535;
inline constexpr uint64_t kMaxIoBytes = 16 << 20;
inline constexpr uint64_t kIoSizeUnit = 512;
inline constexpr uint64_t kMaxBandwidthMbS = 1'000'000;
inline constexpr double kMaxRateIops = 1e9;
inline constexpr size_t kMaxNameLength = 64;
// Virtualization.
inline constexpr uint64_t kMinFpTableMemory = 64 << 10;  // SP_HAL_MIN_TABLE_MEM_BYTES
inline constexpr uint64_t kMaxFpTableMemory = uint64_t{1}
                                              << 30;  // per port: the simulator allocates it
inline constexpr uint64_t kMaxTransferUnit = 512;
// Virtual targets per switch: the N_Port IDs D.FF.80 - D.FF.FE of its address
// plan (fabric_sim/switch/virtual_addresses.h).
inline constexpr uint64_t kMaxVirtualTargetsPerSwitch = 127;
inline constexpr const char* kRmapPolicies[] = {"lru", "random", "sequential"};

// A letter, then letters, digits, '_', '-' or '.', at most kMaxNameLength in all.
// Names cannot contain ':' so they never look like a WWPN or a "switch:port".
bool is_valid_name(const std::string& name);
std::string name_rule_message(const std::string& got);

// "sw0:15" (the port is decimal, below kMaxSwitchPorts). Whether the switch
// exists and has that port is validate_topology()'s business.
absl::StatusOr<PortRef> parse_port_ref(const std::string& text);
std::string format_port_ref(const PortRef& ref);

// The first rule `topology` breaks, as "SOURCE:LINE: field 'PATH': MESSAGE" where
// SOURCE is topology.source and LINE comes from `lines` (omitted without it).
absl::Status validate_topology(const Topology& topology, const FieldLines* lines = nullptr);

}  // namespace splitpath::sim
