// A FastPath on a SimPort with a ManualClock, and helpers to play the host,
// the disk and the CP by hand with real frames and real FP API messages.
// For the fp_*_test.cc files only.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "fp_firmware/fast_path.h"
#include "hal/sim/clock.h"
#include "hal/sim/sim_port.h"
#include "splitpath/fc/bls.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"
#include "splitpath/fpapi.h"

namespace splitpath::fp::testing {

using fpapi::MsgType;

inline constexpr uint32_t kHost = 0x010100;
inline constexpr uint32_t kHost2 = 0x010300;
inline constexpr uint32_t kDisk = 0x010200;
inline constexpr uint32_t kTarget = 0x01FF80;  // a virtual target
inline constexpr uint32_t kVi = 0x0100FF;      // the FP's virtual initiator
inline constexpr uint32_t kLv = 1;
inline constexpr uint32_t kVsegId = 10;
inline constexpr uint64_t kVsegStart = 1000;  // LV block of the VSEG's block 0
inline constexpr uint64_t kVsegLength = 1u << 20;
inline constexpr uint16_t kDiskLun = 3;
inline constexpr uint64_t kDiskStart = 50000;  // physical LBA of the VSEG's block 0
inline constexpr uint32_t kBlock = 512;

// F_CTL the simulated hosts and disks use (fabric_sim/node/fcp_frames.h).
inline constexpr uint32_t kFctlCmnd =
    fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
inline constexpr uint32_t kFctlXferRdy =
    fc::fctl::kExchangeContext | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
inline constexpr uint32_t kFctlRsp = fc::fctl::kExchangeContext | fc::fctl::kLastSequence |
                                     fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
constexpr uint32_t data_fctl(bool from_target, bool last) {
  uint32_t f = fc::fctl::kRelativeOffsetPresent;
  if (from_target) f |= fc::fctl::kExchangeContext;
  if (last) f |= fc::fctl::kEndSequence | (from_target ? 0 : fc::fctl::kSequenceInitiative);
  return f;
}

struct Frame {
  fc::FrameHeader h;
  std::vector<uint8_t> payload;
};

inline fc::FrameHeader header(uint8_t r_ctl, uint32_t d_id, uint32_t s_id, uint32_t f_ctl,
                              uint16_t ox_id, uint16_t rx_id, uint32_t parameter = 0,
                              uint8_t type = fc::fc_type::kFcp) {
  fc::FrameHeader h;
  h.r_ctl = r_ctl;
  h.d_id = fc::FcId{d_id};
  h.s_id = fc::FcId{s_id};
  h.type = type;
  h.f_ctl = f_ctl;
  h.ox_id = ox_id;
  h.rx_id = rx_id;
  h.parameter = parameter;
  return h;
}

inline std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
  return v;
}

inline hal::sim::SimPortConfig default_port_config() {
  hal::sim::SimPortConfig c;
  c.wwpn = 0x2000'0000'0000'00AAull;
  c.port_index = 0;
  return c;
}

inline FastPathConfig default_fp_config() {
  FastPathConfig c;
  c.upstream_capacity = 64;
  c.downstream_capacity = 128;
  c.exposure_capacity = 16;
  c.redirect_capacity = 64;
  c.outbox_capacity = 64;
  c.held_frame_capacity = 512;
  return c;
}

class FpFixture {
 public:
  explicit FpFixture(const hal::sim::SimPortConfig& pc = default_port_config(),
                     const FastPathConfig& fc = default_fp_config()) {
    port = hal::sim::SimPort::create(pc, clock);
    EXPECT_NE(port, nullptr);
    init_status = fp.init(port->hal(), fc);
    EXPECT_EQ(init_status, InitStatus::kOk) << init_status_name(init_status);
  }

  // Polls until the FP says it is idle.
  void run() {
    for (int i = 0; i < 1000 && fp.poll(); ++i) {
    }
  }

  // ---- CP side ----
  void cp_send_raw(MsgType t, const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(
        port->cp_send(static_cast<uint32_t>(t), bytes.data(), static_cast<uint32_t>(bytes.size())),
        hal::Status::kOk);
  }
  template <class M>
  void cp_send(const M& m, MsgType t = fpapi::TypeOf<M>::value) {
    std::vector<uint8_t> bytes(fpapi::kMaxMessageSize);
    const size_t n = fpapi::encode(m, bytes);
    ASSERT_GT(n, 0u);
    bytes.resize(n);
    cp_send_raw(t, bytes);
  }
  // The next FP -> CP message, which must be of type `t`.
  template <class M>
  M cp_expect(MsgType t = fpapi::TypeOf<M>::value) {
    M m{};
    uint32_t type = 0, length = 0;
    std::vector<uint8_t> buf(1024);
    const hal::Status s = port->cp_recv(&type, buf.data(), 1024, &length);
    EXPECT_EQ(s, hal::Status::kOk) << "expected " << fpapi::msg_type_name(t);
    if (s != hal::Status::kOk) return m;
    EXPECT_EQ(type, static_cast<uint32_t>(t))
        << "got " << fpapi::msg_type_name(static_cast<MsgType>(type)) << " expected "
        << fpapi::msg_type_name(t);
    if (type != static_cast<uint32_t>(t)) return m;
    EXPECT_TRUE(fpapi::decode(std::span<const uint8_t>(buf.data(), length), &m));
    return m;
  }
  bool cp_idle() const { return port->to_cp_queued() == 0; }

  void call_ok(const fpapi::FpMapping& m, MsgType t, uint32_t value = 1) {
    cp_send(m, t);
    run();
    const auto r = cp_expect<fpapi::FpReply>();
    EXPECT_EQ(r.req_id, m.req_id);
    EXPECT_EQ(r.status, fpapi::ApiStatus::kOk) << fpapi::api_status_name(r.status);
    EXPECT_EQ(r.value, value);
  }

  void discover() {
    fpapi::FpDiscover d;
    d.req_id = 1;
    d.virtual_initiator = kVi;
    cp_send(d);
    run();
    const auto r = cp_expect<fpapi::FpDiscoverReply>();
    EXPECT_EQ(r.virtual_initiator, kVi);
  }
  void expose(uint32_t target, uint16_t lun, uint8_t flags, std::vector<uint32_t> inits = {}) {
    fpapi::FpExpose e;
    e.req_id = 2;
    e.target_id = target;
    e.lun = lun;
    e.flags = flags;
    e.lv_id = kLv;
    e.block_size = block_size;
    e.capacity_blocks = kVsegStart + kVsegLength;
    e.initiator_count = static_cast<uint8_t>(inits.size());
    for (size_t i = 0; i < inits.size(); ++i)
      e.initiators[i] = inits[i];
    cp_send(e);
    run();
    const auto r = cp_expect<fpapi::FpReply>();
    EXPECT_EQ(r.status, fpapi::ApiStatus::kOk);
  }
  static fpapi::FpMapping vseg_mapping(uint32_t id, uint64_t start, uint64_t length) {
    fpapi::FpMapping m;
    m.req_id = 3;
    m.kind = fpapi::MappingKind::kVseg;
    m.lv_id = kLv;
    m.vseg.id = id;
    m.vseg.virtual_start_lba = start;
    m.vseg.length = length;
    return m;
  }
  static fpapi::FpMapping redirect_mapping(uint32_t vseg, map::RedirectIndex index,
                                           uint8_t flags = 0, uint64_t disk_start = kDiskStart) {
    fpapi::FpMapping m;
    m.req_id = 4;
    m.kind = fpapi::MappingKind::kRedirect;
    m.vseg.id = vseg;
    m.redirect_index = index;
    m.redirect.flags = flags;
    map::SimpleStorage s;
    s.port_id = kDisk;
    s.lun = kDiskLun;
    s.start_lba = disk_start;
    m.redirect.descriptor = map::StorageDescriptor::make_simple(s);
    return m;
  }
  static fpapi::FpMapping extent_mapping(uint32_t vseg, uint64_t start, uint64_t length,
                                         map::RedirectIndex index = 0) {
    fpapi::FpMapping m;
    m.req_id = 5;
    m.kind = fpapi::MappingKind::kExtent;
    m.vseg.id = vseg;
    m.extent.start = start;
    m.extent.length = length;
    m.extent.redirect_index = index;
    return m;
  }

  // The block size expose() gives the LUN (and host_rw its FCP_DL).
  uint32_t block_size = kBlock;

  // Discover, expose kTarget LUN 0 to anyone, one VSEG with one redirect
  // entry to kDisk and one extent over [0, extent_length).
  void bring_up(uint64_t extent_length = kVsegLength) {
    discover();
    expose(kTarget, 0, fpapi::expose_flags::kAnyInitiator);
    call_ok(vseg_mapping(kVsegId, kVsegStart, kVsegLength), MsgType::kFpAddMapping);
    call_ok(redirect_mapping(kVsegId, 0), MsgType::kFpAddMapping);
    if (extent_length > 0) {
      call_ok(extent_mapping(kVsegId, 0, extent_length), MsgType::kFpAddMapping);
    }
  }

  // ---- wire side ----
  void push(const fc::FrameHeader& h, std::span<const uint8_t> payload = {}) {
    std::vector<uint8_t> f(fc::kFrameHeaderSize + payload.size());
    ASSERT_TRUE(fc::encode_frame_header(h, f).ok());
    if (!payload.empty()) {
      std::memcpy(f.data() + fc::kFrameHeaderSize, payload.data(), payload.size());
    }
    ASSERT_EQ(port->push_rx(f.data(), static_cast<uint32_t>(f.size())), hal::Status::kOk);
  }
  bool pop(Frame* out) {
    hal::sim::TxFrameView v;
    if (!port->tx_front(&v)) return false;
    const auto h = fc::decode_frame_header(fc::ConstBytes(v.data, v.length));
    EXPECT_TRUE(h.ok());
    out->h = *h;
    out->payload.assign(v.data + fc::kFrameHeaderSize, v.data + v.length);
    port->pop_tx();
    return true;
  }
  Frame expect_frame() {
    Frame f;
    EXPECT_TRUE(pop(&f)) << "expected a transmitted frame";
    return f;
  }
  bool tx_idle() const { return port->tx_queued() == 0; }

  // A host FCP_CMND for a READ/WRITE(10) of `blocks` at LV block `lba`.
  void host_rw(uint16_t ox_id, bool write, uint64_t lba, uint32_t blocks, uint16_t lun = 0,
               uint32_t initiator = kHost, int64_t fcp_dl = -1, uint32_t target = kTarget) {
    fc::FcpCmnd c;
    c.lun = fc::make_lun(lun);
    c.rddata = !write;
    c.wrdata = write;
    c.fcp_dl = fcp_dl >= 0 ? static_cast<uint32_t>(fcp_dl) : blocks * block_size;
    const fc::ScsiCommand s = write ? fc::make_write(lba, blocks) : fc::make_read(lba, blocks);
    (void)fc::encode_cdb(s, fc::MutableBytes(c.cdb.data(), c.cdb.size()));
    host_cmnd(ox_id, c, initiator, target);
  }
  void host_cmnd(uint16_t ox_id, const fc::FcpCmnd& c, uint32_t initiator = kHost,
                 uint32_t target = kTarget) {
    std::vector<uint8_t> p(fc::fcp_cmnd_size(c));
    ASSERT_TRUE(fc::encode_fcp_cmnd(c, p).ok());
    push(header(fc::rctl::kDeviceDataUnsolicitedCmd, target, initiator, kFctlCmnd, ox_id,
                fc::kUnassignedXid),
         p);
  }
  void disk_rsp(const Frame& cmnd, uint16_t disk_rx, uint8_t status, uint32_t residual = 0,
                std::span<const uint8_t> sense = {}) {
    fc::FcpRsp r;
    r.scsi_status = status;
    r.resid_under = residual > 0;
    r.residual = residual;
    if (!sense.empty()) fc::set_fcp_sense(r, sense);
    std::vector<uint8_t> p(fc::fcp_rsp_size(r));
    ASSERT_TRUE(fc::encode_fcp_rsp(r, p).ok());
    push(header(fc::rctl::kDeviceDataCommandStatus, kVi, kDisk, kFctlRsp, cmnd.h.ox_id, disk_rx),
         p);
  }

  // ---- checks ----
  static fc::FcpCmnd decode_cmnd(const Frame& f) {
    const auto c = fc::decode_fcp_cmnd(f.payload);
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : fc::FcpCmnd{};
  }
  static fc::ScsiCommand decode_scsi(const Frame& f) {
    const fc::FcpCmnd c = decode_cmnd(f);
    const auto s = fc::decode_cdb(c.cdb_bytes());
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : fc::ScsiCommand{};
  }
  static fc::FcpRsp decode_rsp(const Frame& f) {
    EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataCommandStatus);
    const auto r = fc::decode_fcp_rsp(f.payload);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : fc::FcpRsp{};
  }

  hal::sim::ManualClock clock{1000};
  std::unique_ptr<hal::sim::SimPort> port;
  FastPath fp;
  InitStatus init_status = InitStatus::kOk;
};

}  // namespace splitpath::fp::testing
