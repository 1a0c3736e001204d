// What `splitpath decode` prints: a listing of one line (or one JSON object) per
// frame, then a summary per initiator / target / LUN, totals, the problems found
// (frame number and reason) and what was skipped.
//
// JSON report, one object (nlohmann::ordered_json, keys in this order):
//   "file", "link_type" (number), "link_type_name",
//   "frames": [ {"number" (1-based, as tshark numbers frames), "time_ns", "s_id",
//                "d_id", "r_ctl", "type", "ox_id", "rx_id" (absent when the FC
//                header did not decode), "kind" (FCP_CMND, FCP_XFER_RDY, FCP_DATA,
//                FCP_RSP, FCP, ELS, CT, BLS, LINK_CONTROL, OTHER, UNDECODED),
//                "exchange" (exchange number, 0 for none), then whichever apply:
//                "lun", "tmf", "opcode", "lba", "length", "fcp_dl", "cdb_error",
//                "relative_offset", "burst_length", "data_bytes", "status",
//                "sense_key", "asc", "ascq", "residual" (+ under-run, - over-run),
//                "rsp_code", "latency_ns", "els", "ct", "gs_type", "request" (the
//                command a reply answers), "reject_reason", "reject_explanation",
//                "bls", "sof", "eof", "crc" ("good"/"bad"), "vlan", "fip",
//                "orphan" (exchange missing its command), "note"} ],
//   "exchanges" (count),
//   "summary": [ {"initiator", "target", "lun" (number, or the 8 LUN bytes in hex),
//                 "commands", "reads", "writes", "other", "bytes_read",
//                 "bytes_written", "errors", "incomplete", "aborted",
//                 "latency_us": {"p50", "p99", "p999", "max"}} ],
//   "totals": the same counters over all ITLs, and "frames", "fc_frames",
//             "time_span_ns", "exchanges" {"fcp", "els", "ct", "bls", "other"},
//             "exchange_states" {"complete", "open", "aborted", "superseded"},
//             "els" {"requests", "acc", "ls_rjt"}, "ct" {"requests", "acc", "rjt"},
//             "bad_crc",
//   "problems": [ {"frame", "reason"} ] in frame order,
//   "skipped": {"fip", "other_ethertype", "short_frames", "bad_encapsulation",
//               "truncated_file", "undecoded_headers", "missing_command"},
//   "read_error": null, or why reading stopped before the end of the file.
//
// Field values are printed the way `tshark -T fields` prints the corresponding
// fields, so the two compare as strings:
//   s_id, d_id     "01.0e.01"  fc.s_id, fc.d_id
//   r_ctl, type    "0x06"      fc.r_ctl, fc.type
//   ox_id, rx_id   "0x01dd"    fc.ox_id, fc.rx_id
//   opcode         "0x28"      scsi_sbc.opcode (tshark's default command set for FCP
//                              is SBC; scsi.spc.opcode for other device types)
//   lba            decimal     scsi_sbc.rdwr6.lba, scsi_sbc.rdwr10.lba (10- and
//                              12-byte CDBs); scsi_sbc.rdwr16.lba, which tshark
//                              prints as 16 hex digits
//   length         decimal     scsi_sbc.rdwr6.xferlen (tshark prints the raw 0 that
//                              means 256 blocks), scsi_sbc.rdwr10.xferlen,
//                              scsi_sbc.rdwr12.xferlen (12- and 16-byte CDBs);
//                              transfer length in blocks, READ/WRITE and SYNCHRONIZE
//                              CACHE only
//   fcp_dl         decimal     fcp.dl
//   status         "0x02"      scsi.status (fcp.status)
//   sense_key, asc, ascq "0x05" scsi.sns.key, scsi.sns.asc, scsi.sns.ascq
//   els            "0x03"      fcels.opcode
//   ct             "0x0171"    fcdns.opcode (name server); fcct.gstype is gs_type
// tshark decodes the CDB only in FCP_CMND frames and the status only in FCP_RSP,
// which is where these fields appear here too. A CDB the project's codec does not
// decode (scsi_cdb.h: WRITE SAME, MAINTENANCE IN, ...) has its opcode but no
// lba/length, and "cdb_error" says why; tshark does show WRITE SAME(10)'s LBA.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "fabric_sim/node/latency_histogram.h"
#include "fabric_sim/trace/exchange_tracker.h"
#include "fabric_sim/trace/trace_reader.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim::trace {

struct DecodeOptions {
  bool list_frames = true;
  uint64_t limit = UINT64_MAX;  // frames listed at most; every frame is decoded
};

// FCP exchanges of one initiator / target / LUN. Reads and writes are the
// READ/WRITE (6/10/12/16) commands; bytes read and written are their FCP_DATA.
struct ItlSummary {
  fc::FcId initiator;
  fc::FcId target;
  fc::ScsiLun lun;
  std::optional<uint16_t> lun_number;  // none: a multi-level LUN, or an undecodable FCP_CMND
  uint64_t commands = 0;
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t other = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t errors = 0;       // responses with a SCSI status other than GOOD
  uint64_t incomplete = 0;   // no FCP_RSP in the trace (open at the end, or OX_ID reused)
  uint64_t aborted = 0;      // ABTS before any FCP_RSP
  LatencyHistogram latency;  // FCP_CMND to FCP_RSP
};

// Runs a reader through the exchange tracker and keeps the figures of the report.
class TraceDecoder {
 public:
  explicit TraceDecoder(TraceReader& reader) : reader_(reader) {}

  // Reads and decodes the whole trace; `on_frame` (may be empty) sees each frame
  // as it is decoded, in file order.
  void run(const std::function<void(const FrameInfo&)>& on_frame);

  const TraceReader& reader() const { return reader_; }
  const ExchangeTracker& tracker() const { return tracker_; }
  uint64_t first_time_ns() const { return first_ns_; }
  uint64_t last_time_ns() const { return last_ns_; }
  // Ordered by initiator, target and LUN.
  std::vector<ItlSummary> summary() const;
  // The reader's problems and the tracker's, by frame number.
  std::vector<TraceProblem> problems() const;

 private:
  TraceReader& reader_;
  ExchangeTracker tracker_;
  uint64_t first_ns_ = 0;
  uint64_t last_ns_ = 0;
  bool any_ = false;
};

// One line of the text listing (no newline); times are relative to origin_ns.
std::string frame_line(const FrameInfo& frame, uint64_t origin_ns);
nlohmann::ordered_json frame_json(const FrameInfo& frame);
// The keys after "frames": exchanges, summary, totals, problems, skipped, read_error.
nlohmann::ordered_json results_json(const TraceDecoder& decoder);
// The summary, totals, skipped counts and problems as text (at most
// `max_problems` problems are listed).
std::string results_text(const TraceDecoder& decoder, size_t max_problems = 100);

// The whole `splitpath decode` output, streamed: the listing, then the results.
void write_text_report(TraceReader& reader, const DecodeOptions& options, std::ostream& out);
// One JSON object, streamed frame by frame.
void write_json_report(TraceReader& reader, const DecodeOptions& options, std::ostream& out);
// The same object in memory.
nlohmann::ordered_json decode_json(TraceReader& reader, const DecodeOptions& options);

}  // namespace splitpath::sim::trace
