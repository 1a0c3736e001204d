// Link services of the CP's virtual N_Ports, as pure frame builders and parsers.
// A frame is the 24-byte FC header followed by the payload (no SOF/EOF, no CRC).
//
// As a virtual target the CP answers the ELS requests hosts send it (PLOGI,
// PRLI, LOGO, PRLO, ADISC) and ABTS; as a virtual initiator it logs into physical
// disks with PLOGI and PRLI and reads their replies. Login state is the
// caller's: answer_els reports what a request did, and the caller may instead
// refuse it with make_els_reject (for instance PRLI before PLOGI).
//
// Reply headers: D_ID = the request's S_ID, S_ID = the request's D_ID, same
// OX_ID; RX_ID = the request's RX_ID if assigned, else kElsResponderRxId. A
// reply ends its exchange, so the RX_ID is never referenced again and needs no
// bookkeeping. F_CTL = kFctlResponderLast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "splitpath/fc/frame_header.h"

namespace splitpath::cp {

// RX_ID of replies to requests that left it unassigned (0xFFFF).
inline constexpr uint16_t kElsResponderRxId = 0x0001;

// F_CTL of a frame the exchange responder sends as the last frame of the last
// sequence: exchange context (responder), last sequence, end sequence, sequence
// initiative (as the simulator's N_Ports send them).
inline constexpr uint32_t kFctlResponderLast = fc::fctl::kExchangeContext |
                                               fc::fctl::kLastSequence | fc::fctl::kEndSequence |
                                               fc::fctl::kSequenceInitiative;
// F_CTL of a single-frame request opening an exchange: first sequence, end
// sequence, sequence initiative to the responder.
inline constexpr uint32_t kFctlOriginatorFirst =
    fc::fctl::kFirstSequence | fc::fctl::kEndSequence | fc::fctl::kSequenceInitiative;

// ADISC (FC-LS-3), not in include/splitpath/fc/els.h: 28 bytes, 5..7 hard
// address, 8..15 port name, 16..23 node name, 25..27 N_Port ID; its LS_ACC has
// the same layout with the responder's values.
inline constexpr uint8_t kElsAdisc = 0x52;
inline constexpr size_t kAdiscSize = 28;

struct ElsAnswer {
  std::vector<uint8_t> reply_frame;  // empty: nothing to send (see answer_els)
  uint8_t command = 0;               // the request's ELS command code; 0 if unreadable
  uint64_t initiator_wwpn = 0;       // port name from an accepted PLOGI
  bool accepted = false;             // the reply is an LS_ACC
  bool logged_in = false;            // PLOGI accepted
  bool logged_out = false;           // LOGO or PRLO accepted
  uint8_t reject_reason = 0;         // with an LS_RJT: fc::ls_rjt_reason::
  uint8_t reject_explanation = 0;    // with an LS_RJT: fc::ls_rjt_explanation::
};

// Answers an ELS request to the virtual N_Port named `wwpn`/`wwnn`:
//   PLOGI -> LS_ACC with our service parameters (class 3, receive data field
//     size 2048);
//   PRLI with an FCP page -> LS_ACC, FCP page: target function, no initiator
//     function, READ FCP_XFER_RDY disabled, response code "request executed";
//   LOGO, PRLO, ADISC -> LS_ACC;
//   any other command -> LS_RJT "command not supported".
// A malformed request gets an LS_RJT saying why: payload too short for its
// command (protocol error, invalid payload length); PLOGI without class 3
// (logical error, service parameter options), with a receive data field size
// outside 256..2112 (logical error, receive data field size) or without a port
// name (logical error, invalid N_Port name); PRLI/PRLO without an FCP page
// (unable to perform, request not supported); optional headers announced in
// DF_CTL (protocol error). No reply (empty reply_frame) to a frame shorter than
// a header, or that is not an ELS request (R_CTL 0x22, TYPE 0x01): replying to
// a reply could loop.
ElsAnswer answer_els(std::span<const uint8_t> request_frame, uint64_t wwpn, uint64_t wwnn);

// An LS_RJT reply to `request_frame` (empty if it has no full header).
std::vector<uint8_t> make_els_reject(std::span<const uint8_t> request_frame, uint8_t reason,
                                     uint8_t explanation);

// Answers ABTS (R_CTL 0x81, TYPE 0x00) with BA_ACC (R_CTL 0x84): the whole
// exchange named by the ABTS's OX_ID/RX_ID is aborted (SEQ_ID not valid, SEQ_CNT
// 0..0xFFFF); header OX_ID/RX_ID as in the ABTS, exchange context the opposite of
// the ABTS's. An ABTS with OX_ID 0xFFFF names no exchange: BA_RJT (R_CTL 0x85),
// invalid OX_ID-RX_ID combination. Anything that is not an ABTS: empty.
std::vector<uint8_t> answer_abts(std::span<const uint8_t> abts_frame);

// Requests a virtual initiator sends to log into a physical disk. RX_ID
// unassigned, F_CTL kFctlOriginatorFirst.
std::vector<uint8_t> make_plogi(uint32_t s_id, uint32_t d_id, uint16_t ox_id, uint64_t wwpn,
                                uint64_t wwnn);
// PRLI with one FCP page: establish image pair, initiator function, READ
// FCP_XFER_RDY disabled.
std::vector<uint8_t> make_prli_initiator(uint32_t s_id, uint32_t d_id, uint16_t ox_id);
// LOGO naming our N_Port ID `s_id` and port name `wwpn`.
std::vector<uint8_t> make_logo(uint32_t s_id, uint32_t d_id, uint16_t ox_id, uint64_t wwpn);

struct ElsReply {
  bool accepted = false;           // see parse_els_reply
  uint8_t code = 0;                // the reply's ELS command code (kAcc, kLsRjt); 0: no ELS reply
  uint16_t ox_id = 0xFFFF;         // to match the reply with its request
  uint8_t reject_reason = 0;       // LS_RJT
  uint8_t reject_explanation = 0;  // LS_RJT
  uint64_t port_name = 0;          // PLOGI LS_ACC
  uint64_t node_name = 0;          // PLOGI LS_ACC
  uint32_t fcp_service_parameters = 0;  // PRLI LS_ACC: fc::prli_fcp::
  uint8_t prli_response_code = 0;       // PRLI LS_ACC: fc::prli_response::
};

// Reads the reply to a request this side sent. accepted: the frame is an ELS
// reply (R_CTL 0x23, TYPE 0x01) carrying LS_ACC, and, if `request_command` is
// given, an ACC of that request: for fc::els_cmd::kPlogi valid service
// parameters (port_name, node_name filled); for kPrli an FCP page with response
// code "request executed" (fcp_service_parameters filled). Never fails: garbage
// gives accepted = false.
ElsReply parse_els_reply(std::span<const uint8_t> frame, uint8_t request_command = 0);

}  // namespace splitpath::cp
