// Fuzz target for the topology parser (fabric_sim/topology/topology_yaml.h):
// any bytes go to parse_topology_yaml(), which must neither throw nor crash
// and must answer either a topology or an error that names the file. A
// topology it accepts must pass validate_topology() again (parsing validates).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fabric_sim/topology/topology_validate.h"
#include "fabric_sim/topology/topology_yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto topology = splitpath::sim::parse_topology_yaml(text, "fuzz.yaml");
  if (!topology.ok()) {
    if (topology.status().message().find("fuzz.yaml") == std::string::npos) {
      std::fprintf(stderr, "topology_fuzz: an error that names no file: %s\n",
                   std::string(topology.status().message()).c_str());
      std::abort();
    }
    return 0;
  }
  if (!splitpath::sim::validate_topology(*topology).ok()) {
    std::fprintf(stderr, "topology_fuzz: an accepted topology fails validation\n");
    std::abort();
  }
  return 0;
}
