// Writes frames to a pcap file with link type LINKTYPE_FC_2 (224): each record is
// the 24-byte FC-2 header and the payload, without SOF, CRC or EOF. Timestamps
// are simulated time at nanosecond precision, so the same run writes the same
// bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"

struct pcap;
struct pcap_dumper;

namespace splitpath::sim {

inline constexpr int kLinktypeFc2 = 224;

class PcapWriter {
 public:
  static absl::StatusOr<std::unique_ptr<PcapWriter>> open(const std::string& path);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  void write(SimTime at, std::span<const uint8_t> frame);
  uint64_t frames_written() const { return frames_; }
  // Flushes and closes; further writes are ignored.
  absl::Status close();

 private:
  PcapWriter(pcap* handle, pcap_dumper* dumper) : handle_(handle), dumper_(dumper) {}
  pcap* handle_;
  pcap_dumper* dumper_;
  uint64_t frames_ = 0;
};

}  // namespace splitpath::sim
