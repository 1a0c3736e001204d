// Multipath failover in the CP (figures 11 and 12), with the harness playing
// the FPs and disks: a VSEG reachable through disk A's port and disk B's (two
// ports of one device, as the CP is told); A leaves the name server; the CP
// tests B with TEST UNIT READY, then switches with a restrictive update that
// aborts the FP I/Os pending on A at the first poll and fails them back with
// ABORTED COMMAND (the host retries), and the FPs reload the extents through B.
#include <gtest/gtest.h>

#include "cp/testing/cp_harness.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {
namespace {

using fpapi::FaultKind;
using fpapi::MsgType;
using testing::CpHarness;
using testing::kDiskA;
using testing::kDiskAId;
using testing::kDiskB;
using testing::kDiskBId;
using testing::kHost2Id;

constexpr uint32_t kMpLv = 3;    // after vol0 and vol1
constexpr uint32_t kMpVseg = 4;  // after vol0's two VSEGs and vol1's

class CpMultipathTest : public CpHarness {
 protected:
  // Volume "mp": 400 blocks of LUN 4 from LBA 0 in extents of 100, through
  // port A (path 0) or port B (path 1).
  void bring_up_multipath() {
    extra_definitions = [](ControlPath& cp) {
      VolumeDef v;
      v.name = "mp";
      VsegDef seg{400, kDiskA, 4, 0, 100, 0};
      seg.alternate_paths = {kDiskB};
      v.vsegs = {seg};
      std::string error;
      ASSERT_TRUE(cp.add_volume(v, &error)) << error;
    };
    bring_up();
  }

  void lose_port_a() {
    env.name_server.erase(kDiskA);
    cp->on_fabric_change(kDiskAId);
    env.run_for(100'000);
  }

  // The TEST UNIT READYs sent down a path, on every port.
  std::vector<std::pair<uint32_t, fpapi::FpDispatchIO>> path_tests() {
    std::vector<std::pair<uint32_t, fpapi::FpDispatchIO>> out;
    for (uint32_t p = 0; p < kPorts; ++p) {
      for (const auto& d : sent<fpapi::FpDispatchIO>(p)) {
        if (d.utag == fpapi::kNoTag && d.cdb[0] == fc::scsi_op::kTestUnitReady)
          out.emplace_back(p, d);
      }
    }
    return out;
  }

  void answer_test(uint32_t port, const fpapi::FpDispatchIO& d, bool transport_error) {
    fpapi::CpDispatchIOComplete c;
    c.dtag = d.dtag;
    c.utag = fpapi::kNoTag;
    c.transport_error = transport_error ? 1 : 0;
    c.scsi_status = fc::scsi_status::kGood;
    deliver(port, c, 100'000);
  }
};

TEST_F(CpMultipathTest, PathGoneTestsTheOtherSwitchesAndFailsPendingIosBack) {
  bring_up_multipath();
  lose_port_a();
  auto tests = path_tests();
  ASSERT_EQ(tests.size(), 1u);
  EXPECT_EQ(tests[0].second.target_id, kDiskBId);
  EXPECT_EQ(tests[0].second.lun, 4u);
  EXPECT_EQ(cp->stats().path_tests, 1u);
  // Nothing is revoked before the other path answers.
  EXPECT_TRUE(sent<fpapi::FpMapping>(0, MsgType::kFpRemoveMapping).empty());
  answer_test(tests[0].first, tests[0].second, false);
  for (uint32_t p = 0; p < kPorts; ++p) {
    auto rm = sent<fpapi::FpMapping>(p, MsgType::kFpRemoveMapping);
    ASSERT_EQ(rm.size(), 1u);
    EXPECT_EQ(rm[0].vseg.id, kMpVseg);
    EXPECT_EQ(rm[0].extent.start, 0u);
    EXPECT_EQ(rm[0].extent.length, 400u);
    fpapi::FpReply r;
    r.req_id = rm[0].req_id;
    r.request = MsgType::kFpRemoveMapping;
    r.value = 4;
    r.now_ns = 10;
    deliver(p, r, 0);
  }
  env.run_for(10'000);
  // Port 1 has nothing pending; port 0 has one I/O on the dead path: it is
  // aborted at the first poll, not after drain_timeout_ns.
  for (uint32_t p = 0; p < kPorts; ++p) {
    auto q = sent<fpapi::FpQueryPendingIOs>(p);
    ASSERT_EQ(q.size(), 1u);
    fpapi::FpQueryPendingIOsReply r;
    r.req_id = q[0].req_id;
    r.count = p == 0 ? 1 : 0;
    deliver(p, r, 0);
  }
  env.run_for(10'000);
  auto aborts = sent<fpapi::FpAbortPendingIOs>(0);
  ASSERT_EQ(aborts.size(), 1u);
  EXPECT_EQ(aborts[0].filter.vseg_id, kMpVseg);
  EXPECT_EQ(aborts[0].filter.started_by_ns, 10u);
  EXPECT_EQ(aborts[0].filter.owner, fpapi::kOwnerFp);
  fpapi::CpQueueIO q;
  q.reason = FaultKind::kAborted;
  q.io = make_io(70, target_id(), 0, fc::make_write(20, 4), 4 * 512, kHost2Id, 0x77);
  deliver(0, q, 100'000);
  // Failed back to the host for its retry, not reissued by the CP: port 0
  // sent no leg (only, perhaps, the path test).
  for (const auto& d : sent<fpapi::FpDispatchIO>(0))
    EXPECT_EQ(d.utag, fpapi::kNoTag) << "a leg for utag " << d.utag;
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].utag, 70u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kCheckCondition);
  ASSERT_GE(done[0].sense.view().size(), 14u);
  EXPECT_EQ(done[0].sense.view()[2] & 0x0F, fc::sense_key::kAbortedCommand);
  EXPECT_EQ(cp->stats().path_failed_ios, 1u);
  EXPECT_EQ(cp->stats().path_failovers, 0u);  // not before the drain ends
  fpapi::FpReply r;
  r.req_id = aborts[0].req_id;
  r.request = MsgType::kFpAbortPendingIOs;
  r.value = 1;
  deliver(0, r);
  EXPECT_EQ(cp->stats().path_failovers, 1u);
  EXPECT_EQ(cp->stats().updates, 1u);
  // Per entry (figure 11): a miss now loads the extent through path 1's entry.
  clear();
  fpapi::CpMappingMiss miss;
  miss.utag = 80;
  miss.lv_id = kMpLv;
  miss.vseg_id = kMpVseg;
  miss.lba = 150;
  miss.blocks = 8;
  deliver(1, miss);
  auto adds = sent<fpapi::FpMapping>(1, MsgType::kFpAddMapping);
  ASSERT_FALSE(adds.empty());
  EXPECT_EQ(adds.back().kind, fpapi::MappingKind::kExtent);
  EXPECT_EQ(adds.back().extent.start, 100u);
  EXPECT_EQ(adds.back().extent.redirect_index, 1u);
}

TEST_F(CpMultipathTest, NoOtherPathAnswersLeavesTheVsegAsItWas) {
  bring_up_multipath();
  lose_port_a();
  auto tests = path_tests();
  ASSERT_EQ(tests.size(), 1u);
  answer_test(tests[0].first, tests[0].second, /*transport_error=*/true);
  EXPECT_EQ(cp->stats().failovers_without_path, 1u);
  EXPECT_EQ(cp->stats().path_failovers, 0u);
  for (uint32_t p = 0; p < kPorts; ++p)
    EXPECT_TRUE(sent<fpapi::FpMapping>(p, MsgType::kFpRemoveMapping).empty());
}

TEST_F(CpMultipathTest, APathThatDoesNotAnswerTimesOut) {
  bring_up_multipath();
  lose_port_a();
  ASSERT_EQ(path_tests().size(), 1u);
  env.run_for(CpConfig{}.path_test_timeout_ns);
  EXPECT_EQ(cp->stats().failovers_without_path, 1u);
  EXPECT_EQ(cp->stats().paths_failed, 2u);  // A gone, B silent
}

TEST_F(CpMultipathTest, APortThatStaysRegisteredIsNoPathFailure) {
  bring_up_multipath();
  cp->on_fabric_change(kDiskAId);  // A re-registered: still in the name server
  env.run_for(100'000);
  EXPECT_TRUE(path_tests().empty());
  EXPECT_EQ(cp->stats().paths_failed, 0u);
}

}  // namespace
}  // namespace splitpath::cp
