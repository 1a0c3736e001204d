// The revocation invariant: no FP (or CP leg) dispatches with a mapping the CP
// has revoked. Every downstream FCP_CMND (S_ID a virtual initiator D.p.FF)
// that passes the switch it leaves from is checked against the placement of
// the VSEG blocks it touches: a command that reaches a VSEG's own place or its
// shadow area for a block that currently lives in the other one used a
// mapping that a completed restrictive update took away (and no later update
// gave back). One exception: a WRITE into the place a block is being copied
// into by a migration (Placement::copying_into: the block is in the copy
// barrier) is the copy agent's, and legitimate; a READ there is not. And a
// WRITE into the place a barrier block still lives in (the migration's source)
// is flagged: the barrier's writes wait in the CP until it moves (figure 23),
// or the copy could miss them. And a READ of the place a migrating VSEG's
// blocks leave, while a snapshot of its volume may still map them there
// (`snapshot_reads`: figure 33, the snapshot's chunks are pushed from there
// before the migration ends), is the snapshot's.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/torture/placement.h"
#include "fabric_sim/torture/scenario.h"
#include "fabric_sim/torture/violation.h"

namespace splitpath::sim::torture {

struct DownstreamCommand {
  SimTime at = 0;
  uint32_t initiator = 0;  // the virtual initiator
  std::string disk;
  uint16_t lun = 0;
  uint64_t lba = 0;
  uint32_t blocks = 0;
  bool write = false;
};

class RevocationChecker {
 public:
  // `updates(vseg)`: lines about the updates of that VSEG, for the report.
  using UpdateNotes = std::function<std::vector<std::string>(size_t vseg)>;
  RevocationChecker(const TortureScenario& scenario, const Placement& placement, UpdateNotes notes)
      : scenario_(scenario), placement_(placement), notes_(std::move(notes)) {}

  // Whether a snapshot may read VSEG `vseg`'s blocks in `place` although
  // they live in the other.
  void set_snapshot_reads(std::function<bool(size_t vseg, uint8_t place)> f) {
    snapshot_reads_ = std::move(f);
  }

  std::optional<Violation> on_command(const DownstreamCommand& c);
  uint64_t commands_checked() const { return checked_; }

 private:
  static constexpr size_t kRecent = 64;
  const TortureScenario& scenario_;
  const Placement& placement_;
  UpdateNotes notes_;
  std::function<bool(size_t, uint8_t)> snapshot_reads_;
  std::deque<DownstreamCommand> recent_;  // the last kRecent, for reports
  uint64_t checked_ = 0;
};

}  // namespace splitpath::sim::torture
