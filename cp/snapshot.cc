// Snapshots (figures 20-21, 29). Taking one: the snapshot volume's VSEGs are
// re-pointed at the source's storage, read only (one restrictive update per
// VSEG), then every extent of the source gets FoW (one more): that update's
// end is the point in time. From then on:
// - a write into a copy-granularity chunk of the live VSEG that a snapshot
//   still shares faults (FoW) and waits in the CP while the chunk is pushed:
//   the chunk's blocks are copied (FPCopyIO) to each sharing snapshot's own
//   storage; each snapshot's Rmap for the chunk moves to its own storage (a
//   restrictive update: reads that used the old mapping drain); then the live
//   VSEG's chunk loses FoW (another), in exactly that order, and the write
//   goes on; later writes to the chunk stay on the FP;
// - a sweep pushes each snapshot's remaining chunks from its first block on,
//   one chunk every sweep_interval_ns.
// Sharing is decided on the storage: a snapshot VSEG shares a chunk with its
// root (the live VSEG whose data it holds, through any chain of snapshots of
// snapshots) while its mapping there names the root's storage. So several
// snapshots of one volume, and snapshots of a snapshot (which start out
// sharing whatever their source shares), are pushed to together.
#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "cp/control_path_impl.h"
#include "cp/vseg_place.h"
#include "spdlog/spdlog.h"

namespace splitpath::cp {

bool ControlPath::Impl::is_snapshot_lv(uint32_t lv_id) const {
  return std::any_of(snapshots.begin(), snapshots.end(),
                     [&](const Snapshot& s) { return s.lv_id == lv_id; });
}

uint64_t ControlPath::Impl::chunk_blocks_of(const Vseg& seg) const {
  const Volume* vol = metadata.volume_by_lv(seg.lv_id);
  const uint32_t bs = vol ? vol->block_size : 512;
  return std::max<uint64_t>(1, config.copy_granularity_bytes / bs);
}

void ControlPath::Impl::queue_update(uint32_t vseg_id, uint64_t start, uint64_t length,
                                     std::function<void()> apply, std::function<void(bool)> done) {
  const Vseg* seg = metadata.vseg(vseg_id);
  const Volume* vol = seg ? metadata.volume_by_lv(seg->lv_id) : nullptr;
  Update u;
  u.id = next_update_id++;
  u.change.volume = vol ? vol->name : std::string();
  u.change.lba = seg ? seg->descriptor.virtual_start_lba + start : 0;
  u.change.blocks = length;
  u.vseg_id = vseg_id;
  u.start = start;
  u.length = length;
  u.hold_misses = true;
  u.apply = std::move(apply);
  u.done = std::move(done);
  // The FPs drop every cached extent overlapping the range: cut the Rmap at
  // its ends so misses outside it load extents outside it.
  metadata.split_extent_at(vseg_id, start);
  metadata.split_extent_at(vseg_id, start + length);
  updates.push_back(std::move(u));
  if (!update_active) begin_update();
}

std::vector<uint32_t> ControlPath::Impl::chunk_sharers(uint32_t root, uint64_t chunk) const {
  std::vector<uint32_t> out;
  const Vseg* live = metadata.vseg(root);
  if (!live) return out;
  const uint64_t block = chunk * chunk_blocks_of(*live);
  const Place p = place_at(*live, block);
  for (const auto& [id, sv] : snapshot_vsegs) {
    const Vseg* s = metadata.vseg(id);
    if (sv.root == root && s && snapshots[sv.snapshot].info.error.empty() &&
        place_at(*s, block) == p) {
      out.push_back(id);
    }
  }
  return out;
}

bool ControlPath::Impl::snapshot_write_may_go(CpIo& io, uint32_t vseg_id, uint64_t start,
                                              uint64_t blocks) {
  if (!snapshot_roots.contains(vseg_id)) return true;
  const Vseg* seg = metadata.vseg(vseg_id);
  if (!seg) return true;
  const uint64_t chunk_blocks = chunk_blocks_of(*seg);
  bool go = true;
  for (uint64_t c = start / chunk_blocks; c <= (start + blocks - 1) / chunk_blocks; ++c) {
    if (pushing.contains({vseg_id, c})) {
      go = false;
      continue;
    }
    std::vector<uint32_t> sharers = chunk_sharers(vseg_id, c);
    if (sharers.empty()) continue;
    go = false;
    push_chunk(vseg_id, c, std::move(sharers), /*sweep=*/false);
  }
  if (!go && !io.met_push) {
    io.met_push = true;
    ++stats.cow_write_waits;
  }
  return go;
}

void ControlPath::Impl::push_chunk(uint32_t root, uint64_t chunk, std::vector<uint32_t> targets,
                                   bool sweep) {
  if (dve_coherent(root)) return dve_push_chunk(root, chunk, std::move(targets), sweep);
  push_chunk_here(root, chunk, std::move(targets), sweep, {});
}

void ControlPath::Impl::push_chunk_here(uint32_t root, uint64_t chunk,
                                        std::vector<uint32_t> targets, bool sweep,
                                        std::function<void()> pushed) {
  const Vseg* live = metadata.vseg(root);
  if (!live || targets.empty()) {
    if (pushed) pushed();
    return;
  }
  const uint64_t chunk_blocks = chunk_blocks_of(*live);
  const uint64_t start = chunk * chunk_blocks;
  const uint64_t length = std::min(chunk_blocks, live->descriptor.length - start);
  pushing.insert({root, chunk});
  ++(sweep ? stats.sweep_pushes : stats.cow_pushes);

  // Step 1: copy the chunk to each target's own storage, from where the
  // target maps it now (the root's storage, piece by piece per extent).
  struct Push {
    uint32_t copies_out = 0;
    bool failed = false;
  };
  auto push = std::make_shared<Push>();
  std::vector<CopyRequest> copies;
  for (uint32_t t : targets) {
    const SnapshotVseg& sv = snapshot_vsegs.at(t);
    for (const CopyRequest& c :
         plan_copies(*metadata.vseg(t), start, start + length, sv.own_disk, sv.own))
      copies.push_back(c);
  }
  push->copies_out = static_cast<uint32_t>(copies.size());
  auto after_copies = [this, root, chunk, start, length, targets, push, pushed]() {
    if (push->failed) {
      for (uint32_t t : targets) {
        Snapshot& snap = snapshots[snapshot_vsegs.at(t).snapshot];
        if (snap.info.error.empty()) {
          snap.info.error =
              absl::StrFormat("a push of VSEG %u blocks [%u, +%u) failed", root, start, length);
          spdlog::error("cp: snapshot '{}': {}", snap.info.name, snap.info.error);
        }
      }
    }
    // Step 2: each target's chunk moves to its own storage (read only);
    // step 3, after them: the root's chunk loses FoW if no snapshot shares
    // it any more. A failed push leaves the targets as they were (marked
    // failed, they no longer hold the root's writes back).
    auto remaining = std::make_shared<uint32_t>(static_cast<uint32_t>(targets.size()));
    auto root_step = [this, root, chunk, start, length, pushed] {
      queue_update(
          root, start, length,
          [this, root, chunk, start, length] {
            if (chunk_sharers(root, chunk).empty()) restore_root_flags(root, start, length);
          },
          [this, root, chunk, pushed](bool) {
            pushing.erase({root, chunk});
            retry_blocked();
            if (pushed) pushed();
          });
    };
    if (push->failed) return root_step();
    for (uint32_t t : targets) {
      queue_update(
          t, start, length,
          [this, t, start, length] {
            SnapshotVseg& sv = snapshot_vsegs.at(t);
            std::vector<map::RedirectIndex> fresh;
            std::string error;
            metadata.remap_range(t, start, length, sv.own, sv.own_disk,
                                 map::redirect_flags::kFaultOnWrite, &fresh, &error);
            load_fresh_entries(*metadata.vseg(t), fresh);
            snapshots[sv.snapshot].info.own_blocks += length;
          },
          [remaining, root_step](bool) {
            if (--*remaining == 0) root_step();
          });
    }
  };
  for (const CopyRequest& c : copies) {
    copy_blocks(c, [push, after_copies](bool ok) {
      push->failed = push->failed || !ok;
      if (--push->copies_out == 0) after_copies();
    });
  }
}

void ControlPath::Impl::restore_root_flags(uint32_t root, uint64_t start, uint64_t length) {
  std::vector<map::RedirectIndex> fresh;
  std::string error;
  metadata.remap_range(root, start, length, std::nullopt, 0, snapshot_roots[root], &fresh, &error);
  // The snapshot's FoW and a migration's copy barrier combine: the barrier's
  // writes must still wait for it to move, whatever the snapshots need.
  if (const auto barrier = copy_barrier_within(root, start, length)) {
    metadata.remap_range(
        root, barrier->first, barrier->second, std::nullopt, 0,
        static_cast<uint8_t>(snapshot_roots[root] | map::redirect_flags::kFaultOnWrite), &fresh,
        &error);
  }
  load_fresh_entries(*metadata.vseg(root), fresh);
}

std::map<uint64_t, std::vector<uint32_t>> ControlPath::Impl::snapshot_chunks_on(
    uint32_t root, const std::vector<PhysicalRange>& ranges) const {
  std::map<uint64_t, std::vector<uint32_t>> out;
  for (const auto& [id, sv] : snapshot_vsegs) {
    const Vseg* s = metadata.vseg(id);
    if (sv.root != root || !s || !snapshots[sv.snapshot].info.error.empty()) continue;
    const uint64_t chunk_blocks = chunk_blocks_of(*s);
    for (const auto& [start, e] : s->rmap) {
      const Place p = place_at(*s, start);
      if (p.disk == ~0u) continue;
      const PhysicalRange used{metadata.disks()[p.disk].wwpn, p.lun, p.base + start, e.length};
      if (std::none_of(ranges.begin(), ranges.end(),
                       [&](const PhysicalRange& r) { return r.overlaps(used); })) {
        continue;
      }
      for (uint64_t c = start / chunk_blocks; c <= (e.end() - 1) / chunk_blocks; ++c) {
        std::vector<uint32_t>& targets = out[c];
        if (std::find(targets.begin(), targets.end(), id) == targets.end()) targets.push_back(id);
      }
    }
  }
  return out;
}

void ControlPath::Impl::sweep_step(uint32_t index) {
  Snapshot& snap = snapshots[index];
  if (!snap.info.error.empty()) return;
  if (!dve_may_sweep(snap)) return;
  for (uint32_t id : snap.vsegs) {
    SnapshotVseg& sv = snapshot_vsegs.at(id);
    const Vseg* s = metadata.vseg(id);
    const uint64_t chunk_blocks = chunk_blocks_of(*s);
    const uint64_t chunks = (s->descriptor.length + chunk_blocks - 1) / chunk_blocks;
    while (sv.sweep_next < chunks) {
      const uint64_t c = sv.sweep_next;
      const Place p = place_at(*s, c * chunk_blocks);
      const bool own = p == Place{sv.own_disk, sv.own.lun, sv.own.start_lba};
      if (own) {
        ++sv.sweep_next;
        continue;
      }
      if (!pushing.contains({sv.root, c})) {
        // The sweep pushes to every snapshot sharing the chunk, this one
        // among them (it may share a chunk the root no longer has: then it
        // is pushed alone).
        std::vector<uint32_t> targets = chunk_sharers(sv.root, c);
        if (std::find(targets.begin(), targets.end(), id) == targets.end()) targets.push_back(id);
        push_chunk(sv.root, c, std::move(targets), /*sweep=*/true);
      }
      later(config.sweep_interval_ns, [this, index] { sweep_step(index); });
      return;
    }
  }
  snap.info.swept = true;
  snap.sweeping = false;
  dve_end_sweep_task(snap);
  spdlog::info("cp: snapshot '{}' swept: every block on its own storage", snap.info.name);
  compact_after_sweep(index);
}

void ControlPath::Impl::compact_after_sweep(uint32_t index) {
  // The pushes cut the snapshot's Rmap, and its root's (each chunk lost its
  // FoW alone), into an extent per chunk, and left the redirect entries of
  // storage no extent maps any more.
  std::set<uint32_t> tables;
  for (uint32_t id : snapshots[index].vsegs) {
    tables.insert(id);
    const uint32_t root = snapshot_vsegs.at(id).root;
    const Vseg* r = metadata.vseg(root);
    if (!r) continue;
    const uint64_t chunk_blocks = chunk_blocks_of(*r);
    bool shared = false;
    for (uint64_t c = 0; !shared && c * chunk_blocks < r->descriptor.length; ++c)
      shared = !chunk_sharers(root, c).empty();
    if (!shared && !migration_of(root) && !is_snapshot_lv(r->lv_id)) tables.insert(root);
  }
  for (uint32_t id : tables) {
    queue_update(
        id, 0, metadata.vseg(id)->descriptor.length, [this, id] { compact_and_reload(id); },
        [](bool) {});
  }
}

bool ControlPath::Impl::snapshot_request_ok(const SnapshotRequest& r, std::string* error) {
  auto reject = [&](const std::string& why) {
    if (error) *error = absl::StrFormat("snapshot '%s' of volume '%s': %s", r.name, r.source, why);
    return false;
  };
  if (!started) return reject("the CP has not started");
  const Volume* src = metadata.volume(r.source);
  const Volume* dst = metadata.volume(r.name);
  if (!src) return reject("no such source volume");
  if (!dst) return reject("no such snapshot volume (declare it with storage of its own)");
  if (src == dst) return reject("a volume cannot be its own snapshot");
  if (is_snapshot_lv(dst->lv_id)) return reject("the volume is a snapshot already");
  if (src->block_size != dst->block_size || src->vsegs.size() != dst->vsegs.size())
    return reject("the volumes' block sizes or VSEG counts differ");
  const bool source_is_snapshot = is_snapshot_lv(src->lv_id);
  if (source_is_snapshot && !snapshots[snapshot_vsegs.at(src->vsegs[0]).snapshot].info.ready)
    return reject("the source snapshot is not taken yet");
  for (size_t i = 0; i < src->vsegs.size(); ++i) {
    const Vseg& a = *metadata.vseg(src->vsegs[i]);
    const Vseg& b = *metadata.vseg(dst->vsegs[i]);
    if (a.descriptor.length != b.descriptor.length)
      return reject(absl::StrFormat("VSEG %u of the volumes differ in size", i));
    // A source VSEG may be migrating (figure 33): the snapshot maps each
    // chunk where the source does (P1 not copied yet, the barrier on P1,
    // copied ones on P2). The snapshot's own storage must stay put.
    if (migration_of(b.descriptor.id)) return reject("a VSEG of the snapshot volume is migrating");
    const bool migrating = migration_of(a.descriptor.id) != nullptr;
    if (a.multipath || a.journal_area || b.multipath || b.journal_area)
      return reject("multipath and journaled VSEGs have no snapshots");
    for (const auto& [start, e] : a.rmap) {
      if (place_at(a, start).disk == ~0u) return reject("the source is not on simple storage");
    }
    uint8_t flags = 0;
    // A migration checked the flags when it began and keeps them but for the
    // barrier's FoW.
    if (!source_is_snapshot && !snapshot_roots.contains(a.descriptor.id) && !migrating &&
        !uniform_place(a, &flags).has_value()) {
      // Extents on several ranges are fine; their flags must agree.
      uint8_t f0 = a.redirects[a.rmap.begin()->second.redirect_index].flags;
      for (const auto& [start, e] : a.rmap)
        if (a.redirects[e.redirect_index].flags != f0)
          return reject("the source's extents have different redirect flags");
    }
    if (!uniform_place(b, nullptr))
      return reject("the snapshot volume's VSEGs must each be one simple disk range");
  }

  return true;
}

uint32_t ControlPath::Impl::queue_snapshot(const SnapshotRequest& r, std::set<uint32_t>* roots) {
  const Volume* src = metadata.volume(r.source);
  const Volume* dst = metadata.volume(r.name);
  const bool source_is_snapshot = is_snapshot_lv(src->lv_id);
  const uint32_t index = static_cast<uint32_t>(snapshots.size());
  Snapshot& snap = snapshots.emplace_back();
  snap.info.source = src->name;
  snap.info.name = dst->name;
  snap.info.blocks = dst->blocks;
  snap.lv_id = dst->lv_id;
  snap.vsegs = dst->vsegs;
  snap.taken_by_peer = applying_peer_snapshot;
  spdlog::info("cp: snapshot '{}' of '{}' ({} blocks) begins", dst->name, src->name, dst->blocks);
  for (size_t i = 0; i < src->vsegs.size(); ++i) {
    const uint32_t a = src->vsegs[i];
    const uint32_t b = dst->vsegs[i];
    const Vseg& bseg = *metadata.vseg(b);
    const Place own = *uniform_place(bseg, nullptr);
    SnapshotVseg sv;
    sv.snapshot = index;
    sv.root = source_is_snapshot ? snapshot_vsegs.at(a).root : a;
    sv.own_disk = own.disk;
    sv.own.lun = own.lun;
    sv.own.start_lba = own.base;
    // The snapshot VSEG maps what the source maps, read only.
    ++snap.updates_left;
    queue_update(
        b, 0, bseg.descriptor.length,
        [this, a, b, sv] {
          const Vseg& aseg = *metadata.vseg(a);
          std::vector<std::pair<uint64_t, map::Extent>> extents(aseg.rmap.begin(), aseg.rmap.end());
          std::vector<map::RedirectIndex> fresh;
          std::string error;
          for (const auto& [start, e] : extents) {
            const map::SimpleStorage s = aseg.redirects[e.redirect_index].descriptor.simple();
            metadata.remap_range(b, start, e.length, s, aseg.redirect_disk[e.redirect_index],
                                 map::redirect_flags::kFaultOnWrite, &fresh, &error);
          }
          load_fresh_entries(*metadata.vseg(b), fresh);
          snapshot_vsegs[b] = sv;
        },
        snapshot_update_done(index));
    if (source_is_snapshot) continue;  // a snapshot is never written: no FoW needed
    if (!snapshot_roots.contains(a)) {
      // The VSEG's own flags: under a migration, the first extent may be the
      // copy barrier (FoW), which is the migration's, not the VSEG's.
      const Vseg& aseg = *metadata.vseg(a);
      const Migration* m = migration_of(a);
      snapshot_roots[a] =
          m ? m->flags : aseg.redirects[aseg.rmap.begin()->second.redirect_index].flags;
    }
    roots->insert(a);
  }
  return index;
}

bool ControlPath::Impl::snapshot_group_ok(const std::vector<SnapshotRequest>& group,
                                          std::string* error) {
  std::set<std::string> names;
  for (const SnapshotRequest& r : group) {
    if (!snapshot_request_ok(r, error)) return false;
    if (!names.insert(r.name).second) {
      if (error) *error = absl::StrFormat("snapshot '%s' is named twice in the group", r.name);
      return false;
    }
  }
  for (const SnapshotRequest& r : group) {
    if (names.contains(r.source)) {
      if (error)
        *error = absl::StrFormat("snapshot '%s': its source '%s' is taken in the same group",
                                 r.name, r.source);
      return false;
    }
  }
  if (group.empty()) {
    if (error) *error = "no snapshot asked for";
    return false;
  }
  return true;
}

bool ControlPath::Impl::take_snapshots(const std::vector<SnapshotRequest>& group,
                                       std::string* error, std::function<void(bool)> done) {
  if (!snapshot_group_ok(group, error)) return false;
  std::set<uint32_t> roots;
  std::vector<uint32_t> indexes;
  for (const SnapshotRequest& r : group)
    indexes.push_back(queue_snapshot(r, &roots));
  // The group's one done, once every snapshot of it is taken.
  auto left = std::make_shared<size_t>(indexes.size());
  auto all_ok = std::make_shared<bool>(true);
  auto shared_done = std::make_shared<std::function<void(bool)>>(std::move(done));
  for (uint32_t index : indexes) {
    snapshots[index].done = [left, all_ok, shared_done](bool ok) {
      *all_ok = *all_ok && ok;
      if (--*left == 0 && *shared_done) (*shared_done)(*all_ok);
    };
  }
  if (roots.empty()) return true;  // snapshots of snapshots only: nothing is written
  // The point in time, one for the whole group: every source VSEG is
  // revoked at every FP and drained together, then all get FoW at once, so
  // no write is ordered around it (a write that completed before another
  // began is in every snapshot the later one is in).
  std::vector<uint32_t> ids(roots.begin(), roots.end());
  for (uint32_t index : indexes)
    ++snapshots[index].updates_left;
  Update u;
  u.id = next_update_id++;
  const Vseg* first = metadata.vseg(ids[0]);
  const Volume* vol = metadata.volume_by_lv(first->lv_id);
  u.change.volume = vol->name;
  u.change.lba = first->descriptor.virtual_start_lba;
  u.change.blocks = first->descriptor.length;
  u.vseg_id = ids[0];
  u.start = 0;
  u.length = first->descriptor.length;
  for (size_t i = 1; i < ids.size(); ++i)
    u.more.push_back(Update::Range{ids[i], 0, metadata.vseg(ids[i])->descriptor.length});
  u.hold_misses = true;
  u.apply = [this, ids] {
    for (uint32_t a : ids) {
      std::vector<map::RedirectIndex> fresh;
      std::string error;
      metadata.remap_range(
          a, 0, metadata.vseg(a)->descriptor.length, std::nullopt, 0,
          static_cast<uint8_t>(snapshot_roots[a] | map::redirect_flags::kFaultOnWrite), &fresh,
          &error);
      load_fresh_entries(*metadata.vseg(a), fresh);
    }
  };
  u.done = [this, indexes](bool ok) {
    for (uint32_t index : indexes)
      snapshot_update_done(index)(ok);
  };
  updates.push_back(std::move(u));
  if (!update_active) begin_update();
  return true;
}

std::function<void(bool)> ControlPath::Impl::snapshot_update_done(uint32_t index) {
  return [this, index](bool ok) {
    Snapshot& s = snapshots[index];
    if (!ok && s.info.error.empty()) s.info.error = "an update failed";
    if (--s.updates_left > 0) return;
    s.info.ready = true;
    s.info.taken_ns = env.now_ns();
    spdlog::info("cp: snapshot '{}' of '{}' taken", s.info.name, s.info.source);
    if (s.done) std::exchange(s.done, nullptr)(s.info.error.empty());
    if (s.taken_by_peer) return;
    if (config.sweep_interval_ns > 0 && s.info.error.empty() && dve_record_sweep_task(index)) {
      s.sweeping = true;
      later(config.sweep_interval_ns, [this, index] { sweep_step(index); });
    } else if (dve) {
      dve_drop_sweep_intents({SnapshotRequest{s.info.source, s.info.name}});
    }
  };
}

bool ControlPath::take_snapshot(const SnapshotRequest& request, std::string* error,
                                std::function<void(bool)> done) {
  return take_snapshots({request}, error, std::move(done));
}

bool ControlPath::take_snapshots(const std::vector<SnapshotRequest>& group, std::string* error,
                                 std::function<void(bool)> done) {
  if (impl_->dve_shared_snapshot(group))
    return impl_->dve_take_snapshots(group, error, std::move(done));
  return impl_->take_snapshots(group, error, std::move(done));
}

std::vector<SnapshotInfo> ControlPath::snapshots() const {
  std::vector<SnapshotInfo> out;
  for (const Snapshot& s : impl_->snapshots)
    out.push_back(s.info);
  return out;
}

}  // namespace splitpath::cp
