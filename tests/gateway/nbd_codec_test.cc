// The NBD codec over bytes: well-formed handshakes, options and requests, and
// every malformed input the server must drop or reject.
#include "fabric_sim/gateway/nbd_codec.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace splitpath::sim::nbd {
namespace {

using Bytes = std::vector<uint8_t>;

void put(Bytes& b, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i)
    b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Bytes option_header(uint64_t magic, uint32_t option, uint32_t length) {
  Bytes b;
  put(b, magic, 8);
  put(b, option, 4);
  put(b, length, 4);
  return b;
}

Bytes request(uint32_t magic, uint16_t flags, uint16_t type, uint64_t cookie, uint64_t offset,
              uint32_t length) {
  Bytes b;
  put(b, magic, 4);
  put(b, flags, 2);
  put(b, type, 2);
  put(b, cookie, 8);
  put(b, offset, 8);
  put(b, length, 4);
  return b;
}

ExportLimits limits() {
  ExportLimits l;
  l.size = 1 << 20;
  l.min_block = 512;
  l.max_block = 64 * 1024;
  l.transmission_flags = kTransHasFlags | kTransSendFlush | kTransSendFua;
  return l;
}

TEST(NbdCodec, Greeting) {
  const Bytes g = build_greeting();
  ASSERT_EQ(g.size(), kGreetingSize);
  EXPECT_EQ(std::string(g.begin(), g.begin() + 16), "NBDMAGICIHAVEOPT");
  EXPECT_EQ(g[16], 0);
  EXPECT_EQ(g[17], kFlagFixedNewstyle | kFlagNoZeroes);
}

TEST(NbdCodec, ClientFlags) {
  auto ok = parse_client_flags(Bytes{0, 0, 0, 3});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3u);
  // Plain newstyle (not fixed) is refused.
  auto not_fixed = parse_client_flags(Bytes{0, 0, 0, 2});
  ASSERT_FALSE(not_fixed.ok());
  EXPECT_NE(not_fixed.status().message().find("FIXED_NEWSTYLE"), std::string::npos);
  // Unknown bits.
  auto unknown = parse_client_flags(Bytes{0, 0, 1, 1});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("did not offer"), std::string::npos);
  // Too short.
  EXPECT_FALSE(parse_client_flags(Bytes{0, 0, 1}).ok());
}

TEST(NbdCodec, OptionBeforeClientFlags) {
  // A client that skips its flags and starts with IHAVEOPT: the first four
  // bytes read as flags are "IHAV".
  const Bytes h = option_header(kOptionMagic, kOptList, 0);
  auto flags = parse_client_flags(std::span<const uint8_t>(h).first(4));
  ASSERT_FALSE(flags.ok());
  EXPECT_NE(flags.status().message().find("an option sent before the client flags"),
            std::string::npos)
      << flags.status().message();
}

TEST(NbdCodec, OptionHeader) {
  auto h = parse_option_header(option_header(kOptionMagic, kOptGo, 10));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->option, kOptGo);
  EXPECT_EQ(h->length, 10u);
  // An unknown option parses: it is answered with NBD_REP_ERR_UNSUP.
  EXPECT_TRUE(parse_option_header(option_header(kOptionMagic, 9999, 0)).ok());
}

TEST(NbdCodec, OptionBadMagic) {
  auto h = parse_option_header(option_header(0x1122334455667788ULL, kOptGo, 0));
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("option magic 0x1122334455667788"), std::string::npos)
      << h.status().message();
}

TEST(NbdCodec, OptionTooLong) {
  auto h = parse_option_header(option_header(kOptionMagic, kOptGo, kMaxOptionLength + 1));
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("more than the"), std::string::npos);
  EXPECT_TRUE(parse_option_header(option_header(kOptionMagic, kOptGo, kMaxOptionLength)).ok());
}

TEST(NbdCodec, InfoRequest) {
  Bytes d;
  put(d, 4, 4);
  d.insert(d.end(), {'v', 'o', 'l', '1'});
  put(d, 2, 2);
  put(d, kInfoBlockSize, 2);
  put(d, kInfoName, 2);
  auto r = parse_info_request(d);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->export_name, "vol1");
  EXPECT_EQ(r->info_types, (std::vector<uint16_t>{kInfoBlockSize, kInfoName}));
}

TEST(NbdCodec, InfoRequestMalformed) {
  // Name length beyond the data.
  Bytes long_name;
  put(long_name, 100, 4);
  long_name.insert(long_name.end(), {'v', 0, 0});
  EXPECT_FALSE(parse_info_request(long_name).ok());
  // Too short to hold the counts.
  EXPECT_FALSE(parse_info_request(Bytes{0, 0, 0}).ok());
  // Count of info requests not matching the bytes left.
  Bytes bad_count;
  put(bad_count, 0, 4);
  put(bad_count, 3, 2);
  put(bad_count, kInfoName, 2);
  auto r = parse_info_request(bad_count);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("lists 3 information requests"), std::string::npos);
}

TEST(NbdCodec, OptionReplies) {
  const Bytes data = server_reply_data("vol0");
  EXPECT_EQ(data, (Bytes{0, 0, 0, 4, 'v', 'o', 'l', '0'}));
  const Bytes reply = build_option_reply(kOptList, kRepServer, data);
  ASSERT_EQ(reply.size(), 20 + data.size());
  Bytes expect;
  put(expect, kOptionReplyMagic, 8);
  put(expect, kOptList, 4);
  put(expect, kRepServer, 4);
  put(expect, data.size(), 4);
  expect.insert(expect.end(), data.begin(), data.end());
  EXPECT_EQ(reply, expect);

  Bytes info;
  put(info, kInfoExport, 2);
  put(info, 0x123456789ULL, 8);
  put(info, kTransHasFlags | kTransSendFlush, 2);
  EXPECT_EQ(info_export_data(0x123456789ULL, kTransHasFlags | kTransSendFlush), info);
  Bytes sizes;
  put(sizes, kInfoBlockSize, 2);
  put(sizes, 512, 4);
  put(sizes, 4096, 4);
  put(sizes, 1 << 20, 4);
  EXPECT_EQ(info_block_size_data(512, 4096, 1 << 20), sizes);
  EXPECT_EQ(build_export_name_reply(1, 1, true).size(), 10u);
  EXPECT_EQ(build_export_name_reply(1, 1, false).size(), 134u);
}

TEST(NbdCodec, Request) {
  auto r = parse_request(request(kRequestMagic, kCmdFlagFua, kCmdWrite, 0xabcdef, 4096, 8192));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flags, kCmdFlagFua);
  EXPECT_EQ(r->type, kCmdWrite);
  EXPECT_EQ(r->cookie, 0xabcdefu);
  EXPECT_EQ(r->offset, 4096u);
  EXPECT_EQ(r->length, 8192u);
  EXPECT_EQ(check_request(*r, limits()).kind, Verdict::Kind::kExecute);
}

TEST(NbdCodec, RequestBadMagic) {
  auto r = parse_request(request(0x25609514, 0, kCmdRead, 1, 0, 512));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("request magic 0x25609514"), std::string::npos);
  // A reply's magic where a request belongs.
  EXPECT_FALSE(parse_request(request(kSimpleReplyMagic, 0, kCmdRead, 1, 0, 512)).ok());
  EXPECT_FALSE(parse_request(Bytes(27, 0)).ok());
}

Verdict verdict_of(uint16_t flags, uint16_t type, uint64_t offset, uint32_t length,
                   ExportLimits l = limits()) {
  Request r;
  r.flags = flags;
  r.type = type;
  r.offset = offset;
  r.length = length;
  return check_request(r, l);
}

TEST(NbdCodec, UnknownCommandDrops) {
  for (uint16_t type : {uint16_t{4}, uint16_t{6}, uint16_t{7}, uint16_t{99}}) {
    const Verdict v = verdict_of(0, type, 0, 512);
    EXPECT_EQ(v.kind, Verdict::Kind::kDrop) << type;
    EXPECT_NE(v.reason.find("unknown command"), std::string::npos) << v.reason;
  }
}

TEST(NbdCodec, OversizedLengthDrops) {
  const Verdict v = verdict_of(0, kCmdWrite, 0, 64 * 1024 + 512);
  EXPECT_EQ(v.kind, Verdict::Kind::kDrop);
  EXPECT_NE(v.reason.find("exceeds the advertised maximum of 65536"), std::string::npos)
      << v.reason;
  EXPECT_EQ(verdict_of(0, kCmdRead, 0, 0xFFFFFFFFu).kind, Verdict::Kind::kDrop);
  EXPECT_EQ(verdict_of(0, kCmdRead, 0, 64 * 1024).kind, Verdict::Kind::kExecute);
}

TEST(NbdCodec, FlagsNotAllowedDrop) {
  // FUA on a read, an unknown flag on a write, FUA when not advertised.
  EXPECT_EQ(verdict_of(kCmdFlagFua, kCmdRead, 0, 512).kind, Verdict::Kind::kDrop);
  EXPECT_EQ(verdict_of(1 << 9, kCmdWrite, 0, 512).kind, Verdict::Kind::kDrop);
  ExportLimits no_fua = limits();
  no_fua.transmission_flags = kTransHasFlags;
  EXPECT_EQ(verdict_of(kCmdFlagFua, kCmdWrite, 0, 512, no_fua).kind, Verdict::Kind::kDrop);
  // FLUSH not advertised.
  EXPECT_EQ(verdict_of(0, kCmdFlush, 0, 0, no_fua).kind, Verdict::Kind::kDrop);
  EXPECT_EQ(verdict_of(0, kCmdFlush, 0, 0).kind, Verdict::Kind::kExecute);
  EXPECT_EQ(verdict_of(0, kCmdDisc, 0, 0).kind, Verdict::Kind::kExecute);
}

TEST(NbdCodec, BeyondExportSizeRejected) {
  const uint64_t size = limits().size;
  Verdict read = verdict_of(0, kCmdRead, size - 512, 1024);
  EXPECT_EQ(read.kind, Verdict::Kind::kReject);
  EXPECT_EQ(read.error, kEinval);
  EXPECT_NE(read.reason.find("beyond the export's"), std::string::npos) << read.reason;
  Verdict write = verdict_of(0, kCmdWrite, size, 512);
  EXPECT_EQ(write.kind, Verdict::Kind::kReject);
  EXPECT_EQ(write.error, kEnospc);
  // An offset so large that offset + length wraps.
  EXPECT_EQ(verdict_of(0, kCmdRead, UINT64_MAX - 100, 512).kind, Verdict::Kind::kReject);
  // The last block is fine.
  EXPECT_EQ(verdict_of(0, kCmdRead, size - 512, 512).kind, Verdict::Kind::kExecute);
}

TEST(NbdCodec, MisalignedOrEmptyRejected) {
  EXPECT_EQ(verdict_of(0, kCmdRead, 100, 512).error, kEinval);
  EXPECT_EQ(verdict_of(0, kCmdWrite, 0, 100).error, kEinval);
  EXPECT_EQ(verdict_of(0, kCmdRead, 0, 0).kind, Verdict::Kind::kReject);
}

TEST(NbdCodec, ReadOnlyExportRejectsWrites) {
  ExportLimits ro = limits();
  ro.transmission_flags |= kTransReadOnly;
  const Verdict v = verdict_of(0, kCmdWrite, 0, 512, ro);
  EXPECT_EQ(v.kind, Verdict::Kind::kReject);
  EXPECT_EQ(v.error, kEperm);
  EXPECT_EQ(verdict_of(0, kCmdRead, 0, 512, ro).kind, Verdict::Kind::kExecute);
}

TEST(NbdCodec, SimpleReply) {
  Bytes expect;
  put(expect, kSimpleReplyMagic, 4);
  put(expect, kEio, 4);
  put(expect, 0x0102030405060708ULL, 8);
  EXPECT_EQ(build_simple_reply(kEio, 0x0102030405060708ULL), expect);
}

}  // namespace
}  // namespace splitpath::sim::nbd
