// Multipath end to end (figures 11 and 12): a volume on a dual-ported disk,
// a host running its job through the switch's FPs, and the link of the disk's
// first port taken down by the topology's fault schedule in the middle of the
// load. The CP sees the port leave the name server, tests the other path
// with TEST UNIT READY, switches the VSEG to it (per entry: the Rmap extents
// move to the other path's redirect entry; global: the redirect entry gets
// the other path's storage descriptor), and fails the I/Os caught on the dead
// path with ABORTED COMMAND; the host retries them, on the new path. Checked:
// no command fails, every acknowledged write is on the disk (read straight
// from its store), and the FP fraction before, during and after the switch.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "fabric_sim/node/block_stamp.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/run/virtualization_report.h"
#include "fabric_sim/topology/topology_yaml.h"

namespace splitpath::testing {
namespace {

using sim::kNsPerMs;

constexpr uint64_t kVsegLba = 1000;  // the VSEG's first block on the disk
constexpr uint64_t kBlocks = 20000;
constexpr sim::SimTime kLinkDown = 20 * kNsPerMs;

std::string multipath_yaml(const std::string& policy, const std::string& io_timeout = "2s",
                           const std::string& more_faults = "") {
  return R"(seed: 21
duration: 60ms
switches:
  - {name: sw0, domain: 1, ports: 8}
disks:
  - {name: disk0, ports: [sw0:4, sw0:5], luns: [{lun: 0, size: 64MiB}]}
hosts:
  - name: host0
    port: sw0:0
    workload: {lba_count: 20000, read_percent: 50, queue_depth: 8, retries: 5, io_timeout: )" +
         io_timeout + R"(}
volumes:
  - name: vol0
    switch: sw0
    multipath: )" +
         policy + R"(
    vsegs: [{disk: disk0, lba: 1000, blocks: 20000, extent_blocks: 1000}]
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol0}]}
zones:
  - {name: z0, members: [host0, vt0]}
faults:
  - {at: 20ms, kind: link_down, target: disk0}
)" + more_faults;
}

// FP hits and CP completions of sw0 so far; differences give windows.
struct Counts {
  uint64_t fp_hits = 0;
  uint64_t cp_completed = 0;
  Counts operator-(const Counts& o) const {
    return {fp_hits - o.fp_hits, cp_completed - o.cp_completed};
  }
  double fraction() const { return sim::fp_fraction(fp_hits, cp_completed); }
};

Counts counts(sim::Fabric& f) {
  Counts c;
  for (const sim::PortFpStats& p : f.switch_named("sw0")->virtualization_stats().ports) {
    c.fp_hits += p.fp_completed;
    c.cp_completed += p.cp_completed;
  }
  return c;
}

struct FailoverRun {
  std::unique_ptr<sim::Fabric> fabric;
  Counts before, during, after;
  uint64_t port0_commands_at_down = 0;
  uint64_t port1_commands_at_down = 0;
};

FailoverRun run(const std::string& yaml) {
  FailoverRun r;
  auto topology = sim::parse_topology_yaml(yaml, "multipath.yaml");
  EXPECT_TRUE(topology.ok()) << topology.status();
  if (!topology.ok()) return r;
  auto fabric = sim::Fabric::build(*topology, {});
  EXPECT_TRUE(fabric.ok()) << fabric.status();
  if (!fabric.ok()) return r;
  r.fabric = std::move(*fabric);
  sim::Fabric& f = *r.fabric;
  f.run_until(10 * kNsPerMs);
  const Counts c10 = counts(f);
  f.run_until(kLinkDown);
  const Counts c20 = counts(f);
  r.port0_commands_at_down = f.disk("disk0")->stats().commands;
  r.port1_commands_at_down = f.more_disk_ports().at(0)->stats().commands;
  f.run_until(kLinkDown + 5 * kNsPerMs);
  const Counts c25 = counts(f);
  f.run_until(30 * kNsPerMs);
  const Counts c30 = counts(f);
  f.run_until(60 * kNsPerMs);
  const Counts c60 = counts(f);
  EXPECT_TRUE(f.run().ok());  // stops the job, lets every command end
  r.before = c20 - c10;
  r.during = c25 - c20;
  r.after = c60 - c30;
  std::printf(
      "FP fraction before %.3f (%llu hits), during %.3f (%llu hits, %llu CP), after %.3f "
      "(%llu hits)\n",
      r.before.fraction(), static_cast<unsigned long long>(r.before.fp_hits), r.during.fraction(),
      static_cast<unsigned long long>(r.during.fp_hits),
      static_cast<unsigned long long>(r.during.cp_completed), r.after.fraction(),
      static_cast<unsigned long long>(r.after.fp_hits));
  return r;
}

// Every unit host0 had acknowledged is on the disk with that write's stamp.
void expect_acknowledged_writes_on_disk(sim::Fabric& f) {
  const sim::Host& host = *f.host("host0");
  const sim::VerifyMap* verify = host.job_verify_map(0);
  ASSERT_NE(verify, nullptr);
  const sim::SparseStore* store = f.disk("disk0")->store(0);
  ASSERT_NE(store, nullptr);
  uint64_t checked = 0;
  for (uint64_t unit = 0; unit < kBlocks; ++unit) {
    const uint64_t acked = verify->acknowledged(unit);
    if (acked == 0) continue;
    std::array<uint8_t, sim::kStampUnit> bytes{};
    store->read((kVsegLba + unit) * sim::kStampUnit, bytes);
    sim::BlockStamp stamp;
    ASSERT_EQ(sim::read_stamp(bytes, &stamp), sim::StampCheck::kValid) << "unit " << unit;
    EXPECT_EQ(stamp.unit, unit);
    EXPECT_EQ(stamp.writer, host.wwpn());
    EXPECT_EQ(stamp.generation, acked) << "unit " << unit << ": acknowledged write lost";
    ++checked;
  }
  EXPECT_GT(checked, 1000u);  // the job wrote a good part of the region
}

class MultipathFailover : public ::testing::TestWithParam<const char*> {};

TEST_P(MultipathFailover, PathDownUnderLoadLosesNoWriteAndReturnsToTheFastPath) {
  FailoverRun r = run(multipath_yaml(GetParam()));
  ASSERT_NE(r.fabric, nullptr);
  sim::Fabric& f = *r.fabric;
  const sim::HostStats& host = f.host("host0")->stats();
  const cp::CpStats cp = f.switch_named("sw0")->virtualization_stats().cp;

  std::printf(
      "path tests %llu, failovers %llu, I/Os failed back %llu, stale legs %llu, host "
      "retries %llu\n",
      static_cast<unsigned long long>(cp.path_tests),
      static_cast<unsigned long long>(cp.path_failovers),
      static_cast<unsigned long long>(cp.path_failed_ios),
      static_cast<unsigned long long>(cp.stale_leg_aborts),
      static_cast<unsigned long long>(host.retries));
  // The CP found the path gone, tested the other one and switched once; the
  // run report's virtualization object says so.
  EXPECT_EQ(cp.path_failovers, 1u);
  const auto json = sim::virtualization_json(f.switch_named("sw0")->virtualization_stats());
  EXPECT_EQ(json["cp"]["path_failovers"].get<uint64_t>(), 1u);
  EXPECT_EQ(json["cp"]["path_failed_ios"].get<uint64_t>(), cp.path_failed_ios);
  EXPECT_GE(cp.path_tests, 1u);
  EXPECT_EQ(cp.failovers_without_path, 0u);
  // I/Os caught on the dead path came back as errors and were retried.
  EXPECT_GE(cp.path_failed_ios + cp.stale_leg_aborts, 1u);
  EXPECT_GE(host.retries, 1u);
  // ... and every command ended GOOD, with its data verified.
  EXPECT_TRUE(f.host("host0")->failed_commands().empty())
      << f.host("host0")->failed_commands().size() << " commands failed";
  EXPECT_EQ(host.timeouts, 0u);
  EXPECT_EQ(host.verify_errors, 0u);
  EXPECT_GT(host.ios_completed, 1000u);
  expect_acknowledged_writes_on_disk(f);

  // Port 0 carried the I/O before the link went down and none after; port 1
  // none before (only the path test and logins) and all of it after.
  EXPECT_GT(r.port0_commands_at_down, 1000u);
  EXPECT_EQ(f.disk("disk0")->stats().commands, r.port0_commands_at_down);
  EXPECT_LT(r.port1_commands_at_down, 10u);
  EXPECT_GT(f.more_disk_ports().at(0)->stats().commands, r.port1_commands_at_down + 1000);

  // The fast path before and after; the CP handled the I/Os around the switch.
  EXPECT_GT(r.before.fraction(), 0.95);
  EXPECT_GT(r.during.cp_completed, 0u);
  EXPECT_GT(r.after.fraction(), 0.95);
  EXPECT_GT(r.after.fp_hits, r.before.fp_hits);  // a window three times as long
}

// Port 0 comes back, then port 1 goes down: the VSEG moves back to path 0
// (per entry: the extents to entry 0 again; global: entry 0 redefined back).
TEST_P(MultipathFailover, PathsFailInTurn) {
  FailoverRun r = run(multipath_yaml(GetParam(), "2s",
                                     "  - {at: 32ms, kind: link_up, target: disk0}\n"
                                     "  - {at: 45ms, kind: link_down, target: \"sw0:5\"}\n"));
  ASSERT_NE(r.fabric, nullptr);
  sim::Fabric& f = *r.fabric;
  const cp::CpStats cp = f.switch_named("sw0")->virtualization_stats().cp;
  EXPECT_EQ(cp.path_failovers, 2u);
  EXPECT_EQ(cp.failovers_without_path, 0u);
  EXPECT_TRUE(f.host("host0")->failed_commands().empty())
      << f.host("host0")->failed_commands().size() << " commands failed";
  EXPECT_EQ(f.host("host0")->stats().verify_errors, 0u);
  expect_acknowledged_writes_on_disk(f);
  // Port 0 carries I/O again after port 1 went down.
  EXPECT_GT(f.disk("disk0")->stats().commands, r.port0_commands_at_down + 500);
  EXPECT_GT(r.after.fraction(), 0.9);
}

// Port 0 comes back at 32 ms. With `failback: immediate` the CP tests it and
// moves the VSEG back with a drained (not aborted) update: port 0 carries the
// I/O again, port 1 none after, and the host sees no error from the failback
// (no retry after 32 ms). With `manual` the VSEG stays on port 1.
struct FailbackRun {
  std::unique_ptr<sim::Fabric> fabric;
  uint64_t retries_at_up = 0;
  uint64_t port0_at_up = 0;
  uint64_t port1_at_40ms = 0;
  Counts after;  // 40-60 ms
};

FailbackRun run_failback(const std::string& policy, bool failback) {
  std::string yaml = multipath_yaml(policy, "2s", "  - {at: 32ms, kind: link_up, target: disk0}\n");
  if (failback) {
    const std::string key = "    multipath: " + policy + "\n";
    yaml.replace(yaml.find(key), key.size(), key + "    failback: immediate\n");
  }
  FailbackRun r;
  auto topology = sim::parse_topology_yaml(yaml, "failback.yaml");
  EXPECT_TRUE(topology.ok()) << topology.status();
  if (!topology.ok()) return r;
  auto fabric = sim::Fabric::build(*topology, {});
  EXPECT_TRUE(fabric.ok()) << fabric.status();
  if (!fabric.ok()) return r;
  r.fabric = std::move(*fabric);
  sim::Fabric& f = *r.fabric;
  f.run_until(32 * kNsPerMs);
  r.retries_at_up = f.host("host0")->stats().retries;
  r.port0_at_up = f.disk("disk0")->stats().commands;
  f.run_until(40 * kNsPerMs);
  r.port1_at_40ms = f.more_disk_ports().at(0)->stats().commands;
  const Counts c40 = counts(f);
  f.run_until(60 * kNsPerMs);
  r.after = counts(f) - c40;
  EXPECT_TRUE(f.run().ok());
  return r;
}

TEST_P(MultipathFailover, FailsBackToTheFirstPathOnceItReturns) {
  FailbackRun r = run_failback(GetParam(), /*failback=*/true);
  ASSERT_NE(r.fabric, nullptr);
  sim::Fabric& f = *r.fabric;
  const cp::CpStats cp = f.switch_named("sw0")->virtualization_stats().cp;
  EXPECT_EQ(cp.path_failovers, 1u);
  EXPECT_EQ(cp.path_failbacks, 1u);
  const auto json = sim::virtualization_json(f.switch_named("sw0")->virtualization_stats());
  EXPECT_EQ(json["cp"]["path_failbacks"].get<uint64_t>(), 1u);
  EXPECT_TRUE(f.host("host0")->failed_commands().empty())
      << f.host("host0")->failed_commands().size() << " commands failed";
  EXPECT_EQ(f.host("host0")->stats().verify_errors, 0u);
  EXPECT_EQ(f.host("host0")->stats().retries, r.retries_at_up) << "the failback failed I/Os";
  expect_acknowledged_writes_on_disk(f);
  // Port 0 carries the I/O again, port 1 none once the failback is done.
  EXPECT_GT(f.disk("disk0")->stats().commands, r.port0_at_up + 1000);
  EXPECT_EQ(f.more_disk_ports().at(0)->stats().commands, r.port1_at_40ms);
  EXPECT_GT(r.after.fraction(), 0.95);
}

TEST_P(MultipathFailover, WithManualFailbackTheVsegStaysOnTheAlternate) {
  FailbackRun r = run_failback(GetParam(), /*failback=*/false);
  ASSERT_NE(r.fabric, nullptr);
  sim::Fabric& f = *r.fabric;
  EXPECT_EQ(f.switch_named("sw0")->virtualization_stats().cp.path_failbacks, 0u);
  EXPECT_EQ(f.disk("disk0")->stats().commands, r.port0_at_up);
  EXPECT_GT(f.more_disk_ports().at(0)->stats().commands, r.port1_at_40ms + 500);
}

INSTANTIATE_TEST_SUITE_P(Policies, MultipathFailover, ::testing::Values("per_entry", "global"));

// The control: without multipath the same fault strands the I/Os on the dead
// path; they time out at the host and fail. The test above can tell.
TEST(Multipath, WithoutItThePathDownFailsCommands) {
  FailoverRun r = run(multipath_yaml("none", "10ms"));
  ASSERT_NE(r.fabric, nullptr);
  sim::Fabric& f = *r.fabric;
  EXPECT_EQ(f.switch_named("sw0")->virtualization_stats().cp.path_failovers, 0u);
  EXPECT_GT(f.host("host0")->stats().timeouts, 0u);
  EXPECT_FALSE(f.host("host0")->failed_commands().empty());
  EXPECT_LT(r.after.fp_hits, 100u);
}

}  // namespace
}  // namespace splitpath::testing
