#include "fabric_sim/gateway/gateway.h"

#include <utility>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace splitpath::sim {

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::create(Topology topology,
                                                         const GatewayOptions& options) {
  if (options.initiators == 0)
    return absl::InvalidArgumentError("at least one NBD initiator is needed");
  auto plan = add_gateway_initiators(topology, options.initiators);
  if (!plan.ok()) return plan.status();
  auto fabric = Fabric::build(topology, options.fabric);
  if (!fabric.ok()) return fabric.status();
  // The topology's own hosts run no job: the volumes are the NBD clients'.
  for (const auto& h : (*fabric)->hosts())
    h->stop_workload();
  std::unique_ptr<Gateway> gateway(new Gateway(*std::move(fabric), *std::move(plan), options));
  if (auto s = gateway->server_->listen(); !s.ok()) return s;
  return gateway;
}

Gateway::Gateway(std::unique_ptr<Fabric> fabric, GatewayPlan plan, const GatewayOptions& options)
    : fabric_(std::move(fabric)),
      driver_(fabric_->kernel(), io_),
      server_(std::make_unique<NbdServer>(io_, *fabric_, std::move(plan), options.nbd)) {}

absl::Status Gateway::bring_up(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool late = false;
  driver_.run_until([&] {
    if (server_->ready()) return true;
    late = std::chrono::steady_clock::now() > deadline;
    return late;
  });
  if (late)
    return absl::DeadlineExceededError(fmt::format(
        "the NBD initiators did not find every exported volume within {} ms of wall time",
        timeout.count()));
  if (driver_.stopped()) return absl::CancelledError("stopped before the exports were ready");
  server_->start();
  return absl::OkStatus();
}

}  // namespace splitpath::sim
