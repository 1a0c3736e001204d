// Exchange tracking and the per-ITL summary on hand-built conversations: what
// each frame decodes to, how exchanges are keyed and completed, latencies, and
// the problems of frames that fit no exchange.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fabric_sim/trace/decode_report.h"
#include "fabric_sim/trace/exchange_tracker.h"
#include "tests/trace/trace_test_util.h"

namespace splitpath::sim::trace {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)
using Json = nlohmann::ordered_json;

// Feeds frames straight to a tracker, frame i at i microseconds.
std::vector<FrameInfo> track(ExchangeTracker& t, const std::vector<Bytes>& frames) {
  std::vector<FrameInfo> out;
  for (size_t i = 0; i < frames.size(); ++i) {
    TraceFrame f;
    f.number = i + 1;
    f.time_ns = i * 1000;
    f.fc = frames[i];
    f.wire_size = static_cast<uint32_t>(frames[i].size());
    out.push_back(t.add(f));
  }
  return out;
}

Json decode_frames(const std::vector<Bytes>& frames, const std::string& name) {
  const std::string path = temp_path(name);
  EXPECT_TRUE(write_pcap(path, 224, records(frames)));
  return decode_file(path);
}

TEST(ExchangeTracker, SampleSessionFrameByFrame) {
  ExchangeTracker t;
  const std::vector<FrameInfo> f = track(t, sample_session());
  EXPECT_TRUE(t.problems().empty());
  EXPECT_EQ(t.orphan_frames(), 0u);
  // FLOGI from 00.00.00 and its ACC to 01.01.00 are one exchange.
  EXPECT_EQ(f[0].exchange, 1u);
  EXPECT_EQ(f[1].exchange, 1u);
  EXPECT_EQ(*f[1].request, fc::els_cmd::kFlogi);
  EXPECT_EQ(*f[5].ct, fc::ct_cmd::kAcc);
  EXPECT_EQ(*f[5].request, fc::ct_cmd::kGidFt);
  // READ(10) of 8 blocks: command, 2 data frames, response 3 us after the command.
  const FrameInfo& cmd = f[13];
  EXPECT_EQ(cmd.kind, FrameKind::kFcpCmnd);
  EXPECT_EQ(*cmd.opcode, 0x28);
  EXPECT_EQ(*cmd.lba, 1000u);
  EXPECT_EQ(*cmd.transfer_length, 8u);
  EXPECT_EQ(*cmd.fcp_dl, 4096u);
  EXPECT_EQ(*cmd.lun, 0);
  EXPECT_EQ(*f[14].data_bytes, 2048u);
  EXPECT_EQ(*f[15].relative_offset, 2048u);
  EXPECT_TRUE(f[15].from_responder);
  EXPECT_EQ(*f[16].status, 0);
  EXPECT_EQ(*f[16].latency_ns, 3000u);
  EXPECT_EQ(f[16].exchange, cmd.exchange);
  // WRITE(16): 64-bit LBA, XFER_RDY.
  EXPECT_EQ(*f[17].opcode, 0x8A);
  EXPECT_EQ(*f[17].lba, 1ull << 33);
  EXPECT_EQ(*f[18].burst_length, 2048u);
  // READ(6), READ(12), READ(16).
  EXPECT_EQ(*f[21].opcode, 0x08);
  EXPECT_EQ(*f[21].lba, 0x12345u);
  EXPECT_EQ(*f[24].lba, 77777u);
  EXPECT_EQ(*f[27].lba, 0x123456789ull);
  EXPECT_EQ(*f[27].transfer_length, 1u);

  const std::vector<Exchange>& ex = t.exchanges();
  size_t complete = 0, aborted = 0;
  for (const Exchange& e : ex) {
    complete += e.state == ExchangeState::kComplete;
    aborted += e.state == ExchangeState::kAborted;
  }
  EXPECT_EQ(aborted, 1u);
  EXPECT_EQ(complete, ex.size() - 1);
  // RX_IDs are learnt from the responder.
  EXPECT_EQ(ex[cmd.exchange - 1].rx_id, 0x0302);
  EXPECT_EQ(ex[cmd.exchange - 1].data_in, 4096u);
  EXPECT_TRUE(ex.back().abort_answered);
}

TEST(ExchangeTracker, SummaryPerInitiatorTargetLun) {
  const Json r = decode_frames(sample_session(), "summary.pcap");
  ASSERT_EQ(r["summary"].size(), 2u);
  const Json& lun0 = r["summary"][0];
  EXPECT_EQ(lun0["initiator"], "01.01.00");
  EXPECT_EQ(lun0["target"], "01.02.00");
  EXPECT_EQ(lun0["lun"], 0);
  EXPECT_EQ(lun0["commands"], 11);
  EXPECT_EQ(lun0["reads"], 6);   // READ(10), READ(6/12/16), the failing and the aborted READ(10)
  EXPECT_EQ(lun0["writes"], 2);  // WRITE(16), WRITE(10)
  EXPECT_EQ(lun0["other"], 3);   // REPORT LUNS, SYNCHRONIZE CACHE(10) and (16)
  EXPECT_EQ(lun0["bytes_read"], 4096 + 3 * 512);
  EXPECT_EQ(lun0["bytes_written"], 2048 + 1024);
  EXPECT_EQ(lun0["errors"], 1);
  EXPECT_EQ(lun0["incomplete"], 0);
  EXPECT_EQ(lun0["aborted"], 1);
  EXPECT_GT(lun0["latency_us"]["p50"].get<double>(), 0);
  EXPECT_LE(lun0["latency_us"]["p99"].get<double>(), lun0["latency_us"]["max"].get<double>());
  const Json& lun1 = r["summary"][1];
  EXPECT_EQ(lun1["lun"], 1);
  EXPECT_EQ(lun1["commands"], 1);
  EXPECT_EQ(lun1["errors"], 1);  // BUSY
  EXPECT_EQ(r["totals"]["commands"], 12);
  EXPECT_EQ(r["totals"]["exchanges"]["els"], 4);
  EXPECT_EQ(r["totals"]["exchanges"]["ct"], 1);
  EXPECT_EQ(r["totals"]["els"]["acc"], 4);
  EXPECT_TRUE(r["problems"].empty());
  // The failing READ: CHECK CONDITION, MEDIUM ERROR 11/00, residual.
  bool seen = false;
  for (const auto& f : r["frames"]) {
    if (f.value("status", "") != "0x02") continue;
    seen = true;
    EXPECT_EQ(f["sense_key"], "0x03");
    EXPECT_EQ(f["asc"], "0x11");
    EXPECT_EQ(f["ascq"], "0x00");
    EXPECT_EQ(f["residual"], 4096);
  }
  EXPECT_TRUE(seen);
}

TEST(ExchangeTracker, ExchangeMissingItsCommand) {
  using namespace fc;  // NOLINT(google-build-using-namespace)
  // The capture starts after the FCP_CMND of OX_ID 0x0042: its data and response
  // have no command. Then a complete exchange.
  const std::vector<Bytes> frames = {
      fcp_data(kTarget, kInit, true, 0x0042, 0x0300, 0, 512, true),
      fcp_rsp(kTarget, kInit, 0x0042, 0x0300, scsi_status::kGood),
      fcp_cmnd(kInit, kTarget, 0x0043, make_rw(scsi_op::kRead10, 1, 1), 512),
      fcp_data(kTarget, kInit, true, 0x0043, 0x0301, 0, 512, true),
      fcp_rsp(kTarget, kInit, 0x0043, 0x0301, scsi_status::kGood),
  };
  const Json r = decode_frames(frames, "orphans.pcap");
  ASSERT_EQ(r["problems"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(r["problems"][i]["frame"], i + 1);
    const std::string reason = r["problems"][i]["reason"];
    EXPECT_NE(reason.find("exchange missing its command"), std::string::npos) << reason;
    EXPECT_NE(reason.find("OX_ID 0x0042"), std::string::npos) << reason;
  }
  EXPECT_EQ(r["skipped"]["missing_command"], 2);
  EXPECT_EQ(r["frames"][0]["orphan"], true);
  EXPECT_EQ(r["frames"][0]["exchange"], 0);
  EXPECT_EQ(r["frames"][1]["status"], "0x00");  // still decoded
  EXPECT_EQ(r["exchanges"], 1);
  EXPECT_EQ(r["totals"]["commands"], 1);
  EXPECT_EQ(r["totals"]["bytes_read"], 512);
}

TEST(ExchangeTracker, OxIdReuseStartsANewExchange) {
  using namespace fc;  // NOLINT(google-build-using-namespace)
  const std::vector<Bytes> frames = {
      fcp_cmnd(kInit, kTarget, 0x0007, make_rw(scsi_op::kRead10, 1, 1), 512),
      fcp_cmnd(kInit, kTarget, 0x0007, make_rw(scsi_op::kWrite10, 2, 1), 512),
      fcp_xfer_rdy(kTarget, kInit, 0x0007, 0x0400, 0, 512),
      fcp_data(kInit, kTarget, false, 0x0007, 0x0400, 0, 512, true),
      fcp_rsp(kTarget, kInit, 0x0007, 0x0400, scsi_status::kGood),
      // After completion the same OX_ID starts a fresh exchange, silently.
      fcp_cmnd(kInit, kTarget, 0x0007, make_test_unit_ready(), 0),
      fcp_rsp(kTarget, kInit, 0x0007, 0x0401, scsi_status::kGood),
  };
  ExchangeTracker t;
  const std::vector<FrameInfo> f = track(t, frames);
  ASSERT_EQ(t.exchanges().size(), 3u);
  EXPECT_EQ(t.exchanges()[0].state, ExchangeState::kSuperseded);
  EXPECT_EQ(t.exchanges()[1].state, ExchangeState::kComplete);
  EXPECT_EQ(t.exchanges()[1].data_out, 512u);
  EXPECT_EQ(t.exchanges()[1].xfer_rdy, 1u);
  EXPECT_EQ(t.exchanges()[2].state, ExchangeState::kComplete);
  EXPECT_NE(f[1].note.find("reused"), std::string::npos) << f[1].note;
  EXPECT_TRUE(f[5].note.empty()) << f[5].note;
  EXPECT_EQ(f[4].exchange, 2u);
  EXPECT_TRUE(t.problems().empty());
}

TEST(ExchangeTracker, MultiFrameCtReplyAndRejects) {
  using namespace fc;  // NOLINT(google-build-using-namespace)
  // A GID_FT ACC in two frames of one sequence: the second has no CT preamble.
  const Bytes first = frame(
      rctl::kDeviceDataSolicitedCtl, fc_type::kCt, kDirectoryServer, kInit, fctl::kExchangeContext,
      0x0020, 0x0500, ct_iu(make_ct_accept(make_ns_request(ct_cmd::kGidFt)), Bytes(2048 - 16, 0)));
  const Bytes second =
      frame(rctl::kDeviceDataSolicitedCtl, fc_type::kCt, kDirectoryServer, kInit,
            kFctlReply | fctl::kRelativeOffsetPresent, 0x0020, 0x0500, Bytes(64, 0xEE), 2048, 1);
  const std::vector<Bytes> frames = {
      ct_request(kInit, 0x0020, ct_cmd::kGidFt, encode(GidFtRequest{}, encode_gid_ft_request)),
      first,
      second,
      ct_request(kInit, 0x0021, ct_cmd::kGpnId, Bytes{0, 1, 2, 0}),
      ct_reply(kInit, 0x0021, 0x0501,
               make_ct_reject(make_ns_request(ct_cmd::kGpnId), ct_reason::kUnableToPerform,
                              ns_explanation::kPortIdNotRegistered),
               {}),
      els_request(kInit, kTarget, 0x0022, service_parameters(els_cmd::kPlogi, 1)),
      els_reply(kTarget, kInit, 0x0022, 0x0502, encode(LsRjt{}, encode_ls_rjt)),
  };
  ExchangeTracker t;
  const std::vector<FrameInfo> f = track(t, frames);
  EXPECT_TRUE(t.problems().empty()) << t.problems().front().reason;
  EXPECT_TRUE(f[2].continuation);
  EXPECT_FALSE(f[2].ct.has_value());
  EXPECT_EQ(f[2].exchange, f[0].exchange);
  EXPECT_EQ(*f[4].ct, ct_cmd::kRjt);
  EXPECT_EQ(*f[4].reject_reason, ct_reason::kUnableToPerform);
  EXPECT_EQ(*f[4].reject_explanation, ns_explanation::kPortIdNotRegistered);
  EXPECT_EQ(*f[6].els, els_cmd::kLsRjt);
  EXPECT_EQ(*f[6].request, els_cmd::kPlogi);
  EXPECT_EQ(*f[6].reject_reason, ls_rjt_reason::kUnableToPerform);
  for (const Exchange& e : t.exchanges())
    EXPECT_EQ(e.state, ExchangeState::kComplete);
}

TEST(ExchangeTracker, CorruptFramesAreProblemsWithFrameNumbers) {
  using namespace fc;  // NOLINT(google-build-using-namespace)
  Bytes optional_headers = fcp_cmnd(kInit, kTarget, 0x0030, make_test_unit_ready(), 0);
  optional_headers[13] = 0x40;  // DF_CTL: an ESP header follows
  Bytes bad_rsp = fcp_rsp(kTarget, kInit, 0x0031, 0x0600, scsi_status::kGood);
  bad_rsp[24 + 10] = 0x01;  // FCP_RSP_LEN_VALID
  bad_rsp[24 + 23] = 3;     // FCP_RSP_LEN 3: not 0, 4 or 8
  Bytes bad_cmnd = fcp_cmnd(kInit, kTarget, 0x0032, make_test_unit_ready(), 0);
  bad_cmnd[24 + 9] = 3;  // reserved task attribute
  const std::vector<Bytes> frames = {
      optional_headers,
      fcp_cmnd(kInit, kTarget, 0x0031, make_test_unit_ready(), 0),
      bad_rsp,
      bad_cmnd,
      fcp_rsp(kTarget, kInit, 0x0032, 0x0601, scsi_status::kGood),
      els_request(kInit, kTarget, 0x0033, Bytes{0x03}),  // ELS payload too short
  };
  const Json r = decode_frames(frames, "corrupt.pcap");
  ASSERT_EQ(r["problems"].size(), 4u) << r["problems"].dump();
  EXPECT_EQ(r["problems"][0]["frame"], 1);
  EXPECT_NE(
      r["problems"][0]["reason"].get<std::string>().find("cannot decode the FC header: df_ctl"),
      std::string::npos);
  EXPECT_EQ(r["problems"][1]["frame"], 3);
  EXPECT_NE(r["problems"][1]["reason"].get<std::string>().find("FCP_RSP: fcp_rsp_len"),
            std::string::npos);
  EXPECT_EQ(r["problems"][2]["frame"], 4);
  EXPECT_NE(r["problems"][2]["reason"].get<std::string>().find("FCP_CMND: task_attribute"),
            std::string::npos);
  EXPECT_EQ(r["problems"][3]["frame"], 6);
  EXPECT_EQ(r["frames"][0]["kind"], "UNDECODED");
  EXPECT_EQ(r["skipped"]["undecoded_headers"], 1);
  // The undecodable FCP_CMND still opened its exchange, so its response fits.
  EXPECT_EQ(r["frames"][4]["exchange"], r["frames"][3]["exchange"]);
  EXPECT_EQ(r["skipped"]["missing_command"], 0);
}

TEST(DecodeReport, TextListingAndSummary) {
  const std::string path = temp_path("text.pcap");
  ASSERT_TRUE(write_pcap(path, 224, records(sample_session())));
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok());
  std::ostringstream out;
  write_text_report(**reader, DecodeOptions{}, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("00.00.00 -> ff.ff.fe"), std::string::npos) << text;
  EXPECT_NE(text.find("FCP_CMND     LUN 0 READ(16) 0x88 LBA 4886718345 len 1 FCP_DL 512"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("status 0x02 CHECK CONDITION sense 3/11/00 MEDIUM ERROR resid +4096"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("01.01.00  01.02.00      0      11"), std::string::npos) << text;
  EXPECT_NE(text.find("problems: 0"), std::string::npos) << text;
  // One listing line per frame.
  size_t lines = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines += line.find(" -> ") != std::string::npos;
  EXPECT_EQ(lines, sample_session().size());
}

}  // namespace
}  // namespace splitpath::sim::trace
