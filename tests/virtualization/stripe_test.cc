// The stripe primitive end to end: a host drives READ/WRITEs through the
// frames of the fabric to a volume striped (RAID 0) over three disks; I/Os
// inside one stripe unit are remapped by the FPs, those crossing units fault
// to the CP (kSpansStripeUnits), which cuts them into per-unit legs. Each
// disk's store is then read directly: every block must be on the column and
// at the column LBA the stripe puts it, worked out here by hand. And the
// topology file's stripe errors name file, line and field.
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
constexpr uint64_t kUnit = 128;  // 64KiB in 512-byte blocks
constexpr uint32_t kColumns = 3;
constexpr uint64_t kVolumeBlocks = 30720;  // 80 rows of 3 units
const char* const kColumnDisk[kColumns] = {"disk0", "disk1", "disk2"};
constexpr uint16_t kColumnLun[kColumns] = {0, 1, 0};
constexpr uint64_t kColumnStart[kColumns] = {0, 100, 2048};

std::string stripe_yaml() {
  return R"(seed: 11
duration: 100ms
switches:
  - {name: sw0, domain: 1, ports: 8}
disks:
  - {name: disk0, port: sw0:4, luns: [{lun: 0, size: 64MiB}]}
  - {name: disk1, port: sw0:5, luns: [{lun: 0, size: 8MiB}, {lun: 1, size: 64MiB}]}
  - {name: disk2, port: sw0:6, luns: [{lun: 0, size: 64MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {lba_count: 1000}}
volumes:
  - name: striped
    switch: sw0
    vsegs:
      - blocks: 30720
        extent_blocks: 4096
        stripe:
          unit: 64KiB
          columns:
            - {disk: disk0, lun: 0, lba: 0}
            - {disk: disk1, lun: 1, lba: 100}
            - {disk: disk2, lba: 2048}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: striped}]
zones:
  - {name: z0, members: [host0, vt0]}
)";
}

struct Place {
  uint32_t column;
  uint64_t lba;
};
// By hand: unit u = b / 128 lies on column u % 3 at column block
// (u / 3) * 128 + b % 128, from the column's first LBA.
Place place_of(uint64_t b) {
  const uint64_t u = b / kUnit;
  const auto c = static_cast<uint32_t>(u % kColumns);
  return {c, kColumnStart[c] + (u / kColumns) * kUnit + b % kUnit};
}

bool crosses_unit(uint64_t lba, uint32_t blocks) {
  return lba / kUnit != (lba + blocks - 1) / kUnit;
}

TEST(Stripe, EveryBlockLandsOnItsColumnAndInUnitIosStayOnTheFastPath) {
  VirtualTestbed tb(stripe_yaml());
  ASSERT_TRUE(tb.ok());
  std::vector<uint8_t> image(kVolumeBlocks * kBlock, 0);  // what the volume must hold
  std::vector<bool> written(kVolumeBlocks, false);
  // Discovery's commands (REPORT LUNS, READ CAPACITY) were the CP's.
  const uint64_t cp_before = sum(tb.stats(), &sim::PortFpStats::cp_completed);
  Rng rng{0x5712173};
  uint64_t in_unit = 0;
  uint64_t crossing = 0;
  auto account = [&](uint64_t lba, uint32_t blocks) {
    (crosses_unit(lba, blocks) ? crossing : in_unit) += 1;
  };
  // Writes: mostly small (inside a unit unless near its end), some large
  // ones spanning several units and columns, and the volume's first and last
  // blocks.
  for (int i = 0; i < 400; ++i) {
    const uint32_t blocks = i % 10 == 9 ? static_cast<uint32_t>(100 + rng.below(300))
                                        : static_cast<uint32_t>(1 + rng.below(32));
    uint64_t lba = rng.below(kVolumeBlocks - blocks + 1);
    if (i == 0) lba = 0;
    if (i == 1) lba = kVolumeBlocks - blocks;
    const std::vector<uint8_t> data = pattern(1000 + i, blocks);
    ASSERT_EQ(tb.write("host0", 0, lba, data).status, fc::scsi_status::kGood)
        << "write " << i << " at " << lba << " of " << blocks;
    std::copy(data.begin(), data.end(), image.begin() + lba * kBlock);
    std::fill(written.begin() + lba, written.begin() + lba + blocks, true);
    account(lba, blocks);
  }
  // Reads, checked against the image.
  for (int i = 0; i < 200; ++i) {
    const uint32_t blocks = static_cast<uint32_t>(1 + rng.below(i % 8 == 7 ? 400 : 48));
    const uint64_t lba = rng.below(kVolumeBlocks - blocks + 1);
    const sim::ScsiResult r = tb.read("host0", 0, lba, blocks);
    ASSERT_EQ(r.status, fc::scsi_status::kGood) << "read " << i;
    ASSERT_TRUE(std::equal(r.data_in.begin(), r.data_in.end(), image.begin() + lba * kBlock))
        << "read " << i << " at " << lba << " of " << blocks;
    account(lba, blocks);
  }

  // Every block of the volume, straight from the column disks' stores.
  std::vector<std::vector<uint8_t>> columns;
  for (uint32_t c = 0; c < kColumns; ++c) {
    columns.push_back(
        tb.disk_bytes(kColumnDisk[c], kColumnLun[c], kColumnStart[c], kVolumeBlocks / kColumns));
  }
  uint64_t checked = 0;
  for (uint64_t b = 0; b < kVolumeBlocks; ++b) {
    if (!written[b]) continue;
    const Place p = place_of(b);
    const uint8_t* want = image.data() + b * kBlock;
    const uint8_t* got = columns[p.column].data() + (p.lba - kColumnStart[p.column]) * kBlock;
    ASSERT_TRUE(std::equal(want, want + kBlock, got))
        << "volume block " << b << " is not at " << kColumnDisk[p.column] << " LBA " << p.lba;
    ++checked;
  }
  EXPECT_GT(checked, kVolumeBlocks / 3);
  // Nothing outside the columns' ranges was written: the block before each
  // column's first is still zero.
  for (uint32_t c = 1; c < kColumns; ++c) {
    EXPECT_EQ(tb.disk_bytes(kColumnDisk[c], kColumnLun[c], kColumnStart[c] - 1, 1),
              std::vector<uint8_t>(kBlock, 0));
  }

  // In-unit I/Os completed on the FPs (all but the first touches, which
  // wait for the columns' logins); crossing ones went through the CP.
  const auto s = tb.stats();
  const uint64_t fp = sum(s, &sim::PortFpStats::fp_completed);
  const uint64_t cp = sum(s, &sim::PortFpStats::cp_completed) - cp_before;
  const uint64_t spans = faults(s, FaultKind::kSpansStripeUnits);
  RecordProperty("in_unit", static_cast<int>(in_unit));
  RecordProperty("crossing", static_cast<int>(crossing));
  RecordProperty("fp_completed", static_cast<int>(fp));
  RecordProperty("spans_stripe_units", static_cast<int>(spans));
  EXPECT_EQ(fp + cp, in_unit + crossing);
  EXPECT_LE(fp, in_unit);
  EXPECT_GE(fp * 100, in_unit * 95) << fp << " of " << in_unit << " in-unit I/Os on the FP";
  EXPECT_LE(spans, crossing);
  EXPECT_GE(spans * 100, crossing * 90) << spans << " of " << crossing << " crossing I/Os";
  EXPECT_GT(crossing, 40u);
  EXPECT_GT(s.cp.dispatched, 2 * crossing);  // at least two legs each
  EXPECT_EQ(faults(s, FaultKind::kCapacity), 0u);
}

std::string error_of(const std::string& yaml) {
  const auto t = sim::parse_topology_yaml(yaml, "test.yaml");
  return t.ok() ? std::string("(parsed)") : std::string(t.status().message());
}

std::string with_stripe(const std::string& from, const std::string& to) {
  std::string y = stripe_yaml();
  const size_t at = y.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) y.replace(at, from.size(), to);
  return y;
}

TEST(Stripe, TopologyErrorsNameFileLineAndField) {
  EXPECT_EQ(error_of(with_stripe("unit: 64KiB", "unit: 48KiB")),
            "test.yaml:18: field 'volumes[0].vsegs[0].stripe.unit': must be a power-of-two "
            "number of the volume's 512-byte blocks, at most 16777216 blocks (got 49152 bytes)");
  EXPECT_EQ(error_of(with_stripe("unit: 64KiB", "unit: 700B")),
            "test.yaml:18: field 'volumes[0].vsegs[0].stripe.unit': must be a power-of-two "
            "number of the volume's 512-byte blocks, at most 16777216 blocks (got 700 bytes)");
  EXPECT_EQ(error_of(with_stripe("{disk: disk1, lun: 1, lba: 100}", "{disk: disk1, lba: 10000}")),
            "test.yaml:15: field 'volumes[0].vsegs[0].blocks': blocks [10000, 20240) run past the "
            "end of disk1 LUN 0 (16384 blocks)");
  EXPECT_EQ(
      error_of(with_stripe("{disk: disk2, lba: 2048}", "{disk: disk0, lba: 5000}")),
      "test.yaml:22: field 'volumes[0].vsegs[0].stripe.columns[2].lba': disk0 LUN 0 blocks [5000, "
      "15240) overlap blocks [0, 10240) of volumes[0].vsegs[0].stripe.columns[0] (line 20)");
  EXPECT_EQ(error_of(with_stripe("{disk: disk2, lba: 2048}", "{disk: disk9}")),
            "test.yaml:22: field 'volumes[0].vsegs[0].stripe.columns[2].disk': a VSEG lies on a "
            "disk; 'disk9' does not exist");
  EXPECT_EQ(error_of(with_stripe("        stripe:", "        disk: disk0\n        stripe:")),
            "test.yaml:17: field 'volumes[0].vsegs[0].disk': a striped VSEG names its disks in "
            "stripe.columns");
  EXPECT_EQ(error_of(with_stripe("{disk: disk2, lba: 2048}", "{disk: disk2, lba: 2048, size: 5}")),
            "test.yaml:22: field 'volumes[0].vsegs[0].stripe.columns[2].size': unknown key "
            "(allowed: disk, lun, lba, mirror)");
}

}  // namespace
}  // namespace splitpath::testing
