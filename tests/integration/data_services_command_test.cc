// The command line's data services: `splitpath run TOPOLOGY --replication
// YAML --service YAML` replicates journaled volumes to a remote array and
// fails and returns a mirror side, as the topology's `replications` and
// `services` lists would; the JSON report shows both; a bad entry is a usage
// error naming the option and the field.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "nlohmann/json.hpp"
#include "tests/support/run_command.h"

namespace splitpath::sim {
namespace {

const std::string kSplitpath = SPLITPATH_BINARY;

constexpr const char* kTopology = R"(seed: 5
duration: 30ms
switches:
  - {name: sw0, domain: 1, ports: 8}
  - {name: sw1, domain: 2, ports: 8}
isls:
  - {a: sw0:7, b: sw1:7, speed: 8G, delay: 100us, bb_credit: 400}
disks:
  - {name: disk0, port: sw0:4, luns: [{lun: 0, size: 8MiB}]}
  - {name: disk1, port: sw0:5, luns: [{lun: 0, size: 8MiB}, {lun: 1, size: 32MiB}]}
  - {name: remote, port: sw1:4, luns: [{lun: 0, size: 16MiB}, {lun: 1, size: 4MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {read_percent: 30, block_size: 4096, queue_depth: 4, lba_count: 2048}}
volumes:
  - name: jvol
    switch: sw0
    vsegs:
      - blocks: 2048
        journal:
          data: {disk: disk0, lba: 0}
          journal: {disk: disk1, lun: 1, lba: 0, blocks: 19200}
          journal_blocks: 96
  - name: mvol
    switch: sw0
    vsegs:
      - blocks: 2048
        mirror:
          sides:
            - {disk: disk0, lba: 4096}
            - {disk: disk1, lba: 4096}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: jvol}, {lun: 1, volume: mvol}]
zones:
  - {name: z0, members: [host0, vt0]}
)";

std::string topology_file() {
  const std::string path = ::testing::TempDir() + "/data_services_command.yaml";
  std::ofstream(path) << kTopology;
  return path;
}

TEST(DataServicesCommand, ReplicationAndMirrorSideChangesFromTheCommandLine) {
  const std::string cmd =
      kSplitpath + " run " + topology_file() +
      " --json --replication '{name: r0, switch: sw0, volumes: [jvol], interval: 2ms, staging: "
      "{disk: remote, blocks: 16384}, images: [{volume: jvol, disk: remote, lun: 1}]}'"
      " --service '{at: 5ms, mirror_fail: {volume: mvol, side: 1}}'"
      " --service '{at: 15ms, mirror_return: {volume: mvol, side: 1}}'";
  const auto r = splitpath::testing::run_command(cmd, /*with_stderr=*/false);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verify_errors"], 0);
  ASSERT_EQ(j["replications"].size(), 1u);
  EXPECT_EQ(j["replications"][0]["state"], "running");
  EXPECT_GT(j["replications"][0]["epochs_applied"].get<uint64_t>(), 5u);
  EXPECT_EQ(j["services"][0]["kind"], "mirror_fail");
  EXPECT_EQ(j["services"][0]["state"], "done");
  EXPECT_EQ(j["services"][1]["kind"], "mirror_return");
  EXPECT_EQ(j["services"][1]["state"], "done");
  ASSERT_EQ(j["mirrors"].size(), 1u);
  EXPECT_EQ(j["mirrors"][0]["sides"][1]["state"], "ALIVE");
  EXPECT_EQ(j["mirrors"][0]["resyncs"][0]["state"], "done");
}

TEST(DataServicesCommand, ABadReplicationIsAUsageErrorNamingTheField) {
  const auto r = splitpath::testing::run_command(
      kSplitpath + " run " + topology_file() +
      " --replication '{name: r0, switch: sw0, volumes: [mvol], staging: {disk: remote, blocks: "
      "100}, images: [{volume: mvol, disk: remote, lun: 1}]}'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("--replication #1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("volume 'mvol' has a VSEG that is not journaled"), std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace splitpath::sim
