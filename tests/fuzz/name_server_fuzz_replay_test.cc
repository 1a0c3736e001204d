// Drives the name-server fuzz target (name_server_fuzz.cc) deterministically in
// every CI build (including ASan+UBSan): the seed corpus in
// tests/fuzz/corpus/name_server/ as it is, then mutated variants of it.
//
// Environment: SPLITPATH_FUZZ_SEED (default 0x5EED5EED), SPLITPATH_FUZZ_ITERATIONS
// (default 400), SPLITPATH_FUZZ_CORPUS_OUT (a directory: the seeds built here
// are written there, to refresh the corpus).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <vector>

#include "splitpath/fc/ct.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/frame_header.h"
#include "tests/fuzz/fuzz_corpus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace splitpath::testing {
namespace {

// One record of the target's input format.
void add_frame(FuzzInput& in, uint8_t probe, uint8_t r_ctl, uint8_t type, uint32_t s_id,
               uint32_t d_id, const std::vector<uint8_t>& payload) {
  fc::FrameHeader h;
  h.r_ctl = r_ctl;
  h.type = type;
  h.s_id = fc::FcId{s_id};
  h.d_id = fc::FcId{d_id};
  h.f_ctl = fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
  h.ox_id = static_cast<uint16_t>(in.size());
  std::array<uint8_t, fc::kFrameHeaderSize> hb{};
  (void)fc::encode_frame_header(h, fc::MutableBytes(hb));
  const size_t length = hb.size() + payload.size();
  in.push_back(probe);
  in.push_back(static_cast<uint8_t>(length >> 8));
  in.push_back(static_cast<uint8_t>(length));
  in.insert(in.end(), hb.begin(), hb.end());
  in.insert(in.end(), payload.begin(), payload.end());
}

std::vector<uint8_t> ct(uint16_t command, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out(fc::kCtPreambleSize);
  (void)fc::encode_ct_preamble(fc::make_ns_request(command), fc::MutableBytes(out));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

template <typename T, typename Encode>
std::vector<uint8_t> body(const T& value, Encode encode) {
  std::array<uint8_t, 512> buf{};
  auto n = encode(value, fc::MutableBytes(buf));
  EXPECT_TRUE(n.ok());
  return std::vector<uint8_t>(buf.begin(), buf.begin() + (n.ok() ? *n : 0));
}

constexpr uint32_t kProbe0 = 0x010000;  // sw1 port 0 after FLOGI
constexpr uint32_t kProbe2 = 0x020000;  // sw2 port 0
constexpr uint32_t kNs = 0xFFFFFC;

// Valid sessions: registrations, queries, SCR, LOGO, FDISC, replication from
// a domain controller, and a frame too short for a header.
std::vector<FuzzInput> seeds() {
  std::vector<FuzzInput> s;
  const fc::Wwn wwpn{0x1000000000000001ull};
  FuzzInput reg;
  add_frame(
      reg, 0, fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, kProbe0, kNs,
      ct(fc::ct_cmd::kRpnId, body(fc::NsIdName{fc::FcId{kProbe0}, wwpn}, fc::encode_ns_id_name)));
  add_frame(
      reg, 0, fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, kProbe0, kNs,
      ct(fc::ct_cmd::kRnnId, body(fc::NsIdName{fc::FcId{kProbe0}, fc::Wwn{0x2000000000000001ull}},
                                  fc::encode_ns_id_name)));
  fc::RftId rft;
  rft.port_id = fc::FcId{kProbe0};
  rft.types.set(fc::fc_type::kFcp);
  add_frame(reg, 0, fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, kProbe0, kNs,
            ct(fc::ct_cmd::kRftId, body(rft, fc::encode_rft_id)));
  fc::RffId rff;
  rff.port_id = fc::FcId{kProbe0};
  rff.features = 0x01;
  add_frame(reg, 0, fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, kProbe0, kNs,
            ct(fc::ct_cmd::kRffId, body(rff, fc::encode_rff_id)));
  s.push_back(reg);

  FuzzInput query = reg;
  add_frame(query, 2, fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, kProbe2, kNs,
            ct(fc::ct_cmd::kGidFt, body(fc::GidFtRequest{}, fc::encode_gid_ft_request)));
  add_frame(query, 2, fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, kProbe2, kNs,
            ct(fc::ct_cmd::kGpnId, body(fc::FcId{kProbe0}, fc::encode_ns_port_id)));
  add_frame(query, 2, fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, kProbe2, kNs,
            ct(fc::ct_cmd::kGnnId, body(fc::FcId{kProbe0}, fc::encode_ns_port_id)));
  add_frame(query, 2, fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, kProbe2, kNs,
            ct(fc::ct_cmd::kGaNxt, body(fc::FcId{0}, fc::encode_ns_port_id)));
  s.push_back(query);

  FuzzInput scr = reg;
  std::vector<uint8_t> scr_payload(8);
  (void)fc::encode_scr(3, fc::MutableBytes(scr_payload));
  add_frame(scr, 1, fc::rctl::kElsRequest, fc::fc_type::kEls, 0x010100, 0xFFFFFD, scr_payload);
  std::vector<uint8_t> logo(16);
  (void)fc::encode_logo(fc::Logo{fc::FcId{kProbe0}, wwpn}, fc::MutableBytes(logo));
  add_frame(scr, 0, fc::rctl::kElsRequest, fc::fc_type::kEls, kProbe0, 0xFFFFFE, logo);
  s.push_back(scr);

  FuzzInput fdisc;
  fc::ServiceParameters sp;
  sp.command = fc::els_cmd::kFdisc;
  sp.port_name = fc::Wwn{0x1000000000000099ull};
  sp.node_name = fc::Wwn{0x2000000000000099ull};
  std::vector<uint8_t> fd(fc::kServiceParametersSize);
  (void)fc::encode_service_parameters(sp, fc::MutableBytes(fd));
  add_frame(fdisc, 0, fc::rctl::kElsRequest, fc::fc_type::kEls, 0, 0xFFFFFE, fd);
  s.push_back(fdisc);

  // What sw2's domain controller sends sw1 when a port registers there.
  FuzzInput replication;
  add_frame(
      replication, 2, fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, 0xFFFC02, 0xFFFC01,
      ct(fc::ct_cmd::kRpnId, body(fc::NsIdName{fc::FcId{0x020100}, fc::Wwn{0x1000000000000077ull}},
                                  fc::encode_ns_id_name)));
  add_frame(replication, 2, fc::rctl::kDeviceDataUnsolicitedCtl, fc::fc_type::kCt, 0xFFFC02,
            0xFFFC01, ct(fc::ct_cmd::kDaId, body(fc::FcId{0x020100}, fc::encode_ns_port_id)));
  s.push_back(replication);

  s.push_back(FuzzInput{0, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});  // shorter than a header
  return s;
}

TEST(NameServerFuzzReplay, SeedsAndTheirMutantsNeverCrashTheFabricServices) {
  const uint64_t seed = env_u64("SPLITPATH_FUZZ_SEED", 0x5EED5EED);
  const uint64_t iterations = env_u64("SPLITPATH_FUZZ_ITERATIONS", 400);
  std::printf("name_server fuzz replay: seed %llu, %llu iterations\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(iterations));
  std::vector<FuzzInput> inputs = seeds();
  if (const char* out = std::getenv("SPLITPATH_FUZZ_CORPUS_OUT")) write_corpus(out, inputs, ".bin");
  const std::vector<FuzzInput> corpus = load_corpus("name_server");
  EXPECT_FALSE(corpus.empty());
  inputs.insert(inputs.end(), corpus.begin(), corpus.end());
  for (const FuzzInput& in : inputs) {
    FuzzInput copy = in;  // exactly sized: ASan sees a read past the end
    LLVMFuzzerTestOneInput(copy.data(), copy.size());
  }
  Xorshift r(seed);
  for (uint64_t i = 0; i < iterations; ++i) {
    FuzzInput in = mutate(inputs[r.below(inputs.size())], inputs[r.below(inputs.size())], r);
    LLVMFuzzerTestOneInput(in.data(), in.size());
  }
}

}  // namespace
}  // namespace splitpath::testing
