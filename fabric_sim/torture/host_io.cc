#include "fabric_sim/torture/host_io.h"

#include <algorithm>

#include "splitpath/fc/scsi_cdb.h"

namespace splitpath::sim::torture {

IoEnd judge_response(const HostIo& io, const fc::FcpRsp& rsp) {
  const bool good = rsp.scsi_status == fc::scsi_status::kGood &&
                    (rsp.rsp_info_length == 0 || rsp.rsp_code() == 0) && !rsp.resid_under &&
                    !rsp.resid_over;
  if (!good) return IoEnd::kError;
  if (!io.write &&
      std::any_of(io.data.begin(), io.data.end(), [](const UnitData& d) { return !d.seen; }))
    return IoEnd::kShortRead;
  return IoEnd::kGood;
}

}  // namespace splitpath::sim::torture
