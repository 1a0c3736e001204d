#include "fabric_sim/cluster/sim_dve.h"

#include <utility>

namespace splitpath::sim {

void SimDveEnvironment::schedule(uint64_t delay_ns, std::function<void()> fn) {
  const uint64_t id = next_++;
  scheduled_.emplace(id, std::move(fn));
  kernel_.schedule_in<&SimDveEnvironment::run>(delay_ns, this, id);
}

void SimDveEnvironment::run(uint64_t id) {
  auto it = scheduled_.find(id);
  std::function<void()> fn = std::move(it->second);
  scheduled_.erase(it);
  fn();
}

}  // namespace splitpath::sim
