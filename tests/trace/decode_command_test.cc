// `splitpath decode` end to end: exit statuses and messages, the JSON report of a
// capture written by `splitpath run` against that run's own figures, and a
// field-by-field cross-check against tshark on the real captures in
// ../shared/captures, a `splitpath run` capture and the hand-built sample session
// in all three encapsulations.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/support/run_command.h"
#include "tests/trace/trace_test_util.h"

namespace splitpath::sim::trace {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)
using Json = nlohmann::json;

using splitpath::testing::Command;

Command run(const std::string& command, bool with_stderr = true) {
  return splitpath::testing::run_command(command, with_stderr);
}

const std::string kSplitpath = SPLITPATH_BINARY;

Json decode_cli(const std::string& path) {
  Command c = run(kSplitpath + " decode --json '" + path + "'", false);
  EXPECT_EQ(c.status, 0) << path;
  Json j = Json::parse(c.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << c.out.substr(0, 500);
  return j;
}

TEST(DecodeCommand, UsageErrorsExitTwo) {
  for (const char* args : {"", "a.pcap b.pcap", "--limit banana x.pcap",
                           "--frames --no-frames x.pcap", "--bogus x.pcap"}) {
    Command c = run(kSplitpath + " decode " + args);
    EXPECT_EQ(c.status, 2) << args << ": " << c.out;
    EXPECT_NE(c.out.find("usage: splitpath decode"), std::string::npos) << c.out;
  }
  Command help = run(kSplitpath + " decode --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--no-frames"), std::string::npos);
}

TEST(DecodeCommand, UnreadableFilesExitTwoNamingThem) {
  Command missing = run(kSplitpath + " decode /nonexistent/customer.pcap");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.out.find("/nonexistent/customer.pcap"), std::string::npos) << missing.out;

  const std::string ipv4 = temp_path("cli_ipv4.pcap");
  ASSERT_TRUE(write_pcap(ipv4, 228, records({Bytes(40, 0x45)})));
  Command link = run(kSplitpath + " decode --json " + ipv4);
  EXPECT_EQ(link.status, 2);
  EXPECT_NE(link.out.find(ipv4), std::string::npos) << link.out;
  EXPECT_NE(link.out.find("link type 228"), std::string::npos) << link.out;

  const std::string text = temp_path("cli_text.pcap");
  spill(text, Bytes(100, 'x'));
  Command junk = run(kSplitpath + " decode " + text);
  EXPECT_EQ(junk.status, 2);
  EXPECT_NE(junk.out.find(text), std::string::npos) << junk.out;
}

TEST(DecodeCommand, TruncatedFileIsDecodedUpToTheCut) {
  const std::vector<Bytes> frames = sample_session();
  const std::string whole = temp_path("cli_whole.pcap");
  ASSERT_TRUE(write_pcap(whole, 224, records(frames)));
  Bytes file = slurp(whole);
  file.resize(file.size() - frames.back().size() / 2);
  const std::string cut = temp_path("cli_cut.pcap");
  spill(cut, file);
  Command c = run(kSplitpath + " decode --json " + cut, false);
  ASSERT_EQ(c.status, 0) << c.out;
  const Json j = Json::parse(c.out);
  EXPECT_EQ(j["frames"].size(), frames.size() - 1);
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["frame"], frames.size());
  EXPECT_NE(j["problems"][0]["reason"].get<std::string>().find("cut short"), std::string::npos);
  Command warn = run(kSplitpath + " decode --no-frames " + cut);
  EXPECT_EQ(warn.status, 0);
  EXPECT_NE(warn.out.find("frame " + std::to_string(frames.size())), std::string::npos) << warn.out;
}

TEST(DecodeCommand, JsonSchemaAndListingOptions) {
  const std::string path = temp_path("cli_sample.pcap");
  ASSERT_TRUE(write_pcap(path, 224, records(sample_session())));
  const Json j = decode_cli(path);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items())
    keys.push_back(k);
  // nlohmann::json sorts keys; the order on the wire is checked below on the raw text.
  for (const char* k : {"file", "link_type", "link_type_name", "frames", "exchanges", "summary",
                        "totals", "problems", "skipped", "read_error"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  const std::string raw = run(kSplitpath + " decode --json " + path, false).out;
  EXPECT_EQ(raw.rfind("{\"file\":", 0), 0u) << raw.substr(0, 100);
  EXPECT_LT(raw.find("\"frames\":"), raw.find("\"exchanges\":"));
  EXPECT_LT(raw.find("\"summary\":"), raw.find("\"problems\":"));
  const Json& f = j["frames"][13];
  for (const char* k : {"number", "time_ns", "s_id", "d_id", "r_ctl", "type", "ox_id", "rx_id",
                        "kind", "opcode", "lba", "length", "fcp_dl"}) {
    EXPECT_TRUE(f.contains(k)) << k << " in " << f.dump();
  }
  EXPECT_EQ(j["exchanges"], j["totals"]["exchange_states"]["complete"].get<int>() + 1);

  Command limited = run(kSplitpath + " decode --limit 3 " + path);
  EXPECT_EQ(limited.status, 0);
  size_t lines = 0;
  std::istringstream in(limited.out);
  for (std::string line; std::getline(in, line);)
    lines += line.find(" -> ") != std::string::npos;
  EXPECT_EQ(lines, 3u);
  EXPECT_NE(limited.out.find("initiator"), std::string::npos);
  const Json none = Json::parse(run(kSplitpath + " decode --json --no-frames " + path, false).out);
  EXPECT_TRUE(none["frames"].empty());
  EXPECT_EQ(none["summary"], j["summary"]);
}

// A capture of a whole simulated run: every exchange complete, nothing reported,
// and the counts equal to what the run's own report says.
TEST(DecodeCommand, SplitpathRunCaptureMatchesTheRunReport) {
  const std::string pcap = temp_path("run.pcap");
  Command sim = run(kSplitpath + " run --seed 7 --duration 0.002 --json --pcap " + pcap, false);
  ASSERT_EQ(sim.status, 0) << sim.out.substr(0, 500);
  const Json report = Json::parse(sim.out);
  const Json j = decode_cli(pcap);
  EXPECT_TRUE(j["problems"].empty()) << j["problems"].dump().substr(0, 1000);
  EXPECT_EQ(j["totals"]["frames"], report["captured_frames"]);
  EXPECT_EQ(j["totals"]["fc_frames"], report["captured_frames"]);
  const Json& states = j["totals"]["exchange_states"];
  EXPECT_EQ(states["open"], 0);
  EXPECT_EQ(states["aborted"], 0);
  EXPECT_EQ(states["superseded"], 0);
  EXPECT_EQ(states["complete"], j["exchanges"]);
  for (const char* k : {"missing_command", "undecoded_headers", "short_frames", "truncated_file"})
    EXPECT_EQ(j["skipped"][k], 0) << k;
  EXPECT_GT(j["totals"]["exchanges"]["els"].get<int>(), 0);  // logins
  EXPECT_GT(j["totals"]["exchanges"]["ct"].get<int>(), 0);   // name server

  // Per target: the decoded commands equal the disk's.
  std::map<std::string, Json> by_target;
  for (const auto& row : j["summary"]) {
    Json& t = by_target[row["target"].get<std::string>()];
    if (t.is_null()) t = Json::object();
    for (const char* k : {"commands", "reads", "writes", "bytes_read", "bytes_written", "errors"})
      t[k] = t.value(k, 0ull) + row[k].get<uint64_t>();
  }
  uint64_t commands = 0;
  for (const auto& disk : report["disks"]) {
    const std::string id = disk["port_id"];
    const std::string target = id.substr(0, 2) + "." + id.substr(2, 2) + "." + id.substr(4, 2);
    SCOPED_TRACE(target);
    if (disk["commands"].get<uint64_t>() == 0) {  // a spare: logins only
      EXPECT_FALSE(by_target.count(target));
      continue;
    }
    ASSERT_TRUE(by_target.count(target));
    const Json& t = by_target[target];
    EXPECT_EQ(t["commands"], disk["commands"]);
    EXPECT_EQ(t["reads"], disk["reads"]);
    EXPECT_EQ(t["writes"], disk["writes"]);
    EXPECT_EQ(t["bytes_read"], disk["bytes_read"]);
    EXPECT_EQ(t["bytes_written"], disk["bytes_written"]);
    EXPECT_EQ(t["errors"], disk["check_conditions"]);
    commands += disk["commands"].get<uint64_t>();
  }
  EXPECT_GT(commands, 100u);
  // The hosts' commands to the virtual target (01.ff.80) are what its FPs saw.
  uint64_t virtual_commands = 0;
  for (const auto& port : report["switches"][0]["virtualization"]["ports"])
    virtual_commands += port["commands"].get<uint64_t>();
  ASSERT_TRUE(by_target.count("01.ff.80"));
  EXPECT_EQ(by_target["01.ff.80"]["commands"], virtual_commands);
  EXPECT_EQ(j["totals"]["commands"], commands + virtual_commands);
}

// ------------------------------------------------------- tshark cross-check

// tshark fields, per the comments in fabric_sim/trace/decode_report.h.
const std::vector<std::string> kTsharkFields = {
    "frame.number",
    "fc.s_id",
    "fc.d_id",
    "fc.ox_id",
    "fc.rx_id",
    "fc.r_ctl",
    "fc.type",
    "scsi_sbc.opcode",
    "scsi_sbc.rdwr6.lba",
    "scsi_sbc.rdwr10.lba",
    "scsi_sbc.rdwr16.lba",
    "scsi_sbc.rdwr6.xferlen",
    "scsi_sbc.rdwr10.xferlen",
    "scsi_sbc.rdwr12.xferlen",
    "scsi.status",
    "fcp.dl",
    "scsi.sns.key",
    "scsi.sns.asc",
    "scsi.sns.ascq",
    "fcels.opcode",
    "fcdns.opcode",
};

// frame number -> field -> value, for the frames tshark prints.
std::map<uint64_t, std::map<std::string, std::string>> tshark_fields(const std::string& path) {
  std::string cmd = "tshark -n -r '" + path + "' -T fields -E separator=, -E occurrence=f";
  for (const std::string& f : kTsharkFields)
    cmd += " -e " + f;
  const Command c = run(cmd, false);
  EXPECT_EQ(c.status, 0) << cmd;
  std::map<uint64_t, std::map<std::string, std::string>> rows;
  std::istringstream in(c.out);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> v;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');)
      v.push_back(cell);
    v.resize(kTsharkFields.size());
    if (v[0].empty() || v[0][0] < '0' || v[0][0] > '9') continue;
    auto& row = rows[std::stoull(v[0])];
    for (size_t i = 1; i < v.size(); ++i)
      row[kTsharkFields[i]] = v[i];
  }
  return rows;
}

struct CrossCheck {
  std::map<std::string, size_t> compared;  // field -> frames where both had it, equal
  std::vector<std::string> mismatches;     // "frame N field: tshark X, splitpath Y"
  size_t codec_gaps = 0;  // tshark has an LBA the CDB codec does not decode (WRITE SAME)
};

// Compares `ours` (splitpath decode --json) with tshark frame by frame. For the
// fields of the cross-check (S_ID, D_ID, OX_ID, RX_ID, R_CTL, TYPE, opcode, LBA,
// length, FCP_DL, status, sense) a value either side has and the other lacks is a
// mismatch, except an LBA of a CDB the project's codec does not decode, which is
// counted. ELS and name-server codes are compared where tshark gives them (it
// leaves some out: RTV, replies it cannot pair).
CrossCheck cross_check(const std::string& path, const Json& ours) {
  CrossCheck r;
  const auto rows = tshark_fields(path);
  std::map<uint64_t, Json> frames;
  for (const auto& f : ours["frames"])
    frames[f["number"].get<uint64_t>()] = f;
  auto compare = [&](uint64_t n, const std::string& name, const std::string& t,
                     const std::optional<std::string>& o, bool both_ways) {
    if (t.empty() && (!o || !both_ways)) return;
    if (!t.empty() && o && t == *o) {
      ++r.compared[name];
      return;
    }
    r.mismatches.push_back("frame " + std::to_string(n) + " " + name + ": tshark '" + t +
                           "', splitpath '" + o.value_or("") + "'");
  };
  auto str = [](const Json& f, const char* k) -> std::optional<std::string> {
    if (!f.contains(k)) return std::nullopt;
    return f[k].is_string() ? f[k].get<std::string>() : f[k].dump();
  };
  for (const auto& [n, t] : rows) {
    const Json f = frames.count(n) ? frames[n] : Json::object();
    if (!t.at("fc.s_id").empty() && frames.count(n) == 0) {
      r.mismatches.push_back("frame " + std::to_string(n) + ": tshark decodes FC, splitpath not");
      continue;
    }
    const std::pair<const char*, const char*> plain[] = {
        {"fc.s_id", "s_id"},           {"fc.d_id", "d_id"},       {"fc.ox_id", "ox_id"},
        {"fc.rx_id", "rx_id"},         {"fc.r_ctl", "r_ctl"},     {"fc.type", "type"},
        {"scsi_sbc.opcode", "opcode"}, {"scsi.status", "status"}, {"fcp.dl", "fcp_dl"},
        {"scsi.sns.key", "sense_key"}, {"scsi.sns.asc", "asc"},   {"scsi.sns.ascq", "ascq"}};
    for (const auto& [tf, of] : plain)
      compare(n, of, t.at(tf), str(f, of), true);
    compare(n, "els", t.at("fcels.opcode"), str(f, "els"), false);
    compare(n, "ct", t.at("fcdns.opcode"), str(f, "ct"), false);

    std::string lba = t.at("scsi_sbc.rdwr6.lba");
    if (lba.empty()) lba = t.at("scsi_sbc.rdwr10.lba");
    if (lba.empty() && !t.at("scsi_sbc.rdwr16.lba").empty()) {
      lba = std::to_string(std::stoull(t.at("scsi_sbc.rdwr16.lba"), nullptr, 16));
    }
    std::string length = t.at("scsi_sbc.rdwr6.xferlen");
    if (length == "0") length = "256";  // tshark prints the raw 6-byte CDB field
    if (length.empty()) length = t.at("scsi_sbc.rdwr10.xferlen");
    if (length.empty()) length = t.at("scsi_sbc.rdwr12.xferlen");
    if (!lba.empty() && !f.contains("lba") && f.contains("cdb_error")) {
      ++r.codec_gaps;
    } else {
      compare(n, "lba", lba, str(f, "lba"), true);
    }
    // tshark shows no NUMBER OF LOGICAL BLOCKS for WRITE SAME(10).
    const bool write_same = str(f, "opcode") == "\"0x41\"" || str(f, "opcode") == "0x41";
    compare(n, "length", length, str(f, "length"), !write_same);
  }
  return r;
}

void expect_agreement(const std::string& path, const CrossCheck& r) {
  EXPECT_TRUE(r.mismatches.empty())
      << path << ": " << r.mismatches.size() << " mismatches, first " << r.mismatches.front();
  for (const char* field : {"s_id", "d_id", "ox_id"})
    EXPECT_GT(r.compared.count(field) ? r.compared.at(field) : 0u, 0u) << path << " " << field;
}

bool have_tshark() {
  return run("command -v tshark").status == 0;
}

TEST(TsharkCrossCheck, RealCaptures) {
  if (!have_tshark()) FAIL() << "tshark is not installed (the setup installs it)";
  size_t captures = 0;
  for (const char* name : kRealCaptures) {
    const std::string path = (captures_dir() / name).string();
    if (!std::filesystem::exists(path)) continue;
    ++captures;
    SCOPED_TRACE(name);
    const CrossCheck r = cross_check(path, decode_cli(path));
    expect_agreement(path, r);
    const std::string n(name);
    if (n.find("bluecmd") == 0) {
      // 116 FCP_CMND: every opcode and FCP_DL compared; the LBAs of the 107
      // READ/WRITEs and of the 6 WRITE SAME(10)s, whose length tshark leaves out.
      EXPECT_EQ(r.compared.at("opcode"), 116u);
      EXPECT_EQ(r.compared.at("fcp_dl"), 116u);
      EXPECT_EQ(r.compared.at("lba"), 113u);
      EXPECT_EQ(r.compared.at("length"), 107u);
      EXPECT_EQ(r.codec_gaps, 0u);
    }
    if (n == "fikonfarm-fcoe1-merged.pcap") {
      EXPECT_EQ(r.compared.at("s_id"), 231u);
      EXPECT_EQ(r.compared.at("status"), 47u);
      EXPECT_EQ(r.compared.at("sense_key"), 4u);
      EXPECT_GT(r.compared.at("els"), 40u);
      EXPECT_GT(r.compared.at("ct"), 20u);
    }
    if (n == "fikonfarm-fcoe1-fabric.pcap") {
      EXPECT_EQ(r.compared.at("status"), 47u);
    }
  }
  if (captures == 0) GTEST_SKIP() << "no captures in " << captures_dir();
  EXPECT_EQ(captures, 5u);
}

TEST(TsharkCrossCheck, SplitpathRunCapture) {
  if (!have_tshark()) FAIL() << "tshark is not installed (the setup installs it)";
  const std::string pcap = temp_path("xcheck_run.pcap");
  ASSERT_EQ(run(kSplitpath + " run --seed 3 --duration 0.002 --pcap " + pcap).status, 0);
  const Json ours = decode_cli(pcap);
  const CrossCheck r = cross_check(pcap, ours);
  expect_agreement(pcap, r);
  EXPECT_EQ(r.compared.at("opcode"), ours["totals"]["commands"].get<size_t>());
  EXPECT_EQ(r.compared.at("status"), ours["totals"]["commands"].get<size_t>());
  EXPECT_EQ(r.compared.at("lba"),
            ours["totals"]["reads"].get<size_t>() + ours["totals"]["writes"].get<size_t>());
  EXPECT_EQ(r.codec_gaps, 0u);
}

// Every CDB form (READ 6/10/12/16, WRITE 10/16, SYNCHRONIZE CACHE 10/16), sense
// data and BUSY, as FC_2, as FC_2_WITH_FRAME_DELIMS and as FCoE; tshark also
// checks the CRCs written for the last two.
TEST(TsharkCrossCheck, SampleSessionInEveryEncapsulation) {
  if (!have_tshark()) FAIL() << "tshark is not installed (the setup installs it)";
  const std::vector<Bytes> frames = sample_session();
  std::vector<Bytes> d225, fcoe;
  for (const Bytes& f : frames) {
    d225.push_back(wrap_225(f));
    fcoe.push_back(wrap_fcoe(f));
  }
  const std::string p224 = temp_path("x224.pcap");
  const std::string p225 = temp_path("x225.pcap");
  const std::string pfcoe = temp_path("xfcoe.pcap");
  ASSERT_TRUE(write_pcap(p224, 224, records(frames)));
  ASSERT_TRUE(write_pcap(p225, 225, records(d225)));
  ASSERT_TRUE(write_pcap(pfcoe, 1, records(fcoe)));
  for (const std::string& path : {p224, p225, pfcoe}) {
    SCOPED_TRACE(path);
    const CrossCheck r = cross_check(path, decode_cli(path));
    expect_agreement(path, r);
    EXPECT_EQ(r.compared.at("lba"), 10u);  // 8 READ/WRITE, 2 SYNCHRONIZE CACHE
    EXPECT_EQ(r.compared.at("length"), 10u);
    EXPECT_EQ(r.compared.at("opcode"), 12u);
    EXPECT_EQ(r.compared.at("sense_key"), 1u);
  }
  const Command bad =
      run("tshark -n -r " + p225 + " -Y 'fc.crc.status != 1' -T fields -e frame.number", false);
  EXPECT_EQ(bad.out, "") << "tshark rejects CRCs";
  const Command bad_fcoe =
      run("tshark -n -r " + pfcoe + " -Y 'fcoe.crc.status != 1' -T fields -e frame.number", false);
  EXPECT_EQ(bad_fcoe.out, "") << "tshark rejects FCoE CRCs";
}

}  // namespace
}  // namespace splitpath::sim::trace
