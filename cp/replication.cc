// Asynchronous ordered replication (figure 32): each FP splits the writes of
// a journaled VSEG to its data device and to a journal of its own (the
// write-journaling primitive, journal.cc). Every interval the CP:
//   1. pauses the group's inbound I/O at every FP involved: one restrictive
//      update over every VSEG of every volume of the group (Update::more),
//      so every write before the barrier is on disk with its record and none
//      after it has started;
//   2. seals every journal in use (each port FP's and the CP's own) and hands
//      the FPs empty ones (FPReplaceMapping resets their pointers): the
//      epoch ends;
//   3. resumes the I/O, and the copy agent ships the sealed journals, whole,
//      to the remote site's staging area (FPCopyIO: the data never goes
//      through the CP), oldest epoch first, as staging slots are free;
//   4. once every journal of an epoch is there, the remote merges them (the
//      last write per block wins: writes that overlap were ordered by write
//      authority, so their timestamps are too) and applies them, and the
//      slots are released. The remote image is valid at each barrier only.
// A journal filled before the barrier is swapped as usual and shipped with
// its epoch. A copy that fails (the link to the remote site is down) is
// tried again after an interval: the remote lags, nothing is lost; while the
// staging area is full or journals are not shipped, no journal is reused
// (the journal consumer's backpressure, journal.cc).
#include <algorithm>
#include <tuple>

#include "absl/strings/str_format.h"
#include "cp/control_path_impl.h"
#include "spdlog/spdlog.h"

namespace splitpath::cp {

namespace {
// Journals copied to the staging area at once.
constexpr size_t kMaxShippingCopies = 8;
}  // namespace

bool ControlPath::start_replication(const ReplicationRequest& request, std::string* error) {
  Impl& m = *impl_;
  auto reject = [&](const std::string& why) {
    if (error) *error = absl::StrFormat("replication '%s': %s", request.name, why);
    return false;
  };
  if (!m.started) return reject("the CP has not started");
  for (const std::string& volume : request.volumes) {
    std::string why;
    if (m.refuse_shared(volume, "replication", &why)) return reject(why);
  }
  if (m.replications.contains(request.name)) return reject("the name is in use");
  if (request.volumes.empty()) return reject("no volumes");
  if (request.interval_ns == 0) return reject("the interval is 0");
  if (request.staging_wwpn == 0) return reject("no staging disk");
  Replication r;
  r.request = request;
  for (const std::string& name : request.volumes) {
    const Volume* vol = m.metadata.volume(name);
    if (!vol) return reject(absl::StrFormat("no volume '%s'", name));
    for (uint32_t id : vol->vsegs) {
      const Vseg* seg = m.metadata.vseg(id);
      if (!seg || !seg->journal_area)
        return reject(absl::StrFormat("volume '%s' has a VSEG that is not journaled", name));
      for (const auto& [other_name, other] : m.replications) {
        if (std::find(other.vsegs.begin(), other.vsegs.end(), id) != other.vsegs.end())
          return reject(absl::StrFormat("volume '%s' is replicated by '%s'", name, other_name));
      }
      r.vsegs.push_back(id);
      r.slot_blocks = std::max(r.slot_blocks, seg->journal_area->journal_blocks);
    }
  }
  if (request.staging_blocks < r.slot_blocks)
    return reject(absl::StrFormat("the staging area of %u blocks holds no journal of %u",
                                  request.staging_blocks, r.slot_blocks));
  for (uint64_t k = 0; k < request.staging_blocks / r.slot_blocks; ++k)
    r.free_slots.push_back(request.staging_lba + k * r.slot_blocks);
  r.status.name = request.name;
  m.journal_consumer = true;  // no journal is reused before it is shipped
  const std::string name = request.name;
  m.replications.emplace(name, std::move(r));
  m.metadata.disk_index(request.staging_wwpn);
  m.resolve_disks();
  m.later(request.interval_ns, [&m, name] { m.replication_barrier(name); });
  spdlog::info("cp: replication '{}' of {} volumes every {:.3f} ms", name, request.volumes.size(),
               request.interval_ns / 1e6);
  return true;
}

void ControlPath::Impl::replication_barrier(const std::string& name) {
  auto it = replications.find(name);
  if (it == replications.end() || it->second.vsegs.empty()) return;
  Replication& r = it->second;
  const Vseg* first = metadata.vseg(r.vsegs[0]);
  if (!first) return;
  const Volume* vol = metadata.volume_by_lv(first->lv_id);
  Update u;
  u.id = next_update_id++;
  u.change.volume = vol ? vol->name : std::string();
  u.change.lba = first->descriptor.virtual_start_lba;
  u.change.blocks = first->descriptor.length;
  u.vseg_id = r.vsegs[0];
  u.start = 0;
  u.length = first->descriptor.length;
  u.hold_misses = true;
  for (size_t i = 1; i < r.vsegs.size(); ++i) {
    if (const Vseg* s = metadata.vseg(r.vsegs[i]))
      u.more.push_back(Update::Range{r.vsegs[i], 0, s->descriptor.length});
  }
  u.apply = [this, name] {
    auto it = replications.find(name);
    if (it == replications.end()) return;
    Replication& r = it->second;
    const uint64_t closing = r.closed;
    for (uint32_t id : r.vsegs) {
      const Vseg* seg = metadata.vseg(id);
      if (!seg) continue;
      JournalSet& set = journal_set(*seg);
      set.epoch = closing + 1;
      // Every FP's I/O into the VSEG has drained: its journal holds all its
      // records. Sealed; the FP gets an empty one of the next epoch. A port
      // that loaded no extent of the VSEG since the last barrier wrote no
      // record: its journal is still empty and goes on in the next epoch.
      std::vector<uint32_t> sealed_ports;
      for (auto p = set.port.begin(); p != set.port.end();) {
        if (set.may_write.contains(p->first)) {
          set.sealed.push_back(p->second);
          sealed_ports.push_back(p->first);
          p = set.port.erase(p);
        } else {
          p->second.epoch = closing + 1;
          ++p;
        }
      }
      if (set.cp) {
        if (set.cp_legs_out[set.cp->id] == 0) {
          set.cp_legs_out.erase(set.cp->id);
          set.sealed.push_back(*set.cp);
        } else {
          set.cp_full.push_back(*set.cp);
        }
        set.cp.reset();
      }
      for (uint32_t p : sealed_ports) {
        for (size_t i = 0; i < seg->redirects.size(); ++i) {
          const auto index = static_cast<map::RedirectIndex>(i);
          if (loaded_redirects.erase(redirect_key(p, id, index)) > 0)
            send_redirect(p, *seg, index, fpapi::MsgType::kFpReplaceMapping);
        }
      }
      // The update removed every extent of the VSEG at every FP: none writes
      // a record before it loads one again.
      set.may_write.clear();
    }
    r.closed = closing + 1;
    r.barrier_ns[closing] = env.now_ns();
    r.status.epochs_closed = r.closed;
    if (r.request.on_barrier) r.request.on_barrier(closing);
  };
  u.done = [this, name](bool) {
    auto it = replications.find(name);
    if (it == replications.end()) return;
    ship_journals(name);
    later(it->second.request.interval_ns, [this, name] { replication_barrier(name); });
  };
  updates.push_back(std::move(u));
  if (!update_active) begin_update();
}

bool ControlPath::Impl::epoch_sealed(const Replication& r, uint64_t epoch) const {
  for (uint32_t id : r.vsegs) {
    auto it = journals.find(id);
    if (it == journals.end()) continue;
    const JournalSet& set = it->second;
    for (const auto& [port, j] : set.port)
      if (j.epoch <= epoch) return false;
    if (set.cp && set.cp->epoch <= epoch) return false;
    for (const CpJournal& j : set.cp_full)
      if (j.epoch <= epoch) return false;
    for (const JournalSet::Retiring& x : set.retiring)
      if (x.journal.epoch <= epoch) return false;
  }
  return true;
}

void ControlPath::Impl::ship_journals(const std::string& name) {
  auto it = replications.find(name);
  if (it == replications.end()) return;
  Replication& r = it->second;
  // The sealed journals of closed epochs not shipped nor being shipped,
  // oldest epoch first.
  std::vector<JournalInfo> waiting;
  for (uint32_t id : r.vsegs) {
    auto j = journals.find(id);
    const Vseg* seg = metadata.vseg(id);
    if (j == journals.end() || !seg) continue;
    for (const CpJournal& cj : j->second.sealed) {
      if (cj.epoch >= r.closed || r.staged.contains({id, cj.id}) ||
          r.in_flight.contains({id, cj.id})) {
        continue;
      }
      JournalInfo info;
      info.vseg_id = id;
      info.journal_id = cj.id;
      info.disk_wwpn = seg->journal_area->wwpn;
      info.lun = seg->journal_area->lun;
      info.lba = cj.lba;
      info.blocks = seg->journal_area->journal_blocks;
      info.epoch = cj.epoch;
      waiting.push_back(info);
    }
  }
  std::sort(waiting.begin(), waiting.end(), [](const JournalInfo& a, const JournalInfo& b) {
    return std::tie(a.epoch, a.vseg_id, a.journal_id) < std::tie(b.epoch, b.vseg_id, b.journal_id);
  });
  // Epochs whose journals are all in the staging area go to the remote.
  auto unshipped_upto = [&](uint64_t epoch) {
    if (!waiting.empty() && waiting.front().epoch <= epoch) return true;
    for (const auto& [key, e] : r.in_flight)
      if (e <= epoch) return true;
    return false;
  };
  while (r.shipped < r.closed && !unshipped_upto(r.shipped) && epoch_sealed(r, r.shipped)) {
    ShippedEpoch e;
    e.replication = name;
    e.epoch = r.shipped;
    e.barrier_ns = r.barrier_ns[r.shipped];
    for (const auto& [key, staged] : r.staged)
      if (staged.epoch == r.shipped) e.journals.push_back(staged);
    ++r.shipped;
    r.status.epochs_shipped = r.shipped;
    if (r.request.on_shipped) r.request.on_shipped(e);
  }
  for (const JournalInfo& next : waiting) {
    if (r.in_flight.size() >= kMaxShippingCopies || r.free_slots.empty()) break;
    if (r.in_flight.contains({next.vseg_id, next.journal_id})) continue;
    const Vseg* seg = metadata.vseg(next.vseg_id);
    const Volume* vol = seg ? metadata.volume_by_lv(seg->lv_id) : nullptr;
    if (!seg || !vol) continue;
    StagedJournal staged;
    staged.volume = vol->name;
    staged.vseg_id = next.vseg_id;
    staged.journal_id = next.journal_id;
    staged.epoch = next.epoch;
    staged.staging_lba = r.free_slots.front();
    r.free_slots.pop_front();
    staged.blocks = next.blocks;
    staged.block_size = vol->block_size;
    CopyRequest c;
    c.src_disk = metadata.disk_index(next.disk_wwpn);
    c.src_lun = next.lun;
    c.src_lba = next.lba;
    c.dst_disk = metadata.disk_index(r.request.staging_wwpn);
    c.dst_lun = r.request.staging_lun;
    c.dst_lba = staged.staging_lba;
    c.blocks = next.blocks;
    c.block_size = vol->block_size;
    r.in_flight[{staged.vseg_id, staged.journal_id}] = staged.epoch;
    copy_blocks(c, [this, name, staged](bool ok) {
      auto it = replications.find(name);
      if (it == replications.end()) return;
      Replication& r = it->second;
      r.in_flight.erase({staged.vseg_id, staged.journal_id});
      if (!ok) {
        // The remote is out of reach: try again after an interval.
        r.free_slots.push_front(staged.staging_lba);
        ++r.status.copy_failures;
        later(r.request.interval_ns, [this, name] { ship_journals(name); });
        return;
      }
      r.staged[{staged.vseg_id, staged.journal_id}] = staged;
      ++r.status.journals_shipped;
      r.status.bytes_shipped += uint64_t{staged.blocks} * staged.block_size;
      // The journal is in the staging area: it may be reused here.
      release_sealed_journal(staged.vseg_id, staged.journal_id);
      ship_journals(name);
    });
  }
}

void ControlPath::release_staged(const std::string& name, uint64_t epoch) {
  auto it = impl_->replications.find(name);
  if (it == impl_->replications.end()) return;
  Replication& r = it->second;
  for (auto s = r.staged.begin(); s != r.staged.end();) {
    if (s->second.epoch <= epoch) {
      r.free_slots.push_back(s->second.staging_lba);
      s = r.staged.erase(s);
    } else {
      ++s;
    }
  }
  r.released = std::max(r.released, epoch + 1);
  r.status.epochs_applied = r.released;
  // Later: this is called from on_shipped, inside ship_journals.
  impl_->later(0, [m = impl_.get(), name] { m->ship_journals(name); });
}

std::vector<ReplicationStatus> ControlPath::replications() const {
  std::vector<ReplicationStatus> out;
  for (const auto& [name, r] : impl_->replications) {
    ReplicationStatus s = r.status;
    const uint64_t now = impl_->env.now_ns();
    if (r.released > 0) {
      auto b = r.barrier_ns.find(r.released - 1);
      s.lag_ns = b != r.barrier_ns.end() ? now - b->second : 0;
    } else if (!r.barrier_ns.empty()) {
      s.lag_ns = now - r.barrier_ns.begin()->second;
    }
    // Journals sealed or staged and not applied yet.
    for (uint32_t id : r.vsegs) {
      auto j = impl_->journals.find(id);
      const Vseg* seg = impl_->metadata.vseg(id);
      const Volume* vol = seg ? impl_->metadata.volume_by_lv(seg->lv_id) : nullptr;
      if (j == impl_->journals.end() || !seg || !vol) continue;
      s.lag_bytes +=
          uint64_t{j->second.sealed.size()} * seg->journal_area->journal_blocks * vol->block_size;
    }
    for (const auto& [key, staged] : r.staged)
      s.lag_bytes += uint64_t{staged.blocks} * staged.block_size;
    out.push_back(s);
  }
  return out;
}

}  // namespace splitpath::cp
