// FCP task management at the virtual targets (SAM-5): LOGICAL UNIT RESET and
// TARGET RESET reset a logical unit (every one of the target for the latter).
// Resetting one aborts its tasks from every initiator (the I/Os the CP owns
// end without status, as the FCP initiator expects of aborted tasks),
// releases its SCSI-2 reservation (persistent reservations survive) and
// queues UNIT ATTENTION 29/00 (POWER ON, RESET, OR BUS DEVICE RESET OCCURRED)
// for every other I_T nexus through the LU's UA queue (lv_reconfig.cc). The
// FCP_RSP (GOOD) goes once every FP has the LU's new exposure, so a command
// the host sends after it meets the reset. ABORT TASK SET, CLEAR TASK SET
// and CLEAR ACA are answered GOOD: nothing is queued in the CP's task set
// beyond what ABTS covers.
#include "cp/control_path_impl.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "spdlog/spdlog.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {

// Aborted on their FPs, which hand them back (kAborted); marked aborting,
// they then end without status.
void ControlPath::Impl::abort_cp_tasks(uint32_t target, uint16_t lun) {
  for (auto& [key, io] : ios) {
    if ((io.io.target_id & 0xFFFFFF) != target || io.io.lun != lun || io.aborting) continue;
    io.aborting = true;
    fpapi::FpAbortPendingIOs a;
    a.req_id = fpapi::kNoTag;
    a.filter.utag = io.io.utag;
    a.filter.owner = fpapi::kAnyOwner;
    link.send(io.port, a);
  }
}

void ControlPath::Impl::reset_logical_unit(const Target& target, const Lun& lun, uint32_t initiator,
                                           std::vector<uint32_t>& reqs) {
  spdlog::info("cp: LOGICAL UNIT RESET of LUN {} of target {:06x} by {:06x}", lun.def.lun,
               target.port_id, initiator);
  // The LU is the volume: every (target, LUN) presenting it is reset.
  bool released = false;
  if (auto r = reservations.find(lun.lv_id); r != reservations.end()) {
    if (auto holder = r->second.scsi2_holder()) released = r->second.nexus_lost(*holder);
  }
  std::vector<uint32_t> hosts;
  for (const auto& [host, wwpn] : host_wwpn)
    hosts.push_back(host);
  std::sort(hosts.begin(), hosts.end());  // deterministic messages
  for (const Target& t : metadata.targets()) {
    for (const Lun& l : t.luns) {
      if (l.lv_id != lun.lv_id) continue;
      abort_cp_tasks(t.port_id, l.def.lun);
      bool queued = false;
      for (uint32_t host : hosts) {
        if (t.port_id == target.port_id && host == (initiator & 0xFFFFFF)) continue;
        if (!host_logins.contains(login_key(t.port_id, host)) || !allowed(l, host)) continue;
        queue_unit_attention(t.port_id, l.def.lun, host, fc::asc::kPowerOnReset);
        queued = true;
      }
      if (queued || released) {
        for (uint32_t req : expose_lun(t, l))
          reqs.push_back(req);
      }
    }
  }
}

void ControlPath::Impl::answer_task_management(uint32_t port, const fpapi::UpstreamIo& io) {
  const Target* target = metadata.target_by_port_id(io.target_id & 0xFFFFFF);
  const bool lu_reset = (io.task_management & fc::fcp_tmf::kLogicalUnitReset) != 0;
  const bool target_reset = (io.task_management & fc::fcp_tmf::kTargetReset) != 0;
  std::vector<uint32_t> reqs;
  if (target && (lu_reset || target_reset)) {
    for (const Lun& l : target->luns) {
      if ((target_reset || l.def.lun == io.lun) && allowed(l, io.initiator))
        reset_logical_unit(*target, l, io.initiator, reqs);
    }
  }
  if (reqs.empty()) {
    complete(port, io.utag, fc::scsi_status::kGood, {});
    return;
  }
  auto left = std::make_shared<size_t>(reqs.size());
  const uint32_t utag = io.utag;
  for (uint32_t req : reqs) {
    link.expect_reply(req, [this, left, port, utag](const fpapi::FpReply&) {
      if (--*left == 0) complete(port, utag, fc::scsi_status::kGood, {});
    });
  }
}

}  // namespace splitpath::cp
