// An invariant violation found by a torture checker: which invariant, when, a
// one-line summary and the history that explains it (the last events that
// touched the block or range involved).
#pragma once

#include <string>
#include <vector>

#include "fabric_sim/kernel/kernel.h"

namespace splitpath::sim::torture {

// The invariants the checkers enforce, by the names reports use.
inline constexpr const char* kDurability = "durability";  // acknowledged writes are read back
inline constexpr const char* kRevocation = "revocation";  // no dispatch with a revoked mapping
inline constexpr const char* kProgress = "progress";      // every I/O ends; no deadlock
inline constexpr const char* kMirror = "mirror";          // the sides of a mirror agree
inline constexpr const char* kJournal = "journal";  // replaying the journals gives the data device
inline constexpr const char* kMigration = "migration";  // every migration started ends
// Every snapshot holds its source at its instant, every base stays as it was
// once an incremental is taken, images are read only and snapshots end.
inline constexpr const char* kSnapshot = "snapshot";
// Every VSEG split and merge the CP accepted ends (its done callback).
inline constexpr const char* kReconfig = "reconfig";
// Every mirror side failure the harness asked for and every resync of a
// mirror side (asked for, or started by the CP when a disk came back) ends;
// every mirror keeps an ALIVE side.
inline constexpr const char* kResync = "resync";
// At every epoch the remote array applies, each remote image equals its
// volume at the epoch's barrier; at the end every closed epoch but the last
// one is applied.
inline constexpr const char* kReplication = "replication";
// The DVE cluster keeps the oplock protocol's invariants (one acquirer, no
// cache during a restrictive update, no stale cache: OplockCluster checks
// them on every state change), and every update asked of a DVE that was
// neither crashed nor fenced since ends once every fault healed; every DVE
// is back online by then.
inline constexpr const char* kOplock = "oplock";

struct Violation {
  std::string invariant;  // one of the names above
  SimTime at = 0;
  std::string summary;
  std::vector<std::string> history;  // oldest first
};

}  // namespace splitpath::sim::torture
