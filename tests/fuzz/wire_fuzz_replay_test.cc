// Drives the wire fuzz target (wire_fuzz.cc) with deterministic inputs so every
// CI build runs each decoder on malformed data, under ASan/UBSan when built with
// SPLITPATH_SANITIZE. Inputs come from one seeded xorshift generator: valid
// encodings of every wire format (as frames and raw), mutated, plus pure noise.
// Each input sits in its own exactly-sized heap buffer, so a read past the end is
// caught by AddressSanitizer.
//
// Environment: SPLITPATH_FUZZ_SEED (default 0x5EED5EED), SPLITPATH_FUZZ_ITERATIONS
// (default 200000), SPLITPATH_FUZZ_CORPUS_OUT (a directory: the valid seeds are
// written there, one file each, as a starting corpus for the libFuzzer binary).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "splitpath/fc/bls.h"
#include "splitpath/fc/ct.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi.h"
#include "tests/support/fuzz_random.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace splitpath::fc {
namespace {

using Bytes = std::vector<uint8_t>;

using splitpath::testing::env_u64;
using splitpath::testing::Xorshift;

template <typename T, typename Encode>
Bytes enc(const T& value, Encode encode) {
  std::array<uint8_t, 1024> buf{};
  auto n = encode(value, MutableBytes(buf));
  EXPECT_TRUE(n.ok());
  return n.ok() ? Bytes(buf.begin(), buf.begin() + *n) : Bytes{};
}

Bytes frame(uint8_t r_ctl, uint8_t type, const Bytes& payload) {
  FrameHeader h;
  h.r_ctl = r_ctl;
  h.type = type;
  h.d_id = FcId{0x010000};
  h.s_id = FcId{0x020f00};
  h.f_ctl = fctl::kFirstSequence | fctl::kEndSequence | fctl::kSequenceInitiative;
  h.ox_id = 0x1234;
  Bytes out = enc(h, encode_frame_header);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes ct(uint16_t command, const Bytes& body) {
  Bytes out = enc(make_ns_request(command), encode_ct_preamble);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// Valid encodings of every format, raw and inside frames.
std::vector<Bytes> seeds() {
  std::vector<Bytes> s;
  auto both = [&s](uint8_t r_ctl, uint8_t type, const Bytes& payload) {
    s.push_back(payload);
    s.push_back(frame(r_ctl, type, payload));
  };
  const ScsiCommand cmds[] = {
      make_read(0x1234, 8),
      make_write(1ull << 33, 0x20000, true),
      make_rw(scsi_op::kRead6, 0x1FFFFF, 256),
      make_rw(scsi_op::kWrite12, 7, 9),
      make_test_unit_ready(),
      make_request_sense(252),
      make_inquiry(255, true, vpd_page::kDeviceIdentification),
      make_inquiry(36),
      make_read_capacity10(),
      make_read_capacity16(),
      make_report_luns(4096),
      make_mode_sense(false, mode_page::kAllPages, 255),
      make_mode_sense(true, mode_page::kCaching, 512, 1, true),
      make_synchronize_cache(0, 0, true),
      make_synchronize_cache(1ull << 40, 1),
      make_reserve6(),
      make_release6(),
      make_persistent_reserve_in(pr_in_sa::kReadKeys, 1024),
      make_persistent_reserve_out(pr_out_sa::kReserve, pr_type::kWriteExclusive),
  };
  for (const ScsiCommand& c : cmds) {
    Bytes cdb = enc(c, encode_cdb);
    s.push_back(cdb);
    FcpCmnd f;
    f.lun = make_lun(3);
    f.rddata = c.kind != ScsiCommandKind::kWrite;
    f.wrdata = !f.rddata;
    set_fcp_cdb(f, cdb);
    f.fcp_dl = 4096;
    both(rctl::kDeviceDataUnsolicitedCmd, fc_type::kFcp, enc(f, encode_fcp_cmnd));
  }
  both(rctl::kDeviceDataDataDescriptor, fc_type::kFcp,
       enc(FcpXferRdy{0, 0x10000}, encode_fcp_xfer_rdy));
  FcpRsp rsp;
  rsp.scsi_status = scsi_status::kCheckCondition;
  rsp.resid_under = true;
  rsp.residual = 512;
  Bytes sense = enc(make_invalid_field_in_cdb(2, 1), encode_sense_data);
  set_fcp_sense(rsp, sense);
  both(rctl::kDeviceDataCommandStatus, fc_type::kFcp, enc(rsp, encode_fcp_rsp));
  both(rctl::kDeviceDataCommandStatus, fc_type::kFcp,
       enc(make_fcp_rsp_code(fcp_rsp_code::kTmfComplete), encode_fcp_rsp));
  both(rctl::kDeviceDataSolicitedData, fc_type::kFcp, Bytes(64, 0xA5));

  ServiceParameters plogi;
  plogi.common.set_plogi_sequences(255, 31);
  plogi.port_name = Wwn{0x21000024ff3d39a0};
  plogi.node_name = Wwn{0x20000024ff3d39a0};
  both(rctl::kElsRequest, fc_type::kEls, enc(plogi, encode_service_parameters));
  ServiceParameters flogi_acc = plogi;
  flogi_acc.command = els_cmd::kAcc;
  flogi_acc.common.features = csp_features::kFPort;
  flogi_acc.common.set_r_a_tov(10000);
  both(rctl::kElsReply, fc_type::kEls, enc(flogi_acc, encode_service_parameters));
  both(rctl::kElsRequest, fc_type::kEls,
       enc(Logo{FcId{0x020f00}, Wwn{0x21000024ff3d39a0}}, encode_logo));
  both(rctl::kElsRequest, fc_type::kEls,
       enc(Prli{els_cmd::kPrli, true, 0, prli_fcp::kInitiatorFunction}, encode_prli));
  both(rctl::kElsReply, fc_type::kEls,
       enc(Prli{els_cmd::kAcc, true, prli_response::kRequestExecuted, prli_fcp::kTargetFunction},
           encode_prli));
  both(rctl::kElsReply, fc_type::kEls, enc(LsRjt{}, encode_ls_rjt));
  std::array<uint8_t, 64> buf{};
  both(rctl::kElsRequest, fc_type::kEls,
       Bytes(buf.begin(), buf.begin() + *encode_scr(scr_function::kFull, buf)));
  const RscnPage pages[] = {{0, rscn_format::kPort, FcId{0x010203}},
                            {0, rscn_format::kArea, FcId{0x010200}}};
  both(rctl::kElsRequest, fc_type::kEls,
       Bytes(buf.begin(), buf.begin() + *encode_rscn(pages, buf)));

  RftId rft{FcId{0x010e01}, {}};
  rft.types.set(0x08);
  both(rctl::kDeviceDataUnsolicitedCtl, fc_type::kCt, ct(ct_cmd::kRftId, enc(rft, encode_rft_id)));
  both(rctl::kDeviceDataUnsolicitedCtl, fc_type::kCt,
       ct(ct_cmd::kRffId, enc(RffId{FcId{0x010e01}, fc4_features::kTarget, 8}, encode_rff_id)));
  both(rctl::kDeviceDataUnsolicitedCtl, fc_type::kCt,
       ct(ct_cmd::kRpnId, enc(NsIdName{FcId{0x010e01}, Wwn{42}}, encode_ns_id_name)));
  both(rctl::kDeviceDataUnsolicitedCtl, fc_type::kCt,
       ct(ct_cmd::kGidFt, enc(GidFtRequest{}, encode_gid_ft_request)));
  const FcId ids[] = {FcId{0x010000}, FcId{0x020f00}, FcId{0x030100}};
  both(rctl::kDeviceDataSolicitedCtl, fc_type::kCt,
       ct(ct_cmd::kAcc, Bytes(buf.begin(), buf.begin() + *encode_gid_ft_acc(ids, buf))));
  both(rctl::kDeviceDataSolicitedCtl, fc_type::kCt,
       ct(ct_cmd::kAcc, Bytes(buf.begin(), buf.begin() + *encode_ns_name(Wwn{7}, buf))));
  both(rctl::kDeviceDataUnsolicitedCtl, fc_type::kCt,
       ct(ct_cmd::kGpnId, Bytes(buf.begin(), buf.begin() + *encode_ns_port_id(FcId{5}, buf))));
  both(rctl::kDeviceDataSolicitedCtl, fc_type::kCt,
       enc(make_ct_reject(make_ns_request(ct_cmd::kGidFt), ct_reason::kUnableToPerform,
                          ns_explanation::kFc4TypesNotRegistered),
           encode_ct_preamble));

  both(rctl::kBlsBaAcc, fc_type::kBls, enc(BaAcc{true, 1, 0x1234, 0x5678, 0, 3}, encode_ba_acc));
  both(rctl::kBlsBaRjt, fc_type::kBls, enc(BaRjt{}, encode_ba_rjt));
  s.push_back(frame(rctl::kBlsAbts, fc_type::kBls, {}));

  // SCSI data formats.
  s.push_back(sense);
  InquiryData inq;
  set_ascii_field(inq.vendor, "SPLITPTH");
  s.push_back(enc(inq, encode_inquiry_data));
  VpdSupportedPages vp;
  vp.count = 3;
  vp.pages = {0x00, 0x80, 0x83};
  s.push_back(enc(vp, encode_vpd_supported_pages));
  s.push_back(enc(make_vpd_unit_serial_number("SP0001"), encode_vpd_unit_serial_number));
  VpdDeviceIdentification id;
  id.count = 2;
  id.designators[0] = make_naa_designator(0x6001405123456789ull);
  id.designators[1] = make_t10_vendor_designator("SPLITPTH", "disk1");
  s.push_back(enc(id, encode_vpd_device_identification));
  s.push_back(enc(make_read_capacity10_data(1000, 512), encode_read_capacity10_data));
  ReadCapacity16Data rc16;
  rc16.last_lba = 1ull << 35;
  rc16.lbpme = true;
  s.push_back(enc(rc16, encode_read_capacity16_data));
  const ScsiLun luns[] = {make_lun(0), make_lun(1), make_lun(4000)};
  s.push_back(Bytes(buf.begin(), buf.begin() + encode_report_luns(luns, buf)));
  ModeSenseData mode;
  mode.has_block_descriptor = mode.has_caching = mode.has_control = true;
  mode.caching.wce = true;
  for (bool ten : {false, true}) {
    auto n = encode_mode_sense(mode, ten, buf);
    s.push_back(Bytes(buf.begin(), buf.begin() + *n));
  }
  s.push_back(enc(PrOutParameters{1, 2, false, true}, encode_pr_out_parameters));
  const uint64_t keys[] = {1, 2};
  s.push_back(Bytes(buf.begin(), buf.begin() + encode_pr_in_read_keys(3, keys, buf)));
  s.push_back(Bytes(buf.begin(), buf.begin() + encode_pr_in_read_reservation(
                                                   PrReservation{1, true, 2, 0, 1}, buf)));
  return s;
}

const uint8_t kInteresting[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x07, 0x08, 0x0F, 0x10,
                                0x14, 0x18, 0x20, 0x3F, 0x40, 0x7F, 0x80, 0xFE, 0xFF};

void mutate(Bytes& b, const std::vector<Bytes>& all, Xorshift& rng) {
  const size_t rounds = 1 + rng.below(4);
  for (size_t r = 0; r < rounds; ++r) {
    switch (rng.below(8)) {
      case 0:  // flip a bit
        if (!b.empty()) b[rng.below(b.size())] ^= uint8_t(1u << rng.below(8));
        break;
      case 1:  // interesting byte
        if (!b.empty()) b[rng.below(b.size())] = kInteresting[rng.below(sizeof kInteresting)];
        break;
      case 2:  // random byte
        if (!b.empty()) b[rng.below(b.size())] = rng.byte();
        break;
      case 3:  // truncate
        b.resize(rng.below(b.size() + 1));
        break;
      case 4:  // append
        for (size_t n = 1 + rng.below(16); n > 0; --n)
          b.push_back(rng.byte());
        break;
      case 5:  // insert or delete one byte
        if (!b.empty() && rng.below(2)) {
          b.erase(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size())));
        } else {
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size() + 1)), rng.byte());
        }
        break;
      case 6: {  // splice with another seed
        const Bytes& o = all[rng.below(all.size())];
        const size_t cut = rng.below(b.size() + 1);
        const size_t from = rng.below(o.size() + 1);
        b.resize(cut);
        b.insert(b.end(), o.begin() + static_cast<std::ptrdiff_t>(from), o.end());
        break;
      }
      default:  // a big-endian 16- or 32-bit field set to a small or extreme value
        if (b.size() >= 4) {
          const size_t at = rng.below(b.size() - 3);
          const uint32_t v = rng.below(2) ? uint32_t(rng.below(64)) : uint32_t(rng.next());
          if (rng.below(2)) {
            store_be16(b.data() + at, static_cast<uint16_t>(v));
          } else {
            store_be32(b.data() + at, v);
          }
        }
        break;
    }
  }
}

void run(const Bytes& input) {
  // An exactly-sized heap copy: any read past the end is an ASan report.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[input.size() ? input.size() : 1]);
  std::copy(input.begin(), input.end(), copy.get());
  LLVMFuzzerTestOneInput(copy.get(), input.size());
}

TEST(WireFuzzReplay, DeterministicInputs) {
  const uint64_t seed = env_u64("SPLITPATH_FUZZ_SEED", 0x5EED5EED);
  const uint64_t iterations = env_u64("SPLITPATH_FUZZ_ITERATIONS", 200000);
  std::printf("wire_fuzz_replay: SPLITPATH_FUZZ_SEED=0x%llx SPLITPATH_FUZZ_ITERATIONS=%llu\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(iterations));
  RecordProperty("seed", std::to_string(seed));

  const std::vector<Bytes> corpus = seeds();
  ASSERT_GT(corpus.size(), 100u);
  if (const char* dir = std::getenv("SPLITPATH_FUZZ_CORPUS_OUT")) {
    std::filesystem::create_directories(dir);
    for (size_t i = 0; i < corpus.size(); ++i) {
      std::ofstream(std::filesystem::path(dir) / ("seed-" + std::to_string(i)), std::ios::binary)
          .write(reinterpret_cast<const char*>(corpus[i].data()),
                 static_cast<std::streamsize>(corpus[i].size()));
    }
  }
  for (const Bytes& b : corpus)
    run(b);

  Xorshift rng(seed);
  Bytes input;
  for (uint64_t i = 0; i < iterations; ++i) {
    if (rng.below(8) == 0) {
      input.resize(rng.below(300));
      for (uint8_t& x : input)
        x = rng.byte();
    } else {
      input = corpus[rng.below(corpus.size())];
      mutate(input, corpus, rng);
    }
    run(input);
  }
}

// The seeds themselves decode: the fuzz inputs start from valid data.
TEST(WireFuzzReplay, SeedsDecode) {
  size_t frames = 0;
  for (const Bytes& b : seeds()) {
    auto h = decode_frame_header(b);
    if (!h.ok() || b.size() < kFrameHeaderSize + 4) continue;
    const ConstBytes payload = ConstBytes(b).subspan(kFrameHeaderSize);
    if (h->type == fc_type::kFcp && h->r_ctl == rctl::kDeviceDataUnsolicitedCmd) {
      auto c = decode_fcp_cmnd(payload);
      ASSERT_TRUE(c.ok());
      EXPECT_TRUE(decode_cdb(c->cdb_bytes()).ok());
      ++frames;
    } else if (h->type == fc_type::kCt) {
      EXPECT_TRUE(decode_ct_preamble(payload).ok());
      ++frames;
    }
  }
  EXPECT_GT(frames, 20u);
}

}  // namespace
}  // namespace splitpath::fc
