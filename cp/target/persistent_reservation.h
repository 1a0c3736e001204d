// The reservation state of one logical unit (a virtual volume) and the
// device server's answers that read or change it: SCSI-2 RESERVE(6) /
// RELEASE(6), SPC-3 PERSISTENT RESERVE IN (READ KEYS, READ RESERVATION,
// REPORT CAPABILITIES, READ FULL STATUS) and OUT (REGISTER, REGISTER AND
// IGNORE EXISTING KEY, RESERVE, RELEASE, CLEAR, PREEMPT, PREEMPT AND ABORT),
// types Write Exclusive and Exclusive Access with their Registrants Only and
// All Registrants forms, and the access check every other command passes
// first (RESERVATION CONFLICT).
//
// Pure: the caller (cp/reservations.cc) keeps one state per volume, so a
// reservation holds on every path (virtual target) presenting it, fetches
// the PR OUT parameter list, queues the unit attentions and re-exposes the
// LUN on the fast path when `access_changed`.
//
// Choices where SPC leaves room: REGISTER AND MOVE, REPLACE LOST RESERVATION,
// ALL_TG_PT, SPEC_I_PT, APTPL are not supported (REPORT CAPABILITIES says so):
// INVALID FIELD IN CDB / PARAMETER LIST; RESERVE(10)/RELEASE(10): INVALID
// OPCODE. RESERVE(6)/RELEASE(6) while any I_T nexus is registered conflict
// (SPC-2 5.5.1: the two kinds never mix). A SCSI-2 reservation ends with its
// nexus (logout); registrations and persistent reservations survive it.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "cp/target/scsi_target.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::cp {

// An I_T nexus: initiator port and target port, by WWPN (an FC ID may change
// across logins). The relative target port identifier is the one READ FULL
// STATUS reports; it is a function of the target port.
struct Nexus {
  uint64_t initiator_wwpn = 0;
  uint64_t target_wwpn = 0;
  uint16_t relative_target_port = 1;
  friend auto operator<=>(const Nexus&, const Nexus&) = default;
};

// How a command is let through a reservation held by another nexus.
enum class ReservationAccess : uint8_t {
  kAlways,     // INQUIRY, REPORT LUNS, REQUEST SENSE, PR IN, RELEASE(6)
  kPrAllowed,  // TEST UNIT READY, READ CAPACITY, PR OUT: allowed under a PR, not a SCSI-2 one
  kRead,       // READ, MODE SENSE: allowed under Write Exclusive types
  kWrite,      // anything else (WRITE, SYNCHRONIZE CACHE, RESERVE(6), unknown opcodes)
};

// The class of a CDB (at least its opcode byte; an empty CDB is kWrite).
ReservationAccess classify_for_reservation(std::span<const uint8_t> cdb);

struct ReservationUa {
  Nexus nexus;
  fc::AscAscq code;
};

struct ReservationResult {
  ScsiReply reply;
  std::vector<ReservationUa> unit_attentions;  // to queue, in order
  // Nexuses whose tasks PREEMPT AND ABORT aborts.
  std::vector<Nexus> aborted;
  // Who may do what changed: the fast path must be re-exposed.
  bool access_changed = false;
};

class ReservationState {
 public:
  // RESERVE(6), RELEASE(6), PERSISTENT RESERVE IN and OUT. `cdb` is the
  // command; `parameters` the PR OUT parameter list as received (ignored for
  // the others). Never fails: bad input yields sense data.
  ReservationResult apply(std::span<const uint8_t> cdb, std::span<const uint8_t> parameters,
                          const Nexus& nexus);

  // Whether `nexus` must get RESERVATION CONFLICT for a command of `access`.
  bool conflicts(const Nexus& nexus, ReservationAccess access) const;
  // Whether every command of `nexus` is allowed (it may stay on the fast path).
  bool full_access(const Nexus& nexus) const {
    return !conflicts(nexus, ReservationAccess::kWrite);
  }
  // Whether any reservation (persistent or SCSI-2) restricts access.
  bool restricts() const { return scsi2_holder_.has_value() || pr_type_ != 0; }

  // The nexus went away (LOGO, link loss): its SCSI-2 reservation ends.
  // Returns whether access changed.
  bool nexus_lost(const Nexus& nexus);

  uint32_t generation() const { return generation_; }
  const std::map<Nexus, uint64_t>& registrations() const { return registrations_; }
  uint8_t pr_type() const { return pr_type_; }  // 0: no persistent reservation
  std::optional<Nexus> pr_holder() const { return pr_holder_; }
  std::optional<Nexus> scsi2_holder() const { return scsi2_holder_; }

 private:
  ReservationResult persistent_reserve_in(uint8_t service_action, uint32_t allocation_length) const;
  ReservationResult persistent_reserve_out(uint8_t service_action, uint8_t type,
                                           uint64_t reservation_key, uint64_t sa_key,
                                           const Nexus& nexus);
  ReservationResult preempt(uint8_t type, uint64_t sa_key, bool abort, const Nexus& nexus);
  bool all_registrants() const;
  bool holds(const Nexus& nexus) const;
  // Removes the registrations with `key` (every one when `all_but` is set,
  // except `all_but`'s); returns the nexuses removed.
  std::vector<Nexus> remove_registrations(std::optional<uint64_t> key,
                                          std::optional<Nexus> all_but);
  void release_reservation() {
    pr_type_ = 0;
    pr_holder_.reset();
  }

  uint32_t generation_ = 0;
  std::map<Nexus, uint64_t> registrations_;
  uint8_t pr_type_ = 0;
  std::optional<Nexus> pr_holder_;  // unset for the All Registrants types
  std::optional<Nexus> scsi2_holder_;
};

}  // namespace splitpath::cp
