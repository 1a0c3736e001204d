// Multi-ported disks (`ports`), the volume's `multipath` policy and the
// workload's `retries` in topology files: parsing, defaults and the
// FILE:LINE: field errors.
#include <gtest/gtest.h>

#include <string>

#include "fabric_sim/topology/topology_yaml.h"

namespace splitpath::sim {
namespace {

std::string yaml(const std::string& disk, const std::string& volume_extra = "",
                 const std::string& workload = "{lba_count: 100}") {
  return R"(switches:
  - {name: sw0, domain: 1, ports: 8}
disks:
  - )" + disk +
         R"(
hosts:
  - {name: host0, port: sw0:0, workload: )" +
         workload + R"(}
volumes:
  - name: vol0
    switch: sw0)" +
         volume_extra +
         R"(
    vsegs: [{disk: disk0, blocks: 1000}]
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol0}]}
zones:
  - {name: z0, members: [host0, vt0]}
)";
}

std::string error_of(const std::string& text) {
  absl::StatusOr<Topology> t = parse_topology_yaml(text, "t.yaml");
  return t.ok() ? "OK" : std::string(t.status().message());
}

constexpr const char* kDualPorted =
    "{name: disk0, wwpn: 0x5000000000000100, ports: [sw0:4, sw0:5], luns: [{lun: 0, size: 1MiB}]}";

TEST(MultipathYaml, DualPortedDiskPolicyAndRetries) {
  absl::StatusOr<Topology> t =
      parse_topology_yaml(yaml(kDualPorted, "\n    multipath: global\n    failback: immediate",
                               "{lba_count: 100, retries: 5}"),
                          "t.yaml");
  ASSERT_TRUE(t.ok()) << t.status();
  const DiskConfig& d = t->disks[0];
  EXPECT_EQ(d.attach.port.port, 4u);
  ASSERT_EQ(d.more_ports.size(), 1u);
  EXPECT_EQ(d.more_ports[0].attach.port.switch_name, "sw0");
  EXPECT_EQ(d.more_ports[0].attach.port.port, 5u);
  EXPECT_EQ(d.more_ports[0].wwpn, 0x5000000000000101u);
  EXPECT_EQ(t->volumes[0].multipath, MultipathPolicy::kGlobal);
  EXPECT_TRUE(t->volumes[0].failback);
  EXPECT_EQ(t->hosts[0].workload.retries, 5u);
}

TEST(MultipathYaml, Defaults) {
  absl::StatusOr<Topology> t = parse_topology_yaml(
      yaml("{name: disk0, port: sw0:4, luns: [{lun: 0, size: 1MiB}]}"), "t.yaml");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->disks[0].more_ports.empty());
  EXPECT_EQ(t->volumes[0].multipath, MultipathPolicy::kPerEntry);
  EXPECT_FALSE(t->volumes[0].failback);
  EXPECT_EQ(t->hosts[0].workload.retries, 0u);
}

TEST(MultipathYaml, LinkFaultOnASecondPortStaysThatPort) {
  absl::StatusOr<Topology> t =
      parse_topology_yaml(yaml(kDualPorted) +
                              "faults:\n  - {at: 1ms, kind: link_down, target: \"sw0:5\"}\n"
                              "  - {at: 2ms, kind: link_down, target: \"sw0:4\"}\n",
                          "t.yaml");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->faults[0].target, "sw0:5");
  EXPECT_EQ(t->faults[1].target, "disk0");  // port 0 is the disk's own link
}

TEST(MultipathYaml, ErrorsNameFileLineAndField) {
  EXPECT_EQ(error_of(yaml("{name: disk0, port: sw0:4, ports: [sw0:4, sw0:5], luns: [{lun: 0, "
                          "size: 1MiB}]}")),
            "t.yaml:4: field 'disks[0].port': give port or ports, not both");
  EXPECT_EQ(error_of(yaml("{name: disk0, ports: [sw0:4], luns: [{lun: 0, size: 1MiB}]}")),
            "t.yaml:4: field 'disks[0].ports': must list 2 to 4 ports (got 1); one port: use port");
  EXPECT_EQ(error_of(yaml("{name: disk0, ports: [sw0:4, sw0:0], luns: [{lun: 0, size: 1MiB}]}")),
            "t.yaml:6: field 'hosts[0].port': port sw0:0 is already used by disk0 (port 1)");
  EXPECT_EQ(error_of(yaml("{name: disk0, ports: [sw0:4, sw0:9], luns: [{lun: 0, size: 1MiB}]}")),
            "t.yaml:4: field 'disks[0].ports[1]': port 9 is out of range: sw0 has ports 0..7");
  EXPECT_EQ(error_of(yaml(kDualPorted, "\n    multipath: sideways")),
            "t.yaml:10: field 'volumes[0].multipath': must be per_entry, global or none (got "
            "'sideways')");
  EXPECT_EQ(error_of(yaml(kDualPorted, "\n    failback: sometimes")),
            "t.yaml:10: field 'volumes[0].failback': must be immediate or manual (got "
            "'sometimes')");
  EXPECT_EQ(error_of(yaml(kDualPorted, "", "{lba_count: 100, retries: 101}")),
            "t.yaml:6: field 'hosts[0].workload.retries': must be an integer in 0..100 (got 101)");
}

TEST(MultipathYaml, SecondPortWwpnMustBeFree) {
  // Another disk already has the WWPN disk0's port 1 derives (wwpn + 1).
  const std::string disks =
      "{name: diskx, wwpn: 0x5000000000000101, port: sw0:6, luns: [{lun: 0, size: 1MiB}]}\n  - " +
      std::string(kDualPorted);
  EXPECT_EQ(error_of(yaml(disks)),
            "t.yaml:5: field 'disks[1].ports[1]': its WWPN 50:00:00:00:00:00:01:01 (the disk's "
            "WWPN + 1) is already used by diskx");
  // And a host taking it later is told whose it is.
  std::string clash = yaml(kDualPorted);
  clash.replace(clash.find("{name: host0,"), 13, "{name: host0, wwpn: 0x5000000000000101,");
  EXPECT_EQ(error_of(clash),
            "t.yaml:6: field 'hosts[0].wwpn': WWPN 50:00:00:00:00:00:01:01 is already used by "
            "disk0 (port 1)");
}

}  // namespace
}  // namespace splitpath::sim
