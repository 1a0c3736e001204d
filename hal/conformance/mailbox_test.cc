// The mailbox between the port firmware and the CP.
#include <cstring>

#include "hal/conformance/conformance.h"

namespace splitpath::hal::conformance {

int mailbox_test_anchor() {
  return 1;
}

namespace {

std::vector<uint8_t> message(uint32_t length, uint32_t seed) {
  std::vector<uint8_t> m(length);
  for (uint32_t i = 0; i < length; ++i)
    m[i] = static_cast<uint8_t>(seed * 31 + i * 7);
  return m;
}

}  // namespace

TEST_P(HalConformance, MessagesToTheCpArriveInOrderWithExactBytes) {
  const uint32_t lengths[] = {0, 1, 17, 64, SP_HAL_MBOX_MIN_MSG_SIZE, info_.mbox_max_msg_size};
  uint32_t type = 0xFFFFFFF0u;
  for (uint32_t length : lengths) {
    const std::vector<uint8_t> m = message(length, type);
    EXPECT_EQ(hal_.mbox_send(type, m.data(), length), Status::kOk) << length;
    ++type;
  }
  type = 0xFFFFFFF0u;
  std::vector<uint8_t> buf(info_.mbox_max_msg_size);
  for (uint32_t length : lengths) {
    uint32_t got_type = 0;
    uint32_t got_length = 0;
    ASSERT_EQ(
        harness_->cp_recv(&got_type, buf.data(), static_cast<uint32_t>(buf.size()), &got_length),
        Status::kOk);
    EXPECT_EQ(got_type, type);
    ASSERT_EQ(got_length, length);
    EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + length), message(length, type));
    ++type;
  }
  uint32_t got_type = 0;
  uint32_t got_length = 1;
  EXPECT_EQ(harness_->cp_recv(&got_type, buf.data(), 16, &got_length), Status::kEmpty);
}

TEST_P(HalConformance, MessagesFromTheCpArriveInOrderWithExactBytes) {
  const uint32_t lengths[] = {info_.mbox_max_msg_size, 0, 3, 200};
  for (uint32_t i = 0; i < 4; ++i) {
    const std::vector<uint8_t> m = message(lengths[i], i);
    ASSERT_EQ(harness_->cp_send(i, m.data(), lengths[i]), Status::kOk);
  }
  std::vector<uint8_t> buf(info_.mbox_max_msg_size);
  for (uint32_t i = 0; i < 4; ++i) {
    uint32_t type = 99;
    uint32_t length = 0;
    ASSERT_EQ(hal_.mbox_recv(&type, buf.data(), static_cast<uint32_t>(buf.size()), &length),
              Status::kOk);
    EXPECT_EQ(type, i);
    ASSERT_EQ(length, lengths[i]);
    EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + length), message(lengths[i], i));
  }
  const sp_hal_stats s = stats();
  EXPECT_EQ(s.mbox_received, 4u);
}

TEST_P(HalConformance, FullMailboxToTheCpReturnsRetryAndLosesNothing) {
  const uint64_t retries_before = stats().mbox_retries;
  uint32_t posted = 0;
  Status s = Status::kOk;
  while (posted <= info_.mbox_to_cp_depth) {
    const std::vector<uint8_t> m = message(8 + posted % 50, posted);
    s = hal_.mbox_send(posted, m.data(), static_cast<uint32_t>(m.size()));
    if (s != Status::kOk) break;
    ++posted;
  }
  EXPECT_EQ(s, Status::kRetry);
  EXPECT_EQ(posted, info_.mbox_to_cp_depth);
  EXPECT_EQ(stats().mbox_retries - retries_before, 1u);
  EXPECT_EQ(stats().mbox_sent, posted);

  std::vector<uint8_t> buf(info_.mbox_max_msg_size);
  uint32_t type = 0;
  uint32_t length = 0;
  ASSERT_EQ(harness_->cp_recv(&type, buf.data(), static_cast<uint32_t>(buf.size()), &length),
            Status::kOk);
  EXPECT_EQ(type, 0u);
  const std::vector<uint8_t> late = message(8 + posted % 50, posted);
  EXPECT_EQ(hal_.mbox_send(posted, late.data(), static_cast<uint32_t>(late.size())), Status::kOk);
  for (uint32_t i = 1; i <= posted; ++i) {
    ASSERT_EQ(harness_->cp_recv(&type, buf.data(), static_cast<uint32_t>(buf.size()), &length),
              Status::kOk);
    EXPECT_EQ(type, i);
    EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + length), message(8 + i % 50, i));
  }
  EXPECT_EQ(harness_->cp_recv(&type, buf.data(), static_cast<uint32_t>(buf.size()), &length),
            Status::kEmpty);
}

TEST_P(HalConformance, FullMailboxFromTheCpReturnsRetryAndLosesNothing) {
  uint32_t posted = 0;
  Status s = Status::kOk;
  while (posted <= info_.mbox_from_cp_depth) {
    const std::vector<uint8_t> m = message(posted % 20, posted);
    s = harness_->cp_send(posted, m.data(), static_cast<uint32_t>(m.size()));
    if (s != Status::kOk) break;
    ++posted;
  }
  EXPECT_EQ(s, Status::kRetry);
  EXPECT_EQ(posted, info_.mbox_from_cp_depth);
  std::vector<uint8_t> buf(info_.mbox_max_msg_size);
  for (uint32_t i = 0; i < posted; ++i) {
    uint32_t type = 0;
    uint32_t length = 0;
    ASSERT_EQ(hal_.mbox_recv(&type, buf.data(), static_cast<uint32_t>(buf.size()), &length),
              Status::kOk);
    EXPECT_EQ(type, i);
    EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + length), message(i % 20, i));
  }
}

TEST_P(HalConformance, OversizeMessagesAreRefusedAndNothingIsPosted) {
  const std::vector<uint8_t> big = message(info_.mbox_max_msg_size + 1, 1);
  const uint64_t invalid_before = stats().invalid_calls;
  EXPECT_EQ(hal_.mbox_send(5, big.data(), static_cast<uint32_t>(big.size())), Status::kTooLarge);
  EXPECT_EQ(hal_.mbox_send(5, big.data(), 0xFFFFFFFFu), Status::kTooLarge);
  EXPECT_EQ(stats().invalid_calls - invalid_before, 2u);
  EXPECT_EQ(stats().mbox_sent, 0u);
  std::vector<uint8_t> buf(16);
  uint32_t type = 0;
  uint32_t length = 0;
  EXPECT_EQ(harness_->cp_recv(&type, buf.data(), 16, &length), Status::kEmpty);
  EXPECT_EQ(harness_->cp_send(5, big.data(), static_cast<uint32_t>(big.size())), Status::kTooLarge);
  EXPECT_EQ(hal_.mbox_recv(&type, buf.data(), 16, &length), Status::kEmpty);
}

TEST_P(HalConformance, ReceivingIntoASmallBufferKeepsTheMessage) {
  const std::vector<uint8_t> m = message(100, 3);
  ASSERT_EQ(harness_->cp_send(77, m.data(), 100), Status::kOk);
  std::vector<uint8_t> buf(100);
  uint32_t type = 0;
  uint32_t length = 0;
  EXPECT_EQ(hal_.mbox_recv(&type, buf.data(), 99, &length), Status::kTooLarge);
  EXPECT_EQ(length, 100u);
  EXPECT_EQ(hal_.mbox_recv(&type, buf.data(), 100, &length), Status::kOk);
  EXPECT_EQ(type, 77u);
  EXPECT_EQ(length, 100u);
  EXPECT_EQ(buf, m);
}

TEST_P(HalConformance, EmptyMailboxSaysEmpty) {
  uint8_t buf[8];
  uint32_t type = 0;
  uint32_t length = 5;
  EXPECT_EQ(hal_.mbox_recv(&type, buf, sizeof buf, &length), Status::kEmpty);
  EXPECT_EQ(length, 0u);
  EXPECT_EQ(hal_.mbox_recv(&type, nullptr, 0, &length), Status::kEmpty);
}

TEST_P(HalConformance, MailboxArgumentsAreChecked) {
  uint8_t buf[8] = {1, 2, 3};
  uint32_t type = 0;
  uint32_t length = 0;
  EXPECT_EQ(hal_.mbox_send(1, nullptr, 5), Status::kInvalidArgument);
  // A message may be a bare type.
  EXPECT_EQ(hal_.mbox_send(2, nullptr, 0), Status::kOk);
  ASSERT_EQ(harness_->cp_recv(&type, buf, sizeof buf, &length), Status::kOk);
  EXPECT_EQ(type, 2u);
  EXPECT_EQ(length, 0u);

  ASSERT_EQ(harness_->cp_send(3, buf, 3), Status::kOk);
  EXPECT_EQ(hal_.mbox_recv(nullptr, buf, sizeof buf, &length), Status::kInvalidArgument);
  EXPECT_EQ(hal_.mbox_recv(&type, buf, sizeof buf, nullptr), Status::kInvalidArgument);
  EXPECT_EQ(hal_.mbox_recv(&type, nullptr, 8, &length), Status::kInvalidArgument);
  // The message is still there.
  uint8_t out[8] = {};
  ASSERT_EQ(hal_.mbox_recv(&type, out, sizeof out, &length), Status::kOk);
  EXPECT_EQ(type, 3u);
  ASSERT_EQ(length, 3u);
  EXPECT_EQ(std::memcmp(out, buf, 3), 0);
}

}  // namespace splitpath::hal::conformance
