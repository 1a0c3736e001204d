#include "fabric_sim/capture/pcap_writer.h"

#include <pcap/pcap.h>

#include <memory>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "splitpath/fc/frame_header.h"

namespace splitpath::sim {

absl::StatusOr<std::unique_ptr<PcapWriter>> PcapWriter::open(const std::string& path) {
  pcap_t* handle = pcap_open_dead_with_tstamp_precision(kLinktypeFc2, fc::kMaxFrameSize,
                                                        PCAP_TSTAMP_PRECISION_NANO);
  if (!handle) return absl::InternalError("pcap: cannot create a capture handle");
  pcap_dumper_t* dumper = pcap_dump_open(handle, path.c_str());
  if (!dumper) {
    std::string why = pcap_geterr(handle);
    pcap_close(handle);
    return absl::InvalidArgumentError(fmt::format("{}: cannot write capture: {}", path, why));
  }
  return std::unique_ptr<PcapWriter>(new PcapWriter(handle, dumper));
}

PcapWriter::~PcapWriter() {
  (void)close();
}

void PcapWriter::write(SimTime at, std::span<const uint8_t> frame) {
  if (!dumper_) return;
  pcap_pkthdr hdr{};
  // With nanosecond precision libpcap takes tv_usec as nanoseconds.
  hdr.ts.tv_sec = static_cast<time_t>(at / kNsPerSec);
  hdr.ts.tv_usec = static_cast<suseconds_t>(at % kNsPerSec);
  hdr.caplen = static_cast<uint32_t>(frame.size());
  hdr.len = static_cast<uint32_t>(frame.size());
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &hdr, frame.data());
  ++frames_;
}

absl::Status PcapWriter::close() {
  if (!dumper_) return absl::OkStatus();
  const bool flushed = pcap_dump_flush(dumper_) == 0;
  pcap_dump_close(dumper_);
  pcap_close(handle_);
  dumper_ = nullptr;
  handle_ = nullptr;
  if (!flushed) return absl::DataLossError("pcap: flushing the capture failed");
  return absl::OkStatus();
}

}  // namespace splitpath::sim
