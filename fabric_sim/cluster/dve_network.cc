#include "fabric_sim/cluster/dve_network.h"

#include <algorithm>

namespace splitpath::sim {

DveNetwork::DveNetwork(Kernel& kernel, uint64_t seed, uint64_t latency_ns)
    : kernel_(kernel), rng_(Rng::derive(seed, "dve-network")), latency_ns_(latency_ns) {}

void DveNetwork::attach(uint32_t dve, Deliver deliver) {
  nodes_[dve] = std::move(deliver);
}

void DveNetwork::partition(std::vector<std::set<uint32_t>> groups) {
  groups_ = std::move(groups);
}

void DveNetwork::set_isolated(uint32_t dve, bool isolated) {
  if (isolated) {
    isolated_.insert(dve);
  } else {
    isolated_.erase(dve);
  }
}

bool DveNetwork::reachable(uint32_t from, uint32_t to) const {
  if (from != to && (isolated_.count(from) || isolated_.count(to))) return false;
  if (groups_.empty()) return true;
  for (const auto& group : groups_)
    if (group.count(from) != 0) return group.count(to) != 0;
  return false;
}

void DveNetwork::send(const cp::cluster::DveMessage& message) {
  stats_.sent++;
  if (loss_ppm_ != 0 && rng_.uniform(1'000'000) < loss_ppm_) {
    stats_.lost++;
    return;
  }
  SimTime& last = last_arrival_[{message.from, message.to}];
  const SimTime jitter = jitter_ns_ != 0 ? rng_.uniform(jitter_ns_ + 1) : 0;
  const SimTime at = std::max(kernel_.now() + latency_ns_ + jitter, last);
  last = at;
  const uint64_t id = next_id_++;
  in_flight_.emplace(id, message);
  kernel_.schedule_at<&DveNetwork::deliver>(at, this, id);
}

void DveNetwork::deliver(uint64_t id) {
  auto it = in_flight_.find(id);
  const cp::cluster::DveMessage message = it->second;
  in_flight_.erase(it);
  // A partition also cuts what is on the wire when it starts.
  if (!reachable(message.from, message.to)) {
    stats_.cut++;
    return;
  }
  auto node = nodes_.find(message.to);
  if (node == nodes_.end()) return;
  stats_.delivered++;
  node->second(message);
}

}  // namespace splitpath::sim
