// `splitpath replay TRACE [--topology T.yaml] [--mode timed|fast|closed-loop]
//                  [--pcap OUT] [--json] [--seed N] [--log-level LEVEL]`:
// re-issues the SCSI commands of an FC trace from simulated initiators and
// compares each command's status, sense key and data length with the trace
// (fabric_sim/replay/: trace_commands.h extracts the stream, replay_plan.h builds
// or maps the fabric, replay_engine.h replays, replay_report.h prints).
//
// Returns the exit status: 0 when every compared command agreed with the trace
// (frames or commands skipped as bad input are reported, not failures); 1 when
// at least one command mismatched; 2 for bad arguments, a file that cannot be
// read as a capture, an unsupported link type, a bad topology file or an output
// capture that cannot be written.
#pragma once

#include <string>
#include <vector>

int replay_command(const std::vector<std::string>& args);
