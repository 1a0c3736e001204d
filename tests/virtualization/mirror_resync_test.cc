// Mirror side states and fast resynchronization end to end (figures 30-31):
// a host keeps a read/write load on a volume mirrored on two disks while the
// link of one side's disk goes down and comes back. The side is DEAD while
// its disk is away (the load then writes a few age-list extents only), is
// resynchronized by itself when the disk returns, and is ALIVE again:
// - every block of both sides is identical afterwards and holds the last
//   acknowledged write, and every read during the run saw that too;
// - the resync copied the extents written while the side was DEAD, not the
//   volume;
// - the side's disk got no READ while DEAD or RESYNC; with the returning side
//   readable during its resync (a test-only switch) it does, and reads see
//   stale data, so the check can fail;
// - scheduled in the topology (`services: mirror_fail, mirror_return`), under
//   a host's verified workload: the run report shows the resync, the sides
//   match, no verify error; bad entries name file, line and field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "cp/control_path.h"
#include "fabric_sim/net/link.h"
#include "fabric_sim/run/report.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/volume_load.h"

namespace splitpath::testing {
namespace {

constexpr uint64_t kVolumeBlocks = 8192;
constexpr uint32_t kIoBlocks = 8;
constexpr uint64_t kSlots = kVolumeBlocks / kIoBlocks;
constexpr uint64_t kSideStart = 256;  // both sides: LUN 0 from block 256
// While the side is away the load writes slots [0, kDownSlots): 3 age extents
// of 512 blocks (256 KiB) out of the volume's 16.
constexpr uint64_t kDownSlots = 3 * 512 / kIoBlocks;

std::string resync_yaml() {
  return R"(seed: 30
duration: 1s
switches:
  - {name: sw0, domain: 1, ports: 8}
disks:
  - {name: disk0, port: sw0:4, speed: 8G, latency: 20us, luns: [{lun: 0, size: 8MiB}]}
  - {name: disk1, port: sw0:5, speed: 8G, latency: 30us, luns: [{lun: 0, size: 8MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {lba_count: 1000}}
volumes:
  - name: mirrored
    switch: sw0
    vsegs:
      - blocks: 8192
        mirror:
          sides:
            - {disk: disk0, lba: 256}
            - {disk: disk1, lba: 256}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: mirrored}]
zones:
  - {name: z0, members: [host0, vt0]}
)";
}

struct ResyncRun {
  uint64_t mismatches = 0;
  uint64_t differing_blocks = 0;
  uint64_t wrong_slots = 0;  // slots whose blocks on a side are not the last acknowledged write
  uint64_t side1_reads_while_out = 0;
  uint64_t written_lower = 0;  // extents surely written while the side was DEAD
  uint64_t written_upper = 0;  // extents possibly written then
  cp::MirrorReport report;
  bool came_back = false;
};

map::SideState side1(cp::ControlPath& cp) {
  return cp.mirrors()[0].sides[1].state;
}

ResyncRun run_kill_and_return(bool readable_resync) {
  ResyncRun out;
  sim::FabricOptions options;
  options.adjust_cp_config = [readable_resync](cp::CpConfig& c) {
    c.resync_side_readable_for_testing = readable_resync;
  };
  VirtualTestbed tb(resync_yaml(), 1, options);
  EXPECT_TRUE(tb.ok());
  if (!tb.ok()) return out;
  cp::ControlPath& cp = tb.virtualization().control_path();
  VolumeLoadShape shape;
  shape.slots = kSlots;
  shape.io_blocks = kIoBlocks;
  shape.write_percent = 50;
  shape.retry_failed_writes = true;
  VolumeLoad load(tb, shape, 30);
  load.prefill("disk0", kSideStart);
  load.prefill("disk1", kSideStart);
  load.run(200);
  // The side's disk leaves the fabric under load; from then on the load
  // writes the first three age extents only (and the writes in flight,
  // which its hosts retry).
  std::set<uint64_t> in_flight_at_kill;
  for (const auto& [slot, p] : load.in_flight)
    in_flight_at_kill.insert(slot * kIoBlocks / 512);
  load.window_end = kDownSlots;
  tb.fabric().link_of("disk1")->set_up(false);
  for (int i = 0; i < 2000 && side1(cp) != map::SideState::kDead; ++i)
    load.run(1);
  EXPECT_EQ(side1(cp), map::SideState::kDead);
  const uint64_t side1_reads = tb.disk("disk1").stats().reads;
  load.drain();
  const uint64_t writes_before = load.writes;
  load.run(400);
  load.drain();
  const uint64_t eb = cp.mirrors()[0].age_extent_blocks;
  out.written_lower = load.writes > writes_before ? kDownSlots * kIoBlocks / eb : 0;
  std::set<uint64_t> upper = in_flight_at_kill;
  for (uint64_t e = 0; e < kDownSlots * kIoBlocks / eb; ++e)
    upper.insert(e);
  out.written_upper = upper.size();
  // Back: the CP resynchronizes it by itself, under the load (everywhere).
  load.window_end = ~0ull;
  tb.fabric().link_of("disk1")->set_up(true);
  for (int i = 0; i < 20000; ++i) {
    load.run(1);
    const cp::MirrorReport m = cp.mirrors()[0];
    if (!m.resyncs.empty() && m.resyncs.back().state != cp::ResyncProgress::State::kRunning &&
        m.sides[1].state == map::SideState::kAlive) {
      out.came_back = true;
      break;
    }
  }
  out.side1_reads_while_out = tb.disk("disk1").stats().reads - side1_reads;
  load.run(200);
  load.drain();
  out.mismatches = load.mismatches;
  out.report = cp.mirrors()[0];
  const std::vector<uint8_t> a = tb.disk_bytes("disk0", 0, kSideStart, kVolumeBlocks);
  const std::vector<uint8_t> b = tb.disk_bytes("disk1", 0, kSideStart, kVolumeBlocks);
  for (uint64_t blk = 0; blk < kVolumeBlocks; ++blk) {
    if (!std::equal(a.begin() + blk * 512, a.begin() + (blk + 1) * 512, b.begin() + blk * 512))
      ++out.differing_blocks;
  }
  for (uint64_t s = 0; s < kSlots; ++s) {
    const std::vector<uint8_t> want = load.data(load.content[s]);
    const size_t at = s * kIoBlocks * 512;
    if (!std::equal(want.begin(), want.end(), a.begin() + at) ||
        !std::equal(want.begin(), want.end(), b.begin() + at)) {
      ++out.wrong_slots;
    }
  }
  return out;
}

TEST(MirrorResync, ASideKilledUnderLoadIsResynchronizedFromTheExtentsWrittenWhileItWasDown) {
  const ResyncRun r = run_kill_and_return(/*readable_resync=*/false);
  ASSERT_TRUE(r.came_back);
  EXPECT_EQ(r.mismatches, 0u);
  EXPECT_EQ(r.differing_blocks, 0u);
  EXPECT_EQ(r.wrong_slots, 0u);
  EXPECT_EQ(r.side1_reads_while_out, 0u);
  ASSERT_EQ(r.report.resyncs.size(), 1u);
  const cp::ResyncProgress& p = r.report.resyncs[0];
  EXPECT_EQ(p.state, cp::ResyncProgress::State::kDone);
  EXPECT_EQ(p.extents, kVolumeBlocks / r.report.age_extent_blocks);
  EXPECT_GE(p.stale_extents, r.written_lower);
  EXPECT_LE(p.stale_extents, r.written_upper);
  EXPECT_EQ(p.copied_extents, p.stale_extents);
  EXPECT_EQ(p.copied_blocks, p.stale_extents * r.report.age_extent_blocks);
  EXPECT_LT(p.copied_blocks, kVolumeBlocks / 2);
  // DEAD, RESYNC, ALIVE: three state changes, each a new generation.
  EXPECT_EQ(r.report.generation, 3u);
  RecordProperty("written_extents_while_down", static_cast<int>(r.written_lower));
  RecordProperty("resync_copied_blocks", static_cast<int>(p.copied_blocks));
  std::printf(
      "resync: %llu of %llu extents copied (%llu KiB); the load wrote %llu to %llu "
      "extents while the side was DEAD\n",
      static_cast<unsigned long long>(p.copied_extents), static_cast<unsigned long long>(p.extents),
      static_cast<unsigned long long>(p.copied_blocks / 2),
      static_cast<unsigned long long>(r.written_lower),
      static_cast<unsigned long long>(r.written_upper));
}

TEST(MirrorResync, WithTheReturningSideReadableItsStaleDataIsRead) {
  const ResyncRun r = run_kill_and_return(/*readable_resync=*/true);
  ASSERT_TRUE(r.came_back);
  EXPECT_GT(r.side1_reads_while_out, 0u);
}

// A host's verified random workload on the mirror; side 1 fails at 10 ms
// and returns at 25 ms, and its resync copies only what was written between.
std::string scheduled_yaml() {
  std::string y = resync_yaml();
  const std::string host = "  - {name: host0, port: sw0:0, workload: {lba_count: 1000}}\n";
  y.replace(y.find(host), host.size(),
            "  - {name: host0, port: sw0:0, workload: {read_percent: 50, block_size: 4096, "
            "queue_depth: 4, lba_count: 8192}}\n");
  y.replace(y.find("duration: 1s"), 12, "duration: 40ms");
  return y + R"(cp: {age_extent: 128KiB}
services:
  - {at: 10ms, mirror_fail: {volume: mirrored, side: 1}}
  - {at: 25ms, mirror_return: {volume: mirrored, side: 1, lba: 100}}
)";
}

TEST(MirrorResync, ScheduledInTheTopologyTheRunReportShowsTheResync) {
  auto topology = sim::parse_topology_yaml(scheduled_yaml(), "mirror.yaml");
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto fabric = sim::Fabric::build(*topology, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  sim::Fabric& f = **fabric;
  ASSERT_TRUE(f.run().ok());
  f.run_until(f.kernel().now() + 20 * sim::kNsPerMs);  // a resync still under way ends
  EXPECT_GT(f.host("host0")->stats().writes, 500u);
  EXPECT_EQ(f.host("host0")->stats().verify_errors, 0u);
  const nlohmann::ordered_json r = sim::make_report(f);
  EXPECT_EQ(r["services"][0]["kind"], "mirror_fail");
  EXPECT_EQ(r["services"][0]["state"], "done");
  EXPECT_EQ(r["services"][1]["kind"], "mirror_return");
  EXPECT_EQ(r["services"][1]["state"], "done");
  ASSERT_EQ(r["mirrors"].size(), 1u);
  const auto& m = r["mirrors"][0];
  EXPECT_EQ(m["generation"], 3u);
  EXPECT_EQ(m["age_extent_bytes"], 128u * 1024);
  EXPECT_EQ(m["sides"][1]["state"], "ALIVE");
  EXPECT_EQ(m["sides"][1]["died_because"], "failed by request");
  ASSERT_EQ(m["resyncs"].size(), 1u);
  const auto& rs = m["resyncs"][0];
  EXPECT_EQ(rs["state"], "done");
  EXPECT_EQ(rs["extents"], 32u);
  EXPECT_GT(rs["copied_extents"].get<uint64_t>(), 0u);
  EXPECT_EQ(rs["copied_bytes"].get<uint64_t>(), rs["copied_extents"].get<uint64_t>() * 128 * 1024);
  std::vector<uint8_t> a(kVolumeBlocks * 512), b(kVolumeBlocks * 512);
  f.disk("disk0")->store(0)->read(kSideStart * 512, a);
  f.disk("disk1")->store(0)->read(kSideStart * 512, b);
  EXPECT_TRUE(a == b);
  const std::string summary = sim::format_summary(r);
  EXPECT_NE(summary.find("mirror 'mirrored' VSEG 1: generation 3, sides ALIVE, ALIVE; resync of "
                         "side 1 done: "),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("service 0 at 10.000 ms: failing side 1 of 'mirrored': done"),
            std::string::npos)
      << summary;
}

std::string error_of(const std::string& extra) {
  const auto t = sim::parse_topology_yaml(resync_yaml() + extra, "mirror.yaml");
  return t.ok() ? std::string("(parsed)") : std::string(t.status().message());
}

TEST(MirrorResync, BadScheduledSideChangesNameFileLineAndField) {
  const std::string side =
      error_of("services:\n  - {at: 1ms, mirror_fail: {volume: mirrored, side: 2}}\n");
  EXPECT_NE(side.find("mirror.yaml:26: field 'services[0].mirror_fail.side'"), std::string::npos)
      << side;
  EXPECT_NE(side.find("side"), std::string::npos) << side;
  const std::string volume =
      error_of("services:\n  - {at: 1ms, mirror_return: {volume: nope, side: 0}}\n");
  EXPECT_NE(volume.find("no volume 'nope'"), std::string::npos) << volume;
  const std::string lba =
      error_of("services:\n  - {at: 1ms, mirror_fail: {volume: mirrored, side: 0, lba: 9000}}\n");
  EXPECT_NE(lba.find("lba"), std::string::npos) << lba;
  const std::string extent = error_of("cp: {age_extent: 100}\n");
  EXPECT_NE(extent.find("age_extent"), std::string::npos) << extent;
}

// A resync copies the returning side from the first ALIVE side; when that
// side dies in the middle, the rest must come from another ALIVE side: its
// copies from the dead side would bring back data older than the writes it
// missed since (torture seed 330 with shared mirrors: a side ALIVE again
// differed from the others). Three sides: side 2 is failed and returned
// under load, side 0 (its source) is failed while it resynchronizes; at
// the end sides 1 and 2 both hold every slot's last acknowledged write.
TEST(MirrorResync, WhenTheSourceOfAResyncDiesTheRestIsCopiedFromAnotherSide) {
  std::string yaml = resync_yaml();
  auto replace = [&](const std::string& from, const std::string& to) {
    yaml.replace(yaml.find(from), from.size(), to);
  };
  replace("  - {name: disk1, port: sw0:5,",
          "  - {name: disk2, port: sw0:6, speed: 8G, latency: 25us, luns: [{lun: 0, size: "
          "8MiB}]}\n  - {name: disk1, port: sw0:5,");
  replace("            - {disk: disk1, lba: 256}",
          "            - {disk: disk1, lba: 256}\n            - {disk: disk2, lba: 256}");
  VirtualTestbed tb(yaml);
  ASSERT_TRUE(tb.ok());
  cp::ControlPath& cp = tb.virtualization().control_path();
  VolumeLoadShape shape;
  shape.slots = kSlots;
  shape.io_blocks = kIoBlocks;
  shape.write_percent = 70;
  shape.retry_failed_writes = true;
  VolumeLoad load(tb, shape, 31);
  for (const char* d : {"disk0", "disk1", "disk2"})
    load.prefill(d, kSideStart);
  load.run(100);
  std::string error;
  bool failed = false;
  ASSERT_TRUE(cp.fail_mirror_side("mirrored", 0, 2, &error, [&](bool ok) { failed = ok; }))
      << error;
  for (int i = 0; i < 2000 && !failed; ++i)
    load.run(1);
  ASSERT_TRUE(failed);
  load.run(1500);  // every age extent written while side 2 is away
  bool returned = false;
  ASSERT_TRUE(cp.return_mirror_side("mirrored", 0, 2, &error, [&](bool ok) { returned = ok; }))
      << error;
  auto copied = [&] {
    const cp::MirrorReport m = cp.mirrors()[0];
    return m.resyncs.empty() ? uint64_t{0} : m.resyncs.back().copied_extents;
  };
  for (int i = 0; i < 20000 && copied() < 2; ++i)
    load.run(1);
  const cp::MirrorReport during = cp.mirrors()[0];
  ASSERT_FALSE(during.resyncs.empty());
  ASSERT_LT(during.resyncs.back().copied_extents, during.resyncs.back().stale_extents);
  ASSERT_TRUE(cp.fail_mirror_side("mirrored", 0, 0, &error)) << error;
  for (int i = 0; i < 40000 && !returned; ++i)
    load.run(1);
  ASSERT_TRUE(returned);
  load.run(100);
  load.drain();
  const cp::MirrorReport m = cp.mirrors()[0];
  EXPECT_EQ(m.sides[0].state, map::SideState::kDead);
  EXPECT_EQ(m.sides[1].state, map::SideState::kAlive);
  EXPECT_EQ(m.sides[2].state, map::SideState::kAlive);
  uint64_t wrong[3] = {0, 0, 0};
  for (uint64_t s = 0; s < kSlots; ++s) {
    const std::vector<uint8_t> want = load.data(load.content[s]);
    for (int side = 1; side <= 2; ++side) {
      const std::string disk = side == 1 ? "disk1" : "disk2";
      wrong[side] += tb.disk_bytes(disk, 0, kSideStart + s * kIoBlocks, kIoBlocks) != want;
    }
  }
  std::printf(
      "resync of side 2: %llu of %llu extents copied when side 0 died; slots not as "
      "last written: side 1 %llu, side 2 %llu; %llu read mismatches\n",
      static_cast<unsigned long long>(during.resyncs.back().copied_extents),
      static_cast<unsigned long long>(during.resyncs.back().stale_extents),
      static_cast<unsigned long long>(wrong[1]), static_cast<unsigned long long>(wrong[2]),
      static_cast<unsigned long long>(load.mismatches));
  EXPECT_EQ(wrong[1], 0u);
  EXPECT_EQ(wrong[2], 0u);
  EXPECT_EQ(load.mismatches, 0u);
}

}  // namespace
}  // namespace splitpath::testing
