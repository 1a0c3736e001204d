// Turns the frames the switches report (a FrameTap per switch) into the events
// the checkers judge:
//  - host READ/WRITE exchanges with virtual targets, seen at the host's own
//    switch only (a frame crossing ISLs is reported by every switch it
//    passes): FCP_CMND opens the I/O, FCP_DATA carries the stamps, FCP_RSP or
//    the host's ABTS ends it;
//  - downstream FCP_CMNDs from virtual initiators, at the switch they leave.
// Every frame also goes to the capture when one is open.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "fabric_sim/capture/frame_tap.h"
#include "fabric_sim/capture/pcap_writer.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/torture/durability_checker.h"
#include "fabric_sim/torture/event_log.h"
#include "fabric_sim/torture/mirror_checker.h"
#include "fabric_sim/torture/progress_checker.h"
#include "fabric_sim/torture/revocation_checker.h"
#include "fabric_sim/torture/scenario.h"
#include "fabric_sim/torture/snapshot_checker.h"

namespace splitpath::sim::torture {

struct TrackerCounters {
  uint64_t host_ios = 0;       // host READ/WRITEs to virtual LUNs seen
  uint64_t host_ios_good = 0;  // ... that ended GOOD
  uint64_t downstream = 0;     // downstream FCP_CMNDs checked
  uint64_t aborted = 0;        // ended by the host's ABTS
  uint64_t abandoned = 0;      // forgotten when the harness took the host's link down
  uint64_t short_reads = 0;    // GOOD reads missing data frames, which the host fails
};

class IoTracker {
 public:
  IoTracker(const TortureScenario& scenario, Fabric& fabric, DurabilityChecker& durability,
            RevocationChecker& revocation, ProgressChecker& progress, MirrorChecker& mirror,
            EventLog& log, PcapWriter* capture);
  ~IoTracker();

  // Installs one tap per switch (replacing any other).
  void attach();
  // The harness takes `host`'s link down: its open I/Os end without frames.
  void abandon_host(uint32_t host_id, SimTime now);
  // The run is over: writes still open count as failed for the mirror
  // checker (their data may have reached some sides only).
  void end_open_writes();
  // Host writes also go to `snapshots` (read-only images), if set.
  void set_snapshot_checker(SnapshotChecker* snapshots) { snapshots_ = snapshots; }
  // The first violation any checker reported, once.
  const std::optional<Violation>& violation() const { return violation_; }
  const TrackerCounters& counters() const { return counters_; }

 private:
  class SwitchTap;
  struct VolumeRef {
    size_t volume = 0;
    uint32_t block_size = 512;
    uint64_t blocks = 0;
  };

  void on_frame(uint8_t domain, SimTime at, std::span<const uint8_t> frame);
  void on_host_frame(SimTime at, const fc::FrameHeader& h, std::span<const uint8_t> payload,
                     bool from_host);
  void on_downstream_command(SimTime at, const fc::FrameHeader& h,
                             std::span<const uint8_t> payload);
  void end_io(HostIo& io, SimTime at, bool good, const char* how);
  const VolumeRef* volume_of(uint32_t target, uint16_t lun);
  const std::string* disk_of(uint32_t port_id);
  SimTime timeout_of(uint32_t host_id);
  void report(std::optional<Violation> v);

  const TortureScenario& scenario_;
  Fabric& fabric_;
  DurabilityChecker& durability_;
  RevocationChecker& revocation_;
  ProgressChecker& progress_;
  MirrorChecker& mirror_;
  EventLog& log_;
  PcapWriter* capture_;
  SnapshotChecker* snapshots_ = nullptr;
  std::vector<std::unique_ptr<SwitchTap>> taps_;
  absl::flat_hash_map<uint64_t, HostIo> exchanges_;   // (host << 16 | OX_ID)
  absl::flat_hash_map<uint64_t, VolumeRef> volumes_;  // (target << 16 | LUN)
  absl::flat_hash_map<uint32_t, std::string> disks_;  // N_Port ID -> disk name
  absl::flat_hash_map<uint32_t, SimTime> timeouts_;   // host N_Port ID -> I/O timeout
  uint64_t next_io_ = 0;
  TrackerCounters counters_;
  std::optional<Violation> violation_;
};

}  // namespace splitpath::sim::torture
