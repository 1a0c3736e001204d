// Reads Fibre Channel frames out of a capture file for `splitpath decode`: a
// classic pcap file is mapped into memory and parsed in place (MappedPcap);
// pcapng, streams and whatever the mapped reader leaves go through libpcap. Three link types are
// understood:
//
//   224 LINKTYPE_FC_2                     FC-2 header + payload, nothing else
//   225 LINKTYPE_FC_2_WITH_FRAME_DELIMS   4-byte SOF, header, payload, CRC-32
//                                         (least-significant byte first), 4-byte EOF
//     1 LINKTYPE_ETHERNET                 FCoE (ethertype 0x8906, behind any number
//                                         of 802.1Q / 802.1ad tags): 14-byte FCoE
//                                         header (version nibble, reserved, SOF code
//                                         in byte 13), the FC frame, CRC-32 (LSB
//                                         first), EOF code byte, 3 reserved bytes;
//                                         an Ethernet FCS or padding may follow.
//                                         FIP (0x8914) link service requests and
//                                         replies carry FLOGI, FDISC and LOGO as a
//                                         bare FC frame in a descriptor (FC-BB-5);
//                                         those are read too, other FIP is skipped
//
// Every frame comes out as header + payload with the encapsulation, delimiters and
// CRC stripped; what the link layer said about it (SOF/EOF codes, CRC verdict,
// VLAN) travels alongside. Records that carry no FC frame are either skipped and
// counted (FIP and other Ethernet traffic: not errors) or reported as problems with
// their frame number (short or cut records, bad CRC, unknown delimiters). Frame
// numbers are 1-based record numbers, as tshark and Wireshark number frames.
//
// Nothing here throws; a reader is used from one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fabric_sim/trace/mapped_pcap.h"
#include "splitpath/fc/wire.h"

struct pcap;

namespace splitpath::sim::trace {

inline constexpr int kLinkEthernet = 1;
inline constexpr int kLinkFc2 = 224;
inline constexpr int kLinkFc2WithDelims = 225;
inline constexpr uint16_t kEthertypeFcoe = 0x8906;
inline constexpr uint16_t kEthertypeFip = 0x8914;
inline constexpr uint16_t kEthertypeVlan = 0x8100;
inline constexpr uint16_t kEthertypeQinQ = 0x88A8;

// "FC_2", "FC_2_WITH_FRAME_DELIMS", "ETHERNET", or libpcap's name for any other.
std::string link_type_name(int link_type);

enum class CrcCheck : uint8_t {
  kAbsent,  // the link type carries no CRC (224), or the record was cut before it
  kGood,
  kBad,  // reported as a problem; the frame is decoded all the same
};

struct TraceFrame {
  uint64_t number = 0;   // 1-based record number in the file
  uint64_t time_ns = 0;  // capture timestamp, nanoseconds since the epoch
  // FC-2 header and payload. At least kFrameHeaderSize bytes; fewer than on the
  // wire when the capture record was cut (then wire_size says how many there were).
  // Points into the reader's buffer: valid until its next call to next().
  fc::ConstBytes fc;
  uint32_t wire_size = 0;  // header + payload bytes the frame had on the wire
  bool cut = false;        // the capture record holds only part of the frame
  // Link-level notes: empty when the link type has no delimiters. Names are
  // tshark's (fc.sof / fc.eof, fcoe.sof / fcoe.eof), e.g. "SOFi3", "EOFt+", "EOFt".
  std::string sof;
  std::string eof;
  CrcCheck crc = CrcCheck::kAbsent;
  int vlan = -1;           // FCoE: VLAN ID of the innermost 802.1Q tag, -1 untagged
  bool ether_fcs = false;  // FCoE: an Ethernet FCS (or padding) followed the trailer
  bool fip = false;        // carried in a FIP link service descriptor (FLOGI, FDISC, LOGO)
};

struct TraceProblem {
  uint64_t frame = 0;  // 1-based; for a file cut short, the record that could not be read
  std::string reason;
};

// Records that produced no frame, by cause. FIP and other ethertypes are normal
// in an FCoE capture; the others are also listed in problems().
struct TraceSkipped {
  uint64_t fip = 0;                // ethertype 0x8914 other than FLOGI/FDISC/LOGO/ELP
  uint64_t other_ethertype = 0;    // neither FCoE nor FIP (IP, LLDP, ...)
  uint64_t short_frames = 0;       // too short to hold an FC header (with its encapsulation)
  uint64_t bad_encapsulation = 0;  // unknown FCoE version
  uint64_t truncated_file = 0;     // 1 when the file ends in the middle of a record
};

class TraceReader {
 public:
  // Opens `path` (pcap or pcapng) with nanosecond timestamps. Errors name the
  // file: InvalidArgument when it cannot be opened or is not a capture,
  // Unimplemented for a link type other than 1, 224 and 225 (the message names it).
  static absl::StatusOr<std::unique_ptr<TraceReader>> open(const std::string& path);
  // The same over an open stream (e.g. fmemopen); `name` stands for it in messages.
  // Takes `file` over in every case: the reader closes it, or this call does on failure.
  static absl::StatusOr<std::unique_ptr<TraceReader>> open_stream(FILE* file,
                                                                  const std::string& name);
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  const std::string& name() const { return name_; }
  int link_type() const { return link_type_; }

  // Reads up to the next FC frame into `frame` (its buffer is reused). Returns
  // false at the end of the file, or when the file is cut short: then
  // read_error() says where, and the frames before it have been returned.
  bool next(TraceFrame& frame);

  uint64_t records() const { return records_; }  // capture records read so far
  // Timestamp of record 1 (FC or not): tshark's origin for relative times.
  uint64_t first_record_ns() const { return first_record_ns_; }
  uint64_t frames() const { return frames_; }  // FC frames returned so far
  const std::vector<TraceProblem>& problems() const { return problems_; }
  const TraceSkipped& skipped() const { return skipped_; }
  uint64_t bad_crc() const { return bad_crc_; }
  // OK, or DataLoss "FILE: frame N: ..." when reading stopped in the middle of the file.
  const absl::Status& read_error() const { return read_error_; }

 private:
  TraceReader(pcap* handle, std::string name, int link_type)
      : handle_(handle), name_(std::move(name)), link_type_(link_type) {}
  TraceReader(std::unique_ptr<MappedPcap> mapped, std::string name);
  // The next capture record: from the mapping, or from libpcap (opened on the
  // file at the mapping's offset when the mapping hands over). 1 for a record,
  // 0 at the end, -1 when the file is cut short (read_error_ is set).
  int next_record(uint64_t& time_ns, uint32_t& caplen, uint32_t& len, const uint8_t*& data);
  bool hand_over();
  static absl::StatusOr<std::unique_ptr<TraceReader>> from_handle(pcap* handle,
                                                                  const std::string& name);
  // Each returns true when the record yielded a frame.
  bool take_fc2(const uint8_t* data, uint32_t caplen, uint32_t len, TraceFrame& frame);
  bool take_fc2_delims(const uint8_t* data, uint32_t caplen, uint32_t len, TraceFrame& frame);
  bool take_ethernet(const uint8_t* data, uint32_t caplen, uint32_t len, TraceFrame& frame);
  bool take_fip(const uint8_t* fip, size_t size, TraceFrame& frame);
  void problem(std::string reason);

  pcap* handle_;
  std::unique_ptr<MappedPcap> mapped_;
  std::string name_;
  int link_type_;
  uint64_t records_ = 0;
  uint64_t frames_ = 0;
  uint64_t bad_crc_ = 0;
  uint64_t first_record_ns_ = 0;
  bool done_ = false;
  std::vector<TraceProblem> problems_;
  TraceSkipped skipped_;
  absl::Status read_error_;
};

}  // namespace splitpath::sim::trace
