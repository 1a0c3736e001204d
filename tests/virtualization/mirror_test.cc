// The write-splitting primitive end to end (RAID 1): hosts drive READ/WRITEs
// through the frames of the fabric to a volume mirrored on two disks; the FPs
// split writes to both sides and balance reads, the CP serializes what the
// FPs cannot (figures 16-17). Each side's store is then read directly:
// - one host: every block of every side equals what the host wrote;
// - two hosts on two ports writing the same blocks at once: the sides never
//   differ, and each block holds one of the writes that raced for it; with
//   serialization switched off (FP and CP) the same workload leaves the sides
//   different, so the check can fail;
// - a side failing (medium error, disk offline) in the middle of writes: a
//   host is told GOOD only for data on every side, and errors otherwise;
// - the topology file's mirror errors name file, line and field.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/fc/scsi_sense.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/port_fp_totals.h"

namespace splitpath::testing {
namespace {

using fpapi::FaultKind;

constexpr uint32_t kBlock = 512;
constexpr uint64_t kVolumeBlocks = 8192;
constexpr uint32_t kSides = 2;
const char* const kSideDisk[kSides] = {"disk0", "disk1"};
constexpr uint16_t kSideLun[kSides] = {0, 1};
constexpr uint64_t kSideStart[kSides] = {100, 2048};

// Two hosts on two ports of one switch; the sides sit behind links of
// different speeds and latencies, so frames of racing writes reach them in
// different orders.
std::string mirror_yaml() {
  return R"(seed: 17
duration: 100ms
switches:
  - {name: sw0, domain: 1, ports: 8}
disks:
  - {name: disk0, port: sw0:4, speed: 8G, latency: 40us, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk1, port: sw0:5, speed: 32G, latency: 130us, luns: [{lun: 0, size: 1MiB}, {lun: 1, size: 16MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {lba_count: 1000}}
  - {name: host1, port: sw0:1, workload: {lba_count: 1000}}
volumes:
  - name: mirrored
    switch: sw0
    vsegs:
      - blocks: 8192
        extent_blocks: 1024
        mirror:
          sides:
            - {disk: disk0, lba: 100, read_cost: 1}
            - {disk: disk1, lun: 1, lba: 2048, read_cost: 1}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: mirrored}]
zones:
  - {name: z0, members: [host0, host1, vt0]}
)";
}

// Every block of side `s` of the volume, straight from its disk's store.
std::vector<uint8_t> side_image(VirtualTestbed& tb, uint32_t s) {
  return tb.disk_bytes(kSideDisk[s], kSideLun[s], kSideStart[s], kVolumeBlocks);
}

// Volume blocks on which the sides differ.
uint64_t differing_blocks(VirtualTestbed& tb) {
  const std::vector<uint8_t> a = side_image(tb, 0);
  const std::vector<uint8_t> b = side_image(tb, 1);
  uint64_t n = 0;
  for (uint64_t blk = 0; blk < kVolumeBlocks; ++blk) {
    if (!std::equal(a.begin() + blk * kBlock, a.begin() + (blk + 1) * kBlock,
                    b.begin() + blk * kBlock)) {
      ++n;
    }
  }
  return n;
}

TEST(Mirror, EveryBlockIsOnBothSidesAndReadsAreBalanced) {
  VirtualTestbed tb(mirror_yaml(), 1);
  ASSERT_TRUE(tb.ok());
  std::vector<uint8_t> image(kVolumeBlocks * kBlock, 0);
  std::vector<bool> written(kVolumeBlocks, false);
  Rng rng{0x4d1220};
  uint64_t ios = 0;
  for (int i = 0; i < 300; ++i) {
    const uint32_t blocks = static_cast<uint32_t>(1 + rng.below(i % 10 == 9 ? 1000 : 64));
    uint64_t lba = rng.below(kVolumeBlocks - blocks + 1);
    if (i == 0) lba = 0;
    if (i == 1) lba = kVolumeBlocks - blocks;
    const std::vector<uint8_t> data = pattern(3000 + i, blocks);
    ASSERT_EQ(tb.write("host0", 0, lba, data).status, fc::scsi_status::kGood) << "write " << i;
    std::copy(data.begin(), data.end(), image.begin() + lba * kBlock);
    std::fill(written.begin() + lba, written.begin() + lba + blocks, true);
    ++ios;
  }
  const uint64_t disk_reads_before =
      tb.disk("disk0").stats().reads + tb.disk("disk1").stats().reads;
  for (int i = 0; i < 200; ++i) {
    const uint32_t blocks = static_cast<uint32_t>(1 + rng.below(i % 8 == 7 ? 900 : 48));
    const uint64_t lba = rng.below(kVolumeBlocks - blocks + 1);
    const sim::ScsiResult r = tb.read("host0", 0, lba, blocks);
    ASSERT_EQ(r.status, fc::scsi_status::kGood) << "read " << i;
    ASSERT_TRUE(std::equal(r.data_in.begin(), r.data_in.end(), image.begin() + lba * kBlock))
        << "read " << i << " at " << lba << " of " << blocks;
    ++ios;
  }
  // Both sides hold exactly what the host wrote, block for block.
  for (uint32_t s = 0; s < kSides; ++s) {
    const std::vector<uint8_t> side = side_image(tb, s);
    for (uint64_t b = 0; b < kVolumeBlocks; ++b) {
      if (!written[b]) continue;
      ASSERT_TRUE(std::equal(image.begin() + b * kBlock, image.begin() + (b + 1) * kBlock,
                             side.begin() + b * kBlock))
          << "volume block " << b << " on " << kSideDisk[s];
    }
  }
  EXPECT_EQ(differing_blocks(tb), 0u);
  // Nothing outside the sides' ranges was written.
  EXPECT_EQ(tb.disk_bytes("disk0", 0, kSideStart[0] - 1, 1), std::vector<uint8_t>(kBlock, 0));
  EXPECT_EQ(tb.disk_bytes("disk1", 1, kSideStart[1] - 1, 1), std::vector<uint8_t>(kBlock, 0));
  // Reads of equal cost went to both sides, evenly.
  const uint64_t r0 = tb.disk("disk0").stats().reads;
  const uint64_t r1 = tb.disk("disk1").stats().reads;
  RecordProperty("disk0_reads", static_cast<int>(r0));
  RecordProperty("disk1_reads", static_cast<int>(r1));
  EXPECT_GE(r0 + r1, disk_reads_before + 200);
  EXPECT_GE(r0 * 10, r1 * 8) << r0 << " vs " << r1;
  EXPECT_GE(r1 * 10, r0 * 8) << r0 << " vs " << r1;
  // The writes were split on the FP (one host, one port: nothing to
  // serialize), apart from the first touches of each extent.
  const auto s = tb.stats();
  const uint64_t fp = sum(s, &sim::PortFpStats::fp_completed);
  RecordProperty("fp_completed", static_cast<int>(fp));
  EXPECT_GE(fp * 100, ios * 80) << fp << " of " << ios << " on the FP";
  EXPECT_EQ(faults(s, FaultKind::kSerialization), 0u);
  EXPECT_EQ(faults(s, FaultKind::kCapacity), 0u);
}

struct RaceResult {
  uint64_t differing = 0;
  uint64_t checked = 0;
  uint64_t not_from_a_racer = 0;  // blocks holding none of the writes that raced for them
  uint64_t serialization_faults = 0;
  uint64_t revokes = 0;
  uint64_t errors = 0;
};

// Rounds of writes from both hosts at once into one small region (each host
// 4 in flight, never overlapping its own), every round waited for before the
// next. Afterwards every block must hold one of the writes of the last round
// that wrote it, the same on both sides.
RaceResult race(bool serialization) {
  sim::FabricOptions options;
  if (!serialization) {
    options.adjust_fp_config = [](fp::FastPathConfig& c) {
      c.skip_serialization_for_testing = true;
    };
    options.adjust_cp_config = [](cp::CpConfig& c) { c.skip_serialization_for_testing = true; };
  }
  RaceResult out;
  VirtualTestbed tb(mirror_yaml(), 1, options);
  if (!tb.ok()) return out;
  // The two sides order racing writes differently, as two disk designs may:
  // disk0 puts each data frame on the medium as it arrives, disk1 a whole
  // write when it completes (1 us later). Writes that never overlap in
  // flight end the same on both.
  tb.disk("disk1").set_late_writes_for_testing(sim::kNsPerUs);
  constexpr uint64_t kRegion = 96;  // crosses an extent boundary at 1024
  constexpr uint64_t kRegionStart = 1024 - 48;
  struct Write {
    uint64_t lba;
    uint32_t blocks;
    std::vector<uint8_t> data;
  };
  std::vector<std::vector<const Write*>> last(kRegion);  // racers of the last round per block
  std::vector<std::vector<Write>> rounds;
  Rng rng{0x5e71a1};
  for (int round = 0; round < 60; ++round) {
    rounds.emplace_back();
    std::vector<Write>& ws = rounds.back();
    for (int h = 0; h < 2; ++h) {
      // Four disjoint writes per host: the region cut in four quarters.
      for (int q = 0; q < 4; ++q) {
        const uint64_t quarter = kRegion / 4;
        const uint32_t blocks = static_cast<uint32_t>(1 + rng.below(quarter));
        const uint64_t lba = kRegionStart + q * quarter + rng.below(quarter - blocks + 1);
        ws.push_back(Write{lba, blocks, pattern(round * 100 + h * 10 + q, blocks)});
      }
    }
    std::vector<std::shared_ptr<VirtualTestbed::Pending>> pending;
    for (size_t i = 0; i < ws.size(); ++i) {
      // Interleave the hosts' submissions.
      const size_t k = (i % 2) * 4 + i / 2;
      const Write& w = ws[k];
      pending.push_back(
          tb.start(k < 4 ? "host0" : "host1", 0, fc::make_write(w.lba, w.blocks), 0, w.data));
    }
    std::vector<bool> good(ws.size(), false);
    for (size_t i = 0; i < pending.size(); ++i) {
      tb.wait(*pending[i]);
      const size_t k = (i % 2) * 4 + i / 2;
      good[k] = pending[i]->result.status == fc::scsi_status::kGood;
      if (!good[k]) ++out.errors;
    }
    std::vector<bool> touched(kRegion, false);
    for (size_t k = 0; k < ws.size(); ++k) {
      for (uint64_t b = ws[k].lba; b < ws[k].lba + ws[k].blocks; ++b) {
        const uint64_t i = b - kRegionStart;
        if (!touched[i]) last[i].clear();
        touched[i] = true;
        last[i].push_back(&ws[k]);
      }
    }
  }
  tb.run_for(sim::kNsPerMs);  // disk1's last writes reach its medium
  out.differing = differing_blocks(tb);
  const std::vector<uint8_t> side = side_image(tb, 0);
  for (uint64_t i = 0; i < kRegion; ++i) {
    if (last[i].empty()) continue;
    ++out.checked;
    const uint64_t b = kRegionStart + i;
    bool found = false;
    for (const Write* w : last[i]) {
      const auto at = w->data.begin() + (b - w->lba) * kBlock;
      found = found || std::equal(at, at + kBlock, side.begin() + b * kBlock);
    }
    if (!found) ++out.not_from_a_racer;
  }
  const auto s = tb.stats();
  out.serialization_faults = faults(s, FaultKind::kSerialization);
  out.revokes = s.cp.mirror_revokes;
  return out;
}

TEST(Mirror, RacingWritesFromTwoHostsNeverLeaveTheSidesDifferent) {
  const RaceResult r = race(/*serialization=*/true);
  RecordProperty("revokes", static_cast<int>(r.revokes));
  RecordProperty("serialization_faults", static_cast<int>(r.serialization_faults));
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.differing, 0u);
  EXPECT_EQ(r.not_from_a_racer, 0u);
  EXPECT_GT(r.checked, 80u);
  // Write authority moved between the two ports' FPs and the CP.
  EXPECT_GT(r.revokes, 10u);
}

TEST(Mirror, WithoutSerializationRacingWritesLeaveTheSidesDifferent) {
  const RaceResult r = race(/*serialization=*/false);
  RecordProperty("differing", static_cast<int>(r.differing));
  EXPECT_EQ(r.serialization_faults, 0u);
  EXPECT_EQ(r.revokes, 0u);
  EXPECT_GT(r.differing, 0u) << "the race check cannot tell serialization from none";
}

TEST(Mirror, OverlappingWritesOnOnePortAreSerializedByTheCp) {
  // One initiator with overlapping writes in flight at once (the simulated
  // hosts' own jobs never do this): the port's FP splits the first and
  // faults the others for serialization (figure 16); the CP takes the
  // extent's write authority from that FP, waits for its writes to drain,
  // writes each one itself and gives the extent back (figure 17).
  VirtualTestbed tb(mirror_yaml(), 1);
  ASSERT_TRUE(tb.ok());
  tb.disk("disk1").set_late_writes_for_testing(sim::kNsPerUs);
  ASSERT_EQ(tb.write("host0", 0, 2000, pattern(1, 8)).status, fc::scsi_status::kGood);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::vector<uint8_t>> data;
    std::vector<uint64_t> lba;
    std::vector<std::shared_ptr<VirtualTestbed::Pending>> pending;
    for (int i = 0; i < 4; ++i) {
      lba.push_back(2000 + (round + i) % 5);
      data.push_back(pattern(100 + round * 10 + i, 16));
      pending.push_back(tb.start("host0", 0, fc::make_write(lba.back(), 16), 0, data.back()));
    }
    for (const auto& p : pending) {
      tb.wait(*p);
      ASSERT_FALSE(p->result.timed_out);
      ASSERT_EQ(p->result.status, fc::scsi_status::kGood) << "round " << round;
    }
    tb.run_for(sim::kNsPerMs);
    ASSERT_EQ(differing_blocks(tb), 0u) << "round " << round;
    // Every block holds one of the writes that raced for it.
    const std::vector<uint8_t> side = side_image(tb, 0);
    for (uint64_t b = 2000; b < 2020 + 4; ++b) {
      bool covered = false;
      bool found = false;
      for (size_t i = 0; i < data.size(); ++i) {
        if (b < lba[i] || b >= lba[i] + 16) continue;
        covered = true;
        const auto at = data[i].begin() + (b - lba[i]) * kBlock;
        found = found || std::equal(at, at + kBlock, side.begin() + b * kBlock);
      }
      EXPECT_TRUE(!covered || found) << "round " << round << " block " << b;
    }
  }
  const auto s = tb.stats();
  RecordProperty("serialization_faults", static_cast<int>(faults(s, FaultKind::kSerialization)));
  RecordProperty("revokes", static_cast<int>(s.cp.mirror_revokes));
  EXPECT_GE(faults(s, FaultKind::kSerialization), 20u);
  EXPECT_GE(s.cp.mirror_revokes, 10u);
  // Authority came back to the FP: the last round's first write was split there.
  EXPECT_GE(sum(s, &sim::PortFpStats::fp_completed), 20u);
}

// A write's blocks, read back from each side.
bool on_side(VirtualTestbed& tb, uint32_t s, uint64_t lba, const std::vector<uint8_t>& data) {
  return tb.disk_bytes(kSideDisk[s], kSideLun[s], kSideStart[s] + lba, data.size() / kBlock) ==
         data;
}

TEST(Mirror, ASideWithAMediumErrorDiesAndTheWriteLandsOnTheOtherUntilItIsResynchronized) {
  VirtualTestbed tb(mirror_yaml(), 1);
  ASSERT_TRUE(tb.ok());
  const std::vector<uint8_t> before = pattern(1, 16);
  ASSERT_EQ(tb.write("host0", 0, 500, before).status, fc::scsi_status::kGood);
  // Side 1 fails writes to volume blocks [504, 508): it is marked DEAD
  // before the host is answered, and the write is done on side 0.
  tb.disk("disk1").add_medium_error(1, kSideStart[1] + 504, 4);
  const std::vector<uint8_t> after = pattern(2, 16);
  ASSERT_EQ(tb.write("host0", 0, 500, after).status, fc::scsi_status::kGood);
  EXPECT_TRUE(on_side(tb, 0, 500, after));
  EXPECT_FALSE(on_side(tb, 1, 500, after));
  EXPECT_GE(faults(tb.stats(), FaultKind::kDownstreamError), 1u);
  cp::ControlPath& cp = tb.virtualization().control_path();
  ASSERT_EQ(cp.mirrors().size(), 1u);
  EXPECT_EQ(cp.mirrors()[0].sides[1].state, map::SideState::kDead);
  EXPECT_EQ(cp.mirrors()[0].sides[0].state, map::SideState::kAlive);
  EXPECT_EQ(cp.stats().side_deaths, 1u);
  // Writes elsewhere go to side 0 only now; reads see them.
  const std::vector<uint8_t> other = pattern(3, 8);
  ASSERT_EQ(tb.write("host0", 0, 6000, other).status, fc::scsi_status::kGood);
  EXPECT_TRUE(on_side(tb, 0, 6000, other));
  EXPECT_FALSE(on_side(tb, 1, 6000, other));
  const sim::ScsiResult back = tb.read("host0", 0, 6000, 8);
  EXPECT_EQ(back.data_in, other);
  // The medium error repaired, the side returns: only the extents written
  // while it was DEAD are copied, and both sides agree again.
  tb.disk("disk1").clear_medium_errors();
  std::string error;
  bool resynced = false;
  ASSERT_TRUE(cp.return_mirror_side("mirrored", 0, 1, &error, [&](bool ok) { resynced = ok; }))
      << error;
  tb.run_for(50 * sim::kNsPerMs);
  ASSERT_TRUE(resynced);
  EXPECT_EQ(differing_blocks(tb), 0u);
  const cp::MirrorReport m = cp.mirrors()[0];
  EXPECT_EQ(m.sides[1].state, map::SideState::kAlive);
  ASSERT_EQ(m.resyncs.size(), 1u);
  // The age extents written while it was DEAD: [500, 516) and [6000, 6008).
  std::set<uint64_t> written;
  for (uint64_t b = 500; b < 516; ++b)
    written.insert(b / m.age_extent_blocks);
  for (uint64_t b = 6000; b < 6008; ++b)
    written.insert(b / m.age_extent_blocks);
  EXPECT_EQ(m.resyncs[0].stale_extents, written.size());
  EXPECT_EQ(m.resyncs[0].copied_blocks, written.size() * m.age_extent_blocks);
  EXPECT_LT(m.resyncs[0].copied_blocks, kVolumeBlocks);
}

TEST(Mirror, ASideGoingOfflineMidWriteIsNeverAcknowledged) {
  VirtualTestbed tb(mirror_yaml(), 1);
  ASSERT_TRUE(tb.ok());
  const std::vector<uint8_t> warm = pattern(9, 4);
  ASSERT_EQ(tb.write("host0", 0, 3000, warm).status, fc::scsi_status::kGood);
  // Writes in flight when side 1 goes offline: each ends GOOD only if its
  // data is on both sides.
  std::vector<std::shared_ptr<VirtualTestbed::Pending>> pending;
  std::vector<std::vector<uint8_t>> data;
  for (int i = 0; i < 4; ++i) {
    data.push_back(pattern(20 + i, 64));
    pending.push_back(tb.start("host0", 0, fc::make_write(3000 + i * 64, 64), 0, data.back()));
  }
  tb.run_for(20 * sim::kNsPerUs);
  tb.disk("disk1").set_offline(true);
  uint64_t good = 0;
  for (int i = 0; i < 4; ++i) {
    tb.wait(*pending[i], 5 * sim::kNsPerSec);
    const sim::ScsiResult& res = pending[i]->result;
    if (!res.timed_out && res.status == fc::scsi_status::kGood) {
      ++good;
      EXPECT_TRUE(on_side(tb, 0, 3000 + i * 64, data[i])) << i;
      EXPECT_TRUE(on_side(tb, 1, 3000 + i * 64, data[i])) << i;
    }
  }
  RecordProperty("acknowledged", static_cast<int>(good));
  // A write after the side went away is not acknowledged.
  const sim::ScsiResult r = tb.write("host0", 0, 4000, pattern(30, 8));
  EXPECT_TRUE(r.timed_out || r.status != fc::scsi_status::kGood);
}

std::string error_of(const std::string& yaml) {
  const auto t = sim::parse_topology_yaml(yaml, "test.yaml");
  return t.ok() ? std::string("(parsed)") : std::string(t.status().message());
}

std::string with_mirror(const std::string& from, const std::string& to) {
  std::string y = mirror_yaml();
  const size_t at = y.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) y.replace(at, from.size(), to);
  return y;
}

TEST(Mirror, TopologyErrorsNameFileLineAndField) {
  EXPECT_EQ(
      error_of(with_mirror("            - {disk: disk1, lun: 1, lba: 2048, read_cost: 1}\n", "")),
      "test.yaml:18: field 'volumes[0].vsegs[0].mirror.sides': must list 2 to 8 sides (got "
      "1)");
  EXPECT_EQ(error_of(with_mirror("{disk: disk1, lun: 1, lba: 2048, read_cost: 1}",
                                 "{disk: disk0, lba: 4000}")),
            "test.yaml:20: field 'volumes[0].vsegs[0].mirror.sides[1].lba': disk0 LUN 0 blocks "
            "[4000, 12192) overlap blocks [100, 8292) of volumes[0].vsegs[0].mirror.sides[0] "
            "(line 19)");
  EXPECT_EQ(error_of(with_mirror("lun: 1, lba: 2048", "lun: 0, lba: 0")),
            "test.yaml:15: field 'volumes[0].vsegs[0].blocks': blocks [0, 8192) run past the end "
            "of disk1 LUN 0 (2048 blocks)");
  EXPECT_EQ(error_of(with_mirror("read_cost: 1}\nvirtual", "read_cost: 300}\nvirtual")),
            "test.yaml:20: field 'volumes[0].vsegs[0].mirror.sides[1].read_cost': must be an "
            "integer in 0..255 (got 300)");
  EXPECT_EQ(error_of(with_mirror("{disk: disk0, lba: 100, read_cost: 1}", "{disk: disk7}")),
            "test.yaml:19: field 'volumes[0].vsegs[0].mirror.sides[0].disk': a VSEG lies on a "
            "disk; 'disk7' does not exist");
  EXPECT_EQ(error_of(with_mirror("        mirror:", "        lba: 5\n        mirror:")),
            "test.yaml:17: field 'volumes[0].vsegs[0].lba': a mirrored VSEG names its disks in "
            "mirror.sides");
  EXPECT_EQ(error_of(with_mirror("read_cost: 1}\nvirtual", "state: dead}\nvirtual")),
            "test.yaml:20: field 'volumes[0].vsegs[0].mirror.sides[1].state': unknown key "
            "(allowed: disk, lun, lba, read_cost)");
}

}  // namespace
}  // namespace splitpath::testing
