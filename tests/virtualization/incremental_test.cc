// Incrementals (figure 22) end to end: two incrementals of one base diverge
// under writes from a host through the switch; each, and the read-only base,
// is read back block by block through its own LUN.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fabric_sim/kernel/rng.h"
#include "fabric_sim/topology/topology_yaml.h"
#include "splitpath/fc/scsi_cdb.h"
#include "tests/support/virtual_testbed.h"

namespace splitpath::testing {
namespace {

constexpr uint64_t kBlocks = 8192;

std::string incremental_yaml() {
  return R"(seed: 6
switches: [{name: sw0, domain: 1, ports: 8}]
disks:
  - {name: disk0, port: sw0:2, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk1, port: sw0:3, luns: [{lun: 0, size: 16MiB}]}
  - {name: disk2, port: sw0:4, luns: [{lun: 0, size: 16MiB}]}
hosts:
  - {name: host0, port: sw0:0}
volumes:
  - {name: base, switch: sw0, vsegs: [{disk: disk0, lba: 0, blocks: 8192, extent_blocks: 2048}]}
  - {name: inc0, switch: sw0, vsegs: [{disk: disk1, lba: 64, blocks: 8192}]}
  - {name: inc1, switch: sw0, vsegs: [{disk: disk2, lba: 0, blocks: 8192}]}
virtual_targets:
  - name: vt0
    switch: sw0
    luns: [{lun: 0, volume: base}, {lun: 1, volume: inc0}, {lun: 2, volume: inc1}]
zones: [{name: z0, members: [host0, vt0]}]
)";
}

// A volume's expected bytes, block by block.
struct Image {
  std::vector<uint8_t> bytes;
  void write(uint64_t lba, const std::vector<uint8_t>& data) {
    std::copy(data.begin(), data.end(), bytes.begin() + lba * 512);
  }
};

bool take(VirtualTestbed& tb, cp::ControlPath& cp, const std::string& base,
          const std::string& name) {
  bool done = false, ok = false;
  std::string error;
  EXPECT_TRUE(cp.take_incremental({base, name}, &error, [&](bool r) {
    done = true;
    ok = r;
  })) << error;
  for (int i = 0; i < 10000 && !done; ++i)
    tb.run_for(10 * sim::kNsPerUs);
  return done && ok;
}

void expect_volume(VirtualTestbed& tb, uint16_t lun, const Image& image, const std::string& what) {
  for (uint64_t lba = 0; lba < kBlocks; lba += 256) {
    const sim::ScsiResult r = tb.read("host0", lun, lba, 256);
    ASSERT_EQ(r.status, fc::scsi_status::kGood) << what;
    const std::vector<uint8_t> want(image.bytes.begin() + lba * 512,
                                    image.bytes.begin() + (lba + 256) * 512);
    ASSERT_EQ(r.data_in, want) << what << ": blocks [" << lba << ", +256) differ";
  }
}

TEST(Incremental, TwoIncrementalsOfOneBaseDivergeAndTheBaseStaysAsItWas) {
  VirtualTestbed tb(incremental_yaml(), 3);
  ASSERT_TRUE(tb.ok());
  Image base{pattern(77, kBlocks)};
  tb.disk("disk0").mutable_store(0)->write(0, base.bytes);
  cp::ControlPath& cp = tb.virtualization().control_path();
  ASSERT_TRUE(take(tb, cp, "base", "inc0"));
  ASSERT_TRUE(take(tb, cp, "base", "inc1"));
  Image inc[2] = {base, base};
  sim::Rng rng(5);
  // Writes of 1 to 20 blocks (a 10 KiB write inside or across 64 KiB
  // chunks), several in flight, alternating between the incrementals.
  for (int round = 0; round < 60; ++round) {
    std::vector<std::shared_ptr<VirtualTestbed::Pending>> batch;
    std::vector<uint64_t> used;
    for (int k = 0; k < 6; ++k) {
      const int which = k % 2;
      const uint32_t blocks = 1 + static_cast<uint32_t>(rng.uniform(20));
      const uint64_t lba = rng.uniform(kBlocks - blocks);
      // Never two in flight on overlapping blocks of one volume.
      bool overlap = false;
      for (size_t u = 0; u < used.size(); u += 3)
        overlap = overlap || (used[u] == uint64_t(which) && lba < used[u + 1] + used[u + 2] &&
                              used[u + 1] < lba + blocks);
      if (overlap) continue;
      used.insert(used.end(), {uint64_t(which), lba, blocks});
      std::vector<uint8_t> data = pattern(1000 + round * 10 + k, blocks);
      inc[which].write(lba, data);
      batch.push_back(tb.start("host0", static_cast<uint16_t>(1 + which),
                               fc::make_write(lba, blocks), 0, std::move(data)));
    }
    for (const auto& p : batch) {
      tb.wait(*p);
      ASSERT_EQ(p->result.status, fc::scsi_status::kGood);
    }
  }
  // The base is read only.
  const sim::ScsiResult w = tb.write("host0", 0, 10, pattern(9, 1));
  EXPECT_EQ(w.status, fc::scsi_status::kCheckCondition);
  EXPECT_EQ(w.sense.sense_key, fc::sense_key::kDataProtect);
  expect_volume(tb, 0, base, "base");
  expect_volume(tb, 1, inc[0], "inc0");
  expect_volume(tb, 2, inc[1], "inc1");
  EXPECT_EQ(tb.disk_bytes("disk0", 0, 0, kBlocks), base.bytes) << "the base's disk was written";
  const cp::CpStats& s = cp.stats();
  EXPECT_GT(s.redirects_on_write, 0u);
  // Later writes into a redirected chunk stay on the FP: fewer write faults
  // than writes.
  EXPECT_LT(s.faults[size_t(fpapi::FaultKind::kFaultOnWrite)], 360u);
  EXPECT_EQ(s.faults[size_t(fpapi::FaultKind::kFaultOnRead)], 0u);
}

TEST(Incremental, RequestsThatCannotBeServedAreRefusedWithAPreciseReason) {
  VirtualTestbed tb(incremental_yaml(), 3);
  ASSERT_TRUE(tb.ok());
  cp::ControlPath& cp = tb.virtualization().control_path();
  std::string error;
  EXPECT_FALSE(cp.take_incremental({"nope", "inc0"}, &error));
  EXPECT_NE(error.find("no such base volume"), std::string::npos) << error;
  ASSERT_TRUE(take(tb, cp, "base", "inc0"));
  EXPECT_FALSE(cp.take_incremental({"inc0", "inc1"}, &error));
  EXPECT_NE(error.find("the base is an incremental"), std::string::npos) << error;
  EXPECT_FALSE(cp.take_incremental({"base", "inc0"}, &error));
  EXPECT_NE(error.find("already"), std::string::npos) << error;
}

}  // namespace
}  // namespace splitpath::testing

namespace splitpath::testing {
namespace {

TEST(Incremental, AScheduledIncrementalNamingNoVolumeIsAnErrorAtItsLine) {
  auto t = sim::parse_topology_yaml(
      incremental_yaml() + "services:\n  - {at: 1ms, incremental: {base: base, name: incX}}\n",
      "t.yaml");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("no volume 'incX'"), std::string::npos) << t.status();
  auto ok = sim::parse_topology_yaml(
      incremental_yaml() + "services:\n  - {at: 1ms, incremental: {base: base, name: inc0}}\n",
      "t.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->services.size(), 1u);
  ASSERT_TRUE(ok->services[0].incremental.has_value());
  EXPECT_EQ(ok->services[0].incremental->name, "inc0");
}

}  // namespace
}  // namespace splitpath::testing
