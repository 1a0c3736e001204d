#include "fabric_sim/bench/bench_figures.h"

#include <fstream>
#include <sstream>

#include "fmt/format.h"
#include "nlohmann/json.hpp"

namespace splitpath::sim {

std::string figures_json(const std::vector<Figure>& figures) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& f : figures) {
    list.push_back({{"name", f.name},
                    {"value", f.value},
                    {"unit", f.unit},
                    {"higher_is_better", f.higher_is_better},
                    {"gated", f.gated}});
  }
  nlohmann::ordered_json doc;
  doc["figures"] = list;
  return doc.dump(2) + "\n";
}

absl::StatusOr<std::vector<Figure>> read_baseline(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(fmt::format("{}: cannot read the baseline", path));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) return absl::InvalidArgumentError(fmt::format("{}: not JSON", path));
  if (!doc.is_object() || !doc.contains("figures") || !doc["figures"].is_array()) {
    return absl::InvalidArgumentError(fmt::format("{}: field 'figures' must be an array", path));
  }
  std::vector<Figure> out;
  size_t i = 0;
  for (const auto& f : doc["figures"]) {
    auto bad = [&](const char* field, const char* want) {
      return absl::InvalidArgumentError(
          fmt::format("{}: figures[{}].{} must be {}", path, i, field, want));
    };
    if (!f.is_object()) return bad("", "an object");
    if (!f.contains("name") || !f["name"].is_string()) return bad("name", "a string");
    if (!f.contains("value") || !f["value"].is_number()) return bad("value", "a number");
    if (!f.contains("higher_is_better") || !f["higher_is_better"].is_boolean()) {
      return bad("higher_is_better", "true or false");
    }
    if (!f.contains("gated") || !f["gated"].is_boolean()) return bad("gated", "true or false");
    Figure fig;
    fig.name = f["name"].get<std::string>();
    fig.value = f["value"].get<double>();
    fig.unit = f.contains("unit") && f["unit"].is_string() ? f["unit"].get<std::string>() : "";
    fig.higher_is_better = f["higher_is_better"].get<bool>();
    fig.gated = f["gated"].get<bool>();
    out.push_back(fig);
    ++i;
  }
  return out;
}

Comparison compare_figures(const std::vector<Figure>& baseline, const std::vector<Figure>& current,
                           double tolerance) {
  Comparison c;
  for (const auto& b : baseline) {
    if (!b.gated) continue;
    const Figure* now = nullptr;
    for (const auto& f : current) {
      if (f.name == b.name) now = &f;
    }
    if (now == nullptr) {
      c.missing.push_back(b.name);
      continue;
    }
    if (b.value == 0) continue;
    const double worse =
        b.higher_is_better ? (b.value - now->value) / b.value : (now->value - b.value) / b.value;
    if (worse > tolerance) c.regressions.push_back({b.name, b.value, now->value, worse});
  }
  return c;
}

}  // namespace splitpath::sim
