#include "fabric_sim/replay/replay_engine.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "fabric_sim/node/host.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/wwn.h"
#include "fmt/format.h"
#include "splitpath/fc/scsi_cdb.h"

namespace splitpath::sim::replay {

namespace {

constexpr SimTime kPollNs = 50 * kNsPerUs;  // login polling step
constexpr SimTime kStepNs = 10 * kNsPerMs;  // main loop step; completions end it early
// With nothing sent or completed for this long (and no command of a timed replay
// still to come), the replay gives up on what it could not send: e.g. a topology
// fault took a host's link down for good.
constexpr SimTime kStallNs = 10 * kNsPerSec;
// Larger transfers are not replayed: a corrupt FCP_DL must not size a buffer.
constexpr uint32_t kMaxReplayTransfer = kMaxBufferedWrite;

std::string status_text(uint8_t status) {
  switch (status) {
    case 0x00:
      return "0x00 GOOD";
    case 0x02:
      return "0x02 CHECK CONDITION";
    case 0x08:
      return "0x08 BUSY";
    case 0x18:
      return "0x18 RESERVATION CONFLICT";
    case 0x28:
      return "0x28 TASK SET FULL";
    default:
      return fmt::format("{:#04x}", status);
  }
}

// "0x02 CHECK CONDITION (sense 5/24/00)": the status, with the sense when known.
std::string outcome_text(uint8_t status, std::optional<uint8_t> key, std::optional<uint8_t> asc,
                         std::optional<uint8_t> ascq) {
  if (status != 0x02 || !key) return status_text(status);
  return fmt::format("{} (sense {:x}/{:02x}/{:02x})", status_text(status), *key, asc.value_or(0),
                     ascq.value_or(0));
}

// The replay of one run. Kernel events call back into it, so it stays put.
class Engine {
 public:
  Engine(const TraceCommandStream& stream, const ReplayPlan& plan, const ReplayOptions& options,
         Fabric& fabric, ReplayResult& result)
      : stream_(stream), plan_(plan), options_(options), fabric_(fabric), result_(result) {}

  void run();
  void on_due(uint64_t command) {
    Queue& q = queues_[queue_of_[command]];
    q.ready.push_back(command);
    pump(queue_of_[command]);
  }

 private:
  struct Queue {
    Host* host = nullptr;
    fc::FcId target;   // simulated N_Port ID
    uint16_t lun = 0;  // simulated LUN
    uint32_t limit = UINT32_MAX;
    uint32_t in_flight = 0;
    std::deque<size_t> ready;  // commands due, in trace order
    bool blocked = false;      // waiting for a free slot of its host
  };

  void await_logins();
  void assign_queues();
  void pump(size_t q);
  void on_done(size_t command, const ScsiResult& r);
  void compare(const TraceCommand& c, CommandOutcome& o);
  std::vector<uint8_t> data_out(size_t index) const;

  const TraceCommandStream& stream_;
  const ReplayPlan& plan_;
  const ReplayOptions& options_;
  Fabric& fabric_;
  ReplayResult& result_;
  std::vector<Queue> queues_;
  std::vector<size_t> queue_of_;                  // per command; SIZE_MAX when not replayed
  std::map<Host*, std::vector<size_t>> waiting_;  // blocked queues per host
  std::vector<SimTime> issued_abs_;
  uint64_t to_finish_ = 0;
  uint64_t finished_ = 0;
  SimTime last_done_ = 0;
  SimTime last_progress_ = 0;  // last command sent or completed
};

void Engine::await_logins() {
  // Every (host, target WWPN) pair some command needs.
  std::set<std::pair<Host*, uint64_t>> pairs;
  for (const TraceCommand& c : stream_.commands) {
    auto h = plan_.hosts.find(c.initiator.value);
    auto t = plan_.targets.find(c.target.value);
    if (h == plan_.hosts.end() || t == plan_.targets.end()) continue;
    if (Host* host = fabric_.host(h->second)) pairs.insert({host, t->second.wwpn});
  }
  Kernel& k = fabric_.kernel();
  const SimTime deadline = k.now() + options_.ready_ns;
  for (;;) {
    const bool all = std::all_of(pairs.begin(), pairs.end(), [](const auto& p) {
      return p.first->target_port(p.second).value != 0;
    });
    if (all || k.now() >= deadline) break;
    k.run_until(k.now() + kPollNs);
  }
  k.run_until(k.now() + options_.settle_ns);
}

void Engine::assign_queues() {
  std::map<std::tuple<std::string, uint64_t, uint16_t>, size_t> index;
  const auto concurrency = trace_concurrency(stream_);
  queue_of_.assign(stream_.commands.size(), SIZE_MAX);
  for (size_t i = 0; i < stream_.commands.size(); ++i) {
    const TraceCommand& c = stream_.commands[i];
    CommandOutcome& o = result_.outcomes[i];
    auto h = plan_.hosts.find(c.initiator.value);
    auto t = plan_.targets.find(c.target.value);
    if (h == plan_.hosts.end()) {
      o.skipped = fmt::format("initiator {} is not mapped", format_port_id(c.initiator));
      continue;
    }
    if (t == plan_.targets.end()) {
      o.skipped = fmt::format("target {} is not mapped", format_port_id(c.target));
      continue;
    }
    Host* host = fabric_.host(h->second);
    const fc::FcId target = host ? host->target_port(t->second.wwpn) : fc::FcId{0};
    if (target.value == 0) {
      o.skipped = fmt::format("{} never logged in to {} ({})", h->second, t->second.name,
                              format_wwn(t->second.wwpn));
      continue;
    }
    if (c.fcp_dl > kMaxReplayTransfer) {
      o.skipped = fmt::format("FCP_DL above {} bytes", kMaxReplayTransfer);
      continue;
    }
    const uint16_t lun = t->second.lun(c.lun);
    auto [it, added] = index.try_emplace({h->second, t->second.wwpn, lun}, queues_.size());
    if (added) {
      Queue q;
      q.host = host;
      q.target = target;
      q.lun = lun;
      if (options_.mode == ReplayMode::kClosedLoop) q.limit = 1;
      if (options_.mode == ReplayMode::kFast) {
        auto n = concurrency.find({c.initiator.value, c.target.value, c.lun});
        q.limit = n == concurrency.end() ? 1 : n->second;
      }
      queues_.push_back(std::move(q));
    }
    queue_of_[i] = it->second;
    ++to_finish_;
  }
}

std::vector<uint8_t> Engine::data_out(size_t index) const {
  const TraceCommand& c = stream_.commands[index];
  if (!c.write_data || c.fcp_dl == 0) return {};
  // The captured bytes, then the pattern for what the trace does not hold.
  std::vector<uint8_t> out = c.data_out;
  const size_t captured = out.size();
  out.resize(c.fcp_dl);
  for (size_t i = captured; i < out.size(); ++i)
    out[i] = static_cast<uint8_t>(index * 131 + i);
  return out;
}

void Engine::pump(size_t qi) {
  Queue& q = queues_[qi];
  while (!q.ready.empty() && q.in_flight < q.limit) {
    const size_t i = q.ready.front();
    const TraceCommand& c = stream_.commands[i];
    const SimTime now = fabric_.kernel().now();
    const bool sent =
        q.host->submit_command(q.target, q.lun, c.cdb, c.read_data ? c.fcp_dl : 0, data_out(i),
                               [this, i](const ScsiResult& r) { on_done(i, r); });
    if (!sent) {
      // No free slot (or the host lost its login): retry when one of its commands ends.
      if (!q.blocked) {
        q.blocked = true;
        waiting_[q.host].push_back(qi);
      }
      return;
    }
    q.ready.pop_front();
    ++q.in_flight;
    issued_abs_[i] = now;
    CommandOutcome& o = result_.outcomes[i];
    o.replayed = true;
    o.issued_at = now - result_.start_ns;
    ++result_.replayed;
    last_progress_ = now;
  }
}

void Engine::on_done(size_t i, const ScsiResult& r) {
  const TraceCommand& c = stream_.commands[i];
  CommandOutcome& o = result_.outcomes[i];
  const SimTime now = fabric_.kernel().now();
  o.done = true;
  o.timed_out = r.timed_out;
  o.status = r.status;
  if (r.has_sense) {
    o.sense_key = r.sense.sense_key;
    o.asc = r.sense.code.asc;
    o.ascq = r.sense.code.ascq;
  }
  o.data_length = c.read_data ? r.data_in.size() : c.write_data ? r.data_out_sent : 0;
  o.latency_ns = now - issued_abs_[i];
  result_.sim_timeouts += r.timed_out;
  compare(c, o);
  last_done_ = std::max(last_done_, now);
  last_progress_ = now;
  ++finished_;
  const size_t qi = queue_of_[i];
  Queue& q = queues_[qi];
  --q.in_flight;
  pump(qi);
  // Queues of this host that found no free slot get another try.
  auto w = waiting_.find(q.host);
  if (w == waiting_.end()) return;
  std::vector<size_t> blocked;
  blocked.swap(w->second);
  for (size_t b : blocked)
    queues_[b].blocked = false;
  for (size_t b : blocked)
    pump(b);
}

void Engine::compare(const TraceCommand& c, CommandOutcome& o) {
  if (!c.answered) {
    ++result_.unanswered;
    return;
  }
  o.compared = true;
  ++result_.compared;
  const uint64_t trace_length = c.read_data ? c.data_in : c.write_data ? c.data_out_bytes : 0;
  const bool trace_lacks_data =
      c.status == 0 && c.fcp_dl > 0 && c.data_in == 0 && c.data_out_bytes == 0;
  if (o.timed_out) {
    o.mismatch =
        fmt::format("timed out in the simulation; the trace has status {}", status_text(c.status));
  } else if (o.status != c.status) {
    o.mismatch = fmt::format("status {} in the simulation, {} in the trace",
                             outcome_text(o.status, o.sense_key, o.asc, o.ascq),
                             outcome_text(c.status, c.sense_key, c.asc, c.ascq));
  } else if (c.status == 0x02 && c.sense_key && o.sense_key && *c.sense_key != *o.sense_key) {
    o.mismatch = fmt::format(
        "sense {:x}/{:02x}/{:02x} in the simulation, {:x}/{:02x}/{:02x} in the trace", *o.sense_key,
        o.asc, o.ascq, *c.sense_key, c.asc.value_or(0), c.ascq.value_or(0));
  } else if (!trace_lacks_data && o.data_length != trace_length) {
    o.mismatch = fmt::format("{} data bytes in the simulation, {} in the trace", o.data_length,
                             trace_length);
  } else {
    result_.trace_latency.record(c.latency_ns.value_or(0));
    result_.sim_latency.record(o.latency_ns);
    return;
  }
  ++result_.mismatches;
  result_.trace_latency.record(c.latency_ns.value_or(0));
  result_.sim_latency.record(o.latency_ns);
}

void Engine::run() {
  result_.outcomes.assign(stream_.commands.size(), CommandOutcome{});
  issued_abs_.assign(stream_.commands.size(), 0);
  for (const auto& h : fabric_.hosts())
    h->stop_workload();
  await_logins();
  assign_queues();
  Kernel& k = fabric_.kernel();
  result_.start_ns = k.now();
  last_done_ = k.now();
  uint64_t first_ns = UINT64_MAX;
  for (const TraceCommand& c : stream_.commands)
    first_ns = std::min(first_ns, c.time_ns);
  for (size_t i = 0; i < stream_.commands.size(); ++i) {
    if (queue_of_[i] == SIZE_MAX) continue;
    if (options_.mode == ReplayMode::kTimed) {
      k.schedule_at<&Engine::on_due>(result_.start_ns + (stream_.commands[i].time_ns - first_ns),
                                     this, i);
    } else {
      queues_[queue_of_[i]].ready.push_back(i);
    }
  }
  for (size_t q = 0; q < queues_.size(); ++q)
    pump(q);
  uint64_t last_due = result_.start_ns;
  for (size_t i = 0; i < stream_.commands.size(); ++i) {
    if (queue_of_[i] != SIZE_MAX && options_.mode == ReplayMode::kTimed)
      last_due = std::max(last_due, result_.start_ns + (stream_.commands[i].time_ns - first_ns));
  }
  last_progress_ = k.now();
  while (finished_ < to_finish_ && k.pending() > 0) {
    k.run_until(k.now() + kStepNs);
    if (k.now() > last_due && k.now() - last_progress_ > kStallNs) break;
  }
  for (size_t i = 0; i < stream_.commands.size(); ++i) {
    CommandOutcome& o = result_.outcomes[i];
    if (queue_of_[i] != SIZE_MAX && !o.replayed) o.skipped = "never sent: the replay stalled";
  }
  result_.duration_ns = last_done_ - result_.start_ns;
}

}  // namespace

const char* replay_mode_name(ReplayMode mode) {
  switch (mode) {
    case ReplayMode::kTimed:
      return "timed";
    case ReplayMode::kFast:
      return "fast";
    case ReplayMode::kClosedLoop:
      return "closed-loop";
  }
  return "?";
}

std::optional<ReplayMode> parse_replay_mode(std::string_view text) {
  for (ReplayMode m : {ReplayMode::kTimed, ReplayMode::kFast, ReplayMode::kClosedLoop}) {
    if (text == replay_mode_name(m)) return m;
  }
  return std::nullopt;
}

absl::StatusOr<ReplayResult> run_replay(const TraceCommandStream& stream, const ReplayPlan& plan,
                                        const ReplayOptions& options) {
  Topology topology = plan.topology;
  // The replay decides when the run ends; Fabric::run() then only drains and
  // closes the capture.
  topology.duration_ns = 0;
  FabricOptions fabric_options;
  fabric_options.pcap_path = options.pcap_path;
  auto fabric = Fabric::build(topology, fabric_options);
  if (!fabric.ok()) return fabric.status();
  ReplayResult result;
  result.mode = options.mode;
  // The engine outlives Fabric::run(): its callbacks sit in the hosts' slots.
  Engine engine(stream, plan, options, **fabric, result);
  engine.run();
  for (const CommandOutcome& o : result.outcomes)
    result.skipped += !o.skipped.empty();
  uint64_t first = UINT64_MAX;
  uint64_t last = 0;
  for (const TraceCommand& c : stream.commands) {
    first = std::min(first, c.time_ns);
    last = std::max(last, c.time_ns + c.latency_ns.value_or(0));
  }
  result.trace_span_ns = first == UINT64_MAX ? 0 : last - first;
  for (const auto& sw : (*fabric)->switches()) {
    SwitchVirtualizationStats v = sw->virtualization_stats();
    if (v.enabled) result.switches.push_back(SwitchReplayStats{sw->name(), std::move(v)});
  }
  if (absl::Status s = (*fabric)->run(); !s.ok()) return s;
  result.captured_frames = (*fabric)->captured_frames();
  return result;
}

}  // namespace splitpath::sim::replay
