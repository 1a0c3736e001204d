// The mirror checker (fabric_sim/torture/mirror_checker.h) on a fabric built
// from a topology whose one VSEG is mirrored on two disks, with the sides'
// stores written directly: sides that differ are a violation naming the
// block; the same difference under a failed write is not; identical sides
// are clean.
#include "fabric_sim/torture/mirror_checker.h"

#include <gtest/gtest.h>

#include <vector>

#include "fabric_sim/node/block_stamp.h"
#include "fabric_sim/topology/topology_yaml.h"

namespace splitpath::sim::torture {
namespace {

constexpr uint64_t kBlocks = 64;

struct Bench {
  TortureScenario scenario;
  std::unique_ptr<Fabric> fabric;
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
      - blocks: 64
        mirror: {sides: [{disk: disk0, lba: 10}, {disk: disk1, lba: 200}]}
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol}]}
zones:
  - {name: z0, members: [host0, vt0]}
)",
                                      "mirror.yaml");
  EXPECT_TRUE(topology.ok()) << topology.status();
  Bench b;
  b.scenario.topology = *topology;
  TortureVseg v;
  v.blocks = kBlocks;
  v.place[0].sides = {PlaceElement{"disk0", 0, 10}, PlaceElement{"disk1", 0, 200}};
  b.scenario.vsegs.push_back(v);
  auto fabric = Fabric::build(*topology, FabricOptions{});
  EXPECT_TRUE(fabric.ok()) << fabric.status();
  b.fabric = std::move(*fabric);
  return b;
}

// Writes the host's stamp of volume block `block`, `generation`, at disk
// block `lba`.
void write_block(Fabric& f, const char* disk, uint64_t lba, uint64_t block, uint64_t generation) {
  std::vector<uint8_t> unit(kStampUnit);
  write_stamp(BlockStamp{block, generation, 0x1234},
              std::span<uint8_t, kStampUnit>(unit.data(), kStampUnit));
  f.disk(disk)->mutable_store(0)->write(lba * kStampUnit, unit);
}

HostIo failed_write(uint64_t first_unit, uint32_t units) {
  HostIo io;
  io.write = true;
  io.volume = 0;
  io.first_unit = first_unit;
  io.units = units;
  return io;
}

TEST(MirrorChecker, SidesThatDifferAreAViolationNamingTheBlock) {
  Bench b = bench();
  write_block(*b.fabric, "disk0", 10 + 7, 7, 1);
  write_block(*b.fabric, "disk1", 200 + 7, 7, 2);
  MirrorChecker checker(b.scenario);
  const auto v = checker.check(*b.fabric, 0);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->invariant, kMirror);
  EXPECT_NE(v->summary.find("volume vol LBA 7"), std::string::npos) << v->summary;
  EXPECT_NE(v->summary.find("disk1 LUN 0 LBA 207"), std::string::npos) << v->summary;
  ASSERT_EQ(v->history.size(), 1u);
  EXPECT_NE(v->history[0].find("generation 1"), std::string::npos) << v->history[0];
  EXPECT_NE(v->history[0].find("generation 2"), std::string::npos) << v->history[0];
}

TEST(MirrorChecker, ADifferenceUnderAFailedWriteIsNotAViolation) {
  Bench b = bench();
  write_block(*b.fabric, "disk0", 10 + 7, 7, 1);
  write_block(*b.fabric, "disk1", 200 + 7, 7, 2);
  MirrorChecker checker(b.scenario);
  checker.end_write(failed_write(6, 2), /*acknowledged=*/false);
  checker.end_write(failed_write(20, 4), /*acknowledged=*/true);
  EXPECT_FALSE(checker.check(*b.fabric, 0).has_value());
  EXPECT_EQ(checker.blocks_skipped(), 2u);
  EXPECT_EQ(checker.blocks_compared(), kBlocks - 2);
}

TEST(MirrorChecker, IdenticalSidesAreClean) {
  Bench b = bench();
  for (uint64_t blk = 0; blk < kBlocks; blk += 3) {
    write_block(*b.fabric, "disk0", 10 + blk, blk, blk + 1);
    write_block(*b.fabric, "disk1", 200 + blk, blk, blk + 1);
  }
  MirrorChecker checker(b.scenario);
  EXPECT_FALSE(checker.check(*b.fabric, 0).has_value());
  EXPECT_EQ(checker.blocks_compared(), kBlocks);
}

}  // namespace
}  // namespace splitpath::sim::torture
