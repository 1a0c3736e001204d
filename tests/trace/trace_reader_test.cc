// The trace reader on the real captures in ../shared/captures (facts from
// PROVENANCE.md), on every encapsulation of the same frames, and on bad input:
// each problem is reported with its frame number and reason, and reading goes on.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "fabric_sim/trace/decode_report.h"
#include "fabric_sim/trace/trace_reader.h"
#include "tests/trace/trace_test_util.h"

namespace splitpath::sim::trace {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)
using Json = nlohmann::ordered_json;

std::string real(const char* name) {
  return (captures_dir() / name).string();
}

#define SKIP_IF_MISSING(path) \
  if (!std::filesystem::exists(path)) GTEST_SKIP() << (path) << " is missing"

size_t count_kind(const Json& report, const std::string& kind) {
  size_t n = 0;
  for (const auto& f : report["frames"])
    n += f["kind"] == kind;
  return n;
}

// Frame objects without what the link layer adds, to compare encapsulations.
Json without_link(Json frames) {
  for (auto& f : frames) {
    for (const char* k : {"sof", "eof", "crc", "vlan", "fip"})
      f.erase(k);
  }
  return frames;
}

// The problems of a report as frame -> reasons.
std::multimap<uint64_t, std::string> problems_of(const Json& report) {
  std::multimap<uint64_t, std::string> m;
  for (const auto& p : report["problems"])
    m.emplace(p["frame"].get<uint64_t>(), p["reason"].get<std::string>());
  return m;
}

bool has_problem(const Json& report, uint64_t frame, const std::string& text) {
  for (const auto& [n, reason] : problems_of(report)) {
    if (n == frame && reason.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(RealCaptures, BluecmdFc2) {
  const std::string path = real("bluecmd-fc2-real-frames.pcap");
  SKIP_IF_MISSING(path);
  const Json r = decode_file(path);
  EXPECT_EQ(r["link_type"], 224);
  ASSERT_EQ(r["frames"].size(), 135u);
  EXPECT_EQ(count_kind(r, "FCP_CMND"), 116u);
  EXPECT_EQ(count_kind(r, "FCP_DATA"), 17u);
  EXPECT_EQ(count_kind(r, "ELS"), 2u);
  EXPECT_TRUE(r["problems"].empty()) << r["problems"].dump();
  for (const auto& f : r["frames"]) {
    EXPECT_EQ(f["s_id"], "02.0f.00");
    EXPECT_EQ(f["d_id"], "01.00.00");
  }
  ASSERT_EQ(r["summary"].size(), 1u);
  const Json& itl = r["summary"][0];
  EXPECT_EQ(itl["initiator"], "02.0f.00");
  EXPECT_EQ(itl["target"], "01.00.00");
  EXPECT_EQ(itl["lun"], 0);
  EXPECT_EQ(itl["commands"], 116);
  EXPECT_EQ(itl["reads"], 55);
  EXPECT_EQ(itl["writes"], 52);
  EXPECT_EQ(itl["other"], 9);  // 6 WRITE SAME(10), 2 TEST UNIT READY, 1 REPORT LUNS
  // Only the initiator's side was captured: no command has its response.
  EXPECT_EQ(itl["incomplete"], 116);
  // The first READ(10).
  const Json& f3 = r["frames"][2];
  EXPECT_EQ(f3["opcode"], "0x28");
  EXPECT_EQ(f3["lba"], 16777088);
  EXPECT_EQ(f3["length"], 8);
  EXPECT_EQ(f3["fcp_dl"], 4096);
  // WRITE SAME(10) decodes like the READ/WRITEs: its range, one block of data.
  size_t write_same = 0;
  for (const auto& f : r["frames"]) {
    if (f.value("opcode", "") != "0x41") continue;
    ++write_same;
    EXPECT_TRUE(f.contains("lba")) << f.dump();
    EXPECT_TRUE(f.contains("length")) << f.dump();
    EXPECT_FALSE(f.contains("cdb_error")) << f.dump();
    EXPECT_EQ(f["fcp_dl"], 512);
  }
  EXPECT_EQ(write_same, 6u);
}

TEST(RealCaptures, BluecmdDelimitedDecodesLikeFc2) {
  const std::string fc2 = real("bluecmd-fc2-real-frames.pcap");
  const std::string delims = real("bluecmd-fc2delims-real-frames.pcap");
  SKIP_IF_MISSING(fc2);
  SKIP_IF_MISSING(delims);
  const Json a = decode_file(fc2);
  const Json b = decode_file(delims);
  EXPECT_EQ(b["link_type"], 225);
  ASSERT_EQ(b["frames"].size(), 135u);
  std::map<std::string, int> eofs;
  for (const auto& f : b["frames"]) {
    EXPECT_EQ(f["crc"], "good");
    EXPECT_EQ(f["sof"], "SOFi3");
    ++eofs[f["eof"].get<std::string>()];
  }
  EXPECT_EQ(eofs["EOFt+"], 118);
  EXPECT_EQ(eofs["EOFn+"], 17);
  EXPECT_EQ(without_link(a["frames"]), without_link(b["frames"]));
  for (const char* k : {"exchanges", "summary", "problems", "skipped"})
    EXPECT_EQ(a[k], b[k]) << k;
}

TEST(RealCaptures, FikonfarmMergedConversation) {
  const std::string path = real("fikonfarm-fcoe1-merged.pcap");
  SKIP_IF_MISSING(path);
  const Json r = decode_file(path);
  EXPECT_EQ(r["link_type"], 1);
  EXPECT_EQ(r["totals"]["frames"], 247);
  // 227 FCoE frames and 4 FLOGI / ACC carried by FIP; 16 other FIP frames skipped.
  EXPECT_EQ(r["totals"]["fc_frames"], 231);
  EXPECT_EQ(r["skipped"]["fip"], 16);
  EXPECT_EQ(r["skipped"]["missing_command"], 0);
  EXPECT_TRUE(r["problems"].empty()) << r["problems"].dump();
  EXPECT_EQ(r["totals"]["bad_crc"], 0);
  size_t via_fip = 0;
  for (const auto& f : r["frames"]) {
    EXPECT_EQ(f["vlan"], 923);
    if (f.value("fip", false)) {
      ++via_fip;
      EXPECT_FALSE(f.contains("crc"));
    } else {
      EXPECT_EQ(f["crc"], "good");
    }
  }
  EXPECT_EQ(via_fip, 4u);
  // Frame 4 is the FLOGI from 00.00.00; frame 5 its ACC to the new address 01.0e.01.
  const Json& flogi = r["frames"][0];
  EXPECT_EQ(flogi["number"], 4);
  EXPECT_EQ(flogi["s_id"], "00.00.00");
  EXPECT_EQ(flogi["els"], "0x04");
  EXPECT_EQ(r["frames"][1]["exchange"], flogi["exchange"]);
  EXPECT_EQ(r["frames"][1]["request"], "0x04");
  EXPECT_EQ(r["exchanges"], 95);
  EXPECT_EQ(r["totals"]["exchange_states"]["complete"], 93);
  EXPECT_EQ(r["totals"]["exchange_states"]["open"], 2);  // two ADISCs, unanswered
  EXPECT_EQ(r["totals"]["exchanges"]["fcp"], 47);
  EXPECT_EQ(r["totals"]["errors"], 4);
  ASSERT_EQ(r["summary"].size(), 2u);
  EXPECT_EQ(r["summary"][0]["target"], "01.06.00");
  EXPECT_EQ(r["summary"][0]["commands"], 33);
  EXPECT_EQ(r["summary"][1]["target"], "01.08.00");
  EXPECT_EQ(r["summary"][1]["commands"], 14);
  // Frame 55: CHECK CONDITION, UNIT ATTENTION, POWER ON RESET (29/00).
  bool found = false;
  for (const auto& f : r["frames"]) {
    if (f["number"] != 55) continue;
    found = true;
    EXPECT_EQ(f["kind"], "FCP_RSP");
    EXPECT_EQ(f["status"], "0x02");
    EXPECT_EQ(f["sense_key"], "0x06");
    EXPECT_EQ(f["asc"], "0x29");
    EXPECT_EQ(f["ascq"], "0x00");
    EXPECT_GT(f["latency_ns"].get<uint64_t>(), 0u);
  }
  EXPECT_TRUE(found);
}

TEST(RealCaptures, FikonfarmOneSidedCaptures) {
  const std::string fabric = real("fikonfarm-fcoe1-fabric.pcap");
  const std::string init = real("fikonfarm-fcoe1-init.pcap");
  SKIP_IF_MISSING(fabric);
  SKIP_IF_MISSING(init);
  const Json f = decode_file(fabric);
  EXPECT_EQ(f["totals"]["frames"], 147);
  EXPECT_EQ(f["totals"]["fc_frames"], 138);
  EXPECT_EQ(f["skipped"]["fip"], 9);
  // The forwarder's side holds the replies, whose requests are in the other file:
  // each is an exchange missing its command, reported with its frame number.
  const uint64_t orphans = f["skipped"]["missing_command"].get<uint64_t>();
  EXPECT_EQ(orphans, 130u);
  EXPECT_EQ(f["problems"].size(), orphans);
  EXPECT_TRUE(has_problem(f, 26, "exchange missing its command: FCP_DATA"));
  // CHECK CONDITION is present in the fabric's side.
  size_t check_conditions = 0;
  for (const auto& fr : f["frames"]) {
    if (fr.value("status", "") == "0x02") {
      ++check_conditions;
      EXPECT_EQ(fr["sense_key"], "0x06");
    }
  }
  EXPECT_EQ(check_conditions, 4u);

  const Json i = decode_file(init);
  EXPECT_EQ(i["totals"]["frames"], 100);
  EXPECT_EQ(i["totals"]["fc_frames"], 93);
  EXPECT_EQ(i["skipped"]["fip"], 7);
  EXPECT_EQ(i["totals"]["commands"], 47);
  EXPECT_EQ(i["totals"]["incomplete"], 47);
  // The host's LS_RJTs answer PLOGI/LOGO requests captured only on the other side.
  EXPECT_EQ(i["skipped"]["missing_command"], 6);
}

// The sample session in every encapsulation and both file formats decodes to the
// same frames and results.
TEST(Encapsulations, SameFramesDecodeIdentically) {
  const std::vector<Bytes> frames = sample_session();
  std::vector<Bytes> d225, fcoe, fcoe_fcs, fcoe_qinq;
  for (const Bytes& f : frames) {
    d225.push_back(wrap_225(f));
    fcoe.push_back(wrap_fcoe(f));
    fcoe_fcs.push_back(wrap_fcoe(f, {}, 0, true));
    fcoe_qinq.push_back(wrap_fcoe(f, {100, 923}));
  }
  const std::string p224 = temp_path("enc224.pcap");
  const std::string p225 = temp_path("enc225.pcap");
  const std::string pfcoe = temp_path("encfcoe.pcap");
  const std::string pfcs = temp_path("encfcs.pcap");
  const std::string pqinq = temp_path("encqinq.pcap");
  const std::string png = temp_path("enc224.pcapng");
  ASSERT_TRUE(write_pcap(p224, 224, records(frames)));
  ASSERT_TRUE(write_pcap(p225, 225, records(d225)));
  ASSERT_TRUE(write_pcap(pfcoe, 1, records(fcoe)));
  ASSERT_TRUE(write_pcap(pfcs, 1, records(fcoe_fcs)));
  ASSERT_TRUE(write_pcap(pqinq, 1, records(fcoe_qinq)));
  spill(png, pcapng_bytes(224, records(frames)));

  const Json base = decode_file(p224);
  ASSERT_EQ(base["frames"].size(), frames.size());
  EXPECT_TRUE(base["problems"].empty()) << base["problems"].dump();
  for (const std::string& path : {p225, pfcoe, pfcs, pqinq, png}) {
    SCOPED_TRACE(path);
    const Json r = decode_file(path);
    EXPECT_EQ(without_link(r["frames"]), without_link(base["frames"]));
    for (const char* k : {"exchanges", "summary", "problems", "skipped"})
      EXPECT_EQ(r[k], base[k]) << k;
  }
  const Json qinq = decode_file(pqinq);
  EXPECT_EQ(qinq["frames"][0]["vlan"], 923);  // the innermost tag
  const Json fcs = decode_file(pfcs);
  EXPECT_EQ(fcs["frames"][0]["crc"], "good");
  EXPECT_FALSE(fcs["frames"][0].contains("vlan"));
  const Json ng = decode_file(png);
  EXPECT_EQ(ng["frames"][3]["time_ns"], base["frames"][3]["time_ns"]);
}

TEST(Encapsulations, FlogiInsideFip) {
  const std::vector<Bytes> s = sample_session();
  std::vector<Bytes> frames = {
      ethernet(0x8914, {0x10, 0, 0, 1, 0, 1, 0, 0, 0, 0}),  // FIP discovery solicitation
      wrap_fip_flogi(s[0], false), wrap_fip_flogi(s[1], true), wrap_fcoe(s[2])};
  const std::string path = temp_path("fip.pcap");
  ASSERT_TRUE(write_pcap(path, 1, records(frames)));
  const Json r = decode_file(path);
  ASSERT_EQ(r["frames"].size(), 3u);
  EXPECT_EQ(r["skipped"]["fip"], 1);
  EXPECT_EQ(r["frames"][0]["number"], 2);
  EXPECT_EQ(r["frames"][0]["fip"], true);
  EXPECT_EQ(r["frames"][0]["els"], "0x04");
  EXPECT_EQ(r["frames"][1]["request"], "0x04");
  EXPECT_EQ(r["totals"]["exchange_states"]["complete"], 1);
  EXPECT_TRUE(r["problems"].empty()) << r["problems"].dump();
}

// ---------------------------------------------------------------- bad input

TEST(BadInput, UnknownLinkTypeNamesFileAndLinkType) {
  const std::string path = temp_path("ipv4.pcap");
  ASSERT_TRUE(write_pcap(path, 228, records({Bytes(40, 0x45)})));
  auto r = TraceReader::open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("link type 228"), std::string::npos) << msg;
  EXPECT_NE(msg.find("IPV4"), std::string::npos) << msg;
}

TEST(BadInput, NotACaptureNamesFile) {
  const std::string text = temp_path("notes.txt");
  spill(text, Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n', 0,
                    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0});
  for (const std::string& path : {text, std::string("/nonexistent/trace.pcap")}) {
    auto r = TraceReader::open(path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_NE(std::string(r.status().message()).find(path), std::string::npos)
        << r.status().message();
  }
}

TEST(BadInput, TruncatedFileKeepsWhatWasRead) {
  const std::vector<Bytes> frames = sample_session();
  const std::string whole = temp_path("whole.pcap");
  ASSERT_TRUE(write_pcap(whole, 224, records(frames)));
  const Bytes file = slurp(whole);
  // Records 1..9 whole, record 10 cut in the middle of its data.
  size_t off = 24;
  for (size_t i = 0; i < 9; ++i)
    off += 16 + frames[i].size();
  const size_t cut_data = off + 16 + frames[9].size() / 2;
  const size_t cut_header = off + 7;
  for (size_t cut : {cut_data, cut_header}) {
    SCOPED_TRACE(cut);
    const std::string path = temp_path("cut.pcap");
    spill(path, Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(cut)));
    auto reader = TraceReader::open(path);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    const Json r = decode_json(**reader, DecodeOptions{});
    EXPECT_EQ(r["frames"].size(), 9u);
    EXPECT_EQ(r["skipped"]["truncated_file"], 1);
    EXPECT_TRUE(has_problem(r, 10, "capture file cut short")) << r["problems"].dump();
    const std::string err = r["read_error"].get<std::string>();
    EXPECT_NE(err.find(path), std::string::npos) << err;
    EXPECT_NE(err.find("frame 10"), std::string::npos) << err;
    EXPECT_EQ((*reader)->read_error().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(BadInput, ShortAndCutFrames) {
  const std::vector<Bytes> s = sample_session();
  std::vector<Record> recs = records({s[0], Bytes(20, 0x22), s[1], s[2]});
  recs[3].orig_len = static_cast<uint32_t>(recs[3].data.size());
  recs[3].data.resize(40);  // captured 40 bytes of a PLOGI: header and a bit
  const std::string path = temp_path("short.pcap");
  ASSERT_TRUE(write_pcap(path, 224, recs));
  const Json r = decode_file(path);
  ASSERT_EQ(r["frames"].size(), 3u);
  EXPECT_TRUE(has_problem(r, 2, "frame shorter than an FC header: 20 bytes"))
      << r["problems"].dump();
  EXPECT_TRUE(has_problem(r, 4, "capture record cut: 40 of 140 bytes captured"))
      << r["problems"].dump();
  EXPECT_EQ(r["skipped"]["short_frames"], 1);
  // The cut PLOGI still shows its header and command code; FLOGI and ACC pair up.
  EXPECT_EQ(r["frames"][2]["els"], "0x03");
  EXPECT_EQ(r["frames"][1]["exchange"], r["frames"][0]["exchange"]);

  // The same in 225 and FCoE: too short for SOF + header + CRC + EOF.
  const std::string p225 = temp_path("short225.pcap");
  ASSERT_TRUE(write_pcap(p225, 225, records({wrap_225(s[0]), Bytes(30, 0xBC)})));
  EXPECT_TRUE(has_problem(decode_file(p225), 2, "frame shorter than an FC header"));
  const std::string pfcoe = temp_path("shortfcoe.pcap");
  ASSERT_TRUE(write_pcap(pfcoe, 1, records({ethernet(0x8906, Bytes(30, 0)), Bytes(10, 0)})));
  const Json rf = decode_file(pfcoe);
  EXPECT_TRUE(has_problem(rf, 1, "frame shorter than an FC header")) << rf["problems"].dump();
  EXPECT_TRUE(has_problem(rf, 2, "Ethernet frame shorter than its header"))
      << rf["problems"].dump();
  EXPECT_EQ(rf["skipped"]["short_frames"], 2);
}

TEST(BadInput, BadCrcIsReportedAndTheFrameDecoded) {
  const std::vector<Bytes> s = sample_session();
  const std::string pfcoe = temp_path("badcrc.pcap");
  ASSERT_TRUE(write_pcap(pfcoe, 1, records({wrap_fcoe(s[0]), wrap_fcoe(s[1], {923}, 0x1)})));
  const Json r = decode_file(pfcoe);
  ASSERT_EQ(r["frames"].size(), 2u);
  EXPECT_EQ(r["frames"][1]["crc"], "bad");
  EXPECT_EQ(r["frames"][1]["request"], "0x04");  // still decoded and paired
  EXPECT_EQ(r["totals"]["bad_crc"], 1);
  EXPECT_TRUE(has_problem(r, 2, "bad CRC")) << r["problems"].dump();
  EXPECT_EQ(r["problems"].size(), 1u);

  const std::string p225 = temp_path("badcrc225.pcap");
  ASSERT_TRUE(write_pcap(
      p225, 225, records({wrap_225(s[0], 0xBCB51234), wrap_225(s[1], kSofI3, kEofTPos, 1)})));
  const Json r2 = decode_file(p225);
  ASSERT_EQ(r2["frames"].size(), 2u);
  EXPECT_TRUE(has_problem(r2, 1, "unknown SOF delimiter 0xbcb51234")) << r2["problems"].dump();
  EXPECT_TRUE(has_problem(r2, 2, "bad CRC")) << r2["problems"].dump();
  EXPECT_EQ(r2["frames"][1]["crc"], "bad");
}

TEST(BadInput, NonFcoeEthernetIsSkippedAndCounted) {
  const std::vector<Bytes> s = sample_session();
  const std::vector<Bytes> frames = {
      ethernet(0x0800, Bytes(46, 0x45), {}),                // IPv4
      ethernet(0x0806, Bytes(28, 0x01)),                    // ARP, tagged
      ethernet(0x8914, {0x10, 0, 0, 4, 0, 1, 0, 0, 0, 0}),  // FIP VLAN request
      wrap_fcoe(s[0]),
      ethernet(0x88CC, Bytes(30, 0x02), {}),  // LLDP
      wrap_fcoe(s[1]),
      ethernet(0x8906, Bytes(60, 0x10)),  // FCoE version 1
  };
  const std::string path = temp_path("mixed.pcap");
  ASSERT_TRUE(write_pcap(path, 1, records(frames)));
  const Json r = decode_file(path);
  ASSERT_EQ(r["frames"].size(), 2u);
  EXPECT_EQ(r["frames"][0]["number"], 4);
  EXPECT_EQ(r["frames"][1]["number"], 6);
  EXPECT_EQ(r["skipped"]["other_ethertype"], 3);
  EXPECT_EQ(r["skipped"]["fip"], 1);
  EXPECT_EQ(r["skipped"]["bad_encapsulation"], 1);
  // Only the FCoE frame with an unknown version is a problem.
  ASSERT_EQ(r["problems"].size(), 1u);
  EXPECT_TRUE(has_problem(r, 7, "unsupported FCoE version 1"));
  EXPECT_EQ(r["totals"]["exchange_states"]["complete"], 1);
}

TEST(BadInput, StreamReaderReadsMemory) {
  const std::string path = temp_path("mem.pcap");
  ASSERT_TRUE(write_pcap(path, 224, records(sample_session())));
  Bytes file = slurp(path);
  FILE* f = fmemopen(file.data(), file.size(), "rb");
  ASSERT_NE(f, nullptr);
  auto reader = TraceReader::open_stream(f, "memory");
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  TraceFrame frame;
  size_t n = 0;
  while ((*reader)->next(frame))
    ++n;
  EXPECT_EQ(n, sample_session().size());
  EXPECT_TRUE((*reader)->read_error().ok());
  // Garbage: the stream is closed and the message names it.
  Bytes junk(64, 0x77);
  FILE* g = fmemopen(junk.data(), junk.size(), "rb");
  auto bad = TraceReader::open_stream(g, "junk-input");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("junk-input"), std::string::npos);
}

}  // namespace
}  // namespace splitpath::sim::trace
