#include "fabric_sim/trace/trace_reader.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <utility>

#include "fabric_sim/trace/mapped_pcap.h"
#include "fmt/format.h"
#include "splitpath/fc/crc32.h"
#include "splitpath/fc/frame_header.h"
#include "splitpath/fc/wire.h"

namespace splitpath::sim::trace {

namespace {

constexpr size_t kDelimiterSize = 4;  // 225: SOF and EOF ordered sets
constexpr size_t kCrcSize = 4;
constexpr size_t kFc2DelimTrailer = kCrcSize + kDelimiterSize;
constexpr size_t kEthernetHeaderSize = 14;
constexpr size_t kVlanTagSize = 4;
constexpr size_t kFcoeHeaderSize = 14;  // version nibble, 12 reserved bytes, SOF
constexpr size_t kFcoeTrailerSize = 8;  // CRC, EOF, 3 reserved bytes
// How far before the end of an Ethernet frame the FCoE trailer is looked for
// when it is not at the very end (an FCS, or padding, follows it).
constexpr size_t kFcoeMaxSlack = 64;
// FIP (FC-BB-5): 0..1 version in the high nibble, 2..3 protocol code, 4 reserved,
// 5 subcode, 6..7 descriptor list length in words, 8..9 flags; then descriptors
// of 0 type, 1 length in words (the whole descriptor), value.
constexpr size_t kFipHeaderSize = 10;
constexpr uint16_t kFipLinkService = 0x0002;
// Link service descriptors: FLOGI, FDISC, LOGO, ELP; 2 reserved bytes, then the
// FC frame without SOF, CRC or EOF.
constexpr uint8_t kFipDescFlogi = 7;
constexpr uint8_t kFipDescElp = 10;
constexpr size_t kFipLinkServicePrefix = 4;

uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// Ordered sets of LINKTYPE_FC_2_WITH_FRAME_DELIMS, named as tshark names them
// (fc.sof / fc.eof value strings): the EOF's second byte follows the running
// disparity, hence the - and + forms.
const char* fc_sof_name(uint32_t code) {
  switch (code) {
    case 0xBCB51717:
      return "SOFc1";
    case 0xBCB55757:
      return "SOFi1";
    case 0xBCB53737:
      return "SOFn1";
    case 0xBCB55555:
      return "SOFi2";
    case 0xBCB53535:
      return "SOFn2";
    case 0xBCB55656:
      return "SOFi3";
    case 0xBCB53636:
      return "SOFn3";
    case 0xBCB51919:
      return "SOFc4";
    case 0xBCB55959:
      return "SOFi4";
    case 0xBCB53939:
      return "SOFn4";
    case 0xBCB55858:
      return "SOFf";
    default:
      return nullptr;
  }
}

const char* fc_eof_name(uint32_t code) {
  switch (code) {
    case 0xBC957575:
      return "EOFt-";
    case 0xBCB57575:
      return "EOFt+";
    case 0xBC959595:
      return "EOFdt-";
    case 0xBCB59595:
      return "EOFdt+";
    case 0xBC95F5F5:
      return "EOFa-";
    case 0xBCB5F5F5:
      return "EOFa+";
    case 0xBC95D5D5:
      return "EOFn-";
    case 0xBCB5D5D5:
      return "EOFn+";
    case 0xBC8AD5D5:
      return "EOFni-";
    case 0xBCAAD5D5:
      return "EOFni+";
    case 0xBC8A9595:
      return "EOFdti-";
    case 0xBCAA9595:
      return "EOFdti+";
    case 0xBC959999:
      return "EOFrt-";
    case 0xBCB59999:
      return "EOFrt+";
    case 0xBC8A9999:
      return "EOFrti-";
    case 0xBCAA9999:
      return "EOFrti+";
    default:
      return nullptr;
  }
}

// FCoE SOF and EOF code bytes (FC-BB-5), tshark's fcoe.sof / fcoe.eof names.
const char* fcoe_sof_name(uint8_t code) {
  switch (code) {
    case 0x28:
      return "SOFf";
    case 0x29:
      return "SOFi4";
    case 0x2D:
      return "SOFi2";
    case 0x2E:
      return "SOFi3";
    case 0x31:
      return "SOFn4";
    case 0x35:
      return "SOFn2";
    case 0x36:
      return "SOFn3";
    case 0x39:
      return "SOFc4";
    default:
      return nullptr;
  }
}

const char* fcoe_eof_name(uint8_t code) {
  switch (code) {
    case 0x41:
      return "EOFn";
    case 0x42:
      return "EOFt";
    case 0x44:
      return "EOFrt";
    case 0x46:
      return "EOFdt";
    case 0x49:
      return "EOFni";
    case 0x4E:
      return "EOFdti";
    case 0x4F:
      return "EOFrti";
    case 0x50:
      return "EOFa";
    default:
      return nullptr;
  }
}

}  // namespace

std::string link_type_name(int link_type) {
  switch (link_type) {
    case kLinkFc2:
      return "FC_2";
    case kLinkFc2WithDelims:
      return "FC_2_WITH_FRAME_DELIMS";
    case kLinkEthernet:
      return "ETHERNET";
    default:
      break;
  }
  const char* name = pcap_datalink_val_to_name(link_type);
  return name ? name : "unknown";
}

absl::StatusOr<std::unique_ptr<TraceReader>> TraceReader::open(const std::string& path) {
  if (auto mapped = MappedPcap::open(path)) {
    const int link = mapped->link_type();
    if (link == kLinkFc2 || link == kLinkFc2WithDelims || link == kLinkEthernet) {
      return std::unique_ptr<TraceReader>(new TraceReader(std::move(mapped), path));
    }
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* handle =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!handle) {
    return absl::InvalidArgumentError(fmt::format("{}: cannot read the capture: {}", path, errbuf));
  }
  return from_handle(handle, path);
}

absl::StatusOr<std::unique_ptr<TraceReader>> TraceReader::open_stream(FILE* file,
                                                                      const std::string& name) {
  if (!file) return absl::InvalidArgumentError(name + ": cannot read the capture: no stream");
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* handle =
      pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!handle) {
    std::fclose(file);
    return absl::InvalidArgumentError(fmt::format("{}: cannot read the capture: {}", name, errbuf));
  }
  return from_handle(handle, name);
}

absl::StatusOr<std::unique_ptr<TraceReader>> TraceReader::from_handle(pcap* handle,
                                                                      const std::string& name) {
  const int link = pcap_datalink(handle);
  if (link != kLinkFc2 && link != kLinkFc2WithDelims && link != kLinkEthernet) {
    pcap_close(handle);
    return absl::UnimplementedError(
        fmt::format("{}: link type {} ({}) is not supported; splitpath decode reads link types 224 "
                    "(FC_2), 225 (FC_2_WITH_FRAME_DELIMS) and 1 (Ethernet, for FCoE)",
                    name, link, link_type_name(link)));
  }
  return std::unique_ptr<TraceReader>(new TraceReader(handle, name, link));
}

TraceReader::TraceReader(std::unique_ptr<MappedPcap> mapped, std::string name)
    : handle_(nullptr),
      mapped_(std::move(mapped)),
      name_(std::move(name)),
      link_type_(mapped_->link_type()) {}

TraceReader::~TraceReader() {
  if (handle_) pcap_close(handle_);
}

bool TraceReader::hand_over() {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  handle_ =
      pcap_open_offline_with_tstamp_precision(name_.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (handle_ && std::fseek(pcap_file(handle_), static_cast<long>(mapped_->offset()), SEEK_SET)) {
    pcap_close(handle_);
    handle_ = nullptr;
  }
  mapped_.reset();
  return handle_ != nullptr;
}

int TraceReader::next_record(uint64_t& time_ns, uint32_t& caplen, uint32_t& len,
                             const uint8_t*& data) {
  if (mapped_) {
    PcapRecord r;
    switch (mapped_->next(r)) {
      case MappedPcap::Next::kRecord:
        time_ns = r.time_ns;
        caplen = r.caplen;
        len = r.len;
        data = r.data;
        return 1;
      case MappedPcap::Next::kEnd:
        return 0;
      case MappedPcap::Next::kHandOver:
        if (!hand_over()) {
          ++skipped_.truncated_file;
          problems_.push_back(
              TraceProblem{records_ + 1, "capture file cut short: cannot reopen the file"});
          read_error_ = absl::DataLossError(
              fmt::format("{}: frame {}: cannot reopen the file", name_, records_ + 1));
          return -1;
        }
        break;
    }
  }
  pcap_pkthdr* hdr = nullptr;
  const u_char* bytes = nullptr;
  const int rc = pcap_next_ex(handle_, &hdr, &bytes);
  if (rc == PCAP_ERROR_BREAK) return 0;
  if (rc != 1) {
    // A savefile yields 1 or an end; anything else is a damaged or cut file.
    const std::string why = pcap_geterr(handle_);
    ++skipped_.truncated_file;
    problems_.push_back(TraceProblem{records_ + 1, "capture file cut short: " + why});
    read_error_ = absl::DataLossError(fmt::format("{}: frame {}: {}", name_, records_ + 1, why));
    return -1;
  }
  // With nanosecond precision libpcap hands back nanoseconds in tv_usec.
  time_ns = static_cast<uint64_t>(hdr->ts.tv_sec) * 1000000000ull +
            static_cast<uint64_t>(hdr->ts.tv_usec);
  caplen = hdr->caplen;
  len = hdr->len;
  data = bytes;
  return 1;
}

void TraceReader::problem(std::string reason) {
  problems_.push_back(TraceProblem{records_, std::move(reason)});
}

bool TraceReader::next(TraceFrame& frame) {
  while (!done_) {
    uint64_t time_ns = 0;
    uint32_t caplen = 0;
    uint32_t wire_len = 0;
    const uint8_t* data = nullptr;
    if (next_record(time_ns, caplen, wire_len, data) != 1) {
      done_ = true;
      break;
    }
    ++records_;
    const uint32_t len = std::max(wire_len, caplen);
    frame.number = records_;
    frame.time_ns = time_ns;
    if (records_ == 1) first_record_ns_ = frame.time_ns;
    frame.sof.clear();
    frame.eof.clear();
    frame.crc = CrcCheck::kAbsent;
    frame.vlan = -1;
    frame.ether_fcs = false;
    frame.fip = false;
    frame.cut = caplen < len;
    bool got = false;
    switch (link_type_) {
      case kLinkFc2:
        got = take_fc2(data, caplen, len, frame);
        break;
      case kLinkFc2WithDelims:
        got = take_fc2_delims(data, caplen, len, frame);
        break;
      default:
        got = take_ethernet(data, caplen, len, frame);
        break;
    }
    if (got) {
      ++frames_;
      return true;
    }
  }
  return false;
}

bool TraceReader::take_fc2(const uint8_t* data, uint32_t caplen, uint32_t len, TraceFrame& frame) {
  if (caplen < fc::kFrameHeaderSize) {
    ++skipped_.short_frames;
    problem(fmt::format("frame shorter than an FC header: {} bytes (24 needed)", caplen));
    return false;
  }
  frame.fc = fc::ConstBytes(data, data + caplen);
  frame.wire_size = len;
  if (frame.cut) problem(fmt::format("capture record cut: {} of {} bytes captured", caplen, len));
  return true;
}

bool TraceReader::take_fc2_delims(const uint8_t* data, uint32_t caplen, uint32_t len,
                                  TraceFrame& frame) {
  const size_t need = kDelimiterSize + fc::kFrameHeaderSize + (frame.cut ? 0 : kFc2DelimTrailer);
  if (caplen < need || len < kDelimiterSize + fc::kFrameHeaderSize + kFc2DelimTrailer) {
    ++skipped_.short_frames;
    problem(fmt::format(
        "frame shorter than an FC header: {} bytes (SOF, 24-byte header, CRC and EOF need {})",
        caplen, kDelimiterSize + fc::kFrameHeaderSize + kFc2DelimTrailer));
    return false;
  }
  const uint32_t sof = fc::load_be32(data);
  const char* sof_name = fc_sof_name(sof);
  frame.sof = sof_name ? sof_name : fmt::format("0x{:08x}", sof);
  if (!sof_name) problem(fmt::format("unknown SOF delimiter 0x{:08x}", sof));
  frame.wire_size = static_cast<uint32_t>(len - kDelimiterSize - kFc2DelimTrailer);
  if (frame.cut) {
    const size_t have = std::min<size_t>(caplen - kDelimiterSize, frame.wire_size);
    frame.fc = fc::ConstBytes(data + kDelimiterSize, data + kDelimiterSize + have);
    problem(
        fmt::format("capture record cut: {} of {} bytes captured (no CRC or EOF)", caplen, len));
    return true;
  }
  const uint8_t* fc_begin = data + kDelimiterSize;
  const size_t fc_size = frame.wire_size;
  frame.fc = fc::ConstBytes(fc_begin, fc_begin + fc_size);
  const uint32_t eof = fc::load_be32(fc_begin + fc_size + kCrcSize);
  const char* eof_name = fc_eof_name(eof);
  frame.eof = eof_name ? eof_name : fmt::format("0x{:08x}", eof);
  if (!eof_name) problem(fmt::format("unknown EOF delimiter 0x{:08x}", eof));
  const uint32_t carried = load_le32(fc_begin + fc_size);
  const uint32_t computed = fc::crc32(fc_begin, fc_size);
  frame.crc = carried == computed ? CrcCheck::kGood : CrcCheck::kBad;
  if (frame.crc == CrcCheck::kBad) {
    ++bad_crc_;
    problem(fmt::format("bad CRC: the frame carries 0x{:08x}, its bytes give 0x{:08x}", carried,
                        computed));
  }
  return true;
}

bool TraceReader::take_ethernet(const uint8_t* data, uint32_t caplen, uint32_t len,
                                TraceFrame& frame) {
  if (caplen < kEthernetHeaderSize) {
    ++skipped_.short_frames;
    problem(fmt::format("Ethernet frame shorter than its header: {} bytes", caplen));
    return false;
  }
  size_t off = 12;  // the ethertype, after the destination and source addresses
  uint16_t ethertype = fc::load_be16(data + off);
  while (ethertype == kEthertypeVlan || ethertype == kEthertypeQinQ) {
    if (off + kVlanTagSize + 2 > caplen) {
      ++skipped_.short_frames;
      problem(fmt::format("Ethernet frame cut inside its VLAN tags: {} bytes", caplen));
      return false;
    }
    frame.vlan = fc::load_be16(data + off + 2) & 0x0FFF;
    off += kVlanTagSize;
    ethertype = fc::load_be16(data + off);
  }
  off += 2;
  if (ethertype == kEthertypeFip) return take_fip(data + off, caplen - off, frame);
  if (ethertype != kEthertypeFcoe) {
    ++skipped_.other_ethertype;
    return false;
  }
  const size_t min_fcoe = kFcoeHeaderSize + fc::kFrameHeaderSize;
  if (caplen < off + min_fcoe + (frame.cut ? 0 : kFcoeTrailerSize) ||
      len < off + min_fcoe + kFcoeTrailerSize) {
    ++skipped_.short_frames;
    problem(fmt::format(
        "frame shorter than an FC header: FCoE payload of {} bytes (header, 24-byte FC header "
        "and trailer need {})",
        caplen - off, min_fcoe + kFcoeTrailerSize));
    return false;
  }
  const uint8_t* fcoe = data + off;
  const int version = fcoe[0] >> 4;
  if (version != 0) {
    ++skipped_.bad_encapsulation;
    problem(fmt::format("unsupported FCoE version {}", version));
    return false;
  }
  const char* sof_name = fcoe_sof_name(fcoe[13]);
  frame.sof = sof_name ? sof_name : fmt::format("0x{:02x}", fcoe[13]);
  if (!sof_name) problem(fmt::format("unknown FCoE SOF code 0x{:02x}", fcoe[13]));
  const uint8_t* body = fcoe + kFcoeHeaderSize;
  if (frame.cut) {
    frame.wire_size = static_cast<uint32_t>(len - off - kFcoeHeaderSize - kFcoeTrailerSize);
    const size_t have = std::min<size_t>(caplen - off - kFcoeHeaderSize, frame.wire_size);
    frame.fc = fc::ConstBytes(body, body + have);
    problem(
        fmt::format("capture record cut: {} of {} bytes captured (no CRC or EOF)", caplen, len));
    return true;
  }
  // The trailer normally ends the Ethernet frame. When it does not (an Ethernet
  // FCS or padding follows), it is the last position, at most kFcoeMaxSlack bytes
  // earlier, whose CRC matches and whose EOF byte is a valid code. Frames that
  // are not a whole number of words are not trusted to be aligned.
  const size_t n = caplen - off - kFcoeHeaderSize;
  auto matches = [body](size_t fc_size) {
    return fcoe_eof_name(body[fc_size + kCrcSize]) != nullptr &&
           load_le32(body + fc_size) == fc::crc32(body, fc_size);
  };
  size_t fc_size = n - kFcoeTrailerSize;
  bool found = matches(fc_size);
  const size_t lowest = fc_size > fc::kFrameHeaderSize + kFcoeMaxSlack ? fc_size - kFcoeMaxSlack
                                                                       : fc::kFrameHeaderSize;
  for (size_t s = fc_size; !found && s > lowest;) {
    --s;
    if (matches(s)) {
      found = true;
      fc_size = s;
      frame.ether_fcs = true;
    }
  }
  frame.fc = fc::ConstBytes(body, body + fc_size);
  frame.wire_size = static_cast<uint32_t>(fc_size);
  const uint8_t eof = body[fc_size + kCrcSize];
  const char* eof_name = fcoe_eof_name(eof);
  frame.eof = eof_name ? eof_name : fmt::format("0x{:02x}", eof);
  if (!eof_name) problem(fmt::format("unknown FCoE EOF code 0x{:02x}", eof));
  frame.crc = found ? CrcCheck::kGood : CrcCheck::kBad;
  if (!found) {
    ++bad_crc_;
    problem(fmt::format("bad CRC: the frame carries 0x{:08x}, its bytes give 0x{:08x}",
                        load_le32(body + fc_size), fc::crc32(body, fc_size)));
  }
  return true;
}

bool TraceReader::take_fip(const uint8_t* fip, size_t size, TraceFrame& frame) {
  if (size < kFipHeaderSize || fc::load_be16(fip + 2) != kFipLinkService) {
    ++skipped_.fip;
    return false;
  }
  const size_t end = std::min(size, kFipHeaderSize + 4 * size_t{fc::load_be16(fip + 6)});
  size_t off = kFipHeaderSize;
  while (off + 2 <= end) {
    const uint8_t type = fip[off];
    const size_t desc_size = 4 * size_t{fip[off + 1]};
    if (desc_size == 0) break;
    if (type >= kFipDescFlogi && type <= kFipDescElp) {
      if (off + desc_size > end) {
        ++skipped_.short_frames;
        problem(
            fmt::format("FIP link service descriptor cut: {} of {} bytes", end - off, desc_size));
        return false;
      }
      if (desc_size < kFipLinkServicePrefix + fc::kFrameHeaderSize) {
        ++skipped_.short_frames;
        problem(fmt::format(
            "frame shorter than an FC header: FIP link service descriptor of {} bytes", desc_size));
        return false;
      }
      const uint8_t* fc_begin = fip + off + kFipLinkServicePrefix;
      frame.fc = fc::ConstBytes(fc_begin, fip + off + desc_size);
      frame.wire_size = static_cast<uint32_t>(desc_size - kFipLinkServicePrefix);
      frame.fip = true;
      frame.cut = false;
      return true;
    }
    off += desc_size;
  }
  ++skipped_.fip;
  return false;
}

}  // namespace splitpath::sim::trace
