// One DVE's side of the oplock protocol (figure 27, PROTOCOL.md): the state
// of every oplock it knows, the broadcast rounds, eviction of silent peers,
// the lease that fences it when it is evicted, recovery of an evicted peer's
// non-volatile oplocks and tasks, boot steps 1-7, and the sweep of unused
// mirror-write oplocks.
//
// The CP asks for oplocks (`share`, `update`); the node runs the protocol
// and calls the CP back (`OplockClient`) when a peer takes an oplock away,
// when an evicted peer's oplocks need cleaning up, and when it is fenced.
// Requests for one oplock are served one at a time in arrival order (the
// intra-DVE serialization at oplock granularity).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "cp/cluster/dve_message.h"
#include "cp/cluster/oplock_id.h"
#include "cp/cluster/storehouse.h"

namespace splitpath::cp::cluster {

enum class OplockState : uint8_t {
  kBoot,
  kUninterested,
  kWantToJoin,
  kJoined,
  kWantToShare,
  kSharing,
  kWantToAcquire,
  kAcquired,
};
std::string_view state_name(OplockState state);

// What a DVE runs on: a clock, timers, the coherency network (ordered per
// pair of DVEs, possibly lossy) and the global storehouse.
class DveEnvironment {
 public:
  virtual ~DveEnvironment() = default;
  virtual uint64_t now_ns() const = 0;
  virtual void schedule(uint64_t delay_ns, std::function<void()> fn) = 0;
  virtual void send(const DveMessage& message) = 0;
  virtual Storehouse& storehouse() = 0;
};

// What the CP does for the protocol. Every callback that takes `done` may
// finish later (after draining I/O, after copying blocks).
class OplockClient {
 public:
  virtual ~OplockClient() = default;
  // A peer acquires `id`: drop what is cached under it and, for a restrictive
  // acquire, let the I/O using it drain first. The ack goes out at done().
  virtual void let_go(const OplockId& id, bool restrictive, std::function<void()> done) {
    (void)id, (void)restrictive;
    done();
  }
  // Unrestrictive updates left `id`'s metadata dirty here: write it to the
  // storehouse now (a peer acquires it).
  virtual void flush(const OplockId& id) { (void)id; }
  // The non-volatile oplock `id` was left owned by the evicted DVE `dead`:
  // clean up (reconcile a mirror extent), then done() releases it.
  virtual void recover(const OplockId& id, uint32_t dead, std::function<void()> done) {
    (void)id, (void)dead;
    done();
  }
  // A task of `dead`'s journal, now this DVE's to finish.
  virtual void replay_task(uint32_t dead, const TaskRecord& task) { (void)dead, (void)task; }
  // This DVE was evicted and fenced itself: every oplock and all volatile
  // state are gone; it must boot again.
  virtual void fenced() {}
};

struct OplockConfig {
  uint64_t response_timeout_ns = 10'000'000;  // an unanswered request evicts its peer
  uint64_t retry_ns = 2'000'000;              // retry timer while nak'd
  uint64_t lease_ns = 30'000'000;             // renewed every third of it
  uint64_t boot_wait_ns = 20'000'000;         // boot step 1: waiting for a caretaker
  uint64_t sweep_age_ns = 60'000'000'000;     // mirror-write oplocks unused this long go
  uint64_t sweep_interval_ns = 1'000'000'000;
};

struct OplockStats {
  std::array<uint64_t, kMsgKinds> sent{};
  std::array<uint64_t, kMsgKinds> received{};
  uint64_t rounds = 0;
  uint64_t silent_rounds = 0;  // rounds with no one to ask: no message
  uint64_t acquisitions = 0;
  uint64_t updates = 0;
  uint64_t evictions = 0;  // peers this DVE evicted (as caretaker)
  uint64_t recovered = 0;  // non-volatile oplocks cleaned up for evicted peers
  uint64_t tasks_replayed = 0;
  uint64_t swept = 0;
  uint64_t fenced = 0;
  uint64_t probes_unanswered = 0;  // boots put off: a live jlist member did not answer
  uint64_t messages_sent() const;
};

class OplockNode {
 public:
  using Done = std::function<void()>;
  // update(finished): change the metadata under the acquired oplocks; call
  // finished() when done.
  using UpdateFn = std::function<void(Done finished)>;

  OplockNode(uint32_t id, DveEnvironment& env, OplockClient& client, OplockConfig config = {});
  ~OplockNode();
  OplockNode(const OplockNode&) = delete;
  OplockNode& operator=(const OplockNode&) = delete;

  uint32_t id() const { return id_; }
  // Boot steps 1-7; `online` runs at step 7.
  void boot(Done online = {});
  bool online() const { return online_; }
  // A crash: every oplock and all volatile state are lost, nothing is sent.
  void crash();

  // Brings `id` to Sharing (joining first); done once the metadata may be cached.
  void share(const OplockId& id, Done done);
  // Acquires every oplock of `ids` (sorted, as chunk_oplocks gives them), runs
  // `update` under them, releases them to Sharing, then done().
  void update(std::vector<OplockId> ids, bool restrictive, UpdateFn update, Done done);
  // Sharing -> Joined (the CP stops caching `id`).
  void unshare(const OplockId& id);
  // Joined -> Uninterested.
  void leave(const OplockId& id);

  OplockState state(const OplockId& id) const;
  bool cache_valid(const OplockId& id) const;
  // Every oplock this node knows, for invariant checks.
  std::vector<OplockId> known_oplocks() const;
  const OplockStats& stats() const { return stats_; }

  // A message from the coherency network.
  void receive(const DveMessage& message);

  // Called after every state change of an oplock (tests check invariants here).
  std::function<void(const OplockNode&, const OplockId&, OplockState from, OplockState to)>
      on_transition;
  // Called just before an update's function runs under its oplocks.
  std::function<void(const OplockNode&, const std::vector<OplockId>&, bool restrictive)> on_update;

 private:
  struct Round;
  struct Oplock;
  struct Op;

  Oplock& oplock(const OplockId& id);
  void set_state(Oplock& o, OplockState to);
  void pump(const OplockId& id);
  void advance(Oplock& o);
  void start_round(Oplock& o, MsgKind kind, std::set<uint32_t> targets);
  void round_answered(Oplock& o);
  void round_timed_out(const OplockId& id, uint64_t round);
  void round_failed(Oplock& o);
  void retry(Oplock& o);
  void wait_for_retry(Oplock& o, uint64_t delay_ns);
  void send(MsgKind kind, const OplockId& id, uint32_t to, uint64_t round, bool flag = false);
  void answer(const DveMessage& request, MsgKind kind, bool old_dirty = false,
              bool interested = true, bool waiting = false);
  void broadcast_async(MsgKind kind, const OplockId& id, const std::set<uint32_t>& to);
  void on_request(Oplock& o, const DveMessage& m);
  void on_answer(Oplock& o, const DveMessage& m);
  void let_go_for_acquire(Oplock& o, const DveMessage& m, OplockState next);
  void acquired(Oplock& o);
  bool defended(const Oplock& o) const;
  void run_update(const std::shared_ptr<Op>& op);
  void finish_update(const std::shared_ptr<Op>& op);
  std::set<uint32_t> share_targets(const Oplock& o) const;
  void evict_silent(Oplock& o, const std::set<uint32_t>& silent);
  void recover_journals_of(uint32_t victim, Done done);
  void recover_journals(const std::vector<uint32_t>& journals, Done done);
  void recover_next(std::shared_ptr<std::vector<std::pair<OplockId, uint32_t>>> work, size_t i,
                    Done done);
  void renew_lease();
  void fence();
  void sweep();
  void probe_members(Done online);
  void on_probe_ack(const DveMessage& m);
  void boot_step(Done online);
  // Schedules fn unless the node crashed or fenced meanwhile.
  void later(uint64_t delay_ns, std::function<void()> fn);

  const uint32_t id_;
  DveEnvironment& env_;
  OplockClient& client_;
  const OplockConfig config_;
  bool online_ = false;
  // Shared with every pending timer and callback: a crash replaces it, so
  // what the old incarnation scheduled never runs. 0 until booted.
  std::shared_ptr<uint64_t> token_;
  uint64_t next_round_ = 1;
  // Boot step 0: the live jlist members that have not answered this probe.
  std::set<uint32_t> probe_awaiting_;
  uint64_t probe_number_ = 0;
  Done probe_done_;
  std::map<OplockId, std::unique_ptr<Oplock>> oplocks_;
  OplockStats stats_;
};

}  // namespace splitpath::cp::cluster
