// The checkers catch real bugs: with one mechanism disabled at a time, a torture
// run on a fixed seed reports a violation of the invariant that mechanism
// protects, with a clear report; with the mechanism on, the same seed reports
// none.
//  - the restrictive update's drain (cp::CpConfig::skip_drain_for_testing):
//    writes still in flight to a range's old place are acknowledged after the
//    move copied the range, and lost -> durability (seed 75: the range moves
//    off an 8-column stripe to its shadow area);
//  - the FP's revocation check (fp::FastPathConfig::
//    ignore_remove_mapping_for_testing): FPs keep dispatching to a range's old
//    place after the update -> revocation;
//  - the disks' write ordering (Disk::set_late_writes_for_testing): a read
//    after a write's acknowledgement returns the old data -> durability;
//  - a DVE letting its cache go when a peer acquires (kind dve_cluster, the
//    harness acks the acquire for it instead): the peer holds the oplock
//    acquired while the DVE still caches it -> oplock.
#include <gtest/gtest.h>

#include <string>

#include "fabric_sim/torture/torture_report.h"
#include "fabric_sim/torture/torture_run.h"

namespace splitpath::sim::torture {
namespace {

struct MechanismCase {
  const char* name;
  uint64_t seed;
  BrokenMechanisms broken;
  const char* invariant;
};

TortureOptions options_for(const MechanismCase& c, bool broken) {
  TortureOptions o;
  o.seed = c.seed;
  o.ops = 4000;
  o.all_fault_kinds = true;
  // Kinds with open bugs (see seeds.txt) stay off, so the only violation
  // left is the one the broken mechanism causes.
  o.without_kinds = {"disk_link_loss", "host_link_loss"};
  if (broken) o.broken = c.broken;
  return o;
}

class TortureMechanisms : public ::testing::TestWithParam<MechanismCase> {};

TEST_P(TortureMechanisms, DisablingTheMechanismBreaksItsInvariant) {
  const MechanismCase& c = GetParam();
  auto broken = run_torture(options_for(c, true));
  ASSERT_TRUE(broken.ok()) << broken.status();
  ASSERT_EQ(broken->violations.size(), 1u)
      << "seed " << c.seed << " with " << c.name << " disabled ran clean";
  const Violation& v = broken->violations.front();
  EXPECT_EQ(v.invariant, c.invariant) << violation_text(*broken);
  // The report says where to look: the seed, a summary and the history.
  const std::string text = violation_text(*broken);
  EXPECT_NE(text.find("seed " + std::to_string(c.seed)), std::string::npos);
  EXPECT_NE(text.find("replay: splitpath torture --seed " + std::to_string(c.seed)),
            std::string::npos);
  EXPECT_FALSE(v.summary.empty());
  EXPECT_FALSE(v.history.empty());
  std::printf("seed %llu, %s disabled:\n%s", static_cast<unsigned long long>(c.seed), c.name,
              text.c_str());

  auto working = run_torture(options_for(c, false));
  ASSERT_TRUE(working.ok()) << working.status();
  EXPECT_TRUE(working->violations.empty()) << violation_text(*working);
}

BrokenMechanisms drain() {
  BrokenMechanisms b;
  b.skip_drain = true;
  return b;
}
BrokenMechanisms revocation() {
  BrokenMechanisms b;
  b.fp_ignores_revocation = true;
  return b;
}
BrokenMechanisms ordering() {
  BrokenMechanisms b;
  b.disk_late_writes = true;
  return b;
}
// A mirror side returned by the harness (kind mirror_side) serves reads while
// it is resynchronized: its stale extents reach the hosts.
BrokenMechanisms resync_readable() {
  BrokenMechanisms b;
  b.resync_readable = true;
  return b;
}

// Kind dve_cluster: a DVE acks a peer's acquire and keeps caching the oplock.
BrokenMechanisms dve_ack_keeps_cache() {
  BrokenMechanisms b;
  b.dve_ack_keeps_cache = true;
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    Mechanisms, TortureMechanisms,
    ::testing::Values(MechanismCase{"drain", 75, drain(), kDurability},
                      MechanismCase{"fp_revocation", 5, revocation(), kRevocation},
                      MechanismCase{"disk_ordering", 2, ordering(), kDurability},
                      MechanismCase{"resync_readable", 23, resync_readable(), kDurability},
                      MechanismCase{"dve_ack_keeps_cache", 2, dve_ack_keeps_cache(), kOplock}),
    [](const ::testing::TestParamInfo<MechanismCase>& info) { return info.param.name; });

}  // namespace
}  // namespace splitpath::sim::torture
