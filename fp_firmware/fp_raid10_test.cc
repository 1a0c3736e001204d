// The stripe of mirrors (RAID 10) on the FP: the descriptor's codec and
// column-major layout; an I/O inside one stripe unit goes to the column the
// shift and mask pick, a READ to one readable side of that column (round
// robin among the cheapest), a WRITE split to every writable side of it at
// the column block (XFER_RDY gating, data fan-out, GOOD once every side
// answered); an I/O crossing stripe units faults kSpansStripeUnits; a DEAD
// side gets neither writes nor reads; overlapping writes fault for
// serialization as for a mirror.
#include <gtest/gtest.h>

#include <algorithm>

#include "fp_firmware/fp_test_fixture.h"

namespace splitpath::fp::testing {
namespace {

using fpapi::FaultKind;

constexpr uint32_t kColumns = 2;
constexpr uint32_t kSides = 3;  // per column
constexpr uint8_t kUnitShift = 4;
constexpr uint64_t kUnit = uint64_t{1} << kUnitShift;
// Element c * kSides + s is side s of column c.
constexpr uint32_t kDiskOf[kColumns * kSides] = {0x010200, 0x010400, 0x010500,
                                                 0x010600, 0x010700, 0x010800};
constexpr uint16_t kLunOf[kColumns * kSides] = {3, 0, 7, 1, 2, 4};
constexpr uint64_t kStartOf[kColumns * kSides] = {50000, 0, 900, 128, 7000, 31};

using Costs = std::array<uint8_t, kColumns * kSides>;
using States = std::array<map::SideState, kColumns * kSides>;
constexpr States kAllAlive = {map::SideState::kAlive, map::SideState::kAlive,
                              map::SideState::kAlive, map::SideState::kAlive,
                              map::SideState::kAlive, map::SideState::kAlive};

map::StripeOfMirrorsStorage raid10(Costs cost = {}, States state = kAllAlive) {
  map::StripeOfMirrorsStorage s;
  s.columns = kColumns;
  s.sides = kSides;
  s.unit_shift = kUnitShift;
  for (uint32_t c = 0; c < kColumns; ++c) {
    s.column[c].sides = kSides;
    for (uint32_t i = 0; i < kSides; ++i) {
      const uint32_t e = c * kSides + i;
      s.column[c].side[i].storage = {kDiskOf[e], kLunOf[e], 0, kStartOf[e]};
      s.column[c].side[i].read_cost = cost[e];
      s.column[c].side[i].state = state[e];
    }
  }
  return s;
}

// Replaces the fixture's simple redirect entry 0 with `s`.
void raid10_up(FpFixture& t, const map::StripeOfMirrorsStorage& s) {
  t.bring_up();
  fpapi::FpMapping r = FpFixture::redirect_mapping(kVsegId, 0);
  ASSERT_TRUE(map::StorageDescriptor::make_stripe_of_mirrors(s, &r.redirect.descriptor));
  t.call_ok(r, MsgType::kFpReplaceMapping);
}

// Worked out by hand: unit u = b / 16 is on column u % 2 at column block
// (u / 2) * 16 + b % 16, on every side of that column.
struct Expected {
  uint32_t column;
  uint64_t column_lba;
};
Expected by_hand(uint64_t vseg_lba) {
  const uint64_t u = vseg_lba / kUnit;
  return {static_cast<uint32_t>(u % kColumns), (u / kColumns) * kUnit + vseg_lba % kUnit};
}

// The element a frame went to.
uint32_t element_of(const Frame& f) {
  for (uint32_t e = 0; e < kColumns * kSides; ++e)
    if (f.h.d_id.value == kDiskOf[e]) return e;
  ADD_FAILURE() << "frame to " << f.h.d_id.value << " is not to an element";
  return 0;
}

void element_xfer_rdy(FpFixture& t, const Frame& cmnd, uint16_t rx, uint32_t offset, uint32_t len) {
  uint8_t x[fc::kFcpXferRdySize];
  ASSERT_TRUE(fc::encode_fcp_xfer_rdy({offset, len}, x).ok());
  t.push(header(fc::rctl::kDeviceDataDataDescriptor, kVi, cmnd.h.d_id.value, kFctlXferRdy,
                cmnd.h.ox_id, rx),
         x);
}

void element_rsp(FpFixture& t, const Frame& cmnd, uint16_t rx, uint8_t status) {
  fc::FcpRsp r;
  r.scsi_status = status;
  std::vector<uint8_t> p(fc::fcp_rsp_size(r));
  ASSERT_TRUE(fc::encode_fcp_rsp(r, p).ok());
  t.push(header(fc::rctl::kDeviceDataCommandStatus, kVi, cmnd.h.d_id.value, kFctlRsp, cmnd.h.ox_id,
                rx),
         p);
}

// The host's WRITE of `blocks` at VSEG block `vseg_lba`: one WRITE(16) per
// element in `expected` (checked field by field), returned in that order.
std::vector<Frame> write_cmnds(FpFixture& t, uint16_t ox, uint64_t vseg_lba, uint32_t blocks,
                               const std::vector<uint32_t>& expected) {
  t.host_rw(ox, true, kVsegStart + vseg_lba, blocks);
  t.run();
  std::vector<Frame> cmnds(expected.size());
  std::vector<uint32_t> got;
  Frame f;
  while (t.pop(&f)) {
    const uint32_t e = element_of(f);
    got.push_back(e);
    EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataUnsolicitedCmd);
    EXPECT_EQ(f.h.s_id.value, kVi);
    const fc::FcpCmnd c = FpFixture::decode_cmnd(f);
    EXPECT_EQ(*fc::decode_lun(c.lun), kLunOf[e]);
    EXPECT_TRUE(c.wrdata);
    EXPECT_EQ(c.fcp_dl, blocks * kBlock);
    const fc::ScsiCommand scsi = FpFixture::decode_scsi(f);
    EXPECT_EQ(scsi.opcode, fc::scsi_op::kWrite16);
    EXPECT_EQ(scsi.lba, kStartOf[e] + by_hand(vseg_lba).column_lba) << "element " << e;
    EXPECT_EQ(scsi.transfer_length, blocks);
    const auto at = std::find(expected.begin(), expected.end(), e);
    if (at != expected.end()) cmnds[static_cast<size_t>(at - expected.begin())] = f;
  }
  std::vector<uint32_t> sorted = got;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, expected) << "the write goes to exactly these elements";
  return cmnds;
}

// `count` reads of 2 blocks at VSEG block `vseg_lba`, each answered with
// data and GOOD: the element each one went to.
std::vector<uint32_t> read_elements(FpFixture& t, uint64_t vseg_lba, int count) {
  std::vector<uint32_t> out;
  for (int i = 0; i < count; ++i) {
    t.host_rw(static_cast<uint16_t>(0x300 + i), false, kVsegStart + vseg_lba, 2);
    t.run();
    const Frame cmnd = t.expect_frame();
    EXPECT_TRUE(t.tx_idle()) << "a read goes to one side";
    const uint32_t e = element_of(cmnd);
    out.push_back(e);
    const fc::ScsiCommand scsi = FpFixture::decode_scsi(cmnd);
    EXPECT_EQ(scsi.opcode, fc::scsi_op::kRead16);
    EXPECT_EQ(scsi.lba, kStartOf[e] + by_hand(vseg_lba).column_lba);
    EXPECT_EQ(*fc::decode_lun(FpFixture::decode_cmnd(cmnd).lun), kLunOf[e]);
    const std::vector<uint8_t> data = pattern(1024, static_cast<uint8_t>(i));
    t.push(header(fc::rctl::kDeviceDataSolicitedData, kVi, kDiskOf[e], data_fctl(true, true),
                  cmnd.h.ox_id, 0x20, 0),
           data);
    t.run();
    EXPECT_EQ(t.expect_frame().payload, data);
    element_rsp(t, cmnd, 0x20, fc::scsi_status::kGood);
    t.run();
    EXPECT_EQ(FpFixture::decode_rsp(t.expect_frame()).scsi_status, fc::scsi_status::kGood);
  }
  return out;
}

TEST(FpRaid10, DescriptorCodec) {
  map::StorageDescriptor d;
  ASSERT_TRUE(map::StorageDescriptor::make_stripe_of_mirrors(
      raid10({0, 0, 0, 9, 0, 200},
             {map::SideState::kAlive, map::SideState::kAlive, map::SideState::kAlive,
              map::SideState::kAlive, map::SideState::kDead, map::SideState::kResync}),
      &d));
  EXPECT_EQ(d.kind, map::StorageKind::kStripeOfMirrors);
  EXPECT_TRUE(d.valid());
  EXPECT_TRUE(d.mirrored());
  EXPECT_EQ(d.element_count(), kColumns * kSides);
  EXPECT_EQ(d.sides_per_column(), kSides);
  EXPECT_EQ(d.mirror_sides(), 0u) << "not a mirror itself: per column";
  // Header: element count, log2 unit, sides per column.
  EXPECT_EQ(d.payload[0], kColumns * kSides);
  EXPECT_EQ(d.payload[1], kUnitShift);
  EXPECT_EQ(d.payload[2], kSides);
  // Column-major elements, big-endian, state and read cost in the side field.
  for (uint32_t e = 0; e < kColumns * kSides; ++e) {
    EXPECT_EQ(d.element(e).port_id, kDiskOf[e]);
    EXPECT_EQ(d.element(e).start_lba, kStartOf[e]);
  }
  const size_t e5 =
      map::StorageDescriptor::kHeaderBytes + 5 * map::StorageDescriptor::kElementBytes;
  EXPECT_EQ(d.payload[e5 + 1], 0x01);
  EXPECT_EQ(d.payload[e5 + 2], 0x08);
  EXPECT_EQ(d.payload[e5 + 6], 2);    // RESYNC
  EXPECT_EQ(d.payload[e5 + 7], 200);  // read cost
  map::StripeOfMirrorsStorage back;
  ASSERT_TRUE(d.stripe_of_mirrors(&back));
  EXPECT_EQ(back.columns, kColumns);
  EXPECT_EQ(back.sides, kSides);
  EXPECT_EQ(back.unit_shift, kUnitShift);
  EXPECT_EQ(back.column[1].side[1].state, map::SideState::kDead);
  EXPECT_EQ(back.column[1].side[0].read_cost, 9);
  EXPECT_EQ(back.column[1].side[2].storage, (map::StorageElement{kDiskOf[5], kLunOf[5], 0, 31}));
  // No single element holds a block; the column by shift and mask.
  EXPECT_EQ(d.locate(5).status, map::LocateStatus::kUnsupported);
  for (uint64_t b : {0ull, 5ull, 15ull, 16ull, 31ull, 32ull, 47ull, 49ull, 1000ull, (1ull << 40)}) {
    const map::Location l = d.locate_column(b);
    ASSERT_EQ(l.status, map::LocateStatus::kOk);
    EXPECT_EQ(l.element, by_hand(b).column) << b;
    EXPECT_EQ(l.target.start_lba, by_hand(b).column_lba) << b;
    EXPECT_EQ(l.run, kUnit - b % kUnit) << b;
  }
  // Column 1 viewed as a mirror: its sides, the mirror accessors on it.
  const map::StorageDescriptor col = d.column_mirror(1);
  EXPECT_EQ(col.kind, map::StorageKind::kMirror);
  EXPECT_EQ(col.mirror_sides(), kSides);
  EXPECT_EQ(col.locate_side(2, 7).target, (map::StorageElement{kDiskOf[5], kLunOf[5], 0, 38}));
  for (uint32_t turn = 0; turn < 3; ++turn)
    EXPECT_EQ(col.read_side(turn), 0) << "side 1 dead, side 2 resynchronizing";
  EXPECT_EQ(d.column_mirror(2).kind, map::StorageKind::kNone);
  // 37 blocks over 2 columns of 16-block units: column 0 holds units 0 and 2
  // (16 + 5 blocks), column 1 unit 1.
  EXPECT_EQ(back.column_blocks(37, 0), 21u);
  EXPECT_EQ(back.column_blocks(37, 1), 16u);
}

TEST(FpRaid10, BadLayoutsAreNotBuilt) {
  map::StorageDescriptor d;
  map::StripeOfMirrorsStorage s = raid10();
  s.sides = 1;  // a column of one side is no mirror
  s.column[0].sides = s.column[1].sides = 1;
  EXPECT_FALSE(map::StorageDescriptor::make_stripe_of_mirrors(s, &d));
  s = raid10();
  s.column[1].sides = 2;  // the columns differ
  EXPECT_FALSE(map::StorageDescriptor::make_stripe_of_mirrors(s, &d));
  s = raid10();
  s.columns = 3;  // 3 x 3 = 9 elements
  s.column[2] = s.column[0];
  EXPECT_FALSE(map::StorageDescriptor::make_stripe_of_mirrors(s, &d));
  s = raid10();
  s.unit_shift = map::kMaxStripeUnitShift + 1;
  EXPECT_FALSE(map::StorageDescriptor::make_stripe_of_mirrors(s, &d));
  s = raid10();
  s.columns = 0;
  EXPECT_FALSE(map::StorageDescriptor::make_stripe_of_mirrors(s, &d));
  EXPECT_EQ(d.kind, map::StorageKind::kNone);
  // Malformed payloads: not a whole number of columns, one side per column,
  // an unknown side state.
  ASSERT_TRUE(map::StorageDescriptor::make_stripe_of_mirrors(raid10(), &d));
  map::StorageDescriptor bad = d;
  bad.payload[0] = 5;
  EXPECT_FALSE(bad.valid());
  EXPECT_EQ(bad.element_count(), 0u);
  bad = d;
  bad.payload[2] = 1;
  EXPECT_FALSE(bad.valid());
  bad = d;
  bad.payload[map::StorageDescriptor::kHeaderBytes + 4 * map::StorageDescriptor::kElementBytes +
              6] = 7;
  EXPECT_FALSE(bad.valid());
  EXPECT_EQ(bad.column_mirror(0).kind, map::StorageKind::kNone);
}

TEST(FpRaid10, MalformedDescriptorIsRefused) {
  FpFixture t;
  t.bring_up();
  fpapi::FpMapping r = FpFixture::redirect_mapping(kVsegId, 0);
  ASSERT_TRUE(map::StorageDescriptor::make_stripe_of_mirrors(raid10(), &r.redirect.descriptor));
  r.redirect.descriptor.payload[2] = 4;  // 6 elements are not columns of 4 sides
  t.cp_send(r, MsgType::kFpReplaceMapping);
  t.run();
  EXPECT_EQ(t.cp_expect<fpapi::FpReply>().status, fpapi::ApiStatus::kInvalid);
}

TEST(FpRaid10, ReadsGoToTheirColumnRoundRobinAmongItsSides) {
  {
    FpFixture t;
    raid10_up(t, raid10());
    // Unit 1 is column 1 (elements 3-5); unit 2 is column 0, second row.
    EXPECT_EQ(read_elements(t, 16 + 3, 4), (std::vector<uint32_t>{3, 4, 5, 3}));
    EXPECT_EQ(read_elements(t, 32 + 14, 3), (std::vector<uint32_t>{1, 2, 0}));
    EXPECT_TRUE(t.cp_idle());
  }
  {
    // The cheapest sides of column 0 are 1 and 2: reads alternate between them.
    FpFixture t;
    raid10_up(t, raid10({5, 1, 1, 0, 0, 0}));
    EXPECT_EQ(read_elements(t, 64 + 1, 4), (std::vector<uint32_t>{1, 2, 1, 2}));
  }
}

TEST(FpRaid10, WriteSplitToEverySideOfItsColumn) {
  FpFixture t;
  raid10_up(t, raid10());
  // Unit 3: column 1, column block 16 + 4.
  const std::vector<uint32_t> to = {3, 4, 5};
  const std::vector<Frame> cmnds = write_cmnds(t, 0x100, 48 + 4, 4, to);
  // Gating: the host is asked only once every side is ready.
  element_xfer_rdy(t, cmnds[0], 0x70, 0, 2048);
  element_xfer_rdy(t, cmnds[1], 0x71, 0, 2048);
  t.run();
  EXPECT_TRUE(t.tx_idle()) << "the host was asked for data before every side was ready";
  element_xfer_rdy(t, cmnds[2], 0x72, 0, 2048);
  t.run();
  const Frame x = t.expect_frame();
  EXPECT_EQ(x.h.r_ctl, fc::rctl::kDeviceDataDataDescriptor);
  EXPECT_EQ(x.h.d_id.value, kHost);
  // Fan-out: the host's data frame to every side of the column.
  const std::vector<uint8_t> data = pattern(2048, 4);
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost, data_fctl(false, true),
                x.h.ox_id, x.h.rx_id, 0),
         data);
  t.run();
  std::vector<uint32_t> got;
  Frame f;
  while (t.pop(&f)) {
    got.push_back(element_of(f));
    EXPECT_EQ(f.h.r_ctl, fc::rctl::kDeviceDataSolicitedData);
    EXPECT_EQ(f.payload, data);
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, to);
  // GOOD to the host only once every side answered GOOD.
  element_rsp(t, cmnds[0], 0x70, fc::scsi_status::kGood);
  element_rsp(t, cmnds[2], 0x72, fc::scsi_status::kGood);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  element_rsp(t, cmnds[1], 0x71, fc::scsi_status::kGood);
  t.run();
  const Frame rsp = t.expect_frame();
  EXPECT_EQ(rsp.h.d_id.value, kHost);
  EXPECT_EQ(FpFixture::decode_rsp(rsp).scsi_status, fc::scsi_status::kGood);
  EXPECT_TRUE(t.cp_idle());
  const fpapi::FpStatistics st = t.fp.statistics();
  EXPECT_EQ(st.fp_completed, 1u);
  EXPECT_EQ(st.downstream_pending, 0u);
  EXPECT_EQ(st.write_bytes, 2048u * 3);
  // A write in column 0 goes to column 0's sides only.
  (void)write_cmnds(t, 0x101, 32 + 15, 1, {0, 1, 2});
}

TEST(FpRaid10, CrossingAStripeUnitFaults) {
  FpFixture t;
  raid10_up(t, raid10());
  t.host_rw(0x200, false, kVsegStart + 14, 4);  // units 0 and 1
  t.run();
  EXPECT_TRUE(t.tx_idle());
  EXPECT_EQ(t.cp_expect<fpapi::CpQueueIO>().reason, FaultKind::kSpansStripeUnits);
  t.host_rw(0x201, true, kVsegStart + 31, 2);  // units 1 and 2
  t.run();
  EXPECT_TRUE(t.tx_idle());
  EXPECT_EQ(t.cp_expect<fpapi::CpQueueIO>().reason, FaultKind::kSpansStripeUnits);
  EXPECT_EQ(t.fp.statistics().faults[static_cast<size_t>(FaultKind::kSpansStripeUnits)], 2u);
  // A whole unit stays on the FP.
  (void)write_cmnds(t, 0x202, 16, 16, {3, 4, 5});
}

TEST(FpRaid10, DeadSideGetsNoWriteAndNoRead) {
  FpFixture t;
  raid10_up(t,
            raid10({}, {map::SideState::kAlive, map::SideState::kAlive, map::SideState::kAlive,
                        map::SideState::kDead, map::SideState::kAlive, map::SideState::kResync}));
  // Column 1: side 0 dead (no write), side 2 resynchronizing (written, not read).
  (void)write_cmnds(t, 0x300, 16, 2, {4, 5});
  EXPECT_EQ(read_elements(t, 16 + 8, 3), (std::vector<uint32_t>{4, 4, 4}));
  // Column 0 is whole.
  (void)write_cmnds(t, 0x310, 0, 2, {0, 1, 2});
}

TEST(FpRaid10, OverlappingWriteFaultsForSerialization) {
  FpFixture t;
  raid10_up(t, raid10());
  (void)write_cmnds(t, 0x400, 16, 8, {3, 4, 5});  // [16, 24) outstanding
  t.host_rw(0x401, true, kVsegStart + 20, 8);
  t.run();
  EXPECT_TRUE(t.tx_idle());
  EXPECT_EQ(t.cp_expect<fpapi::CpQueueIO>().reason, FaultKind::kSerialization);
  // The same column block in another row is other blocks: split on the FP.
  (void)write_cmnds(t, 0x402, 48, 8, {3, 4, 5});
  EXPECT_TRUE(t.cp_idle());
}

}  // namespace
}  // namespace splitpath::fp::testing
