// A mirrored volume served by two DVEs at once (figure 28), end to end:
// host0 writes it through sw0's virtual target, host1 through sw1's; the
// mirror's sides are disk0 (on sw0) and disk1 (on sw2, nearer sw1), so the
// two DVEs' writes reach the sides in different orders.
// - Writing the same blocks through both DVEs, the sides end identical: each
//   chunk is written by one DVE at a time (mirror-write oplocks handed over
//   between the DVEs, the loser's FP writes drained first). Without the
//   serialization (a test switch) the sides differ, so the check can fail.
// - Declared in a topology file, with host workloads on both switches and a
//   `dve_crash` fault: hosts verify every read, the sides match, the run
//   report lists both DVEs, sw1 evicted and the chunk reconciled.
// - sw1 loses power with writes in flight: sw0, needing a chunk sw1 owned,
//   evicts it once it does not answer, waits out its lease, reconciles every
//   chunk it owned (copied from the first side) and goes on: the sides end
//   identical, each slot holding an acknowledged write or one in flight at
//   the crash.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "cp/cluster/oplock_node.h"
#include "cp/control_path.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/report.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/volume_load.h"

namespace splitpath::testing {
namespace {

constexpr uint64_t kVolumeBlocks = 2048;
constexpr uint32_t kIoBlocks = 8;
constexpr uint64_t kSlots = kVolumeBlocks / kIoBlocks;
constexpr uint64_t kSideStart = 256;

std::string shared_mirror_yaml() {
  return R"(seed: 28
duration: 2s
switches:
  - {name: sw0, domain: 1, ports: 8}
  - {name: sw1, domain: 2, ports: 8}
  - {name: sw2, domain: 3, ports: 8}
isls:
  - {a: sw0:7, b: sw1:7, delay: 300us, speed: 8G, bb_credit: 2}
  - {a: sw0:6, b: sw2:6, delay: 300us}
  - {a: sw1:6, b: sw2:7}
disks:
  - {name: disk0, port: sw0:4, latency: 20us, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk1, port: sw2:4, latency: 20us, luns: [{lun: 0, size: 4MiB}]}
hosts:
  - {name: host0, port: sw0:0}
  - {name: host1, port: sw1:0}
volumes:
  - name: mirrored
    switch: sw0
    shared_with: [sw1]
    vsegs:
      - blocks: 2048
        mirror:
          sides:
            - {disk: disk0, lba: 256}
            - {disk: disk1, lba: 256}
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: mirrored}]}
  - {name: vt1, switch: sw1, luns: [{lun: 0, volume: mirrored}]}
zones:
  - {name: z0, members: [host0, vt0]}
  - {name: z1, members: [host1, vt1]}
cp: {mirror_write_chunk: 64KiB}
)";
}

// Slots whose blocks differ between the two sides.
uint64_t differing_slots(VirtualTestbed& tb) {
  uint64_t n = 0;
  for (uint64_t s = 0; s < kSlots; ++s) {
    const uint64_t lba = kSideStart + s * kIoBlocks;
    n += tb.disk_bytes("disk0", 0, lba, kIoBlocks) != tb.disk_bytes("disk1", 0, lba, kIoBlocks);
  }
  return n;
}

VolumeLoadShape write_load(const std::string& host) {
  VolumeLoadShape shape;
  shape.host = host;
  shape.slots = kSlots;
  shape.io_blocks = kIoBlocks;
  shape.write_percent = 100;
  shape.retry_failed_writes = true;
  return shape;
}

struct TwoWriters {
  uint64_t differing = 0;  // summed over the checkpoints
  uint64_t writes0 = 0, writes1 = 0, errors = 0;
  uint64_t handoffs = 0;  // authority given up by either DVE
};

TwoWriters write_through_both(bool serialize) {
  TwoWriters out;
  sim::FabricOptions options;
  options.adjust_cp_config = [serialize](cp::CpConfig& c) {
    c.skip_serialization_for_testing = !serialize;
  };
  VirtualTestbed tb(shared_mirror_yaml(), 1, options);
  EXPECT_TRUE(tb.ok());
  if (!tb.ok()) return out;
  VolumeLoad load0(tb, write_load("host0"), 1);
  VolumeLoad load1(tb, write_load("host1"), 2);
  load1.next_seed = 1'000'000;  // the hosts' data differ
  load0.prefill("disk0", kSideStart);
  load0.prefill("disk1", kSideStart);
  // Both hosts write the first 16 slots (in one chunk), over and over; the
  // sides are compared whenever both have drained.
  load0.window_end = load1.window_end = 16;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 100; ++i) {
      load0.run(1, 6);
      load1.run(1, 6);
    }
    load0.drain();
    load1.drain();
    out.differing += differing_slots(tb);
  }
  out.writes0 = load0.writes;
  out.writes1 = load1.writes;
  out.errors = load0.errors + load1.errors;
  out.handoffs =
      tb.stats("sw0").cp.dve_authority_given_up + tb.stats("sw1").cp.dve_authority_given_up;
  return out;
}

TEST(DveCluster, TwoDvesWritingOneMirrorKeepItsSidesIdentical) {
  const TwoWriters r = write_through_both(true);
  std::printf("writes through sw0 %llu, through sw1 %llu, authority handed over %llu times\n",
              static_cast<unsigned long long>(r.writes0),
              static_cast<unsigned long long>(r.writes1),
              static_cast<unsigned long long>(r.handoffs));
  EXPECT_GT(r.writes0, 100u);
  EXPECT_GT(r.writes1, 100u);
  EXPECT_GT(r.handoffs, 10u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.differing, 0u);
}

TEST(DveCluster, WithoutSerializationTheSidesDiffer) {
  const TwoWriters r = write_through_both(false);
  std::printf("unserialized: %llu slots differ between the sides\n",
              static_cast<unsigned long long>(r.differing));
  EXPECT_GT(r.differing, 0u);
}

TEST(DveCluster, ASurvivorEvictsACrashedDveAndReconcilesItsChunks) {
  VirtualTestbed tb(shared_mirror_yaml());
  ASSERT_TRUE(tb.ok());
  VolumeLoad load0(tb, write_load("host0"), 1);
  VolumeLoad load1(tb, write_load("host1"), 2);
  load1.next_seed = 1'000'000;
  load0.prefill("disk0", kSideStart);
  load0.prefill("disk1", kSideStart);
  // host0 writes the second half of the volume, host1 the first.
  load0.window_begin = kSlots / 2;
  load1.window_end = kSlots / 2;
  for (int i = 0; i < 400; ++i) {
    load0.run(1, 4);
    load1.run(1, 8);
  }
  // sw1 loses power with host1's writes in flight: some reached one side.
  std::map<uint64_t, std::set<uint64_t>> may_hold;  // slot -> seeds it may hold
  for (uint64_t s = 0; s < kSlots / 2; ++s)
    may_hold[s].insert(load1.content[s]);
  for (const auto& [slot, seed] : load1.writing)
    may_hold[slot].insert(seed);
  std::printf("host1: %llu writes acknowledged, %zu in flight at the crash\n",
              static_cast<unsigned long long>(load1.writes), load1.writing.size());
  tb.fabric().crash_dve(tb.sw("sw1"));
  tb.run_for(2 * sim::kNsPerMs);
  const uint64_t differing_at_crash = differing_slots(tb);
  // host0 now writes a slot of a chunk sw1 owned: sw0 evicts sw1 and
  // reconciles its chunks first.
  load0.drain();
  const auto r = tb.write("host0", 0, 0, pattern(777, kIoBlocks));
  EXPECT_EQ(r.status, fc::scsi_status::kGood);
  may_hold[0] = {777};
  tb.run_for(10 * sim::kNsPerMs);
  const cp::CpStats& stats = tb.stats("sw0").cp;
  std::printf("slots differing at the crash %llu; chunks reconciled %llu (%llu blocks)\n",
              static_cast<unsigned long long>(differing_at_crash),
              static_cast<unsigned long long>(stats.dve_reconciled_chunks),
              static_cast<unsigned long long>(stats.dve_reconciled_blocks));
  EXPECT_GT(differing_at_crash, 0u);
  EXPECT_GT(stats.dve_reconciled_chunks, 0u);
  ASSERT_NE(tb.fabric().storehouse(), nullptr);
  EXPECT_TRUE(tb.fabric().storehouse()->evicted(2));
  EXPECT_EQ(differing_slots(tb), 0u);
  // No acknowledged write lost: each slot holds its last acknowledged write,
  // or for host1's slots one in flight at the crash.
  uint64_t wrong = 0;
  for (uint64_t s = 0; s < kSlots; ++s) {
    const auto bytes = tb.disk_bytes("disk0", 0, kSideStart + s * kIoBlocks, kIoBlocks);
    std::set<uint64_t> seeds = s < kSlots / 2 ? may_hold[s] : std::set<uint64_t>{load0.content[s]};
    bool match = false;
    for (uint64_t seed : seeds)
      match = match || bytes == pattern(seed, kIoBlocks);
    wrong += !match;
  }
  EXPECT_EQ(wrong, 0u);
}

TEST(DveCluster, DataServicesOfASharedVolumeAreRefusedWithAReason) {
  VirtualTestbed tb(shared_mirror_yaml());
  ASSERT_TRUE(tb.ok());
  cp::ControlPath& cp = tb.virtualization("sw0").control_path();
  std::string error;
  EXPECT_FALSE(cp.take_incremental({"mirrored", "inc"}, &error));
  EXPECT_EQ(error,
            "volume 'mirrored' is served by several DVEs (shared_with): an incremental of a "
            "shared volume is not supported yet (only its mirror writes and side states, "
            "snapshots and migrations are coherent among the DVEs)");
  // A shared mirror cannot migrate (as an unshared one cannot either).
  EXPECT_FALSE(tb.virtualization("sw1").control_path().start_migration(
      cp::MigrationRequest{"mirrored", 0, tb.disk("disk0").wwpn(), 0, 3000}, &error));
  EXPECT_NE(error.find("only a VSEG on simple storage can migrate"), std::string::npos) << error;
}

// host0 and host1 write disjoint halves of the volume, verifying, while the
// whole volume is one mirror-write chunk: its authority moves between the
// DVEs all the time. sw1 crashes at 60 ms.
std::string workload_yaml() {
  std::string yaml = shared_mirror_yaml();
  auto replace = [&](const std::string& from, const std::string& to) {
    yaml.replace(yaml.find(from), from.size(), to);
  };
  replace("duration: 2s", "duration: 100ms");
  replace("  - {name: host0, port: sw0:0}",
          "  - {name: host0, port: sw0:0, workload: {read_percent: 50, queue_depth: 4, "
          "lba_count: 1024}}");
  replace("  - {name: host1, port: sw1:0}",
          "  - {name: host1, port: sw1:0, workload: {read_percent: 50, queue_depth: 4, "
          "lba_start: 1024, lba_count: 1024, io_timeout: 20ms}}");
  replace("cp: {mirror_write_chunk: 64KiB}", "cp: {mirror_write_chunk: 1MiB}");
  return yaml + "faults:\n  - {at: 60ms, kind: dve_crash, target: sw1}\n";
}

TEST(DveCluster, DeclaredInTheTopologyTheRunReportShowsTheCluster) {
  auto topology = sim::parse_topology_yaml(workload_yaml(), "dve.yaml");
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto fabric = sim::Fabric::build(*topology, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  sim::Fabric& f = **fabric;
  ASSERT_TRUE(f.run().ok());
  EXPECT_GT(f.host("host0")->stats().writes, 50u);
  EXPECT_GT(f.host("host1")->stats().writes, 20u);
  EXPECT_EQ(f.host("host0")->stats().verify_errors, 0u);
  EXPECT_EQ(f.host("host1")->stats().verify_errors, 0u);
  const nlohmann::ordered_json r = sim::make_report(f);
  ASSERT_TRUE(r.contains("dves"));
  ASSERT_EQ(r["dves"].size(), 2u);
  const auto& d0 = r["dves"][0];
  const auto& d1 = r["dves"][1];
  EXPECT_EQ(d0["switch"], "sw0");
  EXPECT_EQ(d0["state"], "online");
  EXPECT_EQ(d1["state"], "evicted");
  EXPECT_EQ(d0["evicted_peers"], 1u);
  EXPECT_EQ(d0["reconciled_chunks"], 1u);
  EXPECT_GT(d0["write_authority_won"].get<uint64_t>(), 5u);
  EXPECT_GT(d1["write_authority_given_up"].get<uint64_t>(), 5u);
  std::vector<uint8_t> a(kVolumeBlocks * 512), b(kVolumeBlocks * 512);
  f.disk("disk0")->store(0)->read(kSideStart * 512, a);
  f.disk("disk1")->store(0)->read(kSideStart * 512, b);
  EXPECT_TRUE(a == b);
  const std::string summary = sim::format_summary(r);
  EXPECT_NE(summary.find("DVE 2 (switch sw1): evicted"), std::string::npos) << summary;
}

}  // namespace
}  // namespace splitpath::testing
