#include "fabric_sim/cluster/oplock_cluster.h"

#include <fmt/format.h>

#include <utility>

namespace splitpath::sim {

using cp::cluster::OplockId;
using cp::cluster::OplockNode;
using cp::cluster::OplockState;

// A DVE's CP as far as the protocol sees it: draining takes drain_ns,
// reconciling an extent recover_ns, dirty metadata is flushed on demand.
class OplockCluster::Client : public cp::cluster::OplockClient {
 public:
  Client(OplockCluster& cluster, uint32_t dve) : cluster_(cluster), dve_(dve) {}

  void let_go(const OplockId& id, bool restrictive, std::function<void()> done) override {
    (void)id;
    env().schedule(restrictive ? cluster_.options_.drain_ns : 0, std::move(done));
  }
  void flush(const OplockId& id) override {
    for (; dirty[id] != 0; dirty[id]--)
      cluster_.storehouse_.write(id, fmt::format("dve{} dirty", dve_));
  }
  void recover(const OplockId& id, uint32_t dead, std::function<void()> done) override {
    cluster_.recoveries_.push_back({dve_, dead, id});
    env().schedule(cluster_.options_.recover_ns, std::move(done));
  }
  void replay_task(uint32_t dead, const cp::cluster::TaskRecord& task) override {
    cluster_.replayed_.emplace_back(dead, task);
  }
  void fenced() override {
    fences++;
    dirty.clear();
  }

  std::map<OplockId, uint64_t> dirty;  // unrestrictive updates not yet flushed
  uint64_t fences = 0;

 private:
  SimDveEnvironment& env() { return *cluster_.dves_[dve_ - 1].env; }
  OplockCluster& cluster_;
  uint32_t dve_;
};

OplockCluster::OplockCluster(Kernel& kernel, OplockClusterOptions options)
    : kernel_(kernel), options_(options), network_(kernel, options.seed, options.latency_ns) {
  for (uint32_t dve = 1; dve <= options_.dves; dve++) {
    Dve d;
    d.env = std::make_unique<SimDveEnvironment>(kernel_, network_, storehouse_);
    d.client = std::make_unique<Client>(*this, dve);
    d.node = std::make_unique<OplockNode>(dve, *d.env, *d.client, options_.config);
    d.node->on_transition = [this](const OplockNode& node, const OplockId& id, OplockState from,
                                   OplockState to) {
      if (to == OplockState::kSharing && from == OplockState::kWantToShare)
        cached_[{node.id(), id}] = storehouse_.version(id);
      if (to == OplockState::kAcquired) cached_[{node.id(), id}] = storehouse_.version(id);
      check(id);
    };
    d.node->on_update = [this](const OplockNode& node, const std::vector<OplockId>& ids,
                               bool restrictive) { check_update(node, ids, restrictive); };
    cp::cluster::OplockNode* raw = d.node.get();
    network_.attach(dve, [raw](const cp::cluster::DveMessage& m) { raw->receive(m); });
    dves_.push_back(std::move(d));
  }
}

OplockCluster::~OplockCluster() = default;

OplockNode& OplockCluster::node(uint32_t dve) {
  return *dves_.at(dve - 1).node;
}

uint64_t OplockCluster::fenced(uint32_t dve) const {
  return dves_.at(dve - 1).client->fences;
}

void OplockCluster::boot_all() {
  for (auto& d : dves_)
    d.node->boot();
}

void OplockCluster::share(uint32_t dve, const OplockId& id, std::function<void()> done) {
  node(dve).share(id, std::move(done));
}

void OplockCluster::update(uint32_t dve, std::vector<OplockId> ids, bool restrictive,
                           std::function<void()> done) {
  Dve& d = dves_.at(dve - 1);
  auto write = [this, dve, ids, restrictive](std::function<void()> finished) {
    Client& client = *dves_[dve - 1].client;
    for (const OplockId& id : ids) {
      client.flush(id);
      if (restrictive) {
        storehouse_.write(id, fmt::format("dve{} update", dve));
        last_restrictive_[id] = storehouse_.version(id);
        cached_[{dve, id}] = storehouse_.version(id);
      } else {
        client.dirty[id]++;
      }
    }
    dves_[dve - 1].env->schedule(options_.update_ns, std::move(finished));
  };
  d.node->update(std::move(ids), restrictive, write, [this, done = std::move(done)] {
    updates_done_++;
    if (done) done();
  });
}

void OplockCluster::violation(std::string what) {
  if (violations_.size() < 100)
    violations_.push_back(fmt::format("t={}ns: {}", kernel_.now(), std::move(what)));
}

void OplockCluster::check(const OplockId& id) {
  checks_++;
  uint32_t acquired = 0;
  const OplockNode* holder = nullptr;
  for (auto& d : dves_) {
    const OplockNode& n = *d.node;
    if (n.state(id) == OplockState::kAcquired) acquired++, holder = &n;
    auto last = last_restrictive_.find(id);
    if (n.cache_valid(id) && last != last_restrictive_.end() &&
        cached_[{n.id(), id}] < last->second)
      violation(fmt::format("dve{} caches {} version {}, older than the restrictive update to {}",
                            n.id(), cp::cluster::to_string(id), cached_[{n.id(), id}],
                            last->second));
  }
  if (acquired > 1)
    violation(fmt::format("{} DVEs hold {} acquired", acquired, cp::cluster::to_string(id)));
  // While one DVE holds the oplock acquired, no other caches what it changes.
  for (auto& d : dves_)
    if (holder && d.node.get() != holder && d.node->cache_valid(id))
      violation(fmt::format("dve{} caches {} while dve{} holds it acquired", d.node->id(),
                            cp::cluster::to_string(id), holder->id()));
}

void OplockCluster::check_update(const OplockNode& updater, const std::vector<OplockId>& ids,
                                 bool restrictive) {
  for (const OplockId& id : ids) {
    check(id);
    if (updater.state(id) != OplockState::kAcquired)
      violation(fmt::format("dve{} updates {} without holding it", updater.id(),
                            cp::cluster::to_string(id)));
    if (!restrictive) continue;
    for (auto& d : dves_)
      if (d.node.get() != &updater && d.node->cache_valid(id))
        violation(fmt::format("dve{} updates {} restrictively while dve{} caches it", updater.id(),
                              cp::cluster::to_string(id), d.node->id()));
  }
}

uint64_t OplockCluster::messages() const {
  uint64_t total = 0;
  for (const auto& d : dves_)
    total += d.node->stats().messages_sent();
  return total;
}

}  // namespace splitpath::sim
