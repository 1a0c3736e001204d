#include "fabric_sim/bench/callgrind.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fmt/format.h"
#include "fmt/ranges.h"

namespace splitpath::sim {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs argv with stdout and stderr to files; returns the exit status, or -1
// if it could not start.
int run_command(const std::vector<std::string>& argv, const std::string& out,
                const std::string& err) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) {
      std::_Exit(127);
    }
    ::execvp(args[0], args.data());
    std::_Exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string tail(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

}  // namespace

bool callgrind_available() {
  const std::string dir = std::filesystem::temp_directory_path().string();
  const std::string base = fmt::format("{}/splitpath-valgrind-probe-{}", dir, ::getpid());
  const int status = run_command({"valgrind", "--version"}, base + ".out", base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  return status == 0;
}

absl::StatusOr<uint64_t> parse_callgrind_totals(std::string_view text) {
  std::string_view summary;
  bool found = false;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.rfind("totals:", 0) == 0) {
      summary = line.substr(7);
      found = true;
      break;
    }
    if (line.rfind("summary:", 0) == 0) {
      summary = line.substr(8);
      found = true;
    }
  }
  if (!found) return absl::InvalidArgumentError("no 'totals:' or 'summary:' line");
  // The first event is Ir, the instructions executed.
  const size_t first = summary.find_first_not_of(' ');
  uint64_t n = 0;
  const char* begin = first == std::string_view::npos ? summary.end() : summary.data() + first;
  const auto [next, error] = std::from_chars(begin, summary.data() + summary.size(), n);
  if (error != std::errc{} || (next != summary.data() + summary.size() && *next != ' ')) {
    return absl::InvalidArgumentError(
        fmt::format("the totals line '{}' does not start with a count", std::string(summary)));
  }
  return n;
}

absl::StatusOr<CallgrindRun> run_under_callgrind(const std::vector<std::string>& argv,
                                                 const std::string& toggle_collect,
                                                 const std::string& scratch_dir) {
  static std::atomic<uint32_t> serial{0};
  const std::string base =
      fmt::format("{}/splitpath-callgrind-{}-{}", scratch_dir, ::getpid(), serial++);
  const std::string profile = base + ".callgrind";
  std::vector<std::string> command{"valgrind", "--tool=callgrind",
                                   "--callgrind-out-file=" + profile};
  if (!toggle_collect.empty()) command.push_back("--toggle-collect=" + toggle_collect);
  command.insert(command.end(), argv.begin(), argv.end());
  const int status = run_command(command, base + ".out", base + ".err");
  CallgrindRun run;
  run.output = read_file(base + ".out");
  const std::string errors = read_file(base + ".err");
  const std::string text = read_file(profile);
  for (const char* suffix : {".out", ".err", ".callgrind"})
    std::filesystem::remove(base + suffix);
  if (status != 0) {
    return absl::InternalError(fmt::format("valgrind {} exited with {}: {}", fmt::join(argv, " "),
                                           status, tail(errors, 400)));
  }
  auto n = parse_callgrind_totals(text);
  if (!n.ok()) {
    return absl::InternalError(fmt::format("callgrind output of {}: {}", fmt::join(argv, " "),
                                           std::string(n.status().message())));
  }
  run.instructions = *n;
  return run;
}

}  // namespace splitpath::sim
