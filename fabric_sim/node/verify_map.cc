#include "fabric_sim/node/verify_map.h"

#include <algorithm>

namespace splitpath::sim {

const char* verify_verdict_name(VerifyVerdict v) {
  switch (v) {
    case VerifyVerdict::kOk:
      return "ok";
    case VerifyVerdict::kCorrupt:
      return "corrupt";
    case VerifyVerdict::kMisdirected:
      return "misdirected";
    case VerifyVerdict::kStale:
      return "stale";
    case VerifyVerdict::kPhantom:
      return "phantom";
    case VerifyVerdict::kLost:
      return "lost";
  }
  return "unknown";
}

bool VerifyMap::write_in_flight(uint64_t first_unit, uint64_t units) const {
  for (uint64_t u = first_unit; u < first_unit + units; ++u) {
    auto it = units_.find(u);
    if (it != units_.end() && it->second.writes_in_flight > 0) return true;
  }
  return false;
}

void VerifyMap::begin_write(uint64_t first_unit, uint64_t units, uint64_t generation) {
  for (uint64_t u = first_unit; u < first_unit + units; ++u) {
    Unit& s = units_[u];
    s.issued = std::max(s.issued, generation);
    ++s.writes_in_flight;
  }
}

void VerifyMap::end_write(uint64_t first_unit, uint64_t units, uint64_t generation,
                          bool acknowledged) {
  for (uint64_t u = first_unit; u < first_unit + units; ++u) {
    Unit& s = units_[u];
    if (s.writes_in_flight > 0) --s.writes_in_flight;
    if (acknowledged) s.acked = std::max(s.acked, generation);
  }
}

uint64_t VerifyMap::acknowledged(uint64_t unit) const {
  auto it = units_.find(unit);
  return it == units_.end() ? 0 : it->second.acked;
}

VerifyVerdict VerifyMap::check(uint64_t unit, uint64_t acked_at_read_start, StampCheck check,
                               const BlockStamp& stamp) const {
  if (check == StampCheck::kCorrupt) return VerifyVerdict::kCorrupt;
  const bool ours = check == StampCheck::kValid && stamp.writer == me_;
  if (!ours) {
    // Zeros or another host's data are fine only where we had nothing acknowledged.
    if (acked_at_read_start != 0) return VerifyVerdict::kLost;
    if (check == StampCheck::kValid && stamp.unit != unit) return VerifyVerdict::kMisdirected;
    return VerifyVerdict::kOk;
  }
  if (stamp.unit != unit) return VerifyVerdict::kMisdirected;
  if (stamp.generation < acked_at_read_start) return VerifyVerdict::kStale;
  auto it = units_.find(unit);
  const uint64_t issued = it == units_.end() ? 0 : it->second.issued;
  if (stamp.generation > issued) return VerifyVerdict::kPhantom;
  return VerifyVerdict::kOk;
}

}  // namespace splitpath::sim
