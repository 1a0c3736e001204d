// LV reconfiguration end to end: hosts read and write a volume through the
// switch while it grows by a VSEG, a VSEG splits and two merge. Every
// acknowledged write reads back (through the LUN and straight from the
// disks), each initiator gets CAPACITY DATA HAS CHANGED exactly once per LUN,
// and the new blocks serve I/O.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/report.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"
#include "tests/support/virtual_testbed.h"

namespace splitpath::testing {
namespace {

constexpr uint64_t kOldBlocks = 8192;   // vol0 before: disk0 from LBA 100
constexpr uint64_t kGrowBlocks = 4096;  // then disk1 from LBA 0
constexpr uint64_t kNewBlocks = kOldBlocks + kGrowBlocks;
constexpr uint32_t kIoBlocks = 8;

// host0 sees LUN 0 (any initiator); host1 sees LUN 0 and LUN 1 (masked to
// host1): three I_T nexus/LUN pairs, on both kinds of exposure.
std::string reconfig_yaml(const std::string& services = "") {
  return R"(seed: 11
switches: [{name: sw0, domain: 1, ports: 8}]
disks:
  - {name: disk0, port: sw0:2, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk1, port: sw0:3, luns: [{lun: 0, size: 16MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {read_percent: 50, queue_depth: 4}}
  - {name: host1, port: sw0:1, workload: {read_percent: 50, queue_depth: 4}}
volumes:
  - {name: vol0, switch: sw0, vsegs: [{disk: disk0, lba: 100, blocks: 8192, extent_blocks: 1024}]}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: vol0}, {lun: 1, volume: vol0, hosts: [host1]}]
zones: [{name: z0, members: [host0, host1, vt0]}]
)" + services;
}

bool is_capacity_ua(const sim::ScsiResult& r) {
  return r.status == fc::scsi_status::kCheckCondition && r.has_sense &&
         r.sense.sense_key == fc::sense_key::kUnitAttention &&
         r.sense.code.asc == fc::asc::kCapacityDataChanged.asc &&
         r.sense.code.ascq == fc::asc::kCapacityDataChanged.ascq;
}

// Three streams (host, LUN) write and read 4 KiB slots of vol0, each its own
// slots (slot % 3), so writes never overlap; each read is checked against
// the slot's last acknowledged data. A command that meets a unit attention
// is counted and sent again, as an initiator does.
struct Load {
  struct Stream {
    std::string host;
    uint16_t lun = 0;
  };
  struct Io {
    size_t stream = 0;
    bool write = false;
    uint64_t seed = 0;
    std::shared_ptr<VirtualTestbed::Pending> pending;
    sim::SimTime issued_at = 0;
  };
  VirtualTestbed& tb;
  sim::Rng rng;
  std::vector<Stream> streams{{"host0", 0}, {"host1", 0}, {"host1", 1}};
  uint64_t slots = kOldBlocks / kIoBlocks;
  std::vector<uint64_t> content;  // slot -> seed of its acknowledged data (0: never written)
  std::map<uint64_t, Io> in_flight;
  std::map<std::pair<std::string, uint16_t>, uint64_t> uas;
  uint64_t next_seed = 1, reads = 0, writes = 0, new_block_ios = 0, mismatches = 0, errors = 0;
  // Once the capacity has changed (from `ua_from` on), a stream's next
  // command must meet the UA: commands it issued from then on that ran
  // before its UA came are counted here.
  sim::SimTime ua_from = ~sim::SimTime{0};
  uint64_t ran_before_ua = 0;

  Load(VirtualTestbed& t, uint64_t seed) : tb(t), rng(seed), content(kNewBlocks / kIoBlocks, 0) {}

  std::shared_ptr<VirtualTestbed::Pending> send(uint64_t slot, const Io& io) {
    const Stream& s = streams[io.stream];
    const uint64_t lba = slot * kIoBlocks;
    if (io.write)
      return tb.start(s.host, s.lun, fc::make_write(lba, kIoBlocks), 0,
                      pattern(io.seed, kIoBlocks));
    return tb.start(s.host, s.lun, fc::make_read(lba, kIoBlocks), kIoBlocks * 512);
  }

  void top_up(size_t depth) {
    while (in_flight.size() < depth) {
      uint64_t slot = rng.uniform(slots);
      while (in_flight.contains(slot))
        slot = (slot + 1) % slots;
      Io io;
      io.stream = slot % streams.size();
      io.write = content[slot] == 0 || rng.uniform(100) < 50;
      if (io.write) io.seed = next_seed++;
      io.pending = send(slot, io);
      io.issued_at = tb.kernel().now();
      in_flight[slot] = std::move(io);
    }
  }

  void reap() {
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      Io& io = it->second;
      if (!io.pending->done) {
        ++it;
        continue;
      }
      const uint64_t slot = it->first;
      const sim::ScsiResult& r = io.pending->result;
      if (is_capacity_ua(r)) {
        ++uas[{streams[io.stream].host, streams[io.stream].lun}];
        io.pending = send(slot, io);  // the same command again
        io.issued_at = tb.kernel().now();
        ++it;
        continue;
      }
      if (r.status == fc::scsi_status::kGood && io.issued_at >= ua_from &&
          !uas.contains({streams[io.stream].host, streams[io.stream].lun})) {
        ++ran_before_ua;
      }
      if (r.status != fc::scsi_status::kGood) {
        if (++errors <= 5)
          ADD_FAILURE() << "slot " << slot << " status " << int(r.status) << " sense key "
                        << int(r.sense.sense_key) << " asc " << int(r.sense.code.asc);
      } else if (io.write) {
        content[slot] = io.seed;
        ++writes;
      } else {
        ++reads;
        if (r.data_in != pattern(content[slot], kIoBlocks)) ++mismatches;
      }
      if (slot * kIoBlocks >= kOldBlocks) ++new_block_ios;
      it = in_flight.erase(it);
    }
  }

  void run(int steps, size_t depth = 12) {
    for (int i = 0; i < steps; ++i) {
      top_up(depth);
      tb.run_for(20 * sim::kNsPerUs);
      reap();
    }
  }

  // Runs the load until `done` is set (a reconfiguration under way).
  void until(const bool& done) {
    for (int i = 0; i < 100000 && !done; ++i)
      run(1);
    EXPECT_TRUE(done) << "the reconfiguration did not end";
  }

  void drain() {
    for (int i = 0; i < 100000 && !in_flight.empty(); ++i) {
      tb.run_for(20 * sim::kNsPerUs);
      reap();
    }
  }
};

uint64_t wwpn_of(VirtualTestbed& tb, const std::string& disk) {
  return tb.disk(disk).wwpn();
}

uint64_t read_capacity_blocks(VirtualTestbed& tb, const std::string& host, uint16_t lun) {
  const sim::ScsiResult r =
      tb.command(host, lun, fc::make_read_capacity16(fc::kReadCapacity16DataSize),
                 fc::kReadCapacity16DataSize);
  EXPECT_EQ(r.status, fc::scsi_status::kGood) << host << " LUN " << lun;
  auto cap = fc::decode_read_capacity16_data(r.data_in);
  EXPECT_TRUE(cap.ok());
  return cap.ok() ? cap->last_lba + 1 : 0;
}

void expect_lba_out_of_range(const sim::ScsiResult& r, const std::string& what) {
  EXPECT_EQ(r.status, fc::scsi_status::kCheckCondition) << what;
  EXPECT_EQ(r.sense.sense_key, fc::sense_key::kIllegalRequest) << what;
  EXPECT_EQ(r.sense.code.asc, fc::asc::kLbaOutOfRange.asc) << what;
  EXPECT_EQ(r.sense.code.ascq, fc::asc::kLbaOutOfRange.ascq) << what;
}

std::unique_ptr<VirtualTestbed> make_testbed() {
  auto tb = std::make_unique<VirtualTestbed>(reconfig_yaml(), 1);
  if (!tb->ok()) return tb;
  for (int i = 0; i < 1000 && tb->host("host1").luns().size() < 2; ++i)
    tb->run_for(100 * sim::kNsPerUs);
  EXPECT_EQ(tb->host("host1").luns().size(), 2u);
  return tb;
}

TEST(LvReconfig, GrowSplitAndMergeUnderLoadLoseNoWriteAndEachInitiatorSeesOneUa) {
  auto tbp = make_testbed();
  VirtualTestbed& tb = *tbp;
  ASSERT_TRUE(tb.ok());
  cp::ControlPath& cp = tb.virtualization().control_path();

  // Before the grow the blocks past the capacity do not exist.
  expect_lba_out_of_range(tb.read("host0", 0, kOldBlocks, kIoBlocks), "read past the end");
  expect_lba_out_of_range(tb.write("host1", 1, kOldBlocks + 100, pattern(1, kIoBlocks)),
                          "write past the end");
  EXPECT_EQ(read_capacity_blocks(tb, "host0", 0), kOldBlocks);

  Load load(tb, 17);
  load.run(300);
  EXPECT_TRUE(load.uas.empty()) << "a unit attention before any capacity change";

  // Grow by a VSEG on disk1, under load.
  cp::GrowRequest grow;
  grow.volume = "vol0";
  grow.vseg.blocks = kGrowBlocks;
  grow.vseg.disk_wwpn = wwpn_of(tb, "disk1");
  grow.vseg.extent_blocks = 512;
  std::string error;
  bool grown = false, grow_ok = false;
  ASSERT_TRUE(cp.grow_volume(grow, &error, [&](bool ok) {
    grown = true;
    grow_ok = ok;
  })) << error;
  // The FPs have the masked exposures a mailbox latency after the grow: a
  // command issued later must not run before its initiator's UA.
  load.ua_from = tb.kernel().now() + 20 * sim::kNsPerUs;
  load.until(grown);
  EXPECT_TRUE(grow_ok);
  // Every stream meets its unit attention, then the new blocks join the load.
  load.run(300);
  load.slots = kNewBlocks / kIoBlocks;
  load.run(600);
  EXPECT_GT(load.new_block_ios, 0u);

  // Split the first VSEG off its extent boundaries, and the new one; then
  // merge both back, all under load.
  for (uint64_t lba : {uint64_t{3000}, kOldBlocks + 1000}) {
    bool done = false, ok = false;
    ASSERT_TRUE(cp.split_vseg("vol0", lba, &error, [&](bool r) {
      done = true;
      ok = r;
    })) << error;
    load.until(done);
    EXPECT_TRUE(ok) << "split at " << lba;
    load.run(200);
  }
  // The first VSEG (disk0) and the grown one (disk1) are not contiguous.
  bool refused_done = false, refused_ok = true;
  EXPECT_FALSE(cp.merge_vsegs("vol0", kOldBlocks, &error, [&](bool r) {
    refused_done = true;
    refused_ok = r;
  }));
  EXPECT_NE(error.find("not contiguous"), std::string::npos) << error;
  for (uint64_t lba : {uint64_t{3000}, kOldBlocks + 1000}) {
    bool done = false, ok = false;
    ASSERT_TRUE(cp.merge_vsegs("vol0", lba, &error, [&](bool r) {
      done = true;
      ok = r;
    })) << error;
    load.until(done);
    EXPECT_TRUE(ok) << "merge at " << lba;
    load.run(200);
  }
  load.drain();

  const cp::CpStats& s = cp.stats();
  EXPECT_EQ(load.errors, 0u);
  EXPECT_EQ(load.mismatches, 0u) << "a read returned other data than acknowledged";
  EXPECT_EQ(s.volumes_grown, 1u);
  EXPECT_EQ(s.vseg_splits, 2u);
  EXPECT_EQ(s.vseg_merges, 2u);
  EXPECT_GT(s.updates, 3u);
  // Exactly one UA per initiator per LUN, on both kinds of exposure.
  using Key = std::pair<std::string, uint16_t>;
  EXPECT_EQ(load.uas,
            (std::map<Key, uint64_t>{{{"host0", 0}, 1}, {{"host1", 0}, 1}, {{"host1", 1}, 1}}));
  EXPECT_EQ(s.unit_attentions, 3u);
  EXPECT_EQ(load.ran_before_ua, 0u) << "a command issued after the grow ran before its UA";
  EXPECT_EQ(tb.host("host0").stats().capacity_changes, 1u);
  EXPECT_EQ(tb.host("host1").stats().capacity_changes, 2u);
  EXPECT_EQ(tb.host("host1").stats().unit_attentions, 2u);
  // The hosts re-read the capacity after the UA, and READ CAPACITY says so.
  for (const char* h : {"host0", "host1"}) {
    for (const sim::DiscoveredLun& l : tb.host(h).luns())
      EXPECT_EQ(l.blocks, kNewBlocks) << h << " LUN " << l.lun;
  }
  EXPECT_EQ(read_capacity_blocks(tb, "host0", 0), kNewBlocks);
  EXPECT_EQ(read_capacity_blocks(tb, "host1", 1), kNewBlocks);
  expect_lba_out_of_range(tb.read("host0", 0, kNewBlocks, kIoBlocks), "read past the new end");

  // Every acknowledged write reads back through the LUN, and is on the disk
  // it belongs to: disk0 from LBA 100, then disk1 from LBA 0.
  uint64_t bad_lun = 0, bad_disk = 0, checked = 0;
  for (uint64_t slot = 0; slot < load.slots; ++slot) {
    if (load.content[slot] == 0) continue;
    ++checked;
    const std::vector<uint8_t> want = pattern(load.content[slot], kIoBlocks);
    const uint64_t lba = slot * kIoBlocks;
    const sim::ScsiResult r = tb.read("host0", 0, lba, kIoBlocks);
    if (r.status != fc::scsi_status::kGood || r.data_in != want) ++bad_lun;
    const std::vector<uint8_t> on_disk =
        lba < kOldBlocks ? tb.disk_bytes("disk0", 0, 100 + lba, kIoBlocks)
                         : tb.disk_bytes("disk1", 0, lba - kOldBlocks, kIoBlocks);
    if (on_disk != want) ++bad_disk;
  }
  EXPECT_GT(checked, load.slots / 2);
  EXPECT_EQ(bad_lun, 0u);
  EXPECT_EQ(bad_disk, 0u);
  std::printf(
      "lv reconfig under load: %llu writes, %llu reads (%llu on the new VSEG), %llu UAs, %llu "
      "restrictive updates, %llu errors\n",
      static_cast<unsigned long long>(load.writes), static_cast<unsigned long long>(load.reads),
      static_cast<unsigned long long>(load.new_block_ios),
      static_cast<unsigned long long>(s.unit_attentions),
      static_cast<unsigned long long>(s.updates), static_cast<unsigned long long>(load.errors));
}

TEST(LvReconfig, RequestsThatCannotBeServedAreRefusedWithAPreciseReason) {
  auto tbp = make_testbed();
  VirtualTestbed& tb = *tbp;
  ASSERT_TRUE(tb.ok());
  cp::ControlPath& cp = tb.virtualization().control_path();
  std::string error;
  cp::GrowRequest g;
  g.volume = "nope";
  g.vseg.blocks = 10;
  g.vseg.disk_wwpn = wwpn_of(tb, "disk1");
  EXPECT_FALSE(cp.grow_volume(g, &error));
  EXPECT_NE(error.find("no such volume"), std::string::npos) << error;
  g.volume = "vol0";
  g.vseg.disk_wwpn = wwpn_of(tb, "disk0");
  g.vseg.lba = 8000;  // vol0 holds disk0 blocks 100 .. 8291
  EXPECT_FALSE(cp.grow_volume(g, &error));
  EXPECT_NE(error.find("overlaps volume 'vol0'"), std::string::npos) << error;
  g.vseg.blocks = 0;
  EXPECT_FALSE(cp.grow_volume(g, &error));
  EXPECT_NE(error.find("blocks is 0"), std::string::npos) << error;
  EXPECT_FALSE(cp.split_vseg("vol0", 0, &error));
  EXPECT_NE(error.find("starts there already"), std::string::npos) << error;
  EXPECT_FALSE(cp.split_vseg("vol0", kOldBlocks, &error));
  EXPECT_NE(error.find("beyond"), std::string::npos) << error;
  EXPECT_FALSE(cp.merge_vsegs("vol0", 100, &error));
  EXPECT_NE(error.find("no VSEG starts there"), std::string::npos) << error;
  EXPECT_FALSE(cp.merge_vsegs("vol0", 0, &error));
  EXPECT_NE(error.find("first VSEG"), std::string::npos) << error;
  EXPECT_EQ(cp.stats().volumes_grown + cp.stats().vseg_splits + cp.stats().vseg_merges, 0u);
  EXPECT_EQ(read_capacity_blocks(tb, "host0", 0), kOldBlocks);
}

// The topology's `services` start the reconfigurations; the hosts' own
// verifying jobs (over whole LUNs) run across them, meet the UA, retry,
// re-read the capacity and go on over the grown LUN. vol0 is exposed to any
// initiator, vol1 masked to host1; each host sees one of them.
TEST(LvReconfig, ScheduledInTheTopologyTheHostsJobsRunAcrossIt) {
  auto topology = sim::parse_topology_yaml(R"(seed: 12
switches: [{name: sw0, domain: 1, ports: 8}]
disks:
  - {name: disk0, port: sw0:2, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk1, port: sw0:3, luns: [{lun: 0, size: 16MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {read_percent: 50, queue_depth: 4}}
  - {name: host1, port: sw0:1, workload: {read_percent: 50, queue_depth: 4}}
volumes:
  - {name: vol0, switch: sw0, vsegs: [{disk: disk0, lba: 100, blocks: 8192, extent_blocks: 1024}]}
  - {name: vol1, switch: sw0, vsegs: [{disk: disk0, lba: 9000, blocks: 8192}]}
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol0}]}
  - {name: vt1, switch: sw0, luns: [{lun: 0, volume: vol1, hosts: [host1]}]}
zones: [{name: z0, members: [host0, vt0]}, {name: z1, members: [host1, vt1]}]
services:
  - {at: 3ms, grow: {volume: vol0, disk: disk1, lba: 0, blocks: 4096, extent_blocks: 1024}}
  - {at: 4ms, grow: {volume: vol1, disk: disk1, lba: 8192, blocks: 4096}}
  - {at: 6ms, split: {volume: vol0, lba: 2048}}
  - {at: 9ms, split: {volume: vol1, lba: 10000}}
  - {at: 12ms, merge: {volume: vol0, lba: 2048}}
)",
                                           "test.yaml");
  ASSERT_TRUE(topology.ok()) << topology.status();
  topology->duration_ns = 40 * sim::kNsPerMs;
  auto fabric = sim::Fabric::build(*topology, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  ASSERT_TRUE((*fabric)->run().ok());
  uint64_t ios = 0;
  for (const auto& h : (*fabric)->hosts()) {
    const sim::HostStats& st = h->stats();
    ios += st.ios_completed;
    EXPECT_EQ(st.verify_errors, 0u) << h->config().name;
    EXPECT_EQ(st.check_conditions + st.other_status + st.timeouts, 0u) << h->config().name;
    EXPECT_EQ(st.unit_attentions, 1u) << h->config().name;
    EXPECT_EQ(st.capacity_changes, 1u) << h->config().name;
    ASSERT_EQ(h->luns().size(), 1u) << h->config().name;
    EXPECT_EQ(h->luns()[0].blocks, kNewBlocks) << h->config().name;
  }
  EXPECT_GT(ios, 1000u);
  for (const sim::ServiceOutcome& o : (*fabric)->service_outcomes())
    EXPECT_EQ(o.state, sim::ServiceOutcome::State::kDone) << o.error;
  const cp::CpStats& s = (*fabric)->switch_named("sw0")->virtualization()->control_path().stats();
  EXPECT_EQ(s.unit_attentions, 2u);
  EXPECT_EQ(s.volumes_grown, 2u);
  EXPECT_EQ(s.vseg_splits, 2u);
  EXPECT_EQ(s.vseg_merges, 1u);
  // The run report names each one, and the hosts' unit attentions.
  const nlohmann::ordered_json r = sim::make_report(**fabric);
  for (const auto& h : r["hosts"])
    EXPECT_EQ(h["unit_attentions"], 1u);
  const std::string summary = sim::format_summary(r);
  for (const char* line : {"service 0 at 3.000 ms: 'vol0' grows by 4096 blocks: done\n",
                           "service 3 at 9.000 ms: split of 'vol1' at LBA 10000: done\n",
                           "service 4 at 12.000 ms: merge of 'vol0' at LBA 2048: done\n"}) {
    EXPECT_NE(summary.find(line), std::string::npos) << summary;
  }
}

TEST(LvReconfig, ServiceEntriesWithBadFieldsAreErrorsNamingTheField) {
  auto bad = [](const std::string& entry) {
    auto t = sim::parse_topology_yaml(reconfig_yaml("services:\n  - " + entry + "\n"), "t.yaml");
    EXPECT_FALSE(t.ok()) << entry;
    return t.ok() ? std::string() : std::string(t.status().message());
  };
  std::string e = bad("{at: 1ms, grow: {volume: vol9, disk: disk1, blocks: 10}}");
  EXPECT_NE(e.find("no volume 'vol9'"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:"), std::string::npos) << e;
  e = bad("{at: 1ms, grow: {volume: vol0, disk: disk7, blocks: 10}}");
  EXPECT_NE(e.find("no disk 'disk7'"), std::string::npos) << e;
  e = bad("{at: 1ms, grow: {volume: vol0, disk: disk1}}");
  EXPECT_NE(e.find("blocks"), std::string::npos) << e;
  e = bad("{at: 1ms, grow: {volume: vol0, disk: disk1, blocks: 10, colour: red}}");
  EXPECT_NE(e.find("colour"), std::string::npos) << e;
  e = bad("{at: 1ms, split: {volume: vol0}}");
  EXPECT_NE(e.find("lba"), std::string::npos) << e;
  e = bad("{at: 1ms, split: {volume: vol0, lba: 9000}}");
  EXPECT_NE(e.find("split.lba"), std::string::npos) << e;
  e = bad("{at: 1ms, merge: {volume: vol0, lba: 10}, split: {volume: vol0, lba: 10}}");
  EXPECT_NE(e.find("names two services"), std::string::npos) << e;
  // `splitpath run --service` reads the same entries.
  auto base = sim::parse_topology_yaml(reconfig_yaml(), "t.yaml");
  ASSERT_TRUE(base.ok());
  const absl::Status s =
      sim::add_service_yaml("{at: 1ms, merge: {volume: vol1, lba: 5}}", "--service #1", &*base);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no volume 'vol1'"), std::string::npos) << s;
  EXPECT_NE(s.message().find("--service #1"), std::string::npos) << s;
  ASSERT_TRUE(
      sim::add_service_yaml("{at: 1ms, grow: {volume: vol0, disk: disk1, blocks: 64}}", "x", &*base)
          .ok());
  ASSERT_TRUE(
      sim::add_service_yaml("{at: 2ms, split: {volume: vol0, lba: 8200}}", "x", &*base).ok());
  ASSERT_EQ(base->services.size(), 2u);
  EXPECT_EQ(base->services[0].grow->vseg.blocks, 64u);
  EXPECT_EQ(base->services[0].grow->vseg.disk, "disk1");
  EXPECT_EQ(base->services[1].split->lba, 8200u);
}

}  // namespace
}  // namespace splitpath::testing
