// Side states of a mirror several DVEs serve (the specification's Mirror Side
// State Changes oplock, VSEG.MIRROR_LUID). Every DVE holds its own copy of
// the mirror's descriptor; a side that one DVE finds DEAD must be DEAD for
// every DVE before any of them reads the other sides again, or a peer would
// read a side that stopped taking writes. So every state change of a shared
// mirror (a side dies, a returned side starts its resync, the resync ends):
// - is made under the VSEG's side-state oplock, acquired restrictively: each
//   other DVE lets go by draining the VSEG (its FPs' extents revoked, their
//   I/O done), and holds the VSEG's misses and CP I/O until it shares the
//   oplock again;
// - reads the record first (a peer may have changed a side since this DVE
//   asked) and makes its change only if the record still allows it (a side
//   dies only if another stays ALIVE; only a DEAD side starts a resync, so
//   of two DVEs that see its disk return one resynchronizes it);
// - writes the record (one state per side) and applies it here as on one
//   DVE (change_side_state); a peer applies it when it shares the oplock
//   again.
// Age lists are per DVE (each records the extents its own writes touched),
// so a side that returns to a shared mirror is copied whole, each extent
// under the mirror-write oplocks of its chunks: no DVE writes the extent
// while the resync copies it.
#include <memory>
#include <sstream>
#include <utility>

#include "cp/control_path_impl.h"
#include "spdlog/spdlog.h"

namespace splitpath::cp {

namespace {

using map::SideState;

// One token per side: A ALIVE, R RESYNC, D DEAD, P DEAD with its disk gone
// (it resynchronizes when the disk returns).
std::string encode(const DveSideRecord& r) {
  std::string out;
  for (size_t s = 0; s < r.state.size(); ++s) {
    if (!out.empty()) out += ' ';
    switch (r.state[s]) {
      case SideState::kAlive:
        out += 'A';
        break;
      case SideState::kResync:
        out += 'R';
        break;
      case SideState::kDead:
        out += r.path_lost[s] ? 'P' : 'D';
        break;
    }
  }
  return out;
}

bool decode(const std::string& bytes, size_t sides, DveSideRecord* out) {
  std::istringstream words(bytes);
  DveSideRecord r;
  for (std::string w; words >> w;) {
    if (w.size() != 1 || std::string("ARDP").find(w[0]) == std::string::npos) return false;
    r.state.push_back(w[0] == 'A'   ? SideState::kAlive
                      : w[0] == 'R' ? SideState::kResync
                                    : SideState::kDead);
    r.path_lost.push_back(w[0] == 'P');
  }
  if (r.state.size() != sides) return false;
  *out = std::move(r);
  return true;
}

constexpr const char* kResyncTask = "mirror_resync";

}  // namespace

std::optional<cluster::OplockId> ControlPath::Impl::dve_side_oplock(uint32_t vseg_id) const {
  if (!dve || config.skip_side_state_coherence_for_testing) return std::nullopt;
  auto guid = vseg_guid.find(vseg_id);
  const Vseg* seg = metadata.vseg(vseg_id);
  if (guid == vseg_guid.end() || !seg || seg->redirects.empty() ||
      seg->redirects[0].descriptor.kind != map::StorageKind::kMirror) {
    return std::nullopt;
  }
  return cluster::OplockId{guid->second, cluster::Luid::kMirrorSideState, 0};
}

void ControlPath::Impl::set_side_state(uint32_t vseg_id, uint32_t side, SideState to,
                                       bool abort_pending, std::function<void()> apply_extra,
                                       std::function<void(bool)> done) {
  const auto id = dve_side_oplock(vseg_id);
  MirrorAges* a = mirror_ages_of(vseg_id);
  if (!id || !a) {
    return change_side_state(vseg_id, side, to, abort_pending, std::move(apply_extra),
                             std::move(done));
  }
  if (!dve->online()) {
    // Booting, or fenced: no change is made; the caller tries again later.
    if (to == SideState::kDead) a->dying[side] = false;
    if (done) done(false);
    return;
  }
  ++a->changes_pending;  // until it is made or refused under the oplock
  auto extra = std::make_shared<std::function<void()>>(std::move(apply_extra));
  auto shared_done = std::make_shared<std::function<void(bool)>>(std::move(done));
  const uint64_t key = ++dve_side_change_seq;
  dve_side_changes[key] = DveSideChange{vseg_id, side, to, shared_done};
  dve->update(
      {*id}, /*restrictive=*/true,
      [this, key, vseg_id, side, to, abort_pending, id = *id, extra,
       shared_done](cluster::OplockNode::Done finished) {
        if (dve_side_changes.erase(key) == 0) return finished();  // failed meanwhile
        dve_current.insert(id);
        MirrorAges* m = mirror_ages_of(vseg_id);
        const Vseg* seg = metadata.vseg(vseg_id);
        if (!m || !seg) {
          finished();
          if (*shared_done) (*shared_done)(false);
          return;
        }
        --m->changes_pending;
        DveSideRecord rec = dve_side_record(id, *seg);
        const SideState was = rec.state[side];
        bool allowed = false;
        if (to == SideState::kDead) {
          bool other_alive = false;
          for (size_t s = 0; s < rec.state.size(); ++s)
            other_alive = other_alive || (s != side && rec.state[s] == SideState::kAlive);
          allowed = was != SideState::kDead && (was != SideState::kAlive || other_alive);
        } else if (to == SideState::kResync) {
          allowed = was == SideState::kDead;
        } else {
          allowed = was == SideState::kResync && m->resync && m->resync->side == side;
        }
        if (allowed) {
          rec.state[side] = to;
          rec.path_lost[side] = to == SideState::kDead && m->path_lost[side];
          dve_env->storehouse().write(id, encode(rec));
          // A resync is a task of this DVE's journal: whoever evicts this
          // DVE finishes it.
          if (to == SideState::kResync && m->resync) {
            m->resync->task_id = (uint64_t{dve->id()} << 32) | (uint64_t{1} << 29) | ++dve_task_seq;
            m->resync->incarnation = dve_incarnation;
            dve_env->storehouse().record_task(
                dve->id(),
                cluster::TaskRecord{m->resync->task_id, kResyncTask,
                                    std::to_string(id.guid) + " " + std::to_string(side), 0});
          }
          spdlog::info("cp: DVE {} records VSEG {} sides '{}'", env.domain(), vseg_id, encode(rec));
        } else {
          if (to == SideState::kDead) m->dying[side] = false;
          if (to == SideState::kResync && m->resync && m->resync->side == side)
            m->resync->peer = true;
          spdlog::info("cp: DVE {}: VSEG {} side {} stays as recorded ('{}')", env.domain(),
                       vseg_id, side, encode(rec));
        }
        // This DVE's copy as recorded: its own change with the caller's
        // extras, and whatever peers changed since it last looked.
        auto left = std::make_shared<uint32_t>(1);
        auto ok_all = std::make_shared<bool>(true);
        auto one_done = [left, ok_all, finished, shared_done, allowed](bool ok) {
          *ok_all = *ok_all && ok;
          if (--*left > 0) return;
          finished();
          if (*shared_done) std::exchange(*shared_done, nullptr)(allowed && *ok_all);
        };
        if (allowed) {
          ++*left;
          change_side_state(vseg_id, side, to, abort_pending, std::move(*extra), one_done);
        }
        *left += dve_apply_side_record(vseg_id, rec, allowed ? side : ~0u, one_done);
        one_done(true);
      },
      [] {});
}

DveSideRecord ControlPath::Impl::dve_side_record(const cluster::OplockId& id, const Vseg& seg) {
  const map::StorageDescriptor& d = seg.redirects[0].descriptor;
  DveSideRecord rec;
  const cluster::MetadataRecord* stored = dve_env->storehouse().read(id);
  if (stored && decode(stored->bytes, d.mirror_sides(), &rec)) return rec;
  if (stored) {
    spdlog::error("cp: DVE {}: the side record of VSEG {} is unreadable ('{}'); using its own",
                  env.domain(), seg.descriptor.id, stored->bytes);
  }
  // Never changed yet: the states every DVE started with.
  const MirrorAges* a =
      mirror_ages.contains(seg.descriptor.id) ? &mirror_ages.at(seg.descriptor.id) : nullptr;
  for (uint32_t s = 0; s < d.mirror_sides(); ++s) {
    rec.state.push_back(d.side(s).state);
    rec.path_lost.push_back(a && s < a->path_lost.size() && a->path_lost[s]);
  }
  return rec;
}

uint32_t ControlPath::Impl::dve_apply_side_record(uint32_t vseg_id, const DveSideRecord& rec,
                                                  uint32_t skip,
                                                  const std::function<void(bool)>& done) {
  const Vseg* seg = metadata.vseg(vseg_id);
  MirrorAges* a = mirror_ages_of(vseg_id);
  if (!seg || !a) return 0;
  uint32_t started = 0;
  // Deaths last (the changes run in turn): a DVE that missed several changes
  // (fenced meanwhile) never has all its sides DEAD on the way.
  for (uint32_t i = 0; i < 2 * rec.state.size(); ++i) {
    const uint32_t s = i % rec.state.size();
    if (s >= a->age.size()) continue;
    const SideState here = seg->redirects[0].descriptor.side(s).state;
    if (s == skip || here == rec.state[s]) continue;
    const SideState to = rec.state[s];
    if ((to == SideState::kDead) != (i >= rec.state.size())) continue;
    const bool path_lost = rec.path_lost[s];
    // A resync this DVE started of a side a peer resynchronizes now.
    if (a->resync && a->resync->side == s && to != SideState::kDead) a->resync->peer = true;
    spdlog::info("cp: DVE {} applies VSEG {} side {}: recorded by another DVE", env.domain(),
                 vseg_id, s);
    ++started;
    change_side_state(
        vseg_id, s, to, /*abort_pending=*/false,
        [this, vseg_id, s, to, path_lost] {
          MirrorAges* m = mirror_ages_of(vseg_id);
          if (!m) return;
          if (to == SideState::kDead) {
            m->path_lost[s] = path_lost;
            if (m->why[s].empty()) m->why[s] = "another DVE found it failed";
          }
        },
        done);
  }
  return started;
}

void ControlPath::Impl::dve_refresh_sides(const cluster::OplockId& id) {
  auto v = guid_vseg.find(id.guid);
  const Vseg* seg = v == guid_vseg.end() ? nullptr : metadata.vseg(v->second);
  if (!seg || !dve_side_oplock(v->second)) return;
  const uint32_t vseg_id = v->second;
  const DveSideRecord rec = dve_side_record(id, *seg);
  dve_applying_sides.insert(vseg_id);
  auto left = std::make_shared<uint32_t>(1);
  auto one_done = [this, left, vseg_id](bool) {
    if (--*left > 0) return;
    dve_applying_sides.erase(vseg_id);
    dve_release_held();
    resume_returned_sides(vseg_id);
  };
  *left += dve_apply_side_record(vseg_id, rec, ~0u, one_done);
  one_done(true);
}

void ControlPath::Impl::dve_end_shared_resyncs(const std::string& why) {
  for (auto& [key, c] : std::exchange(dve_side_changes, {})) {
    if (MirrorAges* m = mirror_ages_of(c.vseg_id)) {
      --m->changes_pending;
      if (c.to == SideState::kDead) m->dying[c.side] = false;
    }
    spdlog::warn("cp: DVE {}: VSEG {} side {} stays as it was: {}", env.domain(), c.vseg_id, c.side,
                 why);
    if (*c.done) std::exchange(*c.done, nullptr)(false);
  }
  for (auto& [vseg_id, a] : mirror_ages) {
    if (a.resync && dve_side_oplock(vseg_id)) end_resync(vseg_id, false, why);
  }
}

void ControlPath::Impl::dve_end_resync_task(const MirrorResync& r) {
  if (r.task_id != 0 && r.incarnation == dve_incarnation)
    dve_env->storehouse().end_task(dve->id(), r.task_id);
}

void ControlPath::Impl::dve_take_over_resync(const cluster::TaskRecord& task) {
  std::istringstream words(task.params);
  uint64_t guid = 0;
  uint32_t side = 0;
  auto v = (words >> guid >> side) ? guid_vseg.find(guid) : guid_vseg.end();
  const auto id = v == guid_vseg.end() ? std::nullopt : dve_side_oplock(v->second);
  if (!id) {
    spdlog::error("cp: DVE {} cannot go on with resync task '{}'", env.domain(), task.params);
    return dve_env->storehouse().end_task(dve->id(), task.task_id);
  }
  const uint32_t vseg_id = v->second;
  spdlog::warn("cp: DVE {} goes on with the resync of VSEG {} side {} left by an evicted DVE",
               env.domain(), vseg_id, side);
  dve->update(
      {*id}, /*restrictive=*/true,
      [this, vseg_id, side, id = *id, task](cluster::OplockNode::Done finished) {
        dve_current.insert(id);
        const Vseg* seg = metadata.vseg(vseg_id);
        MirrorAges* m = mirror_ages_of(vseg_id);
        const DveSideRecord rec = dve_side_record(id, *seg);
        const std::optional<uint32_t> from = [&]() -> std::optional<uint32_t> {
          for (uint32_t s = 0; s < rec.state.size(); ++s)
            if (s != side && rec.state[s] == SideState::kAlive) return s;
          return std::nullopt;
        }();
        if (!m || side >= rec.state.size() || rec.state[side] != SideState::kResync || !from ||
            m->resync) {
          // Done, failed again, or already under way here.
          if (!m || !m->resync || m->resync->side != side)
            dve_env->storehouse().end_task(dve->id(), task.task_id);
          dve_apply_side_record(vseg_id, rec, ~0u, [](bool) {});
          return finished();
        }
        MirrorResync r;
        r.side = side;
        r.from = *from;
        r.task_id = task.task_id;
        r.incarnation = dve_incarnation;
        r.history = m->history.size();
        ResyncProgress progress;
        progress.side = side;
        progress.extents = m->extents;
        progress.started_ns = env.now_ns();
        m->history.push_back(progress);
        for (uint64_t k = 0; k < m->extents; ++k)
          r.stale.push_back(k);
        m->history.back().stale_extents = r.stale.size();
        m->resync = std::move(r);
        // This DVE's copy as recorded (the side RESYNC: it takes writes),
        // then the copy, from the start: the evicted DVE's progress is lost.
        auto left = std::make_shared<uint32_t>(1);
        auto go = [this, left, vseg_id, finished](bool) {
          if (--*left > 0) return;
          finished();
          resync_step(vseg_id);
        };
        *left += dve_apply_side_record(vseg_id, rec, ~0u, go);
        go(true);
      },
      [] {});
}

void ControlPath::Impl::dve_let_go_sides(const cluster::OplockId& id, std::function<void()> done) {
  dve_current.erase(id);
  auto v = guid_vseg.find(id.guid);
  const Vseg* seg = v == guid_vseg.end() ? nullptr : metadata.vseg(v->second);
  if (!seg) return done();
  dve_drain({{v->second, 0, seg->descriptor.length}}, std::move(done));
}

void ControlPath::Impl::dve_copy_under_write_oplocks(uint32_t vseg_id, uint64_t start,
                                                     uint64_t length, const CopyRequest& copy,
                                                     std::function<void(bool)> done) {
  std::vector<cluster::OplockId> chunks = dve_chunks_of(vseg_id, start, length);
  if (chunks.empty() || !dve_side_oplock(vseg_id)) return copy_blocks(copy, std::move(done));
  auto result = std::make_shared<bool>(false);
  auto shared_done = std::make_shared<std::function<void(bool)>>(std::move(done));
  dve->update(
      chunks, /*restrictive=*/true,
      [this, copy, result](cluster::OplockNode::Done finished) {
        copy_blocks(copy, [result, finished](bool ok) {
          *result = ok;
          finished();
        });
      },
      [this, chunks, result, shared_done] {
        // Released to sharing: this DVE's write authority, as dve_may_write's.
        for (const cluster::OplockId& c : chunks) {
          dve_chunks[c].held = true;
          ++stats.dve_authority_acquired;
        }
        (*shared_done)(*result);
      });
}

}  // namespace splitpath::cp
