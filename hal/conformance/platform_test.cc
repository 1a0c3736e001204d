// Time, table memory and processing cost.
#include <algorithm>
#include <cstring>

#include "hal/conformance/conformance.h"

namespace splitpath::hal::conformance {

int platform_test_anchor() {
  return 1;
}

namespace {

uint8_t pattern(uint64_t i) {
  return static_cast<uint8_t>(i * 131 + (i >> 8) + (i >> 16));
}

}  // namespace

// ---- Time ----------------------------------------------------------------------

TEST_P(HalConformance, TimestampIsMonotonicAndFollowsTheClock) {
  uint64_t prev = hal_.now_ns();
  for (int i = 0; i < 10000; ++i) {
    const uint64_t t = hal_.now_ns();
    ASSERT_GE(t, prev);
    prev = t;
  }
  harness_->advance_ns(1000000);
  const uint64_t later = hal_.now_ns();
  EXPECT_GE(later - prev, 1000000u);
  harness_->advance_ns(1);
  EXPECT_GE(hal_.now_ns(), later + 1);
}

TEST_P(HalConformance, ReceivedFramesCarryTheirArrivalTime) {
  harness_->advance_ns(5000);
  const uint64_t before = hal_.now_ns();
  inject(make_frame(48, 1));
  const uint64_t after = hal_.now_ns();
  harness_->advance_ns(7000);
  const std::vector<sp_hal_buf*> got = receive(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_GE(got[0]->rx_time_ns, before);
  EXPECT_LE(got[0]->rx_time_ns, after);
  EXPECT_GE(hal_.now_ns() - got[0]->rx_time_ns, 7000u);
  EXPECT_EQ(hal_.free_bufs(got.data(), 1), Status::kOk);
}

// ---- Table memory ----------------------------------------------------------------

TEST_P(HalConformance, TableMemoryIsTheReportedSizeAlignedStableAndZeroed) {
  void* base = nullptr;
  uint64_t size = 0;
  ASSERT_EQ(hal_.table_memory(&base, &size), Status::kOk);
  ASSERT_NE(base, nullptr);
  EXPECT_EQ(size, info_.table_mem_bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(base) % SP_HAL_TABLE_MEM_ALIGN, 0u);
  const uint8_t* p = static_cast<const uint8_t*>(base);
  uint64_t nonzero = 0;
  for (uint64_t i = 0; i < size; ++i)
    nonzero += p[i] != 0;
  EXPECT_EQ(nonzero, 0u);

  void* again = nullptr;
  uint64_t size_again = 0;
  harness_->advance_ns(1000);
  ASSERT_EQ(hal_.table_memory(&again, &size_again), Status::kOk);
  EXPECT_EQ(again, base);
  EXPECT_EQ(size_again, size);
}

TEST_P(HalConformance, TableMemoryIsWritableThroughoutAndNothingElseTouchesIt) {
  void* base = nullptr;
  uint64_t size = 0;
  ASSERT_EQ(hal_.table_memory(&base, &size), Status::kOk);
  uint8_t* p = static_cast<uint8_t*>(base);
  for (uint64_t i = 0; i < size; ++i)
    p[i] = pattern(i);
  // Frames and messages pass while the tables hold data.
  for (uint32_t i = 0; i < 4 * info_.rx_ring_size; ++i) {
    inject(make_frame(info_.max_frame_size - i % 100, i));
    std::vector<sp_hal_buf*> got = receive(1);
    ASSERT_EQ(got.size(), 1u);
    send_all(got);
    ASSERT_EQ(collect_all().size(), 1u);
  }
  std::vector<sp_hal_buf*> all(info_.buf_count);
  ASSERT_EQ(hal_.alloc_bufs(all.data(), info_.buf_count), Status::kOk);
  for (sp_hal_buf* b : all)
    std::memset(b->data, 0xEE, b->capacity);
  ASSERT_EQ(hal_.free_bufs(all.data(), info_.buf_count), Status::kOk);
  const std::vector<uint8_t> msg(info_.mbox_max_msg_size, 0xCC);
  ASSERT_EQ(hal_.mbox_send(1, msg.data(), static_cast<uint32_t>(msg.size())), Status::kOk);
  ASSERT_EQ(harness_->cp_send(2, msg.data(), static_cast<uint32_t>(msg.size())), Status::kOk);

  uint64_t wrong = 0;
  for (uint64_t i = 0; i < size; ++i)
    wrong += p[i] != pattern(i);
  EXPECT_EQ(wrong, 0u);
}

// ---- Processing cost ---------------------------------------------------------------

TEST_P(HalConformance, ProcessingCostIsAccounted) {
  const sp_hal_stats before = stats();
  auto charged = [&] { return stats().frames_charged - before.frames_charged; };
  // Each received frame is charged once, whether it is then forwarded or dropped.
  for (uint32_t i = 0; i < 3; ++i) {
    inject(make_frame(100, i));
    std::vector<sp_hal_buf*> got = receive(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(charged(), i + 1);
    if (i < 2) {
      send_all(got);
      EXPECT_EQ(collect_all().size(), 1u);
    } else {
      ASSERT_EQ(hal_.free_bufs(got.data(), 1), Status::kOk);
    }
    EXPECT_EQ(charged(), i + 1);
  }
  // Each originated frame is charged when it is sent.
  for (uint32_t i = 0; i < 2; ++i) {
    sp_hal_buf* b = alloc_frame(make_frame(64, 10 + i));
    EXPECT_EQ(charged(), 3 + i);
    send_all({b});
    EXPECT_EQ(charged(), 4 + i);
    EXPECT_EQ(collect_all().size(), 1u);
  }

  const uint32_t cycles = info_.core_mhz != 0 ? info_.core_mhz : 1000;
  EXPECT_EQ(hal_.charge_cycles(cycles), Status::kOk);
  EXPECT_EQ(hal_.charge_cycles(0), Status::kOk);

  const sp_hal_stats after = stats();
  EXPECT_EQ(after.cycles_charged - before.cycles_charged, cycles);
  if (info_.capabilities & SP_HAL_CAP_SIMULATED) {
    const uint64_t cycle_ns = info_.core_mhz != 0 ? 1000 : 0;
    EXPECT_EQ(after.busy_ns - before.busy_ns, 5 * uint64_t{info_.frame_cost_ns} + cycle_ns);
  } else {
    EXPECT_EQ(after.busy_ns, 0u);
  }
}

TEST_P(HalConformance, ProcessingCostDelaysOutputOnSimulatedPlatforms) {
  if (!(info_.capabilities & SP_HAL_CAP_SIMULATED) || info_.frame_cost_ns == 0) {
    GTEST_SKIP() << "time is real here: cost is counted, not simulated";
  }
  const uint64_t cost = info_.frame_cost_ns;
  const uint32_t n = std::min<uint32_t>(4, std::min(info_.rx_ring_size, info_.tx_ring_size));
  harness_->advance_ns(1000000000);  // whatever was in progress is long finished
  const uint64_t t0 = hal_.now_ns();
  for (uint32_t i = 0; i < n; ++i)
    inject(make_frame(200, i));
  send_all(receive(n));
  std::vector<TxFrame> out = collect_all();
  ASSERT_EQ(out.size(), n);
  EXPECT_GE(out[0].ready_ns, t0 + cost);
  for (uint32_t i = 1; i < n; ++i)
    EXPECT_GE(out[i].ready_ns, out[i - 1].ready_ns) << "departures out of order";
  EXPECT_GE(out[n - 1].ready_ns, t0 + n * cost) << "each frame takes frame_cost_ns";

  // Charged cycles hold back what follows.
  const uint64_t last = out[n - 1].ready_ns;
  if (info_.core_mhz != 0) {
    ASSERT_EQ(hal_.charge_cycles(info_.core_mhz * 5), Status::kOk);  // 5 us
  }
  send_all({alloc_frame(make_frame(64, 99))});
  out = collect_all();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_GE(out[0].ready_ns, last + cost + (info_.core_mhz != 0 ? 5000 : 0));

  // After idling, a frame costs its own processing time from its arrival.
  harness_->advance_ns(1000000000);
  const uint64_t t1 = hal_.now_ns();
  inject(make_frame(64, 100));
  send_all(receive(1));
  out = collect_all();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_GE(out[0].ready_ns, t1 + cost);
}

}  // namespace splitpath::hal::conformance
