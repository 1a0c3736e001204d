#include "fabric_sim/cli/torture_command.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <random>

#include "boost/program_options.hpp"
#include "fabric_sim/torture/scenario.h"
#include "fabric_sim/torture/torture_report.h"
#include "fabric_sim/torture/torture_run.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace po = boost::program_options;
using namespace splitpath::sim::torture;

namespace {

constexpr int kExitViolation = 1;
constexpr int kExitUsage = 2;

bool set_broken(const std::string& name, BrokenMechanisms* b) {
  if (name == "drain") {
    b->skip_drain = true;
  } else if (name == "fp-revocation") {
    b->fp_ignores_revocation = true;
  } else if (name == "disk-ordering") {
    b->disk_late_writes = true;

  } else {
    return false;
  }
  return true;
}

// Runs the failing seed again with the capture and the event log, and says
// whether the same violation came back (the run is deterministic).
void replay_failure(const TortureOptions& base, const TortureRunResult& failed,
                    const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    std::cerr << "torture: --out-dir " << out_dir << ": " << ec.message() << "\n";
    return;
  }
  TortureOptions again = base;
  again.seed = failed.seed;
  again.pcap_path = fmt::format("{}/torture-{}.pcap", out_dir, failed.seed);
  again.event_log_path = fmt::format("{}/torture-{}.log", out_dir, failed.seed);
  auto replay = run_torture(again);
  if (!replay.ok()) {
    std::cerr << "torture: replay of seed " << failed.seed << " failed: " << replay.status()
              << "\n";
    return;
  }
  const bool same = !replay->violations.empty() &&
                    replay->violations.front().summary == failed.violations.front().summary;
  std::cerr << fmt::format("torture: wrote {} and {}; the replay {}\n", again.pcap_path,
                           again.event_log_path,
                           same ? "reproduced the violation exactly"
                                : "did NOT reproduce the violation (a determinism bug)");
}

}  // namespace

int torture_command(const std::vector<std::string>& args) {
  po::options_description options("splitpath torture options");
  options.add_options()("help,h", "show this help")("seed", po::value<uint64_t>(),
                                                    "first seed (default: fresh random seeds)")(
      "runs", po::value<uint64_t>()->default_value(1), "number of runs")(
      "ops", po::value<uint64_t>()->default_value(20000), "host I/Os per run")(
      "json", "print one JSON object: runs and totals")(
      "describe", "print each seed's scenario (topology, workloads, faults) instead of running it")(
      "break", po::value<std::string>(),
      "disable a mechanism to show the checkers notice: drain | fp-revocation | disk-ordering")(
      "all-faults", "enable every fault kind (instead of a random subset per run)")(
      "without", po::value<std::string>(),
      "never enable these fault kinds: KIND[,KIND...] (disk_failure, medium_error, "
      "host_link_loss, disk_link_loss, isl_loss, slow_disk, range_move, flag_change, "
      "table_pressure, slow_links, migration, snapshot, incremental, vseg_split, mirror_side, "
      "replication, dve_cluster, shared_mirror)")(
      "out-dir", po::value<std::string>()->default_value("."),
      "where a failing seed's capture and event log go")("pcap", po::value<std::string>(),
                                                         "capture of the (single) run")(
      "event-log", po::value<std::string>(), "event log of the (single) run")(
      "log-level", po::value<std::string>()->default_value("off"),
      "trace|debug|info|warn|error|off");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "splitpath torture: " << e.what() << "\n" << options;
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << "usage: splitpath torture [options]\n" << options;
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(vm["log-level"].as<std::string>()));
  TortureOptions base;
  base.ops = vm["ops"].as<uint64_t>();
  const uint64_t runs = vm["runs"].as<uint64_t>();
  if (base.ops == 0 || runs == 0) {
    std::cerr << "splitpath torture: --ops and --runs must be positive\n";
    return kExitUsage;
  }
  if (vm.count("break") && !set_broken(vm["break"].as<std::string>(), &base.broken)) {
    std::cerr << "splitpath torture: --break takes drain, fp-revocation or disk-ordering\n";
    return kExitUsage;
  }
  if ((vm.count("pcap") || vm.count("event-log")) && runs != 1) {
    std::cerr << "splitpath torture: --pcap and --event-log need a single run\n";
    return kExitUsage;
  }
  if (vm.count("pcap")) base.pcap_path = vm["pcap"].as<std::string>();
  if (vm.count("event-log")) base.event_log_path = vm["event-log"].as<std::string>();
  base.all_fault_kinds = vm.count("all-faults") > 0;
  if (vm.count("without")) {
    std::string list = vm["without"].as<std::string>();
    size_t start = 0;
    while (start <= list.size()) {
      const size_t comma = std::min(list.find(',', start), list.size());
      const std::string name = list.substr(start, comma - start);
      FaultKind kind;
      if (!name.empty() && !parse_fault_kind(name, &kind)) {
        std::cerr << "splitpath torture: --without: no fault kind '" << name << "'\n";
        return kExitUsage;
      }
      if (!name.empty()) base.without_kinds.push_back(name);
      start = comma + 1;
    }
  }
  const bool json = vm.count("json") > 0;
  const bool fresh = vm.count("seed") == 0;
  std::random_device device;
  uint64_t next_seed = fresh ? 0 : vm["seed"].as<uint64_t>();

  CampaignTotals totals;
  auto runs_json = nlohmann::ordered_json::array();
  int status = 0;
  for (uint64_t i = 0; i < runs; ++i) {
    TortureOptions o = base;
    o.seed = fresh ? (uint64_t{device()} << 32 | device()) : next_seed++;
    if (vm.count("describe")) {
      std::cout << describe_scenario(
          generate_scenario(o.seed, o.ops, o.all_fault_kinds, o.without_kinds));
      continue;
    }
    auto r = run_torture(o);
    if (!r.ok()) {
      std::cerr << "splitpath torture: seed " << o.seed << ": " << r.status().message() << "\n";
      return kExitUsage;
    }
    totals.add(*r);
    if (json) {
      runs_json.push_back(run_json(*r));
    } else {
      std::cout << run_line(*r) << std::flush;
    }
    if (!r->violations.empty()) {
      std::cerr << violation_text(*r);
      if (base.pcap_path.empty() && base.event_log_path.empty())
        replay_failure(base, *r, vm["out-dir"].as<std::string>());
      status = kExitViolation;
      break;
    }
  }
  if (vm.count("describe")) return 0;
  if (json) {
    nlohmann::ordered_json out;
    out["runs"] = runs_json;
    out["totals"] = totals_json(totals);
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << totals_line(totals);
  }
  return status;
}
