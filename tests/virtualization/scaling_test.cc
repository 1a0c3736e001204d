// The specification's claim that bandwidth scales with the number of port FPs,
// in simulated time (deterministic, so the figures can be asserted): with the
// FPs on, the switch's I/O rate grows with the ports carrying load; with every
// I/O forced to the CP, the one CP caps it.
#include <gtest/gtest.h>

#include "fabric_sim/bench/scaling_scenario.h"

namespace splitpath::testing {
namespace {

sim::ScalingPoint point(uint32_t ports, bool fp) {
  sim::ScalingOptions o;
  o.loaded_ports = ports;
  o.fp_enabled = fp;
  o.warmup_ns = 15 * sim::kNsPerMs;
  o.duration_ns = 5 * sim::kNsPerMs;
  auto p = sim::run_scaling_point(o);
  EXPECT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->verify_errors, 0u);
  EXPECT_EQ(p->io_errors, 0u);
  return *p;
}

TEST(Scaling, FpIopsGrowWithLoadedPortsAndCpOnlyIopsDoNot) {
  const sim::ScalingPoint fp1 = point(1, true);
  const sim::ScalingPoint fp4 = point(4, true);
  const sim::ScalingPoint cp1 = point(1, false);
  const sim::ScalingPoint cp4 = point(4, false);
  EXPECT_GT(fp4.iops, 3.5 * fp1.iops);
  EXPECT_LT(cp4.iops, 1.2 * cp1.iops);
  EXPECT_GT(fp1.iops, 2 * cp1.iops);
  EXPECT_GE(fp4.fp_fraction, 0.999);
  EXPECT_EQ(cp4.fp_fraction, 0.0);
}

// A switch serving more VSEGs than the FP's default VSEG table (16) still
// serves every one of them on the FP: each FP is sized for its switch's VSEGs.
// (Before, VSEGs past the 16th were refused by the FPs and all their I/O went
// to the CP.)
TEST(Scaling, EveryVsegOfALargeSwitchIsServedOnTheFp) {
  const sim::ScalingPoint p = point(20, true);
  EXPECT_GE(p.fp_fraction, 0.999);
}

}  // namespace
}  // namespace splitpath::testing
