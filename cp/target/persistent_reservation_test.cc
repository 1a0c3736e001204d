#include "cp/target/persistent_reservation.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_cdb_encode.h"
#include "splitpath/fc/scsi_data.h"

namespace splitpath::cp {
namespace {

namespace sa = fc::pr_out_sa;
namespace type = fc::pr_type;

const Nexus kA{0x1000, 0x5000, 1};
const Nexus kB{0x2000, 0x5000, 1};
const Nexus kC{0x3000, 0x5000, 1};
const Nexus kAOtherPath{0x1000, 0x6000, 2};  // host A through another target port

std::vector<uint8_t> cdb_of(const fc::ScsiCommand& c) {
  std::array<uint8_t, fc::kMaxCdbSize> b{};
  auto n = fc::encode_cdb(c, b);
  EXPECT_TRUE(n.ok());
  return {b.begin(), b.begin() + *n};
}

std::vector<uint8_t> params(uint64_t key, uint64_t sa_key, uint8_t flags = 0) {
  std::vector<uint8_t> p(24);
  fc::store_be64(p.data(), key);
  fc::store_be64(p.data() + 8, sa_key);
  p[20] = flags;
  return p;
}

struct Lu {
  ReservationState s;
  ReservationResult out(const Nexus& n, uint8_t action, uint8_t t, uint64_t key, uint64_t sa_key) {
    return s.apply(cdb_of(fc::make_persistent_reserve_out(action, t)), params(key, sa_key), n);
  }
  uint8_t status(const Nexus& n, uint8_t action, uint8_t t, uint64_t key, uint64_t sa_key) {
    return out(n, action, t, key, sa_key).reply.status;
  }
  std::vector<uint8_t> in(uint8_t action, uint16_t len = 1024) {
    auto r = s.apply(cdb_of(fc::make_persistent_reserve_in(action, len)), {}, kA);
    EXPECT_EQ(r.reply.status, fc::scsi_status::kGood);
    return r.reply.data;
  }
};

constexpr uint8_t kGood = fc::scsi_status::kGood;
constexpr uint8_t kConflict = fc::scsi_status::kReservationConflict;
constexpr uint8_t kCheck = fc::scsi_status::kCheckCondition;

fc::SenseData sense_of(const ReservationResult& r) {
  auto s = fc::decode_sense_data(r.reply.sense);
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : fc::SenseData{};
}

TEST(PersistentReservation, RegisterChangesKeysAndGeneration) {
  Lu lu;
  auto first = lu.out(kA, sa::kRegister, 0, 0, 0xA);
  EXPECT_EQ(first.reply.status, kGood);
  EXPECT_FALSE(first.access_changed);  // no reservation: access is the same
  EXPECT_EQ(lu.s.generation(), 1u);
  // Unregistered nexus with a non-zero key: conflict, generation unchanged.
  EXPECT_EQ(lu.status(kB, sa::kRegister, 0, 0x77, 0xB), kConflict);
  EXPECT_EQ(lu.s.generation(), 1u);
  EXPECT_EQ(lu.status(kB, sa::kRegister, 0, 0, 0xB), kGood);
  // Registered nexus, wrong key: conflict; right key: the key changes.
  EXPECT_EQ(lu.status(kA, sa::kRegister, 0, 0xB, 0xAA), kConflict);
  EXPECT_EQ(lu.status(kA, sa::kRegister, 0, 0xA, 0xAA), kGood);
  EXPECT_EQ(lu.s.generation(), 3u);
  // REGISTER AND IGNORE EXISTING KEY takes any key.
  EXPECT_EQ(lu.status(kA, sa::kRegisterAndIgnoreExistingKey, 0, 0x1234, 0xA1), kGood);
  EXPECT_EQ(lu.s.generation(), 4u);
  const auto keys = lu.in(fc::pr_in_sa::kReadKeys);
  auto v = fc::decode_pr_in_read_keys(keys);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->generation, 4u);
  ASSERT_EQ(v->count, 2u);
  EXPECT_EQ(v->key(0), 0xA1u);
  EXPECT_EQ(v->key(1), 0xBu);
  // Unregister (service action key zero).
  EXPECT_EQ(lu.status(kB, sa::kRegister, 0, 0xB, 0), kGood);
  EXPECT_EQ(lu.s.registrations().size(), 1u);
  EXPECT_EQ(lu.s.generation(), 5u);
  // Unregistering an unregistered nexus is GOOD and changes nothing.
  EXPECT_EQ(lu.status(kC, sa::kRegister, 0, 0, 0), kGood);
  EXPECT_EQ(lu.s.generation(), 5u);
  // Registrations are per I_T nexus: host A through another target port is another one.
  EXPECT_EQ(lu.status(kAOtherPath, sa::kReserve, type::kWriteExclusive, 0xA1, 0), kConflict);
}

TEST(PersistentReservation, ParameterListErrors) {
  Lu lu;
  auto cdb = cdb_of(fc::make_persistent_reserve_out(sa::kRegister, 0, 20));
  auto r = lu.s.apply(cdb, params(0, 1), kA);
  EXPECT_EQ(r.reply.status, kCheck);
  EXPECT_EQ(sense_of(r).code, fc::asc::kParameterListLengthError);
  for (uint8_t flag : {uint8_t{0x08}, uint8_t{0x04}, uint8_t{0x01}}) {
    r = lu.s.apply(cdb_of(fc::make_persistent_reserve_out(sa::kRegister, 0)), params(0, 1, flag),
                   kA);
    EXPECT_EQ(r.reply.status, kCheck);
    EXPECT_EQ(sense_of(r).sense_key, fc::sense_key::kIllegalRequest);
    EXPECT_EQ(sense_of(r).code, fc::asc::kInvalidFieldInParameterList);
  }
  // Unsupported service actions, a bad type, a bad scope: INVALID FIELD IN CDB.
  r = lu.out(kA, sa::kRegisterAndMove, 0, 0, 1);
  EXPECT_EQ(sense_of(r).code, fc::asc::kInvalidFieldInCdb);
  r = lu.out(kA, sa::kReserve, 2, 0, 0);
  EXPECT_EQ(sense_of(r).code, fc::asc::kInvalidFieldInCdb);
  auto scoped = cdb_of(fc::make_persistent_reserve_out(sa::kReserve, type::kWriteExclusive));
  scoped[2] |= 0x10;
  r = lu.s.apply(scoped, params(0, 0), kA);
  EXPECT_EQ(sense_of(r).code, fc::asc::kInvalidFieldInCdb);
  EXPECT_EQ(lu.s.generation(), 0u);
}

TEST(PersistentReservation, ReserveAndReleaseNeedTheKey) {
  Lu lu;
  EXPECT_EQ(lu.status(kA, sa::kReserve, type::kWriteExclusive, 0, 0), kConflict);  // unregistered
  lu.status(kA, sa::kRegister, 0, 0, 0xA);
  lu.status(kB, sa::kRegister, 0, 0, 0xB);
  EXPECT_EQ(lu.status(kA, sa::kReserve, type::kWriteExclusive, 0xB, 0), kConflict);  // wrong key
  auto r = lu.out(kA, sa::kReserve, type::kWriteExclusive, 0xA, 0);
  EXPECT_EQ(r.reply.status, kGood);
  EXPECT_TRUE(r.access_changed);
  EXPECT_EQ(lu.s.generation(), 2u);  // RESERVE does not change PRgeneration
  EXPECT_EQ(lu.status(kA, sa::kReserve, type::kWriteExclusive, 0xA, 0), kGood);  // again
  EXPECT_EQ(lu.status(kA, sa::kReserve, type::kExclusiveAccess, 0xA, 0), kConflict);
  EXPECT_EQ(lu.status(kB, sa::kReserve, type::kWriteExclusive, 0xB, 0), kConflict);
  auto rr = fc::decode_pr_in_read_reservation(lu.in(fc::pr_in_sa::kReadReservation));
  ASSERT_TRUE(rr.ok());
  EXPECT_TRUE(rr->present);
  EXPECT_EQ(rr->key, 0xAu);
  EXPECT_EQ(rr->type, type::kWriteExclusive);
  // RELEASE by a non-holder: GOOD, nothing changes; wrong type by the holder:
  // INVALID RELEASE OF PERSISTENT RESERVATION.
  EXPECT_EQ(lu.status(kB, sa::kRelease, type::kWriteExclusive, 0xB, 0), kGood);
  EXPECT_EQ(lu.s.pr_type(), type::kWriteExclusive);
  r = lu.out(kA, sa::kRelease, type::kExclusiveAccess, 0xA, 0);
  EXPECT_EQ(r.reply.status, kCheck);
  EXPECT_EQ(sense_of(r).code, (fc::AscAscq{0x26, 0x04}));
  r = lu.out(kA, sa::kRelease, type::kWriteExclusive, 0xA, 0);
  EXPECT_EQ(r.reply.status, kGood);
  EXPECT_TRUE(r.access_changed);
  EXPECT_TRUE(r.unit_attentions.empty());  // Write Exclusive: no RESERVATIONS RELEASED
  EXPECT_EQ(lu.s.pr_type(), 0);
  rr = fc::decode_pr_in_read_reservation(lu.in(fc::pr_in_sa::kReadReservation));
  EXPECT_FALSE(rr->present);
}

// Access of a registered and an unregistered non-holder under each type
// (SPC-4 table 40), the holder always having full access.
TEST(PersistentReservation, AccessByType) {
  struct Case {
    uint8_t type;
    bool registered_reads, registered_writes, other_reads, other_writes;
  };
  const Case cases[] = {
      {type::kWriteExclusive, true, false, true, false},
      {type::kExclusiveAccess, false, false, false, false},
      {type::kWriteExclusiveRegistrantsOnly, true, true, true, false},
      {type::kExclusiveAccessRegistrantsOnly, true, true, false, false},
      {type::kWriteExclusiveAllRegistrants, true, true, true, false},
      {type::kExclusiveAccessAllRegistrants, true, true, false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(int{c.type});
    Lu lu;
    lu.status(kA, sa::kRegister, 0, 0, 0xA);
    lu.status(kB, sa::kRegister, 0, 0, 0xB);
    ASSERT_EQ(lu.status(kA, sa::kReserve, c.type, 0xA, 0), kGood);
    EXPECT_TRUE(lu.s.full_access(kA));
    EXPECT_EQ(!lu.s.conflicts(kB, ReservationAccess::kRead), c.registered_reads);
    EXPECT_EQ(!lu.s.conflicts(kB, ReservationAccess::kWrite), c.registered_writes);
    EXPECT_EQ(!lu.s.conflicts(kC, ReservationAccess::kRead), c.other_reads);
    EXPECT_EQ(!lu.s.conflicts(kC, ReservationAccess::kWrite), c.other_writes);
    for (const Nexus& n : {kB, kC}) {
      EXPECT_FALSE(lu.s.conflicts(n, ReservationAccess::kAlways));
      EXPECT_FALSE(lu.s.conflicts(n, ReservationAccess::kPrAllowed));
    }
    // READ FULL STATUS: both registrations, A (or, All Registrants, both) holding.
    const auto fs = lu.in(fc::pr_in_sa::kReadFullStatus);
    ASSERT_EQ(fs.size(), 8u + 2 * 48);
    EXPECT_EQ(fc::load_be32(fs.data() + 4), 96u);
    EXPECT_EQ(fc::load_be64(fs.data() + 8), 0xAu);
    EXPECT_EQ(fs[8 + 12], 1);  // R_HOLDER
    EXPECT_EQ(fs[8 + 13], c.type);
    EXPECT_EQ(fc::load_be64(fs.data() + 8 + 24 + 8), kA.initiator_wwpn);  // TransportID
    const bool ar = c.type >= type::kWriteExclusiveAllRegistrants;
    EXPECT_EQ(fs[56 + 12], ar ? 1 : 0);
    auto rr = fc::decode_pr_in_read_reservation(lu.in(fc::pr_in_sa::kReadReservation));
    EXPECT_EQ(rr->key, ar ? 0u : 0xAu);
  }
}

TEST(PersistentReservation, ReadKeysIsCutToTheAllocationLength) {
  Lu lu;
  lu.status(kA, sa::kRegister, 0, 0, 0xA);
  lu.status(kB, sa::kRegister, 0, 0, 0xB);
  const auto d = lu.in(fc::pr_in_sa::kReadKeys, 12);
  ASSERT_EQ(d.size(), 12u);
  EXPECT_EQ(fc::load_be32(d.data() + 4), 16u);  // the whole list's length
}

TEST(PersistentReservation, ReportCapabilities) {
  Lu lu;
  const auto d = lu.in(fc::pr_in_sa::kReportCapabilities);
  ASSERT_EQ(d.size(), 8u);
  EXPECT_EQ(fc::load_be16(d.data()), 8u);
  EXPECT_EQ(d[2], 0);     // no CRH, SIP_C, ATP_C, PTPL_C
  EXPECT_EQ(d[3], 0x80);  // TMV
  EXPECT_EQ(d[4], 0xEA);  // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
  EXPECT_EQ(d[5], 0x01);  // EX_AC_AR
}

TEST(PersistentReservation, UnregisteringTheHolderReleases) {
  Lu lu;
  lu.status(kA, sa::kRegister, 0, 0, 0xA);
  lu.status(kB, sa::kRegister, 0, 0, 0xB);
  lu.status(kA, sa::kReserve, type::kWriteExclusiveRegistrantsOnly, 0xA, 0);
  auto r = lu.out(kA, sa::kRegister, 0, 0xA, 0);
  EXPECT_EQ(r.reply.status, kGood);
  EXPECT_EQ(lu.s.pr_type(), 0);
  ASSERT_EQ(r.unit_attentions.size(), 1u);
  EXPECT_EQ(r.unit_attentions[0].nexus, kB);
  EXPECT_EQ(r.unit_attentions[0].code, fc::asc::kReservationsReleased);
  // All Registrants: the reservation lasts while any registrant does.
  lu.status(kA, sa::kRegister, 0, 0, 0xA);
  lu.status(kA, sa::kReserve, type::kExclusiveAccessAllRegistrants, 0xA, 0);
  EXPECT_EQ(lu.status(kA, sa::kRegister, 0, 0xA, 0), kGood);
  EXPECT_EQ(lu.s.pr_type(), type::kExclusiveAccessAllRegistrants);
  EXPECT_TRUE(lu.s.full_access(kB));
  EXPECT_FALSE(lu.s.full_access(kA));
  EXPECT_EQ(lu.status(kB, sa::kRegister, 0, 0xB, 0), kGood);
  EXPECT_EQ(lu.s.pr_type(), 0);
}

TEST(PersistentReservation, ClearRemovesEverything) {
  Lu lu;
  lu.status(kA, sa::kRegister, 0, 0, 0xA);
  lu.status(kB, sa::kRegister, 0, 0, 0xB);
  lu.status(kC, sa::kRegister, 0, 0, 0xC);
  lu.status(kA, sa::kReserve, type::kExclusiveAccess, 0xA, 0);
  EXPECT_EQ(lu.status(kC, sa::kClear, 0, 0xB, 0), kConflict);  // wrong key
  auto r = lu.out(kB, sa::kClear, 0, 0xB, 0);
  EXPECT_EQ(r.reply.status, kGood);
  EXPECT_TRUE(lu.s.registrations().empty());
  EXPECT_EQ(lu.s.pr_type(), 0);
  EXPECT_EQ(lu.s.generation(), 4u);
  ASSERT_EQ(r.unit_attentions.size(), 2u);
  EXPECT_EQ(r.unit_attentions[0].nexus, kA);
  EXPECT_EQ(r.unit_attentions[1].nexus, kC);
  EXPECT_EQ(r.unit_attentions[0].code, fc::asc::kReservationsPreempted);
}

TEST(PersistentReservation, PreemptTheHolder) {
  for (bool abort : {false, true}) {
    SCOPED_TRACE(abort);
    Lu lu;
    lu.status(kA, sa::kRegister, 0, 0, 0xA);
    lu.status(kB, sa::kRegister, 0, 0, 0xB);
    lu.status(kC, sa::kRegister, 0, 0, 0xC);
    lu.status(kA, sa::kReserve, type::kWriteExclusive, 0xA, 0);
    const uint8_t action = abort ? sa::kPreemptAndAbort : sa::kPreempt;
    EXPECT_EQ(lu.status(kC, action, type::kExclusiveAccess, 0xC, 0x99), kConflict);  // no such key
    auto r = lu.out(kB, action, type::kExclusiveAccess, 0xB, 0xA);
    EXPECT_EQ(r.reply.status, kGood);
    EXPECT_TRUE(r.access_changed);
    EXPECT_EQ(lu.s.pr_holder(), kB);
    EXPECT_EQ(lu.s.pr_type(), type::kExclusiveAccess);
    EXPECT_FALSE(lu.s.registrations().contains(kA));
    EXPECT_EQ(lu.s.generation(), 4u);
    // A: REGISTRATIONS PREEMPTED; C (still registered): the type changed, RESERVATIONS RELEASED.
    ASSERT_EQ(r.unit_attentions.size(), 2u);
    EXPECT_EQ(r.unit_attentions[0].nexus, kC);
    EXPECT_EQ(r.unit_attentions[0].code, fc::asc::kReservationsReleased);
    EXPECT_EQ(r.unit_attentions[1].nexus, kA);
    EXPECT_EQ(r.unit_attentions[1].code, fc::asc::kRegistrationsPreempted);
    EXPECT_EQ(r.aborted, abort ? std::vector<Nexus>{kA} : std::vector<Nexus>{});
    EXPECT_TRUE(lu.s.conflicts(kA, ReservationAccess::kRead));
    // A's old key no longer works.
    EXPECT_EQ(lu.status(kA, sa::kRelease, type::kWriteExclusive, 0xA, 0), kConflict);
  }
}

TEST(PersistentReservation, PreemptRegistrationsOnly) {
  Lu lu;
  lu.status(kA, sa::kRegister, 0, 0, 0xA);
  lu.status(kB, sa::kRegister, 0, 0, 0xB);
  lu.status(kC, sa::kRegister, 0, 0, 0xB);  // two nexuses may share a key
  // No reservation: registrations with the key go; key zero is invalid.
  auto r = lu.out(kA, sa::kPreempt, type::kWriteExclusive, 0xA, 0);
  EXPECT_EQ(r.reply.status, kCheck);
  EXPECT_EQ(sense_of(r).code, fc::asc::kInvalidFieldInParameterList);
  r = lu.out(kA, sa::kPreempt, type::kWriteExclusive, 0xA, 0xB);
  EXPECT_EQ(r.reply.status, kGood);
  EXPECT_EQ(lu.s.registrations().size(), 1u);
  EXPECT_EQ(lu.s.pr_type(), 0);  // no reservation is created
  EXPECT_EQ(r.unit_attentions.size(), 2u);
  // A holder's reservation stays when another key is preempted.
  lu.status(kB, sa::kRegister, 0, 0, 0xB);
  lu.status(kA, sa::kReserve, type::kWriteExclusive, 0xA, 0);
  lu.status(kC, sa::kRegister, 0, 0, 0xC);
  EXPECT_EQ(lu.status(kC, sa::kPreempt, type::kWriteExclusive, 0xC, 0xB), kGood);
  EXPECT_EQ(lu.s.pr_holder(), kA);
}

TEST(PersistentReservation, PreemptAllRegistrants) {
  Lu lu;
  lu.status(kA, sa::kRegister, 0, 0, 0xA);
  lu.status(kB, sa::kRegister, 0, 0, 0xB);
  lu.status(kA, sa::kReserve, type::kWriteExclusiveAllRegistrants, 0xA, 0);
  auto r = lu.out(kB, sa::kPreempt, type::kWriteExclusive, 0xB, 0);
  EXPECT_EQ(r.reply.status, kGood);
  EXPECT_EQ(lu.s.pr_holder(), kB);
  EXPECT_EQ(lu.s.pr_type(), type::kWriteExclusive);
  EXPECT_EQ(lu.s.registrations().size(), 1u);
  ASSERT_EQ(r.unit_attentions.size(), 1u);
  EXPECT_EQ(r.unit_attentions[0].nexus, kA);
}

TEST(PersistentReservation, Scsi2ReserveRelease) {
  Lu lu;
  const auto reserve = cdb_of(fc::make_reserve6());
  const auto release = cdb_of(fc::make_release6());
  auto r = lu.s.apply(reserve, {}, kA);
  EXPECT_EQ(r.reply.status, kGood);
  EXPECT_TRUE(r.access_changed);
  EXPECT_EQ(lu.s.apply(reserve, {}, kA).reply.status, kGood);  // the holder again
  EXPECT_EQ(lu.s.apply(reserve, {}, kB).reply.status, kConflict);
  EXPECT_TRUE(lu.s.conflicts(kB, ReservationAccess::kRead));
  EXPECT_TRUE(lu.s.conflicts(kB, ReservationAccess::kPrAllowed));  // TEST UNIT READY too
  EXPECT_FALSE(lu.s.conflicts(kB, ReservationAccess::kAlways));
  EXPECT_TRUE(lu.s.full_access(kA));
  // PR OUT from another nexus conflicts; RELEASE from it is GOOD and changes nothing.
  EXPECT_EQ(lu.status(kB, sa::kRegister, 0, 0, 0xB), kConflict);
  EXPECT_EQ(lu.s.apply(release, {}, kB).reply.status, kGood);
  EXPECT_EQ(lu.s.scsi2_holder(), kA);
  EXPECT_EQ(lu.s.apply(release, {}, kA).reply.status, kGood);
  EXPECT_FALSE(lu.s.restricts());
  // The reservation ends with its nexus.
  lu.s.apply(reserve, {}, kB);
  EXPECT_FALSE(lu.s.nexus_lost(kA));
  EXPECT_TRUE(lu.s.nexus_lost(kB));
  EXPECT_FALSE(lu.s.restricts());
  // Third-party reservations are not supported; registrations exclude SCSI-2 ones.
  auto third = reserve;
  third[1] = 0x10;
  r = lu.s.apply(third, {}, kA);
  EXPECT_EQ(r.reply.status, kCheck);
  EXPECT_EQ(sense_of(r).code, fc::asc::kInvalidFieldInCdb);
  lu.status(kA, sa::kRegister, 0, 0, 0xA);
  EXPECT_EQ(lu.s.apply(reserve, {}, kA).reply.status, kConflict);
}

TEST(PersistentReservation, ClassifiesCommands) {
  auto cls = [](const fc::ScsiCommand& c) { return classify_for_reservation(cdb_of(c)); };
  EXPECT_EQ(cls(fc::make_inquiry(96)), ReservationAccess::kAlways);
  EXPECT_EQ(cls(fc::make_persistent_reserve_in(0, 8)), ReservationAccess::kAlways);
  EXPECT_EQ(cls(fc::make_test_unit_ready()), ReservationAccess::kPrAllowed);
  EXPECT_EQ(cls(fc::make_read_capacity16(32)), ReservationAccess::kPrAllowed);
  EXPECT_EQ(cls(fc::make_read(0, 8)), ReservationAccess::kRead);
  EXPECT_EQ(cls(fc::make_write(0, 8)), ReservationAccess::kWrite);
  EXPECT_EQ(cls(fc::make_synchronize_cache(0, 0)), ReservationAccess::kWrite);
  EXPECT_EQ(classify_for_reservation({}), ReservationAccess::kWrite);
}

}  // namespace
}  // namespace splitpath::cp
