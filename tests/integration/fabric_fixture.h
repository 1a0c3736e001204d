// Helpers for tests that build and run whole fabrics.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fabric_sim/run/fabric.h"
#include "fabric_sim/topology/topology_yaml.h"

namespace splitpath::sim::testing {

inline Topology parse_or_die(const std::string& yaml) {
  auto t = parse_topology_yaml(yaml, "test.yaml");
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : Topology{};
}

inline std::unique_ptr<Fabric> build_or_die(const Topology& t, const FabricOptions& o = {}) {
  auto f = Fabric::build(t, o);
  EXPECT_TRUE(f.ok()) << f.status().message();
  return f.ok() ? std::move(*f) : nullptr;
}

// A scratch file path under the test's temporary directory.
inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/" + name;
}

}  // namespace splitpath::sim::testing
