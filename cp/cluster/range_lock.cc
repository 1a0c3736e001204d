#include "cp/cluster/range_lock.h"

#include <utility>
#include <vector>

namespace splitpath::cp::cluster {

void RangeLocks::lock(uint64_t guid, uint64_t lba, uint64_t blocks, Granted granted) {
  waiting_.push_back(Range{next_ticket_++, guid, lba, lba + blocks, std::move(granted)});
  grant_waiters();
}

void RangeLocks::unlock(uint64_t ticket) {
  if (held_.erase(ticket) != 0) grant_waiters();
}

void RangeLocks::grant_waiters() {
  std::vector<Range> granted;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    bool blocked = false;
    for (const auto& [ticket, holder] : held_)
      blocked = blocked || overlaps(*it, holder);
    // An earlier waiter it overlaps goes first (no overtaking).
    for (auto earlier = waiting_.begin(); !blocked && earlier != it; ++earlier)
      blocked = overlaps(*it, *earlier);
    if (blocked) {
      ++it;
      continue;
    }
    held_.emplace(it->ticket, *it);
    granted.push_back(std::move(*it));
    it = waiting_.erase(it);
  }
  for (Range& range : granted)
    range.granted(range.ticket);
}

}  // namespace splitpath::cp::cluster
