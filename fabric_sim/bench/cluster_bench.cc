#include "fabric_sim/bench/cluster_bench.h"

#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "fabric_sim/cluster/oplock_cluster.h"

namespace splitpath::sim {
namespace {

using cp::cluster::Luid;
using cp::cluster::OplockId;

constexpr OplockId kOplock{1, Luid::kRmap, 0};

absl::StatusOr<ClusterBenchPoint> measure(uint32_t dves) {
  Kernel kernel;
  OplockClusterOptions options;
  options.dves = dves;
  OplockCluster cluster(kernel, options);
  cluster.boot_all();
  for (uint32_t dve = 1; dve < dves; dve++)
    cluster.share(dve, kOplock);
  kernel.run_until(10 * kNsPerMs);
  ClusterBenchPoint p;
  p.dves = dves;
  uint64_t before = cluster.network().stats().sent;
  bool shared = false;
  cluster.share(dves, kOplock, [&] { shared = true; });
  kernel.run_until(20 * kNsPerMs);
  p.join_share_messages = cluster.network().stats().sent - before;

  before = cluster.network().stats().sent;
  const SimTime start = kernel.now();
  SimTime end = 0;
  cluster.update(dves, {kOplock}, true, [&] { end = kernel.now(); });
  kernel.run_until(30 * kNsPerMs);
  p.update_messages = cluster.network().stats().sent - before;
  p.update_sim_us = static_cast<double>(end - start) / 1e3;

  before = cluster.network().stats().sent;
  bool again = false;
  cluster.update(dves, {kOplock}, true, [&] { again = true; });
  kernel.run_until(40 * kNsPerMs);
  p.update_again_messages = cluster.network().stats().sent - before;
  if (!shared || end == 0 || !again || p.update_again_messages != 0 ||
      !cluster.violations().empty())
    return absl::InternalError(
        absl::StrCat("cluster bench with ", dves, " DVEs: the updates did not end cleanly"));
  return p;
}

}  // namespace

absl::StatusOr<ClusterBenchResult> run_cluster_bench(bool quick) {
  ClusterBenchResult r;
  for (uint32_t dves : {2u, 4u, 8u}) {
    auto p = measure(dves);
    if (!p.ok()) return p.status();
    r.points.push_back(*p);
  }
  // Contention: 4 DVEs each updating random chunks of 16 oplocks.
  Kernel kernel;
  OplockClusterOptions options;
  options.dves = 4;
  OplockCluster cluster(kernel, options);
  cluster.boot_all();
  const int per_dve = quick ? 500 : 2000;
  Rng rng = Rng::derive(1, "cluster-bench");
  std::vector<int> left(5, per_dve);
  std::function<void(uint32_t)> next = [&](uint32_t dve) {
    if (left[dve]-- == 0) return;
    cluster.update(dve, {{1, Luid::kRmap, rng.uniform(16)}}, true, [&next, dve] { next(dve); });
  };
  const auto wall_start = std::chrono::steady_clock::now();
  for (uint32_t dve = 1; dve <= 4; dve++)
    next(dve);
  kernel.run_until(1000 * kNsPerSec);
  r.contended_wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  r.contended_updates = cluster.updates_done();
  if (r.contended_updates != 4u * per_dve || !cluster.violations().empty())
    return absl::InternalError("cluster bench: contended updates did not all end cleanly");
  r.contended_messages_per_update = static_cast<double>(cluster.network().stats().sent) /
                                    static_cast<double>(r.contended_updates);
  return r;
}

}  // namespace splitpath::sim
