// A log-linear latency histogram (HdrHistogram's layout, simplified): 32 linear
// sub-buckets per power of two, so any percentile is within about 3% of the true
// value, in fixed memory, with no allocation per sample.
#pragma once

#include <array>
#include <cstdint>

namespace splitpath::sim {

class LatencyHistogram {
 public:
  void record(uint64_t value_ns);
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0;
  }
  // The value below which `quantile` (0..1) of the samples fall (upper bucket bound,
  // capped at the largest sample); 0 when empty.
  uint64_t percentile(double quantile) const;
  void merge(const LatencyHistogram& other);

 private:
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;
  static int index_of(uint64_t v);
  static uint64_t upper_bound_of(int index);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace splitpath::sim
