#include "fabric_sim/gateway/scsi_passthrough.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "spdlog/spdlog.h"
#include "splitpath/fc/fcp.h"

namespace splitpath::sim {

ScsiPassthrough::ScsiPassthrough(Kernel& kernel, Host& host, std::string label)
    : kernel_(kernel),
      host_(host),
      label_(std::move(label)),
      alive_(std::make_shared<bool>(true)) {}

ScsiPassthrough::~ScsiPassthrough() {
  *alive_ = false;
}

uint64_t ScsiPassthrough::submit(Request request, Done done) {
  Command c;
  c.id = next_id_++;
  c.request = std::move(request);
  c.done = std::move(done);
  c.queued_at = kernel_.now();
  ++in_flight_;
  const uint64_t id = c.id;
  queue_.push_back(std::move(c));
  pump(false);
  return id;
}

bool ScsiPassthrough::cancel(uint64_t id) {
  auto it =
      std::find_if(queue_.begin(), queue_.end(), [id](const Command& c) { return c.id == id; });
  if (it == queue_.end()) return false;
  queue_.erase(it);
  --in_flight_;
  return true;
}

void ScsiPassthrough::pump(bool expire) {
  while (!queue_.empty()) {
    if (send(queue_.front())) {
      queue_.pop_front();
      continue;
    }
    const size_t cdb_size = queue_.front().request.cdb.size();
    const bool encodable = queue_.front().request.task_management != 0 ||
                           (cdb_size > 0 && cdb_size <= fc::kMaxCdbSize);
    if (!expire || (encodable && kernel_.now() - queue_.front().queued_at < kQueueTimeout)) {
      schedule_pump();
      return;
    }
    Command expired = std::move(queue_.front());
    queue_.pop_front();
    if (encodable) {
      spdlog::warn("{}: a command to LUN {} failed: the initiator could not send it for {} s",
                   label_, expired.request.lun, kQueueTimeout / kNsPerSec);
    } else {
      spdlog::error("{}: a command to LUN {} has a CDB of {} bytes: not sent", label_,
                    expired.request.lun, cdb_size);
    }
    ScsiResult result;
    result.timed_out = true;
    --in_flight_;
    expired.done(result, false);
    if (!*alive_) return;  // `done` destroyed this
  }
}

void ScsiPassthrough::schedule_pump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  // The kernel owns no reference to the passthrough: the event holds the liveness flag.
  struct Ctx {
    ScsiPassthrough* self;
    std::shared_ptr<bool> alive;
  };
  auto* ctx = new Ctx{this, alive_};
  kernel_.schedule_in(
      kRequeueDelay,
      [](void* p, uint64_t) {
        std::unique_ptr<Ctx> c(static_cast<Ctx*>(p));
        if (!*c->alive) return;
        c->self->pump_scheduled_ = false;
        c->self->pump(true);
      },
      ctx);
}

bool ScsiPassthrough::send(Command& command) {
  const fc::FcId target = host_.target_port(command.request.target_wwpn);
  if (target.value == 0) {
    // Not (or no longer) logged in to it: a session that ended logged the
    // initiator out (iscsi_connection.h); this one's commands need a login.
    host_.log_in_again(command.request.target_wwpn);
    return false;
  }
  const bool tmf = command.request.task_management != 0;
  // Callers check the CDB; one that cannot be encoded ends unsent (pump()).
  if (!tmf && (command.request.cdb.empty() || command.request.cdb.size() > fc::kMaxCdbSize))
    return false;
  auto alive = alive_;
  // The host keeps a copy of the data-out; the command keeps its own until it ends.
  auto shared = std::make_shared<Command>(std::move(command));
  auto ended = [this, alive, shared](const ScsiResult& r) {
    if (!*alive) return;
    --in_flight_;
    Done done = std::move(shared->done);
    done(r, true);
    if (!*alive) return;
    pump(true);
  };
  const Request& q = shared->request;
  const bool sent =
      tmf ? host_.submit_task_management(target, q.lun, q.task_management, std::move(ended))
          : host_.submit_command(target, q.lun, q.cdb, q.data_in_length, q.data_out,
                                 std::move(ended));
  if (!sent) {
    command = std::move(*shared);
  } else {
    shared->request.data_out = std::vector<uint8_t>();  // the host has its copy
  }
  return sent;
}

}  // namespace splitpath::sim
