// What hal/ring adds to the contract: batched receive completions, lazy
// transmit reclaim, the FIFO pool, the one region, configuration errors.
// (Allocation: ring_port.c calls aligned_alloc in sp_ring_create and free in
// sp_ring_destroy only.)
#include "hal/ring/ring_port.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace splitpath::hal::ring {
namespace {

uint64_t read_now(void* ctx) {
  return *static_cast<uint64_t*>(ctx);
}

sp_ring_config small_config() {
  sp_ring_config c;
  sp_ring_default_config(&c);
  c.wwpn = 0x2000'0000'0000'0001ull;
  c.rx_ring_size = 8;
  c.tx_ring_size = 4;
  c.buffer_count = 12;
  return c;
}

class RingPortTest : public ::testing::Test {
 protected:
  void SetUp() override { make(small_config()); }
  void TearDown() override { sp_ring_destroy(port_); }
  void make(const sp_ring_config& c) {
    sp_ring_destroy(port_);
    port_ = sp_ring_create(&c, sp_ring_time{&now_, &read_now}, nullptr);
    ASSERT_NE(port_, nullptr);
    hal_ = Hal(sp_ring_hal(port_));
  }
  void inject(uint8_t tag) {
    std::vector<uint8_t> f(64, tag);
    ASSERT_EQ(sp_ring_wire_rx(port_, f.data(), 64), SP_HAL_OK);
  }
  sp_ring_counters counters() const {
    sp_ring_counters c{};
    sp_ring_get_counters(port_, &c);
    return c;
  }
  // Sends one allocated frame and lets the wire take it.
  void send_and_wire(uint8_t tag) {
    sp_hal_buf* b = nullptr;
    ASSERT_EQ(hal_.alloc_bufs(&b, 1), Status::kOk);
    std::memset(b->data, tag, 32);
    b->length = 32;
    ASSERT_EQ(hal_.tx_burst(&b, 1).count, 1u);
    const uint8_t* data = nullptr;
    uint32_t length = 0;
    uint64_t ready = 0;
    ASSERT_EQ(sp_ring_wire_tx_peek(port_, &data, &length, &ready), 1);
    EXPECT_EQ(data[0], tag);
    sp_ring_wire_tx_done(port_);
  }

  uint64_t now_ = 1000;
  sp_ring_port* port_ = nullptr;
  Hal hal_;
};

TEST_F(RingPortTest, ReceiveServesOneBatchPerHeadRead) {
  inject(1);
  inject(2);
  inject(3);
  sp_hal_buf* bufs[8] = {};
  BurstResult r = hal_.rx_burst(bufs, 1);
  ASSERT_EQ(r.count, 1u);
  EXPECT_EQ(bufs[0]->data[0], 1);
  EXPECT_EQ(counters().head_reads, 1u);
  // Frames written after the head read wait until the batch is used up.
  inject(4);
  inject(5);
  EXPECT_EQ(counters().rx_pending, 2u);
  r = hal_.rx_burst(bufs + 1, 8);
  ASSERT_EQ(r.count, 2u);
  EXPECT_EQ(bufs[1]->data[0], 2);
  EXPECT_EQ(bufs[2]->data[0], 3);
  EXPECT_EQ(counters().head_reads, 1u);
  r = hal_.rx_burst(bufs + 3, 8);
  ASSERT_EQ(r.count, 2u);
  EXPECT_EQ(bufs[3]->data[0], 4);
  EXPECT_EQ(bufs[4]->data[0], 5);
  EXPECT_EQ(counters().head_reads, 2u);
  // An empty ring costs no head read.
  EXPECT_EQ(hal_.rx_burst(bufs, 8).count, 0u);
  EXPECT_EQ(counters().head_reads, 2u);
  EXPECT_EQ(hal_.free_bufs(bufs, 5), Status::kOk);
}

TEST_F(RingPortTest, SentBuffersComeBackOnlyWhenReclaimed) {
  int rx_space_calls = 0;
  sp_ring_hooks hooks{};
  hooks.ctx = &rx_space_calls;
  hooks.rx_space = [](void* ctx) { ++*static_cast<int*>(ctx); };
  sp_ring_set_hooks(port_, &hooks);

  // Hold all but four buffers; four frames sent and taken by the wire leave
  // the pool empty until the firmware reclaims them.
  std::vector<sp_hal_buf*> held(8);
  ASSERT_EQ(hal_.alloc_bufs(held.data(), 8), Status::kOk);
  for (uint8_t i = 0; i < 4; ++i)
    send_and_wire(static_cast<uint8_t>(10 + i));
  EXPECT_EQ(counters().tx_done, 4u);
  std::vector<uint8_t> f(64, 7);
  EXPECT_EQ(sp_ring_wire_rx(port_, f.data(), 64), SP_HAL_NO_BUFFERS) << "the wire never reclaims";
  EXPECT_EQ(rx_space_calls, 0);
  EXPECT_EQ(hal_.poll(), Status::kOk);
  EXPECT_EQ(counters().tx_done, 0u);
  EXPECT_EQ(counters().reclaimed, 4u);
  EXPECT_EQ(rx_space_calls, 1);
  EXPECT_EQ(sp_ring_wire_rx(port_, f.data(), 64), SP_HAL_OK);

  // alloc_bufs reclaims on demand when the free queue is short.
  send_and_wire(20);
  std::vector<sp_hal_buf*> rest(3);
  EXPECT_EQ(hal_.alloc_bufs(rest.data(), 3), Status::kOk);
  EXPECT_EQ(counters().reclaimed, 5u);
  EXPECT_EQ(hal_.free_bufs(rest.data(), 3), Status::kOk);
  EXPECT_EQ(hal_.free_bufs(held.data(), 8), Status::kOk);
}

TEST_F(RingPortTest, TransmitReclaimsOnDemandWhenTheRingIsFull) {
  for (uint8_t i = 0; i < 4; ++i)
    send_and_wire(i);
  EXPECT_EQ(counters().tx_done, 4u);
  // The ring holds four sent descriptors; the fifth post reclaims them.
  send_and_wire(4);
  EXPECT_EQ(counters().reclaimed, 4u);
  EXPECT_EQ(counters().reclaim_passes, 1u);
}

TEST_F(RingPortTest, ThePoolIsFirstInFirstOut) {
  sp_hal_buf* a = nullptr;
  ASSERT_EQ(hal_.alloc_bufs(&a, 1), Status::kOk);
  EXPECT_EQ(a->id, 0u);
  ASSERT_EQ(hal_.free_bufs(&a, 1), Status::kOk);
  sp_hal_buf* b = nullptr;
  ASSERT_EQ(hal_.alloc_bufs(&b, 1), Status::kOk);
  EXPECT_EQ(b->id, 1u) << "a freed buffer goes to the back of the queue";
  ASSERT_EQ(hal_.free_bufs(&b, 1), Status::kOk);
}

TEST_F(RingPortTest, BuffersAreTightAndEverythingIsInOneRegion) {
  sp_hal_port_info info{};
  ASSERT_EQ(hal_.port_info(&info), Status::kOk);
  EXPECT_EQ(info.buf_capacity, info.max_frame_size);  // 2136 is already a multiple of 8
  EXPECT_EQ(info.table_mem_bytes, 256u << 10);
  EXPECT_EQ(info.mbox_max_msg_size, SP_HAL_MBOX_MIN_MSG_SIZE);
  const sp_ring_config c = small_config();
  const uint64_t region = sp_ring_region_bytes(&c);
  EXPECT_GE(region, c.table_memory_bytes + uint64_t{c.buffer_count} * info.buf_capacity);
  EXPECT_LT(region, c.table_memory_bytes + uint64_t{c.buffer_count} * info.buf_capacity + 65536);
  void* table = nullptr;
  uint64_t size = 0;
  ASSERT_EQ(hal_.table_memory(&table, &size), Status::kOk);
  const auto* begin = reinterpret_cast<const uint8_t*>(port_);
  const auto* t = static_cast<const uint8_t*>(table);
  EXPECT_GE(t, begin);
  EXPECT_LE(t + size, begin + region);
}

TEST(RingPortConfig, BadConfigurationsAreRefusedWithAReason) {
  uint64_t now = 0;
  sp_ring_config c = small_config();
  c.wwpn = 0;
  const char* why = nullptr;
  EXPECT_EQ(sp_ring_create(&c, sp_ring_time{&now, &read_now}, &why), nullptr);
  EXPECT_STREQ(why, "wwpn must be non-zero");
  c = small_config();
  c.buffer_count = c.rx_ring_size + c.tx_ring_size - 1;
  EXPECT_STREQ(sp_ring_check_config(&c),
               "buffer_count must be at least rx_ring_size + tx_ring_size");
  EXPECT_EQ(sp_ring_region_bytes(&c), 0u);
  c = small_config();
  c.table_memory_bytes = SP_HAL_MIN_TABLE_MEM_BYTES - 1;
  EXPECT_NE(sp_ring_check_config(&c), nullptr);
  c = small_config();
  EXPECT_EQ(sp_ring_create(&c, sp_ring_time{&now, nullptr}, &why), nullptr);
  EXPECT_STREQ(why, "no time source");
  EXPECT_EQ(sp_ring_check_config(&c), nullptr);
}

}  // namespace
}  // namespace splitpath::hal::ring
