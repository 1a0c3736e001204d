// The write-journaling primitive end to end: hosts on four ports write a
// journaled volume through the frames of the fabric; every write goes to the
// data device and, as a record, to the writer's journal (each port FP has its
// own, the CP one for the writes it does itself). Journals are small, so
// they fill up under load: the FPs fault kJournalFull and the CP swaps in
// empty ones, sealing the full ones. Afterwards every journal (sealed and
// active) is read from the journal disk's blocks, its records replayed in
// (timestamp, journal, sequence) order onto the starting image, and the
// result compared with the data device block for block; every acknowledged
// write must be in the replay. The topology file's journal errors name file,
// line and field.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "fabric_sim/switch/switch_virtualization.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/map/journal_record.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/port_fp_totals.h"

namespace splitpath::testing {
namespace {

using fpapi::FaultKind;

constexpr uint32_t kBlock = 512;
constexpr uint64_t kVolumeBlocks = 4096;
constexpr uint64_t kDataStart = 100;  // disk0 LBA of volume block 0
constexpr uint32_t kJournalBlocks = 96;
constexpr uint64_t kAreaBlocks = 400 * kJournalBlocks;
constexpr int kHosts = 4;

std::string journal_yaml() {
  return R"(seed: 23
duration: 100ms
switches:
  - {name: sw0, domain: 1, ports: 8}
disks:
  - {name: disk0, port: sw0:4, speed: 8G, latency: 40us, luns: [{lun: 0, size: 8MiB}]}
  - {name: disk1, port: sw0:5, speed: 16G, latency: 90us, luns: [{lun: 0, size: 1MiB}, {lun: 1, size: 32MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {lba_count: 1000}}
  - {name: host1, port: sw0:1, workload: {lba_count: 1000}}
  - {name: host2, port: sw0:2, workload: {lba_count: 1000}}
  - {name: host3, port: sw0:3, workload: {lba_count: 1000}}
volumes:
  - name: journaled
    switch: sw0
    vsegs:
      - blocks: 4096
        extent_blocks: 512
        journal:
          data: {disk: disk0, lba: 100}
          journal: {disk: disk1, lun: 1, lba: 64, blocks: 38400}
          journal_blocks: 96
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: journaled}]
zones:
  - {name: z0, members: [host0, host1, host2, host3, vt0]}
)";
}

struct Record {
  map::JournalRecordHeader h;
  std::vector<uint8_t> data;
};

struct Replay {
  std::vector<Record> records;
  uint64_t journals = 0;
  uint64_t bad = 0;  // records of another VSEG or block size, or past the volume
};

// The records of journal `j`, read from the journal disk: from its first
// block while the header is this journal's next one.
void read_journal(VirtualTestbed& tb, const cp::JournalInfo& j, Replay* out) {
  ++out->journals;
  EXPECT_EQ(j.lun, 1);
  EXPECT_EQ(j.blocks, kJournalBlocks);
  const std::vector<uint8_t> bytes = tb.disk_bytes("disk1", j.lun, j.lba, j.blocks);
  uint64_t at = 0;
  uint32_t sequence = 0;
  while (at < j.blocks) {
    map::JournalRecordHeader h;
    if (!map::decode_journal_header(bytes.data() + at * kBlock, &h) ||
        h.journal_id != j.journal_id || h.sequence != sequence) {
      break;
    }
    if (h.block_size != kBlock || h.blocks == 0 || at + 1 + h.blocks > j.blocks ||
        h.vseg_lba + h.blocks > kVolumeBlocks || h.lv_lba != h.vseg_lba) {
      ++out->bad;
      break;
    }
    Record r;
    r.h = h;
    r.data.assign(bytes.begin() + (at + 1) * kBlock, bytes.begin() + (at + 1 + h.blocks) * kBlock);
    out->records.push_back(std::move(r));
    at += 1 + h.blocks;
    ++sequence;
  }
}

// A consumer's turn: reads every sealed journal into `out`, releases it.
void consume(VirtualTestbed& tb, Replay* out) {
  cp::ControlPath& cp = tb.virtualization().control_path();
  for (const cp::JournalInfo& j : cp.sealed_journals()) {
    read_journal(tb, j, out);
    EXPECT_TRUE(cp.release_journal(j.vseg_id, j.journal_id));
  }
}

// Every record of every journal still held (sealed and active) added to
// `out`, all sorted in replay order: (timestamp, journal, sequence).
Replay read_journals(VirtualTestbed& tb, Replay out = {}) {
  cp::ControlPath& cp = tb.virtualization().control_path();
  std::vector<cp::JournalInfo> all = cp.sealed_journals();
  const std::vector<cp::JournalInfo> active = cp.active_journals();
  all.insert(all.end(), active.begin(), active.end());
  for (const cp::JournalInfo& j : all)
    read_journal(tb, j, &out);
  std::sort(out.records.begin(), out.records.end(), [](const Record& a, const Record& b) {
    return std::tie(a.h.timestamp_ns, a.h.journal_id, a.h.sequence) <
           std::tie(b.h.timestamp_ns, b.h.journal_id, b.h.sequence);
  });
  return out;
}

struct Write {
  uint64_t lba;
  uint32_t blocks;
  std::vector<uint8_t> data;
};

struct LoadResult {
  uint64_t acknowledged = 0;
  uint64_t errors = 0;
  uint64_t records = 0;
  uint64_t journals = 0;
  uint64_t swaps = 0;
  uint64_t recycled = 0;
  uint64_t journal_full_faults = 0;
  uint64_t cp_dispatched = 0;
  uint64_t differing_blocks = 0;  // data device against the replay
  uint64_t missing_writes = 0;    // acknowledged writes not in the replay
  uint64_t bad_records = 0;
};

// How often the consumer of LoadOptions reads and releases sealed journals:
// slower than the load fills them, so writes must wait for it.
constexpr sim::SimTime kConsumerPeriod = 5 * sim::kNsPerMs;

struct LoadOptions {
  bool fault_every_io = false;
  // A consumer reads and releases sealed journals every kConsumerPeriod
  // (ControlPath::attach_journal_consumer), in an area of this many
  // journals (0: the topology's 400).
  bool consumer = false;
  uint64_t area_journals = 0;
};

// Rounds of writes from the four hosts at once (each host four in flight,
// never overlapping its own; hosts overlap each other), some spanning
// extents (the CP does those), then the replay check.
LoadResult load(int rounds, const LoadOptions& o) {
  sim::FabricOptions options;
  if (o.fault_every_io) options.adjust_cp_config = [](cp::CpConfig& c) { c.fault_every_io = true; };
  LoadResult out;
  std::string yaml = journal_yaml();
  if (o.area_journals != 0) {
    const std::string from = "blocks: " + std::to_string(kAreaBlocks) + "}";
    yaml.replace(yaml.find(from), from.size(),
                 "blocks: " + std::to_string(o.area_journals * kJournalBlocks) + "}");
  }
  VirtualTestbed tb(yaml, 1, options);
  if (!tb.ok()) return out;
  if (o.consumer) tb.virtualization().control_path().attach_journal_consumer();
  Replay consumed;
  sim::SimTime next_turn = 0;
  std::vector<Write> acknowledged;
  Rng rng{0x70a1};
  for (int round = 0; round < rounds; ++round) {
    std::vector<Write> ws;
    std::vector<std::shared_ptr<VirtualTestbed::Pending>> pending;
    for (int h = 0; h < kHosts; ++h) {
      for (int q = 0; q < 4; ++q) {
        // Quarters of a 1024-block window that moves each round, so writes
        // of different hosts race for the same blocks and cross extents.
        const uint64_t window = (round * 300) % (kVolumeBlocks - 1024);
        const uint32_t blocks = static_cast<uint32_t>(1 + rng.below(round % 5 == 4 ? 200 : 40));
        const uint64_t lba = window + q * 256 + rng.below(256 - std::min<uint64_t>(blocks, 255));
        ws.push_back(Write{lba, blocks, pattern(round * 1000 + h * 10 + q, blocks)});
      }
    }
    for (size_t i = 0; i < ws.size(); ++i) {
      const size_t k = (i % kHosts) * 4 + i / kHosts;  // interleave the hosts
      const std::string host = "host" + std::to_string(k / 4);
      pending.push_back(tb.start(host, 0, fc::make_write(ws[k].lba, ws[k].blocks), 0, ws[k].data));
    }
    const sim::SimTime deadline = tb.kernel().now() + 3 * sim::kNsPerSec;
    while (tb.kernel().now() < deadline &&
           !std::all_of(pending.begin(), pending.end(), [](const auto& p) { return p->done; })) {
      tb.run_for(50 * sim::kNsPerUs);
      if (o.consumer && tb.kernel().now() >= next_turn) {
        consume(tb, &consumed);
        next_turn = tb.kernel().now() + kConsumerPeriod;
      }
    }
    for (size_t i = 0; i < pending.size(); ++i) {
      const size_t k = (i % kHosts) * 4 + i / kHosts;
      if (pending[i]->result.status == fc::scsi_status::kGood && !pending[i]->result.timed_out) {
        acknowledged.push_back(ws[k]);
      } else {
        ++out.errors;
      }
    }
  }
  tb.run_for(sim::kNsPerMs);
  out.acknowledged = acknowledged.size();

  const Replay replay = read_journals(tb, std::move(consumed));
  out.records = replay.records.size();
  out.journals = replay.journals;
  out.bad_records = replay.bad;
  std::vector<uint8_t> image(kVolumeBlocks * kBlock, 0);  // the starting image: zeros
  for (const Record& r : replay.records)
    std::copy(r.data.begin(), r.data.end(), image.begin() + r.h.vseg_lba * kBlock);
  const std::vector<uint8_t> data = tb.disk_bytes("disk0", 0, kDataStart, kVolumeBlocks);
  for (uint64_t b = 0; b < kVolumeBlocks; ++b) {
    if (!std::equal(image.begin() + b * kBlock, image.begin() + (b + 1) * kBlock,
                    data.begin() + b * kBlock)) {
      ++out.differing_blocks;
    }
  }
  // Every acknowledged write: each of its blocks is in a record with its data.
  for (const Write& w : acknowledged) {
    bool all = true;
    for (uint64_t b = w.lba; b < w.lba + w.blocks && all; ++b) {
      bool found = false;
      for (const Record& r : replay.records) {
        if (b < r.h.vseg_lba || b >= r.h.vseg_lba + r.h.blocks) continue;
        const auto at = r.data.begin() + (b - r.h.vseg_lba) * kBlock;
        if (std::equal(at, at + kBlock, w.data.begin() + (b - w.lba) * kBlock)) {
          found = true;
          break;
        }
      }
      all = found;
    }
    if (!all) ++out.missing_writes;
  }
  const auto s = tb.stats();
  out.swaps = s.cp.journal_swaps;
  out.recycled = s.cp.journals_recycled;
  out.journal_full_faults = faults(s, FaultKind::kJournalFull);
  out.cp_dispatched = s.cp.dispatched;
  return out;
}

void record(const LoadResult& r) {
  ::testing::Test::RecordProperty("acknowledged", static_cast<int>(r.acknowledged));
  ::testing::Test::RecordProperty("records", static_cast<int>(r.records));
  ::testing::Test::RecordProperty("journals", static_cast<int>(r.journals));
  ::testing::Test::RecordProperty("swaps", static_cast<int>(r.swaps));
  ::testing::Test::RecordProperty("journal_full_faults", static_cast<int>(r.journal_full_faults));
  ::testing::Test::RecordProperty("cp_dispatched", static_cast<int>(r.cp_dispatched));
}

TEST(Journal, ReplayingEveryJournalRebuildsTheDataDeviceUnderLoad) {
  const LoadResult r = load(/*rounds=*/40, {});
  record(r);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.acknowledged, 40u * kHosts * 4);
  EXPECT_EQ(r.bad_records, 0u);
  EXPECT_EQ(r.missing_writes, 0u) << "acknowledged writes whose records were lost";
  EXPECT_EQ(r.differing_blocks, 0u) << "the replay differs from the data device";
  EXPECT_GE(r.records, r.acknowledged);
  // The FPs' journals filled and were swapped under load; the CP wrote too
  // (extent-spanning and serialized writes), into its own journal.
  EXPECT_GT(r.journal_full_faults, 10u);
  EXPECT_GT(r.swaps, 10u);
  EXPECT_GT(r.cp_dispatched, 0u);
  EXPECT_EQ(r.recycled, 0u) << "the area is sized so that no journal is reused";
}

TEST(Journal, CpOwnedWritesAreJournaledToo) {
  // Every I/O through the CP: every record is in the CP's own journals,
  // swapped as they fill.
  const LoadResult r = load(/*rounds=*/12, {.fault_every_io = true});
  record(r);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.bad_records, 0u);
  EXPECT_EQ(r.missing_writes, 0u);
  EXPECT_EQ(r.differing_blocks, 0u);
  EXPECT_EQ(r.journal_full_faults, 0u);
  EXPECT_GT(r.swaps, 5u);
  EXPECT_EQ(r.recycled, 0u);
}

// An area of 6 journals, far fewer than the load fills: with a consumer
// attached no journal is reused before the consumer has read and released
// it; writes wait for a free journal instead, and every record reaches the
// consumer. (Without one the CP reuses unread journals: records are lost.)
TEST(Journal, WithAConsumerNoJournalIsReusedBeforeItIsReleased) {
  const LoadResult r = load(/*rounds=*/20, {.consumer = true, .area_journals = 6});
  record(r);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.recycled, 0u);
  EXPECT_EQ(r.bad_records, 0u);
  EXPECT_EQ(r.missing_writes, 0u) << "acknowledged writes whose records were lost";
  EXPECT_EQ(r.differing_blocks, 0u) << "the replay differs from the data device";
  EXPECT_GT(r.journals, 6u * 4) << "each journal was used several times";
}

TEST(Journal, WithoutAConsumerUnreadJournalsAreReused) {
  const LoadResult r = load(/*rounds=*/20, {.area_journals = 8});
  EXPECT_EQ(r.errors, 0u);
  EXPECT_GT(r.recycled, 0u);
  EXPECT_GT(r.missing_writes, 0u) << "records of reused journals are gone";
}

TEST(Journal, ReadsComeFromTheDataDevice) {
  VirtualTestbed tb(journal_yaml(), 1);
  ASSERT_TRUE(tb.ok());
  const std::vector<uint8_t> data = pattern(7, 24);
  ASSERT_EQ(tb.write("host0", 0, 1000, data).status, fc::scsi_status::kGood);
  EXPECT_EQ(tb.disk_bytes("disk0", 0, kDataStart + 1000, 24), data);
  const uint64_t journal_reads = tb.disk("disk1").stats().reads;
  for (int i = 0; i < 3; ++i) {
    const sim::ScsiResult r = tb.read("host0", 0, 1000, 24);
    ASSERT_EQ(r.status, fc::scsi_status::kGood);
    EXPECT_EQ(r.data_in, data);
  }
  EXPECT_EQ(tb.disk("disk1").stats().reads, journal_reads) << "a read went to the journal";
  // The record: header block, then the data, at the first journal's start.
  const Replay replay = read_journals(tb);
  ASSERT_EQ(replay.records.size(), 1u);
  EXPECT_EQ(replay.records[0].h.vseg_lba, 1000u);
  EXPECT_EQ(replay.records[0].data, data);
}

std::string error_of(const std::string& yaml) {
  const auto t = sim::parse_topology_yaml(yaml, "test.yaml");
  return t.ok() ? std::string("(parsed)") : std::string(t.status().message());
}

std::string with_journal(const std::string& from, const std::string& to) {
  std::string y = journal_yaml();
  const size_t at = y.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) y.replace(at, from.size(), to);
  return y;
}

TEST(Journal, TopologyErrorsNameFileLineAndField) {
  EXPECT_EQ(error_of(with_journal("journal_blocks: 96", "journal_blocks: 1")),
            "test.yaml:22: field 'volumes[0].vsegs[0].journal.journal_blocks': must be an integer "
            "in 2..4294967295 (got 1)");
  EXPECT_EQ(error_of(with_journal("blocks: 38400}", "blocks: 100}")),
            "test.yaml:21: field 'volumes[0].vsegs[0].journal.journal.blocks': must hold at least "
            "2 journals of journal_blocks 96 (got 100 blocks)");
  EXPECT_EQ(
      error_of(with_journal("{disk: disk1, lun: 1, lba: 64", "{disk: disk9, lun: 1, lba: 64")),
      "test.yaml:21: field 'volumes[0].vsegs[0].journal.journal.disk': a VSEG lies on a "
      "disk; 'disk9' does not exist");
  EXPECT_EQ(
      error_of(with_journal("{disk: disk1, lun: 1, lba: 64", "{disk: disk0, lun: 0, lba: 64")),
      "test.yaml:21: field 'volumes[0].vsegs[0].journal.journal.blocks': blocks [64, 38464) "
      "run past the end of disk0 LUN 0 (16384 blocks)");
  EXPECT_EQ(error_of(with_journal("{disk: disk1, lun: 1, lba: 64, blocks: 38400}",
                                  "{disk: disk0, lun: 0, lba: 64, blocks: 200}")),
            "test.yaml:21: field 'volumes[0].vsegs[0].journal.journal.lba': disk0 LUN 0 blocks "
            "[64, 264) overlap blocks [100, 4196) of volumes[0].vsegs[0].journal.data (line 20)");
  EXPECT_EQ(error_of(with_journal("        journal:\n", "        disk: disk0\n        journal:\n")),
            "test.yaml:19: field 'volumes[0].vsegs[0].disk': a journaled VSEG names its disks in "
            "journal.data and journal.journal");
  EXPECT_EQ(error_of(with_journal("        journal:\n",
                                  "        mirror: {sides: []}\n        journal:\n")),
            "test.yaml:20: field 'volumes[0].vsegs[0].journal': a journaled VSEG is not striped or "
            "mirrored too");
  EXPECT_EQ(error_of(with_journal("journal_blocks: 96", "journal_blocks: 96\n          size: 3")),
            "test.yaml:23: field 'volumes[0].vsegs[0].journal.size': unknown key (allowed: data, "
            "journal, journal_blocks)");
}

}  // namespace
}  // namespace splitpath::testing
