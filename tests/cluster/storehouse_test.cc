#include "cp/cluster/storehouse.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include "cp/cluster/dve_message.h"
#include "cp/cluster/oplock_id.h"

namespace splitpath::cp::cluster {
namespace {

using Kind = OplockJournalRecord::Kind;

constexpr OplockId kRmap7{7, Luid::kRmap, 12};
constexpr OplockId kWrite7{7, Luid::kMirrorWrite, 3};
constexpr OplockId kTs9{9, Luid::kTaskSet, 0};

std::vector<uint64_t> indexes(const std::vector<OplockId>& ids) {
  std::vector<uint64_t> out;
  for (const OplockId& id : ids)
    out.push_back(id.index);
  return out;
}

// A storehouse with something in every record kind, bytes that need escaping
// included.
Storehouse populated() {
  Storehouse s;
  for (uint32_t dve : {1u, 2u, 3u, 4u})
    s.join(dve);
  s.renew_lease(1, 123456);
  s.renew_lease(2, 99);
  s.evict(2, 1);
  s.evict(4, 3);
  s.release_journal(4, 3);
  s.set_owner(kWrite7, 1);
  s.set_owner(kTs9, 3);
  s.journal_oplock(1, {Kind::kAcquire, kWrite7, 10});
  s.journal_oplock(1, {Kind::kRelease, kWrite7, 20});
  s.journal_oplock(3, {Kind::kRecovered, kTs9, 30});
  s.record_task(1, {5, "migration", std::string("a b\n\0\xff", 6), 77});
  s.record_task(1, {6, "", "", 0});
  s.write(kRmap7, "rmap v1");
  s.write(kRmap7, std::string("\0\n ", 3));
  s.write(kTs9, "");
  return s;
}

// --- oplock ids ---

TEST(ClusterOplockId, ToStringNamesTheLuid) {
  EXPECT_EQ(to_string(kRmap7), "7.RMAP[12]");
  EXPECT_EQ(to_string(OplockId{3, Luid::kMirrorSideState, 0}), "3.MIRROR[0]");
  EXPECT_EQ(to_string(OplockId{1, Luid::kMembership, 2}), "1.MEMBERSHIP[2]");
  EXPECT_EQ(luid_name(Luid::kMirrorWrite), "MIRROR_WRITE");
  EXPECT_EQ(luid_name(Luid::kRedirs), "DIRS");
  EXPECT_EQ(luid_name(Luid::kScsiReserve), "RESERVE");
  EXPECT_EQ(luid_name(Luid::kUnitAttention), "UALIST");
  EXPECT_EQ(luid_name(Luid::kGroupAtomic), "PAUSE");
  EXPECT_EQ(luid_name(Luid::kLvReconfig), "RECONFIG");
  EXPECT_EQ(luid_name(Luid::kTaskSet), "TS");
}

TEST(ClusterOplockId, MessageKindNames) {
  const char* names[] = {"join",    "leave", "share", "unshare", "acquire",
                         "release", "ack",   "nak",   "probe",   "probe-ack"};
  for (int k = 0; k < kMsgKinds; ++k) {
    EXPECT_EQ(msg_kind_name(static_cast<MsgKind>(k)), names[k]);
  }
}

TEST(ClusterOplockId, ExtentSpanningThreeChunks) {
  const auto ids = chunk_oplocks(7, Luid::kRmap, 100, 250, 128);  // blocks 100..349
  EXPECT_EQ(indexes(ids), (std::vector<uint64_t>{0, 1, 2}));
  for (const OplockId& id : ids) {
    EXPECT_EQ(id.guid, 7u);
    EXPECT_EQ(id.luid, Luid::kRmap);
  }
}

TEST(ClusterOplockId, UnalignedStartInsideOneChunk) {
  EXPECT_EQ(indexes(chunk_oplocks(1, Luid::kRmap, 130, 10, 128)), (std::vector<uint64_t>{1}));
  EXPECT_EQ(indexes(chunk_oplocks(1, Luid::kRmap, 127, 2, 128)), (std::vector<uint64_t>{0, 1}));
}

TEST(ClusterOplockId, ExactChunkBoundaries) {
  EXPECT_EQ(indexes(chunk_oplocks(1, Luid::kRmap, 128, 128, 128)), (std::vector<uint64_t>{1}));
  EXPECT_EQ(indexes(chunk_oplocks(1, Luid::kRmap, 0, 256, 128)), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(indexes(chunk_oplocks(1, Luid::kRmap, 0, 257, 128)), (std::vector<uint64_t>{0, 1, 2}));
}

TEST(ClusterOplockId, EmptyExtentsTouchNothing) {
  EXPECT_TRUE(chunk_oplocks(1, Luid::kRmap, 500, 0, 128).empty());
  EXPECT_TRUE(chunk_oplocks(1, Luid::kRmap, 500, 10, 0).empty());
}

TEST(ClusterOplockId, ExtentAtTheEndOfTheAddressSpace) {
  const uint64_t max = ~uint64_t{0};
  EXPECT_EQ(indexes(chunk_oplocks(1, Luid::kRmap, max - 1, 10, uint64_t{1} << 63)),
            (std::vector<uint64_t>{1}));
}

// --- membership and eviction ---

TEST(ClusterStorehouse, JoinAndEvict) {
  Storehouse s;
  EXPECT_TRUE(s.join(1));
  EXPECT_TRUE(s.join(2));
  EXPECT_TRUE(s.join(2));  // already there
  EXPECT_EQ(s.jlist(), (std::set<uint32_t>{1, 2}));

  const auto first = s.evict(2, 1);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->first);
  EXPECT_EQ(first->caretaker, 1u);
  EXPECT_TRUE(s.evicted(2));
  EXPECT_EQ(s.jlist(), (std::set<uint32_t>{1}));
  EXPECT_EQ(s.journal_holder(2), 1u);
  EXPECT_EQ(s.journal_holder(1), 1u);
  EXPECT_EQ(s.journals_held_by(1), (std::vector<uint32_t>{2}));

  s.join(3);
  const auto later = s.evict(2, 3);
  ASSERT_TRUE(later.has_value());
  EXPECT_FALSE(later->first);
  EXPECT_EQ(later->caretaker, 1u);
  EXPECT_FALSE(s.join(2));  // must recover its journal first
}

TEST(ClusterStorehouse, EvictedDveCannotEvictOrRenew) {
  Storehouse s;
  for (uint32_t dve : {1u, 2u, 3u})
    s.join(dve);
  EXPECT_TRUE(s.renew_lease(2, 1000));
  ASSERT_TRUE(s.evict(2, 1).has_value());
  EXPECT_FALSE(s.evict(3, 2).has_value());
  EXPECT_FALSE(s.evicted(3));
  EXPECT_FALSE(s.evict(1, 1).has_value());
  EXPECT_FALSE(s.renew_lease(2, 2000));
  EXPECT_EQ(s.lease_until(2), 1000u);  // its last lease still runs out
  EXPECT_TRUE(s.renew_lease(1, 5000));
  EXPECT_EQ(s.lease_until(1), 5000u);
  EXPECT_EQ(s.lease_until(42), 0u);
}

TEST(ClusterStorehouse, CascadingEviction) {
  Storehouse s;
  for (uint32_t dve : {1u, 2u, 3u})
    s.join(dve);                      // A = 1, B = 2, C = 3
  ASSERT_TRUE(s.evict(2, 1)->first);  // A evicts B
  const auto e = s.evict(1, 3);       // C evicts A
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->first);
  EXPECT_EQ(s.journal_holder(1), 3u);
  EXPECT_EQ(s.journal_holder(2), 3u);
  EXPECT_EQ(s.journals_held_by(3), (std::vector<uint32_t>{1, 2}));
  EXPECT_TRUE(s.journals_held_by(1).empty());
  EXPECT_EQ(s.evict(2, 3)->caretaker, 3u);
  EXPECT_EQ(s.jlist(), (std::set<uint32_t>{3}));

  // A's journal released: B's stays with C, and A cannot take it back.
  s.release_journal(1, 3);
  EXPECT_TRUE(s.rejoin(1));
  EXPECT_EQ(s.journal_holder(2), 3u);
  EXPECT_FALSE(s.rejoin(2));
}

TEST(ClusterStorehouse, RejoinOnlyAfterRelease) {
  Storehouse s;
  for (uint32_t dve : {1u, 2u, 3u})
    s.join(dve);
  s.evict(2, 1);
  EXPECT_FALSE(s.rejoin(2));
  s.release_journal(2, 3);  // not the caretaker: ignored
  EXPECT_FALSE(s.rejoin(2));
  s.release_journal(2, 1);
  EXPECT_TRUE(s.evicted(2));  // until it rejoins
  EXPECT_EQ(s.journal_holder(2), 2u);
  EXPECT_TRUE(s.journals_held_by(1).empty());
  EXPECT_FALSE(s.renew_lease(2, 10));
  EXPECT_TRUE(s.rejoin(2));
  EXPECT_FALSE(s.evicted(2));
  EXPECT_EQ(s.jlist(), (std::set<uint32_t>{1, 2, 3}));
  EXPECT_TRUE(s.renew_lease(2, 10));
  EXPECT_TRUE(s.rejoin(3));  // online: no-op
}

TEST(ClusterStorehouse, ReclaimJournalFromADeadHolder) {
  Storehouse s;
  for (uint32_t dve : {1u, 2u, 3u, 4u})
    s.join(dve);
  s.evict(4, 1);         // 1 holds 4's journal
  s.evict(2, 1);         // and 2's
  s.reclaim_journal(2);  // 2 boots, finds 1 dead too
  EXPECT_EQ(s.journal_holder(2), 2u);
  EXPECT_TRUE(s.evicted(1));
  EXPECT_EQ(s.jlist(), (std::set<uint32_t>{3}));
  EXPECT_EQ(s.journal_holder(1), 2u);
  EXPECT_EQ(s.journal_holder(4), 2u);
  EXPECT_EQ(s.journals_held_by(2), (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(s.evict(1, 3)->caretaker, 2u);

  const std::string text = s.serialize();
  Storehouse loaded;
  std::string error;
  ASSERT_TRUE(loaded.deserialize(text, &error)) << error;  // 2 is evicted, but its own
  EXPECT_EQ(loaded.serialize(), text);

  s.release_journal(1, 2);
  s.release_journal(4, 2);
  EXPECT_TRUE(s.journals_held_by(2).empty());
  EXPECT_TRUE(s.rejoin(2));
  EXPECT_TRUE(s.rejoin(1));
  EXPECT_TRUE(s.rejoin(4));
  EXPECT_EQ(s.jlist(), (std::set<uint32_t>{1, 2, 3, 4}));
}

// --- owner records, journals, tasks, metadata ---

TEST(ClusterStorehouse, OwnerRecords) {
  Storehouse s;
  EXPECT_FALSE(s.owner(kWrite7).has_value());
  s.set_owner(kWrite7, 2);
  s.set_owner(kTs9, 2);
  s.set_owner(kRmap7, 3);
  EXPECT_EQ(s.owner(kWrite7), 2u);
  const OplockId low{1, Luid::kTaskSet, 0};
  s.set_owner(low, 2);
  EXPECT_EQ(s.owned_by(2), (std::vector<OplockId>{low, kWrite7, kTs9}));
  s.set_owner(kWrite7, std::nullopt);
  EXPECT_FALSE(s.owner(kWrite7).has_value());
  EXPECT_EQ(s.owned_by(2), (std::vector<OplockId>{low, kTs9}));
  EXPECT_TRUE(s.owned_by(9).empty());
}

TEST(ClusterStorehouse, OplockJournalAppends) {
  Storehouse s;
  EXPECT_TRUE(s.oplock_journal(1).empty());
  s.journal_oplock(1, {Kind::kAcquire, kWrite7, 10});
  s.journal_oplock(1, {Kind::kRelease, kWrite7, 20});
  ASSERT_EQ(s.oplock_journal(1).size(), 2u);
  EXPECT_EQ(s.oplock_journal(1)[1].kind, Kind::kRelease);
  EXPECT_EQ(s.oplock_journal(1)[1].at_ns, 20u);
}

TEST(ClusterStorehouse, TasksAreRecordedEndedAndAdopted) {
  Storehouse s;
  s.record_task(1, {7, "migration", "p", 0});
  s.record_task(1, {3, "resync", "q", 0});
  s.record_task(1, {7, "migration", "p", 50});  // progress update
  auto tasks = s.tasks(1);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].task_id, 3u);
  EXPECT_EQ(tasks[1].progress, 50u);

  s.record_task(2, {1, "migration", "r", 5});
  s.adopt_tasks(1, 2);
  EXPECT_TRUE(s.tasks(1).empty());
  tasks = s.tasks(2);
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].task_id, 1u);
  EXPECT_EQ(tasks[1].task_id, 3u);
  EXPECT_EQ(tasks[2].task_id, 7u);

  s.end_task(2, 3);
  s.end_task(2, 99);
  s.end_task(5, 1);
  EXPECT_EQ(s.tasks(2).size(), 2u);
}

TEST(ClusterStorehouse, AnEvictedDveRecordsNoTask) {
  Storehouse s;
  ASSERT_TRUE(s.join(1));
  ASSERT_TRUE(s.join(2));
  EXPECT_TRUE(s.record_task(2, {4, "snapshot_sweep", "snap", 0}));
  ASSERT_TRUE(s.evict(2, 1));
  s.adopt_tasks(2, 1);
  // DVE 2 does not know yet that it was evicted: what it records now would
  // lie in a journal its caretaker has already replayed.
  EXPECT_FALSE(s.record_task(2, {5, "snapshot_sweep", "snap2", 0}));
  EXPECT_FALSE(s.record_task(2, {4, "snapshot_sweep", "snap", 9}));
  EXPECT_TRUE(s.tasks(2).empty());
  ASSERT_EQ(s.tasks(1).size(), 1u);
  EXPECT_EQ(s.tasks(1)[0].progress, 0u);
}

TEST(ClusterStorehouse, MetadataVersions) {
  Storehouse s;
  EXPECT_EQ(s.read(kRmap7), nullptr);
  EXPECT_EQ(s.version(kRmap7), 0u);
  s.write(kRmap7, "one");
  s.write(kRmap7, "two");
  s.write(kTs9, "ts");
  ASSERT_NE(s.read(kRmap7), nullptr);
  EXPECT_EQ(s.read(kRmap7)->bytes, "two");
  EXPECT_EQ(s.version(kRmap7), 2u);
  EXPECT_EQ(s.version(kTs9), 1u);
  EXPECT_EQ(s.writes(), 3u);
}

// --- saving and loading ---

TEST(ClusterStorehouse, SerializeRoundTrip) {
  const Storehouse s = populated();
  const std::string text = s.serialize();
  EXPECT_EQ(text.rfind("splitpath-storehouse 1\n", 0), 0u);
  EXPECT_NE(text.find("\nelist 2 caretaker 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nreleased 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nlease 1 123456\n"), std::string::npos) << text;

  Storehouse loaded;
  std::string error;
  ASSERT_TRUE(loaded.deserialize(text, &error)) << error;
  EXPECT_EQ(loaded.serialize(), text);
  EXPECT_EQ(loaded.jlist(), s.jlist());
  EXPECT_EQ(loaded.journal_holder(2), 1u);
  EXPECT_TRUE(loaded.rejoin(4));
  EXPECT_EQ(loaded.tasks(1)[0].params, std::string("a b\n\0\xff", 6));
  EXPECT_EQ(loaded.tasks(1)[1].kind, "");
  EXPECT_EQ(loaded.read(kRmap7)->bytes, std::string("\0\n ", 3));
  EXPECT_EQ(loaded.version(kRmap7), 2u);
  EXPECT_EQ(loaded.read(kTs9)->bytes, "");
  EXPECT_EQ(loaded.writes(), 3u);
  EXPECT_EQ(loaded.oplock_journal(3)[0].kind, Kind::kRecovered);
  EXPECT_EQ(loaded.owner(kWrite7), 1u);
}

TEST(ClusterStorehouse, EmptyRoundTrip) {
  Storehouse s;
  const std::string text = s.serialize();
  EXPECT_EQ(text, "splitpath-storehouse 1\nwrites 0\n");
  Storehouse loaded = populated();
  std::string error;
  ASSERT_TRUE(loaded.deserialize(text, &error)) << error;
  EXPECT_EQ(loaded.serialize(), text);
}

TEST(ClusterStorehouse, SaveAndLoad) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("splitpath_storehouse_test_" + std::to_string(::getpid()) + ".txt"))
                               .string();
  const Storehouse s = populated();
  std::string error;
  ASSERT_TRUE(s.save(path, &error)) << error;
  Storehouse loaded;
  ASSERT_TRUE(loaded.load(path, &error)) << error;
  EXPECT_EQ(loaded.serialize(), s.serialize());

  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "splitpath-storehouse 1\njlist 1\nlease 1 x\n";
  }
  const std::string before = loaded.serialize();
  EXPECT_FALSE(loaded.load(path, &error));
  EXPECT_EQ(error, path + ":3: field 'lease.until': not a number (got 'x')");
  EXPECT_EQ(loaded.serialize(), before);
  std::remove(path.c_str());

  EXPECT_FALSE(loaded.load(path, &error));
  EXPECT_NE(error.find(path + ": "), std::string::npos) << error;
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
  EXPECT_FALSE(s.save("/nonexistent-dir/storehouse.txt", &error));
  EXPECT_EQ(error.rfind("/nonexistent-dir/storehouse.txt: ", 0), 0u) << error;
}

struct Malformed {
  std::string text;
  std::string error;
};

TEST(ClusterStorehouse, MalformedInputsNameLineAndField) {
  const std::string h = "splitpath-storehouse 1\n";
  const std::vector<Malformed> cases = {
      {"", "line 1: field 'header': expected 'splitpath-storehouse 1' (got '')"},
      {"splitpath-storehouse 2\n",
       "line 1: field 'header': expected 'splitpath-storehouse 1' (got 'splitpath-storehouse 2')"},
      {h + "jlist 1\nlease 1 x\n", "line 3: field 'lease.until': not a number (got 'x')"},
      {h + "jlist 1\nbogus 1\n", "line 3: field 'record': unknown record kind 'bogus'"},
      {h + "lease 1\n", "line 2: field 'lease': expected 3 fields, got 2"},
      {h + "lease 1 18446744073709551616\n",
       "line 2: field 'lease.until': out of range (got '18446744073709551616')"},
      {h + "lease -1 5\n", "line 2: field 'lease.dve': not a number (got '-1')"},
      {h + "jlist 4294967296\n", "line 2: field 'jlist.dve': out of range (got '4294967296')"},
      {h + "owner 7 11 0 1\n", "line 2: field 'owner.luid': luid out of range 1..10 (got '11')"},
      {h + "owner 7 0 0 1\n", "line 2: field 'owner.luid': luid out of range 1..10 (got '0')"},
      {h + "\nmeta 7 3 0 1 abc\n", "line 3: field 'meta.bytes': odd number of hex digits (3)"},
      {h + "meta 7 3 0 1 0g\n",
       "line 2: field 'meta.bytes': not a hex digit at offset 1 (got 'g')"},
      {h + "meta 7 3 0 0 00\n", "line 2: field 'meta.version': must be at least 1 (got '0')"},
      {h + "task 1 2 3 zz 00\n",
       "line 2: field 'task.kind': not a hex digit at offset 0 (got 'z')"},
      {h + "ojournal 1 grab 7 2 0 5\n",
       "line 2: field 'ojournal.kind': expected acquire, release or recovered (got 'grab')"},
      {h + "elist 2 by 1\n", "line 2: field 'elist.caretaker': expected 'caretaker' (got 'by')"},
      {h + "jlist 2\nelist 2 caretaker 1\n", "line 3: field 'elist.victim': DVE 2 is on the jlist"},
      {h + "elist 2 caretaker 1\nelist 1 caretaker 3\n",
       "line 2: field 'elist.caretaker': DVE 1 is itself evicted"},
      {h + "writes 1\nwrites 2\n", "line 3: field 'writes.count': duplicate 'writes' record"},
      {h + "lease 1 2\nlease 1 3\n", "line 3: field 'lease.dve': duplicate lease of DVE 1"},
      {h + "jlist 1\x01\n", "line 2: field 'jlist.dve': not a number (got '1\\x01')"},
  };
  for (const Malformed& c : cases) {
    Storehouse s = populated();
    const std::string before = s.serialize();
    std::string error;
    EXPECT_FALSE(s.deserialize(c.text, &error)) << c.text;
    EXPECT_EQ(error, c.error);
    EXPECT_EQ(s.serialize(), before) << c.text;
  }
}

TEST(ClusterStorehouse, ArbitraryBytesNeverCrash) {
  const std::string text = populated().serialize();
  uint64_t x = 88172645463325252ull;  // xorshift: deterministic
  for (int round = 0; round < 2000; ++round) {
    std::string mutated = text;
    for (int k = 0; k < 4; ++k) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      mutated[x % mutated.size()] = static_cast<char>(x >> 32);
    }
    Storehouse s;
    std::string error;
    if (s.deserialize(mutated, &error)) {
      Storehouse again;
      EXPECT_TRUE(again.deserialize(s.serialize(), &error)) << error;
      EXPECT_EQ(again.serialize(), s.serialize());
    } else {
      EXPECT_EQ(error.rfind("line ", 0), 0u) << error;
    }
  }
}

}  // namespace
}  // namespace splitpath::cp::cluster
