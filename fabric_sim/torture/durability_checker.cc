#include "fabric_sim/torture/durability_checker.h"

#include <algorithm>

#include "fmt/format.h"

namespace splitpath::sim::torture {

namespace {

std::string fc_id(uint32_t id) {
  return fmt::format("{:02x}.{:02x}.{:02x}", (id >> 16) & 0xFF, (id >> 8) & 0xFF, id & 0xFF);
}

std::string time_or(SimTime t, const char* never) {
  return t == ~SimTime{0} ? std::string(never) : fmt::format("{}", t);
}

}  // namespace

SimTime DurabilityChecker::end_of(const WriteRec& w) const {
  if (w.acked != kNever) return w.acked;
  if (w.failed != kNever) return w.failed + indeterminate_ns_;
  return kNever;
}

void DurabilityChecker::record(Unit& u, const Event& e) {
  u.history[u.next_event] = e;
  u.next_event = static_cast<uint8_t>((u.next_event + 1) % kHistory);
  if (u.events < kHistory) ++u.events;
}

// Drops the writes no read in flight or to come may return: those a write
// acknowledged before the oldest read in flight began supersedes.
void DurabilityChecker::prune(Unit& u, const WriteRec& /*newest*/) {
  const SimTime cutoff = open_reads_.empty() ? kNever : *open_reads_.begin();
  SimTime floor_issued = 0;  // the latest issue time of a write acked before cutoff
  bool any = false;
  for (const WriteRec& w : u.writes) {
    if (w.acked != kNever && w.acked < cutoff) {
      floor_issued = any ? std::max(floor_issued, w.issued) : w.issued;
      any = true;
    }
  }
  if (!any) return;
  std::erase_if(u.writes, [&](const WriteRec& w) { return end_of(w) < floor_issued; });
}

void DurabilityChecker::begin_write(const HostIo& io) {
  for (uint32_t i = 0; i < io.units; ++i) {
    Unit& u = units_[key(io.volume, io.first_unit + i)];
    WriteRec w;
    w.io = io.id;
    w.host = io.host;
    w.ox_id = io.ox_id;
    w.issued = io.issued;
    u.writes.push_back(w);
    record(u, Event{io.issued, 'W', io.host, io.ox_id, 0});
  }
}

void DurabilityChecker::write_data(const HostIo& io, uint32_t unit_index) {
  const UnitData& d = io.data[unit_index];
  if (d.check != StampCheck::kValid) return;
  auto learn = [&](size_t volume) {
    auto it = units_.find(key(volume, io.first_unit + unit_index));
    if (it == units_.end()) return;
    for (WriteRec& w : it->second.writes) {
      if (w.io == io.id) {
        w.writer = d.stamp.writer;
        w.generation = d.stamp.generation;
      }
    }
  };
  learn(io.volume);
  // A write in flight across an image's instant: its copy in the image
  // learns its data too (it may be in the image).
  for (const auto& [source, image] : aliases_)
    if (source == io.volume) learn(image);
}

void DurabilityChecker::end_write(const HostIo& io, bool acknowledged, SimTime now) {
  for (uint32_t i = 0; i < io.units; ++i) {
    auto it = units_.find(key(io.volume, io.first_unit + i));
    if (it == units_.end()) continue;
    Unit& u = it->second;
    WriteRec* mine = nullptr;
    for (WriteRec& w : u.writes)
      if (w.io == io.id) mine = &w;
    if (!mine || mine->frozen) continue;
    if (acknowledged) {
      mine->acked = now;
    } else {
      mine->failed = now;
    }
    record(u, Event{now, acknowledged ? 'A' : 'F', io.host, io.ox_id, mine->generation});
    if (!acknowledged && mine->writer == 0) {
      // Its data for this unit never passed the switch: it cannot land.
      std::erase_if(u.writes, [&](const WriteRec& w) { return w.io == io.id; });
      continue;
    }
    const WriteRec newest = *mine;
    prune(u, newest);
  }
}

void DurabilityChecker::begin_read(const HostIo& io) {
  open_reads_.insert(io.issued);
}

std::optional<Violation> DurabilityChecker::end_read(const HostIo& io, bool good, SimTime now) {
  if (auto it = open_reads_.find(io.issued); it != open_reads_.end()) open_reads_.erase(it);
  if (!good || forgotten_.contains(io.volume)) return std::nullopt;
  if (auto from = judged_from_.find(io.volume);
      from != judged_from_.end() && io.issued < from->second)
    return std::nullopt;
  const SimTime start = io.issued;
  for (uint32_t i = 0; i < io.units; ++i) {
    const uint64_t unit = io.first_unit + i;
    const UnitData& got = io.data[i];
    ++units_checked_;
    auto it = units_.find(key(io.volume, unit));
    static const Unit kEmpty;
    const Unit& u = it == units_.end() ? kEmpty : it->second;
    auto acked_before_start = [&](const WriteRec& w) { return w.acked < start; };
    std::string why;
    if (!got.seen) {
      why = "a GOOD read that carried no data for this unit";
    } else if (got.check == StampCheck::kCorrupt) {
      why = "corrupt: neither a valid stamp nor zeros";
    } else if (got.check == StampCheck::kZero) {
      if (std::any_of(u.writes.begin(), u.writes.end(), acked_before_start)) {
        why = "lost: zeros where a write was acknowledged before the read began";
      }
    } else if (got.stamp.unit != unit) {
      why = fmt::format("misdirected: the stamp is for unit {}", got.stamp.unit);
    } else {
      const WriteRec* w = nullptr;
      for (const WriteRec& c : u.writes)
        if (c.writer == got.stamp.writer && c.generation == got.stamp.generation) w = &c;
      if (!w) {
        why = fmt::format("stale or phantom: writer {:016x} generation {} is no live write",
                          got.stamp.writer, got.stamp.generation);
      } else if (w->issued >= now) {
        why = "phantom: the write was issued after the read ended";
      } else {
        const SimTime end = end_of(*w);
        for (const WriteRec& c : u.writes) {
          if (c.acked < start && c.issued > end) {
            why = fmt::format(
                "stale: generation {} is superseded by generation {} from {} (issued {}, "
                "acknowledged {}) before the read began",
                w->generation, c.generation, fc_id(c.host), c.issued, c.acked);
            break;
          }
        }
      }
    }
    if (!why.empty() && excuse_ && excuse_(io.volume)) {
      forgotten_.insert(io.volume);
      return std::nullopt;
    }
    if (!why.empty()) {
      if (it != units_.end()) record(it->second, Event{now, 'X', io.host, io.ox_id, 0});
      return violation(io.volume, unit, it == units_.end() ? kEmpty : it->second, io, got, now,
                       why);
    }
    if (it != units_.end())
      record(it->second, Event{now, 'R', io.host, io.ox_id, got.stamp.generation});
  }
  return std::nullopt;
}

void DurabilityChecker::alias(size_t image, size_t source, uint64_t units, SimTime requested,
                              SimTime done) {
  // Writes that had not ended by `requested` are concurrent with the
  // instant: their copies never end (an image's own such writes still get
  // their data recorded).
  auto freeze = [&](WriteRec w) {
    if (end_of(w) >= requested) {
      w.frozen = true;
      w.acked = kNever;
      w.failed = kNever;
    }
    return w;
  };
  for (uint64_t unit = 0; unit < units; ++unit) {
    auto src = units_.find(key(source, unit));
    auto dst = units_.find(key(image, unit));
    if (src == units_.end() && dst == units_.end()) continue;
    Unit fresh;
    if (dst != units_.end()) {
      fresh = dst->second;
      fresh.writes.clear();
      for (const WriteRec& w : dst->second.writes)
        if (end_of(w) >= requested) fresh.writes.push_back(freeze(w));
    }
    if (src != units_.end()) {
      for (const WriteRec& w : src->second.writes)
        if (w.issued < done) fresh.writes.push_back(freeze(w));
    }
    record(fresh, Event{done, 'I', 0, 0, 0});
    units_[key(image, unit)] = std::move(fresh);
  }
  judged_from_[image] = done;
  aliases_.emplace_back(source, image);
}

void DurabilityChecker::suspend(size_t image) {
  judged_from_[image] = kNever;
}

void DurabilityChecker::forget(size_t volume) {
  forgotten_.insert(volume);
}

Violation DurabilityChecker::violation(size_t volume, uint64_t unit, const Unit& u,
                                       const HostIo& read, const UnitData& got, SimTime now,
                                       const std::string& why) const {
  Violation v;
  v.invariant = kDurability;
  v.at = now;
  v.summary = fmt::format(
      "volume {} unit {} (512-byte units): read by {} OX_ID {:04x} (issued {}, ended {}) "
      "returned {}: {}",
      volume, unit, fc_id(read.host), read.ox_id, read.issued, now,
      got.check == StampCheck::kValid
          ? fmt::format("writer {:016x} generation {}", got.stamp.writer, got.stamp.generation)
          : (got.check == StampCheck::kZero ? std::string("zeros") : std::string("garbage")),
      why);
  v.history.push_back("writes the model holds for the unit:");
  for (const WriteRec& w : u.writes) {
    v.history.push_back(fmt::format(
        "  {} OX_ID {:04x} writer {:016x} generation {}: issued {}, acknowledged {}, failed {}",
        fc_id(w.host), w.ox_id, w.writer, w.generation, w.issued, time_or(w.acked, "-"),
        time_or(w.failed, "-")));
  }
  v.history.push_back(
      "last events on the unit (W issued, A acknowledged, F failed, R good read, X this read, I "
      "became a snapshot's or an incremental's image):");
  for (uint8_t i = 0; i < u.events; ++i) {
    const Event& e = u.history[(u.next_event + kHistory - u.events + i) % kHistory];
    v.history.push_back(fmt::format("  {:>12} {} {} OX_ID {:04x} generation {}", e.at, e.kind,
                                    fc_id(e.host), e.ox_id, e.generation));
  }
  if (notes_) {
    for (std::string& line : notes_(volume, unit))
      v.history.push_back(std::move(line));
  }
  return v;
}

}  // namespace splitpath::sim::torture
