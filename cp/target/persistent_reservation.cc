#include "cp/target/persistent_reservation.h"

#include <algorithm>
#include <array>

#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_data.h"

namespace splitpath::cp {

namespace {

namespace op = fc::scsi_op;

// SPC-4: INVALID RELEASE OF PERSISTENT RESERVATION (not in scsi_sense.h).
constexpr fc::AscAscq kInvalidRelease{0x26, 0x04};

// REPORT CAPABILITIES (SPC-4 6.13.4): 8 bytes; TMV set (the type mask is
// valid), every capability bit clear (no CRH, SIP_C, ATP_C, PTPL_C).
constexpr uint8_t kTmv = 0x80;
constexpr uint16_t kTypeMask =
    0x80 /*WR_EX_AR*/ | 0x40 /*EX_AC_RO*/ | 0x20 /*WR_EX_RO*/ | 0x08 /*EX_AC*/ | 0x02 /*WR_EX*/;
constexpr uint8_t kTypeMaskEaAr = 0x01;  // EX_AC_AR, in the second byte

// READ FULL STATUS descriptor (SPC-4 6.13.5): 24 bytes, then an FCP
// TransportID (SPC-4 7.6.4.2: 24 bytes, N_PORT NAME at bytes 8..15).
constexpr size_t kFullStatusDescriptorSize = 24;
constexpr size_t kFcTransportIdSize = 24;

ReservationResult sense(const fc::SenseData& s) {
  ReservationResult r;
  r.reply.status = fc::scsi_status::kCheckCondition;
  r.reply.sense.resize(fc::kFixedSenseSize);
  (void)fc::encode_sense_data(s, r.reply.sense);
  return r;
}

ReservationResult conflict() {
  ReservationResult r;
  r.reply.status = fc::scsi_status::kReservationConflict;
  return r;
}

ReservationResult good() {
  return ReservationResult{};
}

ReservationResult invalid_field_in_parameter_list(uint16_t byte_offset, int bit = -1) {
  return sense(
      fc::make_illegal_request(fc::asc::kInvalidFieldInParameterList, false, byte_offset, bit));
}

bool write_exclusive(uint8_t type) {
  return type == fc::pr_type::kWriteExclusive ||
         type == fc::pr_type::kWriteExclusiveRegistrantsOnly ||
         type == fc::pr_type::kWriteExclusiveAllRegistrants;
}

// The Registrants Only and All Registrants types (0: no reservation).
bool registrants_types(uint8_t type) {
  return type != 0 && type != fc::pr_type::kWriteExclusive && type != fc::pr_type::kExclusiveAccess;
}

bool all_registrants_type(uint8_t type) {
  return type == fc::pr_type::kWriteExclusiveAllRegistrants ||
         type == fc::pr_type::kExclusiveAccessAllRegistrants;
}

}  // namespace

ReservationAccess classify_for_reservation(std::span<const uint8_t> cdb) {
  if (cdb.empty()) return ReservationAccess::kWrite;
  switch (cdb[0]) {
    case op::kInquiry:
    case op::kReportLuns:
    case op::kRequestSense:
    case op::kPersistentReserveIn:
    case op::kRelease6:
      return ReservationAccess::kAlways;
    case op::kTestUnitReady:
    case op::kReadCapacity10:
    case op::kPersistentReserveOut:
      return ReservationAccess::kPrAllowed;
    case op::kServiceActionIn16:
      // READ CAPACITY(16); the other SERVICE ACTION IN(16) commands read.
      return (cdb.size() > 1 && (cdb[1] & 0x1F) == 0x10) ? ReservationAccess::kPrAllowed
                                                         : ReservationAccess::kRead;
    case op::kRead6:
    case op::kRead10:
    case op::kRead12:
    case op::kRead16:
    case op::kModeSense6:
    case op::kModeSense10:
    case op::kVerify10:
    case op::kVerify12:
    case op::kVerify16:
      return ReservationAccess::kRead;
    default:
      return ReservationAccess::kWrite;
  }
}

bool ReservationState::all_registrants() const {
  return all_registrants_type(pr_type_);
}

bool ReservationState::holds(const Nexus& nexus) const {
  if (pr_type_ == 0) return false;
  if (all_registrants()) return registrations_.contains(nexus);
  return pr_holder_ == nexus;
}

bool ReservationState::conflicts(const Nexus& nexus, ReservationAccess access) const {
  if (access == ReservationAccess::kAlways) return false;
  if (scsi2_holder_ && *scsi2_holder_ != nexus) return true;
  if (pr_type_ == 0 || access == ReservationAccess::kPrAllowed || holds(nexus)) return false;
  // The Registrants Only and All Registrants types give every registrant
  // the access of the holder (SPC-4 table 40).
  if (registrants_types(pr_type_) && registrations_.contains(nexus)) return false;
  return !(access == ReservationAccess::kRead && write_exclusive(pr_type_));
}

bool ReservationState::nexus_lost(const Nexus& nexus) {
  if (scsi2_holder_ != nexus) return false;
  scsi2_holder_.reset();
  return true;
}

std::vector<Nexus> ReservationState::remove_registrations(std::optional<uint64_t> key,
                                                          std::optional<Nexus> all_but) {
  std::vector<Nexus> removed;
  for (auto it = registrations_.begin(); it != registrations_.end();) {
    const bool match = all_but ? it->first != *all_but : it->second == *key;
    if (match) {
      removed.push_back(it->first);
      it = registrations_.erase(it);
    } else {
      ++it;
    }
  }
  return removed;
}

ReservationResult ReservationState::apply(std::span<const uint8_t> cdb,
                                          std::span<const uint8_t> parameters, const Nexus& nexus) {
  auto decoded = fc::decode_cdb(cdb);
  if (!decoded.ok()) {
    const fc::WireError& e = decoded.error();
    if (e.code == fc::WireErrc::kTruncated) {
      return sense(fc::make_sense(fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInCdb));
    }
    return sense(fc::make_invalid_field_in_cdb(static_cast<uint16_t>(e.offset)));
  }
  const fc::ScsiCommand& cmd = *decoded;
  switch (cmd.kind) {
    case fc::ScsiCommandKind::kReserve6: {
      if (!registrations_.empty() || (scsi2_holder_ && *scsi2_holder_ != nexus)) return conflict();
      ReservationResult r;
      r.access_changed = scsi2_holder_ != nexus;
      scsi2_holder_ = nexus;
      return r;
    }
    case fc::ScsiCommandKind::kRelease6: {
      if (!registrations_.empty()) return conflict();
      ReservationResult r;
      // Releasing another nexus's reservation, or none, is GOOD and changes nothing.
      if (scsi2_holder_ == nexus) {
        scsi2_holder_.reset();
        r.access_changed = true;
      }
      return r;
    }
    case fc::ScsiCommandKind::kPersistentReserveIn:
      return persistent_reserve_in(cmd.service_action, cmd.allocation_length);
    case fc::ScsiCommandKind::kPersistentReserveOut: {
      if (cmd.service_action == fc::pr_out_sa::kRegisterAndMove ||
          cmd.service_action == fc::pr_out_sa::kReplaceLostReservation) {
        return sense(fc::make_invalid_field_in_cdb(1, 4));
      }
      if (cmd.parameter_list_length != fc::kPrOutParameterListSize ||
          parameters.size() != fc::kPrOutParameterListSize) {
        return sense(
            fc::make_sense(fc::sense_key::kIllegalRequest, fc::asc::kParameterListLengthError));
      }
      const uint8_t flags = parameters[20];
      if (flags & 0x08) return invalid_field_in_parameter_list(20, 3);  // SPEC_I_PT
      if (flags & 0x04) return invalid_field_in_parameter_list(20, 2);  // ALL_TG_PT
      if (flags & 0x01) return invalid_field_in_parameter_list(20, 0);  // APTPL
      auto p = fc::decode_pr_out_parameters(parameters);
      if (!p.ok()) return invalid_field_in_parameter_list(static_cast<uint16_t>(p.error().offset));
      // A SCSI-2 reservation of another nexus conflicts with PR OUT.
      if (scsi2_holder_ && *scsi2_holder_ != nexus) return conflict();
      return persistent_reserve_out(cmd.service_action, cmd.pr_type, p->reservation_key,
                                    p->service_action_reservation_key, nexus);
    }
    default:
      return sense(fc::make_illegal_request(fc::asc::kInvalidCommandOperationCode, true, 0));
  }
}

ReservationResult ReservationState::persistent_reserve_in(uint8_t service_action,
                                                          uint32_t allocation_length) const {
  std::vector<uint8_t> data;
  switch (service_action) {
    case fc::pr_in_sa::kReadKeys: {
      std::vector<uint64_t> keys;
      for (const auto& [n, key] : registrations_)
        keys.push_back(key);
      data.resize(8 + 8 * keys.size());
      fc::encode_pr_in_read_keys(generation_, keys, data);
      break;
    }
    case fc::pr_in_sa::kReadReservation: {
      fc::PrReservation r;
      r.generation = generation_;
      r.present = pr_type_ != 0;
      r.type = pr_type_;
      // All Registrants: the reservation key is zero (SPC-4 6.13.3.2).
      if (r.present && pr_holder_) r.key = registrations_.at(*pr_holder_);
      data.resize(24);
      data.resize(fc::encode_pr_in_read_reservation(r, data));
      break;
    }
    case fc::pr_in_sa::kReportCapabilities:
      data = {0, 8, 0, kTmv, static_cast<uint8_t>(kTypeMask), kTypeMaskEaAr, 0, 0};
      break;
    case fc::pr_in_sa::kReadFullStatus: {
      data.assign(8, 0);
      for (const auto& [n, key] : registrations_) {
        std::array<uint8_t, kFullStatusDescriptorSize + kFcTransportIdSize> d{};
        fc::store_be64(d.data(), key);
        if (holds(n)) {
          d[12] = 0x01;  // R_HOLDER
          d[13] = pr_type_;
        }
        fc::store_be16(d.data() + 18, n.relative_target_port);
        fc::store_be32(d.data() + 20, kFcTransportIdSize);
        fc::store_be64(d.data() + kFullStatusDescriptorSize + 8, n.initiator_wwpn);
        data.insert(data.end(), d.begin(), d.end());
      }
      fc::store_be32(data.data(), generation_);
      fc::store_be32(data.data() + 4, static_cast<uint32_t>(data.size() - 8));
      break;
    }
    default:
      return sense(fc::make_invalid_field_in_cdb(1, 4));
  }
  ReservationResult r;
  if (data.size() > allocation_length) data.resize(allocation_length);
  r.reply.data = std::move(data);
  return r;
}

ReservationResult ReservationState::persistent_reserve_out(uint8_t service_action, uint8_t type,
                                                           uint64_t reservation_key,
                                                           uint64_t sa_key, const Nexus& nexus) {
  auto reg = registrations_.find(nexus);
  const bool registered = reg != registrations_.end();
  if (service_action == fc::pr_out_sa::kRegister ||
      service_action == fc::pr_out_sa::kRegisterAndIgnoreExistingKey) {
    const bool ignore = service_action == fc::pr_out_sa::kRegisterAndIgnoreExistingKey;
    if (!ignore && reservation_key != (registered ? reg->second : 0)) return conflict();
    ReservationResult r;
    if (!registered) {
      if (sa_key == 0) return r;  // unregistering an unregistered nexus: nothing to do
      registrations_[nexus] = sa_key;
    } else if (sa_key != 0) {
      reg->second = sa_key;
    } else {
      const bool was_holder = holds(nexus);
      registrations_.erase(reg);
      // The holder's reservation ends with its registration, except under the
      // All Registrants types while a registrant remains (SPC-4 5.7.11.3).
      if (was_holder && (!all_registrants() || registrations_.empty())) {
        const bool tell = registrants_types(pr_type_) && !all_registrants();
        release_reservation();
        r.access_changed = true;
        if (tell) {
          for (const auto& [n, key] : registrations_)
            r.unit_attentions.push_back({n, fc::asc::kReservationsReleased});
        }
      }
    }
    // Registrants Only / All Registrants types: a registration is access.
    if (registrants_types(pr_type_)) r.access_changed = true;
    ++generation_;
    return r;
  }
  // Every other service action: a registered nexus, with its key.
  if (!registered || reg->second != reservation_key) return conflict();
  switch (service_action) {
    case fc::pr_out_sa::kReserve: {
      if (pr_type_ != 0) {
        // The holder may reserve again with the same type; nobody else may.
        return holds(nexus) && pr_type_ == type ? good() : conflict();
      }
      pr_type_ = type;
      if (all_registrants_type(type)) {
        pr_holder_.reset();
      } else {
        pr_holder_ = nexus;
      }
      ReservationResult r;
      r.access_changed = true;
      return r;
    }
    case fc::pr_out_sa::kRelease: {
      if (pr_type_ == 0 || !holds(nexus)) return good();
      if (pr_type_ != type)
        return sense(fc::make_sense(fc::sense_key::kIllegalRequest, kInvalidRelease));
      ReservationResult r;
      r.access_changed = true;
      if (registrants_types(pr_type_)) {
        for (const auto& [n, key] : registrations_)
          if (n != nexus) r.unit_attentions.push_back({n, fc::asc::kReservationsReleased});
      }
      release_reservation();
      return r;
    }
    case fc::pr_out_sa::kClear: {
      ReservationResult r;
      for (const auto& [n, key] : registrations_)
        if (n != nexus) r.unit_attentions.push_back({n, fc::asc::kReservationsPreempted});
      registrations_.clear();
      release_reservation();
      r.access_changed = true;
      ++generation_;
      return r;
    }
    case fc::pr_out_sa::kPreempt:
    case fc::pr_out_sa::kPreemptAndAbort:
      return preempt(type, sa_key, service_action == fc::pr_out_sa::kPreemptAndAbort, nexus);
    default:
      return sense(fc::make_invalid_field_in_cdb(1, 4));
  }
}

ReservationResult ReservationState::preempt(uint8_t type, uint64_t sa_key, bool abort,
                                            const Nexus& nexus) {
  ReservationResult r;
  std::vector<Nexus> removed;
  if (pr_type_ != 0 && all_registrants() && sa_key == 0) {
    // All Registrants, key zero: every other registration goes, and the
    // preempting nexus holds a reservation of the new type.
    removed = remove_registrations(std::nullopt, nexus);
    pr_type_ = type;
    pr_holder_ = all_registrants_type(type) ? std::nullopt : std::optional<Nexus>(nexus);
    r.access_changed = true;
  } else if (pr_type_ != 0 && !all_registrants() && sa_key == registrations_.at(*pr_holder_)) {
    // Preempting the holder: its key's registrations go, the reservation
    // becomes the preempting nexus's, with the new type.
    const uint8_t old_type = pr_type_;
    removed = remove_registrations(sa_key, std::nullopt);
    removed.erase(std::remove(removed.begin(), removed.end(), nexus), removed.end());
    if (!registrations_.contains(nexus)) registrations_[nexus] = sa_key;  // its own key matched
    pr_type_ = type;
    pr_holder_ = all_registrants_type(type) ? std::nullopt : std::optional<Nexus>(nexus);
    r.access_changed = true;
    if (old_type != type) {
      for (const auto& [n, key] : registrations_)
        if (n != nexus) r.unit_attentions.push_back({n, fc::asc::kReservationsReleased});
    }
  } else {
    // No reservation touched: only registrations with the key go.
    if (sa_key == 0) return invalid_field_in_parameter_list(8);
    removed = remove_registrations(sa_key, std::nullopt);
    if (removed.empty()) return conflict();
    r.access_changed = registrants_types(pr_type_);
    if (pr_type_ != 0 && all_registrants() && registrations_.empty()) release_reservation();
  }
  for (const Nexus& n : removed) {
    if (n == nexus) continue;
    r.unit_attentions.push_back({n, fc::asc::kRegistrationsPreempted});
    if (abort) r.aborted.push_back(n);
  }
  ++generation_;
  return r;
}

}  // namespace splitpath::cp
