#include "cp/target/scsi_target.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_data.h"
#include "splitpath/fc/scsi_inquiry.h"
#include "splitpath/fc/scsi_lun.h"
#include "splitpath/fc/scsi_mode.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kWwpn = 0x5005350123456789;

Bytes bytes(std::initializer_list<int> v) {
  Bytes out;
  for (int b : v)
    out.push_back(static_cast<uint8_t>(b));
  return out;
}

LogicalUnitInfo test_unit() {
  LogicalUnitInfo u;
  u.lun = 3;
  u.block_size = 512;
  u.blocks = 1000;
  u.target_wwpn = kWwpn;
  u.read_only = false;
  u.max_transfer_blocks = 2048;
  return u;
}

const std::vector<uint16_t> kVisible = {3};

ScsiReply answer(const Bytes& cdb, const LogicalUnitInfo* unit,
                 const std::vector<uint16_t>& visible = kVisible) {
  return answer_target_command(cdb, unit, visible);
}

// CDBs, built byte by byte as a host would.
Bytes inquiry_cdb(bool evpd, uint8_t page, uint16_t alloc) {
  return bytes({0x12, evpd ? 1 : 0, page, alloc >> 8, alloc & 0xFF, 0});
}
Bytes read_capacity16_cdb(uint32_t alloc) {
  Bytes cdb = bytes({0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  fc::store_be32(&cdb[10], alloc);
  return cdb;
}
Bytes report_luns_cdb(uint8_t select, uint32_t alloc) {
  Bytes cdb = bytes({0xA0, 0, select, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  fc::store_be32(&cdb[6], alloc);
  return cdb;
}
Bytes mode_sense6_cdb(bool dbd, uint8_t pc, uint8_t page, uint8_t subpage, uint8_t alloc) {
  return bytes({0x1A, dbd ? 0x08 : 0, (pc << 6) | page, subpage, alloc, 0});
}
Bytes mode_sense10_cdb(bool llbaa, bool dbd, uint8_t page, uint16_t alloc) {
  return bytes(
      {0x5A, (llbaa ? 0x10 : 0) | (dbd ? 0x08 : 0), page, 0, 0, 0, 0, alloc >> 8, alloc & 0xFF, 0});
}
Bytes request_sense_cdb(bool desc, uint8_t alloc) {
  return bytes({0x03, desc ? 1 : 0, 0, 0, alloc, 0});
}
const Bytes kReadCapacity10 = bytes({0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0});
const Bytes kTestUnitReady = bytes({0x00, 0, 0, 0, 0, 0});

void expect_good(const ScsiReply& r) {
  EXPECT_EQ(r.status, fc::scsi_status::kGood);
  EXPECT_TRUE(r.sense.empty());
}

// Expects CHECK CONDITION with exactly this sense; returns the decoded sense.
fc::SenseData expect_sense(const ScsiReply& r, uint8_t key, fc::AscAscq code) {
  EXPECT_EQ(r.status, fc::scsi_status::kCheckCondition);
  EXPECT_TRUE(r.data.empty());
  EXPECT_EQ(r.sense.size(), fc::kFixedSenseSize);
  auto s = fc::decode_sense_data(r.sense);
  EXPECT_TRUE(s.ok());
  if (!s.ok()) return {};
  EXPECT_EQ(s->sense_key, key);
  EXPECT_EQ(s->code.asc, code.asc);
  EXPECT_EQ(s->code.ascq, code.ascq);
  EXPECT_FALSE(s->deferred);
  return *s;
}

void expect_invalid_field(const ScsiReply& r, uint16_t byte_offset) {
  auto s = expect_sense(r, fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInCdb);
  EXPECT_TRUE(s.sksv);
  EXPECT_TRUE(fc::field_pointer_in_cdb(s.sense_key_specific));
  EXPECT_EQ(fc::field_pointer_offset(s.sense_key_specific), byte_offset);
}

// ------------------------------------------------------------- INQUIRY

TEST(ScsiTargetInquiry, StandardData) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply r = answer(inquiry_cdb(false, 0, 255), &u);
  expect_good(r);
  ASSERT_EQ(r.data.size(), fc::kLongInquirySize);  // with version descriptors
  auto inq = fc::decode_inquiry_data(r.data);
  ASSERT_TRUE(inq.ok());
  EXPECT_EQ(inq->version_descriptors[2], fc::version_descriptor::kSbc3);
  EXPECT_EQ(inq->peripheral_qualifier, 0);
  EXPECT_EQ(inq->device_type, fc::kDeviceTypeDisk);
  EXPECT_EQ(std::string(inq->vendor.begin(), inq->vendor.end()), "SPLITPTH");
  EXPECT_EQ(std::string(inq->product.begin(), inq->product.end()), "VIRTUAL VOLUME  ");
  EXPECT_EQ(std::string(inq->revision.begin(), inq->revision.end()), "0001");
}

TEST(ScsiTargetInquiry, TruncatedToAllocationLength) {
  const LogicalUnitInfo u = test_unit();
  const ScsiReply full = answer(inquiry_cdb(false, 0, 255), &u);
  for (uint16_t alloc : {1, 5, 8, 35}) {
    ScsiReply r = answer(inquiry_cdb(false, 0, alloc), &u);
    expect_good(r);
    EXPECT_EQ(r.data, Bytes(full.data.begin(), full.data.begin() + alloc)) << alloc;
  }
  ScsiReply zero = answer(inquiry_cdb(false, 0, 0), &u);
  expect_good(zero);
  EXPECT_TRUE(zero.data.empty());
  ScsiReply vpd_zero = answer(inquiry_cdb(true, 0x83, 0), &u);
  expect_good(vpd_zero);
  EXPECT_TRUE(vpd_zero.data.empty());
}

TEST(ScsiTargetInquiry, NotExposedLunHasQualifier3) {
  ScsiReply r = answer(inquiry_cdb(false, 0, 36), nullptr);
  expect_good(r);
  auto inq = fc::decode_inquiry_data(r.data);
  ASSERT_TRUE(inq.ok());
  EXPECT_EQ(inq->peripheral_qualifier, fc::kQualifierNotPresent);
  EXPECT_EQ(inq->device_type, fc::kDeviceTypeUnknown);
  EXPECT_EQ(r.data[0], 0x7F);
  // VPD pages describe an LU; there is none.
  expect_sense(answer(inquiry_cdb(true, 0x80, 255), nullptr), fc::sense_key::kIllegalRequest,
               fc::asc::kLogicalUnitNotSupported);
}

TEST(ScsiTargetInquiry, SupportedVpdPages) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply r = answer(inquiry_cdb(true, 0x00, 255), &u);
  expect_good(r);
  auto v = fc::decode_vpd_supported_pages(r.data);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(Bytes(v->pages.begin(), v->pages.begin() + v->count),
            bytes({0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2}));
  EXPECT_EQ(v->peripheral_qualifier, 0);
  EXPECT_EQ(v->device_type, fc::kDeviceTypeDisk);
  // Every page listed is served.
  for (size_t i = 0; i < v->count; ++i)
    expect_good(answer(inquiry_cdb(true, v->pages[i], 255), &u));
}

TEST(ScsiTargetInquiry, UnitSerialNumberFromWwpnAndLun) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply r = answer(inquiry_cdb(true, 0x80, 255), &u);
  expect_good(r);
  auto v = fc::decode_vpd_unit_serial_number(r.data);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->text(), "50053501234567890003");
}

TEST(ScsiTargetInquiry, DeviceIdentificationNaaDesignators) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply r = answer(inquiry_cdb(true, 0x83, 255), &u);
  expect_good(r);
  auto v = fc::decode_vpd_device_identification(r.data);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->count, 2);

  const fc::Designator& lu = v->designators[0];
  EXPECT_EQ(lu.type, fc::designator_type::kNaa);
  EXPECT_EQ(lu.association, fc::designator_association::kLogicalUnit);
  EXPECT_EQ(lu.code_set, fc::code_set::kBinary);
  EXPECT_FALSE(lu.piv);
  ASSERT_EQ(lu.length, 16);
  // NAA 6, company ID 00:53:50, vendor specific identifier = LUN 3, extension =
  // the target WWPN.
  EXPECT_EQ(Bytes(lu.value.begin(), lu.value.begin() + 16),
            bytes({0x60, 0x05, 0x35, 0x00, 0x00, 0x00, 0x00, 0x03, 0x50, 0x05, 0x35, 0x01, 0x23,
                   0x45, 0x67, 0x89}));

  const fc::Designator& port = v->designators[1];
  EXPECT_EQ(port.type, fc::designator_type::kNaa);
  EXPECT_EQ(port.association, fc::designator_association::kTargetPort);
  EXPECT_TRUE(port.piv);
  EXPECT_EQ(port.protocol_identifier, fc::kProtocolIdFibreChannel);
  ASSERT_EQ(port.length, 8);
  EXPECT_EQ(fc::designator_naa(port), kWwpn);
  EXPECT_EQ(port.value[0] >> 4, 5);  // NAA 5

  // Another LUN of the same target, or the same LUN of another target, is
  // another LU.
  LogicalUnitInfo other_lun = u;
  other_lun.lun = 4;
  LogicalUnitInfo other_target = u;
  other_target.target_wwpn = kWwpn + 1;
  for (const LogicalUnitInfo* o : {&other_lun, &other_target}) {
    auto w = fc::decode_vpd_device_identification(answer(inquiry_cdb(true, 0x83, 255), o).data);
    ASSERT_TRUE(w.ok());
    EXPECT_NE(w->designators[0], lu);
  }
}

TEST(ScsiTargetInquiry, BlockLimits) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply r = answer(inquiry_cdb(true, 0xB0, 255), &u);
  expect_good(r);
  ASSERT_EQ(r.data.size(), 64u);
  EXPECT_EQ(r.data[0], 0x00);
  EXPECT_EQ(r.data[1], 0xB0);
  EXPECT_EQ(fc::load_be16(&r.data[2]), 0x3C);
  EXPECT_EQ(fc::load_be32(&r.data[8]), 2048u);  // MAXIMUM TRANSFER LENGTH
  EXPECT_EQ(fc::load_be32(&r.data[12]), 0u);
}

TEST(ScsiTargetInquiry, BlockDeviceCharacteristicsNonRotating) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply r = answer(inquiry_cdb(true, 0xB1, 255), &u);
  expect_good(r);
  ASSERT_EQ(r.data.size(), 64u);
  EXPECT_EQ(r.data[1], 0xB1);
  EXPECT_EQ(fc::load_be16(&r.data[2]), 0x3C);
  EXPECT_EQ(fc::load_be16(&r.data[4]), 0x0001);  // MEDIUM ROTATION RATE
}

TEST(ScsiTargetInquiry, BadPageCodes) {
  const LogicalUnitInfo u = test_unit();
  expect_invalid_field(answer(inquiry_cdb(true, 0xB3, 255), &u), 2);
  expect_invalid_field(answer(inquiry_cdb(true, 0x81, 255), &u), 2);
  expect_invalid_field(answer(inquiry_cdb(false, 0x80, 255), &u), 2);     // EVPD 0 with a page
  expect_invalid_field(answer(bytes({0x12, 0x02, 0, 0, 36, 0}), &u), 1);  // CMDDT
}

// ------------------------------------------------------- READ CAPACITY

TEST(ScsiTargetReadCapacity, TenReportsLastLba) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply r = answer(kReadCapacity10, &u);
  expect_good(r);
  ASSERT_EQ(r.data.size(), 8u);
  auto d = fc::decode_read_capacity10_data(r.data);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->returned_lba, 999u);
  EXPECT_EQ(d->block_length, 512u);
}

TEST(ScsiTargetReadCapacity, TenSaturatesWhenTooBig) {
  LogicalUnitInfo u = test_unit();
  u.blocks = 0xFFFFFFFFull;  // last LBA 0xFFFFFFFE still fits
  auto d = fc::decode_read_capacity10_data(answer(kReadCapacity10, &u).data);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->returned_lba, 0xFFFFFFFEu);
  u.blocks = 0x100000000ull;
  d = fc::decode_read_capacity10_data(answer(kReadCapacity10, &u).data);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->returned_lba, 0xFFFFFFFFu);
}

TEST(ScsiTargetReadCapacity, Sixteen) {
  LogicalUnitInfo u = test_unit();
  u.blocks = 0x200000001ull;
  u.block_size = 4096;
  ScsiReply r = answer(read_capacity16_cdb(32), &u);
  expect_good(r);
  ASSERT_EQ(r.data.size(), 32u);
  auto d = fc::decode_read_capacity16_data(r.data);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->last_lba, 0x200000000ull);
  EXPECT_EQ(d->block_length, 4096u);
  EXPECT_FALSE(d->prot_en);
  EXPECT_TRUE(d->lbpme);  // thin: UNMAP deallocates
  EXPECT_TRUE(d->lbprz);

  ScsiReply cut = answer(read_capacity16_cdb(12), &u);
  expect_good(cut);
  EXPECT_EQ(cut.data, Bytes(r.data.begin(), r.data.begin() + 12));
  ScsiReply none = answer(read_capacity16_cdb(0), &u);
  expect_good(none);
  EXPECT_TRUE(none.data.empty());
}

TEST(ScsiTargetReadCapacity, Errors) {
  const LogicalUnitInfo u = test_unit();
  Bytes other_sa = read_capacity16_cdb(32);
  other_sa[1] = 0x11;
  expect_invalid_field(answer(other_sa, &u), 1);
  Bytes lba_without_pmi = kReadCapacity10;
  lba_without_pmi[5] = 1;
  expect_invalid_field(answer(lba_without_pmi, &u), 2);
  // Shorter than the opcode's CDB: no field to point at.
  auto s = expect_sense(answer(Bytes(kReadCapacity10.begin(), kReadCapacity10.begin() + 9), &u),
                        fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInCdb);
  EXPECT_FALSE(s.sksv);
}

// ---------------------------------------------------------- REPORT LUNS

TEST(ScsiTargetReportLuns, SortedUniquePeripheralLuns) {
  const std::vector<uint16_t> visible = {7, 0, 300, 7, 2};
  ScsiReply r = answer(report_luns_cdb(0, 4096), nullptr, visible);
  expect_good(r);
  ASSERT_EQ(r.data.size(), 8u + 4 * 8);
  auto v = fc::decode_report_luns(r.data);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->lun_list_length, 32u);
  ASSERT_EQ(v->count, 4u);
  EXPECT_FALSE(v->truncated);
  EXPECT_EQ(v->lun(0), fc::make_peripheral_lun(0));
  EXPECT_EQ(v->lun(1), fc::make_peripheral_lun(2));
  EXPECT_EQ(v->lun(2), fc::make_peripheral_lun(7));
  EXPECT_EQ(v->lun(3), fc::make_flat_lun(300));  // above 255: flat space, as make_lun
  EXPECT_EQ(Bytes(r.data.begin() + 24, r.data.begin() + 32), bytes({0, 7, 0, 0, 0, 0, 0, 0}));
}

TEST(ScsiTargetReportLuns, AnsweredOnAnExposedLunToo) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply r = answer(report_luns_cdb(2, 4096), &u, {3, 1});
  expect_good(r);
  auto v = fc::decode_report_luns(r.data);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->count, 2u);
  EXPECT_EQ(v->lun(0), fc::make_peripheral_lun(1));
  EXPECT_EQ(v->lun(1), fc::make_peripheral_lun(3));
}

TEST(ScsiTargetReportLuns, TruncatedKeepsFullListLength) {
  const std::vector<uint16_t> visible = {1, 2, 3};
  ScsiReply r = answer(report_luns_cdb(0, 12), nullptr, visible);
  expect_good(r);
  ASSERT_EQ(r.data.size(), 12u);
  EXPECT_EQ(fc::load_be32(r.data.data()), 24u);
  ScsiReply none = answer(report_luns_cdb(0, 0), nullptr, visible);
  expect_good(none);
  EXPECT_TRUE(none.data.empty());
}

TEST(ScsiTargetReportLuns, WellKnownOnlyIsEmptyAndBadSelectRejected) {
  ScsiReply r = answer(report_luns_cdb(1, 4096), nullptr, {0, 1});
  expect_good(r);
  ASSERT_EQ(r.data.size(), 8u);
  EXPECT_EQ(fc::load_be32(r.data.data()), 0u);
  expect_invalid_field(answer(report_luns_cdb(0x03, 4096), nullptr, {0}), 2);
  auto s = expect_sense(answer(Bytes{0xA0, 0, 0, 0}, nullptr, {0}), fc::sense_key::kIllegalRequest,
                        fc::asc::kInvalidFieldInCdb);
  EXPECT_FALSE(s.sksv);
}

// ------------------------------------------------- commands without data

TEST(ScsiTargetSimple, GoodWithoutData) {
  const LogicalUnitInfo u = test_unit();
  for (const Bytes& cdb :
       {kTestUnitReady, bytes({0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}),  // SYNC CACHE(10), all
        bytes({0x35, 0x02, 0, 0, 0x03, 0xE0, 0, 0, 8, 0}),         // 992 + 8
        bytes({0x91, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
        bytes({0x1B, 0, 0, 0, 0x01, 0}),  // START STOP UNIT, START
        bytes({0x1B, 1, 0, 0, 0x00, 0})}) {
    ScsiReply r = answer(cdb, &u);
    expect_good(r);
    EXPECT_TRUE(r.data.empty()) << int{cdb[0]};
  }
}

TEST(ScsiTargetSimple, SynchronizeCachePastEnd) {
  const LogicalUnitInfo u = test_unit();
  auto s = expect_sense(answer(bytes({0x35, 0, 0, 0, 0x03, 0xE0, 0, 0, 9, 0}), &u),
                        fc::sense_key::kIllegalRequest, fc::asc::kLbaOutOfRange);
  EXPECT_FALSE(s.sksv);
  expect_sense(answer(bytes({0x91, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xE9, 0, 0, 0, 0, 0, 0}), &u),
               fc::sense_key::kIllegalRequest, fc::asc::kLbaOutOfRange);
}

TEST(ScsiTargetSimple, StartStopUnitErrors) {
  const LogicalUnitInfo u = test_unit();
  auto s = expect_sense(answer(bytes({0x1B, 0, 0, 0}), &u), fc::sense_key::kIllegalRequest,
                        fc::asc::kInvalidFieldInCdb);
  EXPECT_FALSE(s.sksv);
  expect_invalid_field(answer(bytes({0x1B, 0, 0, 0, 1, 0x04}), &u), 5);  // NACA
}

// ----------------------------------------------------------- MODE SENSE

fc::ModeSenseData decode_mode(const ScsiReply& r, bool ten) {
  auto m = fc::decode_mode_sense(r.data, ten);
  EXPECT_TRUE(m.ok());
  return m.ok() ? *m : fc::ModeSenseData{};
}

TEST(ScsiTargetModeSense, AllPagesWithBlockDescriptor) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply r = answer(mode_sense6_cdb(false, 0, 0x3F, 0, 255), &u);
  expect_good(r);
  ASSERT_EQ(r.data.size(), 4u + 8 + 20 + 12);
  EXPECT_EQ(r.data[0], r.data.size() - 1);
  const fc::ModeSenseData m = decode_mode(r, false);
  EXPECT_EQ(m.device_specific & fc::kDeviceSpecificWp, 0);
  EXPECT_EQ(m.device_specific & fc::kDeviceSpecificDpoFua, fc::kDeviceSpecificDpoFua);
  ASSERT_TRUE(m.has_block_descriptor);
  EXPECT_EQ(m.block_descriptor.number_of_blocks, 1000u);
  EXPECT_EQ(m.block_descriptor.block_length, 512u);
  ASSERT_TRUE(m.has_caching);
  EXPECT_FALSE(m.caching.wce);
  EXPECT_FALSE(m.caching.rcd);
  ASSERT_TRUE(m.has_control);
  EXPECT_EQ(m.control.queue_algorithm_modifier, 1);
  EXPECT_FALSE(m.control.d_sense);
  // Subpage 0xFF (all subpages) gives the same pages.
  EXPECT_EQ(answer(mode_sense6_cdb(false, 0, 0x3F, 0xFF, 255), &u).data, r.data);
}

TEST(ScsiTargetModeSense, ReadOnlySetsWp) {
  LogicalUnitInfo u = test_unit();
  u.read_only = true;
  for (bool ten : {false, true}) {
    ScsiReply r = answer(
        ten ? mode_sense10_cdb(false, false, 0x3F, 512) : mode_sense6_cdb(false, 0, 0x3F, 0, 255),
        &u);
    expect_good(r);
    EXPECT_EQ(decode_mode(r, ten).device_specific & fc::kDeviceSpecificWp, fc::kDeviceSpecificWp);
  }
}

TEST(ScsiTargetModeSense, SinglePagesAndDbd) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply caching = answer(mode_sense6_cdb(true, 0, 0x08, 0, 255), &u);
  expect_good(caching);
  fc::ModeSenseData m = decode_mode(caching, false);
  EXPECT_FALSE(m.has_block_descriptor);
  EXPECT_TRUE(m.has_caching);
  EXPECT_FALSE(m.has_control);
  EXPECT_EQ(caching.data.size(), 4u + 20);

  ScsiReply control = answer(mode_sense10_cdb(false, true, 0x0A, 512), &u);
  expect_good(control);
  m = decode_mode(control, true);
  EXPECT_FALSE(m.has_block_descriptor);
  EXPECT_FALSE(m.has_caching);
  EXPECT_TRUE(m.has_control);
  EXPECT_EQ(control.data.size(), 8u + 12);
}

TEST(ScsiTargetModeSense, TenWithLongLbaDescriptor) {
  LogicalUnitInfo u = test_unit();
  u.blocks = 0x300000000ull;
  ScsiReply r = answer(mode_sense10_cdb(true, false, 0x3F, 512), &u);
  expect_good(r);
  fc::ModeSenseData m = decode_mode(r, true);
  EXPECT_TRUE(m.long_lba);
  EXPECT_EQ(m.block_descriptor.number_of_blocks, 0x300000000ull);
  // Without LLBAA the short descriptor saturates.
  m = decode_mode(answer(mode_sense10_cdb(false, false, 0x3F, 512), &u), true);
  EXPECT_FALSE(m.long_lba);
  EXPECT_EQ(m.block_descriptor.number_of_blocks, 0xFFFFFFFFull);
}

TEST(ScsiTargetModeSense, Truncated) {
  const LogicalUnitInfo u = test_unit();
  const ScsiReply full = answer(mode_sense6_cdb(false, 0, 0x3F, 0, 255), &u);
  ScsiReply r = answer(mode_sense6_cdb(false, 0, 0x3F, 0, 4), &u);
  expect_good(r);
  EXPECT_EQ(r.data, Bytes(full.data.begin(), full.data.begin() + 4));
  EXPECT_EQ(r.data[0], 43);  // MODE DATA LENGTH still states the full data
  ScsiReply none = answer(mode_sense10_cdb(false, false, 0x3F, 0), &u);
  expect_good(none);
  EXPECT_TRUE(none.data.empty());
}

TEST(ScsiTargetModeSense, ChangeableValuesAreZero) {
  const LogicalUnitInfo u = test_unit();
  fc::ModeSenseData m = decode_mode(answer(mode_sense6_cdb(true, 1, 0x3F, 0, 255), &u), false);
  EXPECT_EQ(m.caching, fc::CachingPage{});
  EXPECT_EQ(m.control, fc::ControlPage{});
}

TEST(ScsiTargetModeSense, Errors) {
  const LogicalUnitInfo u = test_unit();
  expect_invalid_field(answer(mode_sense6_cdb(false, 0, 0x1C, 0, 255), &u), 2);
  expect_invalid_field(answer(mode_sense10_cdb(false, false, 0x01, 255), &u), 2);
  expect_invalid_field(answer(mode_sense6_cdb(false, 0, 0x08, 0x01, 255), &u), 3);
  expect_sense(answer(mode_sense6_cdb(false, 3, 0x3F, 0, 255), &u), fc::sense_key::kIllegalRequest,
               fc::asc::kSavingParametersNotSupported);
}

// -------------------------------------------------------- REQUEST SENSE

TEST(ScsiTargetRequestSense, NoSense) {
  const LogicalUnitInfo u = test_unit();
  ScsiReply r = answer(request_sense_cdb(false, 252), &u);
  expect_good(r);
  ASSERT_EQ(r.data.size(), fc::kFixedSenseSize);
  auto s = fc::decode_sense_data(r.data);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, fc::make_sense(fc::sense_key::kNoSense, fc::asc::kNoAdditionalSense));

  ScsiReply cut = answer(request_sense_cdb(false, 8), &u);
  expect_good(cut);
  EXPECT_EQ(cut.data, Bytes(r.data.begin(), r.data.begin() + 8));
  ScsiReply none = answer(request_sense_cdb(false, 0), &u);
  expect_good(none);
  EXPECT_TRUE(none.data.empty());
}

TEST(ScsiTargetRequestSense, NotExposedLunReportsItInTheData) {
  ScsiReply r = answer(request_sense_cdb(false, 18), nullptr);
  expect_good(r);
  auto s = fc::decode_sense_data(r.data);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->sense_key, fc::sense_key::kIllegalRequest);
  EXPECT_EQ(s->code, fc::asc::kLogicalUnitNotSupported);
}

TEST(ScsiTargetRequestSense, DescriptorFormatRejected) {
  const LogicalUnitInfo u = test_unit();
  auto s = expect_sense(answer(request_sense_cdb(true, 18), &u), fc::sense_key::kIllegalRequest,
                        fc::asc::kInvalidFieldInCdb);
  EXPECT_EQ(fc::field_pointer_offset(s.sense_key_specific), 1);
  EXPECT_TRUE(fc::field_pointer_bit_valid(s.sense_key_specific));
  EXPECT_EQ(fc::field_pointer_bit(s.sense_key_specific), 0);
}

// --------------------------------------------------------------- errors

TEST(ScsiTargetErrors, NotExposedLun) {
  for (const Bytes& cdb :
       {kTestUnitReady, kReadCapacity10, read_capacity16_cdb(32),
        mode_sense6_cdb(false, 0, 0x3F, 0, 255), bytes({0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
        bytes({0x1B, 0, 0, 0, 1, 0}), bytes({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}),
        bytes({0xC5, 0, 0, 0, 0, 0}), bytes({0x00})}) {
    SCOPED_TRACE(int{cdb[0]});
    auto s = expect_sense(answer(cdb, nullptr), fc::sense_key::kIllegalRequest,
                          fc::asc::kLogicalUnitNotSupported);
    EXPECT_FALSE(s.sksv);
  }
}

TEST(ScsiTargetErrors, UnknownOpcode) {
  const LogicalUnitInfo u = test_unit();
  for (const Bytes& cdb :
       {bytes({0xC5, 0, 0, 0, 0, 0}), bytes({0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0}),  // UNMAP: caller's
        bytes({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}),  // READ(10): the FP's job
        bytes({0x16, 0, 0, 0, 0, 0}),              // RESERVE(6): caller's
        bytes({0xFF})}) {
    SCOPED_TRACE(int{cdb[0]});
    auto s = expect_sense(answer(cdb, &u), fc::sense_key::kIllegalRequest,
                          fc::asc::kInvalidCommandOperationCode);
    EXPECT_TRUE(s.sksv);
    EXPECT_EQ(fc::field_pointer_offset(s.sense_key_specific), 0);
  }
}

TEST(ScsiTargetErrors, MalformedCdb) {
  const LogicalUnitInfo u = test_unit();
  for (const Bytes& cdb : {Bytes{}, bytes({0x12, 0, 0}), bytes({0x00, 0, 0, 0, 0}),
                           bytes({0x5A, 0, 0x3F, 0, 0, 0, 0, 0, 255})}) {
    SCOPED_TRACE(cdb.size());
    expect_sense(answer(cdb, &u), fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInCdb);
  }
  // NACA in the control byte: ACA is not supported.
  expect_invalid_field(answer(bytes({0x00, 0, 0, 0, 0, 0x04}), &u), 5);
  // A 16-byte FCP_CDB around a 6-byte command is fine.
  Bytes padded = kTestUnitReady;
  padded.resize(16, 0);
  expect_good(answer(padded, &u));
}

TEST(ScsiTargetErrors, CheckCondition) {
  ScsiReply r = check_condition(fc::sense_key::kDataProtect, 0x27, 0x00);
  auto s = expect_sense(r, fc::sense_key::kDataProtect, fc::asc::kWriteProtected);
  EXPECT_FALSE(s.sksv);
  EXPECT_EQ(r.sense[0], 0x70);
  EXPECT_EQ(r.sense[7], 10);
}

}  // namespace
}  // namespace splitpath::cp
