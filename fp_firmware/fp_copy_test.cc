// FPCopyIO: the FP copies blocks from a source disk to a destination disk
// (a WRITE to the destination, a READ of the source per XFER_RDY burst, the
// source's data readdressed into the write exchange), the tests playing both
// disks and the CP with real frames and messages.
#include <gtest/gtest.h>

#include <map>

#include "fp_firmware/fp_test_fixture.h"
#include "splitpath/fc/scsi_sense.h"
#include "tests/support/alloc_counter.h"

namespace splitpath::fp::testing {
namespace {

inline constexpr uint32_t kSrc = 0x010500;  // the source disk
inline constexpr uint32_t kDst = 0x010600;  // the destination disk
inline constexpr uint16_t kSrcLun = 3;
inline constexpr uint16_t kDstLun = 5;
inline constexpr uint64_t kSrcLba = 7000;
inline constexpr uint64_t kDstLba = 90000;

fpapi::FpCopyIO copy_io(uint32_t dtag, uint32_t blocks, uint32_t block_size = kBlock) {
  fpapi::FpCopyIO m;
  m.dtag = dtag;
  m.src_target = kSrc;
  m.src_lun = kSrcLun;
  m.src_lba = kSrcLba;
  m.dst_target = kDst;
  m.dst_lun = kDstLun;
  m.dst_lba = kDstLba;
  m.blocks = blocks;
  m.block_size = block_size;
  return m;
}

std::vector<uint8_t> sense_of(uint8_t key, fc::AscAscq code) {
  std::vector<uint8_t> s(fc::kFixedSenseSize);
  const auto n = fc::encode_sense_data(fc::make_sense(key, code), s);
  EXPECT_TRUE(n.ok());
  return s;
}

void expect_no_entries(const FpFixture& t) {
  EXPECT_EQ(t.fp.statistics().upstream_pending, 0u);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 0u);
}

// The FCP_CMND of a copy leg: from the virtual initiator to `disk`, a 16-byte
// READ or WRITE of `blocks` at `lba` on `lun`, FCP_DL the blocks' bytes.
void expect_leg_cmnd(const Frame& f, uint32_t disk, uint16_t lun, bool write, uint64_t lba,
                     uint32_t blocks) {
  EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataUnsolicitedCmd);
  EXPECT_EQ(f.h.d_id.value, disk);
  EXPECT_EQ(f.h.s_id.value, kVi);
  EXPECT_EQ(f.h.f_ctl, kFctlCmnd);
  const fc::FcpCmnd c = FpFixture::decode_cmnd(f);
  EXPECT_EQ(c.lun, fc::make_lun(lun));
  EXPECT_EQ(c.wrdata, write);
  EXPECT_EQ(c.rddata, !write);
  EXPECT_EQ(c.fcp_dl, blocks * kBlock);
  const fc::ScsiCommand s = FpFixture::decode_scsi(f);
  EXPECT_EQ(s.opcode, write ? fc::scsi_op::kWrite16 : fc::scsi_op::kRead16);
  EXPECT_EQ(s.lba, lba);
  EXPECT_EQ(s.transfer_length, blocks);
}

void rsp_from(FpFixture& t, uint32_t disk, const Frame& cmnd, uint16_t rx, uint8_t status,
              std::span<const uint8_t> sense = {}, uint32_t residual = 0) {
  fc::FcpRsp r;
  r.scsi_status = status;
  r.resid_under = residual > 0;
  r.residual = residual;
  if (!sense.empty()) fc::set_fcp_sense(r, sense);
  std::vector<uint8_t> p(fc::fcp_rsp_size(r));
  ASSERT_TRUE(fc::encode_fcp_rsp(r, p).ok());
  t.push(header(fc::rctl::kDeviceDataCommandStatus, kVi, disk, kFctlRsp, cmnd.h.ox_id, rx), p);
}

void dst_xfer_rdy(FpFixture& t, const Frame& write, uint16_t rx, uint32_t offset, uint32_t length) {
  // Encoded by hand: the codec refuses a burst of 0, which a test sends.
  uint8_t x[fc::kFcpXferRdySize] = {};
  fc::store_be32(x, offset);
  fc::store_be32(x + 4, length);
  t.push(header(fc::rctl::kDeviceDataDataDescriptor, kVi, kDst, kFctlXferRdy, write.h.ox_id, rx),
         x);
}

// A data frame of the source's read exchange at read offset `offset`.
void src_data(FpFixture& t, const Frame& read, uint16_t rx, uint32_t offset,
              std::span<const uint8_t> bytes, bool last) {
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kVi, kSrc, data_fctl(true, last), read.h.ox_id,
                rx, offset),
         bytes);
}

// A relayed data frame as the destination must see it: the write
// exchange's IDs, the copy's relative offset, an initiator's F_CTL.
void expect_dst_data(const Frame& f, const Frame& write, uint16_t dst_rx, uint32_t offset,
                     bool ends_burst, const std::vector<uint8_t>& data) {
  EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataSolicitedData);
  EXPECT_EQ(f.h.type, fc::fc_type::kFcp);
  EXPECT_EQ(f.h.d_id.value, kDst);
  EXPECT_EQ(f.h.s_id.value, kVi);
  EXPECT_EQ(f.h.ox_id, write.h.ox_id);
  EXPECT_EQ(f.h.rx_id, dst_rx);
  EXPECT_EQ(f.h.parameter, offset);
  EXPECT_EQ(f.h.f_ctl, data_fctl(false, ends_burst));
  ASSERT_LE(offset + f.payload.size(), data.size());
  EXPECT_EQ(f.payload,
            std::vector<uint8_t>(data.begin() + offset, data.begin() + offset + f.payload.size()));
}

void expect_abts(const Frame& f, uint32_t disk, const Frame& cmnd, uint16_t rx) {
  EXPECT_EQ(f.h.r_ctl, fc::rctl::kBlsAbts);
  EXPECT_EQ(f.h.type, fc::fc_type::kBls);
  EXPECT_EQ(f.h.d_id.value, disk);
  EXPECT_EQ(f.h.s_id.value, kVi);
  EXPECT_EQ(f.h.ox_id, cmnd.h.ox_id);
  EXPECT_EQ(f.h.rx_id, rx);
}

// Starts a copy of `blocks` and returns the destination's WRITE.
Frame start(FpFixture& t, uint32_t dtag, uint32_t blocks) {
  t.cp_send(copy_io(dtag, blocks));
  t.run();
  Frame w = t.expect_frame();
  expect_leg_cmnd(w, kDst, kDstLun, true, kDstLba, blocks);
  EXPECT_TRUE(t.tx_idle());
  EXPECT_TRUE(t.cp_idle());
  return w;
}

// (a) Three bursts, the second and third granted while the first read is
// still open: every byte reaches the destination at its offset, each READ
// names the burst's blocks, and the copy completes GOOD.
TEST(FpCopy, CopiesEveryBurstToTheDestination) {
  FpFixture t;
  t.discover();
  constexpr uint32_t kBlocks = 16;
  const std::vector<uint8_t> data = pattern(kBlocks * kBlock, 9);
  const Frame w = start(t, 0xC0, kBlocks);
  EXPECT_EQ(t.fp.statistics().upstream_pending, 1u);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 1u);

  struct Burst {
    uint32_t offset, length;
    uint16_t src_rx;
  };
  const Burst bursts[3] = {{0, 4096, 0x51}, {4096, 2048, 0x52}, {6144, 2048, 0x53}};
  constexpr uint16_t kDstRx = 0x77;
  std::map<uint32_t, std::vector<uint8_t>> received;  // destination offset -> bytes

  // First burst: its READ, then two of its four frames.
  dst_xfer_rdy(t, w, kDstRx, bursts[0].offset, bursts[0].length);
  t.run();
  const Frame r0 = t.expect_frame();
  expect_leg_cmnd(r0, kSrc, kSrcLun, false, kSrcLba, 8);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 2u);
  for (uint32_t x = 0; x < 2048; x += 1024) {
    src_data(t, r0, bursts[0].src_rx, x, std::span<const uint8_t>(data.data() + x, 1024), false);
  }
  t.run();
  for (uint32_t x = 0; x < 2048; x += 1024) {
    const Frame f = t.expect_frame();
    expect_dst_data(f, w, kDstRx, x, false, data);
    received[f.h.parameter] = f.payload;
  }

  // The destination asks for the rest while the first read is open.
  dst_xfer_rdy(t, w, kDstRx, bursts[1].offset, bursts[1].length);
  dst_xfer_rdy(t, w, kDstRx, bursts[2].offset, bursts[2].length);
  t.run();
  const Frame r1 = t.expect_frame();
  const Frame r2 = t.expect_frame();
  expect_leg_cmnd(r1, kSrc, kSrcLun, false, kSrcLba + 8, 4);
  expect_leg_cmnd(r2, kSrc, kSrcLun, false, kSrcLba + 12, 4);
  EXPECT_NE(r0.h.ox_id, r1.h.ox_id);
  EXPECT_NE(r1.h.ox_id, r2.h.ox_id);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 4u);

  // The third burst's data first, in one frame; then the rest of the first.
  src_data(t, r2, bursts[2].src_rx, 0, std::span<const uint8_t>(data.data() + 6144, 2048), true);
  t.run();
  Frame f = t.expect_frame();
  expect_dst_data(f, w, kDstRx, 6144, true, data);
  received[f.h.parameter] = f.payload;
  src_data(t, r0, bursts[0].src_rx, 2048, std::span<const uint8_t>(data.data() + 2048, 2048), true);
  t.run();
  f = t.expect_frame();
  expect_dst_data(f, w, kDstRx, 2048, true, data);
  received[f.h.parameter] = f.payload;
  rsp_from(t, kSrc, r0, bursts[0].src_rx, fc::scsi_status::kGood);
  rsp_from(t, kSrc, r2, bursts[2].src_rx, fc::scsi_status::kGood);
  t.run();
  EXPECT_TRUE(t.tx_idle());  // a read's GOOD goes nowhere
  EXPECT_TRUE(t.cp_idle());
  EXPECT_EQ(t.fp.statistics().downstream_pending, 2u);

  // The second burst in two frames.
  for (uint32_t x = 0; x < 2048; x += 1024) {
    src_data(t, r1, bursts[1].src_rx, x, std::span<const uint8_t>(data.data() + 4096 + x, 1024),
             x == 1024);
  }
  rsp_from(t, kSrc, r1, bursts[1].src_rx, fc::scsi_status::kGood);
  t.run();
  for (uint32_t x = 0; x < 2048; x += 1024) {
    f = t.expect_frame();
    expect_dst_data(f, w, kDstRx, 4096 + x, x == 1024, data);
    received[f.h.parameter] = f.payload;
  }
  EXPECT_TRUE(t.tx_idle());
  EXPECT_TRUE(t.cp_idle());

  std::vector<uint8_t> written;
  for (const auto& [offset, bytes] : received) {
    EXPECT_EQ(offset, written.size());
    written.insert(written.end(), bytes.begin(), bytes.end());
  }
  EXPECT_EQ(written, data);

  rsp_from(t, kDst, w, kDstRx, fc::scsi_status::kGood);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 0xC0u);
  EXPECT_EQ(done.utag, fpapi::kNoTag);
  EXPECT_EQ(done.scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(done.transport_error, 0);
  EXPECT_EQ(done.residual_flags, 0);
  EXPECT_EQ(done.bytes_transferred, kBlocks * kBlock);
  EXPECT_EQ(done.sense.length, 0);
  EXPECT_TRUE(t.cp_idle());
  expect_no_entries(t);
  EXPECT_EQ(t.fp.statistics().dropped_frames, 0u);
  // Nothing of the copy reached a host: the host-bound counters stay 0.
  EXPECT_EQ(t.fp.statistics().read_bytes, 0u);
  EXPECT_EQ(t.fp.statistics().fp_completed, 0u);
}

// (b) The source answers CHECK CONDITION, MEDIUM ERROR: the destination's
// exchange is aborted and the copy completes with the source's status and
// sense; the destination's BA_ACC and late frames change nothing.
TEST(FpCopy, SourceMediumErrorAbortsTheWriteAndCarriesTheSense) {
  FpFixture t;
  t.discover();
  const std::vector<uint8_t> data = pattern(8 * kBlock, 3);
  const Frame w = start(t, 0xC1, 8);
  dst_xfer_rdy(t, w, 0x61, 0, 4096);
  t.run();
  const Frame r = t.expect_frame();
  expect_leg_cmnd(r, kSrc, kSrcLun, false, kSrcLba, 8);
  src_data(t, r, 0x91, 0, std::span<const uint8_t>(data.data(), 2048), false);
  t.run();
  expect_dst_data(t.expect_frame(), w, 0x61, 0, false, data);

  const std::vector<uint8_t> sense =
      sense_of(fc::sense_key::kMediumError, fc::asc::kUnrecoveredReadError);
  rsp_from(t, kSrc, r, 0x91, fc::scsi_status::kCheckCondition, sense);
  t.run();
  expect_abts(t.expect_frame(), kDst, w, 0x61);
  EXPECT_TRUE(t.tx_idle());  // no ABTS to the source: it ended its exchange
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 0xC1u);
  EXPECT_EQ(done.utag, fpapi::kNoTag);
  EXPECT_EQ(done.scsi_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(done.transport_error, 0);
  EXPECT_EQ(done.bytes_transferred, 2048u);
  EXPECT_EQ(std::vector<uint8_t>(done.sense.view().begin(), done.sense.view().end()), sense);
  EXPECT_TRUE(t.cp_idle());
  expect_no_entries(t);

  // The destination's BA_ACC goes to the CP like any BLS; its late FCP_RSP
  // and a late source frame are dropped.
  t.push(header(fc::rctl::kBlsBaAcc, kVi, kDst,
                fc::fctl::kExchangeContext | fc::fctl::kLastSequence | fc::fctl::kEndSequence,
                w.h.ox_id, 0x61, 0, fc::fc_type::kBls));
  t.run();
  (void)t.cp_expect<fpapi::CpFrame>();
  rsp_from(t, kDst, w, 0x61, fc::scsi_status::kGood);
  src_data(t, r, 0x91, 2048, std::span<const uint8_t>(data.data() + 2048, 2048), true);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  EXPECT_TRUE(t.cp_idle());
  EXPECT_EQ(t.fp.statistics().dropped_frames, 2u);
  expect_no_entries(t);
}

// A source that answers GOOD without all of a burst's data gave no SCSI
// status to report: the copy fails with transport_error.
TEST(FpCopy, SourceShortDataIsATransportError) {
  FpFixture t;
  t.discover();
  const std::vector<uint8_t> data = pattern(4 * kBlock, 4);
  const Frame w = start(t, 0xC2, 4);
  dst_xfer_rdy(t, w, 0x62, 0, 2048);
  t.run();
  const Frame r = t.expect_frame();
  src_data(t, r, 0x92, 0, std::span<const uint8_t>(data.data(), 1024), false);
  rsp_from(t, kSrc, r, 0x92, fc::scsi_status::kGood);
  t.run();
  expect_dst_data(t.expect_frame(), w, 0x62, 0, false, data);
  expect_abts(t.expect_frame(), kDst, w, 0x62);
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 0xC2u);
  EXPECT_EQ(done.transport_error, 1);
  EXPECT_EQ(done.bytes_transferred, 1024u);
  expect_no_entries(t);
}

// (c) The destination fails while a read is open: the read is aborted and
// the copy completes with the destination's status and sense.
TEST(FpCopy, DestinationFailureAbortsTheOpenRead) {
  FpFixture t;
  t.discover();
  const std::vector<uint8_t> data = pattern(16 * kBlock, 5);
  const Frame w = start(t, 0xC3, 16);
  dst_xfer_rdy(t, w, 0x63, 0, 4096);
  t.run();
  const Frame r = t.expect_frame();
  src_data(t, r, 0x93, 0, std::span<const uint8_t>(data.data(), 2048), false);
  t.run();
  expect_dst_data(t.expect_frame(), w, 0x63, 0, false, data);

  const std::vector<uint8_t> sense = sense_of(fc::sense_key::kMediumError, fc::asc::kWriteError);
  rsp_from(t, kDst, w, 0x63, fc::scsi_status::kCheckCondition, sense);
  t.run();
  expect_abts(t.expect_frame(), kSrc, r, 0x93);
  EXPECT_TRUE(t.tx_idle());
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 0xC3u);
  EXPECT_EQ(done.utag, fpapi::kNoTag);
  EXPECT_EQ(done.scsi_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(done.transport_error, 0);
  EXPECT_EQ(done.bytes_transferred, 2048u);
  EXPECT_EQ(std::vector<uint8_t>(done.sense.view().begin(), done.sense.view().end()), sense);
  EXPECT_TRUE(t.cp_idle());
  expect_no_entries(t);

  // The aborted read's late data is dropped, never relayed.
  src_data(t, r, 0x93, 2048, std::span<const uint8_t>(data.data() + 2048, 2048), true);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  EXPECT_EQ(t.fp.statistics().dropped_frames, 1u);
}

// A destination that answers GOOD before every byte was sent does not make
// the copy GOOD.
TEST(FpCopy, DestinationGoodWithBytesMissingIsATransportError) {
  FpFixture t;
  t.discover();
  const std::vector<uint8_t> data = pattern(8 * kBlock, 6);
  const Frame w = start(t, 0xC4, 8);
  dst_xfer_rdy(t, w, 0x64, 0, 2048);
  t.run();
  const Frame r = t.expect_frame();
  src_data(t, r, 0x94, 0, std::span<const uint8_t>(data.data(), 2048), true);
  rsp_from(t, kSrc, r, 0x94, fc::scsi_status::kGood);
  rsp_from(t, kDst, w, 0x64, fc::scsi_status::kGood);
  t.run();
  expect_dst_data(t.expect_frame(), w, 0x64, 0, true, data);
  EXPECT_TRUE(t.tx_idle());
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 0xC4u);
  EXPECT_EQ(done.scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(done.transport_error, 1);
  EXPECT_EQ(done.bytes_transferred, 2048u);
  expect_no_entries(t);
}

// (d) Invalid copies complete at once with transport_error, sending nothing.
TEST(FpCopy, InvalidCopiesFailAtOnce) {
  FpFixture t;
  t.discover();
  t.expose(kTarget, 0, fpapi::expose_flags::kAnyInitiator);
  std::vector<fpapi::FpCopyIO> bad;
  bad.push_back(copy_io(1, 0));                 // no blocks
  bad.push_back(copy_io(2, 8, 0));              // no block size
  bad.push_back(copy_io(3, 8, 514));            // not whole words
  bad.push_back(copy_io(4, 0x00800000, 1024));  // 8 GiB: beyond 32 bits
  bad.push_back(copy_io(6, 8));
  bad.back().src_target = 0;
  bad.push_back(copy_io(7, 8));
  bad.back().dst_target = 0;
  bad.push_back(copy_io(8, 8));
  bad.back().dst_target = kVi;  // the FP's own address
  bad.push_back(copy_io(9, 8));
  bad.back().src_target = kTarget;  // a virtual target
  bad.push_back(copy_io(10, 8));
  bad.back().src_lba = ~0ull - 3;  // runs past the last LBA
  for (const auto& m : bad)
    t.cp_send(m);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  for (const auto& m : bad) {
    const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
    EXPECT_EQ(done.dtag, m.dtag);
    EXPECT_EQ(done.utag, fpapi::kNoTag);
    EXPECT_EQ(done.transport_error, 1);
    EXPECT_EQ(done.bytes_transferred, 0u);
  }
  EXPECT_TRUE(t.cp_idle());
  expect_no_entries(t);
}

// max_transfer_bytes bounds the I/Os the FP remaps, not a copy: the
// destination's bursts size its reads.
TEST(FpCopy, ACopyMayExceedMaxTransferBytes) {
  FpFixture t;
  t.discover();
  const uint32_t blocks = t.port->config().max_transfer_bytes / kBlock + 8;
  const Frame w = start(t, 0xCA, blocks);
  dst_xfer_rdy(t, w, 0x6A, blocks * kBlock - 4096, 4096);
  t.run();
  const Frame r = t.expect_frame();
  expect_leg_cmnd(r, kSrc, kSrcLun, false, kSrcLba + blocks - 8, 8);
  rsp_from(t, kDst, w, 0x6A, fc::scsi_status::kBusy);
  t.run();
  expect_abts(t.expect_frame(), kSrc, r, fc::kUnassignedXid);
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 0xCAu);
  EXPECT_EQ(done.scsi_status, fc::scsi_status::kBusy);
  EXPECT_EQ(done.transport_error, 0);
  EXPECT_EQ(done.bytes_transferred, 0u);
  expect_no_entries(t);
}

// Before FPDiscover the FP has no virtual initiator to copy from.
TEST(FpCopy, CopyBeforeDiscoverFails) {
  FpFixture t;
  t.cp_send(copy_io(0x11, 8));
  t.run();
  EXPECT_TRUE(t.tx_idle());
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 0x11u);
  EXPECT_EQ(done.transport_error, 1);
  expect_no_entries(t);
}

// A burst that is not whole blocks, runs past the copy or is empty (an
// unreadable XFER_RDY) fails it: ABTS to the destination, transport_error.
TEST(FpCopy, BurstNotWholeBlocksFailsTheCopy) {
  for (const auto& [offset, length] :
       {std::pair<uint32_t, uint32_t>{0, 1000}, {100, 512}, {2048, 4096}, {0, 0}}) {
    FpFixture t;
    t.discover();
    const Frame w = start(t, 0xC5, 8);
    dst_xfer_rdy(t, w, 0x65, offset, length);
    t.run();
    expect_abts(t.expect_frame(), kDst, w, 0x65);
    EXPECT_TRUE(t.tx_idle());
    const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
    EXPECT_EQ(done.dtag, 0xC5u);
    EXPECT_EQ(done.transport_error, 1);
    expect_no_entries(t);
  }
}

// Source data outside its read fails the copy and aborts both legs.
TEST(FpCopy, SourceDataOutsideItsReadFailsTheCopy) {
  FpFixture t;
  t.discover();
  const std::vector<uint8_t> data = pattern(8 * kBlock, 7);
  const Frame w = start(t, 0xC6, 8);
  dst_xfer_rdy(t, w, 0x66, 0, 2048);
  t.run();
  const Frame r = t.expect_frame();
  src_data(t, r, 0x96, 1024, std::span<const uint8_t>(data.data(), 2048), true);
  t.run();
  const Frame a = t.expect_frame();
  const Frame b = t.expect_frame();
  // Both legs aborted, whatever the order.
  const Frame& to_dst = a.h.d_id.value == kDst ? a : b;
  const Frame& to_src = a.h.d_id.value == kDst ? b : a;
  expect_abts(to_dst, kDst, w, 0x66);
  expect_abts(to_src, kSrc, r, 0x96);
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.transport_error, 1);
  EXPECT_EQ(done.bytes_transferred, 0u);
  expect_no_entries(t);
}

fpapi::FpQueryPendingIOsReply query(FpFixture& t) {
  fpapi::FpQueryPendingIOs q;
  q.req_id = 90;
  t.cp_send(q);  // the default filter: anything
  t.run();
  return t.cp_expect<fpapi::FpQueryPendingIOsReply>();
}

// (e) Pending-I/O queries and aborts see host I/Os only: a wildcard
// FPQueryPendingIOs does not count the copy and FPAbortPendingIOs does not
// end it; the copy then completes GOOD.
TEST(FpCopy, PendingQueriesAndAbortsIgnoreCopies) {
  FpFixture t;
  t.bring_up();
  const Frame w = start(t, 0xC7, 4);
  t.host_rw(0x321, false, kVsegStart, 4);  // an FP-owned remap
  t.run();
  const Frame host_read = t.expect_frame();
  EXPECT_EQ(host_read.h.d_id.value, kDisk);
  EXPECT_EQ(t.fp.statistics().upstream_pending, 2u);

  auto r = query(t);
  EXPECT_EQ(r.count, 1u);
  ASSERT_EQ(r.listed, 1);
  EXPECT_EQ(r.ios[0].vseg_id, kVsegId);

  fpapi::FpAbortPendingIOs a;
  a.req_id = 91;
  t.cp_send(a);
  t.run();
  EXPECT_EQ(t.cp_expect<fpapi::CpQueueIO>().reason, fpapi::FaultKind::kAborted);
  const auto reply = t.cp_expect<fpapi::FpReply>();
  EXPECT_EQ(reply.value, 1u);  // the host's read only
  const Frame abts = t.expect_frame();
  EXPECT_EQ(abts.h.r_ctl, fc::rctl::kBlsAbts);
  EXPECT_EQ(abts.h.d_id.value, kDisk);
  EXPECT_TRUE(t.tx_idle());  // nothing to the copy's disks
  EXPECT_TRUE(t.cp_idle());
  // The aborted host I/O is the CP's now; the copy is still there.
  EXPECT_EQ(t.fp.statistics().upstream_pending, 2u);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 1u);
  r = query(t);
  EXPECT_EQ(r.count, 1u);  // the CP-owned host I/O, not the copy

  // The copy goes on undisturbed.
  const std::vector<uint8_t> data = pattern(4 * kBlock, 8);
  dst_xfer_rdy(t, w, 0x67, 0, 2048);
  t.run();
  const Frame rd = t.expect_frame();
  expect_leg_cmnd(rd, kSrc, kSrcLun, false, kSrcLba, 4);
  src_data(t, rd, 0x97, 0, data, true);
  rsp_from(t, kSrc, rd, 0x97, fc::scsi_status::kGood);
  t.run();
  expect_dst_data(t.expect_frame(), w, 0x67, 0, true, data);
  rsp_from(t, kDst, w, 0x67, fc::scsi_status::kGood);
  t.run();
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 0xC7u);
  EXPECT_EQ(done.scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(done.transport_error, 0);
  EXPECT_EQ(done.bytes_transferred, 2048u);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 0u);

  // The CP completes its host I/O; then nothing is left.
  fpapi::FpQueueIOComplete qc;
  qc.utag = r.ios[0].utag;
  qc.silent = 1;
  t.cp_send(qc);
  t.run();
  expect_no_entries(t);
}

// A copy whose disk stopped answering is ended by an FPAbortPendingIOs
// naming copies (owner kOwnerCopy, the copy's dtag): ABTS to its open leg,
// CpDispatchIOComplete with transport_error, nothing left. A filter naming
// another dtag leaves it alone.
TEST(FpCopy, AnAbortNamingTheCopyEndsItAsFailed) {
  FpFixture t;
  t.bring_up();
  const Frame w = start(t, 0xC8, 4);
  fpapi::FpAbortPendingIOs other;
  other.req_id = 92;
  other.filter.owner = fpapi::kOwnerCopy;
  other.filter.utag = 0xC9;  // another copy
  t.cp_send(other);
  t.run();
  EXPECT_EQ(t.cp_expect<fpapi::FpReply>().value, 0u);
  EXPECT_TRUE(t.tx_idle());

  fpapi::FpAbortPendingIOs a;
  a.req_id = 93;
  a.filter.owner = fpapi::kOwnerCopy;
  a.filter.utag = 0xC8;
  t.cp_send(a);
  t.run();
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 0xC8u);
  EXPECT_EQ(done.utag, fpapi::kNoTag);
  EXPECT_EQ(done.transport_error, 1);
  EXPECT_EQ(t.cp_expect<fpapi::FpReply>().value, 1u);
  const Frame abts = t.expect_frame();
  EXPECT_EQ(abts.h.r_ctl, fc::rctl::kBlsAbts);
  EXPECT_EQ(abts.h.d_id.value, w.h.d_id.value);
  EXPECT_TRUE(t.cp_idle());
  expect_no_entries(t);
}

// A copy waits (the message is retried) while no downstream entry is free,
// and a burst that finds no entry for its READ fails the copy rather than
// hang; the waiting copy then starts.
TEST(FpCopy, WaitsForAnEntryAndFailsABurstWithoutOne) {
  FastPathConfig c = default_fp_config();
  c.downstream_capacity = 1;
  FpFixture t(default_port_config(), c);
  t.discover();
  const Frame w = start(t, 0xC8, 4);
  t.cp_send(copy_io(0xC9, 4));
  t.run();
  EXPECT_TRUE(t.tx_idle());  // no entry: the second copy waits
  EXPECT_TRUE(t.cp_idle());

  dst_xfer_rdy(t, w, 0x68, 0, 2048);
  t.run();
  expect_abts(t.expect_frame(), kDst, w, 0x68);
  const auto failed = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(failed.dtag, 0xC8u);
  EXPECT_EQ(failed.transport_error, 1);
  t.run();
  const Frame w2 = t.expect_frame();  // the second copy's WRITE
  expect_leg_cmnd(w2, kDst, kDstLun, true, kDstLba, 4);
  EXPECT_NE(w2.h.ox_id, w.h.ox_id);
  rsp_from(t, kDst, w2, 0x69, fc::scsi_status::kCheckCondition);
  t.run();
  const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(done.dtag, 0xC9u);
  EXPECT_EQ(done.scsi_status, fc::scsi_status::kCheckCondition);
  expect_no_entries(t);
}

// A copy, frame by frame, allocates nothing.
TEST(FpCopy, AllocatesNothing) {
  FpFixture t;
  t.discover();
  const std::vector<uint8_t> data = pattern(8 * kBlock, 2);
  uint64_t allocations = 0;
  auto counted_run = [&] {
    for (int i = 0; i < 100; ++i) {
      const uint64_t before = splitpath::testing::allocation_count();
      const bool more = t.fp.poll();
      allocations += splitpath::testing::allocation_count() - before;
      if (!more) break;
    }
  };
  for (uint32_t i = 0; i < 10; ++i) {
    t.cp_send(copy_io(i, 8));
    counted_run();
    const Frame w = t.expect_frame();
    for (uint32_t o = 0; o < 4096; o += 2048) {
      dst_xfer_rdy(t, w, 0x70, o, 2048);
      counted_run();
      const Frame r = t.expect_frame();
      src_data(t, r, 0x98, 0, std::span<const uint8_t>(data.data() + o, 2048), true);
      rsp_from(t, kSrc, r, 0x98, fc::scsi_status::kGood);
      counted_run();
      expect_dst_data(t.expect_frame(), w, 0x70, o, true, data);
    }
    rsp_from(t, kDst, w, 0x70, fc::scsi_status::kGood);
    counted_run();
    const auto done = t.cp_expect<fpapi::CpDispatchIOComplete>();
    EXPECT_EQ(done.dtag, i);
    EXPECT_EQ(done.transport_error, 0);
    EXPECT_EQ(done.bytes_transferred, 4096u);
  }
  EXPECT_EQ(allocations, 0u);
  expect_no_entries(t);
}

}  // namespace
}  // namespace splitpath::fp::testing
