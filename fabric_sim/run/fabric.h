// A whole simulated fabric built from a Topology: the kernel, the frame pool,
// switches, links, hosts, disks, the capture and the fault schedule; and one run
// of it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cp/control_path.h"
#include "fabric_sim/capture/frame_tap.h"
#include "fabric_sim/capture/pcap_writer.h"
#include "fabric_sim/cluster/dve_network.h"
#include "fabric_sim/cluster/sim_dve.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/net/frame.h"
#include "fabric_sim/net/link.h"
#include "fabric_sim/node/disk.h"
#include "fabric_sim/node/host.h"
#include "fabric_sim/run/replication_site.h"
#include "fabric_sim/switch/switch.h"
#include "fabric_sim/switch/zoning.h"
#include "fabric_sim/topology/topology.h"
#include "fp_firmware/fast_path.h"

namespace splitpath::sim {

struct FabricOptions {
  std::string pcap_path;                // empty: no capture
  std::vector<std::string> pcap_ports;  // "switch:port"; empty: every port
  // After the workload window, time allowed for outstanding commands to finish.
  SimTime drain_ns = 0;  // 0: the largest host I/O timeout plus a margin
  // For tests: changes each switch CP's configuration before it is built
  // (e.g. to disable a mechanism and show that a test notices).
  std::function<void(cp::CpConfig&)> adjust_cp_config;
  // For tests: the same for every port FP's firmware configuration.
  std::function<void(fp::FastPathConfig&)> adjust_fp_config;
};

// What became of one scheduled data service (topology `services`), for the
// run report; the CP's own records (migrations(), snapshots()) give the rest.
struct ServiceOutcome {
  enum class State : uint8_t { kScheduled, kRefused, kRunning, kDone, kFailed };
  State state = State::kScheduled;
  std::string error;  // kRefused, kFailed
  SimTime started_ns = 0;
  SimTime finished_ns = 0;  // kDone, kFailed: migrated, snapshot taken, incremental made
  const cp::ControlPath* cp = nullptr;
  uint32_t migration_id = 0;
};

const char* service_state_name(ServiceOutcome::State state);

class Fabric {
 public:
  // Builds the fabric; fails with a message naming the bad option (capture file,
  // capture port) — the topology itself is validated when it is parsed.
  static absl::StatusOr<std::unique_ptr<Fabric>> build(const Topology& topology,
                                                       const FabricOptions& options);
  ~Fabric();

  // Runs the workload window (topology.duration_ns), stops the hosts' jobs, lets
  // outstanding commands finish, and closes the capture.
  absl::Status run();
  // Runs the kernel until `t` (for tests that step through a run).
  void run_until(SimTime t) { kernel_.run_until(t); }

  const Topology& topology() const { return topology_; }
  Kernel& kernel() { return kernel_; }
  FramePool& pool() { return pool_; }
  const std::vector<std::unique_ptr<Switch>>& switches() const { return switches_; }
  const std::vector<std::unique_ptr<Host>>& hosts() const { return hosts_; }
  const std::vector<std::unique_ptr<Disk>>& disks() const { return disks_; }
  Host* host(const std::string& name) const;
  Disk* disk(const std::string& name) const;
  // Ports 1, 2, ... of multi-ported disks (DiskConfig::more_ports), each a Disk
  // in front of its port 0's LUNs; disks() holds the ports 0.
  const std::vector<std::unique_ptr<Disk>>& more_disk_ports() const { return more_disk_ports_; }
  // Every port of disk `disk_name` (port 0 first); empty if no such disk.
  std::vector<Disk*> ports_of(const std::string& disk_name) const;
  Switch* switch_named(const std::string& name) const;
  // The link of a node, or the link plugged into "switch:port".
  Link* link_of(const std::string& target) const;
  // Per topology().services entry.
  const std::vector<ServiceOutcome>& service_outcomes() const { return service_outcomes_; }
  // Per topology().replications entry: its remote array (null until it
  // started), and why it was refused ("" if it was not).
  const ReplicationSite* replication_site(size_t index) const {
    return index < replication_sites_.size() ? replication_sites_[index].get() : nullptr;
  }
  const std::string& replication_error(size_t index) const { return replication_errors_[index]; }
  // The DVE cluster of the switches serving shared volumes (null if none).
  DveNetwork* dve_network() const { return dve_network_.get(); }
  cp::cluster::Storehouse* storehouse() const { return storehouse_.get(); }
  // The switch loses power (the `dve_crash` fault): its DVE stops, so its
  // lease lapses and a peer evicts it, and every link of it goes down.
  void crash_dve(Switch& sw);
  uint64_t captured_frames() const { return capture_ ? capture_->frames_written() : 0; }
  // Simulated time the workload ran (the topology's duration).
  SimTime workload_ns() const { return topology_.duration_ns; }

 private:
  class CaptureTap;

  explicit Fabric(const Topology& topology);
  absl::Status wire(const FabricOptions& options);
  void compute_routes();
  // The switches serving shared volumes become DVEs of one cluster: the
  // coherency network between them, the global storehouse.
  void build_cluster();
  void apply_fault(uint64_t index);
  // data_services.cc: starts topology_.services[index] on the CP of its
  // volume's switch, and logs its progress every 10%.
  void start_service(uint64_t index);
  void start_migration(const MigrateConfig& migrate, uint64_t index);
  void start_snapshots(const std::vector<SnapshotConfig>& group, uint64_t index);
  void start_incremental(const IncrementalConfig& incremental, uint64_t index);
  // grow, split or merge (LV reconfiguration).
  void start_reconfig(const ServiceConfig& service, uint64_t index);
  void start_mirror_side(const ServiceConfig& service, uint64_t index);
  // topology_.replications[index] on its switch's CP, with its remote array.
  void start_replication(uint64_t index);
  // The CP serving `volume`, or nullptr (the service is then refused).
  cp::ControlPath* service_cp(const std::string& volume, uint64_t index);
  void refuse_service(uint64_t index, const std::string& error);
  // The completion callback of a service: done or failed, logged.
  std::function<void(bool)> service_done(uint64_t index, std::string what);
  // Logs a migration's or a snapshot sweep's progress every 10% until it ends.
  void watch_service(uint64_t index);
  void watch_sweep(uint64_t index);

  Topology topology_;
  Kernel kernel_;
  FramePool pool_;
  ZoneSet zones_;
  std::vector<std::unique_ptr<Switch>> switches_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::vector<std::unique_ptr<Disk>> disks_;
  std::vector<std::unique_ptr<Disk>> more_disk_ports_;
  std::unique_ptr<PcapWriter> capture_;
  std::unique_ptr<CaptureTap> tap_;
  SimTime drain_ns_ = 0;
  std::vector<ServiceOutcome> service_outcomes_;  // per topology_.services entry
  std::vector<int> service_logged_tenths_;        // progress logged so far
  std::vector<std::unique_ptr<ReplicationSite>> replication_sites_;
  std::vector<std::string> replication_errors_;
  std::unique_ptr<DveNetwork> dve_network_;
  std::unique_ptr<cp::cluster::Storehouse> storehouse_;
  std::vector<std::unique_ptr<SimDveEnvironment>> dve_envs_;
};

}  // namespace splitpath::sim
