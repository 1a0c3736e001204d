// Running the `splitpath` binary (or any shell command) from a test.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace splitpath::testing {

struct Command {
  int status = -1;  // exit status; -1 if it could not run or was killed
  std::string out;
};

// Runs `command` with sh; captures stdout, and stderr too unless `with_stderr`
// is false.
inline Command run_command(const std::string& command, bool with_stderr = true) {
  Command result;
  FILE* pipe = popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (!pipe) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0)
    result.out.append(buf, n);
  const int rc = pclose(pipe);
  result.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return result;
}

}  // namespace splitpath::testing
