// Fuzz target for `splitpath decode`: the input is a capture file (pcap or
// pcapng, any link type), opened from memory with libpcap (fmemopen +
// pcap_fopen_offline), read by the trace reader, grouped by the exchange tracker
// and turned into the text and JSON reports. Beyond "no crash, no sanitizer
// report", it checks what callers rely on and aborts when that fails: frames
// come in file order, problems name a frame that exists, exchanges are numbered
// in order and hold frames of the file, and the summary accounts for every FCP
// exchange. The same bytes then go through the replay's command extraction
// (`splitpath replay`), checked in check_commands. Built as a libFuzzer binary (trace_fuzz) and
// into trace_fuzz_replay_test.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fabric_sim/replay/trace_commands.h"
#include "fabric_sim/trace/decode_report.h"
#include "fabric_sim/trace/exchange_tracker.h"
#include "fabric_sim/trace/trace_reader.h"

namespace splitpath::sim::trace {
namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "trace_fuzz: %s\n", what);
  std::abort();
}

// Returns the number of problems the decoder reported.
size_t check(TraceReader& reader) {
  TraceDecoder decoder(reader);
  uint64_t frames = 0;
  uint64_t last = 0;
  size_t text = 0;
  decoder.run([&](const FrameInfo& f) {
    if (f.number <= last) fail("frames out of order");
    last = f.number;
    ++frames;
    text += frame_line(f, decoder.first_time_ns()).size();
    text += frame_json(f).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
  });
  if (frames != reader.frames()) fail("frame count");
  if (reader.frames() > reader.records()) fail("more frames than records");
  const std::vector<TraceProblem> problems = decoder.problems();
  for (size_t i = 0; i < problems.size(); ++i) {
    if (problems[i].frame == 0 || problems[i].frame > reader.records() + 1) {
      fail("problem names a frame that does not exist");
    }
    if (i && problems[i].frame < problems[i - 1].frame) fail("problems out of order");
    if (problems[i].reason.empty()) fail("problem without a reason");
  }
  uint64_t fcp = 0;
  const std::vector<Exchange>& exchanges = decoder.tracker().exchanges();
  for (size_t i = 0; i < exchanges.size(); ++i) {
    const Exchange& e = exchanges[i];
    if (e.id != i + 1) fail("exchange ids");
    if (e.frames == 0 || e.first_frame > e.last_frame || e.last_frame > reader.records()) {
      fail("exchange frames");
    }
    fcp += e.kind == ExchangeKind::kFcp;
  }
  uint64_t commands = 0;
  for (const ItlSummary& s : decoder.summary()) {
    if (s.reads + s.writes + s.other != s.commands) fail("ITL command split");
    commands += s.commands;
  }
  if (commands != fcp) fail("summary misses FCP exchanges");
  text += results_text(decoder).size();
  text +=
      results_json(decoder).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
  if (text == 0) fail("no output");
  return problems.size();
}

// The replay's view of the same input (fabric_sim/replay/trace_commands.h):
// commands in frame order, naming frames that exist, write buffers of
// at most FCP_DL, and the same problems the decoder found.
void check_commands(TraceReader& reader, size_t decoder_problems) {
  const replay::TraceCommandStream s = replay::extract_commands(reader);
  uint64_t last = 0;
  for (const replay::TraceCommand& c : s.commands) {
    if (c.frame <= last || c.frame > s.records) fail("command frames");
    last = c.frame;
    if (c.cdb.empty() || c.cdb.size() > 260) fail("command CDB");
    if (c.data_out.size() > std::min(c.fcp_dl, replay::kMaxBufferedWrite) ||
        (!c.write_data && !c.data_out.empty())) {
      fail("write buffer");
    }
    if (c.write_data_missing > c.fcp_dl) fail("missing write data");
    if (!c.answered && (c.status != 0 || c.sense_key)) fail("status without FCP_RSP");
  }
  if (s.problems.size() != decoder_problems) fail("replay problems differ from the decoder's");
  for (const auto& [key, extent] : s.luns) {
    if (extent.capacity_blocks && extent.block_size == 0) fail("capacity without block size");
  }
}

}  // namespace
}  // namespace splitpath::sim::trace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // fmemopen wants a buffer it may write to; the input is const.
  std::vector<uint8_t> copy(data, data + size);
  FILE* file = fmemopen(copy.data(), copy.size(), "rb");
  if (!file) return 0;
  auto reader = splitpath::sim::trace::TraceReader::open_stream(file, "fuzz-input");
  if (!reader.ok()) return 0;
  const size_t problems = splitpath::sim::trace::check(**reader);
  // The same bytes once more, through the replay's command extraction.
  FILE* again = fmemopen(copy.data(), copy.size(), "rb");
  if (!again) return 0;
  auto second = splitpath::sim::trace::TraceReader::open_stream(again, "fuzz-input");
  if (second.ok()) splitpath::sim::trace::check_commands(**second, problems);
  return 0;
}
