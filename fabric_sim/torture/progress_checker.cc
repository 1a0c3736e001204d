#include "fabric_sim/torture/progress_checker.h"

#include "fmt/format.h"

namespace splitpath::sim::torture {

void ProgressChecker::open(const HostIo& io) {
  by_deadline_.emplace(io.deadline, io.id);
  open_[io.id] = Open{io.host, io.ox_id, io.write, io.volume, io.first_unit, io.units, io.issued};
}

void ProgressChecker::close(const HostIo& io) {
  by_deadline_.erase({io.deadline, io.id});
  open_.erase(io.id);
}

std::optional<Violation> ProgressChecker::check(SimTime now) const {
  if (by_deadline_.empty() || by_deadline_.begin()->first >= now) return std::nullopt;
  const auto [deadline, id] = *by_deadline_.begin();
  const Open& o = open_.at(id);
  Violation v;
  v.invariant = kProgress;
  v.at = now;
  v.summary = fmt::format(
      "{} from {:02x}.{:02x}.{:02x} OX_ID {:04x} (volume {} units [{}, +{})) issued at {} has "
      "neither completed nor been aborted by its deadline {}",
      o.write ? "WRITE" : "READ", (o.host >> 16) & 0xFF, (o.host >> 8) & 0xFF, o.host & 0xFF,
      o.ox_id, o.volume, o.first_unit, o.units, o.issued, deadline);
  v.history.push_back(fmt::format("{} host I/Os open", by_deadline_.size()));
  return v;
}

}  // namespace splitpath::sim::torture
