// The `splitpath` command end to end: captures that tshark dissects cleanly,
// byte-identical reruns from one seed, and precise errors for bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "nlohmann/json.hpp"
#include "tests/integration/fabric_fixture.h"
#include "tests/support/run_command.h"

namespace splitpath::sim {
namespace {

using splitpath::testing::Command;

Command run(const std::string& command) {
  return splitpath::testing::run_command(command);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kSplitpath = SPLITPATH_BINARY;

TEST(Command, SameSeedGivesByteIdenticalCaptureAndReport) {
  const std::string a = testing::temp_path("det_a.pcap");
  const std::string b = testing::temp_path("det_b.pcap");
  const std::string c = testing::temp_path("det_c.pcap");
  Command ra = run(kSplitpath + " run --seed 42 --duration 0.01 --json --pcap " + a);
  Command rb = run(kSplitpath + " run --seed 42 --duration 0.01 --json --pcap " + b);
  Command rc = run(kSplitpath + " run --seed 43 --duration 0.01 --json --pcap " + c);
  ASSERT_EQ(ra.status, 0) << ra.out;
  ASSERT_EQ(rb.status, 0) << rb.out;
  ASSERT_EQ(rc.status, 0) << rc.out;
  EXPECT_EQ(ra.out, rb.out);
  const std::string pa = slurp(a);
  EXPECT_GT(pa.size(), 100000u);
  EXPECT_EQ(pa, slurp(b));
  EXPECT_NE(ra.out, rc.out) << "another seed must give another run";
  EXPECT_NE(pa, slurp(c));
}

TEST(Command, JsonReportHasTheDocumentedFields) {
  Command r = run(kSplitpath + " run --duration 0.005 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"seed", "sim_seconds", "frames", "ios_completed", "verify_errors"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["verify_errors"], 0);
  EXPECT_GT(j["ios_completed"].get<uint64_t>(), 0u);
  ASSERT_EQ(j["hosts"].size(), 2u);
  for (const auto& h : j["hosts"]) {
    EXPECT_GT(h["iops"].get<double>(), 0);
    EXPECT_GT(h["mb_per_s"].get<double>(), 0);
    for (const char* p : {"p50", "p99", "p999"})
      EXPECT_GT(h["latency_us"][p].get<double>(), 0);
  }
  ASSERT_EQ(j["switches"].size(), 1u);
  for (const auto& p : j["switches"][0]["ports"]) {
    EXPECT_TRUE(p.contains("rx_frames") && p.contains("tx_frames") && p.contains("drops"));
  }
}

TEST(Command, TsharkDissectsTheCaptureWithoutErrors) {
  if (run("command -v tshark").status != 0)
    FAIL() << "tshark is not installed (the setup installs it)";
  const std::string pcap = testing::temp_path("tshark.pcap");
  Command r = run(kSplitpath + " run --duration 0.003 --pcap " + pcap);
  ASSERT_EQ(r.status, 0) << r.out;
  Command bad =
      run("tshark -n -r " + pcap +
          " -Y '_ws.malformed || _ws.expert.severity >= error' -T fields -e frame.number");
  ASSERT_EQ(bad.status, 0) << bad.out;
  size_t errors = 0;
  std::istringstream in(bad.out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.find("Running as user") == std::string::npos) ++errors;
  }
  EXPECT_EQ(errors, 0u) << bad.out.substr(0, 2000);
  Command phs = run("tshark -n -r " + pcap + " -q -z io,phs");
  ASSERT_EQ(phs.status, 0);
  for (const char* proto : {"fc ", "fcels", "fcdns", "fcp", "scsi"}) {
    EXPECT_NE(phs.out.find(proto), std::string::npos) << proto << " not dissected:\n" << phs.out;
  }
  // The SCSI layer is decoded, not just carried: READ and WRITE commands appear.
  Command ops =
      run("tshark -n -r " + pcap +
          " -Y 'scsi_sbc.opcode == 0x28 || scsi_sbc.opcode == 0x2a' -T fields -e frame.number");
  size_t rw = 0;
  std::istringstream ops_in(ops.out);
  for (std::string line; std::getline(ops_in, line);)
    rw += !line.empty() && line[0] >= '0' && line[0] <= '9';
  EXPECT_GT(rw, 50u);
}

size_t count_frames(const std::string& pcap, const std::string& filter) {
  Command r = run("tshark -n -r " + pcap + " -Y '" + filter + "' -T fields -e frame.number");
  size_t n = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    n += !line.empty() && line[0] >= '0' && line[0] <= '9';
  return n;
}

TEST(Command, PcapPortsLimitsTheCapture) {
  const std::string all = testing::temp_path("all.pcap");
  const std::string one = testing::temp_path("one.pcap");
  ASSERT_EQ(run(kSplitpath + " run --duration 0.003 --pcap " + all).status, 0);
  ASSERT_EQ(run(kSplitpath + " run --duration 0.003 --pcap " + one + " --pcap-ports sw0:6").status,
            0);
  // sw0:6 is disk2 (01.06.00), behind vol1: the capture holds its frames,
  // both directions (with the switch's virtual initiators, as the FPs send
  // them), and nothing else but its own FLOGI (sent before it had an address).
  const std::string mine = "fc.s_id == 01.06.00 || fc.d_id == 01.06.00";
  const size_t in_one = count_frames(one, "frame");
  EXPECT_GT(in_one, 100u);
  EXPECT_EQ(count_frames(one, "!(" + mine + " || fc.s_id == 00.00.00)"), 0u);
  EXPECT_EQ(count_frames(one, mine), count_frames(all, mine));
  EXPECT_LT(in_one * 2, count_frames(all, "frame"));
  Command bad = run(kSplitpath + " run --duration 0.001 --pcap " + one + " --pcap-ports sw9:1");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("sw9:1"), std::string::npos) << bad.out;
}

TEST(Command, InvalidTopologyNamesFileLineAndField) {
  const std::string path = testing::temp_path("bad.yaml");
  std::ofstream(path) << "switches:\n  - {name: sw0, domain: 1, ports: 8}\nhosts:\n"
                         "  - name: h0\n    port: sw0:99\n";
  Command r = run(kSplitpath + " run " + path);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find(path + ":5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hosts[0].port"), std::string::npos) << r.out;
  Command missing = run(kSplitpath + " run /nonexistent/topology.yaml");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.out.find("/nonexistent/topology.yaml"), std::string::npos) << missing.out;
  Command usage = run(kSplitpath + " run --seed banana");
  EXPECT_EQ(usage.status, 2);
}

}  // namespace
}  // namespace splitpath::sim
