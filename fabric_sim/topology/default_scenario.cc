#include "fabric_sim/topology/default_scenario.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "fabric_sim/topology/topology_yaml.h"

namespace splitpath::sim {

const char* default_topology_yaml() {
  return R"yaml(# The default Splitpath scenario: one switch, two hosts, four disks.
# host0 sees disk0..disk2, host1 sees disk2 and disk3; both write to disk2, in
# disjoint LBA regions.
seed: 1
duration: 200ms

switches:
  - {name: sw0, domain: 1, ports: 16, latency: 700ns}

disks:
  - name: disk0
    wwpn: "50:00:00:00:00:00:01:00"
    port: sw0:4
    speed: 32G
    luns: [{lun: 0, size: 1TiB, block_size: 512}]
    latency: 100us
    bandwidth: 1000MB/s
    queue_depth: 64
  - name: disk1
    wwpn: "50:00:00:00:00:00:02:00"
    port: sw0:5
    speed: 32G
    luns: [{lun: 0, size: 1TiB, block_size: 512}]
    latency: 100us
    bandwidth: 1000MB/s
    queue_depth: 64
  - name: disk2
    wwpn: "50:00:00:00:00:00:03:00"
    port: sw0:6
    speed: 32G
    luns: [{lun: 0, size: 1TiB, block_size: 512}]
    latency: 100us
    bandwidth: 1000MB/s
    queue_depth: 64
  - name: disk3
    wwpn: "50:00:00:00:00:00:04:00"
    port: sw0:7
    speed: 32G
    luns: [{lun: 0, size: 1TiB, block_size: 512}]
    latency: 100us
    bandwidth: 1000MB/s
    queue_depth: 64

hosts:
  - name: host0
    wwpn: "10:00:00:00:00:00:00:01"
    port: sw0:0
    speed: 32G
    workload:
      read_percent: 70
      block_size: 4KiB
      queue_depth: 8
      pattern: random
      lba_start: 0
      lba_count: 1048576
  - name: host1
    wwpn: "10:00:00:00:00:00:00:02"
    port: sw0:1
    speed: 32G
    workload:
      read_percent: 30
      block_size: 64KiB
      queue_depth: 4
      pattern: sequential
      lba_start: 1073741824      # 2^30, clear of host0's region
      lba_count: 1048576

zones:
  - {name: zone_a, members: [host0, disk0, disk1, disk2]}
  - {name: zone_b, members: [host1, disk2, disk3]}
)yaml";
}

Topology default_topology() {
  absl::StatusOr<Topology> t = parse_topology_yaml(default_topology_yaml(), "<default>");
  if (!t.ok()) {
    // Only an edit to the text above can cause this; the tests parse it.
    std::fprintf(stderr, "the built-in topology is invalid: %s\n",
                 std::string(t.status().message()).c_str());
    std::abort();
  }
  return *std::move(t);
}

}  // namespace splitpath::sim
