// The disk's device server for everything but the READ/WRITE data path:
// INQUIRY (standard and VPD 0x00, 0x80, 0x83), READ CAPACITY(10/16), REPORT
// LUNS, MODE SENSE(6/10), REQUEST SENSE, TEST UNIT READY, SYNCHRONIZE CACHE,
// RESERVE/RELEASE(6), PERSISTENT RESERVE IN/OUT, and the reservation checks that
// gate media access. A LU masked from the initiator (Disk::visible) reaches
// execute() as no LU at all (task.lu null): left out of REPORT LUNS; INQUIRY
// answers peripheral qualifier 011b / type 1Fh; REQUEST SENSE returns, and every
// other command ends in CHECK CONDITION with, ILLEGAL REQUEST, LOGICAL UNIT NOT
// SUPPORTED (25h/00h).
#include <algorithm>

#include "fabric_sim/node/disk.h"
#include "fabric_sim/node/disk_internal.h"
#include "fmt/format.h"
#include "splitpath/fc/scsi_data.h"
#include "splitpath/fc/scsi_inquiry.h"
#include "splitpath/fc/scsi_mode.h"

namespace splitpath::sim {

namespace {

using fc::ScsiCommandKind;

Disk::Outcome lba_out_of_range() {
  return {fc::scsi_status::kCheckCondition,
          fc::make_sense(fc::sense_key::kIllegalRequest, fc::asc::kLbaOutOfRange)};
}

Disk::Outcome not_supported_lun() {
  return {fc::scsi_status::kCheckCondition,
          fc::make_sense(fc::sense_key::kIllegalRequest, fc::asc::kLogicalUnitNotSupported)};
}

// Appends `n` bytes of `src` to `out`, cut to the allocation length.
void append_truncated(std::vector<uint8_t>& out, const uint8_t* src, size_t n, uint32_t alloc) {
  out.assign(src, src + std::min<size_t>(n, alloc));
}

// Whether a persistent reservation of `type` lets initiator `who` (registered
// or not) do a media access of this direction.
bool pr_permits(const absl::btree_map<uint32_t, uint64_t>& regs, std::optional<uint32_t> holder,
                uint8_t type, uint32_t who, bool write) {
  if (!holder || *holder == who) return true;
  const bool registered = regs.contains(who);
  switch (type) {
    case fc::pr_type::kWriteExclusive:
      return !write;
    case fc::pr_type::kExclusiveAccess:
      return false;
    case fc::pr_type::kWriteExclusiveRegistrantsOnly:
    case fc::pr_type::kWriteExclusiveAllRegistrants:
      return !write || registered;
    case fc::pr_type::kExclusiveAccessRegistrantsOnly:
    case fc::pr_type::kExclusiveAccessAllRegistrants:
      return registered;
    default:
      return false;
  }
}

}  // namespace

Disk::Outcome Disk::check_media_access(const Task& task, const fc::ScsiCommand& cmd) const {
  if (!task.lu) return not_supported_lun();
  const LogicalUnit& lu = *task.lu;
  if (cmd.lba > lu.config.blocks || cmd.transfer_length > lu.config.blocks - cmd.lba) {
    return lba_out_of_range();
  }
  const bool write = cmd.kind != ScsiCommandKind::kRead && cmd.kind != ScsiCommandKind::kVerify;
  if (lu.reserved_by && *lu.reserved_by != task.initiator.value) {
    return Outcome::status_only(fc::scsi_status::kReservationConflict);
  }
  if (!pr_permits(lu.registrations, lu.pr_holder, lu.pr_type, task.initiator.value, write)) {
    return Outcome::status_only(fc::scsi_status::kReservationConflict);
  }
  return Outcome::good();
}

Disk::Outcome Disk::execute(Task& task, const fc::ScsiCommand& cmd, std::vector<uint8_t>& data) {
  LogicalUnit* lu = task.lu;
  const uint32_t who = task.initiator.value;
  uint8_t buf[512] = {};

  // Commands every LUN number answers, present or not (SPC-4 table 12 style).
  switch (cmd.kind) {
    case ScsiCommandKind::kReportLuns: {
      if (cmd.select_report > 2)
        return {fc::scsi_status::kCheckCondition, fc::make_invalid_field_in_cdb(2)};
      if (cmd.allocation_length < 16) {
        return {fc::scsi_status::kCheckCondition, fc::make_invalid_field_in_cdb(6)};
      }
      // LUN masking: only the LUs this initiator may see are listed.
      std::vector<fc::ScsiLun> luns;
      for (const auto& l : luns_) {
        if (visible(*l, task.initiator)) luns.push_back(fc::make_lun(l->config.lun));
      }
      data.resize(std::min<size_t>(fc::report_luns_size(luns.size()), cmd.allocation_length));
      fc::encode_report_luns(luns, data);
      return Outcome::good();
    }
    case ScsiCommandKind::kInquiry: {
      if (!cmd.evpd) {
        fc::InquiryData inq;
        if (!lu) {
          inq.peripheral_qualifier = fc::kQualifierNotPresent;
          inq.device_type = fc::kDeviceTypeUnknown;
        }
        fc::set_ascii_field(inq.vendor, "SPLITPTH");
        fc::set_ascii_field(inq.product, "SIM DISK");
        fc::set_ascii_field(inq.revision, "0001");
        auto n = fc::encode_inquiry_data(inq, buf);
        append_truncated(data, buf, *n, cmd.allocation_length);
        return Outcome::good();
      }
      if (!lu) return not_supported_lun();
      // The LU's identity is the device's (its port 0's name) on every port,
      // so an initiator can tell two ports of one disk (multipath).
      const std::string serial = fmt::format("{:016X}{:04X}", device_wwpn_, lu->config.lun);
      fc::WireResult<size_t> n = size_t{0};
      switch (cmd.page_code) {
        case fc::vpd_page::kSupportedPages: {
          fc::VpdSupportedPages v;
          for (uint8_t p : {fc::vpd_page::kSupportedPages, fc::vpd_page::kUnitSerialNumber,
                            fc::vpd_page::kDeviceIdentification}) {
            v.pages[v.count++] = p;
          }
          n = fc::encode_vpd_supported_pages(v, buf);
          break;
        }
        case fc::vpd_page::kUnitSerialNumber:
          n = fc::encode_vpd_unit_serial_number(fc::make_vpd_unit_serial_number(serial), buf);
          break;
        case fc::vpd_page::kDeviceIdentification: {
          // NAA 5 (IEEE registered) for the LU, from the port name and LUN; the
          // target port's own name as a target-port designator.
          fc::VpdDeviceIdentification v;
          const uint64_t naa = (0x5ull << 60) | ((device_wwpn_ & 0x0FFFFFFFFFFFull) << 12) |
                               (lu->config.lun & 0xFFF);
          v.designators[v.count++] = fc::make_naa_designator(naa);
          v.designators[v.count++] = fc::make_t10_vendor_designator("SPLITPTH", serial);
          v.designators[v.count++] =
              fc::make_naa_designator(wwpn(), fc::designator_association::kTargetPort);
          n = fc::encode_vpd_device_identification(v, buf);
          break;
        }
        default:
          return {fc::scsi_status::kCheckCondition, fc::make_invalid_field_in_cdb(2)};
      }
      append_truncated(data, buf, *n, cmd.allocation_length);
      return Outcome::good();
    }
    case ScsiCommandKind::kRequestSense: {
      // No deferred errors are kept: the answer is NO SENSE (or, for an absent
      // LUN, LOGICAL UNIT NOT SUPPORTED, as SPC-4 5.10 asks).
      if (cmd.desc) return {fc::scsi_status::kCheckCondition, fc::make_invalid_field_in_cdb(1, 0)};
      const fc::SenseData s =
          lu ? fc::make_sense(fc::sense_key::kNoSense, fc::asc::kNoAdditionalSense)
             : fc::make_sense(fc::sense_key::kIllegalRequest, fc::asc::kLogicalUnitNotSupported);
      auto n = fc::encode_sense_data(s, buf);
      append_truncated(data, buf, *n, cmd.allocation_length);
      return Outcome::good();
    }
    default:
      break;
  }
  if (!lu) return not_supported_lun();

  // SPC-2 reservations: the holder alone may use the LU, except for commands
  // that only describe it.
  if (lu->reserved_by && *lu->reserved_by != who && cmd.kind != ScsiCommandKind::kRelease6 &&
      cmd.kind != ScsiCommandKind::kPersistentReserveIn) {
    return Outcome::status_only(fc::scsi_status::kReservationConflict);
  }

  const uint64_t blocks = lu->config.blocks;
  const uint32_t block_size = lu->config.block_size;
  switch (cmd.kind) {
    case ScsiCommandKind::kTestUnitReady:
      return Outcome::good();
    case ScsiCommandKind::kReadCapacity10: {
      auto n = fc::encode_read_capacity10_data(
          fc::make_read_capacity10_data(blocks - 1, block_size), buf);
      data.assign(buf, buf + *n);
      return Outcome::good();
    }
    case ScsiCommandKind::kReadCapacity16: {
      fc::ReadCapacity16Data d;
      d.last_lba = blocks - 1;
      d.block_length = block_size;
      auto n = fc::encode_read_capacity16_data(d, buf);
      append_truncated(data, buf, *n, cmd.allocation_length);
      return Outcome::good();
    }
    case ScsiCommandKind::kModeSense6:
    case ScsiCommandKind::kModeSense10: {
      const bool ten = cmd.kind == ScsiCommandKind::kModeSense10;
      if (cmd.page_control == 3) {
        return {fc::scsi_status::kCheckCondition,
                fc::make_illegal_request(fc::asc::kSavingParametersNotSupported, true, 2, 7)};
      }
      if (cmd.subpage_code != 0 ||
          (cmd.page_code != fc::mode_page::kCaching && cmd.page_code != fc::mode_page::kControl &&
           cmd.page_code != fc::mode_page::kAllPages)) {
        return {fc::scsi_status::kCheckCondition, fc::make_invalid_field_in_cdb(2)};
      }
      fc::ModeSenseData m;
      m.device_specific = fc::kDeviceSpecificDpoFua;
      m.has_block_descriptor = !cmd.dbd;
      m.long_lba = ten && cmd.llbaa;
      m.block_descriptor.number_of_blocks = blocks;
      m.block_descriptor.block_length = block_size;
      const bool changeable = cmd.page_control == 1;
      m.has_caching = cmd.page_code != fc::mode_page::kControl;
      m.caching.wce = !changeable;  // a write-back cache, not changeable
      m.has_control = cmd.page_code != fc::mode_page::kCaching;
      m.control.queue_algorithm_modifier = changeable ? 0 : 1;
      auto n = fc::encode_mode_sense(m, ten, buf);
      append_truncated(data, buf, *n, cmd.allocation_length);
      return Outcome::good();
    }
    case ScsiCommandKind::kSynchronizeCache:
      if (cmd.lba > blocks || cmd.transfer_length > blocks - cmd.lba) return lba_out_of_range();
      return Outcome::good();  // the store is always durable
    case ScsiCommandKind::kReserve6:
      lu->reserved_by = who;
      return Outcome::good();
    case ScsiCommandKind::kRelease6:
      if (lu->reserved_by == who) lu->reserved_by.reset();
      return Outcome::good();
    case ScsiCommandKind::kPersistentReserveIn:
      switch (cmd.service_action) {
        case fc::pr_in_sa::kReadKeys: {
          std::vector<uint64_t> keys;
          for (const auto& [initiator, key] : lu->registrations)
            keys.push_back(key);
          data.resize(std::min<size_t>(8 + 8 * keys.size(), cmd.allocation_length));
          fc::encode_pr_in_read_keys(lu->pr_generation, keys, data);
          return Outcome::good();
        }
        case fc::pr_in_sa::kReadReservation: {
          fc::PrReservation r;
          r.generation = lu->pr_generation;
          if (lu->pr_holder) {
            r.present = true;
            r.key = lu->registrations.contains(*lu->pr_holder)
                        ? lu->registrations.at(*lu->pr_holder)
                        : 0;
            r.type = lu->pr_type;
          }
          data.resize(std::min<size_t>(r.present ? 24 : 8, cmd.allocation_length));
          fc::encode_pr_in_read_reservation(r, data);
          return Outcome::good();
        }
        default:
          return {fc::scsi_status::kCheckCondition, fc::make_invalid_field_in_cdb(1)};
      }
    case ScsiCommandKind::kPersistentReserveOut: {
      auto params = fc::decode_pr_out_parameters(task.parameters);
      if (!params.ok()) {
        const auto& e = params.error();
        return {
            fc::scsi_status::kCheckCondition,
            e.code == fc::WireErrc::kBadLength
                ? fc::make_sense(fc::sense_key::kIllegalRequest, fc::asc::kParameterListLengthError)
                : fc::make_illegal_request(fc::asc::kInvalidFieldInParameterList, false,
                                           static_cast<uint16_t>(e.offset))};
      }
      auto reg = lu->registrations.find(who);
      const uint64_t current = reg == lu->registrations.end() ? 0 : reg->second;
      const bool ignore_key = cmd.service_action == fc::pr_out_sa::kRegisterAndIgnoreExistingKey;
      if (!ignore_key && params->reservation_key != current) {
        return Outcome::status_only(fc::scsi_status::kReservationConflict);
      }
      switch (cmd.service_action) {
        case fc::pr_out_sa::kRegister:
        case fc::pr_out_sa::kRegisterAndIgnoreExistingKey:
          if (params->service_action_reservation_key == 0) {
            lu->registrations.erase(who);
            if (lu->pr_holder == who) lu->pr_holder.reset();
          } else {
            lu->registrations[who] = params->service_action_reservation_key;
          }
          ++lu->pr_generation;
          return Outcome::good();
        case fc::pr_out_sa::kReserve:
          if (reg == lu->registrations.end()) {
            return Outcome::status_only(fc::scsi_status::kReservationConflict);
          }
          if (!fc::pr_type::valid(cmd.pr_type)) {
            return {fc::scsi_status::kCheckCondition, fc::make_invalid_field_in_cdb(2)};
          }
          if (lu->pr_holder && (*lu->pr_holder != who || lu->pr_type != cmd.pr_type)) {
            return Outcome::status_only(fc::scsi_status::kReservationConflict);
          }
          lu->pr_holder = who;
          lu->pr_type = cmd.pr_type;
          return Outcome::good();
        case fc::pr_out_sa::kRelease:
          if (reg == lu->registrations.end()) {
            return Outcome::status_only(fc::scsi_status::kReservationConflict);
          }
          if (lu->pr_holder == who) {
            if (lu->pr_type != cmd.pr_type) {
              return {fc::scsi_status::kCheckCondition,
                      fc::make_sense(fc::sense_key::kIllegalRequest,
                                     fc::AscAscq{0x26, 0x04})};  // INVALID RELEASE OF PR
            }
            lu->pr_holder.reset();
          }
          return Outcome::good();
        case fc::pr_out_sa::kClear:
          if (reg == lu->registrations.end()) {
            return Outcome::status_only(fc::scsi_status::kReservationConflict);
          }
          lu->registrations.clear();
          lu->pr_holder.reset();
          ++lu->pr_generation;
          return Outcome::good();
        default:
          return {fc::scsi_status::kCheckCondition, fc::make_invalid_field_in_cdb(1)};
      }
    }
    case ScsiCommandKind::kVerify:
    case ScsiCommandKind::kWriteSame:
    case ScsiCommandKind::kUnmap:
    case ScsiCommandKind::kCompareAndWrite:
      return execute_block_command(task);
    default:
      return {fc::scsi_status::kCheckCondition,
              fc::make_illegal_request(fc::asc::kInvalidCommandOperationCode, true, 0)};
  }
}

}  // namespace splitpath::sim
