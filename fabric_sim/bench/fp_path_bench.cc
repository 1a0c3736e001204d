#include "fabric_sim/bench/fp_path_bench.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "fp_firmware/fast_path.h"
#include "hal/sim/clock.h"
#include "hal/sim/sim_port.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"
#include "splitpath/fpapi.h"

namespace splitpath::sim {
namespace {

using Clock = std::chrono::steady_clock;
using fpapi::MsgType;

// The port's neighbours, as in fp_firmware/fp_test_fixture.h.
constexpr uint32_t kHost = 0x010100;
constexpr uint32_t kDisk = 0x010200;
constexpr uint32_t kTarget = 0x01FF80;  // a virtual target
constexpr uint32_t kVi = 0x0100FF;      // the FP's virtual initiator
constexpr uint32_t kLv = 1;
constexpr uint32_t kVsegId = 10;
constexpr uint64_t kVsegStart = 1000;  // LV block of the VSEG's block 0
constexpr uint64_t kExtentBlocks = 64;
constexpr uint32_t kBlock = 512;
constexpr uint32_t kIoBlocks = 8;  // 4 KiB
constexpr uint32_t kDataFrame = 2048;

constexpr uint32_t kFctlCmnd =
    fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
constexpr uint32_t kFctlRsp = fc::fctl::kExchangeContext | fc::fctl::kLastSequence |
                              fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
constexpr uint32_t kFctlDataIn = fc::fctl::kRelativeOffsetPresent | fc::fctl::kExchangeContext;

fc::FrameHeader header(uint8_t r_ctl, uint32_t d_id, uint32_t s_id, uint32_t f_ctl, uint16_t ox_id,
                       uint16_t rx_id, uint32_t parameter = 0) {
  fc::FrameHeader h;
  h.r_ctl = r_ctl;
  h.d_id = fc::FcId{d_id};
  h.s_id = fc::FcId{s_id};
  h.type = fc::fc_type::kFcp;
  h.f_ctl = f_ctl;
  h.ox_id = ox_id;
  h.rx_id = rx_id;
  h.parameter = parameter;
  return h;
}

class Bench {
 public:
  absl::Status init(const FpPathBenchOptions& o) {
    hal::sim::SimPortConfig pc;
    pc.wwpn = 0x2000'0000'0000'00AAull;
    pc.rx_ring_size = 128;
    pc.tx_ring_size = 128;
    pc.buffer_count = 1024;
    pc.table_memory_bytes = 64ull << 20;
    const char* error = nullptr;
    port_ = hal::sim::SimPort::create(pc, clock_, &error);
    if (port_ == nullptr) return absl::InternalError(fmt::format("sim port: {}", error));
    fp::FastPathConfig fc;
    fc.rmap.max_vsegs = 4;
    if (fp::InitStatus s = fp_.init(port_->hal(), fc); s != fp::InitStatus::kOk) {
      return absl::InternalError(fmt::format("FP init: {}", fp::init_status_name(s)));
    }
    fpapi::FpDiscover d;
    d.req_id = 1;
    d.virtual_initiator = kVi;
    if (auto s = call(d, MsgType::kFpDiscover, MsgType::kFpDiscoverReply); !s.ok()) return s;
    fpapi::FpExpose e;
    e.req_id = 2;
    e.target_id = kTarget;
    e.flags = fpapi::expose_flags::kAnyInitiator;
    e.lv_id = kLv;
    e.block_size = kBlock;
    e.capacity_blocks = kVsegStart + o.extents * kExtentBlocks;
    if (auto s = call(e, MsgType::kFpExpose, MsgType::kFpReply); !s.ok()) return s;
    fpapi::FpMapping v;
    v.req_id = 3;
    v.kind = fpapi::MappingKind::kVseg;
    v.lv_id = kLv;
    v.vseg.id = kVsegId;
    v.vseg.virtual_start_lba = kVsegStart;
    v.vseg.length = o.extents * kExtentBlocks;
    if (auto s = call(v, MsgType::kFpAddMapping, MsgType::kFpReply); !s.ok()) return s;
    for (map::RedirectIndex r = 0; r < 2; ++r) {
      fpapi::FpMapping m;
      m.req_id = 4;
      m.kind = fpapi::MappingKind::kRedirect;
      m.vseg.id = kVsegId;
      m.redirect_index = r;
      map::SimpleStorage st;
      st.port_id = kDisk;
      st.lun = r;
      st.start_lba = 50000;
      m.redirect.descriptor = map::StorageDescriptor::make_simple(st);
      if (auto s = call(m, MsgType::kFpAddMapping, MsgType::kFpReply); !s.ok()) return s;
    }
    for (uint32_t i = 0; i < o.extents; ++i) {
      fpapi::FpMapping m;
      m.req_id = 5;
      m.kind = fpapi::MappingKind::kExtent;
      m.vseg.id = kVsegId;
      m.extent.start = i * kExtentBlocks;
      m.extent.length = kExtentBlocks;
      m.extent.redirect_index = static_cast<map::RedirectIndex>(i & 1);
      if (auto s = call(m, MsgType::kFpAddMapping, MsgType::kFpReply); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Host FCP_CMND bytes for a READ of 4 KiB at LV block `lba`.
  std::vector<uint8_t> read_cmnd(uint16_t ox_id, uint64_t lba) {
    fc::FcpCmnd c;
    c.lun = fc::make_lun(0);
    c.rddata = true;
    c.fcp_dl = kIoBlocks * kBlock;
    (void)fc::encode_cdb(fc::make_read(lba, kIoBlocks),
                         fc::MutableBytes(c.cdb.data(), c.cdb.size()));
    std::vector<uint8_t> p(fc::fcp_cmnd_size(c));
    (void)fc::encode_fcp_cmnd(c, p);
    return frame(header(fc::rctl::kDeviceDataUnsolicitedCmd, kTarget, kHost, kFctlCmnd, ox_id,
                        fc::kUnassignedXid),
                 p);
  }

  static std::vector<uint8_t> frame(const fc::FrameHeader& h, std::span<const uint8_t> payload) {
    std::vector<uint8_t> f(fc::kFrameHeaderSize + payload.size());
    (void)fc::encode_frame_header(h, f);
    std::copy(payload.begin(), payload.end(), f.begin() + fc::kFrameHeaderSize);
    return f;
  }

  bool push(const std::vector<uint8_t>& f) {
    return port_->push_rx(f.data(), static_cast<uint32_t>(f.size())) == hal::Status::kOk;
  }

  // Polls the firmware until idle; returns the wall seconds it took.
  double timed_poll() {
    const auto start = Clock::now();
    for (int i = 0; i < 10000 && fp_.poll(); ++i) {
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  // Takes every transmitted frame; the headers of those going to `d_id`.
  std::vector<fc::FrameHeader> drain(uint32_t d_id) {
    std::vector<fc::FrameHeader> out;
    hal::sim::TxFrameView v;
    while (port_->tx_front(&v)) {
      auto h = fc::decode_frame_header(fc::ConstBytes(v.data, v.length));
      if (h.ok() && h->d_id.value == d_id) out.push_back(*h);
      port_->pop_tx();
    }
    return out;
  }

  bool cp_idle() const { return port_->to_cp_queued() == 0; }
  void advance(uint64_t ns) { clock_.advance(ns); }
  fpapi::FpStatistics statistics() const { return fp_.statistics(); }

 private:
  template <class M>
  absl::Status call(const M& m, MsgType type, MsgType reply) {
    std::array<uint8_t, fpapi::kMaxMessageSize> bytes{};
    const size_t n = fpapi::encode(m, bytes);
    if (n == 0 || port_->cp_send(static_cast<uint32_t>(type), bytes.data(),
                                 static_cast<uint32_t>(n)) != hal::Status::kOk) {
      return absl::InternalError(fmt::format("cannot send {}", fpapi::msg_type_name(type)));
    }
    for (int i = 0; i < 1000 && fp_.poll(); ++i) {
    }
    uint32_t got = 0, length = 0;
    std::array<uint8_t, 1024> buf{};
    if (port_->cp_recv(&got, buf.data(), buf.size(), &length) != hal::Status::kOk ||
        got != static_cast<uint32_t>(reply)) {
      return absl::InternalError(
          fmt::format("no {} to {}", fpapi::msg_type_name(reply), fpapi::msg_type_name(type)));
    }
    if (reply == MsgType::kFpReply) {
      fpapi::FpReply r;
      if (!fpapi::decode(std::span<const uint8_t>(buf.data(), length), &r) ||
          r.status != fpapi::ApiStatus::kOk) {
        return absl::InternalError(fmt::format("{} refused: {}", fpapi::msg_type_name(type),
                                               fpapi::api_status_name(r.status)));
      }
    }
    return absl::OkStatus();
  }

  hal::sim::ManualClock clock_{1000};
  std::unique_ptr<hal::sim::SimPort> port_;
  fp::FastPath fp_;
};

}  // namespace

absl::StatusOr<FpPathBenchResult> run_fp_path_bench(const FpPathBenchOptions& o) {
  if (o.extents < 1 || o.batch < 1 || o.batch > 32 || o.ios < o.batch) {
    return absl::InvalidArgumentError("fp path bench: extents >= 1, batch 1..32, ios >= batch");
  }
  auto bench = std::make_unique<Bench>();
  if (auto s = bench->init(o); !s.ok()) return s;

  // The frames of one batch, built before the clock starts: a random 4 KiB
  // READ inside a random extent per I/O, the disk's data and response per I/O.
  const std::vector<uint8_t> data(kDataFrame, 0);
  uint64_t rng = o.seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&rng](uint64_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
  };
  FpPathBenchResult r;
  double decide_s = 0, relay_s = 0;
  const uint64_t batches = o.ios / o.batch;
  uint16_t ox = 0;
  for (uint64_t b = 0; b < batches; ++b) {
    std::vector<std::vector<uint8_t>> cmnds;
    for (uint32_t k = 0; k < o.batch; ++k) {
      const uint64_t lba = kVsegStart + next(o.extents) * kExtentBlocks +
                           next(kExtentBlocks / kIoBlocks) * kIoBlocks;
      cmnds.push_back(bench->read_cmnd(static_cast<uint16_t>(ox++ % 0x8000), lba));
    }
    for (const auto& f : cmnds) {
      if (!bench->push(f)) return absl::InternalError("receive ring refused a command");
    }
    decide_s += bench->timed_poll();
    const std::vector<fc::FrameHeader> down = bench->drain(kDisk);
    if (down.size() != o.batch) {
      return absl::InternalError(
          fmt::format("{} of {} commands dispatched downstream", down.size(), o.batch));
    }
    std::vector<std::vector<uint8_t>> replies;
    for (size_t k = 0; k < down.size(); ++k) {
      const uint16_t rx = static_cast<uint16_t>(0x100 + k);
      for (uint32_t off = 0; off < kIoBlocks * kBlock; off += kDataFrame) {
        const bool last = off + kDataFrame == kIoBlocks * kBlock;
        replies.push_back(Bench::frame(
            header(fc::rctl::kDeviceDataSolicitedData, kVi, kDisk,
                   kFctlDataIn | (last ? fc::fctl::kEndSequence : 0u), down[k].ox_id, rx, off),
            data));
      }
      fc::FcpRsp rsp;
      rsp.scsi_status = fc::scsi_status::kGood;
      std::vector<uint8_t> p(fc::fcp_rsp_size(rsp));
      (void)fc::encode_fcp_rsp(rsp, p);
      replies.push_back(Bench::frame(
          header(fc::rctl::kDeviceDataCommandStatus, kVi, kDisk, kFctlRsp, down[k].ox_id, rx), p));
    }
    for (const auto& f : replies) {
      if (!bench->push(f)) return absl::InternalError("receive ring refused a response");
    }
    relay_s += bench->timed_poll();
    const std::vector<fc::FrameHeader> up = bench->drain(kHost);
    if (up.size() != 3 * o.batch) {
      return absl::InternalError(
          fmt::format("{} of {} frames relayed to the host", up.size(), 3 * o.batch));
    }
    bench->advance(10'000);
  }
  const fpapi::FpStatistics st = bench->statistics();
  r.ios = batches * o.batch;
  r.fp_completed = st.fp_completed;
  for (uint64_t f : st.faults)
    r.faults += f;
  if (r.fp_completed != r.ios || r.faults != 0 || !bench->cp_idle()) {
    return absl::InternalError(
        fmt::format("fp path bench: {} of {} I/Os completed by the FP, {} faults", r.fp_completed,
                    r.ios, r.faults));
  }
  const auto ios = static_cast<double>(r.ios);
  r.decision_dispatch_ns = decide_s * 1e9 / ios;
  r.relay_complete_ns = relay_s * 1e9 / ios;
  r.io_ns = r.decision_dispatch_ns + r.relay_complete_ns;
  return r;
}

}  // namespace splitpath::sim
