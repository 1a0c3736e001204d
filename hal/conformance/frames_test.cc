// Receive, transmit and the buffer pool.
#include <algorithm>
#include <cstring>
#include <set>

#include "hal/conformance/c_client.h"
#include "hal/conformance/conformance.h"

namespace splitpath::hal::conformance {

int frames_test_anchor() {
  return 1;
}

namespace {

bool aligned(const void* p, uintptr_t to) {
  return reinterpret_cast<uintptr_t>(p) % to == 0;
}

}  // namespace

// ---- Receive -------------------------------------------------------------------

TEST_P(HalConformance, EmptyReceiveRingGivesNothing) {
  sp_hal_buf* bufs[4] = {};
  const BurstResult r = hal_.rx_burst(bufs, 4);
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.count, 0u);
}

TEST_P(HalConformance, ReceiveDeliversInjectedFramesInOrderWithExactBytes) {
  const std::vector<uint32_t> lengths = {24, 25, 64, 100, 1000, 2048, info_.max_frame_size};
  // As many at a time as the ring holds, received in bursts of up to 3.
  for (uint32_t i = 0; i < lengths.size();) {
    const uint32_t first = i;
    const uint32_t chunk =
        std::min<uint32_t>(info_.rx_ring_size, static_cast<uint32_t>(lengths.size()) - i);
    for (uint32_t j = 0; j < chunk; ++j, ++i)
      inject(make_frame(lengths[i], 100 + i));
    const std::vector<sp_hal_buf*> got = receive(chunk, 3);
    ASSERT_EQ(got.size(), chunk);
    std::set<uint32_t> ids;
    for (uint32_t j = 0; j < chunk; ++j) {
      const uint32_t k = first + j;
      EXPECT_TRUE(holds(got[j], make_frame(lengths[k], 100 + k))) << "frame " << k;
      EXPECT_GE(got[j]->capacity, info_.max_frame_size);
      EXPECT_LT(got[j]->id, info_.buf_count);
      EXPECT_TRUE(aligned(got[j]->data, SP_HAL_BUF_ALIGN));
      EXPECT_EQ(got[j]->fw_scratch, 0u);
      ids.insert(got[j]->id);
    }
    EXPECT_EQ(ids.size(), chunk) << "a buffer was handed out twice";
    EXPECT_EQ(hal_.free_bufs(got.data(), chunk), Status::kOk);
  }
  EXPECT_EQ(free_buffer_count(), info_.buf_count);
}

TEST_P(HalConformance, ReceiveNeverReturnsMoreThanAsked) {
  const uint32_t n = std::min<uint32_t>(5, info_.rx_ring_size);
  for (uint32_t i = 0; i < n; ++i)
    inject(make_frame(60, i));
  sp_hal_buf* bufs[8] = {};
  std::vector<sp_hal_buf*> got;
  for (uint32_t ask : {2u, 1u, 8u}) {
    std::fill(std::begin(bufs), std::end(bufs), nullptr);
    const BurstResult r = hal_.rx_burst(bufs, ask);
    ASSERT_EQ(r.status, Status::kOk);
    ASSERT_LE(r.count, ask);
    for (uint32_t i = r.count; i < 8; ++i)
      EXPECT_EQ(bufs[i], nullptr) << "rx_burst wrote past the frames it returned";
    got.insert(got.end(), bufs, bufs + r.count);
  }
  ASSERT_EQ(got.size(), n);
  for (uint32_t i = 0; i < n; ++i)
    EXPECT_EQ(frame_seed(got[i]->data), i);
  EXPECT_EQ(hal_.free_bufs(got.data(), n), Status::kOk);
}

TEST_P(HalConformance, FullReceiveRingPushesBackAndLosesNothing) {
  uint32_t accepted = 0;
  Status s = Status::kOk;
  while (accepted <= info_.rx_ring_size) {
    const std::vector<uint8_t> f = make_frame(80, accepted);
    s = harness_->inject_rx(f.data(), static_cast<uint32_t>(f.size()));
    if (s != Status::kOk) break;
    ++accepted;
  }
  EXPECT_TRUE(is_retry(s)) << status_name(s);
  EXPECT_EQ(accepted, info_.rx_ring_size);
  const std::vector<sp_hal_buf*> got = receive(accepted + 1);
  ASSERT_EQ(got.size(), accepted);
  for (uint32_t i = 0; i < accepted; ++i)
    EXPECT_TRUE(holds(got[i], make_frame(80, i))) << "frame " << i;
  EXPECT_EQ(hal_.free_bufs(got.data(), accepted), Status::kOk);
  inject(make_frame(80, 999));
  const std::vector<sp_hal_buf*> more = receive(1);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(frame_seed(more[0]->data), 999u);
  EXPECT_EQ(hal_.free_bufs(more.data(), 1), Status::kOk);
}

TEST_P(HalConformance, RejectedReceiveCallsLeaveFramesQueued) {
  inject(make_frame(40, 7));
  const sp_hal_fast_ops* f = hal_.c_hal()->fast;
  sp_hal_buf* bufs[2] = {};
  uint32_t n = 0;
  EXPECT_EQ(f->rx_burst(hal_.port(), nullptr, 2, &n), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(f->rx_burst(hal_.port(), bufs, 0, &n), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(f->rx_burst(hal_.port(), bufs, 2, nullptr), SP_HAL_INVALID_ARGUMENT);
  const std::vector<sp_hal_buf*> got = receive(2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(holds(got[0], make_frame(40, 7)));
  EXPECT_EQ(hal_.free_bufs(got.data(), 1), Status::kOk);
}

// ---- Transmit ------------------------------------------------------------------

TEST_P(HalConformance, TransmitSendsInOrderWithExactBytes) {
  const std::vector<uint32_t> lengths = {24, 31, 512, 2048, info_.max_frame_size};
  std::vector<TxFrame> sent;
  for (uint32_t i = 0; i < lengths.size();) {
    const uint32_t chunk =
        std::min<uint32_t>(info_.tx_ring_size, static_cast<uint32_t>(lengths.size()) - i);
    std::vector<sp_hal_buf*> bufs;
    for (uint32_t j = 0; j < chunk; ++j, ++i)
      bufs.push_back(alloc_frame(make_frame(lengths[i], 200 + i)));
    send_all(bufs);
    for (TxFrame& f : collect_all())
      sent.push_back(std::move(f));
  }
  ASSERT_EQ(sent.size(), lengths.size());
  for (uint32_t i = 0; i < lengths.size(); ++i)
    EXPECT_EQ(sent[i].bytes, make_frame(lengths[i], 200 + i)) << "frame " << i;
  EXPECT_EQ(free_buffer_count(), info_.buf_count);
}

TEST_P(HalConformance, ReceivedBufferCanBeRewrittenAndForwarded) {
  std::vector<uint8_t> frame = make_frame(300, 5);
  inject(frame);
  std::vector<sp_hal_buf*> got = receive(1);
  ASSERT_EQ(got.size(), 1u);
  // Rewrite the D_ID and grow the payload, as a remapping firmware would.
  sp_hal_buf* b = got[0];
  b->data[1] = 0x0A;
  b->data[2] = 0x0B;
  b->data[3] = 0x0C;
  b->length += 8;
  std::memset(b->data + 300, 0x5A, 8);
  frame[1] = 0x0A;
  frame[2] = 0x0B;
  frame[3] = 0x0C;
  frame.insert(frame.end(), 8, 0x5A);
  b->fw_scratch = 0x1234;
  send_all(got);
  const std::vector<TxFrame> sent = collect_all();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].bytes, frame);
  EXPECT_EQ(free_buffer_count(), info_.buf_count);
}

TEST_P(HalConformance, FullTransmitRingAcceptsAPrefixAndKeepsTheRest) {
  const uint32_t extra = std::min({3u, info_.buf_count - info_.tx_ring_size, info_.tx_ring_size});
  const uint32_t n = info_.tx_ring_size + extra;
  std::vector<sp_hal_buf*> bufs;
  for (uint32_t i = 0; i < n; ++i)
    bufs.push_back(alloc_frame(make_frame(100, 300 + i)));
  const uint64_t retries_before = stats().tx_retries;

  BurstResult r = hal_.tx_burst(bufs.data(), n);
  EXPECT_EQ(r.status, Status::kRetry);
  ASSERT_EQ(r.count, info_.tx_ring_size);
  // The ring is still full: nothing more goes, and the rest stay ours.
  r = hal_.tx_burst(bufs.data() + info_.tx_ring_size, extra);
  EXPECT_EQ(r.status, Status::kRetry);
  EXPECT_EQ(r.count, 0u);
  EXPECT_EQ(stats().tx_retries - retries_before, 2u);

  std::vector<TxFrame> sent = collect_all();
  ASSERT_EQ(sent.size(), info_.tx_ring_size);
  r = hal_.tx_burst(bufs.data() + info_.tx_ring_size, extra);
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.count, extra);
  for (TxFrame& f : collect_all())
    sent.push_back(std::move(f));
  ASSERT_EQ(sent.size(), n);
  for (uint32_t i = 0; i < n; ++i)
    EXPECT_EQ(sent[i].bytes, make_frame(100, 300 + i)) << "frame " << i;
  EXPECT_EQ(free_buffer_count(), info_.buf_count);
}

TEST_P(HalConformance, TransmitChecksEveryDescriptorBeforeSendingAny) {
  sp_hal_buf* good = alloc_frame(make_frame(100, 1));
  sp_hal_buf* other = alloc_frame(make_frame(100, 2));
  ASSERT_NE(good, nullptr);
  ASSERT_NE(other, nullptr);
  auto rejected = [&](std::vector<sp_hal_buf*> batch, Status expected, const char* what) {
    const BurstResult r = hal_.tx_burst(batch.data(), static_cast<uint32_t>(batch.size()));
    EXPECT_EQ(r.status, expected) << what;
    EXPECT_EQ(r.count, 0u) << what;
    EXPECT_TRUE(collect_all().empty()) << what;
  };
  other->length = SP_HAL_FRAME_HEADER_SIZE - 1;
  rejected({good, other}, Status::kInvalidArgument, "shorter than a header");
  other->length = info_.max_frame_size + 1;
  rejected({good, other}, Status::kTooLarge, "longer than max_frame_size");
  other->length = other->capacity + 1;
  rejected({good, other}, Status::kTooLarge, "longer than the buffer");
  other->length = 100;
  rejected({good, nullptr}, Status::kInvalidArgument, "null descriptor");
  rejected({good, other, good}, Status::kInvalidArgument, "the same buffer twice");
  sp_hal_buf forged = *other;
  rejected({good, &forged}, Status::kInvalidArgument, "a copy of a descriptor");

  sp_hal_buf* freed = alloc_frame(make_frame(100, 3));
  ASSERT_EQ(hal_.free_bufs(&freed, 1), Status::kOk);
  rejected({good, freed}, Status::kInvalidArgument, "a freed buffer");
  sp_hal_buf* sent = alloc_frame(make_frame(100, 4));
  send_all({sent});
  EXPECT_EQ(collect_all().size(), 1u);
  rejected({good, sent}, Status::kInvalidArgument, "a buffer already sent");

  // Both are still the firmware's and go out untouched.
  send_all({good});
  std::vector<TxFrame> out = collect_all();
  send_all({other});
  for (TxFrame& f : collect_all())
    out.push_back(std::move(f));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes, make_frame(100, 1));
  EXPECT_EQ(out[1].bytes, make_frame(100, 2));
  EXPECT_EQ(free_buffer_count(), info_.buf_count);
}

TEST_P(HalConformance, MaximumSizeFramesPassIntactBothWays) {
  const std::vector<uint8_t> in = make_frame(info_.max_frame_size, 41);
  inject(in);
  std::vector<sp_hal_buf*> got = receive(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(holds(got[0], in));
  send_all(got);
  std::vector<TxFrame> sent = collect_all();
  const std::vector<uint8_t> out = make_frame(info_.max_frame_size, 42);
  send_all({alloc_frame(out)});
  for (TxFrame& f : collect_all())
    sent.push_back(std::move(f));
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].bytes, in);
  EXPECT_EQ(sent[1].bytes, out);
}

// ---- The buffer pool -------------------------------------------------------------

TEST_P(HalConformance, AllocationGivesDistinctWritableBuffers) {
  std::vector<sp_hal_buf*> bufs(info_.buf_count);
  ASSERT_EQ(hal_.alloc_bufs(bufs.data(), info_.buf_count), Status::kOk);
  std::set<uint32_t> ids;
  std::set<const uint8_t*> data;
  for (sp_hal_buf* b : bufs) {
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->length, 0u);
    EXPECT_GE(b->capacity, info_.max_frame_size);
    EXPECT_EQ(b->capacity, info_.buf_capacity);
    EXPECT_LT(b->id, info_.buf_count);
    EXPECT_EQ(b->rx_time_ns, 0u);
    EXPECT_EQ(b->fw_scratch, 0u);
    EXPECT_TRUE(aligned(b->data, SP_HAL_BUF_ALIGN));
    ids.insert(b->id);
    data.insert(b->data);
    std::memset(b->data, static_cast<int>(b->id * 7 + 1), b->capacity);
    b->fw_scratch = b->id;
  }
  EXPECT_EQ(ids.size(), info_.buf_count);
  EXPECT_EQ(data.size(), info_.buf_count);
  // No buffer overlaps another: each still holds its own pattern.
  for (const sp_hal_buf* b : bufs) {
    const uint8_t want = static_cast<uint8_t>(b->id * 7 + 1);
    uint8_t* end = b->data + b->capacity;
    EXPECT_EQ(std::find_if(b->data, end, [&](uint8_t v) { return v != want; }), end)
        << "buffer " << b->id;
  }
  EXPECT_EQ(hal_.free_bufs(bufs.data(), info_.buf_count), Status::kOk);
  EXPECT_EQ(free_buffer_count(), info_.buf_count);
}

TEST_P(HalConformance, AllocationIsAllOrNothing) {
  const uint64_t failures_before = stats().alloc_failures;
  std::vector<sp_hal_buf*> held(info_.buf_count - 1);
  ASSERT_EQ(hal_.alloc_bufs(held.data(), info_.buf_count - 1), Status::kOk);
  sp_hal_buf* two[2] = {};
  EXPECT_EQ(hal_.alloc_bufs(two, 2), Status::kNoBuffers);
  EXPECT_EQ(two[0], nullptr);
  EXPECT_EQ(two[1], nullptr);
  ASSERT_EQ(hal_.alloc_bufs(two, 1), Status::kOk);
  held.push_back(two[0]);
  EXPECT_EQ(hal_.alloc_bufs(two, 1), Status::kNoBuffers);
  EXPECT_EQ(stats().alloc_failures - failures_before, 2u);
  EXPECT_EQ(hal_.free_bufs(held.data(), static_cast<uint32_t>(held.size())), Status::kOk);
  EXPECT_EQ(free_buffer_count(), info_.buf_count);
}

TEST_P(HalConformance, FreeChecksEveryDescriptorBeforeFreeingAny) {
  sp_hal_buf* a = alloc_frame(make_frame(30, 1));
  sp_hal_buf* b = alloc_frame(make_frame(30, 2));
  sp_hal_buf* pair[2] = {a, a};
  EXPECT_EQ(hal_.free_bufs(pair, 2), Status::kInvalidArgument);
  pair[1] = nullptr;
  EXPECT_EQ(hal_.free_bufs(pair, 2), Status::kInvalidArgument);
  sp_hal_buf forged = *b;
  pair[1] = &forged;
  EXPECT_EQ(hal_.free_bufs(pair, 2), Status::kInvalidArgument);
  sp_hal_buf* queued = alloc_frame(make_frame(30, 3));
  send_all({queued});
  pair[1] = queued;
  EXPECT_EQ(hal_.free_bufs(pair, 2), Status::kInvalidArgument) << "a buffer in the transmit ring";
  EXPECT_EQ(collect_all().size(), 1u);
  // a and b were never freed.
  pair[1] = b;
  EXPECT_EQ(hal_.free_bufs(pair, 2), Status::kOk);
  EXPECT_EQ(hal_.free_bufs(&a, 1), Status::kInvalidArgument) << "double free";
  EXPECT_EQ(free_buffer_count(), info_.buf_count);
}

TEST_P(HalConformance, ExhaustedPoolPushesBackOnReception) {
  std::vector<sp_hal_buf*> held(info_.buf_count);
  ASSERT_EQ(hal_.alloc_bufs(held.data(), info_.buf_count), Status::kOk);
  const std::vector<uint8_t> f = make_frame(50, 9);
  const Status s = harness_->inject_rx(f.data(), static_cast<uint32_t>(f.size()));
  EXPECT_TRUE(is_retry(s)) << status_name(s);
  EXPECT_EQ(hal_.free_bufs(held.data(), 1), Status::kOk);
  inject(f);
  const std::vector<sp_hal_buf*> got = receive(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(holds(got[0], f));
  EXPECT_EQ(hal_.free_bufs(got.data(), 1), Status::kOk);
  EXPECT_EQ(hal_.free_bufs(held.data() + 1, info_.buf_count - 1), Status::kOk);
}

// 100k frames through receive, forward, free and originate: every buffer comes
// back, every forwarded frame leaves once, in order, intact.
TEST_P(HalConformance, HundredThousandFramesLeakNoBuffer) {
  constexpr uint32_t kFrames = 100000;
  const uint32_t batch = std::min({16u, info_.rx_ring_size, info_.tx_ring_size});
  const sp_hal_stats before = stats();
  std::vector<sp_hal_buf*> forward;
  std::vector<sp_hal_buf*> drop;
  std::vector<uint32_t> expected_seeds;
  uint32_t injected = 0;
  uint64_t sent_total = 0;
  uint64_t originated = 0;
  auto length_of = [&](uint32_t seed) {
    return SP_HAL_FRAME_HEADER_SIZE + (seed * 37u) % (info_.max_frame_payload + 1);
  };
  while (injected < kFrames) {
    const uint32_t k = std::min(batch, kFrames - injected);
    for (uint32_t i = 0; i < k; ++i) {
      const std::vector<uint8_t> f = make_frame(length_of(injected + i), injected + i);
      ASSERT_EQ(harness_->inject_rx(f.data(), static_cast<uint32_t>(f.size())), Status::kOk);
    }
    const std::vector<sp_hal_buf*> got = receive(k, 7);
    ASSERT_EQ(got.size(), k);
    forward.clear();
    drop.clear();
    expected_seeds.clear();
    for (uint32_t i = 0; i < k; ++i) {
      const uint32_t seed = frame_seed(got[i]->data);
      ASSERT_EQ(seed, injected + i);
      ASSERT_EQ(got[i]->length, length_of(seed));
      if (seed % 4 == 3) {
        drop.push_back(got[i]);
      } else {
        forward.push_back(got[i]);
        expected_seeds.push_back(seed);
      }
    }
    injected += k;
    if (!drop.empty()) {
      ASSERT_EQ(hal_.free_bufs(drop.data(), static_cast<uint32_t>(drop.size())), Status::kOk);
    }
    send_all(forward);
    for (size_t i = 0; i < expected_seeds.size(); ++i) {
      TxFrame f;
      ASSERT_TRUE(harness_->collect_tx(&f));
      const uint32_t seed = expected_seeds[i];
      ASSERT_EQ(f.bytes.size(), length_of(seed));
      ASSERT_EQ(frame_seed(f.bytes.data()), seed);
      if (seed % 97 == 0) {
        ASSERT_EQ(f.bytes, make_frame(length_of(seed), seed));
      }
    }
    sent_total += expected_seeds.size();
    if (injected % (8 * batch) == 0) {
      const std::vector<uint8_t> mine = make_frame(64, 0xF0000000u + injected);
      send_all({alloc_frame(mine)});
      TxFrame f;
      ASSERT_TRUE(harness_->collect_tx(&f));
      ASSERT_EQ(f.bytes, mine);
      ++originated;
      ++sent_total;
    }
  }
  EXPECT_TRUE(collect_all().empty());
  EXPECT_EQ(free_buffer_count(), info_.buf_count);
  const sp_hal_stats after = stats();
  EXPECT_EQ(after.rx_frames - before.rx_frames, kFrames);
  EXPECT_EQ(after.tx_frames - before.tx_frames, sent_total);
  EXPECT_EQ(after.frames_charged - before.frames_charged, kFrames + originated);
  EXPECT_EQ(after.invalid_calls, before.invalid_calls);
}

// ---- C callers -------------------------------------------------------------------

TEST_P(HalConformance, FirmwareWrittenInCCanDriveThePort) {
#if SPLITPATH_HAL_HAVE_C_CLIENT
  const uint32_t n = std::min({3u, info_.rx_ring_size, info_.tx_ring_size});
  for (uint32_t i = 0; i < n; ++i)
    inject(make_frame(64, 500 + i));
  EXPECT_EQ(hal_.poll(), Status::kOk);
  uint32_t echoed = 0;
  EXPECT_EQ(sp_hal_conformance_c_echo(hal_.c_hal(), 8, &echoed), SP_HAL_OK);
  EXPECT_EQ(echoed, n);
  const std::vector<TxFrame> sent = collect_all();
  ASSERT_EQ(sent.size(), n);
  for (uint32_t i = 0; i < n; ++i) {
    std::vector<uint8_t> want = make_frame(64, 500 + i);
    std::swap_ranges(want.begin() + 1, want.begin() + 4, want.begin() + 5);
    EXPECT_EQ(sent[i].bytes, want) << "frame " << i;
  }

  EXPECT_EQ(sp_hal_conformance_c_report(hal_.c_hal(), 0xC0DE), SP_HAL_OK);
  uint8_t msg[64] = {};
  uint32_t type = 0;
  uint32_t length = 0;
  ASSERT_EQ(harness_->cp_recv(&type, msg, sizeof msg, &length), Status::kOk);
  EXPECT_EQ(type, 0xC0DEu);
  ASSERT_EQ(length, 12u);
  uint32_t index = 0;
  uint64_t wwpn = 0;
  for (int i = 0; i < 4; ++i)
    index = index << 8 | msg[i];
  for (int i = 4; i < 12; ++i)
    wwpn = wwpn << 8 | msg[i];
  EXPECT_EQ(index, info_.port_index);
  EXPECT_EQ(wwpn, info_.wwpn);
#else
  GTEST_SKIP() << "no C compiler in this build";
#endif
}

}  // namespace splitpath::hal::conformance
