// How the checkers judge an FCP_RSP (fabric_sim/torture/host_io.h). Seeds
// 3000039 and 3000167 at 50000 I/Os found the tracker calling a read GOOD whose
// data frames had been lost on a downed ISL: the host had failed it.
#include "fabric_sim/torture/host_io.h"

#include <gtest/gtest.h>

#include "splitpath/fc/scsi_cdb.h"

namespace splitpath::sim::torture {
namespace {

HostIo read_of(uint32_t units, uint32_t seen) {
  HostIo io;
  io.units = units;
  io.data.resize(units);
  for (uint32_t i = 0; i < seen; ++i)
    io.data[i].seen = true;
  return io;
}

TEST(JudgeResponse, AGoodReadWithAllItsDataIsGood) {
  EXPECT_EQ(judge_response(read_of(64, 64), fc::FcpRsp{}), IoEnd::kGood);
}

TEST(JudgeResponse, AGoodReadMissingDataFramesIsAShortReadNotAGoodOne) {
  HostIo io = read_of(64, 64);
  for (uint32_t i = 0; i < 54; ++i)
    io.data[i].seen = false;  // the first 27 KiB were dropped on an ISL
  EXPECT_EQ(judge_response(io, fc::FcpRsp{}), IoEnd::kShortRead);
}

TEST(JudgeResponse, AWriteIsJudgedByItsStatusAlone) {
  HostIo io = read_of(8, 0);
  io.write = true;
  EXPECT_EQ(judge_response(io, fc::FcpRsp{}), IoEnd::kGood);
}

TEST(JudgeResponse, AResidualOrAnFcpErrorOrABadStatusIsAnError) {
  fc::FcpRsp under;
  under.resid_under = true;
  under.residual = 512;
  EXPECT_EQ(judge_response(read_of(8, 8), under), IoEnd::kError);
  fc::FcpRsp refused = fc::make_fcp_rsp_code(2);
  EXPECT_EQ(judge_response(read_of(8, 8), refused), IoEnd::kError);
  fc::FcpRsp check;
  check.scsi_status = fc::scsi_status::kCheckCondition;
  EXPECT_EQ(judge_response(read_of(8, 8), check), IoEnd::kError);
}

}  // namespace
}  // namespace splitpath::sim::torture
