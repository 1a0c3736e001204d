// Snapshots of a volume served by several DVEs (figures 28-29). Every DVE
// holds its own copy of the volume's metadata; the oplocks keep the copies
// coherent, the global storehouse carries the changes:
// - Taking one: the DVE asked acquires the LV Reconfig oplock of every
//   volume of the group (restrictive). Each other DVE lets go by pausing the
//   volumes (their FPs' extents revoked, I/O drained, misses and CP I/O held
//   while it does not share the oplock). Under the oplocks, the taker writes
//   the group to each volume's LV Reconfig record and takes the snapshot
//   here (its FoW update is the point in time), then releases. A paused DVE
//   shares the oplock again on its next I/O, reads the record and takes the
//   same snapshot on its own copy (without a sweep: the taker sweeps), then
//   resumes. A DVE that was down catches up the same way when it boots.
// - Pushing a chunk (a faulted write or the sweep, on any DVE): under the
//   Rmap oplock of the root's copy-granularity chunk (RMAP_LUID[BBA/chunk]),
//   which every DVE shares before it caches an extent of the root, or of a
//   snapshot of it, in that chunk. The pusher first applies the chunk's record
//   (a peer may have pushed it), copies the chunk to the snapshots still
//   sharing it, moves their Rmap and then the root's (each drained here, as
//   on one DVE), and writes the record: the snapshot VSEGs whose chunk is on
//   their own storage. The other DVEs drained the chunk when they let go and
//   apply the record when they share it again.
#include <algorithm>
#include <sstream>
#include <utility>

#include "cp/control_path_impl.h"
#include "cp/vseg_place.h"
#include "spdlog/spdlog.h"

namespace splitpath::cp {

namespace {

constexpr const char* kSweepTask = "snapshot_sweep";

std::string chunk_record(const std::vector<uint64_t>& guids) {
  std::string out;
  for (uint64_t g : guids)
    out += std::to_string(g) + "\n";
  return out;
}

}  // namespace

uint32_t ControlPath::Impl::dve_root_of(uint32_t vseg_id) const {
  if (!dve || config.skip_snapshot_coherence_for_testing) return ~0u;
  uint32_t root = ~0u;
  if (auto sv = snapshot_vsegs.find(vseg_id); sv != snapshot_vsegs.end()) {
    root = sv->second.root;
  } else if (snapshot_roots.contains(vseg_id)) {
    root = vseg_id;
  } else {
    for (const auto& [id, m] : migrations) {
      if (m.shared && m.progress.vseg_id == vseg_id &&
          m.progress.state == MigrationProgress::State::kRunning) {
        root = vseg_id;
      }
    }
  }
  return root != ~0u && vseg_guid.contains(root) ? root : ~0u;
}

bool ControlPath::Impl::dve_coherent(uint32_t root) const {
  return dve_root_of(root) == root;
}

std::vector<cluster::OplockId> ControlPath::Impl::dve_rmap_oplocks(uint32_t vseg_id, uint64_t start,
                                                                   uint64_t length) const {
  const uint32_t root = dve_root_of(vseg_id);
  if (root == ~0u || length == 0) return {};
  return cluster::chunk_oplocks(vseg_guid.at(root), cluster::Luid::kRmap, start, length,
                                chunk_blocks_of(*metadata.vseg(root)));
}

std::optional<cluster::OplockId> ControlPath::Impl::dve_lv_oplock(uint32_t lv_id) const {
  auto it = lv_guid.find(lv_id);
  if (!dve || it == lv_guid.end() || config.skip_snapshot_coherence_for_testing)
    return std::nullopt;
  return cluster::OplockId{it->second, cluster::Luid::kLvReconfig, 0};
}

bool ControlPath::Impl::dve_ready(uint32_t lv_id, uint32_t vseg_id, uint64_t start,
                                  uint64_t length) {
  if (!dve) return true;
  bool ready = true;
  if (const auto lv = dve_lv_oplock(lv_id)) {
    if (!dve_fresh(*lv)) {
      dve_share(*lv);
      ready = false;
    }
    if (dve_applying.contains(lv_id)) ready = false;
  }
  if (const auto sides = dve_side_oplock(vseg_id)) {
    if (!dve_fresh(*sides)) {
      dve_share(*sides);
      ready = false;
    }
    if (dve_applying_sides.contains(vseg_id)) ready = false;
  }
  for (const cluster::OplockId& id : dve_rmap_oplocks(vseg_id, start, length)) {
    if (!dve_fresh(id)) {
      dve_share(id);
      ready = false;
    }
  }
  return ready;
}

// Shared, and this DVE's copy brought up to date since: the node says the
// cache is valid as soon as the share round ends, before the callback that
// reads the record has run.
bool ControlPath::Impl::dve_fresh(const cluster::OplockId& id) const {
  return dve->cache_valid(id) && dve_current.contains(id);
}

void ControlPath::Impl::dve_share(const cluster::OplockId& id) {
  if (!dve_sharing.insert(id).second) return;
  dve->share(id, [this, id] {
    dve_sharing.erase(id);
    if (id.luid == cluster::Luid::kLvReconfig) dve_apply_peer_snapshots(id);
    if (id.luid == cluster::Luid::kRmap) dve_refresh_chunk(id);
    if (id.luid == cluster::Luid::kMirrorSideState) dve_refresh_sides(id);
    if (dve->cache_valid(id)) dve_current.insert(id);
    dve_release_held();
  });
}

void ControlPath::Impl::dve_release_held() {
  for (const auto& [port, miss] : std::exchange(dve_held_misses, {}))
    on_miss(port, miss, /*again=*/true);
  retry_blocked();
}

void ControlPath::Impl::dve_drain(const std::vector<Update::Range>& ranges,
                                  std::function<void()> done) {
  if (ranges.empty()) return done();
  Update u;
  u.id = next_update_id++;
  const Vseg* seg = metadata.vseg(ranges[0].vseg_id);
  const Volume* vol = seg ? metadata.volume_by_lv(seg->lv_id) : nullptr;
  u.change.volume = vol ? vol->name : std::string();
  u.change.lba = seg ? seg->descriptor.virtual_start_lba + ranges[0].start : 0;
  u.change.blocks = ranges[0].length;
  u.vseg_id = ranges[0].vseg_id;
  u.start = ranges[0].start;
  u.length = ranges[0].length;
  u.more.assign(ranges.begin() + 1, ranges.end());
  u.hold_misses = true;
  u.apply = [] {};
  u.done = [done = std::move(done)](bool) { done(); };
  for (const Update::Range& r : ranges) {
    metadata.split_extent_at(r.vseg_id, r.start);
    metadata.split_extent_at(r.vseg_id, r.start + r.length);
  }
  updates.push_back(std::move(u));
  if (!update_active) begin_update();
}

void ControlPath::Impl::dve_let_go_lv(const cluster::OplockId& id, std::function<void()> done) {
  dve_current.erase(id);
  std::vector<Update::Range> ranges;
  for (const auto& [lv_id, guid] : lv_guid) {
    if (guid != id.guid) continue;
    const Volume* vol = metadata.volume_by_lv(lv_id);
    for (uint32_t v : vol ? vol->vsegs : std::vector<uint32_t>{})
      ranges.push_back({v, 0, metadata.vseg(v)->descriptor.length});
  }
  dve_drain(ranges, std::move(done));
}

void ControlPath::Impl::dve_let_go_rmap(const cluster::OplockId& id, std::function<void()> done) {
  dve_current.erase(id);
  auto it = guid_vseg.find(id.guid);
  const Vseg* root = it == guid_vseg.end() ? nullptr : metadata.vseg(it->second);
  if (!root) return done();
  const uint64_t chunk = chunk_blocks_of(*root);
  const uint64_t start = id.index * chunk;
  if (start >= root->descriptor.length) return done();
  const uint64_t length = std::min(chunk, root->descriptor.length - start);
  std::vector<Update::Range> ranges{{it->second, start, length}};
  for (const auto& [v, sv] : snapshot_vsegs)
    if (sv.root == it->second) ranges.push_back({v, start, length});
  dve_drain(ranges, std::move(done));
}

bool ControlPath::Impl::dve_shared_snapshot(const std::vector<SnapshotRequest>& group) const {
  return std::any_of(group.begin(), group.end(), [&](const SnapshotRequest& r) {
    return shared_volumes.contains(r.source) || shared_volumes.contains(r.name);
  });
}

bool ControlPath::Impl::dve_take_snapshots(const std::vector<SnapshotRequest>& group,
                                           std::string* error, std::function<void(bool)> done) {
  if (config.skip_snapshot_coherence_for_testing) return take_snapshots(group, error, done);
  std::vector<cluster::OplockId> ids;
  for (const SnapshotRequest& r : group) {
    if (!shared_volumes.contains(r.source) || !shared_volumes.contains(r.name)) {
      if (error) {
        *error = "snapshot '" + r.name + "' of volume '" + r.source +
                 "': a volume served by several DVEs (shared_with) and its snapshot must both "
                 "be shared with the same switches";
      }
      return false;
    }
    for (const std::string& v : {r.source, r.name}) {
      if (v.find_first_of(" \n") != std::string::npos) {
        if (error) *error = "snapshot '" + r.name + "': volume name '" + v + "' has blanks";
        return false;
      }
      if (const Volume* vol = metadata.volume(v))
        if (const auto id = dve_lv_oplock(vol->lv_id)) ids.push_back(*id);
    }
  }
  if (!dve) {
    if (error) *error = "the volumes are shared but this switch is not in a DVE cluster";
    return false;
  }
  if (!snapshot_group_ok(group, error)) return false;
  for (const SnapshotRequest& r : group)
    dve_snapshots_known.insert(r.name);
  std::string line;
  for (const SnapshotRequest& r : group)
    line += " " + r.source + " " + r.name;
  line = "snapshot" + line;
  auto shared_done = std::make_shared<std::function<void(bool)>>(std::move(done));
  dve->update(
      ids, /*restrictive=*/true,
      [this, group, ids, line, shared_done](cluster::OplockNode::Done finished) {
        dve_current.insert(ids.begin(), ids.end());
        auto end = [finished, shared_done](bool ok) {
          finished();
          if (*shared_done) std::exchange(*shared_done, nullptr)(ok);
        };
        std::string error;
        if (!snapshot_group_ok(group, &error)) {
          spdlog::error("cp: DVE {}: {}", env.domain(), error);
          return end(false);
        }
        // The record first: a peer that shares the oplock again takes it too;
        // and the sweeps with it, so that whoever evicts this DVE from now on
        // finds them in its task journal.
        for (const cluster::OplockId& id : ids) {
          const cluster::MetadataRecord* r = dve_env->storehouse().read(id);
          dve_env->storehouse().write(id, (r ? r->bytes : std::string()) + line + "\n");
        }
        dve_record_sweep_intents(group);
        if (!take_snapshots(group, &error, end)) {
          spdlog::error("cp: DVE {}: {}", env.domain(), error);
          dve_drop_sweep_intents(group);
          end(false);
        }
      },
      [] {});
  return true;
}

void ControlPath::Impl::dve_apply_peer_snapshots(const cluster::OplockId& id) {
  const cluster::MetadataRecord* record = dve_env->storehouse().read(id);
  if (!record) return;
  std::istringstream lines(record->bytes);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("migrate ", 0) == 0) {
      dve_follow_migration(line);
      continue;
    }
    std::istringstream words(line);
    std::string verb;
    if (!(words >> verb) || verb != "snapshot") continue;
    std::vector<SnapshotRequest> group;
    bool known = true;
    for (SnapshotRequest r; words >> r.source >> r.name;) {
      known = known && dve_snapshots_known.contains(r.name);
      group.push_back(r);
    }
    if (known || group.empty()) continue;
    std::set<uint32_t> lvs;
    for (const SnapshotRequest& r : group) {
      dve_snapshots_known.insert(r.name);
      for (const std::string& v : {r.source, r.name})
        if (const Volume* vol = metadata.volume(v)) lvs.insert(vol->lv_id);
    }
    dve_applying.insert(lvs.begin(), lvs.end());
    spdlog::info("cp: DVE {} takes the snapshot group '{}' a peer took", env.domain(), line);
    auto after = [this, lvs, group](bool ok) {
      if (!ok) spdlog::error("cp: DVE {}: a peer's snapshot failed here", env.domain());
      for (uint32_t lv : lvs)
        dve_applying.erase(lv);
      // Its taker was evicted before this DVE took it: the sweep is ours.
      for (const SnapshotRequest& r : group) {
        auto adopted = dve_sweeps_adopted.find(r.name);
        if (adopted == dve_sweeps_adopted.end()) continue;
        for (uint32_t i = 0; i < snapshots.size(); ++i)
          if (snapshots[i].info.name == r.name) dve_resume_sweep(i, adopted->second);
        dve_sweeps_adopted.erase(adopted);
      }
      // Chunks this DVE shares may hold pushes to the new snapshots.
      for (const cluster::OplockId& c : dve->known_oplocks())
        if (c.luid == cluster::Luid::kRmap && dve->cache_valid(c)) dve_refresh_chunk(c);
      dve_release_held();
    };
    std::string error;
    applying_peer_snapshot = true;
    const bool started = take_snapshots(group, &error, after);
    applying_peer_snapshot = false;
    if (!started) {
      spdlog::error("cp: DVE {} cannot take the snapshot group '{}' a peer took: {}", env.domain(),
                    line, error);
      after(false);
    }
  }
}

void ControlPath::Impl::dve_push_chunk(uint32_t root, uint64_t chunk, std::vector<uint32_t> targets,
                                       bool sweep) {
  pushing.insert({root, chunk});
  const cluster::OplockId id{vseg_guid.at(root), cluster::Luid::kRmap, chunk};
  dve->update(
      {id}, /*restrictive=*/true,
      [this, id, root, chunk, targets, sweep](cluster::OplockNode::Done finished) {
        // A peer may have pushed it meanwhile: push to what still shares it.
        dve_refresh_chunk(id);
        dve_current.insert(id);
        std::vector<uint32_t> now = chunk_sharers(root, chunk);
        const uint64_t at = chunk * chunk_blocks_of(*metadata.vseg(root));
        for (uint32_t t : targets) {
          const SnapshotVseg& sv = snapshot_vsegs.at(t);
          const bool own =
              place_at(*metadata.vseg(t), at) == Place{sv.own_disk, sv.own.lun, sv.own.start_lba};
          if (!own && std::find(now.begin(), now.end(), t) == now.end()) now.push_back(t);
        }
        if (now.empty()) {
          pushing.erase({root, chunk});
          retry_blocked();
          return finished();
        }
        push_chunk_here(root, chunk, std::move(now), sweep, [this, id, finished] {
          dve_write_chunk_record(id);
          finished();
        });
      },
      [] {});
}

void ControlPath::Impl::dve_write_chunk_record(const cluster::OplockId& id) {
  auto it = guid_vseg.find(id.guid);
  if (it == guid_vseg.end()) return;
  const uint64_t at = id.index * chunk_blocks_of(*metadata.vseg(it->second));
  std::vector<uint64_t> pushed;
  for (const auto& [v, sv] : snapshot_vsegs) {
    if (sv.root != it->second || !vseg_guid.contains(v)) continue;
    if (place_at(*metadata.vseg(v), at) == Place{sv.own_disk, sv.own.lun, sv.own.start_lba})
      pushed.push_back(vseg_guid.at(v));
  }
  std::sort(pushed.begin(), pushed.end());
  dve_env->storehouse().write(id, chunk_record(pushed));
}

void ControlPath::Impl::dve_refresh_chunk(const cluster::OplockId& id) {
  if (dve_refresh_migration_chunk(id)) return;
  const cluster::MetadataRecord* record = dve_env->storehouse().read(id);
  auto it = guid_vseg.find(id.guid);
  if (!record || it == guid_vseg.end()) return;
  const uint32_t root = it->second;
  const Vseg* live = metadata.vseg(root);
  const uint64_t chunk_blocks = chunk_blocks_of(*live);
  const uint64_t start = id.index * chunk_blocks;
  if (start >= live->descriptor.length) return;
  const uint64_t length = std::min(chunk_blocks, live->descriptor.length - start);
  std::istringstream in(record->bytes);
  for (uint64_t guid; in >> guid;) {
    auto v = guid_vseg.find(guid);
    auto sv = v == guid_vseg.end() ? snapshot_vsegs.end() : snapshot_vsegs.find(v->second);
    if (sv == snapshot_vsegs.end() || sv->second.root != root) continue;  // not taken here yet
    const Place own{sv->second.own_disk, sv->second.own.lun, sv->second.own.start_lba};
    if (place_at(*metadata.vseg(sv->first), start) == own) continue;
    std::vector<map::RedirectIndex> fresh;
    std::string error;
    metadata.remap_range(sv->first, start, length, sv->second.own, sv->second.own_disk,
                         map::redirect_flags::kFaultOnWrite, &fresh, &error);
    load_fresh_entries(*metadata.vseg(sv->first), fresh);
    snapshots[sv->second.snapshot].info.own_blocks += length;
  }
  const map::Extent* e = metadata.vseg(root)->extent_at(start);
  const bool fow =
      e && (live->redirects[e->redirect_index].flags & map::redirect_flags::kFaultOnWrite) != 0;
  if (fow && chunk_sharers(root, id.index).empty()) restore_root_flags(root, start, length);
}

void ControlPath::Impl::dve_record_sweep_intents(const std::vector<SnapshotRequest>& group) {
  if (config.sweep_interval_ns == 0) return;
  for (const SnapshotRequest& r : group) {
    const uint64_t task = (uint64_t{dve->id()} << 32) | (uint64_t{1} << 30) | ++dve_task_seq;
    if (!dve_env->storehouse().record_task(dve->id(),
                                           cluster::TaskRecord{task, kSweepTask, r.name, 0})) {
      continue;  // evicted: the sweep is not this DVE's (dve_record_sweep_task)
    }
    dve_sweep_intents[r.name] = {task, dve_incarnation};
  }
}

void ControlPath::Impl::dve_drop_sweep_intents(const std::vector<SnapshotRequest>& group) {
  for (const SnapshotRequest& r : group) {
    auto it = dve_sweep_intents.find(r.name);
    if (it == dve_sweep_intents.end()) continue;
    if (it->second.second == dve_incarnation)
      dve_env->storehouse().end_task(dve->id(), it->second.first);
    dve_sweep_intents.erase(it);
  }
}

bool ControlPath::Impl::dve_record_sweep_task(uint32_t index) {
  Snapshot& snap = snapshots[index];
  if (!dve || !shared_volumes.contains(snap.info.name) ||
      config.skip_snapshot_coherence_for_testing) {
    return true;
  }
  auto intent = dve_sweep_intents.find(snap.info.name);
  if (intent == dve_sweep_intents.end()) return false;  // evicted before it was recorded
  snap.sweep_task = intent->second.first;
  snap.sweep_incarnation = intent->second.second;
  dve_sweep_intents.erase(intent);
  return dve_may_sweep(snap);
}

void ControlPath::Impl::dve_end_sweep_task(Snapshot& snap) {
  if (snap.sweep_task != 0) dve_env->storehouse().end_task(dve->id(), snap.sweep_task);
}

// A DVE that crashed or was fenced since the sweep began no longer owns it:
// its task journal went to the DVE that evicted it.
bool ControlPath::Impl::dve_may_sweep(Snapshot& snap) {
  if (snap.sweep_task == 0 || snap.sweep_incarnation == dve_incarnation) return true;
  snap.sweeping = false;
  return false;
}

void ControlPath::Impl::dve_replay_task(uint32_t dead, const cluster::TaskRecord& task) {
  if (task.kind == "migration") {
    spdlog::warn("cp: DVE {} goes on with '{}' left by DVE {}", env.domain(), task.params, dead);
    for (auto& [id, m] : migrations) {
      if (m.line != task.params) continue;
      m.remote = true;  // whoever ran it, it is this incarnation's now
      return dve_take_over_migration(id, task.task_id);
    }
    dve_migrations_adopted[task.params] = task.task_id;  // once this DVE follows it
    return;
  }
  if (task.kind == "mirror_resync") return dve_take_over_resync(task);
  if (task.kind != kSweepTask) {
    spdlog::error("cp: DVE {} cannot replay task {} of kind '{}' left by DVE {}", env.domain(),
                  task.task_id, task.kind, dead);
    return;
  }
  spdlog::warn("cp: DVE {} goes on with the sweep of snapshot '{}' left by DVE {}", env.domain(),
               task.params, dead);
  for (uint32_t i = 0; i < snapshots.size(); ++i) {
    if (snapshots[i].info.name == task.params && snapshots[i].info.ready)
      return dve_resume_sweep(i, task.task_id);
  }
  dve_sweeps_adopted[task.params] = task.task_id;  // once this DVE takes it too
}

void ControlPath::Impl::dve_resume_sweep(uint32_t index, uint64_t task_id) {
  Snapshot& snap = snapshots[index];
  snap.sweep_task = task_id;
  snap.sweep_incarnation = dve_incarnation;
  ++stats.dve_tasks_resumed;
  if (snap.info.swept || !snap.info.error.empty()) return dve_end_sweep_task(snap);
  if (snap.sweeping) return;
  snap.sweeping = true;
  for (uint32_t id : snap.vsegs)
    snapshot_vsegs.at(id).sweep_next = 0;
  later(config.sweep_interval_ns, [this, index] { sweep_step(index); });
}

}  // namespace splitpath::cp
