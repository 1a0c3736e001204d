// The progress invariant: every host I/O completes or fails within a bound,
// and the run keeps moving. An I/O is open from its FCP_CMND until its FCP_RSP
// or the host's ABTS passes the host's switch; it must close by its host's
// I/O timeout plus a margin (the host aborts at its timeout, so an I/O still
// open after that means frames or state were lost without anyone noticing).
// I/Os of a host whose link the harness took down are excused: the host
// forgets them without a frame.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "fabric_sim/torture/host_io.h"
#include "fabric_sim/torture/violation.h"

namespace splitpath::sim::torture {

class ProgressChecker {
 public:
  void open(const HostIo& io);
  void close(const HostIo& io);
  // The first I/O past its deadline at `now`, if any.
  std::optional<Violation> check(SimTime now) const;
  size_t open_ios() const { return by_deadline_.size(); }

 private:
  struct Open {
    uint32_t host = 0;
    uint16_t ox_id = 0;
    bool write = false;
    size_t volume = 0;
    uint64_t first_unit = 0;
    uint32_t units = 0;
    SimTime issued = 0;
  };
  std::set<std::pair<SimTime, uint64_t>> by_deadline_;  // (deadline, io id)
  absl::flat_hash_map<uint64_t, Open> open_;
};

}  // namespace splitpath::sim::torture
