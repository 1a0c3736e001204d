// Exchange IDs (OX_ID or RX_ID) for one port: handed out in rotation over a
// range, skipping those still in use, and mapped back to the slot that owns the
// exchange. Rotation keeps an ID from coming back soon after its exchange ended,
// so a late frame of a dead exchange is not taken for a new one, and capture
// analyzers do not see two sequences with the same IDs close together.
#pragma once

#include <cstdint>
#include <vector>

namespace splitpath::sim {

class ExchangeIds {
 public:
  static constexpr int32_t kNone = -1;

  ExchangeIds(uint16_t first, uint16_t last)
      : first_(first), last_(last), next_(first), slot_of_(uint32_t{last} - first + 1, kNone) {}

  // A free ID for `slot`, or kNone if every ID in the range is in use.
  int32_t assign(uint32_t slot) {
    const uint32_t span = static_cast<uint32_t>(slot_of_.size());
    for (uint32_t tries = 0; tries < span; ++tries) {
      const uint16_t id = next_;
      next_ = next_ == last_ ? first_ : static_cast<uint16_t>(next_ + 1);
      int32_t& owner = slot_of_[id - first_];
      if (owner == kNone) {
        owner = static_cast<int32_t>(slot);
        return id;
      }
    }
    return kNone;
  }
  void release(uint16_t id) {
    if (id >= first_ && id <= last_) slot_of_[id - first_] = kNone;
  }
  // The slot owning `id`, or kNone.
  int32_t slot(uint16_t id) const {
    return id >= first_ && id <= last_ ? slot_of_[id - first_] : kNone;
  }

 private:
  uint16_t first_;
  uint16_t last_;
  uint16_t next_;
  std::vector<int32_t> slot_of_;
};

}  // namespace splitpath::sim
