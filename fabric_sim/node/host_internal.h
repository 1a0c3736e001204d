// The host's private state, shared by its discovery and job-engine files.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "fabric_sim/node/exchange_ids.h"
#include "fabric_sim/node/host.h"

namespace splitpath::sim {

// FCP commands use OX_IDs 0x0000..0x7FFF; control exchanges (ELS, CT) use
// 0x8000 and above.
inline constexpr uint16_t kFirstFcpOxId = 0x0000;
inline constexpr uint16_t kLastFcpOxId = 0x7FFF;
inline constexpr uint32_t kMaxSlots = 4096;
// Unit attentions after which a job command is no longer sent again for one.
inline constexpr uint32_t kMaxUnitAttentionRetries = 4;

struct Host::Job {
  size_t index = 0;
  DiscoveredLun lun;
  VerifyMap verify;
  Rng rng;
  uint64_t region_first_lba = 0;
  uint64_t region_blocks = 0;
  uint32_t blocks_per_io = 1;
  uint64_t next_sequential = 0;
  uint32_t outstanding = 0;
  uint64_t backlog = 0;  // arrivals waiting for a free queue slot (rate mode)
  // An arrival is scheduled (rate mode). The chain stops while the job is
  // inactive and starts again when its LUN comes back.
  bool arrival_scheduled = false;
  bool active = true;

  Job(uint64_t wwpn, Rng r) : verify(wwpn), rng(r) {}
};

struct Host::IoSlot {
  bool active = false;
  fc::FcId target;
  // Commands from submit_command (discovery, tests) carry their data here and
  // report through on_done instead of counting as workload I/O.
  bool passthrough = false;
  ScsiDone on_done;
  ScsiResult result;
  std::vector<uint8_t> data_out;
  uint16_t ox_id = 0;
  uint16_t rx_id = 0;
  Job* job = nullptr;
  bool write = false;
  uint64_t lba = 0;
  uint32_t blocks = 0;
  uint32_t bytes = 0;
  uint32_t transferred = 0;  // read data received
  uint64_t generation = 0;   // writes
  uint8_t seq_id = 0;
  bool verify_failed = false;
  uint32_t retries = 0;          // times this command was sent again
  uint32_t unit_attentions = 0;  // UNIT ATTENTIONs this command met
  uint16_t lun = 0;              // the LUN a passthrough command addresses
  SimTime issued_at = 0;
  std::vector<uint64_t> acked_at_start;  // reads: per unit, reused across commands
};

// kLoggedOut: by logout_target; discovery leaves it so, log_in_again ends it.
enum class TargetState : uint8_t { kNew, kLoggingIn, kReady, kFailed, kLoggedOut };

struct Host::Target {
  fc::FcId id;
  uint64_t wwpn = 0;
  TargetState state = TargetState::kNew;
  std::vector<uint16_t> luns;
};

}  // namespace splitpath::sim
