// Incrementals (figure 22): redirect on write. Taking one: the base's
// extents get FoW (its writes are refused from then on: it is read only), and
// the incremental volume's VSEGs are re-pointed at the base's storage with
// FoW. The first write into a chunk of the incremental faults; the CP copies
// the base's blocks of the chunk to the incremental's own storage (so a write
// smaller than the chunk keeps the rest), moves the chunk's Rmap there (read
// and write, a restrictive update), and lets the write go on, now to the
// incremental's storage; later writes to the chunk stay on the FP. The base
// is never written again, so any number of incrementals of it diverge
// independently.
#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "cp/control_path_impl.h"
#include "cp/vseg_place.h"
#include "spdlog/spdlog.h"

namespace splitpath::cp {

bool ControlPath::Impl::incremental_write_may_go(CpIo& io, uint32_t vseg_id, uint64_t start,
                                                 uint64_t blocks) {
  auto it = incremental_vsegs.find(vseg_id);
  if (it == incremental_vsegs.end()) return true;
  const Vseg* seg = metadata.vseg(vseg_id);
  const IncrementalVseg& iv = it->second;
  const Place own{iv.own_disk, iv.own.lun, iv.own.start_lba};
  const uint64_t chunk_blocks = chunk_blocks_of(*seg);
  bool go = true;
  for (uint64_t c = start / chunk_blocks; c <= (start + blocks - 1) / chunk_blocks; ++c) {
    if (redirecting.contains({vseg_id, c})) {
      go = false;
      continue;
    }
    if (place_at(*seg, c * chunk_blocks) == own) continue;
    go = false;
    redirect_chunk(vseg_id, c);
  }
  if (!go && !io.met_push) {
    io.met_push = true;
    ++stats.cow_write_waits;
  }
  return go;
}

void ControlPath::Impl::redirect_chunk(uint32_t vseg_id, uint64_t chunk) {
  const Vseg* seg = metadata.vseg(vseg_id);
  const IncrementalVseg& iv = incremental_vsegs.at(vseg_id);
  const uint64_t chunk_blocks = chunk_blocks_of(*seg);
  const uint64_t start = chunk * chunk_blocks;
  const uint64_t length = std::min(chunk_blocks, seg->descriptor.length - start);
  redirecting.insert({vseg_id, chunk});
  ++stats.redirects_on_write;
  const std::vector<CopyRequest> copies =
      plan_copies(*seg, start, start + length, iv.own_disk, iv.own);
  auto left = std::make_shared<uint32_t>(static_cast<uint32_t>(copies.size()));
  auto failed = std::make_shared<bool>(false);
  auto then = [this, vseg_id, chunk, start, length, failed] {
    auto finish = [this, vseg_id, chunk](bool) {
      redirecting.erase({vseg_id, chunk});
      retry_blocked();
    };
    if (*failed) {
      // The chunk stays on the base: its writes wait, and the next one
      // tries the redirect again.
      spdlog::error("cp: redirect of VSEG {} blocks [{}, +{}) failed: its copy did not complete",
                    vseg_id, start, length);
      return finish(false);
    }
    queue_update(
        vseg_id, start, length,
        [this, vseg_id, start, length] {
          const IncrementalVseg& iv = incremental_vsegs.at(vseg_id);
          std::vector<map::RedirectIndex> fresh;
          std::string error;
          metadata.remap_range(vseg_id, start, length, iv.own, iv.own_disk, iv.flags, &fresh,
                               &error);
          load_fresh_entries(*metadata.vseg(vseg_id), fresh);
        },
        finish);
  };
  for (const CopyRequest& c : copies) {
    copy_blocks(c, [left, failed, then](bool ok) {
      *failed = *failed || !ok;
      if (--*left == 0) then();
    });
  }
}

bool ControlPath::Impl::take_incremental(const IncrementalRequest& r, std::string* error,
                                         std::function<void(bool)> done) {
  auto reject = [&](const std::string& why) {
    if (error) *error = absl::StrFormat("incremental '%s' of volume '%s': %s", r.name, r.base, why);
    return false;
  };
  if (!started) return reject("the CP has not started");
  const Volume* base = metadata.volume(r.base);
  const Volume* inc = metadata.volume(r.name);
  if (!base) return reject("no such base volume");
  if (!inc) return reject("no such incremental volume (declare it with storage of its own)");
  if (base == inc) return reject("a volume cannot be its own incremental");
  if (incremental_lvs.contains(inc->lv_id) || frozen_lvs.contains(inc->lv_id) ||
      is_snapshot_lv(inc->lv_id))
    return reject("the volume is an incremental, a base or a snapshot already");
  if (incremental_lvs.contains(base->lv_id) || is_snapshot_lv(base->lv_id))
    return reject("the base is an incremental or a snapshot");
  if (base->block_size != inc->block_size || base->vsegs.size() != inc->vsegs.size())
    return reject("the volumes' block sizes or VSEG counts differ");
  for (size_t i = 0; i < base->vsegs.size(); ++i) {
    const Vseg& a = *metadata.vseg(base->vsegs[i]);
    const Vseg& b = *metadata.vseg(inc->vsegs[i]);
    if (a.descriptor.length != b.descriptor.length)
      return reject(absl::StrFormat("VSEG %u of the volumes differ in size", i));
    if (migration_of(a.descriptor.id) || migration_of(b.descriptor.id))
      return reject("a VSEG of the volumes is migrating");
    if (snapshot_roots.contains(a.descriptor.id))
      return reject("the base has snapshots (they would stop being pushed to)");
    if (a.multipath || a.journal_area || b.multipath || b.journal_area)
      return reject("multipath and journaled VSEGs have no incrementals");
    for (const auto& [start, e] : a.rmap) {
      if (place_at(a, start).disk == ~0u) return reject("the base is not on simple storage");
    }
    if (!uniform_place(b, nullptr))
      return reject("the incremental's VSEGs must each be one simple disk range");
  }

  incremental_lvs.insert(inc->lv_id);
  const bool base_frozen = frozen_lvs.contains(base->lv_id);
  frozen_lvs.insert(base->lv_id);
  auto left = std::make_shared<uint32_t>(0);
  auto all_ok = std::make_shared<bool>(true);
  auto step_done = [left, all_ok, done = std::move(done), name = inc->name](bool ok) {
    *all_ok = *all_ok && ok;
    if (--*left > 0) return;
    spdlog::info("cp: incremental '{}' taken", name);
    if (done) done(*all_ok);
  };
  for (size_t i = 0; i < base->vsegs.size(); ++i) {
    const uint32_t a = base->vsegs[i];
    const uint32_t b = inc->vsegs[i];
    const Vseg& aseg = *metadata.vseg(a);
    const Vseg& bseg = *metadata.vseg(b);
    const Place own = *uniform_place(bseg, nullptr);
    IncrementalVseg iv;
    iv.base = a;
    iv.own_disk = own.disk;
    iv.own.lun = own.lun;
    iv.own.start_lba = own.base;
    iv.flags = aseg.redirects[aseg.rmap.begin()->second.redirect_index].flags &
               ~map::redirect_flags::kFaultOnWrite;
    // The base becomes read only: its writes in flight drain, later ones
    // fault and are refused.
    if (!base_frozen) {
      ++*left;
      queue_update(
          a, 0, aseg.descriptor.length,
          [this, a] {
            std::vector<map::RedirectIndex> fresh;
            std::string error;
            const Vseg& s = *metadata.vseg(a);
            for (const auto& [start, e] :
                 std::vector<std::pair<uint64_t, map::Extent>>(s.rmap.begin(), s.rmap.end())) {
              const uint8_t f = metadata.vseg(a)->redirects[e.redirect_index].flags;
              metadata.remap_range(a, start, e.length, std::nullopt, 0,
                                   static_cast<uint8_t>(f | map::redirect_flags::kFaultOnWrite),
                                   &fresh, &error);
            }
            load_fresh_entries(*metadata.vseg(a), fresh);
          },
          step_done);
    }
    // The incremental maps the base's storage, FoW: its first write to a
    // chunk redirects it.
    ++*left;
    queue_update(
        b, 0, bseg.descriptor.length,
        [this, a, b, iv] {
          incremental_vsegs[b] = iv;
          const Vseg& s = *metadata.vseg(a);
          std::vector<map::RedirectIndex> fresh;
          std::string error;
          for (const auto& [start, e] :
               std::vector<std::pair<uint64_t, map::Extent>>(s.rmap.begin(), s.rmap.end())) {
            metadata.remap_range(b, start, e.length,
                                 s.redirects[e.redirect_index].descriptor.simple(),
                                 s.redirect_disk[e.redirect_index],
                                 map::redirect_flags::kFaultOnWrite, &fresh, &error);
          }
          load_fresh_entries(*metadata.vseg(b), fresh);
        },
        step_done);
  }
  spdlog::info("cp: incremental '{}' of '{}' begins", inc->name, base->name);
  return true;
}

bool ControlPath::take_incremental(const IncrementalRequest& request, std::string* error,
                                   std::function<void(bool)> done) {
  if (impl_->refuse_shared(request.base, "an incremental", error)) return false;
  return impl_->take_incremental(request, error, std::move(done));
}

}  // namespace splitpath::cp
