// SCSI command descriptor blocks (SPC-4, SBC-3): operation codes,
// status codes, and a decoder/encoder between a CDB and a tagged ScsiCommand for
// the commands a Splitpath disk serves. Multi-byte CDB fields are big-endian.
//
//   6-byte  CDB: 0 opcode, 1..4 command fields, 5 control
//   10-byte CDB: 0 opcode, 1 flags, 2..5 LBA, 6 group, 7..8 length, 9 control
//   12-byte CDB: 0 opcode, 1 flags, 2..5 LBA, 6..9 length, 10 group, 11 control
//   16-byte CDB: 0 opcode, 1 flags, 2..9 LBA, 10..13 length, 14 group, 15 control
//
// Decode errors carry the byte offset of the offending CDB field, which a device
// server reports as the sense-key-specific field pointer (C/D = 1): unknown opcode
// -> kUnsupported "operation_code" at 0 (INVALID COMMAND OPERATION CODE); any other
// error -> INVALID FIELD IN CDB at `offset`. A CDB span shorter than the opcode's
// CDB is kTruncated; a longer span (the 16-byte FCP_CDB) is fine.
#pragma once

#include <cstddef>
#include <cstdint>

#include "splitpath/fc/wire.h"

namespace splitpath::fc {

namespace scsi_op {
inline constexpr uint8_t kTestUnitReady = 0x00;
inline constexpr uint8_t kRequestSense = 0x03;
inline constexpr uint8_t kRead6 = 0x08;
inline constexpr uint8_t kWrite6 = 0x0A;
inline constexpr uint8_t kInquiry = 0x12;
inline constexpr uint8_t kModeSelect6 = 0x15;
inline constexpr uint8_t kReserve6 = 0x16;
inline constexpr uint8_t kRelease6 = 0x17;
inline constexpr uint8_t kModeSense6 = 0x1A;
inline constexpr uint8_t kStartStopUnit = 0x1B;
inline constexpr uint8_t kReadCapacity10 = 0x25;
inline constexpr uint8_t kRead10 = 0x28;
inline constexpr uint8_t kWrite10 = 0x2A;
inline constexpr uint8_t kWriteAndVerify10 = 0x2E;
inline constexpr uint8_t kVerify10 = 0x2F;
inline constexpr uint8_t kSynchronizeCache10 = 0x35;
inline constexpr uint8_t kWriteSame10 = 0x41;
inline constexpr uint8_t kUnmap = 0x42;
inline constexpr uint8_t kModeSelect10 = 0x55;
inline constexpr uint8_t kModeSense10 = 0x5A;
inline constexpr uint8_t kPersistentReserveIn = 0x5E;
inline constexpr uint8_t kPersistentReserveOut = 0x5F;
inline constexpr uint8_t kRead16 = 0x88;
inline constexpr uint8_t kWrite16 = 0x8A;
inline constexpr uint8_t kCompareAndWrite = 0x89;
inline constexpr uint8_t kWriteAndVerify16 = 0x8E;
inline constexpr uint8_t kVerify16 = 0x8F;
inline constexpr uint8_t kSynchronizeCache16 = 0x91;
inline constexpr uint8_t kWriteSame16 = 0x93;
inline constexpr uint8_t kServiceActionIn16 = 0x9E;
inline constexpr uint8_t kReportLuns = 0xA0;
inline constexpr uint8_t kMaintenanceIn = 0xA3;
inline constexpr uint8_t kRead12 = 0xA8;
inline constexpr uint8_t kWrite12 = 0xAA;
inline constexpr uint8_t kWriteAndVerify12 = 0xAE;
inline constexpr uint8_t kVerify12 = 0xAF;
}  // namespace scsi_op

// Service actions of SERVICE ACTION IN(16).
inline constexpr uint8_t kSaReadCapacity16 = 0x10;

namespace scsi_status {
inline constexpr uint8_t kGood = 0x00;
inline constexpr uint8_t kCheckCondition = 0x02;
inline constexpr uint8_t kConditionMet = 0x04;
inline constexpr uint8_t kBusy = 0x08;
inline constexpr uint8_t kReservationConflict = 0x18;  // no sense data
inline constexpr uint8_t kTaskSetFull = 0x28;
inline constexpr uint8_t kAcaActive = 0x30;
inline constexpr uint8_t kTaskAborted = 0x40;
}  // namespace scsi_status

// PERSISTENT RESERVE IN / OUT service actions and reservation types (SPC-4).
namespace pr_in_sa {
inline constexpr uint8_t kReadKeys = 0x00;
inline constexpr uint8_t kReadReservation = 0x01;
inline constexpr uint8_t kReportCapabilities = 0x02;
inline constexpr uint8_t kReadFullStatus = 0x03;
}  // namespace pr_in_sa
namespace pr_out_sa {
inline constexpr uint8_t kRegister = 0x00;
inline constexpr uint8_t kReserve = 0x01;
inline constexpr uint8_t kRelease = 0x02;
inline constexpr uint8_t kClear = 0x03;
inline constexpr uint8_t kPreempt = 0x04;
inline constexpr uint8_t kPreemptAndAbort = 0x05;
inline constexpr uint8_t kRegisterAndIgnoreExistingKey = 0x06;
inline constexpr uint8_t kRegisterAndMove = 0x07;
inline constexpr uint8_t kReplaceLostReservation = 0x08;
}  // namespace pr_out_sa
namespace pr_type {
inline constexpr uint8_t kWriteExclusive = 0x1;
inline constexpr uint8_t kExclusiveAccess = 0x3;
inline constexpr uint8_t kWriteExclusiveRegistrantsOnly = 0x5;
inline constexpr uint8_t kExclusiveAccessRegistrantsOnly = 0x6;
inline constexpr uint8_t kWriteExclusiveAllRegistrants = 0x7;
inline constexpr uint8_t kExclusiveAccessAllRegistrants = 0x8;
constexpr bool valid(uint8_t t) {
  return t == 1 || t == 3 || (t >= 5 && t <= 8);
}
}  // namespace pr_type

// CDB length from the opcode's group code (SPC-4 operation code format); 0 for variable-length,
// reserved and vendor-specific groups.
constexpr size_t scsi_cdb_length(uint8_t opcode) {
  switch (opcode >> 5) {
    case 0:
      return 6;
    case 1:
    case 2:
      return 10;
    case 4:
      return 16;
    case 5:
      return 12;
    default:
      return 0;
  }
}

constexpr bool scsi_is_read(uint8_t op) {
  return op == scsi_op::kRead6 || op == scsi_op::kRead10 || op == scsi_op::kRead12 ||
         op == scsi_op::kRead16;
}
constexpr bool scsi_is_write(uint8_t op) {
  return op == scsi_op::kWrite6 || op == scsi_op::kWrite10 || op == scsi_op::kWrite12 ||
         op == scsi_op::kWrite16;
}

enum class ScsiCommandKind : uint8_t {
  kTestUnitReady,
  kRequestSense,
  kRead,   // READ(6/10/12/16); opcode tells which
  kWrite,  // WRITE(6/10/12/16)
  kInquiry,
  kModeSense6,
  kModeSense10,
  kReadCapacity10,
  kReadCapacity16,    // SERVICE ACTION IN(16) / READ CAPACITY(16)
  kSynchronizeCache,  // SYNCHRONIZE CACHE(10/16)
  kReserve6,
  kRelease6,
  kPersistentReserveIn,
  kPersistentReserveOut,
  kReportLuns,
  kVerify,           // VERIFY(10/12/16)
  kWriteAndVerify,   // WRITE AND VERIFY(10/12/16)
  kWriteSame,        // WRITE SAME(10/16)
  kUnmap,            // UNMAP(10)
  kCompareAndWrite,  // COMPARE AND WRITE(16)
};

// BYTCHK of VERIFY and WRITE AND VERIFY (SBC-4): what the Data-Out buffer holds.
namespace bytchk {
inline constexpr uint8_t kNone = 0;        // no Data-Out: verify the medium only
inline constexpr uint8_t kCompare = 1;     // one block per LBA, compared
inline constexpr uint8_t kCompareOne = 3;  // one block, compared with every LBA
}  // namespace bytchk

// A decoded CDB. Fields a command does not have stay zero.
struct ScsiCommand {
  ScsiCommandKind kind = ScsiCommandKind::kTestUnitReady;
  uint8_t opcode = 0;
  uint8_t cdb_length = 6;
  uint8_t control = 0;           // NACA and LINK are never set after decode
  uint64_t lba = 0;              // READ/WRITE, SYNCHRONIZE CACHE, READ CAPACITY
  uint32_t transfer_length = 0;  // blocks; READ/WRITE(6): 1..256; SYNC CACHE: 0 = to end
  bool fua = false;
  bool dpo = false;
  uint8_t group_number = 0;            // 10/12/16-byte READ/WRITE, SYNCHRONIZE CACHE
  bool immed = false;                  // SYNCHRONIZE CACHE
  bool pmi = false;                    // READ CAPACITY (obsolete; lba must be 0 without it)
  uint32_t allocation_length = 0;      // INQUIRY, MODE SENSE, REQUEST SENSE, READ CAP(16),
                                       // REPORT LUNS, PERSISTENT RESERVE IN
  bool evpd = false;                   // INQUIRY
  uint8_t page_code = 0;               // INQUIRY (VPD page), MODE SENSE (0x3F: all pages)
  uint8_t subpage_code = 0;            // MODE SENSE
  uint8_t page_control = 0;            // MODE SENSE: 0 current 1 changeable 2 default 3 saved
  bool dbd = false;                    // MODE SENSE: disable block descriptors
  bool llbaa = false;                  // MODE SENSE(10)
  bool desc = false;                   // REQUEST SENSE: descriptor format wanted
  uint8_t service_action = 0;          // READ CAPACITY(16) 0x10, pr_in_sa::, pr_out_sa::
  uint8_t select_report = 0;           // REPORT LUNS
  uint8_t pr_scope = 0;                // PERSISTENT RESERVE OUT (0 = LU_SCOPE)
  uint8_t pr_type = 0;                 // PERSISTENT RESERVE OUT, pr_type::
  uint32_t parameter_list_length = 0;  // PERSISTENT RESERVE OUT, UNMAP
  uint8_t bytchk = 0;                  // VERIFY, WRITE AND VERIFY: bytchk::
  bool unmap = false;                  // WRITE SAME: deallocate the blocks if it can
  bool anchor = false;                 // WRITE SAME, UNMAP: anchor instead of deallocate
  bool ndob = false;                   // WRITE SAME(16): no Data-Out buffer (zeros)

  friend constexpr bool operator==(const ScsiCommand&, const ScsiCommand&) = default;
};

namespace detail {
// Rejects NACA (ACA is not supported) and the obsolete LINK bit.
constexpr bool control_ok(uint8_t control) {
  return (control & 0x05) == 0;
}

// LBA, transfer length and group of a 10/12/16-byte CDB in the READ/WRITE layout.
constexpr void decode_lba_length(const uint8_t* p, size_t len, ScsiCommand& c) {
  if (len == 10) {
    c.lba = load_be32(p + 2);
    c.group_number = p[6] & 0x1F;
    c.transfer_length = load_be16(p + 7);
  } else if (len == 12) {
    c.lba = load_be32(p + 2);
    c.transfer_length = load_be32(p + 6);
    c.group_number = p[10] & 0x1F;
  } else {
    c.lba = load_be64(p + 2);
    c.transfer_length = load_be32(p + 10);
    c.group_number = p[14] & 0x1F;
  }
}
}  // namespace detail

// Decodes a CDB; see the header comment for the error contract.
constexpr WireResult<ScsiCommand> decode_cdb(ConstBytes cdb) {
  if (cdb.empty()) return wire_error(WireErrc::kTruncated, "operation_code", 0);
  const uint8_t* p = cdb.data();
  ScsiCommand c;
  c.opcode = p[0];
  switch (c.opcode) {
    case scsi_op::kTestUnitReady:
      c.kind = ScsiCommandKind::kTestUnitReady;
      break;
    case scsi_op::kRequestSense:
      c.kind = ScsiCommandKind::kRequestSense;
      break;
    case scsi_op::kRead6:
    case scsi_op::kRead10:
    case scsi_op::kRead12:
    case scsi_op::kRead16:
      c.kind = ScsiCommandKind::kRead;
      break;
    case scsi_op::kWrite6:
    case scsi_op::kWrite10:
    case scsi_op::kWrite12:
    case scsi_op::kWrite16:
      c.kind = ScsiCommandKind::kWrite;
      break;
    case scsi_op::kInquiry:
      c.kind = ScsiCommandKind::kInquiry;
      break;
    case scsi_op::kModeSense6:
      c.kind = ScsiCommandKind::kModeSense6;
      break;
    case scsi_op::kModeSense10:
      c.kind = ScsiCommandKind::kModeSense10;
      break;
    case scsi_op::kReadCapacity10:
      c.kind = ScsiCommandKind::kReadCapacity10;
      break;
    case scsi_op::kServiceActionIn16:
      c.kind = ScsiCommandKind::kReadCapacity16;
      break;
    case scsi_op::kSynchronizeCache10:
    case scsi_op::kSynchronizeCache16:
      c.kind = ScsiCommandKind::kSynchronizeCache;
      break;
    case scsi_op::kReserve6:
      c.kind = ScsiCommandKind::kReserve6;
      break;
    case scsi_op::kRelease6:
      c.kind = ScsiCommandKind::kRelease6;
      break;
    case scsi_op::kPersistentReserveIn:
      c.kind = ScsiCommandKind::kPersistentReserveIn;
      break;
    case scsi_op::kPersistentReserveOut:
      c.kind = ScsiCommandKind::kPersistentReserveOut;
      break;
    case scsi_op::kReportLuns:
      c.kind = ScsiCommandKind::kReportLuns;
      break;
    case scsi_op::kVerify10:
    case scsi_op::kVerify12:
    case scsi_op::kVerify16:
      c.kind = ScsiCommandKind::kVerify;
      break;
    case scsi_op::kWriteAndVerify10:
    case scsi_op::kWriteAndVerify12:
    case scsi_op::kWriteAndVerify16:
      c.kind = ScsiCommandKind::kWriteAndVerify;
      break;
    case scsi_op::kWriteSame10:
    case scsi_op::kWriteSame16:
      c.kind = ScsiCommandKind::kWriteSame;
      break;
    case scsi_op::kUnmap:
      c.kind = ScsiCommandKind::kUnmap;
      break;
    case scsi_op::kCompareAndWrite:
      c.kind = ScsiCommandKind::kCompareAndWrite;
      break;
    default:
      return wire_error(WireErrc::kUnsupported, "operation_code", 0);
  }
  const size_t len = scsi_cdb_length(c.opcode);
  if (cdb.size() < len) {
    return wire_error(WireErrc::kTruncated, "cdb", static_cast<uint32_t>(cdb.size()));
  }
  c.cdb_length = static_cast<uint8_t>(len);
  c.control = p[len - 1];
  if (!detail::control_ok(c.control)) {
    return wire_error(WireErrc::kUnsupported, "control", static_cast<uint32_t>(len - 1));
  }
  switch (c.kind) {
    case ScsiCommandKind::kTestUnitReady:
      break;
    case ScsiCommandKind::kRequestSense:
      c.desc = (p[1] & 0x01) != 0;
      c.allocation_length = p[4];
      break;
    case ScsiCommandKind::kRead:
    case ScsiCommandKind::kWrite:
      if (len == 6) {
        c.lba = (uint32_t{p[1] & 0x1Fu} << 16) | load_be16(p + 2);
        c.transfer_length = p[4] == 0 ? 256 : p[4];
        break;
      }
      if (p[1] & 0xE0) {
        return wire_error(WireErrc::kUnsupported,
                          c.kind == ScsiCommandKind::kRead ? "rdprotect" : "wrprotect", 1);
      }
      c.dpo = (p[1] & 0x10) != 0;
      c.fua = (p[1] & 0x08) != 0;
      detail::decode_lba_length(p, len, c);
      break;
    case ScsiCommandKind::kInquiry:
      if (p[1] & 0x02) return wire_error(WireErrc::kBadValue, "cmddt", 1);
      c.evpd = (p[1] & 0x01) != 0;
      c.page_code = p[2];
      if (!c.evpd && c.page_code != 0) return wire_error(WireErrc::kBadValue, "page_code", 2);
      c.allocation_length = load_be16(p + 3);
      break;
    case ScsiCommandKind::kModeSense6:
    case ScsiCommandKind::kModeSense10:
      c.dbd = (p[1] & 0x08) != 0;
      c.page_control = p[2] >> 6;
      c.page_code = p[2] & 0x3F;
      c.subpage_code = p[3];
      if (len == 6) {
        c.allocation_length = p[4];
      } else {
        c.llbaa = (p[1] & 0x10) != 0;
        c.allocation_length = load_be16(p + 7);
      }
      break;
    case ScsiCommandKind::kReadCapacity10:
      c.lba = load_be32(p + 2);
      c.pmi = (p[8] & 0x01) != 0;
      if (!c.pmi && c.lba != 0) return wire_error(WireErrc::kBadValue, "lba", 2);
      break;
    case ScsiCommandKind::kReadCapacity16:
      c.service_action = p[1] & 0x1F;
      if (c.service_action != kSaReadCapacity16) {
        return wire_error(WireErrc::kUnsupported, "service_action", 1);
      }
      c.lba = load_be64(p + 2);
      c.allocation_length = load_be32(p + 10);
      c.pmi = (p[14] & 0x01) != 0;
      if (!c.pmi && c.lba != 0) return wire_error(WireErrc::kBadValue, "lba", 2);
      break;
    case ScsiCommandKind::kSynchronizeCache:
      c.immed = (p[1] & 0x02) != 0;
      detail::decode_lba_length(p, len, c);
      break;
    case ScsiCommandKind::kReserve6:
    case ScsiCommandKind::kRelease6:
      // Third-party and extent reservations (SCSI-2) are not supported.
      if (p[1] & 0x1F) return wire_error(WireErrc::kUnsupported, "third_party_extent", 1);
      break;
    case ScsiCommandKind::kPersistentReserveIn:
      c.service_action = p[1] & 0x1F;
      if (c.service_action > pr_in_sa::kReadFullStatus) {
        return wire_error(WireErrc::kBadValue, "service_action", 1);
      }
      c.allocation_length = load_be16(p + 7);
      break;
    case ScsiCommandKind::kPersistentReserveOut: {
      c.service_action = p[1] & 0x1F;
      if (c.service_action > pr_out_sa::kReplaceLostReservation) {
        return wire_error(WireErrc::kBadValue, "service_action", 1);
      }
      c.pr_scope = p[2] >> 4;
      c.pr_type = p[2] & 0x0F;
      // SPC-4 PERSISTENT RESERVE OUT: scope and type matter only where a reservation is named.
      const bool names_reservation = c.service_action == pr_out_sa::kReserve ||
                                     c.service_action == pr_out_sa::kRelease ||
                                     c.service_action == pr_out_sa::kPreempt ||
                                     c.service_action == pr_out_sa::kPreemptAndAbort;
      if (names_reservation && c.pr_scope != 0) return wire_error(WireErrc::kBadValue, "scope", 2);
      if (names_reservation && !pr_type::valid(c.pr_type)) {
        return wire_error(WireErrc::kBadValue, "type", 2);
      }
      c.parameter_list_length = load_be32(p + 5);
      break;
    }
    case ScsiCommandKind::kReportLuns:
      c.select_report = p[2];
      if (!(c.select_report <= 0x02 || (c.select_report >= 0x10 && c.select_report <= 0x12))) {
        return wire_error(WireErrc::kBadValue, "select_report", 2);
      }
      c.allocation_length = load_be32(p + 6);
      break;
    case ScsiCommandKind::kVerify:
    case ScsiCommandKind::kWriteAndVerify:
      // Byte 1: VRPROTECT/WRPROTECT 7..5 (no protection information here), DPO 4,
      // BYTCHK 2..1; then the READ/WRITE layout of the same length.
      if (p[1] & 0xE0) {
        return wire_error(WireErrc::kUnsupported,
                          c.kind == ScsiCommandKind::kVerify ? "vrprotect" : "wrprotect", 1);
      }
      c.dpo = (p[1] & 0x10) != 0;
      c.bytchk = (p[1] >> 1) & 0x03;
      if (c.bytchk == 2) return wire_error(WireErrc::kBadValue, "bytchk", 1);
      detail::decode_lba_length(p, len, c);
      break;
    case ScsiCommandKind::kWriteSame:
      // Byte 1: WRPROTECT 7..5, ANCHOR 4, UNMAP 3, obsolete PBDATA/LBDATA 2..1, NDOB 0 (16 only).
      if (p[1] & 0xE0) return wire_error(WireErrc::kUnsupported, "wrprotect", 1);
      if (p[1] & 0x06) return wire_error(WireErrc::kUnsupported, "lbdata", 1);
      if (len == 10 && (p[1] & 0x01)) return wire_error(WireErrc::kBadValue, "reserved", 1);
      c.anchor = (p[1] & 0x10) != 0;
      c.unmap = (p[1] & 0x08) != 0;
      c.ndob = (p[1] & 0x01) != 0;
      detail::decode_lba_length(p, len, c);
      break;
    case ScsiCommandKind::kUnmap:
      c.anchor = (p[1] & 0x01) != 0;
      c.group_number = p[6] & 0x1F;
      c.parameter_list_length = load_be16(p + 7);
      break;
    case ScsiCommandKind::kCompareAndWrite:
      // 1 WRPROTECT 7..5, DPO 4, FUA 3; 2..9 LBA; 13 NUMBER OF LOGICAL BLOCKS; 14 group.
      if (p[1] & 0xE0) return wire_error(WireErrc::kUnsupported, "wrprotect", 1);
      c.dpo = (p[1] & 0x10) != 0;
      c.fua = (p[1] & 0x08) != 0;
      c.lba = load_be64(p + 2);
      c.transfer_length = p[13];
      c.group_number = p[14] & 0x1F;
      break;
  }
  return c;
}

// The fields of a READ or WRITE (6/10/12/16) CDB, for the per-I/O path: ok is
// true exactly when decode_cdb would decode `cdb` as kRead or kWrite (same
// length, CONTROL and RDPROTECT/WRPROTECT checks), and the fields then equal
// its. It builds no ScsiCommand and no error, which is most of what
// decode_cdb costs per I/O.
struct ReadWriteCdb {
  bool ok = false;
  bool write = false;
  bool fua = false;
  bool dpo = false;
  uint32_t blocks = 0;
  uint64_t lba = 0;
};

constexpr ReadWriteCdb decode_read_write(ConstBytes cdb) {
  ReadWriteCdb rw;
  if (cdb.empty()) return rw;
  const uint8_t* p = cdb.data();
  switch (p[0]) {
    case scsi_op::kRead6:
    case scsi_op::kRead10:
    case scsi_op::kRead12:
    case scsi_op::kRead16:
      break;
    case scsi_op::kWrite6:
    case scsi_op::kWrite10:
    case scsi_op::kWrite12:
    case scsi_op::kWrite16:
      rw.write = true;
      break;
    default:
      return rw;
  }
  const size_t len = scsi_cdb_length(p[0]);
  if (cdb.size() < len || !detail::control_ok(p[len - 1])) return rw;
  if (len == 6) {
    rw.lba = (uint32_t{p[1] & 0x1Fu} << 16) | load_be16(p + 2);
    rw.blocks = p[4] == 0 ? 256 : p[4];
    rw.ok = true;
    return rw;
  }
  if (p[1] & 0xE0) return rw;  // RDPROTECT / WRPROTECT
  rw.dpo = (p[1] & 0x10) != 0;
  rw.fua = (p[1] & 0x08) != 0;
  if (len == 10) {
    rw.lba = load_be32(p + 2);
    rw.blocks = load_be16(p + 7);
  } else if (len == 12) {
    rw.lba = load_be32(p + 2);
    rw.blocks = load_be32(p + 6);
  } else {
    rw.lba = load_be64(p + 2);
    rw.blocks = load_be32(p + 10);
  }
  rw.ok = true;
  return rw;
}

}  // namespace splitpath::fc
