// Table types of the virtualization metadata (figures 9, 14 and 34): the VSEG
// descriptor, the Rmap's variable-length extents and the storage redirect
// table's entries with their storage descriptors.
//
// The CP owns these tables and sends their entries to the FP through the FP API
// (FPAddMapping, FPReplaceMapping, FPRemoveMapping); the FP caches a bounded
// subset. Both sides use these types, so they are plain, fixed-size structs of
// explicit-width fields with no implicit padding (every byte is a named field
// or `reserved`) and no pointers. They are host-order in-memory records: any
// byte-order conversion for a mailbox belongs to the FP API encoding, not here
// (a storage descriptor's payload is bytes, big-endian by its own layout).
//
// Firmware-safe: standard library only, no exceptions, no heap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "splitpath/map/storage_descriptor.h"

namespace splitpath::map {

// Results of the table operations of the FP's cached tables.
enum class RmapStatus : uint8_t {
  kOk = 0,
  kMiss,     // no cached entry: the FP asks the CP (CpMappingMiss)
  kFull,     // no room and nothing may be evicted: the entry is not cached
  kInvalid,  // argument out of range (unknown VSEG id on update, LBA beyond the VSEG, ...)
};

constexpr const char* rmap_status_name(RmapStatus s) {
  switch (s) {
    case RmapStatus::kOk:
      return "ok";
    case RmapStatus::kMiss:
      return "miss";
    case RmapStatus::kFull:
      return "full";
    case RmapStatus::kInvalid:
      return "invalid";
  }
  return "unknown";
}

// Index into a VSEG's storage redirect table. The specification's example uses
// 4 bits; 16 leave room for long-running services with many states.
using RedirectIndex = uint16_t;

// A volume segment descriptor (figure 14: VLBA, VSIZE): a contiguous range of
// LBAs of a virtual volume (LV), with its own Rmap and storage redirect table.
// Rmap LBAs are relative to the VSEG: 0 .. length - 1.
struct VsegDescriptor {
  uint32_t id = 0;  // CP-assigned, unique per switch
  uint32_t reserved = 0;
  uint64_t virtual_start_lba = 0;  // VLBA: first LV block of the VSEG
  uint64_t length = 0;             // VSIZE in blocks; at least 1
};
static_assert(sizeof(VsegDescriptor) == 24);
static_assert(std::is_trivially_copyable_v<VsegDescriptor>);
static_assert(std::has_unique_object_representations_v<VsegDescriptor>);

// One Rmap extent (figure 9, the ranges of figure 34): blocks
// [start, start + length) of the VSEG map through one redirect entry. Extents
// of one Rmap never overlap; several extents may share a redirect entry.
struct Extent {
  uint64_t start = 0;   // first block, relative to the VSEG
  uint64_t length = 0;  // in blocks; at least 1
  RedirectIndex redirect_index = 0;
  uint16_t reserved0 = 0;
  uint32_t reserved1 = 0;

  // One past the last block. Callers guarantee start + length does not wrap.
  constexpr uint64_t end() const { return start + length; }
  constexpr bool contains(uint64_t lba) const { return lba - start < length; }
  friend constexpr bool operator==(const Extent&, const Extent&) = default;
};
static_assert(sizeof(Extent) == 24);
static_assert(std::is_trivially_copyable_v<Extent>);
static_assert(std::has_unique_object_representations_v<Extent>);

// Faulting mode flags of a redirect entry (figure 7 steps 112-114).
namespace redirect_flags {
constexpr uint8_t kFaultOnRead = 0x01;   // FoR: reads through this entry fault to the CP
constexpr uint8_t kFaultOnWrite = 0x02;  // FoW: writes through this entry fault to the CP
}  // namespace redirect_flags

// One entry of a VSEG's storage redirect table: the state of the storage
// behind every extent that references it.
struct RedirectEntry {
  static constexpr uint32_t kNoAgeList = 0;

  uint8_t flags = 0;  // redirect_flags
  std::array<uint8_t, 3> reserved{};
  uint32_t age_list = kNoAgeList;  // mirror age list reference (figure 30); none yet
  StorageDescriptor descriptor;

  constexpr bool fault_on_read() const { return (flags & redirect_flags::kFaultOnRead) != 0; }
  constexpr bool fault_on_write() const { return (flags & redirect_flags::kFaultOnWrite) != 0; }
  friend bool operator==(const RedirectEntry&, const RedirectEntry&) = default;
};
static_assert(sizeof(RedirectEntry) == 8 + sizeof(StorageDescriptor));
static_assert(std::is_trivially_copyable_v<RedirectEntry>);
static_assert(std::has_unique_object_representations_v<RedirectEntry>);

}  // namespace splitpath::map
