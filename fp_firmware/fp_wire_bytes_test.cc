// The bytes the firmware puts on the wire and in the mailbox do not depend on
// the host's byte order or word size. A fixed scenario (bring-up, a READ and a
// WRITE remapped and relayed, a fault to the CP, a transparent frame,
// FPQueryStatistics) runs through the FP on a simulated port; every frame it
// transmits and every message it posts goes into a transcript, compared with
// golden values committed here. The same test binary passes on x86-64,
// aarch64 and big-endian PowerPC only if all three produce these bytes.
//
// One field legitimately depends on the word size, not the byte order:
// FPDiscoverReply.extent_capacity, since the Rmap cache gets the table memory
// the fixed tables leave, and those hold pointers. The transcript records it
// as zero and the test checks it against the firmware's own sizing instead.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "fp_firmware/fp_test_fixture.h"

namespace splitpath::fp::testing {
namespace {

// FNV-1a, 64 bits: byte-order independent by construction (it reads bytes).
uint64_t fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", p[i]);
    s += buf;
  }
  return s;
}

// Records, in order, every frame the FP transmitted ('F', length, bytes) and
// every message it posted to the CP ('M', type, length, bytes); integers in
// the record are big-endian, written byte by byte.
class Transcript {
 public:
  explicit Transcript(FpFixture& t) : t_(t) {}

  // Runs the FP until idle and records what it produced.
  void step() {
    t_.run();
    hal::sim::TxFrameView v;
    while (t_.port->tx_front(&v)) {
      item('F', 0, v.data, v.length);
      frames_.emplace_back(v.data, v.data + v.length);
      t_.port->pop_tx();
    }
    std::vector<uint8_t> buf(1024);
    uint32_t type = 0;
    uint32_t length = 0;
    while (t_.port->cp_recv(&type, buf.data(), 1024, &length) == hal::Status::kOk) {
      if (type == static_cast<uint32_t>(MsgType::kFpDiscoverReply) &&
          length >= kExtentCapacityAt + 4) {
        extent_capacity_ = 0;
        for (uint32_t i = 0; i < 4; ++i) {
          extent_capacity_ = extent_capacity_ << 8 | buf[kExtentCapacityAt + i];
          buf[kExtentCapacityAt + i] = 0;
        }
      }
      item('M', type, buf.data(), length);
    }
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  uint32_t extent_capacity() const { return extent_capacity_; }
  uint32_t items() const { return items_; }
  // The last frame transmitted so far.
  const std::vector<uint8_t>& last_frame() const { return frames_.back(); }
  size_t frames() const { return frames_.size(); }

 private:
  // Offset of FpDiscoverReply.extent_capacity in its encoding (fpapi.h: after
  // req_id, port_index, wwpn and five more 32-bit fields).
  static constexpr uint32_t kExtentCapacityAt = 36;

  void put32(uint32_t v) {
    for (int i = 3; i >= 0; --i)
      bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void item(char kind, uint32_t type, const uint8_t* p, uint32_t n) {
    bytes_.push_back(static_cast<uint8_t>(kind));
    put32(type);
    put32(n);
    bytes_.insert(bytes_.end(), p, p + n);
    ++items_;
  }

  FpFixture& t_;
  std::vector<uint8_t> bytes_;
  uint32_t items_ = 0;
  uint32_t extent_capacity_ = 0;
  std::vector<std::vector<uint8_t>> frames_;
};

TEST(FpWireBytes, SameBytesOnEveryByteOrder) {
  FpFixture t;
  Transcript tr(t);

  // Bring-up: FPDiscover, FPExpose, three FPAddMapping; each reply recorded.
  fpapi::FpDiscover d;
  d.req_id = 1;
  d.virtual_initiator = kVi;
  t.cp_send(d);
  tr.step();
  fpapi::FpExpose e;
  e.req_id = 2;
  e.target_id = kTarget;
  e.lun = 0;
  e.flags = fpapi::expose_flags::kAnyInitiator;
  e.lv_id = kLv;
  e.block_size = kBlock;
  e.capacity_blocks = kVsegStart + kVsegLength;
  t.cp_send(e);
  tr.step();
  t.cp_send(FpFixture::vseg_mapping(kVsegId, kVsegStart, kVsegLength), MsgType::kFpAddMapping);
  tr.step();
  t.cp_send(FpFixture::redirect_mapping(kVsegId, 0), MsgType::kFpAddMapping);
  tr.step();
  t.cp_send(FpFixture::extent_mapping(kVsegId, 0, 4096), MsgType::kFpAddMapping);
  tr.step();

  // A READ of 4 blocks: remapped command, one data frame relayed, GOOD.
  // Beyond the cached extent: CpMappingMiss, with a 64-bit LBA.
  t.host_rw(0x100, false, kVsegStart + 0x0A0B0, 4);
  tr.step();
  t.host_rw(0x101, false, kVsegStart + 100, 4);
  tr.step();
  // The downstream exchange is the remapped command's OX_ID (bytes 16-17).
  ASSERT_EQ(tr.frames(), 1u);
  const std::vector<uint8_t> read_cmnd = tr.last_frame();
  ASSERT_GE(read_cmnd.size(), 24u);
  const uint16_t down_ox = static_cast<uint16_t>(read_cmnd[16] << 8 | read_cmnd[17]);
  const std::vector<uint8_t> data = pattern(4 * kBlock, 5);
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kVi, kDisk, data_fctl(true, true), down_ox,
                0x55, 0),
         data);
  tr.step();
  Frame read_frame;
  read_frame.h.ox_id = down_ox;
  t.disk_rsp(read_frame, 0x55, fc::scsi_status::kGood);
  tr.step();

  // A WRITE of 4 blocks: remapped command, XFER_RDY and data relayed, GOOD.
  t.host_rw(0x200, true, kVsegStart + 8, 4);
  tr.step();
  const std::vector<uint8_t> write_cmnd = tr.last_frame();
  ASSERT_GE(write_cmnd.size(), 24u);
  const uint16_t wdown_ox = static_cast<uint16_t>(write_cmnd[16] << 8 | write_cmnd[17]);
  uint8_t x[fc::kFcpXferRdySize];
  ASSERT_TRUE(fc::encode_fcp_xfer_rdy({0, 4 * kBlock}, x).ok());
  t.push(header(fc::rctl::kDeviceDataDataDescriptor, kVi, kDisk, kFctlXferRdy, wdown_ox, 0x66), x);
  tr.step();
  const std::vector<uint8_t> xfer = tr.last_frame();
  ASSERT_GE(xfer.size(), 24u);
  const uint16_t host_rx = static_cast<uint16_t>(xfer[18] << 8 | xfer[19]);
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost, data_fctl(false, true), 0x200,
                host_rx, 0),
         pattern(4 * kBlock, 9));
  tr.step();
  Frame write_frame;
  write_frame.h.ox_id = wdown_ox;
  t.disk_rsp(write_frame, 0x66, fc::scsi_status::kGood);
  tr.step();

  // Not READ/WRITE: faults to the CP (CpQueueIO with the whole command).
  fc::FcpCmnd tur;
  tur.lun = fc::make_lun(0);
  t.host_cmnd(0x300, tur);
  tr.step();
  // A frame to a physical address is switched unchanged.
  t.push(header(fc::rctl::kDeviceDataUnsolicitedCmd, kDisk, kHost, kFctlCmnd, 0x400, 0xFFFF),
         pattern(32, 1));
  tr.step();
  fpapi::FpQueryStatistics q;
  q.req_id = 0x0A0B0C0D;
  t.cp_send(q);
  tr.step();

  // The remapped READ(16): header from the virtual initiator to the disk, and
  // the FCP_CMND payload with LUN 3, RDDATA, the CDB for disk LBA 50100.
  // OX_ID 0x0080 is the downstream entry's exchange id (pending_io.cc).
  const std::string want_read_cmnd =
      "06010200"
      "000100ff"
      "08290000"
      "00000000"
      "0080ffff"
      "00000000"  // FC header
      "0003000000000000"
      "00000002"                          // LUN, RDDATA
      "8800000000000000c3b4000000040000"  // READ(16)
      "00000800";                         // FCP_DL

  EXPECT_EQ(hex(read_cmnd.data(), read_cmnd.size()), want_read_cmnd);

  // Measured on x86-64; aarch64 and PowerPC must agree. (FpStatistics counts
  // 14 fault kinds since kJournalFull; CpQueueIO names the failing downstream
  // since mirror side states.)
  constexpr uint32_t kWantItems = 16;
  constexpr uint64_t kWantHash = 0x5fa557a67ab432b1ull;
  EXPECT_EQ(tr.items(), kWantItems);
  // The reported capacity is what the Rmap cache made of the memory left.
  const size_t rest =
      t.port->config().table_memory_bytes - FastPath::fixed_table_bytes(default_fp_config());
  EXPECT_EQ(tr.extent_capacity(), t.fp.rmap_stats().capacity_extents);
  // (bytes_for counts 63 bytes of alignment slack the region may not need.)
  EXPECT_LE(RmapCache::bytes_for(tr.extent_capacity(), default_fp_config().rmap), rest + 63);
  EXPECT_GT(RmapCache::bytes_for(tr.extent_capacity() + 1, default_fp_config().rmap), rest);
  EXPECT_EQ(fnv1a(tr.bytes()), kWantHash) << "transcript of " << tr.bytes().size() << " bytes:\n"
                                          << hex(tr.bytes().data(), tr.bytes().size());
}

}  // namespace
}  // namespace splitpath::fp::testing
