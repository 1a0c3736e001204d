#include "splitpath/fc/scsi_cdb.h"

#include <gtest/gtest.h>

#include "splitpath/fc/scsi_cdb_encode.h"
#include "test_util.h"

namespace splitpath::fc {
namespace {

using test::Bytes;
using test::bytes;
using test::expect_error;
using test::expect_prefixes_fail;

ScsiCommand decoded(const Bytes& cdb) {
  auto r = decode_cdb(cdb);
  EXPECT_TRUE(r.ok()) << test::describe(r.error());
  return r.ok() ? *r : ScsiCommand{};
}

Bytes encoded(const ScsiCommand& c) {
  std::array<uint8_t, 16> buf{};
  auto n = encode_cdb(c, buf);
  EXPECT_TRUE(n.ok()) << test::describe(n.error());
  return n.ok() ? Bytes(buf.begin(), buf.begin() + *n) : Bytes{};
}

// Encodes, checks the bytes, decodes them back to the same command, and checks that
// every shorter span fails without reading past it.
void expect_cdb(const ScsiCommand& c, const Bytes& want) {
  Bytes got = encoded(c);
  EXPECT_EQ(got, want);
  EXPECT_EQ(decoded(got), c);
  expect_prefixes_fail(got, decode_cdb);
  std::vector<uint8_t> small(want.size() - 1);
  expect_error(encode_cdb(c, small), WireErrc::kBufferTooSmall, "cdb", 0);
}

TEST(ScsiCdb, Read10KnownVector) {
  ScsiCommand c = decoded(bytes({0x28, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x08, 0x00}));
  EXPECT_EQ(c.kind, ScsiCommandKind::kRead);
  EXPECT_EQ(c.opcode, scsi_op::kRead10);
  EXPECT_EQ(c.cdb_length, 10);
  EXPECT_EQ(c.lba, 0x1234u);
  EXPECT_EQ(c.transfer_length, 8u);
  EXPECT_FALSE(c.fua);
  EXPECT_FALSE(c.dpo);
  EXPECT_EQ(c, make_read(0x1234, 8));
}

TEST(ScsiCdb, ReadWriteForms) {
  expect_cdb(make_rw(scsi_op::kRead6, 0x1FFFFF, 256),
             bytes({0x08, 0x1F, 0xFF, 0xFF, 0x00, 0x00}));  // 0 means 256 blocks
  expect_cdb(make_rw(scsi_op::kWrite6, 0x012345, 1), bytes({0x0A, 0x01, 0x23, 0x45, 0x01, 0x00}));
  expect_cdb(make_rw(scsi_op::kWrite10, 0xFFFFFFFF, 0xFFFF, true, true),
             bytes({0x2A, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0xFF, 0x00}));
  expect_cdb(make_rw(scsi_op::kRead12, 0x01020304, 0x05060708, true),
             bytes({0xA8, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x00}));
  expect_cdb(make_write(0x100000000ull, 256, true),
             bytes({0x8A, 0x08, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}));
  expect_cdb(make_read(0x0123456789ABCDEFull, 0x10000),
             bytes({0x88, 0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0, 1, 0, 0, 0, 0}));
  ScsiCommand grouped = make_rw(scsi_op::kRead16, 5, 6);
  grouped.group_number = 0x1F;
  grouped.control = 0x40;  // vendor-specific bits survive
  expect_cdb(grouped, bytes({0x88, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 6, 0x1F, 0x40}));
}

TEST(ScsiCdb, SmallestForm) {
  EXPECT_EQ(smallest_rw_opcode(false, 0xFFFFFFFF, 0xFFFF), scsi_op::kRead10);
  EXPECT_EQ(smallest_rw_opcode(false, 0x100000000ull, 1), scsi_op::kRead16);
  EXPECT_EQ(smallest_rw_opcode(false, 0, 0x10000), scsi_op::kRead16);
  EXPECT_EQ(smallest_rw_opcode(true, 0, 1), scsi_op::kWrite10);
  EXPECT_EQ(smallest_rw_opcode(true, 1ull << 40, 1), scsi_op::kWrite16);
  EXPECT_EQ(make_write(7, 1).opcode, scsi_op::kWrite10);
  EXPECT_EQ(make_write(7, 1).cdb_length, 10);
}

TEST(ScsiCdb, OtherCommands) {
  expect_cdb(make_test_unit_ready(), bytes({0, 0, 0, 0, 0, 0}));
  expect_cdb(make_request_sense(252, true), bytes({0x03, 0x01, 0, 0, 252, 0}));
  expect_cdb(make_inquiry(36), bytes({0x12, 0, 0, 0, 36, 0}));
  expect_cdb(make_inquiry(0x1FF, true, 0x83), bytes({0x12, 0x01, 0x83, 0x01, 0xFF, 0}));
  expect_cdb(make_read_capacity10(), bytes({0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  expect_cdb(make_read_capacity16(),
             bytes({0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}));
  expect_cdb(make_report_luns(4096),
             bytes({0xA0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00}));
  expect_cdb(make_report_luns(16, 0x02), bytes({0xA0, 0, 0x02, 0, 0, 0, 0, 0, 0, 16, 0, 0}));
  expect_cdb(make_mode_sense(false, 0x3F, 255, 0, true),
             bytes({0x1A, 0x08, 0x3F, 0x00, 0xFF, 0x00}));
  expect_cdb(make_mode_sense(true, 0x08, 0x1000, 2),
             bytes({0x5A, 0x00, 0x88, 0x00, 0, 0, 0, 0x10, 0x00, 0}));
  ScsiCommand ms10 = make_mode_sense(true, 0x0A, 64, 1, true, 0xFF);
  ms10.llbaa = true;
  expect_cdb(ms10, bytes({0x5A, 0x18, 0x4A, 0xFF, 0, 0, 0, 0, 64, 0}));
  expect_cdb(make_synchronize_cache(), bytes({0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  expect_cdb(make_synchronize_cache(0x10, 0x20, true),
             bytes({0x35, 0x02, 0, 0, 0, 0x10, 0, 0, 0x20, 0}));
  expect_cdb(make_synchronize_cache(1ull << 32, 0),
             bytes({0x91, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  expect_cdb(make_reserve6(), bytes({0x16, 0, 0, 0, 0, 0}));
  expect_cdb(make_release6(), bytes({0x17, 0, 0, 0, 0, 0}));
  expect_cdb(make_persistent_reserve_in(pr_in_sa::kReadReservation, 0x2000),
             bytes({0x5E, 0x01, 0, 0, 0, 0, 0, 0x20, 0x00, 0}));
  expect_cdb(make_persistent_reserve_out(pr_out_sa::kReserve, pr_type::kExclusiveAccess),
             bytes({0x5F, 0x01, 0x03, 0, 0, 0, 0, 0, 24, 0}));
  expect_cdb(make_persistent_reserve_out(pr_out_sa::kRegister, 0),
             bytes({0x5F, 0x00, 0x00, 0, 0, 0, 0, 0, 24, 0}));
}

TEST(ScsiCdb, BlockCommands) {
  expect_cdb(make_verify(0x1234, 8, bytchk::kNone, scsi_op::kVerify10),
             bytes({0x2F, 0x00, 0, 0, 0x12, 0x34, 0, 0, 8, 0}));
  expect_cdb(make_verify(0x0102030405ull, 0x10000, bytchk::kCompare),
             bytes({0x8F, 0x02, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0, 1, 0, 0, 0, 0}));
  expect_cdb(make_verify(7, 9, bytchk::kCompareOne, scsi_op::kVerify12),
             bytes({0xAF, 0x06, 0, 0, 0, 7, 0, 0, 0, 9, 0, 0}));
  expect_cdb(make_write_and_verify(7, 1, scsi_op::kWriteAndVerify10),
             bytes({0x2E, 0x02, 0, 0, 0, 7, 0, 0, 1, 0}));
  expect_cdb(make_write_same(0x10, 0x20, true, false, scsi_op::kWriteSame10),
             bytes({0x41, 0x08, 0, 0, 0, 0x10, 0, 0, 0x20, 0}));
  expect_cdb(make_write_same(0x10, 0x20, true, true),
             bytes({0x93, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0}));
  expect_cdb(make_unmap(24), bytes({0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0}));
  expect_cdb(make_compare_and_write(0x55, 1, true),
             bytes({0x89, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x55, 0, 0, 0, 1, 0, 0}));
  // Protection information, BYTCHK 10b, LBDATA/PBDATA, NDOB in the 10-byte form.
  expect_error(decode_cdb(bytes({0x2F, 0x20, 0, 0, 0, 0, 0, 0, 1, 0})), WireErrc::kUnsupported,
               "vrprotect", 1);
  expect_error(decode_cdb(bytes({0x2F, 0x04, 0, 0, 0, 0, 0, 0, 1, 0})), WireErrc::kBadValue,
               "bytchk", 1);
  expect_error(decode_cdb(bytes({0x41, 0x02, 0, 0, 0, 0, 0, 0, 1, 0})), WireErrc::kUnsupported,
               "lbdata", 1);
  expect_error(decode_cdb(bytes({0x41, 0x01, 0, 0, 0, 0, 0, 0, 1, 0})), WireErrc::kBadValue,
               "reserved", 1);
  expect_error(decode_cdb(bytes({0x89, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0})),
               WireErrc::kUnsupported, "wrprotect", 1);
}

TEST(ScsiCdb, DecodedFields) {
  ScsiCommand c = decoded(bytes({0x12, 0x01, 0x80, 0x00, 0xFF, 0x00}));
  EXPECT_EQ(c.kind, ScsiCommandKind::kInquiry);
  EXPECT_TRUE(c.evpd);
  EXPECT_EQ(c.page_code, 0x80);
  EXPECT_EQ(c.allocation_length, 255u);
  c = decoded(bytes({0x1A, 0x08, 0xFF, 0x00, 0xC0, 0x00}));
  EXPECT_EQ(c.kind, ScsiCommandKind::kModeSense6);
  EXPECT_TRUE(c.dbd);
  EXPECT_EQ(c.page_control, 3);
  EXPECT_EQ(c.page_code, 0x3F);
  EXPECT_EQ(c.allocation_length, 0xC0u);
  c = decoded(bytes({0x25, 0, 0, 0, 0x10, 0, 0, 0, 0x01, 0}));
  EXPECT_TRUE(c.pmi);
  EXPECT_EQ(c.lba, 0x1000u);
  c = decoded(bytes({0x5F, 0x04, 0x05, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(c.service_action, pr_out_sa::kPreempt);
  EXPECT_EQ(c.pr_type, pr_type::kWriteExclusiveRegistrantsOnly);
  EXPECT_EQ(c.parameter_list_length, 256u);
  // A CDB inside the 16-byte FCP_CDB field: trailing bytes are ignored.
  Bytes in16 = bytes({0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0});
  in16.resize(16, 0xEE);
  EXPECT_EQ(decoded(in16), make_read(1, 1));
}

TEST(ScsiCdb, Malformed) {
  expect_error(decode_cdb(Bytes{}), WireErrc::kTruncated, "operation_code", 0);
  expect_error(decode_cdb(bytes({0x34, 0, 0, 0, 0, 0, 0, 0, 1, 0})), WireErrc::kUnsupported,
               "operation_code", 0);  // PRE-FETCH(10)
  expect_error(decode_cdb(bytes({0xC0})), WireErrc::kUnsupported, "operation_code", 0);
  expect_error(decode_cdb(bytes({0x28, 0, 0, 0})), WireErrc::kTruncated, "cdb", 4);
  // INQUIRY: page code without EVPD, CmdDt.
  expect_error(decode_cdb(bytes({0x12, 0x00, 0x80, 0, 0xFF, 0})), WireErrc::kBadValue, "page_code",
               2);
  expect_error(decode_cdb(bytes({0x12, 0x02, 0x00, 0, 0xFF, 0})), WireErrc::kBadValue, "cmddt", 1);
  // NACA and LINK in the control byte.
  expect_error(decode_cdb(bytes({0x00, 0, 0, 0, 0, 0x04})), WireErrc::kUnsupported, "control", 5);
  expect_error(decode_cdb(bytes({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0x01})), WireErrc::kUnsupported,
               "control", 9);
  // Protection information.
  expect_error(decode_cdb(bytes({0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0})), WireErrc::kUnsupported,
               "rdprotect", 1);
  expect_error(decode_cdb(bytes({0x8A, 0xE0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0})),
               WireErrc::kUnsupported, "wrprotect", 1);
  // READ CAPACITY: LBA without PMI; SERVICE ACTION IN(16) other than READ CAPACITY.
  expect_error(decode_cdb(bytes({0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0})), WireErrc::kBadValue, "lba", 2);
  expect_error(decode_cdb(bytes({0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0})),
               WireErrc::kUnsupported, "service_action", 1);
  expect_error(decode_cdb(bytes({0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 32, 0, 0})),
               WireErrc::kBadValue, "lba", 2);
  // REPORT LUNS select report; PR service actions, scope and type.
  expect_error(decode_cdb(bytes({0xA0, 0, 0x03, 0, 0, 0, 0, 0, 0, 16, 0, 0})), WireErrc::kBadValue,
               "select_report", 2);
  expect_error(decode_cdb(bytes({0x5E, 0x04, 0, 0, 0, 0, 0, 0, 8, 0})), WireErrc::kBadValue,
               "service_action", 1);
  expect_error(decode_cdb(bytes({0x5F, 0x09, 0, 0, 0, 0, 0, 0, 24, 0})), WireErrc::kBadValue,
               "service_action", 1);
  expect_error(decode_cdb(bytes({0x5F, 0x01, 0x13, 0, 0, 0, 0, 0, 24, 0})), WireErrc::kBadValue,
               "scope", 2);
  expect_error(decode_cdb(bytes({0x5F, 0x01, 0x02, 0, 0, 0, 0, 0, 24, 0})), WireErrc::kBadValue,
               "type", 2);
  EXPECT_TRUE(decode_cdb(bytes({0x5F, 0x00, 0x02, 0, 0, 0, 0, 0, 24, 0})).ok());  // REGISTER
  // SCSI-2 third-party reservations.
  expect_error(decode_cdb(bytes({0x16, 0x10, 0, 0, 0, 0})), WireErrc::kUnsupported,
               "third_party_extent", 1);
}

TEST(ScsiCdb, EncoderRejectsWhatDoesNotFit) {
  std::array<uint8_t, 16> buf{};
  expect_error(encode_cdb(make_rw(scsi_op::kRead6, 0x200000, 1), buf), WireErrc::kBadValue, "lba",
               1);
  expect_error(encode_cdb(make_rw(scsi_op::kRead6, 0, 0), buf), WireErrc::kBadValue,
               "transfer_length", 4);
  expect_error(encode_cdb(make_rw(scsi_op::kRead6, 0, 257), buf), WireErrc::kBadValue,
               "transfer_length", 4);
  expect_error(encode_cdb(make_rw(scsi_op::kRead10, 1ull << 32, 1), buf), WireErrc::kBadValue,
               "lba", 2);
  expect_error(encode_cdb(make_rw(scsi_op::kWrite10, 0, 0x10000), buf), WireErrc::kBadValue,
               "transfer_length", 7);
  ScsiCommand c = make_read(0, 1);
  c.opcode = scsi_op::kWrite10;
  expect_error(encode_cdb(c, buf), WireErrc::kBadValue, "operation_code", 0);
  c = make_test_unit_ready();
  c.control = 0x04;
  expect_error(encode_cdb(c, buf), WireErrc::kBadValue, "control", 5);
  expect_error(encode_cdb(make_inquiry(36, false, 0x80), buf), WireErrc::kBadValue, "page_code", 2);
  expect_error(encode_cdb(make_mode_sense(false, 0x3F, 256), buf), WireErrc::kBadValue,
               "allocation_length", 4);
}

TEST(ScsiCdb, GroupCodeLengths) {
  EXPECT_EQ(scsi_cdb_length(0x00), 6u);
  EXPECT_EQ(scsi_cdb_length(0x28), 10u);
  EXPECT_EQ(scsi_cdb_length(0x5A), 10u);
  EXPECT_EQ(scsi_cdb_length(0x7F), 0u);
  EXPECT_EQ(scsi_cdb_length(0x88), 16u);
  EXPECT_EQ(scsi_cdb_length(0xA0), 12u);
  EXPECT_EQ(scsi_cdb_length(0xC0), 0u);
  EXPECT_TRUE(scsi_is_read(0xA8));
  EXPECT_TRUE(scsi_is_write(0x0A));
  EXPECT_FALSE(scsi_is_write(0x41));
}

// The codecs are usable in constant expressions.
constexpr bool constexpr_round_trip() {
  std::array<uint8_t, 16> buf{};
  auto n = encode_cdb(make_read(0x1234, 8), buf);
  auto d = decode_cdb(ConstBytes(buf.data(), *n));
  return d.ok() && d->lba == 0x1234 && buf[0] == 0x28 && *n == 10;
}
static_assert(constexpr_round_trip());

// The FP's READ/WRITE decoder agrees with decode_cdb on every CDB: random
// bytes behind every opcode of interest (and some others), whole and cut
// short, so the length, CONTROL and protect checks are all exercised.
TEST(ScsiCdb, DecodeReadWriteAgreesWithDecodeCdb) {
  uint64_t rng = 0x5EED;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  const uint8_t opcodes[] = {scsi_op::kRead6,
                             scsi_op::kRead10,
                             scsi_op::kRead12,
                             scsi_op::kRead16,
                             scsi_op::kWrite6,
                             scsi_op::kWrite10,
                             scsi_op::kWrite12,
                             scsi_op::kWrite16,
                             scsi_op::kInquiry,
                             scsi_op::kTestUnitReady,
                             scsi_op::kSynchronizeCache16,
                             0xFF};
  int read_writes = 0;
  for (int i = 0; i < 200000; ++i) {
    std::array<uint8_t, 16> cdb{};
    for (auto& b : cdb)
      b = static_cast<uint8_t>(next());
    cdb[0] = opcodes[next() % std::size(opcodes)];
    // Mostly valid CONTROL and protect bits, so most CDBs decode.
    if (next() % 4 != 0) {
      for (size_t at : {size_t{5}, size_t{9}, size_t{11}, size_t{15}})
        cdb[at] &= 0xFA;
      if (cdb[0] >= 0x20) cdb[1] &= 0x1F;
    }
    const size_t length = next() % 8 == 0 ? next() % 17 : 16;
    const ConstBytes span(cdb.data(), length);
    const auto full = decode_cdb(span);
    const ReadWriteCdb rw = decode_read_write(span);
    const bool is_rw = full.ok() && (full->kind == ScsiCommandKind::kRead ||
                                     full->kind == ScsiCommandKind::kWrite);
    ASSERT_EQ(rw.ok, is_rw) << "CDB " << i << " opcode " << int{cdb[0]} << " length " << length;
    if (!is_rw) continue;
    ++read_writes;
    EXPECT_EQ(rw.write, full->kind == ScsiCommandKind::kWrite);
    EXPECT_EQ(rw.lba, full->lba);
    EXPECT_EQ(rw.blocks, full->transfer_length);
    EXPECT_EQ(rw.fua, full->fua);
    EXPECT_EQ(rw.dpo, full->dpo);
  }
  EXPECT_GT(read_writes, 50000);
}

TEST(ScsiCdb, EncodeReadWrite16IsEncodeCdbOfMakeRw) {
  for (bool write : {false, true}) {
    for (uint64_t lba : {uint64_t{0}, uint64_t{0x1234}, uint64_t{0xFEDCBA9876543210}}) {
      for (uint32_t blocks : {1u, 8u, 0xFFFFFFFFu}) {
        for (int flags = 0; flags < 4; ++flags) {
          const bool fua = flags & 1, dpo = flags & 2;
          std::array<uint8_t, 16> fast{};
          fast.fill(0xAA);  // every byte must be written
          encode_read_write16(write, lba, blocks, fua, dpo, fast);
          const Bytes general =
              encoded(make_rw(write ? scsi_op::kWrite16 : scsi_op::kRead16, lba, blocks, fua, dpo));
          EXPECT_EQ(Bytes(fast.begin(), fast.end()), general);
        }
      }
    }
  }
}

}  // namespace
}  // namespace splitpath::fc
