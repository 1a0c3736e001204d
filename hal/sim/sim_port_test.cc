// What the simulated port adds to the HAL contract: configuration checks, the
// hooks and wire-side calls the switch uses, the exact cost model, and moving
// frames without allocating.
#include "hal/sim/sim_port.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hal/sim/clock.h"
#include "tests/support/alloc_counter.h"

namespace splitpath::hal::sim {
namespace {

SimPortConfig small_config() {
  SimPortConfig c;
  c.wwpn = 0x2000'0000'0000'0001ull;
  c.rx_ring_size = 2;
  c.tx_ring_size = 2;
  c.buffer_count = 6;
  c.frame_cost_ns = 100;
  c.core_mhz = 1000;
  c.table_memory_bytes = SP_HAL_MIN_TABLE_MEM_BYTES;
  return c;
}

std::vector<uint8_t> frame(uint32_t length, uint8_t tag) {
  std::vector<uint8_t> f(length, tag);
  f[0] = tag;
  return f;
}

Status push(SimPort& port, const std::vector<uint8_t>& f) {
  return port.push_rx(f.data(), static_cast<uint32_t>(f.size()));
}

// Takes up to `max` received frames through the HAL, as the firmware would.
std::vector<sp_hal_buf*> receive(SimPort& port, uint32_t max) {
  Hal hal(port.hal());
  std::vector<sp_hal_buf*> bufs(max);
  const BurstResult r = hal.rx_burst(bufs.data(), max);
  EXPECT_EQ(r.status, Status::kOk);
  bufs.resize(r.count);
  return bufs;
}

struct HookLog {
  int rx_space = 0;
  int to_cp = 0;
  std::vector<uint64_t> tx_ready;
};

SimPortHooks hooks_for(HookLog& log) {
  SimPortHooks h;
  h.ctx = &log;
  h.tx_queued = [](void* ctx, uint64_t ready) {
    static_cast<HookLog*>(ctx)->tx_ready.push_back(ready);
  };
  h.rx_space = [](void* ctx) { ++static_cast<HookLog*>(ctx)->rx_space; };
  h.to_cp_posted = [](void* ctx) { ++static_cast<HookLog*>(ctx)->to_cp; };
  return h;
}

// ---- Configuration -------------------------------------------------------------

TEST(SimPort, CreateNamesWhatIsWrongWithAConfiguration) {
  ManualClock clock;
  struct Case {
    void (*mutate)(SimPortConfig&);
    const char* words;
  };
  const Case cases[] = {
      {[](SimPortConfig& c) { c.wwpn = 0; }, "wwpn"},
      {[](SimPortConfig& c) { c.rx_ring_size = 0; }, "rx_ring_size"},
      {[](SimPortConfig& c) { c.tx_ring_size = 0; }, "tx_ring_size"},
      {[](SimPortConfig& c) { c.buffer_count = 3; }, "buffer_count"},
      {[](SimPortConfig& c) { c.buffer_count = 1u << 21; }, "buffer_count"},
      {[](SimPortConfig& c) { c.max_frame_payload = 2047; }, "max_frame_payload"},
      {[](SimPortConfig& c) { c.max_frame_payload = 2113; }, "max_frame_payload"},
      {[](SimPortConfig& c) { c.max_transfer_bytes = 0; }, "max_transfer_bytes"},
      {[](SimPortConfig& c) { c.table_memory_bytes = 65535; }, "table_memory_bytes"},
      {[](SimPortConfig& c) { c.mbox_max_msg_size = 255; }, "mbox_max_msg_size"},
      {[](SimPortConfig& c) { c.mbox_to_cp_depth = 7; }, "mailbox depths"},
      {[](SimPortConfig& c) { c.mbox_from_cp_depth = 0; }, "mailbox depths"},
  };
  for (const Case& k : cases) {
    SimPortConfig c = small_config();
    k.mutate(c);
    const char* error = nullptr;
    EXPECT_EQ(SimPort::create(c, clock, &error), nullptr) << k.words;
    ASSERT_NE(error, nullptr) << k.words;
    EXPECT_NE(std::string(error).find(k.words), std::string::npos) << error;
  }
  const char* error = "unset";
  EXPECT_NE(SimPort::create(small_config(), clock, &error), nullptr);
  EXPECT_EQ(error, nullptr);
}

TEST(SimPort, DefaultsCarryFullSizeFramesAndReportSimulatedTime) {
  ManualClock clock;
  SimPortConfig c;
  c.wwpn = 7;
  auto port = SimPort::create(c, clock);
  ASSERT_NE(port, nullptr);
  sp_hal_port_info info{};
  ASSERT_EQ(Hal(port->hal()).port_info(&info), Status::kOk);
  EXPECT_EQ(info.max_frame_size, 2136u);
  EXPECT_EQ(info.buf_capacity, 2176u);  // rounded up to a cache line
  EXPECT_EQ(info.capabilities, uint32_t{SP_HAL_CAP_SIMULATED});
  EXPECT_EQ(info.frame_cost_ns, 200u);
  EXPECT_EQ(port->hal()->fast->poll, nullptr);
}

// ---- Wire side -----------------------------------------------------------------

TEST(SimPort, PushRxRejectsMalformedFramesWithoutCountingBackPressure) {
  ManualClock clock;
  auto port = SimPort::create(small_config(), clock);
  const std::vector<uint8_t> f = frame(2137, 1);
  EXPECT_EQ(port->push_rx(nullptr, 100), Status::kInvalidArgument);
  EXPECT_EQ(port->push_rx(f.data(), 23), Status::kInvalidArgument);
  EXPECT_EQ(port->push_rx(f.data(), 2137), Status::kTooLarge);
  EXPECT_EQ(port->push_rx(f.data(), 2136), Status::kOk);
  EXPECT_EQ(port->stats().rx_refused, 0u);
  EXPECT_EQ(port->rx_queued(), 1u);
}

TEST(SimPort, PushRxTellsAFullRingFromAnEmptyPool) {
  ManualClock clock;
  auto port = SimPort::create(small_config(), clock);  // ring 2, 6 buffers
  EXPECT_EQ(push(*port, frame(40, 1)), Status::kOk);
  EXPECT_EQ(push(*port, frame(40, 2)), Status::kOk);
  EXPECT_FALSE(port->can_accept_rx());
  EXPECT_EQ(push(*port, frame(40, 3)), Status::kRetry);
  std::vector<sp_hal_buf*> held = receive(*port, 2);
  std::vector<sp_hal_buf*> more(4);
  ASSERT_EQ(Hal(port->hal()).alloc_bufs(more.data(), 4), Status::kOk);
  EXPECT_EQ(port->free_buffers(), 0u);
  EXPECT_EQ(push(*port, frame(40, 3)), Status::kNoBuffers);
  EXPECT_EQ(port->stats().rx_refused, 2u);
  EXPECT_EQ(Hal(port->hal()).free_bufs(more.data(), 4), Status::kOk);
  EXPECT_EQ(Hal(port->hal()).free_bufs(held.data(), 2), Status::kOk);
}

TEST(SimPort, RxSpaceHookFiresOnceWhenARefusedPortCanAcceptAgain) {
  ManualClock clock;
  auto port = SimPort::create(small_config(), clock);
  HookLog log;
  port->set_hooks(hooks_for(log));
  Hal hal(port->hal());

  // No refusal, no notification.
  ASSERT_EQ(push(*port, frame(40, 1)), Status::kOk);
  std::vector<sp_hal_buf*> a = receive(*port, 2);
  EXPECT_EQ(log.rx_space, 0);

  // Ring full: freed by rx_burst.
  ASSERT_EQ(push(*port, frame(40, 2)), Status::kOk);
  ASSERT_EQ(push(*port, frame(40, 3)), Status::kOk);
  ASSERT_EQ(push(*port, frame(40, 4)), Status::kRetry);
  EXPECT_EQ(log.rx_space, 0);
  std::vector<sp_hal_buf*> b = receive(*port, 1);
  EXPECT_EQ(log.rx_space, 1);
  std::vector<sp_hal_buf*> c = receive(*port, 1);
  EXPECT_EQ(log.rx_space, 1) << "one notification per refusal";

  // Pool empty: freed by free_bufs.
  std::vector<sp_hal_buf*> rest(port->free_buffers());
  ASSERT_EQ(hal.alloc_bufs(rest.data(), static_cast<uint32_t>(rest.size())), Status::kOk);
  ASSERT_EQ(push(*port, frame(40, 5)), Status::kNoBuffers);
  ASSERT_EQ(hal.free_bufs(a.data(), 1), Status::kOk);
  EXPECT_EQ(log.rx_space, 2);

  // Pool empty: freed by the wire taking a transmitted frame.
  ASSERT_EQ(push(*port, frame(40, 6)), Status::kOk);
  ASSERT_EQ(push(*port, frame(40, 7)), Status::kNoBuffers);
  rest[0]->length = 40;
  ASSERT_EQ(hal.tx_burst(&rest[0], 1).status, Status::kOk);
  EXPECT_EQ(log.rx_space, 2);
  port->pop_tx();
  EXPECT_EQ(log.rx_space, 3);

  EXPECT_EQ(hal.free_bufs(b.data(), 1), Status::kOk);
  EXPECT_EQ(hal.free_bufs(c.data(), 1), Status::kOk);
  EXPECT_EQ(hal.free_bufs(rest.data() + 1, static_cast<uint32_t>(rest.size() - 1)), Status::kOk);
}

TEST(SimPort, TxHookReportsTheReadyTimeOfTheFirstQueuedFrame) {
  ManualClock clock(5000);
  auto port = SimPort::create(small_config(), clock);  // 100 ns per frame
  HookLog log;
  port->set_hooks(hooks_for(log));
  Hal hal(port->hal());
  sp_hal_buf* bufs[2];
  ASSERT_EQ(hal.alloc_bufs(bufs, 2), Status::kOk);
  bufs[0]->length = bufs[1]->length = 24;
  ASSERT_EQ(hal.tx_burst(bufs, 2).status, Status::kOk);
  ASSERT_EQ(log.tx_ready.size(), 1u);
  EXPECT_EQ(log.tx_ready[0], 5100u);
  TxFrameView f;
  ASSERT_TRUE(port->tx_front(&f));
  EXPECT_EQ(f.ready_ns, 5100u);
  port->pop_tx();
  ASSERT_TRUE(port->tx_front(&f));
  EXPECT_EQ(f.ready_ns, 5200u);
  port->pop_tx();
  EXPECT_FALSE(port->tx_front(&f));
}

TEST(SimPort, DrainTxTakesReadyFramesUntilTheSinkRefuses) {
  ManualClock clock(0);
  SimPortConfig c = small_config();
  c.tx_ring_size = 4;
  auto port = SimPort::create(c, clock);
  Hal hal(port->hal());
  sp_hal_buf* bufs[4];
  ASSERT_EQ(hal.alloc_bufs(bufs, 4), Status::kOk);
  for (uint32_t i = 0; i < 4; ++i) {
    bufs[i]->length = 30;
    bufs[i]->data[0] = static_cast<uint8_t>(i);
  }
  ASSERT_EQ(hal.tx_burst(bufs, 4).status, Status::kOk);  // ready at 100, 200, 300, 400

  struct Sink {
    std::vector<uint8_t> tags;
    size_t limit = 100;
  } sink;
  auto take = [](void* ctx, const TxFrameView& f) {
    auto* s = static_cast<Sink*>(ctx);
    if (s->tags.size() == s->limit) return false;
    s->tags.push_back(f.data[0]);
    return true;
  };
  EXPECT_EQ(port->drain_tx(99, take, &sink), 0u);
  EXPECT_EQ(port->drain_tx(250, take, &sink), 2u);
  sink.limit = 3;
  EXPECT_EQ(port->drain_tx(1000, take, &sink), 1u);
  EXPECT_EQ(port->tx_queued(), 1u);
  sink.limit = 100;
  EXPECT_EQ(port->drain_tx(1000, take, &sink), 1u);
  EXPECT_EQ(sink.tags, (std::vector<uint8_t>{0, 1, 2, 3}));
  EXPECT_EQ(port->free_buffers(), 6u);
}

// ---- Cost model ------------------------------------------------------------------

TEST(SimPort, EngineTimeFollowsFramesAndCyclesExactly) {
  ManualClock clock(1000);
  SimPortConfig c = small_config();
  c.rx_ring_size = 3;
  c.tx_ring_size = 4;
  c.buffer_count = 8;
  auto port = SimPort::create(c, clock);  // 100 ns per frame, 1 ns per cycle
  Hal hal(port->hal());
  for (uint8_t i = 0; i < 3; ++i)
    ASSERT_EQ(push(*port, frame(64, i)), Status::kOk);
  std::vector<sp_hal_buf*> got = receive(*port, 3);
  EXPECT_EQ(port->busy_until_ns(), 1300u);
  clock.advance(50);  // the firmware's own code takes no simulated time
  ASSERT_EQ(hal.tx_burst(got.data(), 3).count, 3u);
  ASSERT_EQ(hal.charge_cycles(50), Status::kOk);
  EXPECT_EQ(port->busy_until_ns(), 1350u);
  sp_hal_buf* mine = nullptr;
  ASSERT_EQ(hal.alloc_bufs(&mine, 1), Status::kOk);
  mine->length = 24;
  ASSERT_EQ(hal.tx_burst(&mine, 1).count, 1u);
  std::vector<uint64_t> ready;
  TxFrameView f;
  while (port->tx_front(&f)) {
    ready.push_back(f.ready_ns);
    port->pop_tx();
  }
  EXPECT_EQ(ready, (std::vector<uint64_t>{1300, 1300, 1300, 1450}));

  // An idle engine does not bank time: the next frame starts from its arrival.
  clock.set(5000);
  ASSERT_EQ(push(*port, frame(64, 9)), Status::kOk);
  got = receive(*port, 1);
  ASSERT_EQ(hal.tx_burst(got.data(), 1).count, 1u);
  ASSERT_TRUE(port->tx_front(&f));
  EXPECT_EQ(f.ready_ns, 5100u);
  port->pop_tx();
  EXPECT_EQ(port->stats().busy_ns, 5 * 100u + 50u);
}

TEST(SimPort, FractionalCycleTimeAddsUpAcrossCharges) {
  ManualClock clock;
  SimPortConfig c = small_config();
  c.core_mhz = 3;  // 333.3 ns per cycle
  auto port = SimPort::create(c, clock);
  Hal hal(port->hal());
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(hal.charge_cycles(1), Status::kOk);
  EXPECT_EQ(port->stats().busy_ns, 1000u);
  EXPECT_EQ(port->busy_until_ns(), 1000u);

  c.core_mhz = 0;
  auto counting = SimPort::create(c, clock);
  ASSERT_EQ(Hal(counting->hal()).charge_cycles(12345), Status::kOk);
  EXPECT_EQ(counting->stats().cycles_charged, 12345u);
  EXPECT_EQ(counting->stats().busy_ns, 0u);
}

// ---- Mailbox, time, descriptors ------------------------------------------------------

TEST(SimPort, ToCpHookFiresForEveryPostedMessageOnly) {
  ManualClock clock;
  auto port = SimPort::create(small_config(), clock);
  HookLog log;
  port->set_hooks(hooks_for(log));
  Hal hal(port->hal());
  const uint8_t m[4] = {1, 2, 3, 4};
  for (uint32_t i = 0; i < port->config().mbox_to_cp_depth; ++i)
    ASSERT_EQ(hal.mbox_send(i, m, sizeof m), Status::kOk);
  EXPECT_EQ(hal.mbox_send(99, m, sizeof m), Status::kRetry);
  EXPECT_EQ(hal.mbox_send(99, m, 100000), Status::kTooLarge);
  EXPECT_EQ(log.to_cp, static_cast<int>(port->config().mbox_to_cp_depth));
  EXPECT_EQ(port->to_cp_queued(), port->config().mbox_to_cp_depth);
}

TEST(SimPort, TimestampNeverGoesBackEvenIfTheClockDoes) {
  ManualClock clock(1000);
  auto port = SimPort::create(small_config(), clock);
  Hal hal(port->hal());
  EXPECT_EQ(hal.now_ns(), 1000u);
  clock.set(400);
  EXPECT_EQ(hal.now_ns(), 1000u);
  clock.set(1500);
  EXPECT_EQ(hal.now_ns(), 1500u);
}

TEST(SimPort, DescriptorsWhoseFieldsWereOverwrittenAreRefused) {
  ManualClock clock;
  auto port = SimPort::create(small_config(), clock);
  Hal hal(port->hal());
  sp_hal_buf* b = nullptr;
  ASSERT_EQ(hal.alloc_bufs(&b, 1), Status::kOk);
  b->length = 24;
  uint8_t* data = b->data;
  b->data = data + 8;
  EXPECT_EQ(hal.tx_burst(&b, 1).status, Status::kInvalidArgument);
  EXPECT_EQ(hal.free_bufs(&b, 1), Status::kInvalidArgument);
  b->data = data;
  const uint32_t capacity = b->capacity;
  b->capacity = 4096;
  EXPECT_EQ(hal.free_bufs(&b, 1), Status::kInvalidArgument);
  b->capacity = capacity;
  EXPECT_EQ(hal.free_bufs(&b, 1), Status::kOk);
  EXPECT_EQ(port->stats().invalid_calls, 3u);
}

// ---- Per-frame allocation --------------------------------------------------------------

TEST(SimPort, MovingFramesAndMessagesAllocatesNothing) {
  ManualClock clock;
  SimPortConfig c = small_config();
  c.rx_ring_size = 8;
  c.tx_ring_size = 8;
  c.buffer_count = 32;
  auto port = SimPort::create(c, clock);
  Hal hal(port->hal());
  uint8_t bytes[2136] = {};
  sp_hal_buf* bufs[8];
  uint8_t msg[64] = {};
  uint32_t type = 0;
  uint32_t length = 0;
  uint64_t failures = 0;
  const uint64_t before = splitpath::testing::allocation_count();
  for (uint32_t i = 0; i < 100000; ++i) {
    clock.advance(150);
    const uint32_t size = 24 + i % 2113;
    failures += port->push_rx(bytes, size) != Status::kOk;
    const BurstResult r = hal.rx_burst(bufs, 8);
    failures += r.count != 1;
    failures += hal.tx_burst(bufs, r.count).count != r.count;
    failures += hal.alloc_bufs(bufs, 1) != Status::kOk;
    bufs[0]->length = 24;
    failures += hal.tx_burst(bufs, 1).status != Status::kOk;
    while (port->tx_queued() > 0)
      port->pop_tx();
    failures += hal.mbox_send(i, msg, sizeof msg) != Status::kOk;
    failures += port->cp_recv(&type, msg, sizeof msg, &length) != Status::kOk;
    failures += port->cp_send(i, msg, sizeof msg) != Status::kOk;
    failures += hal.mbox_recv(&type, msg, sizeof msg, &length) != Status::kOk;
    failures += hal.charge_cycles(10) != Status::kOk;
  }
  EXPECT_EQ(splitpath::testing::allocation_count() - before, 0u);
  EXPECT_EQ(failures, 0u);
  EXPECT_EQ(port->free_buffers(), 32u);
}

}  // namespace
}  // namespace splitpath::hal::sim
