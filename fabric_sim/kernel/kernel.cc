#include "fabric_sim/kernel/kernel.h"

#include <cstdint>

namespace splitpath::sim {

void Kernel::push(const Event& e) {
  // Sift up with a hole instead of swaps.
  size_t i = heap_.size();
  heap_.push_back(e);
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

Kernel::Event Kernel::pop() {
  Event top = heap_.front();
  Event last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n > 0) {
    size_t i = 0;
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
      if (!earlier(heap_[child], last)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = last;
  }
  return top;
}

uint64_t Kernel::run_until(SimTime end) {
  stopped_ = false;
  uint64_t ran = 0;
  while (!heap_.empty() && !stopped_) {
    if (heap_.front().at > end) break;
    Event e = pop();
    now_ = e.at;
    e.fn(e.ctx, e.arg);
    ++ran;
  }
  processed_ += ran;
  // A run bounded by the end of time leaves the clock at the last event.
  if (!stopped_ && end != UINT64_MAX && end > now_) now_ = end;
  return ran;
}

}  // namespace splitpath::sim
