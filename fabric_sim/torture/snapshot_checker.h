// Snapshots and incrementals in the torture run. Each image (a snapshot of a
// source volume, an incremental of a base) is declared in the scenario with
// storage of its own and presented as a LUN to the hosts that see its
// source; their jobs write it before it is taken and read it after.
//
// The checker judges with the durability checker's model (a linearizable
// register per unit, durability_checker.h), which it tells of each image
// once taken (DurabilityChecker::alias: the image is the source at an
// instant of the taking window, writes in flight across the window either
// way), so every GOOD host read of an image is judged as it passes. Besides:
//  - a snapshot and, after an incremental is taken, its base are read only:
//    a write to one issued after the image was taken that ends GOOD is a
//    violation (DATA PROTECT is what it must get);
//  - at the end of the run, once every snapshot's sweep has ended, each
//    snapshot's own storage (read from the disk stores: every block was
//    pushed there) and each base's blocks (where the harness's placement
//    says they live) are judged as one read of the whole volume;
//  - a snapshot the CP reports broken (SnapshotInfo::error: a push failed
//    under faults) is reported and no longer judged, as a failed migration
//    is; one that is never taken, or never swept, without such an error is
//    a violation (torture_run.cc waits for it).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fabric_sim/run/fabric.h"
#include "fabric_sim/torture/durability_checker.h"
#include "fabric_sim/torture/host_io.h"
#include "fabric_sim/torture/scenario.h"
#include "fabric_sim/torture/violation.h"

namespace splitpath::sim::torture {

class SnapshotChecker {
 public:
  enum class State : uint8_t { kRequested, kTaken, kFailed, kBroken };
  struct Image {
    FaultKind kind = FaultKind::kSnapshot;  // kSnapshot or kIncremental
    std::string name;                       // the image volume
    size_t source = 0;                      // volume indices
    size_t image = 0;
    uint64_t units = 0;  // 512-byte units of the volume
    SimTime requested = 0;
    SimTime done = 0;
    State state = State::kRequested;
    std::string error;  // kFailed, kBroken: why
  };

  explicit SnapshotChecker(DurabilityChecker& model) : model_(model) {}

  // The harness asked the CP for an image: returns its index.
  size_t requested(FaultKind kind, const std::string& name, size_t source, size_t image,
                   uint64_t units, SimTime at);
  // The CP's done callback: taken (the model learns the image) or not (its
  // content is unknown: no longer judged).
  void taken(size_t index, bool ok, SimTime at, const std::string& error = {});
  // The CP reports the snapshot's image is no longer exact (a failed push).
  void broken(size_t index, const std::string& error);
  // A host write ended: one to a read-only volume issued after it became
  // read only must not be acknowledged.
  std::optional<Violation> end_write(const HostIo& io, bool acknowledged);
  // Judges `data` (one UnitData per 512-byte unit from unit 0) as volume
  // `volume`'s content at `now`, for image `index` (its snapshot's storage,
  // or its base).
  std::optional<Violation> judge(size_t index, size_t volume, const std::vector<UnitData>& data,
                                 SimTime now, const std::string& what);

  // A volume's content read from the disk stores: `locate(block)` gives the
  // disk block of each volume block.
  static std::vector<UnitData> read_volume(const Fabric& fabric, uint64_t blocks,
                                           uint32_t block_size,
                                           const std::function<PlaceElement(uint64_t)>& locate);

  const std::vector<Image>& images() const { return images_; }
  const Image* image_of_volume(size_t volume) const;
  uint64_t refused_writes() const { return refused_writes_; }
  uint64_t units_judged() const { return units_judged_; }

 private:
  std::string describe(const Image& m) const;
  // The read the taking window holds open in the model.
  static HostIo window(const Image& m);

  DurabilityChecker& model_;
  std::vector<Image> images_;
  uint64_t refused_writes_ = 0;  // writes to read-only volumes that failed, as they must
  uint64_t units_judged_ = 0;
};

}  // namespace splitpath::sim::torture
