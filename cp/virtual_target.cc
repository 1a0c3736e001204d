// The CP as the virtual targets: host logins (PLOGI/PRLI/LOGO, with LUN
// masking by the WWPN a PLOGI carries), ABTS, and the SCSI commands other than
// READ/WRITE, answered by cp/target's device server with FPPutData and
// FPQueueIOComplete.
#include <algorithm>
#include <memory>

#include "cp/control_path_impl.h"
#include "cp/target/els_responder.h"
#include "cp/target/scsi_target.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi_cdb.h"

namespace splitpath::cp {

void ControlPath::Impl::send_expose(uint32_t port, const Target& target, const Lun& lun,
                                    uint8_t extra_flags, std::span<const uint32_t> initiators,
                                    uint32_t req_id, bool masked) {
  const Volume* vol = metadata.volume_by_lv(lun.lv_id);
  fpapi::FpExpose e;
  e.req_id = req_id;
  e.target_id = target.port_id;
  e.lun = lun.def.lun;
  e.flags = extra_flags;
  if (lun.def.initiators.empty() && !masked) e.flags |= fpapi::expose_flags::kAnyInitiator;
  if (lun.def.read_only) e.flags |= fpapi::expose_flags::kReadOnly;
  e.lv_id = lun.lv_id;
  e.block_size = vol ? vol->block_size : 512;
  e.capacity_blocks = vol ? vol->blocks : 0;
  const size_t n = std::min<size_t>(initiators.size(), fpapi::kMaxInitiatorsPerExpose);
  e.initiator_count = static_cast<uint8_t>(n);
  for (size_t i = 0; i < n; ++i)
    e.initiators[i] = initiators[i];
  link.send(port, e);
}

std::vector<uint32_t> ControlPath::Impl::expose_lun(const Target& target, const Lun& lun) {
  std::vector<uint32_t> reqs;
  const bool masked =
      ua_exposures.contains(lun_key(target.port_id, lun.def.lun)) || reservation_masked(lun.lv_id);
  if (!masked && lun.def.initiators.empty()) {
    for (uint32_t p = 0; p < port_count(); ++p) {
      reqs.push_back(link.next_req_id());
      send_expose(p, target, lun, 0, {}, reqs.back());
    }
    return reqs;
  }
  // The initiators the FPs let through: those LUN masking granted at login
  // (kAppend); while UAs are pending or a reservation restricts access, the
  // logged-in ones without a UA that the reservation lets do anything.
  std::vector<uint32_t> list;
  for (const auto& [host, wwpn] : host_wwpn) {
    const bool pass =
        masked ? host_logins.contains(login_key(target.port_id, host)) && allowed(lun, host) &&
                     !pending_uas.contains(lun_host_key(target.port_id, lun.def.lun, host)) &&
                     reservation_fast_path(target, lun, host)
               : appended.contains(lun_host_key(target.port_id, lun.def.lun, host));
    if (pass) list.push_back(host);
  }
  std::sort(list.begin(), list.end());  // deterministic messages
  for (uint32_t p = 0; p < port_count(); ++p) {
    size_t off = 0;
    do {
      const size_t n = std::min<size_t>(fpapi::kMaxInitiatorsPerExpose, list.size() - off);
      reqs.push_back(link.next_req_id());
      send_expose(p, target, lun, off == 0 ? 0 : fpapi::expose_flags::kAppend,
                  std::span<const uint32_t>(list).subspan(off, n), reqs.back(), masked);
      off += n;
    } while (off < list.size());
  }
  return reqs;
}

void ControlPath::Impl::on_frame(uint32_t port, const fpapi::CpFrame& f) {
  std::span<const uint8_t> frame = f.frame.view();
  if (frame.size() < fc::kFrameHeaderSize) {
    ++stats.dropped;
    return;
  }
  const uint32_t d_id = fc::peek_d_id(frame.data()).value;
  const uint8_t r_ctl = frame[0];
  const uint8_t type = frame[8];
  const bool truncated = f.length > frame.size();
  if (const Target* t = metadata.target_by_port_id(d_id)) {
    if (r_ctl == fc::rctl::kElsRequest && type == fc::fc_type::kEls) {
      if (truncated) {
        env.send_frame(make_els_reject(frame, fc::ls_rjt_reason::kProtocolError,
                                       fc::ls_rjt_explanation::kNone));
        ++stats.els_answered;
        return;
      }
      on_target_els(port, *t, frame);
      return;
    }
    if (r_ctl == fc::rctl::kBlsAbts && type == fc::fc_type::kBls) {
      on_abts(port, frame);
      return;
    }
    ++stats.dropped;
    return;
  }
  for (uint32_t p = 0; p < port_count(); ++p) {
    if (env.virtual_initiator(p) == d_id) {
      on_vi_frame(p, frame);
      return;
    }
  }
  ++stats.dropped;
}

void ControlPath::Impl::on_target_els(uint32_t port, const Target& target,
                                      std::span<const uint8_t> frame) {
  (void)port;
  const uint32_t host = fc::peek_s_id(frame.data()).value;
  const uint64_t lkey = login_key(target.port_id, host);
  if (frame.size() > fc::kFrameHeaderSize && frame[fc::kFrameHeaderSize] == fc::els_cmd::kPrli &&
      !host_logins.contains(lkey)) {
    env.send_frame(make_els_reject(frame, fc::ls_rjt_reason::kUnableToPerform,
                                   fc::ls_rjt_explanation::kNPortLoginRequired));
    ++stats.els_answered;
    return;
  }
  ElsAnswer a = answer_els(frame, target.def.wwpn, target.wwnn);
  if (a.reply_frame.empty()) {
    ++stats.dropped;
    return;
  }
  ++stats.els_answered;
  if (a.logged_out) {
    host_logins.erase(lkey);
    reservation_nexus_lost(target.port_id, host);
  }
  if (!a.logged_in) {
    env.send_frame(a.reply_frame);
    return;
  }
  host_logins.insert(lkey);
  host_wwpn[host] = a.initiator_wwpn;
  // The host's I/O will enter through this port: log its virtual initiator
  // into the disks behind what the host may see while the host discovers.
  want_logins_for_host(port, target, a.initiator_wwpn);
  // LUN masking: every FP must let this host through before it may send a
  // command, so the LS_ACC waits for every FP's FpReply to the kAppend.
  std::vector<const Lun*> grant;
  for (const Lun& l : target.luns) {
    // A LUN any initiator may use is exposed masked while UAs are pending
    // (lv_reconfig.cc): a host new to it has none, so it is let through.
    const bool masked =
        ua_exposures.contains(lun_key(target.port_id, l.def.lun)) || reservation_masked(l.lv_id);
    if ((l.def.initiators.empty() && !masked) ||
        appended.contains(lun_host_key(target.port_id, l.def.lun, host)))
      continue;
    if (l.def.initiators.empty() || std::find(l.def.initiators.begin(), l.def.initiators.end(),
                                              a.initiator_wwpn) != l.def.initiators.end()) {
      // A reservation that bars this nexus keeps it off the fast path: its
      // commands fault to the CP, which checks them (reservations.cc).
      if (!reservation_fast_path(target, l, host)) {
        appended.insert(lun_host_key(target.port_id, l.def.lun, host));
        continue;
      }
      grant.push_back(&l);
    }
  }
  if (grant.empty() || port_count() == 0) {
    env.send_frame(a.reply_frame);
    return;
  }
  auto waiting = std::make_shared<size_t>(grant.size() * port_count());
  auto reply = std::make_shared<std::vector<uint8_t>>(std::move(a.reply_frame));
  const uint32_t ids[1] = {host};
  for (const Lun* l : grant) {
    appended.insert(lun_host_key(target.port_id, l->def.lun, host));
    for (uint32_t p = 0; p < port_count(); ++p) {
      const uint32_t req = link.next_req_id();
      link.expect_reply(req, [this, waiting, reply](const fpapi::FpReply&) {
        if (--*waiting == 0) env.send_frame(*reply);
      });
      send_expose(p, target, *l, fpapi::expose_flags::kAppend, ids, req,
                  ua_exposures.contains(lun_key(target.port_id, l->def.lun)) ||
                      reservation_masked(l->lv_id));
    }
  }
}

void ControlPath::Impl::on_abts(uint32_t port, std::span<const uint8_t> frame) {
  auto h = fc::decode_frame_header(frame);
  std::vector<uint8_t> reply = answer_abts(frame);
  if (h.ok() && h->ox_id != fc::kUnassignedXid) {
    const uint64_t xkey = exchange_key(port, h->s_id.value, h->ox_id);
    host_aborted.insert(xkey);
    for (auto& [key, io] : ios) {
      if (io.port == port && io.io.initiator == h->s_id.value && io.io.ox_id == h->ox_id)
        io.aborting = true;  // dispatch no more legs
    }
    fpapi::FpAbortPendingIOs a;
    a.req_id = link.next_req_id();
    a.filter.initiator = h->s_id.value;
    a.filter.ox_id = h->ox_id;
    a.filter.owner = fpapi::kAnyOwner;
    // Nothing aborted: the exchange had ended; forget the mark so a later
    // exchange with the same OX_ID is not mistaken for it.
    link.expect_reply(a.req_id, [this, xkey](const fpapi::FpReply& r) {
      if (r.value == 0) host_aborted.erase(xkey);
    });
    link.send(port, a);
  }
  if (reply.empty()) {
    ++stats.dropped;
    return;
  }
  ++stats.els_answered;
  env.send_frame(reply);
}

void ControlPath::Impl::on_initiator_gone(uint32_t host) {
  if (!host_wwpn.contains(host)) return;  // never logged into a virtual target
  drop_unit_attentions(host);
  reservation_nexus_lost(0, host);
  for (auto it = host_logins.begin(); it != host_logins.end();) {
    if ((*it & 0xFFFFFF) == host) {
      host_logins.erase(it++);
    } else {
      ++it;
    }
  }
  for (uint32_t p = 0; p < port_count(); ++p) {
    const uint64_t pkey = io_key(p, host);
    ++departed[pkey];
    for (auto& [key, io] : ios) {
      if (io.port == p && io.io.initiator == host) io.aborting = true;
    }
    fpapi::FpAbortPendingIOs a;
    a.req_id = link.next_req_id();
    a.filter.initiator = host;
    a.filter.ox_id = 0xFFFF;
    a.filter.owner = fpapi::kAnyOwner;
    // The FP hands back every aborted I/O before this reply (FIFO).
    link.expect_reply(a.req_id, [this, pkey](const fpapi::FpReply&) {
      auto d = departed.find(pkey);
      if (d != departed.end() && --d->second == 0) departed.erase(d);
    });
    link.send(p, a);
  }
}

bool ControlPath::Impl::host_ended(uint32_t port, uint32_t initiator, uint16_t ox_id) const {
  return host_aborted.contains(exchange_key(port, initiator, ox_id)) ||
         departed.contains(io_key(port, initiator));
}

void ControlPath::Impl::answer_command(uint32_t port, const fpapi::UpstreamIo& io) {
  ++stats.target_commands;
  if (io.task_management != 0) {
    answer_task_management(port, io);
    return;
  }
  if (reservation_command(port, io)) return;
  const Target* target = metadata.target_by_port_id(io.target_id);
  const Lun* lun = metadata.lun(io.target_id, io.lun);
  std::vector<uint16_t> visible;
  if (target) {
    for (const Lun& l : target->luns)
      if (allowed(l, io.initiator)) visible.push_back(l.def.lun);
  }
  LogicalUnitInfo info;
  const LogicalUnitInfo* unit = nullptr;
  if (target && lun && allowed(*lun, io.initiator)) {
    const Volume* vol = metadata.volume_by_lv(lun->lv_id);
    info.lun = lun->def.lun;
    info.block_size = vol ? vol->block_size : 512;
    info.blocks = vol ? vol->blocks : 0;
    info.target_wwpn = target->def.wwpn;
    info.read_only = lun->def.read_only;
    info.max_transfer_blocks = link.max_transfer_bytes(port) / info.block_size;
    unit = &info;
  }
  const size_t cdb_len =
      std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
  ScsiReply r =
      answer_target_command(std::span<const uint8_t>(io.cdb.data(), cdb_len), unit, visible);
  const size_t n = std::min<size_t>(r.data.size(), io.data_length);
  for (size_t off = 0; off < n; off += fpapi::kMaxChunk) {
    fpapi::FpPutData d;
    d.utag = io.utag;
    d.offset = static_cast<uint32_t>(off);
    d.data.assign(
        std::span<const uint8_t>(r.data).subspan(off, std::min<size_t>(fpapi::kMaxChunk, n - off)));
    link.send(port, d);
  }
  uint8_t flags = 0;
  uint32_t residual = 0;
  if (r.data.size() > io.data_length) {
    flags = fc::fcp_rsp_flags::kResidOver;
    residual = static_cast<uint32_t>(r.data.size() - io.data_length);
  } else if (n < io.data_length) {
    flags = fc::fcp_rsp_flags::kResidUnder;
    residual = static_cast<uint32_t>(io.data_length - n);
  }
  complete(port, io.utag, r.status, r.sense, flags, residual);
}

}  // namespace splitpath::cp
