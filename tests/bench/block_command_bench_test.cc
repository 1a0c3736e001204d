// The block command figures of `splitpath bench` (block_command_bench.h), at
// the --quick size: what they are made of holds together. No timing
// threshold: durations are only compared in simulated time, as ratios.
#include "fabric_sim/bench/block_command_bench.h"

#include <cstdio>

#include "cp/target/scsi_target.h"
#include "gtest/gtest.h"

namespace splitpath::sim {
namespace {

TEST(BlockCommandBench, QuickRunEmptiesTheVolumeByWriteSameAndByUnmapMovingNoData) {
  const BlockCommandBenchOptions o = block_command_bench_options(true);
  auto r = run_block_command_bench(o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::printf("write %.2f ms (%llu bytes), write same %.2f ms (%llu bytes), unmap %.2f ms\n",
              r->write.duration_ns / 1e6, static_cast<unsigned long long>(r->write.data_out_bytes),
              r->write_same.duration_ns / 1e6,
              static_cast<unsigned long long>(r->write_same.data_out_bytes),
              r->unmap.duration_ns / 1e6);
  EXPECT_EQ(r->volume_bytes, o.volume_bytes);
  // The WRITE pass moved the volume; WRITE SAME one block per command.
  EXPECT_EQ(r->write.data_out_bytes, o.volume_bytes);
  EXPECT_EQ(r->write.commands, o.volume_bytes >> 20);
  const uint64_t blocks = o.volume_bytes / 512;
  EXPECT_EQ(r->write_same.commands,
            (blocks + cp::kMaxWriteSameBlocks - 1) / cp::kMaxWriteSameBlocks);
  EXPECT_EQ(r->write_same.data_out_bytes, r->write_same.commands * 512);
  EXPECT_EQ(r->unmap.commands, (blocks + cp::kMaxUnmapBlocks - 1) / cp::kMaxUnmapBlocks);
  // The data sat on disk0; zeros and UNMAP gave its space back.
  EXPECT_GE(r->write.allocated_after, o.volume_bytes);
  EXPECT_EQ(r->write_same.allocated_after, 0u);
  EXPECT_EQ(r->unmap.allocated_after, 0u);
  EXPECT_LT(r->write_same.duration_ns, r->write.duration_ns);
  EXPECT_LT(r->unmap.duration_ns, r->write.duration_ns);
}

}  // namespace
}  // namespace splitpath::sim
