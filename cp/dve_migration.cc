// Online migration of a VSEG several DVEs serve (figures 23-24 with 28):
// - Starting it: the DVE asked acquires the volume's LV Reconfig oplock
//   (the others pause the volume), appends the start line to its record,
//   records the migration as a task of its task journal and starts it. The
//   others follow it: on sharing the oplock again they create the migration
//   as `remote` (they run no step and no copy).
// - Each step (the old copy barrier to the destination, the next chunk the
//   barrier) is made under the Rmap oplocks of the chunks it changes; the
//   step's end writes the migration's record (state, barrier) and the task's
//   progress before the oplocks are released. A peer drained those chunks
//   when it let them go; sharing one again, it maps the chunk as the record
//   says: before the barrier on the destination, the barrier on the source
//   with FoW (a write there waits in its CP, as on the migrating DVE), the
//   rest on the source. Once the record says done or failed, the whole VSEG.
// - The DVE that evicts the migrating one inherits its task journal and
//   takes the migration over from the record: it copies the barrier again
//   and goes on stepping. The crashed DVE's own timers give it up.
#include <algorithm>
#include <sstream>
#include <utility>

#include "cp/control_path_impl.h"
#include "cp/vseg_place.h"
#include "spdlog/spdlog.h"

namespace splitpath::cp {

namespace {

constexpr const char* kMigrationTask = "migration";

struct StartLine {
  std::string tag;  // "<domain>.<id>": unique in the cluster
  MigrationRequest request;
};

std::optional<StartLine> parse_start(const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  StartLine s;
  if (!(in >> verb >> s.tag >> s.request.volume >> s.request.lba >> s.request.disk_wwpn >>
        s.request.lun >> s.request.dest_lba) ||
      verb != "migrate") {
    return std::nullopt;
  }
  return s;
}

struct MigrationRecord {
  std::string state;  // running, done, failed
  uint64_t barrier_start = 0, barrier_blocks = 0;
  bool barrier_set = false;
};

std::optional<MigrationRecord> parse_record(const cluster::MetadataRecord* r) {
  if (!r) return std::nullopt;
  std::istringstream in(r->bytes);
  MigrationRecord m;
  int set = 0;
  if (!(in >> m.state >> m.barrier_start >> m.barrier_blocks >> set)) return std::nullopt;
  m.barrier_set = set != 0;
  return m;
}

}  // namespace

bool ControlPath::Impl::dve_start_migration(const MigrationRequest& r, std::string* error,
                                            std::function<void(bool)> done) {
  const Volume* vol = metadata.volume(r.volume);
  const Vseg* seg = vol ? metadata.vseg_at(vol->lv_id, r.lba) : nullptr;
  auto reject = [&](const std::string& why) {
    if (error) *error = "migration of volume '" + r.volume + "': " + why;
    return false;
  };
  if (!dve) return reject("the volume is shared but this switch is not in a DVE cluster");
  if (r.volume.find_first_of(" \n") != std::string::npos)
    return reject("a shared volume's name must have no blanks");
  if (seg &&
      (snapshot_roots.contains(seg->descriptor.id) || dve_root_of(seg->descriptor.id) != ~0u))
    return reject("a VSEG of a shared volume with snapshots cannot migrate yet");
  if (!start_migration(r, error, {}, /*check_only=*/true)) return false;
  const cluster::OplockId lv = *dve_lv_oplock(vol->lv_id);
  const std::string line = "migrate " + std::to_string(env.domain()) + "." +
                           std::to_string(next_migration_id) + " " + r.volume + " " +
                           std::to_string(r.lba) + " " + std::to_string(r.disk_wwpn) + " " +
                           std::to_string(r.lun) + " " + std::to_string(r.dest_lba);
  dve_migrations_known.insert(line);
  auto shared_done = std::make_shared<std::function<void(bool)>>(std::move(done));
  dve->update(
      {lv}, /*restrictive=*/true,
      [this, r, lv, line, shared_done](cluster::OplockNode::Done finished) {
        dve_current.insert(lv);
        std::string error;
        const uint32_t id = next_migration_id;
        if (!start_migration(r, &error, [shared_done](bool ok) {
              if (*shared_done) std::exchange(*shared_done, nullptr)(ok);
            })) {
          spdlog::error("cp: DVE {}: {}", env.domain(), error);
          finished();
          if (*shared_done) std::exchange(*shared_done, nullptr)(false);
          return;
        }
        Migration& m = migrations.at(id);
        m.line = line;
        m.task_id = (uint64_t{dve->id()} << 32) | (uint64_t{1} << 31) | id;
        const cluster::MetadataRecord* rec = dve_env->storehouse().read(lv);
        dve_env->storehouse().write(lv, (rec ? rec->bytes : std::string()) + line + "\n");
        dve_env->storehouse().record_task(dve->id(),
                                          cluster::TaskRecord{m.task_id, kMigrationTask, line, 0});
        finished();
      },
      [] {});
  return true;
}

void ControlPath::Impl::dve_migration_step(uint32_t id, Update u) {
  Migration& m = migrations.at(id);
  const uint64_t guid = vseg_guid.at(m.progress.vseg_id);
  std::vector<cluster::OplockId> ids =
      cluster::chunk_oplocks(guid, cluster::Luid::kRmap, u.start, u.length, m.chunk_blocks);
  auto update = std::make_shared<Update>(std::move(u));
  dve->update(
      ids, /*restrictive=*/true,
      [this, id, ids, update](cluster::OplockNode::Done finished) {
        // A DVE taking the migration over may not have followed every step.
        for (const cluster::OplockId& c : ids)
          dve_refresh_migration_chunk(c);
        dve_current.insert(ids.begin(), ids.end());
        auto done = std::move(update->done);
        update->done = [this, id, done, finished](bool ok) {
          auto it = migrations.find(id);
          if (it != migrations.end() && it->second.incarnation == dve_incarnation)
            dve_write_migration_record(id);
          finished();
          done(ok);
        };
        updates.push_back(std::move(*update));
        if (!update_active) begin_update();
      },
      [] {});
}

void ControlPath::Impl::dve_migration_failed(uint32_t id, MappingChange barrier_back) {
  const Migration& m = migrations.at(id);
  const uint64_t guid = vseg_guid.at(m.progress.vseg_id);
  const Vseg* seg = metadata.vseg(m.progress.vseg_id);
  const uint64_t start = barrier_back.lba - seg->descriptor.virtual_start_lba;
  dve->update(
      cluster::chunk_oplocks(guid, cluster::Luid::kRmap, start, barrier_back.blocks,
                             m.chunk_blocks),
      /*restrictive=*/true,
      [this, id, barrier_back](cluster::OplockNode::Done finished) {
        // (acquired: this DVE's copy is the current one)
        change_mapping(barrier_back, [this, id, finished](bool) {
          dve_write_migration_record(id);
          dve_end_migration_task(migrations.at(id));
          finished();
        });
      },
      [] {});
}

void ControlPath::Impl::dve_write_migration_record(uint32_t id) {
  const Migration& m = migrations.at(id);
  const char* state = m.progress.state == MigrationProgress::State::kFailed ? "failed"
                      : m.barrier_start >= m.progress.blocks                ? "done"
                                                                            : "running";
  const cluster::OplockId key{vseg_guid.at(m.progress.vseg_id), cluster::Luid::kTaskSet, 0};
  dve_env->storehouse().write(key, std::string(state) + " " + std::to_string(m.barrier_start) +
                                       " " + std::to_string(m.barrier_blocks) + " " +
                                       (m.barrier_set ? "1" : "0"));
  if (m.task_id != 0 && m.progress.state == MigrationProgress::State::kRunning) {
    dve_env->storehouse().record_task(
        dve->id(), cluster::TaskRecord{m.task_id, kMigrationTask, m.line, m.barrier_start});
  }
}

void ControlPath::Impl::dve_end_migration_task(Migration& m) {
  if (m.task_id != 0 && m.incarnation == dve_incarnation)
    dve_env->storehouse().end_task(dve->id(), m.task_id);
}

bool ControlPath::Impl::dve_refresh_migration_chunk(const cluster::OplockId& id) {
  auto v = guid_vseg.find(id.guid);
  if (v == guid_vseg.end()) return false;
  Migration* m = nullptr;
  for (auto& [mid, candidate] : migrations)
    if (candidate.shared && candidate.progress.vseg_id == v->second) m = &candidate;
  if (!m) return false;
  const auto record =
      parse_record(dve_env->storehouse().read({id.guid, cluster::Luid::kTaskSet, 0}));
  if (!record) return true;  // no step made yet: the chunk is on the source
  const uint32_t vseg_id = v->second;
  const Vseg* seg = metadata.vseg(vseg_id);
  const uint64_t length = seg->descriptor.length;
  const bool final = record->state != "running";
  if (m->remote) {
    m->barrier_start = record->barrier_start;
    m->barrier_blocks = record->barrier_blocks;
    m->barrier_set = record->barrier_set;
    m->progress.copied_blocks = std::min(record->barrier_start, length);
    if (final && m->progress.state == MigrationProgress::State::kRunning) {
      m->progress.state = record->state == "done" ? MigrationProgress::State::kDone
                                                  : MigrationProgress::State::kFailed;
      m->progress.finished_ns = env.now_ns();
      m->barrier_set = false;
      spdlog::info("cp: DVE {} follows migration of VSEG {}: {}", env.domain(), vseg_id,
                   record->state);
    }
  }
  // The range to bring up to date: the chunk, or the whole VSEG once the
  // migration ended (this DVE then stops sharing its chunks before use).
  const uint64_t start = final ? 0 : std::min(length, id.index * m->chunk_blocks);
  const uint64_t end = final ? length : std::min(length, start + m->chunk_blocks);
  const uint64_t moved_end = std::min(end, record->barrier_start);
  std::vector<map::RedirectIndex> fresh;
  std::string error;
  const Place dest{m->dst_disk, m->dst.lun, m->dst.start_lba};
  for (uint64_t at = start; at < moved_end;) {
    const map::Extent* e = seg->extent_at(at);
    const uint64_t piece = std::min(moved_end, e ? e->end() : moved_end) - at;
    if (!(place_at(*seg, at) == dest))
      metadata.remap_range(vseg_id, at, piece, m->dst, m->dst_disk, m->flags, &fresh, &error);
    at += piece;
    seg = metadata.vseg(vseg_id);
  }
  const uint64_t b0 = std::max(start, record->barrier_start);
  const uint64_t b1 = std::min(end, record->barrier_start + record->barrier_blocks);
  if (b0 < b1) {
    const uint8_t flags = record->barrier_set && !final
                              ? static_cast<uint8_t>(m->flags | map::redirect_flags::kFaultOnWrite)
                              : m->flags;
    metadata.remap_range(vseg_id, b0, b1 - b0, std::nullopt, 0, flags, &fresh, &error);
  }
  if (!error.empty())
    spdlog::error("cp: DVE {} cannot map VSEG {} as its migration's record says: {}", env.domain(),
                  vseg_id, error);
  load_fresh_entries(*metadata.vseg(vseg_id), fresh);
  return true;
}

void ControlPath::Impl::dve_follow_migration(const std::string& line) {
  if (!dve_migrations_known.insert(line).second) return;
  const auto start = parse_start(line);
  const Volume* vol = start ? metadata.volume(start->request.volume) : nullptr;
  const Vseg* seg = vol ? metadata.vseg_at(vol->lv_id, start->request.lba) : nullptr;
  if (!seg || seg->rmap.empty()) {
    spdlog::error("cp: DVE {} cannot follow '{}': no such VSEG here", env.domain(), line);
    return;
  }
  const uint32_t id = next_migration_id++;
  Migration& m = migrations[id];
  m.progress.id = id;
  m.progress.volume = vol->name;
  m.progress.vseg_id = seg->descriptor.id;
  m.progress.blocks = seg->descriptor.length;
  m.progress.block_size = vol->block_size;
  m.progress.started_ns = env.now_ns();
  m.dst_disk = metadata.disk_index(start->request.disk_wwpn);
  resolve_disks();  // the destination may be new to this CP
  m.dst.lun = start->request.lun;
  m.dst.start_lba = start->request.dest_lba;
  m.flags = seg->redirects[seg->rmap.begin()->second.redirect_index].flags;
  m.chunk_blocks = std::max<uint64_t>(1, config.copy_granularity_bytes / vol->block_size);
  m.shared = m.remote = true;
  m.incarnation = dve_incarnation;
  m.line = line;
  spdlog::info("cp: DVE {} follows a peer's migration of volume '{}' VSEG {}", env.domain(),
               vol->name, seg->descriptor.id);
  // Chunks this DVE shares already may have moved.
  for (const cluster::OplockId& c : dve->known_oplocks())
    if (c.luid == cluster::Luid::kRmap && dve->cache_valid(c)) dve_refresh_migration_chunk(c);
  if (auto adopted = dve_migrations_adopted.find(line); adopted != dve_migrations_adopted.end()) {
    const uint64_t task = adopted->second;
    dve_migrations_adopted.erase(adopted);
    dve_take_over_migration(id, task);
  }
}

void ControlPath::Impl::dve_take_over_migration(uint32_t id, uint64_t task_id) {
  Migration& m = migrations.at(id);
  if (!m.remote || m.progress.state != MigrationProgress::State::kRunning) return;
  const auto record = parse_record(
      dve_env->storehouse().read({vseg_guid.at(m.progress.vseg_id), cluster::Luid::kTaskSet, 0}));
  m.remote = false;
  m.task_id = task_id;
  m.incarnation = dve_incarnation;
  ++stats.dve_tasks_resumed;
  if (record) {
    m.barrier_start = record->barrier_start;
    m.barrier_blocks = record->barrier_blocks;
    m.barrier_set = record->barrier_set;
  }
  m.progress.copied_blocks = m.barrier_start;
  spdlog::warn("cp: DVE {} takes over the migration of VSEG {} at block {}", env.domain(),
               m.progress.vseg_id, m.barrier_start);
  // The barrier is copied again (the dead DVE may not have finished it).
  if (m.barrier_set) return migration_copy(id);
  migration_step(id);
}

}  // namespace splitpath::cp
