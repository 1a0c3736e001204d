// Runs a trace's command stream through a simulated fabric and compares each
// command's outcome with the trace.
//
// The fabric is built from the plan's topology. Every host's own job is stopped
// before it starts: hosts still log in and discover (FLOGI, name server, PLOGI,
// PRLI, REPORT LUNS, READ CAPACITY), and the replay waits until each mapped host
// has logged in to each target it must reach (at most ReplayOptions::ready_ns of
// simulated time; commands to a target still unreachable then are skipped and
// counted), plus a settle time for the discovery commands to finish. From then
// on, each command of a mapped initiator is sent by its host with
// Host::submit_command: the trace's CDB, LUN (mapped), FCP_DL and direction; the
// trace's write data, or for a write whose data the trace lacks a deterministic
// pattern (byte i of command k is (k * 131 + i) mod 256).
//
// Modes (commands of one initiator/target/LUN always start in trace order):
//   timed        each command at its trace time relative to the first command;
//   fast         as soon as fewer commands of its ITL are in flight than the
//                trace ever had at once (trace_concurrency);
//   closed-loop  one command per ITL at a time: the next starts when the
//                previous one's FCP_RSP arrives.
// In every mode a write's data goes out only when the target's XFER_RDY asks
// for it, as the simulated host always does. A host out of command slots holds
// the command until one of its commands completes.
//
// Comparison, for commands the trace answered (FCP_RSP seen): SCSI status; the
// sense key when both are CHECK CONDITION; data length (FCP_DATA bytes in the
// command's direction), except when the trace shows no data frame at all for a
// command that moved data with GOOD status (a capture that dropped data frames).
// A command the simulation timed out is a status mismatch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/node/latency_histogram.h"
#include "fabric_sim/replay/replay_plan.h"
#include "fabric_sim/replay/trace_commands.h"
#include "fabric_sim/switch/virtualization_stats.h"

namespace splitpath::sim::replay {

enum class ReplayMode : uint8_t { kTimed, kFast, kClosedLoop };
const char* replay_mode_name(ReplayMode mode);  // "timed", "fast", "closed-loop"
std::optional<ReplayMode> parse_replay_mode(std::string_view text);

struct ReplayOptions {
  ReplayMode mode = ReplayMode::kTimed;
  std::string pcap_path;             // empty: no output capture
  SimTime ready_ns = 1 * kNsPerSec;  // longest wait for logins
  SimTime settle_ns = 2 * kNsPerMs;  // then, for discovery to finish
};

// What happened to one command of the stream in the simulation.
struct CommandOutcome {
  bool replayed = false;  // sent by a simulated host
  bool done = false;      // FCP_RSP or timeout
  std::string skipped;    // why it was not replayed (empty when replayed)
  bool timed_out = false;
  uint8_t status = 0;
  std::optional<uint8_t> sense_key;
  uint8_t asc = 0;
  uint8_t ascq = 0;
  uint64_t data_length = 0;  // FCP_DATA bytes in the command's direction
  SimTime issued_at = 0;     // simulated time, from the start of the replay
  SimTime latency_ns = 0;
  bool compared = false;
  std::string mismatch;  // empty: agrees with the trace (or not compared)
};

struct SwitchReplayStats {
  std::string name;
  SwitchVirtualizationStats virtualization;
};

struct ReplayResult {
  ReplayMode mode = ReplayMode::kTimed;
  std::vector<CommandOutcome> outcomes;  // one per stream command, same order
  uint64_t replayed = 0;
  uint64_t compared = 0;
  uint64_t mismatches = 0;
  uint64_t skipped = 0;            // commands not replayed (unmapped, unreachable)
  uint64_t unanswered = 0;         // replayed, but the trace has no FCP_RSP to compare with
  uint64_t sim_timeouts = 0;       // commands the simulation timed out
  SimTime start_ns = 0;            // simulated time the replay began (after logins)
  SimTime duration_ns = 0;         // from the start to the last completion
  uint64_t trace_span_ns = 0;      // first FCP_CMND to the last FCP_RSP in the trace
  LatencyHistogram trace_latency;  // compared commands, in the trace
  LatencyHistogram sim_latency;    // the same commands, simulated
  std::vector<SwitchReplayStats> switches;
  uint64_t captured_frames = 0;
};

// Builds the fabric, replays, compares. Fails only when the fabric cannot be
// built (e.g. the output capture cannot be written).
absl::StatusOr<ReplayResult> run_replay(const TraceCommandStream& stream, const ReplayPlan& plan,
                                        const ReplayOptions& options);

}  // namespace splitpath::sim::replay
