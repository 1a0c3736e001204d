// The host's job engine: picks each command's LBA and direction, runs the FCP
// exchange (FCP_CMND, XFER_RDY/FCP_DATA, FCP_RSP), stamps written units,
// verifies read units, and keeps per-host statistics.
#include <algorithm>
#include <array>
#include <cstring>

#include "fabric_sim/node/block_stamp.h"
#include "fabric_sim/node/fcp_frames.h"
#include "fabric_sim/node/host.h"
#include "fabric_sim/node/host_internal.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/fcp.h"
#include "splitpath/fc/scsi.h"

namespace splitpath::sim {

namespace {
constexpr uint8_t kTimeoutStatus = 0xFF;  // FailedCommand::status for a command that timed out
}  // namespace

Host::IoSlot* Host::slot_for(const fc::FrameHeader& h) {
  const int32_t index = ox_ids_.slot(h.ox_id);
  if (index == ExchangeIds::kNone) return nullptr;
  IoSlot& slot = *slots_[static_cast<size_t>(index)];
  if (!slot.active || slot.ox_id != h.ox_id || slot.target != h.s_id) return nullptr;
  return &slot;
}

void Host::schedule_arrival(Job& job) {
  const double mean_ns = 1e9 / config_.workload.rate_iops;
  const auto delay = static_cast<SimTime>(job.rng.exponential(mean_ns));
  job.arrival_scheduled = true;
  kernel().schedule_in<&Host::on_arrival>(delay, this, job.index);
}

void Host::on_arrival(uint64_t job_index) {
  if (stopped_ || job_index >= jobs_.size()) return;
  Job& job = *jobs_[job_index];
  job.arrival_scheduled = false;
  if (!job.active) return;
  ++job.backlog;
  fill_queue(job);
  schedule_arrival(job);
}

void Host::fill_queue(Job& job) {
  if (stopped_ || !job.active) return;
  const bool rate_mode = config_.workload.rate_iops > 0;
  while (job.outstanding < config_.workload.queue_depth && (!rate_mode || job.backlog > 0)) {
    if (!issue(job)) break;
    if (rate_mode) --job.backlog;
  }
}

Host::IoSlot* Host::take_slot(fc::FcId target) {
  if (free_slots_.empty()) return nullptr;
  const uint32_t index = free_slots_.back();
  const int32_t ox_id = ox_ids_.assign(index);
  if (ox_id == ExchangeIds::kNone) return nullptr;
  free_slots_.pop_back();
  IoSlot& slot = *slots_[index];
  slot.active = true;
  slot.target = target;
  slot.ox_id = static_cast<uint16_t>(ox_id);
  slot.rx_id = fc::kUnassignedXid;
  slot.job = nullptr;
  slot.passthrough = false;
  slot.unit_attentions = 0;
  slot.lun = 0;
  slot.on_done = nullptr;
  slot.result = ScsiResult{};
  slot.data_out.clear();
  slot.write = false;
  slot.transferred = 0;
  slot.seq_id = 0;
  slot.verify_failed = false;
  slot.issued_at = kernel().now();
  return &slot;
}

void Host::release_slot(IoSlot& slot) {
  slot.active = false;
  free_slots_.push_back(static_cast<uint32_t>(ox_ids_.slot(slot.ox_id)));
  ox_ids_.release(slot.ox_id);
}

bool Host::issue(Job& job) {
  const WorkloadConfig& w = config_.workload;
  const uint32_t blocks = job.blocks_per_io;
  const uint64_t slots_in_region = job.region_blocks / blocks;
  if (slots_in_region == 0 || free_slots_.empty() || login_state() != LoginState::kReady) {
    return false;
  }
  const bool write = job.rng.uniform(100) >= w.read_percent;
  const uint64_t units_per_block = job.lun.block_size / kStampUnit;

  // Writes never overlap a write of ours in flight (serialize_overlap): try a few
  // random positions, or wait for a completion when sequential.
  uint64_t lba = 0;
  bool found = false;
  for (int attempt = 0; attempt < 8 && !found; ++attempt) {
    if (w.pattern == AccessPattern::kSequential) {
      lba = job.region_first_lba + job.next_sequential * blocks;
    } else {
      lba = job.region_first_lba + job.rng.uniform(slots_in_region) * blocks;
    }
    found = !write || !job.verify.write_in_flight(lba * units_per_block, blocks * units_per_block);
    if (w.pattern == AccessPattern::kSequential) {
      if (found) job.next_sequential = (job.next_sequential + 1) % slots_in_region;
      break;
    }
  }
  if (!found) return false;

  IoSlot& slot = *take_slot(job.lun.target);
  slot.job = &job;
  slot.write = write;
  slot.lba = lba;
  slot.blocks = blocks;
  slot.bytes = blocks * job.lun.block_size;
  const uint64_t first_unit = lba * units_per_block;
  const uint64_t units = uint64_t{blocks} * units_per_block;
  if (write) {
    slot.generation = next_generation_++;
    job.verify.begin_write(first_unit, units, slot.generation);
  } else {
    slot.generation = 0;
    slot.acked_at_start.resize(units);
    for (uint64_t u = 0; u < units; ++u)
      slot.acked_at_start[u] = job.verify.acknowledged(first_unit + u);
  }
  ++job.outstanding;
  ++outstanding_;

  slot.retries = 0;
  send_command(slot);
  return true;
}

void Host::send_command(IoSlot& slot) {
  const Job& job = *slot.job;
  fc::FcpCmnd cmnd;
  cmnd.lun = fc::make_lun(job.lun.lun);
  cmnd.rddata = !slot.write;
  cmnd.wrdata = slot.write;
  cmnd.fcp_dl = slot.bytes;
  const fc::ScsiCommand scsi =
      slot.write ? fc::make_write(slot.lba, slot.blocks) : fc::make_read(slot.lba, slot.blocks);
  (void)fc::encode_cdb(scsi, {cmnd.cdb.data(), cmnd.cdb.size()});
  Frame* f = new_frame(fcp_header(fc::rctl::kDeviceDataUnsolicitedCmd, job.lun.target, port_id(),
                                  kFctlFcpCmnd, slot.ox_id, fc::kUnassignedXid),
                       fc::fcp_cmnd_size(cmnd));
  (void)fc::encode_fcp_cmnd(cmnd, f->payload());
  kernel().schedule_in<&Host::on_io_timeout>(config_.workload.io_timeout_ns, this, slot.ox_id);
  send(f);
}

bool Host::retryable(const IoSlot& slot, uint8_t status, const fc::SenseData* sense) const {
  if (slot.passthrough || status != fc::scsi_status::kCheckCondition || sense == nullptr)
    return false;
  // A unit attention reports an event, not a failure of the command, which
  // the target did not run: Linux's mid-layer sends it again whatever the
  // retry budget (a few times, in case events pile up).
  if (sense->sense_key == fc::sense_key::kUnitAttention &&
      slot.unit_attentions <= kMaxUnitAttentionRetries) {
    return true;
  }
  if (slot.retries >= config_.workload.retries) return false;
  // What Linux's scsi_check_sense() answers NEEDS_RETRY / ADD_TO_MLQUEUE for.
  switch (sense->sense_key) {
    case fc::sense_key::kAbortedCommand:
    case fc::sense_key::kUnitAttention:
      return true;
    case fc::sense_key::kNotReady:
      return sense->code.asc == 0x04 && sense->code.ascq == 0x01;  // becoming ready
    default:
      return false;
  }
}

void Host::retry(IoSlot& slot) {
  ++slot.retries;
  ++stats_.retries;
  // A new exchange for the same command (the old one is over: it has its
  // FCP_RSP); a write sends the same stamps again.
  const int32_t index = ox_ids_.slot(slot.ox_id);
  ox_ids_.release(slot.ox_id);
  slot.ox_id = static_cast<uint16_t>(ox_ids_.assign(static_cast<uint32_t>(index)));
  slot.rx_id = fc::kUnassignedXid;
  slot.transferred = 0;
  slot.seq_id = 0;
  slot.verify_failed = false;
  if (!slot.write) {
    Job& job = *slot.job;
    const uint64_t units_per_block = job.lun.block_size / kStampUnit;
    const uint64_t first_unit = slot.lba * units_per_block;
    for (uint64_t u = 0; u < slot.acked_at_start.size(); ++u)
      slot.acked_at_start[u] = job.verify.acknowledged(first_unit + u);
  }
  send_command(slot);
}

void Host::on_fcp_frame(const fc::FrameHeader& h, Frame* frame) {
  IoSlot* slot = slot_for(h);
  if (!slot) {
    // A late frame of a command that already timed out, or garbage.
    ++stats_.protocol_errors;
    pool().free(frame);
    return;
  }
  switch (h.r_ctl) {
    case fc::rctl::kDeviceDataDataDescriptor:
      on_xfer_rdy(*slot, h, frame);
      break;
    case fc::rctl::kDeviceDataSolicitedData:
      on_data_in(*slot, h, frame);
      break;
    case fc::rctl::kDeviceDataCommandStatus:
      on_rsp(*slot, h, frame);
      break;
    default:
      ++stats_.protocol_errors;
      pool().free(frame);
  }
}

void Host::on_xfer_rdy(IoSlot& slot, const fc::FrameHeader& h, Frame* frame) {
  auto xfer = fc::decode_fcp_xfer_rdy(frame->payload());
  pool().free(frame);
  if (!xfer.ok() || !slot.write || xfer->burst_length == 0 ||
      uint64_t{xfer->relative_offset} + xfer->burst_length > slot.bytes) {
    ++stats_.protocol_errors;
    return;
  }
  slot.rx_id = h.rx_id;
  const DataSequence seq{slot.target, false, slot.ox_id, slot.rx_id, ++slot.seq_id};
  const uint32_t begin = xfer->relative_offset;
  const uint32_t end = begin + xfer->burst_length;
  if (slot.passthrough) {
    slot.result.data_out_sent += end - begin;
    send_data_sequence(seq, begin, end, [&](uint32_t offset, std::span<uint8_t> out) {
      std::memcpy(out.data(), slot.data_out.data() + offset, out.size());
    });
    return;
  }
  // Each 512-byte unit is stamped with its address and this write's generation;
  // a host that does not verify (fio without verify=) sends zeros.
  const Job& job = *slot.job;
  const uint64_t first_unit = slot.lba * (job.lun.block_size / kStampUnit);
  send_data_sequence(seq, begin, end, [&](uint32_t offset, std::span<uint8_t> out) {
    if (!config_.workload.verify) {
      std::memset(out.data(), 0, out.size());
      return;
    }
    for (uint32_t done = 0; done < out.size(); done += kStampUnit) {
      const BlockStamp stamp{first_unit + (offset + done) / kStampUnit, slot.generation, wwpn()};
      write_stamp(stamp, std::span<uint8_t, kStampUnit>(out.data() + done, kStampUnit));
    }
  });
}

void Host::on_data_in(IoSlot& slot, const fc::FrameHeader& h, Frame* frame) {
  const uint32_t offset = h.parameter;
  const auto payload = frame->payload();
  if (slot.passthrough) {
    auto& data_in = slot.result.data_in;
    if (!slot.write && uint64_t{offset} + payload.size() <= slot.bytes) {
      if (data_in.size() < offset + payload.size()) data_in.resize(offset + payload.size());
      std::memcpy(data_in.data() + offset, payload.data(), payload.size());
      slot.transferred += static_cast<uint32_t>(payload.size());
    } else {
      ++stats_.protocol_errors;
    }
    pool().free(frame);
    return;
  }
  if (slot.write || offset % kStampUnit != 0 || payload.size() % kStampUnit != 0 ||
      uint64_t{offset} + payload.size() > slot.bytes) {
    ++stats_.protocol_errors;
    pool().free(frame);
    return;
  }
  Job& job = *slot.job;
  const uint64_t first_unit = slot.lba * (job.lun.block_size / kStampUnit);
  const size_t checked = config_.workload.verify ? payload.size() : 0;
  for (size_t done = 0; done < checked; done += kStampUnit) {
    const uint64_t index = (offset + done) / kStampUnit;
    BlockStamp stamp;
    const StampCheck check =
        read_stamp(std::span<const uint8_t, kStampUnit>(payload.data() + done, kStampUnit), &stamp);
    const VerifyVerdict verdict =
        job.verify.check(first_unit + index, slot.acked_at_start[index], check, stamp);
    if (verdict != VerifyVerdict::kOk && !slot.verify_failed) {
      slot.verify_failed = true;
      ++stats_.verify_errors;
      spdlog::warn("{}: verify error ({}) reading LUN {} of {} at LBA {}: unit {} generation {}",
                   name(), verify_verdict_name(verdict), job.lun.lun, job.lun.target.value,
                   slot.lba, first_unit + index, stamp.generation);
    }
  }
  slot.transferred += static_cast<uint32_t>(payload.size());
  pool().free(frame);
}

void Host::on_rsp(IoSlot& slot, const fc::FrameHeader& /*h*/, Frame* frame) {
  auto rsp = fc::decode_fcp_rsp(frame->payload());
  pool().free(frame);
  if (!rsp.ok()) {
    ++stats_.protocol_errors;
    finish(slot, fc::scsi_status::kCheckCondition, nullptr);
    return;
  }
  if (slot.passthrough) {
    ScsiResult& r = slot.result;
    r.status = rsp->scsi_status;
    r.residual = rsp->residual;
    r.underrun = rsp->resid_under;
    r.overrun = rsp->resid_over;
    if (rsp->sense_length > 0) {
      const auto raw = rsp->sense_bytes();
      r.sense_bytes.assign(raw.begin(), raw.end());
      auto decoded = fc::decode_sense_data(rsp->sense_bytes());
      if (decoded.ok()) {
        r.has_sense = true;
        r.sense = *decoded;
      }
    }
    if (r.has_sense && rsp->scsi_status == fc::scsi_status::kCheckCondition)
      on_unit_attention(slot, r.sense);
    finish(slot, rsp->scsi_status, nullptr);
    return;
  }
  if (rsp->scsi_status == fc::scsi_status::kGood) {
    // GOOD must come with all the data: a read that lost frames is an error.
    const uint32_t expected = slot.write ? slot.bytes : slot.transferred;
    if (rsp->resid_under || rsp->resid_over || expected != slot.bytes) {
      ++stats_.protocol_errors;
      finish(slot, fc::scsi_status::kCheckCondition, nullptr);
      return;
    }
    finish(slot, fc::scsi_status::kGood, nullptr);
    return;
  }
  fc::SenseData sense;
  const fc::SenseData* sense_ptr = nullptr;
  if (rsp->sense_length > 0) {
    auto decoded = fc::decode_sense_data(rsp->sense_bytes());
    if (decoded.ok()) {
      sense = *decoded;
      sense_ptr = &sense;
    }
  }
  if (sense_ptr && rsp->scsi_status == fc::scsi_status::kCheckCondition)
    on_unit_attention(slot, sense);
  finish(slot, rsp->scsi_status, sense_ptr);
}

void Host::on_unit_attention(IoSlot& slot, const fc::SenseData& sense) {
  if (sense.sense_key != fc::sense_key::kUnitAttention) return;
  ++slot.unit_attentions;
  ++stats_.unit_attentions;
  if (sense.code.asc != fc::asc::kCapacityDataChanged.asc ||
      sense.code.ascq != fc::asc::kCapacityDataChanged.ascq) {
    return;
  }
  ++stats_.capacity_changes;
  // As sd does on this UA: size the LUN again (READ CAPACITY), so the job
  // and luns() learn the new capacity.
  const uint16_t lun = slot.job ? slot.job->lun.lun : slot.lun;
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i]->id == slot.target && targets_[i]->state == TargetState::kReady) {
      read_capacity(i, lun);
      return;
    }
  }
}

void Host::finish(IoSlot& slot, uint8_t status, const fc::SenseData* sense) {
  if (slot.passthrough) {
    ScsiDone done = std::move(slot.on_done);
    ScsiResult result = std::move(slot.result);
    result.timed_out = status == kTimeoutStatus;
    release_slot(slot);
    done(result);
    return;
  }
  if (retryable(slot, status, sense) && login_state() == LoginState::kReady) {
    retry(slot);
    return;
  }
  Job& job = *slot.job;
  const uint64_t units_per_block = job.lun.block_size / kStampUnit;
  if (slot.write) {
    job.verify.end_write(slot.lba * units_per_block, uint64_t{slot.blocks} * units_per_block,
                         slot.generation, status == fc::scsi_status::kGood);
  }
  if (status == fc::scsi_status::kGood) {
    const SimTime latency = kernel().now() - slot.issued_at;
    ++stats_.ios_completed;
    stats_.latency.record(latency);
    if (slot.write) {
      ++stats_.writes;
      stats_.bytes_written += slot.bytes;
      stats_.write_latency.record(latency);
    } else {
      ++stats_.reads;
      stats_.bytes_read += slot.bytes;
      stats_.read_latency.record(latency);
    }
  } else {
    if (status == kTimeoutStatus) {
      ++stats_.timeouts;
    } else if (status == fc::scsi_status::kCheckCondition) {
      ++stats_.check_conditions;
    } else {
      ++stats_.other_status;
    }
    FailedCommand failed;
    failed.at = kernel().now();
    failed.target = fmt::format("{:06x}", job.lun.target.value);
    failed.lun = job.lun.lun;
    failed.write = slot.write;
    failed.lba = slot.lba;
    failed.blocks = slot.blocks;
    failed.status = status;
    if (sense) {
      failed.sense_key = sense->sense_key;
      failed.asc = sense->code.asc;
      failed.ascq = sense->code.ascq;
    }
    failed_.push_back(failed);
  }
  release_slot(slot);
  --job.outstanding;
  --outstanding_;
  fill_queue(job);
}

fc::FcId Host::target_port(uint64_t wwpn) const {
  for (const auto& t : targets_) {
    if (t->wwpn == wwpn && t->state == TargetState::kReady) return t->id;
  }
  return fc::FcId{0};
}

bool Host::submit_command(fc::FcId target, uint16_t lun, std::span<const uint8_t> cdb,
                          uint32_t data_in_length, std::vector<uint8_t> data_out, ScsiDone done) {
  return start_command(target, lun, cdb, data_in_length, std::move(data_out), 0, std::move(done));
}

bool Host::submit_task_management(fc::FcId target, uint16_t lun, uint8_t flags, ScsiDone done) {
  const std::array<uint8_t, fc::kFcpCdbBaseSize> no_cdb{};
  return start_command(target, lun, no_cdb, 0, {}, flags, std::move(done));
}

bool Host::start_command(fc::FcId target, uint16_t lun, std::span<const uint8_t> cdb,
                         uint32_t data_in_length, std::vector<uint8_t> data_out, uint8_t tmf_flags,
                         ScsiDone done) {
  if (login_state() != LoginState::kReady || cdb.size() > fc::kMaxCdbSize) return false;
  IoSlot* slot = take_slot(target);
  if (!slot) return false;
  slot->passthrough = true;
  slot->lun = lun;
  slot->on_done = std::move(done);
  slot->write = !data_out.empty();
  slot->bytes = slot->write ? static_cast<uint32_t>(data_out.size()) : data_in_length;
  slot->data_out = std::move(data_out);
  fc::FcpCmnd cmnd;
  cmnd.lun = fc::make_lun(lun);
  cmnd.rddata = !slot->write && data_in_length > 0;
  cmnd.wrdata = slot->write;
  cmnd.fcp_dl = slot->bytes;
  cmnd.task_management_flags = tmf_flags;
  fc::set_fcp_cdb(cmnd, cdb);
  Frame* f = new_frame(fcp_header(fc::rctl::kDeviceDataUnsolicitedCmd, target, port_id(),
                                  kFctlFcpCmnd, slot->ox_id, fc::kUnassignedXid),
                       fc::fcp_cmnd_size(cmnd));
  (void)fc::encode_fcp_cmnd(cmnd, f->payload());
  kernel().schedule_in<&Host::on_io_timeout>(config_.workload.io_timeout_ns, this, slot->ox_id);
  send(f);
  return true;
}

void Host::run_discovery_command(fc::FcId target, uint16_t lun, const fc::ScsiCommand& cmd,
                                 uint32_t alloc_len, ScsiDone done) {
  std::array<uint8_t, fc::kMaxCdbSize> cdb{};
  auto n = fc::encode_cdb(cmd, cdb);
  if (!n.ok() || !submit_command(target, lun, {cdb.data(), *n}, alloc_len, {}, done)) {
    ScsiResult failed;
    failed.timed_out = true;
    done(failed);
  }
}

void Host::on_io_timeout(uint64_t ox_id) {
  const int32_t index = ox_ids_.slot(static_cast<uint16_t>(ox_id));
  if (index == ExchangeIds::kNone) return;
  IoSlot& slot = *slots_[static_cast<size_t>(index)];
  if (!slot.active || slot.ox_id != ox_id) return;
  send_abts(slot);
  finish(slot, kTimeoutStatus, nullptr);
}

void Host::send_abts(IoSlot& slot) {
  if (login_state() != LoginState::kReady) return;
  fc::FrameHeader h;
  h.r_ctl = fc::rctl::kBlsAbts;
  h.d_id = slot.target;
  h.s_id = port_id();
  h.type = fc::fc_type::kBls;
  h.f_ctl = fc::fctl::kSequenceInitiative | fc::fctl::kEndSequence;
  h.ox_id = slot.ox_id;
  h.rx_id = slot.rx_id;
  send(new_frame(h, 0));
}

}  // namespace splitpath::sim
