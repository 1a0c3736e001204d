// Group-atomic snapshots end to end: a host runs chains of dependent writes
// over two volumes (write B to vol1 only after write A to vol0 completed) and
// a snapshot of both is taken as a group under that load; no snapshot pair
// may hold a B without its A. Taken one after the other instead, they can.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/report.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/fc/scsi_cdb.h"
#include "tests/support/virtual_testbed.h"

namespace splitpath::testing {
namespace {

constexpr uint64_t kChains = 32;  // one 4 KiB slot per chain in each volume
constexpr uint32_t kIoBlocks = 8;

std::string group_yaml() {
  return R"(seed: 8
switches: [{name: sw0, domain: 1, ports: 8}]
disks:
  - {name: disk0, port: sw0:2, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk1, port: sw0:3, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk2, port: sw0:4, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk3, port: sw0:5, luns: [{lun: 0, size: 4MiB}]}
hosts:
  - {name: host0, port: sw0:0}
volumes:
  - {name: vol0, switch: sw0, vsegs: [{disk: disk0, lba: 0, blocks: 2048}]}
  - {name: vol1, switch: sw0, vsegs: [{disk: disk1, lba: 0, blocks: 2048}]}
  - {name: snap0, switch: sw0, vsegs: [{disk: disk2, lba: 0, blocks: 2048}]}
  - {name: snap1, switch: sw0, vsegs: [{disk: disk3, lba: 0, blocks: 2048}]}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: vol0}, {lun: 1, volume: vol1}, {lun: 2, volume: snap0},
           {lun: 3, volume: snap1}]
zones: [{name: z0, members: [host0, vt0]}]
)";
}

std::vector<uint8_t> generation_data(uint64_t gen) {
  std::vector<uint8_t> d(kIoBlocks * 512, 0);
  for (uint32_t b = 0; b < kIoBlocks; ++b)
    std::memcpy(d.data() + b * 512, &gen, sizeof gen);
  return d;
}

uint64_t generation_of(const std::vector<uint8_t>& d, size_t offset) {
  uint64_t gen = 0;
  std::memcpy(&gen, d.data() + offset, sizeof gen);
  return gen;
}

// Chains of dependent writes: chain k writes generation g to vol0 slot k,
// and once that completed, generation g to vol1 slot k, then g + 1.
struct Chains {
  VirtualTestbed& tb;
  std::vector<uint64_t> gen = std::vector<uint64_t>(kChains, 1);
  std::vector<int> stage = std::vector<int>(kChains, 0);  // 0: A next, 1: B in flight...
  std::vector<std::shared_ptr<VirtualTestbed::Pending>> out =
      std::vector<std::shared_ptr<VirtualTestbed::Pending>>(kChains);
  uint64_t errors = 0;

  void step() {
    for (uint64_t k = 0; k < kChains; ++k) {
      if (out[k] && !out[k]->done) continue;
      if (out[k] && out[k]->result.status != fc::scsi_status::kGood) ++errors;
      const bool write_b = out[k] && stage[k] == 0;
      if (write_b) {
        stage[k] = 1;
        out[k] = tb.start("host0", 1, fc::make_write(k * kIoBlocks, kIoBlocks), 0,
                          generation_data(gen[k]));
      } else {
        if (out[k]) ++gen[k];
        stage[k] = 0;
        out[k] = tb.start("host0", 0, fc::make_write(k * kIoBlocks, kIoBlocks), 0,
                          generation_data(gen[k]));
      }
    }
  }
  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      step();
      tb.run_for(20 * sim::kNsPerUs);
    }
  }
};

// Chains whose snapshot of vol1 holds a B whose A the snapshot of vol0 lacks.
uint64_t torn_chains(VirtualTestbed& tb) {
  const sim::ScsiResult a = tb.read("host0", 2, 0, kChains * kIoBlocks);
  const sim::ScsiResult b = tb.read("host0", 3, 0, kChains * kIoBlocks);
  EXPECT_EQ(a.status, fc::scsi_status::kGood);
  EXPECT_EQ(b.status, fc::scsi_status::kGood);
  uint64_t torn = 0;
  for (uint64_t k = 0; k < kChains; ++k) {
    const uint64_t ga = generation_of(a.data_in, k * kIoBlocks * 512);
    const uint64_t gb = generation_of(b.data_in, k * kIoBlocks * 512);
    if (gb > ga) ++torn;
  }
  return torn;
}

TEST(GroupSnapshot, DependentWritesAreNeverSplitByTheGroupsPointInTime) {
  uint64_t torn = 0, rounds = 0;
  for (uint64_t seed_step : {150, 173, 201, 244, 290}) {
    VirtualTestbed tb(group_yaml(), 4);
    ASSERT_TRUE(tb.ok());
    cp::ControlPath& cp = tb.virtualization().control_path();
    Chains chains{tb};
    chains.run(static_cast<int>(seed_step));
    bool done = false;
    std::string error;
    ASSERT_TRUE(cp.take_snapshots({{"vol0", "snap0"}, {"vol1", "snap1"}}, &error, [&](bool ok) {
      done = ok;
    })) << error;
    for (int i = 0; i < 20000 && !done; ++i)
      chains.run(1);
    ASSERT_TRUE(done);
    chains.run(200);
    EXPECT_EQ(chains.errors, 0u);
    torn += torn_chains(tb);
    ++rounds;
  }
  EXPECT_EQ(torn, 0u) << "a snapshot holds a dependent write without the write it depended on";
}

// The control: two snapshots taken one after the other, each with its own
// point in time, can hold a B without its A — which is what the group
// prevents (and what shows the check above can fail).
TEST(GroupSnapshot, TakenOneAfterTheOtherTheSnapshotsCanTearDependentWrites) {
  uint64_t torn = 0;
  for (uint64_t seed_step : {150, 173, 201, 244, 290}) {
    VirtualTestbed tb(group_yaml(), 4);
    ASSERT_TRUE(tb.ok());
    cp::ControlPath& cp = tb.virtualization().control_path();
    Chains chains{tb};
    chains.run(static_cast<int>(seed_step));
    bool first = false, second = false;
    std::string error;
    ASSERT_TRUE(cp.take_snapshot({"vol0", "snap0"}, &error, [&](bool) { first = true; }));
    for (int i = 0; i < 20000 && !first; ++i)
      chains.run(1);
    chains.run(300);
    ASSERT_TRUE(cp.take_snapshot({"vol1", "snap1"}, &error, [&](bool) { second = true; }));
    for (int i = 0; i < 20000 && !second; ++i)
      chains.run(1);
    chains.run(200);
    torn += torn_chains(tb);
  }
  std::printf("snapshots taken one after the other: %llu torn chains in 5 runs\n",
              static_cast<unsigned long long>(torn));
  EXPECT_GT(torn, 0u);
}

TEST(GroupSnapshot, AGroupNamingASnapshotTwiceOrItsOwnSourceIsRefused) {
  VirtualTestbed tb(group_yaml(), 4);
  ASSERT_TRUE(tb.ok());
  cp::ControlPath& cp = tb.virtualization().control_path();
  std::string error;
  EXPECT_FALSE(cp.take_snapshots({{"vol0", "snap0"}, {"vol1", "snap0"}}, &error));
  EXPECT_NE(error.find("named twice"), std::string::npos) << error;
  EXPECT_FALSE(cp.take_snapshots({{"vol0", "snap0"}, {"snap0", "snap1"}}, &error));
  EXPECT_NE(error.find("taken in the same group"), std::string::npos) << error;
  EXPECT_FALSE(cp.take_snapshots({}, &error));
}

// The topology's `services` takes a group snapshot when `snapshot:` lists
// several; hosts write both sources until the workload ends, the snapshot is
// taken after that, so each snapshot must end up byte for byte its source's
// image once the sweep has pushed every chunk through the FPs. The run report
// lists the service, its state and each snapshot's progress.
std::string scheduled_group_yaml() {
  return R"(seed: 12
switches: [{name: sw0, domain: 1, ports: 8}]
disks:
  - {name: disk0, port: sw0:2, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk1, port: sw0:3, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk2, port: sw0:4, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk3, port: sw0:5, luns: [{lun: 0, size: 4MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {lba_count: 2048, read_percent: 30}}
volumes:
  - {name: vol0, switch: sw0, vsegs: [{disk: disk0, lba: 0, blocks: 2048, extent_blocks: 256}]}
  - {name: vol1, switch: sw0, vsegs: [{disk: disk1, lba: 0, blocks: 2048}]}
  - {name: snap0, switch: sw0, vsegs: [{disk: disk2, lba: 0, blocks: 2048}]}
  - {name: snap1, switch: sw0, vsegs: [{disk: disk3, lba: 0, blocks: 2048}]}
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol0}, {lun: 1, volume: vol1}]}
zones: [{name: z0, members: [host0, vt0]}]
services:
  - {at: 40ms, snapshot: [{source: vol0, name: snap0}, {source: vol1, name: snap1}]}
  - {at: 41ms, snapshot: {source: vol0, name: snap1}}
)";
}

std::vector<uint8_t> stored(sim::Fabric& fabric, const std::string& disk) {
  std::vector<uint8_t> out(2048 * 512);
  fabric.disk(disk)->store(0)->read(0, out);
  return out;
}

TEST(GroupSnapshot, ScheduledInTheTopologyEachSnapshotHoldsItsSourceAndTheReportSaysSo) {
  auto topology = sim::parse_topology_yaml(scheduled_group_yaml(), "group.yaml");
  ASSERT_TRUE(topology.ok()) << topology.status();
  topology->duration_ns = 30 * sim::kNsPerMs;
  auto fabric = sim::Fabric::build(*topology, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  sim::Fabric& f = **fabric;
  ASSERT_TRUE(f.run().ok());
  EXPECT_GT(f.host("host0")->stats().writes, 500u);
  EXPECT_EQ(f.host("host0")->stats().verify_errors, 0u);
  nlohmann::ordered_json before = sim::make_report(f);
  EXPECT_EQ(before["services"][0]["state"], "scheduled");
  f.run_until(200 * sim::kNsPerMs);  // the services' times, and the sweep after them

  EXPECT_EQ(stored(f, "disk2"), stored(f, "disk0"));
  EXPECT_EQ(stored(f, "disk3"), stored(f, "disk1"));
  const nlohmann::ordered_json r = sim::make_report(f);
  const auto& group = r["services"][0];
  EXPECT_EQ(group["kind"], "group_snapshot");
  EXPECT_EQ(group["state"], "done");
  ASSERT_EQ(group["snapshots"].size(), 2u);
  for (const auto& s : group["snapshots"]) {
    EXPECT_TRUE(s["ready"].get<bool>());
    EXPECT_TRUE(s["swept"].get<bool>());
    EXPECT_EQ(s["own_blocks"], 2048u);
  }
  // snap1 is already vol1's snapshot: the CP refuses the second service.
  EXPECT_EQ(r["services"][1]["state"], "refused");
  EXPECT_FALSE(r["services"][1]["error"].get<std::string>().empty());
  const std::string summary = sim::format_summary(r);
  EXPECT_NE(summary.find("snapshot 'snap0' of 'vol0', 'snap1' of 'vol1': done, 'snap0' 100% on "
                         "its own storage (swept), 'snap1' 100% on its own storage (swept)"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("service 1 at 41.000 ms: snapshot 'snap1' of 'vol0': refused ("),
            std::string::npos)
      << summary;
}

TEST(GroupSnapshot, AnEmptyScheduledGroupIsAnErrorAtItsLine) {
  const std::string yaml = scheduled_group_yaml() + "  - {at: 1ms, snapshot: []}\n";
  auto t = sim::parse_topology_yaml(yaml, "group.yaml");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("group.yaml:21"), std::string::npos) << t.status();
  EXPECT_NE(t.status().message().find("must list at least one {source, name}"), std::string::npos)
      << t.status();
}

}  // namespace
}  // namespace splitpath::testing
