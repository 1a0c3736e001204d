// The durability invariant: every acknowledged write is durable. Per (volume,
// 512-byte unit) the checker keeps the writes it saw (writer, generation from
// the stamp in the data, when the FCP_CMND passed, when the GOOD FCP_RSP
// passed or the write failed) and judges every unit of every GOOD read, when
// its FCP_RSP passes, as a linearizable register:
//  - the unit holds zeros only if no write was acknowledged before the read
//    began;
//  - otherwise it holds the stamp of a write w issued before the read ended
//    that no write w2 supersedes, where w2 supersedes w if w2 was issued after
//    w ended and acknowledged before the read began (concurrent writes may
//    return either). A failed write ends `indeterminate_ns` after its failure
//    (its data may still land meanwhile), and is forgotten at once for the
//    units whose data never passed; one never answered never ends.
//  - a stamp must name this unit, and a unit must be a valid stamp or zeros.
// Range moves copy the data (torture_run.cc), so the model needs no change
// when a restrictive update moves blocks; an online migration's copy agent
// copies them itself (the host sees one volume throughout), so migrations
// need none either.
//
// Snapshots and incrementals: when one is taken (its restrictive updates
// between `requested` and `done`), alias() makes the image volume's model a
// copy of the source's at that instant: a write the source acknowledged
// before `requested` is in the image as it is in the source; one in flight
// across the window may or may not be (its copy never ends, so it supersedes
// nothing); the image's own earlier writes are gone, those in flight across
// the window may have landed either side. From then on the two models
// diverge with their own writes (an incremental's) or the image's stay frozen
// (a snapshot's writes are refused).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "fabric_sim/torture/host_io.h"
#include "fabric_sim/torture/violation.h"

namespace splitpath::sim::torture {

class DurabilityChecker {
 public:
  // `describe_updates(volume, unit)`: lines about the restrictive updates that
  // covered the unit, for a violation's history.
  using UpdateNotes = std::function<std::vector<std::string>(size_t volume, uint64_t unit)>;
  DurabilityChecker(SimTime indeterminate_ns, UpdateNotes notes)
      : indeterminate_ns_(indeterminate_ns), notes_(std::move(notes)) {}

  void begin_write(const HostIo& io);
  // The data of a write passed: records which write each unit is.
  void write_data(const HostIo& io, uint32_t unit_index);
  // The write ended: acknowledged (GOOD) or not (any other status, an ABTS,
  // the host's link lost).
  void end_write(const HostIo& io, bool acknowledged, SimTime now);
  void begin_read(const HostIo& io);
  // A read ended; with GOOD its units are judged. Returns the first
  // violation.
  std::optional<Violation> end_read(const HostIo& io, bool good, SimTime now);

  // Reads of `image` issued from now until alias() are not judged: while an
  // image is being taken a read of it may return its old content or the
  // source's. Call it when the image is asked for.
  void suspend(size_t image);
  // Volume `image` becomes, for units [0, units), the image of volume
  // `source` at an instant in [requested, done] (see above); reads of it
  // issued from `done` on are judged again. Call it at `done`.
  void alias(size_t image, size_t source, uint64_t units, SimTime requested, SimTime done);
  // Reads of `volume` are no longer judged (its image stopped being exact
  // for a reason the caller knows: a snapshot whose push failed).
  void forget(size_t volume);
  bool forgotten(size_t volume) const { return forgotten_.contains(volume); }
  // Asked before a read of `volume` is reported as a violation: true if the
  // volume's content is known to be inexact (it is then forgotten).
  using Excuse = std::function<bool(size_t volume)>;
  void set_excuse(Excuse excuse) { excuse_ = std::move(excuse); }

  uint64_t units_checked() const { return units_checked_; }
  size_t tracked_units() const { return units_.size(); }

 private:
  static constexpr SimTime kNever = ~SimTime{0};
  struct WriteRec {
    uint64_t io = 0;
    uint32_t host = 0;
    uint16_t ox_id = 0;
    uint64_t writer = 0;      // from the stamp; 0 until the data passed
    uint64_t generation = 0;  // from the stamp
    SimTime issued = 0;
    SimTime acked = kNever;
    SimTime failed = kNever;
    // alias() made it concurrent with an image's instant: it never ends (its
    // data may still be recorded).
    bool frozen = false;
  };
  // Recent events on one unit, for reports: a ring of the last kHistory.
  struct Event {
    SimTime at = 0;
    char kind = '?';  // W write issued, A acknowledged, F failed, R read good, X read violation
    uint32_t host = 0;
    uint16_t ox_id = 0;
    uint64_t generation = 0;
  };
  static constexpr size_t kHistory = 8;
  struct Unit {
    std::vector<WriteRec> writes;
    Event history[kHistory];
    uint8_t next_event = 0;
    uint8_t events = 0;
  };
  static uint64_t key(size_t volume, uint64_t unit) { return (uint64_t{volume} << 48) | unit; }
  SimTime end_of(const WriteRec& w) const;
  void record(Unit& u, const Event& e);
  void prune(Unit& u, const WriteRec& newest);
  Violation violation(size_t volume, uint64_t unit, const Unit& u, const HostIo& read,
                      const UnitData& got, SimTime now, const std::string& why) const;

  SimTime indeterminate_ns_;
  UpdateNotes notes_;
  absl::flat_hash_map<uint64_t, Unit> units_;
  std::multiset<SimTime> open_reads_;  // issue times of reads in flight
  std::set<size_t> forgotten_;
  // By volume: reads issued before this time are not judged (suspend).
  absl::flat_hash_map<size_t, SimTime> judged_from_;
  std::vector<std::pair<size_t, size_t>> aliases_;  // (source, image) of every alias()
  Excuse excuse_;
  uint64_t units_checked_ = 0;
};

}  // namespace splitpath::sim::torture
