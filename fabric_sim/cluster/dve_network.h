// The coherency network between DVEs (the specification's VI): datagrams
// delivered in simulated time, in order per pair of DVEs, with injectable
// latency, loss and partitions. A lost or cut message is gone; the sender
// learns it only by the missing answer (its round times out and it evicts).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "cp/cluster/dve_message.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/kernel/rng.h"

namespace splitpath::sim {

struct DveNetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t lost = 0;  // dropped by the loss rate
  uint64_t cut = 0;   // dropped by a partition
};

class DveNetwork {
 public:
  using Deliver = std::function<void(const cp::cluster::DveMessage&)>;

  DveNetwork(Kernel& kernel, uint64_t seed, uint64_t latency_ns = 20'000);

  void attach(uint32_t dve, Deliver deliver);
  void send(const cp::cluster::DveMessage& message);

  void set_latency(uint64_t ns) { latency_ns_ = ns; }
  // Each message takes up to this much longer, at random (a pair's messages
  // still arrive in order).
  void set_jitter(uint64_t ns) { jitter_ns_ = ns; }
  // Each message is lost with this probability (parts per million).
  void set_loss_ppm(uint32_t ppm) { loss_ppm_ = ppm; }
  // DVEs in different groups no longer reach each other (in flight too);
  // a DVE in no group reaches no one.
  void partition(std::vector<std::set<uint32_t>> groups);
  void heal() { groups_.clear(); }
  // Cuts `dve` off from every other DVE (or lets it reach them again).
  void set_isolated(uint32_t dve, bool isolated);
  bool reachable(uint32_t from, uint32_t to) const;

  uint64_t latency_ns() const { return latency_ns_; }
  const DveNetworkStats& stats() const { return stats_; }

 private:
  void deliver(uint64_t id);

  Kernel& kernel_;
  Rng rng_;
  uint64_t latency_ns_;
  uint64_t jitter_ns_ = 0;
  uint32_t loss_ppm_ = 0;
  std::vector<std::set<uint32_t>> groups_;
  std::set<uint32_t> isolated_;
  std::map<uint32_t, Deliver> nodes_;
  // Per ordered pair, when its last message arrives: a later one never overtakes.
  std::map<std::pair<uint32_t, uint32_t>, SimTime> last_arrival_;
  std::map<uint64_t, cp::cluster::DveMessage> in_flight_;
  uint64_t next_id_ = 0;
  DveNetworkStats stats_;
};

}  // namespace splitpath::sim
