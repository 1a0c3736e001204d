// Frame headers of the FCP information units, with the F_CTL each one carries
// (FCP-4 table 5), shared by the initiator (Host) and the target (Disk).
#pragma once

#include <cstdint>

#include "splitpath/fc/frame_header.h"

namespace splitpath::sim {

// FCP_CMND: opens the exchange and passes the sequence initiative to the target.
inline constexpr uint32_t kFctlFcpCmnd =
    fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
// FCP_XFER_RDY: from the target, passing the initiative back for the data.
inline constexpr uint32_t kFctlXferRdy =
    fc::fctl::kExchangeContext | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;
// FCP_RSP: the target's last sequence.
inline constexpr uint32_t kFctlFcpRsp = fc::fctl::kExchangeContext | fc::fctl::kLastSequence |
                                        fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;

// One FCP_DATA frame's F_CTL: the relative offset is always present; the last
// frame of a sequence ends it (and the initiator hands back the initiative after
// write data).
constexpr uint32_t fcp_data_fctl(bool from_target, bool last_of_sequence) {
  uint32_t f = fc::fctl::kRelativeOffsetPresent;
  if (from_target) f |= fc::fctl::kExchangeContext;
  if (last_of_sequence) {
    f |= fc::fctl::kEndSequence;
    if (!from_target) f |= fc::fctl::kSequenceInitiative;
  }
  return f;
}

constexpr fc::FrameHeader fcp_header(uint8_t r_ctl, fc::FcId d_id, fc::FcId s_id, uint32_t f_ctl,
                                     uint16_t ox_id, uint16_t rx_id, uint8_t seq_id = 0,
                                     uint16_t seq_cnt = 0, uint32_t parameter = 0) {
  fc::FrameHeader h;
  h.r_ctl = r_ctl;
  h.d_id = d_id;
  h.s_id = s_id;
  h.type = fc::fc_type::kFcp;
  h.f_ctl = f_ctl;
  h.seq_id = seq_id;
  h.seq_cnt = seq_cnt;
  h.ox_id = ox_id;
  h.rx_id = rx_id;
  h.parameter = parameter;
  return h;
}

}  // namespace splitpath::sim
