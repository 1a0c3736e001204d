// Bounded resources: the Rmap cache evicting in small table memory, a full
// upstream table, the outbox behind a full mailbox, held frames behind a full
// transmit ring, and a CP message waiting for a frame buffer.
#include <gtest/gtest.h>

#include "fp_firmware/fp_test_fixture.h"

namespace splitpath::fp::testing {
namespace {

hal::sim::SimPortConfig small_port() {
  hal::sim::SimPortConfig c = default_port_config();
  c.table_memory_bytes = SP_HAL_MIN_TABLE_MEM_BYTES;
  c.rx_ring_size = 16;
  c.tx_ring_size = 16;
  c.buffer_count = 48;
  c.mbox_to_cp_depth = 8;
  c.mbox_from_cp_depth = 64;
  return c;
}

FastPathConfig small_fp() {
  FastPathConfig c;
  c.upstream_capacity = 2;
  c.downstream_capacity = 8;
  c.exposure_capacity = 4;
  c.initiators_per_exposure = 4;
  c.redirect_capacity = 8;
  c.outbox_capacity = 32;
  c.held_frame_capacity = 48;
  c.rmap.max_vsegs = 2;
  return c;
}

TEST(FpResources, RmapEvictsInSmallTableMemory) {
  ASSERT_LT(FastPath::fixed_table_bytes(small_fp()), SP_HAL_MIN_TABLE_MEM_BYTES);
  FpFixture t(small_port(), small_fp());
  t.bring_up(0);
  const uint32_t capacity = t.fp.rmap_stats().capacity_extents;
  ASSERT_GT(capacity, 0u);
  ASSERT_LT(capacity, 2000u);
  const uint32_t extents = capacity + 50;
  for (uint32_t i = 0; i < extents; ++i) {
    fpapi::FpMapping m = FpFixture::extent_mapping(kVsegId, i * 4, 4);
    m.req_id = i;
    t.cp_send(m, MsgType::kFpAddMapping);
    t.run();
    const auto r = t.cp_expect<fpapi::FpReply>();
    EXPECT_EQ(r.status, fpapi::ApiStatus::kOk);
  }
  const RmapStats s = t.fp.rmap_stats();
  EXPECT_EQ(s.extents, capacity);
  EXPECT_EQ(s.evictions, 50u);
  // LRU: the first extents loaded were displaced, so an I/O there misses,
  // and the last ones are still there.
  t.host_rw(1, false, kVsegStart + 0, 4);
  t.run();
  EXPECT_EQ(t.cp_expect<fpapi::CpMappingMiss>().lba, 0u);
  t.host_rw(2, false, kVsegStart + (extents - 1) * 4, 4);
  t.run();
  EXPECT_EQ(t.expect_frame().h.d_id.value, kDisk);
}

TEST(FpResources, FullUpstreamTableAnswersTaskSetFull) {
  FpFixture t(small_port(), small_fp());
  t.bring_up();
  for (uint16_t ox = 1; ox <= 3; ++ox)
    t.host_rw(ox, false, kVsegStart, 1);
  t.run();
  EXPECT_EQ(t.expect_frame().h.d_id.value, kDisk);
  EXPECT_EQ(t.expect_frame().h.d_id.value, kDisk);
  const Frame busy = t.expect_frame();
  EXPECT_EQ(busy.h.d_id.value, kHost);
  EXPECT_EQ(busy.h.s_id.value, kTarget);
  EXPECT_EQ(busy.h.ox_id, 3);
  EXPECT_EQ(FpFixture::decode_rsp(busy).scsi_status, fc::scsi_status::kTaskSetFull);
}

TEST(FpResources, FullMailboxIsRetriedFromTheOutboxInOrder) {
  FpFixture t(small_port(), small_fp());
  for (uint32_t i = 0; i < 12; ++i) {
    fpapi::FpQueryStatistics q;
    q.req_id = i;
    t.cp_send(q);
  }
  t.run();
  EXPECT_EQ(t.port->to_cp_queued(), 8u);  // the mailbox is full; 4 wait in the outbox
  EXPECT_GT(t.port->stats().mbox_retries, 0u);
  for (uint32_t i = 0; i < 8; ++i)
    EXPECT_EQ(t.cp_expect<fpapi::FpStatistics>().req_id, i);
  t.run();
  for (uint32_t i = 8; i < 12; ++i)
    EXPECT_EQ(t.cp_expect<fpapi::FpStatistics>().req_id, i);
  EXPECT_TRUE(t.cp_idle());
}

TEST(FpResources, FullTransmitRingHoldsFramesInOrder) {
  FpFixture t(small_port(), small_fp());
  auto push = [&t](uint16_t first, uint16_t count) {
    for (uint16_t i = first; i < first + count; ++i) {
      t.push(
          header(fc::rctl::kElsRequest, kDisk, kHost, kFctlCmnd, i, 0xFFFF, 0, fc::fc_type::kEls),
          pattern(32, static_cast<uint8_t>(i)));
    }
  };
  uint16_t seen = 0;
  auto pop = [&t, &seen](uint32_t max) {
    Frame f;
    for (uint32_t i = 0; i < max && t.pop(&f); ++i, ++seen) {
      EXPECT_EQ(f.h.ox_id, seen);
      EXPECT_EQ(f.payload, pattern(32, static_cast<uint8_t>(seen)));
    }
  };
  // The rings hold 16 frames each: the second batch is held by the FP.
  push(0, 16);
  t.run();
  push(16, 16);
  t.run();
  EXPECT_EQ(t.port->tx_queued(), 16u);
  EXPECT_EQ(t.port->rx_queued(), 0u);
  EXPECT_GT(t.port->stats().tx_retries, 0u);
  pop(8);
  t.run();
  EXPECT_EQ(t.port->tx_queued(), 16u);
  pop(16);
  t.run();
  pop(16);
  EXPECT_EQ(seen, 32);
  EXPECT_EQ(t.fp.statistics().transparent_frames, 32u);
  EXPECT_EQ(t.fp.statistics().dropped_frames, 0u);
}

TEST(FpResources, CpMessageWaitsForAFrameBuffer) {
  FpFixture t(small_port(), small_fp());
  t.bring_up();
  fc::FcpCmnd c;
  c.lun = fc::make_lun(0);
  c.rddata = true;
  c.fcp_dl = 64;
  (void)fc::encode_cdb(fc::make_inquiry(64), fc::MutableBytes(c.cdb.data(), c.cdb.size()));
  t.host_cmnd(0x77, c);
  t.run();
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  // Every buffer of the pool ends up in the transmit ring or held by the FP.
  for (uint16_t batch = 0; batch < 3; ++batch) {
    for (uint16_t i = 0; i < 16; ++i) {
      t.push(
          header(fc::rctl::kElsRequest, kDisk, kHost, kFctlCmnd, 0, 0xFFFF, 0, fc::fc_type::kEls));
    }
    t.run();
  }
  ASSERT_EQ(t.port->free_buffers(), 0u);
  fpapi::FpPutData p;
  p.utag = q.io.utag;
  p.data.assign(pattern(64, 1));
  t.cp_send(p);
  t.run();
  EXPECT_EQ(t.port->from_cp_queued(), 0u);  // taken, and kept by the FP
  Frame f;
  uint32_t transparent = 0;
  bool data_seen = false;
  for (int round = 0; round < 10 && !data_seen; ++round) {
    while (t.pop(&f)) {
      if (f.h.r_ctl == fc::rctl::kDeviceDataSolicitedData) {
        data_seen = true;
        EXPECT_EQ(f.payload, pattern(64, 1));
      } else {
        ++transparent;
      }
    }
    t.run();
  }
  EXPECT_TRUE(data_seen);
  EXPECT_EQ(transparent, 48u);  // the data went out after every frame held before it
}

}  // namespace
}  // namespace splitpath::fp::testing
