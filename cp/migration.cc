// Online migration (figures 23-24): a VSEG's blocks move from their disk
// range (the source, P1) to another (the destination, P2) under I/O. Its
// redirect table holds three states at once: not yet copied (the source,
// read and write), the copy barrier (the source, FoW: reads stay on the FP,
// writes fault and wait in the CP until the barrier moves) and copied (the
// destination, read and write). Each step is one restrictive update that
// moves the old barrier to the destination entry and makes the next
// copy-granularity chunk the barrier; the copy agent then copies that chunk.
// The last step also removes the source's entries and coalesces the Rmap
// into one extent per entry (Metadata::compact_redirects).
#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "cp/control_path_impl.h"
#include "spdlog/spdlog.h"

namespace splitpath::cp {

double MigrationProgress::rate_bytes_per_s(uint64_t now_ns) const {
  const uint64_t end = state == State::kRunning ? now_ns : finished_ns;
  if (end <= started_ns) return 0;
  return double(copied_blocks) * block_size * 1e9 / double(end - started_ns);
}

double MigrationProgress::eta_s(uint64_t now_ns) const {
  if (state != State::kRunning) return 0;
  const double rate = rate_bytes_per_s(now_ns);
  if (rate <= 0) return -1;
  return double(blocks - copied_blocks) * block_size / rate;
}

Migration* ControlPath::Impl::migration_of(uint32_t vseg_id) {
  for (auto& [id, m] : migrations) {
    if (m.progress.vseg_id == vseg_id && m.progress.state == MigrationProgress::State::kRunning)
      return &m;
  }
  return nullptr;
}

bool ControlPath::Impl::in_copy_barrier(uint32_t vseg_id, uint64_t start, uint64_t length) const {
  for (const auto& [id, m] : migrations) {
    if (m.progress.state != MigrationProgress::State::kRunning || !m.barrier_set ||
        m.progress.vseg_id != vseg_id) {
      continue;
    }
    if (start < m.barrier_start + m.barrier_blocks && m.barrier_start < start + length) return true;
  }
  return false;
}

std::optional<std::pair<uint64_t, uint64_t>> ControlPath::Impl::copy_barrier_within(
    uint32_t vseg_id, uint64_t start, uint64_t length) const {
  for (const auto& [id, m] : migrations) {
    if (m.progress.state != MigrationProgress::State::kRunning || !m.barrier_set ||
        m.progress.vseg_id != vseg_id) {
      continue;
    }
    const uint64_t from = std::max(start, m.barrier_start);
    const uint64_t to = std::min(start + length, m.barrier_start + m.barrier_blocks);
    if (from < to) return std::pair{from, to - from};
  }
  return std::nullopt;
}

void ControlPath::Impl::load_fresh_entries(const Vseg& seg,
                                           const std::vector<map::RedirectIndex>& fresh) {
  for (uint32_t p = 0; p < port_count(); ++p) {
    for (map::RedirectIndex index : fresh) {
      // Only to ports logged in (a mirror's DEAD sides need none).
      const std::vector<uint32_t> disks = entry_disks(seg, index);
      if (!disks.empty() && disk_ready(p, disks[0]))
        send_redirect(p, seg, index, fpapi::MsgType::kFpAddMapping);
    }
  }
}

bool ControlPath::Impl::start_migration(const MigrationRequest& r, std::string* error,
                                        std::function<void(bool)> done, bool check_only) {
  auto reject = [&](const std::string& why) {
    if (error)
      *error = absl::StrFormat("migration of volume '%s' LBA %u: %s", r.volume, r.lba, why);
    return false;
  };
  if (!started) return reject("the CP has not started");
  const Volume* vol = metadata.volume(r.volume);
  if (!vol) return reject("no such volume");
  const Vseg* seg = metadata.vseg_at(vol->lv_id, r.lba);
  if (!seg) return reject(absl::StrFormat("LBA beyond the volume's %u blocks", vol->blocks));
  const uint32_t vseg_id = seg->descriptor.id;
  if (r.disk_wwpn == 0) return reject("no destination disk");
  if (migration_of(vseg_id))
    return reject(absl::StrFormat("VSEG %u is migrating already", vseg_id));
  if (seg->multipath) return reject("a VSEG with alternate paths cannot migrate");
  if (seg->journal_area) return reject("a journaled VSEG cannot migrate");
  // A snapshot's VSEG maps storage it does not own (its root's) until its
  // chunks are pushed; an incremental and its base share storage the same
  // way. Moving either would free blocks the other still reads.
  if (is_snapshot_lv(seg->lv_id)) return reject("a snapshot's VSEG cannot migrate");
  if (incremental_lvs.contains(seg->lv_id) || frozen_lvs.contains(seg->lv_id))
    return reject("an incremental or the base of one cannot migrate");
  // The source of snapshots: its chunks still shared carry the snapshots'
  // FoW, the others not. The migration works with the VSEG's own flags;
  // a chunk it moves to the destination is no longer shared (the snapshots
  // keep reading the source's blocks, pushed before the end frees them).
  const auto root = snapshot_roots.find(vseg_id);
  const uint8_t ignored = root != snapshot_roots.end() ? map::redirect_flags::kFaultOnWrite : 0;
  std::optional<uint8_t> flags;
  for (const auto& [start, e] : seg->rmap) {
    const map::RedirectEntry& entry = seg->redirects[e.redirect_index];
    if (entry.descriptor.kind != map::StorageKind::kSimple)
      return reject("only a VSEG on simple storage can migrate (this one is not)");
    const uint8_t f = static_cast<uint8_t>(entry.flags & ~ignored);
    if (flags && *flags != f)
      return reject(
          "the VSEG's extents have different redirect flags (another change is under way)");
    flags = f;
  }
  if (!flags) return reject("the VSEG has no extents");
  if (root != snapshot_roots.end()) flags = root->second;
  const uint64_t length = seg->descriptor.length;
  if (r.dest_lba > ~0ull - length) return reject("the destination runs past the last LBA");
  const PhysicalRange dest{r.disk_wwpn, r.lun, r.dest_lba, length};
  for (const auto& [id, other] : metadata.vsegs()) {
    for (const PhysicalRange& used : other.ranges) {
      if (dest.overlaps(used))
        return reject(absl::StrFormat("the destination overlaps blocks of VSEG %u", id));
    }
  }
  for (const auto& [id, m] : migrations) {
    const PhysicalRange& used = m.progress.state == MigrationProgress::State::kRunning
                                    ? PhysicalRange{metadata.disks()[m.dst_disk].wwpn, m.dst.lun,
                                                    m.dst.start_lba, m.progress.blocks}
                                    : PhysicalRange{};
    if (dest.overlaps(used))
      return reject(absl::StrFormat("the destination overlaps migration %u's", id));
  }

  if (check_only) return true;
  const uint32_t id = next_migration_id++;
  Migration& m = migrations[id];
  m.progress.id = id;
  m.progress.volume = vol->name;
  m.progress.vseg_id = vseg_id;
  m.progress.blocks = length;
  m.progress.block_size = vol->block_size;
  m.progress.started_ns = env.now_ns();
  m.dst_disk = metadata.disk_index(r.disk_wwpn);
  m.dst.lun = r.lun;
  m.dst.start_lba = r.dest_lba;
  m.flags = *flags;
  m.chunk_blocks = std::max<uint64_t>(1, config.copy_granularity_bytes / vol->block_size);
  m.done = std::move(done);
  m.on_step = r.on_step;
  m.shared =
      dve && shared_volumes.contains(vol->name) && !config.skip_snapshot_coherence_for_testing;
  m.incarnation = dve_incarnation;
  resolve_disks();  // the destination may be new to the CP
  spdlog::info("cp: migration {} of volume '{}' VSEG {} ({} blocks) to disk {:016x} LUN {} LBA {}",
               id, vol->name, vseg_id, length, r.disk_wwpn, r.lun, r.dest_lba);
  migration_step(id);
  return true;
}

void ControlPath::Impl::migration_step(uint32_t id) {
  auto it = migrations.find(id);
  if (it == migrations.end() || it->second.progress.state != MigrationProgress::State::kRunning)
    return;
  Migration& m = it->second;
  if (m.remote || (m.shared && m.incarnation != dve_incarnation)) return;
  const uint32_t vseg_id = m.progress.vseg_id;
  const Vseg* seg = metadata.vseg(vseg_id);
  const Volume* vol = seg ? metadata.volume_by_lv(seg->lv_id) : nullptr;
  if (!seg || !vol) return;
  const uint64_t length = seg->descriptor.length;
  const uint64_t next_start = m.barrier_start + m.barrier_blocks;
  const uint64_t next_blocks = std::min(m.chunk_blocks, length - next_start);
  const bool last = next_blocks == 0;
  Update u;
  u.id = next_update_id++;
  u.change.volume = vol->name;
  u.vseg_id = vseg_id;
  // The last step covers the whole VSEG: its entries are renumbered, so
  // every FP's cached extents of it must go.
  u.start = last ? 0 : m.barrier_start;
  u.length = last ? length : next_start + next_blocks - m.barrier_start;
  u.change.lba = seg->descriptor.virtual_start_lba + u.start;
  u.change.blocks = u.length;
  u.hold_misses = true;
  // The FPs drop every cached extent overlapping the update's range: cut
  // the Rmap at its end so a miss beyond it loads an extent outside it.
  if (!last) metadata.split_extent_at(vseg_id, next_start + next_blocks);
  u.apply = [this, id, vseg_id, next_start, next_blocks, last] {
    auto it = migrations.find(id);
    Vseg* s = metadata.vseg(vseg_id);
    if (it == migrations.end() || !s) return;
    Migration& m = it->second;
    std::vector<map::RedirectIndex> fresh;
    std::string error;
    if (m.barrier_blocks > 0) {
      metadata.remap_range(vseg_id, m.barrier_start, m.barrier_blocks, m.dst, m.dst_disk, m.flags,
                           &fresh, &error);
      if (m.on_step) m.on_step(m.barrier_start, m.barrier_blocks, true);
    }
    m.barrier_set = false;
    if (!last) {
      metadata.remap_range(vseg_id, next_start, next_blocks, std::nullopt, 0,
                           static_cast<uint8_t>(m.flags | map::redirect_flags::kFaultOnWrite),
                           &fresh, &error);
      m.barrier_start = next_start;
      m.barrier_blocks = next_blocks;
      m.barrier_set = true;
      load_fresh_entries(*s, fresh);
      if (m.on_step) m.on_step(next_start, next_blocks, false);
      return;
    }
    m.barrier_start = s->descriptor.length;
    m.barrier_blocks = 0;
    // Figure 24's end: only the destination's entry is left.
    compact_and_reload(vseg_id);
    // The VSEG keeps the source's disk ranges (`ranges`) until no snapshot
    // reads them any more (release_migration_source).
  };
  u.done = [this, id, last](bool ok) {
    auto it = migrations.find(id);
    if (it == migrations.end()) return;
    if (!ok) return migration_failed(id, "the restrictive update failed");
    if (!last) return migration_copy(id);
    release_migration_source(id);
  };
  if (m.shared) return dve_migration_step(id, std::move(u));
  updates.push_back(std::move(u));
  if (!update_active) begin_update();
}

void ControlPath::Impl::compact_and_reload(uint32_t vseg_id) {
  const std::vector<uint32_t> renumbered = metadata.compact_redirects(vseg_id);
  for (uint32_t p = 0; p < port_count(); ++p) {
    for (uint32_t old = 0; old < renumbered.size(); ++old) {
      if (!loaded_redirects.erase(redirect_key(p, vseg_id, old))) continue;
      fpapi::FpMapping rm;
      rm.req_id = fpapi::kNoTag;
      rm.kind = fpapi::MappingKind::kRedirect;
      rm.redirect_index = static_cast<map::RedirectIndex>(old);
      rm.vseg.id = vseg_id;
      link.send_as(p, fpapi::MsgType::kFpRemoveMapping, rm);
    }
  }
  load_all_entries(*metadata.vseg(vseg_id));
}

void ControlPath::Impl::load_all_entries(const Vseg& seg) {
  std::vector<map::RedirectIndex> all(seg.redirects.size());
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<map::RedirectIndex>(i);
  load_fresh_entries(seg, all);
}

void ControlPath::Impl::release_migration_source(uint32_t id) {
  auto it = migrations.find(id);
  if (it == migrations.end()) return;
  Migration& m = it->second;
  Vseg* seg = metadata.vseg(m.progress.vseg_id);
  if (!seg) return;
  // Figure 33: a snapshot taken before the barrier passed a chunk still maps
  // that chunk to the source (P1). Once the VSEG gives the source's blocks
  // up, anything may be written there, so those chunks are pushed to the
  // snapshots' own storage first.
  const std::map<uint64_t, std::vector<uint32_t>> reading =
      snapshot_chunks_on(m.progress.vseg_id, seg->ranges);
  if (!reading.empty()) {
    for (const auto& [chunk, targets] : reading) {
      if (pushing.contains({m.progress.vseg_id, chunk})) continue;
      ++stats.migration_pushes;
      push_chunk(m.progress.vseg_id, chunk, targets, /*sweep=*/true);
    }
    later(config.drain_poll_ns, [this, id] { release_migration_source(id); });
    return;
  }
  // A push still under way (one of a snapshot broken meanwhile, which no
  // longer counts as reading, may still have a copy to retry) reads the
  // source's blocks until it ends.
  const uint32_t vseg_id = m.progress.vseg_id;
  if (std::any_of(pushing.begin(), pushing.end(),
                  [vseg_id](const auto& p) { return p.first == vseg_id; })) {
    later(config.drain_poll_ns, [this, id] { release_migration_source(id); });
    return;
  }
  seg->ranges = {PhysicalRange{metadata.disks()[m.dst_disk].wwpn, m.dst.lun, m.dst.start_lba,
                               seg->descriptor.length}};
  m.progress.state = MigrationProgress::State::kDone;
  m.progress.finished_ns = env.now_ns();
  ++stats.migrations_done;
  if (m.shared) dve_end_migration_task(m);
  spdlog::info("cp: migration {} of VSEG {} done: {} blocks in {} ns, {} writes met the barrier",
               id, m.progress.vseg_id, m.progress.copied_blocks,
               m.progress.finished_ns - m.progress.started_ns, m.progress.barrier_writes);
  if (m.done) std::exchange(m.done, nullptr)(true);
}

void ControlPath::Impl::migration_copy(uint32_t id) {
  auto it = migrations.find(id);
  const Vseg* seg = it != migrations.end() ? metadata.vseg(it->second.progress.vseg_id) : nullptr;
  if (!seg) return;
  Migration& m = it->second;
  m.copies_out = 0;
  m.copy_failed = false;
  const uint64_t end = m.barrier_start + m.barrier_blocks;
  const std::vector<CopyRequest> copies =
      plan_copies(*seg, m.barrier_start, end, m.dst_disk, m.dst);
  m.copies_out = static_cast<uint32_t>(copies.size());
  if (copies.empty()) return migration_step(id);
  for (const CopyRequest& c : copies) {
    copy_blocks(c, [this, id, blocks = c.blocks](bool ok) {
      auto it = migrations.find(id);
      if (it == migrations.end()) return;
      Migration& m = it->second;
      --m.copies_out;
      if (ok) m.progress.copied_blocks += blocks;
      m.copy_failed = m.copy_failed || !ok;
      if (m.copies_out > 0) return;
      if (m.copy_failed) return migration_failed(id, "a copy failed after its retries");
      migration_step(id);
    });
  }
}

void ControlPath::Impl::migration_failed(uint32_t id, const std::string& why) {
  auto it = migrations.find(id);
  if (it == migrations.end()) return;
  Migration& m = it->second;
  // A DVE that crashed or was fenced meanwhile gave the migration up: the
  // DVE that evicted it goes on with it.
  if (m.shared && m.incarnation != dve_incarnation) return;
  spdlog::error("cp: migration {} of VSEG {} failed at block {}: {}", id, m.progress.vseg_id,
                m.barrier_start, why);
  m.progress.state = MigrationProgress::State::kFailed;
  m.progress.finished_ns = env.now_ns();
  m.progress.error = why;
  // The barrier goes back to read and write on the source; the blocks
  // before it stay on the destination, which the VSEG now also occupies
  // (only those: the rest of the destination is free again).
  Vseg* seg = metadata.vseg(m.progress.vseg_id);
  if (seg && m.barrier_start > 0) {
    seg->ranges.push_back(PhysicalRange{metadata.disks()[m.dst_disk].wwpn, m.dst.lun,
                                        m.dst.start_lba, m.barrier_start});
  }
  if (m.barrier_set && m.barrier_blocks > 0) {
    m.barrier_set = false;
    MappingChange c;
    const Volume* vol = seg ? metadata.volume_by_lv(seg->lv_id) : nullptr;
    if (seg && vol) {
      c.volume = vol->name;
      c.lba = seg->descriptor.virtual_start_lba + m.barrier_start;
      c.blocks = m.barrier_blocks;
      // A snapshot still sharing the barrier's blocks needs the source's
      // writes there to keep faulting (copy on write).
      bool shared = false;
      const uint64_t chunk_blocks = chunk_blocks_of(*seg);
      for (uint64_t b = m.barrier_start; b < m.barrier_start + m.barrier_blocks; b += chunk_blocks)
        shared = shared || !chunk_sharers(m.progress.vseg_id, b / chunk_blocks).empty();
      c.flags =
          shared ? static_cast<uint8_t>(m.flags | map::redirect_flags::kFaultOnWrite) : m.flags;
      if (m.shared) {
        dve_migration_failed(id, c);
      } else {
        change_mapping(c, {});
      }
    }
  }
  if (m.done) std::exchange(m.done, nullptr)(false);
}

bool ControlPath::start_migration(const MigrationRequest& request, std::string* error,
                                  std::function<void(bool)> done) {
  if (impl_->shared_volumes.contains(request.volume) &&
      !impl_->config.skip_snapshot_coherence_for_testing) {
    return impl_->dve_start_migration(request, error, std::move(done));
  }
  return impl_->start_migration(request, error, std::move(done));
}

std::vector<MigrationProgress> ControlPath::migrations() const {
  std::vector<MigrationProgress> out;
  for (const auto& [id, m] : impl_->migrations)
    out.push_back(m.progress);
  return out;
}

}  // namespace splitpath::cp
