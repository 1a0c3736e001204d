// What one torture run is asked to do: its seed, how much host I/O it runs,
// which mechanisms are deliberately broken (to prove the checkers notice), and
// where its capture and event log go.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace splitpath::sim::torture {

// Mechanisms a test may switch off, one at a time; each then breaks an
// invariant a checker must report. None of them is reachable from a topology
// file: only from the torture command line and tests.
struct BrokenMechanisms {
  bool skip_drain = false;             // cp::CpConfig::skip_drain_for_testing
  bool fp_ignores_revocation = false;  // fp::FastPathConfig::ignore_remove_mapping_for_testing
  bool disk_late_writes = false;       // Disk::set_late_writes_for_testing
  // cp::CpConfig::resync_side_readable_for_testing: a returning mirror side
  // serves reads while it is resynchronized (stale data); tests only, the
  // command line has no --break for it.
  bool resync_readable = false;
  // Kind dve_cluster: a DVE caching an oplock answers a peer's acquire with an
  // ack without letting its cache go (the harness answers for it on the
  // coherency network); tests only, no --break for it either.
  bool dve_ack_keeps_cache = false;
  bool any() const {
    return skip_drain || fp_ignores_revocation || disk_late_writes || resync_readable ||
           dve_ack_keeps_cache;
  }
};

struct TortureOptions {
  uint64_t seed = 1;
  // Host I/Os (completed with GOOD status) after which the workload stops and
  // outstanding commands drain. The fault schedule is spread over them.
  uint64_t ops = 20'000;
  // The run also ends after this much simulated time, however many I/Os.
  uint64_t max_sim_ns = 120'000'000'000ull;
  BrokenMechanisms broken;
  // Forces every fault kind on (instead of the seed's random subset), for the
  // mechanism tests, so that the kind that exposes the mechanism runs.
  bool all_fault_kinds = false;
  // Fault kinds (by fault_kind_name) never enabled, e.g. a kind whose known
  // bug is not fixed yet, so a campaign can look for others.
  std::vector<std::string> without_kinds;
  // Empty: none. The capture holds every frame through the switch ports
  // (LINKTYPE_FC_2); the event log one line per I/O event, fault and update.
  std::string pcap_path;
  std::string event_log_path;
};

}  // namespace splitpath::sim::torture
