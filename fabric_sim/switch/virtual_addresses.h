// The switch's address plan for virtualization. Physical N_Ports get
// D.p.00 - D.p.7F (FLOGI, then FDISC); the rest is the switch's own:
// - D.p.FF: the virtual initiator of port p's FP, the source of every
//   downstream I/O that FP dispatches;
// - D.FF.80 - D.FF.FE: virtual targets the CP fabricates.
// Frames for these addresses go to an FP, never out of a port directly.
#pragma once

#include <cstdint>

#include "splitpath/fc/wire.h"

namespace splitpath::sim {

inline constexpr uint32_t kMaxNPortIdsPerPort = 0x80;  // port bytes 00 - 7F
inline constexpr uint8_t kVirtualInitiatorPortByte = 0xFF;
inline constexpr uint8_t kVirtualTargetArea = 0xFF;
inline constexpr uint8_t kFirstVirtualTargetPortByte = 0x80;
inline constexpr uint32_t kMaxVirtualTargets = 0xFF - kFirstVirtualTargetPortByte;  // 127

constexpr bool is_fabric_domain(fc::FcId id) {
  return id.domain() >= 1 && id.domain() <= 239;
}
constexpr fc::FcId virtual_initiator_id(uint8_t domain, uint32_t port) {
  return fc::FcId::from_parts(domain, static_cast<uint8_t>(port), kVirtualInitiatorPortByte);
}
constexpr bool is_virtual_initiator_id(fc::FcId id) {
  return is_fabric_domain(id) && id.port() == kVirtualInitiatorPortByte;
}
constexpr fc::FcId virtual_target_id(uint8_t domain, uint32_t index) {
  return fc::FcId::from_parts(domain, kVirtualTargetArea,
                              static_cast<uint8_t>(kFirstVirtualTargetPortByte + index));
}
constexpr bool is_virtual_target_id(fc::FcId id) {
  return is_fabric_domain(id) && id.area() == kVirtualTargetArea &&
         id.port() >= kFirstVirtualTargetPortByte && id.port() < kVirtualInitiatorPortByte;
}
constexpr bool is_virtual_id(fc::FcId id) {
  return is_virtual_initiator_id(id) || is_virtual_target_id(id);
}

}  // namespace splitpath::sim
