// The bridge from NBD requests to SCSI commands: one NBD export on one
// simulated initiator (a Host N_Port logged into the fabric), addressing the
// virtual target and LUN that present the export's virtual volume. A READ or
// WRITE becomes READ/WRITE(10/16) (NBD_CMD_FLAG_FUA sets the CDB's FUA bit),
// a FLUSH becomes SYNCHRONIZE CACHE; the command crosses the switch like any
// host's (the ingress FP maps it or faults it to the CP).
//
// As Linux's SCSI mid-layer does for a real initiator, a command that ends in
// CHECK CONDITION with UNIT ATTENTION, ABORTED COMMAND or NOT READY (becoming
// ready), in BUSY or TASK SET FULL, or times out is sent again, up to
// kRetries times. Any other ending becomes an NBD error (EPERM for DATA
// PROTECT, EINVAL/ENOSPC for ILLEGAL REQUEST, EIO otherwise), logged with
// the status and sense. The commands go through a ScsiPassthrough
// (scsi_passthrough.h): those the host cannot take now (no free exchange,
// link down) wait there and are sent as soon as it can, for at most
// ScsiPassthrough::kQueueTimeout, then fail with EIO.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fabric_sim/gateway/scsi_passthrough.h"
#include "fabric_sim/node/host.h"

namespace splitpath::sim {

struct BridgeResult {
  uint32_t nbd_error = 0;     // 0: success
  std::vector<uint8_t> data;  // READ: the bytes read
};

class ScsiBridge {
 public:
  enum class Op : uint8_t { kRead, kWrite, kFlush };
  using Done = std::function<void(BridgeResult)>;

  // `label` names the connection and export in log lines.
  ScsiBridge(Kernel& kernel, Host& host, const DiscoveredLun& lun, std::string label);
  ~ScsiBridge();
  ScsiBridge(const ScsiBridge&) = delete;
  ScsiBridge& operator=(const ScsiBridge&) = delete;

  // Starts one operation on bytes [offset, offset + length) of the LUN (a
  // multiple of its block size; the codec checked it). `data` is a write's
  // payload. `done` runs once, from a kernel event.
  void submit(Op op, uint64_t offset, uint32_t length, bool fua, std::vector<uint8_t> data,
              Done done);
  // Operations submitted and not yet done.
  size_t in_flight() const { return in_flight_; }

  static constexpr uint32_t kRetries = 5;

 private:
  struct Command {
    Op op = Op::kRead;
    uint64_t lba = 0;
    uint32_t blocks = 0;
    bool fua = false;
    std::vector<uint8_t> data;
    uint32_t attempts = 0;
    Done done;
  };

  void send(Command command);
  void on_result(Command command, const ScsiResult& result, bool sent);

  DiscoveredLun lun_;
  std::string label_;
  ScsiPassthrough passthrough_;
  size_t in_flight_ = 0;
};

}  // namespace splitpath::sim
