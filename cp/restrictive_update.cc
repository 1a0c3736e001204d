// Restrictive updates (FPAPI.md "Restrictive update", around figure 25B), one
// at a time in the order asked:
//   1. the range is marked updating: misses overlapping it are answered QUEUE
//      and CP-owned I/Os stop dispatching legs into it;
//   2. FPRemoveMapping (kExtent, the range) to every FP;
//   3. per FP, FPQueryPendingIOs (range, started_by_ns = the removal reply's
//      now_ns, owner kOwnerFp) every drain_poll_ns until none is left, or
//      FPAbortPendingIOs once drain_timeout_ns have passed; and the CP's own
//      legs overlapping the range (all dispatched with the old mapping) end,
//      or after drain_timeout_ns their I/Os are aborted at the FP and fail
//      with ABORTED COMMAND / LOGICAL UNIT COMMUNICATION TIME-OUT (a leg out
//      that long lost its exchange, e.g. to a downed ISL that also took the
//      host's ABTS, and nothing else would ever end it);
//   4. the metadata changes and the new redirect entries go to every FP whose
//      virtual initiator is logged into their disk;
//   5. the held I/Os resume; FPs reload extents on demand.
// A multipath failover (multipath.cc) is an update whose path has failed: its
// pending I/Os and the CP's legs are aborted at once instead of waited for,
// and its own `apply` changes the metadata.
#include <algorithm>
#include <utility>
#include <vector>

#include "cp/control_path_impl.h"
#include "spdlog/spdlog.h"

namespace splitpath::cp {

bool ControlPath::Impl::updating(uint32_t vseg_id, uint64_t start, uint64_t length) const {
  if (!update_active) return false;
  for (const Update::Range& r : updates.front().ranges()) {
    if (r.vseg_id == vseg_id && start < r.start + r.length && r.start < start + length) return true;
  }
  return false;
}

namespace {

bool leg_in(const Leg& leg, const Update& u) {
  for (const Update::Range& r : u.ranges()) {
    if (leg.vseg_id == r.vseg_id && leg.start < r.start + r.length &&
        r.start < leg.start + leg.blocks) {
      return true;
    }
  }
  return false;
}

}  // namespace

Update* ControlPath::Impl::current_update(uint64_t id) {
  if (!update_active || updates.front().id != id) return nullptr;
  return &updates.front();
}

void ControlPath::Impl::change_mapping(const MappingChange& change,
                                       std::function<void(bool)> done) {
  auto reject = [&](const std::string& why) {
    spdlog::warn("cp: change_mapping of volume '{}' rejected: {}", change.volume, why);
    if (done) done(false);
  };
  const Volume* vol = metadata.volume(change.volume);
  if (!vol) return reject("unknown volume");
  if (change.blocks == 0) return reject("blocks is 0");
  if (!change.storage && !change.flags) return reject("neither storage nor flags given");
  if (change.storage && change.disk_wwpn == 0) return reject("storage without disk_wwpn");
  const Vseg* seg = metadata.vseg_at(vol->lv_id, change.lba);
  if (!seg) return reject("lba beyond the volume");
  const uint64_t rel = change.lba - seg->descriptor.virtual_start_lba;
  if (change.blocks > seg->descriptor.length - rel) return reject("range crosses a VSEG end");
  Update u;
  u.id = next_update_id++;
  u.change = change;
  u.done = std::move(done);
  u.vseg_id = seg->descriptor.id;
  u.start = rel;
  u.length = change.blocks;
  updates.push_back(std::move(u));
  if (!update_active) begin_update();
}

void ControlPath::Impl::begin_update() {
  if (update_active || updates.empty()) return;
  update_active = true;
  Update& u = updates.front();
  u.began_ns = env.now_ns();
  u.ports.assign(port_count(), Update::PortDrain{});
  if (u.change.storage) {
    u.disk = metadata.disk_index(u.change.disk_wwpn);
    resolve_disks();  // a new disk: find it and log into it meanwhile
  }
  const std::vector<Update::Range> ranges = u.ranges();
  for (uint32_t p = 0; p < port_count(); ++p) {
    u.ports[p].removals_out = static_cast<uint32_t>(ranges.size());
    for (const Update::Range& range : ranges) {
      fpapi::FpMapping m;
      m.req_id = link.next_req_id();
      m.kind = fpapi::MappingKind::kExtent;
      m.vseg.id = range.vseg_id;
      m.extent.start = range.start;
      m.extent.length = range.length;
      link.expect_reply(m.req_id, [this, p, id = u.id](const fpapi::FpReply& r) {
        Update* cur = current_update(id);
        if (!cur) return;
        Update::PortDrain& d = cur->ports[p];
        // The FP's time at the last removal: every I/O started before it
        // may use a removed mapping.
        d.started_by_ns = std::max(d.started_by_ns, r.now_ns);
        if (--d.removals_out > 0) return;
        d.removed = true;
        if (config.skip_drain_for_testing) {
          d.drained = true;
          maybe_finish_update();
        } else {
          poll_drain(p);
        }
      });
      link.send_as(p, fpapi::MsgType::kFpRemoveMapping, m);
    }
  }
  if (!config.skip_drain_for_testing) {
    // A failed path ends no leg: abort the CP's own legs on it at once.
    later(u.path_failed ? 0 : config.drain_timeout_ns, [this, id = u.id] { abort_stale_legs(id); });
  }
  maybe_finish_update();  // no ports
}

void ControlPath::Impl::abort_stale_legs(uint64_t update_id) {
  Update* u = current_update(update_id);
  if (!u) return;
  std::vector<uint64_t> keys;
  for (const auto& [dtag, leg] : legs) {
    if (leg_in(leg, *u)) keys.push_back(leg.io_key);
  }
  std::sort(keys.begin(), keys.end());  // deterministic order of messages
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (uint64_t key : keys) {
    auto it = ios.find(key);
    if (it == ios.end() || it->second.aborting) continue;
    CpIo& io = it->second;
    io.aborting = true;
    io.stale = true;
    ++stats.stale_leg_aborts;
    fpapi::FpAbortPendingIOs a;
    a.req_id = link.next_req_id();
    a.filter.utag = io.io.utag;
    a.filter.owner = fpapi::kOwnerCp;
    // The legs end (CpDispatchIOComplete) and the I/O comes back as kAborted.
    link.expect_reply(a.req_id, [](const fpapi::FpReply&) {});
    link.send(io.port, a);
  }
}

void ControlPath::Impl::poll_drain(uint32_t port) {
  if (!update_active) return;
  const Update& u = updates.front();
  const Update::Range range = u.ranges()[u.ports[port].range];
  fpapi::PendingFilter f;
  f.vseg_id = range.vseg_id;
  f.start = range.start;
  f.length = range.length;
  f.started_by_ns = u.ports[port].started_by_ns;
  f.owner = fpapi::kOwnerFp;
  fpapi::FpQueryPendingIOs q;
  q.req_id = link.next_req_id();
  q.filter = f;
  const uint64_t id = u.id;
  link.expect_pending_reply(q.req_id, [this, port, f, id](const fpapi::FpQueryPendingIOsReply& r) {
    Update* cur = current_update(id);
    if (!cur) return;
    Update& u = *cur;
    Update::PortDrain& d = u.ports[port];
    if (r.count == 0) {
      if (++d.range < u.ranges().size()) return poll_drain(port);  // the next range
      d.drained = true;
      maybe_finish_update();
      return;
    }
    ++stats.drain_waits;
    if (!d.aborted && (u.path_failed || env.now_ns() - u.began_ns >= config.drain_timeout_ns)) {
      d.aborted = true;
      fpapi::FpAbortPendingIOs a;
      a.req_id = link.next_req_id();
      a.filter = f;
      // The aborted I/Os come back as CpQueueIO kAborted (before this reply:
      // the mailbox is FIFO) and wait in the CP for the new mapping.
      link.expect_reply(a.req_id, [this, port, id](const fpapi::FpReply&) {
        Update* cur = current_update(id);
        if (!cur) return;
        Update::PortDrain& d = cur->ports[port];
        if (++d.range < cur->ranges().size()) {
          d.aborted = false;
          return poll_drain(port);  // the next range
        }
        d.drained = true;
        maybe_finish_update();
      });
      link.send(port, a);
      return;
    }
    later(config.drain_poll_ns, [this, port, id] {
      if (current_update(id)) poll_drain(port);
    });
  });
  link.send(port, q);
}

void ControlPath::Impl::maybe_finish_update() {
  if (!update_active) return;
  Update& u = updates.front();
  for (const Update::PortDrain& d : u.ports)
    if (!d.drained) return;
  if (!config.skip_drain_for_testing) {
    for (const auto& [dtag, leg] : legs) {
      if (leg_in(leg, u)) return;  // a CP leg still uses the old mapping
    }
  }
  std::vector<map::RedirectIndex> fresh;
  std::string error;
  bool ok = true;
  if (u.apply) {
    u.apply();  // a multipath failover reloads what it changed itself
  } else {
    ok = metadata.remap_range(u.vseg_id, u.start, u.length, u.change.storage, u.disk,
                              u.change.flags, &fresh, &error);
  }
  if (!ok) spdlog::warn("cp: change_mapping of volume '{}' failed: {}", u.change.volume, error);
  if (ok) {
    load_fresh_entries(*metadata.vseg(u.vseg_id), fresh);
    ++stats.updates;
  }
  std::function<void(bool)> done = std::move(u.done);
  updates.pop_front();
  update_active = false;
  for (const auto& [port, miss] : std::exchange(held_misses, {}))
    on_miss(port, miss, /*again=*/true);
  if (done) done(ok);
  retry_blocked();
  begin_update();
}

}  // namespace splitpath::cp
