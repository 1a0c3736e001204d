#include "cp/cluster/oplock_node.h"

#include <algorithm>
#include <utility>

namespace splitpath::cp::cluster {

std::string_view state_name(OplockState state) {
  switch (state) {
    case OplockState::kBoot:
      return "boot";
    case OplockState::kUninterested:
      return "uninterested";
    case OplockState::kWantToJoin:
      return "want-to-join";
    case OplockState::kJoined:
      return "joined";
    case OplockState::kWantToShare:
      return "want-to-share";
    case OplockState::kSharing:
      return "sharing";
    case OplockState::kWantToAcquire:
      return "want-to-acquire";
    case OplockState::kAcquired:
      return "acquired";
  }
  return "?";
}

uint64_t OplockStats::messages_sent() const {
  uint64_t total = 0;
  for (uint64_t n : sent)
    total += n;
  return total;
}

struct OplockNode::Round {
  uint64_t number = 0;
  MsgKind kind = MsgKind::kJoin;
  std::set<uint32_t> targets;
  std::set<uint32_t> awaiting;
  bool active = false;
  bool purge = false;  // an ack of the acquire said old dirty
};

// A request of the CP: share one oplock, or update under several.
struct OplockNode::Op {
  bool is_update = false;
  std::vector<OplockId> ids;
  size_t next = 0;  // update: ids[0, next) are acquired
  bool restrictive = true;
  UpdateFn fn;
  Done done;
};

struct OplockNode::Oplock {
  OplockId id;
  OplockState state = OplockState::kUninterested;
  std::set<uint32_t> slist;
  std::set<uint32_t> alist;
  bool dirty = false;
  bool cache_valid = false;
  std::optional<uint32_t> owner;
  Round round;
  bool waiting_retry = false;
  uint64_t retry_timer = 0;  // which retry timer is the live one
  // Acquires answered once the CP has let the metadata go.
  bool letting_go = false;
  std::vector<DveMessage> pending_acks;
  // Nodes refused (or told to wait) while acquiring: they get the release.
  std::set<uint32_t> remembered;
  std::deque<std::shared_ptr<Op>> queue;
  uint64_t last_used_ns = 0;
};

OplockNode::OplockNode(uint32_t id, DveEnvironment& env, OplockClient& client, OplockConfig config)
    : id_(id), env_(env), client_(client), config_(config), token_(std::make_shared<uint64_t>(0)) {}

OplockNode::~OplockNode() = default;

void OplockNode::later(uint64_t delay_ns, std::function<void()> fn) {
  std::weak_ptr<uint64_t> token = token_;
  const uint64_t incarnation = *token_;
  env_.schedule(delay_ns, [token, incarnation, fn = std::move(fn)] {
    auto alive = token.lock();
    if (alive && *alive == incarnation) fn();
  });
}

OplockNode::Oplock& OplockNode::oplock(const OplockId& id) {
  auto& slot = oplocks_[id];
  if (!slot) {
    slot = std::make_unique<Oplock>();
    slot->id = id;
    slot->state = online_ ? OplockState::kUninterested : OplockState::kBoot;
  }
  return *slot;
}

OplockState OplockNode::state(const OplockId& id) const {
  auto it = oplocks_.find(id);
  if (it == oplocks_.end()) return online_ ? OplockState::kUninterested : OplockState::kBoot;
  return it->second->state;
}

bool OplockNode::cache_valid(const OplockId& id) const {
  auto it = oplocks_.find(id);
  return it != oplocks_.end() && it->second->cache_valid;
}

std::vector<OplockId> OplockNode::known_oplocks() const {
  std::vector<OplockId> ids;
  for (const auto& [id, o] : oplocks_)
    ids.push_back(id);
  return ids;
}

void OplockNode::set_state(Oplock& o, OplockState to) {
  const OplockState from = o.state;
  o.state = to;
  if (on_transition && from != to) on_transition(*this, o.id, from, to);
}

// --- messages ---

void OplockNode::send(MsgKind kind, const OplockId& id, uint32_t to, uint64_t round,
                      bool restrictive) {
  DveMessage m;
  m.kind = kind;
  m.oplock = id;
  m.from = id_;
  m.to = to;
  m.round = round;
  m.restrictive = restrictive;
  stats_.sent[static_cast<int>(kind)]++;
  env_.send(m);
}

void OplockNode::answer(const DveMessage& request, MsgKind kind, bool old_dirty, bool interested,
                        bool waiting) {
  DveMessage m;
  m.kind = kind;
  m.oplock = request.oplock;
  m.from = id_;
  m.to = request.from;
  m.round = request.round;
  m.old_dirty = old_dirty;
  m.interested = interested;
  m.waiting = waiting;
  stats_.sent[static_cast<int>(kind)]++;
  env_.send(m);
}

void OplockNode::broadcast_async(MsgKind kind, const OplockId& id, const std::set<uint32_t>& to) {
  for (uint32_t peer : to)
    if (peer != id_) send(kind, id, peer, 0);
}

void OplockNode::receive(const DveMessage& m) {
  if (*token_ == 0) return;  // never booted, or crashed: a dead DVE hears nothing
  stats_.received[static_cast<int>(m.kind)]++;
  // A DVE booting after its eviction is still on the elist: it is answered
  // all the same, by members on line only.
  if (m.kind == MsgKind::kProbe) {
    if (online_) answer(m, MsgKind::kProbeAck);
    return;
  }
  if (m.kind == MsgKind::kProbeAck) return on_probe_ack(m);
  // An evicted peer is fenced (or about to be): nothing it says counts.
  if (env_.storehouse().evicted(m.from)) return;
  Oplock& o = oplock(m.oplock);
  if (m.kind == MsgKind::kAck || m.kind == MsgKind::kNak)
    on_answer(o, m);
  else
    on_request(o, m);
}

void OplockNode::on_request(Oplock& o, const DveMessage& m) {
  const bool dormant = o.state == OplockState::kBoot || o.state == OplockState::kUninterested;
  switch (m.kind) {
    case MsgKind::kJoin:
      if (dormant) {
        answer(m, MsgKind::kNak);
      } else {
        o.slist.insert(m.from);
        answer(m, MsgKind::kAck);
      }
      return;
    case MsgKind::kLeave:
      o.slist.erase(m.from);
      return;
    case MsgKind::kShare:
      if (dormant) {
        answer(m, MsgKind::kAck, false, /*interested=*/false);
      } else if (o.state == OplockState::kWantToAcquire || o.state == OplockState::kAcquired) {
        o.remembered.insert(m.from);
        answer(m, MsgKind::kNak);
      } else {
        o.alist.insert(m.from);
        answer(m, MsgKind::kAck);
      }
      return;
    case MsgKind::kUnshare:
      o.alist.erase(m.from);
      return;
    case MsgKind::kRelease:
      if (o.waiting_retry) retry(o);
      return;
    case MsgKind::kAcquire:
      break;
    default:
      return;
  }
  switch (o.state) {
    case OplockState::kBoot:
    case OplockState::kUninterested:
      answer(m, MsgKind::kAck, false, /*interested=*/false);
      return;
    case OplockState::kWantToJoin:
    case OplockState::kJoined:
      answer(m, MsgKind::kAck);
      return;
    case OplockState::kWantToShare:
      // Departure 1: a share completing after this ack would cache what the
      // acquirer is about to change.
      answer(m, MsgKind::kAck, false, true, /*waiting=*/true);
      if (o.round.active) round_failed(o);
      return;
    case OplockState::kSharing:
      let_go_for_acquire(o, m, OplockState::kJoined);
      return;
    case OplockState::kWantToAcquire:
      if (m.from < id_) {
        if (o.round.active) {
          o.round.active = false;
          broadcast_async(MsgKind::kRelease, o.id, o.round.targets);
        }
        let_go_for_acquire(o, m, OplockState::kWantToAcquire);
      } else {
        o.remembered.insert(m.from);
        answer(m, MsgKind::kNak);
      }
      return;
    case OplockState::kAcquired:
      o.remembered.insert(m.from);
      answer(m, MsgKind::kNak);
      return;
  }
}

// A peer acquires what this node caches: the CP drops it (draining first for
// a restrictive acquire); then unshare, flush, ack with the old dirty.
void OplockNode::let_go_for_acquire(Oplock& o, const DveMessage& m, OplockState next) {
  o.pending_acks.push_back(m);
  if (o.letting_go) return;
  o.letting_go = true;
  o.cache_valid = false;
  const OplockId id = o.id;
  client_.let_go(id, m.restrictive,
                 [this, id, next, token = std::weak_ptr<uint64_t>(token_), incarnation = *token_] {
                   auto alive = token.lock();
                   if (!alive || *alive != incarnation) return;
                   Oplock& o = oplock(id);
                   o.letting_go = false;
                   o.cache_valid = false;
                   if (next == OplockState::kJoined)
                     broadcast_async(MsgKind::kUnshare, id, o.alist);
                   const bool old_dirty = o.dirty;
                   if (o.dirty) {
                     client_.flush(id);
                     o.dirty = false;
                   }
                   o.owner.reset();
                   for (const DveMessage& request : o.pending_acks)
                     answer(request, MsgKind::kAck, old_dirty);
                   o.pending_acks.clear();
                   if (next == OplockState::kJoined) {
                     set_state(o, OplockState::kJoined);
                     advance(o);
                   } else {
                     o.round.purge = true;
                     wait_for_retry(o, config_.retry_ns);
                   }
                 });
}

void OplockNode::on_answer(Oplock& o, const DveMessage& m) {
  Round& r = o.round;
  if (!r.active || m.round != r.number || r.awaiting.count(m.from) == 0) return;
  if (m.kind == MsgKind::kNak) {
    if (r.kind == MsgKind::kJoin) {
      r.awaiting.erase(m.from);  // not interested
      if (r.awaiting.empty()) round_answered(o);
    } else {
      round_failed(o);
    }
    return;
  }
  r.awaiting.erase(m.from);
  switch (r.kind) {
    case MsgKind::kJoin:
      o.slist.insert(m.from);
      break;
    case MsgKind::kShare:
      if (m.interested) o.alist.insert(m.from);
      break;
    case MsgKind::kAcquire:
      if (m.old_dirty) r.purge = true;
      if (m.waiting) o.remembered.insert(m.from);
      break;
    default:
      break;
  }
  if (r.awaiting.empty()) round_answered(o);
}

// --- rounds ---

std::set<uint32_t> OplockNode::share_targets(const Oplock& o) const {
  std::set<uint32_t> targets = o.slist;
  if (is_non_volatile(o.id.luid)) {
    auto owner = env_.storehouse().owner(o.id);
    if (owner) targets.insert(*owner);  // the recent owner is always asked
  }
  return targets;
}

void OplockNode::start_round(Oplock& o, MsgKind kind, std::set<uint32_t> targets) {
  Storehouse& store = env_.storehouse();
  targets.erase(id_);
  // An evicted peer is left out. But no round goes on while any evicted DVE
  // may still be alive (its lease running): it may believe it holds this
  // oplock, whether or not this node knows it shares it.
  const uint64_t fenced_at = store.evicted_lease_end();
  for (auto it = targets.begin(); it != targets.end();) {
    if (store.evicted(*it)) {
      o.slist.erase(*it);
      o.alist.erase(*it);
      it = targets.erase(it);
    } else {
      ++it;
    }
  }
  if (fenced_at >= env_.now_ns()) {
    o.round.active = false;
    wait_for_retry(o, fenced_at + 1 - env_.now_ns());
    return;
  }
  Round& r = o.round;
  r = Round{};
  r.number = next_round_++;
  r.kind = kind;
  r.targets = targets;
  r.awaiting = targets;
  r.active = true;
  stats_.rounds++;
  const bool restrictive =
      kind == MsgKind::kAcquire && !o.queue.empty() && o.queue.front()->restrictive;
  for (uint32_t peer : targets)
    send(kind, o.id, peer, r.number, restrictive);
  if (targets.empty()) {
    stats_.silent_rounds++;
    round_answered(o);
    return;
  }
  const OplockId id = o.id;
  const uint64_t number = r.number;
  later(config_.response_timeout_ns, [this, id, number] { round_timed_out(id, number); });
}

void OplockNode::round_answered(Oplock& o) {
  o.round.active = false;
  switch (o.round.kind) {
    case MsgKind::kJoin:
      set_state(o, OplockState::kJoined);
      advance(o);
      return;
    case MsgKind::kShare:
      o.cache_valid = true;  // CACHE METADATA
      set_state(o, OplockState::kSharing);
      advance(o);
      return;
    case MsgKind::kAcquire:
      acquired(o);
      return;
    default:
      return;
  }
}

// A nak (or, for a share, an acquire meanwhile): undo the round at the peers
// that answered and wait for a release or the retry timer.
void OplockNode::round_failed(Oplock& o) {
  Round& r = o.round;
  r.active = false;
  broadcast_async(r.kind == MsgKind::kShare ? MsgKind::kUnshare : MsgKind::kRelease, o.id,
                  r.targets);
  wait_for_retry(o, config_.retry_ns);
}

// Until a release comes, or `delay_ns` (the retry timer; a later wait voids it).
void OplockNode::wait_for_retry(Oplock& o, uint64_t delay_ns) {
  o.waiting_retry = true;
  const uint64_t timer = ++o.retry_timer;
  const OplockId id = o.id;
  later(delay_ns, [this, id, timer] {
    Oplock& o = oplock(id);
    if (o.waiting_retry && o.retry_timer == timer) retry(o);
  });
}

void OplockNode::retry(Oplock& o) {
  o.waiting_retry = false;
  ++o.retry_timer;
  if (o.letting_go) return;  // the let-go's end waits for the retry again
  switch (o.state) {
    case OplockState::kWantToJoin:
      start_round(o, MsgKind::kJoin, env_.storehouse().jlist());
      return;
    case OplockState::kWantToShare: {
      if (defended(o)) {
        wait_for_retry(o, config_.retry_ns);
        return;
      }
      start_round(o, MsgKind::kShare, share_targets(o));
      return;
    }
    case OplockState::kWantToAcquire:
      if (defended(o)) {
        wait_for_retry(o, config_.retry_ns);
        return;
      }
      start_round(o, MsgKind::kAcquire, o.alist);
      return;
    default:
      return;
  }
}

// A non-volatile oplock whose owner was evicted is defended until its
// caretaker released the owner record (the reconciliation done): sharing it
// (or acquiring it, for a DVE that already shares it) must wait.
bool OplockNode::defended(const Oplock& o) const {
  if (!is_non_volatile(o.id.luid)) return false;
  const auto owner = env_.storehouse().owner(o.id);
  return owner && *owner != id_ && env_.storehouse().evicted(*owner);
}

void OplockNode::round_timed_out(const OplockId& id, uint64_t number) {
  Oplock& o = oplock(id);
  Round& r = o.round;
  if (!r.active || r.number != number || r.awaiting.empty()) return;
  r.active = false;
  const std::set<uint32_t> silent = r.awaiting;
  switch (r.kind) {
    case MsgKind::kJoin:
      broadcast_async(MsgKind::kLeave, id, r.targets);
      o.slist.clear();
      break;
    case MsgKind::kShare:
      broadcast_async(MsgKind::kUnshare, id, r.targets);
      break;
    default:
      broadcast_async(MsgKind::kRelease, id, r.targets);
      break;
  }
  evict_silent(o, silent);
  if (!online_) return;
  retry(oplock(id));
}

void OplockNode::evict_silent(Oplock& o, const std::set<uint32_t>& silent) {
  (void)o;
  Storehouse& store = env_.storehouse();
  for (uint32_t victim : silent) {
    auto eviction = store.evict(victim, id_);
    if (!eviction) {
      fence();  // this DVE was evicted itself
      return;
    }
    if (eviction->first) {
      stats_.evictions++;
      // The victim's journals are this DVE's to replay once its lease ran out.
      const uint64_t fenced_at = store.lease_until(victim);
      const uint64_t wait = fenced_at >= env_.now_ns() ? fenced_at + 1 - env_.now_ns() : 0;
      later(wait, [this, victim] { recover_journals_of(victim, {}); });
    }
    for (auto& [id, other] : oplocks_) {
      other->slist.erase(victim);
      other->alist.erase(victim);
    }
  }
}

// --- the CP's requests ---

void OplockNode::share(const OplockId& id, Done done) {
  auto op = std::make_shared<Op>();
  op->ids = {id};
  op->done = std::move(done);
  oplock(id).queue.push_back(op);
  pump(id);
}

void OplockNode::update(std::vector<OplockId> ids, bool restrictive, UpdateFn fn, Done done) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto op = std::make_shared<Op>();
  op->is_update = true;
  op->ids = std::move(ids);
  op->restrictive = restrictive;
  op->fn = std::move(fn);
  op->done = std::move(done);
  if (op->ids.empty()) {
    run_update(op);
    return;
  }
  oplock(op->ids[0]).queue.push_back(op);
  pump(op->ids[0]);
}

void OplockNode::unshare(const OplockId& id) {
  Oplock& o = oplock(id);
  if (o.state != OplockState::kSharing || !o.queue.empty() || o.letting_go) return;
  broadcast_async(MsgKind::kUnshare, id, o.alist);
  o.cache_valid = false;
  if (is_non_volatile(id.luid) && env_.storehouse().owner(id) == id_) {
    env_.storehouse().set_owner(id, std::nullopt);
    env_.storehouse().journal_oplock(id_, {OplockJournalRecord::Kind::kRelease, id, env_.now_ns()});
  }
  o.owner.reset();
  set_state(o, OplockState::kJoined);
}

void OplockNode::leave(const OplockId& id) {
  Oplock& o = oplock(id);
  if (o.state != OplockState::kJoined || !o.queue.empty()) return;
  broadcast_async(MsgKind::kLeave, id, o.slist);
  set_state(o, OplockState::kUninterested);
}

void OplockNode::pump(const OplockId& id) {
  if (!online_) return;
  advance(oplock(id));
}

// Moves the oplock one step toward what the request at the head of its queue
// needs.
void OplockNode::advance(Oplock& o) {
  if (!online_ || o.queue.empty() || o.letting_go || o.round.active || o.waiting_retry) return;
  const auto op = o.queue.front();
  const bool wants_acquire = op->is_update;
  switch (o.state) {
    case OplockState::kBoot:
      return;
    case OplockState::kUninterested:
      o.slist.clear();
      o.alist.clear();
      set_state(o, OplockState::kWantToJoin);
      start_round(o, MsgKind::kJoin, env_.storehouse().jlist());
      return;
    case OplockState::kJoined:
      set_state(o, OplockState::kWantToShare);
      retry(o);
      return;
    case OplockState::kSharing:
      if (wants_acquire) {
        set_state(o, OplockState::kWantToAcquire);
        retry(o);
        return;
      }
      o.queue.pop_front();
      o.last_used_ns = env_.now_ns();
      if (op->done) later(0, op->done);
      advance(o);
      return;
    default:
      return;  // a round or an update is under way
  }
}

void OplockNode::acquired(Oplock& o) {
  set_state(o, OplockState::kAcquired);
  o.cache_valid = true;  // purged and read again if an ack said old dirty
  o.round.purge = false;
  stats_.acquisitions++;
  if (o.owner != id_) {
    o.owner = id_;
    if (is_non_volatile(o.id.luid)) env_.storehouse().set_owner(o.id, id_);
  }
  if (is_non_volatile(o.id.luid))
    env_.storehouse().journal_oplock(id_,
                                     {OplockJournalRecord::Kind::kAcquire, o.id, env_.now_ns()});
  const auto op = o.queue.front();
  op->next++;
  if (op->next < op->ids.size()) {
    const OplockId next = op->ids[op->next];
    oplock(next).queue.push_back(op);
    pump(next);
    return;
  }
  run_update(op);
}

void OplockNode::run_update(const std::shared_ptr<Op>& op) {
  stats_.updates++;
  if (on_update) on_update(*this, op->ids, op->restrictive);
  std::weak_ptr<uint64_t> token = token_;
  const uint64_t incarnation = *token_;
  op->fn([this, op, token, incarnation] {
    auto alive = token.lock();
    if (alive && *alive == incarnation) finish_update(op);
  });
}

void OplockNode::finish_update(const std::shared_ptr<Op>& op) {
  for (const OplockId& id : op->ids) {
    Oplock& o = oplock(id);
    if (!op->restrictive) o.dirty = true;
    if (is_non_volatile(id.luid))
      env_.storehouse().journal_oplock(id_,
                                       {OplockJournalRecord::Kind::kRelease, id, env_.now_ns()});
    std::set<uint32_t> to = o.alist;
    to.insert(o.remembered.begin(), o.remembered.end());
    o.remembered.clear();
    broadcast_async(MsgKind::kRelease, id, to);
    o.last_used_ns = env_.now_ns();
    set_state(o, OplockState::kSharing);
    if (!o.queue.empty() && o.queue.front() == op) o.queue.pop_front();
  }
  if (op->done) later(0, op->done);
  for (const OplockId& id : op->ids)
    pump(id);
}

// --- failure and recovery ---

void OplockNode::recover_journals_of(uint32_t victim, Done done) {
  (void)victim;  // its journals, and those it held, are all held here now
  if (!online_) return;
  recover_journals(env_.storehouse().journals_held_by(id_), std::move(done));
}

// Replays the tasks of `journals` (taking them over) and recovers the
// non-volatile oplocks their DVEs own, one at a time; then releases the
// journals held for others.
void OplockNode::recover_journals(const std::vector<uint32_t>& journals, Done done) {
  Storehouse& store = env_.storehouse();
  auto work = std::make_shared<std::vector<std::pair<OplockId, uint32_t>>>();
  for (uint32_t dead : journals) {
    for (const TaskRecord& task : store.tasks(dead)) {
      stats_.tasks_replayed++;
      client_.replay_task(dead, task);
    }
    if (dead != id_) store.adopt_tasks(dead, id_);
    for (const OplockId& id : store.owned_by(dead))
      work->emplace_back(id, dead);
  }
  recover_next(work, 0, std::move(done));
}

void OplockNode::recover_next(std::shared_ptr<std::vector<std::pair<OplockId, uint32_t>>> work,
                              size_t i, Done done) {
  Storehouse& store = env_.storehouse();
  if (i == work->size()) {
    for (uint32_t dead : store.journals_held_by(id_))
      store.release_journal(dead, id_);
    if (done) done();
    return;
  }
  const auto [id, dead] = (*work)[i];
  client_.recover(
      id, dead,
      [this, work, i, done, id = id, dead = dead, token = std::weak_ptr<uint64_t>(token_),
       incarnation = *token_] {
        auto alive = token.lock();
        if (!alive || *alive != incarnation) return;
        Storehouse& store = env_.storehouse();
        if (store.owner(id) == dead) store.set_owner(id, std::nullopt);
        store.journal_oplock(id_, {OplockJournalRecord::Kind::kRecovered, id, env_.now_ns()});
        stats_.recovered++;
        recover_next(work, i + 1, done);
      });
}

void OplockNode::renew_lease() {
  if (!online_) return;
  if (!env_.storehouse().renew_lease(id_, env_.now_ns() + config_.lease_ns)) {
    fence();
    return;
  }
  later(config_.lease_ns / 3, [this] { renew_lease(); });
}

void OplockNode::fence() {
  stats_.fenced++;
  crash();
  client_.fenced();
}

void OplockNode::crash() {
  online_ = false;
  // A fresh token: every timer and callback of the old incarnation is void.
  token_ = std::make_shared<uint64_t>(0);
  for (auto& [id, o] : oplocks_)
    if (o->state != OplockState::kBoot) set_state(*o, OplockState::kBoot);
  oplocks_.clear();
}

void OplockNode::sweep() {
  if (!online_) return;
  for (auto& [id, o] : oplocks_) {
    if (id.luid != Luid::kMirrorWrite || o->state != OplockState::kSharing || !o->queue.empty() ||
        o->letting_go || o->owner != id_ || env_.now_ns() - o->last_used_ns < config_.sweep_age_ns)
      continue;
    const OplockId swept = id;
    o->letting_go = true;
    client_.let_go(swept, true,
                   [this, swept, token = std::weak_ptr<uint64_t>(token_), incarnation = *token_] {
                     auto alive = token.lock();
                     if (!alive || *alive != incarnation) return;
                     Oplock& o = oplock(swept);
                     o.letting_go = false;
                     if (!o.pending_acks.empty()) {
                       // A peer's acquire came meanwhile: answer it as Sharing would.
                       std::vector<DveMessage> acks = std::move(o.pending_acks);
                       o.pending_acks.clear();
                       broadcast_async(MsgKind::kUnshare, swept, o.alist);
                       o.cache_valid = false;
                       o.owner.reset();
                       for (const DveMessage& request : acks)
                         answer(request, MsgKind::kAck, false);
                       set_state(o, OplockState::kJoined);
                       advance(o);
                       return;
                     }
                     stats_.swept++;
                     unshare(swept);
                     advance(o);
                   });
  }
  later(config_.sweep_interval_ns, [this] { sweep(); });
}

// Boot steps 1-7 (the specification's DVE coming on line).
void OplockNode::boot(Done online) {
  crash();
  *token_ = 1;
  probe_members(std::move(online));
}

// Boot step 0 (not the specification's): an evicted DVE comes on line again
// only once every live member of the jlist answers it. The members renew
// their leases, so an evicted DVE that cannot reach them is the one cut off:
// joining, it would evict them for not answering, and be evicted again, in
// turn, for as long as the partition lasts. A member whose lease ran out is
// dead and is not waited for (steps 1-2 deal with it).
void OplockNode::probe_members(Done online) {
  Storehouse& store = env_.storehouse();
  probe_awaiting_.clear();
  if (!store.evicted(id_)) return boot_step(std::move(online));
  for (uint32_t peer : store.jlist()) {
    if (peer != id_ && !store.evicted(peer) && store.lease_until(peer) >= env_.now_ns())
      probe_awaiting_.insert(peer);
  }
  if (probe_awaiting_.empty()) return boot_step(std::move(online));
  const uint64_t number = ++probe_number_;
  probe_done_ = std::move(online);
  for (uint32_t peer : probe_awaiting_)
    send(MsgKind::kProbe, OplockId{}, peer, number);
  later(config_.response_timeout_ns, [this, number] {
    if (number != probe_number_ || probe_awaiting_.empty()) return;
    stats_.probes_unanswered++;
    probe_awaiting_.clear();
    later(config_.boot_wait_ns, [this] { probe_members(std::move(probe_done_)); });
  });
}

void OplockNode::on_probe_ack(const DveMessage& m) {
  if (online_ || m.round != probe_number_ || !probe_awaiting_.erase(m.from)) return;
  if (probe_awaiting_.empty()) boot_step(std::move(probe_done_));
}

void OplockNode::boot_step(Done online) {
  Storehouse& store = env_.storehouse();
  const auto holder = store.journal_holder(id_);
  if (holder && *holder != id_) {
    // 1. Another DVE holds this DVE's journal: wait for it to finish...
    if (store.lease_until(*holder) >= env_.now_ns()) {
      later(config_.boot_wait_ns, [this, online] { boot_step(online); });
      return;
    }
    // 2. ...unless it died too: take the journal back, and the holder's.
    store.reclaim_journal(id_);
  }
  // 3-5. Replay this DVE's own journal (a dirty shutdown leaves tasks and
  // non-volatile oplocks) and every journal inherited, then release those.
  std::vector<uint32_t> journals = store.journals_held_by(id_);
  journals.insert(journals.begin(), id_);
  recover_journals(journals, [this, online] {
    Storehouse& store = env_.storehouse();
    // 6-7. Open this DVE's journal and come on line.
    store.rejoin(id_);
    store.join(id_);
    online_ = true;
    renew_lease();
    later(config_.sweep_interval_ns, [this] { sweep(); });
    for (auto& [id, o] : oplocks_)
      if (o->state == OplockState::kBoot) set_state(*o, OplockState::kUninterested);
    std::vector<OplockId> ids = known_oplocks();
    for (const OplockId& id : ids)
      pump(id);
    if (online) online();
  });
}

}  // namespace splitpath::cp::cluster
