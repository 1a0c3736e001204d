#include "fabric_sim/replay/replay_plan.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/status/status.h"
#include "fabric_sim/topology/wwn.h"
#include "fmt/format.h"

namespace splitpath::sim::replay {

namespace {

constexpr uint32_t kMaxSwitchPorts = 256;
constexpr uint32_t kMaxQueueDepth = 1024;
constexpr uint64_t kInitiatorWwpnBase = 0x1000000000000000ull;
constexpr uint64_t kTargetWwpnBase = 0x5000000000000000ull;

// A WWPN for a port the trace names only by N_Port ID, unused by any other port.
uint64_t made_wwpn(uint64_t base, fc::FcId id, std::set<uint64_t>& taken) {
  uint64_t wwpn = base | id.value;
  while (taken.count(wwpn))
    wwpn += 1ull << 24;
  taken.insert(wwpn);
  return wwpn;
}

// The largest per-ITL concurrency of each initiator: its hosts' slots.
std::map<uint32_t, uint32_t> initiator_depth(const TraceCommandStream& stream) {
  std::map<uint32_t, uint32_t> depth;
  for (const auto& [itl, n] : trace_concurrency(stream)) {
    uint32_t& d = depth[std::get<0>(itl)];
    d = std::max(d, n);
  }
  return depth;
}

uint64_t commands_of(const TraceCommandStream& stream, fc::FcId id, bool initiator) {
  return static_cast<uint64_t>(std::count_if(
      stream.commands.begin(), stream.commands.end(),
      [&](const TraceCommand& c) { return (initiator ? c.initiator : c.target) == id; }));
}

struct TargetLoad {
  uint32_t concurrency = 0;  // summed over its ITLs
  uint64_t mb_per_s = 0;     // its data bytes over the trace's command span
};

TargetLoad target_load(const TraceCommandStream& stream, fc::FcId target) {
  TargetLoad load;
  for (const auto& [itl, n] : trace_concurrency(stream)) {
    if (std::get<1>(itl) == target.value) load.concurrency += n;
  }
  uint64_t bytes = 0;
  uint64_t first = UINT64_MAX;
  uint64_t last = 0;
  for (const TraceCommand& c : stream.commands) {
    first = std::min(first, c.time_ns);
    last = std::max(last, c.time_ns + c.latency_ns.value_or(0));
    if (c.target == target) bytes += c.data_in + c.data_out_bytes;
  }
  const uint64_t span_us = last > first ? (last - first) / 1000 : 0;
  load.mb_per_s = span_us ? bytes / span_us : 0;  // bytes per microsecond = MB/s
  return load;
}

bool matches(const TraceAddress& a, fc::FcId id, uint64_t wwpn) {
  return a.is_wwpn ? (wwpn != 0 && a.value == wwpn) : a.value == id.value;
}

// The LUN masking the trace shows for the disk `d` built for trace target
// `target`, from its REPORT LUNS answers (TraceCommandStream::report_luns). Only
// when every initiator with an answer got its whole list: a LUN listed to some
// of them and not to others may be seen by those it was listed to, and by the
// initiators that address the target without any REPORT LUNS answer in the
// trace (nothing says they were masked, so they are not). A LUN never listed,
// or listed to all, stays unmasked, as does every LUN of a target without
// REPORT LUNS data. Also adds the LUNs the answers list that no command
// addressed, so that the replayed REPORT LUNS lists the same LUNs.
void infer_lun_masking(const TraceCommandStream& stream, fc::FcId target,
                       const std::map<uint32_t, uint64_t>& host_wwpns, DiskConfig& d) {
  std::vector<std::pair<uint32_t, const ReportedLuns*>> reports;  // by initiator
  for (const auto& [key, r] : stream.report_luns) {
    if (key.first != target.value) continue;
    if (!r.complete) return;
    reports.emplace_back(key.second, &r);
  }
  if (reports.empty()) return;
  std::set<uint16_t> listed;
  for (const auto& [initiator, r] : reports)
    listed.insert(r->luns.begin(), r->luns.end());
  for (uint16_t number : listed) {
    const bool present = std::any_of(d.luns.begin(), d.luns.end(),
                                     [&](const LunConfig& l) { return l.lun == number; });
    if (!present) d.luns.push_back(LunConfig{number, kDefaultLunBlocks, 512, {}});
  }
  std::sort(d.luns.begin(), d.luns.end(),
            [](const LunConfig& a, const LunConfig& b) { return a.lun < b.lun; });
  // Initiators of this target without a REPORT LUNS answer, in first-seen order.
  std::vector<uint32_t> unreported;
  for (fc::FcId i : stream.initiators()) {
    const bool addresses =
        std::any_of(stream.commands.begin(), stream.commands.end(),
                    [&](const TraceCommand& c) { return c.initiator == i && c.target == target; });
    if (addresses && !stream.report_luns.contains({target.value, i.value}))
      unreported.push_back(i.value);
  }
  auto wwpn_of = [&](uint32_t id) {
    auto it = host_wwpns.find(id);
    return it == host_wwpns.end() ? 0 : it->second;
  };
  for (LunConfig& lun : d.luns) {
    std::vector<uint64_t> allowed;
    for (const auto& [initiator, r] : reports) {
      if (r->luns.contains(lun.lun)) allowed.push_back(wwpn_of(initiator));
    }
    if (allowed.empty() || allowed.size() == reports.size()) continue;
    for (uint32_t id : unreported)
      allowed.push_back(wwpn_of(id));
    std::erase(allowed, uint64_t{0});  // not a host of the plan (also a target): cannot be masked
    lun.initiators = std::move(allowed);
  }
}

void raise_queue_depth(HostConfig& host, uint32_t depth) {
  host.workload.queue_depth = std::min(kMaxQueueDepth, std::max(host.workload.queue_depth, depth));
  // The job never runs; its block size must only fit every LUN the host finds.
  host.workload.block_size = 4096;
  host.workload.lba_start = 0;
  host.workload.lba_count = 0;
  host.workload.rate_iops = 0;
}

}  // namespace

std::string format_port_id(fc::FcId id) {
  return fmt::format("{:02x}.{:02x}.{:02x}", (id.value >> 16) & 0xFF, (id.value >> 8) & 0xFF,
                     id.value & 0xFF);
}

std::map<std::tuple<uint32_t, uint32_t, uint16_t>, uint32_t> trace_concurrency(
    const TraceCommandStream& stream) {
  // Sweep the (time, +1 start / -1 end) events of each ITL; at equal times ends
  // come first, so back-to-back commands do not count as overlapping.
  std::map<std::tuple<uint32_t, uint32_t, uint16_t>, std::vector<std::pair<uint64_t, int>>> events;
  for (const TraceCommand& c : stream.commands) {
    auto& e = events[{c.initiator.value, c.target.value, c.lun}];
    e.emplace_back(c.time_ns, +1);
    if (c.latency_ns) e.emplace_back(c.time_ns + *c.latency_ns, -1);
  }
  std::map<std::tuple<uint32_t, uint32_t, uint16_t>, uint32_t> out;
  for (auto& [itl, e] : events) {
    std::sort(e.begin(), e.end());
    int64_t now = 0;
    int64_t most = 1;
    for (const auto& [t, delta] : e) {
      now += delta;
      most = std::max(most, now);
    }
    // Unanswered commands never end: cap what they add at what was seen answered.
    out[itl] = static_cast<uint32_t>(std::min<int64_t>(most, kMaxQueueDepth));
  }
  return out;
}

absl::StatusOr<ReplayPlan> plan_from_trace(const TraceCommandStream& stream, uint64_t seed) {
  const std::vector<fc::FcId> initiators = stream.initiators();
  std::vector<fc::FcId> targets;
  for (fc::FcId t : stream.targets()) {
    // A port that also originates commands is replayed as an initiator only.
    if (std::find(initiators.begin(), initiators.end(), t) == initiators.end())
      targets.push_back(t);
  }
  const size_t ports = initiators.size() + targets.size();
  if (ports > kMaxSwitchPorts) {
    return absl::InvalidArgumentError(
        fmt::format("{}: the trace has {} ports, more than one simulated switch holds ({})",
                    stream.file, ports, kMaxSwitchPorts));
  }
  ReplayPlan plan;
  plan.built_from_trace = true;
  Topology& t = plan.topology;
  t.source = fmt::format("<built from {}>", stream.file);
  t.seed = seed;
  t.switches.push_back(
      SwitchConfig{"sw0", 1, static_cast<uint32_t>(std::max<size_t>(ports, 1)), 700});
  std::set<uint64_t> taken;
  for (const auto& [id, wwpn] : stream.wwpns)
    taken.insert(wwpn);
  const auto depth = initiator_depth(stream);
  std::map<uint32_t, uint64_t> host_wwpns;  // trace initiator N_Port ID -> its host's WWPN
  uint32_t port = 0;
  for (size_t i = 0; i < initiators.size(); ++i) {
    const fc::FcId id = initiators[i];
    HostConfig h;
    h.name = fmt::format("init{}", i);
    h.wwpn = stream.wwpn_of(id);
    if (h.wwpn == 0) h.wwpn = made_wwpn(kInitiatorWwpnBase, id, taken);
    h.attach.port = PortRef{"sw0", port++};
    auto d = depth.find(id.value);
    raise_queue_depth(h, d == depth.end() ? 1 : d->second);
    plan.hosts[id.value] = h.name;
    host_wwpns[id.value] = h.wwpn;
    t.hosts.push_back(h);
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    const fc::FcId id = targets[i];
    DiskConfig d;
    d.name = fmt::format("tgt{}", i);
    d.wwpn = stream.wwpn_of(id);
    if (d.wwpn == 0) d.wwpn = made_wwpn(kTargetWwpnBase, id, taken);
    d.attach.port = PortRef{"sw0", port++};
    for (const auto& [key, extent] : stream.luns) {
      if (key.first != id.value) continue;
      LunConfig lun;
      lun.lun = key.second;
      lun.block_size = extent.block_size == 4096 ? 4096 : 512;
      lun.blocks = extent.capacity_blocks ? std::max(extent.capacity_blocks, extent.end_lba)
                                          : std::max(extent.end_lba, kDefaultLunBlocks);
      d.luns.push_back(lun);
    }
    infer_lun_masking(stream, id, host_wwpns, d);
    if (d.luns.empty()) d.luns.push_back(LunConfig{0, kDefaultLunBlocks, 512, {}});
    // The trace shows what the target sustained, not how: the disk gets room for
    // all the trace's concurrency and four times its data rate, so that it is
    // not a bottleneck the traced target did not have (TASK SET FULL, queueing).
    const TargetLoad load = target_load(stream, id);
    d.queue_depth =
        std::min(kMaxQueueDepth, std::max<uint32_t>(d.queue_depth, 2 * load.concurrency));
    d.bandwidth_mb_s = std::max<uint64_t>(d.bandwidth_mb_s, 4 * load.mb_per_s);
    plan.targets[id.value] = PlannedTarget{d.name, d.wwpn, {}};
    t.disks.push_back(d);
  }
  return plan;
}

ReplayPlan plan_onto(const TraceCommandStream& stream, Topology topology) {
  ReplayPlan plan;
  plan.topology = std::move(topology);
  Topology& t = plan.topology;
  const auto depth = initiator_depth(stream);
  for (fc::FcId id : stream.initiators()) {
    const uint64_t wwpn = stream.wwpn_of(id);
    std::string host;
    for (const ReplayInitiatorMap& m : t.replay.initiators) {
      if (host.empty() && matches(m.trace, id, wwpn)) host = m.host;
    }
    for (const HostConfig& h : t.hosts) {
      if (host.empty() && wwpn != 0 && h.wwpn == wwpn) host = h.name;
    }
    if (host.empty()) {
      plan.notes.push_back(fmt::format(
          "initiator {} (WWPN {}) maps to no host of {}: its {} commands are not replayed",
          format_port_id(id), wwpn ? format_wwn(wwpn) : "unknown", t.source,
          commands_of(stream, id, true)));
      continue;
    }
    plan.hosts[id.value] = host;
    for (HostConfig& h : t.hosts) {
      auto d = depth.find(id.value);
      if (h.name == host) raise_queue_depth(h, d == depth.end() ? 1 : d->second);
    }
  }
  for (fc::FcId id : stream.targets()) {
    const uint64_t wwpn = stream.wwpn_of(id);
    PlannedTarget target;
    for (const ReplayTargetMap& m : t.replay.targets) {
      if (!target.name.empty() || !matches(m.trace, id, wwpn)) continue;
      target.name = m.target;
      for (const ReplayLunMap& l : m.luns)
        target.luns[l.trace_lun] = l.lun;
    }
    for (const DiskConfig& d : t.disks) {
      if (target.name.empty() ? (wwpn != 0 && d.wwpn == wwpn) : d.name == target.name) {
        target.name = d.name;
        target.wwpn = d.wwpn;
      }
    }
    for (const VirtualTargetConfig& vt : t.virtual_targets) {
      if (target.name.empty() ? (wwpn != 0 && vt.wwpn == wwpn) : vt.name == target.name) {
        target.name = vt.name;
        target.wwpn = vt.wwpn;
      }
    }
    if (target.wwpn == 0) {
      plan.notes.push_back(fmt::format(
          "target {} (WWPN {}) maps to no disk or virtual target of {}: its {} commands are "
          "not replayed",
          format_port_id(id), wwpn ? format_wwn(wwpn) : "unknown", t.source,
          commands_of(stream, id, false)));
      continue;
    }
    plan.targets[id.value] = target;
  }
  return plan;
}

}  // namespace splitpath::sim::replay
