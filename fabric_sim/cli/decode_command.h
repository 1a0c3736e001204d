// `splitpath decode TRACE [--json] [--frames|--no-frames] [--limit N]`: decodes an
// FC trace (pcap or pcapng; link types 224, 225, or Ethernet carrying FCoE) with
// the project's codecs: a listing of one line per frame, then a summary per
// initiator / target / LUN, the problems found and what was skipped; --json
// prints one JSON object instead (fabric_sim/trace/decode_report.h has its schema).
//
// Returns the exit status: 0 when the trace was decoded, even if some frames had
// problems (they are reported); 2 for bad arguments, a file that cannot be read
// as a capture, or an unsupported link type (the message names the file).
#pragma once

#include <string>
#include <vector>

int decode_command(const std::vector<std::string>& args);
