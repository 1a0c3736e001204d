#include "fabric_sim/node/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace splitpath::sim {

// Values below kSub map to themselves; above, the index is (exponent, top
// kSubBits bits below the leading one).
int LatencyHistogram::index_of(uint64_t v) {
  if (v < kSub) return static_cast<int>(v);
  const int msb = 63 - std::countl_zero(v);
  const int shift = msb - kSubBits;
  const int sub = static_cast<int>((v >> shift) & (kSub - 1));
  return (shift + 1) * kSub + sub;
}

uint64_t LatencyHistogram::upper_bound_of(int index) {
  if (index < kSub) return static_cast<uint64_t>(index);
  const int shift = index / kSub - 1;
  const uint64_t sub = static_cast<uint64_t>(index % kSub);
  return (((uint64_t{kSub} | sub) + 1) << shift) - 1;
}

void LatencyHistogram::record(uint64_t value_ns) {
  counts_[static_cast<size_t>(index_of(value_ns))]++;
  ++count_;
  sum_ += value_ns;
  min_ = std::min(min_, value_ns);
  max_ = std::max(max_, value_ns);
}

uint64_t LatencyHistogram::percentile(double quantile) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<uint64_t>(std::ceil(quantile * static_cast<double>(count_)));
  const uint64_t target = std::max<uint64_t>(1, std::min(rank, count_));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[static_cast<size_t>(i)];
    if (seen >= target) return std::min(upper_bound_of(i), max_);
  }
  return max_;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

}  // namespace splitpath::sim
