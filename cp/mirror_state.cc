// Mirror side states, age lists and fast resynchronization (figures 30-31).
//
// A side is ALIVE (read and written), DEAD (neither) or RESYNC (written, not
// read); the states live in the mirror's storage descriptor, so the FPs
// split writes to the writable sides and read the readable ones. Every state
// change is a restrictive update of the whole VSEG that also increments the
// mirror's generation number and, while some side is not ALIVE, cuts the
// Rmap at the age-list extents and gives each FoW: the first write to an
// extent under the new generation faults to the CP, which records the
// generation (and its DVE) in the ALIVE sides' age lists before the write
// goes out, and then lifts the extent's FoW. A DEAD side's age list stays as
// it was when it died, so when it returns only the extents whose age
// differs from a live side's have changed since: the resync copies those
// (each under a copy barrier: FoW, the extent's writes wait), the side
// taking writes meanwhile (RESYNC), and then it is ALIVE again.
//
// A side dies when a write to it fails with a status that means the disk
// failed it (the FP names the failing side in kDownstreamError; the CP knows
// its own legs'), when its disk leaves the fabric (then the VSEG's pending
// I/Os are aborted and retried by their hosts, since the disk will never
// answer them), or when an administrator says so. The write that failed is
// done again by the CP on the sides left once the change is in force: the
// host is answered only then. The last ALIVE side never dies: its errors go
// to the host.
#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "cp/control_path_impl.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {

namespace {

using map::SideState;

bool plain_mirror(const Vseg& seg) {
  return !seg.redirects.empty() && seg.redirects[0].descriptor.kind == map::StorageKind::kMirror;
}

SideState state_of(const Vseg& seg, uint32_t side) {
  return seg.redirects[0].descriptor.side(side).state;
}

const char* state_name(SideState s) {
  switch (s) {
    case SideState::kAlive:
      return "ALIVE";
    case SideState::kDead:
      return "DEAD";
    case SideState::kResync:
      return "RESYNC";
  }
  return "?";
}

std::optional<uint32_t> first_alive(const Vseg& seg, uint32_t except) {
  const uint32_t sides = seg.redirects[0].descriptor.mirror_sides();
  for (uint32_t s = 0; s < sides; ++s) {
    if (s != except && state_of(seg, s) == SideState::kAlive) return s;
  }
  return std::nullopt;
}

}  // namespace

bool ControlPath::Impl::side_write_failed(uint8_t status, std::span<const uint8_t> sense) {
  if (status == fc::scsi_status::kGood || status == fc::scsi_status::kBusy ||
      status == fc::scsi_status::kTaskSetFull || status == fc::scsi_status::kReservationConflict) {
    return false;  // passing conditions, or no SCSI failure at all (a transport one)
  }
  if (status != fc::scsi_status::kCheckCondition) return true;
  const auto decoded = fc::decode_sense_data(fc::ConstBytes(sense.data(), sense.size()));
  if (!decoded.ok()) return true;
  switch (decoded->sense_key) {
    case fc::sense_key::kMediumError:
    case fc::sense_key::kHardwareError:
    case fc::sense_key::kDataProtect:
      return true;
    case fc::sense_key::kNotReady:  // unless it is only becoming ready
      return !(decoded->code.asc == 0x04 && decoded->code.ascq == 0x01);
    default:  // UNIT ATTENTION, ABORTED COMMAND, ILLEGAL REQUEST...: not the disk's failure
      return false;
  }
}

std::string ControlPath::Impl::side_failure_text(uint8_t status, std::span<const uint8_t> sense) {
  const auto decoded = fc::decode_sense_data(fc::ConstBytes(sense.data(), sense.size()));
  if (!decoded.ok()) return absl::StrFormat("a write failed with status 0x%02x", status);
  return absl::StrFormat("a write failed with status 0x%02x, sense key %Xh ASC/ASCQ %02Xh/%02Xh",
                         status, decoded->sense_key, decoded->code.asc, decoded->code.ascq);
}

MirrorAges* ControlPath::Impl::mirror_ages_of(uint32_t vseg_id) {
  auto it = mirror_ages.find(vseg_id);
  if (it != mirror_ages.end()) return &it->second;
  const Vseg* seg = metadata.vseg(vseg_id);
  if (!seg || !plain_mirror(*seg)) return nullptr;
  const Volume* vol = metadata.volume_by_lv(seg->lv_id);
  const uint32_t block_size = vol ? vol->block_size : 512;
  MirrorAges& a = mirror_ages[vseg_id];
  const uint32_t sides = seg->redirects[0].descriptor.mirror_sides();
  a.extent_blocks = std::max<uint64_t>(1, config.age_extent_bytes / block_size);
  a.extents = (seg->descriptor.length + a.extent_blocks - 1) / a.extent_blocks;
  a.age.assign(sides, std::vector<AgeEntry>(a.extents));
  a.fow.assign(a.extents, false);
  a.why.assign(sides, {});
  a.path_lost.assign(sides, false);
  a.dying.assign(sides, false);
  a.base_flags =
      static_cast<uint8_t>(seg->redirects[0].flags & ~map::redirect_flags::kFaultOnWrite);
  return &a;
}

std::vector<uint32_t> ControlPath::Impl::entry_disks(const Vseg& seg,
                                                     map::RedirectIndex index) const {
  const map::StorageDescriptor& d = seg.redirects[index].descriptor;
  if (d.kind != map::StorageKind::kMirror) return seg.redirect_disks[index];
  std::vector<uint32_t> out;
  for (uint32_t s = 0; s < d.mirror_sides() && s < seg.redirect_disks[index].size(); ++s) {
    if (d.side(s).state != SideState::kDead) out.push_back(seg.redirect_disks[index][s]);
  }
  return out;
}

std::optional<uint32_t> ControlPath::Impl::mirror_side_on(const Vseg& seg, uint32_t port_id) const {
  if (!plain_mirror(seg)) return std::nullopt;
  std::optional<uint32_t> found;
  const map::StorageDescriptor& d = seg.redirects[0].descriptor;
  for (uint32_t s = 0; s < d.mirror_sides(); ++s) {
    const map::MirrorSide side = d.side(s);
    if (!map::side_writable(side.state) || side.storage.port_id != (port_id & map::kPortIdMask))
      continue;
    if (found) return std::nullopt;  // two sides on one disk: which one failed is unknown
    found = s;
  }
  return found;
}

bool ControlPath::Impl::mirror_changing(uint32_t vseg_id) const {
  auto it = mirror_ages.find(vseg_id);
  return it != mirror_ages.end() && it->second.changes_pending > 0;
}

bool ControlPath::Impl::side_failed(uint32_t vseg_id, uint32_t side, const std::string& why,
                                    bool path_lost, std::function<void(bool)> done) {
  const Vseg* seg = metadata.vseg(vseg_id);
  MirrorAges* a = mirror_ages_of(vseg_id);
  if (!seg || !a || side >= a->age.size()) return false;
  if (state_of(*seg, side) == SideState::kDead || a->dying[side]) return false;
  // The data must stay readable somewhere: the last ALIVE side does not die,
  // counting the deaths already queued.
  bool other_alive = false;
  for (uint32_t s = 0; s < a->age.size(); ++s) {
    other_alive =
        other_alive || (s != side && state_of(*seg, s) == SideState::kAlive && !a->dying[s]);
  }
  if (state_of(*seg, side) == SideState::kAlive && !other_alive) {
    spdlog::warn("cp: VSEG {} side {} failed ({}) but is the last ALIVE side: it stays", vseg_id,
                 side, why);
    return false;
  }
  a->dying[side] = true;
  ++stats.side_deaths;
  ++a->deaths;
  a->why[side] = why;
  a->path_lost[side] = path_lost;
  spdlog::warn("cp: VSEG {} side {} is DEAD: {}", vseg_id, side, why);
  if (a->resync && a->resync->side == side) a->resync->aborted = true;
  set_side_state(vseg_id, side, SideState::kDead, /*abort_pending=*/path_lost, {}, std::move(done));
  return true;
}

void ControlPath::Impl::change_side_state(uint32_t vseg_id, uint32_t side, SideState to,
                                          bool abort_pending, std::function<void()> apply_extra,
                                          std::function<void(bool)> done) {
  const Vseg* seg = metadata.vseg(vseg_id);
  MirrorAges* a = mirror_ages_of(vseg_id);
  if (!seg || !a) {
    if (done) done(false);
    return;
  }
  ++a->changes_pending;
  const Volume* vol = metadata.volume_by_lv(seg->lv_id);
  Update u;
  u.id = next_update_id++;
  u.change.volume = vol ? vol->name : std::string();
  u.change.lba = seg->descriptor.virtual_start_lba;
  u.change.blocks = seg->descriptor.length;
  u.vseg_id = vseg_id;
  u.start = 0;
  u.length = seg->descriptor.length;
  u.hold_misses = true;
  // A side whose disk left never answers: its I/Os are aborted at once
  // (ABORTED COMMAND, the hosts retry on the sides left).
  u.path_failed = abort_pending;
  u.apply = [this, vseg_id, side, to, apply_extra = std::move(apply_extra)] {
    Vseg* s = metadata.vseg(vseg_id);
    MirrorAges* m = mirror_ages_of(vseg_id);
    if (!s || !m) return;
    --m->changes_pending;
    if (to == SideState::kDead) m->dying[side] = false;
    if (to == SideState::kDead && m->resync && m->resync->from == side) {
      // The side a resync copies from died: the rest is copied from another
      // ALIVE side, the extent under way again (it may have read the side
      // after its last write).
      std::optional<uint32_t> other;
      const uint32_t n = s->redirects[0].descriptor.mirror_sides();
      for (uint32_t i = 0; i < n && !other; ++i) {
        if (i != side && i != m->resync->side && state_of(*s, i) == SideState::kAlive &&
            !m->dying[i])
          other = i;
      }
      if (other) {
        spdlog::info("cp: VSEG {} side {} resync goes on from side {}: side {} died", vseg_id,
                     m->resync->side, *other, side);
        m->resync->from = *other;
        m->resync->recopy = m->resync->barrier.has_value();
      } else {
        m->resync->aborted = true;
      }
    }
    // The side's state in every entry's descriptor (the entries differ only
    // in their flags).
    for (map::RedirectEntry& entry : s->redirects) {
      map::MirrorStorage ms;
      if (!entry.descriptor.mirror(&ms) || side >= ms.sides) continue;
      ms.side[side].state = to;
      map::StorageDescriptor d;
      if (map::StorageDescriptor::make_mirror(ms, &d)) entry.descriptor = d;
      entry.age_list = vseg_id;  // figure 30: the entry refers to the VSEG's age lists
    }
    ++m->generation;
    ++stats.side_state_changes;
    if (apply_extra) apply_extra();
    const uint32_t sides = s->redirects[0].descriptor.mirror_sides();
    m->tracking = false;
    for (uint32_t i = 0; i < sides; ++i)
      m->tracking = m->tracking || state_of(*s, i) != SideState::kAlive;
    // Every age extent faults its first write under the new generation
    // (while a side is not ALIVE); the Rmap is cut at the extents so that
    // lifting one's FoW later touches no other.
    for (uint64_t k = 0; k < m->extents; ++k)
      set_age_extent_flags(vseg_id, k, m->tracking);
    std::fill(m->fow.begin(), m->fow.end(), m->tracking);
    // The FPs drained the whole VSEG: no FP holds write authority over any
    // of its extents now, and the CP's writes take it again as they go.
    for (auto it = mirror_authority.begin(); it != mirror_authority.end();) {
      it = it->first.first == vseg_id ? mirror_authority.erase(it) : std::next(it);
    }
    for (auto& [key, io] : ios) {
      std::erase_if(io.mirror_holds, [&](const MirrorExtentKey& k) { return k.first == vseg_id; });
    }
    // The entries whose descriptor changed, to every FP that has them.
    for (uint32_t p = 0; p < port_count(); ++p) {
      for (size_t i = 0; i < s->redirects.size(); ++i) {
        const auto index = static_cast<map::RedirectIndex>(i);
        if (loaded_redirects.erase(redirect_key(p, vseg_id, index)) > 0) {
          send_redirect(p, *s, index, fpapi::MsgType::kFpReplaceMapping);
        }
      }
    }
    spdlog::info("cp: VSEG {} side {} is {} (generation {})", vseg_id, side, state_name(to),
                 m->generation);
  };
  u.done = [this, vseg_id, done = std::move(done)](bool ok) {
    if (done) done(ok);
    resume_returned_sides(vseg_id);
  };
  updates.push_back(std::move(u));
  if (!update_active) begin_update();
}

void ControlPath::Impl::resume_returned_sides(uint32_t vseg_id) {
  auto it = mirror_ages.find(vseg_id);
  const Vseg* seg = metadata.vseg(vseg_id);
  if (it == mirror_ages.end() || !seg || it->second.resync || mirror_changing(vseg_id)) return;
  if (dve_side_oplock(vseg_id) && !dve->online()) return;  // when it is back
  for (uint32_t s = 0; s < it->second.age.size() && s < seg->redirect_disks[0].size(); ++s) {
    if (state_of(*seg, s) != SideState::kDead || !it->second.path_lost[s]) continue;
    const Disk& d = metadata.disks()[seg->redirect_disks[0][s]];
    if (!env.find_port_id(d.wwpn)) continue;
    std::string error;
    spdlog::info("cp: VSEG {} side {}: its disk is back, resynchronizing", vseg_id, s);
    if (!start_resync(vseg_id, s, &error, {})) spdlog::warn("cp: {}", error);
    return;  // one at a time; its end looks again
  }
}

void ControlPath::Impl::set_age_extent_flags(uint32_t vseg_id, uint64_t k, bool fow) {
  const Vseg* seg = metadata.vseg(vseg_id);
  MirrorAges* a = mirror_ages_of(vseg_id);
  if (!seg || !a || k >= a->extents) return;
  const uint64_t start = k * a->extent_blocks;
  const uint64_t length = std::min(a->extent_blocks, seg->descriptor.length - start);
  const bool barrier = a->resync && a->resync->barrier == k;
  const uint8_t flags = static_cast<uint8_t>(
      a->base_flags | (fow || barrier ? map::redirect_flags::kFaultOnWrite : 0));
  std::vector<map::RedirectIndex> fresh;
  std::string error;
  if (!metadata.remap_range(vseg_id, start, length, std::nullopt, 0, flags, &fresh, &error)) {
    spdlog::warn("cp: VSEG {} age extent {}: {}", vseg_id, k, error);
    return;
  }
  load_fresh_entries(*metadata.vseg(vseg_id), fresh);
}

void ControlPath::Impl::record_age(uint32_t vseg_id, uint64_t start, uint64_t blocks) {
  auto it = mirror_ages.find(vseg_id);
  if (it == mirror_ages.end() || !it->second.tracking || blocks == 0) return;
  MirrorAges& a = it->second;
  const Vseg* seg = metadata.vseg(vseg_id);
  if (!seg) return;
  const uint64_t last = std::min((start + blocks - 1) / a.extent_blocks, a.extents - 1);
  for (uint64_t k = start / a.extent_blocks; k <= last; ++k) {
    if (!a.fow[k]) continue;  // recorded under this generation already
    a.fow[k] = false;
    ++stats.age_faults;
    for (uint32_t s = 0; s < a.age.size(); ++s) {
      if (state_of(*seg, s) == SideState::kAlive)
        a.age[s][k] = AgeEntry{a.generation, env.domain()};
    }
    // Figure 31: the extent goes back to the FP, its writes no longer fault.
    const uint64_t from = k * a.extent_blocks;
    queue_update(vseg_id, from, std::min(a.extent_blocks, seg->descriptor.length - from),
                 [this, vseg_id, k, generation = a.generation] {
                   MirrorAges* m = mirror_ages_of(vseg_id);
                   // A later state change wants the FoW again.
                   if (!m || m->generation != generation || m->fow[k]) return;
                   set_age_extent_flags(vseg_id, k, false);
                 },
                 {});
  }
}

bool ControlPath::Impl::in_resync_barrier(uint32_t vseg_id, uint64_t start, uint64_t blocks) const {
  auto it = mirror_ages.find(vseg_id);
  if (it == mirror_ages.end() || !it->second.resync || !it->second.resync->barrier) return false;
  const MirrorAges& a = it->second;
  const uint64_t from = *a.resync->barrier * a.extent_blocks;
  return start < from + a.extent_blocks && from < start + blocks;
}

bool ControlPath::Impl::start_resync(uint32_t vseg_id, uint32_t side, std::string* error,
                                     std::function<void(bool)> done) {
  auto reject = [&](const std::string& why) {
    if (error) *error = absl::StrFormat("resync of VSEG %u side %u: %s", vseg_id, side, why);
    return false;
  };
  const Vseg* seg = metadata.vseg(vseg_id);
  MirrorAges* a = mirror_ages_of(vseg_id);
  if (!seg || !a) return reject("not a mirrored VSEG");
  if (side >= a->age.size()) return reject(absl::StrFormat("it has %u sides", a->age.size()));
  if (state_of(*seg, side) != SideState::kDead || mirror_changing(vseg_id))
    return reject("the side is not DEAD");
  if (a->resync) return reject(absl::StrFormat("side %u is resynchronizing", a->resync->side));
  const std::optional<uint32_t> from = first_alive(*seg, side);
  if (!from) return reject("no ALIVE side to copy from");
  MirrorResync r;
  r.side = side;
  r.from = *from;
  r.done = std::move(done);
  r.history = a->history.size();
  ResyncProgress progress;
  progress.side = side;
  progress.extents = a->extents;
  progress.started_ns = env.now_ns();
  a->history.push_back(progress);
  a->resync = std::move(r);
  a->path_lost[side] = false;
  // RESYNC: the side takes every write from now on; the extents it missed
  // are those whose age differs from the live side's once the FPs split
  // writes to it (no write after the change can be missing from it).
  const SideState during =
      config.resync_side_readable_for_testing ? SideState::kAlive : SideState::kResync;
  set_side_state(vseg_id, side, during, /*abort_pending=*/false, {}, [this, vseg_id](bool ok) {
    MirrorAges* m = mirror_ages_of(vseg_id);
    if (!m || !m->resync) return;
    if (m->resync->peer) return end_resync(vseg_id, false, "another DVE resynchronizes it");
    if (!ok || m->resync->aborted) return end_resync(vseg_id, false, "the side failed again");
    MirrorResync& r = *m->resync;
    // A shared mirror's age lists are each DVE's own: no list says what the
    // others wrote, so the side is copied whole.
    const bool whole = dve_side_oplock(vseg_id).has_value();
    for (uint64_t k = 0; k < m->extents; ++k) {
      if (whole || !(m->age[r.side][k] == m->age[r.from][k])) r.stale.push_back(k);
    }
    m->history[r.history].stale_extents = r.stale.size();
    spdlog::info("cp: VSEG {} side {} RESYNC: {} of {} extents stale", vseg_id, r.side,
                 r.stale.size(), m->extents);
    resync_step(vseg_id);
  });
  return true;
}

void ControlPath::Impl::resync_step(uint32_t vseg_id) {
  MirrorAges* a = mirror_ages_of(vseg_id);
  const Vseg* seg = metadata.vseg(vseg_id);
  if (!a || !a->resync || !seg) return;
  MirrorResync& r = *a->resync;
  if (r.aborted) return end_resync(vseg_id, false, "the side failed again");
  if (r.next >= r.stale.size()) {
    // Every stale extent copied, and every write since went to the side:
    // it holds what the live side holds, and it is ALIVE again.
    set_side_state(
        vseg_id, r.side, SideState::kAlive, /*abort_pending=*/false,
        [this, vseg_id] {
          MirrorAges* m = mirror_ages_of(vseg_id);
          if (m && m->resync) m->age[m->resync->side] = m->age[m->resync->from];
        },
        [this, vseg_id](bool ok) {
          end_resync(vseg_id, ok, ok ? "" : "the last state change failed");
        });
    return;
  }
  const uint64_t k = r.stale[r.next];
  const uint64_t start = k * a->extent_blocks;
  const uint64_t length = std::min(a->extent_blocks, seg->descriptor.length - start);
  // The copy barrier: FoW on the extent (its writes wait in the CP), set
  // under a restrictive update so none is under way when the copy reads.
  queue_update(
      vseg_id, start, length,
      [this, vseg_id, k] {
        MirrorAges* m = mirror_ages_of(vseg_id);
        if (!m || !m->resync) return;
        m->resync->barrier = k;
        set_age_extent_flags(vseg_id, k, m->fow[k]);
      },
      [this, vseg_id, k, start, length](bool) {
        MirrorAges* m = mirror_ages_of(vseg_id);
        const Vseg* s = metadata.vseg(vseg_id);
        if (!m || !m->resync || !s) return;
        MirrorResync& rs = *m->resync;
        const map::MirrorSide src = s->redirects[0].descriptor.side(rs.from);
        const map::MirrorSide dst = s->redirects[0].descriptor.side(rs.side);
        const Volume* vol = metadata.volume_by_lv(s->lv_id);
        CopyRequest c;
        c.src_disk = s->redirect_disks[0][rs.from];
        c.src_lun = src.storage.lun;
        c.src_lba = src.storage.start_lba + start;
        c.dst_disk = s->redirect_disks[0][rs.side];
        c.dst_lun = dst.storage.lun;
        c.dst_lba = dst.storage.start_lba + start;
        c.blocks = static_cast<uint32_t>(length);
        c.block_size = vol ? vol->block_size : 512;
        dve_copy_under_write_oplocks(
            vseg_id, start, length, c, [this, vseg_id, k, length](bool ok) {
              MirrorAges* m = mirror_ages_of(vseg_id);
              if (!m || !m->resync) return;
              MirrorResync& rs = *m->resync;
              if (ok && !rs.aborted && std::exchange(rs.recopy, false)) {
                // Read from a side that died meanwhile: copied again from the new source.
              } else if (ok && !rs.aborted) {
                m->age[rs.side][k] = m->age[rs.from][k];
                ++rs.next;
                ResyncProgress& p = m->history[rs.history];
                ++p.copied_extents;
                p.copied_blocks += length;
                ++stats.resync_extents;
                stats.resync_blocks += length;
                const uint64_t tenth = std::max<uint64_t>(1, rs.stale.size() / 10);
                if (rs.next % tenth == 0 || rs.next == rs.stale.size()) {
                  spdlog::info("cp: VSEG {} side {} resync {:.0f}% ({} of {} extents)", vseg_id,
                               rs.side, p.percent(), rs.next, rs.stale.size());
                }
              }
              const bool failed = !ok && !rs.aborted;
              // The barrier goes; the extent keeps the FoW of an unrecorded first write.
              const Vseg* s = metadata.vseg(vseg_id);
              const uint64_t from = k * m->extent_blocks;
              queue_update(
                  vseg_id, from, std::min(m->extent_blocks, s->descriptor.length - from),
                  [this, vseg_id, k] {
                    MirrorAges* mm = mirror_ages_of(vseg_id);
                    if (!mm || !mm->resync) return;
                    mm->resync->barrier.reset();
                    set_age_extent_flags(vseg_id, k, mm->fow[k]);
                  },
                  [this, vseg_id, failed](bool) {
                    if (failed) {
                      MirrorAges* mm = mirror_ages_of(vseg_id);
                      if (mm && mm->resync) {
                        side_failed(vseg_id, mm->resync->side, "a resync copy failed",
                                    /*path_lost=*/false);
                      }
                      return end_resync(vseg_id, false, "a copy failed");
                    }
                    resync_step(vseg_id);
                  });
            });
      });
}

void ControlPath::Impl::end_resync(uint32_t vseg_id, bool ok, const std::string& error) {
  MirrorAges* a = mirror_ages_of(vseg_id);
  if (!a || !a->resync) return;
  MirrorResync r = std::move(*a->resync);
  a->resync.reset();
  dve_end_resync_task(r);
  ResyncProgress& p = a->history[r.history];
  p.state = ok ? ResyncProgress::State::kDone : ResyncProgress::State::kFailed;
  p.finished_ns = env.now_ns();
  p.error = error;
  if (ok) {
    ++stats.resyncs_done;
    spdlog::info("cp: VSEG {} side {} ALIVE: resync copied {} of {} extents ({} blocks)", vseg_id,
                 r.side, p.copied_extents, p.extents, p.copied_blocks);
  } else {
    spdlog::warn("cp: VSEG {} side {} resync failed: {}", vseg_id, r.side, error);
  }
  retry_blocked();
  if (r.done) r.done(ok);
  resume_returned_sides(vseg_id);
}

void ControlPath::Impl::check_mirror_sides(uint32_t port_id) {
  std::vector<std::pair<uint32_t, uint32_t>> gone;
  std::vector<uint32_t> back;  // VSEGs with a DEAD side whose disk is back
  for (const auto& [id, seg] : metadata.vsegs()) {
    if (!plain_mirror(seg)) continue;
    const uint32_t sides = seg.redirects[0].descriptor.mirror_sides();
    for (uint32_t s = 0; s < sides && s < seg.redirect_disks[0].size(); ++s) {
      const Disk& d = metadata.disks()[seg.redirect_disks[0][s]];
      if (d.port_id != (port_id & map::kPortIdMask)) continue;
      const bool present = env.find_port_id(d.wwpn).has_value();
      const SideState st = state_of(seg, s);
      if (!present && st != SideState::kDead) gone.emplace_back(id, s);
      auto it = mirror_ages.find(id);
      if (present && st == SideState::kDead && it != mirror_ages.end() && it->second.path_lost[s])
        back.push_back(id);
    }
  }
  for (const auto& [vseg_id, side] : gone)
    side_failed(vseg_id, side, "its disk left the fabric", /*path_lost=*/true);
  for (uint32_t vseg_id : back)
    resume_returned_sides(vseg_id);
}

// ---- the public interface

std::vector<MirrorReport> ControlPath::mirrors() const {
  std::vector<MirrorReport> out;
  const Impl& m = *impl_;
  for (const auto& [id, seg] : m.metadata.vsegs()) {
    if (!plain_mirror(seg)) continue;
    MirrorReport r;
    const Volume* vol = m.metadata.volume_by_lv(seg.lv_id);
    r.volume = vol ? vol->name : std::string();
    r.vseg_id = id;
    r.lba = seg.descriptor.virtual_start_lba;
    r.blocks = seg.descriptor.length;
    r.block_size = vol ? vol->block_size : 512;
    r.age_extent_blocks = std::max<uint64_t>(1, m.config.age_extent_bytes / r.block_size);
    auto it = m.mirror_ages.find(id);
    if (it != m.mirror_ages.end()) {
      r.generation = it->second.generation;
      r.age_extent_blocks = it->second.extent_blocks;
      r.deaths = it->second.deaths;
      r.resyncs = it->second.history;
    }
    if (const auto sides = m.dve_side_oplock(id)) {
      r.current = m.dve->online() && m.dve_fresh(*sides) && !m.dve_applying_sides.contains(id);
    }
    const map::StorageDescriptor& d = seg.redirects[0].descriptor;
    for (uint32_t s = 0; s < d.mirror_sides(); ++s) {
      MirrorSideReport side;
      const map::MirrorSide ms = d.side(s);
      side.disk_wwpn =
          s < seg.redirect_disks[0].size() ? m.metadata.disks()[seg.redirect_disks[0][s]].wwpn : 0;
      side.lun = ms.storage.lun;
      side.lba = ms.storage.start_lba;
      side.state = ms.state;
      if (it != m.mirror_ages.end()) side.why = it->second.why[s];
      r.sides.push_back(side);
    }
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

const Vseg* mirror_vseg(const Metadata& metadata, const std::string& volume, uint64_t lba,
                        std::string* error) {
  const Volume* vol = metadata.volume(volume);
  const Vseg* seg = vol ? metadata.vseg_at(vol->lv_id, lba) : nullptr;
  if (error && !vol) *error = absl::StrFormat("no volume '%s'", volume);
  if (error && vol && !seg)
    *error = absl::StrFormat("volume '%s' has no block %u (it has %u)", volume, lba, vol->blocks);
  if (seg && !plain_mirror(*seg)) {
    if (error)
      *error = absl::StrFormat("volume '%s' block %u is not on a mirrored VSEG", volume, lba);
    return nullptr;
  }
  return seg;
}

}  // namespace

bool ControlPath::fail_mirror_side(const std::string& volume, uint64_t lba, uint32_t side,
                                   std::string* error, std::function<void(bool)> done) {
  const Vseg* seg = mirror_vseg(impl_->metadata, volume, lba, error);
  if (!seg) return false;
  const uint32_t sides = seg->redirects[0].descriptor.mirror_sides();
  if (side >= sides) {
    if (error) *error = absl::StrFormat("volume '%s' has %u mirror sides", volume, sides);
    return false;
  }
  if (state_of(*seg, side) == SideState::kDead) {
    if (error) *error = absl::StrFormat("side %u of volume '%s' is DEAD already", side, volume);
    return false;
  }
  if (!impl_->side_failed(seg->descriptor.id, side, "failed by request", /*path_lost=*/false,
                          std::move(done))) {
    if (error)
      *error = absl::StrFormat("side %u of volume '%s' is the last ALIVE side", side, volume);
    return false;
  }
  return true;
}

bool ControlPath::return_mirror_side(const std::string& volume, uint64_t lba, uint32_t side,
                                     std::string* error, std::function<void(bool)> done) {
  const Vseg* seg = mirror_vseg(impl_->metadata, volume, lba, error);
  if (!seg) return false;
  return impl_->start_resync(seg->descriptor.id, side, error, std::move(done));
}

}  // namespace splitpath::cp
