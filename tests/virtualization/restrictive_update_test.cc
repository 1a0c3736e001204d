// A mapping changed while I/Os that use it are in flight (the restrictive
// update of figure 25B): the FP entries go first, so no I/O started after
// that uses the old mapping, and the change waits for the older ones before
// the metadata changes. Disabling the drain must make the test fail.
#include <gtest/gtest.h>

#include <algorithm>

#include "splitpath/fc/scsi_cdb.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/split_path_yaml.h"

namespace splitpath::testing {
namespace {

struct UpdateRun {
  sim::SimTime change_done_at = 0;
  sim::SimTime last_old_write_done_at = 0;
  bool change_ok = false;
  bool old_writes_good = true;
  bool old_writes_on_old_disk = true;
  bool new_writes_good = true;
  bool new_writes_on_new_disk = true;
  bool new_writes_not_on_old_disk = true;
  uint64_t no_mapping_faults = 0;  // I/Os the CP held while the range was updating
};

// vol0 blocks 2000..2999 (an extent of VSEG 0 on disk0) move to disk3 while
// four writes to them wait on a slow disk0; four more writes start just after
// the FPs dropped the old entry.
UpdateRun run_update(bool skip_drain) {
  UpdateRun out;
  sim::FabricOptions options;
  options.adjust_cp_config = [skip_drain](cp::CpConfig& c) {
    c.skip_drain_for_testing = skip_drain;
  };
  VirtualTestbed tb(split_path_yaml(), 2, options);
  if (!tb.ok()) return out;
  // Warm the FP cache for the extent, then slow disk0 down.
  EXPECT_EQ(tb.write("host0", 0, 2000, pattern(100, 1)).status, fc::scsi_status::kGood);
  tb.disk("disk0").set_extra_delay(2 * sim::kNsPerMs);

  std::vector<std::shared_ptr<VirtualTestbed::Pending>> old_writes;
  for (uint64_t i = 0; i < 4; ++i) {
    old_writes.push_back(
        tb.start("host0", 0, fc::make_write(2100 + i * 8, 8), 0, pattern(200 + i, 8)));
  }
  tb.run_for(200 * sim::kNsPerUs);  // the old writes are at disk0 now

  cp::MappingChange change;
  change.volume = "vol0";
  change.lba = 2000;
  change.blocks = 1000;
  map::SimpleStorage moved;
  moved.lun = 0;
  moved.start_lba = 0;  // disk3 block = VSEG block
  change.storage = moved;
  change.disk_wwpn = tb.disk("disk3").config().wwpn;
  sim::Kernel* k = &tb.kernel();
  tb.virtualization().control_path().change_mapping(change, [&out, k](bool ok) {
    out.change_ok = ok;
    out.change_done_at = k->now();
  });
  // Mailbox latency plus CP time: the FPs have dropped the entry by now.
  tb.run_for(50 * sim::kNsPerUs);
  std::vector<std::shared_ptr<VirtualTestbed::Pending>> new_writes;
  for (uint64_t i = 0; i < 4; ++i) {
    new_writes.push_back(
        tb.start("host0", 0, fc::make_write(2500 + i * 8, 8), 0, pattern(300 + i, 8)));
  }
  for (const auto& p : old_writes)
    tb.wait(*p);
  for (const auto& p : new_writes)
    tb.wait(*p);
  tb.run_for(sim::kNsPerMs);

  for (uint64_t i = 0; i < 4; ++i) {
    const auto& p = *old_writes[i];
    out.last_old_write_done_at = std::max(out.last_old_write_done_at, p.done_at);
    out.old_writes_good = out.old_writes_good && p.result.status == fc::scsi_status::kGood;
    out.old_writes_on_old_disk =
        out.old_writes_on_old_disk &&
        tb.disk_bytes("disk0", 0, 1000 + 2100 + i * 8, 8) == pattern(200 + i, 8);
  }
  for (uint64_t i = 0; i < 4; ++i) {
    const auto& p = *new_writes[i];
    out.new_writes_good = out.new_writes_good && p.result.status == fc::scsi_status::kGood;
    out.new_writes_on_new_disk = out.new_writes_on_new_disk &&
                                 tb.disk_bytes("disk3", 0, 2500 + i * 8, 8) == pattern(300 + i, 8);
    out.new_writes_not_on_old_disk =
        out.new_writes_not_on_old_disk &&
        tb.disk_bytes("disk0", 0, 1000 + 2500 + i * 8, 8) == std::vector<uint8_t>(8 * 512, 0);
  }
  for (const auto& port : tb.stats().ports)
    out.no_mapping_faults += port.faults[static_cast<size_t>(fpapi::FaultKind::kNoMapping)];
  return out;
}

TEST(RestrictiveUpdate, NewIosUseTheNewMappingAndTheChangeWaitsForOldOnes) {
  const UpdateRun r = run_update(false);
  EXPECT_TRUE(r.change_ok);
  EXPECT_TRUE(r.old_writes_good);
  EXPECT_TRUE(r.old_writes_on_old_disk);
  EXPECT_TRUE(r.new_writes_good);
  EXPECT_TRUE(r.new_writes_on_new_disk);
  EXPECT_TRUE(r.new_writes_not_on_old_disk);
  // The drain: the metadata changed only after every older I/O had ended.
  EXPECT_GE(r.change_done_at, r.last_old_write_done_at);
  // The new writes missed the revoked extent; the CP answered QUEUE (no
  // mapping) and ran them on the new mapping once the update was done.
  EXPECT_EQ(r.no_mapping_faults, 4u);
}

TEST(RestrictiveUpdate, WithoutTheDrainTheChangeDoesNotWaitAndTheTestNotices) {
  const UpdateRun r = run_update(true);
  EXPECT_TRUE(r.change_ok);
  // What the test above checks fails once the drain is skipped.
  EXPECT_LT(r.change_done_at, r.last_old_write_done_at);
}

}  // namespace
}  // namespace splitpath::testing
