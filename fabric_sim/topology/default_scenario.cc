#include "fabric_sim/topology/default_scenario.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "fabric_sim/topology/topology_yaml.h"

namespace splitpath::sim {

const char* default_topology_yaml() {
  return R"yaml(# The default Splitpath scenario: one switch, two hosts, four disks, and two
# virtual volumes the switch serves (the split path: the port FPs move the I/O,
# the CP manages them).
# - vol0 is one LV over two disks (figure 10): its first half is disk0, its
#   second half disk1. vol1 lies on disk2, its map cut into 4096-block extents
#   that the FPs cache on demand.
# - The virtual target vt0 presents vol0 as LUN 0, to host0 only (LUN
#   masking), and vol1 as LUN 1, to both hosts: host0 sees two LUNs, host1
#   one. Both write vol1, in disjoint LBA regions.
# - Zoning pairs each host with vt0 only: the hosts cannot reach the disks
#   behind the volumes (the switch's own virtual initiators do). disk3 is a
#   spare in no zone and no volume.
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
      lba_count: 1048576         # all of vol0 (both VSEGs); the first half of vol1
  - name: host1
    wwpn: "10:00:00:00:00:00:00:02"
    port: sw0:1
    speed: 32G
    workload:
      read_percent: 30
      block_size: 64KiB
      queue_depth: 4
      pattern: sequential
      lba_start: 1048576         # the second half of vol1, clear of host0's region
      lba_count: 1048576

volumes:
  - name: vol0                   # 512 MiB: 256 MiB of disk0, then 256 MiB of disk1
    switch: sw0
    block_size: 512
    vsegs:
      - {disk: disk0, lun: 0, lba: 0, blocks: 524288}
      - {disk: disk1, lun: 0, lba: 0, blocks: 524288}
  - name: vol1                   # 1 GiB of disk2 in 512 extents of 2 MiB
    switch: sw0
    block_size: 512
    vsegs:
      - {disk: disk2, lun: 0, lba: 0, blocks: 2097152, extent_blocks: 4096}

virtual_targets:
  - name: vt0
    switch: sw0
    wwpn: "50:00:00:00:00:00:10:00"
    luns:
      - {lun: 0, volume: vol0, hosts: [host0]}
      - {lun: 1, volume: vol1}

zones:
  - {name: zone_a, members: [host0, vt0]}
  - {name: zone_b, members: [host1, vt0]}

fp:                              # every port FP of every switch (these are the defaults)
  table_memory: 4MiB
  max_transfer: 1MiB
  frame_cost: 200ns
  rmap_policy: lru
  working_set_window: 0
  enabled: true

cp:                              # every switch's CP (the defaults)
  mailbox_latency: 2us
  message_cost: 2us
  fault_cost: 20us
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
