// Multipath failover (figures 11 and 12). A VSEG with alternate paths has a
// redirect entry per path to the same device. When a path it uses fails — its
// N_Port left the name server (the switch's RSCN: link down, port logged
// out) — the CP:
//   1. tests the alternates in order: one still in the name server gets a
//      TEST UNIT READY (an unlinked FPDispatchIO) from a port whose virtual
//      initiator is logged in through it; a status back (GOOD, or CHECK
//      CONDITION such as UNIT ATTENTION) proves the path, a transport error
//      or no answer within path_test_timeout_ns fails it;
//   2. switches to the first that answers with a restrictive update over the
//      extents the failed path served (restrictive_update.cc): FPRemoveMapping,
//      the FP I/Os pending there aborted at once (the path will never answer)
//      and completed to their hosts with ABORTED COMMAND / LOGICAL UNIT
//      COMMUNICATION FAILURE, the CP's own legs there aborted likewise; then
//      per entry (figure 11) the extents move to the alternate's redirect
//      entry, or globally (figure 12) the redirect entry they use gets the
//      alternate's storage descriptor (FPReplaceMapping to the FPs);
//   3. the held I/Os and the hosts' retries then run on the new path, through
//      the FPs again once they reload the extents.
// No path answering leaves the VSEG as it was (failovers_without_path).
//
// Failback (VolumeDef::failback, dm-multipath's "failback immediate"): when
// the first path's N_Port is back in the name server and extents of the VSEG
// still use another path, the CP tests the first path the same way and, if it
// answers, switches back with a restrictive update that drains normally (the
// path in use still works, so nothing is aborted).
#include <algorithm>

#include "cp/control_path_impl.h"
#include "cp/path_switch.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/scsi_cdb.h"

namespace splitpath::cp {

namespace {
// Tries of one alternate whose login is not done before it counts as failed.
constexpr uint32_t kMaxRetests = 100;
}  // namespace

void ControlPath::Impl::check_paths(uint32_t port_id) {
  std::vector<std::pair<uint32_t, uint32_t>> failed;  // (vseg, path)
  std::vector<uint32_t> returned;                     // VSEGs whose first path is back
  for (const auto& [id, seg] : metadata.vsegs()) {
    if (!seg.multipath) continue;
    const std::vector<uint32_t>& paths = seg.multipath->path_disks;
    for (uint32_t p = 0; p < paths.size(); ++p) {
      const Disk& d = metadata.disks()[paths[p]];
      if (d.port_id != (port_id & map::kPortIdMask)) continue;
      if (env.find_port_id(d.wwpn)) {  // registered (again): the path is there
        if (p == 0) returned.push_back(id);
        continue;
      }
      if (extents_on_path(seg, p).length == 0) continue;
      failed.emplace_back(id, p);
    }
  }
  for (const auto& [vseg_id, path] : failed)
    path_failed(vseg_id, path);
  for (uint32_t vseg_id : returned)
    maybe_fail_back(vseg_id);
}

void ControlPath::Impl::maybe_fail_back(uint32_t vseg_id) {
  const Vseg* seg = metadata.vseg(vseg_id);
  if (!seg || !seg->multipath || !seg->multipath->failback) return;
  const Disk& first = metadata.disks()[seg->multipath->path_disks[0]];
  if (!first.port_id || !env.find_port_id(first.wwpn)) return;
  std::optional<uint32_t> in_use;
  for (uint32_t p = 1; p < seg->multipath->path_disks.size() && !in_use; ++p) {
    if (extents_on_path(*seg, p).length > 0) in_use = p;
  }
  if (!in_use) return;
  auto [it, inserted] = failovers.try_emplace(vseg_id);
  if (!inserted) return;  // a failover is under way; its end looks again
  it->second.from = *in_use;
  it->second.failback = true;
  spdlog::info("cp: VSEG {} path 0 is back; testing it to fail back from path {}", vseg_id,
               *in_use);
  test_next_path(vseg_id);
}

void ControlPath::Impl::path_failed(uint32_t vseg_id, uint32_t path) {
  ++stats.paths_failed;
  auto [it, inserted] = failovers.try_emplace(vseg_id);
  if (!inserted) return;  // a failover of this VSEG is under way
  it->second.from = path;
  spdlog::info("cp: VSEG {} path {} failed; testing its alternates", vseg_id, path);
  test_next_path(vseg_id);
}

void ControlPath::Impl::test_next_path(uint32_t vseg_id) {
  auto it = failovers.find(vseg_id);
  const Vseg* seg = metadata.vseg(vseg_id);
  if (it == failovers.end() || !seg || !seg->multipath) return;
  Failover& f = it->second;
  const std::vector<uint32_t>& paths = seg->multipath->path_disks;
  f.attempt = next_failover_attempt++;
  const uint64_t attempt = f.attempt;
  while (f.next_candidate < paths.size() && !(f.failback && f.next_candidate > 0)) {
    const uint32_t path = f.next_candidate;
    const uint32_t disk = paths[path];
    const Disk& d = metadata.disks()[disk];
    if (path == f.from || !d.port_id || !env.find_port_id(d.wwpn)) {
      ++f.next_candidate;  // the failed path, or one the name server does not have
      f.retests = 0;
      continue;
    }
    std::optional<uint32_t> via;
    for (uint32_t q = 0; q < port_count() && !via; ++q) {
      if (disk_ready(q, disk)) via = q;
    }
    if (!via) {
      if (++f.retests > kMaxRetests) {
        ++f.next_candidate;
        f.retests = 0;
        continue;
      }
      // Log in through this path from the ports that used the failed one,
      // and test again once that may be done.
      const uint32_t from_disk = paths[f.from];
      bool asked = false;
      for (uint32_t q = 0; q < port_count(); ++q) {
        if (from_disk < logins[q].size() && logins[q][from_disk].wanted) {
          want_login(q, disk);
          asked = true;
        }
      }
      if (!asked && port_count() > 0) want_login(0, disk);
      later(config.path_retest_ns, [this, vseg_id, attempt] {
        auto it = failovers.find(vseg_id);
        if (it != failovers.end() && it->second.attempt == attempt) test_next_path(vseg_id);
      });
      return;
    }
    fpapi::FpDispatchIO tur;
    tur.dtag = next_dtag++;
    if (next_dtag == fpapi::kNoTag) next_dtag = 1;
    tur.utag = fpapi::kNoTag;
    tur.target_id = *d.port_id;
    tur.lun = seg->redirects[path].descriptor.element(0).lun;
    tur.direction = fpapi::DataDirection::kNone;
    tur.cdb_length = 6;
    tur.data_length = 0;
    tur.cdb[0] = fc::scsi_op::kTestUnitReady;
    link.send(*via, tur);
    ++stats.path_tests;
    path_tests[tur.dtag] = PathTest{vseg_id, path, attempt};
    later(config.path_test_timeout_ns, [this, dtag = tur.dtag, vseg_id, attempt] {
      auto t = path_tests.find(dtag);
      if (t == path_tests.end() || t->second.attempt != attempt) return;
      path_tests.erase(t);
      ++stats.paths_failed;
      auto it = failovers.find(vseg_id);
      if (it == failovers.end()) return;
      ++it->second.next_candidate;
      it->second.retests = 0;
      test_next_path(vseg_id);
    });
    return;
  }
  if (f.failback) {
    spdlog::info("cp: VSEG {}: path 0 does not answer; staying on path {}", vseg_id, f.from);
  } else {
    ++stats.failovers_without_path;
    spdlog::warn("cp: VSEG {}: no alternate path answers; I/Os on its failed path fail", vseg_id);
  }
  failovers.erase(it);
}

bool ControlPath::Impl::on_path_test_complete(const fpapi::CpDispatchIOComplete& c) {
  auto t = path_tests.find(c.dtag);
  if (t == path_tests.end()) return false;
  const PathTest test = t->second;
  path_tests.erase(t);
  auto it = failovers.find(test.vseg_id);
  if (it == failovers.end() || it->second.attempt != test.attempt) return true;
  // Any SCSI status proves the path carries commands to the device; a unit
  // attention (the device saw its other port go) is what a path switch expects.
  const bool answered = !c.transport_error && (c.scsi_status == fc::scsi_status::kGood ||
                                               c.scsi_status == fc::scsi_status::kCheckCondition);
  if (!answered) {
    ++stats.paths_failed;
    ++it->second.next_candidate;
    it->second.retests = 0;
    test_next_path(test.vseg_id);
    return true;
  }
  switch_to_path(test.vseg_id, test.path);
  return true;
}

void ControlPath::Impl::switch_to_path(uint32_t vseg_id, uint32_t to) {
  auto it = failovers.find(vseg_id);
  const Vseg* seg = metadata.vseg(vseg_id);
  if (it == failovers.end() || !seg) return;
  const uint32_t from = it->second.from;
  const bool failback = it->second.failback;
  it->second.updating = true;
  const PathRange range = extents_on_path(*seg, from);
  if (range.length == 0) {  // an update since moved every extent off it
    failovers.erase(it);
    return;
  }
  const Volume* vol = metadata.volume_by_lv(seg->lv_id);
  Update u;
  u.id = next_update_id++;
  u.change.volume = vol ? vol->name : std::string();
  u.change.lba = seg->descriptor.virtual_start_lba + range.start;
  u.change.blocks = range.length;
  u.vseg_id = vseg_id;
  u.start = range.start;
  u.length = range.length;
  u.path_failed = !failback;
  u.apply = [this, vseg_id, from, to, failback] {
    Vseg* s = metadata.vseg(vseg_id);
    if (!s || !s->multipath) return;
    const uint32_t to_disk = s->multipath->path_disks[to];
    const PathSwitch done = switch_path(s, from, to, metadata.disks()[to_disk].port_id.value_or(0));
    for (map::RedirectIndex index : done.changed) {
      // Ports not logged in through the new path load it on their next miss.
      for (uint32_t p = 0; p < port_count(); ++p) {
        loaded_redirects.erase(redirect_key(p, vseg_id, index));
        if (disk_ready(p, to_disk)) send_redirect(p, *s, index, fpapi::MsgType::kFpReplaceMapping);
      }
    }
    ++(failback ? stats.path_failbacks : stats.path_failovers);
    spdlog::info("cp: VSEG {} {} from path {} to path {} ({}: {} extents, {} entries)", vseg_id,
                 failback ? "failed back" : "switched", from, to,
                 s->multipath->policy == MultipathPolicy::kGlobal ? "global" : "per entry",
                 done.extents_moved, done.changed.size());
  };
  // Once done, the first path may be back (a failover) or extents may still
  // use a third path (per entry, after two failovers): look again.
  u.done = [this, vseg_id](bool) {
    failovers.erase(vseg_id);
    maybe_fail_back(vseg_id);
  };
  updates.push_back(std::move(u));
  if (!update_active) begin_update();
}

}  // namespace splitpath::cp
