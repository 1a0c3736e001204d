// A simulated disk: an FCP target with one or more logical units holding real
// data (sparse), a latency and bandwidth model, and fault injection (medium
// errors on LBA ranges, offline/online, added delay) and per-LUN masking by
// initiator WWPN. Every command in
// splitpath/fc/scsi_cdb.h is answered as SPC/SBC require; errors answer CHECK
// CONDITION with the sense key and ASC/ASCQ a real disk would use.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/btree_map.h"
#include "fabric_sim/node/exchange_ids.h"
#include "fabric_sim/node/nport.h"
#include "fabric_sim/node/sparse_store.h"
#include "fabric_sim/topology/topology.h"
#include "splitpath/fc/scsi_cdb.h"
#include "splitpath/fc/scsi_sense.h"

namespace splitpath::sim {

struct DiskStats {
  uint64_t commands = 0;
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t check_conditions = 0;
  uint64_t task_set_full = 0;
  uint64_t aborted = 0;          // tasks ended by ABTS
  uint64_t dropped_offline = 0;  // frames ignored while offline
  uint64_t protocol_errors = 0;
  uint64_t verifies = 0;
  uint64_t write_sames = 0;
  uint64_t unmaps = 0;
  uint64_t compare_and_writes = 0;
  uint64_t miscompares = 0;  // VERIFY and COMPARE AND WRITE that found other data
};

class Disk : public NPort {
 public:
  // The status (and sense) a command ends with.
  struct Outcome;

  Disk(Kernel& kernel, FramePool& pool, const DiskConfig& config, uint64_t seed);
  // Port `port` (1 .. config.more_ports.size()) of a multi-ported disk whose
  // port 0 is `first`: its own N_Port (WWPN more_ports[port - 1].wwpn, the
  // disk's WWNN), task set and media timing, in front of `first`'s LUNs and
  // data (and their medium errors and reservations). `first` must outlive it.
  Disk(Kernel& kernel, FramePool& pool, const DiskConfig& config, uint64_t seed, size_t port,
       Disk& first);
  ~Disk() override;

  const DiskConfig& config() const { return config_; }
  const DiskStats& stats() const { return stats_; }

  // --- Fault injection. ---
  // LBAs [lba, lba + count) of `lun` fail reads and writes with MEDIUM ERROR.
  void add_medium_error(uint16_t lun, uint64_t lba, uint64_t count);
  void clear_medium_errors();
  // Offline: the disk ignores every frame (commands time out at the host).
  void set_offline(bool offline) { offline_ = offline; }
  bool offline() const { return offline_; }
  void set_extra_delay(SimTime delay) { extra_delay_ = delay; }

  // Test access to the stored bytes of a LUN (nullptr if no such LUN).
  const SparseStore* store(uint16_t lun) const;
  // Write access for harnesses that model a storage service copying data
  // between disks at an instant (the torture harness's range moves).
  SparseStore* mutable_store(uint16_t lun);

  // For tests only: breaks the disk's write ordering. A WRITE is acknowledged
  // (FCP_RSP GOOD) `delay` before its data reaches the medium, so a read
  // issued after the acknowledgement can return the old data. 0 (the default):
  // data is on the medium before the acknowledgement.
  void set_late_writes_for_testing(SimTime delay) { late_write_ns_ = delay; }

 protected:
  void on_fcp_frame(const fc::FrameHeader& h, Frame* frame) override;
  void on_abort(fc::FcId peer, uint16_t ox_id) override;
  void on_fabric_lost() override;

 private:
  struct LogicalUnit;
  struct Task;

  // Frame handling and the READ/WRITE data path (disk_io.cc).
  void on_command(const fc::FrameHeader& h, std::span<const uint8_t> payload);
  void on_data_out(const fc::FrameHeader& h, Frame* frame);
  void start_read(Task& task);
  void start_write(Task& task);
  void on_media_done(uint64_t task_index);
  SimTime media_time(uint64_t bytes);
  void send_data_in(Task& task, std::span<const uint8_t> data);
  void send_rsp(Task& task, uint8_t status, const fc::SenseData* sense, uint32_t residual,
                bool under);
  void finish(Task& task);
  Task* task_for(const fc::FrameHeader& h);

  // Everything that is not READ/WRITE (disk_scsi.cc). Fills `data_in` and returns
  // the status (and sense) to send.
  Outcome execute(Task& task, const fc::ScsiCommand& cmd, std::vector<uint8_t>& data_in);
  Outcome check_media_access(const Task& task, const fc::ScsiCommand& cmd) const;
  // VERIFY, WRITE SAME, UNMAP, COMPARE AND WRITE (disk_block_commands.cc): the
  // Data-Out bytes the command takes, and the command run once they are in
  // task.parameters.
  static uint64_t block_command_data_out(const fc::ScsiCommand& cmd, uint32_t block_size);
  Outcome execute_block_command(Task& task);
  void start_block_command(Task& task);
  void on_block_command_done(uint64_t rx_id);
  LogicalUnit* lun(uint16_t number);
  // LUN masking (LunConfig::initiators): whether the initiator at N_Port ID
  // `initiator` may see `lu`, by the WWPN of its PLOGI. To one that may not,
  // the LU does not exist: REPORT LUNS leaves it out and commands addressed to
  // it are answered as for an absent LUN.
  bool visible(const LogicalUnit& lu, fc::FcId initiator) const;

  DiskConfig config_;
  uint64_t device_wwpn_ = 0;  // port 0's WWPN: names the LUs (VPD 0x80, 0x83) on every port
  DiskStats stats_;
  // Shared by every port of a multi-ported disk (one set of LUNs and data).
  std::vector<std::shared_ptr<LogicalUnit>> luns_;
  std::vector<std::unique_ptr<Task>> tasks_;
  ExchangeIds rx_ids_{0x0000, 0xFFFE};  // RX_ID -> index in tasks_
  std::vector<uint32_t> free_tasks_;
  std::vector<uint8_t> scratch_;  // one data-in buffer, reused
  SimTime media_free_at_ = 0;
  SimTime extra_delay_ = 0;
  bool offline_ = false;
  // set_late_writes_for_testing: acknowledged writes not yet on the medium,
  // by the kernel event argument that applies them.
  struct LateWrite {
    LogicalUnit* lu = nullptr;
    uint64_t byte_offset = 0;
    std::vector<uint8_t> data;
  };
  void apply_late_write(uint64_t id);
  SimTime late_write_ns_ = 0;
  absl::btree_map<uint64_t, LateWrite> late_writes_;
  uint64_t next_late_write_ = 0;
};

}  // namespace splitpath::sim
