// The oplock protocol between DVEs over the simulated coherency network: the
// state transitions and their messages, contention, message loss and
// partitions leading to eviction, crashes and recovery, boot steps 1-7, the
// sweep. Every state change of every run checks the invariants of
// OplockCluster (one acquirer, no cache during a restrictive update, no
// stale cache).
#include <gtest/gtest.h>

#include <cstdio>

#include "fabric_sim/cluster/oplock_cluster.h"

namespace splitpath::sim {
namespace {

using cp::cluster::Luid;
using cp::cluster::MsgKind;
using cp::cluster::OplockId;
using cp::cluster::OplockState;

constexpr OplockId kRmap0{7, Luid::kRmap, 0};

uint64_t sent(const cp::cluster::OplockNode& node, MsgKind kind) {
  return node.stats().sent[static_cast<int>(kind)];
}

void expect_no_violations(const OplockCluster& cluster) {
  EXPECT_GT(cluster.checks(), 0u);
  for (const auto& v : cluster.violations())
    ADD_FAILURE() << v;
}

TEST(Oplock, JoinShareAcquireAcrossThreeDves) {
  Kernel kernel;
  OplockCluster cluster(kernel, {});
  cluster.boot_all();
  kernel.run_until(kNsPerMs);
  bool shared = false;
  cluster.share(1, kRmap0, [&] { shared = true; });
  cluster.share(2, kRmap0);
  kernel.run_until(2 * kNsPerMs);
  EXPECT_TRUE(shared);
  EXPECT_EQ(cluster.node(1).state(kRmap0), OplockState::kSharing);
  EXPECT_EQ(cluster.node(2).state(kRmap0), OplockState::kSharing);
  // DVE 3 never asked: uninterested, it answered the joins with a nak.
  EXPECT_EQ(cluster.node(3).state(kRmap0), OplockState::kUninterested);
  EXPECT_EQ(sent(cluster.node(3), MsgKind::kNak), 2u);

  bool updated = false;
  cluster.update(2, {kRmap0}, true, [&] { updated = true; });
  kernel.run_until(3 * kNsPerMs);
  ASSERT_TRUE(updated);
  // The acquire went to the one other sharer, which let go and went to Joined.
  EXPECT_EQ(sent(cluster.node(2), MsgKind::kAcquire), 1u);
  EXPECT_EQ(cluster.node(1).state(kRmap0), OplockState::kJoined);
  EXPECT_FALSE(cluster.node(1).cache_valid(kRmap0));
  EXPECT_EQ(cluster.node(2).state(kRmap0), OplockState::kSharing);
  EXPECT_EQ(cluster.storehouse().version(kRmap0), 1u);

  // DVE 1 shares again: it reads the new version.
  cluster.update(1, {kRmap0}, true);
  kernel.run_until(4 * kNsPerMs);
  EXPECT_EQ(cluster.storehouse().version(kRmap0), 2u);
  EXPECT_EQ(cluster.node(2).state(kRmap0), OplockState::kJoined);
  expect_no_violations(cluster);
}

TEST(Oplock, ASingleSharerAcquiresWithoutAMessage) {
  Kernel kernel;
  OplockCluster cluster(kernel, {});
  cluster.boot_all();
  cluster.share(1, kRmap0);
  cluster.share(2, kRmap0);  // 2 joins, so 1's slist is not empty
  kernel.run_until(kNsPerMs);
  cluster.node(2).unshare(kRmap0);
  kernel.run_until(2 * kNsPerMs);
  ASSERT_EQ(cluster.node(2).state(kRmap0), OplockState::kJoined);
  const uint64_t before = cluster.messages();
  const uint64_t network_before = cluster.network().stats().sent;
  int done = 0;
  for (int i = 0; i < 5; i++)
    cluster.update(1, {kRmap0}, true, [&] { done++; });
  kernel.run_until(3 * kNsPerMs);
  ASSERT_EQ(done, 5);
  // Sharing -> acquired -> sharing five times: the acquire rounds had no one
  // to ask and the releases no one to tell.
  EXPECT_EQ(cluster.messages(), before);
  EXPECT_EQ(cluster.network().stats().sent, network_before);
  EXPECT_EQ(cluster.node(1).stats().silent_rounds, 5u);
  expect_no_violations(cluster);
}

TEST(Oplock, AnExtentSpanningThreeChunksTakesThreeOplocks) {
  // Figure 26: chunks of 2048 blocks; the extent [1000, 5000) touches 0, 1, 2.
  const auto ids = cp::cluster::chunk_oplocks(7, Luid::kRmap, 1000, 4000, 2048);
  ASSERT_EQ(ids.size(), 3u);
  Kernel kernel;
  OplockCluster cluster(kernel, {});
  cluster.boot_all();
  int done = 0;
  // Two DVEs update overlapping extents at once: both finish (the chunks are
  // acquired in index order, so neither waits on the other in a cycle).
  cluster.update(1, ids, true, [&] { done++; });
  cluster.update(2, {ids[2], ids[1]}, true, [&] { done++; });
  cluster.update(3, {ids[1]}, true, [&] { done++; });
  kernel.run_until(100 * kNsPerMs);
  EXPECT_EQ(done, 3);
  EXPECT_EQ(cluster.storehouse().version(ids[0]), 1u);
  EXPECT_EQ(cluster.storehouse().version(ids[1]), 3u);
  EXPECT_EQ(cluster.storehouse().version(ids[2]), 2u);
  expect_no_violations(cluster);
}

// Every DVE updates random sets of oplocks at random times.
void contend(OplockCluster& cluster, Kernel& kernel, uint64_t seed, int updates_each,
             SimTime spread) {
  Rng rng = Rng::derive(seed, "contention");
  for (uint32_t dve = 1; dve <= cluster.size(); dve++) {
    for (int i = 0; i < updates_each; i++) {
      std::vector<OplockId> ids;
      const uint64_t first = rng.uniform(4);
      const uint64_t count = 1 + rng.uniform(2);
      for (uint64_t c = first; c < first + count; c++)
        ids.push_back({7, Luid::kRmap, c});
      const bool restrictive = rng.uniform(4) != 0;
      struct Ctx {
        OplockCluster* cluster;
        uint32_t dve;
        std::vector<OplockId> ids;
        bool restrictive;
      };
      auto* ctx = new Ctx{&cluster, dve, ids, restrictive};
      kernel.schedule_in(
          rng.uniform(spread),
          [](void* p, uint64_t) {
            std::unique_ptr<Ctx> c(static_cast<Ctx*>(p));
            if (c->cluster->node(c->dve).online())
              c->cluster->update(c->dve, c->ids, c->restrictive);
          },
          ctx);
    }
  }
}

TEST(Oplock, ContentionAmongFourDvesKeepsTheInvariants) {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    Kernel kernel;
    OplockClusterOptions options;
    options.dves = 4;
    options.seed = seed;
    OplockCluster cluster(kernel, options);
    cluster.network().set_jitter(40'000);
    cluster.boot_all();
    contend(cluster, kernel, seed, 25, 20 * kNsPerMs);
    kernel.run_until(kNsPerSec);
    EXPECT_EQ(cluster.updates_done(), 100u);
    expect_no_violations(cluster);
    for (uint32_t dve = 1; dve <= 4; dve++)
      EXPECT_EQ(cluster.fenced(dve), 0u);
  }
}

TEST(Oplock, PreemptionByTheLowerIdResolvesSimultaneousAcquires) {
  Kernel kernel;
  OplockCluster cluster(kernel, {});
  cluster.boot_all();
  for (uint32_t dve = 1; dve <= 3; dve++)
    cluster.share(dve, kRmap0);
  kernel.run_until(kNsPerMs);
  std::vector<uint32_t> order;
  for (uint32_t dve = 3; dve >= 1; dve--)
    cluster.update(dve, {kRmap0}, true, [&order, dve] { order.push_back(dve); });
  kernel.run_until(100 * kNsPerMs);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0], 1u);  // DVE 1 preempts both
  expect_no_violations(cluster);
}

TEST(Oplock, MessageLossLeadsToEvictionNeverToTwoAcquirers) {
  for (uint64_t seed = 1; seed <= 4; seed++) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    Kernel kernel;
    OplockClusterOptions options;
    options.dves = 4;
    options.seed = seed;
    OplockCluster cluster(kernel, options);
    cluster.boot_all();
    cluster.network().set_loss_ppm(20'000);  // 2% of messages lost
    cluster.network().set_jitter(40'000);
    contend(cluster, kernel, seed, 20, 50 * kNsPerMs);
    kernel.run_until(2 * kNsPerSec);
    uint64_t evictions = 0, fenced = 0;
    for (uint32_t dve = 1; dve <= 4; dve++) {
      evictions += cluster.node(dve).stats().evictions;
      fenced += cluster.fenced(dve);
    }
    EXPECT_GT(evictions, 0u);
    EXPECT_EQ(fenced, evictions);  // every evicted DVE fenced itself
    EXPECT_GT(cluster.updates_done(), 0u);
    expect_no_violations(cluster);
  }
}

TEST(Oplock, APartitionedDveIsEvictedFencesItselfAndBootsBack) {
  Kernel kernel;
  OplockCluster cluster(kernel, {});
  cluster.boot_all();
  for (uint32_t dve = 1; dve <= 3; dve++)
    cluster.share(dve, kRmap0);
  kernel.run_until(kNsPerMs);
  // DVE 3 is cut off while it shares the oplock; it goes on believing so.
  cluster.network().partition({{1, 2}, {3}});
  bool updated = false;
  cluster.update(1, {kRmap0}, true, [&] { updated = true; });
  kernel.run_until(5 * kNsPerMs);
  EXPECT_FALSE(updated);  // waiting for DVE 3's answer
  EXPECT_TRUE(cluster.node(3).cache_valid(kRmap0));
  kernel.run_until(100 * kNsPerMs);
  ASSERT_TRUE(updated);
  EXPECT_TRUE(cluster.storehouse().evicted(3));
  EXPECT_EQ(cluster.fenced(3), 1u);
  EXPECT_FALSE(cluster.node(3).online());
  EXPECT_EQ(cluster.node(1).stats().evictions, 1u);
  // The partition heals; DVE 3 boots (steps 1-7) and takes part again.
  cluster.network().heal();
  cluster.node(3).boot();
  kernel.run_until(200 * kNsPerMs);
  EXPECT_TRUE(cluster.node(3).online());
  EXPECT_FALSE(cluster.storehouse().evicted(3));
  bool again = false;
  cluster.update(3, {kRmap0}, true, [&] { again = true; });
  kernel.run_until(300 * kNsPerMs);
  EXPECT_TRUE(again);
  EXPECT_EQ(cluster.storehouse().version(kRmap0), 2u);
  expect_no_violations(cluster);
}

// Booting again while still cut off, an evicted DVE must not evict the
// members it cannot reach (they evicted it for the same silence): it waits
// until they answer its probe.
TEST(Oplock, AnEvictedDveBootingInsideItsPartitionWaitsForTheMembers) {
  Kernel kernel;
  OplockCluster cluster(kernel, {});
  cluster.boot_all();
  for (uint32_t dve = 1; dve <= 3; dve++)
    cluster.share(dve, kRmap0);
  kernel.run_until(kNsPerMs);
  cluster.network().partition({{1, 2}, {3}});
  cluster.update(1, {kRmap0}, true);
  kernel.run_until(100 * kNsPerMs);
  ASSERT_TRUE(cluster.storehouse().evicted(3));
  ASSERT_EQ(cluster.fenced(3), 1u);
  cluster.node(3).boot();
  cluster.share(3, kRmap0);
  kernel.run_until(400 * kNsPerMs);
  EXPECT_FALSE(cluster.node(3).online());
  EXPECT_GE(cluster.node(3).stats().probes_unanswered, 3u);
  EXPECT_TRUE(cluster.node(1).online());
  EXPECT_TRUE(cluster.node(2).online());
  EXPECT_EQ(cluster.node(3).stats().evictions, 0u);
  EXPECT_EQ(cluster.fenced(1) + cluster.fenced(2), 0u);
  // Healed, the next probe is answered and DVE 3 comes on line.
  cluster.network().heal();
  kernel.run_until(500 * kNsPerMs);
  EXPECT_TRUE(cluster.node(3).online());
  EXPECT_FALSE(cluster.storehouse().evicted(3));
  EXPECT_TRUE(cluster.node(3).cache_valid(kRmap0));
  EXPECT_EQ(cluster.storehouse().jlist(), (std::set<uint32_t>{1, 2, 3}));
  expect_no_violations(cluster);
}

constexpr OplockId kMirrorExtent{9, Luid::kMirrorWrite, 3};

TEST(Oplock, ASurvivorRecoversTheNonVolatileOplocksOfACrashedDve) {
  Kernel kernel;
  OplockCluster cluster(kernel, {});
  cluster.boot_all();
  cluster.update(2, {kMirrorExtent}, true);  // DVE 2 takes write authority
  kernel.run_until(kNsPerMs);
  ASSERT_EQ(cluster.storehouse().owner(kMirrorExtent), 2u);
  cluster.node(2).crash();
  // DVE 1 wants to write the extent: its share asks the recent owner (DVE 2),
  // which does not answer, so DVE 1 evicts it and reconciles the extent.
  bool updated = false;
  cluster.update(1, {kMirrorExtent}, true, [&] { updated = true; });
  kernel.run_until(200 * kNsPerMs);
  ASSERT_TRUE(updated);
  ASSERT_EQ(cluster.recoveries().size(), 1u);
  EXPECT_EQ(cluster.recoveries()[0].by, 1u);
  EXPECT_EQ(cluster.recoveries()[0].dead, 2u);
  EXPECT_EQ(cluster.recoveries()[0].oplock, kMirrorExtent);
  EXPECT_EQ(cluster.storehouse().owner(kMirrorExtent), 1u);
  expect_no_violations(cluster);
}

// DVE 1 shares the extent while DVE 2 owns it (DVE 2's write authority), so
// DVE 1's acquire asks only the DVEs sharing it: DVE 2, which crashed. DVE 1
// evicts it and, once its lease ran out, reconciles the extent (10 ms here);
// its acquire must wait for that: a write acquired meanwhile would race the
// reconciliation's copy (torture seed 9 with shared mirrors: the copy of a
// chunk overwrote a newer acknowledged write on a side).
TEST(Oplock, ASharerAcquiresWhatACrashedOwnerLeftOnlyOnceItIsReconciled) {
  Kernel kernel;
  OplockClusterOptions options;
  options.recover_ns = 10 * kNsPerMs;
  OplockCluster cluster(kernel, options);
  cluster.boot_all();
  cluster.update(2, {kMirrorExtent}, true);
  kernel.run_until(kNsPerMs);
  cluster.share(1, kMirrorExtent);
  kernel.run_until(2 * kNsPerMs);
  ASSERT_EQ(cluster.storehouse().owner(kMirrorExtent), 2u);
  ASSERT_EQ(cluster.node(1).state(kMirrorExtent), OplockState::kSharing);
  cluster.node(2).crash();
  SimTime updated_at = 0;
  cluster.update(1, {kMirrorExtent}, true, [&] { updated_at = kernel.now(); });
  SimTime recovery_began = 0;
  for (SimTime t = 2 * kNsPerMs; t < 200 * kNsPerMs && updated_at == 0; t += 10 * kNsPerUs) {
    kernel.run_until(t);
    if (recovery_began == 0 && !cluster.recoveries().empty()) recovery_began = kernel.now();
  }
  ASSERT_NE(recovery_began, 0u);
  ASSERT_NE(updated_at, 0u);
  EXPECT_GE(updated_at, recovery_began + options.recover_ns);
  EXPECT_EQ(cluster.storehouse().owner(kMirrorExtent), 1u);
  expect_no_violations(cluster);
}

TEST(Oplock, ACascadingEvictionLeavesBothJournalsToTheLastSurvivor) {
  Kernel kernel;
  OplockCluster cluster(kernel, {});
  cluster.boot_all();
  const OplockId a{9, Luid::kMirrorWrite, 1};
  cluster.update(3, {a}, true);
  cluster.storehouse().record_task(3, {42, "migration", "vol0", 17});
  kernel.run_until(kNsPerMs);
  cluster.node(3).crash();
  cluster.update(2, {a}, true);  // DVE 2 evicts DVE 3...
  kernel.run_until(13 * kNsPerMs);
  ASSERT_TRUE(cluster.storehouse().evicted(3));
  EXPECT_EQ(cluster.storehouse().journal_holder(3), 2u);
  cluster.node(2).crash();  // ...and dies before its recovery (it waits for 3's lease)
  cluster.update(1, {a}, true);
  kernel.run_until(300 * kNsPerMs);
  EXPECT_TRUE(cluster.storehouse().evicted(2));
  ASSERT_EQ(cluster.recoveries().size(), 1u);
  EXPECT_EQ(cluster.recoveries()[0].by, 1u);
  EXPECT_EQ(cluster.recoveries()[0].dead, 3u);
  ASSERT_EQ(cluster.replayed_tasks().size(), 1u);
  EXPECT_EQ(cluster.replayed_tasks()[0].second.task_id, 42u);
  EXPECT_EQ(cluster.storehouse().tasks(1).size(), 1u);  // the migration is DVE 1's now
  EXPECT_EQ(cluster.storehouse().owner(a), 1u);
  expect_no_violations(cluster);
}

TEST(Oplock, ARestartingDveReplaysItsOwnJournal) {
  Kernel kernel;
  OplockCluster cluster(kernel, {});
  cluster.boot_all();
  cluster.update(2, {kMirrorExtent}, true);
  cluster.storehouse().record_task(2, {5, "migration", "vol1", 3});
  kernel.run_until(kNsPerMs);
  cluster.node(2).crash();
  cluster.node(2).boot();  // back before anyone noticed: steps 3 and 6-7
  kernel.run_until(10 * kNsPerMs);
  EXPECT_TRUE(cluster.node(2).online());
  ASSERT_EQ(cluster.recoveries().size(), 1u);
  EXPECT_EQ(cluster.recoveries()[0].dead, 2u);
  EXPECT_EQ(cluster.recoveries()[0].by, 2u);
  ASSERT_EQ(cluster.replayed_tasks().size(), 1u);
  EXPECT_FALSE(cluster.storehouse().owner(kMirrorExtent).has_value());
}

TEST(Oplock, ARestartingDveWaitsForItsCaretaker) {
  Kernel kernel;
  OplockClusterOptions options;
  options.recover_ns = 40 * kNsPerMs;  // a long reconciliation
  OplockCluster cluster(kernel, options);
  cluster.boot_all();
  cluster.update(2, {kMirrorExtent}, true);
  kernel.run_until(kNsPerMs);
  cluster.node(2).crash();
  cluster.update(1, {kMirrorExtent}, true);
  kernel.run_until(45 * kNsPerMs);  // evicted, lease over, reconciliation under way
  ASSERT_EQ(cluster.recoveries().size(), 1u);
  cluster.node(2).boot();
  kernel.run_until(50 * kNsPerMs);
  EXPECT_FALSE(cluster.node(2).online());  // step 1: DVE 1 holds its journal
  kernel.run_until(200 * kNsPerMs);
  EXPECT_TRUE(cluster.node(2).online());
  EXPECT_EQ(cluster.recoveries().size(), 1u);  // nothing left for DVE 2 to redo
  expect_no_violations(cluster);
}

TEST(Oplock, TheSweepReleasesMirrorWriteOplocksUnusedForAMinute) {
  Kernel kernel;
  OplockClusterOptions options;
  options.config.sweep_age_ns = 60 * kNsPerSec;
  options.config.sweep_interval_ns = kNsPerSec;
  options.config.response_timeout_ns = kNsPerSec;
  OplockCluster cluster(kernel, options);
  cluster.boot_all();
  const OplockId used{9, Luid::kMirrorWrite, 1};
  cluster.update(1, {kMirrorExtent}, true);
  kernel.run_until(kNsPerSec);
  ASSERT_EQ(cluster.storehouse().owner(kMirrorExtent), 1u);
  // Another extent keeps being written every 10 s.
  for (int i = 0; i < 8; i++) {
    cluster.update(1, {used}, true);
    kernel.run_until(kernel.now() + 10 * kNsPerSec);
  }
  EXPECT_FALSE(cluster.storehouse().owner(kMirrorExtent).has_value());
  EXPECT_EQ(cluster.node(1).state(kMirrorExtent), OplockState::kJoined);
  EXPECT_EQ(cluster.storehouse().owner(used), 1u);
  EXPECT_EQ(cluster.node(1).stats().swept, 1u);
}

TEST(Oplock, AnUnrestrictiveUpdateIsFlushedWhenAPeerAcquires) {
  Kernel kernel;
  OplockCluster cluster(kernel, {});
  cluster.boot_all();
  cluster.share(1, kRmap0);
  cluster.share(2, kRmap0);
  kernel.run_until(kNsPerMs);
  cluster.update(1, {kRmap0}, false);  // dirty: journaled, not written
  kernel.run_until(2 * kNsPerMs);
  EXPECT_EQ(cluster.storehouse().version(kRmap0), 0u);
  cluster.update(2, {kRmap0}, true);
  kernel.run_until(3 * kNsPerMs);
  // DVE 1 flushed its dirty version before it acked; DVE 2 wrote after it.
  EXPECT_EQ(cluster.storehouse().version(kRmap0), 2u);
  expect_no_violations(cluster);
}

}  // namespace
}  // namespace splitpath::sim
