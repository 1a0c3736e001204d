// The fixture, the status table and the tests of the tables and port info.
#include "hal/conformance/conformance.h"

#include <cstring>
#include <set>
#include <string>

namespace splitpath::hal {
void PrintTo(Status status, std::ostream* os) {
  *os << status_name(status);
}
}  // namespace splitpath::hal

namespace splitpath::hal::conformance {

// Defined in the other files of the suite.
int frames_test_anchor();
int mailbox_test_anchor();
int platform_test_anchor();

int link_suite() {
  return frames_test_anchor() + mailbox_test_anchor() + platform_test_anchor();
}

void PrintTo(const HalUnderTest& hal, std::ostream* os) {
  *os << hal.name;
}

std::string hal_under_test_name(const ::testing::TestParamInfo<HalUnderTest>& info) {
  return info.param.name;
}

// ---- Fixture -----------------------------------------------------------------

void HalConformance::SetUp() {
  harness_ = GetParam().make();
  ASSERT_NE(harness_, nullptr);
  const sp_hal* hal = harness_->hal();
  ASSERT_NE(hal, nullptr);
  ASSERT_NE(hal->fast, nullptr);
  ASSERT_NE(hal->ctrl, nullptr);
  ASSERT_NE(hal->ctrl->port_info, nullptr);
  hal_ = Hal(hal);
  ASSERT_EQ(hal_.port_info(&info_), Status::kOk);
}

std::vector<uint8_t> HalConformance::make_frame(uint32_t length, uint32_t seed) {
  std::vector<uint8_t> f(length);
  uint32_t x = seed * 2654435761u + 0x9E3779B9u;
  for (uint32_t i = 0; i < length; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    f[i] = static_cast<uint8_t>(x >> 24);
  }
  // The seed goes where OX_ID and RX_ID are, which no test rewrites.
  for (int i = 0; i < 4; ++i)
    f[16 + i] = static_cast<uint8_t>(seed >> (24 - 8 * i));
  return f;
}

uint32_t HalConformance::frame_seed(const uint8_t* frame) {
  return uint32_t{frame[16]} << 24 | uint32_t{frame[17]} << 16 | uint32_t{frame[18]} << 8 |
         frame[19];
}

void HalConformance::inject(const std::vector<uint8_t>& frame) {
  ASSERT_EQ(harness_->inject_rx(frame.data(), static_cast<uint32_t>(frame.size())), Status::kOk);
}

std::vector<sp_hal_buf*> HalConformance::receive(uint32_t n, uint32_t burst) {
  std::vector<sp_hal_buf*> out;
  std::vector<sp_hal_buf*> bufs(burst);
  while (out.size() < n) {
    EXPECT_EQ(hal_.poll(), Status::kOk);
    const uint32_t want = std::min<uint32_t>(burst, n - static_cast<uint32_t>(out.size()));
    const BurstResult r = hal_.rx_burst(bufs.data(), want);
    EXPECT_EQ(r.status, Status::kOk);
    EXPECT_LE(r.count, want);
    if (r.status != Status::kOk || r.count == 0) break;
    out.insert(out.end(), bufs.begin(), bufs.begin() + r.count);
  }
  return out;
}

sp_hal_buf* HalConformance::alloc_frame(const std::vector<uint8_t>& frame) {
  sp_hal_buf* b = nullptr;
  EXPECT_EQ(hal_.alloc_bufs(&b, 1), Status::kOk);
  if (b == nullptr) return nullptr;
  EXPECT_GE(b->capacity, frame.size());
  std::memcpy(b->data, frame.data(), frame.size());
  b->length = static_cast<uint32_t>(frame.size());
  return b;
}

void HalConformance::send_all(const std::vector<sp_hal_buf*>& bufs) {
  if (bufs.empty()) return;
  const BurstResult r = hal_.tx_burst(bufs.data(), static_cast<uint32_t>(bufs.size()));
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.count, bufs.size());
}

std::vector<TxFrame> HalConformance::collect_all() {
  std::vector<TxFrame> out;
  EXPECT_EQ(hal_.poll(), Status::kOk);
  TxFrame f;
  while (harness_->collect_tx(&f))
    out.push_back(std::move(f));
  return out;
}

uint32_t HalConformance::free_buffer_count() {
  std::vector<sp_hal_buf*> held;
  sp_hal_buf* b = nullptr;
  while (held.size() <= info_.buf_count && hal_.alloc_bufs(&b, 1) == Status::kOk)
    held.push_back(b);
  if (!held.empty()) {
    EXPECT_EQ(hal_.free_bufs(held.data(), static_cast<uint32_t>(held.size())), Status::kOk);
  }
  return static_cast<uint32_t>(held.size());
}

sp_hal_stats HalConformance::stats() {
  sp_hal_stats s{};
  EXPECT_EQ(hal_.get_stats(&s), Status::kOk);
  return s;
}

::testing::AssertionResult HalConformance::holds(const sp_hal_buf* buf,
                                                 const std::vector<uint8_t>& frame) {
  if (buf == nullptr) return ::testing::AssertionFailure() << "no buffer";
  if (buf->length != frame.size()) {
    return ::testing::AssertionFailure()
           << "length " << buf->length << ", expected " << frame.size();
  }
  for (uint32_t i = 0; i < buf->length; ++i) {
    if (buf->data[i] != frame[i]) {
      return ::testing::AssertionFailure() << "byte " << i << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

// ---- The status table (hal.h itself) -------------------------------------------

TEST(HalStatus, OneTableGivesValuesNamesAndDescriptions) {
  std::set<std::string> names;
#define CHECK_ROW(c_name, cpp_name, value, name, description)     \
  EXPECT_EQ(c_name, value);                                       \
  EXPECT_EQ(to_c(Status::cpp_name), c_name);                      \
  EXPECT_STREQ(sp_hal_status_name(c_name), name);                 \
  EXPECT_STREQ(status_name(Status::cpp_name), name);              \
  EXPECT_GT(std::strlen(sp_hal_status_description(c_name)), 10u); \
  names.insert(name);
  SP_HAL_STATUS_TABLE(CHECK_ROW)
#undef CHECK_ROW
  EXPECT_EQ(names.size(), 7u);
  EXPECT_STREQ(sp_hal_status_name(-1), "unknown");
  EXPECT_STREQ(sp_hal_status_name(1000), "unknown");
}

TEST(HalStatus, OnlyExhaustedResourcesAreRetry) {
  EXPECT_TRUE(is_retry(Status::kRetry));
  EXPECT_TRUE(is_retry(Status::kNoBuffers));
  for (Status s : {Status::kOk, Status::kEmpty, Status::kInvalidArgument, Status::kTooLarge,
                   Status::kUnsupported}) {
    EXPECT_FALSE(is_retry(s)) << status_name(s);
  }
}

TEST(HalStatus, FrameGeometryMatchesFibreChannel) {
  EXPECT_EQ(SP_HAL_FRAME_HEADER_SIZE, 24u);
  EXPECT_EQ(SP_HAL_MAX_FRAME_PAYLOAD, 2112u);
  EXPECT_EQ(SP_HAL_MAX_FRAME_SIZE, 2136u);
}

// ---- Tables and port info ------------------------------------------------------

TEST_P(HalConformance, TablesHaveEveryRequiredMember) {
  const sp_hal* h = hal_.c_hal();
  EXPECT_EQ(h->abi_version, SP_HAL_ABI_VERSION);
  EXPECT_NE(h->port, nullptr);
  EXPECT_TRUE(hal_.compatible());
  EXPECT_NE(h->fast->rx_burst, nullptr);
  EXPECT_NE(h->fast->tx_burst, nullptr);
  EXPECT_NE(h->fast->alloc_bufs, nullptr);
  EXPECT_NE(h->fast->free_bufs, nullptr);
  EXPECT_NE(h->fast->now_ns, nullptr);
  EXPECT_NE(h->fast->charge_cycles, nullptr);
  EXPECT_NE(h->ctrl->port_info, nullptr);
  EXPECT_NE(h->ctrl->table_memory, nullptr);
  EXPECT_NE(h->ctrl->mbox_send, nullptr);
  EXPECT_NE(h->ctrl->mbox_recv, nullptr);
  EXPECT_NE(h->ctrl->get_stats, nullptr);
  // poll is optional: when present it must succeed with nothing to do.
  if (h->fast->poll != nullptr) {
    EXPECT_EQ(h->fast->poll(h->port), SP_HAL_OK);
  }
}

TEST_P(HalConformance, PortInfoIsSaneAndConstant) {
  EXPECT_EQ(info_.abi_version, SP_HAL_ABI_VERSION);
  EXPECT_NE(info_.wwpn, 0u);
  EXPECT_GE(info_.table_mem_bytes, SP_HAL_MIN_TABLE_MEM_BYTES);
  EXPECT_GE(info_.max_frame_payload, SP_HAL_MIN_FRAME_PAYLOAD_LIMIT);
  EXPECT_LE(info_.max_frame_payload, SP_HAL_MAX_FRAME_PAYLOAD);
  EXPECT_EQ(info_.max_frame_size, SP_HAL_FRAME_HEADER_SIZE + info_.max_frame_payload);
  EXPECT_GT(info_.max_transfer_bytes, 0u);
  EXPECT_GE(info_.rx_ring_size, 1u);
  EXPECT_GE(info_.tx_ring_size, 1u);
  EXPECT_GE(uint64_t{info_.buf_count}, uint64_t{info_.rx_ring_size} + info_.tx_ring_size);
  EXPECT_GE(info_.buf_capacity, info_.max_frame_size);
  EXPECT_GE(info_.mbox_max_msg_size, SP_HAL_MBOX_MIN_MSG_SIZE);
  EXPECT_GE(info_.mbox_to_cp_depth, SP_HAL_MBOX_MIN_DEPTH);
  EXPECT_GE(info_.mbox_from_cp_depth, SP_HAL_MBOX_MIN_DEPTH);
  EXPECT_EQ(info_.reserved, 0u);
  EXPECT_EQ(info_.capabilities & ~uint32_t{SP_HAL_CAP_SIMULATED}, 0u) << "unknown capability bits";

  sp_hal_port_info again{};
  harness_->advance_ns(1000);
  ASSERT_EQ(hal_.port_info(&again), Status::kOk);
  EXPECT_EQ(std::memcmp(&info_, &again, sizeof info_), 0);
}

TEST_P(HalConformance, EveryOperationRejectsANullPort) {
  const sp_hal_fast_ops* f = hal_.c_hal()->fast;
  const sp_hal_ctrl_ops* c = hal_.c_hal()->ctrl;
  sp_hal_buf* bufs[1] = {};
  uint32_t n = 77;
  EXPECT_EQ(f->rx_burst(nullptr, bufs, 1, &n), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(n, 0u);
  n = 77;
  EXPECT_EQ(f->tx_burst(nullptr, bufs, 1, &n), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(f->alloc_bufs(nullptr, bufs, 1), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(f->free_bufs(nullptr, bufs, 1), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(f->now_ns(nullptr), 0u);
  EXPECT_EQ(f->charge_cycles(nullptr, 10), SP_HAL_INVALID_ARGUMENT);
  sp_hal_port_info info{};
  EXPECT_EQ(c->port_info(nullptr, &info), SP_HAL_INVALID_ARGUMENT);
  void* base = nullptr;
  uint64_t size = 0;
  EXPECT_EQ(c->table_memory(nullptr, &base, &size), SP_HAL_INVALID_ARGUMENT);
  uint8_t msg[4] = {};
  EXPECT_EQ(c->mbox_send(nullptr, 1, msg, sizeof msg), SP_HAL_INVALID_ARGUMENT);
  uint32_t type = 0;
  uint32_t length = 77;
  EXPECT_EQ(c->mbox_recv(nullptr, &type, msg, sizeof msg, &length), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(length, 0u);
  sp_hal_stats stats{};
  EXPECT_EQ(c->get_stats(nullptr, &stats), SP_HAL_INVALID_ARGUMENT);
}

TEST_P(HalConformance, NullAndZeroArgumentsAreRejectedAndCounted) {
  const uint64_t invalid_before = stats().invalid_calls;
  const sp_hal_fast_ops* f = hal_.c_hal()->fast;
  sp_hal_port* port = hal_.port();
  sp_hal_buf* bufs[2] = {};
  uint32_t n = 77;
  EXPECT_EQ(f->rx_burst(port, nullptr, 1, &n), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(f->rx_burst(port, bufs, 0, &n), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(f->rx_burst(port, bufs, 1, nullptr), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(f->tx_burst(port, nullptr, 1, &n), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(f->tx_burst(port, bufs, 0, &n), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(f->tx_burst(port, bufs, 1, nullptr), SP_HAL_INVALID_ARGUMENT);
  EXPECT_EQ(hal_.alloc_bufs(nullptr, 1), Status::kInvalidArgument);
  EXPECT_EQ(hal_.alloc_bufs(bufs, 0), Status::kInvalidArgument);
  EXPECT_EQ(hal_.free_bufs(nullptr, 1), Status::kInvalidArgument);
  EXPECT_EQ(hal_.free_bufs(bufs, 0), Status::kInvalidArgument);
  EXPECT_EQ(hal_.port_info(nullptr), Status::kInvalidArgument);
  uint64_t size = 0;
  void* base = nullptr;
  EXPECT_EQ(hal_.table_memory(nullptr, &size), Status::kInvalidArgument);
  EXPECT_EQ(hal_.table_memory(&base, nullptr), Status::kInvalidArgument);
  EXPECT_EQ(hal_.get_stats(nullptr), Status::kInvalidArgument);
  EXPECT_EQ(stats().invalid_calls - invalid_before, 14u);
  // Nothing changed: every buffer is still free.
  EXPECT_EQ(free_buffer_count(), info_.buf_count);
}

}  // namespace splitpath::hal::conformance
