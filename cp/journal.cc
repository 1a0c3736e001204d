// The journals of journaled VSEGs (the write-journaling primitive, figure 32
// and step 122 of figure 7). A VSEG's journal area is carved into journals of
// journal_blocks blocks. Each port FP writing the VSEG gets one of its own
// (the redirect entry sent to that port names it), and the CP has one for its
// own writes. When an FP's record does not fit (kJournalFull), the CP:
//   1. does the faulted write itself, into its own journal (ordered against
//      the FPs' writes by write authority, as for mirrors: mirror_authority.cc);
//   2. revokes that port's redirect entry (FPRemoveMapping): its misses are
//      queued to the CP meanwhile;
//   3. waits for the FP's I/Os into the VSEG dispatched before the revoke to
//      drain (FPQueryPendingIOs), so every record of the journal is written;
//   4. seals the journal (kept for a consumer: ControlPath::sealed_journals)
//      and sends the entry again naming an empty journal, which resets the
//      FP's pointer.
// Steps 3-4 are a journal's retirement (retire_journal), which also ends the
// old journal of an FP sent its entry again after it may have lost it: a
// journal is sealed only once no FP I/O can still write a record into it.
// The CP's own journal is swapped at dispatch when a record does not fit; it
// is sealed once its last record leg has ended.
// When no journal is free, writes wait for a consumer to release one if a
// consumer is attached (a port gets its entry with FoR|FoW until then);
// without one, the oldest sealed journal is reused (journals_recycled).
#include <algorithm>
#include <set>
#include <utility>

#include "cp/control_path_impl.h"

namespace splitpath::cp {

JournalSet& ControlPath::Impl::journal_set(const Vseg& seg) {
  auto [it, added] = journals.try_emplace(seg.descriptor.id);
  if (added && seg.journal_area) {
    const Vseg::JournalArea& a = *seg.journal_area;
    for (uint64_t k = 0; k < a.blocks / a.journal_blocks; ++k)
      it->second.free.push_back(a.lba + k * a.journal_blocks);
  }
  return it->second;
}

std::optional<CpJournal> ControlPath::Impl::take_journal(const Vseg& seg) {
  JournalSet& set = journal_set(seg);
  CpJournal j;
  if (!set.free.empty()) {
    j.lba = set.free.front();
    set.free.pop_front();
  } else if (!set.sealed.empty() && !journal_consumer) {
    j.lba = set.sealed.front().lba;
    set.sealed.pop_front();
    ++stats.journals_recycled;
  } else {
    return std::nullopt;
  }
  j.id = set.next_id++;
  if (set.next_id == 0) set.next_id = 1;  // 0 is never a journal's id
  j.epoch = set.epoch;
  return j;
}

bool ControlPath::Impl::patch_journal(uint32_t port, const Vseg& seg, map::RedirectIndex index,
                                      map::RedirectEntry* entry) {
  map::JournalStorage js;
  if (!seg.journal_area || !entry->descriptor.journal(&js)) return true;
  if (journal_swapping(port, seg.descriptor.id)) return false;
  JournalSet& set = journal_set(seg);
  auto it = set.port.find(port);
  // An FP that may not hold the entry any more restarts at its journal's
  // first block: it gets another journal, so no record is overwritten. The
  // old one retires: the FP may still be writing records into it.
  if (it != set.port.end() &&
      !loaded_redirects.contains(redirect_key(port, seg.descriptor.id, index))) {
    retire_journal(seg.descriptor.id, port, it->second, ~0ull, nullptr);
    set.port.erase(it);
    it = set.port.end();
  }
  if (it == set.port.end()) {
    std::optional<CpJournal> j = take_journal(seg);
    if (!j) {
      // No journal to give: the CP does this port's I/Os itself until one
      // is released.
      entry->flags |= map::redirect_flags::kFaultOnRead | map::redirect_flags::kFaultOnWrite;
      set.starved.insert(port);
      return true;
    }
    it = set.port.emplace(port, *j).first;
    set.may_write.insert(port);
  }
  js.journal.start_lba = it->second.lba;
  js.journal_id = it->second.id;
  (void)map::StorageDescriptor::make_journal(js, &entry->descriptor);
  return true;
}

bool ControlPath::Impl::journal_swapping(uint32_t port, uint32_t vseg_id) const {
  auto it = journals.find(vseg_id);
  return it != journals.end() && it->second.swapping.contains(port);
}

void ControlPath::Impl::on_journal_full(uint32_t port, const fpapi::UpstreamIo& io) {
  const Lun* lun = metadata.lun(io.target_id, io.lun);
  const size_t n =
      std::min<size_t>(io.cdb_length ? io.cdb_length : fpapi::kCdbSize, fpapi::kCdbSize);
  const std::optional<RwRequest> rw = decode_rw(std::span<const uint8_t>(io.cdb.data(), n));
  const Vseg* seg = lun && rw ? metadata.vseg_at(lun->lv_id, rw->lba) : nullptr;
  if (seg && seg->journal_area && !journal_swapping(port, seg->descriptor.id) &&
      journal_set(*seg).port.contains(port)) {
    const uint32_t vseg_id = seg->descriptor.id;
    const uint64_t swap_id = next_journal_drain_id++;
    journal_set(*seg).swapping[port] = swap_id;
    fpapi::FpMapping m;
    m.req_id = link.next_req_id();
    m.kind = fpapi::MappingKind::kRedirect;
    m.vseg.id = vseg_id;
    m.redirect_index = 0;
    loaded_redirects.erase(redirect_key(port, vseg_id, 0));
    link.expect_reply(m.req_id, [this, vseg_id, port, swap_id](const fpapi::FpReply& r) {
      auto it = journals.find(vseg_id);
      if (it == journals.end()) return;
      JournalSet& set = it->second;
      auto s = set.swapping.find(port);
      if (s == set.swapping.end() || s->second != swap_id) return;
      auto j = set.port.find(port);
      if (j == set.port.end()) {
        end_journal_swap(vseg_id, port, swap_id);
        return;
      }
      // The FP's I/Os that used the removed entry were stamped by r.now_ns.
      const CpJournal full = j->second;
      set.port.erase(j);
      ++stats.journal_swaps;
      retire_journal(vseg_id, port, full, r.now_ns,
                     [this, vseg_id, port, swap_id] { end_journal_swap(vseg_id, port, swap_id); });
    });
    link.send_as(port, fpapi::MsgType::kFpRemoveMapping, m);
  }
  start_rw(port, io);  // the faulted write: the CP's, into its own journal
}

void ControlPath::Impl::end_journal_swap(uint32_t vseg_id, uint32_t port, uint64_t swap_id) {
  auto it = journals.find(vseg_id);
  const Vseg* seg = metadata.vseg(vseg_id);
  if (it == journals.end() || seg == nullptr) return;
  auto s = it->second.swapping.find(port);
  if (s == it->second.swapping.end() || s->second != swap_id) return;
  it->second.swapping.erase(s);
  // The FP gets the entry back with an empty journal (or at its next miss).
  const map::Extent* e = seg->extent_at(0);
  if (e && !updating(vseg_id, e->start, e->length)) {
    send_redirect(port, *seg, e->redirect_index, fpapi::MsgType::kFpAddMapping);
  }
}

void ControlPath::Impl::retire_journal(uint32_t vseg_id, uint32_t port, const CpJournal& j,
                                       uint64_t started_by_ns, std::function<void()> then) {
  JournalSet& set = journals[vseg_id];
  const uint64_t id = next_journal_drain_id++;
  set.retiring.push_back(JournalSet::Retiring{id, port, j, started_by_ns, std::move(then)});
  if (started_by_ns != ~0ull) {
    poll_retiring(vseg_id, id);
  } else {
    // Unbounded: the first poll must reach the FP after the mapping message
    // the caller is about to send, so that the FP's time in its reply bounds
    // every I/O that used the old journal.
    later(config.drain_poll_ns, [this, vseg_id, id] { poll_retiring(vseg_id, id); });
  }
}

void ControlPath::Impl::poll_retiring(uint32_t vseg_id, uint64_t retire_id) {
  auto find = [this, vseg_id, retire_id]() -> JournalSet::Retiring* {
    auto it = journals.find(vseg_id);
    if (it == journals.end() || metadata.vseg(vseg_id) == nullptr) return nullptr;
    for (JournalSet::Retiring& r : it->second.retiring)
      if (r.id == retire_id) return &r;
    return nullptr;
  };
  const JournalSet::Retiring* r = find();
  if (r == nullptr) return;
  fpapi::PendingFilter f;
  f.vseg_id = vseg_id;
  f.start = 0;
  f.length = metadata.vseg(vseg_id)->descriptor.length;
  f.started_by_ns = r->started_by_ns;
  f.owner = fpapi::kOwnerFp;
  fpapi::FpQueryPendingIOs q;
  q.req_id = link.next_req_id();
  q.filter = f;
  link.expect_pending_reply(
      q.req_id, [this, vseg_id, retire_id, find](const fpapi::FpQueryPendingIOsReply& reply) {
        JournalSet::Retiring* r = find();
        if (r == nullptr) return;
        if (r->started_by_ns == ~0ull) r->started_by_ns = reply.now_ns;
        if (reply.count != 0) {
          ++stats.drain_waits;
          later(config.drain_poll_ns,
                [this, vseg_id, retire_id] { poll_retiring(vseg_id, retire_id); });
          return;
        }
        // Every record of the journal is written: seal it.
        JournalSet& set = journals[vseg_id];
        set.sealed.push_back(r->journal);
        std::function<void()> then = std::move(r->then);
        std::erase_if(set.retiring,
                      [retire_id](const JournalSet::Retiring& x) { return x.id == retire_id; });
        if (then) then();
      });
  link.send(r->port, q);
}

bool ControlPath::Impl::cp_journal_record(const Vseg& seg, const CpIo& io, const LegPlan& plan,
                                          uint64_t* lba, map::JournalRecordHeader* header) {
  JournalSet& set = journal_set(seg);
  const uint32_t capacity = seg.journal_area->journal_blocks;
  if (set.cp && uint64_t{set.cp_used} + 1 + plan.blocks > capacity) {
    // Full: sealed now, or once its record legs still out have ended.
    if (set.cp_legs_out[set.cp->id] == 0) {
      set.cp_legs_out.erase(set.cp->id);
      set.sealed.push_back(*set.cp);
    } else {
      set.cp_full.push_back(*set.cp);
    }
    ++stats.journal_swaps;
    set.cp.reset();
  }
  if (!set.cp) {
    set.cp = take_journal(seg);
    if (!set.cp) return false;
    set.cp_used = 0;
    set.cp_seq = 0;
  }
  *lba = set.cp->lba + set.cp_used;
  header->journal_id = set.cp->id;
  header->sequence = set.cp_seq++;
  header->blocks = plan.blocks;
  header->timestamp_ns = env.now_ns();
  header->lv_id = io.lv_id;
  header->vseg_id = seg.descriptor.id;
  header->vseg_lba = plan.vseg_lba;
  header->lv_lba = seg.descriptor.virtual_start_lba + plan.vseg_lba;
  header->block_size = io.block_size;
  set.cp_used += 1 + plan.blocks;
  ++set.cp_legs_out[set.cp->id];
  return true;
}

void ControlPath::Impl::cp_journal_leg_done(uint32_t vseg_id, uint16_t id) {
  auto it = journals.find(vseg_id);
  if (it == journals.end()) return;
  JournalSet& set = it->second;
  auto n = set.cp_legs_out.find(id);
  if (n == set.cp_legs_out.end() || n->second == 0) return;
  if (--n->second > 0) return;
  for (auto f = set.cp_full.begin(); f != set.cp_full.end(); ++f) {
    if (f->id == id) {
      set.sealed.push_back(*f);
      set.cp_full.erase(f);
      set.cp_legs_out.erase(n);
      return;
    }
  }
}

namespace {

JournalInfo info_of(const Vseg& seg, const CpJournal& j) {
  JournalInfo i;
  i.vseg_id = seg.descriptor.id;
  i.journal_id = j.id;
  i.disk_wwpn = seg.journal_area->wwpn;
  i.lun = seg.journal_area->lun;
  i.lba = j.lba;
  i.blocks = seg.journal_area->journal_blocks;
  i.epoch = j.epoch;
  return i;
}

}  // namespace

std::vector<JournalInfo> ControlPath::sealed_journals() const {
  std::vector<JournalInfo> out;
  for (const auto& [vseg_id, set] : impl_->journals) {
    const Vseg* seg = impl_->metadata.vseg(vseg_id);
    if (!seg || !seg->journal_area) continue;
    for (const CpJournal& j : set.sealed)
      out.push_back(info_of(*seg, j));
  }
  return out;
}

std::vector<JournalInfo> ControlPath::active_journals() const {
  std::vector<JournalInfo> out;
  for (const auto& [vseg_id, set] : impl_->journals) {
    const Vseg* seg = impl_->metadata.vseg(vseg_id);
    if (!seg || !seg->journal_area) continue;
    for (const auto& [port, j] : set.port)
      out.push_back(info_of(*seg, j));
    if (set.cp) out.push_back(info_of(*seg, *set.cp));
    for (const CpJournal& j : set.cp_full)
      out.push_back(info_of(*seg, j));
    for (const JournalSet::Retiring& r : set.retiring)
      out.push_back(info_of(*seg, r.journal));
  }
  return out;
}

bool ControlPath::release_journal(uint32_t vseg_id, uint16_t journal_id) {
  return impl_->release_sealed_journal(vseg_id, journal_id);
}

bool ControlPath::Impl::release_sealed_journal(uint32_t vseg_id, uint16_t journal_id) {
  auto it = journals.find(vseg_id);
  if (it == journals.end()) return false;
  std::deque<CpJournal>& sealed = it->second.sealed;
  for (auto j = sealed.begin(); j != sealed.end(); ++j) {
    if (j->id == journal_id) {
      it->second.free.push_back(j->lba);
      sealed.erase(j);
      retry_blocked();  // CP writes waiting for a journal
      feed_starved_ports(vseg_id);
      return true;
    }
  }
  return false;
}

void ControlPath::attach_journal_consumer() {
  impl_->journal_consumer = true;
}

void ControlPath::Impl::feed_starved_ports(uint32_t vseg_id) {
  auto it = journals.find(vseg_id);
  const Vseg* seg = metadata.vseg(vseg_id);
  if (it == journals.end() || seg == nullptr) return;
  const std::set<uint32_t> ports = std::exchange(it->second.starved, {});
  const map::Extent* e = seg->extent_at(0);
  for (uint32_t port : ports) {
    // Sent again, the entry takes a free journal (or starves again).
    if (e && !updating(vseg_id, e->start, e->length) && !journal_swapping(port, vseg_id)) {
      send_redirect(port, *seg, e->redirect_index, fpapi::MsgType::kFpReplaceMapping);
    } else {
      journals[vseg_id].starved.insert(port);
    }
  }
}

}  // namespace splitpath::cp
