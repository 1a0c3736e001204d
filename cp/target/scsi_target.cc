#include "cp/target/scsi_target.h"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_data.h"
#include "splitpath/fc/scsi_inquiry.h"
#include "splitpath/fc/scsi_lun.h"
#include "splitpath/fc/scsi_mode.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {

namespace {

// START STOP UNIT (SBC-3) is not in scsi_cdb.h's decoder: 6-byte CDB, 1 bit 0
// IMMED, 4 bits 7..4 POWER CONDITION, bit 1 LOEJ, bit 0 START, 5 control.
constexpr uint8_t kStartStopUnit = fc::scsi_op::kStartStopUnit;

// Block limits (0xB0) and block device characteristics (0xB1) VPD pages
// (SBC-3): 64 bytes each, encoded here as include/splitpath/fc has no codec.
constexpr size_t kBlockLimitsPageSize = 64;
constexpr size_t kBlockDeviceCharacteristicsPageSize = 64;
constexpr uint16_t kMediumRotationNonRotating = 0x0001;
// Logical block provisioning VPD page (SBC-3): byte 5 LBPU (UNMAP), LBPWS
// (WRITE SAME(16) with UNMAP), LBPWS10, LBPRZ (unmapped blocks read zero);
// byte 6 bits 2..0 provisioning type.
constexpr size_t kLogicalBlockProvisioningPageSize = 8;
constexpr uint8_t kLbpu = 0x80;
constexpr uint8_t kLbpws = 0x40;
constexpr uint8_t kLbpws10 = 0x20;
constexpr uint8_t kLbprz = 0x04;
constexpr uint8_t kProvisioningTypeThin = 0x02;

// Room for the largest parameter data built here: MODE SENSE(10) with a long
// block descriptor and both pages is 56 bytes, a VPD page at most 64.
using Buffer = std::array<uint8_t, 256>;

ScsiReply sense_reply(const fc::SenseData& sense) {
  ScsiReply r;
  r.status = fc::scsi_status::kCheckCondition;
  r.sense.resize(fc::kFixedSenseSize);
  (void)fc::encode_sense_data(sense, r.sense);
  return r;
}

ScsiReply illegal_request(fc::AscAscq code) {
  return sense_reply(fc::make_sense(fc::sense_key::kIllegalRequest, code));
}

ScsiReply invalid_field_in_cdb(uint16_t byte_offset, int bit = -1) {
  return sense_reply(fc::make_invalid_field_in_cdb(byte_offset, bit));
}

ScsiReply invalid_opcode() {
  return sense_reply(fc::make_illegal_request(fc::asc::kInvalidCommandOperationCode, true, 0));
}

ScsiReply good() {
  return ScsiReply{fc::scsi_status::kGood, {}, {}};
}

// GOOD with the first min(n, allocation_length) bytes of `buf`.
ScsiReply good_data(const Buffer& buf, size_t n, uint32_t allocation_length) {
  ScsiReply r = good();
  r.data.assign(buf.begin(), buf.begin() + std::min<size_t>(n, allocation_length));
  return r;
}

// Maps a decode_cdb error to sense data (see scsi_cdb.h's error contract).
ScsiReply decode_failure(const fc::WireError& e) {
  if (e.code == fc::WireErrc::kTruncated) {
    // A short CDB has no offending field to point at.
    return illegal_request(fc::asc::kInvalidFieldInCdb);
  }
  if (e.code == fc::WireErrc::kUnsupported && std::string_view(e.field) == "operation_code") {
    return invalid_opcode();
  }
  return invalid_field_in_cdb(static_cast<uint16_t>(e.offset));
}

std::string unit_serial(const LogicalUnitInfo& unit) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string s(20, '0');
  for (int i = 0; i < 16; ++i)
    s[i] = kHex[(unit.target_wwpn >> (60 - 4 * i)) & 0xF];
  for (int i = 0; i < 4; ++i)
    s[16 + i] = kHex[(unit.lun >> (12 - 4 * i)) & 0xF];
  return s;
}

// NAA 6 (IEEE registered extended) LU designator, 16 bytes: NAA 6, IEEE company
// ID kSplitpathOui, the LUN as the 36-bit vendor specific identifier, and the
// target WWPN as the 64-bit extension. WWPNs are unique, so the LU names are too.
fc::Designator lu_designator(const LogicalUnitInfo& unit) {
  fc::Designator d;
  d.code_set = fc::code_set::kBinary;
  d.association = fc::designator_association::kLogicalUnit;
  d.type = fc::designator_type::kNaa;
  d.length = 16;
  const uint64_t head =
      (uint64_t{0x6} << 60) | (uint64_t{kSplitpathOui} << 36) | uint64_t{unit.lun};
  fc::store_be64(d.value.data(), head);
  fc::store_be64(d.value.data() + 8, unit.target_wwpn);
  return d;
}

ScsiReply inquiry(const fc::ScsiCommand& cmd, const LogicalUnitInfo* unit) {
  Buffer buf{};
  if (!cmd.evpd) {
    fc::InquiryData inq;
    if (!unit) {
      inq.peripheral_qualifier = fc::kQualifierNotPresent;
      inq.device_type = fc::kDeviceTypeUnknown;
    }
    fc::set_ascii_field(inq.vendor, kInquiryVendor);
    fc::set_ascii_field(inq.product, kInquiryProduct);
    fc::set_ascii_field(inq.revision, kInquiryRevision);
    if (unit) {
      inq.version_descriptors = {fc::version_descriptor::kSam5, fc::version_descriptor::kSpc4,
                                 fc::version_descriptor::kSbc3, fc::version_descriptor::kFcp4};
    }
    auto n = fc::encode_inquiry_data(inq, buf);
    return good_data(buf, *n, cmd.allocation_length);
  }
  // VPD pages describe an LU; a LUN with none has nothing to describe.
  if (!unit) return illegal_request(fc::asc::kLogicalUnitNotSupported);
  size_t n = 0;
  switch (cmd.page_code) {
    case fc::vpd_page::kSupportedPages: {
      fc::VpdSupportedPages v;
      for (uint8_t p :
           {fc::vpd_page::kSupportedPages, fc::vpd_page::kUnitSerialNumber,
            fc::vpd_page::kDeviceIdentification, fc::vpd_page::kBlockLimits,
            fc::vpd_page::kBlockDeviceCharacteristics, fc::vpd_page::kLogicalBlockProvisioning}) {
        v.pages[v.count++] = p;
      }
      n = *fc::encode_vpd_supported_pages(v, buf);
      break;
    }
    case fc::vpd_page::kUnitSerialNumber:
      n = *fc::encode_vpd_unit_serial_number(fc::make_vpd_unit_serial_number(unit_serial(*unit)),
                                             buf);
      break;
    case fc::vpd_page::kDeviceIdentification: {
      // The target port is named by its WWPN (FCP-4), NAA 5 for the WWPNs the
      // simulator makes up.
      fc::VpdDeviceIdentification v;
      v.designators[v.count++] = lu_designator(*unit);
      v.designators[v.count++] =
          fc::make_naa_designator(unit->target_wwpn, fc::designator_association::kTargetPort);
      n = *fc::encode_vpd_device_identification(v, buf);
      break;
    }
    case fc::vpd_page::kBlockLimits:
      fc::detail::put_vpd_header(buf.data(), 0, fc::kDeviceTypeDisk, fc::vpd_page::kBlockLimits,
                                 kBlockLimitsPageSize - fc::kVpdHeaderSize);
      buf[4] = 0x01;  // WSNZ: a WRITE SAME of 0 blocks is refused
      buf[5] = kMaxCompareAndWriteBlocks;
      fc::store_be32(buf.data() + 8, unit->max_transfer_blocks);  // MAXIMUM TRANSFER LENGTH
      fc::store_be32(buf.data() + 20, kMaxUnmapBlocks);
      fc::store_be32(buf.data() + 24, kMaxUnmapDescriptors);
      fc::store_be32(buf.data() + 28, 1);  // OPTIMAL UNMAP GRANULARITY
      fc::store_be64(buf.data() + 36, kMaxWriteSameBlocks);
      n = kBlockLimitsPageSize;
      break;
    case fc::vpd_page::kBlockDeviceCharacteristics:
      fc::detail::put_vpd_header(buf.data(), 0, fc::kDeviceTypeDisk,
                                 fc::vpd_page::kBlockDeviceCharacteristics,
                                 kBlockDeviceCharacteristicsPageSize - fc::kVpdHeaderSize);
      fc::store_be16(buf.data() + 4, kMediumRotationNonRotating);
      n = kBlockDeviceCharacteristicsPageSize;
      break;
    case fc::vpd_page::kLogicalBlockProvisioning:
      fc::detail::put_vpd_header(buf.data(), 0, fc::kDeviceTypeDisk,
                                 fc::vpd_page::kLogicalBlockProvisioning,
                                 kLogicalBlockProvisioningPageSize - fc::kVpdHeaderSize);
      buf[5] = kLbpu | kLbpws | kLbpws10 | kLbprz;
      buf[6] = kProvisioningTypeThin;
      n = kLogicalBlockProvisioningPageSize;
      break;
    default:
      return invalid_field_in_cdb(2);
  }
  return good_data(buf, n, cmd.allocation_length);
}

ScsiReply report_luns(const fc::ScsiCommand& cmd, std::span<const uint16_t> visible_luns) {
  std::vector<fc::ScsiLun> luns;
  // SELECT REPORT 0 and 2 ask for the LUs the initiator may address; the other
  // values ask only for well-known or administrative LUs, of which there are none.
  if (cmd.select_report == 0x00 || cmd.select_report == 0x02) {
    std::vector<uint16_t> sorted(visible_luns.begin(), visible_luns.end());
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (uint16_t lun : sorted) {
      if (lun <= fc::kMaxFlatLun) luns.push_back(fc::make_lun(lun));
    }
  }
  ScsiReply r = good();
  r.data.resize(std::min<size_t>(fc::report_luns_size(luns.size()), cmd.allocation_length));
  fc::encode_report_luns(luns, r.data);
  return r;
}

ScsiReply request_sense(const fc::ScsiCommand& cmd, const LogicalUnitInfo* unit) {
  if (cmd.desc) return invalid_field_in_cdb(1, 0);  // descriptor format not supported
  // No deferred errors are kept. An absent LU reports LOGICAL UNIT NOT SUPPORTED
  // in the parameter data, with GOOD status (SPC-4, incorrect logical unit).
  const fc::SenseData s =
      unit ? fc::make_sense(fc::sense_key::kNoSense, fc::asc::kNoAdditionalSense)
           : fc::make_sense(fc::sense_key::kIllegalRequest, fc::asc::kLogicalUnitNotSupported);
  Buffer buf{};
  auto n = fc::encode_sense_data(s, buf);
  return good_data(buf, *n, cmd.allocation_length);
}

ScsiReply mode_sense(const fc::ScsiCommand& cmd, const LogicalUnitInfo& unit) {
  const bool ten = cmd.kind == fc::ScsiCommandKind::kModeSense10;
  constexpr uint8_t kPcChangeable = 1;
  constexpr uint8_t kPcSaved = 3;
  if (cmd.page_control == kPcSaved) {
    return sense_reply(
        fc::make_illegal_request(fc::asc::kSavingParametersNotSupported, true, 2, 7));
  }
  if (cmd.page_code != fc::mode_page::kCaching && cmd.page_code != fc::mode_page::kControl &&
      cmd.page_code != fc::mode_page::kAllPages) {
    return invalid_field_in_cdb(2, 5);
  }
  // Neither page has subpages: subpage 0, or 0xFF (the page and all its subpages).
  if (cmd.subpage_code != 0x00 && cmd.subpage_code != 0xFF) return invalid_field_in_cdb(3);

  fc::ModeSenseData m;
  // DPOFUA: the FP and the CP carry DPO and FUA to every leg they send.
  m.device_specific = static_cast<uint8_t>((unit.read_only ? fc::kDeviceSpecificWp : 0) |
                                           fc::kDeviceSpecificDpoFua);
  m.has_block_descriptor = !cmd.dbd;
  m.long_lba = ten && cmd.llbaa;
  m.block_descriptor.number_of_blocks = unit.blocks;
  m.block_descriptor.block_length = unit.block_size;
  m.has_caching = cmd.page_code != fc::mode_page::kControl;
  m.has_control = cmd.page_code != fc::mode_page::kCaching;
  // MODE SELECT is not supported, so no field is changeable (all zero). Current
  // and default values are equal. No volatile write cache is claimed (WCE 0):
  // SYNCHRONIZE CACHE is answered here without reaching the backing disks.
  if (cmd.page_control != kPcChangeable) m.control.queue_algorithm_modifier = 1;
  Buffer buf{};
  auto n = fc::encode_mode_sense(m, ten, buf);
  if (!n.ok()) {
    // Only a block length above 24 bits in a short block descriptor gets here.
    return sense_reply(fc::make_sense(fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInCdb));
  }
  return good_data(buf, *n, cmd.allocation_length);
}

ScsiReply read_capacity10(const LogicalUnitInfo& unit) {
  Buffer buf{};
  const uint64_t last_lba = unit.blocks == 0 ? 0 : unit.blocks - 1;
  auto n = fc::encode_read_capacity10_data(fc::make_read_capacity10_data(last_lba, unit.block_size),
                                           buf);
  return good_data(buf, *n, fc::kReadCapacity10DataSize);
}

ScsiReply read_capacity16(const fc::ScsiCommand& cmd, const LogicalUnitInfo& unit) {
  fc::ReadCapacity16Data d;
  d.last_lba = unit.blocks == 0 ? 0 : unit.blocks - 1;
  d.block_length = unit.block_size;
  d.lbpme = true;  // thin: UNMAP gives the disks' blocks back
  d.lbprz = true;
  Buffer buf{};
  auto n = fc::encode_read_capacity16_data(d, buf);
  return good_data(buf, *n, cmd.allocation_length);
}

ScsiReply synchronize_cache(const fc::ScsiCommand& cmd, const LogicalUnitInfo& unit) {
  // NUMBER OF LOGICAL BLOCKS 0 means "to the last LBA".
  if (cmd.lba > unit.blocks || cmd.transfer_length > unit.blocks - cmd.lba) {
    return illegal_request(fc::asc::kLbaOutOfRange);
  }
  return good();
}

ScsiReply start_stop_unit(std::span<const uint8_t> cdb) {
  if (cdb.size() < 6) return illegal_request(fc::asc::kInvalidFieldInCdb);
  if (!fc::detail::control_ok(cdb[5])) return invalid_field_in_cdb(5);
  // A virtual volume has no medium to spin or eject: every power condition and
  // START/LOEJ combination is accepted and changes nothing.
  return good();
}

}  // namespace

ScsiReply check_condition(uint8_t sense_key, uint8_t asc, uint8_t ascq) {
  return sense_reply(
      fc::make_sense(static_cast<uint8_t>(sense_key & 0x0F), fc::AscAscq{asc, ascq}));
}

ScsiReply answer_target_command(std::span<const uint8_t> cdb, const LogicalUnitInfo* unit,
                                std::span<const uint16_t> visible_luns) {
  if (cdb.empty()) return illegal_request(fc::asc::kInvalidFieldInCdb);
  const uint8_t opcode = cdb[0];
  const bool any_lun = opcode == fc::scsi_op::kInquiry || opcode == fc::scsi_op::kReportLuns ||
                       opcode == fc::scsi_op::kRequestSense;
  if (!unit && !any_lun) return illegal_request(fc::asc::kLogicalUnitNotSupported);
  if (opcode == kStartStopUnit) return start_stop_unit(cdb);

  auto decoded = fc::decode_cdb(cdb);
  if (!decoded.ok()) return decode_failure(decoded.error());
  const fc::ScsiCommand& cmd = *decoded;
  switch (cmd.kind) {
    case fc::ScsiCommandKind::kInquiry:
      return inquiry(cmd, unit);
    case fc::ScsiCommandKind::kReportLuns:
      return report_luns(cmd, visible_luns);
    case fc::ScsiCommandKind::kRequestSense:
      return request_sense(cmd, unit);
    default:
      break;
  }
  switch (cmd.kind) {
    case fc::ScsiCommandKind::kTestUnitReady:
      return good();
    case fc::ScsiCommandKind::kReadCapacity10:
      return read_capacity10(*unit);
    case fc::ScsiCommandKind::kReadCapacity16:
      return read_capacity16(cmd, *unit);
    case fc::ScsiCommandKind::kModeSense6:
    case fc::ScsiCommandKind::kModeSense10:
      return mode_sense(cmd, *unit);
    case fc::ScsiCommandKind::kSynchronizeCache:
      return synchronize_cache(cmd, *unit);
    default:
      // READ/WRITE belong to the data path; reservations need state the caller keeps.
      return invalid_opcode();
  }
}

}  // namespace splitpath::cp
