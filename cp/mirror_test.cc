// The CP's side of write splitting and serialization (figures 16-17) on a
// volume mirrored on disks A and B: its writes go to both sides as copies;
// write authority over a mirror extent goes to one port's FP at a time;
// a write the FP faulted for serialization is written by the CP after the
// FP's extent is revoked and drained, then the extent goes back; a side's
// failure never reaches the host as GOOD.
#include <gtest/gtest.h>

#include "cp/target/scsi_target.h"
#include "cp/testing/cp_harness.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {
namespace {

using fpapi::FaultKind;
using fpapi::MsgType;
using testing::kDiskA;
using testing::kDiskAId;
using testing::kDiskB;
using testing::kDiskBId;
using testing::kHost1Id;

class CpMirrorTest : public testing::CpHarness {
 protected:
  CpMirrorTest() {
    // 400 blocks in extents of 100: side 0 on disk A LUN 4 from 100, side 1
    // on disk B LUN 5 from 0.
    extra_definitions = [](ControlPath& cp) {
      VolumeDef v;
      v.name = "mir";
      VsegDef d;
      d.blocks = 400;
      d.extent_blocks = 100;
      d.mirror = MirrorDef{{{kDiskA, 4, 100, 0}, {kDiskB, 5, 0, 0}}};
      v.vsegs = {d};
      std::string error;
      ASSERT_TRUE(cp.add_volume(v, &error)) << error;
      VirtualTargetDef t;
      t.name = "tm";
      t.wwpn = 0x5005350000000077;
      t.luns = {LunDef{0, "mir", {}, false}};
      ASSERT_TRUE(cp.add_target(t, &error)) << error;
    };
  }
  uint32_t mirror_target() const { return cp->target_port_id("tm"); }
  uint32_t mirror_vseg() const { return 4; }  // vol0 has VSEGs 1-2, vol1 3

  fpapi::CpMappingMissReply miss(uint32_t port, uint32_t utag, uint64_t lba, bool write) {
    fpapi::CpMappingMiss m;
    m.utag = utag;
    m.lv_id = 3;
    m.vseg_id = mirror_vseg();
    m.lba = lba;
    m.blocks = 1;
    m.is_write = write ? 1 : 0;
    deliver(port, m);
    auto r = sent<fpapi::CpMappingMissReply>(port);
    EXPECT_FALSE(r.empty());
    return r.empty() ? fpapi::CpMappingMissReply{} : r.back();
  }
  void ack_removal(uint32_t port) {
    for (const auto& m : sent<fpapi::FpMapping>(port, MsgType::kFpRemoveMapping)) {
      fpapi::FpReply r;
      r.req_id = m.req_id;
      r.request = MsgType::kFpRemoveMapping;
      r.value = 1;
      r.now_ns = env.now_ns();
      deliver(port, r);
    }
  }
  void answer_poll(uint32_t port, uint32_t count) {
    auto q = sent<fpapi::FpQueryPendingIOs>(port);
    ASSERT_FALSE(q.empty());
    fpapi::FpQueryPendingIOsReply r;
    r.req_id = q.back().req_id;
    r.count = count;
    r.now_ns = env.now_ns();
    deliver(port, r);
  }
  void complete_leg(uint32_t port, const fpapi::FpDispatchIO& d, uint8_t status = 0) {
    fpapi::CpDispatchIOComplete c;
    c.dtag = d.dtag;
    c.utag = d.utag;
    c.scsi_status = status;
    c.bytes_transferred = status == 0 ? d.data_length : 0;
    deliver(port, c);
  }
  static uint64_t lba_of(const fpapi::FpDispatchIO& d) {
    auto c = fc::decode_cdb(d.cdb);
    EXPECT_TRUE(c.ok());
    return c.ok() ? c->lba : 0;
  }
};

TEST_F(CpMirrorTest, WritesGoToBothSidesAsCopies) {
  bring_up();
  // 20 blocks across the extent boundary at 100: two pieces, two sides each.
  queue_io(0, FaultKind::kSpansExtents,
           make_io(10, mirror_target(), 0, fc::make_write(90, 20), 20 * 512));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 4u);
  EXPECT_EQ(legs[0].target_id, kDiskAId);
  EXPECT_EQ(legs[0].lun, 4);
  EXPECT_EQ(lba_of(legs[0]), 190u);
  EXPECT_EQ(legs[1].target_id, kDiskBId);
  EXPECT_EQ(legs[1].lun, 5);
  EXPECT_EQ(lba_of(legs[1]), 90u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(legs[i].copies, 2);
    EXPECT_EQ(legs[i].upstream_offset, 0u);
    EXPECT_EQ(legs[i].data_length, 10u * 512);
  }
  EXPECT_EQ(legs[2].upstream_offset, 10u * 512);
  EXPECT_EQ(lba_of(legs[2]), 200u);
  EXPECT_EQ(lba_of(legs[3]), 100u);
  for (const auto& l : legs)
    complete_leg(0, l);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kGood);
  // A read goes to one side.
  clear();
  queue_io(0, FaultKind::kSpansExtents,
           make_io(11, mirror_target(), 0, fc::make_read(50, 8), 8 * 512));
  legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(legs[0].copies, 0);
}

TEST_F(CpMirrorTest, ASideAnsweringBusyFailsTheWriteAndStaysAlive) {
  bring_up();
  queue_io(0, FaultKind::kCapacity, make_io(12, mirror_target(), 0, fc::make_write(0, 4), 2048));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 2u);
  complete_leg(0, legs[0]);
  complete_leg(0, legs[1], fc::scsi_status::kBusy);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kBusy);
  EXPECT_EQ(cp->stats().side_deaths, 0u);
  EXPECT_EQ(cp->mirrors()[0].sides[1].state, map::SideState::kAlive);
}

TEST_F(CpMirrorTest, ASideFailingAWriteIsDeadBeforeTheWriteIsDoneAgainOnTheOther) {
  bring_up();
  queue_io(0, FaultKind::kCapacity, make_io(12, mirror_target(), 0, fc::make_write(0, 4), 2048));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 2u);
  clear();
  complete_leg(0, legs[0]);
  fpapi::CpDispatchIOComplete c;
  c.dtag = legs[1].dtag;
  c.utag = legs[1].utag;
  c.scsi_status = fc::scsi_status::kCheckCondition;
  c.sense.assign(check_condition(fc::sense_key::kMediumError, 0x0C, 0x00).sense);
  deliver(0, c);
  // Nothing to the host yet: side 1 dies first, by a restrictive update of
  // the whole VSEG at every FP.
  EXPECT_TRUE(sent<fpapi::FpQueueIOComplete>(0).empty());
  for (uint32_t p = 0; p < kPorts; ++p) {
    auto removed = sent<fpapi::FpMapping>(p, MsgType::kFpRemoveMapping);
    ASSERT_EQ(removed.size(), 1u) << "port " << p;
    EXPECT_EQ(removed[0].extent.start, 0u);
    EXPECT_EQ(removed[0].extent.length, 400u);
    ack_removal(p);
    answer_poll(p, 0);
  }
  // The FPs that had the entry get it with side 1 DEAD.
  auto replaced = sent<fpapi::FpMapping>(0, MsgType::kFpReplaceMapping);
  ASSERT_FALSE(replaced.empty());
  EXPECT_EQ(replaced[0].redirect.descriptor.side(1).state, map::SideState::kDead);
  EXPECT_EQ(replaced[0].redirect.descriptor.side(0).state, map::SideState::kAlive);
  // The write again, to side 0 alone, and only then GOOD to the host.
  legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(legs[0].target_id, kDiskAId);
  EXPECT_EQ(legs[0].copies, 0);
  EXPECT_EQ(lba_of(legs[0]), 100u);
  complete_leg(0, legs[0]);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(cp->stats().side_deaths, 1u);
  EXPECT_EQ(cp->stats().side_failure_redos, 1u);
  const MirrorReport m = cp->mirrors()[0];
  EXPECT_EQ(m.generation, 1u);
  EXPECT_EQ(m.sides[1].state, map::SideState::kDead);
  EXPECT_NE(m.sides[1].why.find("sense key 3h"), std::string::npos) << m.sides[1].why;
}

TEST_F(CpMirrorTest, AFailedSplitWriteNamesItsSideAndIsDoneAgainOnTheOther) {
  bring_up();
  fpapi::CpQueueIO q;
  q.reason = FaultKind::kDownstreamError;
  q.io = make_io(13, mirror_target(), 0, fc::make_write(0, 4), 2048);
  q.downstream_status = fc::scsi_status::kCheckCondition;
  q.sense.assign(check_condition(fc::sense_key::kHardwareError, 0x44, 0x00).sense);
  q.downstream_target = kDiskAId;
  deliver(0, q);
  EXPECT_TRUE(sent<fpapi::FpQueueIOComplete>(0).empty());
  for (uint32_t p = 0; p < kPorts; ++p) {
    ack_removal(p);
    answer_poll(p, 0);
  }
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(legs[0].target_id, kDiskBId);
  complete_leg(0, legs[0]);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(cp->mirrors()[0].sides[0].state, map::SideState::kDead);
  // The last ALIVE side never dies: its failure goes to the host.
  clear();
  q.io = make_io(14, mirror_target(), 0, fc::make_write(0, 4), 2048);
  q.downstream_target = kDiskBId;
  deliver(0, q);
  done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(cp->mirrors()[0].sides[1].state, map::SideState::kAlive);
}

TEST_F(CpMirrorTest, ASideEndingGoodButShortIsNeverGoodToTheHost) {
  bring_up();
  // An FP-split write whose side answered GOOD with a residual (the other
  // side was aborted): the host must not see GOOD.
  fpapi::CpQueueIO q;
  q.reason = FaultKind::kDownstreamError;
  q.io = make_io(13, mirror_target(), 0, fc::make_write(0, 4), 2048);
  q.downstream_status = fc::scsi_status::kGood;
  q.downstream_residual = 512;
  deliver(0, q);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kCheckCondition);
  // The same from a simple volume keeps the disk's GOOD and residual.
  q.io = make_io(14, target_id(), 0, fc::make_write(0, 4), 2048);
  deliver(0, q);
  done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].scsi_status, fc::scsi_status::kGood);
}

TEST_F(CpMirrorTest, OnePortAtATimeHoldsAMirrorExtent) {
  bring_up();
  // Port 0 takes extent [0, 100); port 1's miss on it is queued and port 0's
  // extent revoked; port 1 gets it once port 0 has drained and asks again.
  EXPECT_EQ(miss(0, 1, 10, true).action, fpapi::MissAction::kContinue);
  EXPECT_EQ(miss(1, 2, 20, false).action, fpapi::MissAction::kQueue);
  auto removed = sent<fpapi::FpMapping>(0, MsgType::kFpRemoveMapping);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].vseg.id, mirror_vseg());
  EXPECT_EQ(removed[0].extent.start, 0u);
  EXPECT_EQ(removed[0].extent.length, 100u);
  EXPECT_EQ(miss(1, 3, 20, true).action, fpapi::MissAction::kQueue);  // still draining
  ack_removal(0);
  answer_poll(0, 1);  // a write of port 0's still out
  env.run_for(100'000);
  EXPECT_EQ(miss(1, 4, 20, true).action, fpapi::MissAction::kQueue);
  answer_poll(0, 0);
  EXPECT_EQ(miss(1, 5, 20, true).action, fpapi::MissAction::kContinue);
  // Another extent is independent.
  EXPECT_EQ(miss(0, 6, 150, true).action, fpapi::MissAction::kContinue);
  EXPECT_GE(cp->stats().mirror_revokes, 1u);
}

TEST_F(CpMirrorTest, SerializationRevokesDrainsWritesAndGivesTheExtentBack) {
  bring_up();
  ASSERT_EQ(miss(0, 1, 10, true).action, fpapi::MissAction::kContinue);
  clear();
  // Figure 17: the FP faulted an overlapping write.
  queue_io(0, FaultKind::kSerialization,
           make_io(20, mirror_target(), 0, fc::make_write(10, 4), 2048));
  EXPECT_TRUE(sent<fpapi::FpDispatchIO>(0).empty()) << "no leg before the FP's writes drained";
  ASSERT_EQ(sent<fpapi::FpMapping>(0, MsgType::kFpRemoveMapping).size(), 1u);
  ack_removal(0);
  answer_poll(0, 1);
  env.run_for(100'000);
  EXPECT_TRUE(sent<fpapi::FpDispatchIO>(0).empty());
  answer_poll(0, 0);
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 2u);
  // Meanwhile a second CP write into the same blocks waits for the first.
  queue_io(0, FaultKind::kSerialization,
           make_io(21, mirror_target(), 0, fc::make_write(12, 4), 2048));
  EXPECT_EQ(sent<fpapi::FpDispatchIO>(0).size(), 2u);
  EXPECT_EQ(cp->stats().mirror_write_waits, 1u);
  complete_leg(0, legs[0]);
  complete_leg(0, legs[1]);
  legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 4u);
  EXPECT_TRUE(sent<fpapi::FpMapping>(0, MsgType::kFpAddMapping).empty())
      << "the extent stays the CP's while its writes are out";
  complete_leg(0, legs[2]);
  complete_leg(0, legs[3]);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].utag, 20u);
  EXPECT_EQ(done[1].utag, 21u);
  // Authority back to port 0's FP: its extent is added again.
  bool extent_back = false;
  for (const auto& m : sent<fpapi::FpMapping>(0, MsgType::kFpAddMapping))
    extent_back = extent_back || (m.kind == fpapi::MappingKind::kExtent && m.extent.start == 0);
  EXPECT_TRUE(extent_back);
  EXPECT_EQ(miss(0, 22, 10, true).action, fpapi::MissAction::kContinue);
}

TEST_F(CpMirrorTest, WithSerializationSkippedEveryPortGetsTheExtent) {
  CpConfig c;
  c.skip_serialization_for_testing = true;
  bring_up(c);
  EXPECT_EQ(miss(0, 1, 10, true).action, fpapi::MissAction::kContinue);
  EXPECT_EQ(miss(1, 2, 20, true).action, fpapi::MissAction::kContinue);
  EXPECT_EQ(cp->stats().mirror_revokes, 0u);
}

}  // namespace
}  // namespace splitpath::cp
