#include "fabric_sim/run/dves_report.h"

#include "cp/cluster/oplock_node.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/switch_virtualization.h"
#include "fmt/format.h"

namespace splitpath::sim {

nlohmann::ordered_json dves_json(const Fabric& fabric) {
  if (!fabric.dve_network() || !fabric.storehouse()) return nullptr;
  auto out = nlohmann::ordered_json::array();
  for (const auto& sw : fabric.switches()) {
    if (!sw->virtualization()) continue;
    cp::ControlPath& cp = sw->virtualization()->control_path();
    const cp::cluster::OplockNode* dve = cp.dve();
    if (!dve) continue;
    const cp::cluster::OplockStats& s = dve->stats();
    const cp::CpStats& c = cp.stats();
    nlohmann::ordered_json j;
    j["switch"] = sw->name();
    j["dve"] = sw->domain();
    j["state"] = fabric.storehouse()->evicted(sw->domain()) ? "evicted"
                 : dve->online()                            ? "online"
                                                            : "offline";
    j["messages_sent"] = s.messages_sent();
    j["acquisitions"] = s.acquisitions;
    j["silent_rounds"] = s.silent_rounds;
    j["evicted_peers"] = s.evictions;
    j["oplocks_recovered"] = s.recovered;
    j["tasks_replayed"] = s.tasks_replayed;
    j["swept"] = s.swept;
    j["fenced"] = s.fenced;
    j["write_authority_won"] = c.dve_authority_acquired;
    j["write_authority_given_up"] = c.dve_authority_given_up;
    j["reconciled_chunks"] = c.dve_reconciled_chunks;
    j["reconciled_blocks"] = c.dve_reconciled_blocks;
    out.push_back(j);
  }
  return out;
}

std::string format_dves_lines(const nlohmann::ordered_json& dves) {
  std::string out;
  for (const auto& j : dves) {
    out += fmt::format(
        "DVE {} (switch {}): {}, {} messages sent, {} acquisitions ({} without a message), "
        "write authority won {} / given up {}, {} peers evicted, {} chunks reconciled, fenced "
        "{}\n",
        j["dve"].get<int>(), j["switch"].get<std::string>(), j["state"].get<std::string>(),
        j["messages_sent"].get<uint64_t>(), j["acquisitions"].get<uint64_t>(),
        j["silent_rounds"].get<uint64_t>(), j["write_authority_won"].get<uint64_t>(),
        j["write_authority_given_up"].get<uint64_t>(), j["evicted_peers"].get<uint64_t>(),
        j["reconciled_chunks"].get<uint64_t>(), j["fenced"].get<uint64_t>());
  }
  return out;
}

}  // namespace splitpath::sim
