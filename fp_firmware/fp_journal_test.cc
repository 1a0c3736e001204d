// The write-journaling primitive on the FP: the journal descriptor's and the
// record header's codecs; a journaled WRITE as a data leg and a journal leg
// (header block first, then the host's data at one block further); the
// journal pointer advancing by 1 + N and its sequence by 1; a write that does
// not fit faulting kJournalFull (one that fits no journal: kCapacity); a new journal resetting the
// pointer; a failing leg handing the I/O to the CP; READs remapped to the data device.
#include <gtest/gtest.h>

#include <algorithm>

#include "fp_firmware/fp_test_fixture.h"
#include "splitpath/map/journal_record.h"

namespace splitpath::fp::testing {
namespace {

using fpapi::FaultKind;

constexpr uint32_t kJournalDisk = 0x010400;
constexpr uint16_t kJournalLun = 1;
constexpr uint64_t kJournalStart = 7000;

map::JournalStorage journal_of(uint32_t capacity, uint16_t id = 5) {
  map::JournalStorage j;
  j.data = {kDisk, kDiskLun, 0, kDiskStart};
  j.journal = {kJournalDisk, kJournalLun, 0, kJournalStart};
  j.journal_id = id;
  j.capacity_blocks = capacity;
  return j;
}

void journal_up(FpFixture& t, const map::JournalStorage& j, bool bring_up = true) {
  if (bring_up) t.bring_up();
  fpapi::FpMapping r = FpFixture::redirect_mapping(kVsegId, 0);
  ASSERT_TRUE(map::StorageDescriptor::make_journal(j, &r.redirect.descriptor));
  t.call_ok(r, MsgType::kFpReplaceMapping);
}

void leg_xfer_rdy(FpFixture& t, const Frame& cmnd, uint16_t rx, uint32_t offset, uint32_t len) {
  uint8_t x[fc::kFcpXferRdySize];
  ASSERT_TRUE(fc::encode_fcp_xfer_rdy({offset, len}, x).ok());
  t.push(header(fc::rctl::kDeviceDataDataDescriptor, kVi, cmnd.h.d_id.value, kFctlXferRdy,
                cmnd.h.ox_id, rx),
         x);
}

void leg_rsp(FpFixture& t, const Frame& cmnd, uint16_t rx, uint8_t status) {
  fc::FcpRsp r;
  r.scsi_status = status;
  std::vector<uint8_t> p(fc::fcp_rsp_size(r));
  ASSERT_TRUE(fc::encode_fcp_rsp(r, p).ok());
  t.push(header(fc::rctl::kDeviceDataCommandStatus, kVi, cmnd.h.d_id.value, kFctlRsp, cmnd.h.ox_id,
                rx),
         p);
}

struct Legs {
  Frame data;
  Frame journal;
};

// The host's WRITE of `blocks` at VSEG block `vseg_lba`: a data leg and a
// journal leg at journal block `record`, checked field by field.
Legs journaled_write(FpFixture& t, uint16_t ox, uint64_t vseg_lba, uint32_t blocks,
                     uint64_t record) {
  t.host_rw(ox, true, kVsegStart + vseg_lba, blocks);
  t.run();
  Legs l;
  bool data = false, journal = false;
  for (int i = 0; i < 2; ++i) {
    const Frame f = t.expect_frame();
    EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataUnsolicitedCmd);
    EXPECT_EQ(f.h.s_id.value, kVi);
    const fc::FcpCmnd c = FpFixture::decode_cmnd(f);
    const fc::ScsiCommand scsi = FpFixture::decode_scsi(f);
    EXPECT_TRUE(c.wrdata);
    EXPECT_EQ(scsi.opcode, fc::scsi_op::kWrite16);
    if (f.h.d_id.value == kDisk) {
      data = true;
      EXPECT_EQ(*fc::decode_lun(c.lun), kDiskLun);
      EXPECT_EQ(scsi.lba, kDiskStart + vseg_lba);
      EXPECT_EQ(scsi.transfer_length, blocks);
      EXPECT_EQ(c.fcp_dl, blocks * kBlock);
      l.data = f;
    } else {
      journal = true;
      EXPECT_EQ(f.h.d_id.value, kJournalDisk);
      EXPECT_EQ(*fc::decode_lun(c.lun), kJournalLun);
      EXPECT_EQ(scsi.lba, kJournalStart + record);
      EXPECT_EQ(scsi.transfer_length, blocks + 1);
      EXPECT_EQ(c.fcp_dl, (blocks + 1) * kBlock);
      l.journal = f;
    }
  }
  EXPECT_TRUE(data && journal);
  EXPECT_TRUE(t.tx_idle());
  return l;
}

// Both legs ready: the header block goes to the journal, then the host is
// asked for its data, which reaches both legs; both GOOD: GOOD to the host.
map::JournalRecordHeader complete_write(FpFixture& t, const Legs& l, uint16_t ox, uint32_t blocks,
                                        uint8_t seed, bool cp_legs = false) {
  const uint32_t bytes = blocks * kBlock;
  leg_xfer_rdy(t, l.journal, 0x81, 0, bytes + kBlock);
  t.run();
  const Frame h = t.expect_frame();
  EXPECT_EQ(h.h.r_ctl, fc::rctl::kDeviceDataSolicitedData);
  EXPECT_EQ(h.h.d_id.value, kJournalDisk);
  EXPECT_EQ(h.h.ox_id, l.journal.h.ox_id);
  EXPECT_EQ(h.h.rx_id, 0x81);
  EXPECT_EQ(h.h.parameter, 0u);
  EXPECT_EQ(h.payload.size(), kBlock);
  map::JournalRecordHeader rec;
  EXPECT_TRUE(h.payload.size() == kBlock && map::decode_journal_header(h.payload.data(), &rec));
  for (size_t i = map::kJournalHeaderBytes; i < h.payload.size(); ++i)
    EXPECT_EQ(h.payload[i], 0) << "header block byte " << i;
  EXPECT_TRUE(t.tx_idle()) << "the host is asked only once the data leg is ready";
  leg_xfer_rdy(t, l.data, 0x80, 0, bytes);
  t.run();
  const Frame x = t.expect_frame();
  EXPECT_EQ(x.h.r_ctl, fc::rctl::kDeviceDataDataDescriptor);
  EXPECT_EQ(x.h.d_id.value, kHost);
  const auto xr = fc::decode_fcp_xfer_rdy(x.payload);
  EXPECT_TRUE(xr.ok() && xr->relative_offset == 0 && xr->burst_length == bytes);
  const std::vector<uint8_t> data = pattern(bytes, seed);
  // In frames of 2 KiB, each copied to both legs.
  for (uint32_t at = 0; at < bytes; at += 2048) {
    const uint32_t n = std::min<uint32_t>(2048, bytes - at);
    const std::vector<uint8_t> chunk(data.begin() + at, data.begin() + at + n);
    t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost,
                  data_fctl(false, at + n == bytes), ox, x.h.rx_id, at),
           chunk);
    t.run();
    for (int i = 0; i < 2; ++i) {
      const Frame f = t.expect_frame();
      EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataSolicitedData);
      EXPECT_EQ(f.payload, chunk);
      if (f.h.d_id.value == kDisk) {
        EXPECT_EQ(f.h.parameter, at);
        EXPECT_EQ(f.h.rx_id, 0x80);
      } else {
        EXPECT_EQ(f.h.d_id.value, kJournalDisk);
        EXPECT_EQ(f.h.parameter, at + kBlock) << "the journal's data follows its header block";
        EXPECT_EQ(f.h.rx_id, 0x81);
      }
    }
  }
  leg_rsp(t, l.journal, 0x81, fc::scsi_status::kGood);
  t.run();
  EXPECT_TRUE(t.tx_idle()) << "no GOOD before both legs";
  leg_rsp(t, l.data, 0x80, fc::scsi_status::kGood);
  t.run();
  if (cp_legs) return rec;  // each leg's end goes to the CP
  const Frame rsp = t.expect_frame();
  EXPECT_EQ(rsp.h.d_id.value, kHost);
  EXPECT_EQ(rsp.h.ox_id, ox);
  EXPECT_EQ(FpFixture::decode_rsp(rsp).scsi_status, fc::scsi_status::kGood);
  return rec;
}

fpapi::CpQueueIO expect_fault(FpFixture& t, FaultKind kind, uint16_t ox) {
  t.run();
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  EXPECT_EQ(q.reason, kind) << fpapi::fault_kind_name(q.reason);
  EXPECT_EQ(q.io.ox_id, ox);
  return q;
}

TEST(FpJournal, DescriptorAndHeaderCodecs) {
  map::StorageDescriptor d;
  ASSERT_TRUE(map::StorageDescriptor::make_journal(journal_of(0x01020304, 0xABCD), &d));
  EXPECT_EQ(d.kind, map::StorageKind::kJournal);
  EXPECT_TRUE(d.valid());
  EXPECT_EQ(d.element_count(), 2u);
  EXPECT_EQ(d.payload[0], 2);
  EXPECT_EQ(d.payload[2], 0xAB);  // journal id, big-endian
  EXPECT_EQ(d.payload[3], 0xCD);
  EXPECT_EQ(d.payload[4], 0x01);  // capacity, big-endian
  EXPECT_EQ(d.payload[7], 0x04);
  EXPECT_EQ(d.element(0), (map::StorageElement{kDisk, kDiskLun, 0, kDiskStart}));
  EXPECT_EQ(d.element(1), (map::StorageElement{kJournalDisk, kJournalLun, 0, kJournalStart}));
  EXPECT_EQ(d.locate(3).status, map::LocateStatus::kUnsupported);
  map::JournalStorage back;
  ASSERT_TRUE(d.journal(&back));
  EXPECT_EQ(back.journal_id, 0xABCD);
  EXPECT_EQ(back.capacity_blocks, 0x01020304u);
  EXPECT_FALSE(map::StorageDescriptor::make_journal(journal_of(1), &d));
  ASSERT_TRUE(map::StorageDescriptor::make_journal(journal_of(2), &d));
  d.payload[7] = 1;  // capacity 1: no record fits
  EXPECT_FALSE(d.valid());

  map::JournalRecordHeader h;
  h.journal_id = 0x1234;
  h.sequence = 0x05060708;
  h.blocks = 9;
  h.timestamp_ns = 0x1122334455667788;
  h.lv_id = 3;
  h.vseg_id = 4;
  h.lv_lba = 0x0102030405;
  h.vseg_lba = 77;
  h.block_size = 512;
  uint8_t b[map::kJournalHeaderBytes];
  map::encode_journal_header(h, b);
  EXPECT_EQ(b[0], 'S');
  EXPECT_EQ(b[3], 'R');
  EXPECT_EQ(b[6], 0x12);
  EXPECT_EQ(b[8], 0x05);
  EXPECT_EQ(b[16], 0x11);
  map::JournalRecordHeader back_h;
  ASSERT_TRUE(map::decode_journal_header(b, &back_h));
  EXPECT_EQ(back_h, h);
  b[1] ^= 1;
  EXPECT_FALSE(map::decode_journal_header(b, &back_h));
}

TEST(FpJournal, WriteIsADataLegAndARecordAtThePointer) {
  FpFixture t;
  journal_up(t, journal_of(64));
  t.clock.set(5000);
  const Legs l1 = journaled_write(t, 0x100, 40, 8, 0);
  t.clock.set(6000);
  const map::JournalRecordHeader r1 = complete_write(t, l1, 0x100, 8, 1);
  EXPECT_EQ(r1.journal_id, 5);
  EXPECT_EQ(r1.sequence, 0u);
  EXPECT_EQ(r1.blocks, 8u);
  EXPECT_EQ(r1.lv_id, kLv);
  EXPECT_EQ(r1.vseg_id, kVsegId);
  EXPECT_EQ(r1.lv_lba, kVsegStart + 40);
  EXPECT_EQ(r1.vseg_lba, 40u);
  EXPECT_EQ(r1.block_size, kBlock);
  EXPECT_EQ(r1.timestamp_ns, 5000u) << "the dispatch time";
  // The next record follows: 1 + 8 blocks further, sequence 1.
  const Legs l2 = journaled_write(t, 0x101, 3, 2, 9);
  const map::JournalRecordHeader r2 = complete_write(t, l2, 0x101, 2, 2);
  EXPECT_EQ(r2.sequence, 1u);
  EXPECT_EQ(r2.timestamp_ns, 6000u);
  EXPECT_TRUE(t.cp_idle());
  const fpapi::FpStatistics st = t.fp.statistics();
  EXPECT_EQ(st.fp_completed, 2u);
  EXPECT_EQ(st.upstream_pending, 0u);
  EXPECT_EQ(st.downstream_pending, 0u);
}

// A header block larger than a frame's data field (4 KiB blocks) goes to
// the journal as 2 KiB frames at their offsets, the record header in the
// first; before, the FP sent it as one oversized frame (past its buffer).
TEST(FpJournal, HeaderBlockLargerThanAFrameGoesAsSeveralFrames) {
  constexpr uint32_t kBig = 4096;
  FpFixture t;
  t.block_size = kBig;
  journal_up(t, journal_of(64));
  t.host_rw(0x100, true, kVsegStart + 10, 2);
  t.run();
  Frame journal;
  for (int i = 0; i < 2; ++i) {
    const Frame f = t.expect_frame();
    if (f.h.d_id.value == kJournalDisk) journal = f;
  }
  ASSERT_EQ(journal.h.d_id.value, kJournalDisk);
  EXPECT_EQ(FpFixture::decode_cmnd(journal).fcp_dl, 3 * kBig);
  leg_xfer_rdy(t, journal, 0x81, 0, 3 * kBig);
  t.run();
  std::vector<uint8_t> block;
  for (uint32_t at = 0; at < kBig; at += 2048) {
    const Frame h = t.expect_frame();
    EXPECT_EQ(h.h.r_ctl, fc::rctl::kDeviceDataSolicitedData);
    EXPECT_EQ(h.h.d_id.value, kJournalDisk);
    EXPECT_EQ(h.h.rx_id, 0x81);
    EXPECT_EQ(h.h.parameter, at);
    EXPECT_EQ(h.payload.size(), 2048u);
    block.insert(block.end(), h.payload.begin(), h.payload.end());
  }
  EXPECT_TRUE(t.tx_idle());
  ASSERT_EQ(block.size(), kBig);
  map::JournalRecordHeader rec;
  ASSERT_TRUE(map::decode_journal_header(block.data(), &rec));
  EXPECT_EQ(rec.block_size, kBig);
  EXPECT_EQ(rec.blocks, 2u);
  EXPECT_EQ(rec.vseg_lba, 10u);
  for (size_t i = map::kJournalHeaderBytes; i < block.size(); ++i)
    ASSERT_EQ(block[i], 0) << "header block byte " << i;
}

TEST(FpJournal, WriteThatDoesNotFitIsJournalFullAndANewJournalStartsAtZero) {
  FpFixture t;
  journal_up(t, journal_of(12));
  const Legs l1 = journaled_write(t, 0x100, 0, 8, 0);
  complete_write(t, l1, 0x100, 8, 1);
  // 9 of 12 blocks used: a 3-block write needs 4.
  t.host_rw(0x101, true, kVsegStart + 100, 3);
  const auto q = expect_fault(t, FaultKind::kJournalFull, 0x101);
  EXPECT_TRUE(t.tx_idle());
  EXPECT_EQ(t.fp.statistics().faults[static_cast<size_t>(FaultKind::kJournalFull)], 1u);
  EXPECT_STREQ(fpapi::fault_kind_name(FaultKind::kJournalFull), "journal_full");
  // A 2-block write still fits (3 blocks).
  const Legs l2 = journaled_write(t, 0x102, 200, 2, 9);
  complete_write(t, l2, 0x102, 2, 3);
  // The CP swaps in another journal: the pointer and the sequence restart.
  fpapi::FpQueueIOComplete c;
  c.utag = q.io.utag;
  c.scsi_status = fc::scsi_status::kGood;
  t.cp_send(c);
  t.run();
  EXPECT_EQ(FpFixture::decode_rsp(t.expect_frame()).scsi_status, fc::scsi_status::kGood);
  journal_up(t, journal_of(12, 6), /*bring_up=*/false);
  const Legs l3 = journaled_write(t, 0x103, 100, 3, 0);
  const map::JournalRecordHeader r3 = complete_write(t, l3, 0x103, 3, 4);
  EXPECT_EQ(r3.journal_id, 6);
  EXPECT_EQ(r3.sequence, 0u);
}

TEST(FpJournal, WriteLargerThanAJournalIsCapacity) {
  // Its record could fit no journal: no swap, the CP cuts it.
  FpFixture t;
  journal_up(t, journal_of(12));
  t.host_rw(0x100, true, kVsegStart, 12);
  expect_fault(t, FaultKind::kCapacity, 0x100);
  EXPECT_TRUE(t.tx_idle());
  journaled_write(t, 0x101, 100, 11, 0);  // 1 + 11 blocks: a whole journal
}

TEST(FpJournal, OverlappingWriteIsSerialization) {
  FpFixture t;
  journal_up(t, journal_of(64));
  journaled_write(t, 0x100, 10, 4, 0);
  t.host_rw(0x101, true, kVsegStart + 12, 4);
  expect_fault(t, FaultKind::kSerialization, 0x101);
}

TEST(FpJournal, FailedLegGoesToTheCp) {
  FpFixture t;
  journal_up(t, journal_of(64));
  const Legs l = journaled_write(t, 0x100, 0, 2, 0);
  leg_rsp(t, l.journal, 0x81, fc::scsi_status::kCheckCondition);
  t.run();
  const Frame abts = t.expect_frame();
  EXPECT_EQ(abts.h.r_ctl, fc::rctl::kBlsAbts);
  EXPECT_EQ(abts.h.d_id.value, kDisk);
  EXPECT_TRUE(t.tx_idle()) << "nothing goes to the host";
  const auto q = expect_fault(t, FaultKind::kDownstreamError, 0x100);
  EXPECT_EQ(q.downstream_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 0u);
}

TEST(FpJournal, CpJournalLegGetsItsHeaderBlockFirst) {
  // A CP-owned write into a journaled VSEG: a data leg and a journal leg
  // (FpDispatchIO::journal) with the header the CP encoded.
  FpFixture t;
  t.bring_up(0);  // no extent: the write misses and the CP queues it
  t.host_rw(0x600, true, kVsegStart + 5, 2);
  t.run();
  fpapi::CpMappingMissReply mr;
  mr.utag = t.cp_expect<fpapi::CpMappingMiss>().utag;
  mr.action = fpapi::MissAction::kQueue;
  t.cp_send(mr);
  t.run();
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  map::JournalRecordHeader h;
  h.journal_id = 9;
  h.sequence = 4;
  h.blocks = 2;
  h.timestamp_ns = 777;
  h.lv_id = kLv;
  h.vseg_id = kVsegId;
  h.lv_lba = kVsegStart + 5;
  h.vseg_lba = 5;
  h.block_size = kBlock;
  Legs l;
  for (uint32_t s = 0; s < 2; ++s) {
    fpapi::FpDispatchIO d;
    d.dtag = 90 + s;
    d.utag = q.io.utag;
    d.target_id = s == 0 ? kDisk : kJournalDisk;
    d.lun = s == 0 ? kDiskLun : kJournalLun;
    d.direction = fpapi::DataDirection::kWrite;
    d.cdb_length = 16;
    d.data_length = 2 * kBlock;
    d.copies = 2;
    const fc::ScsiCommand w =
        fc::make_rw(fc::scsi_op::kWrite16, s == 0 ? kDiskStart + 5 : kJournalStart + 40, 2 + s);
    (void)fc::encode_cdb(w, fc::MutableBytes(d.cdb.data(), d.cdb.size()));
    if (s == 1) {
      d.journal = 1;
      map::encode_journal_header(h, d.journal_header.data());
    }
    t.cp_send(d);
    t.run();
    const Frame f = t.expect_frame();
    EXPECT_EQ(FpFixture::decode_cmnd(f).fcp_dl, (2 + s) * kBlock);
    (s == 0 ? l.data : l.journal) = f;
  }
  const map::JournalRecordHeader got = complete_write(t, l, 0x600, 2, 5, /*cp_legs=*/true);
  EXPECT_EQ(got, h);
  EXPECT_EQ(t.cp_expect<fpapi::CpDispatchIOComplete>().dtag, 91u);
  EXPECT_EQ(t.cp_expect<fpapi::CpDispatchIOComplete>().dtag, 90u);
}

TEST(FpJournal, ReadIsRemappedToTheDataDevice) {
  FpFixture t;
  journal_up(t, journal_of(64));
  t.host_rw(0x100, false, kVsegStart + 77, 4);
  t.run();
  const Frame f = t.expect_frame();
  EXPECT_EQ(f.h.d_id.value, kDisk);
  const fc::ScsiCommand scsi = FpFixture::decode_scsi(f);
  EXPECT_EQ(scsi.opcode, fc::scsi_op::kRead16);
  EXPECT_EQ(scsi.lba, kDiskStart + 77);
  EXPECT_EQ(scsi.transfer_length, 4u);
  EXPECT_TRUE(t.tx_idle());
}

}  // namespace
}  // namespace splitpath::fp::testing
