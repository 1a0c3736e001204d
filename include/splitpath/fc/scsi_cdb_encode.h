// CDB encoders and builders (SPC-4, SBC-3) for the simulated hosts: a
// ScsiCommand from scsi_cdb.h written back into CDB bytes, and make_* functions
// that fill a ScsiCommand for each command the disks serve. Same byte layouts as
// scsi_cdb.h describes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/wire.h"

namespace splitpath::fc {

namespace detail {
constexpr bool in_family(uint8_t op, uint8_t op10, uint8_t op12, uint8_t op16) {
  return op == op10 || op == op12 || op == op16;
}

// LBA, transfer length and group in the READ/WRITE layout of a 10/12/16-byte
// CDB; false when a value does not fit (`field` names it, `offset` its byte).
constexpr bool encode_lba_length(const ScsiCommand& c, size_t len, uint8_t* p, const char** field,
                                 uint32_t* offset) {
  const uint8_t group = c.group_number & 0x1F;
  if (len != 16 && c.lba > 0xFFFFFFFFu) {
    *field = "lba";
    *offset = 2;
    return false;
  }
  if (len == 10) {
    if (c.transfer_length > 0xFFFF) {
      *field = "transfer_length";
      *offset = 7;
      return false;
    }
    store_be32(p + 2, static_cast<uint32_t>(c.lba));
    p[6] = group;
    store_be16(p + 7, static_cast<uint16_t>(c.transfer_length));
  } else if (len == 12) {
    store_be32(p + 2, static_cast<uint32_t>(c.lba));
    store_be32(p + 6, c.transfer_length);
    p[10] = group;
  } else {
    store_be64(p + 2, c.lba);
    store_be32(p + 10, c.transfer_length);
    p[14] = group;
  }
  return true;
}
}  // namespace detail

// Writes the CDB for `c` (kind, and opcode for the READ/WRITE/SYNCHRONIZE CACHE
// families) and returns its length. Errors: opcode outside the kind's family, a field
// that does not fit the chosen form (kBadValue naming the field), NACA/LINK in
// control (kBadValue "control"), output too small (kBufferTooSmall).
constexpr WireResult<size_t> encode_cdb(const ScsiCommand& c, MutableBytes out) {
  uint8_t op = 0;
  switch (c.kind) {
    case ScsiCommandKind::kTestUnitReady:
      op = scsi_op::kTestUnitReady;
      break;
    case ScsiCommandKind::kRequestSense:
      op = scsi_op::kRequestSense;
      break;
    case ScsiCommandKind::kRead:
      if (!scsi_is_read(c.opcode)) return wire_error(WireErrc::kBadValue, "operation_code", 0);
      op = c.opcode;
      break;
    case ScsiCommandKind::kWrite:
      if (!scsi_is_write(c.opcode)) return wire_error(WireErrc::kBadValue, "operation_code", 0);
      op = c.opcode;
      break;
    case ScsiCommandKind::kInquiry:
      op = scsi_op::kInquiry;
      break;
    case ScsiCommandKind::kModeSense6:
      op = scsi_op::kModeSense6;
      break;
    case ScsiCommandKind::kModeSense10:
      op = scsi_op::kModeSense10;
      break;
    case ScsiCommandKind::kReadCapacity10:
      op = scsi_op::kReadCapacity10;
      break;
    case ScsiCommandKind::kReadCapacity16:
      op = scsi_op::kServiceActionIn16;
      break;
    case ScsiCommandKind::kSynchronizeCache:
      if (c.opcode != scsi_op::kSynchronizeCache10 && c.opcode != scsi_op::kSynchronizeCache16) {
        return wire_error(WireErrc::kBadValue, "operation_code", 0);
      }
      op = c.opcode;
      break;
    case ScsiCommandKind::kReserve6:
      op = scsi_op::kReserve6;
      break;
    case ScsiCommandKind::kRelease6:
      op = scsi_op::kRelease6;
      break;
    case ScsiCommandKind::kPersistentReserveIn:
      op = scsi_op::kPersistentReserveIn;
      break;
    case ScsiCommandKind::kPersistentReserveOut:
      op = scsi_op::kPersistentReserveOut;
      break;
    case ScsiCommandKind::kReportLuns:
      op = scsi_op::kReportLuns;
      break;
    case ScsiCommandKind::kVerify:
      if (!detail::in_family(c.opcode, scsi_op::kVerify10, scsi_op::kVerify12,
                             scsi_op::kVerify16)) {
        return wire_error(WireErrc::kBadValue, "operation_code", 0);
      }
      op = c.opcode;
      break;
    case ScsiCommandKind::kWriteAndVerify:
      if (!detail::in_family(c.opcode, scsi_op::kWriteAndVerify10, scsi_op::kWriteAndVerify12,
                             scsi_op::kWriteAndVerify16)) {
        return wire_error(WireErrc::kBadValue, "operation_code", 0);
      }
      op = c.opcode;
      break;
    case ScsiCommandKind::kWriteSame:
      if (c.opcode != scsi_op::kWriteSame10 && c.opcode != scsi_op::kWriteSame16) {
        return wire_error(WireErrc::kBadValue, "operation_code", 0);
      }
      op = c.opcode;
      break;
    case ScsiCommandKind::kUnmap:
      op = scsi_op::kUnmap;
      break;
    case ScsiCommandKind::kCompareAndWrite:
      op = scsi_op::kCompareAndWrite;
      break;
    default:
      return wire_error(WireErrc::kBadValue, "kind", 0);
  }
  const size_t len = scsi_cdb_length(op);
  if (!detail::control_ok(c.control)) {
    return wire_error(WireErrc::kBadValue, "control", static_cast<uint32_t>(len - 1));
  }
  if (out.size() < len) return wire_error(WireErrc::kBufferTooSmall, "cdb", 0);
  uint8_t* p = out.data();
  for (size_t i = 0; i < len; ++i)
    p[i] = 0;
  p[0] = op;
  p[len - 1] = c.control;
  const uint8_t group = c.group_number & 0x1F;
  const char* field = "";
  uint32_t offset = 0;
  switch (c.kind) {
    case ScsiCommandKind::kTestUnitReady:
    case ScsiCommandKind::kReserve6:
    case ScsiCommandKind::kRelease6:
      break;
    case ScsiCommandKind::kRequestSense:
      if (c.allocation_length > 0xFF)
        return wire_error(WireErrc::kBadValue, "allocation_length", 4);
      p[1] = c.desc ? 0x01 : 0;
      p[4] = static_cast<uint8_t>(c.allocation_length);
      break;
    case ScsiCommandKind::kRead:
    case ScsiCommandKind::kWrite:
      if (len == 6) {
        if (c.lba > 0x1FFFFF) return wire_error(WireErrc::kBadValue, "lba", 1);
        if (c.transfer_length == 0 || c.transfer_length > 256) {
          return wire_error(WireErrc::kBadValue, "transfer_length", 4);
        }
        store_be24(p + 1, static_cast<uint32_t>(c.lba));
        p[4] = static_cast<uint8_t>(c.transfer_length);  // 256 -> 0
        break;
      }
      p[1] = static_cast<uint8_t>((c.dpo ? 0x10 : 0) | (c.fua ? 0x08 : 0));
      if (!detail::encode_lba_length(c, len, p, &field, &offset)) {
        return wire_error(WireErrc::kBadValue, field, offset);
      }
      break;
    case ScsiCommandKind::kInquiry:
      if (!c.evpd && c.page_code != 0) return wire_error(WireErrc::kBadValue, "page_code", 2);
      if (c.allocation_length > 0xFFFF) {
        return wire_error(WireErrc::kBadValue, "allocation_length", 3);
      }
      p[1] = c.evpd ? 0x01 : 0;
      p[2] = c.page_code;
      store_be16(p + 3, static_cast<uint16_t>(c.allocation_length));
      break;
    case ScsiCommandKind::kModeSense6:
    case ScsiCommandKind::kModeSense10:
      if (c.page_control > 3) return wire_error(WireErrc::kBadValue, "page_control", 2);
      if (c.page_code > 0x3F) return wire_error(WireErrc::kBadValue, "page_code", 2);
      p[1] = static_cast<uint8_t>((c.dbd ? 0x08 : 0) | (len == 10 && c.llbaa ? 0x10 : 0));
      p[2] = static_cast<uint8_t>((c.page_control << 6) | c.page_code);
      p[3] = c.subpage_code;
      if (len == 6) {
        if (c.allocation_length > 0xFF) {
          return wire_error(WireErrc::kBadValue, "allocation_length", 4);
        }
        p[4] = static_cast<uint8_t>(c.allocation_length);
      } else {
        if (c.allocation_length > 0xFFFF) {
          return wire_error(WireErrc::kBadValue, "allocation_length", 7);
        }
        store_be16(p + 7, static_cast<uint16_t>(c.allocation_length));
      }
      break;
    case ScsiCommandKind::kReadCapacity10:
      if (c.lba > 0xFFFFFFFFu) return wire_error(WireErrc::kBadValue, "lba", 2);
      store_be32(p + 2, static_cast<uint32_t>(c.lba));
      p[8] = c.pmi ? 0x01 : 0;
      break;
    case ScsiCommandKind::kReadCapacity16:
      p[1] = kSaReadCapacity16;
      store_be64(p + 2, c.lba);
      store_be32(p + 10, c.allocation_length);
      p[14] = c.pmi ? 0x01 : 0;
      break;
    case ScsiCommandKind::kSynchronizeCache:
      p[1] = c.immed ? 0x02 : 0;
      if (!detail::encode_lba_length(c, len, p, &field, &offset)) {
        return wire_error(WireErrc::kBadValue, field, offset);
      }
      break;
    case ScsiCommandKind::kPersistentReserveIn:
      if (c.service_action > pr_in_sa::kReadFullStatus) {
        return wire_error(WireErrc::kBadValue, "service_action", 1);
      }
      if (c.allocation_length > 0xFFFF) {
        return wire_error(WireErrc::kBadValue, "allocation_length", 7);
      }
      p[1] = c.service_action;
      store_be16(p + 7, static_cast<uint16_t>(c.allocation_length));
      break;
    case ScsiCommandKind::kPersistentReserveOut:
      if (c.service_action > pr_out_sa::kReplaceLostReservation) {
        return wire_error(WireErrc::kBadValue, "service_action", 1);
      }
      if (c.pr_scope > 0x0F || c.pr_type > 0x0F) return wire_error(WireErrc::kBadValue, "type", 2);
      p[1] = c.service_action;
      p[2] = static_cast<uint8_t>((c.pr_scope << 4) | c.pr_type);
      store_be32(p + 5, c.parameter_list_length);
      break;
    case ScsiCommandKind::kReportLuns:
      p[2] = c.select_report;
      store_be32(p + 6, c.allocation_length);
      break;
    case ScsiCommandKind::kVerify:
    case ScsiCommandKind::kWriteAndVerify:
      if (c.bytchk > 3 || c.bytchk == 2) return wire_error(WireErrc::kBadValue, "bytchk", 1);
      p[1] = static_cast<uint8_t>((c.dpo ? 0x10 : 0) | (c.bytchk << 1));
      if (!detail::encode_lba_length(c, len, p, &field, &offset)) {
        return wire_error(WireErrc::kBadValue, field, offset);
      }
      break;
    case ScsiCommandKind::kWriteSame:
      if (len == 10 && c.ndob) return wire_error(WireErrc::kBadValue, "ndob", 1);
      p[1] =
          static_cast<uint8_t>((c.anchor ? 0x10 : 0) | (c.unmap ? 0x08 : 0) | (c.ndob ? 0x01 : 0));
      if (!detail::encode_lba_length(c, len, p, &field, &offset)) {
        return wire_error(WireErrc::kBadValue, field, offset);
      }
      break;
    case ScsiCommandKind::kUnmap:
      if (c.parameter_list_length > 0xFFFF) {
        return wire_error(WireErrc::kBadValue, "parameter_list_length", 7);
      }
      p[1] = c.anchor ? 0x01 : 0;
      p[6] = group;
      store_be16(p + 7, static_cast<uint16_t>(c.parameter_list_length));
      break;
    case ScsiCommandKind::kCompareAndWrite:
      if (c.transfer_length > 0xFF) return wire_error(WireErrc::kBadValue, "number_of_blocks", 13);
      p[1] = static_cast<uint8_t>((c.dpo ? 0x10 : 0) | (c.fua ? 0x08 : 0));
      store_be64(p + 2, c.lba);
      p[13] = static_cast<uint8_t>(c.transfer_length);
      p[14] = group;
      break;
  }
  return len;
}

// ------------------------------------------------ builders for the hosts

// READ/WRITE opcode of the smallest form the simulated hosts use: the 10-byte form
// when lba < 2^32 and blocks <= 65535, else the 16-byte form.
constexpr uint8_t smallest_rw_opcode(bool write, uint64_t lba, uint32_t blocks) {
  const bool fits10 = lba <= 0xFFFFFFFFu && blocks <= 0xFFFF;
  if (write) return fits10 ? scsi_op::kWrite10 : scsi_op::kWrite16;
  return fits10 ? scsi_op::kRead10 : scsi_op::kRead16;
}

// A READ or WRITE in the form `opcode` names (any of the 6/10/12/16 opcodes).
constexpr ScsiCommand make_rw(uint8_t opcode, uint64_t lba, uint32_t blocks, bool fua = false,
                              bool dpo = false) {
  ScsiCommand c;
  c.kind = scsi_is_write(opcode) ? ScsiCommandKind::kWrite : ScsiCommandKind::kRead;
  c.opcode = opcode;
  c.cdb_length = static_cast<uint8_t>(scsi_cdb_length(opcode));
  c.lba = lba;
  c.transfer_length = blocks;
  if (c.cdb_length != 6) {
    c.fua = fua;
    c.dpo = dpo;
  }
  return c;
}
constexpr ScsiCommand make_read(uint64_t lba, uint32_t blocks, bool fua = false) {
  return make_rw(smallest_rw_opcode(false, lba, blocks), lba, blocks, fua);
}
constexpr ScsiCommand make_write(uint64_t lba, uint32_t blocks, bool fua = false) {
  return make_rw(smallest_rw_opcode(true, lba, blocks), lba, blocks, fua);
}

namespace detail {
constexpr ScsiCommand make_simple(ScsiCommandKind kind, uint8_t opcode) {
  ScsiCommand c;
  c.kind = kind;
  c.opcode = opcode;
  c.cdb_length = static_cast<uint8_t>(scsi_cdb_length(opcode));
  return c;
}
}  // namespace detail

constexpr ScsiCommand make_test_unit_ready() {
  return detail::make_simple(ScsiCommandKind::kTestUnitReady, scsi_op::kTestUnitReady);
}
constexpr ScsiCommand make_request_sense(uint8_t allocation_length, bool desc = false) {
  ScsiCommand c = detail::make_simple(ScsiCommandKind::kRequestSense, scsi_op::kRequestSense);
  c.allocation_length = allocation_length;
  c.desc = desc;
  return c;
}
// Standard INQUIRY data when evpd is false (page_code must then be 0).
constexpr ScsiCommand make_inquiry(uint16_t allocation_length, bool evpd = false,
                                   uint8_t page_code = 0) {
  ScsiCommand c = detail::make_simple(ScsiCommandKind::kInquiry, scsi_op::kInquiry);
  c.allocation_length = allocation_length;
  c.evpd = evpd;
  c.page_code = page_code;
  return c;
}
constexpr ScsiCommand make_read_capacity10() {
  return detail::make_simple(ScsiCommandKind::kReadCapacity10, scsi_op::kReadCapacity10);
}
constexpr ScsiCommand make_read_capacity16(uint32_t allocation_length = 32) {
  ScsiCommand c =
      detail::make_simple(ScsiCommandKind::kReadCapacity16, scsi_op::kServiceActionIn16);
  c.service_action = kSaReadCapacity16;
  c.allocation_length = allocation_length;
  return c;
}
constexpr ScsiCommand make_report_luns(uint32_t allocation_length, uint8_t select_report = 0) {
  ScsiCommand c = detail::make_simple(ScsiCommandKind::kReportLuns, scsi_op::kReportLuns);
  c.allocation_length = allocation_length;
  c.select_report = select_report;
  return c;
}
// MODE SENSE(6) when ten is false, else MODE SENSE(10).
constexpr ScsiCommand make_mode_sense(bool ten, uint8_t page_code, uint16_t allocation_length,
                                      uint8_t page_control = 0, bool dbd = false,
                                      uint8_t subpage_code = 0) {
  ScsiCommand c = ten ? detail::make_simple(ScsiCommandKind::kModeSense10, scsi_op::kModeSense10)
                      : detail::make_simple(ScsiCommandKind::kModeSense6, scsi_op::kModeSense6);
  c.page_code = page_code;
  c.allocation_length = allocation_length;
  c.page_control = page_control;
  c.dbd = dbd;
  c.subpage_code = subpage_code;
  return c;
}
// SYNCHRONIZE CACHE(10) when it fits, else (16); blocks 0 means to the last LBA.
constexpr ScsiCommand make_synchronize_cache(uint64_t lba = 0, uint32_t blocks = 0,
                                             bool immed = false) {
  const bool fits10 = lba <= 0xFFFFFFFFu && blocks <= 0xFFFF;
  ScsiCommand c =
      detail::make_simple(ScsiCommandKind::kSynchronizeCache,
                          fits10 ? scsi_op::kSynchronizeCache10 : scsi_op::kSynchronizeCache16);
  c.lba = lba;
  c.transfer_length = blocks;
  c.immed = immed;
  return c;
}
constexpr ScsiCommand make_reserve6() {
  return detail::make_simple(ScsiCommandKind::kReserve6, scsi_op::kReserve6);
}
constexpr ScsiCommand make_release6() {
  return detail::make_simple(ScsiCommandKind::kRelease6, scsi_op::kRelease6);
}
constexpr ScsiCommand make_persistent_reserve_in(uint8_t service_action,
                                                 uint16_t allocation_length) {
  ScsiCommand c =
      detail::make_simple(ScsiCommandKind::kPersistentReserveIn, scsi_op::kPersistentReserveIn);
  c.service_action = service_action;
  c.allocation_length = allocation_length;
  return c;
}
constexpr ScsiCommand make_persistent_reserve_out(uint8_t service_action, uint8_t type,
                                                  uint32_t parameter_list_length = 24) {
  ScsiCommand c =
      detail::make_simple(ScsiCommandKind::kPersistentReserveOut, scsi_op::kPersistentReserveOut);
  c.service_action = service_action;
  c.pr_type = type;
  c.parameter_list_length = parameter_list_length;
  return c;
}
// VERIFY(16) of `blocks` blocks at `lba`; with bytchk::kCompare the Data-Out
// buffer holds the blocks to compare with.
constexpr ScsiCommand make_verify(uint64_t lba, uint32_t blocks, uint8_t bytchk = bytchk::kNone,
                                  uint8_t opcode = scsi_op::kVerify16) {
  ScsiCommand c = detail::make_simple(ScsiCommandKind::kVerify, opcode);
  c.lba = lba;
  c.transfer_length = blocks;
  c.bytchk = bytchk;
  return c;
}
constexpr ScsiCommand make_write_and_verify(uint64_t lba, uint32_t blocks,
                                            uint8_t opcode = scsi_op::kWriteAndVerify16) {
  ScsiCommand c = detail::make_simple(ScsiCommandKind::kWriteAndVerify, opcode);
  c.lba = lba;
  c.transfer_length = blocks;
  c.bytchk = bytchk::kCompare;
  return c;
}
// WRITE SAME(16): one block of Data-Out written to `blocks` blocks at `lba`
// (zeros without a Data-Out buffer when ndob); unmap asks to deallocate them.
constexpr ScsiCommand make_write_same(uint64_t lba, uint32_t blocks, bool unmap = false,
                                      bool ndob = false, uint8_t opcode = scsi_op::kWriteSame16) {
  ScsiCommand c = detail::make_simple(ScsiCommandKind::kWriteSame, opcode);
  c.lba = lba;
  c.transfer_length = blocks;
  c.unmap = unmap;
  c.ndob = ndob;
  return c;
}
constexpr ScsiCommand make_unmap(uint16_t parameter_list_length) {
  ScsiCommand c = detail::make_simple(ScsiCommandKind::kUnmap, scsi_op::kUnmap);
  c.parameter_list_length = parameter_list_length;
  return c;
}
// COMPARE AND WRITE: the Data-Out buffer holds `blocks` blocks to compare, then
// `blocks` blocks to write.
constexpr ScsiCommand make_compare_and_write(uint64_t lba, uint8_t blocks, bool fua = false) {
  ScsiCommand c = detail::make_simple(ScsiCommandKind::kCompareAndWrite, scsi_op::kCompareAndWrite);
  c.lba = lba;
  c.transfer_length = blocks;
  c.fua = fua;
  return c;
}

// READ(16) or WRITE(16) into `out`, byte for byte what
// encode_cdb(make_rw(kRead16 or kWrite16, lba, blocks, fua, dpo)) writes
// (group 0, CONTROL 0), without building a ScsiCommand: the FP's per-I/O
// remap.
constexpr void encode_read_write16(bool write, uint64_t lba, uint32_t blocks, bool fua, bool dpo,
                                   std::span<uint8_t, 16> out) {
  uint8_t* p = out.data();
  p[0] = write ? scsi_op::kWrite16 : scsi_op::kRead16;
  p[1] = static_cast<uint8_t>((dpo ? 0x10 : 0) | (fua ? 0x08 : 0));
  store_be64(p + 2, lba);
  store_be32(p + 10, blocks);
  p[14] = 0;
  p[15] = 0;
}

}  // namespace splitpath::fc
