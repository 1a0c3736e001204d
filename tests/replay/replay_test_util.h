// Helpers for the replay tests: synthetic traces (built with the trace tests'
// frame encoders) and an in-process replay returning the JSON report.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "fabric_sim/replay/replay_engine.h"
#include "fabric_sim/replay/replay_plan.h"
#include "fabric_sim/replay/replay_report.h"
#include "fabric_sim/replay/trace_commands.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "tests/trace/trace_test_util.h"

namespace splitpath::sim::replay::testing {

using namespace splitpath::sim::trace::testing;  // NOLINT(google-build-using-namespace)
using Json = nlohmann::ordered_json;

inline constexpr uint64_t kInitWwpn = 0x1000000000000001ull;
inline constexpr uint64_t kTargetWwpn = 0x5000000000000001ull;
inline constexpr uint64_t kBaseNs = 1700000000ull * 1000000000ull;

// Fabric and port logins naming both WWPNs, at 1 us intervals from kBaseNs.
inline std::vector<Record> login_records() {
  using namespace fc;
  const std::vector<Bytes> f = {
      els_request(FcId{0}, kFabricLoginServer, 0x0001,
                  service_parameters(els_cmd::kFlogi, kInitWwpn)),
      els_reply(kFabricLoginServer, kInit, 0x0001, 0x0101,
                service_parameters(els_cmd::kAcc, 0x2000000000000001ull)),
      els_request(kInit, kTarget, 0x0004, service_parameters(els_cmd::kPlogi, kInitWwpn)),
      els_reply(kTarget, kInit, 0x0004, 0x0201, service_parameters(els_cmd::kAcc, kTargetWwpn)),
  };
  return records(f);
}

// `count` commands alternating READ(10) and WRITE(10) of 8 blocks on LUN 0 at
// LBA 8*i, one every `gap_ns`, each answered GOOD `latency_ns` later with all
// its data. Commands overlap when latency_ns > gap_ns.
inline std::vector<Record> io_records(int count, uint64_t gap_ns, uint64_t latency_ns,
                                      uint64_t start_ns = kBaseNs + 1000000) {
  using namespace fc;
  std::vector<Record> r;
  for (int i = 0; i < count; ++i) {
    const uint16_t ox = static_cast<uint16_t>(0x100 + i);
    const uint16_t rx = static_cast<uint16_t>(0x500 + i);
    const uint64_t t = start_ns + static_cast<uint64_t>(i) * gap_ns;
    const bool write = i % 2 == 1;
    const uint64_t lba = 8ull * static_cast<uint64_t>(i);
    r.push_back({t,
                 fcp_cmnd(kInit, kTarget, ox,
                          make_rw(write ? scsi_op::kWrite10 : scsi_op::kRead10, lba, 8), 4096),
                 0});
    if (write) {
      r.push_back({t + 1000, fcp_xfer_rdy(kTarget, kInit, ox, rx, 0, 4096), 0});
      r.push_back({t + 2000, fcp_data(kInit, kTarget, false, ox, rx, 0, 4096, true), 0});
    } else {
      r.push_back(
          {t + latency_ns - 1000, fcp_data(kTarget, kInit, true, ox, rx, 0, 4096, true), 0});
    }
    r.push_back({t + latency_ns, fcp_rsp(kTarget, kInit, ox, rx, scsi_status::kGood), 0});
  }
  std::stable_sort(r.begin(), r.end(),
                   [](const Record& a, const Record& b) { return a.time_ns < b.time_ns; });
  return r;
}

inline std::vector<Record> session(int count, uint64_t gap_ns, uint64_t latency_ns) {
  std::vector<Record> r = login_records();
  for (Record& x : io_records(count, gap_ns, latency_ns))
    r.push_back(std::move(x));
  return r;
}

struct Replayed {
  TraceCommandStream stream;
  ReplayPlan plan;
  ReplayResult result;
  Json report;
};

// Reads `path`, plans (from the trace, or onto the topology in `yaml`) and replays.
inline Replayed replay_file(const std::string& path, ReplayMode mode, const std::string& yaml = "",
                            const std::string& pcap_out = "") {
  Replayed out;
  auto reader = trace::TraceReader::open(path);
  if (!reader.ok()) {
    ADD_FAILURE() << reader.status().message();
    return out;
  }
  out.stream = extract_commands(**reader);
  if (yaml.empty()) {
    auto plan = plan_from_trace(out.stream, 1);
    if (!plan.ok()) {
      ADD_FAILURE() << plan.status().message();
      return out;
    }
    out.plan = std::move(*plan);
  } else {
    auto topology = parse_topology_yaml(yaml, "replay_test.yaml");
    if (!topology.ok()) {
      ADD_FAILURE() << topology.status().message();
      return out;
    }
    out.plan = plan_onto(out.stream, *topology);
  }
  ReplayOptions options;
  options.mode = mode;
  options.pcap_path = pcap_out;
  auto result = run_replay(out.stream, out.plan, options);
  if (!result.ok()) {
    ADD_FAILURE() << result.status().message();
    return out;
  }
  out.result = std::move(*result);
  out.report = replay_json(out.stream, out.plan, out.result);
  return out;
}

inline bool has_problem(const Json& report, uint64_t frame, const std::string& words) {
  for (const Json& p : report["problems"]["first"]) {
    if (p["frame"] == frame && p["reason"].get<std::string>().find(words) != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace splitpath::sim::replay::testing
