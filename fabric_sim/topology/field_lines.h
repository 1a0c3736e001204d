// Where each field of a topology came from, so that errors found after parsing
// can still name the file and line: "FILE:LINE: field 'hosts[1].port': ...".
#pragma once

#include <string>
#include <unordered_map>

#include "absl/status/status.h"

namespace splitpath::sim {

class FieldLines {
 public:
  // `path` is "switches[0].domain" style; `line` is 1-based.
  void set(const std::string& path, int line) { lines_[path] = line; }

  // The line of `path`, else of its nearest recorded ancestor; 0 when none is known.
  int find(const std::string& path) const;

 private:
  std::unordered_map<std::string, int> lines_;
};

// "SOURCE:LINE: field 'PATH': MESSAGE" (without ":LINE" when `line` is 0).
absl::Status field_error(const std::string& source, int line, const std::string& path,
                         const std::string& message);

}  // namespace splitpath::sim
