// The FP's figure 7 path in isolation: one FastPath on a hal/sim port with a
// manual clock, tables warm (a VSEG cut into `extents` extents over two
// redirect entries, every extent cached), fed real frames. Per 4 KiB READ:
//  - decision and dispatch: the host's FCP_CMND is received, classified (the
//    figure 7 checks), its extent looked up in the Rmap, remapped and the
//    downstream FCP_CMND transmitted;
//  - relay and completion: the disk's two 2 KiB FCP_DATA frames relayed to the
//    host and its GOOD FCP_RSP turned into the host's FCP_RSP.
// Frames are pushed into the receive ring and taken from the transmit ring
// outside the timed polls, so the figures are the firmware's work (and the HAL
// calls it makes), in batches of `batch` I/Os.
//
// The redirect entries use one primitive (FpPrimitive): remap (a simple
// descriptor), stripe (two columns; every I/O inside one stripe unit) or
// write split (a two-sided mirror: a READ goes to one side, a WRITE to both,
// the FP gating the host's data on both sides' XFER_RDYs, copying every data
// frame and completing on both GOOD responses), or RAID 10 (two columns,
// each a mirror of the two disks: write splitting on the I/O's column). A WRITE's relay and
// completion are the disks' XFER_RDYs, the host's two 2 KiB FCP_DATA and the
// disks' responses. A journal (the write-journaling primitive: a READ goes to
// the data device; a WRITE to the data device and, with the header block the
// FP builds, as a record to the journal on the second disk) is measured like
// the mirror.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

namespace splitpath::sim {

enum class FpPrimitive : uint8_t { kRemap, kStripe, kMirror, kRaid10, kJournal };

// "remap", "stripe", "mirror", "raid10", "journal".
const char* fp_primitive_name(FpPrimitive p);

struct FpPathBenchOptions {
  FpPrimitive primitive = FpPrimitive::kRemap;
  bool write = false;       // 4 KiB WRITEs instead of READs
  uint32_t extents = 4096;  // in the FP's Rmap, each 64 blocks
  uint64_t ios = 200'000;
  uint32_t batch = 32;  // I/Os in flight per timed poll, at most 32
  uint64_t seed = 1;
};

struct FpPathBenchResult {
  double decision_dispatch_ns = 0;  // per I/O
  double relay_complete_ns = 0;     // per I/O
  double io_ns = 0;                 // the two together
  uint64_t ios = 0;
  uint64_t fp_completed = 0;  // the FP's own count: equals ios
  uint64_t faults = 0;        // I/Os sent to the CP instead: 0
};

// Fails if the FP cannot be brought up or an I/O does not go through the FP.
absl::StatusOr<FpPathBenchResult> run_fp_path_bench(const FpPathBenchOptions& options);

}  // namespace splitpath::sim
