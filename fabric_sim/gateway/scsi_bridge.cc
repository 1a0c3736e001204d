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
    : kernel_(kernel),
      host_(host),
      lun_(lun),
      label_(std::move(label)),
      alive_(std::make_shared<bool>(true)) {}

ScsiBridge::~ScsiBridge() {
  *alive_ = false;
}

void ScsiBridge::submit(Op op, uint64_t offset, uint32_t length, bool fua,
                        std::vector<uint8_t> data, Done done) {
  Command c;
  c.op = op;
  c.lba = offset / lun_.block_size;
  c.blocks = length / lun_.block_size;
  c.fua = fua;
  c.data = std::move(data);
  c.done = std::move(done);
  c.queued_at = kernel_.now();
  ++in_flight_;
  queue_.push_back(std::move(c));
  pump();
}

void ScsiBridge::pump() {
  while (!queue_.empty()) {
    if (send(queue_.front())) {
      queue_.pop_front();
      continue;
    }
    if (kernel_.now() - queue_.front().queued_at < kQueueTimeout) {
      schedule_pump();
      return;
    }
    Command expired = std::move(queue_.front());
    queue_.pop_front();
    fail_queued(std::move(expired));
  }
}

void ScsiBridge::fail_queued(Command command) {
  spdlog::warn("nbd {}: {} of LBA {} x{} failed: the initiator could not send it for {} s", label_,
               op_name(command.op), command.lba, command.blocks, kQueueTimeout / kNsPerSec);
  BridgeResult result;
  result.nbd_error = nbd::kEio;
  --in_flight_;
  command.done(std::move(result));
}

void ScsiBridge::schedule_pump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  // The host owns no reference to the bridge: the event holds the liveness flag.
  auto* flag = new std::shared_ptr<bool>(alive_);
  struct Ctx {
    ScsiBridge* bridge;
    std::shared_ptr<bool>* alive;
  };
  auto* ctx = new Ctx{this, flag};
  kernel_.schedule_in(
      kRequeueDelay,
      [](void* p, uint64_t) {
        std::unique_ptr<Ctx> c(static_cast<Ctx*>(p));
        std::unique_ptr<std::shared_ptr<bool>> alive(c->alive);
        if (!**alive) return;
        c->bridge->pump_scheduled_ = false;
        c->bridge->pump();
      },
      ctx);
}

bool ScsiBridge::send(Command& command) {
  std::array<uint8_t, fc::kMaxCdbSize> cdb{};
  fc::ScsiCommand scsi;
  uint32_t data_in = 0;
  switch (command.op) {
    case Op::kRead:
      scsi = fc::make_read(command.lba, command.blocks);
      data_in = command.blocks * lun_.block_size;
      break;
    case Op::kWrite:
      scsi = fc::make_write(command.lba, command.blocks, command.fua);
      break;
    case Op::kFlush:
      scsi = fc::make_synchronize_cache();
      break;
  }
  auto n = fc::encode_cdb(scsi, cdb);
  if (!n.ok()) {
    spdlog::error("nbd {}: cannot encode {} of LBA {} x{}", label_, op_name(command.op),
                  command.lba, command.blocks);
    return false;
  }
  // The data stays with the command for a retry; the host gets a copy.
  std::vector<uint8_t> data_out = command.op == Op::kWrite ? command.data : std::vector<uint8_t>{};
  auto alive = alive_;
  ++command.attempts;
  auto shared = std::make_shared<Command>(std::move(command));
  const bool sent =
      host_.submit_command(lun_.target, lun_.lun, {cdb.data(), *n}, data_in, std::move(data_out),
                           [this, alive, shared](const ScsiResult& r) {
                             if (!*alive) return;
                             on_result(std::move(*shared), r);
                           });
  if (!sent) {
    command = std::move(*shared);
    --command.attempts;  // not sent: the host had no free exchange or is not logged in
  }
  return sent;
}

void ScsiBridge::on_result(Command command, const ScsiResult& r) {
  if (!r.timed_out && r.status == fc::scsi_status::kGood) {
    BridgeResult result;
    if (command.op == Op::kRead) result.data = r.data_in;
    --in_flight_;
    command.done(std::move(result));
    pump();
    return;
  }
  if (retryable(r) && command.attempts <= kRetries) {
    spdlog::info("nbd {}: {} of LBA {} x{} sent again ({}, attempt {})", label_,
                 op_name(command.op), command.lba, command.blocks,
                 r.timed_out ? "timed out" : fmt::format("status {:#04x}", r.status),
                 command.attempts + 1);
    command.queued_at = kernel_.now();
    queue_.push_back(std::move(command));
    pump();
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
  pump();
}

}  // namespace splitpath::sim
