// A null disk, as SPDK's null bdev: a Disk that keeps no data (writes are
// dropped, reads return zeros; DiskConfig::null_data), answers after no media
// latency and moves data at no media cost, with a deep task set. Its I/Os cost
// only the frames of their exchanges, so a run over null disks measures the
// fabric, the switch and the split path, not storage. Hosts reading it turn
// verification off (WorkloadConfig::verify).
#pragma once

#include <cstdint>
#include <string>

#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

// The configuration of a null disk `name` with one LUN 0 of `blocks` blocks of
// `block_size` bytes, attached at `attach`.
DiskConfig null_disk_config(const std::string& name, uint64_t wwpn, const AttachConfig& attach,
                            uint64_t blocks, uint32_t block_size = 512);

}  // namespace splitpath::sim
