#include "splitpath/fc/scsi_mode.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace splitpath::fc {
namespace {

using test::Bytes;
using test::bytes;
using test::expect_error;
using test::expect_prefixes_fail;

// What a disk with write cache on, 2^20 blocks of 512 bytes, answers for page 0x3F.
ModeSenseData all_pages() {
  ModeSenseData m;
  m.device_specific = kDeviceSpecificDpoFua;
  m.has_block_descriptor = true;
  m.block_descriptor = {1u << 20, 512};
  m.has_caching = true;
  m.caching.wce = true;
  m.has_control = true;
  m.control.queue_algorithm_modifier = 1;
  m.control.d_sense = false;
  m.control.busy_timeout_period = 0xFFFF;
  return m;
}

Bytes encode(const ModeSenseData& m, bool ten) {
  std::array<uint8_t, 512> buf{};
  auto n = encode_mode_sense(m, ten, buf);
  EXPECT_TRUE(n.ok()) << test::describe(n.error());
  return n.ok() ? Bytes(buf.begin(), buf.begin() + *n) : Bytes{};
}

TEST(ModeSense, SixByteAllPagesKnownBytes) {
  Bytes out = encode(all_pages(), false);
  Bytes want = bytes({43, 0x00, 0x10, 0x08,                            // header
                      0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,  // block descriptor
                      0x08, 0x12, 0x04, 0x00});                        // caching page start
  want.resize(4 + 8 + 20, 0);
  for (int b : {0x0A, 0x0A, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00}) {
    want.push_back(uint8_t(b));
  }
  EXPECT_EQ(out, want);
  EXPECT_EQ(mode_sense_size(all_pages(), false), 44u);
  auto d = decode_mode_sense(out, false);
  ASSERT_TRUE(d.ok()) << test::describe(d.error());
  EXPECT_EQ(*d, all_pages());
  expect_prefixes_fail(out, [](ConstBytes b) { return decode_mode_sense(b, false); });
}

TEST(ModeSense, TenByteFormsRoundTrip) {
  ModeSenseData m = all_pages();
  Bytes out = encode(m, true);
  EXPECT_EQ(out.size(), 8u + 8 + 20 + 12);
  EXPECT_EQ(out[1], out.size() - 2);
  EXPECT_EQ(*decode_mode_sense(out, true), m);
  expect_prefixes_fail(out, [](ConstBytes b) { return decode_mode_sense(b, true); });
  m.long_lba = true;
  m.block_descriptor.number_of_blocks = 1ull << 40;
  out = encode(m, true);
  EXPECT_EQ(out[4], 0x01);
  EXPECT_EQ(out[7], 16);
  EXPECT_EQ(*decode_mode_sense(out, true), m);
  // Short descriptors saturate the block count.
  m.long_lba = false;
  out = encode(m, true);
  EXPECT_EQ(decode_mode_sense(out, true)->block_descriptor.number_of_blocks, 0xFFFFFFFFu);
  // Every caching and control field.
  ModeSenseData f;
  f.has_caching = f.has_control = true;
  CachingPage& c = f.caching;
  c.ps = c.ic = c.abpf = c.cap = c.disc = c.size = c.wce = c.mf = c.rcd = true;
  c.demand_read_retention_priority = 0xA;
  c.write_retention_priority = 0x5;
  c.disable_prefetch_transfer_length = 1;
  c.minimum_prefetch = 2;
  c.maximum_prefetch = 3;
  c.maximum_prefetch_ceiling = 4;
  c.fsw = c.lbcss = c.dra = c.nv_dis = true;
  c.number_of_cache_segments = 5;
  c.cache_segment_size = 6;
  ControlPage& k = f.control;
  k.ps = k.tmf_only = k.dpicz = k.d_sense = k.gltsd = k.rlec = true;
  k.tst = 1;
  k.queue_algorithm_modifier = 0xF;
  k.nuar = true;
  k.qerr = 3;
  k.rac = true;
  k.ua_intlck_ctrl = 2;
  k.swp = k.ato = k.tas = k.atmpe = k.rwwp = true;
  k.autoload_mode = 7;
  k.extended_self_test_completion_time = 0x1234;
  for (bool ten : {false, true})
    EXPECT_EQ(*decode_mode_sense(encode(f, ten), ten), f);
}

TEST(ModeSense, HeaderOnlyAndSkippedPages) {
  ModeSenseData m;
  Bytes out = encode(m, false);
  EXPECT_EQ(out, bytes({3, 0, 0, 0}));
  EXPECT_EQ(*decode_mode_sense(out, false), m);
  // An unknown page (0x1C) and a subpage-format page are skipped.
  Bytes b = bytes({3 + 4 + 6, 0, 0, 0, 0x1C, 0x02, 0xAA, 0xBB, 0x5C, 0x01, 0x00, 0x02, 1, 2});
  auto d = decode_mode_sense(b, false);
  ASSERT_TRUE(d.ok()) << test::describe(d.error());
  EXPECT_FALSE(d->has_caching);
}

TEST(ModeSense, Malformed) {
  Bytes b = encode(all_pages(), false);
  Bytes bad = b;
  bad[0] = 100;  // mode data length past the buffer
  expect_error(decode_mode_sense(bad, false), WireErrc::kBadLength, "mode_data_length", 0);
  bad = b;
  bad[3] = 4;  // block descriptor length
  expect_error(decode_mode_sense(bad, false), WireErrc::kBadValue, "block_descriptor_length", 3);
  bad = b;
  bad[13] = 0x11;  // caching page length
  expect_error(decode_mode_sense(bad, false), WireErrc::kBadLength, "page_length", 13);
  bad = b;
  bad[33] = 0x0B;  // control page length runs past the data
  expect_error(decode_mode_sense(bad, false), WireErrc::kBadLength, "page_length", 33);
  std::array<uint8_t, 64> buf{};
  ModeSenseData m;
  m.long_lba = true;
  expect_error(encode_mode_sense(m, false, buf), WireErrc::kBadValue, "long_lba", 4);
  m = all_pages();
  m.block_descriptor.block_length = 1u << 24;
  expect_error(encode_mode_sense(m, false, buf), WireErrc::kBadValue, "block_length", 0);
  expect_error(encode_mode_sense(all_pages(), false, MutableBytes(buf.data(), 43)),
               WireErrc::kBufferTooSmall, "mode_sense", 0);
}

}  // namespace
}  // namespace splitpath::fc
