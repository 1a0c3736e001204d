// The CP as each port's virtual initiator: finds the backing disks in the name
// server (retrying every resolve_retry_ns while some have not logged in),
// logs a port's virtual initiator into a disk when something needs it — a
// host logging into a virtual target through that port (for the disks behind
// the LUNs it may see), or an I/O that finds the disk not logged in — so a
// switch with P ports and D disks does not make P x D logins up front
// (PLOGI, then PRLI; a reject or els_timeout_ns without reply starts over
// after resolve_retry_ns; CpConfig::eager_vi_logins logs every port in at once),
// and once a disk accepts the PRLI from a port, loads that port's FP with the
// redirect entries that name the disk and resumes the I/Os that waited for it.
#include <algorithm>

#include "cp/control_path_impl.h"
#include "cp/target/els_responder.h"
#include "cp/target/scsi_target.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/frame_header.h"

namespace splitpath::cp {

uint64_t ControlPath::Impl::vi_wwpn(uint32_t port) const {
  // NAA 5, the simulator's OUI, 0xF: virtual initiator, then domain and port.
  return (uint64_t{0x5} << 60) | (uint64_t{kSplitpathOui} << 36) | (uint64_t{0xF} << 32) |
         (uint64_t{env.domain()} << 16) | (port & 0xFFFF);
}

void ControlPath::Impl::ensure_logins_sized() {
  logins.resize(port_count());
  for (auto& per_port : logins)
    per_port.resize(metadata.disks().size());
}

bool ControlPath::Impl::disk_ready(uint32_t port, uint32_t disk) const {
  return port < logins.size() && disk < logins[port].size() &&
         logins[port][disk].state == ViLogin::State::kReady;
}

void ControlPath::Impl::resolve_disks() {
  ensure_logins_sized();
  bool missing = false;
  for (uint32_t d = 0; d < metadata.disks().size(); ++d) {
    if (metadata.disks()[d].port_id) continue;
    std::optional<uint32_t> id = env.find_port_id(metadata.disks()[d].wwpn);
    if (!id) {
      missing = true;
      continue;
    }
    metadata.set_disk_port_id(d, *id & map::kPortIdMask);
    for (uint32_t p = 0; p < port_count(); ++p) {
      if (config.eager_vi_logins || logins[p][d].wanted) start_login(p, d);
    }
  }
  if (missing && !resolve_scheduled) {
    resolve_scheduled = true;
    later(config.resolve_retry_ns, [this] {
      resolve_scheduled = false;
      resolve_disks();
    });
  }
}

void ControlPath::Impl::on_fabric_change(uint32_t port_id) {
  if (!started) return;  // start() resolves the disks itself
  on_initiator_gone(port_id);
  ensure_logins_sized();
  bool unresolved = false;
  for (uint32_t d = 0; d < metadata.disks().size(); ++d) {
    const std::optional<uint32_t>& id = metadata.disks()[d].port_id;
    if (!id) {
      unresolved = true;
      continue;
    }
    if (*id != port_id) continue;
    // The disk logged out or in again: whatever logins it had are gone. Start
    // over where one is wanted (a login to a disk that is away times out and
    // is retried; its return is another change).
    for (uint32_t p = 0; p < port_count(); ++p) {
      ViLogin& l = logins[p][d];
      if (l.state == ViLogin::State::kIdle) continue;
      ++l.attempt;
      l.state = ViLogin::State::kIdle;
      if (l.wanted) start_login(p, d);
    }
  }
  if (unresolved) resolve_disks();
  check_paths(port_id);
  check_mirror_sides(port_id);
}

bool ControlPath::Impl::want_login(uint32_t port, uint32_t disk) {
  ensure_logins_sized();
  if (port >= logins.size() || disk >= logins[port].size()) return false;
  ViLogin& l = logins[port][disk];
  l.wanted = true;
  if (l.state == ViLogin::State::kIdle && metadata.disks()[disk].port_id) start_login(port, disk);
  return l.state == ViLogin::State::kReady;
}

void ControlPath::Impl::want_logins_for_host(uint32_t port, const Target& target,
                                             uint64_t host_wwpn) {
  for (const Lun& lun : target.luns) {
    const auto& allowed = lun.def.initiators;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), host_wwpn) == allowed.end()) {
      continue;
    }
    const Volume* v = metadata.volume_by_lv(lun.lv_id);
    if (v == nullptr) continue;
    for (uint32_t vseg_id : v->vsegs) {
      if (const Vseg* seg = metadata.vseg(vseg_id)) {
        for (uint32_t disk : seg->redirect_disk)
          want_login(port, disk);
      }
    }
  }
}

void ControlPath::Impl::start_login(uint32_t port, uint32_t disk) {
  ViLogin& l = logins[port][disk];
  const uint32_t disk_id = metadata.disks()[disk].port_id.value_or(0);
  l.state = ViLogin::State::kPlogi;
  l.ox_id = next_ox_id++;
  const uint64_t attempt = ++l.attempt;
  const uint64_t wwpn = vi_wwpn(port);
  env.send_frame(
      make_plogi(env.virtual_initiator(port), disk_id, l.ox_id, wwpn, wwpn ^ (uint64_t{1} << 56)));
  later(config.els_timeout_ns, [this, port, disk, attempt] {
    const ViLogin& now = logins[port][disk];
    if (now.attempt == attempt && now.state != ViLogin::State::kReady) start_login(port, disk);
  });
}

void ControlPath::Impl::on_vi_frame(uint32_t port, std::span<const uint8_t> frame) {
  const uint8_t r_ctl = frame[0];
  const uint32_t s_id = fc::peek_s_id(frame.data()).value;
  if (r_ctl == fc::rctl::kElsRequest) {
    // A disk talking to our virtual initiator (LOGO, PLOGI of its own...).
    ElsAnswer a = answer_els(frame, vi_wwpn(port), vi_wwpn(port) ^ (uint64_t{1} << 56));
    if (!a.reply_frame.empty()) {
      ++stats.els_answered;
      env.send_frame(a.reply_frame);
    }
    if (a.logged_out) {
      for (uint32_t d = 0; d < metadata.disks().size(); ++d) {
        if (metadata.disks()[d].port_id == s_id) start_login(port, d);
      }
    }
    return;
  }
  if (r_ctl != fc::rctl::kElsReply) {
    ++stats.dropped;
    return;
  }
  const ElsReply any = parse_els_reply(frame);
  for (uint32_t d = 0; d < logins[port].size(); ++d) {
    ViLogin& l = logins[port][d];
    if (metadata.disks()[d].port_id != s_id || l.ox_id != any.ox_id ||
        (l.state != ViLogin::State::kPlogi && l.state != ViLogin::State::kPrli)) {
      continue;
    }
    const bool plogi = l.state == ViLogin::State::kPlogi;
    const ElsReply r = parse_els_reply(frame, plogi ? fc::els_cmd::kPlogi : fc::els_cmd::kPrli);
    if (!r.accepted) {
      // Try again later from the start; the attempt guard retires the timer.
      const uint64_t attempt = ++l.attempt;
      l.state = ViLogin::State::kIdle;
      later(config.resolve_retry_ns, [this, port, d, attempt] {
        if (logins[port][d].attempt == attempt) start_login(port, d);
      });
      return;
    }
    if (plogi) {
      l.state = ViLogin::State::kPrli;
      l.ox_id = next_ox_id++;
      env.send_frame(make_prli_initiator(env.virtual_initiator(port), s_id, l.ox_id));
      return;
    }
    l.state = ViLogin::State::kReady;
    ++l.attempt;
    ++stats.vi_logins;
    on_disk_ready(port, d);
    return;
  }
  ++stats.dropped;
}

void ControlPath::Impl::on_disk_ready(uint32_t port, uint32_t disk) {
  for (const auto& [id, seg] : metadata.vsegs()) {
    for (size_t i = 0; i < seg.redirects.size(); ++i) {
      if (seg.redirect_disk[i] != disk) continue;
      const auto index = static_cast<map::RedirectIndex>(i);
      if (!loaded_redirects.contains(redirect_key(port, id, index))) {
        send_redirect(port, seg, index, fpapi::MsgType::kFpAddMapping);
      }
    }
  }
  retry_blocked();
}

}  // namespace splitpath::cp
