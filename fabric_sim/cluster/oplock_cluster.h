// A cluster of DVEs running the oplock protocol over a simulated coherency
// network and one global storehouse, with a model of each DVE's metadata
// cache, and the protocol's invariants checked on every state change:
//   - at most one DVE holds an oplock acquired;
//   - while a DVE holds it acquired, no other DVE caches the oplock;
//   - no DVE caches a version older than the last restrictive update.
// Tests, the bench and the torture run drive it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cp/cluster/oplock_node.h"
#include "cp/cluster/storehouse.h"
#include "fabric_sim/cluster/dve_network.h"
#include "fabric_sim/cluster/sim_dve.h"

namespace splitpath::sim {

struct OplockClusterOptions {
  uint32_t dves = 3;
  uint64_t seed = 1;
  uint64_t latency_ns = 20'000;   // per message
  uint64_t drain_ns = 50'000;     // a DVE draining I/O for a restrictive acquire
  uint64_t update_ns = 10'000;    // writing the metadata under the oplocks
  uint64_t recover_ns = 100'000;  // reconciling one extent of a dead DVE
  cp::cluster::OplockConfig config;
};

class OplockCluster {
 public:
  OplockCluster(Kernel& kernel, OplockClusterOptions options);
  ~OplockCluster();

  uint32_t size() const { return static_cast<uint32_t>(dves_.size()); }
  cp::cluster::OplockNode& node(uint32_t dve);
  DveNetwork& network() { return network_; }
  cp::cluster::Storehouse& storehouse() { return storehouse_; }

  // DVE ids are 1..size().
  void boot_all();
  // Writes one new version of every oplock's metadata under the oplocks.
  void update(uint32_t dve, std::vector<cp::cluster::OplockId> ids, bool restrictive,
              std::function<void()> done = {});
  void share(uint32_t dve, const cp::cluster::OplockId& id, std::function<void()> done = {});

  // What the DVEs' CPs were asked to do.
  struct Recovery {
    uint32_t by;
    uint32_t dead;
    cp::cluster::OplockId oplock;
  };
  const std::vector<Recovery>& recoveries() const { return recoveries_; }
  const std::vector<std::pair<uint32_t, cp::cluster::TaskRecord>>& replayed_tasks() const {
    return replayed_;
  }
  uint64_t fenced(uint32_t dve) const;
  uint64_t updates_done() const { return updates_done_; }

  // Invariant checks made, and the violations found (each a sentence).
  uint64_t checks() const { return checks_; }
  const std::vector<std::string>& violations() const { return violations_; }
  // Sum of every DVE's messages sent.
  uint64_t messages() const;

 private:
  class Client;
  struct Dve {
    std::unique_ptr<SimDveEnvironment> env;
    std::unique_ptr<Client> client;
    std::unique_ptr<cp::cluster::OplockNode> node;
  };
  void check(const cp::cluster::OplockId& id);
  void check_update(const cp::cluster::OplockNode& node,
                    const std::vector<cp::cluster::OplockId>& ids, bool restrictive);
  void violation(std::string what);

  Kernel& kernel_;
  OplockClusterOptions options_;
  DveNetwork network_;
  cp::cluster::Storehouse storehouse_;
  std::vector<Dve> dves_;
  // Per DVE, per oplock: the metadata version it caches.
  std::map<std::pair<uint32_t, cp::cluster::OplockId>, uint64_t> cached_;
  std::map<cp::cluster::OplockId, uint64_t> last_restrictive_;
  std::vector<Recovery> recoveries_;
  std::vector<std::pair<uint32_t, cp::cluster::TaskRecord>> replayed_;
  uint64_t updates_done_ = 0;
  uint64_t checks_ = 0;
  std::vector<std::string> violations_;
};

}  // namespace splitpath::sim
