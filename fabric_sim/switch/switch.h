// A Fibre Channel switch: N ports routing frames by D_ID (domain, area, port),
// the fabric services at the well-known addresses (login server, name server,
// fabric controller: see fabric_services.h), WWPN zoning enforced on ingress
// from N_Ports, and shortest-path routing over ISLs to other domains.
//
// Addresses: an N_Port logging in on port p of domain D gets D.p.00; NPIV
// logins (FDISC) on that port get D.p.01, D.p.02, ...
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "fabric_sim/capture/frame_tap.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/net/frame.h"
#include "fabric_sim/net/link.h"
#include "fabric_sim/switch/name_server_db.h"
#include "fabric_sim/switch/virtualization_stats.h"
#include "fabric_sim/switch/zoning.h"
#include "fabric_sim/topology/topology.h"

namespace splitpath::sim {

class FabricServices;
class SwitchVirtualization;
struct VirtualizationSetup;

enum class PortRole : uint8_t { kUnused, kFPort, kEPort };

struct SwitchPortStats {
  uint64_t rx_frames = 0;
  uint64_t rx_bytes = 0;
  uint64_t drop_zoning = 0;         // no common zone between S_ID and D_ID
  uint64_t drop_no_route = 0;       // D_ID unknown or unreachable
  uint64_t drop_malformed = 0;      // shorter than a frame header
  uint64_t drop_not_logged_in = 0;  // S_ID is not an address this port assigned
  uint64_t drops() const {
    return drop_zoning + drop_no_route + drop_malformed + drop_not_logged_in;
  }
};

// An N_Port logged in through one of this switch's ports.
struct LocalLogin {
  uint32_t port = 0;
  uint64_t wwpn = 0;
  uint64_t wwnn = 0;
};

class Switch {
 public:
  Switch(Kernel& kernel, FramePool& pool, const SwitchConfig& config, const ZoneSet& zones);
  ~Switch();
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  const std::string& name() const { return config_.name; }
  uint8_t domain() const { return config_.domain; }
  uint32_t port_count() const { return static_cast<uint32_t>(ports_.size()); }

  // Plugs `link` (at `side`) into `port`: an F_Port faces a node, an E_Port an ISL.
  void connect(uint32_t port, Link& link, int side, PortRole role);
  // Frames for `domain` leave through one of `ports` (equal-cost ISLs; the
  // exchange picks one, so an exchange's frames stay in order).
  void set_route(uint8_t domain, std::vector<uint32_t> ports);
  const std::vector<uint8_t>& remote_domains() const { return remote_domains_; }

  // Records frames through the ports where selected[port] is true (every port if
  // `selected` is empty): each frame once, when it enters or leaves a selected
  // port, and frames the switch itself sends.
  void set_tap(FrameTap* tap, std::vector<bool> selected);

  // Gives every port an FP and the switch a CP serving the virtual targets of
  // `setup` (the split path); the CP starts at `start_ns`. Frames then enter
  // the FP of their port (switch_virtualization.h). Fails if the FPs or the CP
  // refuse the setup.
  absl::Status enable_virtualization(const VirtualizationSetup& setup, SimTime start_ns = 0);
  SwitchVirtualization* virtualization() const { return virtualization_.get(); }
  // The FPs' and the CP's figures; `enabled` is false without virtualization.
  SwitchVirtualizationStats virtualization_stats() const;

  const SwitchPortStats& port_stats(uint32_t port) const { return ports_[port].stats; }
  PortRole port_role(uint32_t port) const { return ports_[port].role; }
  const Link* port_link(uint32_t port) const { return ports_[port].link; }
  int port_link_side(uint32_t port) const { return ports_[port].side; }

  // --- Used by the fabric services. ---
  Kernel& kernel() { return kernel_; }
  FramePool& pool() { return pool_; }
  NameServerDb& name_server() { return name_server_; }
  const ZoneSet& zones() const { return zones_; }
  absl::btree_map<uint32_t, LocalLogin>& logins() { return logins_; }
  // Routes and sends a frame the switch originates, `delay` after now.
  void send(Frame* frame, SimTime delay);
  // Whether ports with these WWPNs may talk (zoning).
  bool zone_permits(uint64_t wwpn_a, uint64_t wwpn_b) const {
    return zones_.permitted(wwpn_a, wwpn_b);
  }
  // Forgets a login: its routes, its name-server entry (here and, through the
  // services, on every other switch).
  void logout(fc::FcId id);

  // --- Used by the switch's virtualization. ---
  // Routes a frame an FP transmitted out of the switch (port: the FP's).
  void forward_from_fp(uint32_t port, Frame* frame);
  void register_virtual_target(fc::FcId id, uint64_t wwpn, uint64_t wwnn);
  void deregister_virtual_target(fc::FcId id);

 private:
  class Port : public FramePort {
   public:
    void on_frame(Link& link, int side, Frame* frame) override;
    void on_link_state(Link& link, int side, bool up) override;
    Switch* sw = nullptr;
    uint32_t index = 0;
    Link* link = nullptr;
    int side = 0;
    PortRole role = PortRole::kUnused;
    SwitchPortStats stats;
  };

  void ingress(Port& in, Frame* frame);
  // Egress port for `d_id`, or -1 when there is no route.
  int route(fc::FcId d_id, uint16_t ox_id) const;
  bool zoning_allows(fc::FcId s_id, fc::FcId d_id);
  void forward(Port& in, int out, Frame* frame);
  void drop(Port& in, Frame* frame, uint64_t SwitchPortStats::*counter);
  void capture(Frame* frame) { tap_->on_frame(kernel_.now(), frame->data()); }
  bool selected(uint32_t port) const {
    return select_all_ || (port < selected_.size() && selected_[port]);
  }

  Kernel& kernel_;
  FramePool& pool_;
  SwitchConfig config_;
  const ZoneSet& zones_;
  std::vector<Port> ports_;
  std::vector<std::vector<uint32_t>> domain_routes_;  // indexed by domain
  std::vector<uint8_t> remote_domains_;
  absl::btree_map<uint32_t, LocalLogin> logins_;  // ordered: iteration must be deterministic
  NameServerDb name_server_;
  // (S_ID << 24 | D_ID) -> permitted, valid for one name-server generation.
  absl::flat_hash_map<uint64_t, bool> zoning_cache_;
  uint64_t zoning_cache_generation_ = ~0ull;
  FrameTap* tap_ = nullptr;
  bool select_all_ = true;
  std::vector<bool> selected_;
  std::unique_ptr<FabricServices> services_;
  std::unique_ptr<SwitchVirtualization> virtualization_;
};

}  // namespace splitpath::sim
