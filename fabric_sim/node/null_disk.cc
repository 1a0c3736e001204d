#include "fabric_sim/node/null_disk.h"

#include "fabric_sim/topology/topology_validate.h"

namespace splitpath::sim {

DiskConfig null_disk_config(const std::string& name, uint64_t wwpn, const AttachConfig& attach,
                            uint64_t blocks, uint32_t block_size) {
  DiskConfig d;
  d.name = name;
  d.wwpn = wwpn;
  d.attach = attach;
  d.luns.push_back(LunConfig{0, blocks, block_size});
  d.latency_ns = 0;
  // Unused with null_data (there is no media time); the largest valid value.
  d.bandwidth_mb_s = kMaxBandwidthMbS;
  d.queue_depth = kMaxQueueDepth;
  d.null_data = true;
  return d;
}

}  // namespace splitpath::sim
