// The disk's FCP target: command intake, the READ/WRITE data path with its
// media timing, data-out collection, FCP_RSP, aborts and fault injection.
#include <algorithm>
#include <cstring>

#include "fabric_sim/node/disk.h"
#include "fabric_sim/node/disk_internal.h"
#include "fabric_sim/node/fcp_frames.h"
#include "fmt/format.h"
#include "splitpath/fc/fcp.h"

namespace splitpath::sim {

namespace {
bool is_block_command(fc::ScsiCommandKind k) {
  return k == fc::ScsiCommandKind::kVerify || k == fc::ScsiCommandKind::kWriteSame ||
         k == fc::ScsiCommandKind::kUnmap || k == fc::ScsiCommandKind::kCompareAndWrite;
}

uint64_t derived_wwnn(const DiskConfig& c) {
  return c.wwnn ? c.wwnn : c.wwpn ^ (1ull << 60);
}
}  // namespace

std::optional<uint64_t> Disk::LogicalUnit::first_medium_error(uint64_t lba, uint64_t blocks) const {
  std::optional<uint64_t> first;
  for (const auto& [start, count] : medium_errors) {
    const uint64_t lo = std::max(lba, start);
    const uint64_t hi = std::min(lba + blocks, start + count);
    if (lo < hi && (!first || lo < *first)) first = lo;
  }
  return first;
}

Disk::Disk(Kernel& kernel, FramePool& pool, const DiskConfig& config, uint64_t seed)
    : NPort(kernel, pool, config.name, config.wwpn, derived_wwnn(config), Role::kTarget,
            Rng::derive(seed, config.name)),
      config_(config),
      device_wwpn_(config.wwpn) {
  for (const LunConfig& l : config_.luns) {
    luns_.push_back(std::make_shared<LogicalUnit>(l, l.blocks * l.block_size));
  }
  const uint32_t slots = std::clamp<uint32_t>(config_.queue_depth, 1, kMaxTasks);
  for (uint32_t i = 0; i < slots; ++i) {
    tasks_.push_back(std::make_unique<Task>());
    free_tasks_.push_back(slots - 1 - i);
  }
}

Disk::Disk(Kernel& kernel, FramePool& pool, const DiskConfig& config, uint64_t seed, size_t port,
           Disk& first)
    : NPort(kernel, pool, fmt::format("{}/{}", config.name, port),
            config.more_ports.at(port - 1).wwpn, first.wwnn(), Role::kTarget,
            Rng::derive(seed, fmt::format("{}/{}", config.name, port))),
      config_(config),
      device_wwpn_(first.device_wwpn_),
      luns_(first.luns_) {
  config_.wwpn = config.more_ports[port - 1].wwpn;
  config_.attach = config.more_ports[port - 1].attach;
  const uint32_t slots = std::clamp<uint32_t>(config_.queue_depth, 1, kMaxTasks);
  for (uint32_t i = 0; i < slots; ++i) {
    tasks_.push_back(std::make_unique<Task>());
    free_tasks_.push_back(slots - 1 - i);
  }
}

Disk::~Disk() = default;

bool Disk::visible(const LogicalUnit& lu, fc::FcId initiator) const {
  const std::vector<uint64_t>& allowed = lu.config.initiators;
  if (allowed.empty()) return true;
  const uint64_t wwpn = peer_wwpn(initiator);
  return wwpn != 0 && std::find(allowed.begin(), allowed.end(), wwpn) != allowed.end();
}

Disk::LogicalUnit* Disk::lun(uint16_t number) {
  for (auto& l : luns_) {
    if (l->config.lun == number) return l.get();
  }
  return nullptr;
}

const SparseStore* Disk::store(uint16_t number) const {
  for (const auto& l : luns_) {
    if (l->config.lun == number) return &l->store;
  }
  return nullptr;
}

SparseStore* Disk::mutable_store(uint16_t number) {
  LogicalUnit* l = lun(number);
  return l ? &l->store : nullptr;
}

void Disk::apply_late_write(uint64_t id) {
  auto it = late_writes_.find(id);
  if (it == late_writes_.end()) return;
  it->second.lu->store.write(it->second.byte_offset, it->second.data);
  late_writes_.erase(it);
}

void Disk::add_medium_error(uint16_t number, uint64_t lba, uint64_t count) {
  if (LogicalUnit* l = lun(number)) l->medium_errors.emplace_back(lba, count);
}

void Disk::clear_medium_errors() {
  for (auto& l : luns_)
    l->medium_errors.clear();
}

Disk::Task* Disk::task_for(const fc::FrameHeader& h) {
  const int32_t index = rx_ids_.slot(h.rx_id);
  if (index == ExchangeIds::kNone) return nullptr;
  Task& t = *tasks_[static_cast<size_t>(index)];
  if (!t.active || t.rx_id != h.rx_id || t.ox_id != h.ox_id || t.initiator != h.s_id) {
    return nullptr;
  }
  return &t;
}

void Disk::on_fcp_frame(const fc::FrameHeader& h, Frame* frame) {
  if (offline_) {
    ++stats_.dropped_offline;
    pool().free(frame);
    return;
  }
  if (h.r_ctl == fc::rctl::kDeviceDataUnsolicitedCmd) {
    on_command(h, frame->payload());
    pool().free(frame);
  } else if (h.r_ctl == fc::rctl::kDeviceDataSolicitedData) {
    on_data_out(h, frame);
  } else {
    ++stats_.protocol_errors;
    pool().free(frame);
  }
}

void Disk::on_command(const fc::FrameHeader& h, std::span<const uint8_t> payload) {
  ++stats_.commands;
  auto cmnd = fc::decode_fcp_cmnd(payload);
  if (!cmnd.ok() || !peer_logged_in(h.s_id)) {
    // Without a valid FCP_CMND (or a process login) there is no command to
    // answer with SCSI status: answer at the FCP level.
    ++stats_.protocol_errors;
    Task t;
    t.initiator = h.s_id;
    t.ox_id = h.ox_id;
    t.rx_id = fc::kUnassignedXid;
    fc::FcpRsp rsp = fc::make_fcp_rsp_code(fc::fcp_rsp_code::kCmndFieldsInvalid);
    Frame* f = new_frame(fcp_header(fc::rctl::kDeviceDataCommandStatus, h.s_id, port_id(),
                                    kFctlFcpRsp, h.ox_id, fc::kUnassignedXid),
                         fc::fcp_rsp_size(rsp));
    (void)fc::encode_fcp_rsp(rsp, f->payload());
    send(f);
    return;
  }
  if (free_tasks_.empty()) {
    ++stats_.task_set_full;
    Task t;
    t.initiator = h.s_id;
    t.ox_id = h.ox_id;
    t.rx_id = fc::kUnassignedXid;
    send_rsp(t, fc::scsi_status::kTaskSetFull, nullptr, cmnd->fcp_dl, true);
    return;
  }
  const uint32_t index = free_tasks_.back();
  free_tasks_.pop_back();
  Task& task = *tasks_[index];
  task = Task{};
  task.active = true;
  task.rx_id = static_cast<uint16_t>(rx_ids_.assign(index));
  task.ox_id = h.ox_id;
  task.initiator = h.s_id;
  task.fcp_dl = cmnd->fcp_dl;

  auto lun_number = fc::decode_lun(cmnd->lun);
  LogicalUnit* addressed = lun_number.ok() ? lun(*lun_number) : nullptr;
  // A LU masked from this initiator is absent to it (SPC-4 5.10 / 6.6.2):
  // execute() and check_media_access() answer as for a LUN that does not exist.
  task.lu = addressed && visible(*addressed, h.s_id) ? addressed : nullptr;
  auto scsi = fc::decode_cdb(cmnd->cdb_bytes());
  if (!scsi.ok()) {
    const auto& e = scsi.error();
    const fc::SenseData sense =
        e.code == fc::WireErrc::kUnsupported && e.offset == 0
            ? fc::make_illegal_request(fc::asc::kInvalidCommandOperationCode, true, 0)
            : fc::make_invalid_field_in_cdb(static_cast<uint16_t>(e.offset));
    ++stats_.check_conditions;
    send_rsp(task, fc::scsi_status::kCheckCondition, &sense, task.fcp_dl, true);
    finish(task);
    return;
  }
  task.cmd = *scsi;
  // WRITE AND VERIFY is a WRITE here: the store reads back what it was given.
  const bool rw = task.cmd.kind == fc::ScsiCommandKind::kRead ||
                  task.cmd.kind == fc::ScsiCommandKind::kWrite ||
                  task.cmd.kind == fc::ScsiCommandKind::kWriteAndVerify;
  if (rw) {
    Outcome access = check_media_access(task, task.cmd);
    if (access.status != fc::scsi_status::kGood) {
      if (access.status == fc::scsi_status::kCheckCondition) ++stats_.check_conditions;
      send_rsp(task, access.status, access.sense ? &*access.sense : nullptr, task.fcp_dl, true);
      finish(task);
      return;
    }
    const uint32_t block = task.lu->config.block_size;
    task.write = task.cmd.kind != fc::ScsiCommandKind::kRead;
    task.byte_offset = task.cmd.lba * block;
    task.bytes = task.cmd.transfer_length * block;
    // The FCP direction bits must agree with the command, and a write must be
    // offered all of its data.
    if ((task.write && (!cmnd->wrdata || task.fcp_dl < task.bytes)) ||
        (!task.write && !cmnd->rddata && task.bytes > 0)) {
      const fc::SenseData sense = fc::make_invalid_field_in_cdb(0);
      ++stats_.check_conditions;
      send_rsp(task, fc::scsi_status::kCheckCondition, &sense, task.fcp_dl, true);
      finish(task);
      return;
    }
    task.medium_error_lba = task.lu->first_medium_error(task.cmd.lba, task.cmd.transfer_length);
    if (task.write) {
      start_write(task);
    } else {
      start_read(task);
    }
    return;
  }
  uint64_t data_out = 0;
  if (task.cmd.kind == fc::ScsiCommandKind::kPersistentReserveOut && task.lu) {
    data_out = cmnd->wrdata ? std::min(task.cmd.parameter_list_length, task.fcp_dl) : 0;
  } else if (task.lu && is_block_command(task.cmd.kind)) {
    data_out = block_command_data_out(task.cmd, task.lu->config.block_size);
    Outcome access = check_media_access(task, task.cmd);
    if (task.cmd.kind == fc::ScsiCommandKind::kUnmap) {
      // The ranges are in the parameter list; only the reservation applies here.
      data_out = std::min<uint64_t>(data_out, task.fcp_dl);
    } else if (access.status == fc::scsi_status::kGood && data_out > 0 &&
               (!cmnd->wrdata || task.fcp_dl < data_out || data_out > kMaxParameterBytes)) {
      access = Outcome::check(fc::make_invalid_field_in_cdb(0));  // the Data-Out does not fit
    }
    if (access.status != fc::scsi_status::kGood) {
      if (access.status == fc::scsi_status::kCheckCondition) ++stats_.check_conditions;
      send_rsp(task, access.status, access.sense ? &*access.sense : nullptr, task.fcp_dl, true);
      finish(task);
      return;
    }
  }
  if (data_out > 0) {
    // Collect the parameter list or data first; execute() runs when it has arrived.
    task.parameter_out = true;
    task.bytes = static_cast<uint32_t>(data_out);
    task.parameters.resize(task.bytes);
    task.burst_end = std::min(task.bytes, kMaxBurst);
    Frame* f = new_frame(fcp_header(fc::rctl::kDeviceDataDataDescriptor, task.initiator, port_id(),
                                    kFctlXferRdy, task.ox_id, task.rx_id),
                         fc::kFcpXferRdySize);
    (void)fc::encode_fcp_xfer_rdy({0, task.bytes}, f->payload());
    send(f);
    return;
  }
  std::vector<uint8_t>& data = scratch_;
  data.clear();
  if (task.lu && is_block_command(task.cmd.kind)) return start_block_command(task);
  Outcome out = execute(task, task.cmd, data);
  if (out.status == fc::scsi_status::kGood) {
    const auto n = static_cast<uint32_t>(std::min<size_t>(data.size(), task.fcp_dl));
    if (n > 0) send_data_in(task, {data.data(), n});
    send_rsp(task, out.status, nullptr, task.fcp_dl - n, task.fcp_dl > n);
  } else {
    if (out.status == fc::scsi_status::kCheckCondition) ++stats_.check_conditions;
    send_rsp(task, out.status, out.sense ? &*out.sense : nullptr, task.fcp_dl, task.fcp_dl > 0);
  }
  finish(task);
}

void Disk::start_block_command(Task& task) {
  // The medium changes at once (COMPARE AND WRITE is atomic); the status
  // goes out after the media time of what was read or written.
  task.media_bytes = 0;
  task.outcome = execute_block_command(task);
  const SimTime delay =
      task.media_bytes > 0 ? media_time(task.media_bytes) : config_.latency_ns + extra_delay_;
  kernel().schedule_in<&Disk::on_block_command_done>(delay, this, task.rx_id);
}

void Disk::on_block_command_done(uint64_t arg) {
  const int32_t index = rx_ids_.slot(static_cast<uint16_t>(arg));
  if (index == ExchangeIds::kNone) return;  // aborted meanwhile
  Task& task = *tasks_[static_cast<size_t>(index)];
  if (!offline_) {
    const Outcome& out = task.outcome;
    if (out.status == fc::scsi_status::kCheckCondition) ++stats_.check_conditions;
    // Data-Out not asked for (FCP_DL beyond what the command takes) is a residual.
    const uint32_t taken = task.parameter_out ? task.bytes : 0;
    send_rsp(task, out.status, out.sense ? &*out.sense : nullptr, task.fcp_dl - taken,
             task.fcp_dl > taken);
  }
  finish(task);
}

SimTime Disk::media_time(uint64_t bytes) {
  // Latency overlaps between commands (the media works on many at once);
  // bandwidth is shared, so transfers queue behind each other.
  // A null disk has no media: only the latency (0 for null_disk_config) counts.
  if (config_.null_data) return config_.latency_ns + extra_delay_;
  const SimTime now = kernel().now();
  const SimTime transfer = bytes * 1000 / std::max<uint64_t>(1, config_.bandwidth_mb_s);
  media_free_at_ = std::max(media_free_at_, now + config_.latency_ns + extra_delay_) + transfer;
  return media_free_at_ - now;
}

void Disk::start_read(Task& task) {
  const SimTime delay =
      task.medium_error_lba ? config_.latency_ns + extra_delay_ : media_time(task.bytes);
  kernel().schedule_in<&Disk::on_media_done>(delay, this, task.rx_id);
}

void Disk::start_write(Task& task) {
  if (task.medium_error_lba || task.bytes == 0) {
    // Nothing is transferred: the command fails (or succeeds) after the latency.
    kernel().schedule_in<&Disk::on_media_done>(config_.latency_ns + extra_delay_, this, task.rx_id);
    return;
  }
  task.burst_end = std::min(task.bytes, kMaxBurst);
  Frame* f = new_frame(fcp_header(fc::rctl::kDeviceDataDataDescriptor, task.initiator, port_id(),
                                  kFctlXferRdy, task.ox_id, task.rx_id),
                       fc::kFcpXferRdySize);
  (void)fc::encode_fcp_xfer_rdy({0, task.burst_end}, f->payload());
  send(f);
}

void Disk::on_data_out(const fc::FrameHeader& h, Frame* frame) {
  Task* task = task_for(h);
  const auto payload = frame->payload();
  if (!task || (!task->write && !task->parameter_out) || h.parameter != task->received ||
      uint64_t{h.parameter} + payload.size() > task->burst_end) {
    // Data for no task, or out of sequence: FCP-4 would abort the exchange; the
    // initiator's timeout does that here.
    ++stats_.protocol_errors;
    pool().free(frame);
    return;
  }
  if (task->parameter_out) {
    std::memcpy(task->parameters.data() + h.parameter, payload.data(), payload.size());
  } else if (late_write_ns_ > 0) {
    task->late_data.resize(task->bytes);
    std::memcpy(task->late_data.data() + h.parameter, payload.data(), payload.size());
  } else if (!config_.null_data) {
    task->lu->store.write(task->byte_offset + h.parameter, payload);
  }
  task->received += static_cast<uint32_t>(payload.size());
  pool().free(frame);
  if (task->received < task->burst_end) return;
  if (task->received < task->bytes) {
    const uint32_t start = task->received;
    task->burst_end = std::min(task->bytes, start + kMaxBurst);
    Frame* f = new_frame(fcp_header(fc::rctl::kDeviceDataDataDescriptor, task->initiator, port_id(),
                                    kFctlXferRdy, task->ox_id, task->rx_id),
                         fc::kFcpXferRdySize);
    (void)fc::encode_fcp_xfer_rdy({start, task->burst_end - start}, f->payload());
    send(f);
    return;
  }
  if (task->parameter_out && is_block_command(task->cmd.kind)) return start_block_command(*task);
  if (task->parameter_out) {
    std::vector<uint8_t>& data = scratch_;
    data.clear();
    Outcome out = execute(*task, task->cmd, data);
    if (out.status == fc::scsi_status::kCheckCondition) ++stats_.check_conditions;
    send_rsp(*task, out.status, out.sense ? &*out.sense : nullptr, 0, false);
    finish(*task);
    return;
  }
  kernel().schedule_in<&Disk::on_media_done>(media_time(task->bytes), this, task->rx_id);
}

void Disk::on_media_done(uint64_t arg) {
  const int32_t index = rx_ids_.slot(static_cast<uint16_t>(arg));
  if (index == ExchangeIds::kNone) return;  // aborted meanwhile
  Task& task = *tasks_[static_cast<size_t>(index)];
  if (offline_) {
    finish(task);
    return;
  }
  if (task.medium_error_lba) {
    fc::SenseData sense =
        fc::make_sense(fc::sense_key::kMediumError,
                       task.write ? fc::asc::kWriteError : fc::asc::kUnrecoveredReadError);
    sense.valid = *task.medium_error_lba <= 0xFFFFFFFFu;
    sense.information = static_cast<uint32_t>(*task.medium_error_lba);
    ++stats_.check_conditions;
    send_rsp(task, fc::scsi_status::kCheckCondition, &sense, task.fcp_dl, true);
    finish(task);
    return;
  }
  if (task.write) {
    ++stats_.writes;
    stats_.bytes_written += task.bytes;
    if (late_write_ns_ > 0 && !task.late_data.empty()) {
      const uint64_t id = next_late_write_++;
      late_writes_[id] = LateWrite{task.lu, task.byte_offset, std::move(task.late_data)};
      task.late_data.clear();
      kernel().schedule_in<&Disk::apply_late_write>(late_write_ns_, this, id);
    }
    send_rsp(task, fc::scsi_status::kGood, nullptr, task.fcp_dl - task.bytes,
             task.fcp_dl > task.bytes);
    finish(task);
    return;
  }
  // A read sends at most FCP_DL bytes; the residual tells the initiator the rest.
  // Data goes from the store straight into the frames.
  ++stats_.reads;
  const uint32_t n = std::min(task.bytes, task.fcp_dl);
  stats_.bytes_read += n;
  const DataSequence seq{task.initiator, true, task.ox_id, task.rx_id, ++task.seq_id};
  send_data_sequence(seq, 0, n, [&](uint32_t offset, std::span<uint8_t> out) {
    if (config_.null_data) {
      std::memset(out.data(), 0, out.size());
    } else {
      task.lu->store.read(task.byte_offset + offset, out);
    }
  });
  const bool over = task.bytes > task.fcp_dl;
  fc::FcpRsp rsp;
  rsp.scsi_status = fc::scsi_status::kGood;
  rsp.resid_over = over;
  rsp.resid_under = task.fcp_dl > task.bytes;
  rsp.residual = over ? task.bytes - task.fcp_dl : task.fcp_dl - task.bytes;
  Frame* f = new_frame(fcp_header(fc::rctl::kDeviceDataCommandStatus, task.initiator, port_id(),
                                  kFctlFcpRsp, task.ox_id, task.rx_id),
                       fc::fcp_rsp_size(rsp));
  (void)fc::encode_fcp_rsp(rsp, f->payload());
  send(f);
  finish(task);
}

void Disk::send_data_in(Task& task, std::span<const uint8_t> data) {
  const DataSequence seq{task.initiator, true, task.ox_id, task.rx_id, ++task.seq_id};
  send_data_sequence(seq, 0, static_cast<uint32_t>(data.size()),
                     [&](uint32_t offset, std::span<uint8_t> out) {
                       std::memcpy(out.data(), data.data() + offset, out.size());
                     });
}

void Disk::send_rsp(Task& task, uint8_t status, const fc::SenseData* sense, uint32_t residual,
                    bool under) {
  fc::FcpRsp rsp;
  rsp.scsi_status = status;
  rsp.resid_under = under && residual > 0;
  rsp.residual = rsp.resid_under ? residual : 0;
  if (sense) {
    uint8_t bytes[fc::kFixedSenseSize];
    auto n = fc::encode_sense_data(*sense, {bytes, sizeof bytes});
    if (n.ok()) fc::set_fcp_sense(rsp, {bytes, *n});
  }
  Frame* f = new_frame(fcp_header(fc::rctl::kDeviceDataCommandStatus, task.initiator, port_id(),
                                  kFctlFcpRsp, task.ox_id, task.rx_id),
                       fc::fcp_rsp_size(rsp));
  (void)fc::encode_fcp_rsp(rsp, f->payload());
  send(f);
}

void Disk::finish(Task& task) {
  if (!task.active) return;
  task.active = false;
  task.parameters.clear();
  task.late_data.clear();
  free_tasks_.push_back(static_cast<uint32_t>(rx_ids_.slot(task.rx_id)));
  rx_ids_.release(task.rx_id);
}

void Disk::on_abort(fc::FcId peer, uint16_t ox_id) {
  for (auto& t : tasks_) {
    if (t->active && t->initiator == peer && t->ox_id == ox_id) {
      ++stats_.aborted;
      finish(*t);
    }
  }
}

void Disk::on_fabric_lost() {
  for (auto& t : tasks_)
    finish(*t);
}

}  // namespace splitpath::sim
