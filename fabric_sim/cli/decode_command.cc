#include "fabric_sim/cli/decode_command.h"

#include <cstdint>
#include <exception>
#include <iostream>

#include "boost/program_options.hpp"
#include "fabric_sim/trace/decode_report.h"
#include "fabric_sim/trace/trace_reader.h"

namespace po = boost::program_options;

namespace {

constexpr int kExitUsage = 2;

const char* const kUsage =
    "usage: splitpath decode TRACE [--json] [--frames|--no-frames] [--limit N]\n";

int decode(const std::vector<std::string>& args) {
  po::options_description options("splitpath decode options");
  options.add_options()("help,h", "show this help")(
      "json", "print one JSON object instead of the listing and summary")(
      "frames", "list every frame (the default)")("no-frames",
                                                  "leave out the frame listing: summary only")(
      "limit", po::value<uint64_t>(), "list at most N frames (all are decoded and summarized)");
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
    std::cerr << "splitpath decode: " << e.what() << "\n" << kUsage << options;
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << kUsage << options;
    return 0;
  }
  if (!vm.count("trace") || vm["trace"].as<std::vector<std::string>>().size() != 1) {
    std::cerr << "splitpath decode: give exactly one TRACE file\n" << kUsage << options;
    return kExitUsage;
  }
  if (vm.count("frames") && vm.count("no-frames")) {
    std::cerr << "splitpath decode: --frames and --no-frames exclude each other\n" << kUsage;
    return kExitUsage;
  }
  const std::string path = vm["trace"].as<std::vector<std::string>>().front();
  splitpath::sim::trace::DecodeOptions decode_options;
  decode_options.list_frames = !vm.count("no-frames");
  if (vm.count("limit")) decode_options.limit = vm["limit"].as<uint64_t>();

  auto reader = splitpath::sim::trace::TraceReader::open(path);
  if (!reader.ok()) {
    std::cerr << "splitpath decode: " << reader.status().message() << "\n";
    return kExitUsage;
  }
  if (vm.count("json")) {
    splitpath::sim::trace::write_json_report(**reader, decode_options, std::cout);
  } else {
    splitpath::sim::trace::write_text_report(**reader, decode_options, std::cout);
  }
  std::cout.flush();
  if (!(*reader)->read_error().ok()) {
    std::cerr << "splitpath decode: warning: " << (*reader)->read_error().message()
              << " (the frames before it are decoded)\n";
  }
  return 0;
}

}  // namespace

int decode_command(const std::vector<std::string>& args) {
  // Nothing below is expected to throw; this keeps a stray exception (an
  // allocation failure, a library surprise) from escaping main.
  try {
    return decode(args);
  } catch (const std::exception& e) {
    std::cerr << "splitpath decode: " << e.what() << "\n";
    return kExitUsage;
  }
}
