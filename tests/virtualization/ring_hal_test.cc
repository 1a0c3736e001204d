// The simulator runs on the second HAL: the embedded default scenario with
// `fp: {hal: ring}` puts every port FP on hal/ring (descriptor rings, batched
// receive, lazy transmit reclaim) and must serve the same workload: I/Os on
// the fast path, every byte read back verified, no errors.
#include <gtest/gtest.h>

#include <string>

#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/report.h"
#include "fabric_sim/switch/port_fp.h"
#include "fabric_sim/topology/default_scenario.h"
#include "fabric_sim/topology/topology_yaml.h"

namespace splitpath::testing {
namespace {

TEST(RingHal, DefaultScenarioRunsOnTheRingHal) {
  std::string yaml = sim::default_topology_yaml();
  const std::string key = "  enabled: true\n";
  const size_t at = yaml.find(key);
  ASSERT_NE(at, std::string::npos);
  yaml.insert(at + key.size(), "  hal: ring\n");
  absl::StatusOr<sim::Topology> t = sim::parse_topology_yaml(yaml, "<default, hal: ring>");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->fp.hal, "ring");

  auto fabric = sim::Fabric::build(*t, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  ASSERT_TRUE((*fabric)->run().ok());
  const nlohmann::ordered_json r = sim::make_report(**fabric);
  EXPECT_GT(r["ios_completed"].get<uint64_t>(), 1000u);
  EXPECT_EQ(r["verify_errors"].get<uint64_t>(), 0u);
  EXPECT_EQ(r["io_errors"].get<uint64_t>(), 0u);
  const auto& v = r["switches"][0]["virtualization"];
  EXPECT_GT(v["fp_hits"].get<uint64_t>(), 1000u) << v.dump(2);
  EXPECT_GE(v["fp_fraction"].get<double>(), 0.99) << v.dump(2);
  for (const auto& h : r["hosts"])
    EXPECT_GT(h["ios_completed"].get<uint64_t>(), 0u) << h.dump();
}

// PortFp builds the port ASIC the setting names: hal/ring has a completion
// poll and its own 256-byte mailbox messages, hal/sim neither.
TEST(RingHal, PortFpRunsTheFirmwareOnTheChosenHal) {
  struct NoOwner final : sim::PortFpOwner {
    bool route_from_fp(uint32_t, std::span<const uint8_t>) override { return true; }
    void on_fp_message(uint32_t, uint32_t, std::span<const uint8_t>) override {}
  } owner;
  sim::Kernel kernel;
  sim::FramePool pool;
  hal::sim::SimPortConfig pc;
  pc.wwpn = 0x2000'0053'5000'0001ull;
  pc.table_memory_bytes = 4u << 20;
  for (const sim::PortHal kind : {sim::PortHal::kSim, sim::PortHal::kRing}) {
    std::string error;
    auto fp =
        sim::PortFp::create(kernel, pool, owner, pc, fp::FastPathConfig{}, 2000, &error, kind);
    ASSERT_NE(fp, nullptr) << error;
    const sp_hal* h = fp->asic().hal();
    sp_hal_port_info info{};
    ASSERT_EQ(h->ctrl->port_info(h->port, &info), SP_HAL_OK);
    EXPECT_EQ(info.wwpn, pc.wwpn);
    EXPECT_EQ(info.table_mem_bytes, pc.table_memory_bytes);
    if (kind == sim::PortHal::kRing) {
      EXPECT_NE(h->fast->poll, nullptr);
      EXPECT_EQ(info.mbox_max_msg_size, SP_HAL_MBOX_MIN_MSG_SIZE);
    } else {
      EXPECT_EQ(h->fast->poll, nullptr);
      EXPECT_EQ(info.mbox_max_msg_size, pc.mbox_max_msg_size);
    }
  }
}

TEST(RingHal, UnknownHalIsRefused) {
  std::string yaml = sim::default_topology_yaml();
  const std::string key = "  enabled: true\n";
  yaml.insert(yaml.find(key) + key.size(), "  hal: asic\n");
  absl::StatusOr<sim::Topology> t = sim::parse_topology_yaml(yaml, "t.yaml");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(std::string(t.status().message()).find("field 'fp.hal': must be sim or ring"),
            std::string::npos)
      << t.status();
}

}  // namespace
}  // namespace splitpath::testing
