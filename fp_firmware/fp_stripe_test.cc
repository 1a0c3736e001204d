// The stripe primitive on the FP: a READ/WRITE inside one stripe unit is
// remapped by shift and mask to its column (disk, LUN, column LBA) and
// completes on the FP like a simple remap; one crossing a stripe unit faults
// to the CP (kSpansStripeUnits); a malformed stripe descriptor is refused.
#include <gtest/gtest.h>

#include <algorithm>

#include "fp_firmware/fp_test_fixture.h"
#include "tests/support/alloc_counter.h"

namespace splitpath::fp::testing {
namespace {

using fpapi::FaultKind;

constexpr uint32_t kColumns = 3;
constexpr uint8_t kUnitShift = 4;  // 16-block stripe units
constexpr uint64_t kUnit = uint64_t{1} << kUnitShift;
constexpr uint32_t kColumnDisk[kColumns] = {0x010200, 0x010400, 0x010500};
constexpr uint16_t kColumnLun[kColumns] = {3, 0, 7};
constexpr uint64_t kColumnStart[kColumns] = {50000, 0, 900};

map::StripeStorage three_columns() {
  map::StripeStorage s;
  s.width = kColumns;
  s.unit_shift = kUnitShift;
  for (uint32_t c = 0; c < kColumns; ++c)
    s.columns[c] = {kColumnDisk[c], kColumnLun[c], 0, kColumnStart[c]};
  return s;
}

// Replaces the fixture's simple redirect entry 0 with the three-column stripe.
void stripe_up(FpFixture& t) {
  t.bring_up();
  fpapi::FpMapping m = FpFixture::redirect_mapping(kVsegId, 0);
  ASSERT_TRUE(map::StorageDescriptor::make_stripe(three_columns(), &m.redirect.descriptor));
  t.call_ok(m, MsgType::kFpReplaceMapping);
}

// FCP_RSP from the column disk `cmnd` went to, on its exchange.
void column_rsp(FpFixture& t, const Frame& cmnd, uint16_t disk_rx) {
  fc::FcpRsp r;
  r.scsi_status = fc::scsi_status::kGood;
  std::vector<uint8_t> p(fc::fcp_rsp_size(r));
  ASSERT_TRUE(fc::encode_fcp_rsp(r, p).ok());
  t.push(header(fc::rctl::kDeviceDataCommandStatus, kVi, cmnd.h.d_id.value, kFctlRsp, cmnd.h.ox_id,
                disk_rx),
         p);
}

struct Expected {
  uint32_t column;
  uint64_t lba;
};
// The mapping worked out by hand: unit u = b / 16 on column u % 3 at column
// block (u / 3) * 16 + b % 16.
Expected by_hand(uint64_t vseg_lba) {
  const uint64_t u = vseg_lba / kUnit;
  const uint32_t c = static_cast<uint32_t>(u % kColumns);
  return {c, kColumnStart[c] + (u / kColumns) * kUnit + vseg_lba % kUnit};
}

TEST(FpStripe, DescriptorLocatesByShiftAndMask) {
  map::StorageDescriptor d;
  ASSERT_TRUE(map::StorageDescriptor::make_stripe(three_columns(), &d));
  EXPECT_TRUE(d.valid());
  EXPECT_EQ(d.element_count(), kColumns);
  for (uint64_t b :
       {0ull, 5ull, 15ull, 16ull, 31ull, 32ull, 47ull, 48ull, 49ull, 1000ull, (1ull << 40) + 3}) {
    const map::Location l = d.locate(b);
    const Expected e = by_hand(b);
    ASSERT_EQ(l.status, map::LocateStatus::kOk);
    EXPECT_EQ(l.element, e.column) << b;
    EXPECT_EQ(l.target.port_id, kColumnDisk[e.column]) << b;
    EXPECT_EQ(l.target.lun, kColumnLun[e.column]) << b;
    EXPECT_EQ(l.target.start_lba, e.lba) << b;
    EXPECT_EQ(l.run, kUnit - b % kUnit) << b;
  }
  map::StripeStorage back;
  ASSERT_TRUE(d.stripe(&back));
  EXPECT_EQ(back.width, kColumns);
  EXPECT_EQ(back.unit_shift, kUnitShift);
  EXPECT_EQ(back.columns[2], three_columns().columns[2]);
  // The payload is big-endian bytes: column 0's port ID is at bytes 8-11.
  EXPECT_EQ(d.payload[9], 0x01);
  EXPECT_EQ(d.payload[10], 0x02);
  EXPECT_EQ(d.payload[11], 0x00);
}

TEST(FpStripe, BadStripesAreNotBuilt) {
  map::StripeStorage s = three_columns();
  map::StorageDescriptor d;
  s.width = 0;
  EXPECT_FALSE(map::StorageDescriptor::make_stripe(s, &d));
  s.width = map::kMaxStripeColumns + 1;
  EXPECT_FALSE(map::StorageDescriptor::make_stripe(s, &d));
  s = three_columns();
  s.unit_shift = map::kMaxStripeUnitShift + 1;
  EXPECT_FALSE(map::StorageDescriptor::make_stripe(s, &d));
  EXPECT_EQ(d.kind, map::StorageKind::kNone);
}

TEST(FpStripe, ReadsInsideAUnitGoToTheirColumn) {
  FpFixture t;
  stripe_up(t);
  // One I/O per case: unit 0 (column 0), unit 1 (column 1), unit 5 (column 2,
  // second row), a whole unit, the last block of a unit.
  const struct {
    uint64_t vseg_lba;
    uint32_t blocks;
  } cases[] = {{0, 4}, {16, 16}, {80 + 3, 9}, {32, 16}, {47, 1}, {16 * 7 + 15, 1}};
  uint16_t ox = 0x100;
  for (const auto& c : cases) {
    t.host_rw(ox, false, kVsegStart + c.vseg_lba, c.blocks);
    t.run();
    const Frame cmnd = t.expect_frame();
    const Expected e = by_hand(c.vseg_lba);
    EXPECT_EQ(cmnd.h.d_id.value, kColumnDisk[e.column]) << c.vseg_lba;
    EXPECT_EQ(cmnd.h.s_id.value, kVi);
    EXPECT_EQ(*fc::decode_lun(FpFixture::decode_cmnd(cmnd).lun), kColumnLun[e.column]);
    const fc::ScsiCommand s = FpFixture::decode_scsi(cmnd);
    EXPECT_EQ(s.opcode, fc::scsi_op::kRead16);
    EXPECT_EQ(s.lba, e.lba) << c.vseg_lba;
    EXPECT_EQ(s.transfer_length, c.blocks);
    const std::vector<uint8_t> data = pattern(c.blocks * kBlock, ox);
    for (uint32_t off = 0; off < data.size(); off += 2048) {
      const uint32_t n = std::min<uint32_t>(2048, static_cast<uint32_t>(data.size()) - off);
      t.push(header(fc::rctl::kDeviceDataSolicitedData, kVi, kColumnDisk[e.column],
                    data_fctl(true, off + n == data.size()), cmnd.h.ox_id, 0x55, off),
             std::span<const uint8_t>(data.data() + off, n));
      t.run();
      const Frame f = t.expect_frame();
      EXPECT_EQ(f.h.d_id.value, kHost);
      EXPECT_EQ(f.h.parameter, off);
      EXPECT_EQ(f.payload, std::vector<uint8_t>(data.begin() + off, data.begin() + off + n));
    }
    column_rsp(t, cmnd, 0x55);
    t.run();
    EXPECT_EQ(FpFixture::decode_rsp(t.expect_frame()).scsi_status, fc::scsi_status::kGood);
    EXPECT_TRUE(t.cp_idle());
    ++ox;
  }
  const fpapi::FpStatistics st = t.fp.statistics();
  EXPECT_EQ(st.fp_completed, std::size(cases));
  EXPECT_EQ(st.faults[static_cast<size_t>(FaultKind::kSpansStripeUnits)], 0u);
}

TEST(FpStripe, WriteInsideAUnitIsRelayedToItsColumn) {
  FpFixture t;
  stripe_up(t);
  t.host_rw(0x200, true, kVsegStart + 16 * 4 + 2, 4);  // unit 4: column 1, row 1
  t.run();
  const Frame cmnd = t.expect_frame();
  EXPECT_EQ(cmnd.h.d_id.value, kColumnDisk[1]);
  EXPECT_EQ(FpFixture::decode_scsi(cmnd).opcode, fc::scsi_op::kWrite16);
  EXPECT_EQ(FpFixture::decode_scsi(cmnd).lba, kColumnStart[1] + 16 + 2);
  uint8_t x[fc::kFcpXferRdySize];
  ASSERT_TRUE(fc::encode_fcp_xfer_rdy({0, 4 * kBlock}, x).ok());
  t.push(header(fc::rctl::kDeviceDataDataDescriptor, kVi, kColumnDisk[1], kFctlXferRdy,
                cmnd.h.ox_id, 0x66),
         x);
  t.run();
  const Frame xfer = t.expect_frame();
  EXPECT_EQ(xfer.h.d_id.value, kHost);
  const std::vector<uint8_t> data = pattern(4 * kBlock, 9);
  t.push(header(fc::rctl::kDeviceDataSolicitedData, kTarget, kHost, data_fctl(false, true), 0x200,
                xfer.h.rx_id, 0),
         data);
  t.run();
  const Frame out = t.expect_frame();
  EXPECT_EQ(out.h.d_id.value, kColumnDisk[1]);
  EXPECT_EQ(out.payload, data);
  column_rsp(t, cmnd, 0x66);
  t.run();
  EXPECT_EQ(FpFixture::decode_rsp(t.expect_frame()).scsi_status, fc::scsi_status::kGood);
  EXPECT_EQ(t.fp.statistics().fp_completed, 1u);
}

TEST(FpStripe, CrossingAUnitFaultsToTheCp) {
  FpFixture t;
  stripe_up(t);
  t.host_rw(0x300, false, kVsegStart + 14, 4);  // blocks 14..17: units 0 and 1
  t.run();
  EXPECT_TRUE(t.tx_idle());
  const auto q = t.cp_expect<fpapi::CpQueueIO>();
  EXPECT_EQ(q.reason, FaultKind::kSpansStripeUnits) << fpapi::fault_kind_name(q.reason);
  EXPECT_EQ(q.io.ox_id, 0x300);
  EXPECT_EQ(t.fp.statistics().faults[static_cast<size_t>(FaultKind::kSpansStripeUnits)], 1u);
  EXPECT_STREQ(fpapi::fault_kind_name(FaultKind::kSpansStripeUnits), "spans_stripe_units");
}

TEST(FpStripe, MalformedStripeDescriptorIsRefused) {
  FpFixture t;
  t.bring_up();
  fpapi::FpMapping m = FpFixture::redirect_mapping(kVsegId, 0);
  ASSERT_TRUE(map::StorageDescriptor::make_stripe(three_columns(), &m.redirect.descriptor));
  m.redirect.descriptor.payload[0] = map::kMaxStripeColumns + 1;  // width out of range
  t.cp_send(m, MsgType::kFpReplaceMapping);
  t.run();
  EXPECT_EQ(t.cp_expect<fpapi::FpReply>().status, fpapi::ApiStatus::kInvalid);
  // The simple entry stays: the I/O is remapped to the fixture's disk.
  t.host_rw(0x400, false, kVsegStart + 20, 1);
  t.run();
  EXPECT_EQ(t.expect_frame().h.d_id.value, kDisk);
}

TEST(FpStripe, InUnitRemapDoesNotAllocate) {
  FpFixture t;
  stripe_up(t);
  t.host_rw(0x500, false, kVsegStart + 33, 2);
  uint64_t allocations = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t before = splitpath::testing::allocation_count();
    const bool more = t.fp.poll();
    allocations += splitpath::testing::allocation_count() - before;
    if (!more) break;
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(t.expect_frame().h.d_id.value, kColumnDisk[2]);
}

}  // namespace
}  // namespace splitpath::fp::testing
