#include "fabric_sim/gateway/gateway_setup.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace splitpath::sim {
namespace {

// The WWPNs the gateway initiators take: NAA 2 names, counting from here,
// skipping any the topology uses.
constexpr uint64_t kFirstGatewayWwpn = 0x2000'0000'00cb'0001ULL;

}  // namespace

absl::StatusOr<GatewayPlan> add_gateway_initiators(Topology& topology, uint32_t count,
                                                   bool keep_lun_masking) {
  if (topology.virtual_targets.empty())
    return absl::InvalidArgumentError(
        "the topology has no virtual_targets: there is no virtual volume to serve");
  const std::string& switch_name = topology.virtual_targets.front().switch_name;
  const SwitchConfig* sw = nullptr;
  for (const auto& s : topology.switches)
    if (s.name == switch_name) sw = &s;
  if (sw == nullptr)
    return absl::InvalidArgumentError(fmt::format("no switch named '{}'", switch_name));

  std::set<uint32_t> used_ports;
  std::set<uint64_t> used_wwpns;
  auto use = [&](const PortRef& p) {
    if (p.switch_name == switch_name) used_ports.insert(p.port);
  };
  for (const auto& h : topology.hosts) {
    use(h.attach.port);
    used_wwpns.insert(h.wwpn);
  }
  for (const auto& d : topology.disks) {
    use(d.attach.port);
    used_wwpns.insert(d.wwpn);
    for (const auto& p : d.more_ports) {
      use(p.attach.port);
      used_wwpns.insert(p.wwpn);
    }
  }
  for (const auto& isl : topology.isls) {
    use(isl.a);
    use(isl.b);
  }
  for (const auto& vt : topology.virtual_targets)
    used_wwpns.insert(vt.wwpn);

  GatewayPlan plan;
  std::vector<uint64_t> wwpns;
  uint64_t next_wwpn = kFirstGatewayWwpn;
  uint32_t port = 0;
  for (uint32_t i = 0; i < count; ++i) {
    while (port < sw->ports && used_ports.contains(port))
      ++port;
    if (port >= sw->ports)
      return absl::InvalidArgumentError(fmt::format(
          "switch {} has {} free ports, too few for {} gateway initiators", switch_name, i, count));
    while (used_wwpns.contains(next_wwpn))
      ++next_wwpn;
    HostConfig h;
    h.name = fmt::format("gw{}", i);
    h.wwpn = next_wwpn++;
    h.attach.port = PortRef{switch_name, port++};
    // A gateway initiator runs no job; these size its exchanges and give a
    // command as long as a Linux initiator's default (sd: 30 s) to finish.
    h.workload.queue_depth = 32;
    h.workload.io_timeout_ns = 30 * kNsPerSec;
    h.workload.verify = false;
    wwpns.push_back(h.wwpn);
    plan.initiators.push_back(h.name);
    topology.hosts.push_back(std::move(h));
  }

  if (!topology.zones.empty()) {
    ZoneConfig zone;
    zone.name = "gateway";
    zone.members = wwpns;
    for (const auto& vt : topology.virtual_targets)
      zone.members.push_back(vt.wwpn);
    topology.zones.push_back(std::move(zone));
  }
  if (!keep_lun_masking) {
    for (auto& vt : topology.virtual_targets) {
      for (auto& lun : vt.luns) {
        if (!lun.hosts.empty()) lun.hosts.insert(lun.hosts.end(), wwpns.begin(), wwpns.end());
      }
    }
  }
  // Masking that names the gateway initiators (all, once added) lets them see it.
  auto seen = [&](const auto& lun) {
    return lun.hosts.empty() || (!wwpns.empty() && std::find(lun.hosts.begin(), lun.hosts.end(),
                                                             wwpns.front()) != lun.hosts.end());
  };

  for (const auto& volume : topology.volumes) {
    for (const auto& vt : topology.virtual_targets) {
      bool found = false;
      for (const auto& lun : vt.luns) {
        if (lun.volume != volume.name || !seen(lun)) continue;
        plan.exports.push_back(GatewayExport{volume.name, vt.wwpn, lun.lun, lun.read_only});
        found = true;
        break;
      }
      if (found) break;
    }
  }
  for (const auto& vt : topology.virtual_targets) {
    GatewayTarget t;
    t.name = vt.name;
    t.wwpn = vt.wwpn;
    for (const auto& lun : vt.luns)
      if (seen(lun)) t.luns.push_back(GatewayTarget::Lun{lun.lun, lun.volume, lun.read_only});
    if (!t.luns.empty()) plan.targets.push_back(std::move(t));
  }
  if (plan.exports.empty())
    return absl::InvalidArgumentError("no virtual target presents a volume: nothing to serve");
  return plan;
}

}  // namespace splitpath::sim
