// The SCSI command stream of an FC trace, as `splitpath replay` re-issues it:
// every FCP command with its CDB, LUN, direction, FCP_DL and the write data the
// trace holds, and what the trace says happened to it (status, sense key, bytes
// moved, latency); the ports seen (N_Port ID -> WWPN, learnt from FLOGI, FDISC
// and PLOGI and their ACCs); per target and LUN the capacity the trace shows
// (READ CAPACITY data, or the largest LBA touched); and per target and initiator
// the LUNs its REPORT LUNS answers listed (the LUN masking the trace shows).
//
// Extraction never fails on bad input: what the reader and the exchange tracker
// report (a file cut short, short or corrupt frames, bad CRCs, exchanges missing
// their command) is kept as problems with frame numbers, and commands that cannot
// be replayed (task management, an FCP_CMND that does not decode, a multi-level
// LUN) are left out and counted by reason.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fabric_sim/trace/trace_reader.h"
#include "splitpath/fc/frame_header.h"

namespace splitpath::sim::replay {

// Write data kept per command; a trace's FCP_DL is not trusted to size a buffer.
inline constexpr uint32_t kMaxBufferedWrite = 64u << 20;

// One FCP command of the trace.
struct TraceCommand {
  uint64_t exchange = 0;  // trace::Exchange::id
  uint64_t frame = 0;     // frame number of the FCP_CMND
  uint64_t time_ns = 0;   // capture time of the FCP_CMND
  fc::FcId initiator;
  fc::FcId target;
  uint16_t lun = 0;
  std::vector<uint8_t> cdb;  // as sent (cdb_length bytes)
  uint8_t opcode = 0;
  std::optional<uint64_t> lba;     // READ/WRITE and SYNCHRONIZE CACHE
  std::optional<uint32_t> blocks;  // same commands
  uint32_t fcp_dl = 0;
  bool read_data = false;   // RDDATA
  bool write_data = false;  // WRDATA
  // Write data as captured, by relative offset, up to the last byte the trace
  // holds (at most FCP_DL and kMaxBufferedWrite bytes); bytes the trace lacks
  // are zero or past the end, counted in write_data_missing (the replay pads
  // with a pattern).
  std::vector<uint8_t> data_out;
  uint32_t write_data_missing = 0;

  // The outcome in the trace. Only answered commands are compared.
  bool answered = false;  // an FCP_RSP was seen
  uint8_t status = 0;
  std::optional<uint8_t> sense_key;
  std::optional<uint8_t> asc;
  std::optional<uint8_t> ascq;
  uint64_t data_in = 0;                // FCP_DATA bytes from the target
  uint64_t data_out_bytes = 0;         // FCP_DATA bytes from the initiator
  std::optional<uint64_t> latency_ns;  // FCP_CMND to FCP_RSP
};

// Why a command of the trace is not in the stream.
struct CommandsSkipped {
  uint64_t task_management = 0;    // TMF set: nothing to replay as a SCSI command
  uint64_t undecoded_command = 0;  // FCP_CMND payload that does not decode
  uint64_t multi_level_lun = 0;    // only single-level LUNs (0..16383) are replayed
};

struct LunExtent {
  uint32_t block_size = 0;       // from READ CAPACITY; 0: unknown
  uint64_t capacity_blocks = 0;  // from READ CAPACITY; 0: unknown
  uint64_t end_lba = 0;          // largest LBA + blocks touched by a command
};

// What a target's REPORT LUNS answers (GOOD status) told one initiator.
struct ReportedLuns {
  // Every answer's LUN list was whole in the trace (not cut short by the
  // allocation length, no FCP_DATA missing); false: `luns` may lack some.
  bool complete = true;
  std::set<uint16_t> luns;  // the single-level LUNs listed, over all answers
};

struct TraceCommandStream {
  std::string file;
  int link_type = 0;
  uint64_t records = 0;                // capture records read
  uint64_t frames = 0;                 // FC frames among them
  std::vector<TraceCommand> commands;  // in trace order (FCP_CMND frame order)
  std::map<uint32_t, uint64_t> wwpns;  // N_Port ID -> WWPN, as the trace shows them
  // Per target N_Port ID and LUN.
  std::map<std::pair<uint32_t, uint16_t>, LunExtent> luns;
  // Per target and initiator N_Port ID: what the REPORT LUNS answers listed.
  // Only pairs with at least one answered GOOD REPORT LUNS are present.
  std::map<std::pair<uint32_t, uint32_t>, ReportedLuns> report_luns;
  std::vector<trace::TraceProblem> problems;  // by frame number
  trace::TraceSkipped reader_skipped;
  uint64_t undecoded_headers = 0;
  uint64_t missing_command = 0;  // frames of exchanges whose FCP_CMND/request is not in the trace
  CommandsSkipped skipped;
  absl::Status read_error;  // OK, or where reading stopped early

  // Initiators and targets of the stream's commands, in first-seen order.
  std::vector<fc::FcId> initiators() const;
  std::vector<fc::FcId> targets() const;
  // The WWPN the trace shows for `id`, or 0.
  uint64_t wwpn_of(fc::FcId id) const;
};

// Reads the whole trace. Never fails: problems are recorded in the result.
TraceCommandStream extract_commands(trace::TraceReader& reader);

}  // namespace splitpath::sim::replay
