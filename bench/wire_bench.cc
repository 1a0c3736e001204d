// Encode and decode costs of the wire codecs on the hot path: the frame header,
// FCP_CMND with a READ(16) CDB, FCP_RSP, and CDB decoding.
#include <benchmark/benchmark.h>

#include <array>

#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi.h"

namespace splitpath::fc {
namespace {

void BM_FrameHeaderEncode(benchmark::State& state) {
  FrameHeader h;
  h.r_ctl = rctl::kDeviceDataUnsolicitedCmd;
  h.d_id = FcId{0x010400};
  h.s_id = FcId{0x010000};
  h.type = fc_type::kFcp;
  h.f_ctl = 0x290000;
  std::array<uint8_t, kFrameHeaderSize> out{};
  for (auto _ : state) {
    h.ox_id++;
    benchmark::DoNotOptimize(encode_frame_header(h, out));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_FrameHeaderEncode);

void BM_FrameHeaderDecode(benchmark::State& state) {
  std::array<uint8_t, kFrameHeaderSize> bytes{0x06, 0x01, 0x04, 0x00, 0, 0x01, 0, 0, 0x08, 0x29};
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes);
    auto h = decode_frame_header(bytes);
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_FrameHeaderDecode);

void BM_FcpCmndEncode(benchmark::State& state) {
  FcpCmnd c;
  c.lun = make_lun(1);
  c.rddata = true;
  c.fcp_dl = 4096;
  std::array<uint8_t, 64> out{};
  uint64_t lba = 0;
  for (auto _ : state) {
    (void)encode_cdb(make_read(lba += 8, 8), {c.cdb.data(), c.cdb.size()});
    benchmark::DoNotOptimize(encode_fcp_cmnd(c, out));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_FcpCmndEncode);

void BM_FcpCmndAndCdbDecode(benchmark::State& state) {
  FcpCmnd c;
  c.lun = make_lun(1);
  c.rddata = true;
  c.fcp_dl = 4096;
  (void)encode_cdb(make_read(123456789, 8), {c.cdb.data(), c.cdb.size()});
  std::array<uint8_t, 64> bytes{};
  const size_t n = *encode_fcp_cmnd(c, bytes);
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes);
    auto cmnd = decode_fcp_cmnd({bytes.data(), n});
    auto cdb = decode_cdb(cmnd->cdb_bytes());
    benchmark::DoNotOptimize(cdb);
  }
}
BENCHMARK(BM_FcpCmndAndCdbDecode);

void BM_FcpRspDecode(benchmark::State& state) {
  FcpRsp r;
  r.scsi_status = scsi_status::kGood;
  std::array<uint8_t, kFcpRspMaxSize> bytes{};
  const size_t n = *encode_fcp_rsp(r, bytes);
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes);
    auto rsp = decode_fcp_rsp({bytes.data(), n});
    benchmark::DoNotOptimize(rsp);
  }
}
BENCHMARK(BM_FcpRspDecode);

}  // namespace
}  // namespace splitpath::fc
