// Reservations of a virtual volume end to end: two hosts reach vol0 through
// two virtual targets of one switch (two paths, as a multipath host sees
// them). PERSISTENT RESERVE OUT and RESERVE(6) go through frames to the CP
// (the PR OUT parameter list fetched from the host with FCP_XFER_RDY), the
// FPs keep only the nexuses a reservation lets do anything on the fast path,
// and the CP answers RESERVATION CONFLICT to the others' conflicting commands
// while letting their permitted ones through. Checked on the wire (status,
// sense) and on the disk (a refused write never reaches it).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_data.h"
#include "splitpath/fc/scsi_sense.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/two_dves.h"

namespace splitpath::testing {
namespace {

namespace sa = fc::pr_out_sa;
namespace pr_type = fc::pr_type;

constexpr uint64_t kVsegLba = 100;  // vol0's first block on disk0
constexpr uint64_t kLba = 64;       // the blocks the tests write
constexpr uint32_t kBlocks = 8;

const char* const kYaml = R"(seed: 5
switches: [{name: sw0, domain: 1, ports: 8}]
disks:
  - {name: disk0, port: sw0:4, luns: [{lun: 0, size: 16MiB}]}
hosts:
  - {name: hostA, port: sw0:0, workload: {read_percent: 50, queue_depth: 1}}
  - {name: hostB, port: sw0:1, workload: {read_percent: 50, queue_depth: 1}}
volumes:
  - {name: vol0, switch: sw0, vsegs: [{disk: disk0, lba: 100, blocks: 8192, extent_blocks: 1024}]}
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: vol0}]}
  - {name: vt1, switch: sw0, luns: [{lun: 0, volume: vol0}]}
zones: [{name: z0, members: [hostA, hostB, vt0, vt1]}]
)";

class Reservations : public ::testing::Test {
 protected:
  Reservations() : tb(kYaml, 2) {}

  // The targets `host` found vol0 on, in discovery order (two paths).
  fc::FcId path(const std::string& host, size_t index) {
    std::vector<fc::FcId> targets;
    for (const sim::DiscoveredLun& l : tb.host(host).luns())
      targets.push_back(l.target);
    std::sort(targets.begin(), targets.end(),
              [](fc::FcId a, fc::FcId b) { return a.value < b.value; });
    EXPECT_GT(targets.size(), index) << host << " found " << targets.size() << " paths";
    return targets.size() > index ? targets[index] : fc::FcId{0};
  }

  sim::ScsiResult send(const std::string& host, size_t p, const fc::ScsiCommand& cmd,
                       uint32_t data_in, std::vector<uint8_t> data_out = {}) {
    std::array<uint8_t, fc::kMaxCdbSize> cdb{};
    auto n = fc::encode_cdb(cmd, cdb);
    EXPECT_TRUE(n.ok());
    return send_cdb(host, p, {cdb.data(), *n}, data_in, std::move(data_out));
  }

  sim::ScsiResult send_cdb(const std::string& host, size_t p, std::span<const uint8_t> cdb,
                           uint32_t data_in, std::vector<uint8_t> data_out = {}) {
    auto pending = std::make_shared<VirtualTestbed::Pending>();
    const bool sent = tb.host(host).submit_command(
        path(host, p), 0, cdb, data_in, std::move(data_out), [pending](const sim::ScsiResult& r) {
          pending->done = true;
          pending->result = r;
        });
    EXPECT_TRUE(sent);
    if (!sent) return {};
    tb.wait(*pending);
    return pending->result;
  }

  // The WWPN of the virtual target behind path `p` of `host`.
  uint64_t path_wwpn(const std::string& host, size_t p) {
    const fc::FcId id = path(host, p);
    for (const sim::DiscoveredLun& l : tb.host(host).luns())
      if (l.target == id) return l.target_wwpn;
    return 0;
  }

  sim::ScsiResult task_management(const std::string& host, size_t p, uint8_t flags) {
    auto pending = std::make_shared<VirtualTestbed::Pending>();
    const bool sent = tb.host(host).submit_task_management(path(host, p), 0, flags,
                                                           [pending](const sim::ScsiResult& r) {
                                                             pending->done = true;
                                                             pending->result = r;
                                                           });
    EXPECT_TRUE(sent);
    if (!sent) return {};
    tb.wait(*pending);
    return pending->result;
  }

  // `host` logs out of path `p`'s target (FC LOGO); true once accepted.
  bool logout(const std::string& host, size_t p) {
    auto pending = std::make_shared<VirtualTestbed::Pending>();
    bool accepted = false;
    const bool sent = tb.host(host).logout_target(path_wwpn(host, p), [&, pending](bool ok) {
      accepted = ok;
      pending->done = true;
    });
    if (!sent) return false;
    tb.wait(*pending);
    return accepted;
  }

  sim::ScsiResult pr_out(const std::string& host, size_t p, uint8_t action, uint8_t type,
                         uint64_t key, uint64_t sa_key, uint8_t flags = 0,
                         uint32_t list_length = 24) {
    std::vector<uint8_t> params(24);
    fc::store_be64(params.data(), key);
    fc::store_be64(params.data() + 8, sa_key);
    params[20] = flags;
    return send(host, p, fc::make_persistent_reserve_out(action, type, list_length), 0, params);
  }

  sim::ScsiResult write(const std::string& host, size_t p, uint64_t seed) {
    return send(host, p, fc::make_write(kLba, kBlocks), 0, pattern(seed, kBlocks));
  }
  sim::ScsiResult read(const std::string& host, size_t p) {
    return send(host, p, fc::make_read(kLba, kBlocks), kBlocks * 512);
  }
  std::vector<uint8_t> on_disk() { return tb.disk_bytes("disk0", 0, kVsegLba + kLba, kBlocks); }

  uint64_t fp_hits() {
    uint64_t n = 0;
    for (const auto& p : tb.stats().ports)
      n += p.fp_completed;
    return n;
  }
  uint64_t cp_completed() {
    uint64_t n = 0;
    for (const auto& p : tb.stats().ports)
      n += p.cp_completed;
    return n;
  }

  VirtualTestbed tb;
};

constexpr uint8_t kGood = fc::scsi_status::kGood;
constexpr uint8_t kConflict = fc::scsi_status::kReservationConflict;
constexpr uint8_t kCheck = fc::scsi_status::kCheckCondition;

bool sense_is(const sim::ScsiResult& r, uint8_t key, fc::AscAscq code) {
  return r.status == kCheck && r.has_sense && r.sense.sense_key == key && r.sense.code == code;
}

TEST_F(Reservations, WriteExclusiveThenPreempt) {
  ASSERT_TRUE(tb.ok());
  // A registers and reserves Write Exclusive through path 0.
  ASSERT_EQ(pr_out("hostA", 0, sa::kRegister, 0, 0, 0xA).status, kGood);
  ASSERT_EQ(pr_out("hostA", 0, sa::kReserve, pr_type::kWriteExclusive, 0xA, 0).status, kGood);
  ASSERT_EQ(write("hostA", 0, 1).status, kGood);
  EXPECT_EQ(on_disk(), pattern(1, kBlocks));

  // B (not registered): its WRITE conflicts and never reaches the disk; its
  // READ, permitted under Write Exclusive, is served (through the CP).
  const uint64_t cp_before = cp_completed();
  EXPECT_EQ(write("hostB", 0, 2).status, kConflict);
  EXPECT_EQ(on_disk(), pattern(1, kBlocks));
  const sim::ScsiResult rb = read("hostB", 0);
  EXPECT_EQ(rb.status, kGood);
  EXPECT_EQ(rb.data_in, pattern(1, kBlocks));
  EXPECT_EQ(cp_completed() - cp_before, 2u);
  EXPECT_GE(tb.stats().cp.reservation_conflicts, 1u);
  // INQUIRY, TEST UNIT READY, READ CAPACITY and PR IN stay allowed.
  EXPECT_EQ(send("hostB", 0, fc::make_inquiry(96), 96).status, kGood);
  EXPECT_EQ(send("hostB", 0, fc::make_test_unit_ready(), 0).status, kGood);
  EXPECT_EQ(send("hostB", 0, fc::make_read_capacity16(32), 32).status, kGood);
  // SYNCHRONIZE CACHE is a write-class command: conflict.
  EXPECT_EQ(send("hostB", 0, fc::make_synchronize_cache(), 0).status, kConflict);

  // The holder stays on the fast path.
  const uint64_t hits = fp_hits();
  ASSERT_EQ(write("hostA", 0, 3).status, kGood);
  EXPECT_EQ(fp_hits() - hits, 1u);
  EXPECT_EQ(on_disk(), pattern(3, kBlocks));

  // READ RESERVATION and READ KEYS, as B sees them.
  sim::ScsiResult in = send("hostB", 0, fc::make_persistent_reserve_in(1, 24), 24);
  ASSERT_EQ(in.status, kGood);
  auto rr = fc::decode_pr_in_read_reservation(in.data_in);
  ASSERT_TRUE(rr.ok());
  EXPECT_TRUE(rr->present);
  EXPECT_EQ(rr->key, 0xAu);
  EXPECT_EQ(rr->type, pr_type::kWriteExclusive);

  // B registers and preempts A.
  ASSERT_EQ(pr_out("hostB", 0, sa::kRegister, 0, 0, 0xB).status, kGood);
  ASSERT_EQ(pr_out("hostB", 0, sa::kPreempt, pr_type::kWriteExclusive, 0xB, 0xA).status, kGood);
  in = send("hostB", 0, fc::make_persistent_reserve_in(0, 64), 64);
  ASSERT_EQ(in.status, kGood);
  auto keys = fc::decode_pr_in_read_keys(in.data_in);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->generation, 3u);  // two REGISTERs and the PREEMPT
  ASSERT_EQ(keys->count, 1u);
  EXPECT_EQ(keys->key(0), 0xBu);

  // A meets REGISTRATIONS PREEMPTED once, then RESERVATION CONFLICT.
  const sim::ScsiResult ua = write("hostA", 0, 4);
  EXPECT_TRUE(sense_is(ua, fc::sense_key::kUnitAttention, fc::asc::kRegistrationsPreempted))
      << int{ua.status};
  EXPECT_EQ(write("hostA", 0, 4).status, kConflict);
  EXPECT_EQ(on_disk(), pattern(3, kBlocks));
  EXPECT_EQ(read("hostA", 0).status, kGood);
  ASSERT_EQ(write("hostB", 0, 5).status, kGood);
  EXPECT_EQ(on_disk(), pattern(5, kBlocks));
  // B's key alone works now: A's old key conflicts.
  EXPECT_EQ(pr_out("hostA", 0, sa::kRelease, pr_type::kWriteExclusive, 0xA, 0).status, kConflict);
}

TEST_F(Reservations, ExclusiveAccessHoldsOnEveryPath) {
  ASSERT_TRUE(tb.ok());
  ASSERT_EQ(write("hostB", 1, 7).status, kGood);
  ASSERT_EQ(pr_out("hostA", 0, sa::kRegister, 0, 0, 0xA).status, kGood);
  ASSERT_EQ(pr_out("hostA", 0, sa::kReserve, pr_type::kExclusiveAccess, 0xA, 0).status, kGood);
  // B through the other target: the same volume, the same reservation.
  EXPECT_EQ(write("hostB", 1, 8).status, kConflict);
  EXPECT_EQ(read("hostB", 1).status, kConflict);
  EXPECT_EQ(send("hostB", 1, fc::make_inquiry(96), 96).status, kGood);
  EXPECT_EQ(on_disk(), pattern(7, kBlocks));
  // A through path 1 is another I_T nexus, not registered: it conflicts too,
  // until it registers there (a registration per path, as multipath hosts do).
  EXPECT_EQ(write("hostA", 1, 9).status, kConflict);
  EXPECT_EQ(on_disk(), pattern(7, kBlocks));
  ASSERT_EQ(write("hostA", 0, 10).status, kGood);
  EXPECT_EQ(on_disk(), pattern(10, kBlocks));
  // Release: RESERVATIONS RELEASED is only for the Registrants Only and All
  // Registrants types, so B just gets access back.
  ASSERT_EQ(pr_out("hostA", 0, sa::kRelease, pr_type::kExclusiveAccess, 0xA, 0).status, kGood);
  ASSERT_EQ(write("hostB", 1, 11).status, kGood);
  EXPECT_EQ(on_disk(), pattern(11, kBlocks));
}

TEST_F(Reservations, RegistrantsOnlyReleaseTellsTheOtherRegistrants) {
  ASSERT_TRUE(tb.ok());
  ASSERT_EQ(pr_out("hostA", 0, sa::kRegister, 0, 0, 0xA).status, kGood);
  ASSERT_EQ(pr_out("hostB", 0, sa::kRegister, 0, 0, 0xB).status, kGood);
  ASSERT_EQ(
      pr_out("hostA", 0, sa::kReserve, pr_type::kWriteExclusiveRegistrantsOnly, 0xA, 0).status,
      kGood);
  // A registrant writes; an unregistered nexus (B on path 1) cannot.
  ASSERT_EQ(write("hostB", 0, 20).status, kGood);
  EXPECT_EQ(write("hostB", 1, 21).status, kConflict);
  EXPECT_EQ(on_disk(), pattern(20, kBlocks));
  ASSERT_EQ(
      pr_out("hostA", 0, sa::kRelease, pr_type::kWriteExclusiveRegistrantsOnly, 0xA, 0).status,
      kGood);
  const sim::ScsiResult ua = send("hostB", 0, fc::make_test_unit_ready(), 0);
  EXPECT_TRUE(sense_is(ua, fc::sense_key::kUnitAttention, fc::asc::kReservationsReleased));
  EXPECT_EQ(send("hostB", 0, fc::make_test_unit_ready(), 0).status, kGood);
  ASSERT_EQ(write("hostB", 1, 22).status, kGood);
  EXPECT_EQ(on_disk(), pattern(22, kBlocks));
}

TEST_F(Reservations, Scsi2ReserveBarsEverythingButInquiry) {
  ASSERT_TRUE(tb.ok());
  ASSERT_EQ(write("hostB", 0, 30).status, kGood);
  ASSERT_EQ(send("hostA", 0, fc::make_reserve6(), 0).status, kGood);
  EXPECT_EQ(write("hostB", 0, 31).status, kConflict);
  EXPECT_EQ(read("hostB", 0).status, kConflict);
  EXPECT_EQ(send("hostB", 0, fc::make_test_unit_ready(), 0).status, kConflict);
  EXPECT_EQ(send("hostB", 1, fc::make_reserve6(), 0).status, kConflict);
  EXPECT_EQ(pr_out("hostB", 0, sa::kRegister, 0, 0, 0xB).status, kConflict);
  EXPECT_EQ(send("hostB", 0, fc::make_inquiry(96), 96).status, kGood);
  EXPECT_EQ(send("hostB", 0, fc::make_report_luns(256), 256).status, kGood);
  // RELEASE by another nexus: GOOD, and nothing changes.
  EXPECT_EQ(send("hostB", 0, fc::make_release6(), 0).status, kGood);
  EXPECT_EQ(write("hostB", 1, 32).status, kConflict);
  EXPECT_EQ(on_disk(), pattern(30, kBlocks));
  ASSERT_EQ(write("hostA", 0, 33).status, kGood);
  EXPECT_EQ(on_disk(), pattern(33, kBlocks));
  ASSERT_EQ(send("hostA", 0, fc::make_release6(), 0).status, kGood);
  ASSERT_EQ(write("hostB", 1, 34).status, kGood);
  EXPECT_EQ(on_disk(), pattern(34, kBlocks));
}

// SPC-4: a SCSI-2 reservation ends with its I_T nexus, here by the
// holder's FC LOGO; its persistent reservation registration stays. Logged in
// again, the holder works on as any other nexus.
TEST_F(Reservations, Scsi2ReservationEndsWithItsHoldersLogout) {
  ASSERT_TRUE(tb.ok());
  const uint64_t vt0 = path_wwpn("hostA", 0);
  ASSERT_NE(vt0, 0u);
  ASSERT_EQ(send("hostA", 0, fc::make_reserve6(), 0).status, kGood);
  EXPECT_EQ(write("hostB", 0, 60).status, kConflict);
  ASSERT_TRUE(logout("hostA", 0));
  EXPECT_EQ(tb.host("hostA").target_port(vt0).value, 0u);  // no command goes there now
  ASSERT_EQ(write("hostB", 0, 61).status, kGood);
  EXPECT_EQ(on_disk(), pattern(61, kBlocks));
  // Logged in again (PLOGI, PRLI): the reservation is gone for it too.
  tb.host("hostA").log_in_again(vt0);
  for (int i = 0; i < 1000 && tb.host("hostA").target_port(vt0).value == 0; ++i)
    tb.run_for(100 * sim::kNsPerUs);
  ASSERT_NE(tb.host("hostA").target_port(vt0).value, 0u);
  ASSERT_EQ(write("hostA", 0, 62).status, kGood);
  EXPECT_EQ(on_disk(), pattern(62, kBlocks));
  ASSERT_EQ(pr_out("hostA", 1, sa::kRegister, 0, 0, 0xA).status, kGood);
  ASSERT_TRUE(logout("hostA", 1));
  const sim::ScsiResult keys = send("hostB", 0, fc::make_persistent_reserve_in(0, 16), 16);
  ASSERT_EQ(keys.status, kGood);
  ASSERT_EQ(fc::load_be32(keys.data_in.data() + 4), 8u);  // one key: A's registration stayed
  EXPECT_EQ(fc::load_be64(keys.data_in.data() + 8), 0xAu);
}

// SAM-5: a LOGICAL UNIT RESET (from any nexus) releases the LU's SCSI-2
// reservation and gives every other I_T nexus a UNIT ATTENTION 29/00, once.
TEST_F(Reservations, LogicalUnitResetReleasesTheScsi2ReservationAndTellsTheOthers) {
  ASSERT_TRUE(tb.ok());
  ASSERT_EQ(send("hostA", 0, fc::make_reserve6(), 0).status, kGood);
  EXPECT_EQ(write("hostB", 0, 70).status, kConflict);
  ASSERT_EQ(task_management("hostB", 0, fc::fcp_tmf::kLogicalUnitReset).status, kGood);
  // B sent the reset: no UA for it; the reservation is gone.
  ASSERT_EQ(write("hostB", 0, 71).status, kGood);
  EXPECT_EQ(on_disk(), pattern(71, kBlocks));
  // A's nexuses (both paths) and B's other path each get the UA once.
  EXPECT_TRUE(
      sense_is(write("hostA", 0, 72), fc::sense_key::kUnitAttention, fc::asc::kPowerOnReset));
  EXPECT_EQ(on_disk(), pattern(71, kBlocks));
  ASSERT_EQ(write("hostA", 0, 73).status, kGood);
  EXPECT_EQ(on_disk(), pattern(73, kBlocks));
  EXPECT_TRUE(sense_is(send("hostA", 1, fc::make_test_unit_ready(), 0),
                       fc::sense_key::kUnitAttention, fc::asc::kPowerOnReset));
  EXPECT_TRUE(sense_is(read("hostB", 1), fc::sense_key::kUnitAttention, fc::asc::kPowerOnReset));
  EXPECT_EQ(send("hostA", 1, fc::make_test_unit_ready(), 0).status, kGood);
  ASSERT_EQ(read("hostB", 1).status, kGood);
}

// A TARGET RESET resets every LU of the target; persistent reservations
// survive it.
TEST_F(Reservations, TargetResetKeepsPersistentReservations) {
  ASSERT_TRUE(tb.ok());
  ASSERT_EQ(pr_out("hostA", 0, sa::kRegister, 0, 0, 0xA).status, kGood);
  ASSERT_EQ(pr_out("hostA", 0, sa::kReserve, pr_type::kWriteExclusive, 0xA, 0).status, kGood);
  ASSERT_EQ(task_management("hostB", 1, fc::fcp_tmf::kTargetReset).status, kGood);
  // The LU is the volume: A's nexus at vt0 is told, once; its reservation holds.
  EXPECT_TRUE(
      sense_is(write("hostA", 0, 80), fc::sense_key::kUnitAttention, fc::asc::kPowerOnReset));
  EXPECT_EQ(on_disk(), std::vector<uint8_t>(kBlocks * 512));
  ASSERT_EQ(write("hostA", 0, 81).status, kGood);
  EXPECT_EQ(on_disk(), pattern(81, kBlocks));
  // B sent it through vt1: no UA there, and Write Exclusive still bars it.
  EXPECT_EQ(write("hostB", 1, 82).status, kConflict);
  EXPECT_TRUE(
      sense_is(write("hostB", 0, 83), fc::sense_key::kUnitAttention, fc::asc::kPowerOnReset));
  EXPECT_EQ(write("hostB", 0, 84).status, kConflict);
  EXPECT_EQ(on_disk(), pattern(81, kBlocks));
}

TEST_F(Reservations, BadInputGetsPreciseSense) {
  ASSERT_TRUE(tb.ok());
  // A parameter list length other than 24.
  EXPECT_TRUE(sense_is(pr_out("hostA", 0, sa::kRegister, 0, 0, 0xA, 0, 20),
                       fc::sense_key::kIllegalRequest, fc::asc::kParameterListLengthError));
  // ALL_TG_PT and APTPL are not supported (REPORT CAPABILITIES says so).
  EXPECT_TRUE(sense_is(pr_out("hostA", 0, sa::kRegister, 0, 0, 0xA, 0x04),
                       fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInParameterList));
  EXPECT_TRUE(sense_is(pr_out("hostA", 0, sa::kRegister, 0, 0, 0xA, 0x01),
                       fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInParameterList));
  // A reservation type that does not exist; a PR IN service action that does not.
  EXPECT_TRUE(sense_is(pr_out("hostA", 0, sa::kReserve, 2, 0, 0), fc::sense_key::kIllegalRequest,
                       fc::asc::kInvalidFieldInCdb));
  std::array<uint8_t, 10> pr_in{fc::scsi_op::kPersistentReserveIn, 0x07, 0, 0, 0, 0, 0, 0, 8, 0};
  EXPECT_TRUE(sense_is(send_cdb("hostA", 0, pr_in, 8), fc::sense_key::kIllegalRequest,
                       fc::asc::kInvalidFieldInCdb));
  // None of it registered anything.
  const sim::ScsiResult in = send("hostA", 0, fc::make_persistent_reserve_in(0, 8), 8);
  ASSERT_EQ(in.status, kGood);
  EXPECT_EQ(fc::load_be32(in.data_in.data()), 0u);
  EXPECT_EQ(fc::load_be32(in.data_in.data() + 4), 0u);
}

// A SCSI-2 reservation ends with its I_T nexus: when the holder's link goes
// down (it leaves the name server), the other host gets the volume back.
TEST(Scsi2Reservation, EndsWhenTheHolderLeaves) {
  VirtualTestbed tb("duration: 2s\n" + std::string(kYaml) +
                        "faults: [{at: 800ms, kind: link_down, target: hostA}]\n",
                    2);
  ASSERT_TRUE(tb.ok());
  ASSERT_LT(tb.kernel().now(), 700 * sim::kNsPerMs);
  ASSERT_EQ(tb.command("hostA", 0, fc::make_reserve6(), 0).status, kGood);
  EXPECT_EQ(tb.write("hostB", 0, kLba, pattern(50, kBlocks)).status, kConflict);
  EXPECT_EQ(tb.disk_bytes("disk0", 0, kVsegLba + kLba, kBlocks),
            std::vector<uint8_t>(kBlocks * 512));
  tb.run_for(900 * sim::kNsPerMs - tb.kernel().now());
  ASSERT_EQ(tb.write("hostB", 0, kLba, pattern(51, kBlocks)).status, kGood);
  EXPECT_EQ(tb.disk_bytes("disk0", 0, kVsegLba + kLba, kBlocks), pattern(51, kBlocks));
}

// A volume two DVEs serve would need its reservation coherent among them (the
// SCSI Reserve oplock, not built): PR OUT and RESERVE(6) are refused there.
TEST(SharedVolumeReservations, AreRefused) {
  VirtualTestbed tb(two_dves::shared_volume_yaml(), 2);
  ASSERT_TRUE(tb.ok());
  std::vector<uint8_t> params(24);
  fc::store_be64(params.data() + 8, 0xA);
  for (const fc::ScsiCommand& cmd :
       {fc::make_persistent_reserve_out(sa::kRegister, 0), fc::make_reserve6()}) {
    const sim::ScsiResult r =
        tb.command("host0", 0, cmd, 0,
                   cmd.kind == fc::ScsiCommandKind::kReserve6 ? std::vector<uint8_t>{} : params);
    EXPECT_TRUE(sense_is(r, fc::sense_key::kIllegalRequest, fc::asc::kInvalidCommandOperationCode));
  }
  // Nothing was reserved: the other DVE's host writes.
  EXPECT_EQ(tb.write("host1", 0, 0, pattern(40, 8)).status, kGood);
  EXPECT_EQ(tb.disk_bytes("disk0", 0, two_dves::kSourceLba, 8), pattern(40, 8));
}

}  // namespace
}  // namespace splitpath::testing
