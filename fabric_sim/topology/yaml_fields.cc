#include "fabric_sim/topology/yaml_fields.h"

#include <fmt/format.h>
#include <map>

#include "fabric_sim/topology/topology_validate.h"
#include "fabric_sim/topology/units.h"
#include "fabric_sim/topology/wwn.h"

namespace splitpath::sim {
namespace {

const char* kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string join(std::initializer_list<std::string_view> words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

}  // namespace

int yaml_line(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

const YamlField* YamlMap::get(std::string_view key) const {
  for (const auto& [k, field] : entries_) {
    if (k == key) return &field;
  }
  return nullptr;
}

absl::Status YamlReader::error(const YamlField& f, const std::string& message) const {
  if (f.path.empty()) {
    std::string where = f.line > 0 ? fmt::format("{}:{}", source_, f.line) : source_;
    return absl::InvalidArgumentError(fmt::format("{}: {}", where, message));
  }
  return field_error(source_, f.line, f.path, message);
}

YamlField YamlReader::make_field(YAML::Node node, std::string path, int line) {
  if (lines_ != nullptr && line > 0) lines_->set(path, line);
  return YamlField{std::move(node), std::move(path), line};
}

YamlField YamlReader::document(const YAML::Node& root) {
  int line = yaml_line(root);
  return YamlField{root, "", line > 0 ? line : 1};
}

absl::Status YamlReader::open_map(const YamlField& f,
                                  std::initializer_list<std::string_view> allowed, YamlMap* out) {
  if (!f.node.IsMap()) {
    return error(
        f, fmt::format("must be a map with keys {} (got {})", join(allowed), kind_of(f.node)));
  }
  out->self_ = f;
  out->entries_.clear();
  std::map<std::string, int> seen;
  for (auto it = f.node.begin(); it != f.node.end(); ++it) {
    const YAML::Node key = it->first;
    const int key_line = yaml_line(key) > 0 ? yaml_line(key) : f.line;
    const std::string prefix = f.path.empty() ? "" : f.path + ".";
    if (!key.IsScalar()) {
      return error(YamlField{key, prefix + "?", key_line},
                   fmt::format("a key must be a plain name (got {})", kind_of(key)));
    }
    const std::string k = key.Scalar();
    const std::string path = prefix + quote_got(k);
    bool known = false;
    for (std::string_view a : allowed)
      known |= a == k;
    if (!known) {
      return error(YamlField{key, path, key_line},
                   fmt::format("unknown key (allowed: {})", join(allowed)));
    }
    auto [first, inserted] = seen.emplace(k, key_line);
    if (!inserted) {
      return error(YamlField{key, path, key_line},
                   fmt::format("duplicate key (first given at line {})", first->second));
    }
    // A value's own mark can point past the key (an empty value is marked at the
    // next token), so a field is located at its key.
    out->entries_.emplace_back(k, make_field(it->second, path, key_line));
  }
  return absl::OkStatus();
}

absl::Status YamlReader::open_list(const YamlField& f, std::vector<YamlField>* out) {
  if (!f.node.IsSequence())
    return error(f, fmt::format("must be a list (got {})", kind_of(f.node)));
  out->clear();
  size_t i = 0;
  for (auto it = f.node.begin(); it != f.node.end(); ++it, ++i) {
    const YAML::Node item = *it;
    const int line = yaml_line(item) > 0 ? yaml_line(item) : f.line;
    out->push_back(make_field(item, fmt::format("{}[{}]", f.path, i), line));
  }
  return absl::OkStatus();
}

absl::Status YamlReader::require(const YamlMap& map, std::string_view key, const YamlField** out) {
  *out = map.get(key);
  if (*out != nullptr) return absl::OkStatus();
  const YamlField& self = map.self();
  YamlField missing{self.node,
                    self.path.empty() ? std::string(key) : fmt::format("{}.{}", self.path, key),
                    self.line};
  return error(missing, "is required");
}

absl::Status YamlReader::string(const YamlField& f, std::string* out) {
  if (f.node.IsNull()) return error(f, "needs a value");
  if (!f.node.IsScalar()) {
    return error(f, fmt::format("must be a single value (got {})", kind_of(f.node)));
  }
  *out = f.node.Scalar();
  return absl::OkStatus();
}

absl::Status YamlReader::name(const YamlField& f, std::string* out) {
  std::string text;
  absl::Status s = string(f, &text);
  if (!s.ok()) return s;
  if (!is_valid_name(text)) return error(f, name_rule_message(text));
  *out = std::move(text);
  return absl::OkStatus();
}

absl::Status YamlReader::unsigned_int64(const YamlField& f, uint64_t min, uint64_t max,
                                        uint64_t* out) {
  std::string text;
  absl::Status s = string(f, &text);
  return s.ok() ? take(f, parse_unsigned(text, min, max), out) : s;
}

absl::Status YamlReader::time(const YamlField& f, bool bare_is_seconds, SimTime* out) {
  std::string text;
  absl::Status s = string(f, &text);
  return s.ok() ? take(f, parse_time(text, bare_is_seconds), out) : s;
}

absl::Status YamlReader::wwn(const YamlField& f, uint64_t* out) {
  std::string text;
  absl::Status s = string(f, &text);
  return s.ok() ? take(f, parse_wwn(text), out) : s;
}

absl::Status YamlReader::port_ref(const YamlField& f, PortRef* out) {
  std::string text;
  absl::Status s = string(f, &text);
  return s.ok() ? take(f, parse_port_ref(text), out) : s;
}

absl::Status YamlReader::link_speed(const YamlField& f, LinkSpeed* out) {
  std::string text;
  absl::Status s = string(f, &text);
  return s.ok() ? take(f, parse_link_speed(text), out) : s;
}

absl::Status YamlReader::bandwidth(const YamlField& f, uint64_t* out) {
  std::string text;
  absl::Status s = string(f, &text);
  return s.ok() ? take(f, parse_bandwidth_mb_s(text), out) : s;
}

absl::Status YamlReader::rate(const YamlField& f, double max, double* out) {
  std::string text;
  absl::Status s = string(f, &text);
  return s.ok() ? take(f, parse_rate(text, max), out) : s;
}

absl::Status YamlReader::bytes(const YamlField& f, uint64_t max, uint64_t* out) {
  std::string text;
  absl::Status s = string(f, &text);
  if (!s.ok()) return s;
  auto size = parse_size(text);
  if (!size.ok()) return error(f, std::string(size.status().message()));
  if (size->value > max) {
    return error(f, fmt::format("must be at most {} bytes (got {})", max, quote_got(text)));
  }
  *out = size->value;
  return absl::OkStatus();
}

absl::Status YamlReader::boolean(const YamlField& f, bool* out) {
  std::string text;
  absl::Status s = string(f, &text);
  if (!s.ok()) return s;
  std::string lower;
  for (char c : text)
    lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "true") {
    *out = true;
  } else if (lower == "false") {
    *out = false;
  } else {
    return error(f, fmt::format("must be true or false (got '{}')", quote_got(text)));
  }
  return absl::OkStatus();
}

}  // namespace splitpath::sim
