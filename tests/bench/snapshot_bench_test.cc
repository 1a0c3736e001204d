// The snapshot figures of `splitpath bench` (snapshot_bench.h), at the
// --quick size: what they are made of holds together. No timing threshold:
// wall-time rates are only checked to be there.
#include "fabric_sim/bench/snapshot_bench.h"

#include <cstdio>

#include "gtest/gtest.h"

namespace splitpath::sim {
namespace {

TEST(SnapshotBench, QuickRunFirstWritesPayForTheirPushAndTheSweepPushesTheVolume) {
  const SnapshotBenchOptions o = snapshot_bench_options(true);
  auto r = run_snapshot_bench(o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::printf(
      "%llu chunks written: first %.1f us, later %.1f us (%llu mapping misses), penalty %.3f; "
      "sweep %.1f MB/s wall, %.1f MB/s sim (%.2f ms, %llu pushes)\n",
      static_cast<unsigned long long>(r->chunks_written), r->first.mean() / 1e3,
      r->later.mean() / 1e3, static_cast<unsigned long long>(r->later_misses), r->cow_penalty,
      r->mb_per_wall_s, r->mb_per_sim_s, r->sweep_sim_seconds * 1e3,
      static_cast<unsigned long long>(r->sweep_pushes));
  EXPECT_EQ(r->vseg_bytes, o.vseg_bytes);
  EXPECT_EQ(r->chunk_bytes, 64u * 1024);

  // Copy on write: one push per chunk written first (and none by the sweep,
  // which is off), each first write waited for its push, the snapshot owns
  // exactly those chunks; the later writes stayed on the FP.
  EXPECT_EQ(r->chunks_written, o.chunks_written);
  EXPECT_EQ(r->cow_pushes, r->chunks_written);
  EXPECT_EQ(r->cow_write_waits, r->chunks_written);
  EXPECT_EQ(r->cow_pushed_bytes, r->chunks_written * r->chunk_bytes);
  EXPECT_EQ(r->later_faults, 0u);
  EXPECT_LE(r->later_misses, r->chunks_written);
  EXPECT_EQ(r->first.count(), r->chunks_written);
  EXPECT_EQ(r->later.count(), r->chunks_written);
  // A first write waits for a 64 KiB read and write between the disks and
  // two restrictive updates before its own write: slower than a later one,
  // every one of them.
  EXPECT_GT(r->first.mean(), r->later.mean());
  EXPECT_GT(r->first.min(), r->later.max());
  EXPECT_DOUBLE_EQ(r->cow_penalty, r->first.mean() / r->later.mean());
  EXPECT_GT(r->cow_penalty, 1.0);

  // The sweep pushed the whole volume, chunk by chunk (its bytes checked on
  // the snapshot's storage by the bench itself), in positive wall and
  // simulated time.
  EXPECT_EQ(r->swept_bytes, o.vseg_bytes);
  EXPECT_EQ(r->sweep_pushes, o.vseg_bytes / r->chunk_bytes);
  ASSERT_GT(r->sweep_wall_seconds, 0);
  ASSERT_GT(r->sweep_sim_seconds, 0);
  EXPECT_DOUBLE_EQ(r->mb_per_wall_s, r->swept_bytes / 1e6 / r->sweep_wall_seconds);
  EXPECT_DOUBLE_EQ(r->mb_per_sim_s, r->swept_bytes / 1e6 / r->sweep_sim_seconds);
  // Each chunk is read from one disk, then written to the other, each at the
  // modeled disks' 1000 MB/s at most: the sweep cannot beat half that.
  EXPECT_LT(r->mb_per_sim_s, 500);
}

TEST(SnapshotBench, RefusesAVsegOfPartChunksAndMoreChunksThanItHas) {
  SnapshotBenchOptions o;
  o.vseg_bytes = 64 * 1024 + 4096;
  EXPECT_FALSE(snapshot_bench_topology(o).ok());
  EXPECT_FALSE(run_snapshot_bench(o).ok());
  o.vseg_bytes = 1 << 20;
  o.chunks_written = 17;
  EXPECT_FALSE(snapshot_bench_topology(o).ok());
  o.chunks_written = 16;
  EXPECT_TRUE(snapshot_bench_topology(o).ok());
}

}  // namespace
}  // namespace splitpath::sim
