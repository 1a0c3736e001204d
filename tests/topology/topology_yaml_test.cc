#include "fabric_sim/topology/topology_yaml.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fabric_sim/topology/default_scenario.h"
#include "fabric_sim/topology/topology_validate.h"
#include "fabric_sim/topology/units.h"
#include "fabric_sim/topology/wwn.h"

namespace splitpath::sim {
namespace {

// Raw strings start with a newline for readability; line 1 is the one after it.
std::string doc(const char* text) {
  return text[0] == '\n' ? text + 1 : text;
}

std::string error_of(const std::string& yaml) {
  absl::StatusOr<Topology> t = parse_topology_yaml(yaml, "t.yaml");
  return t.ok() ? "OK" : std::string(t.status().message());
}

// ---------------------------------------------------------------------------
// Values

TEST(Wwn, FormatsAndParsesBothForms) {
  EXPECT_EQ(format_wwn(0x5000000000000100), "50:00:00:00:00:00:01:00");
  EXPECT_EQ(format_wwn(0x10000000C9ABCDEF), "10:00:00:00:c9:ab:cd:ef");
  EXPECT_EQ(*parse_wwn("50:00:00:00:00:00:01:00"), 0x5000000000000100u);
  EXPECT_EQ(*parse_wwn("10:00:00:00:C9:AB:CD:EF"), 0x10000000C9ABCDEFu);
  EXPECT_EQ(*parse_wwn("0x5000000000000100"), 0x5000000000000100u);
  EXPECT_EQ(*parse_wwn("0X1f"), 0x1Fu);
  for (uint64_t w : {uint64_t{1}, uint64_t{0x2100001B32A0B0C0}, ~uint64_t{0}}) {
    EXPECT_EQ(*parse_wwn(format_wwn(w)), w);
  }
}

TEST(Wwn, RejectsMalformed) {
  for (const char* bad :
       {"", "0x", "0", "50:00:00:00:00:00:01", "50:00:00:00:00:00:01:00:00",
        "5:00:00:00:00:00:01:000", "50-00-00-00-00-00-01-00", "50:00:00:00:00:00:01:0g",
        "0x12345678901234567", "0xZ1", "00:00:00:00:00:00:00:00", "0x0"}) {
    EXPECT_FALSE(parse_wwn(bad).ok()) << bad;
  }
}

TEST(Wwn, DerivedFromNameIsStableNaa5) {
  uint64_t a = wwpn_from_name("disk0");
  EXPECT_EQ(a, wwpn_from_name("disk0"));
  EXPECT_NE(a, wwpn_from_name("disk1"));
  EXPECT_EQ(a >> 36, 0x5005350u);
}

TEST(Units, Times) {
  EXPECT_EQ(*parse_time("700ns", false), 700u);
  EXPECT_EQ(*parse_time("100us", false), 100'000u);
  EXPECT_EQ(*parse_time("100\xC2\xB5s", false), 100'000u);
  EXPECT_EQ(*parse_time("1.5s", false), 1'500'000'000u);
  EXPECT_EQ(*parse_time("200 ms", false), 200'000'000u);
  EXPECT_EQ(*parse_time("2e-3s", false), 2'000'000u);
  EXPECT_EQ(*parse_time("0", false), 0u);
  EXPECT_EQ(*parse_time("0.2", true), 200'000'000u);
  EXPECT_EQ(*parse_time("3", true), 3'000'000'000u);
  EXPECT_EQ(parse_time("700", false).status().message(), "needs a unit: ns, us, ms or s (got 700)");
  EXPECT_EQ(parse_time("0.5ns", false).status().message(),
            "must be a whole number of nanoseconds (got 0.5ns)");
  EXPECT_EQ(parse_time("99999999999s", false).status().message(),
            "is too large (got 99999999999s)");
  for (const char* bad : {"", "ms", "-5ms", "5 min", "1e99999s", "5msx", "1.2.3s", "+5s"}) {
    EXPECT_FALSE(parse_time(bad, true).ok()) << bad;
  }
}

TEST(Units, Sizes) {
  EXPECT_EQ(parse_size("1000")->value, 1000u);
  EXPECT_FALSE(parse_size("1000")->unit_given);
  EXPECT_EQ(parse_size("1TiB")->value, uint64_t{1} << 40);
  EXPECT_TRUE(parse_size("1TiB")->unit_given);
  EXPECT_EQ(parse_size("1.5KiB")->value, 1536u);
  EXPECT_EQ(parse_size("512B")->value, 512u);
  EXPECT_EQ(parse_size("16383PiB")->value, uint64_t{16383} << 50);
  EXPECT_FALSE(parse_size("16384PiB").ok());
  EXPECT_FALSE(parse_size("0.3KiB").ok());
  EXPECT_FALSE(parse_size("1.5").ok());
  EXPECT_FALSE(parse_size("18446744073709551616").ok());
  EXPECT_EQ(parse_size("1TB").status().message(),
            "unit 'TB' is ambiguous: use KiB, MiB, GiB, TiB or PiB (powers of 1024) (got 1TB)");
}

TEST(Units, SpeedsBandwidthsRates) {
  EXPECT_EQ(*parse_link_speed("8G"), LinkSpeed::k8G);
  EXPECT_EQ(*parse_link_speed("16GFC"), LinkSpeed::k16G);
  EXPECT_EQ(*parse_link_speed("32gfc"), LinkSpeed::k32G);
  EXPECT_EQ(*parse_link_speed("64"), LinkSpeed::k64G);
  EXPECT_FALSE(parse_link_speed("4G").ok());
  EXPECT_FALSE(parse_link_speed("GFC").ok());
  EXPECT_EQ(*parse_bandwidth_mb_s("1000"), 1000u);
  EXPECT_EQ(*parse_bandwidth_mb_s("1000MB/s"), 1000u);
  EXPECT_EQ(*parse_bandwidth_mb_s("1.5GB/s"), 1500u);
  EXPECT_FALSE(parse_bandwidth_mb_s("0").ok());
  EXPECT_FALSE(parse_bandwidth_mb_s("1000MiB/s").ok());
  EXPECT_FALSE(parse_bandwidth_mb_s("0.5MB/s").ok());
  EXPECT_DOUBLE_EQ(*parse_rate("2500.5", 1e9), 2500.5);
  EXPECT_FALSE(parse_rate("-1", 1e9).ok());
  EXPECT_FALSE(parse_rate("1e400", 1e9).ok());
  EXPECT_EQ(format_time(200'000'000), "200ms");
  EXPECT_EQ(format_time(1500), "1500ns");
}

// ---------------------------------------------------------------------------
// The default scenario

TEST(DefaultScenario, ParsesAndValidates) {
  absl::StatusOr<Topology> parsed = parse_topology_yaml(default_topology_yaml(), "<default>");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  Topology t = default_topology();
  EXPECT_TRUE(validate_topology(t).ok());
  EXPECT_EQ(t.source, "<default>");
  EXPECT_EQ(t.duration_ns, 200 * kNsPerMs);
  ASSERT_EQ(t.switches.size(), 1u);
  EXPECT_EQ(t.switches[0].name, "sw0");
  EXPECT_EQ(t.switches[0].domain, 1);
  EXPECT_EQ(t.switches[0].ports, 16u);
  EXPECT_TRUE(t.isls.empty());
  EXPECT_TRUE(t.faults.empty());

  ASSERT_EQ(t.disks.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const DiskConfig& d = t.disks[i];
    EXPECT_EQ(d.name, "disk" + std::to_string(i));
    ASSERT_EQ(d.luns.size(), 1u);
    EXPECT_EQ(d.luns[0].block_size, 512u);
    EXPECT_EQ(d.luns[0].blocks * 512, uint64_t{1} << 40);
    EXPECT_EQ(d.latency_ns, 100 * kNsPerUs);
    EXPECT_EQ(d.bandwidth_mb_s, 1000u);
    EXPECT_EQ(d.attach.link.speed, LinkSpeed::k32G);
    for (size_t j = 0; j < i; ++j)
      EXPECT_NE(d.wwpn, t.disks[j].wwpn);
  }

  ASSERT_EQ(t.hosts.size(), 2u);
  const WorkloadConfig& w0 = t.hosts[0].workload;
  const WorkloadConfig& w1 = t.hosts[1].workload;
  EXPECT_EQ(t.hosts[0].name, "host0");
  EXPECT_EQ(w0.read_percent, 70u);
  EXPECT_EQ(w0.block_size, 4096u);
  EXPECT_EQ(w0.queue_depth, 8u);
  EXPECT_EQ(w0.pattern, AccessPattern::kRandom);
  EXPECT_EQ(t.hosts[1].name, "host1");
  EXPECT_EQ(w1.read_percent, 30u);
  EXPECT_EQ(w1.block_size, 65536u);
  EXPECT_EQ(w1.queue_depth, 4u);
  EXPECT_EQ(w1.pattern, AccessPattern::kSequential);
  EXPECT_EQ(w0.lba_start, 0u);
  EXPECT_EQ(w0.lba_count, uint64_t{1} << 20);
  EXPECT_EQ(w1.lba_start, uint64_t{1} << 20);
  EXPECT_EQ(w1.lba_count, uint64_t{1} << 20);
  EXPECT_LE(w0.lba_start + w0.lba_count, w1.lba_start);  // disjoint on the shared vol1
  EXPECT_EQ(t.hosts[0].attach.link.speed, LinkSpeed::k32G);

  // vol0: one LV over disk0 and disk1 (figure 10); vol1: disk2 in 4096-block extents.
  ASSERT_EQ(t.volumes.size(), 2u);
  const VolumeConfig& vol0 = t.volumes[0];
  EXPECT_EQ(vol0.name, "vol0");
  EXPECT_EQ(vol0.switch_name, "sw0");
  EXPECT_EQ(vol0.block_size, 512u);
  ASSERT_EQ(vol0.vsegs.size(), 2u);
  EXPECT_EQ(vol0.vsegs[0].disk, "disk0");
  EXPECT_EQ(vol0.vsegs[1].disk, "disk1");
  EXPECT_EQ(vol0.vsegs[0].blocks + vol0.vsegs[1].blocks, w0.lba_count);  // host0 spans both
  for (const VsegConfig& g : vol0.vsegs) {
    EXPECT_EQ(g.lun, 0);
    EXPECT_EQ(g.lba, 0u);
    EXPECT_EQ(g.extent_blocks, 0u);
    EXPECT_FALSE(g.fault_on_read || g.fault_on_write);
  }
  const VolumeConfig& vol1 = t.volumes[1];
  EXPECT_EQ(vol1.name, "vol1");
  ASSERT_EQ(vol1.vsegs.size(), 1u);
  EXPECT_EQ(vol1.vsegs[0].disk, "disk2");
  EXPECT_EQ(vol1.vsegs[0].extent_blocks, 4096u);
  EXPECT_EQ(vol1.vsegs[0].blocks, w1.lba_start + w1.lba_count);

  // One virtual target; LUN masking: host0 sees both LUNs, host1 only vol1.
  ASSERT_EQ(t.virtual_targets.size(), 1u);
  const VirtualTargetConfig& vt = t.virtual_targets[0];
  EXPECT_EQ(vt.name, "vt0");
  EXPECT_EQ(vt.switch_name, "sw0");
  EXPECT_EQ(vt.wwpn, 0x5000000000001000u);
  ASSERT_EQ(vt.luns.size(), 2u);
  EXPECT_EQ(vt.luns[0].lun, 0);
  EXPECT_EQ(vt.luns[0].volume, "vol0");
  EXPECT_EQ(vt.luns[0].hosts, std::vector<uint64_t>{t.hosts[0].wwpn});
  EXPECT_EQ(vt.luns[1].lun, 1);
  EXPECT_EQ(vt.luns[1].volume, "vol1");
  EXPECT_TRUE(vt.luns[1].hosts.empty());

  // Zoning keeps every host off every disk: each zone is a host and vt0.
  ASSERT_EQ(t.zones.size(), 2u);
  EXPECT_EQ(t.zones[0].name, "zone_a");
  EXPECT_EQ(t.zones[0].members, (std::vector<uint64_t>{t.hosts[0].wwpn, vt.wwpn}));
  EXPECT_EQ(t.zones[1].name, "zone_b");
  EXPECT_EQ(t.zones[1].members, (std::vector<uint64_t>{t.hosts[1].wwpn, vt.wwpn}));
  for (const ZoneConfig& z : t.zones) {
    for (const DiskConfig& d : t.disks) {
      for (uint64_t m : z.members)
        EXPECT_NE(m, d.wwpn) << z.name << " lists " << d.name;
    }
  }

  // The FP and CP settings are written out, at their defaults.
  EXPECT_EQ(t.fp.table_memory_bytes, FpSettings{}.table_memory_bytes);
  EXPECT_EQ(t.fp.max_transfer_bytes, FpSettings{}.max_transfer_bytes);
  EXPECT_EQ(t.fp.frame_cost_ns, FpSettings{}.frame_cost_ns);
  EXPECT_EQ(t.fp.rmap_policy, "lru");
  EXPECT_EQ(t.fp.working_set_window, 0u);
  EXPECT_TRUE(t.fp.enabled);
  EXPECT_EQ(t.cp.mailbox_latency_ns, CpSettings{}.mailbox_latency_ns);
  EXPECT_EQ(t.cp.message_cost_ns, CpSettings{}.message_cost_ns);
  EXPECT_EQ(t.cp.fault_cost_ns, CpSettings{}.fault_cost_ns);
}

TEST(Validate, CodeBuiltTopologyErrorsHaveNoLine) {
  Topology t = default_topology();
  t.switches.push_back(SwitchConfig{"sw1", 1, 8, 700});
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'switches[1].domain': domain 1 is already used by switches[0]");
  t = default_topology();
  t.hosts[1].workload.block_size = 1000;
  EXPECT_EQ(validate_topology(t).message(),
            "<default>: field 'hosts[1].workload.block_size': must be a positive multiple of 512 "
            "(got 1000)");
}

// ---------------------------------------------------------------------------
// A file using every key

const char* const kFullExample = R"(
seed: 7
duration: 0.2
switches:
  - {name: sw0, domain: 1, ports: 16, latency: 700ns}
  - {name: sw1, domain: 2, ports: 32, latency: 1us}
isls:
  - {a: sw0:15, b: sw1:15, speed: 16GFC, delay: 2us, bb_credit: 40}
disks:
  - name: disk0
    wwpn: "50:00:00:00:00:00:01:00"
    wwnn: "50:00:00:00:00:00:01:ff"
    port: sw0:4
    speed: 8G
    delay: 750ns
    bb_credit: 16
    luns:
      - {lun: 0, size: 1TiB, block_size: 512}
      - {lun: 7, size: 262144, block_size: 4096}
    latency: 150us
    bandwidth: 2GB/s
    queue_depth: 128
  - name: disk1
    port: sw1:4
    luns: [{lun: 0, size: 512GiB}]
hosts:
  - name: host0
    wwpn: 0x1000000000000001
    port: sw0:0
    speed: 64G
    start: 5us
    workload: {read_percent: 70, block_size: 4KiB, queue_depth: 8, pattern: random,
               lba_start: 100, lba_count: 200000, rate_iops: 2500.5, io_timeout: 1.5s}
  - name: host1
    port: sw1:0
    workload: {read_percent: 0, block_size: 65536, queue_depth: 1024, pattern: sequential}
zones:
  - {name: z0, members: [host0, disk0, disk1]}
  - {name: z1, members: [host1, "50:00:00:00:00:00:01:00"]}
faults:
  - {at: 50ms, kind: medium_error, target: disk1, lun: 0, lba: 1000, count: 16}
  - {at: 60ms, kind: clear_medium_errors, target: disk1}
  - {at: 70ms, kind: disk_delay, target: disk0, delay: 3ms}
  - {at: 80ms, kind: disk_offline, target: disk0}
  - {at: 85ms, kind: disk_online, target: disk0}
  - {at: 90ms, kind: link_down, target: "sw0:15"}
  - {at: 95ms, kind: link_down, target: "sw1:0"}
  - {at: 100ms, kind: link_up, target: host1}
  - {at: 0, kind: medium_error, target: disk0, lun: 7, lba: 262143}
)";

TEST(FullExample, EveryField) {
  absl::StatusOr<Topology> parsed = parse_topology_yaml(doc(kFullExample), "full.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Topology& t = *parsed;
  EXPECT_EQ(t.source, "full.yaml");
  EXPECT_EQ(t.seed, 7u);
  EXPECT_EQ(t.duration_ns, 200 * kNsPerMs);

  ASSERT_EQ(t.switches.size(), 2u);
  EXPECT_EQ(t.switches[0].name, "sw0");
  EXPECT_EQ(t.switches[0].domain, 1);
  EXPECT_EQ(t.switches[0].ports, 16u);
  EXPECT_EQ(t.switches[0].latency_ns, 700u);
  EXPECT_EQ(t.switches[1].name, "sw1");
  EXPECT_EQ(t.switches[1].domain, 2);
  EXPECT_EQ(t.switches[1].ports, 32u);
  EXPECT_EQ(t.switches[1].latency_ns, 1000u);

  ASSERT_EQ(t.isls.size(), 1u);
  EXPECT_EQ(t.isls[0].a.switch_name, "sw0");
  EXPECT_EQ(t.isls[0].a.port, 15u);
  EXPECT_EQ(t.isls[0].b.switch_name, "sw1");
  EXPECT_EQ(t.isls[0].b.port, 15u);
  EXPECT_EQ(t.isls[0].link.speed, LinkSpeed::k16G);
  EXPECT_EQ(t.isls[0].link.propagation_ns, 2000u);
  EXPECT_EQ(t.isls[0].link.bb_credit, 40);

  ASSERT_EQ(t.disks.size(), 2u);
  const DiskConfig& d0 = t.disks[0];
  EXPECT_EQ(d0.name, "disk0");
  EXPECT_EQ(d0.wwpn, 0x5000000000000100u);
  EXPECT_EQ(d0.wwnn, 0x50000000000001FFu);
  EXPECT_EQ(d0.attach.port.switch_name, "sw0");
  EXPECT_EQ(d0.attach.port.port, 4u);
  EXPECT_EQ(d0.attach.link.speed, LinkSpeed::k8G);
  EXPECT_EQ(d0.attach.link.propagation_ns, 750u);
  EXPECT_EQ(d0.attach.link.bb_credit, 16);
  ASSERT_EQ(d0.luns.size(), 2u);
  EXPECT_EQ(d0.luns[0].lun, 0);
  EXPECT_EQ(d0.luns[0].blocks, uint64_t{1} << 31);
  EXPECT_EQ(d0.luns[0].block_size, 512u);
  EXPECT_EQ(d0.luns[1].lun, 7);
  EXPECT_EQ(d0.luns[1].blocks, 262144u);
  EXPECT_EQ(d0.luns[1].block_size, 4096u);
  EXPECT_EQ(d0.latency_ns, 150 * kNsPerUs);
  EXPECT_EQ(d0.bandwidth_mb_s, 2000u);
  EXPECT_EQ(d0.queue_depth, 128u);

  const DiskConfig& d1 = t.disks[1];  // defaults
  const DiskConfig defaults;
  EXPECT_EQ(d1.name, "disk1");
  EXPECT_EQ(d1.wwpn, wwpn_from_name("disk1"));
  EXPECT_EQ(d1.wwnn, 0u);
  EXPECT_EQ(d1.attach.port.switch_name, "sw1");
  EXPECT_EQ(d1.attach.port.port, 4u);
  EXPECT_EQ(d1.attach.link.speed, LinkParams{}.speed);
  EXPECT_EQ(d1.attach.link.propagation_ns, LinkParams{}.propagation_ns);
  EXPECT_EQ(d1.attach.link.bb_credit, LinkParams{}.bb_credit);
  ASSERT_EQ(d1.luns.size(), 1u);
  EXPECT_EQ(d1.luns[0].blocks, uint64_t{1} << 30);
  EXPECT_EQ(d1.luns[0].block_size, 512u);
  EXPECT_EQ(d1.latency_ns, defaults.latency_ns);
  EXPECT_EQ(d1.bandwidth_mb_s, defaults.bandwidth_mb_s);
  EXPECT_EQ(d1.queue_depth, defaults.queue_depth);

  ASSERT_EQ(t.hosts.size(), 2u);
  const HostConfig& h0 = t.hosts[0];
  EXPECT_EQ(h0.name, "host0");
  EXPECT_EQ(h0.wwpn, 0x1000000000000001u);
  EXPECT_EQ(h0.attach.port.switch_name, "sw0");
  EXPECT_EQ(h0.attach.port.port, 0u);
  EXPECT_EQ(h0.attach.link.speed, LinkSpeed::k64G);
  EXPECT_EQ(h0.start_ns, 5000u);
  EXPECT_EQ(h0.workload.read_percent, 70u);
  EXPECT_EQ(h0.workload.block_size, 4096u);
  EXPECT_EQ(h0.workload.queue_depth, 8u);
  EXPECT_EQ(h0.workload.pattern, AccessPattern::kRandom);
  EXPECT_EQ(h0.workload.lba_start, 100u);
  EXPECT_EQ(h0.workload.lba_count, 200000u);
  EXPECT_DOUBLE_EQ(h0.workload.rate_iops, 2500.5);
  EXPECT_EQ(h0.workload.io_timeout_ns, 1'500'000'000u);
  const HostConfig& h1 = t.hosts[1];
  EXPECT_EQ(h1.wwpn, wwpn_from_name("host1"));
  EXPECT_EQ(h1.start_ns, 0u);
  EXPECT_EQ(h1.workload.read_percent, 0u);
  EXPECT_EQ(h1.workload.block_size, 65536u);
  EXPECT_EQ(h1.workload.queue_depth, 1024u);
  EXPECT_EQ(h1.workload.pattern, AccessPattern::kSequential);
  EXPECT_EQ(h1.workload.lba_count, 0u);
  EXPECT_EQ(h1.workload.rate_iops, 0.0);
  EXPECT_EQ(h1.workload.io_timeout_ns, 2 * kNsPerSec);

  ASSERT_EQ(t.zones.size(), 2u);
  EXPECT_EQ(t.zones[0].name, "z0");
  EXPECT_EQ(t.zones[0].members, (std::vector<uint64_t>{h0.wwpn, d0.wwpn, d1.wwpn}));
  EXPECT_EQ(t.zones[1].name, "z1");
  EXPECT_EQ(t.zones[1].members, (std::vector<uint64_t>{h1.wwpn, 0x5000000000000100u}));

  ASSERT_EQ(t.faults.size(), 9u);
  const auto& f = t.faults;
  EXPECT_EQ(f[0].at_ns, 50 * kNsPerMs);
  EXPECT_EQ(f[0].kind, FaultKind::kMediumError);
  EXPECT_EQ(f[0].target, "disk1");
  EXPECT_EQ(f[0].lun, 0);
  EXPECT_EQ(f[0].lba, 1000u);
  EXPECT_EQ(f[0].count, 16u);
  EXPECT_EQ(f[1].kind, FaultKind::kClearMediumErrors);
  EXPECT_EQ(f[1].target, "disk1");
  EXPECT_EQ(f[2].kind, FaultKind::kDiskDelay);
  EXPECT_EQ(f[2].delay_ns, 3 * kNsPerMs);
  EXPECT_EQ(f[3].kind, FaultKind::kDiskOffline);
  EXPECT_EQ(f[4].kind, FaultKind::kDiskOnline);
  EXPECT_EQ(f[4].at_ns, 85 * kNsPerMs);
  EXPECT_EQ(f[5].kind, FaultKind::kLinkDown);
  EXPECT_EQ(f[5].target, "sw0:15");
  EXPECT_EQ(f[6].target, "host1");  // host1's switch port names host1's link
  EXPECT_EQ(f[7].kind, FaultKind::kLinkUp);
  EXPECT_EQ(f[7].target, "host1");
  EXPECT_EQ(f[8].at_ns, 0u);
  EXPECT_EQ(f[8].lun, 7);
  EXPECT_EQ(f[8].lba, 262143u);
  EXPECT_EQ(f[8].count, 1u);
}

TEST(FullExample, ReadmeExampleParses) {
  const char* root = std::getenv("SPLITPATH_SOURCE_DIR");
  if (root == nullptr) GTEST_SKIP() << "SPLITPATH_SOURCE_DIR is not set";
  std::ifstream in(std::filesystem::path(root) / "fabric_sim/topology/README.md");
  ASSERT_TRUE(in) << "cannot read the README";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const size_t section = readme.find("## Example");
  ASSERT_NE(section, std::string::npos);
  const size_t begin = readme.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const size_t end = readme.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  absl::StatusOr<Topology> t =
      parse_topology_yaml(readme.substr(begin + 8, end - begin - 8), "README.md");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->faults.size(), 4u);
}

// ---------------------------------------------------------------------------
// Files

TEST(LoadFile, MissingFileNamesThePath) {
  absl::StatusOr<Topology> t = load_topology_file("/nonexistent/dir/topo.yaml");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(t.status().message(),
            "/nonexistent/dir/topo.yaml: cannot open the topology file: No such file or directory");
}

TEST(LoadFile, DirectoryIsAnError) {
  absl::StatusOr<Topology> t = load_topology_file(std::filesystem::temp_directory_path());
  ASSERT_FALSE(t.ok());
  EXPECT_NE(std::string(t.status().message()).find("cannot read the topology file"),
            std::string::npos)
      << t.status();
}

TEST(LoadFile, ReadsAndNamesErrorsByPath) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("topology_test_" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << default_topology_yaml() << "bogus: 1\n";
  }
  absl::StatusOr<Topology> t = load_topology_file(path);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message().substr(0, path.string().size() + 1), path.string() + ":");
  {
    std::ofstream out(path);
    out << default_topology_yaml();
  }
  t = load_topology_file(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->source, path.string());
}

// ---------------------------------------------------------------------------
// Invalid documents: each names the exact line and field.

struct BadCase {
  const char* name;
  const char* yaml;
  const char* expected;
};

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

// Lines 1-6 of most cases: a valid fabric to break, ending in its hosts (BASE) or
// its disks (BASE_DISKS_LAST) so a case can append an entry to that list.
#define BASE_SWITCHES "switches:\n  - {name: sw0, domain: 1, ports: 16}\n"
#define BASE_DISKS "disks:\n  - {name: disk0, port: sw0:4, luns: [{lun: 0, size: 1000}]}\n"
#define BASE_HOSTS "hosts:\n  - {name: host0, port: sw0:0}\n"
#define BASE BASE_SWITCHES BASE_DISKS BASE_HOSTS
#define BASE_DISKS_LAST BASE_SWITCHES BASE_HOSTS BASE_DISKS

const BadCase kBadCases[] = {
    {"UnknownTopLevelKey", BASE "sed: 7\n",
     "t.yaml:7: field 'sed': unknown key (allowed: seed, duration, switches, isls, disks, hosts, "
     "zones, faults, volumes, virtual_targets, services, replications, fp, cp, replay)"},
    {"UnknownNestedKey",
     BASE "  - name: host1\n    port: sw0:1\n    workload:\n      blocksize: 4096\n",
     "t.yaml:10: field 'hosts[1].workload.blocksize': unknown key (allowed: read_percent, "
     "block_size, queue_depth, pattern, lba_start, lba_count, rate_iops, io_timeout, retries)"},
    {"BadSpeed", BASE "  - {name: host1, port: sw0:1,\n     speed: 10G}\n",
     "t.yaml:8: field 'hosts[1].speed': must be one of 8G, 16G, 32G, 64G (got 10G)"},
    {"DuplicateDomain",
     "switches:\n  - {name: sw0, domain: 1, ports: 16}\n  - {name: sw1, domain: 1, ports: 16}\n",
     "t.yaml:3: field 'switches[1].domain': domain 1 is already used by switches[0] (line 2)"},
    {"DomainOutOfRange", "switches:\n  - name: sw0\n    domain: 240\n    ports: 16\n",
     "t.yaml:3: field 'switches[0].domain': must be an integer in 1..239 (got 240)"},
    {"PortOutOfRange", BASE "  - {name: host1, port: sw0:16}\n",
     "t.yaml:7: field 'hosts[1].port': port 16 is out of range: sw0 has ports 0..15"},
    {"TwoNodesOnOnePort", BASE "  - {name: host1, port: sw0:4}\n",
     "t.yaml:7: field 'hosts[1].port': port sw0:4 is already used by disk0"},
    {"IslPortTaken",
     "switches:\n  - {name: sw0, domain: 1, ports: 16}\n  - {name: sw1, domain: 2, ports: 16}\n"
     "isls:\n  - {a: sw0:1, b: sw1:1}\n  - {a: sw0:1, b: sw1:2}\n",
     "t.yaml:6: field 'isls[1].a': port sw0:1 is already used by end a of isls[0] (line 5)"},
    {"UnknownSwitch", BASE "isls:\n  - {a: sw0:15, b: sw9:15}\n",
     "t.yaml:8: field 'isls[0].b': no switch named 'sw9'"},
    {"IslOnOneSwitch", BASE "isls:\n  - {a: sw0:15,\n     b: sw0:14}\n",
     "t.yaml:9: field 'isls[0].b': an ISL must join two different switches (both ends are on sw0)"},
    {"ZoneMemberUnknown", BASE "zones:\n  - name: z0\n    members: [host0,\n      disk9]\n",
     "t.yaml:10: field 'zones[0].members[1]': no host, disk or virtual target named 'disk9'"},
    {"ZoneMemberIsSwitch", BASE "zones:\n  - {name: z0, members: [host0, sw0]}\n",
     "t.yaml:8: field 'zones[0].members[1]': 'sw0' is a switch: zone members are hosts, disks "
     "and virtual targets"},
    {"ZoneMemberUnknownWwpn",
     BASE "zones:\n  - {name: z0, members: [host0, \"50:00:00:00:00:00:09:99\"]}\n",
     "t.yaml:8: field 'zones[0].members[1]': WWPN 50:00:00:00:00:00:09:99 is not the WWPN of any "
     "host, disk or virtual target"},
    {"BadWwpn", BASE "  - name: host1\n    port: sw0:1\n    wwpn: \"50:00:00:00:00:00:01\"\n",
     "t.yaml:9: field 'hosts[1].wwpn': must be a WWN like 50:00:00:00:00:00:01:00 or "
     "0x5000000000000100 (got '50:00:00:00:00:00:01')"},
    {"DuplicateWwpn",
     BASE "  - {name: host1, port: sw0:1, wwpn: 0x10}\n  - {name: host2, port: sw0:2, wwpn: "
          "0x10}\n",
     "t.yaml:8: field 'hosts[2].wwpn': WWPN 00:00:00:00:00:00:00:10 is already used by host1"},
    {"BadSizeSuffix",
     BASE_DISKS_LAST "  - name: disk1\n    port: sw0:5\n    luns:\n      - {lun: 0, size: 1TB}\n",
     "t.yaml:10: field 'disks[1].luns[0].size': unit 'TB' is ambiguous: use KiB, MiB, GiB, TiB or "
     "PiB (powers of 1024) (got 1TB)"},
    {"SizeNotWholeBlocks",
     BASE_DISKS_LAST
     "  - {name: disk1, port: sw0:5, luns: [{lun: 0, block_size: 4096, size: 6KiB}]}\n",
     "t.yaml:7: field 'disks[1].luns[0].size': must be a whole number of 4096-byte blocks (got "
     "6KiB)"},
    {"BadLunBlockSize",
     BASE_DISKS_LAST "  - {name: disk1, port: sw0:5, luns: [{lun: 0, block_size: 520, size: 9}]}\n",
     "t.yaml:7: field 'disks[1].luns[0].block_size': must be 512 or 4096 (got 520)"},
    {"DuplicateLun",
     BASE_DISKS_LAST
     "  - name: disk1\n    port: sw0:5\n    luns:\n      - {lun: 3, size: 8}\n      - {lun: 3, "
     "size: 8}\n",
     "t.yaml:11: field 'disks[1].luns[1].lun': LUN 3 is already defined at disks[1].luns[0] (line "
     "10)"},
    {"NoLuns", BASE_DISKS_LAST "  - {name: disk1, port: sw0:5, luns: []}\n",
     "t.yaml:7: field 'disks[1].luns': must list at least one LUN"},
    {"SyntaxErrorLine", BASE "isls:\n  - {a: sw0:15, b: sw1:15\nfaults: []\n",
     "t.yaml:9:7: YAML syntax error: end of map flow not found"},
    {"SyntaxErrorTab", "switches:\n\t- {name: sw0, domain: 1, ports: 16}\n",
     "t.yaml:2:2: YAML syntax error: illegal block entry"},
    {"MapWhereListExpected", "switches:\n  name: sw0\n  domain: 1\n",
     "t.yaml:1: field 'switches': must be a list (got a map)"},
    {"ListWhereMapExpected", BASE "  - [host1, sw0:1]\n",
     "t.yaml:7: field 'hosts[1]': must be a map with keys name, wwpn, wwnn, port, speed, delay, "
     "bb_credit, start, workload (got a list)"},
    {"ListWhereValueExpected", BASE "  - {name: [host1], port: sw0:1}\n",
     "t.yaml:7: field 'hosts[1].name': must be a single value (got a list)"},
    {"MissingValue", "seed:\nswitches:\n  - {name: sw0, domain: 1, ports: 16}\n",
     "t.yaml:1: field 'seed': needs a value"},
    {"MissingRequiredKey", BASE "  - name: host1\n    speed: 32G\n",
     "t.yaml:7: field 'hosts[1].port': is required"},
    {"DuplicateKey", "switches:\n  - name: sw0\n    domain: 1\n    ports: 16\n    name: sw1\n",
     "t.yaml:5: field 'switches[0].name': duplicate key (first given at line 2)"},
    {"NegativeQueueDepth",
     BASE "  - name: host1\n    port: sw0:1\n    workload: {queue_depth: -1}\n",
     "t.yaml:9: field 'hosts[1].workload.queue_depth': must be an integer in 1..1024 (got -1)"},
    {"NegativeTime", BASE "  - {name: host1, port: sw0:1, start: -5ms}\n",
     "t.yaml:7: field 'hosts[1].start': must be a time such as 500ns, 100us, 20ms or 1.5s (got "
     "-5ms)"},
    {"HugeSeed", "seed: 18446744073709551616\nswitches:\n  - {name: sw0, domain: 1, ports: 16}\n",
     "t.yaml:1: field 'seed': must be an integer in 0..18446744073709551615 (got "
     "18446744073709551616)"},
    {"HugeDuration", "duration: 1e30\nswitches:\n  - {name: sw0, domain: 1, ports: 16}\n",
     "t.yaml:1: field 'duration': is too large (got 1e30)"},
    {"HugeLbaRegion",
     BASE "  - name: host1\n    port: sw0:1\n    workload:\n      lba_start: 5\n      lba_count: "
          "18446744073709551615\n",
     "t.yaml:11: field 'hosts[1].workload.lba_count': lba_start + lba_count is too large"},
    {"LbaRegionPastLun",
     BASE "  - name: host1\n    port: sw0:1\n    workload:\n      lba_start: 900\n      lba_count: "
          "200\n",
     "t.yaml:11: field 'hosts[1].workload.lba_count': region [900, 1100) runs past the end of "
     "disk0 "
     "LUN 0 (1000 blocks)"},
    {"BlockSizeNotMultipleOf512",
     BASE
     "  - name: host1\n    port: sw0:1\n    workload:\n      read_percent: 50\n      block_size: "
     "1000\n",
     "t.yaml:11: field 'hosts[1].workload.block_size': must be a positive multiple of 512 (got "
     "1000)"},
    {"ReadPercentOver100", BASE "  - {name: host1, port: sw0:1, workload: {read_percent: 101}}\n",
     "t.yaml:7: field 'hosts[1].workload.read_percent': must be an integer in 0..100 (got 101)"},
    {"BadPattern", BASE "  - {name: host1, port: sw0:1, workload: {pattern: zigzag}}\n",
     "t.yaml:7: field 'hosts[1].workload.pattern': must be random or sequential (got 'zigzag')"},
    {"TimeWithoutUnit", "switches:\n  - {name: sw0, domain: 1, ports: 16, latency: 700}\n",
     "t.yaml:2: field 'switches[0].latency': needs a unit: ns, us, ms or s (got 700)"},
    {"ZeroDuration", "duration: 0s\nswitches:\n  - {name: sw0, domain: 1, ports: 16}\n",
     "t.yaml:1: field 'duration': must be greater than 0"},
    {"NameReused", BASE "  - {name: sw0, port: sw0:1}\n",
     "t.yaml:7: field 'hosts[1].name': name 'sw0' is already used by switches[0] (line 2)"},
    {"BadName", "switches:\n  - {name: 0sw, domain: 1, ports: 16}\n",
     "t.yaml:2: field 'switches[0].name': must be a name of letters, digits, '_', '-' and '.' that "
     "starts with a letter, at most 64 characters (got '0sw')"},
    {"BadPortRef", BASE "  - {name: host1, port: sw0}\n",
     "t.yaml:7: field 'hosts[1].port': must be SWITCH:PORT such as sw0:4, with a port in 0..255 "
     "(got 'sw0')"},
    {"NoSwitches", "hosts: []\n", "t.yaml:1: field 'switches': is required"},
    {"FaultKindInvalid", BASE "faults:\n  - {at: 1ms, kind: disk_explode, target: disk0}\n",
     "t.yaml:8: field 'faults[0].kind': must be one of medium_error, clear_medium_errors, "
     "disk_offline, disk_online, disk_delay, link_down, link_up, link_delay, dve_crash, "
     "dve_isolate, dve_rejoin (got 'disk_explode')"},
    {"FaultKeyNotForKind",
     BASE "faults:\n  - at: 1ms\n    kind: disk_offline\n    target: disk0\n    lba: 5\n",
     "t.yaml:11: field 'faults[0].lba': does not apply to kind 'disk_offline' (its keys: at, kind, "
     "target)"},
    {"FaultTargetUnknown", BASE "faults:\n  - {at: 1ms, kind: disk_offline,\n     target: disk7}\n",
     "t.yaml:9: field 'faults[0].target': kind 'disk_offline' needs a disk; 'disk7' does not "
     "exist"},
    {"FaultTargetIsHost",
     BASE "faults:\n  - {at: 1ms, kind: medium_error, target: host0, lba: 1}\n",
     "t.yaml:8: field 'faults[0].target': kind 'medium_error' needs a disk; 'host0' is a host"},
    {"FaultLunMissing",
     BASE "faults:\n  - {at: 1ms, kind: medium_error, target: disk0, lun: 2, lba: 1}\n",
     "t.yaml:8: field 'faults[0].lun': disk0 has no LUN 2 (its LUNs: 0)"},
    {"FaultPastEndOfLun",
     BASE "faults:\n  - {at: 1ms, kind: medium_error, target: disk0, lba: 990, count: 11}\n",
     "t.yaml:8: field 'faults[0].count': LBAs [990, 1001) run past the end of disk0 LUN 0 (1000 "
     "blocks)"},
    {"FaultLinkToEmptyPort", BASE "faults:\n  - {at: 1ms, kind: link_down, target: \"sw0:9\"}\n",
     "t.yaml:8: field 'faults[0].target': nothing is attached to sw0:9"},
    {"FaultAfterEnd", BASE "faults:\n  - {at: 2s, kind: disk_offline, target: disk0}\n",
     "t.yaml:8: field 'faults[0].at': is after the end of the run at 200ms (got 2s)"},
    {"SecondDocument", BASE "---\nseed: 2\n",
     "t.yaml:7: only one YAML document is allowed (a second one starts here)"},
    // yaml-cpp's LoadAll would loop forever on this (yaml-cpp issue #1040).
    {"StrayComma", "# comment\n, four disks\n" BASE,
     "t.yaml:2:1: YAML syntax error: unexpected ','"},
    {"EmptyDocument", "# nothing\n",
     "t.yaml:1: the file holds no YAML document (it must be a map with at least 'switches')"},
    {"ComplexKey", "? [a, b]\n: 1\n",
     "t.yaml:1: field '?': a key must be a plain name (got a list)"},
};

class BadDocument : public testing::TestWithParam<BadCase> {};

TEST_P(BadDocument, NamesLineAndField) {
  EXPECT_EQ(error_of(GetParam().yaml), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Topology, BadDocument, testing::ValuesIn(kBadCases),
                         [](const testing::TestParamInfo<BadCase>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------
// Robustness: damaged documents fail cleanly, with a located message.

void expect_clean(const std::string& yaml) {
  absl::StatusOr<Topology> t;
  ASSERT_NO_THROW(t = parse_topology_yaml(yaml, "t.yaml")) << yaml;
  if (!t.ok()) {
    const std::string message(t.status().message());
    ASSERT_EQ(message.rfind("t.yaml:", 0), 0u) << message;
  }
}

TEST(Robustness, EveryPrefixOfTheFullExample) {
  const std::string full = doc(kFullExample);
  for (size_t n = 0; n <= full.size(); ++n)
    expect_clean(full.substr(0, n));
}

TEST(Robustness, EveryCharacterReplaced) {
  const std::string full = doc(kFullExample);
  // One replacement per position, cycling through characters YAML gives meaning to.
  const char replacements[] = {':', '[', '-', '\t', '*', '\0', '{', '"', '&', ' ', '!'};
  for (size_t i = 0; i < full.size(); ++i) {
    std::string damaged = full;
    damaged[i] = replacements[i % sizeof replacements];
    expect_clean(damaged);
  }
}

TEST(Robustness, OddDocuments) {
  for (const char* yaml :
       {"",
        "~",
        "42",
        "[]",
        "{}",
        "- - -",
        ",",
        "&a ,",
        "!t ,",
        "[:",
        "{:",
        "- !+(.,.)",
        "&a [*a]",
        "a: &x [1]\nb: *x",
        "*undefined",
        "switches: &s [*s]",
        "switches: !!binary aGVsbG8=",
        "switches: [[[[[]]]]]",
        "switches: [{name: {a: b}, domain: {}, ports: []}]",
        "\xff\xfe\x00\x01",
        "key: \"\\u0000\"",
        "switches:\n  - {name: sw0, domain: 1, ports: 16}\nhosts: [~, ~]\n",
        "switches:\n  - {name: sw0, domain: 1, ports: 16}\nzones: [{name: z, members: [[a]]}]\n"}) {
    expect_clean(yaml);
  }
  expect_clean(std::string(100000, '['));
  expect_clean(std::string(100000, '{'));
  std::string deep;
  for (int i = 0; i < 5000; ++i)
    deep += std::string(i, ' ') + "a:\n";
  expect_clean(deep);
}

}  // namespace
}  // namespace splitpath::sim
