// The disk's SCSI device server, driven through frames: a host on the fabric
// sends each CDB with Host::submit_command and the test checks status, sense
// and data as they came back over the wire.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "splitpath/fc/scsi.h"
#include "tests/integration/fabric_fixture.h"

namespace splitpath::sim {
namespace {

class DiskScsi : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two hosts whose jobs issue nothing (one arrival per thousand seconds), and a
    // disk with a small LUN and a LUN too big for READ CAPACITY(10).
    fabric_ = testing::build_or_die(testing::parse_or_die(R"(
duration: 1s
switches: [{name: sw0, domain: 1, ports: 4}]
disks:
  - {name: d0, port: sw0:2, luns: [{lun: 0, size: 1MiB}, {lun: 3, size: 32TiB, block_size: 4096}]}
hosts:
  - {name: a, port: sw0:0, workload: {rate_iops: 0.001}}
  - {name: b, port: sw0:1, workload: {rate_iops: 0.001}}
)"));
    fabric_->run_until(kNsPerMs);
    disk_ = fabric_->disk("d0");
    ASSERT_EQ(disk_->login_state(), LoginState::kReady);
    ASSERT_EQ(fabric_->host("a")->luns().size(), 2u);
  }

  ScsiResult exec(const std::string& host, uint16_t lun, std::vector<uint8_t> cdb,
                  uint32_t data_in = 0, std::vector<uint8_t> data_out = {}) {
    ScsiResult result;
    bool done = false;
    EXPECT_TRUE(fabric_->host(host)->submit_command(disk_->port_id(), lun, cdb, data_in,
                                                    std::move(data_out), [&](const ScsiResult& r) {
                                                      result = r;
                                                      done = true;
                                                    }));
    for (int i = 0; i < 100 && !done; ++i)
      fabric_->run_until(fabric_->kernel().now() + kNsPerMs);
    EXPECT_TRUE(done);
    EXPECT_FALSE(result.timed_out);
    return result;
  }
  ScsiResult exec(const std::string& host, uint16_t lun, const fc::ScsiCommand& cmd,
                  uint32_t data_in = 0, std::vector<uint8_t> data_out = {}) {
    std::array<uint8_t, 32> cdb{};
    auto n = fc::encode_cdb(cmd, cdb);
    EXPECT_TRUE(n.ok());
    return exec(host, lun, std::vector<uint8_t>(cdb.begin(), cdb.begin() + *n), data_in,
                std::move(data_out));
  }
  static void expect_check(const ScsiResult& r, uint8_t key, fc::AscAscq code) {
    EXPECT_EQ(r.status, fc::scsi_status::kCheckCondition);
    ASSERT_TRUE(r.has_sense);
    EXPECT_EQ(r.sense.sense_key, key);
    EXPECT_EQ(r.sense.code.asc, code.asc);
    EXPECT_EQ(r.sense.code.ascq, code.ascq);
  }

  std::unique_ptr<Fabric> fabric_;
  Disk* disk_ = nullptr;
};

TEST_F(DiskScsi, StandardInquiry) {
  ScsiResult r = exec("a", 0, fc::make_inquiry(96), 96);
  ASSERT_EQ(r.status, fc::scsi_status::kGood);
  auto inq = fc::decode_inquiry_data(r.data_in);
  ASSERT_TRUE(inq.ok());
  EXPECT_EQ(inq->peripheral_qualifier, 0);
  EXPECT_EQ(inq->device_type, fc::kDeviceTypeDisk);
  EXPECT_EQ(std::string(inq->vendor.begin(), inq->vendor.end()), "SPLITPTH");
  EXPECT_TRUE(r.underrun) << "36 bytes of 96 asked";
  EXPECT_EQ(r.residual, 96u - r.data_in.size());
  // A LUN that does not exist: qualifier 3, type 1Fh.
  ScsiResult absent = exec("a", 9, fc::make_inquiry(36), 36);
  ASSERT_EQ(absent.status, fc::scsi_status::kGood);
  EXPECT_EQ(absent.data_in[0], 0x7F);
}

TEST_F(DiskScsi, VpdPages) {
  ScsiResult pages = exec("a", 0, fc::make_inquiry(255, true, 0x00), 255);
  ASSERT_EQ(pages.status, fc::scsi_status::kGood);
  auto supported = fc::decode_vpd_supported_pages(pages.data_in);
  ASSERT_TRUE(supported.ok());
  ASSERT_EQ(supported->count, 3);
  EXPECT_EQ(supported->pages[1], 0x80);
  EXPECT_EQ(supported->pages[2], 0x83);
  ScsiResult serial = exec("a", 0, fc::make_inquiry(255, true, 0x80), 255);
  ASSERT_TRUE(fc::decode_vpd_unit_serial_number(serial.data_in).ok());
  ScsiResult ids = exec("a", 0, fc::make_inquiry(255, true, 0x83), 255);
  auto dev = fc::decode_vpd_device_identification(ids.data_in);
  ASSERT_TRUE(dev.ok());
  ASSERT_GE(dev->count, 1);
  EXPECT_EQ(dev->designators[0].type, fc::designator_type::kNaa);
  EXPECT_EQ(fc::designator_naa(dev->designators[0]) >> 60, 5u);
  // The two LUNs have different identities.
  ScsiResult ids3 = exec("a", 3, fc::make_inquiry(255, true, 0x83), 255);
  auto dev3 = fc::decode_vpd_device_identification(ids3.data_in);
  ASSERT_TRUE(dev3.ok());
  EXPECT_NE(fc::designator_naa(dev->designators[0]), fc::designator_naa(dev3->designators[0]));
  expect_check(exec("a", 0, fc::make_inquiry(255, true, 0xC7), 255), fc::sense_key::kIllegalRequest,
               fc::asc::kInvalidFieldInCdb);
}

TEST_F(DiskScsi, InvalidCdbFieldPointsAtTheByte) {
  // INQUIRY with a page code but no EVPD: invalid field in CDB byte 2.
  ScsiResult r = exec("a", 0, std::vector<uint8_t>{0x12, 0x00, 0x80, 0x00, 0xFF, 0x00}, 255);
  expect_check(r, fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInCdb);
  EXPECT_TRUE(r.sense.sksv);
  EXPECT_TRUE(fc::field_pointer_in_cdb(r.sense.sense_key_specific));
  EXPECT_EQ(fc::field_pointer_offset(r.sense.sense_key_specific), 2);
}

TEST_F(DiskScsi, UnsupportedOpcodeAndAbsentLun) {
  expect_check(exec("a", 0, std::vector<uint8_t>{0xC5, 0, 0, 0, 0, 0}),
               fc::sense_key::kIllegalRequest, fc::asc::kInvalidCommandOperationCode);
  expect_check(exec("a", 7, fc::make_test_unit_ready()), fc::sense_key::kIllegalRequest,
               fc::asc::kLogicalUnitNotSupported);
  expect_check(exec("a", 7, fc::make_read(0, 1), 512), fc::sense_key::kIllegalRequest,
               fc::asc::kLogicalUnitNotSupported);
  EXPECT_EQ(exec("a", 0, fc::make_test_unit_ready()).status, fc::scsi_status::kGood);
}

TEST_F(DiskScsi, ReadCapacityAndOutOfRangeAccess) {
  ScsiResult r10 = exec("a", 0, fc::make_read_capacity10(), 8);
  auto c10 = fc::decode_read_capacity10_data(r10.data_in);
  ASSERT_TRUE(c10.ok());
  EXPECT_EQ(c10->returned_lba, 2047u);  // 1 MiB of 512-byte blocks
  EXPECT_EQ(c10->block_length, 512u);
  ScsiResult big10 = exec("a", 3, fc::make_read_capacity10(), 8);
  EXPECT_EQ(fc::decode_read_capacity10_data(big10.data_in)->returned_lba, 0xFFFFFFFFu);
  ScsiResult big16 = exec("a", 3, fc::make_read_capacity16(32), 32);
  auto c16 = fc::decode_read_capacity16_data(big16.data_in);
  ASSERT_TRUE(c16.ok());
  EXPECT_EQ(c16->last_lba, (32ull << 40) / 4096 - 1);
  EXPECT_EQ(c16->block_length, 4096u);
  expect_check(exec("a", 0, fc::make_read(2047, 2), 1024), fc::sense_key::kIllegalRequest,
               fc::asc::kLbaOutOfRange);
  expect_check(exec("a", 0, fc::make_write(4000, 1), 0, std::vector<uint8_t>(512)),
               fc::sense_key::kIllegalRequest, fc::asc::kLbaOutOfRange);
  EXPECT_EQ(exec("a", 0, fc::make_read(2047, 1), 512).status, fc::scsi_status::kGood);
}

TEST_F(DiskScsi, ReportLuns) {
  ScsiResult r = exec("a", 0, fc::make_report_luns(256), 256);
  ASSERT_EQ(r.status, fc::scsi_status::kGood);
  auto list = fc::decode_report_luns(r.data_in);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->count, 2u);
  EXPECT_EQ(*fc::decode_lun(list->lun(0)), 0);
  EXPECT_EQ(*fc::decode_lun(list->lun(1)), 3);
  // Answered on any LUN number, and an allocation length under 16 is invalid.
  EXPECT_EQ(exec("a", 12, fc::make_report_luns(256), 256).status, fc::scsi_status::kGood);
  expect_check(exec("a", 0, fc::make_report_luns(8), 8), fc::sense_key::kIllegalRequest,
               fc::asc::kInvalidFieldInCdb);
}

TEST_F(DiskScsi, ModeSenseRequestSenseSynchronizeCache) {
  ScsiResult all = exec("a", 0, fc::make_mode_sense(false, 0x3F, 255), 255);
  ASSERT_EQ(all.status, fc::scsi_status::kGood);
  auto m = fc::decode_mode_sense(all.data_in, false);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->has_caching);
  EXPECT_TRUE(m->has_control);
  EXPECT_TRUE(m->caching.wce);
  ScsiResult ten = exec("a", 0, fc::make_mode_sense(true, 0x08, 255), 255);
  auto m10 = fc::decode_mode_sense(ten.data_in, true);
  ASSERT_TRUE(m10.ok());
  EXPECT_TRUE(m10->has_caching);
  EXPECT_FALSE(m10->has_control);
  expect_check(exec("a", 0, fc::make_mode_sense(false, 0x19, 255), 255),
               fc::sense_key::kIllegalRequest, fc::asc::kInvalidFieldInCdb);
  ScsiResult sense = exec("a", 0, fc::make_request_sense(18), 18);
  ASSERT_EQ(sense.status, fc::scsi_status::kGood);
  auto s = fc::decode_sense_data(sense.data_in);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->sense_key, fc::sense_key::kNoSense);
  EXPECT_EQ(exec("a", 0, fc::make_synchronize_cache()).status, fc::scsi_status::kGood);
}

TEST_F(DiskScsi, WrittenBytesReadBackAndLandOnTheDisk) {
  std::vector<uint8_t> data(8192);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 7 + 3);
  ASSERT_EQ(exec("a", 0, fc::make_write(100, 16), 0, data).status, fc::scsi_status::kGood);
  ScsiResult r = exec("b", 0, fc::make_read(100, 16), 8192);
  ASSERT_EQ(r.status, fc::scsi_status::kGood);
  EXPECT_EQ(r.data_in, data);
  std::vector<uint8_t> stored(8192);
  disk_->store(0)->read(100 * 512, stored);
  EXPECT_EQ(stored, data);
}

TEST_F(DiskScsi, Reserve6ExcludesOtherInitiators) {
  ASSERT_EQ(exec("a", 0, fc::make_reserve6()).status, fc::scsi_status::kGood);
  EXPECT_EQ(exec("b", 0, fc::make_read(0, 1), 512).status, fc::scsi_status::kReservationConflict);
  EXPECT_EQ(exec("a", 0, fc::make_read(0, 1), 512).status, fc::scsi_status::kGood);
  EXPECT_EQ(exec("b", 0, fc::make_inquiry(36), 36).status, fc::scsi_status::kGood);
  ASSERT_EQ(exec("a", 0, fc::make_release6()).status, fc::scsi_status::kGood);
  EXPECT_EQ(exec("b", 0, fc::make_read(0, 1), 512).status, fc::scsi_status::kGood);
}

TEST_F(DiskScsi, PersistentReservationWriteExclusive) {
  auto params = [](uint64_t key, uint64_t sa_key) {
    std::vector<uint8_t> p(fc::kPrOutParameterListSize);
    fc::encode_pr_out_parameters({key, sa_key, false, false}, p);
    return p;
  };
  auto pr_out = [&](const std::string& h, uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key) {
    return exec(h, 0, fc::make_persistent_reserve_out(sa, type, 24), 0, params(key, sa_key));
  };
  ASSERT_EQ(pr_out("a", fc::pr_out_sa::kRegister, 0, 0, 0xAAAA).status, fc::scsi_status::kGood);
  ASSERT_EQ(pr_out("b", fc::pr_out_sa::kRegister, 0, 0, 0xBBBB).status, fc::scsi_status::kGood);
  // A wrong key is a conflict.
  EXPECT_EQ(pr_out("b", fc::pr_out_sa::kReserve, fc::pr_type::kWriteExclusive, 0x1234, 0).status,
            fc::scsi_status::kReservationConflict);
  ASSERT_EQ(pr_out("a", fc::pr_out_sa::kReserve, fc::pr_type::kWriteExclusive, 0xAAAA, 0).status,
            fc::scsi_status::kGood);
  ScsiResult keys = exec("b", 0, fc::make_persistent_reserve_in(fc::pr_in_sa::kReadKeys, 64), 64);
  auto k = fc::decode_pr_in_read_keys(keys.data_in);
  ASSERT_TRUE(k.ok());
  ASSERT_EQ(k->count, 2u);
  ScsiResult res =
      exec("b", 0, fc::make_persistent_reserve_in(fc::pr_in_sa::kReadReservation, 64), 64);
  auto rr = fc::decode_pr_in_read_reservation(res.data_in);
  ASSERT_TRUE(rr.ok());
  EXPECT_TRUE(rr->present);
  EXPECT_EQ(rr->key, 0xAAAAu);
  EXPECT_EQ(rr->type, fc::pr_type::kWriteExclusive);
  // Write Exclusive: others may read but not write.
  EXPECT_EQ(exec("b", 0, fc::make_read(0, 1), 512).status, fc::scsi_status::kGood);
  EXPECT_EQ(exec("b", 0, fc::make_write(0, 1), 0, std::vector<uint8_t>(512)).status,
            fc::scsi_status::kReservationConflict);
  EXPECT_EQ(exec("a", 0, fc::make_write(0, 1), 0, std::vector<uint8_t>(512)).status,
            fc::scsi_status::kGood);
  ASSERT_EQ(pr_out("a", fc::pr_out_sa::kRelease, fc::pr_type::kWriteExclusive, 0xAAAA, 0).status,
            fc::scsi_status::kGood);
  EXPECT_EQ(exec("b", 0, fc::make_write(0, 1), 0, std::vector<uint8_t>(512)).status,
            fc::scsi_status::kGood);
  ASSERT_EQ(pr_out("b", fc::pr_out_sa::kClear, 0, 0xBBBB, 0).status, fc::scsi_status::kGood);
  ScsiResult none = exec("a", 0, fc::make_persistent_reserve_in(fc::pr_in_sa::kReadKeys, 64), 64);
  EXPECT_EQ(fc::decode_pr_in_read_keys(none.data_in)->count, 0u);
  // A parameter list of the wrong length.
  EXPECT_EQ(exec("a", 0, fc::make_persistent_reserve_out(fc::pr_out_sa::kRegister, 0, 20), 0,
                 std::vector<uint8_t>(20))
                .sense.code.asc,
            fc::asc::kParameterListLengthError.asc);
}

}  // namespace
}  // namespace splitpath::sim
