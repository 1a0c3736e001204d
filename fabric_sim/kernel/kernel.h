// The discrete-event kernel: virtual time in nanoseconds and one queue of events
// ordered by (time, sequence). The sequence number is the order of scheduling, so
// events at the same instant run in the order they were scheduled and a run is a
// pure function of its inputs and seed.
//
// An event is a plain function pointer with a context and one integer argument:
// scheduling never allocates once the queue has grown to its working size.
//
// The queue is two binary heaps: events due within kFarHorizon of the time
// they are scheduled (frames on links, disk media, FP polls) and later ones
// (I/O and control timeouts, which are never cancelled and mostly fire long
// after their I/O ended). A fabric keeps one timeout per outstanding I/O, far
// more than the near events in flight, so keeping them apart makes every near
// pop shallower. Events still run in (time, sequence) order across both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace splitpath::sim {

using SimTime = uint64_t;  // nanoseconds since the start of the run
inline constexpr SimTime kNsPerUs = 1000;
inline constexpr SimTime kNsPerMs = 1000 * kNsPerUs;
inline constexpr SimTime kNsPerSec = 1000 * kNsPerMs;

using EventFn = void (*)(void* ctx, uint64_t arg);

class Kernel {
 public:
  Kernel() {
    near_.reserve(1024);
    far_.reserve(1024);
  }

  SimTime now() const { return now_; }
  uint64_t events_processed() const { return processed_; }
  size_t pending() const { return near_.size() + far_.size(); }
  // The time of the earliest pending event; UINT64_MAX when none is pending.
  // The real-time driver (fabric_sim/gateway) sleeps until then.
  SimTime next_event_time() const {
    SimTime t = UINT64_MAX;
    if (!near_.empty()) t = near_.front().at;
    if (!far_.empty() && far_.front().at < t) t = far_.front().at;
    return t;
  }
  // Events at least this far ahead of now() when scheduled wait in the far heap.
  static constexpr SimTime kFarHorizon = 1'000'000;  // 1 ms

  // Runs fn(ctx, arg) at time `at` (never earlier than now()).
  void schedule_at(SimTime at, EventFn fn, void* ctx, uint64_t arg = 0) {
    const SimTime when = at < now_ ? now_ : at;
    push(when - now_ >= kFarHorizon ? far_ : near_, Event{when, next_seq_++, fn, ctx, arg});
  }
  void schedule_in(SimTime delay, EventFn fn, void* ctx, uint64_t arg = 0) {
    schedule_at(now_ + delay, fn, ctx, arg);
  }

  // Member-function form: kernel.schedule_in<&Link::on_tx_done>(delay, this, arg).
  template <auto Method, typename T>
  void schedule_at(SimTime at, T* obj, uint64_t arg = 0) {
    schedule_at(at, &trampoline<Method, T>, obj, arg);
  }
  template <auto Method, typename T>
  void schedule_in(SimTime delay, T* obj, uint64_t arg = 0) {
    schedule_at(now_ + delay, &trampoline<Method, T>, obj, arg);
  }

  // Runs events in order until the queue is empty, stop() is called, or the next
  // event lies after `end`; time then stands at min(end, last event time) and
  // never moves backwards. Returns the number of events run.
  uint64_t run_until(SimTime end);

  // Makes run_until return after the current event.
  void stop() { stopped_ = true; }

 private:
  struct Event {
    SimTime at;
    uint64_t seq;
    EventFn fn;
    void* ctx;
    uint64_t arg;
  };
  static bool earlier(const Event& a, const Event& b) {
    return a.at != b.at ? a.at < b.at : a.seq < b.seq;
  }
  template <auto Method, typename T>
  static void trampoline(void* ctx, uint64_t arg) {
    (static_cast<T*>(ctx)->*Method)(arg);
  }

  static void push(std::vector<Event>& heap, const Event& e);
  static Event pop(std::vector<Event>& heap);
  // The heap holding the earliest event; nullptr when both are empty.
  std::vector<Event>* earliest();

  std::vector<Event> near_;  // binary min-heaps on (at, seq)
  std::vector<Event> far_;
  SimTime now_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t processed_ = 0;
  bool stopped_ = false;
};

}  // namespace splitpath::sim
