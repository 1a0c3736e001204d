#include "fabric_sim/cli/serve_command.h"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>

#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/program_options.hpp"
#include "fabric_sim/gateway/gateway.h"
#include "fabric_sim/topology/default_scenario.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace po = boost::program_options;

namespace {

constexpr int kExitUsage = 2;

const char* const kUsage =
    "usage: splitpath serve [TOPOLOGY.yaml] [--nbd ADDRESS:PORT] [--iscsi ADDRESS:PORT] [options]\n"
    "\n"
    "Runs the fabric in real time and serves each virtual volume as an NBD export\n"
    "(fixed newstyle) named after the volume, and/or each virtual target as an\n"
    "iSCSI target (iqn.2026-12.io.splitpath:vt-<WWPN>) with its LUNs; each NBD\n"
    "connection or iSCSI session is a simulated initiator whose I/O crosses the\n"
    "switch. Without --nbd or --iscsi it serves NBD on 127.0.0.1:10809. Without\n"
    "TOPOLOGY.yaml it serves the embedded default (volumes vol0 and vol1 behind\n"
    "vt0). Stop it with SIGINT or SIGTERM.\n"
    "Example: splitpath serve --nbd 127.0.0.1:10809 --iscsi 127.0.0.1:3260 &\n"
    "         qemu-io -f raw -c 'write -P 0xab 0 64k' nbd://127.0.0.1:10809/vol1\n"
    "         iscsi-ls -s iscsi://127.0.0.1:3260\n";

// "ADDRESS:PORT" -> address and port; false if malformed.
bool split_endpoint(const std::string& text, std::string* address, uint16_t* port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  uint64_t value = 0;
  for (size_t i = colon + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
    if (value > 65535) return false;
  }
  *address = text.substr(0, colon);
  if (address->size() > 2 && address->front() == '[' && address->back() == ']')
    *address = address->substr(1, address->size() - 2);
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

int serve_command(const std::vector<std::string>& args) {
  po::options_description options("splitpath serve options");
  options.add_options()("help,h", "show this help")(
      "nbd", po::value<std::string>(),
      "serve NBD on ADDRESS:PORT (port 0: an ephemeral port, printed when ready; the default "
      "is 127.0.0.1:10809 when --iscsi is not given either)")(
      "iscsi", po::value<std::string>(),
      "serve iSCSI on ADDRESS:PORT (port 0: an ephemeral port, printed when ready)")(
      "initiators", po::value<uint32_t>()->default_value(4),
      "gateway initiator N_Ports, the most NBD connections and iSCSI sessions served at once")(
      "keep-lun-masking",
      "leave the topology's LUN masking as it is: a LUN masked to named hosts is not served "
      "(by default the gateway initiators join every masking list)")(
      "max-block", po::value<uint32_t>()->default_value(1u << 20),
      "largest NBD read or write in bytes (advertised; larger requests drop the connection)")(
      "seed", po::value<uint64_t>(), "random seed (overrides the topology's)")(
      "exit-after", po::value<double>(), "stop after this many wall-clock seconds")(
      "log-level", po::value<std::string>()->default_value("info"),
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
    std::cerr << "splitpath serve: " << e.what() << "\n" << kUsage << options;
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << options;
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(vm["log-level"].as<std::string>()));

  splitpath::sim::GatewayOptions gateway_options;
  gateway_options.nbd.reset();
  if (vm.count("nbd") || !vm.count("iscsi")) {
    const std::string text = vm.count("nbd") ? vm["nbd"].as<std::string>() : "127.0.0.1:10809";
    gateway_options.nbd.emplace();
    if (!split_endpoint(text, &gateway_options.nbd->address, &gateway_options.nbd->port)) {
      std::cerr << "splitpath serve: --nbd wants ADDRESS:PORT, not '" << text << "'\n";
      return kExitUsage;
    }
  }
  if (vm.count("iscsi")) {
    const std::string text = vm["iscsi"].as<std::string>();
    gateway_options.iscsi.emplace();
    if (!split_endpoint(text, &gateway_options.iscsi->address, &gateway_options.iscsi->port)) {
      std::cerr << "splitpath serve: --iscsi wants ADDRESS:PORT, not '" << text << "'\n";
      return kExitUsage;
    }
  }
  gateway_options.initiators = vm["initiators"].as<uint32_t>();
  gateway_options.keep_lun_masking = vm.count("keep-lun-masking") > 0;
  const uint32_t max_block = vm["max-block"].as<uint32_t>();
  if (gateway_options.nbd) gateway_options.nbd->max_block = max_block;
  if (max_block < 4096) {
    std::cerr << "splitpath serve: --max-block must be at least 4096\n";
    return kExitUsage;
  }

  absl::StatusOr<splitpath::sim::Topology> topology =
      vm.count("topology") ? splitpath::sim::load_topology_file(vm["topology"].as<std::string>())
                           : splitpath::sim::default_topology();
  if (!topology.ok()) {
    std::cerr << "splitpath serve: " << topology.status().message() << "\n";
    return kExitUsage;
  }
  if (vm.count("seed")) topology->seed = vm["seed"].as<uint64_t>();

  auto gateway = splitpath::sim::Gateway::create(*std::move(topology), gateway_options);
  if (!gateway.ok()) {
    std::cerr << "splitpath serve: " << gateway.status().message() << "\n";
    return kExitUsage;
  }
  splitpath::sim::Gateway& g = **gateway;
  boost::asio::signal_set signals(g.io(), SIGINT, SIGTERM);
  signals.async_wait([&g](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("serve: signal {}: stopping", signal);
    g.driver().stop();
  });
  boost::asio::steady_timer exit_timer(g.io());
  if (vm.count("exit-after")) {
    const double seconds = vm["exit-after"].as<double>();
    if (!(seconds > 0 && seconds < 1e7)) {
      std::cerr << "splitpath serve: --exit-after must be a positive number of seconds\n";
      return kExitUsage;
    }
    exit_timer.expires_after(std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
    exit_timer.async_wait([&g](const boost::system::error_code& ec) {
      if (!ec) g.driver().stop();
    });
  }

  if (auto s = g.bring_up(std::chrono::seconds(30)); !s.ok()) {
    if (g.driver().stopped()) return 0;
    std::cerr << "splitpath serve: " << s.message() << "\n";
    return kExitUsage;
  }
  if (g.has_nbd()) {
    std::string exports;
    for (const auto& e : g.pool().plan().exports) {
      auto resolved = g.pool().resolve(0, e.name);
      exports += fmt::format("{}{} ({} bytes{})", exports.empty() ? "" : ", ", e.name,
                             resolved ? resolved->size_bytes : 0, e.read_only ? ", read-only" : "");
    }
    std::cout << fmt::format("serving NBD on {}:{}: exports {}", gateway_options.nbd->address,
                             g.nbd().port(), exports)
              << std::endl;
  }
  if (g.has_iscsi()) {
    std::string targets;
    for (size_t i = 0; i < g.iscsi().targets().size(); ++i) {
      const auto& t = g.iscsi().targets()[i];
      std::string luns;
      for (const auto& l : g.iscsi().target_config(i).luns)
        luns += fmt::format("{}LUN {} {}{}", luns.empty() ? "" : ", ", l.lun, l.volume,
                            l.read_only ? " read-only" : "");
      targets += fmt::format("{}{} ({}: {})", targets.empty() ? "" : ", ", t.iqn, t.alias, luns);
    }
    std::cout << fmt::format("serving iSCSI on {}:{}: targets {}", gateway_options.iscsi->address,
                             g.iscsi().port(), targets)
              << std::endl;
  }
  g.run();
  const double sim_seconds = static_cast<double>(g.fabric().kernel().now()) / 1e9;
  if (g.has_nbd()) {
    g.nbd().close();
    const auto& stats = g.nbd().stats();
    std::cout << fmt::format(
                     "served {} connections ({} refused, {} dropped), {} requests, {} errors; "
                     "{:.3f} simulated seconds",
                     stats.connections, stats.refused, stats.dropped, stats.requests, stats.errors,
                     sim_seconds)
              << std::endl;
  }
  if (g.has_iscsi()) {
    g.iscsi().close();
    const auto& stats = g.iscsi().stats();
    std::cout << fmt::format(
                     "served {} iSCSI connections ({} discovery sessions, {} sessions, {} logins "
                     "refused, {} failed, {} dropped), {} commands, {} not GOOD; {:.3f} simulated "
                     "seconds",
                     stats.connections, stats.discovery_sessions, stats.sessions, stats.refused,
                     stats.login_failures, stats.dropped, stats.commands, stats.not_good,
                     sim_seconds)
              << std::endl;
  }
  return 0;
}
