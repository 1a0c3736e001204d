// Drives the trace fuzz target (trace_fuzz.cc) with deterministic inputs so that
// every CI build, including the ASan/UBSan one, runs the trace reader, the
// exchange tracker and the reports on damaged captures. Seeds: windows of a few
// records from each real capture in ../shared/captures, and the hand-built
// sample session as FC_2, FC_2_WITH_FRAME_DELIMS, FCoE and FIP, as pcap and
// pcapng. Each input is a seed whose records were mutated (bytes, lengths,
// order) or whose file bytes were, from one seeded xorshift generator.
//
// Environment: SPLITPATH_FUZZ_SEED (default 0x7ACE5EED), SPLITPATH_FUZZ_ITERATIONS
// (default 20000), SPLITPATH_FUZZ_CORPUS_OUT (a directory: the seeds are written
// there as a starting corpus for the libFuzzer binary trace_fuzz).
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/fuzz_random.h"
#include "tests/trace/trace_test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace splitpath::sim::trace {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)

using splitpath::testing::env_u64;
using splitpath::testing::Xorshift;

struct Seed {
  int link_type = 224;
  std::vector<Record> records;
};

// A nanosecond pcap in memory (what write_pcap produces on disk).
Bytes pcap_bytes(int link_type, const std::vector<Record>& recs) {
  Bytes out;
  put_le32(out, 0xA1B23C4D);
  out.insert(out.end(), {2, 0, 4, 0});
  put_le32(out, 0);
  put_le32(out, 0);
  put_le32(out, 262144);
  put_le32(out, static_cast<uint32_t>(link_type));
  for (const Record& r : recs) {
    put_le32(out, static_cast<uint32_t>(r.time_ns / 1000000000ull));
    put_le32(out, static_cast<uint32_t>(r.time_ns % 1000000000ull));
    put_le32(out, static_cast<uint32_t>(r.data.size()));
    put_le32(out, r.orig_len ? r.orig_len : static_cast<uint32_t>(r.data.size()));
    out.insert(out.end(), r.data.begin(), r.data.end());
  }
  return out;
}

// Every record of a capture file, read with libpcap.
Seed read_capture(const std::string& path) {
  Seed s;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) return s;
  s.link_type = pcap_datalink(p);
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(p, &h, &d) == 1) {
    s.records.push_back(Record{
        static_cast<uint64_t>(h->ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(h->ts.tv_usec),
        Bytes(d, d + h->caplen), h->len});
  }
  pcap_close(p);
  return s;
}

std::vector<Seed> seeds() {
  std::vector<Seed> out;
  // Windows of 1..6 records of each real capture.
  for (const char* name : kRealCaptures) {
    const Seed all = read_capture((captures_dir() / name).string());
    for (size_t i = 0; i < all.records.size(); i += 7) {
      Seed w{all.link_type, {}};
      for (size_t j = i; j < all.records.size() && j < i + 1 + (i / 7) % 6; ++j)
        w.records.push_back(all.records[j]);
      out.push_back(w);
    }
  }
  // The sample session, whole and in exchanges, in every encapsulation.
  const std::vector<Bytes> s = sample_session();
  for (size_t begin = 0; begin < s.size(); begin += 4) {
    const size_t end = std::min(s.size(), begin + (begin == 0 ? s.size() : 4));
    std::vector<Bytes> fc2(s.begin() + static_cast<std::ptrdiff_t>(begin),
                           s.begin() + static_cast<std::ptrdiff_t>(end));
    std::vector<Bytes> d225, fcoe;
    for (const Bytes& f : fc2) {
      d225.push_back(wrap_225(f));
      fcoe.push_back(wrap_fcoe(f, {100, 923}));
    }
    out.push_back(Seed{224, records(fc2)});
    out.push_back(Seed{225, records(d225)});
    out.push_back(Seed{1, records(fcoe)});
  }
  out.push_back(
      Seed{1, records({wrap_fip_flogi(s[0], false), wrap_fip_flogi(s[1], true),
                       ethernet(0x0800, Bytes(46, 1), {}), wrap_fcoe(s[2], {}, 0, true)})});
  return out;
}

const uint8_t kInteresting[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0F,
                                0x10, 0x20, 0x22, 0x23, 0x40, 0x7F, 0x80, 0x81, 0x84, 0xFF};

void mutate_bytes(Bytes& b, Xorshift& rng) {
  switch (rng.below(7)) {
    case 0:
      if (!b.empty()) b[rng.below(b.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
      break;
    case 1:
      if (!b.empty()) b[rng.below(b.size())] = kInteresting[rng.below(sizeof kInteresting)];
      break;
    case 2:
      if (!b.empty()) b[rng.below(b.size())] = rng.byte();
      break;
    case 3:
      b.resize(rng.below(b.size() + 1));
      break;
    case 4:
      for (size_t n = 1 + rng.below(16); n > 0; --n)
        b.push_back(rng.byte());
      break;
    case 5:
      if (!b.empty() && rng.below(2)) {
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size())));
      } else {
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size() + 1)), rng.byte());
      }
      break;
    default:
      if (b.size() >= 4) {
        const size_t at = rng.below(b.size() - 3);
        const uint32_t v =
            rng.below(2) ? static_cast<uint32_t>(rng.below(64)) : static_cast<uint32_t>(rng.next());
        for (int i = 0; i < 4; ++i)
          b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * (3 - i)));
      }
      break;
  }
}

// A mutated input built from `seed`: records changed, then serialized as pcap or
// pcapng, sometimes with the file bytes changed too.
Bytes make_input(const Seed& seed, const std::vector<Seed>& all, Xorshift& rng) {
  Seed s = seed;
  const size_t rounds = 1 + rng.below(4);
  for (size_t r = 0; r < rounds && !s.records.empty(); ++r) {
    Record& rec = s.records[rng.below(s.records.size())];
    switch (rng.below(6)) {
      case 0:  // the record's length on the wire disagrees with what was captured
        rec.orig_len = static_cast<uint32_t>(rec.data.size() + rng.below(64));
        break;
      case 1: {  // a record of another seed, whatever its link type
        const Seed& o = all[rng.below(all.size())];
        if (!o.records.empty()) rec.data = o.records[rng.below(o.records.size())].data;
        break;
      }
      case 2:  // duplicate or drop a record
        if (rng.below(2)) {
          s.records.push_back(rec);
        } else {
          s.records.erase(s.records.begin() +
                          static_cast<std::ptrdiff_t>(rng.below(s.records.size())));
        }
        break;
      case 3:  // time goes backwards
        rec.time_ns = rng.next() % 4000000000000000000ull;
        break;
      default:
        mutate_bytes(rec.data, rng);
        break;
    }
  }
  int link = s.link_type;
  if (rng.below(32) == 0) link = static_cast<int>(rng.below(300));
  Bytes file = rng.below(4) == 0 ? pcapng_bytes(link, s.records) : pcap_bytes(link, s.records);
  if (rng.below(4) == 0) mutate_bytes(file, rng);
  return file;
}

void run(const Bytes& input) {
  // An exactly-sized heap copy: a read past the end is an ASan report.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[input.size() ? input.size() : 1]);
  std::copy(input.begin(), input.end(), copy.get());
  LLVMFuzzerTestOneInput(copy.get(), input.size());
}

TEST(TraceFuzzReplay, DeterministicInputs) {
  const uint64_t seed = env_u64("SPLITPATH_FUZZ_SEED", 0x7ACE5EED);
  const uint64_t iterations = env_u64("SPLITPATH_FUZZ_ITERATIONS", 20000);
  std::printf("trace_fuzz_replay: SPLITPATH_FUZZ_SEED=0x%llx SPLITPATH_FUZZ_ITERATIONS=%llu\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(iterations));
  RecordProperty("seed", std::to_string(seed));

  const std::vector<Seed> corpus = seeds();
  ASSERT_GT(corpus.size(), 20u);
  const char* dir = std::getenv("SPLITPATH_FUZZ_CORPUS_OUT");
  if (dir) std::filesystem::create_directories(dir);
  for (size_t i = 0; i < corpus.size(); ++i) {
    const Bytes file = pcap_bytes(corpus[i].link_type, corpus[i].records);
    run(file);
    run(pcapng_bytes(corpus[i].link_type, corpus[i].records));
    if (dir) spill((std::filesystem::path(dir) / ("seed-" + std::to_string(i))).string(), file);
  }
  Xorshift rng(seed);
  for (uint64_t i = 0; i < iterations; ++i)
    run(make_input(corpus[rng.below(corpus.size())], corpus, rng));
}

// The seeds are real traces: the reader finds FC frames in them.
TEST(TraceFuzzReplay, SeedsHoldFrames) {
  size_t with_frames = 0;
  const std::vector<Seed> corpus = seeds();
  for (size_t i = 0; i < corpus.size(); ++i) {
    const std::string path = temp_path("seed.pcap");
    spill(path, pcap_bytes(corpus[i].link_type, corpus[i].records));
    auto reader = TraceReader::open(path);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    TraceFrame f;
    with_frames += (*reader)->next(f);
  }
  EXPECT_GT(with_frames, corpus.size() * 3 / 4);
}

}  // namespace
}  // namespace splitpath::sim::trace
