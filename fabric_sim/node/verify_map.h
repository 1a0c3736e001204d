// What one host knows about the units (512 bytes) it wrote to one LUN, enough to
// judge every unit it reads back:
//  - a unit never acknowledged to us before the read began may read as zeros or
//    as another writer's stamp;
//  - otherwise it must carry our stamp, for this unit, with a generation between
//    the one acknowledged when the read began and the newest write issued since
//    (a read concurrent with a write may return either).
// Writes from one host never overlap each other in flight (fio's
// serialize_overlap), so "last acknowledged" is well defined.
#pragma once

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "fabric_sim/node/block_stamp.h"

namespace splitpath::sim {

enum class VerifyVerdict : uint8_t {
  kOk,
  kCorrupt,      // bad magic or checksum, not zeros
  kMisdirected,  // a stamp for another unit
  kStale,        // older than what was acknowledged when the read began
  kPhantom,      // our stamp with a generation we never wrote here
  kLost,         // zeros or a foreign stamp where our acknowledged write should be
};

const char* verify_verdict_name(VerifyVerdict v);

class VerifyMap {
 public:
  explicit VerifyMap(uint64_t my_wwpn) : me_(my_wwpn) {}

  bool write_in_flight(uint64_t first_unit, uint64_t units) const;
  void begin_write(uint64_t first_unit, uint64_t units, uint64_t generation);
  // A write ended. Only a GOOD status acknowledges it; after a failure the unit
  // may hold either the old data or the new.
  void end_write(uint64_t first_unit, uint64_t units, uint64_t generation, bool acknowledged);
  uint64_t acknowledged(uint64_t unit) const;
  VerifyVerdict check(uint64_t unit, uint64_t acked_at_read_start, StampCheck check,
                      const BlockStamp& stamp) const;
  size_t tracked_units() const { return units_.size(); }

 private:
  struct Unit {
    uint64_t acked = 0;
    uint64_t issued = 0;
    uint32_t writes_in_flight = 0;
  };
  uint64_t me_;
  absl::flat_hash_map<uint64_t, Unit> units_;
};

}  // namespace splitpath::sim
