// The FP API's mailbox encoding: every message round-trips, fits the smallest
// mailbox any HAL may have, is big-endian on the wire whatever the host, and
// a short, long or lying payload is refused.
#include "splitpath/fpapi.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace splitpath::fpapi {
namespace {

template <class M>
std::vector<uint8_t> encode_all(const M& m) {
  std::array<uint8_t, kMaxMessageSize> buf{};
  const size_t n = encode(m, buf);
  EXPECT_GT(n, 0u);
  return {buf.begin(), buf.begin() + n};
}

// The largest instance of each message fits SP_HAL_MBOX_MIN_MSG_SIZE.
TEST(FpApi, EveryMessageFitsTheSmallestMailbox) {
  FpPutData put;
  put.data.length = kMaxChunk;
  FpGetDataReply get;
  get.data.length = kMaxChunk;
  CpFrame frame;
  frame.frame.length = kMaxFrameChunk;
  CpQueueIO queued;
  queued.sense.length = kMaxSense;
  FpQueueIOComplete complete;
  complete.sense.length = kMaxSense;
  CpDispatchIOComplete dispatched;
  dispatched.sense.length = kMaxSense;
  FpQueryPendingIOsReply pending;
  pending.listed = kMaxPendingListed;
  for (size_t n :
       {encoded_size(put), encoded_size(get), encoded_size(frame), encoded_size(queued),
        encoded_size(complete), encoded_size(dispatched), encoded_size(pending),
        encoded_size(FpStatistics{}), encoded_size(FpExpose{}), encoded_size(FpMapping{}),
        encoded_size(FpDiscoverReply{}), encoded_size(FpDispatchIO{})}) {
    EXPECT_GT(n, 0u);
    EXPECT_LE(n, kMaxMessageSize);
  }
}

TEST(FpApi, MappingRoundTripsWithEveryField) {
  FpMapping m;
  m.req_id = 0x01020304;
  m.kind = MappingKind::kRedirect;
  m.redirect_index = 7;
  m.lv_id = 9;
  m.vseg = {42, 0, 1000, 4096};
  m.extent = {256, 512, 7};
  m.redirect.flags = map::redirect_flags::kFaultOnWrite;
  m.redirect.descriptor = map::StorageDescriptor::make_simple({0x010203, 5, 0, 0x1122334455});
  FpMapping back;
  const auto bytes = encode_all(m);
  ASSERT_TRUE(decode(bytes, &back));
  EXPECT_EQ(back.req_id, m.req_id);
  EXPECT_EQ(back.kind, m.kind);
  EXPECT_EQ(back.redirect_index, 7);
  EXPECT_EQ(back.vseg.id, 42u);
  EXPECT_EQ(back.vseg.virtual_start_lba, 1000u);
  EXPECT_EQ(back.vseg.length, 4096u);
  EXPECT_EQ(back.extent, m.extent);
  EXPECT_EQ(back.redirect, m.redirect);
  EXPECT_EQ(back.redirect.descriptor.simple().start_lba, 0x1122334455u);
}

TEST(FpApi, FieldsAreBigEndianInDeclarationOrder) {
  FpGetData g{0x11223344, 0x55667788, 0x99AABBCC};
  EXPECT_EQ(encode_all(g), (std::vector<uint8_t>{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                                 0x99, 0xAA, 0xBB, 0xCC}));
  FpPutData p;
  p.utag = 1;
  p.offset = 2;
  const uint8_t bytes[] = {0xDE, 0xAD};
  p.data.assign(bytes);
  EXPECT_EQ(encode_all(p),
            (std::vector<uint8_t>{0, 0, 0, 1, 0, 0, 0, 2, 0, 2, 0xDE, 0xAD}));  // length, bytes
}

TEST(FpApi, QueueIoCarriesTheCommandAndSense) {
  CpQueueIO q;
  q.reason = FaultKind::kDownstreamError;
  q.io.utag = 0x00050003;
  q.io.initiator = 0x010000;
  q.io.target_id = 0x01FF80;
  q.io.ox_id = 0x1234;
  q.io.lun = 3;
  q.io.data_length = 8192;
  q.io.write_data = 1;
  q.io.cdb_length = 10;
  q.io.cdb[0] = 0x2A;
  q.downstream_status = 0x02;
  const uint8_t sense[] = {0x70, 0, 0x03, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x11, 0};
  q.sense.assign(sense);
  CpQueueIO back;
  ASSERT_TRUE(decode(encode_all(q), &back));
  EXPECT_EQ(back.reason, FaultKind::kDownstreamError);
  EXPECT_EQ(back.io.utag, q.io.utag);
  EXPECT_EQ(back.io.target_id, q.io.target_id);
  EXPECT_EQ(back.io.ox_id, 0x1234);
  EXPECT_EQ(back.io.cdb[0], 0x2A);
  EXPECT_EQ(back.downstream_status, 0x02);
  ASSERT_EQ(back.sense.length, sizeof(sense));
  EXPECT_EQ(back.sense.data[12], 0x11);
}

TEST(FpApi, ShortLongAndLyingPayloadsAreRefused) {
  const auto bytes = encode_all(FpDispatchIO{});
  FpDispatchIO d;
  EXPECT_FALSE(decode(std::span(bytes).first(bytes.size() - 1), &d));
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(decode(longer, &d));
  EXPECT_TRUE(decode(bytes, &d));
  // A byte field whose length exceeds its capacity.
  FpPutData p;
  auto put = encode_all(p);
  put[8] = 0xFF;
  put[9] = 0xFF;
  EXPECT_FALSE(decode(put, &p));
  // A byte field whose length runs past the payload.
  put[8] = 0;
  put[9] = 4;
  EXPECT_FALSE(decode(put, &p));
}

TEST(FpApi, NamesCoverEveryKind) {
  for (size_t k = 0; k < kFaultKinds; ++k) {
    EXPECT_STRNE(fault_kind_name(static_cast<FaultKind>(k)), "unknown");
  }
  EXPECT_STREQ(msg_type_name(MsgType::kCpMappingMiss), "CpMappingMiss");
  EXPECT_STREQ(msg_type_name(MsgType::kFpDispatchIO), "FPDispatchIO");
}

}  // namespace
}  // namespace splitpath::fpapi
