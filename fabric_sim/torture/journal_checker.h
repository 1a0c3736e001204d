// The journal invariant: replaying a journaled VSEG's journal records gives
// its data device (figure 32 of the specification). During the run the
// checker is the journals' consumer, as a replication service would be: it
// reads every journal the CPs sealed, keeps what its records say and
// releases the journal for reuse. At the end it reads the journals still in
// use, replays every record (for each block, the data of the record latest
// by dispatch time, journal and sequence) and compares each block some
// record wrote with the data device, outside the units of failed writes
// (those may have reached one leg only). So every acknowledged write must be
// in a journal, in the order it reached the data device.
//
// A record leg that failed or was aborted leaves a hole in its journal (a
// header never written, or one whose data is partial); the reader then
// looks for the journal's next header block by block, so the records after
// the hole still replay.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cp/control_path.h"
#include "fabric_sim/run/fabric.h"
#include "fabric_sim/torture/mirror_checker.h"
#include "fabric_sim/torture/scenario.h"
#include "fabric_sim/torture/violation.h"

namespace splitpath::sim::torture {

class JournalChecker {
 public:
  explicit JournalChecker(const TortureScenario& scenario);

  // Becomes every CP's journal consumer: no journal is reused before the
  // checker has read and released it.
  void attach(Fabric& fabric);
  // Reads and releases every journal the CPs have sealed, but those of
  // replicated VSEGs (set_replicated): the replication ships and releases
  // them, and the checker reads them from the staging area (read_staged).
  void consume(Fabric& fabric);
  // From now on the VSEGs of the volumes `volumes` (indices in
  // topology.volumes) are replicated.
  void set_replicated(const std::vector<size_t>& volumes);
  // Reads the records of journal `s`, staged on LUN `lun` of `staging`
  // (before the remote applies its epoch and releases it).
  void read_staged(const Fabric& fabric, const std::string& staging, uint16_t lun,
                   const cp::StagedJournal& s);
  // Reads the records of journal `j` (ignored unless it lies in a journaled
  // VSEG's area).
  void read_journal(const Fabric& fabric, const cp::JournalInfo& j);
  // Reads the journals in use, then compares each journaled VSEG's replay
  // with its data device outside the units `failed` marks. Call once the
  // run has drained.
  std::optional<Violation> check(Fabric& fabric, const MirrorChecker& failed, SimTime now);

  uint64_t journals_read() const { return journals_; }
  uint64_t records_read() const { return records_; }
  uint64_t hole_blocks() const { return hole_blocks_; }  // skipped looking for a header
  uint64_t blocks_compared() const { return compared_; }

 private:
  // For each block of a journaled VSEG: the latest record that wrote it,
  // by (dispatch time, journal id << 32 | sequence; 0: none), and its data.
  struct Replay {
    size_t vseg = 0;  // index in scenario.vsegs
    uint32_t block_size = 0;
    std::vector<uint64_t> time;
    std::vector<uint64_t> order;
    std::vector<uint8_t> data;
    bool replicated = false;
  };

  Replay* replay_of(const cp::JournalInfo& j);
  // Replays the records of journal `journal_id` (`bytes`, its blocks) into `r`.
  void replay_records(Replay* r, const std::vector<uint8_t>& bytes, uint16_t journal_id);

  const TortureScenario& scenario_;
  std::vector<Replay> replays_;
  uint64_t journals_ = 0;
  uint64_t records_ = 0;
  uint64_t hole_blocks_ = 0;
  uint64_t compared_ = 0;
};

}  // namespace splitpath::sim::torture
