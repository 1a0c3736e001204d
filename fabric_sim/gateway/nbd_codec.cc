#include "fabric_sim/gateway/nbd_codec.h"

#include "absl/status/status.h"
#include "fmt/format.h"

namespace splitpath::sim::nbd {
namespace {

uint64_t load_be(std::span<const uint8_t> b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v = (v << 8) | b[at + i];
  return v;
}

void put_be(std::vector<uint8_t>& out, uint64_t v, size_t n) {
  for (size_t i = n; i > 0; --i)
    out.push_back(static_cast<uint8_t>(v >> (8 * (i - 1))));
}

const char* command_name(uint16_t type) {
  switch (type) {
    case kCmdRead:
      return "READ";
    case kCmdWrite:
      return "WRITE";
    case kCmdDisc:
      return "DISC";
    case kCmdFlush:
      return "FLUSH";
    default:
      return "?";
  }
}

}  // namespace

std::vector<uint8_t> build_greeting() {
  std::vector<uint8_t> out;
  out.reserve(kGreetingSize);
  put_be(out, kNbdMagic, 8);
  put_be(out, kOptionMagic, 8);
  put_be(out, kFlagFixedNewstyle | kFlagNoZeroes, 2);
  return out;
}

absl::StatusOr<uint32_t> parse_client_flags(std::span<const uint8_t> bytes) {
  if (bytes.size() != kClientFlagsSize)
    return absl::InvalidArgumentError(
        fmt::format("client flags are {} bytes, not {}", bytes.size(), kClientFlagsSize));
  const auto flags = static_cast<uint32_t>(load_be(bytes, 0, 4));
  const uint32_t known = kClientFlagFixedNewstyle | kClientFlagNoZeroes;
  if ((flags & ~known) != 0)
    return absl::InvalidArgumentError(
        fmt::format("client flags {:#010x} set bits the server did not offer{}", flags,
                    flags == static_cast<uint32_t>(kOptionMagic >> 32)
                        ? " (an option sent before the client flags)"
                        : ""));
  if ((flags & kClientFlagFixedNewstyle) == 0)
    return absl::InvalidArgumentError(fmt::format(
        "client flags {:#010x} lack NBD_FLAG_C_FIXED_NEWSTYLE (only fixed newstyle is served)",
        flags));
  return flags;
}

absl::StatusOr<OptionHeader> parse_option_header(std::span<const uint8_t> bytes) {
  if (bytes.size() != kOptionHeaderSize)
    return absl::InvalidArgumentError(
        fmt::format("option header is {} bytes, not {}", bytes.size(), kOptionHeaderSize));
  const uint64_t magic = load_be(bytes, 0, 8);
  if (magic != kOptionMagic)
    return absl::InvalidArgumentError(
        fmt::format("option magic {:#018x} is not IHAVEOPT ({:#018x})", magic, kOptionMagic));
  OptionHeader h;
  h.option = static_cast<uint32_t>(load_be(bytes, 8, 4));
  h.length = static_cast<uint32_t>(load_be(bytes, 12, 4));
  if (h.length > kMaxOptionLength)
    return absl::InvalidArgumentError(
        fmt::format("option {} carries {} bytes of data, more than the {} allowed", h.option,
                    h.length, kMaxOptionLength));
  return h;
}

absl::StatusOr<InfoRequest> parse_info_request(std::span<const uint8_t> data) {
  if (data.size() < 6)
    return absl::InvalidArgumentError(fmt::format(
        "INFO/GO data is {} bytes, shorter than the 6 of an empty request", data.size()));
  const uint64_t name_length = load_be(data, 0, 4);
  if (name_length > data.size() - 6)
    return absl::InvalidArgumentError(fmt::format(
        "INFO/GO export name length {} overruns the {} bytes of data", name_length, data.size()));
  InfoRequest r;
  r.export_name.assign(reinterpret_cast<const char*>(data.data() + 4), name_length);
  const size_t at = 4 + name_length;
  const uint64_t count = load_be(data, at, 2);
  if (data.size() != at + 2 + 2 * count)
    return absl::InvalidArgumentError(
        fmt::format("INFO/GO lists {} information requests in {} bytes, not {}", count,
                    data.size() - at - 2, 2 * count));
  for (uint64_t i = 0; i < count; ++i)
    r.info_types.push_back(static_cast<uint16_t>(load_be(data, at + 2 + 2 * i, 2)));
  return r;
}

std::vector<uint8_t> build_option_reply(uint32_t option, uint32_t reply_type,
                                        std::span<const uint8_t> data) {
  std::vector<uint8_t> out;
  out.reserve(20 + data.size());
  put_be(out, kOptionReplyMagic, 8);
  put_be(out, option, 4);
  put_be(out, reply_type, 4);
  put_be(out, data.size(), 4);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<uint8_t> server_reply_data(std::string_view export_name) {
  std::vector<uint8_t> out;
  put_be(out, export_name.size(), 4);
  out.insert(out.end(), export_name.begin(), export_name.end());
  return out;
}

std::vector<uint8_t> info_export_data(uint64_t size, uint16_t transmission_flags) {
  std::vector<uint8_t> out;
  put_be(out, kInfoExport, 2);
  put_be(out, size, 8);
  put_be(out, transmission_flags, 2);
  return out;
}

std::vector<uint8_t> info_block_size_data(uint32_t minimum, uint32_t preferred, uint32_t maximum) {
  std::vector<uint8_t> out;
  put_be(out, kInfoBlockSize, 2);
  put_be(out, minimum, 4);
  put_be(out, preferred, 4);
  put_be(out, maximum, 4);
  return out;
}

std::vector<uint8_t> build_export_name_reply(uint64_t size, uint16_t transmission_flags,
                                             bool no_zeroes) {
  std::vector<uint8_t> out;
  put_be(out, size, 8);
  put_be(out, transmission_flags, 2);
  if (!no_zeroes) out.resize(out.size() + 124, 0);
  return out;
}

absl::StatusOr<Request> parse_request(std::span<const uint8_t> bytes) {
  if (bytes.size() != kRequestSize)
    return absl::InvalidArgumentError(
        fmt::format("request header is {} bytes, not {}", bytes.size(), kRequestSize));
  const auto magic = static_cast<uint32_t>(load_be(bytes, 0, 4));
  if (magic != kRequestMagic)
    return absl::InvalidArgumentError(
        fmt::format("request magic {:#010x} is not {:#010x}", magic, kRequestMagic));
  Request r;
  r.flags = static_cast<uint16_t>(load_be(bytes, 4, 2));
  r.type = static_cast<uint16_t>(load_be(bytes, 6, 2));
  r.cookie = load_be(bytes, 8, 8);
  r.offset = load_be(bytes, 16, 8);
  r.length = static_cast<uint32_t>(load_be(bytes, 24, 4));
  return r;
}

Verdict check_request(const Request& r, const ExportLimits& limits) {
  auto drop = [](std::string reason) {
    return Verdict{Verdict::Kind::kDrop, 0, std::move(reason)};
  };
  auto reject = [](uint32_t error, std::string reason) {
    return Verdict{Verdict::Kind::kReject, error, std::move(reason)};
  };
  const bool read_write = r.type == kCmdRead || r.type == kCmdWrite;
  if (!read_write && r.type != kCmdDisc && r.type != kCmdFlush)
    return drop(fmt::format("unknown command {}", r.type));
  const char* name = command_name(r.type);
  uint16_t allowed = 0;
  if (r.type == kCmdWrite && (limits.transmission_flags & kTransSendFua) != 0)
    allowed = kCmdFlagFua;
  if ((r.flags & ~allowed) != 0)
    return drop(fmt::format("{} with command flags {:#06x}, not allowed for it (allowed {:#06x})",
                            name, r.flags, allowed));
  if (r.type == kCmdFlush && (limits.transmission_flags & kTransSendFlush) == 0)
    return drop("FLUSH on an export that did not advertise NBD_FLAG_SEND_FLUSH");
  // FLUSH and DISC carry no range (their offset and length are reserved).
  if (!read_write) return {};
  if (r.length > limits.max_block)
    return drop(fmt::format("{} of {} bytes exceeds the advertised maximum of {}", name, r.length,
                            limits.max_block));
  if (r.length == 0) return reject(kEinval, fmt::format("{} of length 0", name));
  if (r.offset > limits.size || r.length > limits.size - r.offset)
    return reject(r.type == kCmdWrite ? kEnospc : kEinval,
                  fmt::format("{} of [{}, +{}) beyond the export's {} bytes", name, r.offset,
                              r.length, limits.size));
  if (limits.min_block > 1 &&
      (r.offset % limits.min_block != 0 || r.length % limits.min_block != 0))
    return reject(kEinval, fmt::format("{} of [{}, +{}) not aligned to the {}-byte block", name,
                                       r.offset, r.length, limits.min_block));
  if (r.type == kCmdWrite && (limits.transmission_flags & kTransReadOnly) != 0)
    return reject(kEperm, "WRITE to a read-only export");
  return {};
}

std::vector<uint8_t> build_simple_reply(uint32_t error, uint64_t cookie) {
  std::vector<uint8_t> out;
  out.reserve(kSimpleReplySize);
  put_be(out, kSimpleReplyMagic, 4);
  put_be(out, error, 4);
  put_be(out, cookie, 8);
  return out;
}

}  // namespace splitpath::sim::nbd
