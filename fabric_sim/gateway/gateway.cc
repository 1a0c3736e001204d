#include "fabric_sim/gateway/gateway.h"

#include <utility>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace splitpath::sim {

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::create(Topology topology,
                                                         const GatewayOptions& options) {
  if (options.initiators == 0)
    return absl::InvalidArgumentError("at least one gateway initiator is needed");
  if (!options.nbd && !options.iscsi)
    return absl::InvalidArgumentError("neither NBD nor iSCSI to serve");
  auto plan = add_gateway_initiators(topology, options.initiators, options.keep_lun_masking);
  if (!plan.ok()) return plan.status();
  auto fabric = Fabric::build(topology, options.fabric);
  if (!fabric.ok()) return fabric.status();
  // The topology's own hosts run no job: the volumes are the clients'.
  for (const auto& h : (*fabric)->hosts())
    h->stop_workload();
  std::unique_ptr<Gateway> gateway(new Gateway(*std::move(fabric), *std::move(plan), options));
  if (gateway->nbd_) {
    if (auto s = gateway->nbd_->listen(); !s.ok()) return s;
  }
  if (gateway->iscsi_) {
    if (auto s = gateway->iscsi_->listen(); !s.ok()) return s;
  }
  return gateway;
}

Gateway::Gateway(std::unique_ptr<Fabric> fabric, GatewayPlan plan, const GatewayOptions& options)
    : fabric_(std::move(fabric)),
      driver_(fabric_->kernel(), io_),
      pool_(std::make_unique<InitiatorPool>(*fabric_, std::move(plan))) {
  if (options.nbd) nbd_ = std::make_unique<NbdServer>(io_, *pool_, *options.nbd);
  if (options.iscsi) iscsi_ = std::make_unique<IscsiServer>(io_, *pool_, *options.iscsi);
}

absl::Status Gateway::bring_up(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool late = false;
  driver_.run_until([&] {
    if (pool_->ready()) return true;
    late = std::chrono::steady_clock::now() > deadline;
    return late;
  });
  if (late)
    return absl::DeadlineExceededError(
        fmt::format("the gateway initiators did not find every exported volume and virtual "
                    "target within {} ms of wall time",
                    timeout.count()));
  if (driver_.stopped()) return absl::CancelledError("stopped before the exports were ready");
  if (nbd_) nbd_->start();
  if (iscsi_) iscsi_->start();
  return absl::OkStatus();
}

}  // namespace splitpath::sim
