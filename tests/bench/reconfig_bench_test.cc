// The LV reconfiguration figures of `splitpath bench` (reconfig_bench.h), at
// the --quick size: what they are made of holds together. No timing
// threshold: latencies and durations are only compared in simulated time.
#include "fabric_sim/bench/reconfig_bench.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace splitpath::sim {
namespace {

TEST(ReconfigBench, QuickRunTimesWritesOverlappingSplitsAndMergesAndTheGrowsUnitAttention) {
  const ReconfigBenchOptions o = reconfig_bench_options(true);
  auto r = run_reconfig_bench(o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::printf(
      "split: %llu writes, %.1f us against %.1f us (x%.3f, p99 x%.3f), %.1f us each; "
      "merge: %llu writes, %.1f us against %.1f us (x%.3f, p99 x%.3f), %.1f us each; "
      "grow %.1f us, UA at %.1f us (%llu READs before)\n",
      static_cast<unsigned long long>(r->split_writes), r->split_overlap.mean() / 1e3,
      r->split_quiet.mean() / 1e3, r->split_penalty, r->split_p99_penalty,
      r->split_duration.mean() / 1e3, static_cast<unsigned long long>(r->merge_writes),
      r->merge_overlap.mean() / 1e3, r->merge_quiet.mean() / 1e3, r->merge_penalty,
      r->merge_p99_penalty, r->merge_duration.mean() / 1e3, r->grow_ns / 1e3, r->ua_ns / 1e3,
      static_cast<unsigned long long>(r->commands_before_ua));
  EXPECT_EQ(r->depth, o.depth);
  EXPECT_EQ(r->rounds, o.rounds);

  // Each split and merge was overlapped by at least the writes in flight at
  // its request, timed with it and again with no reconfiguration.
  EXPECT_GE(r->split_writes, uint64_t{o.rounds} * o.depth);
  EXPECT_GE(r->merge_writes, uint64_t{o.rounds} * o.depth);
  EXPECT_EQ(r->split_overlap.count(), r->split_writes);
  EXPECT_EQ(r->split_quiet.count(), r->split_writes);
  EXPECT_EQ(r->merge_overlap.count(), r->merge_writes);
  EXPECT_EQ(r->merge_quiet.count(), r->merge_writes);
  EXPECT_EQ(r->split_duration.count(), o.rounds);
  EXPECT_EQ(r->merge_duration.count(), o.rounds);
  EXPECT_GT(r->split_duration.min(), 0u);
  EXPECT_GT(r->merge_duration.min(), 0u);
  // A reconfiguration revokes the VSEG's mappings and drains its I/Os: the
  // writes held meanwhile are no faster, in the mean, than without it; the
  // ratios are the histograms'.
  EXPECT_GT(r->split_quiet.mean(), 0);
  EXPECT_GT(r->merge_quiet.mean(), 0);
  EXPECT_DOUBLE_EQ(r->split_penalty, r->split_overlap.mean() / r->split_quiet.mean());
  EXPECT_DOUBLE_EQ(r->merge_penalty, r->merge_overlap.mean() / r->merge_quiet.mean());
  EXPECT_GE(r->split_penalty, 1.0);
  EXPECT_GE(r->merge_penalty, 1.0);
  EXPECT_GT(r->split_p99_penalty, 0);
  EXPECT_GT(r->merge_p99_penalty, 0);
  // The grow: done once every FP has the masked exposure (no restrictive
  // update), then the host's first READ from done on met the UA, once; the
  // capacity grew by the VSEG.
  EXPECT_GT(r->grow_ns, 0u);
  EXPECT_GT(r->ua_ns, r->grow_ns);
  EXPECT_EQ(r->commands_before_ua, 0u) << "a command sent after done bypassed its UA";
  EXPECT_EQ(r->unit_attentions, 1u);
  EXPECT_EQ(r->capacity_before, o.vseg_bytes / 512);
  EXPECT_EQ(r->capacity_after, (o.vseg_bytes + o.grow_bytes) / 512);
  // The data: every slot written read back from disk0 (the bench fails
  // otherwise); some were.
  EXPECT_GT(r->slots_checked, 0u);
  EXPECT_LE(r->slots_checked, r->split_writes + r->merge_writes);
}

TEST(ReconfigBench, RefusesOutOfRangeOptionsPrecisely) {
  auto refused = [](const ReconfigBenchOptions& o, const std::string& says) {
    auto t = reconfig_bench_topology(o);
    EXPECT_FALSE(t.ok()) << says;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(t.status().message().find(says), std::string::npos) << t.status();
    }
    auto r = run_reconfig_bench(o);
    EXPECT_FALSE(r.ok()) << says;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status();
    }
  };
  ReconfigBenchOptions o = reconfig_bench_options(true);
  EXPECT_TRUE(reconfig_bench_topology(o).ok());
  ReconfigBenchOptions bad = o;
  bad.vseg_bytes = 4096;
  refused(bad, "the VSEG's 4096 bytes are not two or more whole 4 KiB slots");
  bad.vseg_bytes = (1 << 20) + 512;
  refused(bad, "the VSEG's 1049088 bytes are not two or more whole 4 KiB slots");
  bad = o;
  bad.grow_bytes = 0;
  refused(bad, "the grow's 0 bytes are not one or more whole 4 KiB slots");
  bad = o;
  bad.depth = 0;
  refused(bad, "0 writes in flight, not 1 to 64");
  bad.depth = 65;
  refused(bad, "65 writes in flight, not 1 to 64");
  bad = o;
  bad.rounds = 0;
  refused(bad, "no split and merge");
  bad = o;
  bad.limit_ns = 0;
  refused(bad, "no time limit");
}

}  // namespace
}  // namespace splitpath::sim
