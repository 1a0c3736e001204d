// Write serialization for mirrors (figures 16-17): who may write an extent of
// a mirrored VSEG. An FP serializes only the writes in its own upstream
// pending list (figure 16), so at most one holder writes a mirror extent at a
// time: one port's FP, or the CP.
//   - A miss from a port gets the extent (CONTINUE) if no one holds it or
//     that port already does; otherwise the I/O is queued to the CP and the
//     holding FP's extent is revoked, so the next miss can take it.
//   - A CP-owned write into a mirror extent (one the FP faulted for
//     serialization, or that spans extents, ...) takes the authority first:
//     from an FP by revoking the extent there (FPRemoveMapping) and waiting
//     for that FP's I/Os into it to drain (FPQueryPendingIOs by timestamp,
//     FPAbortPendingIOs after drain_timeout_ns); then it dispatches one leg
//     per side (FPDispatchIO copies), held back while another CP write into
//     the same blocks is out. When the CP's last write into the extent ends,
//     the authority goes back to the FP it was taken from (FPAddMapping).
#include <algorithm>

#include "cp/control_path_impl.h"

namespace splitpath::cp {

namespace {

// A VSEG whose writes are split (a mirror, or a journal: its records must
// replay in the order the writes were made).
bool is_mirror(const Vseg& seg, map::RedirectIndex index) {
  return index < seg.redirects.size() &&
         (seg.redirects[index].descriptor.mirrored() ||
          seg.redirects[index].descriptor.kind == map::StorageKind::kJournal);
}

}  // namespace

void ControlPath::Impl::load_extent(uint32_t port, const Vseg& seg, const map::Extent& e) {
  if (seg.journal_area) journal_set(seg).may_write.insert(port);
  if (!loaded_redirects.contains(redirect_key(port, seg.descriptor.id, e.redirect_index))) {
    send_redirect(port, seg, e.redirect_index, fpapi::MsgType::kFpAddMapping);
  }
  fpapi::FpMapping m;
  m.req_id = fpapi::kNoTag;
  m.kind = fpapi::MappingKind::kExtent;
  m.vseg.id = seg.descriptor.id;
  m.extent = e;
  link.send_as(port, fpapi::MsgType::kFpAddMapping, m);
}

bool ControlPath::Impl::is_mirror_write(const fpapi::UpstreamIo& io) const {
  const Lun* lun = metadata.lun(io.target_id, io.lun);
  const size_t n =
      std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
  const std::optional<RwRequest> rw = decode_rw(std::span<const uint8_t>(io.cdb.data(), n));
  if (!lun || !rw || !rw->write) return false;
  const Vseg* seg = metadata.vseg_at(lun->lv_id, rw->lba);
  if (!seg) return false;
  const map::Extent* e = seg->extent_at(rw->lba - seg->descriptor.virtual_start_lba);
  return e && is_mirror(*seg, e->redirect_index);
}

bool ControlPath::Impl::grant_mirror_to_fp(uint32_t port, const Vseg& seg, const map::Extent& e) {
  if (config.skip_serialization_for_testing || !is_mirror(seg, e.redirect_index)) return true;
  // A shared mirror: this DVE first needs the cluster's write authority.
  if (!dve_may_write(seg.descriptor.id, e.start, e.length)) return false;
  MirrorAuthority& a = mirror_authority[{seg.descriptor.id, e.start}];
  a.vseg_id = seg.descriptor.id;
  a.start = e.start;
  a.length = e.length;
  switch (a.state) {
    case MirrorAuthority::State::kNone:
      a.state = MirrorAuthority::State::kFp;
      a.port = port;
      a.give_back = false;
      return true;
    case MirrorAuthority::State::kFp:
      if (a.port == port) return true;
      revoke_mirror(a, /*give_back=*/false);
      return false;
    case MirrorAuthority::State::kRevoking:
    case MirrorAuthority::State::kCp:
      return false;
  }
  return false;
}

bool ControlPath::Impl::mirror_write_may_go(uint64_t key, CpIo& io, const LegPlan& plan) {
  if (config.skip_serialization_for_testing || !plan.mirror) return true;
  const MirrorExtentKey k{plan.vseg_id, plan.extent_start};
  const bool held =
      std::find(io.mirror_holds.begin(), io.mirror_holds.end(), k) != io.mirror_holds.end();
  if (!held) {
    if (!dve_may_write(plan.vseg_id, plan.extent_start, plan.extent_length)) return false;
    MirrorAuthority& a = mirror_authority[k];
    a.vseg_id = plan.vseg_id;
    a.start = plan.extent_start;
    a.length = plan.extent_length;
    switch (a.state) {
      case MirrorAuthority::State::kFp:
        revoke_mirror(a, /*give_back=*/a.port == io.port);
        return false;
      case MirrorAuthority::State::kRevoking:
        return false;
      case MirrorAuthority::State::kNone:
        a.state = MirrorAuthority::State::kCp;
        a.cp_holders = 0;
        break;
      case MirrorAuthority::State::kCp:
        break;
    }
    ++a.cp_holders;
    io.mirror_holds.push_back(k);
  }
  // The CP's own writes into the same blocks go one at a time.
  for (const auto& [dtag, leg] : legs) {
    if (leg.mirror_write && leg.io_key != key && leg.vseg_id == plan.vseg_id &&
        leg.start < plan.vseg_lba + plan.blocks && plan.vseg_lba < leg.start + leg.blocks) {
      ++stats.mirror_write_waits;
      return false;
    }
  }
  return true;
}

void ControlPath::Impl::release_mirror_holds(CpIo& io) {
  for (const MirrorExtentKey& k : io.mirror_holds) {
    auto it = mirror_authority.find(k);
    if (it == mirror_authority.end() || it->second.state != MirrorAuthority::State::kCp) continue;
    MirrorAuthority& a = it->second;
    if (a.cp_holders > 0) --a.cp_holders;
    if (a.cp_holders > 0) continue;
    a.state = MirrorAuthority::State::kNone;
    // Figure 17's last step: the FP the write was taken from gets the extent
    // back, unless it changed meanwhile.
    const Vseg* seg = metadata.vseg(a.vseg_id);
    const map::Extent* e = seg ? seg->extent_at(a.start) : nullptr;
    if (a.give_back && e && e->start == a.start && !updating(a.vseg_id, e->start, e->length) &&
        dve_holds(a.vseg_id, e->start, e->length) && entry_ready(a.port, *seg, e->redirect_index)) {
      a.state = MirrorAuthority::State::kFp;
      load_extent(a.port, *seg, *e);
    }
    a.give_back = false;
  }
  io.mirror_holds.clear();
}

void ControlPath::Impl::revoke_mirror(MirrorAuthority& a, bool give_back) {
  a.state = MirrorAuthority::State::kRevoking;
  a.give_back = give_back;
  a.revoke_id = next_revoke_id++;
  a.began_ns = env.now_ns();
  a.aborted = false;
  ++stats.mirror_revokes;
  fpapi::FpMapping m;
  m.req_id = link.next_req_id();
  m.kind = fpapi::MappingKind::kExtent;
  m.vseg.id = a.vseg_id;
  m.extent.start = a.start;
  m.extent.length = a.length;
  const MirrorExtentKey k{a.vseg_id, a.start};
  link.expect_reply(m.req_id, [this, k, id = a.revoke_id](const fpapi::FpReply& r) {
    auto it = mirror_authority.find(k);
    if (it == mirror_authority.end() || it->second.revoke_id != id) return;
    it->second.started_by_ns = r.now_ns;
    poll_mirror_drain(k, id);
  });
  link.send_as(a.port, fpapi::MsgType::kFpRemoveMapping, m);
}

void ControlPath::Impl::poll_mirror_drain(MirrorExtentKey k, uint64_t revoke_id) {
  auto it = mirror_authority.find(k);
  if (it == mirror_authority.end() || it->second.revoke_id != revoke_id ||
      it->second.state != MirrorAuthority::State::kRevoking) {
    return;
  }
  const MirrorAuthority& a = it->second;
  fpapi::PendingFilter f;
  f.vseg_id = a.vseg_id;
  f.start = a.start;
  f.length = a.length;
  f.started_by_ns = a.started_by_ns;
  f.owner = fpapi::kOwnerFp;
  fpapi::FpQueryPendingIOs q;
  q.req_id = link.next_req_id();
  q.filter = f;
  const uint32_t port = a.port;
  link.expect_pending_reply(
      q.req_id, [this, k, revoke_id, f, port](const fpapi::FpQueryPendingIOsReply& r) {
        auto it = mirror_authority.find(k);
        if (it == mirror_authority.end() || it->second.revoke_id != revoke_id) return;
        MirrorAuthority& a = it->second;
        if (r.count == 0) return mirror_revoked(k, revoke_id);
        ++stats.drain_waits;
        if (!a.aborted && env.now_ns() - a.began_ns >= config.drain_timeout_ns) {
          // Stuck I/Os (a side that never answers): aborted, they come back
          // as kAborted and the CP reissues them under its own authority.
          a.aborted = true;
          fpapi::FpAbortPendingIOs ab;
          ab.req_id = link.next_req_id();
          ab.filter = f;
          link.expect_reply(ab.req_id, [this, k, revoke_id](const fpapi::FpReply&) {
            mirror_revoked(k, revoke_id);
          });
          link.send(port, ab);
          return;
        }
        later(config.drain_poll_ns, [this, k, revoke_id] { poll_mirror_drain(k, revoke_id); });
      });
  link.send(port, q);
}

void ControlPath::Impl::mirror_revoked(MirrorExtentKey k, uint64_t revoke_id) {
  auto it = mirror_authority.find(k);
  if (it == mirror_authority.end() || it->second.revoke_id != revoke_id ||
      it->second.state != MirrorAuthority::State::kRevoking) {
    return;
  }
  it->second.state = MirrorAuthority::State::kNone;
  retry_blocked();  // CP writes waiting for it take it now
}

}  // namespace splitpath::cp
