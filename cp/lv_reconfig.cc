// LV reconfiguration under I/O: growing a volume by a VSEG, splitting a VSEG
// in two and merging two neighbouring ones, and the UNIT ATTENTION a
// capacity change owes the hosts.
//
// Growing adds blocks nobody can have addressed (the FPs have no VSEG there,
// so such I/Os fault to the CP, which refused them as beyond the capacity),
// so it needs no restrictive update: the metadata changes, the FPs get the
// new VSEG's descriptor and entries, then the LUNs are exposed again with the
// new capacity. Splitting and merging change what the FPs cache about blocks
// in use: a restrictive update over the whole VSEGs (revoke, drain), whose
// apply changes the metadata and replaces the FPs' VSEG descriptors (removed
// with their extents and entries, the new ones added) before held misses and
// I/Os resume.
//
// The UA (SPC: CAPACITY DATA HAS CHANGED, once per I_T nexus per LUN) must
// reach an initiator on its next command, but the FPs run READ/WRITE on
// their own. So while a (target, LUN) has UAs pending it is exposed masked:
// its initiator list names only the logged-in initiators that have none, so
// the others' commands fault (kLunMasked, or kNotReadWrite) to the CP, which
// answers the first with the UA; once the last is delivered the LUN is
// exposed as before. No firmware change is needed.
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_format.h"
#include "cp/control_path_impl.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {

void ControlPath::Impl::queue_reconfig(std::function<void()> start) {
  reconfigs.push_back(std::move(start));
  if (!reconfig_running) end_reconfig();
}

void ControlPath::Impl::end_reconfig() {
  reconfig_running = false;
  while (!reconfig_running && !reconfigs.empty()) {
    std::function<void()> next = std::move(reconfigs.front());
    reconfigs.pop_front();
    next();  // sets reconfig_running if it goes on asynchronously
  }
}

std::string ControlPath::Impl::reconfig_busy(uint32_t vseg_id) {
  if (migration_of(vseg_id)) return absl::StrFormat("VSEG %u is migrating", vseg_id);
  if (snapshot_vsegs.contains(vseg_id) || snapshot_roots.contains(vseg_id))
    return absl::StrFormat("VSEG %u is part of a snapshot", vseg_id);
  if (incremental_vsegs.contains(vseg_id))
    return absl::StrFormat("VSEG %u is part of an incremental", vseg_id);
  if (journals.contains(vseg_id)) return absl::StrFormat("VSEG %u is journaled", vseg_id);
  if (failovers.contains(vseg_id)) return absl::StrFormat("VSEG %u is failing over", vseg_id);
  const Vseg* seg = metadata.vseg(vseg_id);
  if (seg && (frozen_lvs.contains(seg->lv_id) || incremental_lvs.contains(seg->lv_id) ||
              is_snapshot_lv(seg->lv_id))) {
    return "the volume is a snapshot, an incremental or an incremental's base";
  }
  return "";
}

void ControlPath::Impl::reload_vsegs(const std::vector<uint32_t>& old_ids,
                                     const std::vector<uint32_t>& new_ids) {
  for (uint32_t id : old_ids) {
    for (auto it = loaded_redirects.begin(); it != loaded_redirects.end();) {
      if (((*it >> 16) & 0xFFFFFFFFull) == id) {
        loaded_redirects.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (uint32_t p = 0; p < port_count(); ++p) {
    // FIFO mailbox: the old descriptors are gone before the new ones (which
    // may overlap them) arrive.
    for (uint32_t id : old_ids) {
      fpapi::FpMapping rm;
      rm.req_id = fpapi::kNoTag;
      rm.kind = fpapi::MappingKind::kVseg;
      rm.vseg.id = id;
      link.send_as(p, fpapi::MsgType::kFpRemoveMapping, rm);
    }
    for (uint32_t id : new_ids) {
      const Vseg* seg = metadata.vseg(id);
      if (!seg) continue;
      fpapi::FpMapping m;
      m.req_id = fpapi::kNoTag;
      m.kind = fpapi::MappingKind::kVseg;
      m.lv_id = seg->lv_id;
      m.vseg = seg->descriptor;
      link.send_as(p, fpapi::MsgType::kFpAddMapping, m);
    }
  }
  for (uint32_t id : new_ids) {
    if (const Vseg* seg = metadata.vseg(id)) load_all_entries(*seg);
  }
}

bool ControlPath::Impl::grow_volume(const GrowRequest& r, std::string* error,
                                    std::function<void(bool)> done) {
  auto check = [this, r](std::string* why) {
    auto fail = [&](const std::string& msg) {
      if (why) *why = absl::StrFormat("growing volume '%s': %s", r.volume, msg);
      return false;
    };
    if (!started) return fail("the CP has not started");
    const Volume* vol = metadata.volume(r.volume);
    if (!vol) return fail("no such volume");
    for (uint32_t id : vol->vsegs) {
      const std::string busy = reconfig_busy(id);
      if (!busy.empty()) return fail(busy);
    }
    return true;
  };
  // `grown` runs once the FPs expose the new capacity (with its UAs).
  auto run = [this, r, check](std::string* why, std::function<void()> grown) {
    if (!check(why)) return false;
    uint32_t id = 0;
    std::string e;
    if (!metadata.append_vseg(r.volume, r.vseg, &id, &e)) {
      if (why) *why = absl::StrFormat("growing volume '%s': %s", r.volume, e);
      return false;
    }
    const Vseg& seg = *metadata.vseg(id);
    resolve_disks();  // a disk new to the CP: find it and log in meanwhile
    reload_vsegs({}, {id});
    capacity_changed(seg.lv_id, std::move(grown));
    ++stats.volumes_grown;
    spdlog::info("cp: volume '{}' grown by {} blocks to {}", r.volume, seg.descriptor.length,
                 metadata.volume(r.volume)->blocks);
    return true;
  };
  if (!check(error)) return false;
  auto grown = [done] {
    if (done) done(true);
  };
  if (!reconfig_running && reconfigs.empty()) return run(error, grown);
  queue_reconfig([run, done, grown] {
    std::string why;
    if (run(&why, grown)) return;
    spdlog::warn("cp: {}", why);
    if (done) done(false);
  });
  return true;
}

namespace {

// A restrictive update over whole VSEGs whose `apply` changes the metadata.
Update whole_vseg_update(uint64_t id, const Metadata& metadata, const std::vector<uint32_t>& ids) {
  Update u;
  u.id = id;
  const Vseg* first = metadata.vseg(ids.front());
  const Volume* vol = metadata.volume_by_lv(first->lv_id);
  u.change.volume = vol ? vol->name : std::string();
  u.change.lba = first->descriptor.virtual_start_lba;
  u.vseg_id = ids.front();
  u.start = 0;
  u.length = first->descriptor.length;
  u.change.blocks = u.length;
  // Misses wait for the end and are answered from the new metadata (QUEUE
  // if their VSEG is gone or shorter: the CP then serves the I/O).
  u.hold_misses = true;
  for (size_t i = 1; i < ids.size(); ++i) {
    const Vseg* s = metadata.vseg(ids[i]);
    u.more.push_back(Update::Range{ids[i], 0, s->descriptor.length});
    u.change.blocks += s->descriptor.length;
  }
  return u;
}

}  // namespace

void ControlPath::Impl::reconfig_vsegs(const std::vector<uint32_t>& ids,
                                       std::function<void(bool)> done,
                                       std::function<bool()> change) {
  reconfig_running = true;
  auto ok = std::make_shared<bool>(false);
  Update u = whole_vseg_update(next_update_id++, metadata, ids);
  u.apply = [ok, change = std::move(change)] { *ok = change(); };
  u.done = [this, ok, done = std::move(done)](bool) {
    end_reconfig();
    if (done) done(*ok);
  };
  updates.push_back(std::move(u));
  if (!update_active) begin_update();
}

bool ControlPath::Impl::start_or_queue_reconfig(const std::string& what, const std::string& volume,
                                                std::function<bool(std::string*)> start,
                                                std::string* error,
                                                std::function<void(bool)> done) {
  if (!reconfig_running && reconfigs.empty()) return start(error);
  if (!started || !metadata.volume(volume)) {
    if (error) *error = absl::StrFormat("%s volume '%s': no such volume", what, volume);
    return false;
  }
  queue_reconfig([start = std::move(start), done = std::move(done)] {
    std::string why;
    if (start(&why)) return;
    spdlog::warn("cp: {}", why);
    if (done) done(false);
  });
  return true;
}

bool ControlPath::Impl::split_vseg(const std::string& volume, uint64_t lba, std::string* error,
                                   std::function<void(bool)> done) {
  auto start = [this, volume, lba, done](std::string* why) {
    auto fail = [&](const std::string& msg) {
      if (why) *why = absl::StrFormat("splitting volume '%s' at LBA %u: %s", volume, lba, msg);
      return false;
    };
    if (!started) return fail("the CP has not started");
    const Volume* vol = metadata.volume(volume);
    if (!vol) return fail("no such volume");
    const Vseg* seg = metadata.vseg_at(vol->lv_id, lba);
    if (!seg) return fail(absl::StrFormat("LBA beyond the volume's %u blocks", vol->blocks));
    const uint32_t id = seg->descriptor.id;
    const uint64_t at = lba - seg->descriptor.virtual_start_lba;
    if (at == 0) return fail(absl::StrFormat("VSEG %u starts there already", id));
    std::string e;
    if (!metadata.simple_vseg(id, &e)) return fail(e);
    if (e = reconfig_busy(id); !e.empty()) return fail(e);
    reconfig_vsegs({id}, done, [this, id, at, volume] {
      uint32_t second = 0;
      std::string e;
      if (!metadata.split_vseg(id, at, &second, &e)) {
        spdlog::warn("cp: splitting volume '{}': {}", volume, e);
        return false;
      }
      reload_vsegs({id}, {id, second});
      ++stats.vseg_splits;
      return true;
    });
    return true;
  };
  return start_or_queue_reconfig("splitting", volume, std::move(start), error, std::move(done));
}

bool ControlPath::Impl::merge_vsegs(const std::string& volume, uint64_t lba, std::string* error,
                                    std::function<void(bool)> done) {
  auto start = [this, volume, lba, done](std::string* why) {
    auto fail = [&](const std::string& msg) {
      if (why) *why = absl::StrFormat("merging volume '%s' at LBA %u: %s", volume, lba, msg);
      return false;
    };
    if (!started) return fail("the CP has not started");
    const Volume* vol = metadata.volume(volume);
    if (!vol) return fail("no such volume");
    const Vseg* second = metadata.vseg_at(vol->lv_id, lba);
    if (!second) return fail(absl::StrFormat("LBA beyond the volume's %u blocks", vol->blocks));
    if (second->descriptor.virtual_start_lba != lba) {
      return fail(absl::StrFormat("no VSEG starts there (VSEG %u starts at LBA %u)",
                                  second->descriptor.id, second->descriptor.virtual_start_lba));
    }
    if (lba == 0) return fail("the volume's first VSEG has none before it");
    const uint32_t b = second->descriptor.id;
    const uint32_t a = metadata.vseg_at(vol->lv_id, lba - 1)->descriptor.id;
    std::string e;
    if (!metadata.merge_vsegs(a, b, &e, /*check_only=*/true)) return fail(e);
    if (e = reconfig_busy(a); !e.empty()) return fail(e);
    if (e = reconfig_busy(b); !e.empty()) return fail(e);
    reconfig_vsegs({a, b}, done, [this, a, b, volume] {
      std::string e;
      if (!metadata.merge_vsegs(a, b, &e)) {
        spdlog::warn("cp: merging volume '{}': {}", volume, e);
        return false;
      }
      reload_vsegs({a, b}, {a});
      ++stats.vseg_merges;
      return true;
    });
    return true;
  };
  return start_or_queue_reconfig("merging", volume, std::move(start), error, std::move(done));
}

void ControlPath::Impl::capacity_changed(uint32_t lv_id, std::function<void()> exposed) {
  std::vector<uint32_t> reqs;
  std::vector<uint32_t> hosts;
  for (const auto& [host, wwpn] : host_wwpn)
    hosts.push_back(host);
  std::sort(hosts.begin(), hosts.end());  // deterministic messages
  for (const Target& t : metadata.targets()) {
    for (const Lun& l : t.luns) {
      if (l.lv_id != lv_id) continue;
      for (uint32_t host : hosts) {
        if (host_logins.contains(login_key(t.port_id, host)) && allowed(l, host)) {
          queue_unit_attention(t.port_id, l.def.lun, host, fc::asc::kCapacityDataChanged);
        }
      }
      for (uint32_t req : expose_lun(t, l))
        reqs.push_back(req);
    }
  }
  if (reqs.empty()) return exposed();
  auto left = std::make_shared<size_t>(reqs.size());
  for (uint32_t req : reqs) {
    link.expect_reply(req, [left, exposed](const fpapi::FpReply&) {
      if (--*left == 0) exposed();
    });
  }
}

void ControlPath::Impl::queue_unit_attention(uint32_t target, uint16_t lun, uint32_t host,
                                             fc::AscAscq code) {
  std::deque<fc::AscAscq>& q = pending_uas[lun_host_key(target, lun, host)];
  if (std::find(q.begin(), q.end(), code) == q.end()) q.push_back(code);
  ua_exposures.insert(lun_key(target, lun));
}

bool ControlPath::Impl::unit_attentions_pending(uint64_t lk) const {
  return std::any_of(pending_uas.begin(), pending_uas.end(), [&](const auto& kv) {
    return lun_key(static_cast<uint32_t>(kv.first >> 40), static_cast<uint16_t>(kv.first >> 24)) ==
           lk;
  });
}

bool ControlPath::Impl::deliver_unit_attention(uint32_t port, const fpapi::UpstreamIo& io) {
  if (pending_uas.empty() || io.task_management != 0) return false;
  // SPC: INQUIRY, REPORT LUNS and REQUEST SENSE neither report nor clear a
  // unit attention.
  const uint8_t op = io.cdb[0];
  if (op == fc::scsi_op::kInquiry || op == fc::scsi_op::kReportLuns ||
      op == fc::scsi_op::kRequestSense) {
    return false;
  }
  auto it = pending_uas.find(lun_host_key(io.target_id, io.lun, io.initiator));
  if (it == pending_uas.end()) return false;
  const fc::AscAscq code = it->second.front();
  it->second.pop_front();
  if (it->second.empty()) pending_uas.erase(it);
  ++stats.unit_attentions;
  complete_check(port, io.utag, fc::sense_key::kUnitAttention, code.asc, code.ascq);
  const uint64_t lk = lun_key(io.target_id, io.lun);
  if (!unit_attentions_pending(lk) && ua_exposures.erase(lk)) {
    const Target* t = metadata.target_by_port_id(io.target_id & 0xFFFFFF);
    const Lun* l = metadata.lun(io.target_id & 0xFFFFFF, io.lun);
    if (t && l) expose_lun(*t, *l);
  }
  return true;
}

void ControlPath::Impl::drop_unit_attentions(uint32_t host) {
  std::set<uint64_t> luns;
  for (auto it = pending_uas.begin(); it != pending_uas.end();) {
    if ((it->first & 0xFFFFFF) == (host & 0xFFFFFF)) {
      luns.insert(
          lun_key(static_cast<uint32_t>(it->first >> 40), static_cast<uint16_t>(it->first >> 24)));
      pending_uas.erase(it++);
    } else {
      ++it;
    }
  }
  for (uint64_t lk : luns) {
    if (unit_attentions_pending(lk) || !ua_exposures.erase(lk)) continue;
    const auto target = static_cast<uint32_t>(lk >> 16);
    const Target* t = metadata.target_by_port_id(target);
    const Lun* l = metadata.lun(target, static_cast<uint16_t>(lk));
    if (t && l) expose_lun(*t, *l);
  }
}

bool ControlPath::grow_volume(const GrowRequest& request, std::string* error,
                              std::function<void(bool)> done) {
  if (impl_->refuse_shared(request.volume, "growing", error)) return false;
  return impl_->grow_volume(request, error, std::move(done));
}

bool ControlPath::split_vseg(const std::string& volume, uint64_t lba, std::string* error,
                             std::function<void(bool)> done) {
  if (impl_->refuse_shared(volume, "splitting a VSEG", error)) return false;
  return impl_->split_vseg(volume, lba, error, std::move(done));
}

bool ControlPath::merge_vsegs(const std::string& volume, uint64_t lba, std::string* error,
                              std::function<void(bool)> done) {
  if (impl_->refuse_shared(volume, "merging VSEGs", error)) return false;
  return impl_->merge_vsegs(volume, lba, error, std::move(done));
}

}  // namespace splitpath::cp
