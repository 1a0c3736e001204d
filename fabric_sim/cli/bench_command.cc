#include "fabric_sim/cli/bench_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "boost/program_options.hpp"
#include "fabric_sim/bench/bench_figures.h"
#include "fabric_sim/bench/bench_suite.h"
#include "fabric_sim/bench/decode_bench.h"
#include "fabric_sim/bench/instruction_figures.h"
#include "fabric_sim/bench/micro_bench.h"
#include "fabric_sim/bench/scaling_scenario.h"
#include "fabric_sim/bench/svg_plot.h"
#include "fmt/format.h"

namespace po = boost::program_options;

namespace {

constexpr int kExitErrors = 1;
constexpr int kExitUsage = 2;

bool parse_ports(const std::string& text, std::vector<uint32_t>* out) {
  for (auto part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    uint32_t n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 1 || n > 128) return false;
    out->push_back(n);
  }
  return !out->empty();
}

// `splitpath bench decode [--frames N] [--blocks N] [--keep FILE] [--seed N]`: the decoder
// against tcpdump and tshark on one generated capture (decode_bench.h).
int decode_bench_command(const std::vector<std::string>& args) {
  po::options_description options("splitpath bench decode options");
  options.add_options()("help,h", "show this help")(
      "frames", po::value<uint64_t>()->default_value(500000), "frames in the generated capture")(
      "blocks", po::value<uint32_t>()->default_value(8),
      "512-byte blocks per I/O: 1 for small frames only, 128 for mostly 2 KiB data frames")(
      "keep", po::value<std::string>(),
      "write the capture here and keep it (default: a temporary file)")(
      "seed", po::value<uint64_t>()->default_value(1), "random seed of the generated traffic");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "splitpath bench decode: " << e.what() << "\n" << options;
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << "usage: splitpath bench decode [options]\n" << options;
    return 0;
  }
  splitpath::sim::DecodeBenchOptions o;
  o.frames = vm["frames"].as<uint64_t>();
  o.seed = vm["seed"].as<uint64_t>();
  o.blocks = vm["blocks"].as<uint32_t>();
  if (o.frames < 1 || o.frames > 100000000) {
    std::cerr << "splitpath bench decode: --frames must be from 1 to 100000000\n";
    return kExitUsage;
  }
  if (o.blocks < 1 || o.blocks > 65535) {
    std::cerr << "splitpath bench decode: --blocks must be from 1 to 65535\n";
    return kExitUsage;
  }
  const bool keep = vm.count("keep") > 0;
  o.path = keep ? vm["keep"].as<std::string>()
                : (std::filesystem::temp_directory_path() /
                   fmt::format("splitpath-decode-bench-{}.pcap", ::getpid()))
                      .string();
  auto result = splitpath::sim::run_decode_bench(o);
  if (!keep) std::filesystem::remove(o.path);
  if (!result.ok()) {
    std::cerr << "splitpath bench decode: " << result.status().message() << "\n";
    return kExitUsage;
  }
  std::cout << splitpath::sim::format_decode_bench(*result);
  return 0;
}

// Writes DIR/scaling.csv and DIR/scaling.svg (IOPS against loaded ports).
bool write_scaling_files(const std::string& dir,
                         const std::vector<splitpath::sim::ScalingPoint>& points) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::ofstream csv(std::filesystem::path(dir) / "scaling.csv");
  std::ofstream svg(std::filesystem::path(dir) / "scaling.svg");
  if (!csv || !svg) {
    std::cerr << "splitpath bench: cannot write scaling.csv and scaling.svg in " << dir << "\n";
    return false;
  }
  csv << splitpath::sim::scaling_csv_header() << "\n";
  splitpath::sim::Plot plot{"Simulated IOPS as loaded ports grow",
                            "loaded ports",
                            "IOPS",
                            {{"FP on", {}}, {"CP only", {}}}};
  for (const auto& p : points) {
    csv << splitpath::sim::scaling_csv_row(p) << "\n";
    plot.series[p.fp_enabled ? 0 : 1].points.emplace_back(p.loaded_ports, p.iops);
  }
  svg << splitpath::sim::render_svg_plot(plot);
  return true;
}

// Writes DIR/rmap.csv: ns per lookup and bytes per extent per structure and size.
bool write_rmap_file(const std::string& dir,
                     const std::vector<splitpath::sim::RmapBenchResult>& results) {
  std::ofstream csv(std::filesystem::path(dir) / "rmap.csv");
  if (!csv) {
    std::cerr << "splitpath bench: cannot write rmap.csv in " << dir << "\n";
    return false;
  }
  csv << "extents,structure,ns_per_lookup,bytes_per_extent\n";
  for (const auto& r : results) {
    for (const auto& row : r.rows) {
      csv << fmt::format("{},{},{:.2f},{:.2f}\n", r.extents, row.structure, row.ns_per_lookup,
                         row.bytes_per_extent);
    }
  }
  return true;
}

// `splitpath bench [--quick] [--json] [--csv DIR] [--compare BASELINE]
// [--write-baseline FILE]`: the whole suite, one table of figures.
int suite_command(const std::vector<std::string>& args) {
  po::options_description options("splitpath bench options");
  options.add_options()("help,h", "show this help")("quick", "a short run (well under a minute)")(
      "json", "print the figures as JSON")(
      "csv", po::value<std::string>(),
      "write scaling.csv, scaling.svg and rmap.csv in this directory")(
      "compare", po::value<std::string>(),
      "flag gated figures more than 10% worse than this baseline; exit 1 if any")(
      "write-baseline", po::value<std::string>(), "write the figures as a baseline file")(
      "no-instructions", "leave out the instruction counts (measured under valgrind's callgrind)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "splitpath bench: " << e.what() << "\n" << options;
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << "usage: splitpath bench [options] | bench scaling ... | bench decode ...\n"
              << options;
    return 0;
  }
  std::vector<splitpath::sim::Figure> baseline;
  if (vm.count("compare")) {
    auto b = splitpath::sim::read_baseline(vm["compare"].as<std::string>());
    if (!b.ok()) {
      std::cerr << "splitpath bench: " << b.status().message() << "\n";
      return kExitUsage;
    }
    baseline = *b;
  }
  splitpath::sim::BenchSuiteOptions o;
  o.quick = vm.count("quick") > 0;
  o.scratch_dir = std::filesystem::temp_directory_path().string();
  if (!vm.count("no-instructions")) {
    std::error_code ec;
    o.splitpath_executable = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  }
  auto result = splitpath::sim::run_bench_suite(o);
  if (!result.ok()) {
    std::cerr << "splitpath bench: " << result.status().message() << "\n";
    return kExitErrors;
  }
  if (vm.count("csv") && (!write_scaling_files(vm["csv"].as<std::string>(), result->scaling) ||
                          !write_rmap_file(vm["csv"].as<std::string>(), result->rmap))) {
    return kExitUsage;
  }
  if (vm.count("write-baseline")) {
    std::ofstream out(vm["write-baseline"].as<std::string>());
    if (!out) {
      std::cerr << "splitpath bench: cannot write " << vm["write-baseline"].as<std::string>()
                << "\n";
      return kExitUsage;
    }
    out << splitpath::sim::figures_json(result->figures);
  }
  if (vm.count("json")) {
    std::cout << splitpath::sim::figures_json(result->figures);
  } else {
    std::cout << splitpath::sim::format_figures_table(result->figures);
    for (const auto& n : result->notes)
      std::cout << "note: " << n << "\n";
  }
  if (!vm.count("compare")) return 0;
  auto c = splitpath::sim::compare_figures(baseline, result->figures);
  for (const auto& m : c.missing)
    std::cerr << "splitpath bench: note: not measured in this run: " << m << "\n";
  for (const auto& r : c.regressions) {
    std::cerr << fmt::format(
        "splitpath bench: REGRESSION {}: {:.4g} against baseline {:.4g} "
        "({:.1f}% worse)\n",
        r.name, r.current, r.baseline, r.worse_by * 100);
  }
  return c.regressions.empty() ? 0 : kExitErrors;
}

// `splitpath bench probe KIND --units N`: one probe of the instruction figures
// (instruction_figures.h), run under callgrind by the suite.
int probe_command(const std::vector<std::string>& args) {
  uint64_t units = 0;
  if (args.size() != 3 || args[1] != "--units" || !absl::SimpleAtoi(args[2], &units) ||
      units == 0) {
    std::cerr << "usage: splitpath bench probe KIND --units N (N >= 1)\n";
    return kExitUsage;
  }
  auto done = splitpath::sim::run_probe(args[0], units);
  if (!done.ok()) {
    std::cerr << "splitpath bench probe: " << done.status().message() << "\n";
    return done.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitErrors;
  }
  std::cout << splitpath::sim::probe_units_line(*done);
  return 0;
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
  if (args.empty() || args.front().rfind("--", 0) == 0) return suite_command(args);
  if (args.front() == "probe") {
    return probe_command(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (!args.empty() && args.front() == "decode") {
    return decode_bench_command(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  po::options_description options("splitpath bench scaling options");
  options.add_options()("help,h", "show this help")(
      "ports", po::value<std::string>()->default_value("1,2,4,8,16,32,64"),
      "numbers of loaded ports, comma-separated (1 to 128)")(
      "duration", po::value<double>()->default_value(0.02),
      "simulated seconds measured per run, after the warm-up")(
      "warmup", po::value<double>()->default_value(0.03),
      "simulated seconds of bring-up and cache warm-up left out of the figures")(
      "queue-depth", po::value<uint32_t>()->default_value(16), "outstanding I/Os per host")(
      "csv", po::value<std::string>(), "write the CSV here instead of stdout")(
      "null-disks", "zero-latency null disks that keep no data; hosts do not verify")(
      "seed", po::value<uint64_t>()->default_value(1), "random seed");
  po::options_description hidden;
  hidden.add_options()("suite", po::value<std::string>());
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("suite", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "splitpath bench: " << e.what() << "\n" << options;
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << "usage: splitpath bench scaling [options]\n" << options;
    return 0;
  }
  if (!vm.count("suite") || vm["suite"].as<std::string>() != "scaling") {
    std::cerr << "splitpath bench: the suite must be 'scaling' or 'decode'\n" << options;
    return kExitUsage;
  }
  std::vector<uint32_t> ports;
  if (!parse_ports(vm["ports"].as<std::string>(), &ports)) {
    std::cerr << "splitpath bench: --ports must list numbers from 1 to 128, e.g. 1,2,4\n";
    return kExitUsage;
  }
  const double seconds = vm["duration"].as<double>();
  if (!(seconds > 0 && seconds <= 10)) {
    std::cerr << "splitpath bench: --duration must be more than 0 and at most 10 seconds\n";
    return kExitUsage;
  }
  std::ofstream file;
  if (vm.count("csv")) {
    file.open(vm["csv"].as<std::string>());
    if (!file) {
      std::cerr << "splitpath bench: cannot write " << vm["csv"].as<std::string>() << "\n";
      return kExitUsage;
    }
  }
  std::ostream& csv = vm.count("csv") ? file : std::cout;
  csv << splitpath::sim::scaling_csv_header() << "\n";
  bool errors = false;
  std::cerr << fmt::format("{:>6} {:>14} {:>14} {:>8}\n", "ports", "IOPS (FP)", "IOPS (CP only)",
                           "ratio");
  for (uint32_t n : ports) {
    double iops[2] = {0, 0};
    for (bool fp : {true, false}) {
      splitpath::sim::ScalingOptions o;
      o.loaded_ports = n;
      o.fp_enabled = fp;
      o.duration_ns = static_cast<uint64_t>(seconds * 1e9);
      o.warmup_ns = static_cast<uint64_t>(std::clamp(vm["warmup"].as<double>(), 0.0, 10.0) * 1e9);
      o.queue_depth = vm["queue-depth"].as<uint32_t>();
      o.seed = vm["seed"].as<uint64_t>();
      o.null_disks = vm.count("null-disks") > 0;
      auto point = splitpath::sim::run_scaling_point(o);
      if (!point.ok()) {
        std::cerr << "splitpath bench: " << point.status().message() << "\n";
        return kExitUsage;
      }
      csv << splitpath::sim::scaling_csv_row(*point) << "\n";
      errors = errors || point->verify_errors > 0 || point->io_errors > 0;
      iops[fp ? 0 : 1] = point->iops;
    }
    std::cerr << fmt::format("{:>6} {:>14.0f} {:>14.0f} {:>8.2f}\n", n, iops[0], iops[1],
                             iops[1] > 0 ? iops[0] / iops[1] : 0.0);
  }
  return errors ? kExitErrors : 0;
}
