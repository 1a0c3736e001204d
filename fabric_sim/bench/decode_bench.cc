#include "fabric_sim/bench/decode_bench.h"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "fabric_sim/capture/pcap_writer.h"
#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/node/fcp_frames.h"
#include "fabric_sim/trace/decode_report.h"
#include "fabric_sim/trace/trace_reader.h"
#include "fmt/format.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi.h"

namespace splitpath::sim {

namespace {

constexpr uint32_t kMaxDataFrame = 2048;  // FCP_DATA payload bytes per frame
constexpr SimTime kGapNs = 1000;          // between frames

// Writes the frames of one synthetic trace, one at a time.
class CaptureSynth {
 public:
  explicit CaptureSynth(PcapWriter& writer) : writer_(writer) {}

  void frame(const fc::FrameHeader& h, fc::ConstBytes payload) {
    buf_.resize(fc::kFrameHeaderSize + payload.size());
    (void)fc::encode_frame_header(h, fc::MutableBytes(buf_.data(), fc::kFrameHeaderSize));
    std::copy(payload.begin(), payload.end(), buf_.begin() + fc::kFrameHeaderSize);
    writer_.write(now_, buf_);
    now_ += kGapNs;
    ++frames_;
  }
  uint64_t frames() const { return frames_; }

 private:
  PcapWriter& writer_;
  std::vector<uint8_t> buf_;
  SimTime now_ = 0;
  uint64_t frames_ = 0;
};

void write_io(CaptureSynth& out, fc::FcId init, fc::FcId tgt, uint16_t ox, uint16_t rx, bool write,
              uint64_t lba, uint32_t blocks) {
  const uint32_t bytes = blocks * 512;
  std::array<uint8_t, 64> p{};
  fc::FcpCmnd cmnd;
  cmnd.lun = fc::make_lun(0);
  cmnd.rddata = !write;
  cmnd.wrdata = write;
  cmnd.fcp_dl = bytes;
  const fc::ScsiCommand scsi =
      fc::make_rw(write ? fc::scsi_op::kWrite10 : fc::scsi_op::kRead10, lba, blocks);
  (void)fc::encode_cdb(scsi, {cmnd.cdb.data(), cmnd.cdb.size()});
  const size_t n = fc::fcp_cmnd_size(cmnd);
  (void)fc::encode_fcp_cmnd(cmnd, fc::MutableBytes(p.data(), n));
  out.frame(fcp_header(fc::rctl::kDeviceDataUnsolicitedCmd, tgt, init, kFctlFcpCmnd, ox,
                       fc::kUnassignedXid),
            fc::ConstBytes(p.data(), n));
  static const std::array<uint8_t, kMaxDataFrame> data = [] {
    std::array<uint8_t, kMaxDataFrame> d{};
    for (size_t i = 0; i < d.size(); ++i)
      d[i] = static_cast<uint8_t>(i * 7);
    return d;
  }();
  if (write) {
    auto x = fc::encode_fcp_xfer_rdy(fc::FcpXferRdy{0, bytes}, fc::MutableBytes(p.data(), 12));
    out.frame(fcp_header(fc::rctl::kDeviceDataDataDescriptor, init, tgt, kFctlXferRdy, ox, rx),
              fc::ConstBytes(p.data(), x.ok() ? *x : 0));
  }
  const fc::FcId from = write ? init : tgt;
  const fc::FcId to = write ? tgt : init;
  const uint32_t frames = (bytes + kMaxDataFrame - 1) / kMaxDataFrame;
  for (uint32_t i = 0; i < frames; ++i) {
    const uint32_t offset = i * kMaxDataFrame;
    const uint32_t size = std::min(kMaxDataFrame, bytes - offset);
    out.frame(fcp_header(fc::rctl::kDeviceDataSolicitedData, to, from,
                         fcp_data_fctl(!write, i + 1 == frames), ox, rx, 1,
                         static_cast<uint16_t>(i), offset),
              fc::ConstBytes(data.data(), size));
  }
  fc::FcpRsp rsp;
  rsp.scsi_status = fc::scsi_status::kGood;
  auto r = fc::encode_fcp_rsp(rsp, fc::MutableBytes(p.data(), p.size()));
  out.frame(fcp_header(fc::rctl::kDeviceDataCommandStatus, init, tgt, kFctlFcpRsp, ox, rx),
            fc::ConstBytes(p.data(), r.ok() ? *r : 0));
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool installed(const char* tool) {
  return std::system(fmt::format("command -v {} >/dev/null 2>&1", tool).c_str()) == 0;
}

// Runs `command` through the shell and times it; the row records a failure.
DecodeBenchRow time_tool(const char* tool, const std::string& label, const std::string& command,
                         const DecodeBenchResult& result) {
  DecodeBenchRow row;
  row.tool = label;
  if (!installed(tool)) {
    row.note = fmt::format("{} is not installed: skipped", tool);
    return row;
  }
  const auto start = std::chrono::steady_clock::now();
  const int rc = std::system(command.c_str());
  row.seconds = seconds_since(start);
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    row.note = fmt::format("`{}` failed (status {})", command, rc);
    return row;
  }
  row.ran = true;
  row.frames_per_s = static_cast<double>(result.frames) / row.seconds;
  row.mb_per_s = static_cast<double>(result.file_bytes) / row.seconds / 1e6;
  return row;
}

}  // namespace

absl::Status write_decode_bench_capture(const DecodeBenchOptions& options) {
  auto writer = PcapWriter::open(options.path);
  if (!writer.ok()) return writer.status();
  CaptureSynth out(**writer);
  Rng rng(options.seed);
  constexpr uint32_t kInitiators = 4;
  constexpr uint32_t kTargets = 4;
  uint64_t io = 0;
  while (out.frames() < options.frames) {
    const fc::FcId init{0x010000 | static_cast<uint32_t>(io % kInitiators) << 8};
    const fc::FcId tgt{0x020000 | static_cast<uint32_t>(rng.uniform(kTargets)) << 8};
    const bool write = rng.uniform(100) >= 70;
    const auto ox = static_cast<uint16_t>(io & 0x7FFF);
    const auto rx = static_cast<uint16_t>(0x8000 | (io & 0x7FFF));
    write_io(out, init, tgt, ox, rx, write, rng.uniform(1u << 20) * options.blocks, options.blocks);
    ++io;
  }
  return (*writer)->close();
}

absl::StatusOr<DecodeBenchResult> run_decode_bench(const DecodeBenchOptions& options) {
  if (absl::Status s = write_decode_bench_capture(options); !s.ok()) return s;
  DecodeBenchResult result;
  result.path = options.path;
  std::error_code ec;
  result.file_bytes = std::filesystem::file_size(options.path, ec);

  DecodeBenchRow own;
  own.tool = "splitpath (TraceReader + TraceDecoder)";
  const auto start = std::chrono::steady_clock::now();
  auto reader = trace::TraceReader::open(options.path);
  if (!reader.ok()) return reader.status();
  trace::TraceDecoder decoder(**reader);
  decoder.run({});
  const auto summary = decoder.summary();
  own.seconds = seconds_since(start);
  own.frames = (*reader)->frames();
  if (own.frames == 0 || summary.empty()) {
    return absl::InternalError(
        fmt::format("{}: the decoder saw {} frames", options.path, own.frames));
  }
  result.frames = own.frames;
  own.ran = true;
  own.frames_per_s = static_cast<double>(own.frames) / own.seconds;
  own.mb_per_s = static_cast<double>(result.file_bytes) / own.seconds / 1e6;
  result.rows.push_back(own);

  const std::string quoted = "'" + options.path + "'";
  result.rows.push_back(time_tool("tcpdump", "tcpdump -r FILE -w /dev/null",
                                  "tcpdump -r " + quoted + " -w /dev/null 2>/dev/null", result));
  // tcpdump's start-up (loading libraries, opening the file), timed on a
  // capture with no records: taken off its time on the real file, which is
  // only a few milliseconds on small captures.
  const std::string empty = options.path + ".empty";
  if (auto w = PcapWriter::open(empty); w.ok() && (*w)->close().ok()) {
    const DecodeBenchRow startup =
        time_tool("tcpdump", "", "tcpdump -r '" + empty + "' -w /dev/null 2>/dev/null", result);
    if (startup.ran) result.tcpdump_startup_seconds = startup.seconds;
  }
  std::filesystem::remove(empty, ec);
  if (options.tshark) {
    result.rows.push_back(time_tool(
        "tshark", "tshark -T fields (s_id, d_id, ox_id, opcode)",
        "tshark -n -r " + quoted +
            " -T fields -e fc.s_id -e fc.d_id -e fc.ox_id -e scsi_sbc.opcode >/dev/null 2>&1",
        result));
  }
  return result;
}

std::string format_decode_bench(const DecodeBenchResult& r) {
  std::string out = fmt::format("decode benchmark: {} ({} frames, {:.1f} MB)\n", r.path, r.frames,
                                static_cast<double>(r.file_bytes) / 1e6);
  out += fmt::format("{:<46} {:>9} {:>12} {:>9} {:>22}\n", "reader", "seconds", "frames/s", "MB/s",
                     "time / splitpath time");
  const double own = r.rows.empty() ? 0 : r.rows.front().seconds;
  for (const DecodeBenchRow& row : r.rows) {
    if (!row.ran) {
      out += fmt::format("{:<46} {}\n", row.tool, row.note);
      continue;
    }
    out += fmt::format("{:<46} {:>9.3f} {:>12.0f} {:>9.1f} {:>22.2f}\n", row.tool, row.seconds,
                       row.frames_per_s, row.mb_per_s, own > 0 ? row.seconds / own : 0.0);
  }
  if (r.tcpdump_startup_seconds > 0) {
    out += fmt::format("(tcpdump takes {:.3f} s on a capture with no records)\n",
                       r.tcpdump_startup_seconds);
  }
  return out;
}

}  // namespace splitpath::sim
