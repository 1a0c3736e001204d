// The mirror figures of `splitpath bench` (mirror_bench.h), at the --quick
// size: a side killed and returned under writes, the write penalty while it
// is DEAD, and the resync copying the age extents written meanwhile and
// nothing else. No timing threshold: latencies are compared in simulated
// time only.
#include "fabric_sim/bench/mirror_bench.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace splitpath::sim {
namespace {

TEST(MirrorBench, QuickRunResynchronizesTheExtentsWrittenWhileTheSideWasDead) {
  const MirrorBenchOptions o = mirror_bench_options(true);
  auto r = run_mirror_bench(o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::printf(
      "writes: %.1f us ALIVE, %.1f us DEAD (x%.3f, p99 x%.3f, %llu age faults of %llu); resync: "
      "%llu of %llu KiB written while DEAD copied (%llu extents, x%.3f) in %.3f ms sim, %.1f "
      "MiB/s sim, %.1f MiB/s wall, %llu writes during it (%.1f us)\n",
      r->alive.mean() / 1e3, r->dead.mean() / 1e3, r->dead_penalty, r->dead_p99_penalty,
      static_cast<unsigned long long>(r->age_faults), static_cast<unsigned long long>(r->writes),
      static_cast<unsigned long long>(r->copied_bytes / 1024),
      static_cast<unsigned long long>(r->dirty_bytes / 1024),
      static_cast<unsigned long long>(r->copied_extents), r->copied_over_dirty,
      r->resync_sim_seconds * 1e3, r->mib_per_sim_s, r->mib_per_wall_s,
      static_cast<unsigned long long>(r->resync_writes), r->resync_write.mean() / 1e3);
  EXPECT_EQ(r->vseg_bytes, o.vseg_bytes);
  EXPECT_EQ(r->depth, o.depth);
  EXPECT_EQ(r->age_extent_bytes, 256u * 1024);  // cp::CpConfig's default
  // The same writes timed both ways.
  EXPECT_EQ(r->writes, o.writes);
  EXPECT_EQ(r->alive.count(), o.writes);
  EXPECT_EQ(r->dead.count(), o.writes);
  EXPECT_DOUBLE_EQ(r->dead_penalty, r->dead.mean() / r->alive.mean());
  EXPECT_GT(r->dead_p99_penalty, 0);
  // While the side is DEAD the first write to each age extent faults to the
  // CP, once per extent: the DEAD run wrote in every extent of its region
  // (512 random 4 KiB writes over 16 extents), and faulted once in each.
  const uint64_t hot_extents = o.hot_bytes / r->age_extent_bytes;
  EXPECT_EQ(r->dirty_extents, hot_extents);
  EXPECT_EQ(r->age_faults, r->dirty_extents);
  // The resync copied exactly the extents written while the side was DEAD:
  // their bytes, not the VSEG's (a quarter of it).
  EXPECT_EQ(r->stale_extents, r->dirty_extents);
  EXPECT_EQ(r->copied_extents, r->stale_extents);
  EXPECT_EQ(r->dirty_bytes, r->dirty_extents * r->age_extent_bytes);
  EXPECT_EQ(r->copied_bytes, r->dirty_bytes);
  EXPECT_LE(r->copied_over_dirty, 1.0);
  EXPECT_DOUBLE_EQ(r->copied_over_dirty, 1.0);
  EXPECT_LT(r->copied_bytes, r->vseg_bytes);
  // Under writes, which went on while it ran.
  EXPECT_GT(r->resync_writes, 0u);
  EXPECT_EQ(r->resync_write.count(), r->resync_writes);
  EXPECT_GT(r->resync_sim_seconds, 0);
  EXPECT_GT(r->resync_wall_seconds, 0);
  EXPECT_DOUBLE_EQ(r->mib_per_sim_s,
                   static_cast<double>(r->copied_bytes) / (1 << 20) / r->resync_sim_seconds);
  EXPECT_DOUBLE_EQ(r->mib_per_wall_s,
                   static_cast<double>(r->copied_bytes) / (1 << 20) / r->resync_wall_seconds);
  // DEAD, RESYNC, ALIVE: one generation each.
  EXPECT_EQ(r->generation, 3u);
  // Both sides hold every slot's last write (the bench fails otherwise).
  EXPECT_EQ(r->slots_checked, o.vseg_bytes / 4096);
}

TEST(MirrorBench, RefusesOutOfRangeOptionsPrecisely) {
  auto refused = [](const MirrorBenchOptions& o, const std::string& says) {
    auto t = mirror_bench_topology(o);
    EXPECT_FALSE(t.ok()) << says;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(t.status().message().find(says), std::string::npos) << t.status();
    }
    auto r = run_mirror_bench(o);
    EXPECT_FALSE(r.ok()) << says;
  };
  const MirrorBenchOptions o = mirror_bench_options(true);
  EXPECT_TRUE(mirror_bench_topology(o).ok());
  MirrorBenchOptions bad = o;
  bad.vseg_bytes = 4096 + 512;
  refused(bad, "the VSEG's 4608 bytes are not whole 4 KiB");
  bad = o;
  bad.hot_bytes = o.vseg_bytes + 4096;
  refused(bad, "are not whole 4 KiB within the VSEG's");
  bad = o;
  bad.depth = 65;
  refused(bad, "65 writes in flight (1 to 64)");
  bad = o;
  bad.writes = 0;
  refused(bad, "and 0 writes (at least 1)");
}

}  // namespace
}  // namespace splitpath::sim
