// Restrictive updates: revoke, drain (poll, abort on timeout), change, reload,
// release the held I/Os.
#include <gtest/gtest.h>

#include "cp/testing/cp_harness.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {
namespace {

using fpapi::FaultKind;
using fpapi::MsgType;
using testing::CpHarness;
using testing::kDiskAId;
using testing::kDiskB;
using testing::kDiskBId;
using testing::kHost2;
using testing::kHost2Id;

class CpUpdateTest : public CpHarness {
 protected:
  // vol0 blocks 100..199 (VSEG 1's second extent) move to disk B LUN 3, the
  // VSEG's block 0 at physical 20000 (so block 100 lands at 20100).
  MappingChange move_extent() {
    MappingChange c;
    c.volume = "vol0";
    c.lba = 100;
    c.blocks = 100;
    c.storage = map::SimpleStorage{0, 3, 0, 20000};
    c.disk_wwpn = kDiskB;
    return c;
  }

  void start_change(const MappingChange& c) {
    cp->change_mapping(c, [this](bool ok) { result = ok; });
    env.run_for(0);
  }

  // Answers every FPRemoveMapping on `port` with now_ns = `fp_now`.
  void ack_removal(uint32_t port, uint64_t fp_now) {
    for (const auto& m : sent<fpapi::FpMapping>(port, MsgType::kFpRemoveMapping)) {
      fpapi::FpReply r;
      r.req_id = m.req_id;
      r.request = MsgType::kFpRemoveMapping;
      r.value = 1;
      r.now_ns = fp_now;
      deliver(port, r, 0);
    }
  }

  // Answers the newest FPQueryPendingIOs on `port` with `count`.
  void answer_poll(uint32_t port, uint32_t count) {
    auto q = sent<fpapi::FpQueryPendingIOs>(port);
    ASSERT_FALSE(q.empty());
    fpapi::FpQueryPendingIOsReply r;
    r.req_id = q.back().req_id;
    r.count = count;
    r.now_ns = env.now_ns();
    deliver(port, r, 0);
  }

  void settle() { env.run_for(100'000); }

  std::optional<bool> result;
};

TEST_F(CpUpdateTest, RemoveDrainChangeReloadRelease) {
  bring_up();
  start_change(move_extent());
  for (uint32_t p = 0; p < kPorts; ++p) {
    auto rm = sent<fpapi::FpMapping>(p, MsgType::kFpRemoveMapping);
    ASSERT_EQ(rm.size(), 1u);
    EXPECT_EQ(rm[0].kind, fpapi::MappingKind::kExtent);
    EXPECT_EQ(rm[0].vseg.id, 1u);
    EXPECT_EQ(rm[0].extent.start, 100u);
    EXPECT_EQ(rm[0].extent.length, 100u);
  }
  // A miss in the range is answered QUEUE; the queued I/O waits in the CP.
  fpapi::CpMappingMiss miss;
  miss.utag = 50;
  miss.lv_id = 1;
  miss.vseg_id = 1;
  miss.lba = 150;
  miss.blocks = 8;
  deliver(0, miss, 0);
  settle();
  auto replies = sent<fpapi::CpMappingMissReply>(0);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].action, fpapi::MissAction::kQueue);
  queue_io(0, FaultKind::kNoMapping,
           make_io(50, target_id(), 0, fc::make_read(150, 8), 8 * 512, kHost2Id));
  EXPECT_TRUE(sent<fpapi::FpDispatchIO>(0).empty());

  ack_removal(0, 777);
  ack_removal(1, 888);
  settle();
  auto q0 = sent<fpapi::FpQueryPendingIOs>(0);
  ASSERT_EQ(q0.size(), 1u);
  EXPECT_EQ(q0[0].filter.vseg_id, 1u);
  EXPECT_EQ(q0[0].filter.start, 100u);
  EXPECT_EQ(q0[0].filter.length, 100u);
  EXPECT_EQ(q0[0].filter.started_by_ns, 777u);
  EXPECT_EQ(q0[0].filter.owner, fpapi::kOwnerFp);
  EXPECT_EQ(sent<fpapi::FpQueryPendingIOs>(1)[0].filter.started_by_ns, 888u);

  // Port 0 still has two I/Os: polled again after drain_poll_ns.
  answer_poll(0, 2);
  EXPECT_EQ(sent<fpapi::FpQueryPendingIOs>(0).size(), 1u);
  env.run_for(CpConfig{}.drain_poll_ns + CpConfig{}.message_cost_ns);
  EXPECT_EQ(sent<fpapi::FpQueryPendingIOs>(0).size(), 2u);
  answer_poll(1, 0);
  settle();
  EXPECT_FALSE(result.has_value());
  answer_poll(0, 0);
  settle();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_EQ(cp->stats().updates, 1u);
  EXPECT_EQ(cp->stats().drain_waits, 1u);
  EXPECT_EQ(sent<fpapi::FpQueryPendingIOs>(0).size(), 2u);  // no more polls

  // The new redirect entry went to every FP.
  for (uint32_t p = 0; p < kPorts; ++p) {
    auto adds = sent<fpapi::FpMapping>(p, MsgType::kFpAddMapping);
    ASSERT_EQ(adds.size(), 1u);
    EXPECT_EQ(adds[0].kind, fpapi::MappingKind::kRedirect);
    EXPECT_EQ(adds[0].vseg.id, 1u);
    EXPECT_EQ(adds[0].redirect_index, 1);
    const map::SimpleStorage s = adds[0].redirect.descriptor.simple();
    EXPECT_EQ(s.port_id, kDiskBId);
    EXPECT_EQ(s.lun, 3);
    EXPECT_EQ(s.start_lba, 20000u);
  }
  // The held I/O ran with the new mapping.
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(legs[0].target_id, kDiskBId);
  EXPECT_EQ(legs[0].lun, 3);
  EXPECT_EQ(fc::load_be64(legs[0].cdb.data() + 2), 20150u);

  // Misses now load the new, split extent.
  clear();
  deliver(1, miss);
  auto ext = sent<fpapi::FpMapping>(1, MsgType::kFpAddMapping);
  ASSERT_EQ(ext.size(), 1u);
  EXPECT_EQ(ext[0].kind, fpapi::MappingKind::kExtent);
  EXPECT_EQ(ext[0].extent.start, 100u);
  EXPECT_EQ(ext[0].extent.length, 100u);
  EXPECT_EQ(ext[0].extent.redirect_index, 1);
  EXPECT_EQ(sent<fpapi::CpMappingMissReply>(1)[0].action, fpapi::MissAction::kContinue);

  // Outside the range nothing changed.
  miss.lba = 250;
  deliver(1, miss);
  ext = sent<fpapi::FpMapping>(1, MsgType::kFpAddMapping);
  ASSERT_EQ(ext.size(), 2u);
  EXPECT_EQ(ext[1].extent.redirect_index, 0);
}

TEST_F(CpUpdateTest, DrainTimeoutAbortsAndReissues) {
  CpConfig config;
  config.drain_timeout_ns = 100'000;
  bring_up(config);
  start_change(move_extent());
  ack_removal(0, 10);
  ack_removal(1, 10);
  settle();
  answer_poll(1, 0);
  // Port 0 never drains.
  for (int i = 0; i < 20 && sent<fpapi::FpAbortPendingIOs>(0).empty(); ++i) {
    answer_poll(0, 1);
    env.run_for(config.drain_poll_ns + config.message_cost_ns);
  }
  auto aborts = sent<fpapi::FpAbortPendingIOs>(0);
  ASSERT_EQ(aborts.size(), 1u);
  EXPECT_EQ(aborts[0].filter.vseg_id, 1u);
  EXPECT_EQ(aborts[0].filter.start, 100u);
  EXPECT_EQ(aborts[0].filter.started_by_ns, 10u);
  EXPECT_EQ(aborts[0].filter.owner, fpapi::kOwnerFp);
  EXPECT_TRUE(sent<fpapi::FpAbortPendingIOs>(1).empty());
  // The FP hands the aborted I/O back, then acknowledges the abort.
  fpapi::CpQueueIO q;
  q.reason = FaultKind::kAborted;
  q.io = make_io(60, target_id(), 0, fc::make_write(120, 4), 4 * 512, kHost2Id, 0x99);
  deliver(0, q, 0);
  settle();
  EXPECT_TRUE(sent<fpapi::FpDispatchIO>(0).empty());
  fpapi::FpReply r;
  r.req_id = aborts[0].req_id;
  r.request = MsgType::kFpAbortPendingIOs;
  r.value = 1;
  deliver(0, r);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  // Reissued by the CP on the new storage, not completed silently.
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_EQ(legs[0].target_id, kDiskBId);
  EXPECT_EQ(fc::load_be64(legs[0].cdb.data() + 2), 20120u);
  EXPECT_TRUE(sent<fpapi::FpQueueIOComplete>(0).empty());
}

TEST_F(CpUpdateTest, SkipDrainForTestingSkipsThePolls) {
  CpConfig config;
  config.skip_drain_for_testing = true;
  bring_up(config);
  start_change(move_extent());
  ack_removal(0, 10);
  ack_removal(1, 10);
  settle();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_TRUE(sent<fpapi::FpQueryPendingIOs>(0).empty());
  EXPECT_TRUE(sent<fpapi::FpQueryPendingIOs>(1).empty());
}

TEST_F(CpUpdateTest, WaitsForTheCpsOwnLegs) {
  bring_up();
  queue_io(0, FaultKind::kSpansExtents,
           make_io(70, target_id(), 0, fc::make_read(190, 20), 20 * 512, kHost2Id));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 2u);
  EXPECT_EQ(legs[0].target_id, kDiskAId);
  start_change(move_extent());
  ack_removal(0, 10);
  ack_removal(1, 10);
  settle();
  answer_poll(0, 0);
  answer_poll(1, 0);
  settle();
  EXPECT_FALSE(result.has_value());  // leg 0 (blocks 190..199) is on the old mapping
  fpapi::CpDispatchIOComplete c;
  c.dtag = legs[0].dtag;
  c.utag = 70;
  deliver(0, c);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  c.dtag = legs[1].dtag;
  deliver(0, c);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].scsi_status, 0);
}

// A leg whose exchange was lost (the host's ABTS went down with an ISL) would
// hold the update forever: after drain_timeout_ns the CP aborts its I/O at the
// FP and fails it with a retryable status.
TEST_F(CpUpdateTest, AStuckCpLegIsAbortedAfterTheDrainTimeout) {
  CpConfig config;
  config.drain_timeout_ns = 100'000;
  bring_up(config);
  queue_io(0, FaultKind::kSpansExtents,
           make_io(70, target_id(), 0, fc::make_read(190, 20), 20 * 512, kHost2Id));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 2u);
  start_change(move_extent());
  ack_removal(0, 10);
  ack_removal(1, 10);
  settle();
  answer_poll(0, 0);
  answer_poll(1, 0);
  env.run_for(config.drain_timeout_ns);
  EXPECT_FALSE(result.has_value());
  auto aborts = sent<fpapi::FpAbortPendingIOs>(0);
  ASSERT_EQ(aborts.size(), 1u);
  EXPECT_EQ(aborts[0].filter.utag, 70u);
  EXPECT_EQ(aborts[0].filter.owner, fpapi::kOwnerCp);
  EXPECT_TRUE(sent<fpapi::FpAbortPendingIOs>(1).empty());
  // The FP ends both legs, hands the I/O back, then acknowledges.
  for (const auto& leg : legs) {
    fpapi::CpDispatchIOComplete c;
    c.dtag = leg.dtag;
    c.utag = 70;
    c.transport_error = 1;
    deliver(0, c, 0);
  }
  fpapi::CpQueueIO q;
  q.reason = FaultKind::kAborted;
  q.io = make_io(70, target_id(), 0, fc::make_read(190, 20), 20 * 512, kHost2Id);
  deliver(0, q, 0);
  fpapi::FpReply r;
  r.req_id = aborts[0].req_id;
  r.request = MsgType::kFpAbortPendingIOs;
  r.value = 1;
  deliver(0, r);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].silent, 0);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kCheckCondition);
  auto sense = fc::decode_sense_data(done[0].sense.view());
  ASSERT_TRUE(sense.ok());
  EXPECT_EQ(sense->sense_key, fc::sense_key::kAbortedCommand);
  EXPECT_EQ(sense->code, fc::asc::kLogicalUnitCommunicationTimeout);
  EXPECT_EQ(cp->stats().stale_leg_aborts, 1u);
}

// An initiator that left the fabric never sends the data or the ABTS of its
// open exchanges: the CP aborts them all at every FP and ends them silently,
// so an update waiting for them completes.
TEST_F(CpUpdateTest, ADepartedInitiatorsExchangesAreAbortedSilently) {
  bring_up();
  deliver_frame(0, host_plogi(kHost2Id, kHost2, 0x21));
  clear();
  queue_io(0, FaultKind::kSpansExtents,
           make_io(70, target_id(), 0, fc::make_write(190, 20), 20 * 512, kHost2Id));
  auto legs = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(legs.size(), 2u);
  start_change(move_extent());
  ack_removal(0, 10);
  ack_removal(1, 10);
  settle();
  answer_poll(0, 0);
  answer_poll(1, 0);
  settle();
  EXPECT_FALSE(result.has_value());
  cp->on_fabric_change(kHost2Id);
  env.run_for(0);
  for (uint32_t p = 0; p < kPorts; ++p) {
    auto aborts = sent<fpapi::FpAbortPendingIOs>(p);
    ASSERT_EQ(aborts.size(), 1u) << "port " << p;
    EXPECT_EQ(aborts[0].filter.initiator, kHost2Id);
    EXPECT_EQ(aborts[0].filter.ox_id, 0xFFFF);
    EXPECT_EQ(aborts[0].filter.owner, fpapi::kAnyOwner);
  }
  for (const auto& leg : legs) {
    fpapi::CpDispatchIOComplete c;
    c.dtag = leg.dtag;
    c.utag = 70;
    c.transport_error = 1;
    deliver(0, c, 0);
  }
  fpapi::CpQueueIO q;
  q.reason = FaultKind::kAborted;
  q.io = make_io(70, target_id(), 0, fc::make_write(190, 20), 20 * 512, kHost2Id);
  deliver(0, q);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  auto done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].silent, 1);
  // The host's next I/O (after it logs in again) is not taken for the old one.
  for (uint32_t p = 0; p < kPorts; ++p) {
    fpapi::FpReply r;
    r.req_id = sent<fpapi::FpAbortPendingIOs>(p)[0].req_id;
    r.request = MsgType::kFpAbortPendingIOs;
    deliver(p, r, 0);
  }
  clear();
  queue_io(0, FaultKind::kSpansExtents,
           make_io(71, target_id(), 0, fc::make_read(300, 4), 4 * 512, kHost2Id));
  auto next = sent<fpapi::FpDispatchIO>(0);
  ASSERT_EQ(next.size(), 1u);
  fpapi::CpDispatchIOComplete c;
  c.dtag = next[0].dtag;
  c.utag = 71;
  c.transport_error = 1;
  deliver(0, c);
  done = sent<fpapi::FpQueueIOComplete>(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].silent, 0);
  EXPECT_EQ(done[0].scsi_status, fc::scsi_status::kCheckCondition);
}

TEST_F(CpUpdateTest, UpdatesRunOneAtATime) {
  CpConfig config;
  config.skip_drain_for_testing = true;
  bring_up(config);
  std::vector<int> order;
  MappingChange second = move_extent();
  second.lba = 500;
  cp->change_mapping(move_extent(), [&](bool ok) {
    EXPECT_TRUE(ok);
    order.push_back(1);
    // A change asked from the callback waits for the one already queued.
    MappingChange third = move_extent();
    third.lba = 700;
    cp->change_mapping(third, [&](bool ok3) {
      EXPECT_TRUE(ok3);
      order.push_back(3);
    });
  });
  cp->change_mapping(second, [&](bool ok) {
    EXPECT_TRUE(ok);
    order.push_back(2);
  });
  env.run_for(0);
  for (uint64_t expect_start : {100u, 500u, 700u}) {
    for (uint32_t p = 0; p < kPorts; ++p) {
      auto rm = sent<fpapi::FpMapping>(p, MsgType::kFpRemoveMapping);
      ASSERT_EQ(rm.size(), 1u);
      EXPECT_EQ(rm[0].extent.start, expect_start);
    }
    const size_t before = order.size();
    ack_removal(0, 1);
    ack_removal(1, 1);
    clear();
    settle();
    EXPECT_EQ(order.size(), before + 1);
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(cp->stats().updates, 3u);
}

TEST_F(CpUpdateTest, InvalidChangesAreRefused) {
  bring_up();
  MappingChange c = move_extent();
  c.volume = "nope";
  start_change(c);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  result.reset();
  c = move_extent();
  c.lba = 950;  // crosses from VSEG 1 into VSEG 2
  start_change(c);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_TRUE(sent<fpapi::FpMapping>(0, MsgType::kFpRemoveMapping).empty());
}

TEST_F(CpUpdateTest, FlagsOnlyChangeSetsFow) {
  bring_up();
  MappingChange c;
  c.volume = "vol0";
  c.lba = 0;
  c.blocks = 1000;
  c.flags = map::redirect_flags::kFaultOnWrite;
  start_change(c);
  ack_removal(0, 1);
  ack_removal(1, 1);
  settle();
  answer_poll(0, 0);
  answer_poll(1, 0);
  settle();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  auto adds = sent<fpapi::FpMapping>(0, MsgType::kFpAddMapping);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_TRUE(adds[0].redirect.fault_on_write());
  EXPECT_EQ(adds[0].redirect.descriptor.simple().port_id, kDiskAId);
}

}  // namespace
}  // namespace splitpath::cp
