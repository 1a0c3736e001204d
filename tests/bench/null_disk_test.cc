// The null disk (fabric_sim/node/null_disk.h) and the scaling scenario's
// readiness: structure and counts, never a speed.
#include "fabric_sim/node/null_disk.h"

#include "fabric_sim/bench/scaling_scenario.h"
#include "fabric_sim/run/fabric.h"
#include "gtest/gtest.h"

namespace splitpath::sim {
namespace {

TEST(NullDisk, KeepsNoDataAndAnswersEveryIoGood) {
  ScalingOptions o;
  o.loaded_ports = 2;
  o.null_disks = true;
  auto t = scaling_topology(o);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->disks.size(), 2u);
  EXPECT_TRUE(t->disks[0].null_data);
  EXPECT_EQ(t->disks[0].latency_ns, 0u);
  EXPECT_FALSE(t->hosts[0].workload.verify);
  t->duration_ns = 40 * kNsPerMs;
  auto fabric = Fabric::build(*t, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  ASSERT_TRUE((*fabric)->run().ok());
  for (const auto& h : (*fabric)->hosts()) {
    EXPECT_GT(h->stats().ios_completed, 1000u) << h->name();
    EXPECT_GT(h->stats().writes, 0u);
    EXPECT_EQ(h->stats().check_conditions + h->stats().timeouts + h->stats().protocol_errors, 0u);
  }
  for (const auto& d : (*fabric)->disks()) {
    EXPECT_GT(d->stats().bytes_written, 0u) << d->name();
    EXPECT_GT(d->stats().bytes_read, 0u);
    EXPECT_EQ(d->store(0)->allocated_bytes(), 0u) << "a null disk stored data";
  }
}

TEST(NullDisk, ConfigHasNoMediaCost) {
  DiskConfig d = null_disk_config("n", 0x5000'0000'0000'0001ull, {}, 1024, 4096);
  EXPECT_TRUE(d.null_data);
  EXPECT_EQ(d.latency_ns, 0u);
  ASSERT_EQ(d.luns.size(), 1u);
  EXPECT_EQ(d.luns[0].blocks, 1024u);
  EXPECT_EQ(d.luns[0].block_size, 4096u);
}

// At 64 ports the CP, bringing the switch up alone (it exposes every LUN on
// every port FP), answered some hosts' PLOGI to the virtual target after the
// hosts' 20 ms control timeout; those hosts gave up on the target and never
// ran I/O (12 of 64 did), so the 64-port point measured a fifth of the
// switch. Hosts now retry a login that timed out, and the window starts once
// every host runs.
TEST(ScalingScenario, EveryHostRunsAtSixtyFourPorts) {
  ScalingOptions o;
  o.loaded_ports = 64;
  o.queue_depth = 1;  // bring-up is the point here, not load
  o.duration_ns = kNsPerMs;
  auto p = run_scaling_point(o);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->hosts_active, 64u);
  EXPECT_GE(p->measured_from_s, 0.03);
  EXPECT_EQ(p->io_errors, 0u);
  EXPECT_EQ(p->verify_errors, 0u);
}

}  // namespace
}  // namespace splitpath::sim
