// The switch's fabric services at the well-known addresses:
//  - FF.FF.FE, the F_Port login server: FLOGI (assigns the N_Port ID), FDISC
//    (NPIV), LOGO;
//  - FF.FF.FC, the name server: PLOGI, then the CT requests RPN_ID, RNN_ID,
//    RFT_ID, RFF_ID, GID_FT, GPN_ID, GNN_ID, DA_ID; answers are filtered by zoning;
//  - FF.FF.FD, the fabric controller: SCR, and RSCNs to registered ports when a
//    port they may see comes or goes;
//  - FF.FC.<domain>, this switch's domain controller, where the other switches
//    send their name-server changes.
//
// Name-server changes travel between switches as frames: a registration made
// here is forwarded, as the same CT request, from this domain controller to
// every other one (and a departure as DA_ID), so each switch answers queries for
// the whole fabric from its own replica and nothing is shared between switches
// but frames.
#pragma once

#include <cstdint>
#include <span>

#include "fabric_sim/net/frame.h"
#include "splitpath/fc/ct.h"
#include "splitpath/fc/frame_header.h"

namespace splitpath::sim {

class Switch;

class FabricServices {
 public:
  // Time the switch takes to answer a service request.
  static constexpr SimTime kServiceLatencyNs = 10 * kNsPerUs;

  explicit FabricServices(Switch& sw) : sw_(sw) {}

  // A frame for a well-known address or this domain controller, received on
  // `port`. Takes ownership of `frame`.
  void on_frame(uint32_t port, Frame* frame);
  // The F_Port `port` lost its link: every login through it ends.
  void on_port_down(uint32_t port);
  void logout(fc::FcId id);
  // Registers a virtual target the CP fabricated (an FCP target N_Port at
  // `id`), here and on every other switch, and announces it (RSCN).
  void register_virtual_target(fc::FcId id, uint64_t wwpn, uint64_t wwnn);
  void deregister_virtual_target(fc::FcId id);

 private:
  void handle_login_server(uint32_t port, const fc::FrameHeader& h, std::span<const uint8_t> p);
  void handle_name_server_els(const fc::FrameHeader& h, std::span<const uint8_t> p);
  void handle_fabric_controller(const fc::FrameHeader& h, std::span<const uint8_t> p);
  void handle_ct(const fc::FrameHeader& h, std::span<const uint8_t> p, bool from_switch);
  // Applies a registration CT request to the local database; returns the CT
  // reject explanation, or -1 on success.
  int apply_registration(const fc::CtPreamble& pre, std::span<const uint8_t> body,
                         fc::FcId requester, uint8_t home_domain, bool from_switch);
  void replicate(std::span<const uint8_t> ct_iu);
  void replicate_departure(fc::FcId id);
  void notify_change(fc::FcId affected);
  void send_reply(const fc::FrameHeader& request, uint8_t r_ctl, std::span<const uint8_t> payload);
  void send_els_reply(const fc::FrameHeader& request, std::span<const uint8_t> payload);
  void send_ls_rjt(const fc::FrameHeader& request, uint8_t reason, uint8_t explanation);
  void send_ct_reply(const fc::FrameHeader& request, std::span<const uint8_t> iu);
  void send_frame(const fc::FrameHeader& h, std::span<const uint8_t> payload);

  Switch& sw_;
  uint16_t next_rx_id_ = 1;
};

}  // namespace splitpath::sim
