// The migration figures of `splitpath bench` (migration_bench.h), at the
// --quick size: what they are made of holds together. No timing threshold:
// wall-time rates are only checked to be there.
#include "fabric_sim/bench/migration_bench.h"

#include <cstdio>

#include "gtest/gtest.h"

namespace splitpath::sim {
namespace {

TEST(MigrationBench, QuickRunCopiesTheWholeVsegAndWritesPayForTheMigration) {
  const MigrationBenchOptions o = migration_bench_options(true);
  auto r = run_migration_bench(o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::printf(
      "copy %.1f MB/s wall, %.1f MB/s sim (%.2f ms); %llu writes: %.1f us quiet, %.1f us "
      "migrating, penalty %.3f (p99 %.3f), %llu met the barrier\n",
      r->mb_per_wall_s, r->mb_per_sim_s, r->copy_sim_seconds * 1e3,
      static_cast<unsigned long long>(r->writes), r->quiet.mean() / 1e3, r->migrating.mean() / 1e3,
      r->mean_penalty, r->p99_penalty, static_cast<unsigned long long>(r->barrier_writes));

  // Every copy round moved exactly the VSEG (its bytes checked on the
  // destination by the bench itself), in positive wall and simulated time.
  EXPECT_EQ(r->vseg_bytes, o.vseg_bytes);
  EXPECT_EQ(r->copied_bytes, o.vseg_bytes);
  EXPECT_EQ(r->loaded_copied_bytes, o.vseg_bytes);
  ASSERT_GT(r->copy_wall_seconds, 0);
  ASSERT_GT(r->copy_sim_seconds, 0);
  EXPECT_DOUBLE_EQ(r->mb_per_wall_s, r->copied_bytes / 1e6 / r->copy_wall_seconds);
  EXPECT_DOUBLE_EQ(r->mb_per_sim_s, r->copied_bytes / 1e6 / r->copy_sim_seconds);
  // Each chunk is read from one disk, then written to the other, each at
  // the modeled disks' 1000 MB/s at most: the copy cannot beat half that.
  EXPECT_LT(r->mb_per_sim_s, 500);

  // As many writes with the migration as without, every one timed.
  EXPECT_GT(r->writes, 0u);
  EXPECT_EQ(r->quiet.count(), r->writes);
  EXPECT_EQ(r->migrating.count(), r->writes);
  EXPECT_LE(r->barrier_writes, r->writes);
  EXPECT_DOUBLE_EQ(r->mean_penalty, r->migrating.mean() / r->quiet.mean());
  EXPECT_DOUBLE_EQ(r->p99_penalty, static_cast<double>(r->migrating.percentile(0.99)) /
                                       static_cast<double>(r->quiet.percentile(0.99)));
  // One write in flight: without the migration nothing else uses the disks,
  // during it each write shares them with the copy's 64 KiB transfers (or
  // waits for the copy barrier to move), so no write is faster and some
  // are slower. Wrong way round (or the writes not run during the
  // migration) and these fail.
  EXPECT_GT(r->mean_penalty, 1.0);
  EXPECT_GE(r->p99_penalty, 1.0);
  EXPECT_GE(r->migrating.min(), r->quiet.min());
  EXPECT_GT(r->migrating.max(), r->quiet.max());
}

// With 16 writes in flight, about 30 of them meet the copy barrier: each
// waits in the CP for the barrier's chunk to be copied (a restrictive update
// and a 64 KiB read and write), longer than any write without a migration.
TEST(MigrationBench, WritesIntoTheCopyBarrierAreCountedAndWait) {
  MigrationBenchOptions o = migration_bench_options(true);
  o.copy_rounds = 1;
  o.write_depth = 16;
  auto r = run_migration_bench(o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::printf("%llu of %llu writes met the barrier; slowest %.1f us, %.1f us without a migration\n",
              static_cast<unsigned long long>(r->barrier_writes),
              static_cast<unsigned long long>(r->writes), r->migrating.max() / 1e3,
              r->quiet.max() / 1e3);
  EXPECT_GT(r->barrier_writes, 0u);
  EXPECT_LE(r->barrier_writes, r->writes);
  EXPECT_EQ(r->migrating.count(), r->writes);
  EXPECT_GT(r->migrating.max(), 2 * r->quiet.max());
}

TEST(MigrationBench, RefusesAVsegOfPartBlocks) {
  MigrationBenchOptions o;
  o.vseg_bytes = 4096 + 512;
  EXPECT_FALSE(migration_bench_topology(o).ok());
  EXPECT_FALSE(run_migration_bench(o).ok());
}

}  // namespace
}  // namespace splitpath::sim
