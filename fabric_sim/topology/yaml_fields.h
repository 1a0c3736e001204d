// Typed, checked access to the fields of a parsed YAML document. Every accessor
// checks the node's type before converting and reports problems as
// "SOURCE:LINE: field 'PATH': MESSAGE"; every field visited is recorded in a
// FieldLines so later checks can point at the same line.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/net/link.h"
#include "fabric_sim/topology/field_lines.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

struct YamlField {
  YAML::Node node;
  std::string path;  // "" for the document itself
  int line = 0;      // 1-based
};

// A map whose keys have been checked against the allowed set.
class YamlMap {
 public:
  const YamlField& self() const { return self_; }
  // nullptr when the key is absent.
  const YamlField* get(std::string_view key) const;
  const std::vector<std::pair<std::string, YamlField>>& entries() const { return entries_; }

 private:
  friend class YamlReader;
  YamlField self_;
  std::vector<std::pair<std::string, YamlField>> entries_;
};

class YamlReader {
 public:
  YamlReader(std::string source, FieldLines* lines) : source_(std::move(source)), lines_(lines) {}

  absl::Status error(const YamlField& f, const std::string& message) const;

  YamlField document(const YAML::Node& root);

  // `f` must be a map whose keys are among `allowed`, each at most once.
  absl::Status open_map(const YamlField& f, std::initializer_list<std::string_view> allowed,
                        YamlMap* out);
  // `f` must be a list; its items become fields "PATH[i]".
  absl::Status open_list(const YamlField& f, std::vector<YamlField>* out);
  // The value of `key`, or an error at the map's line when it is absent.
  absl::Status require(const YamlMap& map, std::string_view key, const YamlField** out);

  absl::Status string(const YamlField& f, std::string* out);
  absl::Status name(const YamlField& f, std::string* out);
  absl::Status time(const YamlField& f, bool bare_is_seconds, SimTime* out);
  absl::Status wwn(const YamlField& f, uint64_t* out);
  absl::Status port_ref(const YamlField& f, PortRef* out);
  absl::Status link_speed(const YamlField& f, LinkSpeed* out);
  absl::Status bandwidth(const YamlField& f, uint64_t* out);
  absl::Status rate(const YamlField& f, double max, double* out);
  // A byte count: a bare integer, or a number with B, KiB, ... PiB; at most `max`.
  absl::Status bytes(const YamlField& f, uint64_t max, uint64_t* out);
  // `true` or `false` (any case); YAML 1.1's yes/no/on/off are not accepted.
  absl::Status boolean(const YamlField& f, bool* out);

  template <typename T>
  absl::Status unsigned_int(const YamlField& f, uint64_t min, uint64_t max, T* out) {
    uint64_t v = 0;
    absl::Status s = unsigned_int64(f, min, max, &v);
    if (s.ok()) *out = static_cast<T>(v);
    return s;
  }

 private:
  absl::Status unsigned_int64(const YamlField& f, uint64_t min, uint64_t max, uint64_t* out);
  YamlField make_field(YAML::Node node, std::string path, int line);

  template <typename T, typename U>
  absl::Status take(const YamlField& f, const absl::StatusOr<U>& v, T* out) const {
    if (!v.ok()) return error(f, std::string(v.status().message()));
    *out = *v;
    return absl::OkStatus();
  }

  std::string source_;
  FieldLines* lines_;
};

// The 1-based line of `node`, or 0 if yaml-cpp knows none.
int yaml_line(const YAML::Node& node);

}  // namespace splitpath::sim
