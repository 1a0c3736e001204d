// The journal checker (fabric_sim/torture/journal_checker.h) on a fabric
// built from a topology with two disks, one VSEG of the scenario journaled
// (data on disk0, journal area on disk1), the records and the data device
// written straight into the disks' stores: a data device holding an older
// write than the latest record is a violation naming the block; the same
// under a failed write is not; records after a hole in a journal still
// replay; journals outside every area are ignored.
#include "fabric_sim/torture/journal_checker.h"

#include <gtest/gtest.h>

#include <vector>

#include "fabric_sim/node/block_stamp.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/map/journal_record.h"

namespace splitpath::sim::torture {
namespace {

constexpr uint64_t kBlocks = 64;
constexpr uint64_t kDataLba = 10;
constexpr uint64_t kAreaLba = 500;
constexpr uint32_t kJournalBlocks = 32;
constexpr uint16_t kJournalId = 7;

struct Bench {
  TortureScenario scenario;
  std::unique_ptr<Fabric> fabric;
  uint64_t journal_wwpn = 0;
};

Bench bench() {
  auto topology = parse_topology_yaml(R"(seed: 1
duration: 1ms
switches:
  - {name: sw0, domain: 1, ports: 8}
disks:
  - {name: disk0, port: sw0:4, luns: [{lun: 0, size: 1MiB}]}
  - {name: disk1, port: sw0:5, luns: [{lun: 0, size: 1MiB}]}
hosts:
  - {name: host0, port: sw0:0}
volumes:
  - name: vol
    switch: sw0
    vsegs:
      - {blocks: 64, disk: disk0, lba: 10}
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol}]}
zones:
  - {name: z0, members: [host0, vt0]}
)",
                                      "journal.yaml");
  EXPECT_TRUE(topology.ok()) << topology.status();
  Bench b;
  b.scenario.topology = *topology;
  TortureVseg v;
  v.blocks = kBlocks;
  v.place[0].disk = "disk0";
  v.place[0].lba = kDataLba;
  v.place[0].journal =
      JournalArea{PlaceElement{"disk1", 0, kAreaLba}, 4 * kJournalBlocks, kJournalBlocks};
  b.scenario.vsegs.push_back(v);
  for (const DiskConfig& d : topology->disks)
    if (d.name == "disk1") b.journal_wwpn = d.wwpn;
  auto fabric = Fabric::build(*topology, FabricOptions{});
  EXPECT_TRUE(fabric.ok()) << fabric.status();
  b.fabric = std::move(*fabric);
  return b;
}

std::vector<uint8_t> stamped(uint64_t block, uint64_t generation) {
  std::vector<uint8_t> unit(kStampUnit);
  write_stamp(BlockStamp{block, generation, 0x1234},
              std::span<uint8_t, kStampUnit>(unit.data(), kStampUnit));
  return unit;
}

void write_data(Fabric& f, uint64_t block, uint64_t generation) {
  f.disk("disk0")->mutable_store(0)->write((kDataLba + block) * kStampUnit,
                                           stamped(block, generation));
}

// A one-block record of `block` at `generation` at journal block `at` of
// the first journal; returns the block after it.
uint64_t write_record(Fabric& f, uint64_t at, uint32_t sequence, uint64_t time, uint64_t block,
                      uint64_t generation) {
  map::JournalRecordHeader h;
  h.journal_id = kJournalId;
  h.sequence = sequence;
  h.blocks = 1;
  h.timestamp_ns = time;
  h.vseg_lba = block;
  h.lv_lba = block;
  h.block_size = kStampUnit;
  std::vector<uint8_t> header(kStampUnit, 0);
  map::encode_journal_header(h, header.data());
  f.disk("disk1")->mutable_store(0)->write((kAreaLba + at) * kStampUnit, header);
  f.disk("disk1")->mutable_store(0)->write((kAreaLba + at + 1) * kStampUnit,
                                           stamped(block, generation));
  return at + 2;
}

cp::JournalInfo first_journal(const Bench& b) {
  cp::JournalInfo j;
  j.journal_id = kJournalId;
  j.disk_wwpn = b.journal_wwpn;
  j.lba = kAreaLba;
  j.blocks = kJournalBlocks;
  return j;
}

HostIo failed_write(uint64_t first_unit, uint32_t units) {
  HostIo io;
  io.write = true;
  io.volume = 0;
  io.first_unit = first_unit;
  io.units = units;
  return io;
}

TEST(JournalChecker, ADataDeviceBehindTheLatestRecordIsAViolationNamingTheBlock) {
  Bench b = bench();
  uint64_t at = write_record(*b.fabric, 0, 0, 100, 7, 1);
  write_record(*b.fabric, at, 1, 200, 7, 2);
  write_data(*b.fabric, 7, 1);
  JournalChecker checker(b.scenario);
  checker.read_journal(*b.fabric, first_journal(b));
  EXPECT_EQ(checker.records_read(), 2u);
  const auto v = checker.check(*b.fabric, MirrorChecker(b.scenario), 0);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->invariant, kJournal);
  EXPECT_NE(v->summary.find("volume vol LBA 7"), std::string::npos) << v->summary;
  EXPECT_NE(v->summary.find("disk0 LUN 0 LBA 17"), std::string::npos) << v->summary;
  ASSERT_EQ(v->history.size(), 2u);
  EXPECT_NE(v->history[0].find("generation 1"), std::string::npos) << v->history[0];
  EXPECT_NE(v->history[1].find("generation 2"), std::string::npos) << v->history[1];
}

TEST(JournalChecker, ADifferenceUnderAFailedWriteIsNotAViolation) {
  Bench b = bench();
  write_record(*b.fabric, 0, 0, 100, 7, 2);
  write_data(*b.fabric, 7, 1);
  JournalChecker checker(b.scenario);
  checker.read_journal(*b.fabric, first_journal(b));
  MirrorChecker failed(b.scenario);
  failed.end_write(failed_write(7, 1), /*acknowledged=*/false);
  EXPECT_FALSE(checker.check(*b.fabric, failed, 0).has_value());
  EXPECT_EQ(checker.blocks_compared(), 0u);
}

TEST(JournalChecker, RecordsAfterAHoleStillReplay) {
  Bench b = bench();
  uint64_t at = write_record(*b.fabric, 0, 0, 100, 3, 1);
  at += 2;  // sequence 1's leg failed: its blocks were never written
  write_record(*b.fabric, at, 2, 300, 9, 4);
  write_data(*b.fabric, 3, 1);
  write_data(*b.fabric, 9, 4);
  JournalChecker checker(b.scenario);
  checker.read_journal(*b.fabric, first_journal(b));
  EXPECT_EQ(checker.records_read(), 2u);
  EXPECT_GE(checker.hole_blocks(), 2u);
  EXPECT_FALSE(checker.check(*b.fabric, MirrorChecker(b.scenario), 0).has_value());
  EXPECT_EQ(checker.blocks_compared(), 2u);
  // The data device losing the write after the hole is caught.
  write_data(*b.fabric, 9, 3);
  EXPECT_TRUE(checker.check(*b.fabric, MirrorChecker(b.scenario), 0).has_value());
}

TEST(JournalChecker, RecordsOfAnotherJournalIdAreNotRead) {
  Bench b = bench();
  write_record(*b.fabric, 0, 0, 100, 7, 2);
  write_data(*b.fabric, 7, 1);
  JournalChecker checker(b.scenario);
  cp::JournalInfo j = first_journal(b);
  j.journal_id = kJournalId + 1;  // the area was reused: old records are stale
  checker.read_journal(*b.fabric, j);
  EXPECT_EQ(checker.records_read(), 0u);
  EXPECT_FALSE(checker.check(*b.fabric, MirrorChecker(b.scenario), 0).has_value());
}

}  // namespace
}  // namespace splitpath::sim::torture
