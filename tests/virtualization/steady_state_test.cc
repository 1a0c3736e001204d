// The embedded default scenario serves its volumes on the fast path: once the
// FPs have cached the working set, at least 99% of the hosts' reads and
// writes complete on an FP alone, and every byte read back verifies.
#include <gtest/gtest.h>

#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/report.h"
#include "fabric_sim/topology/default_scenario.h"

namespace splitpath::testing {
namespace {

TEST(SteadyState, DefaultScenarioRunsOnTheFastPath) {
  sim::Topology t = sim::default_topology();
  auto fabric = sim::Fabric::build(t, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  ASSERT_TRUE((*fabric)->run().ok());
  const nlohmann::ordered_json r = sim::make_report(**fabric);
  EXPECT_GT(r["ios_completed"].get<uint64_t>(), 1000u);
  EXPECT_EQ(r["verify_errors"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["io_errors"].get<uint64_t>(), 0u);
  const auto& v = r["switches"][0]["virtualization"];
  EXPECT_GE(v["fp_fraction"].get<double>(), 0.99) << v.dump(2);
  for (const auto& h : r["hosts"])
    EXPECT_GT(h["ios_completed"].get<uint64_t>(), 0u) << h.dump();
}

}  // namespace
}  // namespace splitpath::testing
