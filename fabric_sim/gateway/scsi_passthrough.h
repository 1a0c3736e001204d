// The gateway's one path into the fabric: "send this CDB to (target, LUN)
// with this data-out, accept up to this much data-in, and give me status,
// sense and data", from one simulated initiator (a Host N_Port logged into
// the fabric). The command crosses the switch like any host's: the ingress
// port's FP maps it or faults it to the CP, which answers everything that is
// not READ/WRITE as the virtual target.
//
// A command the host cannot take now (no free exchange, its link or login
// down, the target not logged in) waits in a queue and is offered again every
// kRequeueDelay, for at most kQueueTimeout; then it ends unsent. A target the
// host logged out of (Host::logout_target) is logged in to again first. Nothing is
// retried here: the NBD bridge (scsi_bridge.h) adds a retry policy, and an
// iSCSI initiator does its own error handling.
//
// Used by ScsiBridge (NBD) and by the iSCSI sessions (iscsi_connection.h).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fabric_sim/node/host.h"

namespace splitpath::sim {

class ScsiPassthrough {
 public:
  struct Request {
    uint64_t target_wwpn = 0;  // the target's N_Port is looked up on each send
    uint16_t lun = 0;
    std::vector<uint8_t> cdb;       // at most fc::kMaxCdbSize bytes
    uint32_t data_in_length = 0;    // bytes of data-in accepted
    std::vector<uint8_t> data_out;  // offered on the target's XFER_RDYs
    // Nonzero: a task management function (fc::fcp_tmf) instead of a CDB.
    uint8_t task_management = 0;
  };
  // `sent` is false when the host never took the command within
  // kQueueTimeout (the result is then only `timed_out`).
  using Done = std::function<void(const ScsiResult& result, bool sent)>;

  // `label` names the user (connection, session) in log lines.
  ScsiPassthrough(Kernel& kernel, Host& host, std::string label);
  ~ScsiPassthrough();
  ScsiPassthrough(const ScsiPassthrough&) = delete;
  ScsiPassthrough& operator=(const ScsiPassthrough&) = delete;

  // Starts one command; `done` runs once, later, from a kernel event (never
  // from inside submit() or cancel()). Returns its id.
  uint64_t submit(Request request, Done done);
  // Takes back a command still queued (the host has not taken it): true, and
  // its `done` never runs. False if it is in the fabric or already ended.
  bool cancel(uint64_t id);
  // Commands submitted whose `done` has not run (and not cancelled).
  size_t in_flight() const { return in_flight_; }
  Host& host() { return host_; }
  Kernel& kernel() { return kernel_; }

  // How long a queued command waits before the host is asked again.
  static constexpr SimTime kRequeueDelay = 100 * kNsPerUs;
  // A command the host could not take for this long (its link is down, it
  // lost its login) ends unsent, as a command that timed out.
  static constexpr SimTime kQueueTimeout = 30 * kNsPerSec;

 private:
  struct Command {
    uint64_t id = 0;
    Request request;
    SimTime queued_at = 0;
    Done done;
  };

  // Sends queued commands while the host takes them; `expire`: ends those
  // that waited kQueueTimeout (not from submit(), which must not call back).
  void pump(bool expire);
  bool send(Command& command);
  void schedule_pump();

  Kernel& kernel_;
  Host& host_;
  std::string label_;
  std::deque<Command> queue_;
  size_t in_flight_ = 0;
  uint64_t next_id_ = 1;
  bool pump_scheduled_ = false;
  // Shared with the callbacks the host and the kernel hold, so a passthrough
  // destroyed while the fabric still runs its commands is not touched.
  std::shared_ptr<bool> alive_;
};

}  // namespace splitpath::sim
