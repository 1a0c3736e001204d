// The write-splitting primitive on the FP (RAID 1): the mirror descriptor's
// codec; a WRITE sent to every side, the host asked only for data every side
// is ready for, each data frame copied to every side, GOOD to the host only
// once every side answered GOOD; a failing side hands the I/O to the CP;
// READs round robin among the cheapest readable sides; an overlapping WRITE
// faults for serialization (figure 16); CP legs sent as copies; and no heap
// allocation on the way.
#include <gtest/gtest.h>

#include <algorithm>

#include "fp_firmware/fp_test_fixture.h"
#include "splitpath/fc/scsi_sense.h"
#include "tests/support/alloc_counter.h"

namespace splitpath::fp::testing {
namespace {

using fpapi::FaultKind;

constexpr uint32_t kSides = 3;
constexpr uint32_t kSideDisk[kSides] = {0x010200, 0x010400, 0x010500};
constexpr uint16_t kSideLun[kSides] = {3, 0, 7};
constexpr uint64_t kSideStart[kSides] = {50000, 0, 900};

map::MirrorStorage mirror_of(uint32_t sides, std::array<uint8_t, kSides> cost = {0, 0, 0},
                             std::array<map::SideState, kSides> state = {map::SideState::kAlive,
                                                                         map::SideState::kAlive,
                                                                         map::SideState::kAlive}) {
  map::MirrorStorage m;
  m.sides = static_cast<uint8_t>(sides);
  for (uint32_t i = 0; i < sides; ++i) {
    m.side[i].storage = {kSideDisk[i], kSideLun[i], 0, kSideStart[i]};
    m.side[i].read_cost = cost[i];
    m.side[i].state = state[i];
  }
  return m;
}

// Replaces the fixture's simple redirect entry 0 with mirror `m`.
void mirror_up(FpFixture& t, const map::MirrorStorage& m) {
  t.bring_up();
  fpapi::FpMapping r = FpFixture::redirect_mapping(kVsegId, 0);
  ASSERT_TRUE(map::StorageDescriptor::make_mirror(m, &r.redirect.descriptor));
  t.call_ok(r, MsgType::kFpReplaceMapping);
}

uint32_t side_of(const Frame& f) {
  for (uint32_t i = 0; i < kSides; ++i)
    if (f.h.d_id.value == kSideDisk[i]) return i;
  ADD_FAILURE() << "frame to " << f.h.d_id.value << " is not to a side";
  return 0;
}

void side_xfer_rdy(FpFixture& t, const Frame& cmnd, uint16_t rx, uint32_t offset, uint32_t len) {
  uint8_t x[fc::kFcpXferRdySize];
  ASSERT_TRUE(fc::encode_fcp_xfer_rdy({offset, len}, x).ok());
  t.push(header(fc::rctl::kDeviceDataDataDescriptor, kVi, cmnd.h.d_id.value, kFctlXferRdy,
                cmnd.h.ox_id, rx),
         x);
}

void side_rsp(FpFixture& t, const Frame& cmnd, uint16_t rx, uint8_t status,
              std::span<const uint8_t> sense = {}) {
  fc::FcpRsp r;
  r.scsi_status = status;
  if (!sense.empty()) fc::set_fcp_sense(r, sense);
  std::vector<uint8_t> p(fc::fcp_rsp_size(r));
  ASSERT_TRUE(fc::encode_fcp_rsp(r, p).ok());
  t.push(header(fc::rctl::kDeviceDataCommandStatus, kVi, cmnd.h.d_id.value, kFctlRsp, cmnd.h.ox_id,
                rx),
         p);
}

// The host's WRITE of `blocks` at VSEG block `vseg_lba`: one FCP_CMND per
// side, each checked field by field; returned in side order.
std::vector<Frame> write_cmnds(FpFixture& t, uint16_t ox, uint64_t vseg_lba, uint32_t blocks,
                               uint32_t sides) {
  t.host_rw(ox, true, kVsegStart + vseg_lba, blocks);
  t.run();
  std::vector<Frame> cmnds(sides);
  std::vector<bool> seen(sides, false);
  for (uint32_t i = 0; i < sides; ++i) {
    const Frame f = t.expect_frame();
    const uint32_t s = side_of(f);
    EXPECT_FALSE(seen[s]) << "two commands to side " << s;
    seen[s] = true;
    EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataUnsolicitedCmd);
    EXPECT_EQ(f.h.s_id.value, kVi);
    EXPECT_EQ(f.h.f_ctl, kFctlCmnd);
    EXPECT_EQ(f.h.rx_id, fc::kUnassignedXid);
    const fc::FcpCmnd c = FpFixture::decode_cmnd(f);
    EXPECT_EQ(*fc::decode_lun(c.lun), kSideLun[s]);
    EXPECT_TRUE(c.wrdata);
    EXPECT_FALSE(c.rddata);
    EXPECT_EQ(c.fcp_dl, blocks * kBlock);
    const fc::ScsiCommand scsi = FpFixture::decode_scsi(f);
    EXPECT_EQ(scsi.opcode, fc::scsi_op::kWrite16);
    EXPECT_EQ(scsi.lba, kSideStart[s] + vseg_lba);
    EXPECT_EQ(scsi.transfer_length, blocks);
    cmnds[s] = f;
  }
  EXPECT_TRUE(t.tx_idle());
  for (uint32_t i = 0; i + 1 < sides; ++i)
    EXPECT_NE(cmnds[i].h.ox_id, cmnds[i + 1].h.ox_id);
  return cmnds;
}

// The host's data frame at `offset` and one copy on each side, checked.
void host_data_to_sides(FpFixture& t, const Frame& host_xfer_rdy, const std::vector<Frame>& cmnds,
                        const std::vector<uint16_t>& rx, uint32_t offset,
                        const std::vector<uint8_t>& data, bool last) {
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost, data_fctl(false, last),
                host_xfer_rdy.h.ox_id, host_xfer_rdy.h.rx_id, offset),
         data);
  t.run();
  std::vector<bool> seen(cmnds.size(), false);
  for (size_t i = 0; i < cmnds.size(); ++i) {
    const Frame f = t.expect_frame();
    const uint32_t s = side_of(f);
    EXPECT_FALSE(seen[s]);
    seen[s] = true;
    EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataSolicitedData);
    EXPECT_EQ(f.h.s_id.value, kVi);
    EXPECT_EQ(f.h.ox_id, cmnds[s].h.ox_id);
    EXPECT_EQ(f.h.rx_id, rx[s]);
    EXPECT_TRUE(f.h.f_ctl & fc::fctl::kRelativeOffsetPresent);
    EXPECT_EQ(f.h.parameter, offset);
    EXPECT_EQ(f.payload, data) << "side " << s;
  }
  EXPECT_TRUE(t.tx_idle());
}

Frame expect_host_xfer_rdy(FpFixture& t, uint32_t offset, uint32_t length) {
  const Frame f = t.expect_frame();
  EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataDataDescriptor);
  EXPECT_EQ(f.h.d_id.value, kHost);
  EXPECT_EQ(f.h.s_id.value, kTarget);
  EXPECT_EQ(f.h.f_ctl, kFctlXferRdy);
  const auto x = fc::decode_fcp_xfer_rdy(f.payload);
  EXPECT_TRUE(x.ok());
  if (x.ok()) {
    EXPECT_EQ(x->relative_offset, offset);
    EXPECT_EQ(x->burst_length, length);
  }
  return f;
}

TEST(FpMirror, DescriptorCodec) {
  map::StorageDescriptor d;
  ASSERT_TRUE(map::StorageDescriptor::make_mirror(
      mirror_of(3, {7, 1, 200},
                {map::SideState::kAlive, map::SideState::kDead, map::SideState::kResync}),
      &d));
  EXPECT_EQ(d.kind, map::StorageKind::kMirror);
  EXPECT_TRUE(d.valid());
  EXPECT_EQ(d.element_count(), 3u);
  EXPECT_EQ(d.mirror_sides(), 3u);
  // Big-endian elements from byte 8; the side field's high byte is the
  // state, the low byte the read cost.
  EXPECT_EQ(d.payload[0], 3);
  const size_t e2 =
      map::StorageDescriptor::kHeaderBytes + 2 * map::StorageDescriptor::kElementBytes;
  EXPECT_EQ(d.payload[e2 + 1], 0x01);
  EXPECT_EQ(d.payload[e2 + 2], 0x05);
  EXPECT_EQ(d.payload[e2 + 5], 7);    // LUN
  EXPECT_EQ(d.payload[e2 + 6], 2);    // RESYNC
  EXPECT_EQ(d.payload[e2 + 7], 200);  // read cost
  EXPECT_EQ(d.payload[e2 + 14], 900 >> 8);
  EXPECT_EQ(d.payload[e2 + 15], 900 & 0xFF);
  map::MirrorStorage back;
  ASSERT_TRUE(d.mirror(&back));
  EXPECT_EQ(back.sides, 3);
  EXPECT_EQ(back.side[1].state, map::SideState::kDead);
  EXPECT_EQ(back.side[2].read_cost, 200);
  EXPECT_EQ(back.side[2].storage, (map::StorageElement{kSideDisk[2], 7, 0, 900}));
  // Where a block lives on each side; no single element for locate().
  EXPECT_EQ(d.locate(5).status, map::LocateStatus::kUnsupported);
  EXPECT_EQ(d.locate_side(2, 5).target.start_lba, 905u);
  EXPECT_EQ(d.locate_side(3, 5).status, map::LocateStatus::kUnsupported);
  // Only side 0 is readable (1 dead, 2 resynchronizing).
  for (uint32_t turn = 0; turn < 4; ++turn)
    EXPECT_EQ(d.read_side(turn), 0);
  // Malformed: 1 or 9 sides, an unknown state.
  EXPECT_FALSE(map::StorageDescriptor::make_mirror(mirror_of(1), &d));
  map::MirrorStorage nine = mirror_of(3);
  nine.sides = 9;
  EXPECT_FALSE(map::StorageDescriptor::make_mirror(nine, &d));
  ASSERT_TRUE(map::StorageDescriptor::make_mirror(mirror_of(2), &d));
  d.payload[map::StorageDescriptor::kHeaderBytes + 6] = 3;
  EXPECT_FALSE(d.valid());
  EXPECT_EQ(d.element_count(), 0u);
}

TEST(FpMirror, MalformedMirrorIsRefused) {
  FpFixture t;
  t.bring_up();
  fpapi::FpMapping r = FpFixture::redirect_mapping(kVsegId, 0);
  ASSERT_TRUE(map::StorageDescriptor::make_mirror(mirror_of(2), &r.redirect.descriptor));
  r.redirect.descriptor.payload[0] = 1;  // one side
  t.cp_send(r, MsgType::kFpReplaceMapping);
  t.run();
  EXPECT_EQ(t.cp_expect<fpapi::FpReply>().status, fpapi::ApiStatus::kInvalid);
}

// A write split to `sides` sides, end to end, with XFER_RDY gating: side 1
// asks for half the data first, so the host is asked for that half only.
void split_write(uint32_t sides) {
  FpFixture t;
  mirror_up(t, mirror_of(sides));
  const std::vector<Frame> cmnds = write_cmnds(t, 0x100, 40, 8, sides);
  std::vector<uint16_t> rx;
  for (uint32_t s = 0; s < sides; ++s)
    rx.push_back(static_cast<uint16_t>(0x70 + s));
  // Every side but side 1 is ready; the host is not asked yet.
  side_xfer_rdy(t, cmnds[0], rx[0], 0, 4096);
  for (uint32_t s = 2; s < sides; ++s)
    side_xfer_rdy(t, cmnds[s], rx[s], 0, 4096);
  t.run();
  EXPECT_TRUE(t.tx_idle()) << "the host was asked for data before every side was ready";
  side_xfer_rdy(t, cmnds[1], rx[1], 0, 2048);
  t.run();
  // All ready, side 1 for the first half only.
  const Frame x1 = expect_host_xfer_rdy(t, 0, 2048);
  EXPECT_EQ(x1.h.ox_id, 0x100);
  EXPECT_TRUE(t.tx_idle());
  const std::vector<uint8_t> data = pattern(4096, 9);
  host_data_to_sides(t, x1, cmnds, rx, 0, std::vector<uint8_t>(data.begin(), data.begin() + 2048),
                     false);
  side_xfer_rdy(t, cmnds[1], rx[1], 2048, 2048);
  t.run();
  const Frame x2 = expect_host_xfer_rdy(t, 2048, 2048);
  EXPECT_EQ(x2.h.rx_id, x1.h.rx_id);
  host_data_to_sides(t, x2, cmnds, rx, 2048, std::vector<uint8_t>(data.begin() + 2048, data.end()),
                     true);
  // GOOD from every side but one: the host waits.
  for (uint32_t s = 0; s + 1 < sides; ++s)
    side_rsp(t, cmnds[s], rx[s], fc::scsi_status::kGood);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  EXPECT_EQ(t.fp.statistics().upstream_pending, 1u);
  side_rsp(t, cmnds[sides - 1], rx[sides - 1], fc::scsi_status::kGood);
  t.run();
  const Frame rsp = t.expect_frame();
  EXPECT_EQ(rsp.h.d_id.value, kHost);
  EXPECT_EQ(rsp.h.ox_id, 0x100);
  EXPECT_EQ(rsp.h.rx_id, x1.h.rx_id);
  EXPECT_EQ(FpFixture::decode_rsp(rsp).scsi_status, fc::scsi_status::kGood);
  EXPECT_TRUE(t.cp_idle());
  const fpapi::FpStatistics st = t.fp.statistics();
  EXPECT_EQ(st.fp_completed, 1u);
  EXPECT_EQ(st.upstream_pending, 0u);
  EXPECT_EQ(st.downstream_pending, 0u);
  EXPECT_EQ(st.write_bytes, 4096u * sides);
}

TEST(FpMirror, WriteSplitToTwoSides) {
  split_write(2);
}

TEST(FpMirror, WriteSplitToThreeSides) {
  split_write(3);
}

TEST(FpMirror, DeadSideGetsNoWrite) {
  FpFixture t;
  mirror_up(t, mirror_of(3, {0, 0, 0},
                         {map::SideState::kAlive, map::SideState::kDead, map::SideState::kResync}));
  t.host_rw(0x100, true, kVsegStart, 2);
  t.run();
  std::vector<uint32_t> to;
  Frame f;
  while (t.pop(&f))
    to.push_back(f.h.d_id.value);
  std::sort(to.begin(), to.end());
  EXPECT_EQ(to, (std::vector<uint32_t>{kSideDisk[0], kSideDisk[2]}));
}

TEST(FpMirror, FailingSideHandsTheWriteToTheCp) {
  FpFixture t;
  mirror_up(t, mirror_of(2));
  const std::vector<Frame> cmnds = write_cmnds(t, 0x200, 0, 4, 2);
  side_xfer_rdy(t, cmnds[0], 0x70, 0, 2048);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  // Side 1 fails before asking for data: side 0 is aborted, the CP decides.
  // Fixed-format sense: MEDIUM ERROR, WRITE ERROR (0C/00).
  std::vector<uint8_t> sense(18, 0);
  sense[0] = 0x70;
  sense[2] = fc::sense_key::kMediumError;
  sense[7] = 10;
  sense[12] = 0x0C;
  side_rsp(t, cmnds[1], 0x71, fc::scsi_status::kCheckCondition, sense);
  t.run();
  const Frame abts = t.expect_frame();
  EXPECT_EQ(abts.h.r_ctl, fc::rctl::kBlsAbts);
  EXPECT_EQ(abts.h.d_id.value, kSideDisk[0]);
  EXPECT_EQ(abts.h.ox_id, cmnds[0].h.ox_id);
  EXPECT_TRUE(t.tx_idle()) << "nothing goes to the host";
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  EXPECT_EQ(q.reason, FaultKind::kDownstreamError);
  EXPECT_EQ(q.io.ox_id, 0x200);
  EXPECT_EQ(q.downstream_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(std::vector<uint8_t>(q.sense.view().begin(), q.sense.view().end()), sense);
  EXPECT_EQ(t.fp.statistics().downstream_pending, 0u);
  // A late frame from the aborted side is dropped, never relayed.
  side_rsp(t, cmnds[0], 0x70, fc::scsi_status::kGood);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  // The CP answers the host.
  fpapi::FpQueueIOComplete c;
  c.utag = q.io.utag;
  c.scsi_status = fc::scsi_status::kCheckCondition;
  c.sense.assign(sense);
  t.cp_send(c);
  t.run();
  EXPECT_EQ(FpFixture::decode_rsp(t.expect_frame()).scsi_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(t.fp.statistics().upstream_pending, 0u);
}

TEST(FpMirror, SideFailingAfterOthersSucceededStillGoesToTheCp) {
  FpFixture t;
  mirror_up(t, mirror_of(2));
  const std::vector<Frame> cmnds = write_cmnds(t, 0x210, 0, 1, 2);
  side_xfer_rdy(t, cmnds[0], 0x70, 0, 512);
  side_xfer_rdy(t, cmnds[1], 0x71, 0, 512);
  t.run();
  const Frame x = expect_host_xfer_rdy(t, 0, 512);
  host_data_to_sides(t, x, cmnds, {0x70, 0x71}, 0, pattern(512, 3), true);
  side_rsp(t, cmnds[0], 0x70, fc::scsi_status::kGood);
  side_rsp(t, cmnds[1], 0x71, fc::scsi_status::kBusy);
  t.run();
  EXPECT_TRUE(t.tx_idle()) << "no GOOD while a side failed";
  EXPECT_EQ(t.cp_expect<fpapi::CpQueueIO>().downstream_status, fc::scsi_status::kBusy);
}

// A read to a mirror goes to one side: which one, for `count` reads.
std::vector<uint32_t> read_sides(FpFixture& t, int count) {
  std::vector<uint32_t> out;
  for (int i = 0; i < count; ++i) {
    t.host_rw(static_cast<uint16_t>(0x300 + i), false, kVsegStart + 16, 2);
    t.run();
    const Frame cmnd = t.expect_frame();
    EXPECT_TRUE(t.tx_idle()) << "a read goes to one side";
    const uint32_t s = side_of(cmnd);
    out.push_back(s);
    const fc::ScsiCommand scsi = FpFixture::decode_scsi(cmnd);
    EXPECT_EQ(scsi.opcode, fc::scsi_op::kRead16);
    EXPECT_EQ(scsi.lba, kSideStart[s] + 16);
    const std::vector<uint8_t> data = pattern(1024, static_cast<uint8_t>(i));
    t.push(header(fc::rctl::kDeviceDataSolicitedData, kVi, kSideDisk[s], data_fctl(true, true),
                  cmnd.h.ox_id, 0x20, 0),
           data);
    t.run();
    EXPECT_EQ(t.expect_frame().payload, data);
    side_rsp(t, cmnd, 0x20, fc::scsi_status::kGood);
    t.run();
    EXPECT_EQ(FpFixture::decode_rsp(t.expect_frame()).scsi_status, fc::scsi_status::kGood);
  }
  return out;
}

TEST(FpMirror, ReadsRoundRobinAmongTheCheapestReadableSides) {
  {
    FpFixture t;
    mirror_up(t, mirror_of(3, {5, 1, 1}));
    EXPECT_EQ(read_sides(t, 5), (std::vector<uint32_t>{1, 2, 1, 2, 1}));
  }
  {
    FpFixture t;
    mirror_up(t, mirror_of(3));
    EXPECT_EQ(read_sides(t, 4), (std::vector<uint32_t>{0, 1, 2, 0}));
  }
  {
    // The cheapest side is dead: reads go to the next cheapest readable one.
    FpFixture t;
    mirror_up(t,
              mirror_of(3, {5, 1, 9},
                        {map::SideState::kAlive, map::SideState::kDead, map::SideState::kAlive}));
    EXPECT_EQ(read_sides(t, 3), (std::vector<uint32_t>{0, 0, 0}));
  }
}

TEST(FpMirror, OverlappingWriteFaultsForSerialization) {
  FpFixture t;
  mirror_up(t, mirror_of(2));
  (void)write_cmnds(t, 0x400, 100, 8, 2);  // [100, 108) outstanding
  // Overlapping: to the CP, not split.
  t.host_rw(0x401, true, kVsegStart + 104, 8);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  EXPECT_EQ(q.reason, FaultKind::kSerialization);
  EXPECT_EQ(q.io.ox_id, 0x401);
  // A write overlapping that queued one (but not the first) faults too: the
  // CP serializes it behind it.
  t.host_rw(0x402, true, kVsegStart + 110, 2);
  t.run();
  EXPECT_EQ(t.cp_expect<fpapi::CpQueueIO>().reason, FaultKind::kSerialization);
  // Neither a write elsewhere nor an overlapping read is held back.
  (void)write_cmnds(t, 0x403, 200, 8, 2);
  t.host_rw(0x404, false, kVsegStart + 100, 8);
  t.run();
  EXPECT_EQ(side_of(t.expect_frame()), 0u);
  EXPECT_TRUE(t.cp_idle());
  EXPECT_EQ(t.fp.statistics().faults[static_cast<size_t>(FaultKind::kSerialization)], 2u);
}

TEST(FpMirror, SerializationEndsWithTheWrite) {
  FpFixture t;
  mirror_up(t, mirror_of(2));
  const std::vector<Frame> cmnds = write_cmnds(t, 0x500, 0, 1, 2);
  side_xfer_rdy(t, cmnds[0], 0x70, 0, 512);
  side_xfer_rdy(t, cmnds[1], 0x71, 0, 512);
  t.run();
  const Frame x = expect_host_xfer_rdy(t, 0, 512);
  host_data_to_sides(t, x, cmnds, {0x70, 0x71}, 0, pattern(512, 1), true);
  side_rsp(t, cmnds[0], 0x70, fc::scsi_status::kGood);
  side_rsp(t, cmnds[1], 0x71, fc::scsi_status::kGood);
  t.run();
  EXPECT_EQ(FpFixture::decode_rsp(t.expect_frame()).scsi_status, fc::scsi_status::kGood);
  // The same blocks again: split on the FP, nothing outstanding overlaps.
  (void)write_cmnds(t, 0x501, 0, 1, 2);
  EXPECT_TRUE(t.cp_idle());
}

TEST(FpMirror, SerializationCanBeSkippedForTests) {
  FastPathConfig c = default_fp_config();
  c.skip_serialization_for_testing = true;
  FpFixture t(default_port_config(), c);
  mirror_up(t, mirror_of(2));
  (void)write_cmnds(t, 0x400, 100, 8, 2);
  (void)write_cmnds(t, 0x401, 104, 8, 2);
  EXPECT_TRUE(t.cp_idle());
}

TEST(FpMirror, CpLegsSentAsCopiesAreGatedAndFannedOut) {
  FpFixture t;
  t.bring_up(0);  // no extent: the write misses
  t.host_rw(0x600, true, kVsegStart, 2);
  t.run();
  const auto miss = t.cp_expect<fpapi::CpMappingMiss>();
  fpapi::CpMappingMissReply mr;
  mr.utag = miss.utag;
  mr.action = fpapi::MissAction::kQueue;
  t.cp_send(mr);
  t.run();
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  std::vector<Frame> cmnds;
  for (uint32_t s = 0; s < 2; ++s) {
    fpapi::FpDispatchIO d;
    d.dtag = 70 + s;
    d.utag = q.io.utag;
    d.target_id = kSideDisk[s];
    d.lun = kSideLun[s];
    d.direction = fpapi::DataDirection::kWrite;
    d.cdb_length = 16;
    d.data_length = 1024;
    d.copies = 2;
    const fc::ScsiCommand w = fc::make_rw(fc::scsi_op::kWrite16, kSideStart[s], 2);
    (void)fc::encode_cdb(w, fc::MutableBytes(d.cdb.data(), d.cdb.size()));
    t.cp_send(d);
    t.run();
    cmnds.push_back(t.expect_frame());
    EXPECT_EQ(cmnds.back().h.d_id.value, kSideDisk[s]);
    // Side 0 is ready before side 1 is even dispatched: the host waits.
    if (s == 0) {
      side_xfer_rdy(t, cmnds[0], 0x70, 0, 1024);
      t.run();
      EXPECT_TRUE(t.tx_idle());
    }
  }
  side_xfer_rdy(t, cmnds[1], 0x71, 0, 1024);
  t.run();
  const Frame x = expect_host_xfer_rdy(t, 0, 1024);
  host_data_to_sides(t, x, cmnds, {0x70, 0x71}, 0, pattern(1024, 4), true);
  side_rsp(t, cmnds[0], 0x70, fc::scsi_status::kGood);
  side_rsp(t, cmnds[1], 0x71, fc::scsi_status::kGood);
  t.run();
  EXPECT_EQ(t.cp_expect<fpapi::CpDispatchIOComplete>().dtag, 70u);
  EXPECT_EQ(t.cp_expect<fpapi::CpDispatchIOComplete>().dtag, 71u);
}

TEST(FpMirror, CpCopyFailingAbortsItsSibling) {
  FpFixture t;
  t.bring_up(0);
  t.host_rw(0x610, true, kVsegStart, 2);
  t.run();
  fpapi::CpMappingMissReply mr;
  mr.utag = t.cp_expect<fpapi::CpMappingMiss>().utag;
  t.cp_send(mr);
  t.run();
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  std::vector<Frame> cmnds;
  for (uint32_t s = 0; s < 2; ++s) {
    fpapi::FpDispatchIO d;
    d.dtag = 80 + s;
    d.utag = q.io.utag;
    d.target_id = kSideDisk[s];
    d.direction = fpapi::DataDirection::kWrite;
    d.cdb_length = 16;
    d.data_length = 1024;
    d.copies = 2;
    t.cp_send(d);
    t.run();
    cmnds.push_back(t.expect_frame());
  }
  side_rsp(t, cmnds[1], 0x71, fc::scsi_status::kCheckCondition);
  t.run();
  const auto aborted = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(aborted.dtag, 80u);
  EXPECT_EQ(aborted.transport_error, 1);
  const auto failed = t.cp_expect<fpapi::CpDispatchIOComplete>();
  EXPECT_EQ(failed.dtag, 81u);
  EXPECT_EQ(failed.scsi_status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(t.expect_frame().h.r_ctl, fc::rctl::kBlsAbts);
}

// Polls until idle, counting the heap allocations made inside the firmware.
uint64_t counted_run(FpFixture& t) {
  uint64_t n = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t before = splitpath::testing::allocation_count();
    const bool more = t.fp.poll();
    n += splitpath::testing::allocation_count() - before;
    if (!more) break;
  }
  return n;
}

TEST(FpMirror, SplitPathAllocatesNothing) {
  FpFixture t;
  mirror_up(t, mirror_of(3));
  uint64_t allocations = 0;
  const std::vector<uint8_t> data = pattern(1024, 5);
  for (uint16_t i = 0; i < 10; ++i) {
    const uint16_t ox = static_cast<uint16_t>(0x700 + i);
    t.host_rw(ox, true, kVsegStart + i * 2, 2);
    allocations += counted_run(t);
    std::vector<Frame> cmnds;
    for (uint32_t s = 0; s < kSides; ++s)
      cmnds.push_back(t.expect_frame());
    for (uint32_t s = 0; s < kSides; ++s)
      side_xfer_rdy(t, cmnds[s], static_cast<uint16_t>(0x70 + s), 0, 1024);
    allocations += counted_run(t);
    const Frame x = t.expect_frame();
    t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost, data_fctl(false, true), ox,
                  x.h.rx_id, 0),
           data);
    allocations += counted_run(t);
    for (uint32_t s = 0; s < kSides; ++s)
      (void)t.expect_frame();
    for (uint32_t s = 0; s < kSides; ++s)
      side_rsp(t, cmnds[s], static_cast<uint16_t>(0x70 + s), fc::scsi_status::kGood);
    allocations += counted_run(t);
    EXPECT_EQ(FpFixture::decode_rsp(t.expect_frame()).scsi_status, fc::scsi_status::kGood);
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(t.fp.statistics().fp_completed, 10u);
}

}  // namespace
}  // namespace splitpath::fp::testing
