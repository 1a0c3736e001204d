// The fast path (FP) of one switch port: the port firmware of the
// specification. It runs on a platform through hal.h alone and talks to the CP
// only through FP API messages (fpapi.h) in the HAL mailbox.
//
// What it does with each received frame (figure 7):
// - D_ID neither a virtual target it exposes nor its own virtual initiator:
//   transparent switching, the frame is transmitted unchanged;
// - FCP_CMND to a virtual target: the checks of figure 7 in order (not
//   READ/WRITE, target exposure and LUN lookup, LUN masking, VSEG lookup, I/O
//   spanning VSEGs, extent lookup in the cached Rmap (miss -> CpMappingMiss),
//   I/O spanning extents, FoR/FoW, FP capacity), then the remap primitive:
//   an upstream pending entry for the host exchange and a downstream one for a
//   new exchange from the virtual initiator, recorded together with a
//   timestamp, and the remapped FCP_CMND sent to the physical target; any
//   failed check queues the I/O to the CP (CpQueueIO) instead;
// - FCP_XFER_RDY, FCP_DATA, FCP_RSP of a pending I/O: relayed between the two
//   exchanges with S_ID/D_ID, OX_ID/RX_ID and relative offset rewritten; a GOOD
//   FCP_RSP completes the host I/O on the FP, anything else goes to the CP
//   (figure 6), which alone returns errors to hosts;
// - any other frame for a virtual address (ELS, BLS, CT): to the CP (CpFrame).
//
// The CP's calls (FPAddMapping, FPDispatchIO, ...) arrive as messages and are
// handled in poll(). Downstream I/Os the CP dispatches for a queued upstream
// I/O use the same relay, so the data of a split I/O never passes through the
// CP.
//
// Memory: every table is carved from HAL table memory at init(); nothing is
// allocated afterwards. No exceptions, no RTTI, no OS calls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fp_firmware/rmap/rmap_cache.h"
#include "splitpath/fpapi.h"
#include "splitpath/hal.h"

namespace splitpath::fp {

struct FastPathConfig {
  RmapConfig rmap;                      // replacement policy, seed, working-set window, VSEGs
  uint32_t upstream_capacity = 1024;    // host I/Os in progress on this port
  uint32_t downstream_capacity = 2048;  // downstream I/Os in progress
  uint32_t max_legs_per_io = 16;        // downstream I/Os linked to one upstream I/O
  uint32_t exposure_capacity = 256;     // exposed (target, LUN) pairs
  uint32_t redirect_capacity = 1024;    // cached redirect entries
  uint32_t outbox_capacity = 256;       // FP -> CP messages held while the mailbox is full
  // Frames held while the transmit ring is full. At least the HAL's buf_count,
  // so a full ring never costs a frame (init checks it).
  uint32_t held_frame_capacity = 1024;
  uint32_t initiators_per_exposure = 32;  // LUN-masking list of one (target, LUN)
  uint32_t rx_burst = 32;                 // frames taken per poll
  // FP-core cycles charged (HAL charge_cycles) beyond the per-frame cost for
  // the figure 7 decision of one command.
  uint32_t classify_cycles = 150;
  // For tests only: FPRemoveMapping of extents acknowledges without dropping
  // the cached extents, so the FP keeps dispatching with a mapping the CP has
  // revoked (the torture harness shows its revocation checker notices).
  bool ignore_remove_mapping_for_testing = false;
  // For tests only: a write to a mirror overlapping an outstanding one is
  // split anyway instead of faulting for serialization (figure 16), to show
  // the sides then differ.
  bool skip_serialization_for_testing = false;
};

// Why init() failed.
enum class InitStatus : uint8_t {
  kOk = 0,
  kIncompatibleHal,  // null HAL, or another ABI version
  kBadConfig,        // a capacity of 0 or out of range
  kNoMemory,         // table memory too small for the configured tables
};
const char* init_status_name(InitStatus s);

class FastPath {
 public:
  FastPath() = default;
  FastPath(const FastPath&) = delete;
  FastPath& operator=(const FastPath&) = delete;

  // Table-memory bytes the fixed tables of `config` take; the Rmap cache gets
  // the rest of the region.
  static size_t fixed_table_bytes(const FastPathConfig& config);

  // Binds to the port and carves the tables from its table memory.
  InitStatus init(const sp_hal* hal, const FastPathConfig& config);

  // One turn of the firmware's loop: flushes frames and messages held back by
  // full rings, handles every CP message waiting in the mailbox, then up to
  // rx_burst received frames. Returns true if there may be more to do now (the
  // caller polls again), false once idle.
  bool poll();

  // The FP's counters, as FPQueryStatistics reports them (for the platform's
  // own diagnostics; the CP asks through the API).
  fpapi::FpStatistics statistics() const;
  RmapStats rmap_stats() const;
  uint32_t virtual_initiator() const;

  // The firmware's state, defined in fast_path_impl.h (private to fp_firmware/;
  // declared public only so its files can name it).
  struct Impl;

 private:
  Impl* impl_ = nullptr;  // lives in table memory
};

}  // namespace splitpath::fp
