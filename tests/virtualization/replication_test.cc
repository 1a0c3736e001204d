// Asynchronous ordered replication end to end (figure 32): a host writes a
// group of two journaled volumes with a dependent-write workload (a data
// write to vol0, and once it is acknowledged a log write to vol1 naming it)
// through the switch; every interval the CP pauses the group at every FP,
// swaps every journal, and ships the full ones over an ISL with its own
// speed and latency to a remote array on another switch, which merges each
// epoch's journals and applies them to its images.
// - At every applied barrier the remote images equal the primary volumes as
//   they were at that barrier instant (read from the data devices while the
//   group was paused), so no log write is there without its data write.
// - The ISL to the remote going down for a while only delays the remote:
//   copies fail and are tried again, the lag (time and bytes) grows and is
//   reported, and once the link is back every epoch is applied, nothing lost.
// - Declared in the topology (`replications:`, with the ISL slowed down and
//   then cut by scheduled faults) under a host's verified workload: the run
//   report shows the epochs, the bytes shipped and the lag, and the remote
//   images end equal to the volumes; bad entries name file, line and field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cp/control_path.h"
#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/net/link.h"
#include "fabric_sim/run/replication_site.h"
#include "fabric_sim/run/report.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/fc/scsi_cdb.h"
#include "tests/support/virtual_testbed.h"

namespace splitpath::testing {
namespace {

constexpr uint64_t kBlocks = 2048;  // each volume
constexpr uint32_t kIoBlocks = 8;
constexpr uint64_t kDataLba[2] = {100, 4096};  // on disk0 LUN 0
constexpr uint64_t kIntervalNs = 2 * sim::kNsPerMs;

std::string replication_yaml() {
  return R"(seed: 32
duration: 1s
switches:
  - {name: sw0, domain: 1, ports: 8}
  - {name: sw1, domain: 2, ports: 8}
isls:
  - {a: sw0:7, b: sw1:7, speed: 8G, delay: 100us, bb_credit: 400}
disks:
  - {name: disk0, port: sw0:4, speed: 8G, latency: 20us, luns: [{lun: 0, size: 8MiB}]}
  - {name: disk1, port: sw0:5, speed: 8G, latency: 20us, luns: [{lun: 0, size: 1MiB}, {lun: 1, size: 32MiB}]}
  - {name: remote, port: sw1:4, speed: 8G, latency: 50us, luns: [{lun: 0, size: 16MiB}, {lun: 1, size: 4MiB}, {lun: 2, size: 4MiB}]}
hosts:
  - {name: host0, port: sw0:0, workload: {lba_count: 1000}}
volumes:
  - name: vol0
    switch: sw0
    vsegs:
      - blocks: 2048
        journal:
          data: {disk: disk0, lba: 100}
          journal: {disk: disk1, lun: 1, lba: 0, blocks: 19200}
          journal_blocks: 96
  - name: vol1
    switch: sw0
    vsegs:
      - blocks: 2048
        journal:
          data: {disk: disk0, lba: 4096}
          journal: {disk: disk1, lun: 1, lba: 19200, blocks: 19200}
          journal_blocks: 96
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: vol0}, {lun: 1, volume: vol1}]
zones:
  - {name: z0, members: [host0, vt0]}
)";
}

struct ReplicationRun {
  uint64_t barriers = 0;
  uint64_t epochs_compared = 0;
  uint64_t epochs_differing = 0;
  uint64_t data_writes = 0;
  uint64_t log_writes = 0;
  uint64_t errors = 0;
  uint64_t max_lag_ns = 0;
  uint64_t max_lag_bytes = 0;
  uint64_t copy_timeouts = 0;  // shipping copies lost with the link, tried again
  cp::ReplicationStatus status;
  sim::ReplicationSiteStats site;
  bool final_equal = false;
};

std::vector<uint8_t> image(VirtualTestbed& tb, const std::string& disk, uint16_t lun,
                           uint64_t lba) {
  return tb.disk_bytes(disk, lun, lba, kBlocks);
}

ReplicationRun run_replication(uint64_t outage_ns) {
  ReplicationRun out;
  // Copies lost with the link are given up after 5 ms (and shipped again).
  sim::FabricOptions options;
  options.adjust_cp_config = [](cp::CpConfig& c) { c.copy_timeout_ns = 5 * sim::kNsPerMs; };
  VirtualTestbed tb(replication_yaml(), 2, options);
  EXPECT_TRUE(tb.ok());
  if (!tb.ok()) return out;
  cp::ControlPath& cp = tb.virtualization().control_path();
  sim::ReplicationSite site(
      cp, "rep0", &tb.disk("remote"), 0,
      {{"vol0", &tb.disk("remote"), 1, 0}, {"vol1", &tb.disk("remote"), 2, 0}});
  // The primary group at each barrier instant, until that epoch is applied.
  std::map<uint64_t, std::vector<std::vector<uint8_t>>> at_barrier;
  site.on_applied = [&](uint64_t epoch) {
    auto it = at_barrier.find(epoch);
    if (it == at_barrier.end()) return;
    ++out.epochs_compared;
    if (image(tb, "remote", 1, 0) != it->second[0] || image(tb, "remote", 2, 0) != it->second[1])
      ++out.epochs_differing;
    at_barrier.erase(it);
  };
  cp::ReplicationRequest r;
  r.name = "rep0";
  r.volumes = {"vol0", "vol1"};
  r.interval_ns = kIntervalNs;
  r.staging_wwpn = tb.disk("remote").wwpn();
  r.staging_lun = 0;
  r.staging_lba = 0;
  r.staging_blocks = 16384;
  r.on_barrier = [&](uint64_t epoch) {
    ++out.barriers;
    at_barrier[epoch] = {image(tb, "disk0", 0, kDataLba[0]), image(tb, "disk0", 0, kDataLba[1])};
  };
  r.on_shipped = [&](const cp::ShippedEpoch& e) { site.apply(e); };
  std::string error;
  EXPECT_TRUE(cp.start_replication(r, &error)) << error;

  // Dependent writes: data to vol0, then (acknowledged) a log record to vol1.
  sim::Rng rng(32);
  struct Op {
    std::shared_ptr<VirtualTestbed::Pending> data, log;
    uint64_t seed = 0;
  };
  std::vector<Op> ops(4);
  uint64_t next_seed = 1, log_slot = 0;
  const uint64_t slots = kBlocks / kIoBlocks;
  auto step = [&] {
    for (Op& op : ops) {
      if (!op.data) {
        op.seed = next_seed++;
        op.data = tb.start("host0", 0, fc::make_write(rng.uniform(slots) * kIoBlocks, kIoBlocks), 0,
                           pattern(op.seed, kIoBlocks));
      } else if (op.data->done && !op.log) {
        if (op.data->result.status != fc::scsi_status::kGood) {
          ++out.errors;
          op = Op{};
          continue;
        }
        ++out.data_writes;
        op.log = tb.start("host0", 1, fc::make_write((log_slot++ % slots) * kIoBlocks, kIoBlocks),
                          0, pattern(op.seed, kIoBlocks));
      } else if (op.log && op.log->done) {
        if (op.log->result.status == fc::scsi_status::kGood) {
          ++out.log_writes;
        } else {
          ++out.errors;
        }
        op = Op{};
      }
    }
    tb.run_for(20 * sim::kNsPerUs);
    const cp::ReplicationStatus s = cp.replications()[0];
    out.max_lag_ns = std::max(out.max_lag_ns, s.lag_ns);
    out.max_lag_bytes = std::max(out.max_lag_bytes, s.lag_bytes);
  };
  for (int i = 0; i < 1000; ++i)
    step();
  if (outage_ns > 0) {
    tb.fabric().link_of("sw0:7")->set_up(false);
    for (uint64_t t = 0; t < outage_ns; t += 20 * sim::kNsPerUs)
      step();
    tb.fabric().link_of("sw0:7")->set_up(true);
  }
  for (int i = 0; i < 1000; ++i)
    step();
  // Quiet: the writes in flight end, and the remote catches up.
  for (Op& op : ops) {
    if (op.data) tb.wait(*op.data);
    if (op.log) tb.wait(*op.log);
  }
  tb.run_for(100 * sim::kNsPerMs);
  out.status = cp.replications()[0];
  out.copy_timeouts = cp.stats().copy_timeouts;

  out.site = site.stats();
  out.final_equal = image(tb, "remote", 1, 0) == image(tb, "disk0", 0, kDataLba[0]) &&
                    image(tb, "remote", 2, 0) == image(tb, "disk0", 0, kDataLba[1]);
  return out;
}

TEST(Replication, AtEveryBarrierTheRemoteImageIsThePrimaryGroupAtThatInstant) {
  const ReplicationRun r = run_replication(0);
  EXPECT_GT(r.data_writes, 500u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_GT(r.barriers, 10u);
  // Barriers go on every interval: the last one may still be shipping.
  EXPECT_GE(r.status.epochs_applied + 1, r.status.epochs_closed);
  EXPECT_EQ(r.epochs_compared, r.status.epochs_applied);
  EXPECT_EQ(r.epochs_differing, 0u);
  EXPECT_TRUE(r.final_equal);
  EXPECT_GT(r.site.records_applied, r.data_writes);
  EXPECT_EQ(r.copy_timeouts, 0u);
}

TEST(Replication, ALinkOutageOnlyDelaysTheRemoteAndTheLagIsReported) {
  const ReplicationRun r = run_replication(15 * sim::kNsPerMs);
  EXPECT_GT(r.data_writes, 500u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_GT(r.copy_timeouts, 0u);
  EXPECT_GT(r.max_lag_ns, 15 * sim::kNsPerMs);
  EXPECT_GT(r.max_lag_bytes, 0u);
  EXPECT_GE(r.status.epochs_applied + 1, r.status.epochs_closed);
  EXPECT_EQ(r.epochs_differing, 0u);
  EXPECT_EQ(r.epochs_compared, r.status.epochs_applied);
  EXPECT_TRUE(r.final_equal);
  RecordProperty("max_lag_us", static_cast<int>(r.max_lag_ns / 1000));
  RecordProperty("max_lag_bytes", static_cast<int>(r.max_lag_bytes));
}

std::string scheduled_yaml() {
  std::string y = replication_yaml();
  const std::string host = "  - {name: host0, port: sw0:0, workload: {lba_count: 1000}}\n";
  y.replace(y.find(host), host.size(),
            "  - {name: host0, port: sw0:0, workload: {read_percent: 30, block_size: 4096, "
            "queue_depth: 4, lba_count: 2048}}\n");
  y.replace(y.find("duration: 1s"), 12, "duration: 60ms");
  return y + R"(faults:
  - {at: 15ms, kind: link_delay, target: sw0:7, delay: 2ms}
  - {at: 25ms, kind: link_delay, target: sw0:7, delay: 100us}
  - {at: 35ms, kind: link_down, target: sw0:7}
  - {at: 45ms, kind: link_up, target: sw0:7}
replications:
  - name: rep0
    switch: sw0
    volumes: [vol0, vol1]
    interval: 2ms
    staging: {disk: remote, lun: 0, blocks: 16384}
    images:
      - {volume: vol0, disk: remote, lun: 1}
      - {volume: vol1, disk: remote, lun: 2}
)";
}

TEST(Replication, DeclaredInTheTopologyTheReportShowsEpochsBytesAndLag) {
  auto topology = sim::parse_topology_yaml(scheduled_yaml(), "rep.yaml");
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto fabric = sim::Fabric::build(*topology, {});
  ASSERT_TRUE(fabric.ok()) << fabric.status();
  sim::Fabric& f = **fabric;
  ASSERT_TRUE(f.run().ok());
  EXPECT_GT(f.host("host0")->stats().writes, 300u);
  EXPECT_EQ(f.host("host0")->stats().verify_errors, 0u);
  const nlohmann::ordered_json during = sim::make_report(f);
  // Copies lost with the link time out (200 ms) and are sent again.
  f.run_until(f.kernel().now() + 500 * sim::kNsPerMs);
  const nlohmann::ordered_json r = sim::make_report(f);
  ASSERT_EQ(r["replications"].size(), 1u);
  const auto& j = r["replications"][0];
  EXPECT_EQ(j["state"], "running");
  EXPECT_GT(j["epochs_applied"].get<uint64_t>(), 100u);
  EXPECT_GE(j["epochs_applied"].get<uint64_t>() + 1, j["epochs_closed"].get<uint64_t>());
  EXPECT_GT(j["bytes_shipped"].get<uint64_t>(), 0u);
  EXPECT_GT(j["remote"]["records_applied"].get<uint64_t>(), 300u);
  EXPECT_GT(during["replications"][0]["lag_ns"].get<uint64_t>(), 0u);
  std::vector<uint8_t> a(kBlocks * 512), b(kBlocks * 512);
  for (int v = 0; v < 2; ++v) {
    f.disk("disk0")->store(0)->read(kDataLba[v] * 512, a);
    f.disk("remote")->store(static_cast<uint16_t>(1 + v))->read(0, b);
    EXPECT_TRUE(a == b) << "vol" << v;
  }
  const std::string summary = sim::format_summary(r);
  EXPECT_NE(summary.find("replication 'rep0': running, "), std::string::npos) << summary;
  EXPECT_NE(summary.find(" applied at the remote, "), std::string::npos) << summary;
}

std::string error_of(const std::string& replication) {
  const auto t =
      sim::parse_topology_yaml(replication_yaml() + "replications:\n" + replication, "rep.yaml");
  return t.ok() ? std::string("(parsed)") : std::string(t.status().message());
}

TEST(Replication, BadTopologyEntriesNameFileLineAndField) {
  const std::string base =
      "  - {name: r, switch: sw0, volumes: [vol0], staging: {disk: remote, blocks: 1000}, images: "
      "[{volume: vol0, disk: remote, lun: 1}]}\n";
  EXPECT_EQ(error_of(base), "(parsed)");
  auto with = [&](const std::string& from, const std::string& to) {
    std::string y = base;
    y.replace(y.find(from), from.size(), to);
    return error_of(y);
  };
  EXPECT_NE(with("volumes: [vol0]", "volumes: [nope]").find("no volume 'nope'"), std::string::npos);
  EXPECT_NE(with("disk: remote, blocks", "disk: gone, blocks").find("no disk 'gone'"),
            std::string::npos);
  EXPECT_NE(with("[{volume: vol0, disk: remote, lun: 1}]", "[]").find("no image for volume 'vol0'"),
            std::string::npos);
  EXPECT_NE(with("switch: sw0", "switch: sw1").find("served by switch 'sw0'"), std::string::npos);
  const std::string line = with("volumes: [vol0]", "volumes: [nope]");
  EXPECT_NE(line.find("rep.yaml:"), std::string::npos) << line;
}

}  // namespace
}  // namespace splitpath::testing
