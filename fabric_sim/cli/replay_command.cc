#include "fabric_sim/cli/replay_command.h"

#include <cstdint>
#include <exception>
#include <iostream>

#include "boost/program_options.hpp"
#include "fabric_sim/replay/replay_engine.h"
#include "fabric_sim/replay/replay_plan.h"
#include "fabric_sim/replay/replay_report.h"
#include "fabric_sim/replay/trace_commands.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "fabric_sim/trace/trace_reader.h"
#include "spdlog/spdlog.h"

namespace po = boost::program_options;
namespace replay = splitpath::sim::replay;

namespace {

constexpr int kExitMismatches = 1;
constexpr int kExitUsage = 2;

const char* const kUsage =
    "usage: splitpath replay TRACE [--topology T.yaml] [--mode timed|fast|closed-loop]\n"
    "                        [--pcap OUT] [--json] [--seed N]\n";

int replay_trace(const std::vector<std::string>& args) {
  po::options_description options("splitpath replay options");
  options.add_options()("help,h", "show this help")(
      "topology", po::value<std::string>(),
      "replay on this fabric (trace ports map by its `replay` section or by WWPN); default: "
      "a fabric built from the trace")(
      "mode", po::value<std::string>()->default_value("timed"),
      "timed (trace times), fast (as fast as the trace's concurrency allows) or closed-loop "
      "(one command per initiator/target/LUN at a time)")(
      "pcap", po::value<std::string>(), "write the replay's frames to FILE (LINKTYPE_FC_2)")(
      "json", "print one JSON object instead of the summary")(
      "seed", po::value<uint64_t>(), "random seed (overrides the topology's; default 1)")(
      "log-level", po::value<std::string>()->default_value("warn"),
      "trace|debug|info|warn|error|off");
  po::options_description hidden;
  hidden.add_options()("trace", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("trace", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "splitpath replay: " << e.what() << "\n" << kUsage << options;
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << kUsage << options;
    return 0;
  }
  if (!vm.count("trace") || vm["trace"].as<std::vector<std::string>>().size() != 1) {
    std::cerr << "splitpath replay: give exactly one TRACE file\n" << kUsage;
    return kExitUsage;
  }
  const auto mode = replay::parse_replay_mode(vm["mode"].as<std::string>());
  if (!mode) {
    std::cerr << "splitpath replay: --mode must be timed, fast or closed-loop (got '"
              << vm["mode"].as<std::string>() << "')\n";
    return kExitUsage;
  }
  spdlog::set_level(spdlog::level::from_str(vm["log-level"].as<std::string>()));

  const std::string path = vm["trace"].as<std::vector<std::string>>().front();
  auto reader = splitpath::sim::trace::TraceReader::open(path);
  if (!reader.ok()) {
    std::cerr << "splitpath replay: " << reader.status().message() << "\n";
    return kExitUsage;
  }
  const replay::TraceCommandStream stream = replay::extract_commands(**reader);

  absl::StatusOr<replay::ReplayPlan> plan;
  if (vm.count("topology")) {
    auto topology = splitpath::sim::load_topology_file(vm["topology"].as<std::string>());
    if (!topology.ok()) {
      std::cerr << "splitpath replay: " << topology.status().message() << "\n";
      return kExitUsage;
    }
    if (vm.count("seed")) topology->seed = vm["seed"].as<uint64_t>();
    plan = replay::plan_onto(stream, *topology);
  } else {
    plan = replay::plan_from_trace(stream, vm.count("seed") ? vm["seed"].as<uint64_t>() : 1);
  }
  if (!plan.ok()) {
    std::cerr << "splitpath replay: " << plan.status().message() << "\n";
    return kExitUsage;
  }
  replay::ReplayOptions replay_options;
  replay_options.mode = *mode;
  if (vm.count("pcap")) replay_options.pcap_path = vm["pcap"].as<std::string>();
  auto result = replay::run_replay(stream, *plan, replay_options);
  if (!result.ok()) {
    std::cerr << "splitpath replay: " << result.status().message() << "\n";
    return kExitUsage;
  }
  const auto report = replay::replay_json(stream, *plan, *result);
  if (vm.count("json")) {
    std::cout << report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << replay::format_replay_summary(report);
  }
  std::cout.flush();
  if (!stream.read_error.ok()) {
    std::cerr << "splitpath replay: warning: " << stream.read_error.message()
              << " (the commands before it are replayed)\n";
  }
  return result->mismatches == 0 ? 0 : kExitMismatches;
}

}  // namespace

int replay_command(const std::vector<std::string>& args) {
  // Nothing below is expected to throw; this keeps a stray exception (an
  // allocation failure, a library surprise) from escaping main.
  try {
    return replay_trace(args);
  } catch (const std::exception& e) {
    std::cerr << "splitpath replay: " << e.what() << "\n";
    return kExitUsage;
  }
}
