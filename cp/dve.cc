// The CP as a DVE of a cluster (figures 25-29): hosts write a shared volume
// through several DVEs at once (figure 28), so a mirror's writes are
// serialized among the DVEs as among one DVE's FPs. Each chunk of a shared
// mirror (mirror_write_chunk_blocks) has a non-volatile mirror-write oplock
// (VSEG.RMAP_LUID[BBA/chunk] of the specification's table); a DVE writes a
// chunk only while it shares the oplock after acquiring it ("shares,
// acquires and releases before it can assume it has write authority"), and
// keeps that authority until another DVE acquires it: then its FPs' and its
// own writes into the chunk drain first (the restrictive acquire's let-go).
// The owner records of these oplocks are the dirty-region log of the
// cluster: the DVE that evicts a dead one reconciles every chunk the dead
// one owned, copying it from the first ALIVE side to the others, before the
// chunk may be written again.
#include <algorithm>
#include <utility>

#include "cp/control_path_impl.h"
#include "spdlog/spdlog.h"

namespace splitpath::cp {

namespace {

// The same on every DVE: the volume's name and the VSEG's place in it.
uint64_t shared_vseg_guid(const std::string& volume, size_t index) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : volume) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001B3ull;
  }
  return (h << 8) ^ index;
}

}  // namespace

// What the oplock protocol asks of this CP.
struct ControlPath::Impl::DveClient : cluster::OplockClient {
  explicit DveClient(ControlPath::Impl& cp) : cp_(cp) {}
  void let_go(const cluster::OplockId& id, bool restrictive, std::function<void()> done) override {
    (void)restrictive;  // every change here is restrictive: the I/O drains
    switch (id.luid) {
      case cluster::Luid::kLvReconfig:
        return cp_.dve_let_go_lv(id, std::move(done));
      case cluster::Luid::kRmap:
        return cp_.dve_let_go_rmap(id, std::move(done));
      case cluster::Luid::kMirrorSideState:
        return cp_.dve_let_go_sides(id, std::move(done));
      default:
        return cp_.dve_let_go(id, std::move(done));
    }
  }
  void recover(const cluster::OplockId& id, uint32_t dead, std::function<void()> done) override {
    spdlog::warn("cp: DVE {} reconciles {} left by evicted DVE {}", cp_.env.domain(),
                 cluster::to_string(id), dead);
    cp_.dve_reconcile(id, std::move(done));
  }
  void replay_task(uint32_t dead, const cluster::TaskRecord& task) override {
    cp_.dve_replay_task(dead, task);
  }
  void fenced() override {
    spdlog::warn("cp: DVE {} was evicted and fenced itself", cp_.env.domain());
    ++cp_.dve_incarnation;
    cp_.dve_chunks.clear();
    cp_.dve_sharing.clear();
    cp_.dve_current.clear();
    cp_.dve_sweep_intents.clear();
    cp_.dve_revoke_shared();
    cp_.dve_end_shared_resyncs("this DVE was fenced");
    if (cp_.config.dve_reboot_after_ns != 0) {
      cp_.later(cp_.config.dve_reboot_after_ns,
                [&cp = cp_, incarnation = cp_.dve_incarnation] { cp.dve_reboot(incarnation); });
    }
  }

 private:
  ControlPath::Impl& cp_;
};

void ControlPath::join_cluster(cluster::DveEnvironment& env, const cluster::OplockConfig& config) {
  impl_->dve_env = &env;
  impl_->dve_client = std::make_unique<Impl::DveClient>(*impl_);
  impl_->dve =
      std::make_unique<cluster::OplockNode>(impl_->env.domain(), env, *impl_->dve_client, config);
}

void ControlPath::on_dve_message(const cluster::DveMessage& message) {
  if (impl_->dve) impl_->dve->receive(message);
}

void ControlPath::crash_dve() {
  if (impl_->dve) impl_->dve->crash();
  ++impl_->dve_incarnation;
  impl_->dve_chunks.clear();
  impl_->dve_sharing.clear();
  impl_->dve_current.clear();
  impl_->dve_sweep_intents.clear();
  impl_->dve_end_shared_resyncs("this DVE crashed");
}

const cluster::OplockNode* ControlPath::dve() const {
  return impl_->dve.get();
}

void ControlPath::Impl::dve_start() {
  if (!dve) return;
  for (const Volume& vol : metadata.volumes()) {
    if (!shared_volumes.count(vol.name)) continue;
    lv_guid[vol.lv_id] = shared_vseg_guid(vol.name, 0);  // with its own luids
    for (size_t i = 0; i < vol.vsegs.size(); ++i) {
      const uint64_t guid = shared_vseg_guid(vol.name, i);
      vseg_guid[vol.vsegs[i]] = guid;
      guid_vseg[guid] = vol.vsegs[i];
      // One authority record per chunk: cut the extents at the chunks.
      const Vseg* seg = metadata.vseg(vol.vsegs[i]);
      const uint64_t chunk = config.mirror_write_chunk_blocks;
      for (uint64_t at = chunk; seg && chunk != 0 && at < seg->descriptor.length; at += chunk)
        metadata.split_extent_at(vol.vsegs[i], at);
    }
  }
  dve->boot();
  dve_share_at_boot();
}

// Boot steps 1-7 again after a fence, unless the DVE crashed meanwhile (a
// switch without power stays down). Until the peers answer, the misses of
// its FPs wait; then sharing the oplocks again applies the metadata the
// peers changed meanwhile (dve_share).
void ControlPath::Impl::dve_reboot(uint64_t incarnation) {
  if (!dve || dve->online() || incarnation != dve_incarnation) return;
  spdlog::info("cp: DVE {} boots again after its fence", env.domain());
  dve->boot();
  dve_share_at_boot();
}

// Shared from the start, so that a peer's acquire reaches this DVE.
void ControlPath::Impl::dve_share_at_boot() {
  for (const auto& [lv_id, guid] : lv_guid)
    if (const auto id = dve_lv_oplock(lv_id)) dve_share(*id);
  for (const auto& [vseg_id, guid] : vseg_guid)
    if (const auto id = dve_side_oplock(vseg_id)) dve_share(*id);
}

std::vector<cluster::OplockId> ControlPath::Impl::dve_chunks_of(uint32_t vseg_id, uint64_t start,
                                                                uint64_t length) const {
  auto guid = vseg_guid.find(vseg_id);
  const Vseg* seg = metadata.vseg(vseg_id);
  if (!dve || guid == vseg_guid.end() || !seg || seg->redirects.empty() ||
      !seg->redirects[0].descriptor.mirrored()) {
    return {};
  }
  return cluster::chunk_oplocks(guid->second, cluster::Luid::kMirrorWrite, start, length,
                                config.mirror_write_chunk_blocks);
}

// Fenced: the oplocks are gone, so must what the FPs cache under them (a
// peer may change it now); their misses then wait until this DVE boots and
// shares the oplocks again.
void ControlPath::Impl::dve_revoke_shared() {
  std::vector<Update::Range> ranges;
  for (const auto& [lv_id, guid] : lv_guid) {
    const Volume* vol = metadata.volume_by_lv(lv_id);
    for (uint32_t v : vol ? vol->vsegs : std::vector<uint32_t>{})
      ranges.push_back({v, 0, metadata.vseg(v)->descriptor.length});
  }
  dve_drain(ranges, [] {});
}

bool ControlPath::Impl::refuse_shared(const std::string& volume, const char* service,
                                      std::string* error) const {
  if (!shared_volumes.count(volume)) return false;
  if (error) {
    *error = "volume '" + volume + "' is served by several DVEs (shared_with): " + service +
             " of a shared volume is not supported yet (only its mirror writes and side states, "
             "snapshots and migrations are coherent among the DVEs)";
  }
  return true;
}

bool ControlPath::Impl::dve_holds(uint32_t vseg_id, uint64_t start, uint64_t length) const {
  for (const cluster::OplockId& id : dve_chunks_of(vseg_id, start, length)) {
    auto it = dve_chunks.find(id);
    if (it == dve_chunks.end() || !it->second.held || it->second.letting_go) return false;
  }
  return true;
}

bool ControlPath::Impl::dve_may_write(uint32_t vseg_id, uint64_t start, uint64_t length) {
  if (dve_holds(vseg_id, start, length)) return true;
  if (!dve->online()) return false;  // booting, or fenced: nothing is written
  for (const cluster::OplockId& id : dve_chunks_of(vseg_id, start, length)) {
    DveChunk& c = dve_chunks[id];
    if (c.held || c.acquiring) continue;
    c.acquiring = true;
    // Acquire, then release at once: sharing it is the write authority.
    dve->update(
        {id}, /*restrictive=*/true, [](std::function<void()> finished) { finished(); },
        [this, id] {
          DveChunk& c = dve_chunks[id];
          c.acquiring = false;
          c.held = true;
          ++stats.dve_authority_acquired;
          retry_blocked();
        });
  }
  return false;
}

void ControlPath::Impl::dve_let_go(const cluster::OplockId& id, std::function<void()> done) {
  DveChunk& c = dve_chunks[id];
  c.letting_go = true;
  dve_check_let_go(id, std::move(done));
}

// Done once no FP of this DVE holds an extent of the chunk and no CP write
// into it is out (they drain: the FPs' by timestamp, as any revoke).
void ControlPath::Impl::dve_check_let_go(cluster::OplockId id, std::function<void()> done) {
  auto vseg = guid_vseg.find(id.guid);
  bool busy = false;
  if (vseg != guid_vseg.end()) {
    const uint64_t chunk = config.mirror_write_chunk_blocks;
    const uint64_t start = id.index * chunk;
    for (auto& [key, a] : mirror_authority) {
      if (key.first != vseg->second || a.start >= start + chunk || a.start + a.length <= start)
        continue;
      if (a.state == MirrorAuthority::State::kFp) revoke_mirror(a, /*give_back=*/false);
      busy = busy || a.state != MirrorAuthority::State::kNone;
    }
  }
  if (busy) {
    later(config.drain_poll_ns,
          [this, id, done = std::move(done)]() mutable { dve_check_let_go(id, std::move(done)); });
    return;
  }
  DveChunk& c = dve_chunks[id];
  c.letting_go = false;
  c.held = false;
  ++stats.dve_authority_given_up;
  done();
}

void ControlPath::Impl::dve_reconcile(const cluster::OplockId& id, std::function<void()> done) {
  auto vseg = guid_vseg.find(id.guid);
  const Vseg* seg = vseg == guid_vseg.end() ? nullptr : metadata.vseg(vseg->second);
  if (!seg || seg->redirects.empty() || !seg->redirects[0].descriptor.mirrored()) return done();
  const map::StorageDescriptor& d = seg->redirects[0].descriptor;
  const uint64_t chunk = config.mirror_write_chunk_blocks;
  const uint64_t start = id.index * chunk;
  if (start >= seg->descriptor.length) return done();
  const uint64_t blocks = std::min(chunk, seg->descriptor.length - start);
  std::vector<uint32_t> alive;
  for (uint32_t s = 0; s < d.mirror_sides(); ++s)
    if (d.side(s).state == map::SideState::kAlive) alive.push_back(s);
  if (alive.size() < 2) return done();
  const Volume* vol = metadata.volume_by_lv(seg->lv_id);
  auto left = std::make_shared<size_t>(alive.size() - 1);
  for (size_t k = 1; k < alive.size(); ++k) {
    const map::MirrorSide src = d.side(alive[0]);
    const map::MirrorSide dst = d.side(alive[k]);
    CopyRequest c;
    c.src_disk = seg->redirect_disks[0][alive[0]];
    c.src_lun = src.storage.lun;
    c.src_lba = src.storage.start_lba + start;
    c.dst_disk = seg->redirect_disks[0][alive[k]];
    c.dst_lun = dst.storage.lun;
    c.dst_lba = dst.storage.start_lba + start;
    c.blocks = static_cast<uint32_t>(blocks);
    c.block_size = vol ? vol->block_size : 512;
    copy_blocks(c, [this, left, done, blocks](bool ok) {
      if (!ok) spdlog::warn("cp: a reconciliation copy failed after its retries");
      stats.dve_reconciled_blocks += blocks;
      if (--*left == 0) {
        ++stats.dve_reconciled_chunks;
        done();
      }
    });
  }
}

}  // namespace splitpath::cp
