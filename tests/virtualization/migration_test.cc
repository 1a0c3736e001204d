// Online migration (figures 23-24) end to end: a VSEG moves from one disk to
// another while a host reads and writes it through the switch; the copy
// barrier, its FPCopyIO copies and the restrictive updates all run on the
// simulated fabric, and the blocks are checked on the destination disk.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <vector>

#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/fc/scsi_cdb.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/split_path_yaml.h"

namespace splitpath::testing {
namespace {

using cp::MigrationProgress;

constexpr uint64_t kVsegLv = 20000;      // vol0's second VSEG: LV blocks [20000, 40000) on disk1
constexpr uint64_t kVsegBlocks = 20000;  // one extent, disk1 from LBA 0
constexpr uint64_t kDestLba = 5000;      // where it goes on disk3
constexpr uint32_t kIoBlocks = 8;        // host I/Os: 4 KiB, 8-block aligned

uint64_t wwpn_of(VirtualTestbed& tb, const std::string& disk) {
  return tb.disk(disk).wwpn();
}

std::vector<uint8_t> slot_bytes(uint64_t seed) {
  return pattern(seed, kIoBlocks);
}

// A host keeps `depth` reads and writes of 8-block slots of the VSEG in
// flight (never two on one slot), checking each read against what the
// slots hold, until `stop()`; `content` is every slot's last acknowledged
// data.
struct MixedLoad {
  VirtualTestbed& tb;
  sim::Rng rng;
  std::map<uint64_t, uint64_t> content;  // slot -> seed of its data (0: prefill)
  std::map<uint64_t, std::shared_ptr<VirtualTestbed::Pending>> in_flight;
  std::map<uint64_t, uint64_t> writing;  // slot -> seed being written
  uint64_t reads = 0, writes = 0, mismatches = 0, errors = 0;

  MixedLoad(VirtualTestbed& t, uint64_t seed) : tb(t), rng(seed) {}

  uint64_t slots() const { return kVsegBlocks / kIoBlocks; }
  std::vector<uint8_t> expected(uint64_t slot) const {
    auto it = content.find(slot);
    return it == content.end() ? pattern(1000000 + slot, kIoBlocks) : slot_bytes(it->second);
  }

  void top_up(size_t depth, uint64_t* next_seed) {
    while (in_flight.size() < depth) {
      uint64_t slot = rng.uniform(slots());
      while (in_flight.contains(slot))
        slot = (slot + 1) % slots();
      const uint64_t lba = kVsegLv + slot * kIoBlocks;
      if (rng.uniform(100) < 50) {
        const uint64_t seed = (*next_seed)++;
        writing[slot] = seed;
        in_flight[slot] = tb.start("host0", 0, fc::make_write(lba, kIoBlocks), 0, slot_bytes(seed));
      } else {
        writing.erase(slot);
        in_flight[slot] = tb.start("host0", 0, fc::make_read(lba, kIoBlocks), kIoBlocks * 512);
      }
    }
  }

  void reap() {
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      if (!it->second->done) {
        ++it;
        continue;
      }
      const uint64_t slot = it->first;
      const sim::ScsiResult& r = it->second->result;
      if (r.status != fc::scsi_status::kGood) {
        ++errors;
      } else if (auto w = writing.find(slot); w != writing.end()) {
        content[slot] = w->second;
        ++writes;
      } else {
        ++reads;
        if (r.data_in != expected(slot)) ++mismatches;
      }
      writing.erase(slot);
      it = in_flight.erase(it);
    }
  }
};

void prefill(VirtualTestbed& tb) {
  for (uint64_t slot = 0; slot < kVsegBlocks / kIoBlocks; ++slot) {
    const std::vector<uint8_t> data = pattern(1000000 + slot, kIoBlocks);
    tb.disk("disk1").mutable_store(0)->write(slot * kIoBlocks * 512, data);
  }
}

TEST(Migration, UnderMixedLoadTheDestinationHoldsEveryAcknowledgedWrite) {
  VirtualTestbed tb(split_path_yaml(), 2);
  ASSERT_TRUE(tb.ok());
  prefill(tb);
  cp::ControlPath& cp = tb.virtualization().control_path();
  MixedLoad load(tb, 11);
  uint64_t next_seed = 1;
  // Load before, during and after the migration.
  for (int i = 0; i < 200; ++i) {
    load.top_up(8, &next_seed);
    tb.run_for(20 * sim::kNsPerUs);
    load.reap();
  }
  const cp::CpStats before = cp.stats();
  bool finished = false, result = false;
  std::string error;
  ASSERT_TRUE(cp.start_migration({"vol0", kVsegLv + 123, wwpn_of(tb, "disk3"), 0, kDestLba}, &error,
                                 [&](bool ok) {
                                   finished = true;
                                   result = ok;
                                 }))
      << error;
  const sim::SimTime began = tb.kernel().now();
  uint64_t ios_during = 0;
  while (!finished && tb.kernel().now() - began < 5 * sim::kNsPerSec) {
    load.top_up(8, &next_seed);
    tb.run_for(20 * sim::kNsPerUs);
    const uint64_t done_before = load.reads + load.writes;
    load.reap();
    ios_during += load.reads + load.writes - done_before;
  }
  ASSERT_TRUE(finished) << "the migration did not end";
  EXPECT_TRUE(result);
  for (int i = 0; i < 200; ++i) {
    load.top_up(8, &next_seed);
    tb.run_for(20 * sim::kNsPerUs);
    load.reap();
  }
  while (!load.in_flight.empty()) {
    tb.run_for(20 * sim::kNsPerUs);
    load.reap();
  }

  EXPECT_EQ(load.errors, 0u);
  EXPECT_EQ(load.mismatches, 0u) << "a read returned data that was not the block's";
  EXPECT_GT(ios_during, 500u) << "the load ran during the migration";
  // Every block of the destination holds the VSEG's content.
  for (uint64_t slot = 0; slot < kVsegBlocks / kIoBlocks; ++slot) {
    ASSERT_EQ(tb.disk_bytes("disk3", 0, kDestLba + slot * kIoBlocks, kIoBlocks),
              load.expected(slot))
        << "slot " << slot << " (VSEG block " << slot * kIoBlocks << ")";
  }
  // Writes after the migration went to the destination only.
  const std::vector<MigrationProgress> m = cp.migrations();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].state, MigrationProgress::State::kDone);
  EXPECT_EQ(m[0].copied_blocks, kVsegBlocks);
  EXPECT_DOUBLE_EQ(m[0].percent(), 100.0);

  const cp::CpStats& s = cp.stats();
  using fpapi::FaultKind;
  const uint64_t queued = s.queued_ios - before.queued_ios;
  const uint64_t fow =
      s.faults[size_t(FaultKind::kFaultOnWrite)] - before.faults[size_t(FaultKind::kFaultOnWrite)];
  // Reads never reach the CP; the only writes that do are those the copy
  // barrier's FoW entry faulted.
  EXPECT_EQ(s.faults[size_t(FaultKind::kFaultOnRead)], 0u);
  std::string kinds;
  for (size_t k = 0; k < fpapi::kFaultKinds; ++k) {
    if (s.faults[k] != before.faults[k])
      kinds += " " + std::to_string(k) + ":" + std::to_string(s.faults[k] - before.faults[k]);
  }
  EXPECT_EQ(queued, fow) << "an I/O other than a write into the barrier faulted:" << kinds;
  EXPECT_GT(fow, 0u) << "no write met the barrier: the test did not exercise it";
  EXPECT_GE(s.copies, kVsegBlocks / 128);
  std::printf(
      "migration of %llu blocks under load: %.2f ms simulated, %llu host I/Os during it, "
      "%llu copies, %llu write faults into the barrier (%llu waited in the CP), "
      "%.1f MB/s\n",
      static_cast<unsigned long long>(kVsegBlocks),
      double(m[0].finished_ns - m[0].started_ns) / 1e6, static_cast<unsigned long long>(ios_during),
      static_cast<unsigned long long>(s.copies), static_cast<unsigned long long>(fow),
      static_cast<unsigned long long>(m[0].barrier_writes),
      m[0].rate_bytes_per_s(tb.kernel().now()) / 1e6);
}

TEST(Migration, TheSourceEntriesAreRemovedAndTheVsegIsOneExtentOnTheDestination) {
  VirtualTestbed tb(split_path_yaml(), 2);
  ASSERT_TRUE(tb.ok());
  prefill(tb);
  cp::ControlPath& cp = tb.virtualization().control_path();
  bool finished = false;
  std::string error;
  // The observer sees every block become the barrier, then move, in order.
  uint64_t barrier_end = 0, moved_end = 0;
  bool in_order = true;
  cp::MigrationRequest request{"vol0", kVsegLv, wwpn_of(tb, "disk3"), 0, kDestLba};
  request.on_step = [&](uint64_t start, uint64_t blocks, bool moved) {
    uint64_t& end = moved ? moved_end : barrier_end;
    in_order = in_order && start == end && (moved || moved_end == start);
    end = start + blocks;
  };
  ASSERT_TRUE(cp.start_migration(request, &error, [&](bool) { finished = true; })) << error;
  for (int i = 0; i < 5000 && !finished; ++i)
    tb.run_for(100 * sim::kNsPerUs);
  ASSERT_TRUE(finished);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(moved_end, kVsegBlocks);
  EXPECT_EQ(barrier_end, kVsegBlocks);
  // The source may now be overwritten: reads must come from the destination.
  std::vector<uint8_t> zeros(kVsegBlocks * 512);
  tb.disk("disk1").mutable_store(0)->write(0, zeros);
  for (uint64_t slot : {0ull, 1ull, 777ull, 2499ull}) {
    const sim::ScsiResult r = tb.read("host0", 0, kVsegLv + slot * kIoBlocks, kIoBlocks);
    ASSERT_EQ(r.status, fc::scsi_status::kGood);
    EXPECT_EQ(r.data_in, pattern(1000000 + slot, kIoBlocks)) << "slot " << slot;
  }
  // A second migration back onto the source's blocks is allowed: they are free.
  ASSERT_TRUE(cp.start_migration({"vol0", kVsegLv, wwpn_of(tb, "disk1"), 0, 0}, &error)) << error;
}

TEST(Migration, RequestsThatCannotBeServedAreRefusedWithAPreciseReason) {
  VirtualTestbed tb(split_path_yaml(), 2);
  ASSERT_TRUE(tb.ok());
  cp::ControlPath& cp = tb.virtualization().control_path();
  std::string error;
  EXPECT_FALSE(cp.start_migration({"nope", 0, wwpn_of(tb, "disk3"), 0, 0}, &error));
  EXPECT_NE(error.find("no such volume"), std::string::npos) << error;
  EXPECT_FALSE(cp.start_migration({"vol0", 40000, wwpn_of(tb, "disk3"), 0, 0}, &error));
  EXPECT_NE(error.find("beyond"), std::string::npos) << error;
  // disk2 holds vol1 from LBA 0 for 40000 blocks.
  EXPECT_FALSE(cp.start_migration({"vol0", kVsegLv, wwpn_of(tb, "disk2"), 0, 39000}, &error));
  EXPECT_NE(error.find("overlaps blocks of VSEG"), std::string::npos) << error;
  EXPECT_FALSE(cp.start_migration({"vol0", kVsegLv, 0, 0, 0}, &error));
  EXPECT_NE(error.find("no destination disk"), std::string::npos) << error;
  ASSERT_TRUE(cp.start_migration({"vol0", kVsegLv, wwpn_of(tb, "disk3"), 0, 0}, &error)) << error;
  EXPECT_FALSE(cp.start_migration({"vol0", kVsegLv + 5, wwpn_of(tb, "disk3"), 0, 30000}, &error));
  EXPECT_NE(error.find("migrating already"), std::string::npos) << error;
  EXPECT_FALSE(cp.start_migration({"vol1", 0, wwpn_of(tb, "disk3"), 0, 100}, &error));
  EXPECT_NE(error.find("overlaps migration"), std::string::npos) << error;
}

// The topology's `services` list starts a migration at its time; the hosts'
// own verifying workload runs across it.
TEST(Migration, ScheduledInTheTopologyItRunsUnderTheHostsVerifyingWorkload) {
  const std::string yaml = R"(seed: 3
switches: [{name: sw0, domain: 1, ports: 4}]
disks:
  - {name: disk0, port: sw0:2, luns: [{lun: 0, size: 32MiB}]}
  - {name: disk1, port: sw0:3, luns: [{lun: 0, size: 32MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {lba_count: 20000, read_percent: 50}}
volumes:
  - {name: vol0, switch: sw0, vsegs: [{disk: disk0, lba: 0, blocks: 20000, extent_blocks: 1000}]}
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol0}]}
zones: [{name: z0, members: [host0, vt0]}]
services:
  - {at: 5ms, migrate: {volume: vol0, disk: disk1, to_lba: 100}}
)";
  auto topology = sim::parse_topology_yaml(yaml, "test.yaml");
  ASSERT_TRUE(topology.ok()) << topology.status();
  topology->duration_ns = 300 * sim::kNsPerMs;
  auto fabric = sim::Fabric::build(*topology, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  ASSERT_TRUE((*fabric)->run().ok());
  uint64_t ios = 0, verify_errors = 0;
  for (const auto& h : (*fabric)->hosts()) {
    ios += h->stats().ios_completed;
    verify_errors += h->stats().verify_errors;
  }
  EXPECT_GT(ios, 1000u);
  EXPECT_EQ(verify_errors, 0u);
  const auto m = (*fabric)->switch_named("sw0")->virtualization()->control_path().migrations();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].state, MigrationProgress::State::kDone) << m[0].percent() << "% copied";
  EXPECT_EQ(m[0].volume, "vol0");
}

TEST(Migration, AServiceNamingAnUnknownVolumeOrDiskIsAnErrorAtItsLine) {
  std::string yaml = split_path_yaml();
  yaml += "services:\n  - {at: 5ms, migrate: {volume: vol9, disk: disk3}}\n";
  auto t = sim::parse_topology_yaml(yaml, "t.yaml");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("no volume 'vol9'"), std::string::npos) << t.status();
  EXPECT_NE(t.status().message().find("t.yaml:"), std::string::npos) << t.status();
  auto base = sim::parse_topology_yaml(split_path_yaml(), "t.yaml");
  ASSERT_TRUE(base.ok());
  const absl::Status s = sim::add_service_yaml("{at: 1ms, migrate: {volume: vol0, disk: disk7}}",
                                               "--service #1", &*base);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no disk 'disk7'"), std::string::npos) << s;
  EXPECT_NE(s.message().find("--service #1"), std::string::npos) << s;
  EXPECT_TRUE(
      sim::add_service_yaml("{at: 1ms, migrate: {volume: vol0, disk: disk3}}", "x", &*base).ok());
  EXPECT_EQ(base->services.size(), 1u);
}

}  // namespace
}  // namespace splitpath::testing
