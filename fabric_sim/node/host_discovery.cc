// The host's discovery: ask the name server for FCP ports (GID_FT), learn their
// names (GPN_ID), log in (PLOGI, PRLI), list their LUNs (REPORT LUNS), size them
// (READ CAPACITY(16)), and start a job on each. An RSCN runs it again, so
// targets that appear later are picked up.
#include <algorithm>
#include <array>

#include "fabric_sim/net/ct_iu.h"
#include "fabric_sim/node/host.h"
#include "fabric_sim/node/host_internal.h"
#include "spdlog/spdlog.h"
#include "splitpath/fc/ct.h"
#include "splitpath/fc/els.h"
#include "splitpath/fc/scsi.h"

namespace splitpath::sim {

namespace {
constexpr uint32_t kReportLunsAllocation = 4096;
uint64_t derived_wwnn(const HostConfig& c) {
  return c.wwnn ? c.wwnn : c.wwpn ^ (1ull << 60);
}
}  // namespace

Host::Host(Kernel& kernel, FramePool& pool, const HostConfig& config, uint64_t seed)
    : NPort(kernel, pool, config.name, config.wwpn, derived_wwnn(config), Role::kInitiator,
            Rng::derive(seed, config.name)),
      config_(config),
      ox_ids_(kFirstFcpOxId, kLastFcpOxId) {
  // Slots for discovery commands; add_job adds one queue's worth per job.
  for (uint32_t i = 0; i < 16; ++i) {
    free_slots_.push_back(15 - i);
    slots_.push_back(std::make_unique<IoSlot>());
  }
}

Host::~Host() = default;

std::vector<DiscoveredLun> Host::luns() const {
  std::vector<DiscoveredLun> out;
  for (const auto& j : jobs_)
    out.push_back(j->lun);
  return out;
}

const VerifyMap* Host::job_verify_map(size_t index) const {
  return index < jobs_.size() ? &jobs_[index]->verify : nullptr;
}

void Host::on_fabric_ready() {
  discover();
}

void Host::on_state_change() {
  discover();
}

void Host::on_fabric_lost() {
  // Every exchange died with the link: end outstanding commands as timeouts so
  // their writes count as unacknowledged, then forget the targets.
  for (auto& slot : slots_) {
    if (slot->active) finish(*slot, 0xFF, nullptr);
  }
  for (auto& job : jobs_)
    job->active = false;
  for (auto& t : targets_) {
    t->state = TargetState::kNew;
    t->luns.clear();
  }
}

void Host::discover() {
  if (discovering_) {
    rediscover_ = true;
    return;
  }
  discovering_ = true;
  rediscover_ = false;
  std::array<uint8_t, 64> req{};
  const size_t n =
      build_ct_iu(fc::make_ns_request(fc::ct_cmd::kGidFt), req, [](std::span<uint8_t> out) {
        return fc::encode_gid_ft_request(fc::GidFtRequest{0, 0, fc::fc_type::kFcp}, out);
      });
  send_ct(fc::kDirectoryServer, std::span<const uint8_t>(req.data(), n),
          [this](const ControlReply& reply) {
            std::vector<fc::FcId> ports;
            if (!reply.timed_out) {
              auto preamble = fc::decode_ct_preamble(reply.payload);
              if (preamble.ok() && preamble->command_response == fc::ct_cmd::kAcc) {
                auto acc = fc::decode_gid_ft_acc(fc::ct_body(reply.payload));
                if (acc.ok()) {
                  for (size_t i = 0; i < acc->count; ++i)
                    ports.push_back(acc->port_id(i));
                }
              }
            }
            for (fc::FcId id : ports) {
              if (id == port_id()) continue;
              auto it = std::find_if(targets_.begin(), targets_.end(),
                                     [&](const auto& t) { return t->id == id; });
              if (it == targets_.end()) {
                auto t = std::make_unique<Target>();
                t->id = id;
                targets_.push_back(std::move(t));
                it = targets_.end() - 1;
              }
              if ((*it)->state == TargetState::kNew) {
                login_target(static_cast<size_t>(it - targets_.begin()));
              }
            }
            discovering_ = false;
            if (rediscover_) discover();
          });
}

void Host::login_target(size_t index) {
  Target& t = *targets_[index];
  t.state = TargetState::kLoggingIn;
  std::array<uint8_t, 64> req{};
  const size_t n =
      build_ct_iu(fc::make_ns_request(fc::ct_cmd::kGpnId), req,
                  [&](std::span<uint8_t> out) { return fc::encode_ns_port_id(t.id, out); });
  send_ct(fc::kDirectoryServer, std::span<const uint8_t>(req.data(), n),
          [this, index](const ControlReply& reply) {
            Target& target = *targets_[index];
            auto preamble = fc::decode_ct_preamble(reply.payload);
            const bool accepted =
                !reply.timed_out && preamble.ok() && preamble->command_response == fc::ct_cmd::kAcc;
            auto wwpn =
                accepted
                    ? fc::decode_ns_name(fc::ct_body(reply.payload))
                    : fc::WireResult<fc::Wwn>(fc::WireError{fc::WireErrc::kBadValue, "gpn_id", 0});
            if (!wwpn.ok()) {
              target.state = TargetState::kFailed;
              return;
            }
            target.wwpn = wwpn->value;
            port_login(target.id, [this, index](bool ok, uint32_t service_parameters) {
              Target& tg = *targets_[index];
              // Only ports that take the target role in PRLI get commands.
              if (!ok || !(service_parameters & fc::prli_fcp::kTargetFunction)) {
                tg.state = TargetState::kFailed;
                return;
              }
              tg.state = TargetState::kReady;
              report_luns(index);
            });
          });
}

bool Host::logout_target(uint64_t wwpn, std::function<void(bool)> done) {
  for (auto& t : targets_) {
    if (t->wwpn != wwpn || t->state != TargetState::kReady) continue;
    t->state = TargetState::kLoggedOut;
    port_logout(t->id, std::move(done));
    return true;
  }
  return false;
}

void Host::log_in_again(uint64_t wwpn) {
  for (size_t i = 0; i < targets_.size(); ++i) {
    Target& t = *targets_[i];
    if (t.wwpn != wwpn || t.state != TargetState::kLoggedOut) continue;
    t.state = TargetState::kLoggingIn;
    port_login(t.id, [this, i](bool ok, uint32_t service_parameters) {
      Target& tg = *targets_[i];
      if (tg.state != TargetState::kLoggingIn) return;  // the link bounced meanwhile
      // Refused: logged out still, so a later call tries again.
      tg.state = ok && (service_parameters & fc::prli_fcp::kTargetFunction)
                     ? TargetState::kReady
                     : TargetState::kLoggedOut;
    });
  }
}

void Host::report_luns(size_t index) {
  const fc::FcId target = targets_[index]->id;
  run_discovery_command(target, 0, fc::make_report_luns(kReportLunsAllocation),
                        kReportLunsAllocation, [this, index](const ScsiResult& r) {
                          if (r.timed_out || r.status != fc::scsi_status::kGood) {
                            spdlog::warn("{}: REPORT LUNS to {:06x} failed (status {:#x})", name(),
                                         targets_[index]->id.value, r.status);
                            return;
                          }
                          auto list = fc::decode_report_luns(r.data_in);
                          if (!list.ok()) return;
                          for (size_t i = 0; i < list->count; ++i) {
                            auto number = fc::decode_lun(list->lun(i));
                            if (!number.ok()) continue;
                            auto& luns = targets_[index]->luns;
                            if (std::find(luns.begin(), luns.end(), *number) != luns.end())
                              continue;
                            luns.push_back(*number);
                            read_capacity(index, *number);
                          }
                        });
}

void Host::read_capacity(size_t index, uint16_t lun, uint32_t attempt) {
  const fc::FcId target = targets_[index]->id;
  run_discovery_command(
      target, lun, fc::make_read_capacity16(fc::kReadCapacity16DataSize),
      fc::kReadCapacity16DataSize, [this, index, lun, attempt](const ScsiResult& r) {
        if (!r.timed_out && r.status == fc::scsi_status::kCheckCondition && r.has_sense &&
            r.sense.sense_key == fc::sense_key::kUnitAttention &&
            attempt < kMaxUnitAttentionRetries && index < targets_.size()) {
          read_capacity(index, lun, attempt + 1);
          return;
        }
        if (r.timed_out || r.status != fc::scsi_status::kGood) return;
        auto cap = fc::decode_read_capacity16_data(r.data_in);
        if (!cap.ok() || cap->block_length < kStampUnit || cap->block_length % kStampUnit != 0) {
          return;
        }
        DiscoveredLun d;
        d.target = targets_[index]->id;
        d.target_wwpn = targets_[index]->wwpn;
        d.lun = lun;
        d.block_size = cap->block_length;
        d.blocks = cap->last_lba + 1;
        add_job(d);
      });
}

void Host::add_job(const DiscoveredLun& lun) {
  const WorkloadConfig& w = config_.workload;
  if (w.block_size % lun.block_size != 0 || w.lba_start >= lun.blocks) {
    spdlog::warn("{}: LUN {} of {:016x} does not fit the job (block size {}, {} blocks)", name(),
                 lun.lun, lun.target_wwpn, lun.block_size, lun.blocks);
    return;
  }
  // A LUN seen again after a link bounce resumes its job.
  for (auto& j : jobs_) {
    if (j->lun.target_wwpn == lun.target_wwpn && j->lun.lun == lun.lun) {
      // A job over the whole LUN follows it when it grows (a capacity
      // change reported by UNIT ATTENTION, then READ CAPACITY).
      if (w.lba_count == 0 && lun.blocks > j->lun.blocks && lun.block_size == j->lun.block_size)
        j->region_blocks = lun.blocks - w.lba_start;
      j->lun = lun;
      j->active = true;
      if (w.rate_iops > 0 && !j->arrival_scheduled && !stopped_) {
        schedule_arrival(*j);
      } else {
        fill_queue(*j);
      }
      return;
    }
  }
  auto job = std::make_unique<Job>(wwpn(), Rng::derive(rng().next(), "job"));
  job->index = jobs_.size();
  job->lun = lun;
  job->blocks_per_io = w.block_size / lun.block_size;
  job->region_first_lba = w.lba_start;
  const uint64_t room = lun.blocks - w.lba_start;
  job->region_blocks = w.lba_count == 0 ? room : std::min(w.lba_count, room);
  while (slots_.size() < kMaxSlots && slots_.size() < 16 + (jobs_.size() + 1) * w.queue_depth) {
    free_slots_.insert(free_slots_.begin(), static_cast<uint32_t>(slots_.size()));
    slots_.push_back(std::make_unique<IoSlot>());
  }
  if (stats_.workload_started_at == 0) stats_.workload_started_at = kernel().now();
  Job& j = *job;
  jobs_.push_back(std::move(job));
  if (w.rate_iops > 0) {
    schedule_arrival(j);
  } else {
    fill_queue(j);
  }
}

}  // namespace splitpath::sim
