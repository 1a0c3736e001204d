// The remote site of an asynchronous ordered replication (figure 32): an
// array behind its own links that receives, in its staging area, the
// journals the primary switch's copy agent ships, and keeps one image per
// replicated volume. When every journal of an epoch is staged, it merges
// their records (the last write per block wins, by the writers'
// timestamps: overlapping writes were ordered by write authority) and
// writes each block once into the images, which then hold the volumes as
// they were at that epoch's barrier; the staging slots are released.
// The array reads and writes its own disks' stores directly: it is the
// storage, not a fabric citizen.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cp/control_path.h"
#include "fabric_sim/node/disk.h"

namespace splitpath::sim {

struct ReplicationSiteStats {
  uint64_t epochs_applied = 0;
  uint64_t journals_read = 0;
  uint64_t records_applied = 0;
  uint64_t blocks_written = 0;     // after the merge
  uint64_t blocks_superseded = 0;  // written again later in the same epoch: not applied
  uint64_t last_barrier_ns = 0;    // the barrier the images are at
  uint64_t malformed_records = 0;  // records naming a volume without an image
};

class ReplicationSite {
 public:
  // Where volume `volume`'s image lives: block b at `lba` + b of LUN `lun`.
  struct Image {
    std::string volume;
    Disk* disk = nullptr;
    uint16_t lun = 0;
    uint64_t lba = 0;
  };

  ReplicationSite(cp::ControlPath& cp, std::string name, Disk* staging, uint16_t staging_lun,
                  std::vector<Image> images)
      : cp_(cp),
        name_(std::move(name)),
        staging_(staging),
        staging_lun_(staging_lun),
        images_(std::move(images)) {}

  // Applies `epoch` (the CP's on_shipped), then releases its staging slots.
  void apply(const cp::ShippedEpoch& epoch);

  const ReplicationSiteStats& stats() const { return stats_; }
  // Called after each epoch is applied (tests compare the images then).
  std::function<void(uint64_t epoch)> on_applied;

 private:
  cp::ControlPath& cp_;
  std::string name_;
  Disk* staging_;
  uint16_t staging_lun_;
  std::vector<Image> images_;
  ReplicationSiteStats stats_;
};

}  // namespace splitpath::sim
