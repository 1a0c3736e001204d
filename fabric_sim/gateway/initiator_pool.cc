#include "fabric_sim/gateway/initiator_pool.h"

#include <algorithm>
#include <utility>

#include "fabric_sim/run/fabric.h"

namespace splitpath::sim {

InitiatorPool::InitiatorPool(Fabric& fabric, GatewayPlan plan)
    : fabric_(fabric), plan_(std::move(plan)) {
  for (const auto& name : plan_.initiators)
    hosts_.push_back(fabric_.host(name));
  busy_.assign(hosts_.size(), false);
}

absl::Status InitiatorPool::check() const {
  for (Host* h : hosts_)
    if (h == nullptr) return absl::InternalError("a gateway initiator is missing from the fabric");
  return absl::OkStatus();
}

Kernel& InitiatorPool::kernel() {
  return fabric_.kernel();
}

bool InitiatorPool::ready() const {
  for (size_t i = 0; i < hosts_.size(); ++i) {
    if (hosts_[i] == nullptr) return false;
    for (const auto& e : plan_.exports)
      if (!resolve(i, e.name)) return false;
    for (const auto& t : plan_.targets) {
      if (hosts_[i]->target_port(t.wwpn).value == 0) return false;
      for (const auto& l : t.luns)
        if (!lun(i, t.wwpn, l.lun)) return false;
    }
  }
  return true;
}

std::optional<size_t> InitiatorPool::claim() {
  for (size_t i = 0; i < busy_.size(); ++i) {
    if (!busy_[i]) {
      busy_[i] = true;
      return i;
    }
  }
  return std::nullopt;
}

void InitiatorPool::release(size_t index) {
  busy_[index] = false;
}

size_t InitiatorPool::busy() const {
  return static_cast<size_t>(std::count(busy_.begin(), busy_.end(), true));
}

std::optional<ResolvedExport> InitiatorPool::resolve(size_t index, const std::string& name) const {
  for (const auto& e : plan_.exports) {
    if (e.name != name) continue;
    if (auto l = lun(index, e.target_wwpn, e.lun))
      return ResolvedExport{&e, *l, l->blocks * l->block_size};
  }
  return std::nullopt;
}

std::optional<DiscoveredLun> InitiatorPool::lun(size_t index, uint64_t target_wwpn,
                                                uint16_t number) const {
  for (const auto& l : hosts_[index]->luns()) {
    if (l.target_wwpn == target_wwpn && l.lun == number) return l;
  }
  return std::nullopt;
}

}  // namespace splitpath::sim
