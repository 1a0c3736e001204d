// A dual-ported disk (`ports:` in the topology): two N_Ports with their own
// port IDs and WWPNs, one WWNN, in front of one set of LUNs and data. Driven
// through frames: a host writes through one port and reads through the
// other, and both ports name the LU alike in VPD 0x83 (what multipath
// software matches) while naming themselves apart.
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "nlohmann/json.hpp"
#include "splitpath/fc/scsi.h"
#include "tests/integration/fabric_fixture.h"
#include "tests/support/run_command.h"

namespace splitpath::sim {
namespace {

class DualPortDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    // A host whose job issues nothing (one arrival per thousand seconds).
    fabric_ = testing::build_or_die(testing::parse_or_die(R"(
duration: 1s
switches: [{name: sw0, domain: 1, ports: 4}]
disks:
  - {name: d0, wwpn: 0x5000000000000200, ports: [sw0:2, sw0:3], luns: [{lun: 0, size: 1MiB}]}
hosts:
  - {name: a, port: sw0:0, workload: {rate_iops: 0.001}}
faults:
  - {at: 500ms, kind: disk_offline, target: d0}
)"));
    fabric_->run_until(kNsPerMs);
    ASSERT_EQ(fabric_->more_disk_ports().size(), 1u);
    port0_ = fabric_->disk("d0");
    port1_ = fabric_->more_disk_ports()[0].get();
    ASSERT_EQ(port0_->login_state(), LoginState::kReady);
    ASSERT_EQ(port1_->login_state(), LoginState::kReady);
  }

  ScsiResult exec(Disk* port, const fc::ScsiCommand& cmd, uint32_t data_in = 0,
                  std::vector<uint8_t> data_out = {}) {
    std::array<uint8_t, 32> cdb{};
    auto n = fc::encode_cdb(cmd, cdb);
    EXPECT_TRUE(n.ok());
    ScsiResult result;
    bool done = false;
    EXPECT_TRUE(fabric_->host("a")->submit_command(
        port->port_id(), 0, std::vector<uint8_t>(cdb.begin(), cdb.begin() + *n), data_in,
        std::move(data_out), [&](const ScsiResult& r) {
          result = r;
          done = true;
        }));
    for (int i = 0; i < 100 && !done; ++i)
      fabric_->run_until(fabric_->kernel().now() + kNsPerMs);
    EXPECT_TRUE(done);
    return result;
  }

  std::unique_ptr<Fabric> fabric_;
  Disk* port0_ = nullptr;
  Disk* port1_ = nullptr;
};

TEST_F(DualPortDisk, TwoNPortsOneNodeName) {
  EXPECT_NE(port0_->port_id(), port1_->port_id());
  EXPECT_EQ(port0_->wwpn(), 0x5000000000000200u);
  EXPECT_EQ(port1_->wwpn(), 0x5000000000000201u);
  EXPECT_EQ(port0_->wwnn(), port1_->wwnn());
  // The host found the LUN behind each port (two targets: hosts do no multipath).
  EXPECT_EQ(fabric_->host("a")->luns().size(), 2u);
}

TEST_F(DualPortDisk, DataWrittenThroughOnePortReadsBackThroughTheOther) {
  std::vector<uint8_t> data(2 * 512);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 7 + 1);
  EXPECT_EQ(exec(port1_, fc::make_write(40, 2), 0, data).status, fc::scsi_status::kGood);
  const ScsiResult r = exec(port0_, fc::make_read(40, 2), 1024);
  ASSERT_EQ(r.status, fc::scsi_status::kGood);
  EXPECT_EQ(r.data_in, data);
  std::vector<uint8_t> stored(1024);
  port0_->store(0)->read(40 * 512, stored);
  EXPECT_EQ(stored, data);
  EXPECT_EQ(port0_->stats().reads, 1u);
  EXPECT_EQ(port1_->stats().writes, 1u);
}

TEST_F(DualPortDisk, BothPortsNameTheLuAlike) {
  const ScsiResult a = exec(port0_, fc::make_inquiry(255, true, 0x83), 255);
  const ScsiResult b = exec(port1_, fc::make_inquiry(255, true, 0x83), 255);
  auto da = fc::decode_vpd_device_identification(a.data_in);
  auto db = fc::decode_vpd_device_identification(b.data_in);
  ASSERT_TRUE(da.ok());
  ASSERT_TRUE(db.ok());
  ASSERT_EQ(da->count, 3);
  ASSERT_EQ(db->count, 3);
  // The LU designator (and serial) alike, the target port designator apart.
  EXPECT_EQ(fc::designator_naa(da->designators[0]), fc::designator_naa(db->designators[0]));
  EXPECT_EQ(exec(port0_, fc::make_inquiry(255, true, 0x80), 255).data_in,
            exec(port1_, fc::make_inquiry(255, true, 0x80), 255).data_in);
  EXPECT_EQ(fc::designator_naa(da->designators[2]), port0_->wwpn());
  EXPECT_EQ(fc::designator_naa(db->designators[2]), port1_->wwpn());
}

TEST_F(DualPortDisk, DiskFaultsActOnTheDevice) {
  fabric_->run_until(500 * kNsPerMs + 1);
  EXPECT_TRUE(port0_->offline());
  EXPECT_TRUE(port1_->offline());
}

// The multipath example of fabric_sim/topology/README.md, run by `splitpath
// run --json`: the report shows both path switches and a clean run.
TEST(MultipathCommand, ReadmeExampleRunsAndReportsTheFailovers) {
  const char* root = std::getenv("SPLITPATH_SOURCE_DIR");
  if (root == nullptr) GTEST_SKIP() << "SPLITPATH_SOURCE_DIR is not set";
  std::ifstream in(std::filesystem::path(root) / "fabric_sim/topology/README.md");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const size_t section = readme.find("## Example: multipath");
  ASSERT_NE(section, std::string::npos);
  const size_t begin = readme.find("```yaml\n", section);
  const size_t end = readme.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const std::string file = testing::temp_path("multipath_example.yaml");
  std::ofstream(file) << readme.substr(begin + 8, end - begin - 8);
  const splitpath::testing::Command r = splitpath::testing::run_command(
      std::string(SPLITPATH_BINARY) + " run " + file + " --json", false);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["io_errors"], 0);
  EXPECT_EQ(j["verify_errors"], 0);
  const auto& sw = j["switches"][0];
  ASSERT_TRUE(sw.contains("virtualization")) << sw.dump();
  EXPECT_EQ(sw["virtualization"]["cp"]["path_failovers"], 2);
  EXPECT_GE(sw["virtualization"]["cp"]["path_failed_ios"], 1);
  EXPECT_GE(j["hosts"][0]["retries"], 1);
}

}  // namespace
}  // namespace splitpath::sim
