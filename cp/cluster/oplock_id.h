// Oplock addresses: guid.luid[index] (the specification's oplock table). The
// guid names the object (a VSEG, an LV, a storage descriptor, a task set), the
// luid the metadata of it the oplock protects, the index a fixed-size chunk of
// that metadata; a variable-length extent covers every chunk it touches
// (figure 26), so updating it takes each of their oplocks.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace splitpath::cp::cluster {

// The luids of the specification's oplock table.
enum class Luid : uint8_t {
  kMirrorSideState = 1,  // MIRROR_LUID: mirror side states and generation
  kMirrorWrite = 2,      // RMAP_LUID[BBA/chunk]: mirror write serialization
  kRmap = 3,             // RMAP_LUID[BBA/chunk]: the Rmap values
  kRedirs = 4,           // DIRS_LUID: the redirect table
  kScsiReserve = 5,      // LV.RESERVE_LUID: the hosts holding the LV reserved
  kUnitAttention = 6,    // LV.UALIST_LUID: the hosts owed a unit attention
  kGroupAtomic = 7,      // LV.PAUSE_LUID
  kLvReconfig = 8,       // LV.RECONFIG: the LV's set of VSEGs
  kTaskSet = 9,          // TS: a task set (a migration thread) in progress
  kMembership = 10,      // the DVE's own records (jlist, elist, journals)
};

std::string_view luid_name(Luid luid);

// Non-volatile oplocks keep an owner record and an oplock journal in the
// storehouse, and their most recent owner is always asked when sharing.
constexpr bool is_non_volatile(Luid luid) {
  return luid == Luid::kMirrorWrite || luid == Luid::kTaskSet;
}

struct OplockId {
  uint64_t guid = 0;
  Luid luid = Luid::kRmap;
  uint64_t index = 0;

  auto operator<=>(const OplockId&) const = default;
  bool operator==(const OplockId&) const = default;
};

std::string to_string(const OplockId& id);

// The oplocks of the chunks an extent [lba, lba + blocks) of object `guid`
// touches, chunks of `chunk_blocks` blocks, in index order (the order a DVE
// acquires them in, so two DVEs never wait for each other in a cycle).
std::vector<OplockId> chunk_oplocks(uint64_t guid, Luid luid, uint64_t lba, uint64_t blocks,
                                    uint64_t chunk_blocks);

}  // namespace splitpath::cp::cluster
