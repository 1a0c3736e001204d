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
constexpr uint32_t kDisk2 = 0x010300;   // the stripe's second column, the mirror's second side
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
constexpr uint32_t kFctlDataOut = fc::fctl::kRelativeOffsetPresent;
constexpr uint32_t kFctlXferRdy =
    fc::fctl::kExchangeContext | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;

// The redirect entry's descriptor for `primitive`.
map::StorageDescriptor descriptor_for(FpPrimitive primitive, uint16_t lun) {
  map::SimpleStorage first;
  first.port_id = kDisk;
  first.lun = lun;
  first.start_lba = 50000;
  map::SimpleStorage second = first;
  second.port_id = kDisk2;
  map::StorageDescriptor d;
  switch (primitive) {
    case FpPrimitive::kRemap:
      return map::StorageDescriptor::make_simple(first);
    case FpPrimitive::kStripe: {
      // A unit of one extent (64 blocks): a 4 KiB I/O inside an extent stays
      // inside a unit.
      map::StripeStorage s;
      s.width = 2;
      s.unit_shift = 6;
      s.columns[0] = first;
      s.columns[1] = second;
      (void)map::StorageDescriptor::make_stripe(s, &d);
      return d;
    }
    case FpPrimitive::kMirror: {
      map::MirrorStorage m;
      m.sides = 2;
      m.side[0].storage = first;
      m.side[1].storage = second;
      (void)map::StorageDescriptor::make_mirror(m, &d);
      return d;
    }
    case FpPrimitive::kRaid10: {
      // Units of one extent, as for the stripe; column 1's sides further on
      // the same two disks.
      map::StripeOfMirrorsStorage s;
      s.columns = 2;
      s.sides = 2;
      s.unit_shift = 6;
      for (uint32_t c = 0; c < 2; ++c) {
        s.column[c].sides = 2;
        s.column[c].side[0].storage = first;
        s.column[c].side[1].storage = second;
        s.column[c].side[0].storage.start_lba += c * (uint64_t{1} << 30);
        s.column[c].side[1].storage.start_lba += c * (uint64_t{1} << 30);
      }
      (void)map::StorageDescriptor::make_stripe_of_mirrors(s, &d);
      return d;
    }
    case FpPrimitive::kJournal: {
      // A journal that never fills in a run: no kJournalFull in the figure.
      map::JournalStorage j;
      j.data = first;
      j.journal = second;
      j.journal_id = 1;
      j.capacity_blocks = 0xFFFFFFFF;
      (void)map::StorageDescriptor::make_journal(j, &d);
      return d;
    }
  }
  return d;
}

bool is_disk(uint32_t id) {
  return id == kDisk || id == kDisk2;
}

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
      m.redirect.descriptor = descriptor_for(o.primitive, r);
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

  // Host FCP_CMND bytes for a READ or WRITE of 4 KiB at LV block `lba`.
  std::vector<uint8_t> cmnd(uint16_t ox_id, uint64_t lba, bool write) {
    fc::FcpCmnd c;
    c.lun = fc::make_lun(0);
    c.rddata = !write;
    c.wrdata = write;
    c.fcp_dl = kIoBlocks * kBlock;
    (void)fc::encode_cdb(write ? fc::make_write(lba, kIoBlocks) : fc::make_read(lba, kIoBlocks),
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

  // Takes every transmitted frame; the headers of those `to` accepts.
  template <class To>
  std::vector<fc::FrameHeader> drain(To&& to) {
    std::vector<fc::FrameHeader> out;
    hal::sim::TxFrameView v;
    while (port_->tx_front(&v)) {
      auto h = fc::decode_frame_header(fc::ConstBytes(v.data, v.length));
      if (h.ok() && to(h->d_id.value)) out.push_back(*h);
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

const char* fp_primitive_name(FpPrimitive p) {
  switch (p) {
    case FpPrimitive::kRemap:
      return "remap";
    case FpPrimitive::kStripe:
      return "stripe";
    case FpPrimitive::kMirror:
      return "mirror";
    case FpPrimitive::kRaid10:
      return "raid10";
    case FpPrimitive::kJournal:
      return "journal";
  }
  return "?";
}

absl::StatusOr<FpPathBenchResult> run_fp_path_bench(const FpPathBenchOptions& o) {
  if (o.extents < 1 || o.batch < 1 || o.batch > 32 || o.ios < o.batch) {
    return absl::InvalidArgumentError("fp path bench: extents >= 1, batch 1..32, ios >= batch");
  }
  auto bench = std::make_unique<Bench>();
  if (auto s = bench->init(o); !s.ok()) return s;

  // The frames of each step, built before the clock starts: a random 4 KiB
  // I/O inside a random extent per command, then what the disks (and for a
  // WRITE the host) answer.
  const std::vector<uint8_t> data(kDataFrame, 0);
  uint64_t rng = o.seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&rng](uint64_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
  };
  auto to_host = [](uint32_t id) { return id == kHost; };
  auto to_disk = [](uint32_t id) { return is_disk(id); };
  // Pushes `frames`, polls the firmware (timed) and returns what it sent `to`;
  // fails unless that is `expected` frames.
  double decide_s = 0, relay_s = 0;
  auto step = [&](const std::vector<std::vector<uint8_t>>& frames, double* seconds, auto&& to,
                  size_t expected,
                  const char* what) -> absl::StatusOr<std::vector<fc::FrameHeader>> {
    for (const auto& f : frames) {
      if (!bench->push(f)) return absl::InternalError(fmt::format("receive ring refused {}", what));
    }
    *seconds += bench->timed_poll();
    std::vector<fc::FrameHeader> out = bench->drain(to);
    if (out.size() != expected) {
      return absl::InternalError(
          fmt::format("{}: {} frames out of the FP, {} expected", what, out.size(), expected));
    }
    return out;
  };
  const bool split = o.primitive == FpPrimitive::kMirror || o.primitive == FpPrimitive::kRaid10 ||
                     o.primitive == FpPrimitive::kJournal;
  const uint32_t sides = split && o.write ? 2 : 1;
  const uint32_t frames_per_io = kIoBlocks * kBlock / kDataFrame;
  FpPathBenchResult r;
  const uint64_t batches = o.ios / o.batch;
  uint16_t ox = 0;
  for (uint64_t b = 0; b < batches; ++b) {
    std::vector<std::vector<uint8_t>> cmnds;
    std::vector<uint64_t> lbas;
    for (uint32_t k = 0; k < o.batch; ++k) {
      // No two I/Os of a batch on the same blocks: overlapping mirror writes
      // would fault for serialization, which is not the figure.
      uint64_t lba = 0;
      do {
        lba = kVsegStart + next(o.extents) * kExtentBlocks +
              next(kExtentBlocks / kIoBlocks) * kIoBlocks;
      } while (o.extents * (kExtentBlocks / kIoBlocks) > o.batch &&
               std::find(lbas.begin(), lbas.end(), lba) != lbas.end());
      lbas.push_back(lba);
      cmnds.push_back(bench->cmnd(static_cast<uint16_t>(ox++ % 0x8000), lba, o.write));
    }
    auto down = step(cmnds, &decide_s, to_disk, o.batch * sides, "commands");
    if (!down.ok()) return down.status();
    // The disks' exchange IDs: one per downstream command.
    auto disk_rx = [](size_t k) { return static_cast<uint16_t>(0x100 + k); };
    auto rsp_frames = [&](const std::vector<fc::FrameHeader>& legs) {
      std::vector<std::vector<uint8_t>> out;
      fc::FcpRsp rsp;
      rsp.scsi_status = fc::scsi_status::kGood;
      std::vector<uint8_t> p(fc::fcp_rsp_size(rsp));
      (void)fc::encode_fcp_rsp(rsp, p);
      for (size_t k = 0; k < legs.size(); ++k) {
        out.push_back(Bench::frame(header(fc::rctl::kDeviceDataCommandStatus, kVi,
                                          legs[k].d_id.value, kFctlRsp, legs[k].ox_id, disk_rx(k)),
                                   p));
      }
      return out;
    };
    if (!o.write) {
      std::vector<std::vector<uint8_t>> replies;
      for (size_t k = 0; k < down->size(); ++k) {
        const fc::FrameHeader& leg = (*down)[k];
        for (uint32_t off = 0; off < kIoBlocks * kBlock; off += kDataFrame) {
          const bool last = off + kDataFrame == kIoBlocks * kBlock;
          replies.push_back(
              Bench::frame(header(fc::rctl::kDeviceDataSolicitedData, kVi, leg.d_id.value,
                                  kFctlDataIn | (last ? fc::fctl::kEndSequence : 0u), leg.ox_id,
                                  disk_rx(k), off),
                           data));
        }
      }
      for (auto& f : rsp_frames(*down))
        replies.push_back(std::move(f));
      auto up = step(replies, &relay_s, to_host, (frames_per_io + 1) * o.batch, "read relay");
      if (!up.ok()) return up.status();
    } else {
      // Every side asks for all the data at once (a journal's record: its
      // header block too, which the FP sends it then).
      std::vector<std::vector<uint8_t>> ready;
      std::vector<uint8_t> x(fc::kFcpXferRdySize);
      std::vector<uint8_t> record_x(fc::kFcpXferRdySize);
      (void)fc::encode_fcp_xfer_rdy(fc::FcpXferRdy{0, kIoBlocks * kBlock}, x);
      (void)fc::encode_fcp_xfer_rdy(fc::FcpXferRdy{0, (kIoBlocks + 1) * kBlock}, record_x);
      for (size_t k = 0; k < down->size(); ++k) {
        const fc::FrameHeader& leg = (*down)[k];
        const bool record = o.primitive == FpPrimitive::kJournal && leg.d_id.value == kDisk2;
        ready.push_back(Bench::frame(header(fc::rctl::kDeviceDataDataDescriptor, kVi,
                                            leg.d_id.value, kFctlXferRdy, leg.ox_id, disk_rx(k)),
                                     record ? record_x : x));
      }
      auto host_ready = step(ready, &relay_s, to_host, o.batch, "XFER_RDY relay");
      if (!host_ready.ok()) return host_ready.status();
      std::vector<std::vector<uint8_t>> host_data;
      for (const fc::FrameHeader& xr : *host_ready) {
        for (uint32_t off = 0; off < kIoBlocks * kBlock; off += kDataFrame) {
          const bool last = off + kDataFrame == kIoBlocks * kBlock;
          host_data.push_back(Bench::frame(
              header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost,
                     kFctlDataOut |
                         (last ? fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative : 0u),
                     xr.ox_id, xr.rx_id, off),
              data));
        }
      }
      auto copies =
          step(host_data, &relay_s, to_disk, o.batch * sides * frames_per_io, "write data relay");
      if (!copies.ok()) return copies.status();
      auto up = step(rsp_frames(*down), &relay_s, to_host, o.batch, "write completion");
      if (!up.ok()) return up.status();
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
