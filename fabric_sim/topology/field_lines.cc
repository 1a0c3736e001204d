#include "fabric_sim/topology/field_lines.h"

#include <fmt/format.h>

namespace splitpath::sim {

int FieldLines::find(const std::string& path) const {
  std::string p = path;
  while (!p.empty()) {
    if (auto it = lines_.find(p); it != lines_.end()) return it->second;
    size_t cut = p.find_last_of(".[");
    p.resize(cut == std::string::npos ? 0 : cut);
  }
  return 0;
}

absl::Status field_error(const std::string& source, int line, const std::string& path,
                         const std::string& message) {
  std::string where = line > 0 ? fmt::format("{}:{}", source, line) : source;
  return absl::InvalidArgumentError(fmt::format("{}: field '{}': {}", where, path, message));
}

}  // namespace splitpath::sim
