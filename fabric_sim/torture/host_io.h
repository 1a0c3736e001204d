// One host READ or WRITE to a virtual LUN as the torture checkers see it: from
// the frames through the host's own switch (fabric_sim/torture/io_tracker.h),
// not from the host's own bookkeeping, so the checkers are independent of the
// host's verification.
#pragma once

#include <cstdint>
#include <vector>

#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/node/block_stamp.h"
#include "splitpath/fc/fcp.h"

namespace splitpath::sim::torture {

// What one 512-byte unit of data carried.
struct UnitData {
  bool seen = false;
  StampCheck check = StampCheck::kZero;
  BlockStamp stamp;
};

struct HostIo {
  uint64_t id = 0;      // serial, in order of the FCP_CMNDs
  uint32_t host = 0;    // N_Port ID
  uint32_t target = 0;  // virtual target N_Port ID
  uint16_t ox_id = 0;
  uint16_t lun = 0;
  bool write = false;
  size_t volume = 0;        // index in the topology's volumes
  uint64_t first_unit = 0;  // volume byte offset / 512
  uint32_t units = 0;
  SimTime issued = 0;          // FCP_CMND through the host's switch
  SimTime deadline = 0;        // by when its FCP_RSP or the host's ABTS must pass
  std::vector<UnitData> data;  // per unit: the stamps written or read
};

// How an I/O ends on its FCP_RSP, judged as the host (fabric_sim/node/host_io.cc)
// and real initiators judge it: GOOD status, no FCP-level error, no residual
// and, for a read, every byte of data. Class 3 frames lost in the fabric (a
// downed ISL) leave a read short even though its target sent everything and
// answered GOOD; the host fails such a read, so it is not a read of any data.
enum class IoEnd { kGood, kShortRead, kError };
IoEnd judge_response(const HostIo& io, const fc::FcpRsp& rsp);

}  // namespace splitpath::sim::torture
