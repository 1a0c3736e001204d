// The decode benchmark (`splitpath bench decode`): writes a large synthetic FC
// capture (LINKTYPE_FC_2, through PcapWriter) and times, on that same file in the
// same run, the project's decoder (TraceReader + TraceDecoder: every frame
// decoded, grouped into exchanges and summarized) against two reference readers:
// `tcpdump -r FILE -w /dev/null` (libpcap reading and writing records, no
// decoding) and `tshark -r FILE -T fields -e fc.s_id -e fc.d_id -e fc.ox_id -e
// scsi_sbc.opcode` (Wireshark's dissectors). A tool that is not installed is
// skipped with a note.
//
// The capture: `frames` frames of FCP traffic between 4 initiators and 4 targets,
// READ(10)s (FCP_CMND, FCP_DATA frames of up to 2 KiB, FCP_RSP) and WRITE(10)s
// (FCP_CMND, XFER_RDY, FCP_DATA, FCP_RSP) of `blocks` 512-byte blocks, 70%
// reads from a seeded generator, 1 us apart: the same options give the same
// bytes. 8 blocks (the default) make two 2 KiB data frames per I/O; 1 block
// makes small frames only (about 100 bytes on average); 128 blocks make
// mostly full 2 KiB data frames.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace splitpath::sim {

struct DecodeBenchOptions {
  uint64_t frames = 500000;
  uint64_t seed = 1;
  uint32_t blocks = 8;  // per I/O, 1 .. 65535
  bool tshark = true;   // false: leave tshark out (it reads about 20 thousand frames/s)
  std::string path;     // where the capture is written
};

struct DecodeBenchRow {
  std::string tool;  // what ran
  bool ran = false;  // false: not installed, or it failed (see note)
  std::string note;
  double seconds = 0;  // wall time
  double frames_per_s = 0;
  double mb_per_s = 0;  // capture file bytes / seconds / 1e6
  uint64_t frames = 0;  // frames the project's decoder saw (0 for the external tools)
};

struct DecodeBenchResult {
  std::string path;
  uint64_t frames = 0;
  uint64_t file_bytes = 0;
  std::vector<DecodeBenchRow> rows;    // splitpath first, then tcpdump, tshark
  double tcpdump_startup_seconds = 0;  // tcpdump on a capture with no records; 0: not run
};

// Writes the capture to options.path. Fails if it cannot be written.
absl::Status write_decode_bench_capture(const DecodeBenchOptions& options);
// Writes the capture and runs the three readers on it. Fails if the capture cannot
// be written or the project's decoder does not see every frame.
absl::StatusOr<DecodeBenchResult> run_decode_bench(const DecodeBenchOptions& options);
// The table: per reader seconds, frames/s, MB/s and its time over the decoder's.
std::string format_decode_bench(const DecodeBenchResult& result);

}  // namespace splitpath::sim
