// The replay library on synthetic traces: what is extracted from a trace, the
// fabric built from it, timed / fast / closed-loop pacing, bad input reported by
// frame number while the replay goes on, and a trace target mapped onto a
// virtual volume behind the switch's FPs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/replay/replay_test_util.h"

namespace splitpath::sim::replay {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)

std::string write_trace(const std::string& name, const std::vector<Record>& recs,
                        int link_type = 224) {
  const std::string path = temp_path(name);
  EXPECT_TRUE(write_pcap(path, link_type, recs));
  return path;
}

TEST(Extraction, CommandsPortsAndLunExtents) {
  const std::string path = write_trace("sample.pcap", records(sample_session()));
  auto reader = trace::TraceReader::open(path);
  ASSERT_TRUE(reader.ok());
  const TraceCommandStream s = extract_commands(**reader);
  ASSERT_EQ(s.commands.size(), 12u);
  EXPECT_EQ(s.wwpn_of(kInit), 0x1000000000000001ull);    // FLOGI, then its ACC's D_ID
  EXPECT_EQ(s.wwpn_of(kTarget), 0x5000000000000001ull);  // the PLOGI ACC
  EXPECT_EQ(s.wwpns.count(fc::kDirectoryServer.value), 0u);
  const TraceCommand& report_luns = s.commands[0];
  EXPECT_EQ(report_luns.opcode, 0xA0);
  EXPECT_TRUE(report_luns.answered);
  EXPECT_EQ(report_luns.data_in, 24u);
  const TraceCommand& write16 = s.commands[2];
  EXPECT_TRUE(write16.write_data);
  EXPECT_EQ(write16.cdb.size(), 16u);
  EXPECT_EQ(write16.data_out.size(), 2048u);
  EXPECT_EQ(write16.write_data_missing, 0u);
  EXPECT_EQ(write16.data_out[100], 0x5A);  // the captured bytes
  const TraceCommand& failed = s.commands[9];
  EXPECT_EQ(failed.status, 0x02);
  EXPECT_EQ(failed.sense_key, 0x03);
  EXPECT_EQ(s.commands[10].lun, 1);
  EXPECT_FALSE(s.commands[11].answered);  // aborted
  // SYNCHRONIZE CACHE(16) at 2^40 for 7 blocks is the furthest LBA touched.
  EXPECT_EQ((s.luns.at({kTarget.value, 0}).end_lba), (1ull << 40) + 7);
  EXPECT_EQ(s.luns.count({kTarget.value, 1}), 1u);
}

TEST(BuiltFabric, OneHostPerInitiatorOneDiskPerTargetSizedFromReadCapacity) {
  using namespace fc;
  std::vector<Record> recs = login_records();
  // READ CAPACITY(16): 123456 blocks of 4096 bytes on LUN 3.
  Bytes cap(32, 0);
  const uint64_t last = 123455;
  for (int i = 0; i < 8; ++i)
    cap[static_cast<size_t>(i)] = static_cast<uint8_t>(last >> (56 - 8 * i));
  cap[10] = 0x10;  // 4096
  recs.push_back(
      {kBaseNs + 10000, fcp_cmnd(kInit, kTarget, 0x0200, make_read_capacity16(32), 32, 3), 0});
  recs.push_back({kBaseNs + 11000,
                  [&] {
                    Bytes f = fcp_data(kTarget, kInit, true, 0x0200, 0x0600, 0, 32, true);
                    std::copy(cap.begin(), cap.end(), f.begin() + fc::kFrameHeaderSize);
                    return f;
                  }(),
                  0});
  recs.push_back({kBaseNs + 12000, fcp_rsp(kTarget, kInit, 0x0200, 0x0600, scsi_status::kGood), 0});
  const std::string path = write_trace("readcap.pcap", recs);
  const Replayed r = replay_file(path, ReplayMode::kFast);
  const Topology& t = r.plan.topology;
  ASSERT_EQ(t.hosts.size(), 1u);
  ASSERT_EQ(t.disks.size(), 1u);
  EXPECT_EQ(t.hosts[0].wwpn, kInitWwpn);
  EXPECT_EQ(t.disks[0].wwpn, kTargetWwpn);
  ASSERT_EQ(t.disks[0].luns.size(), 1u);
  EXPECT_EQ(t.disks[0].luns[0].lun, 3);
  EXPECT_EQ(t.disks[0].luns[0].blocks, 123456u);
  EXPECT_EQ(t.disks[0].luns[0].block_size, 4096u);
  // The simulated disk answers READ CAPACITY with the same 32 bytes.
  EXPECT_EQ(r.report["commands_compared"], 1);
  EXPECT_EQ(r.report["mismatches"]["count"], 0) << r.report["mismatches"].dump();
}

TEST(BuiltFabric, PortsWithoutWwpnGetOnesMadeFromTheirIds) {
  std::vector<Record> recs = io_records(2, 100000, 50000);
  const std::string path = write_trace("nowwpn.pcap", recs);
  const Replayed r = replay_file(path, ReplayMode::kFast);
  ASSERT_EQ(r.plan.topology.hosts.size(), 1u);
  EXPECT_EQ(r.plan.topology.hosts[0].wwpn, 0x1000000000000000ull | kInit.value);
  EXPECT_EQ(r.plan.topology.disks[0].wwpn, 0x5000000000000000ull | kTarget.value);
  EXPECT_EQ(r.report["commands_replayed"], 2);
  EXPECT_EQ(r.report["mismatches"]["count"], 0) << r.report["mismatches"].dump();
}

TEST(Replay, ReadsAndWritesAgreeWithTheTrace) {
  const std::string path = write_trace("io.pcap", session(10, 100000, 50000));
  const Replayed r = replay_file(path, ReplayMode::kTimed);
  EXPECT_EQ(r.report["commands_replayed"], 10);
  EXPECT_EQ(r.report["commands_compared"], 10);
  EXPECT_EQ(r.report["mismatches"]["count"], 0) << r.report["mismatches"].dump();
  EXPECT_EQ(r.report["sim_timeouts"], 0);
  EXPECT_GT(r.report["latency_us"]["simulation"]["p50"].get<double>(), 0.0);
  EXPECT_NEAR(r.report["latency_us"]["trace"]["p50"].get<double>(), 50.0, 2.0);
}

TEST(Replay, AMismatchIsDescribed) {
  // The trace says the READ at LBA 0 failed with MEDIUM ERROR; the disk serves it.
  std::vector<Record> recs = session(2, 100000, 50000);
  for (Record& x : recs) {
    fc::FrameHeader h = *fc::decode_frame_header(x.data);
    if (h.r_ctl == fc::rctl::kDeviceDataCommandStatus && h.ox_id == 0x100) {
      x.data = fcp_rsp(kTarget, kInit, 0x100, 0x500, fc::scsi_status::kCheckCondition,
                       Sense{fc::sense_key::kMediumError, 0x11, 0});
    }
  }
  const std::string path = write_trace("mismatch.pcap", recs);
  const Replayed r = replay_file(path, ReplayMode::kFast);
  ASSERT_EQ(r.report["mismatches"]["count"], 1);
  const Json& m = r.report["mismatches"]["first"][0];
  EXPECT_EQ(m["opcode"], "0x28");
  EXPECT_EQ(m["lba"], 0);
  EXPECT_EQ(m["frame"], 5);
  EXPECT_EQ(m["what"],
            "status 0x00 GOOD in the simulation, 0x02 CHECK CONDITION (sense 3/11/00) in the trace")
      << m.dump();
}

TEST(Modes, TimedFollowsTheTraceClockFastAndClosedLoopDoNot) {
  // 20 commands 1 ms apart, 100 us each: about 19 ms of trace.
  const std::string path = write_trace("paced.pcap", session(20, 1000000, 100000));
  const Replayed timed = replay_file(path, ReplayMode::kTimed);
  const Replayed fast = replay_file(path, ReplayMode::kFast);
  const Replayed closed = replay_file(path, ReplayMode::kClosedLoop);
  for (const Replayed* r : {&timed, &fast, &closed})
    EXPECT_EQ(r->report["mismatches"]["count"], 0) << r->report["mismatches"].dump();
  EXPECT_GE(timed.result.duration_ns, 19 * kNsPerMs);
  EXPECT_LT(fast.result.duration_ns, 5 * kNsPerMs);
  EXPECT_LT(closed.result.duration_ns, 5 * kNsPerMs);
  EXPECT_LT(timed.result.duration_ns, 21 * kNsPerMs);
}

TEST(Modes, FastKeepsTheTraceConcurrencyClosedLoopRunsOneAtATime) {
  // A command every 10 us, each 200 us: up to 20 in flight in the trace.
  const std::string path = write_trace("deep.pcap", session(40, 10000, 200000));
  auto reader = trace::TraceReader::open(path);
  ASSERT_TRUE(reader.ok());
  const auto depth = trace_concurrency(extract_commands(**reader));
  ASSERT_EQ(depth.size(), 1u);
  EXPECT_EQ(depth.begin()->second, 20u);
  const Replayed fast = replay_file(path, ReplayMode::kFast);
  const Replayed closed = replay_file(path, ReplayMode::kClosedLoop);
  EXPECT_EQ(fast.report["mismatches"]["count"], 0);
  EXPECT_EQ(closed.report["mismatches"]["count"], 0);
  // One at a time, 40 disk round trips; in parallel, a few.
  EXPECT_GT(closed.result.duration_ns, 3 * fast.result.duration_ns);
  // Closed loop: each command starts after the previous one ended.
  for (size_t i = 1; i < closed.result.outcomes.size(); ++i) {
    const CommandOutcome& a = closed.result.outcomes[i - 1];
    EXPECT_GE(closed.result.outcomes[i].issued_at, a.issued_at + a.latency_ns) << i;
  }
}

TEST(BadInput, TruncatedFileReplaysWhatWasRead) {
  const std::vector<Record> recs = session(6, 100000, 50000);
  const std::string whole = write_trace("whole.pcap", recs);
  const Bytes file = slurp(whole);
  // Cut the last record in the middle: the file ends inside frame recs.size().
  const std::string path = temp_path("cut.pcap");
  spill(path, Bytes(file.begin(), file.end() - 10));
  const Replayed r = replay_file(path, ReplayMode::kFast);
  EXPECT_TRUE(has_problem(r.report, recs.size(), "capture file cut short"))
      << r.report["problems"].dump();
  EXPECT_EQ(r.report["skipped"]["truncated_file"], 1);
  EXPECT_FALSE(r.report["read_error"].is_null());
  // The last command lost its FCP_RSP: replayed, not compared.
  EXPECT_EQ(r.report["commands_replayed"], 6);
  EXPECT_EQ(r.report["unanswered_in_trace"], 1);
  EXPECT_EQ(r.report["mismatches"]["count"], 0);
}

TEST(BadInput, CorruptFramesAreReportedAndSkipped) {
  std::vector<Record> recs = session(4, 100000, 50000);
  // Frame 7: too short for an FC header. Frame 8 (in 225): a bad CRC.
  recs.insert(recs.begin() + 6, Record{recs[5].time_ns + 1, Bytes(20, 0x22), 0});
  std::vector<Record> delimited;
  for (size_t i = 0; i < recs.size(); ++i) {
    delimited.push_back(recs[i]);
    if (i != 6) delimited.back().data = wrap_225(recs[i].data, kSofI3, kEofTPos, i == 7 ? 1 : 0);
  }
  const std::string path = write_trace("corrupt.pcap", delimited, 225);
  const Replayed r = replay_file(path, ReplayMode::kFast);
  EXPECT_TRUE(has_problem(r.report, 7, "shorter than an FC header")) << r.report["problems"].dump();
  EXPECT_TRUE(has_problem(r.report, 8, "CRC")) << r.report["problems"].dump();
  EXPECT_EQ(r.report["skipped"]["short_frames"], 1);
  EXPECT_EQ(r.report["commands_replayed"], 4);
  EXPECT_EQ(r.report["mismatches"]["count"], 0) << r.report["mismatches"].dump();
}

TEST(BadInput, ExchangeMissingItsCommandIsCountedAndTheRestReplayed) {
  std::vector<Record> recs = session(3, 100000, 50000);
  // Data and status of a READ whose FCP_CMND is not in the trace, as frames 5 and 6.
  const uint64_t t = recs[4].time_ns;
  recs.insert(recs.begin() + 4,
              {Record{t, fcp_data(kTarget, kInit, true, 0x7777, 0x9999, 0, 512, true), 0},
               Record{t, fcp_rsp(kTarget, kInit, 0x7777, 0x9999, fc::scsi_status::kGood), 0}});
  const std::string path = write_trace("orphan.pcap", recs);
  const Replayed r = replay_file(path, ReplayMode::kTimed);
  EXPECT_TRUE(has_problem(r.report, 5, "exchange missing its command"))
      << r.report["problems"].dump();
  EXPECT_TRUE(has_problem(r.report, 6, "exchange missing its command"));
  EXPECT_EQ(r.report["skipped"]["missing_command"], 2);
  EXPECT_EQ(r.report["commands_replayed"], 3);
  EXPECT_EQ(r.report["mismatches"]["count"], 0) << r.report["mismatches"].dump();
}

TEST(BadInput, UnknownLinkTypeIsRefusedNamingIt) {
  const std::string path = write_trace("ipv4.pcap", records({Bytes(40, 0x45)}), 228);
  auto reader = trace::TraceReader::open(path);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(std::string(reader.status().message()).find("228"), std::string::npos);
}

// A virtual volume on disk0 presented as LUN 0 of vt0; the trace's target
// (01.02.00, WWPN 50:00:00:00:00:00:00:01 in the trace) is mapped onto vt0 and
// the trace's initiator onto host0 by WWPN.
const char* const kVirtualTopology = R"yaml(
switches:
  - {name: sw0, domain: 1, ports: 8}
disks:
  - {name: disk0, wwpn: "50:00:00:00:00:00:01:00", port: sw0:4, luns: [{lun: 0, size: 1GiB}]}
hosts:
  - {name: host0, wwpn: "10:00:00:00:00:00:00:01", port: sw0:0}
volumes:
  - name: vol0
    switch: sw0
    vsegs: [{disk: disk0, lun: 0, lba: 0, blocks: 1048576}]
virtual_targets:
  - name: vt0
    switch: sw0
    wwpn: "50:00:00:00:00:00:10:00"
    luns: [{lun: 0, volume: vol0}]
zones:
  - {name: z0, members: [host0, vt0]}
replay:
  targets:
    - {trace: "01.02.00", target: vt0}
)yaml";

TEST(Mapping, TraceTargetBecomesAVirtualVolumeBehindTheFp) {
  const std::string path = write_trace("virtual.pcap", session(12, 100000, 50000));
  const Replayed r = replay_file(path, ReplayMode::kFast, kVirtualTopology);
  EXPECT_EQ(r.plan.hosts.at(kInit.value), "host0");
  EXPECT_EQ(r.plan.targets.at(kTarget.value).name, "vt0");
  EXPECT_EQ(r.report["commands_replayed"], 12);
  EXPECT_EQ(r.report["mismatches"]["count"], 0) << r.report["mismatches"].dump();
  ASSERT_EQ(r.report["switches"].size(), 1u);
  const Json& v = r.report["switches"][0]["virtualization"];
  // Every replayed READ and WRITE is an FP hit; the CP answers only the host's
  // own discovery (REPORT LUNS, READ CAPACITY).
  EXPECT_EQ(v["fp_hits"].get<uint64_t>(), 12u) << v.dump();
  EXPECT_EQ(v["cp_completed"].get<uint64_t>(), 2u) << v.dump();
}

TEST(Mapping, LunMapAndUnmappedPortsAreNoted) {
  std::string yaml = kVirtualTopology;
  // Trace LUN 0 goes to LUN 5 of vt0, which does not exist: every command fails
  // there with CHECK CONDITION, ILLEGAL REQUEST (a mismatch each).
  yaml.replace(yaml.find("target: vt0}"), 12, "target: vt0, luns: [{trace: 0, lun: 5}]}");
  const std::string path = write_trace("lunmap.pcap", session(2, 100000, 50000));
  const Replayed r = replay_file(path, ReplayMode::kFast, yaml);
  EXPECT_EQ(r.plan.targets.at(kTarget.value).lun(0), 5);
  EXPECT_EQ(r.report["mismatches"]["count"], 2) << r.report["mismatches"].dump();

  // Without the replay section the target's WWPN matches nothing: not replayed.
  std::string unmapped = kVirtualTopology;
  unmapped.erase(unmapped.find("replay:"));
  const Replayed u = replay_file(path, ReplayMode::kFast, unmapped);
  EXPECT_EQ(u.report["commands_replayed"], 0);
  EXPECT_EQ(u.report["skipped"]["commands"], 2);
  ASSERT_EQ(u.report["notes"].size(), 1u);
  EXPECT_NE(u.report["notes"][0].get<std::string>().find("target 01.02.00"), std::string::npos);
}

TEST(Mapping, ReplaySectionErrorsNameTheLine) {
  std::string yaml = kVirtualTopology;
  yaml.replace(yaml.find("target: vt0}"), 12, "target: nosuch}");
  auto t = parse_topology_yaml(yaml, "m.yaml");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(std::string(t.status().message()).find("m.yaml:21"), std::string::npos)
      << t.status().message();
  EXPECT_NE(std::string(t.status().message()).find("no disk or virtual target named 'nosuch'"),
            std::string::npos);
  std::string bad = kVirtualTopology;
  bad.replace(bad.find("\"01.02.00\""), 10, "\"01-02-00\"");
  auto b = parse_topology_yaml(bad, "m.yaml");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(std::string(b.status().message()).find("N_Port ID"), std::string::npos)
      << b.status().message();
  std::string by_hex = kVirtualTopology;
  by_hex.replace(by_hex.find("\"01.02.00\""), 10, "\"0x010200\"");
  auto h = parse_topology_yaml(by_hex, "m.yaml");
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->replay.targets[0].trace, (TraceAddress{false, 0x010200}));
}

}  // namespace
}  // namespace splitpath::sim::replay
