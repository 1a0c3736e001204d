#include "fabric_sim/kernel/kernel.h"

#include <cstdint>

namespace splitpath::sim {

void Kernel::push(std::vector<Event>& heap, const Event& e) {
  // Sift up with a hole instead of swaps.
  size_t i = heap.size();
  heap.push_back(e);
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(e, heap[parent])) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = e;
}

Kernel::Event Kernel::pop(std::vector<Event>& heap) {
  Event top = heap.front();
  Event last = heap.back();
  heap.pop_back();
  const size_t n = heap.size();
  if (n > 0) {
    size_t i = 0;
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && earlier(heap[child + 1], heap[child])) ++child;
      if (!earlier(heap[child], last)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
  }
  return top;
}

std::vector<Kernel::Event>* Kernel::earliest() {
  if (far_.empty()) return near_.empty() ? nullptr : &near_;
  if (near_.empty()) return &far_;
  return earlier(far_.front(), near_.front()) ? &far_ : &near_;
}

uint64_t Kernel::run_until(SimTime end) {
  stopped_ = false;
  uint64_t ran = 0;
  while (!stopped_) {
    std::vector<Event>* heap = earliest();
    if (heap == nullptr || heap->front().at > end) break;
    Event e = pop(*heap);
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
