// `splitpath replay` end to end: captures written by `splitpath run` replay with
// zero mismatches and the same command stream (the embedded default scenario on
// its own topology, and a physical-only topology on a fabric built from the
// trace); the real captures in ../shared/captures replay without a crash and
// report what they skipped; exit statuses.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "tests/replay/replay_test_util.h"
#include "tests/support/run_command.h"

namespace splitpath::sim::replay {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)
using splitpath::testing::Command;
using splitpath::testing::run_command;

const std::string kSplitpath = SPLITPATH_BINARY;

Json replay_cli(const std::string& args, int expected_status) {
  Command c = run_command(kSplitpath + " replay --json " + args, false);
  EXPECT_EQ(c.status, expected_status) << args << "\n" << c.out.substr(0, 2000);
  Json j = Json::parse(c.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << c.out.substr(0, 500);
  return j;
}

// One command as the stream comparison sees it.
using Cmd = std::tuple<int, uint64_t, uint32_t, uint32_t>;  // opcode, LBA, blocks, FCP_DL
// Per (initiator WWPN, target WWPN, LUN), the commands in trace order.
using Streams = std::map<std::tuple<uint64_t, uint64_t, uint16_t>, std::vector<Cmd>>;

Streams command_streams(const std::string& path) {
  Streams out;
  auto reader = trace::TraceReader::open(path);
  if (!reader.ok()) {
    ADD_FAILURE() << reader.status().message();
    return out;
  }
  const TraceCommandStream s = extract_commands(**reader);
  for (const TraceCommand& c : s.commands) {
    out[{s.wwpn_of(c.initiator), s.wwpn_of(c.target), c.lun}].push_back(
        Cmd{c.opcode, c.lba.value_or(0), c.blocks.value_or(0), c.fcp_dl});
  }
  return out;
}

// The replay sends every command of the trace's ITL in order, after its own
// hosts' discovery (REPORT LUNS, READ CAPACITY): the trace's stream must be the
// tail of the replay's, and what comes before only discovery.
void expect_same_streams(const Streams& trace, const Streams& replayed,
                         const std::vector<uint64_t>& initiators) {
  size_t compared = 0;
  for (const auto& [itl, cmds] : trace) {
    if (std::find(initiators.begin(), initiators.end(), std::get<0>(itl)) == initiators.end())
      continue;
    auto it = replayed.find(itl);
    ASSERT_NE(it, replayed.end()) << std::get<0>(itl) << " " << std::get<1>(itl);
    const std::vector<Cmd>& r = it->second;
    ASSERT_GE(r.size(), cmds.size());
    const size_t extra = r.size() - cmds.size();
    EXPECT_LE(extra, 2u);
    for (size_t i = 0; i < extra; ++i) {
      const int op = std::get<0>(r[i]);
      EXPECT_TRUE(op == 0xA0 || op == 0x9E) << "discovery opcode " << op;
    }
    EXPECT_TRUE(
        std::equal(cmds.begin(), cmds.end(), r.begin() + static_cast<std::ptrdiff_t>(extra)))
        << "the replay's command stream differs for initiator " << std::hex << std::get<0>(itl);
    compared += cmds.size();
  }
  EXPECT_GT(compared, 100u);
}

TEST(RoundTrip, DefaultScenarioOnItsOwnTopology) {
  const std::string trace = temp_path("rt_default.pcap");
  const std::string topo = temp_path("rt_default.yaml");
  const std::string out = temp_path("rt_default_replay.pcap");
  ASSERT_EQ(run_command(kSplitpath + " run --duration 0.01 --pcap " + trace).status, 0);
  ASSERT_EQ(run_command(kSplitpath + " default-topology > " + topo).status, 0);
  const Json r = replay_cli(trace + " --topology " + topo + " --mode timed --pcap " + out, 0);
  EXPECT_EQ(r["mismatches"]["count"], 0) << r["mismatches"].dump();
  EXPECT_EQ(r["sim_timeouts"], 0);
  EXPECT_GT(r["commands_replayed"].get<uint64_t>(), 100u);
  EXPECT_EQ(r["commands_replayed"], r["commands_compared"]);
  // The switch's own virtual initiators are not hosts of the topology: their
  // commands are the FPs' work, done again by the simulated FPs.
  EXPECT_EQ(r["notes"].size(), 2u) << r["notes"].dump();
  ASSERT_EQ(r["switches"].size(), 1u);
  EXPECT_GT(r["switches"][0]["virtualization"]["fp_hits"].get<uint64_t>(), 100u);
  EXPECT_GT(r["captured_frames"].get<uint64_t>(), 0u);
  expect_same_streams(command_streams(trace), command_streams(out),
                      {0x1000000000000001ull, 0x1000000000000002ull});
}

const char* const kPhysicalTopology = R"yaml(
seed: 7
duration: 10ms
switches:
  - {name: sw0, domain: 2, ports: 8}
disks:
  - {name: d0, wwpn: "50:00:00:00:00:00:01:00", port: sw0:4, luns: [{lun: 0, size: 1GiB}, {lun: 1, size: 2GiB, block_size: 4096}]}
  - {name: d1, wwpn: "50:00:00:00:00:00:02:00", port: sw0:5, luns: [{lun: 0, size: 1GiB}]}
hosts:
  - {name: h0, wwpn: "10:00:00:00:00:00:00:01", port: sw0:0, workload: {queue_depth: 4, read_percent: 50}}
  - {name: h1, wwpn: "10:00:00:00:00:00:00:02", port: sw0:1, workload: {queue_depth: 2, block_size: 8KiB, pattern: sequential}}
zones:
  - {name: z0, members: [h0, d0]}
  - {name: z1, members: [h1, d0, d1]}
)yaml";

TEST(RoundTrip, PhysicalTopologyOnAFabricBuiltFromTheTrace) {
  const std::string topo = temp_path("rt_phys.yaml");
  const std::string trace = temp_path("rt_phys.pcap");
  const std::string out = temp_path("rt_phys_replay.pcap");
  spill(topo, Bytes(kPhysicalTopology, kPhysicalTopology + std::string(kPhysicalTopology).size()));
  ASSERT_EQ(run_command(kSplitpath + " run " + topo + " --pcap " + trace).status, 0);
  for (const char* mode : {"timed", "fast", "closed-loop"}) {
    SCOPED_TRACE(mode);
    const Json r = replay_cli(trace + " --mode " + mode + " --pcap " + out, 0);
    EXPECT_TRUE(r["built_from_trace"].get<bool>());
    EXPECT_EQ(r["mismatches"]["count"], 0) << r["mismatches"].dump();
    EXPECT_EQ(r["skipped"]["commands"], 0);
    EXPECT_EQ(r["commands_replayed"], r["trace"]["commands"]);
    EXPECT_EQ(r["ports"].size(), 4u);
    expect_same_streams(command_streams(trace), command_streams(out),
                        {0x1000000000000001ull, 0x1000000000000002ull});
  }
}

TEST(RealCaptures, ReplayWithoutACrashAndReportWhatTheySkipped) {
  const std::filesystem::path dir = captures_dir();
  if (!std::filesystem::exists(dir / "fikonfarm-fcoe1-merged.pcap"))
    GTEST_SKIP() << dir << " is missing";
  for (const char* name : kRealCaptures) {
    SCOPED_TRACE(name);
    const std::string path = (dir / name).string();
    Command c = run_command(kSplitpath + " replay --json --mode fast " + path, false);
    ASSERT_TRUE(c.status == 0 || c.status == 1) << c.status << c.out.substr(0, 500);
    const Json r = Json::parse(c.out, nullptr, false);
    ASSERT_FALSE(r.is_discarded());
    EXPECT_EQ(c.status == 1, r["mismatches"]["count"].get<uint64_t>() > 0);
    // The problems are the decoder's, frame for frame.
    Command d = run_command(kSplitpath + " decode --json --no-frames " + path, false);
    const Json dj = Json::parse(d.out, nullptr, false);
    ASSERT_FALSE(dj.is_discarded());
    EXPECT_EQ(r["problems"]["count"], dj["problems"].size());
    EXPECT_EQ(r["skipped"]["missing_command"], dj["skipped"]["missing_command"]);
    EXPECT_EQ(r["commands_replayed"].get<uint64_t>() + r["skipped"]["commands"].get<uint64_t>(),
              r["trace"]["commands"].get<uint64_t>());
  }
  // The one-sided fabric capture has responses only: every exchange lacks its command.
  const Json fabric =
      replay_cli("--mode fast " + (dir / "fikonfarm-fcoe1-fabric.pcap").string(), 0);
  EXPECT_EQ(fabric["trace"]["commands"], 0);
  EXPECT_EQ(fabric["skipped"]["missing_command"], 130);
  // bluecmd: 116 commands, no responses: replayed, nothing to compare.
  const Json blue = replay_cli("--mode fast " + (dir / "bluecmd-fc2-real-frames.pcap").string(), 0);
  EXPECT_EQ(blue["commands_replayed"], 116);
  EXPECT_EQ(blue["unanswered_in_trace"], 116);
  // The merged conversation is answered by a real array: its INQUIRY data and
  // unit attentions differ from the simulated disk's, and are reported.
  const Json merged =
      replay_cli("--mode fast " + (dir / "fikonfarm-fcoe1-merged.pcap").string(), 1);
  EXPECT_EQ(merged["commands_compared"], 47);
  EXPECT_EQ(merged["mismatches"]["first"].size(), kDescribedMismatches);
}

TEST(Cli, UsageAndBadInputExitTwo) {
  for (const char* args : {"", "a.pcap b.pcap", "--mode warp x.pcap", "--bogus x.pcap"}) {
    Command c = run_command(kSplitpath + " replay " + args);
    EXPECT_EQ(c.status, 2) << args << ": " << c.out;
  }
  Command missing = run_command(kSplitpath + " replay /nonexistent/customer.pcap");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.out.find("/nonexistent/customer.pcap"), std::string::npos) << missing.out;
  const std::string ipv4 = temp_path("cli_ipv4.pcap");
  ASSERT_TRUE(write_pcap(ipv4, 228, records({Bytes(40, 0x45)})));
  Command unknown = run_command(kSplitpath + " replay " + ipv4);
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.out.find("228"), std::string::npos) << unknown.out;
  const std::string sample = temp_path("cli_sample.pcap");
  ASSERT_TRUE(write_pcap(sample, 224, records(sample_session())));
  Command bad_topo =
      run_command(kSplitpath + " replay " + sample + " --topology /nonexistent.yaml");
  EXPECT_EQ(bad_topo.status, 2);
  Command help = run_command(kSplitpath + " replay --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("closed-loop"), std::string::npos);
  // The readable summary names the figures.
  Command text = run_command(kSplitpath + " replay --mode fast " + sample);
  EXPECT_NE(text.out.find("commands: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("latency in the simulation"), std::string::npos) << text.out;
}

}  // namespace
}  // namespace splitpath::sim::replay
