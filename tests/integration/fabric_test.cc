// Whole-fabric runs through one and several switches: logins, discovery,
// zoning, data verified end to end, faults.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "fabric_sim/node/block_stamp.h"
#include "fabric_sim/run/report.h"
#include "fabric_sim/topology/default_scenario.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi.h"
#include "tests/integration/fabric_fixture.h"

namespace splitpath::sim {
namespace {

using testing::build_or_die;
using testing::parse_or_die;

TEST(Fabric, DefaultScenarioVerifiesEveryReadAndRespectsZones) {
  Topology t = default_topology();
  t.duration_ns = 40 * kNsPerMs;
  auto fabric = build_or_die(t);
  ASSERT_TRUE(fabric);
  ASSERT_TRUE(fabric->run().ok());
  Host* host0 = fabric->host("host0");
  Host* host1 = fabric->host("host1");
  // Zoning pairs each host with the virtual target vt0 only; LUN masking shows
  // host0 both of its LUNs, host1 only LUN 1. No host sees a disk.
  EXPECT_EQ(host0->luns().size(), 2u);
  ASSERT_EQ(host1->luns().size(), 1u);
  EXPECT_EQ(host1->luns()[0].lun, 1);
  for (Host* h : {host0, host1}) {
    for (const DiscoveredLun& l : h->luns()) {
      for (const auto& d : fabric->disks())
        EXPECT_NE(l.target_wwpn, d->wwpn()) << h->name() << " must not see " << d->name();
    }
  }
  for (Host* h : {host0, host1}) {
    EXPECT_GT(h->stats().reads, 50u) << h->name();
    EXPECT_GT(h->stats().writes, 50u) << h->name();
    EXPECT_EQ(h->stats().verify_errors, 0u) << h->name();
    EXPECT_EQ(h->stats().check_conditions + h->stats().timeouts + h->stats().protocol_errors, 0u);
    EXPECT_EQ(h->outstanding(), 0u);
  }
  // What the hosts wrote reached the disks behind the volumes, once.
  const uint64_t written = host0->stats().bytes_written + host1->stats().bytes_written;
  uint64_t disk_written = 0;
  for (const auto& d : fabric->disks())
    disk_written += d->stats().bytes_written;
  EXPECT_EQ(written, disk_written);
  for (const auto& sw : fabric->switches()) {
    for (uint32_t p = 0; p < sw->port_count(); ++p)
      EXPECT_EQ(sw->port_stats(p).drops(), 0u);
  }
}

TEST(Fabric, DiskHoldsTheStampedBytesTheHostWrote) {
  // One host, one disk, writes only: every unit on the disk that the host wrote
  // carries a valid stamp for its own address.
  Topology t = parse_or_die(R"(
duration: 5ms
switches: [{name: sw0, domain: 3, ports: 4}]
disks: [{name: d0, port: sw0:1, luns: [{lun: 0, size: 64MiB}]}]
hosts:
  - {name: h0, port: sw0:0, workload: {read_percent: 0, block_size: 8KiB, queue_depth: 4, lba_count: 4096}}
)");
  auto fabric = build_or_die(t);
  ASSERT_TRUE(fabric->run().ok());
  Host* h = fabric->host("h0");
  ASSERT_GT(h->stats().writes, 10u);
  const SparseStore* store = fabric->disk("d0")->store(0);
  ASSERT_NE(store, nullptr);
  uint64_t stamped = 0;
  for (uint64_t unit = 0; unit < 4096; ++unit) {
    uint8_t buf[kStampUnit];
    store->read(unit * kStampUnit, buf);
    BlockStamp s;
    const StampCheck c = read_stamp(std::span<const uint8_t, kStampUnit>(buf, kStampUnit), &s);
    ASSERT_NE(c, StampCheck::kCorrupt) << "unit " << unit;
    if (c == StampCheck::kValid) {
      EXPECT_EQ(s.unit, unit);
      EXPECT_EQ(s.writer, h->wwpn());
      ++stamped;
    }
  }
  EXPECT_GT(stamped, 0u);
  EXPECT_EQ(fabric->disk("d0")->port_id().domain(), 3);
}

constexpr const char* kThreeSwitches = R"(
duration: 10ms
switches:
  - {name: edge_a, domain: 1, ports: 8}
  - {name: core, domain: 2, ports: 8}
  - {name: edge_b, domain: 3, ports: 8}
isls:
  - {a: edge_a:7, b: core:0}
  - {a: edge_a:6, b: core:1}
  - {a: core:7, b: edge_b:7}
disks:
  - {name: far, port: edge_b:0, luns: [{lun: 0, size: 1GiB}, {lun: 1, size: 1GiB, block_size: 4096}]}
  - {name: mid, port: core:4, luns: [{lun: 0, size: 1GiB}]}
hosts:
  - {name: h0, port: edge_a:0, workload: {read_percent: 50, block_size: 16KiB, queue_depth: 8, lba_count: 65536}}
  - {name: h1, port: edge_b:1, workload: {read_percent: 50, block_size: 4KiB, queue_depth: 4, lba_start: 100000, lba_count: 65536}}
zones:
  - {name: z0, members: [h0, far, mid]}
  - {name: z1, members: [h1, mid]}
)";

TEST(Fabric, SeveralSwitchesRouteOverIslsAndShareTheNameServer) {
  auto fabric = build_or_die(parse_or_die(kThreeSwitches));
  ASSERT_TRUE(fabric->run().ok());
  Host* h0 = fabric->host("h0");
  Host* h1 = fabric->host("h1");
  // h0 (domain 1) found both LUNs of the disk two switches away and the one on
  // the core; h1 only the core disk (zoning), through the name-server replica
  // of its own switch.
  EXPECT_EQ(h0->luns().size(), 3u);
  ASSERT_EQ(h1->luns().size(), 1u);
  EXPECT_EQ(h1->luns()[0].target_wwpn, fabric->disk("mid")->wwpn());
  for (Host* h : {h0, h1}) {
    EXPECT_GT(h->stats().ios_completed, 100u);
    EXPECT_EQ(h->stats().verify_errors, 0u);
    EXPECT_EQ(h->stats().check_conditions + h->stats().timeouts, 0u);
  }
  // Both equal-cost ISLs between edge_a and core carried traffic.
  Switch* edge_a = fabric->switch_named("edge_a");
  EXPECT_GT(edge_a->port_stats(7).rx_frames, 100u);
  EXPECT_GT(edge_a->port_stats(6).rx_frames, 100u);
  EXPECT_EQ(fabric->disk("far")->port_id().domain(), 3);
  EXPECT_GT(fabric->disk("far")->stats().writes, 0u);
}

TEST(Fabric, ZoningDropsFramesBetweenPortsInNoCommonZone) {
  Topology t = default_topology();
  t.duration_ns = 2 * kNsPerMs;
  auto fabric = build_or_die(t);
  fabric->run_until(kNsPerMs);  // everyone is logged in
  Host* host0 = fabric->host("host0");
  Disk* disk3 = fabric->disk("disk3");  // in no zone and behind no volume
  ASSERT_EQ(host0->login_state(), LoginState::kReady);
  ASSERT_EQ(disk3->login_state(), LoginState::kReady);
  const uint64_t commands_before = disk3->stats().commands;
  // host0 crafts a PLOGI-less FCP_CMND straight to disk3's address.
  Frame* f = fabric->pool().alloc();
  fc::FrameHeader h;
  h.r_ctl = fc::rctl::kDeviceDataUnsolicitedCmd;
  h.d_id = disk3->port_id();
  h.s_id = host0->port_id();
  h.type = fc::fc_type::kFcp;
  h.f_ctl = 0x290000;
  h.ox_id = 0x7000;
  (void)fc::encode_frame_header(h, {f->bytes, fc::kFrameHeaderSize});
  fc::FcpCmnd cmnd;
  cmnd.rddata = true;
  cmnd.fcp_dl = 512;
  fc::encode_cdb(fc::make_read(0, 1), {cmnd.cdb.data(), cmnd.cdb.size()});
  f->size = static_cast<uint16_t>(fc::kFrameHeaderSize + fc::fcp_cmnd_size(cmnd));
  (void)fc::encode_fcp_cmnd(cmnd, f->payload());
  Switch* sw = fabric->switch_named("sw0");
  const uint64_t drops_before = sw->port_stats(0).drop_zoning;
  host0->link()->transmit(0, f);
  fabric->run_until(2 * kNsPerMs);
  EXPECT_EQ(sw->port_stats(0).drop_zoning, drops_before + 1);
  EXPECT_EQ(disk3->stats().commands, commands_before);
  // A spoofed source address is dropped too.
  Frame* g = fabric->pool().alloc();
  h.s_id = fabric->host("host1")->port_id();
  h.d_id = disk3->port_id();
  (void)fc::encode_frame_header(h, {g->bytes, fc::kFrameHeaderSize});
  g->size = fc::kFrameHeaderSize;
  host0->link()->transmit(0, g);
  fabric->run_until(3 * kNsPerMs);
  EXPECT_EQ(sw->port_stats(0).drop_not_logged_in, 1u);
  EXPECT_EQ(disk3->stats().commands, commands_before);
}

TEST(Fabric, MediumErrorFailsExactlyTheCommandsThatTouchIt) {
  Topology t = parse_or_die(R"(
duration: 20ms
switches: [{name: sw0, domain: 1, ports: 4}]
disks: [{name: d0, port: sw0:1, luns: [{lun: 0, size: 64MiB}]}]
hosts:
  - {name: h0, port: sw0:0, workload: {read_percent: 50, block_size: 4KiB, queue_depth: 8, lba_count: 2048}}
faults:
  - {at: 5ms, kind: medium_error, target: d0, lba: 1000, count: 24}
)");
  auto fabric = build_or_die(t);
  ASSERT_TRUE(fabric->run().ok());
  Host* h = fabric->host("h0");
  const auto& failed = h->failed_commands();
  ASSERT_FALSE(failed.empty());
  for (const FailedCommand& c : failed) {
    EXPECT_GE(c.at, 5 * kNsPerMs);
    EXPECT_EQ(c.status, fc::scsi_status::kCheckCondition);
    EXPECT_EQ(c.sense_key, fc::sense_key::kMediumError);
    EXPECT_EQ(c.asc, c.write ? 0x0C : 0x11);
    EXPECT_LT(c.lba, 1024u) << "only commands overlapping [1000, 1024) may fail";
    EXPECT_GT(c.lba + c.blocks, 1000u);
  }
  // Every command the disk failed reached the host as CHECK CONDITION, and
  // nothing else went wrong: reads elsewhere still verify.
  EXPECT_EQ(fabric->disk("d0")->stats().check_conditions, failed.size());
  EXPECT_EQ(h->stats().check_conditions, failed.size());
  EXPECT_EQ(h->stats().verify_errors, 0u);
  EXPECT_EQ(h->stats().timeouts, 0u);
  EXPECT_GT(h->stats().ios_completed, 1000u);
}

TEST(Fabric, OfflineDiskTimesOutAndComesBack) {
  Topology t = parse_or_die(R"(
duration: 40ms
switches: [{name: sw0, domain: 1, ports: 4}]
disks: [{name: d0, port: sw0:1, luns: [{lun: 0, size: 64MiB}]}]
hosts:
  - {name: h0, port: sw0:0, workload: {read_percent: 50, block_size: 4KiB, queue_depth: 4, lba_count: 2048, io_timeout: 5ms}}
faults:
  - {at: 10ms, kind: disk_offline, target: d0}
  - {at: 20ms, kind: disk_online, target: d0}
)");
  auto fabric = build_or_die(t);
  fabric->run_until(21 * kNsPerMs);
  Host* h = fabric->host("h0");
  const uint64_t ios_when_back = h->stats().ios_completed;
  ASSERT_TRUE(fabric->run().ok());
  // Commands sent while the disk was dark time out (5 ms later) and nothing
  // else fails; once it is back, I/O flows again.
  EXPECT_GE(h->stats().timeouts, 4u);
  for (const FailedCommand& c : h->failed_commands()) {
    EXPECT_EQ(c.status, 0xFF);
    EXPECT_GE(c.at, 14 * kNsPerMs);  // issued just before 10 ms, timed out 5 ms later
    EXPECT_LE(c.at, 25 * kNsPerMs);
  }
  EXPECT_EQ(h->stats().timeouts, h->failed_commands().size());
  EXPECT_EQ(h->stats().verify_errors, 0u);
  EXPECT_GT(fabric->disk("d0")->stats().dropped_offline, 0u);
  EXPECT_GT(h->stats().ios_completed, ios_when_back + 100);
}

TEST(Fabric, DiskDelayAddsToEveryCommandsLatency) {
  auto run_with = [](const std::string& faults) {
    auto fabric = build_or_die(parse_or_die(R"(
duration: 20ms
switches: [{name: sw0, domain: 1, ports: 4}]
disks: [{name: d0, port: sw0:1, luns: [{lun: 0, size: 64MiB}], latency: 50us}]
hosts:
  - {name: h0, port: sw0:0, workload: {read_percent: 100, block_size: 4KiB, queue_depth: 1, lba_count: 2048}}
)" + faults));
    EXPECT_TRUE(fabric->run().ok());
    return fabric->host("h0")->stats().latency.percentile(0.5);
  };
  const uint64_t plain = run_with("");
  const uint64_t delayed =
      run_with("faults: [{at: 0ms, kind: disk_delay, target: d0, delay: 300us}]\n");
  EXPECT_GT(plain, 50'000u);
  EXPECT_LT(plain, 80'000u);
  // 300 us more per command, within the histogram's 3% resolution.
  EXPECT_NEAR(static_cast<double>(delayed - plain), 300'000.0, 0.03 * delayed);
}

TEST(Fabric, LinkDownLogsOutAndTheHostLogsBackIn) {
  Topology t = parse_or_die(R"(
duration: 30ms
switches: [{name: sw0, domain: 1, ports: 4}]
disks: [{name: d0, port: sw0:1, luns: [{lun: 0, size: 64MiB}]}]
hosts:
  - {name: h0, port: sw0:0, workload: {read_percent: 50, block_size: 4KiB, queue_depth: 4, lba_count: 2048}}
faults:
  - {at: 10ms, kind: link_down, target: h0}
  - {at: 15ms, kind: link_up, target: h0}
)");
  auto fabric = build_or_die(t);
  fabric->run_until(12 * kNsPerMs);
  Host* h = fabric->host("h0");
  EXPECT_EQ(h->login_state(), LoginState::kOffline);
  const uint64_t before = h->stats().ios_completed;
  ASSERT_TRUE(fabric->run().ok());
  EXPECT_EQ(h->login_state(), LoginState::kReady);
  EXPECT_GT(h->stats().ios_completed, before + 100) << "I/O resumed after the new login";
  EXPECT_EQ(h->stats().verify_errors, 0u);
  EXPECT_EQ(h->luns().size(), 1u);
}

// A host with a fixed arrival rate: an arrival that fell while the LUN was
// gone used to end the chain, and the job never issued again.
TEST(Fabric, RateLimitedJobResumesAfterALinkBounce) {
  Topology t = parse_or_die(R"(
duration: 60ms
switches: [{name: sw0, domain: 1, ports: 4}]
disks: [{name: d0, port: sw0:1, luns: [{lun: 0, size: 64MiB}]}]
hosts:
  - {name: h0, port: sw0:0, workload: {read_percent: 50, block_size: 4KiB, queue_depth: 4, lba_count: 2048, rate_iops: 20000}}
faults:
  - {at: 10ms, kind: link_down, target: h0}
  - {at: 20ms, kind: link_up, target: h0}
)");
  auto fabric = build_or_die(t);
  fabric->run_until(30 * kNsPerMs);
  Host* h = fabric->host("h0");
  ASSERT_EQ(h->login_state(), LoginState::kReady);
  const uint64_t before = h->stats().ios_completed;
  ASSERT_TRUE(fabric->run().ok());
  // 30 ms at 20,000 IOPS is about 600 I/Os.
  EXPECT_GT(h->stats().ios_completed, before + 300) << "I/O resumed after the new login";
  EXPECT_EQ(h->stats().verify_errors, 0u);
}

}  // namespace
}  // namespace splitpath::sim
