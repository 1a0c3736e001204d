// LUN masking on disk LUNs (`disks[i].luns[j].hosts`, LunConfig::initiators):
// parsing by host name and WWPN, every error with its file, line and field, and
// what masking changes in the checks of the hosts' LBA regions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fabric_sim/topology/topology_yaml.h"

namespace splitpath::sim {
namespace {

std::string error_of(const std::string& yaml) {
  absl::StatusOr<Topology> t = parse_topology_yaml(yaml, "t.yaml");
  return t.ok() ? "OK" : std::string(t.status().message());
}

// Lines 1-11: two hosts and a disk whose LUN list a case extends from line 12.
#define MBASE                                                           \
  "switches:\n"                                                         \
  "  - {name: sw0, domain: 1, ports: 16}\n"                             \
  "hosts:\n"                                                            \
  "  - {name: host0, wwpn: \"10:00:00:00:00:00:00:01\", port: sw0:0}\n" \
  "  - {name: host1, wwpn: \"10:00:00:00:00:00:00:02\", port: sw0:1}\n" \
  "disks:\n"                                                            \
  "  - name: disk0\n"                                                   \
  "    wwpn: \"50:00:00:00:00:00:01:00\"\n"                             \
  "    port: sw0:4\n"                                                   \
  "    luns:\n"                                                         \
  "      - {lun: 0, size: 1000}\n"

TEST(DiskLunMasking, HostsByNameAndWwpn) {
  auto t = parse_topology_yaml(MBASE
                               "      - {lun: 1, size: 1000, hosts: [host1]}\n"
                               "      - lun: 2\n"
                               "        size: 1000\n"
                               "        hosts: [\"10:00:00:00:00:00:00:02\", host0]\n",
                               "t.yaml");
  ASSERT_TRUE(t.ok()) << t.status().message();
  const std::vector<LunConfig>& luns = t->disks[0].luns;
  ASSERT_EQ(luns.size(), 3u);
  EXPECT_TRUE(luns[0].initiators.empty()) << "no 'hosts': every initiator sees it";
  EXPECT_EQ(luns[1].initiators, (std::vector<uint64_t>{0x1000000000000002ull}));
  EXPECT_EQ(luns[2].initiators,
            (std::vector<uint64_t>{0x1000000000000002ull, 0x1000000000000001ull}));
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
    {"EmptyList", MBASE "      - {lun: 1, size: 1000, hosts: []}\n",
     "t.yaml:12: field 'disks[0].luns[1].hosts': must list at least one host (leave 'hosts' out "
     "to let every host see the LUN)"},
    {"NotAList", MBASE "      - {lun: 1, size: 1000, hosts: host0}\n",
     "t.yaml:12: field 'disks[0].luns[1].hosts': must be a list (got a single value)"},
    {"UnknownHost", MBASE "      - {lun: 1, size: 1000, hosts: [host0, hostx]}\n",
     "t.yaml:12: field 'disks[0].luns[1].hosts[1]': no host named 'hostx'"},
    {"NamesADisk", MBASE "      - {lun: 1, size: 1000,\n         hosts: [disk0]}\n",
     "t.yaml:13: field 'disks[0].luns[1].hosts[0]': 'disk0' is a disk: LUN masking lists hosts"},
    {"NamesASwitch", MBASE "      - {lun: 1, size: 1000, hosts: [sw0]}\n",
     "t.yaml:12: field 'disks[0].luns[1].hosts[0]': 'sw0' is a switch: LUN masking lists hosts"},
    {"BadWwpn", MBASE "      - {lun: 1, size: 1000, hosts: [\"10:00:00\"]}\n",
     "t.yaml:12: field 'disks[0].luns[1].hosts[0]': must name a host or be a WWPN like "
     "10:00:00:00:00:00:00:01 (got '10:00:00')"},
    {"WwpnOfNoHost", MBASE "      - {lun: 1, size: 1000, hosts: [\"10:00:00:00:00:00:00:09\"]}\n",
     "t.yaml:12: field 'disks[0].luns[1].hosts[0]': WWPN 10:00:00:00:00:00:00:09 is not the WWPN "
     "of any host"},
    {"WwpnOfTheDisk",
     MBASE "      - lun: 1\n        size: 1000\n        hosts:\n          - host0\n"
           "          - \"50:00:00:00:00:00:01:00\"\n",
     "t.yaml:16: field 'disks[0].luns[1].hosts[1]': WWPN 50:00:00:00:00:00:01:00 is disk0's, not "
     "a host's"},
    {"ListedTwice",
     MBASE "      - {lun: 1, size: 1000, hosts: [host1, \"10:00:00:00:00:00:00:02\"]}\n",
     "t.yaml:12: field 'disks[0].luns[1].hosts[1]': host1 is listed twice"},
    {"UnknownLunKey", MBASE "      - {lun: 1, size: 1000, host: [host0]}\n",
     "t.yaml:12: field 'disks[0].luns[1].host': unknown key (allowed: lun, size, block_size, "
     "hosts)"},
    {"BehindAVolume",
     MBASE "      - {lun: 1, size: 1000, hosts: [host0]}\n"
           "volumes:\n"
           "  - {name: vol0, switch: sw0, vsegs: [{disk: disk0, lun: 1, blocks: 100}]}\n",
     "t.yaml:12: field 'disks[0].luns[1].hosts': disk0 LUN 1 backs volumes[0].vsegs[0] (line 14): "
     "the switch's virtual initiators must see it, so it cannot be masked to hosts (leave 'hosts' "
     "out)"},
};

class BadDiskLunMasking : public testing::TestWithParam<BadCase> {};

TEST_P(BadDiskLunMasking, NamesLineAndField) {
  EXPECT_EQ(error_of(GetParam().yaml), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Topology, BadDiskLunMasking, testing::ValuesIn(kBadCases),
                         [](const testing::TestParamInfo<BadCase>& info) {
                           return std::string(info.param.name);
                         });

// A host's LBA region must fit every disk LUN it sees, and only those: a LUN
// masked away from it does not bound its region.
TEST(DiskLunMasking, HostRegionNeedFitOnlyTheLunsItSees) {
  // host1's job starts at LBA 500, past the end of the 100-block LUN 1.
  auto with_host1_region = [](std::string yaml) {
    const std::string host1 = "port: sw0:1}";
    yaml.replace(yaml.find(host1), host1.size(), "port: sw0:1, workload: {lba_start: 500}}");
    return yaml;
  };
  EXPECT_EQ(error_of(with_host1_region(MBASE "      - {lun: 1, size: 100, hosts: [host0]}\n")),
            "OK");
  EXPECT_EQ(error_of(with_host1_region(MBASE "      - {lun: 1, size: 100}\n")),
            "t.yaml:5: field 'hosts[1].workload.lba_start': lba_start 500 is beyond the end of "
            "disk0 LUN 1 (100 blocks)");
  EXPECT_EQ(error_of(with_host1_region(MBASE "      - {lun: 1, size: 100, hosts: [host1]}\n")),
            "t.yaml:5: field 'hosts[1].workload.lba_start': lba_start 500 is beyond the end of "
            "disk0 LUN 1 (100 blocks)");
}

}  // namespace
}  // namespace splitpath::sim
