// A side of a mirror two DVEs serve dies where only one of them sees it, end
// to end: host0 writes the even slots of `mirrored` through sw0, host1 the
// odd ones through sw1, and both read. Side 1 (disk1) fails host0's writes to
// one slot with MEDIUM ERROR: sw0 finds the side failed and makes it DEAD;
// sw1 never sees a failure. With the side-state oplock, sw1 drains the VSEG
// while sw0 records the change and applies the record before it serves the
// VSEG again, so it stops reading side 1: every slot read through sw1 holds
// host0's last acknowledged write. Without it (a test switch) sw1 goes on
// reading side 1, which no longer takes sw0's writes. Then side 1 is
// returned through sw1 under load: the resync (one DVE, copying the side
// whole, each extent under its chunks' mirror-write oplocks) ends with both
// DVEs seeing it ALIVE and the sides identical.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cp/control_path.h"
#include "tests/support/virtual_testbed.h"
#include "tests/virtualization/volume_load.h"

namespace splitpath::testing {
namespace {

constexpr uint64_t kBlocks = 2048;
constexpr uint32_t kIoBlocks = 8;
constexpr uint64_t kSlots = kBlocks / kIoBlocks;
constexpr uint64_t kSideLba = 256;
constexpr uint64_t kFailingSlot = 40;  // one of host0's

std::string shared_mirror_yaml() {
  return R"(seed: 31
switches:
  - {name: sw0, domain: 1, ports: 8}
  - {name: sw1, domain: 2, ports: 8}
  - {name: sw2, domain: 3, ports: 8}
isls:
  - {a: sw0:7, b: sw1:7, delay: 20us}
  - {a: sw0:6, b: sw2:6, delay: 20us}
  - {a: sw1:6, b: sw2:7, delay: 20us}
disks:
  - {name: disk0, port: sw2:4, latency: 20us, luns: [{lun: 0, size: 4MiB}]}
  - {name: disk1, port: sw2:5, latency: 20us, luns: [{lun: 0, size: 4MiB}]}
hosts:
  - {name: host0, port: sw0:0}
  - {name: host1, port: sw1:0}
volumes:
  - name: mirrored
    switch: sw0
    shared_with: [sw1]
    vsegs:
      - blocks: 2048
        mirror:
          sides:
            - {disk: disk0, lba: 256}
            - {disk: disk1, lba: 256}
virtual_targets:
  - {name: vt0, switch: sw0, luns: [{lun: 0, volume: mirrored}]}
  - {name: vt1, switch: sw1, luns: [{lun: 0, volume: mirrored}]}
zones:
  - {name: z0, members: [host0, vt0]}
  - {name: z1, members: [host1, vt1]}
cp: {mirror_write_chunk: 64KiB, dve_latency: 50us, dve_timeout: 2ms, dve_lease: 6ms}
)";
}

VolumeLoadShape shape(const std::string& host) {
  VolumeLoadShape s;
  s.host = host;
  s.slots = kSlots;
  s.io_blocks = kIoBlocks;
  s.write_percent = 60;
  s.retry_failed_writes = true;
  return s;
}

map::SideState side_state(cp::ControlPath& cp, uint32_t side) {
  const std::vector<cp::MirrorReport> mirrors = cp.mirrors();
  EXPECT_EQ(mirrors.size(), 1u);
  return mirrors.empty() ? map::SideState::kAlive : mirrors[0].sides.at(side).state;
}

struct Outcome {
  uint64_t stale_reads = 0;  // host0's slots read through sw1 not as host0 last wrote them
  uint64_t load_errors = 0;  // the hosts' own reads that saw other data, or I/O errors
  bool dead_at_sw0 = false, dead_at_sw1 = false;
  bool alive_again_at_sw0 = false, alive_again_at_sw1 = false;
  uint64_t differing_slots = 0;  // after the resync
  uint64_t resync_blocks = 0;
};

class SharedMirror {
 public:
  explicit SharedMirror(bool coherent)
      : tb_(shared_mirror_yaml(), 1, options(coherent)),
        load0_(tb_, shape("host0"), 1),
        load1_(tb_, shape("host1"), 2) {
    load1_.next_seed = 1'000'000;
    load0_.stride = load1_.stride = 2;
    load1_.phase = 1;
    load0_.prefill("disk0", kSideLba);
    load0_.prefill("disk1", kSideLba);
  }

  VirtualTestbed& tb() { return tb_; }
  cp::ControlPath& cp(const std::string& sw) { return tb_.virtualization(sw).control_path(); }

  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      load0_.top_up(6);
      load1_.top_up(6);
      tb_.run_for(10 * sim::kNsPerUs);
      load0_.reap();
      load1_.reap();
    }
  }
  void drain() {
    load0_.drain();
    load1_.drain();
  }

  // Every one of host0's slots read twice through sw1 (reads alternate
  // among the readable sides).
  uint64_t stale_reads_through_sw1() {
    uint64_t stale = 0;
    for (int pass = 0; pass < 2; ++pass) {
      for (uint64_t s = 0; s < kSlots; s += 2) {
        const sim::ScsiResult r = tb_.read("host1", 0, s * kIoBlocks, kIoBlocks);
        stale += r.status != fc::scsi_status::kGood ||
                 r.data_in != pattern(load0_.content[s], kIoBlocks);
      }
    }
    return stale;
  }

  // host0 writes `slot` with pattern(seed) on its own, after its load drained.
  uint8_t host0_writes(uint64_t slot, uint64_t seed) {
    drain();
    const sim::ScsiResult r = tb_.write("host0", 0, slot * kIoBlocks, pattern(seed, kIoBlocks));
    if (r.status == fc::scsi_status::kGood) load0_.content[slot] = seed;
    return r.status;
  }

  uint64_t load_errors() const {
    return load0_.mismatches + load1_.mismatches + load0_.errors + load1_.errors;
  }

 private:
  static sim::FabricOptions options(bool coherent) {
    sim::FabricOptions o;
    o.adjust_cp_config = [coherent](cp::CpConfig& c) {
      c.skip_side_state_coherence_for_testing = !coherent;
    };
    return o;
  }

  VirtualTestbed tb_;
  VolumeLoad load0_, load1_;
};

Outcome side_dies_at_one_dve(bool coherent) {
  Outcome out;
  SharedMirror m(coherent);
  EXPECT_TRUE(m.tb().ok());
  if (!m.tb().ok()) return out;
  m.run(200);
  m.tb().disk("disk1").add_medium_error(0, kSideLba + kFailingSlot * kIoBlocks, kIoBlocks);
  // host0 writes the failing slot until sw0 finds side 1 failed.
  for (int i = 0; i < 50 && side_state(m.cp("sw0"), 1) != map::SideState::kDead; ++i) {
    EXPECT_EQ(m.host0_writes(kFailingSlot, 777'000 + i), fc::scsi_status::kGood);
  }
  m.tb().disk("disk1").clear_medium_errors();
  m.run(600);  // host0's writes now reach side 0 alone
  m.drain();
  out.dead_at_sw0 = side_state(m.cp("sw0"), 1) == map::SideState::kDead;
  out.dead_at_sw1 = side_state(m.cp("sw1"), 1) == map::SideState::kDead;
  out.stale_reads = m.stale_reads_through_sw1();
  if (coherent) {
    bool returned = false;
    std::string error;
    EXPECT_TRUE(m.cp("sw1").return_mirror_side("mirrored", 0, 1, &error, [&](bool ok) {
      EXPECT_TRUE(ok);
      returned = true;
    })) << error;
    for (int i = 0; i < 20000 && !returned; ++i)
      m.run(1);
    EXPECT_TRUE(returned);
    m.run(200);
    m.drain();
    out.alive_again_at_sw0 = side_state(m.cp("sw0"), 1) == map::SideState::kAlive;
    out.alive_again_at_sw1 = side_state(m.cp("sw1"), 1) == map::SideState::kAlive;
    for (uint64_t s = 0; s < kSlots; ++s) {
      const uint64_t lba = kSideLba + s * kIoBlocks;
      out.differing_slots += m.tb().disk_bytes("disk0", 0, lba, kIoBlocks) !=
                             m.tb().disk_bytes("disk1", 0, lba, kIoBlocks);
    }
    out.stale_reads += m.stale_reads_through_sw1();
    out.resync_blocks = m.tb().stats("sw1").cp.resync_blocks;
  }
  out.load_errors = m.load_errors();
  return out;
}

TEST(DveMirrorState, ASideOneDveFindsFailedIsDeadForBothAndReturnsForBoth) {
  const Outcome r = side_dies_at_one_dve(true);
  std::printf(
      "side 1 DEAD at sw0 %d, at sw1 %d; stale reads through sw1 %llu; after the "
      "return ALIVE at sw0 %d, at sw1 %d, %llu blocks copied by sw1, %llu slots differ\n",
      r.dead_at_sw0, r.dead_at_sw1, static_cast<unsigned long long>(r.stale_reads),
      r.alive_again_at_sw0, r.alive_again_at_sw1, static_cast<unsigned long long>(r.resync_blocks),
      static_cast<unsigned long long>(r.differing_slots));
  EXPECT_TRUE(r.dead_at_sw0);
  EXPECT_TRUE(r.dead_at_sw1);
  EXPECT_EQ(r.stale_reads, 0u);
  EXPECT_EQ(r.load_errors, 0u);
  EXPECT_TRUE(r.alive_again_at_sw0);
  EXPECT_TRUE(r.alive_again_at_sw1);
  EXPECT_EQ(r.resync_blocks, kBlocks);  // copied whole: no DVE's age list covers the others'
  EXPECT_EQ(r.differing_slots, 0u);
}

TEST(DveMirrorState, WithoutTheOplockThePeerReadsTheDeadSide) {
  const Outcome r = side_dies_at_one_dve(false);
  std::printf(
      "without the side-state oplock: DEAD at sw0 %d, at sw1 %d; stale reads through "
      "sw1 %llu\n",
      r.dead_at_sw0, r.dead_at_sw1, static_cast<unsigned long long>(r.stale_reads));
  EXPECT_TRUE(r.dead_at_sw0);
  EXPECT_FALSE(r.dead_at_sw1);
  EXPECT_GT(r.stale_reads, 0u);
}

}  // namespace
}  // namespace splitpath::testing
