// The stripe of mirrors (RAID 10) end to end: hosts drive READ/WRITEs through
// the frames of the fabric to a volume striped over two columns, each a
// mirror of two disks. I/Os inside one stripe unit are served by the FPs
// (a read from one side of the unit's column, a write split to both sides
// of it); those crossing units fault to the CP (kSpansStripeUnits), which
// cuts them per unit and writes each piece to both sides of its column.
// Each disk's store is then read directly:
// - every block of the volume reads back as written, and is on every side
//   of the column the stripe puts it in, at the column LBA worked out here
//   by hand;
// - two hosts on two ports writing the same blocks at once: the sides of
//   every column never differ; with serialization switched off (FP and CP)
//   the same workload leaves them different, so the check can fail;
// - the topology file's RAID 10 errors name file, line and field.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fabric_sim/topology/topology_yaml.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/port_fp_totals.h"

namespace splitpath::testing {
namespace {

using fpapi::FaultKind;

constexpr uint32_t kBlock = 512;
constexpr uint64_t kUnit = 64;  // 32KiB in 512-byte blocks
constexpr uint32_t kColumns = 2;
constexpr uint32_t kSides = 2;
constexpr uint64_t kVolumeBlocks = 8192;
constexpr uint64_t kColumnBlocks = kVolumeBlocks / kColumns;
// Side s of column c.
const char* const kDisk[kColumns][kSides] = {{"disk0", "disk1"}, {"disk2", "disk3"}};
constexpr uint16_t kLun[kColumns][kSides] = {{0, 1}, {0, 0}};
constexpr uint64_t kStart[kColumns][kSides] = {{100, 2048}, {512, 0}};

// Two hosts on two ports; the disks sit behind links of different speeds
// and latencies, so frames of racing writes reach a column's sides in
// different orders.
std::string raid10_yaml() {
  return R"(seed: 23
duration: 100ms
switches:
  - {name: sw0, domain: 1, ports: 8}
disks:
  - {name: disk0, port: sw0:4, speed: 8G, latency: 40us, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk1, port: sw0:5, speed: 32G, latency: 130us, luns: [{lun: 0, size: 1MiB}, {lun: 1, size: 16MiB}]}
  - {name: disk2, port: sw0:6, speed: 16G, latency: 60us, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk3, port: sw0:7, speed: 32G, latency: 110us, luns: [{lun: 0, size: 16MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {lba_count: 1000}}
  - {name: host1, port: sw0:1, workload: {lba_count: 1000}}
volumes:
  - name: raid10
    switch: sw0
    vsegs:
      - blocks: 8192
        extent_blocks: 1024
        stripe:
          unit: 32KiB
          columns:
            - mirror:
                sides:
                  - {disk: disk0, lba: 100, read_cost: 1}
                  - {disk: disk1, lun: 1, lba: 2048, read_cost: 1}
            - mirror:
                sides:
                  - {disk: disk2, lba: 512}
                  - {disk: disk3}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: raid10}]
zones:
  - {name: z0, members: [host0, host1, vt0]}
)";
}

// Worked out by hand: unit u = b / 64 is on column u % 2 at column block
// (u / 2) * 64 + b % 64.
struct Place {
  uint32_t column;
  uint64_t column_lba;
};
Place place_of(uint64_t b) {
  const uint64_t u = b / kUnit;
  return {static_cast<uint32_t>(u % kColumns), (u / kColumns) * kUnit + b % kUnit};
}

// Every column block of side `s` of column `c`, straight from its disk.
std::vector<uint8_t> side_image(VirtualTestbed& tb, uint32_t c, uint32_t s) {
  return tb.disk_bytes(kDisk[c][s], kLun[c][s], kStart[c][s], kColumnBlocks);
}

// Column blocks on which the sides of some column differ.
uint64_t differing_blocks(VirtualTestbed& tb) {
  uint64_t n = 0;
  for (uint32_t c = 0; c < kColumns; ++c) {
    const std::vector<uint8_t> a = side_image(tb, c, 0);
    for (uint32_t s = 1; s < kSides; ++s) {
      const std::vector<uint8_t> b = side_image(tb, c, s);
      for (uint64_t blk = 0; blk < kColumnBlocks; ++blk) {
        if (!std::equal(a.begin() + blk * kBlock, a.begin() + (blk + 1) * kBlock,
                        b.begin() + blk * kBlock)) {
          ++n;
        }
      }
    }
  }
  return n;
}

TEST(Raid10, EveryBlockIsOnEverySideOfItsColumn) {
  VirtualTestbed tb(raid10_yaml(), 1);
  ASSERT_TRUE(tb.ok());
  std::vector<uint8_t> image(kVolumeBlocks * kBlock, 0);
  Rng rng{0x4a1d10};
  uint64_t in_unit = 0;
  uint64_t crossing = 0;
  // The whole volume written, in I/Os that fit in a unit and I/Os that cross
  // units (up to 5), then rewritten at random.
  auto write = [&](uint64_t lba, uint32_t blocks, uint64_t seed) {
    const std::vector<uint8_t> data = pattern(seed, blocks);
    ASSERT_EQ(tb.write("host0", 0, lba, data).status, fc::scsi_status::kGood)
        << "write at " << lba << " of " << blocks;
    std::copy(data.begin(), data.end(), image.begin() + lba * kBlock);
    (lba / kUnit == (lba + blocks - 1) / kUnit ? in_unit : crossing) += 1;
  };
  for (uint64_t lba = 0; lba < kVolumeBlocks;) {
    const uint32_t blocks = static_cast<uint32_t>(
        std::min<uint64_t>(kVolumeBlocks - lba, 1 + rng.below(lba % 3 == 0 ? 300 : 40)));
    write(lba, blocks, 5000 + lba);
    lba += blocks;
  }
  for (int i = 0; i < 300; ++i) {
    const uint32_t blocks = static_cast<uint32_t>(1 + rng.below(i % 4 == 3 ? 320 : 64));
    write(rng.below(kVolumeBlocks - blocks + 1), blocks, 9000 + i);
  }
  // Random reads, in-unit and crossing, read back what was written.
  for (int i = 0; i < 200; ++i) {
    const uint32_t blocks = static_cast<uint32_t>(1 + rng.below(i % 5 == 4 ? 260 : 48));
    const uint64_t lba = rng.below(kVolumeBlocks - blocks + 1);
    const sim::ScsiResult r = tb.read("host0", 0, lba, blocks);
    ASSERT_EQ(r.status, fc::scsi_status::kGood) << "read " << i;
    ASSERT_TRUE(std::equal(r.data_in.begin(), r.data_in.end(), image.begin() + lba * kBlock))
        << "read " << i << " at " << lba << " of " << blocks;
  }
  // Every block of the volume read back, a unit at a time.
  for (uint64_t lba = 0; lba < kVolumeBlocks; lba += kUnit) {
    const sim::ScsiResult r = tb.read("host0", 0, lba, kUnit);
    ASSERT_EQ(r.status, fc::scsi_status::kGood);
    ASSERT_TRUE(std::equal(r.data_in.begin(), r.data_in.end(), image.begin() + lba * kBlock))
        << "unit at " << lba;
  }
  // Every block on every side of its column, at the column LBA.
  for (uint32_t c = 0; c < kColumns; ++c) {
    for (uint32_t s = 0; s < kSides; ++s) {
      const std::vector<uint8_t> side = side_image(tb, c, s);
      for (uint64_t b = 0; b < kVolumeBlocks; ++b) {
        const Place p = place_of(b);
        if (p.column != c) continue;
        ASSERT_TRUE(std::equal(image.begin() + b * kBlock, image.begin() + (b + 1) * kBlock,
                               side.begin() + p.column_lba * kBlock))
            << "volume block " << b << " is not on " << kDisk[c][s] << " LBA "
            << kStart[c][s] + p.column_lba;
      }
    }
  }
  EXPECT_EQ(differing_blocks(tb), 0u);
  // Nothing outside the sides' ranges was written.
  EXPECT_EQ(tb.disk_bytes("disk0", 0, kStart[0][0] - 1, 1), std::vector<uint8_t>(kBlock, 0));
  EXPECT_EQ(tb.disk_bytes("disk1", 1, kStart[0][1] - 1, 1), std::vector<uint8_t>(kBlock, 0));
  EXPECT_EQ(tb.disk_bytes("disk2", 0, kStart[1][0] - 1, 1), std::vector<uint8_t>(kBlock, 0));
  EXPECT_EQ(tb.disk_bytes("disk3", 0, kColumnBlocks, 1), std::vector<uint8_t>(kBlock, 0));
  // Reads went to both sides of each column.
  for (uint32_t c = 0; c < kColumns; ++c) {
    for (uint32_t s = 0; s < kSides; ++s)
      EXPECT_GT(tb.disk(kDisk[c][s]).stats().reads, 20u) << kDisk[c][s];
  }
  // In-unit I/Os on the FPs; crossing ones faulted to the CP.
  const auto st = tb.stats();
  const uint64_t fp = sum(st, &sim::PortFpStats::fp_completed);
  const uint64_t spans = faults(st, FaultKind::kSpansStripeUnits);
  RecordProperty("in_unit_writes", static_cast<int>(in_unit));
  RecordProperty("crossing_writes", static_cast<int>(crossing));
  RecordProperty("fp_completed", static_cast<int>(fp));
  RecordProperty("spans_stripe_units", static_cast<int>(spans));
  EXPECT_GT(crossing, 40u);
  EXPECT_GT(in_unit, 100u);
  EXPECT_GE(fp * 100, (in_unit + kVolumeBlocks / kUnit) * 80) << fp << " on the FP";
  EXPECT_GE(spans * 100, crossing * 80) << spans << " of " << crossing << " crossing writes";
  EXPECT_EQ(faults(st, FaultKind::kCapacity), 0u);
}

struct RaceResult {
  uint64_t differing = 0;
  uint64_t checked = 0;
  uint64_t not_from_a_racer = 0;
  uint64_t serialization_faults = 0;
  uint64_t errors = 0;
};

// Rounds of writes from both hosts at once (200: racing writes that end in a
// different order on the two sides of a column are rarer than on a plain
// mirror, as each column gets about half of them) into one region that crosses a
// stripe unit and an extent boundary (each host 4 in flight, never
// overlapping its own), every round waited for before the next. Afterwards
// every block must hold one of the writes of the last round that wrote it,
// the same on both sides of its column.
RaceResult race(bool serialization) {
  sim::FabricOptions options;
  if (!serialization) {
    options.adjust_fp_config = [](fp::FastPathConfig& c) {
      c.skip_serialization_for_testing = true;
    };
    options.adjust_cp_config = [](cp::CpConfig& c) { c.skip_serialization_for_testing = true; };
  }
  RaceResult out;
  VirtualTestbed tb(raid10_yaml(), 1, options);
  if (!tb.ok()) return out;
  // One side of each column puts a whole write on its medium when it
  // completes (1 us later), the other each data frame as it arrives.
  tb.disk("disk1").set_late_writes_for_testing(sim::kNsPerUs);
  tb.disk("disk3").set_late_writes_for_testing(sim::kNsPerUs);
  constexpr uint64_t kRegion = 96;
  constexpr uint64_t kRegionStart = 1024 - 48;  // units 15 and 16, extents 0 and 1
  struct Write {
    uint64_t lba;
    uint32_t blocks;
    std::vector<uint8_t> data;
  };
  std::vector<std::vector<const Write*>> last(kRegion);
  std::vector<std::vector<Write>> rounds;
  Rng rng{0x5e7a10};
  for (int round = 0; round < 200; ++round) {
    rounds.emplace_back();
    std::vector<Write>& ws = rounds.back();
    for (int h = 0; h < 2; ++h) {
      for (int q = 0; q < 4; ++q) {
        const uint64_t quarter = kRegion / 4;
        const uint32_t blocks = static_cast<uint32_t>(1 + rng.below(quarter));
        const uint64_t lba = kRegionStart + q * quarter + rng.below(quarter - blocks + 1);
        ws.push_back(Write{lba, blocks, pattern(round * 100 + h * 10 + q, blocks)});
      }
    }
    std::vector<std::shared_ptr<VirtualTestbed::Pending>> pending;
    for (size_t i = 0; i < ws.size(); ++i) {
      const size_t k = (i % 2) * 4 + i / 2;
      const Write& w = ws[k];
      pending.push_back(
          tb.start(k < 4 ? "host0" : "host1", 0, fc::make_write(w.lba, w.blocks), 0, w.data));
    }
    for (size_t i = 0; i < pending.size(); ++i) {
      tb.wait(*pending[i]);
      if (pending[i]->result.status != fc::scsi_status::kGood) ++out.errors;
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
  tb.run_for(sim::kNsPerMs);  // the late sides' last writes reach their media
  out.differing = differing_blocks(tb);
  for (uint64_t i = 0; i < kRegion; ++i) {
    if (last[i].empty()) continue;
    ++out.checked;
    const uint64_t b = kRegionStart + i;
    const Place p = place_of(b);
    const std::vector<uint8_t> on =
        tb.disk_bytes(kDisk[p.column][0], kLun[p.column][0], kStart[p.column][0] + p.column_lba, 1);
    bool found = false;
    for (const Write* w : last[i]) {
      const auto at = w->data.begin() + (b - w->lba) * kBlock;
      found = found || std::equal(at, at + kBlock, on.begin());
    }
    if (!found) ++out.not_from_a_racer;
  }
  out.serialization_faults = faults(tb.stats(), FaultKind::kSerialization);
  return out;
}

TEST(Raid10, RacingWritesFromTwoHostsNeverLeaveAColumnsSidesDifferent) {
  const RaceResult r = race(/*serialization=*/true);
  RecordProperty("serialization_faults", static_cast<int>(r.serialization_faults));
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.differing, 0u);
  EXPECT_EQ(r.not_from_a_racer, 0u);
  EXPECT_GT(r.checked, 80u);
}

TEST(Raid10, WithoutSerializationRacingWritesLeaveTheSidesDifferent) {
  const RaceResult r = race(/*serialization=*/false);
  RecordProperty("differing", static_cast<int>(r.differing));
  EXPECT_EQ(r.serialization_faults, 0u);
  EXPECT_GT(r.differing, 0u) << "the race check cannot tell serialization from none";
}

std::string error_of(const std::string& yaml) {
  const auto t = sim::parse_topology_yaml(yaml, "test.yaml");
  return t.ok() ? std::string("(parsed)") : std::string(t.status().message());
}

std::string with_raid10(const std::string& from, const std::string& to) {
  std::string y = raid10_yaml();
  const size_t at = y.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) y.replace(at, from.size(), to);
  return y;
}

TEST(Raid10, TopologyErrorsNameFileLineAndField) {
  EXPECT_EQ(error_of(raid10_yaml()), "(parsed)");
  EXPECT_EQ(
      error_of(with_raid10("                  - {disk: disk3}\n", "")),
      "test.yaml:27: field 'volumes[0].vsegs[0].stripe.columns[1].mirror.sides': must list 2 to 8 "
      "sides (got 1)");
  EXPECT_EQ(
      error_of(with_raid10("                  - {disk: disk3}\n",
                           "                  - {disk: disk3}\n"
                           "                  - {disk: disk3, lba: 9000}\n")),
      "test.yaml:26: field 'volumes[0].vsegs[0].stripe.columns[1].mirror': has 3 sides but column "
      "0 has 2 (every column the same)");
  EXPECT_EQ(
      error_of(with_raid10("            - mirror:\n                sides:\n"
                           "                  - {disk: disk2, lba: 512}\n"
                           "                  - {disk: disk3}\n",
                           "            - {disk: disk2}\n")),
      "test.yaml:26: field 'volumes[0].vsegs[0].stripe.columns[1]': column 0 is a mirror: all "
      "columns are mirrors or none");
  const std::string three = "                  - {disk: disk2, lba: 9000}\n";
  EXPECT_EQ(
      error_of(with_raid10("lba: 2048, read_cost: 1}\n",
                           "lba: 2048, read_cost: 1}\n" + three + three + three)),
      "test.yaml:21: field 'volumes[0].vsegs[0].stripe.columns': 2 columns of 5 sides make 10 "
      "disks (at most 8)");
  EXPECT_EQ(
      error_of(with_raid10("{disk: disk3}", "{disk: disk0, lba: 200}")),
      "test.yaml:29: field 'volumes[0].vsegs[0].stripe.columns[1].mirror.sides[1].lba': disk0 LUN "
      "0 blocks [200, 4296) overlap blocks [100, 4196) of "
      "volumes[0].vsegs[0].stripe.columns[0].mirror.sides[0] (line 24)");
  EXPECT_EQ(
      error_of(with_raid10("            - mirror:\n                sides:\n"
                           "                  - {disk: disk0",
                           "            - disk: disk0\n              mirror:\n"
                           "                sides:\n                  - {disk: disk0")),
      "test.yaml:22: field 'volumes[0].vsegs[0].stripe.columns[0].disk': a mirrored column names "
      "its disks in mirror.sides");
  EXPECT_EQ(
      error_of(with_raid10("{disk: disk2, lba: 512}", "{disk: disk1}")),
      "test.yaml:17: field 'volumes[0].vsegs[0].blocks': blocks [0, 4096) run past the end of "
      "disk1 LUN 0 (2048 blocks)");
}

}  // namespace
}  // namespace splitpath::testing
