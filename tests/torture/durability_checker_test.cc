// The durability checker alone, fed by hand: what it must accept (concurrent
// writes returning either value) and what it must flag (lost, stale,
// misdirected and corrupt units).
#include "fabric_sim/torture/durability_checker.h"

#include <gtest/gtest.h>

namespace splitpath::sim::torture {
namespace {

constexpr uint64_t kWriter = 0x1000000000000001ull;

class DurabilityCheckerTest : public ::testing::Test {
 protected:
  DurabilityCheckerTest() : checker_(kNsPerSec, nullptr) {}

  // A one-unit write of unit 7 with `generation`, issued at `at`.
  HostIo write(uint64_t generation, SimTime at) {
    HostIo io = io_at(at, true);
    checker_.begin_write(io);
    io.data[0] = UnitData{true, StampCheck::kValid, BlockStamp{7, generation, kWriter}};
    checker_.write_data(io, 0);
    return io;
  }
  // A write refused before any of its data passed (e.g. a read-only LUN).
  HostIo write_without_data(SimTime at) {
    HostIo io = io_at(at, true);
    checker_.begin_write(io);
    return io;
  }
  HostIo read(SimTime at) {
    HostIo io = io_at(at, false);
    checker_.begin_read(io);
    return io;
  }
  // Ends `io` at `at` having returned `got` for unit 7.
  std::optional<Violation> read_returns(HostIo io, UnitData got, SimTime at) {
    io.data[0] = got;
    return checker_.end_read(io, true, at);
  }
  static UnitData stamp(uint64_t generation, uint64_t unit = 7) {
    return UnitData{true, StampCheck::kValid, BlockStamp{unit, generation, kWriter}};
  }
  static UnitData zeros() { return UnitData{true, StampCheck::kZero, {}}; }

  DurabilityChecker checker_;

 private:
  HostIo io_at(SimTime at, bool is_write) {
    HostIo io;
    io.id = next_++;
    io.host = 0x010100;
    io.ox_id = static_cast<uint16_t>(io.id);
    io.write = is_write;
    io.first_unit = 7;
    io.units = 1;
    io.issued = at;
    io.data.resize(1);
    return io;
  }
  uint64_t next_ = 0;
};

TEST_F(DurabilityCheckerTest, AnAcknowledgedWriteMustBeReadBack) {
  HostIo w = write(5, 100);
  checker_.end_write(w, true, 200);
  EXPECT_FALSE(read_returns(read(300), stamp(5), 400));
  auto lost = read_returns(read(500), zeros(), 600);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->invariant, kDurability);
  EXPECT_NE(lost->summary.find("lost"), std::string::npos) << lost->summary;
  EXPECT_FALSE(lost->history.empty());
}

TEST_F(DurabilityCheckerTest, ZerosBeforeAnyAcknowledgementAreFine) {
  HostIo r = read(50);
  HostIo w = write(5, 100);
  checker_.end_write(w, true, 200);
  EXPECT_FALSE(read_returns(r, zeros(), 300));  // began before the acknowledgement
}

TEST_F(DurabilityCheckerTest, AConcurrentReadMayReturnEitherWriteButNotAnOlderOne) {
  HostIo w1 = write(5, 100);
  checker_.end_write(w1, true, 200);
  HostIo w2 = write(6, 300);
  HostIo r1 = read(350);
  HostIo r2 = read(360);
  checker_.end_write(w2, true, 400);
  EXPECT_FALSE(read_returns(r1, stamp(5), 450));
  EXPECT_FALSE(read_returns(r2, stamp(6), 460));
  auto stale = read_returns(read(500), stamp(5), 600);
  ASSERT_TRUE(stale);
  EXPECT_NE(stale->summary.find("stale"), std::string::npos) << stale->summary;
}

TEST_F(DurabilityCheckerTest, MisdirectedCorruptAndUnknownUnitsAreFlagged) {
  HostIo w = write(5, 100);
  checker_.end_write(w, true, 200);
  auto misdirected = read_returns(read(300), stamp(5, 8), 400);
  ASSERT_TRUE(misdirected);
  EXPECT_NE(misdirected->summary.find("misdirected"), std::string::npos);
  auto corrupt = read_returns(read(500), UnitData{true, StampCheck::kCorrupt, {}}, 600);
  ASSERT_TRUE(corrupt);
  EXPECT_NE(corrupt->summary.find("corrupt"), std::string::npos);
  auto phantom = read_returns(read(700), stamp(99), 800);
  ASSERT_TRUE(phantom);
  EXPECT_NE(phantom->summary.find("phantom"), std::string::npos);
}

TEST_F(DurabilityCheckerTest, AFailedWriteMayLandButAnAcknowledgedOneStillWins) {
  HostIo w1 = write(5, 100);
  checker_.end_write(w1, true, 200);
  HostIo w2 = write(6, 300);
  checker_.end_write(w2, false, 400);  // failed: its data may or may not be there
  EXPECT_FALSE(read_returns(read(500), stamp(5), 600));
  EXPECT_FALSE(read_returns(read(700), stamp(6), 800));
  // Issued long after the failure and acknowledged: it supersedes both.
  HostIo w3 = write(7, 400 + 2 * kNsPerSec);
  checker_.end_write(w3, true, 500 + 2 * kNsPerSec);
  EXPECT_TRUE(read_returns(read(600 + 2 * kNsPerSec), stamp(6), 700 + 2 * kNsPerSec));
}

TEST_F(DurabilityCheckerTest, AWriteThatFailedBeforeItsDataPassedCannotLand) {
  HostIo w1 = write(5, 100);
  checker_.end_write(w1, true, 200);
  HostIo refused = write_without_data(300);
  checker_.end_write(refused, false, 400);
  EXPECT_FALSE(read_returns(read(500), stamp(5), 600));
  auto phantom = read_returns(read(700), stamp(6), 800);
  ASSERT_TRUE(phantom);
  EXPECT_NE(phantom->summary.find("phantom"), std::string::npos) << phantom->summary;
}

}  // namespace
}  // namespace splitpath::sim::torture
