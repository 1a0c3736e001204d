// An FP whose table memory holds fewer extents than the Rmap has still serves
// correct data: extents come and go by the chosen replacement policy (claims
// 105-106), one test per policy.
#include <gtest/gtest.h>

#include <string>

#include "fp_firmware/fast_path.h"
#include "fp_firmware/rmap/rmap_cache.h"
#include "splitpath/fc/scsi_cdb.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/split_path_yaml.h"

namespace splitpath::testing {
namespace {

// Table memory for the FP's fixed tables plus an Rmap of about 32 extents.
uint64_t small_table_memory() {
  const fp::FastPathConfig config;
  const size_t bytes =
      fp::FastPath::fixed_table_bytes(config) + fp::RmapCache::bytes_for(32, config.rmap);
  return std::max<uint64_t>(bytes, 65536);
}

class Eviction : public ::testing::TestWithParam<std::string> {};

TEST_P(Eviction, SmallTableMemoryStillServesCorrectData) {
  const std::string fp = "  rmap_policy: " + GetParam() +
                         "\n  table_memory: " + std::to_string(small_table_memory()) + "\n";
  VirtualTestbed tb(split_path_yaml(fp), 2);
  ASSERT_TRUE(tb.ok());
  // vol1 has 625 extents of 64 blocks; touch 200 of them, in two passes.
  constexpr uint64_t kExtents = 200;
  for (uint64_t e = 0; e < kExtents; ++e) {
    ASSERT_EQ(tb.write("host1", 1, e * 64 + 3, pattern(e, 4)).status, fc::scsi_status::kGood);
  }
  for (uint64_t e = 0; e < kExtents; ++e) {
    const sim::ScsiResult r = tb.read("host1", 1, e * 64 + 3, 4);
    ASSERT_EQ(r.status, fc::scsi_status::kGood);
    EXPECT_EQ(r.data_in, pattern(e, 4)) << "extent " << e;
    EXPECT_EQ(tb.disk_bytes("disk2", 0, e * 64 + 3, 4), pattern(e, 4)) << "extent " << e;
  }
  const sim::PortFpStats port = tb.stats().ports[1];  // host1's port
  EXPECT_LT(port.extent_capacity, kExtents);
  EXPECT_LE(port.cached_extents, port.extent_capacity);
  EXPECT_GT(port.evictions, 0u);
  EXPECT_GE(port.mapping_misses, kExtents);
  EXPECT_EQ(port.fp_completed, 2 * kExtents);
}

INSTANTIATE_TEST_SUITE_P(Policies, Eviction, ::testing::Values("lru", "random", "sequential"));

}  // namespace
}  // namespace splitpath::testing
