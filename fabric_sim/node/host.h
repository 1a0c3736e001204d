// A simulated host: an FCP initiator that logs into the fabric, discovers its
// targets and LUNs (GID_FT, PLOGI, PRLI, REPORT LUNS, READ CAPACITY(16)), then
// runs an fio-like job on every LUN it found, stamping each 512-byte unit it
// writes and verifying every unit it reads (see block_stamp.h and
// verify_map.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fabric_sim/node/exchange_ids.h"
#include "fabric_sim/node/latency_histogram.h"
#include "fabric_sim/node/nport.h"
#include "fabric_sim/node/verify_map.h"
#include "fabric_sim/topology/topology.h"
#include "splitpath/fc/scsi.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::sim {

struct HostStats {
  uint64_t ios_completed = 0;  // finished with GOOD status
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t check_conditions = 0;
  uint64_t other_status = 0;  // BUSY, TASK SET FULL, RESERVATION CONFLICT, ...
  uint64_t timeouts = 0;
  uint64_t retries = 0;          // job commands sent again (WorkloadConfig::retries)
  uint64_t protocol_errors = 0;  // frames that break the FCP exchange rules
  // CHECK CONDITIONs with UNIT ATTENTION (job and other commands alike; job
  // commands are sent again), and those reporting CAPACITY DATA HAS CHANGED
  // (the LUN is then sized again with READ CAPACITY).
  uint64_t unit_attentions = 0;
  uint64_t capacity_changes = 0;
  uint64_t verify_errors = 0;
  LatencyHistogram latency;  // command issue to FCP_RSP, GOOD commands only
  LatencyHistogram read_latency;
  LatencyHistogram write_latency;
  SimTime workload_started_at = 0;
};

// A command that ended with something other than GOOD, for reports and tests.
struct FailedCommand {
  SimTime at = 0;
  std::string target;  // WWPN as text
  uint16_t lun = 0;
  bool write = false;
  uint64_t lba = 0;
  uint32_t blocks = 0;
  uint8_t status = 0;  // SCSI status; 0xFF: timeout
  uint8_t sense_key = 0;
  uint8_t asc = 0;
  uint8_t ascq = 0;
};

// How a command sent with Host::submit_command ended.
struct ScsiResult {
  bool timed_out = false;
  uint8_t status = 0;  // SCSI status (meaningless when timed_out)
  bool has_sense = false;
  fc::SenseData sense;
  std::vector<uint8_t> sense_bytes;  // the FCP_RSP's sense data as sent (has_sense: it decoded)
  uint32_t residual = 0;             // FCP_RSP residual
  bool underrun = false;             // FCP_RESID_UNDER
  bool overrun = false;              // FCP_RESID_OVER
  std::vector<uint8_t> data_in;      // what the target sent
  uint32_t data_out_sent = 0;        // data-out bytes sent, as the target's XFER_RDYs asked
};

// A LUN the host found and runs its job on.
struct DiscoveredLun {
  fc::FcId target;
  uint64_t target_wwpn = 0;
  uint16_t lun = 0;
  uint32_t block_size = 0;
  uint64_t blocks = 0;
};

class Host : public NPort {
 public:
  Host(Kernel& kernel, FramePool& pool, const HostConfig& config, uint64_t seed);
  ~Host() override;

  const HostConfig& config() const { return config_; }
  const HostStats& stats() const { return stats_; }
  const std::vector<FailedCommand>& failed_commands() const { return failed_; }
  std::vector<DiscoveredLun> luns() const;
  // What this host's job on its `index`th LUN (the order of luns()) wrote and
  // had acknowledged, for tests that check the disks; null if no such job.
  const VerifyMap* job_verify_map(size_t index) const;
  // The N_Port ID of the target with WWPN `wwpn` once this host has logged in to
  // it (PLOGI and PRLI accepted, target role), FcId{0} before or otherwise. The
  // trace replay (fabric_sim/replay/) addresses commands through it.
  fc::FcId target_port(uint64_t wwpn) const;
  // Sends one SCSI command outside the job (discovery, tests, tools): `cdb` as
  // given, `data_out` offered on XFER_RDY, up to `data_in_length` bytes
  // accepted. `done` runs on FCP_RSP or after the I/O timeout. Returns false if
  // the host is not logged in or has no free exchange.
  using ScsiDone = std::function<void(const ScsiResult&)>;
  bool submit_command(fc::FcId target, uint16_t lun, std::span<const uint8_t> cdb,
                      uint32_t data_in_length, std::vector<uint8_t> data_out, ScsiDone done);
  // Sends an FCP task management function (`flags`: fc::fcp_tmf, e.g.
  // LOGICAL UNIT RESET, TARGET RESET) to `lun` of `target`; `done` as for
  // submit_command (the FCP_RSP's status, or a timeout).
  bool submit_task_management(fc::FcId target, uint16_t lun, uint8_t flags, ScsiDone done);
  // Ends this host's I_T nexus with the target `wwpn` (FC LOGO; the target
  // then drops what the nexus held, such as a SCSI-2 reservation): commands to
  // it are refused from now on, until log_in_again. `done(accepted)` runs on
  // the LS_ACC (or LS_RJT, or after the control timeout). False, and `done`
  // never runs, if the host is not logged in to that target.
  bool logout_target(uint64_t wwpn, std::function<void(bool)> done);
  // Logs in again (PLOGI, PRLI) to the target `wwpn` after logout_target; its
  // LUNs are those found before. Does nothing if it is not logged out.
  void log_in_again(uint64_t wwpn);
  // Stops issuing new commands (outstanding ones still complete).
  void stop_workload() { stopped_ = true; }
  size_t outstanding() const { return outstanding_; }

 protected:
  void on_fabric_ready() override;
  void on_fabric_lost() override;
  void on_fcp_frame(const fc::FrameHeader& h, Frame* frame) override;
  void on_state_change() override;

 private:
  struct Job;
  struct IoSlot;
  struct Target;

  // Discovery (host_discovery.cc).
  void discover();
  void login_target(size_t index);
  void report_luns(size_t index);
  // `attempt`: a READ CAPACITY that met a unit attention is sent again.
  void read_capacity(size_t index, uint16_t lun, uint32_t attempt = 0);
  // A discovery command through submit_command.
  bool start_command(fc::FcId target, uint16_t lun, std::span<const uint8_t> cdb,
                     uint32_t data_in_length, std::vector<uint8_t> data_out, uint8_t tmf_flags,
                     ScsiDone done);
  void run_discovery_command(fc::FcId target, uint16_t lun, const fc::ScsiCommand& cmd,
                             uint32_t alloc_len, ScsiDone done);
  IoSlot* take_slot(fc::FcId target);
  void release_slot(IoSlot& slot);
  void add_job(const DiscoveredLun& lun);

  // The job engine (host_io.cc).
  void schedule_arrival(Job& job);
  void on_arrival(uint64_t job_index);
  void fill_queue(Job& job);
  bool issue(Job& job);
  void on_io_timeout(uint64_t ox_id);
  void on_xfer_rdy(IoSlot& slot, const fc::FrameHeader& h, Frame* frame);
  void on_data_in(IoSlot& slot, const fc::FrameHeader& h, Frame* frame);
  void on_rsp(IoSlot& slot, const fc::FrameHeader& h, Frame* frame);
  void send_command(IoSlot& slot);  // the job command `slot` holds, on its exchange
  // Whether a job command ending so is sent again (WorkloadConfig::retries).
  bool retryable(const IoSlot& slot, uint8_t status, const fc::SenseData* sense) const;
  // A CHECK CONDITION's sense: counts a UNIT ATTENTION, and on CAPACITY DATA
  // HAS CHANGED reads the LUN's capacity again.
  void on_unit_attention(IoSlot& slot, const fc::SenseData& sense);
  void retry(IoSlot& slot);
  void finish(IoSlot& slot, uint8_t status, const fc::SenseData* sense);
  void send_abts(IoSlot& slot);
  IoSlot* slot_for(const fc::FrameHeader& h);

  HostConfig config_;
  HostStats stats_;
  std::vector<FailedCommand> failed_;
  std::vector<std::unique_ptr<Target>> targets_;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::vector<std::unique_ptr<IoSlot>> slots_;
  ExchangeIds ox_ids_;  // OX_ID -> index in slots_
  std::vector<uint32_t> free_slots_;
  size_t outstanding_ = 0;
  uint64_t next_generation_ = 1;
  bool stopped_ = false;
  bool discovering_ = false;
  bool rediscover_ = false;
};

}  // namespace splitpath::sim
