// The block command figures of `splitpath bench` (cp/block_commands.cc): on
// service_bench_fabric's one switch (host on port 0, vol0 of one VSEG on
// disk0), the host fills vol0 with data, then empties it three ways, each
// command waited for before the next and timed in simulated time:
//  - WRITE of the data in 1 MiB commands (the reference: every byte crosses
//    the fabric twice, host to FP to disk);
//  - WRITE SAME(16) of one zero block, kMaxWriteSameBlocks per command
//    (512 bytes of Data-Out each; the disks deallocate zeros);
//  - after a second fill, UNMAP of the whole volume, kMaxUnmapBlocks per
//    descriptor (no data beyond the parameter list).
// Each pass's Data-Out bytes as the host sent them, and disk0's allocated
// bytes after it; every block of vol0 is read back from disk0's store after
// each emptying and must be zero.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"

namespace splitpath::sim {

struct BlockCommandBenchOptions {
  uint64_t volume_bytes = 64ull << 20;  // whole MiB
  uint64_t seed = 1;
  SimTime limit_ns = 30 * kNsPerSec;  // a run longer in simulated time fails
};

// 64 MiB; 16 MiB with --quick.
BlockCommandBenchOptions block_command_bench_options(bool quick);

struct BlockCommandPass {
  SimTime duration_ns = 0;
  uint64_t commands = 0;
  uint64_t data_out_bytes = 0;   // what the host sent
  uint64_t allocated_after = 0;  // disk0's store, bytes
};

struct BlockCommandBenchResult {
  uint64_t volume_bytes = 0;
  BlockCommandPass write;       // the data, 1 MiB WRITEs
  BlockCommandPass write_same;  // zeros by WRITE SAME
  BlockCommandPass unmap;       // deallocated by UNMAP
};

absl::StatusOr<BlockCommandBenchResult> run_block_command_bench(
    const BlockCommandBenchOptions& options);

}  // namespace splitpath::sim
