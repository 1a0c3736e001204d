// The `splitpath` command.
//
//   splitpath run [TOPOLOGY.yaml] [--seed N] [--duration SECONDS] [--pcap FILE]
//                 [--pcap-ports SW:PORT,...] [--json] [--service YAML ...]
//                 [--replication YAML ...]
//   splitpath default-topology
//   splitpath decode TRACE ...        (decode_command.h)
//   splitpath replay TRACE ...        (replay_command.h)
//   splitpath bench scaling ...       (bench_command.h)
//   splitpath torture ...             (torture_command.h)
//   splitpath serve [TOPOLOGY] [--nbd ADDRESS:PORT] [--iscsi ADDRESS:PORT]  (serve_command.h)
//
// Exit status: 0 on a clean run; 1 when the run found data errors (verify
// errors); 2 for a bad command line, topology file or capture path.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "boost/program_options.hpp"
#include "fabric_sim/cli/bench_command.h"
#include "fabric_sim/cli/decode_command.h"
#include "fabric_sim/cli/replay_command.h"
#include "fabric_sim/cli/serve_command.h"
#include "fabric_sim/cli/torture_command.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/report.h"
#include "fabric_sim/topology/default_scenario.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "fmt/format.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace po = boost::program_options;
using splitpath::sim::Fabric;
using splitpath::sim::FabricOptions;
using splitpath::sim::Topology;

namespace {

constexpr int kExitDataErrors = 1;
constexpr int kExitUsage = 2;

void print_usage(std::ostream& out) {
  out << "usage: splitpath run [TOPOLOGY.yaml] [options]   run a simulation\n"
         "       splitpath decode TRACE [options]          list and summarize an FC trace\n"
         "       splitpath replay TRACE [options]          replay an FC trace on a simulated "
         "fabric\n"
         "       splitpath bench scaling [options]         IOPS as loaded ports grow, FP vs CP\n"
         "       splitpath bench decode [options]          trace decode rate vs tcpdump and "
         "tshark\n"
         "       splitpath torture [options]               randomized faults against invariants\n"
         "       splitpath serve [TOPOLOGY.yaml] [options] serve virtual volumes over NBD/iSCSI in "
         "real time\n"
         "       splitpath default-topology                print the embedded default topology\n"
         "\n"
         "Without TOPOLOGY.yaml, `run` uses the embedded default (2 hosts, 1 switch, 4 disks).\n";
}

int run_command(const std::vector<std::string>& args) {
  po::options_description options("splitpath run options");
  options.add_options()("help,h", "show this help")("seed", po::value<uint64_t>(),
                                                    "random seed (overrides the topology's)")(
      "duration", po::value<double>(), "simulated seconds of workload (overrides the topology's)")(
      "pcap", po::value<std::string>(),
      "write every frame through the switch ports to FILE (LINKTYPE_FC_2)")(
      "pcap-ports", po::value<std::string>(),
      "capture only these ports: SWITCH:PORT[,SWITCH:PORT...]")(
      "json", "print one JSON object instead of the summary")(
      "service", po::value<std::vector<std::string>>()->composing(),
      "schedule a data service as in the topology's `services` list, e.g. "
      "'{at: 2ms, migrate: {volume: v0, disk: d3, to_lba: 0}}' (repeatable)")(
      "replication", po::value<std::vector<std::string>>()->composing(),
      "replicate journaled volumes as in the topology's `replications` list, e.g. "
      "'{name: r0, switch: sw0, volumes: [v0], interval: 2ms, staging: {disk: d9, blocks: "
      "65536}, images: [{volume: v0, disk: d9, lun: 1}]}' (repeatable)")(
      "log-level", po::value<std::string>()->default_value("warn"),
      "trace|debug|info|warn|error|off");
  po::options_description hidden;
  hidden.add_options()("topology", po::value<std::string>());
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("topology", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "splitpath run: " << e.what() << "\n" << options;
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << "usage: splitpath run [TOPOLOGY.yaml] [options]\n" << options;
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(vm["log-level"].as<std::string>()));

  absl::StatusOr<Topology> topology =
      vm.count("topology") ? splitpath::sim::load_topology_file(vm["topology"].as<std::string>())
                           : splitpath::sim::default_topology();
  if (!topology.ok()) {
    std::cerr << "splitpath run: " << topology.status().message() << "\n";
    return kExitUsage;
  }
  if (vm.count("seed")) topology->seed = vm["seed"].as<uint64_t>();
  if (vm.count("service")) {
    const auto& services = vm["service"].as<std::vector<std::string>>();
    for (size_t i = 0; i < services.size(); ++i) {
      std::string text = services[i];
      if (text.find_first_not_of(" \t") == std::string::npos ||
          text[text.find_first_not_of(" \t")] != '{')
        text = "{" + text + "}";
      const absl::Status s =
          splitpath::sim::add_service_yaml(text, fmt::format("--service #{}", i + 1), &*topology);
      if (!s.ok()) {
        std::cerr << "splitpath run: " << s.message() << "\n";
        return kExitUsage;
      }
    }
  }
  if (vm.count("replication")) {
    const auto& replications = vm["replication"].as<std::vector<std::string>>();
    for (size_t i = 0; i < replications.size(); ++i) {
      const absl::Status s = splitpath::sim::add_replication_yaml(
          replications[i], fmt::format("--replication #{}", i + 1), &*topology);
      if (!s.ok()) {
        std::cerr << "splitpath run: " << s.message() << "\n";
        return kExitUsage;
      }
    }
  }
  if (vm.count("duration")) {
    const double seconds = vm["duration"].as<double>();
    if (!(seconds > 0 && seconds < 1e6)) {
      std::cerr << "splitpath run: --duration must be a positive number of seconds\n";
      return kExitUsage;
    }
    topology->duration_ns = static_cast<uint64_t>(seconds * 1e9);
  }
  FabricOptions fabric_options;
  if (vm.count("pcap")) fabric_options.pcap_path = vm["pcap"].as<std::string>();
  if (vm.count("pcap-ports")) {
    for (auto part : absl::StrSplit(vm["pcap-ports"].as<std::string>(), ',', absl::SkipEmpty())) {
      fabric_options.pcap_ports.emplace_back(part.data(), part.size());
    }
  }
  auto fabric = Fabric::build(*topology, fabric_options);
  if (!fabric.ok()) {
    std::cerr << "splitpath run: " << fabric.status().message() << "\n";
    return kExitUsage;
  }
  absl::Status status = (*fabric)->run();
  if (!status.ok()) {
    std::cerr << "splitpath run: " << status.message() << "\n";
    return kExitUsage;
  }
  const auto report = splitpath::sim::make_report(**fabric);
  if (vm.count("json")) {
    std::cout << report.dump() << "\n";
  } else {
    std::cout << splitpath::sim::format_summary(report);
  }
  return report["verify_errors"].get<uint64_t>() == 0 ? 0 : kExitDataErrors;
}

}  // namespace

int main(int argc, char** argv) {
  // Logs go to stderr so that --json output stays machine-readable.
  spdlog::set_default_logger(spdlog::stderr_color_mt("splitpath"));
  if (argc < 2) {
    print_usage(std::cerr);
    return kExitUsage;
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "run") return run_command(args);
  if (command == "decode") return decode_command(args);
  if (command == "replay") return replay_command(args);
  if (command == "bench") return bench_command(args);
  if (command == "torture") return torture_command(args);
  if (command == "serve") return serve_command(args);
  if (command == "default-topology") {
    std::cout << splitpath::sim::default_topology_yaml();
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    print_usage(std::cout);
    return 0;
  }
  std::cerr << "splitpath: unknown command '" << command << "'\n";
  print_usage(std::cerr);
  return kExitUsage;
}
