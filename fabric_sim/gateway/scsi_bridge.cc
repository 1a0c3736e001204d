#include "fabric_sim/gateway/scsi_bridge.h"

#include <array>
#include <memory>
#include <utility>

#include "fabric_sim/gateway/nbd_codec.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi_cdb_encode.h"

namespace splitpath::sim {
namespace {

const char* op_name(ScsiBridge::Op op) {
  switch (op) {
    case ScsiBridge::Op::kRead:
      return "READ";
    case ScsiBridge::Op::kWrite:
      return "WRITE";
    case ScsiBridge::Op::kFlush:
      return "SYNCHRONIZE CACHE";
  }
  return "?";
}

// A command ending so is sent again (sd's mid-layer retries these).
bool retryable(const ScsiResult& r) {
  if (r.timed_out) return true;
  if (r.status == fc::scsi_status::kBusy || r.status == fc::scsi_status::kTaskSetFull) return true;
  if (r.status != fc::scsi_status::kCheckCondition || !r.has_sense) return false;
  switch (r.sense.sense_key) {
    case fc::sense_key::kUnitAttention:
    case fc::sense_key::kAbortedCommand:
      return true;
    case fc::sense_key::kNotReady:
      return r.sense.code == fc::asc::kLogicalUnitBecomingReady;
    default:
      return false;
  }
}

uint32_t nbd_error_for(const ScsiResult& r, bool write) {
  if (!r.timed_out && r.status == fc::scsi_status::kCheckCondition && r.has_sense) {
    if (r.sense.sense_key == fc::sense_key::kDataProtect) return nbd::kEperm;
    if (r.sense.sense_key == fc::sense_key::kIllegalRequest)
      return write && r.sense.code == fc::asc::kLbaOutOfRange ? nbd::kEnospc : nbd::kEinval;
  }
  return nbd::kEio;
}

}  // namespace

ScsiBridge::ScsiBridge(Kernel& kernel, Host& host, const DiscoveredLun& lun, std::string label)
    : lun_(lun), label_(std::move(label)), passthrough_(kernel, host, "nbd " + label_) {}

ScsiBridge::~ScsiBridge() = default;

void ScsiBridge::submit(Op op, uint64_t offset, uint32_t length, bool fua,
                        std::vector<uint8_t> data, Done done) {
  Command c;
  c.op = op;
  c.lba = offset / lun_.block_size;
  c.blocks = length / lun_.block_size;
  c.fua = fua;
  c.data = std::move(data);
  c.done = std::move(done);
  ++in_flight_;
  send(std::move(c));
}

void ScsiBridge::send(Command command) {
  std::array<uint8_t, fc::kMaxCdbSize> cdb{};
  fc::ScsiCommand scsi;
  ScsiPassthrough::Request request;
  request.target_wwpn = lun_.target_wwpn;
  request.lun = lun_.lun;
  switch (command.op) {
    case Op::kRead:
      scsi = fc::make_read(command.lba, command.blocks);
      request.data_in_length = command.blocks * lun_.block_size;
      break;
    case Op::kWrite:
      scsi = fc::make_write(command.lba, command.blocks, command.fua);
      // The data stays with the command for a retry; the fabric gets a copy.
      request.data_out = command.data;
      break;
    case Op::kFlush:
      scsi = fc::make_synchronize_cache();
      break;
  }
  auto n = fc::encode_cdb(scsi, cdb);
  if (n.ok()) request.cdb.assign(cdb.begin(), cdb.begin() + static_cast<ptrdiff_t>(*n));
  // A CDB that cannot be encoded (empty here) ends unsent: EIO.
  ++command.attempts;
  auto shared = std::make_shared<Command>(std::move(command));
  passthrough_.submit(std::move(request), [this, shared](const ScsiResult& r, bool sent) {
    on_result(std::move(*shared), r, sent);
  });
}

void ScsiBridge::on_result(Command command, const ScsiResult& r, bool sent) {
  if (!sent) {
    // The initiator could not send it (the passthrough logged why).
    BridgeResult result;
    result.nbd_error = nbd::kEio;
    --in_flight_;
    command.done(std::move(result));
    return;
  }
  if (!r.timed_out && r.status == fc::scsi_status::kGood) {
    BridgeResult result;
    if (command.op == Op::kRead) result.data = r.data_in;
    --in_flight_;
    command.done(std::move(result));
    return;
  }
  if (retryable(r) && command.attempts <= kRetries) {
    spdlog::info("nbd {}: {} of LBA {} x{} sent again ({}, attempt {})", label_,
                 op_name(command.op), command.lba, command.blocks,
                 r.timed_out ? "timed out" : fmt::format("status {:#04x}", r.status),
                 command.attempts + 1);
    send(std::move(command));
    return;
  }
  if (r.timed_out) {
    spdlog::warn("nbd {}: {} of LBA {} x{} timed out after {} attempts", label_,
                 op_name(command.op), command.lba, command.blocks, command.attempts);
  } else {
    spdlog::warn(
        "nbd {}: {} of LBA {} x{} failed: status {:#04x}, sense key {:#x} ASC/ASCQ "
        "{:#04x}/{:#04x}",
        label_, op_name(command.op), command.lba, command.blocks, r.status,
        r.has_sense ? r.sense.sense_key : 0, r.has_sense ? r.sense.code.asc : 0,
        r.has_sense ? r.sense.code.ascq : 0);
  }
  BridgeResult result;
  result.nbd_error = nbd_error_for(r, command.op == Op::kWrite);
  --in_flight_;
  command.done(std::move(result));
}

}  // namespace splitpath::sim
