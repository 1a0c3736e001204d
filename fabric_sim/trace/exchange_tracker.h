// Groups the frames of a trace into exchanges and decodes what each frame says,
// with the project's wire codecs (include/splitpath/fc/).
//
// An exchange is keyed by (originator S_ID, responder D_ID, OX_ID): a frame with
// F_CTL Exchange Context set comes from the responder, so its S_ID and D_ID are
// swapped to find the key. The responder's RX_ID is learnt from its frames. A
// command (FCP_CMND, an ELS or CT request) starts a new exchange, closing any
// earlier one under the same key (OX_ID reuse); ABTS starts one only if nothing
// is open under its key. A frame that belongs to no exchange is reported as an
// "exchange missing its command" (the capture began in the middle of it) and
// counted; its own content is decoded all the same. The ACC to FLOGI/FDISC goes
// to the address the fabric just assigned, so a responder frame that matches no
// exchange is also looked up with originator 00.00.00.
//
// Single-threaded; nothing throws. Exchanges are kept for the whole trace (a few
// hundred bytes each).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "fabric_sim/trace/trace_reader.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/scsi_lun.h"

namespace splitpath::sim::trace {

// What a frame is, from R_CTL and TYPE. Names (frame_kind_name) are the "kind"
// values of `splitpath decode --json`.
enum class FrameKind : uint8_t {
  kUndecoded,    // the FC header could not be decoded
  kFcpCmnd,      // TYPE 0x08, R_CTL 0x06
  kFcpXferRdy,   // R_CTL 0x05
  kFcpData,      // R_CTL 0x01
  kFcpRsp,       // R_CTL 0x07
  kFcpOther,     // TYPE 0x08, any other R_CTL
  kEls,          // TYPE 0x01: request (R_CTL 0x22) or reply (0x23)
  kCt,           // TYPE 0x20: request (R_CTL 0x02) or response (0x03)
  kBls,          // R_CTL 0x8x: ABTS, BA_ACC, BA_RJT
  kLinkControl,  // R_CTL 0xCx: ACK, P_RJT, F_BSY, ...
  kOther,
};
const char* frame_kind_name(FrameKind kind);

enum class ExchangeKind : uint8_t { kFcp, kEls, kCt, kBls, kOther };
const char* exchange_kind_name(ExchangeKind kind);

// What a frame says, in fields that copy as plain bytes, so that a record
// reused frame after frame resets in a few stores (FrameInfo::reset).
struct FrameFields {
  uint64_t number = 0;
  uint64_t time_ns = 0;
  FrameKind kind = FrameKind::kUndecoded;
  fc::FrameHeader header;     // valid unless kind == kUndecoded
  uint32_t payload_size = 0;  // payload bytes on the wire (header excluded)
  uint64_t exchange = 0;      // Exchange::id, 0 when the frame belongs to none
  bool from_responder = false;
  bool orphan = false;        // reported as an exchange missing its command
  bool continuation = false;  // ELS/CT: not the first frame of its sequence

  // FCP_CMND.
  std::optional<uint16_t> lun;             // single-level LUN number, when it decodes
  std::optional<uint8_t> task_management;  // nonzero TMF byte: no CDB
  std::optional<uint8_t> opcode;
  std::optional<uint64_t> lba;              // READ/WRITE(6/10/12/16), SYNCHRONIZE CACHE
  std::optional<uint32_t> transfer_length;  // blocks, same commands
  std::optional<uint32_t> fcp_dl;
  // FCP_XFER_RDY and FCP_DATA.
  std::optional<uint32_t> relative_offset;
  std::optional<uint32_t> burst_length;
  std::optional<uint32_t> data_bytes;  // FCP_DATA payload minus fill bytes
  // FCP_RSP.
  std::optional<uint8_t> status;
  std::optional<uint8_t> sense_key;
  std::optional<uint8_t> asc;
  std::optional<uint8_t> ascq;
  std::optional<int64_t> residual;  // positive: under-run, negative: over-run
  std::optional<uint8_t> rsp_code;
  std::optional<uint64_t> latency_ns;  // response time after the FCP_CMND
  // ELS: command code of this frame (requests) or 0x02 ACC / 0x01 LS_RJT (replies);
  // request: for a reply, the command it answers. CT: command or response code.
  std::optional<uint8_t> els;
  std::optional<uint16_t> ct;
  std::optional<uint16_t> request;
  uint8_t gs_type = 0;     // CT: 0xFC directory service, 0xFA management service, ...
  uint8_t gs_subtype = 0;  // CT: 0x02 name server under 0xFC
  std::optional<uint8_t> reject_reason;
  std::optional<uint8_t> reject_explanation;
  // Link layer (225 and FCoE).
  CrcCheck crc = CrcCheck::kAbsent;
  int vlan = -1;
  bool fip = false;  // carried by FIP (FLOGI, FDISC, LOGO over FCoE)
};
static_assert(std::is_trivially_copyable_v<FrameFields>);

// One frame, decoded; a line of the listing. Optional fields are set when the
// frame carries them.
struct FrameInfo : FrameFields {
  std::string cdb_error;  // why the CDB codec did not decode the CDB (e.g. WRITE SAME)
  std::string sof;        // link layer (225 and FCoE): delimiter names
  std::string eof;
  // A decode problem of this frame (also in ExchangeTracker::problems()), or a
  // remark such as an OX_ID reuse.
  std::string note;

  // As if default-constructed, keeping the strings' storage.
  void reset() {
    static constexpr FrameFields kBlank{};
    std::memcpy(static_cast<FrameFields*>(this), &kBlank, sizeof kBlank);
    cdb_error.clear();
    sof.clear();
    eof.clear();
    note.clear();
  }
};

enum class ExchangeState : uint8_t {
  kOpen,        // no response yet (at the end of the trace: incomplete)
  kComplete,    // FCP_RSP, ELS/CT reply or BA_ACC/BA_RJT seen
  kAborted,     // ABTS seen before any response
  kSuperseded,  // its key was reused by a new command before any response
};
const char* exchange_state_name(ExchangeState state);

struct Exchange {
  uint64_t id = 0;  // 1-based, in the order the exchanges start
  ExchangeKind kind = ExchangeKind::kOther;
  ExchangeState state = ExchangeState::kOpen;
  fc::FcId originator;
  fc::FcId responder;
  uint16_t ox_id = fc::kUnassignedXid;
  uint16_t rx_id = fc::kUnassignedXid;
  uint64_t first_frame = 0;
  uint64_t last_frame = 0;
  uint64_t frames = 0;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;

  // FCP.
  fc::ScsiLun lun;
  std::optional<uint16_t> lun_number;
  bool cmnd_decoded = false;
  uint8_t task_management = 0;
  std::optional<uint8_t> opcode;
  std::optional<uint64_t> lba;
  std::optional<uint32_t> transfer_length;
  uint32_t fcp_dl = 0;
  uint64_t data_in = 0;   // FCP_DATA bytes from the responder (read data)
  uint64_t data_out = 0;  // FCP_DATA bytes from the originator (write data)
  uint32_t xfer_rdy = 0;
  std::optional<uint8_t> status;
  std::optional<uint8_t> sense_key;
  std::optional<uint8_t> asc;
  std::optional<uint8_t> ascq;
  std::optional<int64_t> residual;
  std::optional<uint64_t> latency_ns;

  // ELS, CT, BLS: the request's command code (BLS: the R_CTL, 0x81 for ABTS) and
  // the reply's code (ELS 0x02/0x01, CT 0x8002/0x8001, BLS R_CTL 0x84/0x85).
  uint16_t command = 0;
  std::optional<uint16_t> reply;
  uint8_t gs_type = 0;  // CT
  uint8_t gs_subtype = 0;
  bool abort_answered = false;  // BA_ACC/BA_RJT to an ABTS of this exchange
};

class ExchangeTracker {
 public:
  // Decodes `frame`, files it under its exchange and returns what it said.
  FrameInfo add(const TraceFrame& frame);
  // The same into `info` (reset first): a reader of millions of frames reuses
  // one record instead of building and freeing one per frame.
  void add(const TraceFrame& frame, FrameInfo& info);

  const std::vector<Exchange>& exchanges() const { return exchanges_; }
  // Decode problems and exchanges missing their command, in frame order.
  const std::vector<TraceProblem>& problems() const { return problems_; }
  uint64_t orphan_frames() const { return orphan_frames_; }
  uint64_t undecoded_frames() const { return undecoded_frames_; }

 private:
  struct Side {
    int seq_id = -1;           // SEQ_ID of the last frame from this side
    bool in_sequence = false;  // that frame did not end its sequence
  };
  struct Open {
    size_t index = 0;  // into exchanges_
    Side side[2];      // [0] originator, [1] responder
  };
  static uint64_t key(fc::FcId originator, fc::FcId responder, uint16_t ox_id) {
    return (uint64_t{originator.value & 0xFFFFFF} << 40) |
           (uint64_t{responder.value & 0xFFFFFF} << 16) | ox_id;
  }
  Open* start(uint64_t k, ExchangeKind kind, const fc::FrameHeader& h, FrameInfo& info);
  void problem(uint64_t frame, std::string reason, FrameInfo& info);
  void decode_fcp(const fc::FrameHeader& h, fc::ConstBytes payload, Exchange* ex, FrameInfo& info);
  void decode_els(fc::ConstBytes payload, Exchange* ex, FrameInfo& info);
  void decode_ct(fc::ConstBytes payload, Exchange* ex, FrameInfo& info);
  void decode_bls(const fc::FrameHeader& h, fc::ConstBytes payload, Exchange* ex, FrameInfo& info);

  std::vector<Exchange> exchanges_;
  absl::flat_hash_map<uint64_t, Open> open_;
  // The entry of the last frame's exchange (valid until the next insertion).
  uint64_t last_key_ = 0;
  Open* last_open_ = nullptr;
  std::vector<TraceProblem> problems_;
  uint64_t orphan_frames_ = 0;
  uint64_t undecoded_frames_ = 0;
};

}  // namespace splitpath::sim::trace
