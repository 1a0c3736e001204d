// The NBD protocol (newstyle fixed negotiation, simple replies) as pure
// functions over bytes: the server's greeting, the client's flags, option
// haggling (NBD_OPT_EXPORT_NAME, LIST, INFO, GO, ABORT), transmission requests
// and their replies. Nothing here touches a socket or the simulation; the
// server (nbd_server.h) feeds it the bytes it reads and writes what it builds.
//
// Reference: the NBD protocol, doc/proto.md of the nbd project. All integers
// on the wire are big-endian.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace splitpath::sim::nbd {

inline constexpr uint64_t kNbdMagic = 0x4e42444d41474943ULL;     // "NBDMAGIC"
inline constexpr uint64_t kOptionMagic = 0x49484156454F5054ULL;  // "IHAVEOPT"
inline constexpr uint64_t kOptionReplyMagic = 0x3e889045565a9ULL;
inline constexpr uint32_t kRequestMagic = 0x25609513;
inline constexpr uint32_t kSimpleReplyMagic = 0x67446698;

// Handshake flags (server) and client flags.
inline constexpr uint16_t kFlagFixedNewstyle = 1 << 0;
inline constexpr uint16_t kFlagNoZeroes = 1 << 1;
inline constexpr uint32_t kClientFlagFixedNewstyle = 1 << 0;
inline constexpr uint32_t kClientFlagNoZeroes = 1 << 1;

// Options.
inline constexpr uint32_t kOptExportName = 1;
inline constexpr uint32_t kOptAbort = 2;
inline constexpr uint32_t kOptList = 3;
inline constexpr uint32_t kOptStartTls = 5;
inline constexpr uint32_t kOptInfo = 6;
inline constexpr uint32_t kOptGo = 7;
inline constexpr uint32_t kOptStructuredReply = 8;

// Option reply types.
inline constexpr uint32_t kRepAck = 1;
inline constexpr uint32_t kRepServer = 2;
inline constexpr uint32_t kRepInfo = 3;
inline constexpr uint32_t kRepErrUnsup = (1u << 31) | 1;
inline constexpr uint32_t kRepErrPolicy = (1u << 31) | 2;
inline constexpr uint32_t kRepErrInvalid = (1u << 31) | 3;
inline constexpr uint32_t kRepErrUnknown = (1u << 31) | 6;

// NBD_REP_INFO types.
inline constexpr uint16_t kInfoExport = 0;
inline constexpr uint16_t kInfoName = 1;
inline constexpr uint16_t kInfoBlockSize = 3;

// Transmission flags.
inline constexpr uint16_t kTransHasFlags = 1 << 0;
inline constexpr uint16_t kTransReadOnly = 1 << 1;
inline constexpr uint16_t kTransSendFlush = 1 << 2;
inline constexpr uint16_t kTransSendFua = 1 << 3;

// Commands and command flags.
inline constexpr uint16_t kCmdRead = 0;
inline constexpr uint16_t kCmdWrite = 1;
inline constexpr uint16_t kCmdDisc = 2;
inline constexpr uint16_t kCmdFlush = 3;
inline constexpr uint16_t kCmdFlagFua = 1 << 0;

// Errors in replies (the values of the protocol, which are Linux's errno).
inline constexpr uint32_t kEperm = 1;
inline constexpr uint32_t kEio = 5;
inline constexpr uint32_t kEinval = 22;
inline constexpr uint32_t kEnospc = 28;

inline constexpr size_t kGreetingSize = 18;
inline constexpr size_t kClientFlagsSize = 4;
inline constexpr size_t kOptionHeaderSize = 16;
inline constexpr size_t kRequestSize = 28;
inline constexpr size_t kSimpleReplySize = 16;
// Option data longer than this drops the connection (an export name is at
// most 4096 bytes by the protocol; GO adds a count and the info requests).
inline constexpr uint32_t kMaxOptionLength = 4096 + 4 + 2 + 2 * 64;

// The server's first bytes: NBDMAGIC, IHAVEOPT and the handshake flags
// (fixed newstyle, no zeroes).
std::vector<uint8_t> build_greeting();

// The client's 32-bit flags. Fails (naming what was wrong) if the client does
// not speak fixed newstyle or sets bits the server did not offer; a client
// that sends an option before its flags fails here too.
absl::StatusOr<uint32_t> parse_client_flags(std::span<const uint8_t> bytes);

struct OptionHeader {
  uint32_t option = 0;
  uint32_t length = 0;  // bytes of option data that follow
};
// An option's 16-byte header. Fails on a bad magic or a length above
// kMaxOptionLength; an unknown option is not an error here (it gets
// NBD_REP_ERR_UNSUP).
absl::StatusOr<OptionHeader> parse_option_header(std::span<const uint8_t> bytes);

// The data of NBD_OPT_INFO / NBD_OPT_GO.
struct InfoRequest {
  std::string export_name;
  std::vector<uint16_t> info_types;
};
// Fails if the lengths inside the data do not add up to its size.
absl::StatusOr<InfoRequest> parse_info_request(std::span<const uint8_t> data);

// One option reply (magic, option, reply type, length, data).
std::vector<uint8_t> build_option_reply(uint32_t option, uint32_t reply_type,
                                        std::span<const uint8_t> data = {});
// The data of an NBD_REP_SERVER reply naming one export.
std::vector<uint8_t> server_reply_data(std::string_view export_name);
// The data of NBD_REP_INFO replies.
std::vector<uint8_t> info_export_data(uint64_t size, uint16_t transmission_flags);
std::vector<uint8_t> info_block_size_data(uint32_t minimum, uint32_t preferred, uint32_t maximum);
// The reply to NBD_OPT_EXPORT_NAME: size, flags, and 124 zero bytes unless the
// client asked for none.
std::vector<uint8_t> build_export_name_reply(uint64_t size, uint16_t transmission_flags,
                                             bool no_zeroes);

struct Request {
  uint16_t flags = 0;
  uint16_t type = 0;
  uint64_t cookie = 0;
  uint64_t offset = 0;
  uint32_t length = 0;
};
// A transmission request's 28-byte header. Fails on a bad magic.
absl::StatusOr<Request> parse_request(std::span<const uint8_t> bytes);

// What the server promised for an export.
struct ExportLimits {
  uint64_t size = 0;
  uint32_t min_block = 512;  // every offset and length is a multiple of it
  uint32_t max_block = 0;    // the largest READ/WRITE length
  uint16_t transmission_flags = 0;
};

// What to do with a request.
struct Verdict {
  enum class Kind : uint8_t {
    kExecute,  // carry it out
    kReject,   // answer with `error`, keep the connection
    kDrop,     // a protocol violation: close the connection
  };
  Kind kind = Kind::kExecute;
  uint32_t error = 0;  // kReject
  std::string reason;  // kReject, kDrop: what was wrong, for the log
};
// Checks a request against the export. Dropped: an unknown command, flags not
// defined for the command or not advertised, a READ/WRITE longer than
// max_block. Rejected as the protocol asks: a range beyond
// the export's end (EINVAL for reads, ENOSPC for writes) or not aligned to
// min_block (EINVAL), a write to a read-only export (EPERM).
Verdict check_request(const Request& request, const ExportLimits& limits);

// A simple reply's 16 bytes (read data, if any, follows it).
std::vector<uint8_t> build_simple_reply(uint32_t error, uint64_t cookie);

}  // namespace splitpath::sim::nbd
