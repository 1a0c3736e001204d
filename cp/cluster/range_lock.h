// Intra-DVE locks over block ranges of one object (a VSEG's Rmap): the CP's
// own activities (fault handlers, a migration step, the sweep) take one
// before the inter-DVE oplocks of the chunks the range touches, so two of
// them never interleave their updates of one range. Waiters are granted in
// arrival order; a waiter overlapping an earlier waiter waits behind it.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>

namespace splitpath::cp::cluster {

class RangeLocks {
 public:
  using Granted = std::function<void(uint64_t ticket)>;
  // Calls granted(ticket) once [lba, lba + blocks) of `guid` is this
  // caller's; `unlock(ticket)` gives it back.
  void lock(uint64_t guid, uint64_t lba, uint64_t blocks, Granted granted);
  void unlock(uint64_t ticket);
  size_t held() const { return held_.size(); }
  size_t waiting() const { return waiting_.size(); }

 private:
  struct Range {
    uint64_t ticket;
    uint64_t guid;
    uint64_t lba;
    uint64_t end;
    Granted granted;
  };
  static bool overlaps(const Range& a, const Range& b) {
    return a.guid == b.guid && a.lba < b.end && b.lba < a.end;
  }
  void grant_waiters();

  uint64_t next_ticket_ = 1;
  std::map<uint64_t, Range> held_;
  std::list<Range> waiting_;
};

}  // namespace splitpath::cp::cluster
