// The mapped pcap reader (TraceReader::open on a classic pcap file) against
// libpcap (TraceReader::open_stream): the same reports, byte for byte, for the
// real captures and for files that make the mapped reader hand over to libpcap
// in the middle (a record longer than the snapshot length, a file cut short),
// in both byte orders and both timestamp resolutions.
#include <cstdio>
#include <string>

#include "tests/trace/trace_test_util.h"

namespace splitpath::sim::trace::testing {
namespace {

using Json = nlohmann::ordered_json;

std::string without_file(Json j) {
  j.erase("file");
  if (j["read_error"].is_string()) {
    std::string e = j["read_error"].get<std::string>();
    j["read_error"] = e.substr(e.find(": frame "));
  }
  return j.dump();
}

// The report of `path` through the mapping and through libpcap.
void expect_same_as_libpcap(const std::string& path) {
  SCOPED_TRACE(path);
  auto mapped = TraceReader::open(path);
  ASSERT_TRUE(mapped.ok()) << mapped.status().message();
  auto stream = TraceReader::open_stream(std::fopen(path.c_str(), "rb"), "stream");
  ASSERT_TRUE(stream.ok()) << stream.status().message();
  const Json a = decode_json(**mapped, DecodeOptions{});
  const Json b = decode_json(**stream, DecodeOptions{});
  EXPECT_FALSE(a["frames"].empty());
  EXPECT_EQ(without_file(a), without_file(b));
}

uint32_t get_le32(const Bytes& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 |
         uint32_t{b[at + 3]} << 24;
}
void set_le32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// The same file with every header field in big-endian order.
Bytes byte_swapped(Bytes f) {
  auto swap32 = [&f](size_t at) { set_le32(f, at, __builtin_bswap32(get_le32(f, at))); };
  swap32(0);
  std::swap(f[4], f[5]);
  std::swap(f[6], f[7]);
  for (size_t at : {8, 12, 16, 20})
    swap32(at);
  for (size_t off = 24; off + 16 <= f.size();) {
    const uint32_t caplen = get_le32(f, off + 8);
    for (size_t at = off; at < off + 16; at += 4)
      swap32(at);
    off += 16 + caplen;
  }
  return f;
}

TEST(MappedPcap, RealCapturesDecodeAsThroughLibpcap) {
  for (const auto& entry : std::filesystem::directory_iterator(captures_dir())) {
    if (entry.path().extension() == ".pcap") expect_same_as_libpcap(entry.path().string());
  }
}

TEST(MappedPcap, BothByteOrdersAndMicroseconds) {
  const std::string path = temp_path("mapped_order.pcap");
  ASSERT_TRUE(write_pcap(path, 224, records(sample_session(), 1234567)));
  expect_same_as_libpcap(path);
  Bytes file = slurp(path);
  const std::string swapped = temp_path("mapped_swapped.pcap");
  spill(swapped, byte_swapped(file));
  expect_same_as_libpcap(swapped);
  set_le32(file, 0, 0xA1B2C3D4);  // the same fractions read as microseconds
  const std::string micro = temp_path("mapped_micro.pcap");
  spill(micro, file);
  expect_same_as_libpcap(micro);
}

TEST(MappedPcap, HandsOverToLibpcapMidFile) {
  const std::vector<Bytes> frames = sample_session();
  const std::string path = temp_path("mapped_whole.pcap");
  ASSERT_TRUE(write_pcap(path, 224, records(frames)));
  const Bytes file = slurp(path);
  // A snapshot length shorter than record 4: libpcap cuts it and every later one.
  Bytes snapped = file;
  set_le32(snapped, 16, static_cast<uint32_t>(frames[3].size() - 8));
  const std::string snap = temp_path("mapped_snap.pcap");
  spill(snap, snapped);
  expect_same_as_libpcap(snap);
  // Cut in record 5's data, and in its header.
  size_t off = 24;
  for (size_t i = 0; i < 4; ++i)
    off += 16 + frames[i].size();
  for (size_t cut : {off + 16 + frames[4].size() / 2, off + 5}) {
    const std::string cut_path = temp_path("mapped_cut.pcap");
    spill(cut_path, Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(cut)));
    expect_same_as_libpcap(cut_path);
  }
}

}  // namespace
}  // namespace splitpath::sim::trace::testing
