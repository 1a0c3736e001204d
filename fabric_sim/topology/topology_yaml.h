// Reads a Topology from YAML (the schema is in README.md next to this file).
//
// Every error names the file, the 1-based line and the field:
//   topo.yaml:31: field 'hosts[1].workload.block_size': must be a positive multiple of 512 (got
//   1000) topo.yaml:4:12: YAML syntax error: end of map flow not found
// Neither function throws, whatever the input.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

// Parses and validates `text`; `source_name` names it in errors and becomes
// Topology::source.
absl::StatusOr<Topology> parse_topology_yaml(const std::string& text,
                                             const std::string& source_name);

// Parses one entry of the `services` list (e.g. `{at: 2ms, migrate: {volume:
// v0, disk: d2}}`, as `splitpath run --service` takes it) and appends it to
// `t`, whose volumes and disks it must name; errors name `source_name`.
absl::Status add_service_yaml(const std::string& text, const std::string& source_name, Topology* t);
// The same for one entry of the `replications` list (`splitpath run
// --replication`).
absl::Status add_replication_yaml(const std::string& text, const std::string& source_name,
                                  Topology* t);

// Reads `path` and parses it; a missing or unreadable file is an error naming the path.
absl::StatusOr<Topology> load_topology_file(const std::string& path);

}  // namespace splitpath::sim
