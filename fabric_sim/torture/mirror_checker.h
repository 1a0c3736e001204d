// The mirror invariant: the sides of a mirror never differ where the hosts
// were told every write succeeded. Racing acknowledged writes to one mirror
// (from two ports' FPs, or an FP and the CP) must reach every side in the same
// order (write serialization, figures 16-17 of the specification), so at the
// end of a run every side of every mirrored VSEG holds the same data in every
// block no failed write touched. A write that failed (error status, ABTS, a
// host link lost, still open at the end) may have reached some sides only:
// its units are left out. A side the CP has marked DEAD (or is still
// resynchronizing) holds older data by design: only the ALIVE sides are
// compared; a side resynchronized back to ALIVE must match again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fabric_sim/run/fabric.h"
#include "fabric_sim/torture/host_io.h"
#include "fabric_sim/torture/scenario.h"
#include "fabric_sim/torture/violation.h"

namespace splitpath::sim::torture {

// What a 512-byte unit on a disk holds, for a violation's history: the
// write (writer, generation) whose stamp it carries, zeros, or neither.
std::string describe_unit(const uint8_t* unit);

class MirrorChecker {
 public:
  explicit MirrorChecker(const TortureScenario& scenario) : scenario_(scenario) {}

  // A host write ended; `acknowledged` if the host got GOOD.
  void end_write(const HostIo& io, bool acknowledged);
  // Compares every side of every mirrored VSEG, block by block, outside the
  // units of failed writes. Call once the run has drained.
  std::optional<Violation> check(const Fabric& fabric, SimTime now);

  uint64_t blocks_compared() const { return compared_; }
  uint64_t blocks_skipped() const { return skipped_; }
  // A failed write touched this 512-byte unit of the volume.
  bool failed_unit(size_t volume, uint64_t unit) const;

 private:
  const TortureScenario& scenario_;
  // Per volume, per 512-byte unit: 1 if a failed write touched it (sized on
  // demand).
  std::vector<std::vector<uint8_t>> failed_;
  uint64_t compared_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace splitpath::sim::torture
