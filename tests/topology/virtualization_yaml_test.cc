// The virtualization part of topology files: fp, cp, volumes and
// virtual_targets, their parsing, defaults and every validation message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fabric_sim/topology/default_scenario.h"
#include "fabric_sim/topology/topology_validate.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "fabric_sim/topology/wwn.h"

namespace splitpath::sim {
namespace {

std::string doc(const char* text) {
  return text[0] == '\n' ? text + 1 : text;
}

std::string error_of(const std::string& yaml) {
  absl::StatusOr<Topology> t = parse_topology_yaml(yaml, "t.yaml");
  return t.ok() ? "OK" : std::string(t.status().message());
}

// ---------------------------------------------------------------------------
// A file using every key

const char* const kFull = R"(
switches:
  - {name: sw0, domain: 1, ports: 16}
  - {name: sw1, domain: 2, ports: 16}
isls:
  - {a: sw0:15, b: sw1:15}
disks:
  - name: disk0
    port: sw0:4
    luns: [{lun: 0, size: 1GiB}, {lun: 3, size: 1GiB, block_size: 4096}]
  - {name: disk1, port: sw1:4, luns: [{lun: 0, size: 1GiB}]}
hosts:
  - {name: host0, wwpn: "10:00:00:00:00:00:00:01", port: sw0:0}
  - {name: host1, port: sw1:0, workload: {lba_count: 1000}}
volumes:
  - name: vol0
    switch: sw0
    block_size: 512
    vsegs:
      - {disk: disk0, lun: 0, lba: 0, blocks: 1048576, extent_blocks: 2048}
      - disk: disk1
        lun: 0
        lba: 4096
        blocks: 1000
        extent_blocks: 0
        fault_on_read: false
        fault_on_write: true
  - name: vol1
    switch: sw1
    block_size: 4KiB
    vsegs: [{disk: disk0, lun: 3, blocks: 262144, fault_on_read: TRUE}]
virtual_targets:
  - name: vt0
    switch: sw0
    wwpn: "50:00:00:00:00:00:ff:01"
    wwnn: 0x50000000000000fe
    luns:
      - {lun: 0, volume: vol0, hosts: [host0, "0x1000000000000001x"], read_only: false}
  - name: vt1
    switch: sw1
    luns:
      - {lun: 5, volume: vol1, hosts: [host1], read_only: true}
      - {lun: 6, volume: vol1}
zones:
  - {name: z0, members: [host0, vt0]}
  - {name: z1, members: [host1, vt1]}
fp:
  table_memory: 8MiB
  max_transfer: 256KiB
  frame_cost: 150ns
  rmap_policy: sequential
  working_set_window: 4096
  enabled: false
cp:
  mailbox_latency: 3us
  message_cost: 1500ns
  fault_cost: 0.05ms
)";

// kFull with the deliberate mistake on vt0's hosts (a WWPN with a stray 'x') fixed.
std::string full_example() {
  std::string s = doc(kFull);
  const std::string bad = "\"0x1000000000000001x\"";
  s.replace(s.find(bad), bad.size(), "\"10:00:00:00:00:00:00:01\"");
  // host0 listed twice by name and WWPN is an error too: keep one.
  const std::string twice = "[host0, \"10:00:00:00:00:00:00:01\"]";
  s.replace(s.find(twice), twice.size(), "[\"10:00:00:00:00:00:00:01\"]");
  return s;
}

TEST(VirtualizationYaml, EveryField) {
  absl::StatusOr<Topology> parsed = parse_topology_yaml(full_example(), "full.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Topology& t = *parsed;

  ASSERT_EQ(t.volumes.size(), 2u);
  const VolumeConfig& v0 = t.volumes[0];
  EXPECT_EQ(v0.name, "vol0");
  EXPECT_EQ(v0.switch_name, "sw0");
  EXPECT_EQ(v0.block_size, 512u);
  ASSERT_EQ(v0.vsegs.size(), 2u);
  EXPECT_EQ(v0.vsegs[0].disk, "disk0");
  EXPECT_EQ(v0.vsegs[0].lun, 0);
  EXPECT_EQ(v0.vsegs[0].lba, 0u);
  EXPECT_EQ(v0.vsegs[0].blocks, 1048576u);
  EXPECT_EQ(v0.vsegs[0].extent_blocks, 2048u);
  EXPECT_FALSE(v0.vsegs[0].fault_on_read);
  EXPECT_FALSE(v0.vsegs[0].fault_on_write);
  EXPECT_EQ(v0.vsegs[1].disk, "disk1");
  EXPECT_EQ(v0.vsegs[1].lba, 4096u);
  EXPECT_EQ(v0.vsegs[1].blocks, 1000u);
  EXPECT_EQ(v0.vsegs[1].extent_blocks, 0u);
  EXPECT_FALSE(v0.vsegs[1].fault_on_read);
  EXPECT_TRUE(v0.vsegs[1].fault_on_write);
  const VolumeConfig& v1 = t.volumes[1];
  EXPECT_EQ(v1.switch_name, "sw1");
  EXPECT_EQ(v1.block_size, 4096u);
  ASSERT_EQ(v1.vsegs.size(), 1u);
  EXPECT_EQ(v1.vsegs[0].lun, 3);
  EXPECT_EQ(v1.vsegs[0].lba, 0u);  // default
  EXPECT_EQ(v1.vsegs[0].blocks, 262144u);
  EXPECT_TRUE(v1.vsegs[0].fault_on_read);
  EXPECT_FALSE(v1.vsegs[0].fault_on_write);

  ASSERT_EQ(t.virtual_targets.size(), 2u);
  const VirtualTargetConfig& vt0 = t.virtual_targets[0];
  EXPECT_EQ(vt0.name, "vt0");
  EXPECT_EQ(vt0.switch_name, "sw0");
  EXPECT_EQ(vt0.wwpn, 0x500000000000FF01u);
  EXPECT_EQ(vt0.wwnn, 0x50000000000000FEu);
  ASSERT_EQ(vt0.luns.size(), 1u);
  EXPECT_EQ(vt0.luns[0].lun, 0);
  EXPECT_EQ(vt0.luns[0].volume, "vol0");
  EXPECT_EQ(vt0.luns[0].hosts, std::vector<uint64_t>{0x1000000000000001u});
  EXPECT_FALSE(vt0.luns[0].read_only);
  const VirtualTargetConfig& vt1 = t.virtual_targets[1];
  EXPECT_EQ(vt1.wwpn, wwpn_from_name("vt1"));  // derived like a host's or disk's
  EXPECT_EQ(vt1.wwnn, 0u);
  ASSERT_EQ(vt1.luns.size(), 2u);
  EXPECT_EQ(vt1.luns[0].lun, 5);
  EXPECT_EQ(vt1.luns[0].hosts, std::vector<uint64_t>{t.hosts[1].wwpn});
  EXPECT_TRUE(vt1.luns[0].read_only);
  EXPECT_EQ(vt1.luns[1].lun, 6);
  EXPECT_TRUE(vt1.luns[1].hosts.empty());  // every host
  EXPECT_FALSE(vt1.luns[1].read_only);

  // Virtual targets are zone members by name.
  ASSERT_EQ(t.zones.size(), 2u);
  EXPECT_EQ(t.zones[0].members, (std::vector<uint64_t>{t.hosts[0].wwpn, vt0.wwpn}));
  EXPECT_EQ(t.zones[1].members, (std::vector<uint64_t>{t.hosts[1].wwpn, vt1.wwpn}));

  EXPECT_EQ(t.fp.table_memory_bytes, 8u << 20);
  EXPECT_EQ(t.fp.max_transfer_bytes, 256u << 10);
  EXPECT_EQ(t.fp.frame_cost_ns, 150u);
  EXPECT_EQ(t.fp.rmap_policy, "sequential");
  EXPECT_EQ(t.fp.working_set_window, 4096u);
  EXPECT_FALSE(t.fp.enabled);
  EXPECT_EQ(t.cp.mailbox_latency_ns, 3000u);
  EXPECT_EQ(t.cp.message_cost_ns, 1500u);
  EXPECT_EQ(t.cp.fault_cost_ns, 50'000u);
}

TEST(VirtualizationYaml, DefaultsWithoutVirtualization) {
  absl::StatusOr<Topology> t =
      parse_topology_yaml("switches: [{name: sw0, domain: 1, ports: 8}]\n", "t.yaml");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->volumes.empty());
  EXPECT_TRUE(t->virtual_targets.empty());
  const FpSettings fp;
  EXPECT_EQ(t->fp.table_memory_bytes, 4u << 20);
  EXPECT_EQ(t->fp.max_transfer_bytes, 1u << 20);
  EXPECT_EQ(t->fp.frame_cost_ns, 200u);
  EXPECT_EQ(t->fp.rmap_policy, "lru");
  EXPECT_EQ(t->fp.working_set_window, 0u);
  EXPECT_TRUE(t->fp.enabled);
  EXPECT_EQ(t->cp.mailbox_latency_ns, 2 * kNsPerUs);
  EXPECT_EQ(t->cp.message_cost_ns, 2 * kNsPerUs);
  EXPECT_EQ(t->cp.fault_cost_ns, 20 * kNsPerUs);
  // Empty fp and cp maps keep the defaults; every policy is accepted.
  for (const char* policy : {"lru", "random", "sequential"}) {
    t = parse_topology_yaml(
        std::string("switches: [{name: sw0, domain: 1, ports: 8}]\nfp: {rmap_policy: ") + policy +
            "}\ncp: {}\n",
        "t.yaml");
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->fp.rmap_policy, policy);
    EXPECT_EQ(t->fp.table_memory_bytes, fp.table_memory_bytes);
  }
}

TEST(VirtualizationYaml, FullExampleMistakesAreCaught) {
  // kFull as written: a bad WWPN among vt0's hosts.
  EXPECT_EQ(error_of(doc(kFull)),
            "t.yaml:37: field 'virtual_targets[0].luns[0].hosts[1]': must name a host or be a "
            "WWPN like 10:00:00:00:00:00:00:01 (got '0x1000000000000001x')");
}

// ---------------------------------------------------------------------------
// Invalid documents. The base fabric (lines 1-9), then zones, volumes and
// virtual targets (two lines each) in an order that puts the list a case
// appends to last, so the appended entry is on line 16.

#define V_NODES                                                                               \
  "switches:\n  - {name: sw0, domain: 1, ports: 16}\n  - {name: sw1, domain: 2, ports: 16}\n" \
  "disks:\n"                                                                                  \
  "  - {name: disk0, port: sw0:4, luns: [{lun: 0, size: 1000}, {lun: 1, size: 128, "          \
  "block_size: 4096}]}\n"                                                                     \
  "  - {name: disk1, port: sw0:5, luns: [{lun: 0, size: 1000}]}\n"                            \
  "hosts:\n"                                                                                  \
  "  - {name: host0, port: sw0:0, workload: {lba_count: 100}}\n"                              \
  "  - {name: host1, port: sw0:1, wwpn: \"10:00:00:00:00:00:00:02\", workload: {lba_count: "  \
  "100}}\n"
#define V_ZONES "zones:\n  - {name: z0, members: [host0, host1]}\n"
#define V_VOLUMES                                                                              \
  "volumes:\n  - {name: vol0, switch: sw0, vsegs: [{disk: disk0, blocks: 500}, {disk: disk1, " \
  "blocks: 500}]}\n"
#define V_TARGETS "virtual_targets:\n  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol0}]}\n"
#define VBASE V_NODES V_ZONES V_VOLUMES V_TARGETS               // targets last; vol0 on line 13
#define VBASE_VOLUMES_LAST V_NODES V_ZONES V_TARGETS V_VOLUMES  // vol0 on line 15
#define VBASE_ZONES_LAST V_NODES V_VOLUMES V_TARGETS V_ZONES    // vol0 on line 11

TEST(VirtualizationYaml, BaseDocumentsAreValid) {
  EXPECT_EQ(error_of(VBASE), "OK");
  // A volume shared with sw1 may be presented by a virtual target there, and
  // its DVEs may crash.
  EXPECT_EQ(error_of(V_NODES V_ZONES
                     "volumes:\n  - {name: vol0, switch: sw0, shared_with: [sw1], vsegs: [{disk: "
                     "disk0, blocks: 500}]}\n"
                     "virtual_targets:\n  - {name: vt1, switch: sw1, luns: [{lun: 0, volume: "
                     "vol0}]}\n"
                     "faults:\n  - {at: 1ms, kind: dve_crash, target: sw1}\n"),
            "OK");
  EXPECT_EQ(error_of(VBASE_VOLUMES_LAST), "OK");
  EXPECT_EQ(error_of(VBASE_ZONES_LAST), "OK");
}

struct BadCase {
  const char* name;
  const char* yaml;
  const char* expected;
};

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

const BadCase kBadCases[] = {
    // --- volumes
    {"VolumeUnknownSwitch",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw9, vsegs: [{disk: disk0, lba: 500, blocks: "
                        "10}]}\n",
     "t.yaml:16: field 'volumes[1].switch': no switch named 'sw9'"},
    {"VolumeMissingSwitch",
     VBASE_VOLUMES_LAST "  - {name: vol1, vsegs: [{disk: disk0, blocks: 1}]}\n",
     "t.yaml:16: field 'volumes[1].switch': is required"},
    {"VolumeNameTaken",
     VBASE_VOLUMES_LAST "  - {name: disk0, switch: sw0, vsegs: [{disk: disk0, lba: 500, blocks: "
                        "10}]}\n",
     "t.yaml:16: field 'volumes[1].name': name 'disk0' is already used by disks[0] (line 5)"},
    {"VolumeBlockSize",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, block_size: 520, vsegs: [{disk: disk0, "
                        "blocks: 1}]}\n",
     "t.yaml:16: field 'volumes[1].block_size': must be 512 or 4096 (got 520)"},
    {"VolumeNoVsegs", VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, vsegs: []}\n",
     "t.yaml:16: field 'volumes[1].vsegs': must list at least one VSEG"},
    {"VolumeUnknownKey", VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, size: 5, vsegs: []}\n",
     "t.yaml:16: field 'volumes[1].size': unknown key (allowed: name, switch, shared_with, "
     "block_size, multipath, failback, vsegs)"},
    {"VolumeSharedWithUnknownSwitch",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, shared_with: [sw9], vsegs: [{disk: disk0, "
                        "lba: 500, blocks: 10}]}\n",
     "t.yaml:16: field 'volumes[1].shared_with[0]': no switch named 'sw9'"},
    {"VolumeSharedWithItsOwnSwitch",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, shared_with: [sw0], vsegs: [{disk: disk0, "
                        "lba: 500, blocks: 10}]}\n",
     "t.yaml:16: field 'volumes[1].shared_with[0]': 'sw0' is the volume's own switch"},
    {"VolumeSharedWithTwice",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, shared_with: [sw1, sw1], vsegs: [{disk: "
                        "disk0, lba: 500, blocks: 10}]}\n",
     "t.yaml:16: field 'volumes[1].shared_with[1]': 'sw1' is listed twice"},
    {"VolumeSharedWithNone",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, shared_with: [], vsegs: [{disk: disk0, "
                        "lba: 500, blocks: 10}]}\n",
     "t.yaml:16: field 'volumes[1].shared_with': must list at least one switch"},
    {"DveCrashOfASwitchServingNoSharedVolume",
     VBASE "faults:\n  - {at: 1ms, kind: dve_crash, target: sw0}\n",
     "t.yaml:17: field 'faults[0].target': kind 'dve_crash' needs a switch serving a shared "
     "volume; 'sw0' serves none"},
    {"CpDveTimeoutZero", VBASE "cp: {dve_timeout: 0}\n",
     "t.yaml:16: field 'cp.dve_timeout': must be greater than 0"},
    {"CpMirrorWriteChunkTooSmall", VBASE "cp: {mirror_write_chunk: 512}\n",
     "t.yaml:16: field 'cp.mirror_write_chunk': must be at least 4096 bytes"},
    {"VsegUnknownKey",
     VBASE_VOLUMES_LAST "  - name: vol1\n    switch: sw0\n    vsegs:\n      - disk: disk0\n"
                        "        blokcs: 10\n",
     "t.yaml:20: field 'volumes[1].vsegs[0].blokcs': unknown key (allowed: disk, lun, lba, stripe, "
     "mirror, journal, "
     "blocks, extent_blocks, fault_on_read, fault_on_write)"},
    {"VsegMissingBlocks",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, vsegs: [{disk: disk0}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].blocks': is required"},
    {"VsegUnknownDisk",
     VBASE_VOLUMES_LAST "  - name: vol1\n    switch: sw0\n    vsegs:\n      - {disk: disk7, "
                        "blocks: 10}\n",
     "t.yaml:19: field 'volumes[1].vsegs[0].disk': a VSEG lies on a disk; 'disk7' does not "
     "exist"},
    {"VsegOnVirtualTarget",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, vsegs: [{disk: vt0, blocks: 10}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].disk': a VSEG lies on a disk; 'vt0' is a virtual "
     "target"},
    {"VsegOnHost",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, vsegs: [{disk: host0, blocks: 10}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].disk': a VSEG lies on a disk; 'host0' is a host"},
    {"VsegLunMissing",
     VBASE_VOLUMES_LAST
     "  - {name: vol1, switch: sw0, vsegs: [{disk: disk1, lun: 3, blocks: 10}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].lun': disk1 has no LUN 3 (its LUNs: 0)"},
    {"VsegBlockSizeDiffers",
     VBASE_VOLUMES_LAST
     "  - {name: vol1, switch: sw0, vsegs: [{disk: disk0, lun: 1, blocks: 8}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].lun': disk0 LUN 1 has 4096-byte blocks but volume "
     "'vol1' has 512-byte blocks (its block_size)"},
    {"VsegZeroBlocks",
     VBASE_VOLUMES_LAST
     "  - {name: vol1, switch: sw0, vsegs: [{disk: disk0, lba: 600, blocks: 0}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].blocks': must be at least 1"},
    {"VsegLbaBeyondLun",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, vsegs: [{disk: disk0, lba: 1000, blocks: "
                        "1}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].lba': LBA 1000 is beyond the end of disk0 LUN 0 (1000 "
     "blocks)"},
    {"VsegPastEndOfLun",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, vsegs: [{disk: disk0, lba: 990, blocks: "
                        "20}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].blocks': blocks [990, 1010) run past the end of disk0 "
     "LUN 0 (1000 blocks)"},
    {"VsegExtentLargerThanVseg",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, vsegs: [{disk: disk0, lba: 500, blocks: 10, "
                        "extent_blocks: 11}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].extent_blocks': must be at most the VSEG's 10 blocks "
     "(got 11; 0 makes the VSEG one extent)"},
    {"VsegsOverlap",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, vsegs: [{disk: disk0, lba: 400, blocks: "
                        "200}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].lba': disk0 LUN 0 blocks [400, 600) overlap blocks "
     "[0, 500) of volumes[0].vsegs[0] (line 15)"},
    {"VsegBadBoolean",
     VBASE_VOLUMES_LAST "  - {name: vol1, switch: sw0, vsegs: [{disk: disk0, lba: 500, blocks: 1, "
                        "fault_on_write: yes}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].fault_on_write': must be true or false (got 'yes')"},
    {"VsegNegativeLba",
     VBASE_VOLUMES_LAST
     "  - {name: vol1, switch: sw0, vsegs: [{disk: disk0, lba: -1, blocks: 1}]}\n",
     "t.yaml:16: field 'volumes[1].vsegs[0].lba': must be an integer in 0..18446744073709551615 "
     "(got -1)"},

    // --- virtual targets
    {"TargetUnknownSwitch", VBASE "  - {name: vt1, switch: sw9, luns: [{lun: 0, volume: vol0}]}\n",
     "t.yaml:16: field 'virtual_targets[1].switch': no switch named 'sw9'"},
    {"TargetNameTaken", VBASE "  - {name: vol0, switch: sw0, luns: [{lun: 0, volume: vol0}]}\n",
     "t.yaml:16: field 'virtual_targets[1].name': name 'vol0' is already used by volumes[0] (line "
     "13)"},
    {"TargetWwpnIsAHosts",
     VBASE "  - {name: vt1, switch: sw0, wwpn: \"10:00:00:00:00:00:00:02\", luns: [{lun: 0, "
           "volume: vol0}]}\n",
     "t.yaml:16: field 'virtual_targets[1].wwpn': WWPN 10:00:00:00:00:00:00:02 is already used by "
     "host1"},
    {"TargetWwpnTwice",
     VBASE "  - {name: vt1, switch: sw0, wwpn: 0x99, luns: [{lun: 0, volume: vol0}]}\n"
           "  - {name: vt2, switch: sw0, wwpn: 0x99, luns: [{lun: 0, volume: vol0}]}\n",
     "t.yaml:17: field 'virtual_targets[2].wwpn': WWPN 00:00:00:00:00:00:00:99 is already used by "
     "vt1"},
    {"TargetWwnnIsAHostsWwpn",
     VBASE "  - {name: vt1, switch: sw0, wwnn: \"10:00:00:00:00:00:00:02\", luns: [{lun: 0, "
           "volume: vol0}]}\n",
     "t.yaml:16: field 'virtual_targets[1].wwnn': WWNN 10:00:00:00:00:00:00:02 is already the WWPN "
     "of host1"},
    {"TargetNoLuns", VBASE "  - {name: vt1, switch: sw0, luns: []}\n",
     "t.yaml:16: field 'virtual_targets[1].luns': must list at least one LUN"},
    {"TargetMissingLuns", VBASE "  - {name: vt1, switch: sw0}\n",
     "t.yaml:16: field 'virtual_targets[1].luns': is required"},
    {"TargetUnknownKey", VBASE "  - {name: vt1, switch: sw0, port: sw0:9, luns: []}\n",
     "t.yaml:16: field 'virtual_targets[1].port': unknown key (allowed: name, switch, wwpn, wwnn, "
     "luns)"},
    {"TargetDuplicateLun",
     VBASE "  - name: vt1\n    switch: sw0\n    luns:\n      - {lun: 2, volume: vol0}\n"
           "      - {lun: 2, volume: vol0}\n",
     "t.yaml:20: field 'virtual_targets[1].luns[1].lun': LUN 2 is already defined at "
     "virtual_targets[1].luns[0] (line 19)"},
    {"TargetLunOutOfRange",
     VBASE "  - {name: vt1, switch: sw0, luns: [{lun: 16384, volume: vol0}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].lun': must be an integer in 0..16383 (got "
     "16384)"},
    {"TargetUnknownVolume", VBASE "  - {name: vt1, switch: sw0, luns: [{lun: 0, volume: vol9}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].volume': a virtual LUN presents a volume; "
     "'vol9' does not exist"},
    {"TargetVolumeIsADisk", VBASE "  - {name: vt1, switch: sw0, luns: [{lun: 0, volume: disk0}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].volume': a virtual LUN presents a volume; "
     "'disk0' is a disk"},
    {"TargetVolumeOnAnotherSwitch",
     VBASE "  - {name: vt1, switch: sw1, luns: [{lun: 0, volume: vol0}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].volume': volume 'vol0' is served by switch sw0, "
     "but vt1 is on switch sw1"},
    {"LunHostUnknown",
     VBASE "  - {name: vt1, switch: sw0, luns: [{lun: 0, volume: vol0, hosts: [host7]}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].hosts[0]': no host named 'host7'"},
    {"LunHostIsADisk",
     VBASE "  - {name: vt1, switch: sw0, luns: [{lun: 0, volume: vol0, hosts: [disk0]}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].hosts[0]': 'disk0' is a disk: LUN masking lists "
     "hosts"},
    {"LunHostIsAVolume",
     VBASE "  - {name: vt1, switch: sw0, luns: [{lun: 0, volume: vol0, hosts: [vol0]}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].hosts[0]': 'vol0' is a volume: LUN masking "
     "lists hosts"},
    {"LunHostWwpnOfNoHost",
     VBASE "  - name: vt1\n    switch: sw0\n    luns:\n      - lun: 0\n        volume: vol0\n"
           "        hosts: [host0,\n                \"50:00:00:00:00:00:09:99\"]\n",
     "t.yaml:22: field 'virtual_targets[1].luns[0].hosts[1]': WWPN 50:00:00:00:00:00:09:99 is not "
     "the WWPN of any host"},
    {"LunHostWwpnOfATarget",
     VBASE "  - {name: vt1, switch: sw0, wwpn: 0x77, luns: [{lun: 0, volume: vol0, hosts: "
           "[\"0x77\"]}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].hosts[0]': WWPN 00:00:00:00:00:00:00:77 is "
     "vt1's, not a host's"},
    {"LunHostTwice",
     VBASE "  - {name: vt1, switch: sw0, luns: [{lun: 0, volume: vol0, hosts: [host1, "
           "\"10:00:00:00:00:00:00:02\"]}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].hosts[1]': host1 is listed twice"},
    {"LunHostsEmpty",
     VBASE "  - {name: vt1, switch: sw0, luns: [{lun: 0, volume: vol0, hosts: []}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].hosts': must list at least one host (leave "
     "'hosts' out to let every host see the LUN)"},
    {"LunReadOnlyNotBoolean",
     VBASE "  - {name: vt1, switch: sw0, luns: [{lun: 0, volume: vol0, read_only: 1}]}\n",
     "t.yaml:16: field 'virtual_targets[1].luns[0].read_only': must be true or false (got '1')"},

    // --- zones and the hosts' view
    {"ZoneMemberIsAVolume", VBASE_ZONES_LAST "  - {name: z1, members: [host0, vol0]}\n",
     "t.yaml:16: field 'zones[1].members[1]': 'vol0' is a volume: zone members are hosts, disks "
     "and virtual targets"},
    {"HostReachesDiskUnderVolume", VBASE_ZONES_LAST "  - {name: z1, members: [host1, disk1]}\n",
     "t.yaml:9: field 'hosts[1].workload': host1 can reach disk1 (zoning) and its job would touch "
     "blocks [0, 100) of its LUN 0, which back volumes[0].vsegs[1] (line 11): zone the host away "
     "from the disk or keep its LBA region clear of the volume"},
    {"HostReachesDiskUnderVolumeWithoutZones", V_NODES V_VOLUMES V_TARGETS,
     "t.yaml:8: field 'hosts[0].workload': host0 can reach disk0 (no zones are set) and its job "
     "would touch blocks [0, 100) of its LUN 0, which back volumes[0].vsegs[0] (line 11): zone the "
     "host away from the disk or keep its LBA region clear of the volume"},

    // --- fp and cp
    {"FpRmapPolicy", VBASE "fp: {rmap_policy: mru}\n",
     "t.yaml:16: field 'fp.rmap_policy': must be one of lru, random, sequential (got 'mru')"},
    {"FpTableMemoryTooSmall", VBASE "fp:\n  table_memory: 32KiB\n",
     "t.yaml:17: field 'fp.table_memory': must be 64KiB to 1GiB per port (got 32768 bytes)"},
    {"FpTableMemoryTooLarge", VBASE "fp:\n  table_memory: 2GiB\n",
     "t.yaml:17: field 'fp.table_memory': must be 64KiB to 1GiB per port (got 2147483648 bytes)"},
    {"FpMaxTransferNotMultiple", VBASE "fp: {max_transfer: 1000}\n",
     "t.yaml:16: field 'fp.max_transfer': must be a positive multiple of 512 (got 1000)"},
    {"FpMaxTransferZero", VBASE "fp: {max_transfer: 0}\n",
     "t.yaml:16: field 'fp.max_transfer': must be a positive multiple of 512 (got 0)"},
    {"FpMaxTransferTooLarge", VBASE "fp: {max_transfer: 4GiB}\n",
     "t.yaml:16: field 'fp.max_transfer': must be at most 4294967295 bytes (got 4GiB)"},
    {"FpFrameCostTooLarge", VBASE "fp: {frame_cost: 5s}\n",
     "t.yaml:16: field 'fp.frame_cost': must be at most 4294967295ns (got 5s)"},
    {"FpFrameCostWithoutUnit", VBASE "fp: {frame_cost: 200}\n",
     "t.yaml:16: field 'fp.frame_cost': needs a unit: ns, us, ms or s (got 200)"},
    {"FpWorkingSetWindowTooLarge", VBASE "fp: {working_set_window: 4294967296}\n",
     "t.yaml:16: field 'fp.working_set_window': must be an integer in 0..4294967295 (got "
     "4294967296)"},
    {"FpHalUnknown", VBASE "fp: {hal: asic}\n",
     "t.yaml:16: field 'fp.hal': must be sim or ring (got 'asic')"},
    {"FpEnabledNotBoolean", VBASE "fp: {enabled: on}\n",
     "t.yaml:16: field 'fp.enabled': must be true or false (got 'on')"},
    {"FpUnknownKey", VBASE "fp: {tablememory: 1MiB}\n",
     "t.yaml:16: field 'fp.tablememory': unknown key (allowed: table_memory, max_transfer, "
     "frame_cost, rmap_policy, working_set_window, enabled, hal)"},
    {"FpNotAMap", VBASE "fp: lru\n",
     "t.yaml:16: field 'fp': must be a map with keys table_memory, max_transfer, frame_cost, "
     "rmap_policy, working_set_window, enabled, hal (got a single value)"},
    {"CpTimeWithoutUnit", VBASE "cp:\n  mailbox_latency: 1us\n  fault_cost: 20\n",
     "t.yaml:18: field 'cp.fault_cost': needs a unit: ns, us, ms or s (got 20)"},
    {"CpUnknownKey", VBASE "cp: {latency: 1us}\n",
     "t.yaml:16: field 'cp.latency': unknown key (allowed: mailbox_latency, message_cost, "
     "fault_cost, age_extent, dve_latency, dve_timeout, dve_lease, mirror_write_chunk)"},
};

class BadVirtualization : public testing::TestWithParam<BadCase> {};

TEST_P(BadVirtualization, NamesLineAndField) {
  EXPECT_EQ(error_of(GetParam().yaml), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Topology, BadVirtualization, testing::ValuesIn(kBadCases),
                         [](const testing::TestParamInfo<BadCase>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------
// What hosts see: LUN masking and zoning decide which virtual LUNs a host's
// LBA region must fit in.

std::string with_host1_workload(const std::string& base, const std::string& workload) {
  std::string s = base;
  const std::string host1 = "wwpn: \"10:00:00:00:00:00:00:02\", workload: {lba_count: 100}";
  s.replace(s.find(host1), host1.size(),
            "wwpn: \"10:00:00:00:00:00:00:02\", workload: " + workload);
  return s;
}

TEST(VirtualizationYaml, HostRegionMustFitEveryVirtualLunItSees) {
  EXPECT_EQ(error_of(with_host1_workload(VBASE, "{lba_start: 990, lba_count: 20}")),
            "t.yaml:9: field 'hosts[1].workload.lba_count': region [990, 1010) runs past the end "
            "of vt0 LUN 0 (volume vol0, 1000 blocks)");
  EXPECT_EQ(error_of(with_host1_workload(VBASE, "{lba_start: 1000}")),
            "t.yaml:9: field 'hosts[1].workload.lba_start': lba_start 1000 is beyond the end of "
            "vt0 LUN 0 (volume vol0, 1000 blocks)");
  // Masked away from host1, the LUN does not constrain it.
  std::string masked = with_host1_workload(VBASE, "{lba_start: 1000}");
  const std::string lun = "{lun: 0, volume: vol0}";
  masked.replace(masked.find(lun), lun.size(), "{lun: 0, volume: vol0, hosts: [host0]}");
  EXPECT_EQ(error_of(masked), "OK");
  // A virtual target some zone lists is seen only by the hosts zoned with it.
  std::string zoned = with_host1_workload(VBASE, "{lba_start: 1000}");
  const std::string zone = "members: [host0, host1]";
  zoned.replace(zoned.find(zone), zone.size(),
                "members: [host0, host1]}\n  - {name: z1, "
                "members: [host0, vt0]");
  EXPECT_EQ(error_of(zoned), "OK");
}

TEST(VirtualizationYaml, HostMayReachDiskBlocksNoVolumeUses) {
  // host1 shares a zone with disk1, but its region lies past vol0's VSEG there.
  const std::string zone = "  - {name: z1, members: [host1, disk1]}\n";
  EXPECT_EQ(
      error_of(with_host1_workload(VBASE_ZONES_LAST, "{lba_start: 500, lba_count: 100}") + zone),
      "OK");
  // One block of overlap is enough.
  EXPECT_EQ(
      error_of(with_host1_workload(VBASE_ZONES_LAST, "{lba_start: 499, lba_count: 100}") + zone),
      "t.yaml:9: field 'hosts[1].workload': host1 can reach disk1 (zoning) and its job would "
      "touch blocks [499, 599) of its LUN 0, which back volumes[0].vsegs[1] (line 11): zone "
      "the host away from the disk or keep its LBA region clear of the volume");
}

// ---------------------------------------------------------------------------
// Limits and code-built topologies

TEST(VirtualizationValidate, AtMost127VirtualTargetsPerSwitch) {
  Topology t = default_topology();
  ASSERT_EQ(t.virtual_targets.size(), 1u);
  for (int i = 1; i < 127; ++i) {
    VirtualTargetConfig vt = t.virtual_targets[0];
    vt.name = "vt" + std::to_string(i);
    vt.wwpn = wwpn_from_name(vt.name);
    t.virtual_targets.push_back(vt);
  }
  EXPECT_TRUE(validate_topology(t).ok()) << validate_topology(t);
  VirtualTargetConfig extra = t.virtual_targets[0];
  extra.name = "vt127";
  extra.wwpn = wwpn_from_name(extra.name);
  t.virtual_targets.push_back(extra);
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'virtual_targets[127].switch': switch sw0 already has 127 virtual "
            "targets, all its address plan holds (N_Port IDs D.FF.80 - D.FF.FE)");
}

TEST(VirtualizationValidate, CodeBuiltErrorsHaveNoLine) {
  Topology t = default_topology();
  t.fp.rmap_policy = "fifo";
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'fp.rmap_policy': must be one of lru, random, sequential (got "
            "'fifo')");
  t = default_topology();
  t.volumes[0].vsegs[1].blocks = 0;
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'volumes[0].vsegs[1].blocks': must be at least 1");
  t = default_topology();
  t.volumes[1].block_size = 4096;
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'volumes[1].vsegs[0].lun': disk2 LUN 0 has 512-byte blocks but "
            "volume 'vol1' has 4096-byte blocks (its block_size)");
  t = default_topology();
  t.volumes[0].vsegs.clear();
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'volumes[0].vsegs': must list at least one VSEG");
  t = default_topology();
  t.virtual_targets[0].luns.clear();
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'virtual_targets[0].luns': must list at least one LUN");
  t = default_topology();
  t.virtual_targets[0].wwpn = t.disks[3].wwpn;
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'virtual_targets[0].wwpn': WWPN 50:00:00:00:00:00:04:00 is already "
            "used by disk3");
  t = default_topology();
  t.fp.max_transfer_bytes = 4097;
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'fp.max_transfer': must be a positive multiple of 512 (got 4097)");
  t = default_topology();
  t.fp.table_memory_bytes = 65535;
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'fp.table_memory': must be 64KiB to 1GiB per port (got 65535 bytes)");
  t.fp.table_memory_bytes = 65536;
  EXPECT_TRUE(validate_topology(t).ok());
}

TEST(VirtualizationValidate, DefaultScenarioKeepsHostsOffTheDisks) {
  // Zoning host0 with disk0 again would let it write under vol0.
  Topology t = default_topology();
  t.zones[0].members.push_back(t.disks[0].wwpn);
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'hosts[0].workload': host0 can reach disk0 (zoning) and its job "
            "would touch blocks [0, 1048576) of its LUN 0, which back volumes[0].vsegs[0]: zone "
            "the host away from the disk or keep its LBA region clear of the volume");
  // disk3 backs nothing: zoning a host with it is fine.
  t = default_topology();
  t.zones[1].members.push_back(t.disks[3].wwpn);
  EXPECT_TRUE(validate_topology(t).ok()) << validate_topology(t);
}

// ---------------------------------------------------------------------------
// The README's virtualization example, and robustness of the new keys.

TEST(VirtualizationYaml, ReadmeExampleParses) {
  const char* root = std::getenv("SPLITPATH_SOURCE_DIR");
  if (root == nullptr) GTEST_SKIP() << "SPLITPATH_SOURCE_DIR is not set";
  std::ifstream in(std::filesystem::path(root) / "fabric_sim/topology/README.md");
  ASSERT_TRUE(in) << "cannot read the README";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const size_t section = readme.find("## Example: virtual volumes");
  ASSERT_NE(section, std::string::npos);
  const size_t begin = readme.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const size_t end = readme.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  absl::StatusOr<Topology> t =
      parse_topology_yaml(readme.substr(begin + 8, end - begin - 8), "README.md");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->volumes.empty());
  EXPECT_FALSE(t->virtual_targets.empty());
}

void expect_clean(const std::string& yaml) {
  absl::StatusOr<Topology> t;
  ASSERT_NO_THROW(t = parse_topology_yaml(yaml, "t.yaml")) << yaml;
  if (!t.ok()) {
    const std::string message(t.status().message());
    ASSERT_EQ(message.rfind("t.yaml:", 0), 0u) << message;
  }
}

TEST(VirtualizationRobustness, EveryPrefixAndEveryCharacterReplaced) {
  const std::string full = full_example();
  for (size_t n = 0; n <= full.size(); ++n)
    expect_clean(full.substr(0, n));
  const char replacements[] = {':', '[', '-', '\t', '*', '\0', '{', '"', '&', ' ', '!'};
  for (size_t i = 0; i < full.size(); ++i) {
    std::string damaged = full;
    damaged[i] = replacements[i % sizeof replacements];
    expect_clean(damaged);
  }
}

}  // namespace
}  // namespace splitpath::sim
