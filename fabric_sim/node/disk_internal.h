// The disk's private state, shared by its data-path and SCSI-command files.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "fabric_sim/node/disk.h"

namespace splitpath::sim {

inline constexpr uint32_t kMaxTasks = 4096;
// Largest burst one FCP_XFER_RDY asks for.
inline constexpr uint32_t kMaxBurst = 1024 * 1024;
// The most Data-Out a command other than WRITE may carry (VERIFY's compare
// data, COMPARE AND WRITE's): it is held in memory whole.
inline constexpr uint64_t kMaxParameterBytes = 16 * 1024 * 1024;

struct Disk::LogicalUnit {
  LunConfig config;
  SparseStore store;
  std::vector<std::pair<uint64_t, uint64_t>> medium_errors;  // [first, first + count)
  // SPC-2 RESERVE(6): the initiator holding the reservation.
  std::optional<uint32_t> reserved_by;
  // Persistent reservations (SPC-4 5.13): key per registered initiator.
  absl::btree_map<uint32_t, uint64_t> registrations;
  uint32_t pr_generation = 0;
  std::optional<uint32_t> pr_holder;  // initiator holding the persistent reservation
  uint8_t pr_type = 0;

  LogicalUnit(const LunConfig& c, uint64_t bytes) : config(c), store(bytes) {}
  // The first LBA in [lba, lba + blocks) with a medium error, if any.
  std::optional<uint64_t> first_medium_error(uint64_t lba, uint64_t blocks) const;
};

// What a command ends with.
struct Disk::Outcome {
  uint8_t status = fc::scsi_status::kGood;
  std::optional<fc::SenseData> sense;

  static Outcome good() { return {}; }
  static Outcome check(const fc::SenseData& s) { return {fc::scsi_status::kCheckCondition, s}; }
  static Outcome status_only(uint8_t status) { return {status, std::nullopt}; }
};

struct Disk::Task {
  bool active = false;
  uint16_t rx_id = 0;
  uint16_t ox_id = 0;
  fc::FcId initiator;
  LogicalUnit* lu = nullptr;
  fc::ScsiCommand cmd;
  bool write = false;          // data-out READ/WRITE path
  bool parameter_out = false;  // data-out held whole (PR OUT, UNMAP, VERIFY, COMPARE AND WRITE..)
  uint64_t byte_offset = 0;    // READ/WRITE: first byte in the LU
  uint32_t bytes = 0;          // bytes the command moves
  uint32_t fcp_dl = 0;
  uint32_t received = 0;   // data-out bytes received
  uint32_t burst_end = 0;  // data-out: end of the burst asked for
  uint8_t seq_id = 0;
  std::optional<uint64_t> medium_error_lba;
  std::vector<uint8_t> parameters;  // parameter-list data-out
  // A block command (disk_block_commands.cc): its ending, sent after the
  // media time of `media_bytes`.
  uint64_t media_bytes = 0;
  Outcome outcome;
  std::vector<uint8_t> late_data;  // set_late_writes_for_testing: data not yet applied
};

}  // namespace splitpath::sim
