// Properties of the generated scenarios (fabric_sim/torture/scenario.cc).
#include "fabric_sim/torture/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "fabric_sim/torture/torture_report.h"
#include "fabric_sim/torture/torture_run.h"
#include "splitpath/fc/frame_header.h"

namespace splitpath::sim::torture {
namespace {

// The slowest link of the topology, in bytes per ns: line rate, or BB credits
// per round trip, computed here independently of the generator.
double slowest_link(const Topology& t) {
  double slowest = 1e18;
  auto consider = [&](const LinkParams& l) {
    const double line = link_megabytes_per_second(l.speed) / 1000.0;
    const double per_rtt = static_cast<double>(l.bb_credit) *
                           static_cast<double>(fc::kMaxFrameSize) /
                           (2.0 * static_cast<double>(l.propagation_ns));
    slowest = std::min({slowest, line, per_rtt});
  };
  for (const HostConfig& h : t.hosts)
    consider(h.attach.link);
  for (const DiskConfig& d : t.disks)
    consider(d.attach.link);
  for (const IslConfig& i : t.isls)
    consider(i.link);
  return slowest;
}

// Seed 3000353 at 50000 I/Os: host0 kept 42 x 128 KiB in flight over slow
// links with a 45 ms timeout; they took 49 ms each, every I/O timed out and
// nothing completed again (a progress violation of the scenario, not the
// switch). Every host's timeout now leaves room for the I/Os in flight.
TEST(TortureScenario, EveryTimeoutLeavesRoomForTheIOsInFlightOverTheSlowestLink) {
  for (uint64_t seed :
       {uint64_t{3000353}, uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{6000115}}) {
    for (uint64_t s = seed; s < seed + 40; ++s) {
      const TortureScenario sc = generate_scenario(s, 50000, false);
      const Topology& t = sc.topology;
      const double slowest = slowest_link(t);
      for (const HostConfig& h : t.hosts) {
        // This host's own I/Os in flight, on every LUN it sees, must fit twice
        // over (the generator counts every host's: at least as much). Once
        // over is not enough: seed 3000353's links were fast enough for that,
        // but the disk and 8 KiB legs made 113 MB/s.
        size_t luns = 0;
        for (const VirtualTargetConfig& vt : t.virtual_targets)
          for (const VirtualLunConfig& l : vt.luns)
            luns += l.hosts.empty() || std::count(l.hosts.begin(), l.hosts.end(), h.wwpn) > 0;
        const double own = static_cast<double>(h.workload.block_size) * h.workload.queue_depth *
                           static_cast<double>(luns);
        EXPECT_GE(static_cast<double>(h.workload.io_timeout_ns), 2 * own / slowest)
            << "seed " << s << " " << h.name;
        EXPECT_LE(h.workload.io_timeout_ns, sc.max_io_timeout_ns) << "seed " << s;
      }
    }
  }
}

// Everything of a scenario but its operations of kind `left_out`: the
// topology's volumes and LUNs, the VSEGs, the images, the other kinds'
// operations (every field), the other kinds' swarm draws.
std::vector<std::string> without_kind(const TortureScenario& s, FaultKind left_out) {
  std::vector<std::string> out;
  for (size_t k = 0; k < kFaultKinds; ++k)
    if (k != static_cast<size_t>(left_out))
      out.push_back(fault_kind_name(static_cast<FaultKind>(k)) +
                    std::string(s.enabled[k] ? " on" : " off"));
  for (const PlannedOp& op : s.ops) {
    if (op.kind == left_out) continue;
    out.push_back(std::to_string(op.at_ios) + " " + fault_kind_name(op.kind) + " " + op.target +
                  " " + std::to_string(op.port) + " " + std::to_string(op.lun) + " " +
                  std::to_string(op.lba) + " " + std::to_string(op.count) + " " +
                  std::to_string(op.vseg) + " " + std::to_string(op.duration_ns) + " " +
                  std::to_string(op.delay_ns) + " " + std::to_string(op.flags) + " " + op.image);
  }
  for (const TortureVseg& v : s.vsegs)
    out.push_back(s.topology.volumes[v.volume].name + " " + v.place[0].disk + " " +
                  std::to_string(v.place[0].lba) + " " + v.place[1].disk + " " +
                  std::to_string(v.place[1].lba) + " " + std::to_string(v.blocks) +
                  (v.migratable ? " migratable" : ""));
  for (const VolumeConfig& v : s.topology.volumes)
    out.push_back(v.name + " " + std::to_string(v.vsegs.size()));
  for (size_t i : s.images)
    out.push_back("image " + std::to_string(i));
  for (const HostConfig& h : s.topology.hosts)
    out.push_back(h.name + " " + std::to_string(h.workload.io_timeout_ns));
  return out;
}

std::vector<std::string> without_splits(const TortureScenario& s) {
  return without_kind(s, FaultKind::kVsegSplit);
}

// VSEG splits (LV reconfiguration) come from their own stream, planned after
// every other kind, and their swarm draw is the last: a scenario with them is
// the one it is without them, operation for operation. Each splits a VSEG
// the CP could migrate (simple storage) at a block inside it, never its
// first, before 80% of the run.
TEST(TortureSplitScenario, SplitsLeaveTheOtherKindsScheduleAsItWas) {
  size_t with_splits = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    const bool all = seed % 3 == 0;
    const TortureScenario a = generate_scenario(seed, 20000, all);
    const TortureScenario b = generate_scenario(seed, 20000, all, {"vseg_split"});
    EXPECT_EQ(without_splits(a), without_splits(b)) << "seed " << seed;
    EXPECT_FALSE(b.enabled[static_cast<size_t>(FaultKind::kVsegSplit)]);
    size_t splits = 0;
    for (const PlannedOp& op : b.ops)
      EXPECT_NE(op.kind, FaultKind::kVsegSplit) << "seed " << seed;
    for (const PlannedOp& op : a.ops) {
      if (op.kind != FaultKind::kVsegSplit) continue;
      ++splits;
      ASSERT_LT(op.vseg, a.vsegs.size());
      const TortureVseg& v = a.vsegs[op.vseg];
      EXPECT_TRUE(v.migratable) << "seed " << seed;
      EXPECT_FALSE(v.place[0].striped() || v.place[0].write_authority());
      EXPECT_GT(op.lba, v.volume_lba) << "seed " << seed;
      EXPECT_LT(op.lba, v.volume_lba + v.blocks) << "seed " << seed;
      EXPECT_EQ(op.target, a.topology.volumes[v.volume].name);
      EXPECT_LT(op.at_ios, 20000u * 8 / 10);
      EXPECT_GE(op.duration_ns, kNsPerMs);
      EXPECT_LE(op.duration_ns, 50 * kNsPerMs);
    }
    EXPECT_EQ(splits > 0, a.enabled[static_cast<size_t>(FaultKind::kVsegSplit)]) << "seed " << seed;
    EXPECT_LE(splits, 2u + 20000 / 5000);
    with_splits += splits > 0;
    EXPECT_TRUE(
        std::is_sorted(a.ops.begin(), a.ops.end(),
                       [](const PlannedOp& x, const PlannedOp& y) { return x.at_ios < y.at_ios; }))
        << "seed " << seed;
  }
  EXPECT_GT(with_splits, 30u);
}

// A run splits VSEGs under load and merges them back (seeds.txt: 8 1500
// all-faults): every split the CP accepted and its merge end, the data and
// the revocation checkers hold, and the report counts them.
TEST(TortureSplitScenario, ASeedSplitsAndMergesBackUnderLoad) {
  TortureOptions o;
  o.seed = 8;
  o.ops = 1500;
  o.all_fault_kinds = true;
  auto r = run_torture(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->violations.empty()) << violation_text(*r);
  EXPECT_EQ(r->vseg_splits, 2u);
  EXPECT_EQ(r->vseg_merges, 2u);
  EXPECT_EQ(r->reconfigs_refused, 0u);
  EXPECT_TRUE(r->reconfig_failures.empty());
  const nlohmann::ordered_json j = run_json(*r);
  EXPECT_EQ(j["vseg_splits"], 2u);
  EXPECT_EQ(j["vseg_merges"], 2u);
  EXPECT_NE(run_line(*r).find("2 VSEG splits and 2 merges (0 refused"), std::string::npos);
  // Without the kind, the same seed splits nothing.
  o.without_kinds = {"replication", "vseg_split"};
  auto w = run_torture(o);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->vseg_splits + w->vseg_merges + w->reconfigs_refused + w->reconfigs_skipped, 0u);
}

// A run fails mirror sides under load and returns them (seeds.txt: 23 3000
// all-faults): both sides asked back are resynchronized (13 age extents
// copied) and ALIVE again, the durability and mirror checkers hold (a
// returned side matches the others), every resync ends, and the report
// counts them.
TEST(TortureMirrorSideScenario, ASeedFailsAndReturnsMirrorSidesUnderLoad) {
  TortureOptions o;
  o.seed = 23;
  o.ops = 3000;
  o.all_fault_kinds = true;
  auto r = run_torture(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->violations.empty()) << violation_text(*r);
  EXPECT_EQ(r->mirror_sides_failed, 2u);
  EXPECT_EQ(r->mirror_side_returns, 2u);
  EXPECT_EQ(r->mirror_side_returns_done, 2u);
  EXPECT_EQ(r->mirror_sides_refused, 0u);
  EXPECT_EQ(r->mirror_side_deaths, 2u);
  EXPECT_EQ(r->resyncs_done, 2u);
  EXPECT_EQ(r->resyncs_failed, 0u);
  EXPECT_EQ(r->resync_extents, 13u);
  EXPECT_EQ(r->resync_blocks, 6656u);
  EXPECT_TRUE(r->mirror_side_failures.empty());
  EXPECT_GT(r->mirror_blocks_compared, 0u);
  const nlohmann::ordered_json j = run_json(*r);
  EXPECT_EQ(j["mirror_sides_failed"], 2u);
  EXPECT_EQ(j["resync_blocks"], 6656u);
  EXPECT_NE(
      run_line(*r).find("2 mirror sides failed and 2 returns asked (2 ALIVE again, 0 refused"),
      std::string::npos);
  // Without the kind, the same seed fails no side.
  o.without_kinds = {"mirror_side"};
  auto w = run_torture(o);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(w->violations.empty()) << violation_text(*w);
  EXPECT_EQ(w->mirror_sides_failed + w->mirror_side_returns + w->mirror_sides_refused +
                w->mirror_sides_skipped + w->mirror_side_deaths + w->resyncs_done,
            0u);
}

TEST(TortureSplitScenario, TheKindHasItsName) {
  FaultKind k = FaultKind::kDiskFailure;
  ASSERT_TRUE(parse_fault_kind("vseg_split", &k));
  EXPECT_EQ(k, FaultKind::kVsegSplit);
  EXPECT_EQ(static_cast<size_t>(FaultKind::kVsegSplit), 13u);
  EXPECT_EQ(static_cast<size_t>(FaultKind::kIncremental), 12u);
  ASSERT_TRUE(parse_fault_kind("mirror_side", &k));
  EXPECT_EQ(k, FaultKind::kMirrorSide);
  EXPECT_EQ(static_cast<size_t>(FaultKind::kMirrorSide), 14u);
  ASSERT_TRUE(parse_fault_kind("replication", &k));
  EXPECT_EQ(k, FaultKind::kReplication);
  EXPECT_EQ(static_cast<size_t>(FaultKind::kReplication), 15u);
  ASSERT_TRUE(parse_fault_kind("dve_cluster", &k));
  EXPECT_EQ(k, FaultKind::kDveCluster);
  EXPECT_EQ(static_cast<size_t>(FaultKind::kDveCluster), 16u);
  ASSERT_TRUE(parse_fault_kind("shared_mirror", &k));
  EXPECT_EQ(k, FaultKind::kSharedMirror);
  EXPECT_EQ(static_cast<size_t>(FaultKind::kSharedMirror), kFaultKinds - 1);
}

// Mirror side failures and returns come from their own stream, planned after
// every other kind, and their swarm draw is the last: a scenario with them is
// the one it is without them, operation for operation. Each fails a side of
// a plain mirrored VSEG (not a stripe of mirrors) before 80% of the run, its
// return 1 to 50 ms after the failure is done.
TEST(TortureMirrorSideScenario, MirrorSidesLeaveTheOtherKindsScheduleAsItWas) {
  size_t with_sides = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    const bool all = seed % 3 == 0;
    const TortureScenario a = generate_scenario(seed, 20000, all);
    const TortureScenario b = generate_scenario(seed, 20000, all, {"mirror_side"});
    EXPECT_EQ(without_kind(a, FaultKind::kMirrorSide), without_kind(b, FaultKind::kMirrorSide))
        << "seed " << seed;
    EXPECT_FALSE(b.enabled[static_cast<size_t>(FaultKind::kMirrorSide)]);
    for (const PlannedOp& op : b.ops)
      EXPECT_NE(op.kind, FaultKind::kMirrorSide) << "seed " << seed;
    size_t sides = 0;
    bool plain_mirror = false;
    for (const TortureVseg& v : a.vsegs)
      plain_mirror = plain_mirror || v.place[0].mirrored();
    for (const PlannedOp& op : a.ops) {
      if (op.kind != FaultKind::kMirrorSide) continue;
      ++sides;
      ASSERT_LT(op.vseg, a.vsegs.size());
      const TortureVseg& v = a.vsegs[op.vseg];
      EXPECT_TRUE(v.place[0].mirrored()) << "seed " << seed;
      EXPECT_FALSE(v.place[0].raid10() || v.place[0].journaled()) << "seed " << seed;
      EXPECT_LT(op.port, v.place[0].sides.size()) << "seed " << seed;
      EXPECT_EQ(op.lba, v.volume_lba);
      EXPECT_EQ(op.count, v.blocks);
      EXPECT_EQ(op.target, a.topology.volumes[v.volume].name);
      EXPECT_LT(op.at_ios, 20000u * 8 / 10);
      EXPECT_GE(op.duration_ns, kNsPerMs);
      EXPECT_LE(op.duration_ns, 50 * kNsPerMs);
    }
    EXPECT_EQ(sides > 0, a.enabled[static_cast<size_t>(FaultKind::kMirrorSide)]) << "seed " << seed;
    if (!plain_mirror) {
      EXPECT_EQ(sides, 0u) << "seed " << seed;
    }
    if (all && plain_mirror) {
      EXPECT_GT(sides, 0u) << "seed " << seed;
    }
    EXPECT_LE(sides, 2u + 20000 / 5000);
    with_sides += sides > 0;
    EXPECT_TRUE(
        std::is_sorted(a.ops.begin(), a.ops.end(),
                       [](const PlannedOp& x, const PlannedOp& y) { return x.at_ios < y.at_ios; }))
        << "seed " << seed;
  }
  EXPECT_GT(with_sides, 10u);
}

// A run replicates a journaled volume across an ISL under every fault kind
// (seeds.txt: 9 3000 all-faults): every epoch but the last is applied by the
// end, each checked against the volume at its barrier, and the report counts
// them; without the kind the same seed replicates nothing.
TEST(TortureReplicationScenario, ASeedReplicatesUnderEveryFaultKind) {
  TortureOptions o;
  o.seed = 9;
  o.ops = 3000;
  o.all_fault_kinds = true;
  auto r = run_torture(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->violations.empty()) << violation_text(*r);
  EXPECT_EQ(r->replications_started, 1u);
  EXPECT_EQ(r->replications_skipped, 0u);
  EXPECT_EQ(r->replications_refused, 0u);
  EXPECT_GT(r->replication_epochs_applied, 20u);
  EXPECT_EQ(r->replication_epochs_checked, r->replication_epochs_applied);
  EXPECT_LE(r->replication_epochs_closed, r->replication_epochs_applied + 1);
  EXPECT_GT(r->replication_journals_shipped, 0u);
  EXPECT_GT(r->replication_bytes_shipped, 0u);
  EXPECT_GT(r->replication_blocks_compared, 0u);
  EXPECT_GT(r->replication_max_lag_ns, 0u);
  const nlohmann::ordered_json j = run_json(*r);
  EXPECT_EQ(j["replications_started"], 1u);
  EXPECT_EQ(j["replication_epochs_applied"], r->replication_epochs_applied);
  EXPECT_NE(run_line(*r).find("1 replications (0 skipped, 0 refused"), std::string::npos);
  o.without_kinds = {"replication"};
  auto w = run_torture(o);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(
      w->replications_started + w->replication_epochs_closed + w->replication_journals_shipped, 0u);
}

// The replication comes from its own stream, planned after every other kind,
// and its swarm draw is the last: a scenario with it is the one it is without
// it, operation for operation, but for the remote array, a disk added last
// (on another switch than the volumes' when there is one). It replicates a
// group of volumes of one switch and one block size whose every VSEG is
// journaled, every 1-5 ms, from before 60% of the run; drawn without such a
// volume, the kind is off and counted skipped.
TEST(TortureReplicationScenario, TheReplicationLeavesTheOtherKindsScheduleAsItWas) {
  size_t with = 0, skipped = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    const bool all = seed % 3 == 0;
    const TortureScenario a = generate_scenario(seed, 20000, all);
    const TortureScenario b = generate_scenario(seed, 20000, all, {"replication"});
    EXPECT_EQ(without_kind(a, FaultKind::kReplication), without_kind(b, FaultKind::kReplication))
        << "seed " << seed;
    EXPECT_FALSE(b.replication.has_value());
    EXPECT_FALSE(b.replication_skipped);
    const bool on = a.enabled[static_cast<size_t>(FaultKind::kReplication)];
    EXPECT_EQ(on, a.replication.has_value()) << "seed " << seed;
    skipped += a.replication_skipped;
    EXPECT_FALSE(on && a.replication_skipped);
    size_t ops = 0;
    for (const PlannedOp& op : a.ops) {
      if (op.kind != FaultKind::kReplication) continue;
      ++ops;
      EXPECT_LT(op.at_ios, 20000u * 6 / 10);
    }
    EXPECT_EQ(ops, on ? 1u : 0u) << "seed " << seed;
    if (!on) {
      EXPECT_EQ(a.topology.disks.size(), b.topology.disks.size());
      continue;
    }
    ++with;
    const TortureReplication& r = *a.replication;
    ASSERT_EQ(a.topology.disks.size(), b.topology.disks.size() + 1) << "seed " << seed;
    const DiskConfig& remote = a.topology.disks.back();
    EXPECT_EQ(remote.name, r.disk);
    if (a.topology.switches.size() > 1) {
      EXPECT_NE(remote.attach.port.switch_name, r.switch_name) << "seed " << seed;
    }
    ASSERT_FALSE(r.volumes.empty());
    ASSERT_EQ(r.image_lba.size(), r.volumes.size());
    EXPECT_GE(r.interval_ns, kNsPerMs);
    EXPECT_LE(r.interval_ns, 5 * kNsPerMs);
    uint64_t largest_journal = 0;
    uint64_t journals = 0;
    uint64_t end = r.staging_lba + r.staging_blocks;
    for (size_t i = 0; i < r.volumes.size(); ++i) {
      const VolumeConfig& vol = a.topology.volumes[r.volumes[i]];
      EXPECT_EQ(vol.switch_name, r.switch_name);
      EXPECT_EQ(vol.block_size, remote.luns[r.lun].block_size);
      uint64_t blocks = 0;
      for (const TortureVseg& v : a.vsegs) {
        if (v.volume != r.volumes[i]) continue;
        ASSERT_TRUE(v.place[0].journaled()) << "seed " << seed;
        largest_journal = std::max(largest_journal, v.place[0].journal->journal_blocks);
        journals += v.place[0].journal->area_blocks / v.place[0].journal->journal_blocks;
        blocks += v.blocks;
      }
      // Staging and images do not overlap.
      EXPECT_GE(r.image_lba[i], end) << "seed " << seed;
      end = r.image_lba[i] + blocks;
    }
    EXPECT_LE(end, remote.luns[r.lun].blocks);
    // Room for every journal of the group's areas: a whole epoch fits.
    EXPECT_GE(r.staging_blocks, largest_journal * journals) << "seed " << seed;
  }
  EXPECT_GT(with, 3u);
  EXPECT_GT(skipped, 3u);
}

// The DVE cluster comes from its own stream, planned after every other kind,
// and its swarm draw is the last: a scenario with it is the one it is without
// it, operation for operation and disk for disk (the cluster is no PlannedOp
// and adds nothing to the topology). 3 to 5 DVEs, 2 to 8 Rmap and mirror
// write oplocks; updates of 1 to 3 consecutive chunks of one object; loss of
// 1% to 5%; partitions in two non-empty groups of every DVE.
TEST(TortureDveClusterScenario, TheClusterLeavesTheOtherKindsScheduleAsItWas) {
  size_t with = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    const bool all = seed % 3 == 0;
    const TortureScenario a = generate_scenario(seed, 20000, all);
    const TortureScenario b = generate_scenario(seed, 20000, all, {"dve_cluster"});
    EXPECT_EQ(without_kind(a, FaultKind::kDveCluster), without_kind(b, FaultKind::kDveCluster))
        << "seed " << seed;
    EXPECT_EQ(a.ops.size(), b.ops.size()) << "seed " << seed;
    EXPECT_EQ(a.topology.disks.size(), b.topology.disks.size()) << "seed " << seed;
    EXPECT_FALSE(b.dve_cluster.has_value());
    const bool on = a.enabled[static_cast<size_t>(FaultKind::kDveCluster)];
    ASSERT_EQ(on, a.dve_cluster.has_value()) << "seed " << seed;
    if (!on) continue;
    ++with;
    const TortureDveCluster& c = *a.dve_cluster;
    EXPECT_GE(c.dves, 3u);
    EXPECT_LE(c.dves, 5u);
    EXPECT_GE(c.oplocks.size(), 2u);
    EXPECT_LE(c.oplocks.size(), 8u);
    for (const cp::cluster::OplockId& id : c.oplocks)
      EXPECT_TRUE(id.luid == cp::cluster::Luid::kRmap ||
                  id.luid == cp::cluster::Luid::kMirrorWrite);
    size_t updates = 0, faults = 0;
    for (const DveClusterOp& op : c.ops) {
      EXPECT_LT(op.at_ios, 20000u * 9 / 10);
      switch (op.kind) {
        case DveClusterOp::Kind::kUpdate:
          ++updates;
          ASSERT_GE(op.oplocks.size(), 1u);
          EXPECT_LE(op.oplocks.size(), 3u);
          for (size_t i = 1; i < op.oplocks.size(); ++i) {
            EXPECT_EQ(op.oplocks[i].guid, op.oplocks[0].guid);
            EXPECT_EQ(op.oplocks[i].luid, op.oplocks[0].luid);
            EXPECT_EQ(op.oplocks[i].index, op.oplocks[0].index + i);
          }
          [[fallthrough]];
        case DveClusterOp::Kind::kShare:
        case DveClusterOp::Kind::kUnshare:
          EXPECT_GE(op.dve, 1u);
          EXPECT_LE(op.dve, c.dves);
          for (const cp::cluster::OplockId& id : op.oplocks)
            EXPECT_NE(std::find(c.oplocks.begin(), c.oplocks.end(), id), c.oplocks.end());
          break;
        case DveClusterOp::Kind::kLoss:
          ++faults;
          EXPECT_GE(op.loss_ppm, 10'000u);
          EXPECT_LE(op.loss_ppm, 50'000u);
          break;
        case DveClusterOp::Kind::kPartition: {
          ++faults;
          ASSERT_EQ(op.groups.size(), 2u);
          EXPECT_FALSE(op.groups[0].empty() || op.groups[1].empty()) << "seed " << seed;
          EXPECT_EQ(op.groups[0].size() + op.groups[1].size(), c.dves);
          break;
        }
        case DveClusterOp::Kind::kCrash:
          ++faults;
          EXPECT_GE(op.dve, 1u);
          EXPECT_LE(op.dve, c.dves);
          break;
        case DveClusterOp::Kind::kJitter:
          ++faults;
          EXPECT_GT(op.jitter_ns, 0u);
          break;
      }
      if (op.kind != DveClusterOp::Kind::kUpdate && op.kind != DveClusterOp::Kind::kShare &&
          op.kind != DveClusterOp::Kind::kUnshare) {
        EXPECT_GE(op.duration_ns, kNsPerMs);
        EXPECT_LE(op.duration_ns, 40 * kNsPerMs);
      }
    }
    EXPECT_GT(updates, 0u) << "seed " << seed;
    EXPECT_GE(faults, 3u) << "seed " << seed;
    EXPECT_TRUE(std::is_sorted(
        c.ops.begin(), c.ops.end(),
        [](const DveClusterOp& x, const DveClusterOp& y) { return x.at_ios < y.at_ios; }))
        << "seed " << seed;
  }
  EXPECT_GT(with, 30u);
}

// Runs with the DVE cluster beside the fabric, under every fault kind: the
// cluster's message loss, partitions and crashes evict and fence DVEs (the
// harness boots them again), and no state change breaks the oplock
// invariants; every update of a DVE neither crashed nor fenced ends.
TEST(TortureDveClusterScenario, SeedsKeepTheOplockInvariantsThroughEvictions) {
  CampaignTotals totals;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    TortureOptions o;
    o.seed = seed;
    o.ops = 1500;
    o.all_fault_kinds = true;
    auto r = run_torture(o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->violations.empty()) << violation_text(*r);
    EXPECT_GT(r->dve_checks, 0u) << "seed " << seed;
    EXPECT_GT(r->dve_updates, 0u) << "seed " << seed;
    EXPECT_GT(r->dve_messages, 0u) << "seed " << seed;
    totals.add(*r);
    const nlohmann::ordered_json j = run_json(*r);
    EXPECT_EQ(j["dve_evictions"], r->dve_evictions);
    EXPECT_EQ(j["dve_checks"], r->dve_checks);
  }
  EXPECT_EQ(totals.failed_runs, 0u);
  EXPECT_EQ(totals.dve_runs, 4u);
  EXPECT_GT(totals.dve_evictions, 0u);
  EXPECT_GT(totals.dve_fences, 0u);
  EXPECT_GT(totals_json(totals)["dve_evictions"], 0u);
  EXPECT_NE(totals_line(totals).find("4 runs with a DVE cluster"), std::string::npos);
  std::printf("%s", totals_line(totals).c_str());
}

// The cluster alone (every other kind left out), and the same seed without it.
TEST(TortureDveClusterScenario, TheKindAloneRunsAndWithoutItNothingRuns) {
  TortureOptions o;
  o.seed = 5;
  o.ops = 1500;
  o.all_fault_kinds = true;
  for (size_t k = 0; k < kFaultKinds; ++k)
    if (k != static_cast<size_t>(FaultKind::kDveCluster))
      o.without_kinds.push_back(fault_kind_name(static_cast<FaultKind>(k)));
  auto r = run_torture(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->violations.empty()) << violation_text(*r);
  EXPECT_EQ(r->fault_kinds, std::vector<std::string>{"dve_cluster"});
  EXPECT_GT(r->dve_updates, 0u);
  EXPECT_GT(r->dve_checks, 0u);
  EXPECT_NE(r->scenario.find("dve cluster:"), std::string::npos);
  o.without_kinds.push_back("dve_cluster");
  auto w = run_torture(o);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(w->violations.empty()) << violation_text(*w);
  EXPECT_EQ(w->dve_updates + w->dve_messages + w->dve_checks + w->dve_evictions, 0u);
  EXPECT_EQ(w->scenario.find("dve cluster:"), std::string::npos);
  // The fabric's run is the same with the cluster beside it.
  EXPECT_EQ(w->ios_completed, r->ios_completed);
}

// Shared mirrors come from their own stream, planned after every other
// kind, and their swarm draw is the last: a scenario with them is the one it
// is without them, operation for operation and VSEG for VSEG; only volumes
// of plain mirrors are shared, each with one other switch, whose virtual
// target of its own presents it to the hosts that see it at home.
TEST(TortureSharedMirrorScenario, SharingLeavesTheOtherKindsScheduleAsItWas) {
  size_t with = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    const bool all = seed % 2 == 0;
    const TortureScenario a = generate_scenario(seed, 20000, all);
    const TortureScenario b = generate_scenario(seed, 20000, all, {"shared_mirror"});
    // The hosts' I/O timeouts may only grow (the aliases put more I/O in
    // flight: feasible_timeouts raises the floor).
    auto but_timeouts = [](std::vector<std::string> lines) {
      std::erase_if(lines, [](const std::string& l) { return l.rfind("host", 0) == 0; });
      return lines;
    };
    EXPECT_EQ(but_timeouts(without_kind(a, FaultKind::kSharedMirror)),
              but_timeouts(without_kind(b, FaultKind::kSharedMirror)))
        << "seed " << seed;
    for (size_t h = 0; h < a.topology.hosts.size(); ++h)
      EXPECT_GE(a.topology.hosts[h].workload.io_timeout_ns,
                b.topology.hosts[h].workload.io_timeout_ns);
    EXPECT_TRUE(b.shared_volumes.empty());
    const bool on = a.enabled[static_cast<size_t>(FaultKind::kSharedMirror)];
    ASSERT_EQ(on, !a.shared_volumes.empty()) << "seed " << seed;
    if (!on) continue;
    ++with;
    EXPECT_EQ(a.topology.virtual_targets.size(),
              b.topology.virtual_targets.size() + a.shared_volumes.size());
    for (size_t vol : a.shared_volumes) {
      const VolumeConfig& v = a.topology.volumes[vol];
      ASSERT_EQ(v.shared_with.size(), 1u) << "seed " << seed;
      EXPECT_NE(v.shared_with[0], v.switch_name);
      for (const TortureVseg& tv : a.vsegs) {
        if (tv.volume != vol) continue;
        EXPECT_TRUE(tv.place[0].mirrored() && !tv.place[0].striped()) << "seed " << seed;
      }
      size_t presenting = 0;
      for (const VirtualTargetConfig& vt : a.topology.virtual_targets)
        for (const VirtualLunConfig& l : vt.luns)
          presenting += l.volume == v.name && vt.switch_name == v.shared_with[0];
      EXPECT_EQ(presenting, 1u) << "seed " << seed;
    }
    EXPECT_NE(describe_scenario(a).find("served by the DVEs of"), std::string::npos);
  }
  EXPECT_GT(with, 5u);
}

}  // namespace
}  // namespace splitpath::sim::torture
