// Disk LUN masking (a disk LUN's `hosts`, LunConfig::initiators), driven over
// the wire: a host the LUN is masked to sees it as any LUN; to another host the
// disk answers as for a LUN that does not exist (SPC-4): REPORT LUNS leaves it
// out, INQUIRY answers qualifier 011b / type 1Fh, REQUEST SENSE reports and
// every other command fails with ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <vector>

#include "splitpath/fc/scsi.h"
#include "tests/integration/fabric_fixture.h"

namespace splitpath::sim {
namespace {

class DiskMasking : public ::testing::Test {
 protected:
  void SetUp() override {
    // Hosts whose jobs issue nothing (one arrival per thousand seconds); LUN 1
    // is host a's alone (by name), LUN 2 host b's (by WWPN), LUN 0 everyone's.
    fabric_ = testing::build_or_die(testing::parse_or_die(R"(
duration: 1s
switches: [{name: sw0, domain: 1, ports: 4}]
disks:
  - name: d0
    port: sw0:2
    luns:
      - {lun: 0, size: 1MiB}
      - {lun: 1, size: 1MiB, hosts: [a]}
      - {lun: 2, size: 1MiB, hosts: ["10:00:00:00:00:00:00:0b"]}
hosts:
  - {name: a, wwpn: "10:00:00:00:00:00:00:0a", port: sw0:0, workload: {rate_iops: 0.001}}
  - {name: b, wwpn: "10:00:00:00:00:00:00:0b", port: sw0:1, workload: {rate_iops: 0.001}}
)"));
    ASSERT_NE(fabric_, nullptr);
    fabric_->run_until(kNsPerMs);
    disk_ = fabric_->disk("d0");
    ASSERT_EQ(disk_->login_state(), LoginState::kReady);
  }

  ScsiResult exec(const std::string& host, uint16_t lun, const fc::ScsiCommand& cmd,
                  uint32_t data_in = 0, std::vector<uint8_t> data_out = {}) {
    std::array<uint8_t, 32> cdb{};
    auto n = fc::encode_cdb(cmd, cdb);
    EXPECT_TRUE(n.ok());
    ScsiResult result;
    bool done = false;
    EXPECT_TRUE(fabric_->host(host)->submit_command(
        disk_->port_id(), lun, std::vector<uint8_t>(cdb.begin(), cdb.begin() + *n), data_in,
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

  std::vector<uint16_t> reported(const std::string& host) {
    ScsiResult r = exec(host, 0, fc::make_report_luns(256), 256);
    EXPECT_EQ(r.status, fc::scsi_status::kGood);
    auto list = fc::decode_report_luns(r.data_in);
    EXPECT_TRUE(list.ok());
    std::vector<uint16_t> out;
    if (!list.ok()) return out;
    EXPECT_FALSE(list->truncated);
    for (size_t i = 0; i < list->count; ++i) {
      auto lun = fc::decode_lun(list->lun(i));
      EXPECT_TRUE(lun.ok());
      if (lun.ok()) out.push_back(*lun);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static void expect_not_supported(const ScsiResult& r) {
    EXPECT_EQ(r.status, fc::scsi_status::kCheckCondition);
    ASSERT_TRUE(r.has_sense);
    EXPECT_EQ(r.sense.sense_key, fc::sense_key::kIllegalRequest);
    EXPECT_EQ(r.sense.code.asc, 0x25);
    EXPECT_EQ(r.sense.code.ascq, 0x00);
    EXPECT_TRUE(r.data_in.empty());
  }

  std::unique_ptr<Fabric> fabric_;
  Disk* disk_ = nullptr;
};

TEST_F(DiskMasking, ReportLunsListsOnlyTheLunsTheInitiatorMaySee) {
  EXPECT_EQ(reported("a"), (std::vector<uint16_t>{0, 1}));
  EXPECT_EQ(reported("b"), (std::vector<uint16_t>{0, 2}));
  // Each host's own discovery found the same.
  EXPECT_EQ(fabric_->host("a")->luns().size(), 2u);
  EXPECT_EQ(fabric_->host("b")->luns().size(), 2u);
}

TEST_F(DiskMasking, ReadAndWriteReachOnlyAnAllowedInitiator) {
  ScsiResult ok = exec("a", 1, fc::make_read(0, 2), 1024);
  EXPECT_EQ(ok.status, fc::scsi_status::kGood);
  EXPECT_EQ(ok.data_in.size(), 1024u);
  expect_not_supported(exec("b", 1, fc::make_read(0, 2), 1024));
  expect_not_supported(exec("a", 2, fc::make_read(0, 1), 512));
  expect_not_supported(exec("b", 1, fc::make_write(0, 1), 0, std::vector<uint8_t>(512, 0xAB)));
  expect_not_supported(exec("b", 1, fc::make_read_capacity10(), 8));
  expect_not_supported(exec("b", 1, fc::make_test_unit_ready()));
  // The refused write changed nothing; host a writes and reads its LUN.
  ScsiResult before = exec("a", 1, fc::make_read(0, 1), 512);
  EXPECT_EQ(before.data_in, std::vector<uint8_t>(512, 0));
  EXPECT_EQ(exec("a", 1, fc::make_write(0, 1), 0, std::vector<uint8_t>(512, 0x5A)).status,
            fc::scsi_status::kGood);
  EXPECT_EQ(exec("a", 1, fc::make_read(0, 1), 512).data_in, std::vector<uint8_t>(512, 0x5A));
  // An unmasked LUN serves both.
  EXPECT_EQ(exec("b", 0, fc::make_read(0, 1), 512).status, fc::scsi_status::kGood);
  EXPECT_EQ(exec("a", 0, fc::make_read(0, 1), 512).status, fc::scsi_status::kGood);
}

TEST_F(DiskMasking, InquiryAndRequestSenseAnswerAsForAnAbsentLun) {
  ScsiResult seen = exec("a", 1, fc::make_inquiry(96), 96);
  ASSERT_EQ(seen.status, fc::scsi_status::kGood);
  auto inq = fc::decode_inquiry_data(seen.data_in);
  ASSERT_TRUE(inq.ok());
  EXPECT_EQ(inq->peripheral_qualifier, 0);
  EXPECT_EQ(inq->device_type, fc::kDeviceTypeDisk);

  ScsiResult masked = exec("b", 1, fc::make_inquiry(96), 96);
  ASSERT_EQ(masked.status, fc::scsi_status::kGood);
  auto none = fc::decode_inquiry_data(masked.data_in);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->peripheral_qualifier, 0x3);  // 011b: no LU here
  EXPECT_EQ(none->device_type, 0x1F);          // unknown or no device type

  ScsiResult sense = exec("b", 1, fc::make_request_sense(252), 252);
  ASSERT_EQ(sense.status, fc::scsi_status::kGood);
  auto s = fc::decode_sense_data(sense.data_in);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->sense_key, fc::sense_key::kIllegalRequest);
  EXPECT_EQ(s->code.asc, 0x25);
  ScsiResult clean = exec("a", 1, fc::make_request_sense(252), 252);
  ASSERT_EQ(clean.status, fc::scsi_status::kGood);
  auto c = fc::decode_sense_data(clean.data_in);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->sense_key, fc::sense_key::kNoSense);
}

}  // namespace
}  // namespace splitpath::sim
