// A DVE's environment in the simulation: the kernel's clock and timers, the
// coherency network, the cluster's global storehouse.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "cp/cluster/oplock_node.h"
#include "fabric_sim/cluster/dve_network.h"

namespace splitpath::sim {

class SimDveEnvironment : public cp::cluster::DveEnvironment {
 public:
  SimDveEnvironment(Kernel& kernel, DveNetwork& network, cp::cluster::Storehouse& storehouse)
      : kernel_(kernel), network_(network), storehouse_(storehouse) {}

  uint64_t now_ns() const override { return kernel_.now(); }
  void schedule(uint64_t delay_ns, std::function<void()> fn) override;
  void send(const cp::cluster::DveMessage& message) override { network_.send(message); }
  cp::cluster::Storehouse& storehouse() override { return storehouse_; }

 private:
  void run(uint64_t id);

  Kernel& kernel_;
  DveNetwork& network_;
  cp::cluster::Storehouse& storehouse_;
  std::map<uint64_t, std::function<void()>> scheduled_;
  uint64_t next_ = 0;
};

}  // namespace splitpath::sim
