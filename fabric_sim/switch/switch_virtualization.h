// A switch's split path: a port FP (PortFp: port ASIC plus firmware) on every
// port and the switch's CP (cp::ControlPath), and the CpEnvironment the CP
// runs on: kernel time, FP API messages through the port mailboxes with their
// latency, frames into the switch, virtual-target registration with the name
// server.
//
// Frame steering (virtual_addresses.h):
// - a frame for the virtual initiator D.p.FF of a local port goes to FP p;
// - every other frame entering port q goes to FP q, which handles virtual
//   targets and switches physical D_IDs transparently;
// - frames the FPs transmit are routed by D_ID like any other (no zoning: the
//   ingress port checked them), and the CP's frames leave like the fabric
//   services'.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cp/control_path.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/net/frame.h"
#include "fabric_sim/switch/port_fp.h"
#include "fabric_sim/switch/virtualization_stats.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

class Switch;

// What the fabric hands a virtualizing switch: its CP's metadata and the FP
// and CP settings of the topology.
struct VirtualizationSetup {
  FpSettings fp;
  CpSettings cp;
  std::vector<cp::VolumeDef> volumes;
  std::vector<cp::VirtualTargetDef> targets;
  uint64_t seed = 1;
  // The CP's configuration: the topology's cp settings, and fault_every_io
  // when the FPs are disabled.
  cp::CpConfig cp_config;
  // For tests: changes the port FPs' firmware configuration before they start.
  std::function<void(fp::FastPathConfig&)> adjust_fp_config;
};

class SwitchVirtualization final : public cp::CpEnvironment, public PortFpOwner {
 public:
  // Builds the FPs and the CP and loads the metadata; fails with a message if
  // the settings or the metadata are refused.
  static absl::StatusOr<std::unique_ptr<SwitchVirtualization>> create(
      Switch& sw, const VirtualizationSetup& setup);
  ~SwitchVirtualization() override;

  // Starts the CP (at the time of the call).
  void start();
  // A frame that entered port `port` and passed the switch's ingress checks.
  void ingress(uint32_t port, Frame* frame);
  // What the fabric controller's RSCNs announce: an N_Port came, registered
  // or went. The CP hears of it as a registered port of the fabric would.
  void on_fabric_change(fc::FcId port_id) { cp_->on_fabric_change(port_id.value); }

  cp::ControlPath& control_path() { return *cp_; }
  const PortFp& port_fp(uint32_t port) const { return *fps_[port]; }
  SwitchVirtualizationStats stats() const;

  // cp::CpEnvironment
  uint64_t now_ns() const override;
  void schedule(uint64_t delay_ns, std::function<void()> fn) override;
  uint8_t domain() const override;
  uint32_t fp_port_count() const override;
  uint32_t virtual_initiator(uint32_t port) const override;
  void send_to_fp(uint32_t port, fpapi::MsgType type, std::span<const uint8_t> payload) override;
  void send_frame(std::span<const uint8_t> frame) override;
  void register_virtual_target(uint32_t port_id, uint64_t wwpn, uint64_t wwnn) override;
  void deregister_virtual_target(uint32_t port_id) override;
  std::optional<uint32_t> find_port_id(uint64_t wwpn) const override;

  // PortFpOwner
  bool route_from_fp(uint32_t port, std::span<const uint8_t> frame) override;
  void on_fp_message(uint32_t port, uint32_t type, std::span<const uint8_t> payload) override;

 private:
  explicit SwitchVirtualization(Switch& sw) : sw_(sw) {}
  void run_scheduled(uint64_t id);
  // The local port whose virtual initiator `d_id` is, or -1.
  int virtual_initiator_port(fc::FcId d_id) const;

  Switch& sw_;
  std::vector<std::unique_ptr<PortFp>> fps_;
  std::unique_ptr<cp::ControlPath> cp_;
  // The CP's scheduled work, by kernel event argument (ordered: deterministic).
  std::map<uint64_t, std::function<void()>> scheduled_;
  uint64_t next_scheduled_ = 0;
};

}  // namespace splitpath::sim
