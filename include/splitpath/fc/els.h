// Extended link services (FC-LS-3): frame payloads with R_CTL 0x22 (request) /
// 0x23 (reply) and TYPE 0x01. Byte 0 is the ELS command code; bytes 1..3 are zero
// except where noted.
//
//   FLOGI/FDISC/PLOGI and their LS_ACC, 116 bytes (FC-LS-3 service parameters):
//     0..3    command code
//     4..19   common service parameters: 4 FC-PH highest version, 5 lowest,
//             6..7 BB_Credit, 8..9 common features, 10..11 BB_SC_N (4 bits) and
//             BB receive data field size (12 bits), 12..15 R_A_TOV (FLOGI/FDISC
//             ACC) or total concurrent sequences (16) + relative offset by info
//             category (16) (PLOGI), 16..19 E_D_TOV
//     20..27  port name, 28..35 node/fabric name
//     36..83  class 1, 2, 3 service parameters (16 bytes each); class 3 at 68:
//             68..69 service options (bit 15 class valid, bit 11 sequential
//             delivery), 70..71 initiator control, 72..73 recipient control,
//             74..75 receive data field size, 76..77 concurrent sequences,
//             78..79 end-to-end credit, 80..81 open sequences per exchange
//     84..99  class 4, 100..115 vendor version level (zero here)
//   LOGO, 16 bytes: 5..7 N_Port ID, 8..15 port name
//   PRLI/PRLO and LS_ACC (FC-LS-3; FCP service parameter page from FCP-4): 0 command, 1 page length
//   (16),
//     2..3 payload length; then 16-byte pages: 0 TYPE, 1 type code extension,
//     2 bit 7 originator PA valid, bit 6 responder PA valid, bit 5 establish image
//     pair (request) / image pair established (ACC), bits 3..0 ACC response code;
//     4..7 originator PA, 8..11 responder PA, 12..15 FCP service parameters
//   LS_RJT, 8 bytes: 5 reason code, 6 explanation, 7 vendor unique
//   SCR, 8 bytes: 7 registration function
//   RSCN: 0 command, 1 page length (4), 2..3 payload length, then 4-byte
//     pages: 0 bits 5..2 event qualifier, bits 1..0 address format, 1..3 port ID
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "splitpath/fc/wire.h"

namespace splitpath::fc {

namespace els_cmd {
inline constexpr uint8_t kLsRjt = 0x01;
inline constexpr uint8_t kAcc = 0x02;
inline constexpr uint8_t kPlogi = 0x03;
inline constexpr uint8_t kFlogi = 0x04;
inline constexpr uint8_t kLogo = 0x05;
inline constexpr uint8_t kPrli = 0x20;
inline constexpr uint8_t kPrlo = 0x21;
inline constexpr uint8_t kFdisc = 0x51;
inline constexpr uint8_t kRscn = 0x61;
inline constexpr uint8_t kScr = 0x62;
}  // namespace els_cmd

inline constexpr size_t kElsCommandSize = 4;

// The ELS command code (byte 0). Errors: fewer than 4 bytes (kTruncated).
constexpr WireResult<uint8_t> els_command_code(ConstBytes payload) {
  if (payload.size() < kElsCommandSize) {
    return wire_error(WireErrc::kTruncated, "els_command", static_cast<uint32_t>(payload.size()));
  }
  return payload[0];
}

namespace detail {
constexpr void put_els_command(uint8_t* p, uint8_t cmd) {
  p[0] = cmd;
  p[1] = p[2] = p[3] = 0;
}
}  // namespace detail

// Generic LS_ACC with no payload beyond the command word (LOGO, PRLO, SCR, RSCN).
constexpr WireResult<size_t> encode_els_acc(MutableBytes out) {
  if (out.size() < kElsCommandSize) return wire_error(WireErrc::kBufferTooSmall, "els_acc", 0);
  detail::put_els_command(out.data(), els_cmd::kAcc);
  return kElsCommandSize;
}

// --------------------------------------------------- service parameters

inline constexpr size_t kServiceParametersSize = 116;
inline constexpr uint8_t kFcPhVersion = 0x20;
// Class 3, class 4 and the vendor version level close the payload.
static_assert(68 + 16 + 16 + 16 == kServiceParametersSize);

// Common features (bytes 8..9).
namespace csp_features {
inline constexpr uint16_t kContinuouslyIncreasingRelOff = 0x8000;  // PLOGI
inline constexpr uint16_t kMultipleNPortIdSupport = 0x8000;        // FLOGI request (NPIV)
inline constexpr uint16_t kCleanAddress = 0x8000;                  // FLOGI ACC
inline constexpr uint16_t kRandomRelOff = 0x4000;
inline constexpr uint16_t kValidVendorVersion = 0x2000;
inline constexpr uint16_t kNpivAssigned = 0x2000;  // FLOGI ACC
inline constexpr uint16_t kFPort = 0x1000;         // set by an F_Port, clear by an N_Port
inline constexpr uint16_t kAlternateBbCredit = 0x0800;
inline constexpr uint16_t kEdTovNanoseconds = 0x0400;
inline constexpr uint16_t kDynamicHalfDuplex = 0x0004;
inline constexpr uint16_t kSeqCnt = 0x0002;
inline constexpr uint16_t kPayloadLength = 0x0001;
}  // namespace csp_features

struct CommonServiceParameters {
  uint8_t fc_ph_version_high = kFcPhVersion;
  uint8_t fc_ph_version_low = kFcPhVersion;
  uint16_t bb_credit = 0;
  uint16_t features = 0;                  // csp_features::
  uint8_t bb_sc_number = 0;               // 0..15
  uint16_t bb_rx_data_field_size = 2048;  // 12 bits
  // Word 2, kept raw: R_A_TOV (ms) in FLOGI/FDISC and their ACC; total concurrent
  // sequences (high half) and relative offset by info category (low half) in PLOGI.
  uint32_t word2 = 0;
  uint32_t e_d_tov = 2000;  // ms unless kEdTovNanoseconds

  constexpr uint32_t r_a_tov() const { return word2; }
  constexpr uint16_t total_concurrent_sequences() const { return word2 >> 16; }
  constexpr uint16_t relative_offset_by_category() const { return word2 & 0xFFFF; }
  constexpr void set_r_a_tov(uint32_t ms) { word2 = ms; }
  constexpr void set_plogi_sequences(uint16_t total_concurrent, uint16_t rel_off_by_category) {
    word2 = (uint32_t{total_concurrent} << 16) | rel_off_by_category;
  }
  constexpr bool f_port() const { return (features & csp_features::kFPort) != 0; }
  friend constexpr bool operator==(const CommonServiceParameters&,
                                   const CommonServiceParameters&) = default;
};

struct Class3ServiceParameters {
  bool valid = true;
  bool sequential_delivery = false;
  uint16_t rx_data_field_size = 2048;
  uint16_t concurrent_sequences = 255;
  uint16_t open_sequences_per_exchange = 1;
  friend constexpr bool operator==(const Class3ServiceParameters&,
                                   const Class3ServiceParameters&) = default;
};

// FLOGI, FDISC, PLOGI or an LS_ACC to one of them (command = els_cmd::kAcc).
struct ServiceParameters {
  uint8_t command = els_cmd::kPlogi;
  CommonServiceParameters common;
  Wwn port_name;
  Wwn node_name;
  Class3ServiceParameters class3;
  friend constexpr bool operator==(const ServiceParameters&, const ServiceParameters&) = default;
};

// Decodes the 116-byte login payload; longer payloads are accepted, extra bytes and
// classes 1, 2 and 4 are ignored. Class 3 sizes are not checked: FLOGI/FDISC and
// their ACC leave them zero. Errors: fewer than 116 bytes (kTruncated); a command
// other than PLOGI, FLOGI, FDISC or LS_ACC (kUnsupported "els_command", 0); BB
// receive data field size outside 256..2112 (kBadValue "bb_rx_data_field_size", 10).
constexpr WireResult<ServiceParameters> decode_service_parameters(ConstBytes payload) {
  if (payload.size() < kServiceParametersSize) {
    return wire_error(WireErrc::kTruncated, "service_parameters",
                      static_cast<uint32_t>(payload.size()));
  }
  const uint8_t* p = payload.data();
  ServiceParameters s;
  s.command = p[0];
  if (s.command != els_cmd::kPlogi && s.command != els_cmd::kFlogi &&
      s.command != els_cmd::kFdisc && s.command != els_cmd::kAcc) {
    return wire_error(WireErrc::kUnsupported, "els_command", 0);
  }
  CommonServiceParameters& c = s.common;
  c.fc_ph_version_high = p[4];
  c.fc_ph_version_low = p[5];
  c.bb_credit = load_be16(p + 6);
  c.features = load_be16(p + 8);
  c.bb_sc_number = p[10] >> 4;
  c.bb_rx_data_field_size = load_be16(p + 10) & 0x0FFF;
  c.word2 = load_be32(p + 12);
  c.e_d_tov = load_be32(p + 16);
  if (c.bb_rx_data_field_size < 256 || c.bb_rx_data_field_size > 2112) {
    return wire_error(WireErrc::kBadValue, "bb_rx_data_field_size", 10);
  }
  s.port_name = Wwn{load_be64(p + 20)};
  s.node_name = Wwn{load_be64(p + 28)};
  const uint8_t* c3 = p + 68;
  s.class3.valid = (c3[0] & 0x80) != 0;
  s.class3.sequential_delivery = (c3[0] & 0x08) != 0;
  s.class3.rx_data_field_size = load_be16(c3 + 6) & 0x0FFF;
  s.class3.concurrent_sequences = load_be16(c3 + 8);
  s.class3.open_sequences_per_exchange = load_be16(c3 + 12);
  return s;
}

// Writes 116 bytes; everything not in the struct is zero. Errors: BB_SC_N above 15
// or a receive size above 12 bits (kBadValue); output too small (kBufferTooSmall).
constexpr WireResult<size_t> encode_service_parameters(const ServiceParameters& s,
                                                       MutableBytes out) {
  const CommonServiceParameters& c = s.common;
  if (c.bb_sc_number > 15 || c.bb_rx_data_field_size > 0x0FFF) {
    return wire_error(WireErrc::kBadValue, "bb_rx_data_field_size", 10);
  }
  if (s.class3.rx_data_field_size > 0x0FFF) {
    return wire_error(WireErrc::kBadValue, "class3_rx_data_field_size", 74);
  }
  if (out.size() < kServiceParametersSize) {
    return wire_error(WireErrc::kBufferTooSmall, "service_parameters", 0);
  }
  uint8_t* p = out.data();
  for (size_t i = 0; i < kServiceParametersSize; ++i)
    p[i] = 0;
  p[0] = s.command;
  p[4] = c.fc_ph_version_high;
  p[5] = c.fc_ph_version_low;
  store_be16(p + 6, c.bb_credit);
  store_be16(p + 8, c.features);
  store_be16(p + 10, static_cast<uint16_t>((c.bb_sc_number << 12) | c.bb_rx_data_field_size));
  store_be32(p + 12, c.word2);
  store_be32(p + 16, c.e_d_tov);
  store_be64(p + 20, s.port_name.value);
  store_be64(p + 28, s.node_name.value);
  uint8_t* c3 = p + 68;
  c3[0] =
      static_cast<uint8_t>((s.class3.valid ? 0x80 : 0) | (s.class3.sequential_delivery ? 0x08 : 0));
  store_be16(c3 + 6, s.class3.rx_data_field_size);
  store_be16(c3 + 8, s.class3.concurrent_sequences);
  store_be16(c3 + 12, s.class3.open_sequences_per_exchange);
  return kServiceParametersSize;
}

// ----------------------------------------------------------------- LOGO

inline constexpr size_t kLogoSize = 16;

struct Logo {
  FcId port_id;
  Wwn port_name;
  friend constexpr bool operator==(const Logo&, const Logo&) = default;
};

// Errors: fewer than 16 bytes (kTruncated); command not LOGO (kBadValue
// "els_command", 0).
constexpr WireResult<Logo> decode_logo(ConstBytes payload) {
  if (payload.size() < kLogoSize) {
    return wire_error(WireErrc::kTruncated, "logo", static_cast<uint32_t>(payload.size()));
  }
  if (payload[0] != els_cmd::kLogo) return wire_error(WireErrc::kBadValue, "els_command", 0);
  return Logo{FcId{load_be24(payload.data() + 5)}, Wwn{load_be64(payload.data() + 8)}};
}

constexpr WireResult<size_t> encode_logo(const Logo& l, MutableBytes out) {
  if (out.size() < kLogoSize) return wire_error(WireErrc::kBufferTooSmall, "logo", 0);
  uint8_t* p = out.data();
  detail::put_els_command(p, els_cmd::kLogo);
  p[4] = 0;
  store_be24(p + 5, l.port_id.value);
  store_be64(p + 8, l.port_name.value);
  return kLogoSize;
}

// ------------------------------------------------------------ PRLI/PRLO

inline constexpr size_t kPrliPageSize = 16;
inline constexpr size_t kPrliSize = 4 + kPrliPageSize;
inline constexpr uint8_t kFcpType = 0x08;

// FCP service parameters, word 3 of the FCP page (FCP-4 PRLI service parameters).
namespace prli_fcp {
inline constexpr uint32_t kWriteXferRdyDisabled = 0x0001;
inline constexpr uint32_t kReadXferRdyDisabled = 0x0002;
inline constexpr uint32_t kTargetFunction = 0x0010;
inline constexpr uint32_t kInitiatorFunction = 0x0020;
inline constexpr uint32_t kDataOverlayAllowed = 0x0040;
inline constexpr uint32_t kConfirmedCompletionAllowed = 0x0080;
inline constexpr uint32_t kRetry = 0x0100;
inline constexpr uint32_t kTaskRetryIdRequested = 0x0200;
}  // namespace prli_fcp

// PRLI ACC response codes (FC-LS-3).
namespace prli_response {
inline constexpr uint8_t kRequestExecuted = 0x1;
inline constexpr uint8_t kNoResources = 0x2;
inline constexpr uint8_t kInitializationNotComplete = 0x3;
inline constexpr uint8_t kTargetImageDoesNotExist = 0x4;
inline constexpr uint8_t kTargetImagePrecluded = 0x5;
inline constexpr uint8_t kExecutedConditionally = 0x6;
inline constexpr uint8_t kMultiplePagesNotSupported = 0x7;
inline constexpr uint8_t kServiceParametersInvalid = 0x8;
}  // namespace prli_response

// One FCP service parameter page of PRLI, PRLO or their LS_ACC (process
// associators are not used and encode as zero).
struct Prli {
  uint8_t command = els_cmd::kPrli;  // kPrli, kPrlo or kAcc
  bool establish_image_pair = true;  // in an ACC: image pair established
  uint8_t response_code = 0;         // ACC only, prli_response::
  uint32_t service_parameters = 0;   // prli_fcp::

  constexpr bool initiator() const { return service_parameters & prli_fcp::kInitiatorFunction; }
  constexpr bool target() const { return service_parameters & prli_fcp::kTargetFunction; }
  friend constexpr bool operator==(const Prli&, const Prli&) = default;
};

// Decodes the first FCP (TYPE 0x08) page; other pages are skipped. Errors: fewer
// than 4 bytes (kTruncated); command not PRLI/PRLO/ACC (kUnsupported "els_command",
// 0); page length not 16 (kBadLength "page_length", 1); payload length not 4 + 16n
// with n >= 1, or past the buffer (kBadLength "payload_length", 2); no FCP page
// (kUnsupported "type", 4).
constexpr WireResult<Prli> decode_prli(ConstBytes payload) {
  if (payload.size() < 4) {
    return wire_error(WireErrc::kTruncated, "prli", static_cast<uint32_t>(payload.size()));
  }
  const uint8_t* p = payload.data();
  if (p[0] != els_cmd::kPrli && p[0] != els_cmd::kPrlo && p[0] != els_cmd::kAcc) {
    return wire_error(WireErrc::kUnsupported, "els_command", 0);
  }
  if (p[1] != kPrliPageSize) return wire_error(WireErrc::kBadLength, "page_length", 1);
  const size_t len = load_be16(p + 2);
  if (len < kPrliSize || (len - 4) % kPrliPageSize != 0 || len > payload.size()) {
    return wire_error(WireErrc::kBadLength, "payload_length", 2);
  }
  for (size_t off = 4; off < len; off += kPrliPageSize) {
    const uint8_t* pg = p + off;
    if (pg[0] != kFcpType) continue;
    Prli r;
    r.command = p[0];
    r.establish_image_pair = (pg[2] & 0x20) != 0;
    r.response_code = p[0] == els_cmd::kAcc ? (pg[2] & 0x0F) : 0;
    r.service_parameters = load_be32(pg + 12);
    return r;
  }
  return wire_error(WireErrc::kUnsupported, "type", 4);
}

// Writes one page (20 bytes). Errors: response code above 15 (kBadValue); output
// too small (kBufferTooSmall).
constexpr WireResult<size_t> encode_prli(const Prli& r, MutableBytes out) {
  if (r.response_code > 0x0F) return wire_error(WireErrc::kBadValue, "response_code", 6);
  if (out.size() < kPrliSize) return wire_error(WireErrc::kBufferTooSmall, "prli", 0);
  uint8_t* p = out.data();
  for (size_t i = 0; i < kPrliSize; ++i)
    p[i] = 0;
  p[0] = r.command;
  p[1] = kPrliPageSize;
  store_be16(p + 2, kPrliSize);
  p[4] = kFcpType;
  p[6] = static_cast<uint8_t>((r.establish_image_pair ? 0x20 : 0) |
                              (r.command == els_cmd::kAcc ? r.response_code : 0));
  store_be32(p + 16, r.service_parameters);
  return kPrliSize;
}

// --------------------------------------------------------------- LS_RJT

inline constexpr size_t kLsRjtSize = 8;

namespace ls_rjt_reason {
inline constexpr uint8_t kInvalidCommandCode = 0x01;
inline constexpr uint8_t kLogicalError = 0x03;
inline constexpr uint8_t kLogicalBusy = 0x05;
inline constexpr uint8_t kProtocolError = 0x07;
inline constexpr uint8_t kUnableToPerform = 0x09;
inline constexpr uint8_t kCommandNotSupported = 0x0B;
inline constexpr uint8_t kCommandInProgress = 0x0E;
inline constexpr uint8_t kVendorSpecific = 0xFF;
}  // namespace ls_rjt_reason

namespace ls_rjt_explanation {
inline constexpr uint8_t kNone = 0x00;
inline constexpr uint8_t kServiceParamOptions = 0x01;
inline constexpr uint8_t kServiceParamInitiatorControl = 0x03;
inline constexpr uint8_t kInvalidAssociationHeader = 0x11;
inline constexpr uint8_t kAssociationHeaderRequired = 0x13;
inline constexpr uint8_t kInvalidOriginatorSId = 0x15;
inline constexpr uint8_t kInvalidOxIdRxId = 0x17;
inline constexpr uint8_t kRequestInProgress = 0x19;
inline constexpr uint8_t kNPortLoginRequired = 0x1E;
inline constexpr uint8_t kInsufficientResources = 0x29;
inline constexpr uint8_t kUnableToSupplyData = 0x2A;
inline constexpr uint8_t kRequestNotSupported = 0x2C;
inline constexpr uint8_t kInvalidPayloadLength = 0x2D;
}  // namespace ls_rjt_explanation

struct LsRjt {
  uint8_t reason = ls_rjt_reason::kUnableToPerform;
  uint8_t explanation = ls_rjt_explanation::kNone;
  uint8_t vendor = 0;
  friend constexpr bool operator==(const LsRjt&, const LsRjt&) = default;
};

// Errors: fewer than 8 bytes (kTruncated); command not LS_RJT (kBadValue
// "els_command", 0).
constexpr WireResult<LsRjt> decode_ls_rjt(ConstBytes payload) {
  if (payload.size() < kLsRjtSize) {
    return wire_error(WireErrc::kTruncated, "ls_rjt", static_cast<uint32_t>(payload.size()));
  }
  if (payload[0] != els_cmd::kLsRjt) return wire_error(WireErrc::kBadValue, "els_command", 0);
  return LsRjt{payload[5], payload[6], payload[7]};
}

constexpr WireResult<size_t> encode_ls_rjt(const LsRjt& r, MutableBytes out) {
  if (out.size() < kLsRjtSize) return wire_error(WireErrc::kBufferTooSmall, "ls_rjt", 0);
  uint8_t* p = out.data();
  detail::put_els_command(p, els_cmd::kLsRjt);
  p[4] = 0;
  p[5] = r.reason;
  p[6] = r.explanation;
  p[7] = r.vendor;
  return kLsRjtSize;
}

// ------------------------------------------------------------------ SCR

inline constexpr size_t kScrSize = 8;

namespace scr_function {
inline constexpr uint8_t kFabricDetected = 0x01;
inline constexpr uint8_t kNPortDetected = 0x02;
inline constexpr uint8_t kFull = 0x03;
inline constexpr uint8_t kClear = 0xFF;
}  // namespace scr_function

// The registration function. Errors: fewer than 8 bytes (kTruncated); command not
// SCR (kBadValue "els_command", 0).
constexpr WireResult<uint8_t> decode_scr(ConstBytes payload) {
  if (payload.size() < kScrSize) {
    return wire_error(WireErrc::kTruncated, "scr", static_cast<uint32_t>(payload.size()));
  }
  if (payload[0] != els_cmd::kScr) return wire_error(WireErrc::kBadValue, "els_command", 0);
  return payload[7];
}

constexpr WireResult<size_t> encode_scr(uint8_t registration_function, MutableBytes out) {
  if (out.size() < kScrSize) return wire_error(WireErrc::kBufferTooSmall, "scr", 0);
  uint8_t* p = out.data();
  detail::put_els_command(p, els_cmd::kScr);
  p[4] = p[5] = p[6] = 0;
  p[7] = registration_function;
  return kScrSize;
}

// ----------------------------------------------------------------- RSCN

inline constexpr size_t kRscnPageSize = 4;

namespace rscn_format {
inline constexpr uint8_t kPort = 0x0;
inline constexpr uint8_t kArea = 0x1;
inline constexpr uint8_t kDomain = 0x2;
inline constexpr uint8_t kFabric = 0x3;
}  // namespace rscn_format

struct RscnPage {
  uint8_t event_qualifier = 0;  // 0..15
  uint8_t address_format = rscn_format::kPort;
  FcId affected;
  friend constexpr bool operator==(const RscnPage&, const RscnPage&) = default;
};

constexpr size_t rscn_size(size_t pages) {
  return 4 + kRscnPageSize * pages;
}

// Errors: no pages, or more than fit the 16-bit payload length (kBadValue "pages");
// a field out of range (kBadValue "page"); output too small (kBufferTooSmall).
constexpr WireResult<size_t> encode_rscn(std::span<const RscnPage> pages, MutableBytes out) {
  if (pages.empty() || rscn_size(pages.size()) > 0xFFFF) {
    return wire_error(WireErrc::kBadValue, "pages", 2);
  }
  const size_t n = rscn_size(pages.size());
  if (out.size() < n) return wire_error(WireErrc::kBufferTooSmall, "rscn", 0);
  uint8_t* p = out.data();
  p[0] = els_cmd::kRscn;
  p[1] = kRscnPageSize;
  store_be16(p + 2, static_cast<uint16_t>(n));
  for (size_t i = 0; i < pages.size(); ++i) {
    const RscnPage& pg = pages[i];
    if (pg.event_qualifier > 15 || pg.address_format > 3) {
      return wire_error(WireErrc::kBadValue, "page", static_cast<uint32_t>(4 + 4 * i));
    }
    uint8_t* q = p + 4 + kRscnPageSize * i;
    q[0] = static_cast<uint8_t>((pg.event_qualifier << 2) | pg.address_format);
    store_be24(q + 1, pg.affected.value);
  }
  return n;
}

// A decoded RSCN; pages are read in place from the decoded buffer.
struct RscnView {
  size_t count = 0;
  ConstBytes pages;

  constexpr RscnPage page(size_t i) const {
    const uint8_t* q = pages.data() + kRscnPageSize * i;
    return RscnPage{static_cast<uint8_t>((q[0] >> 2) & 0x0F), static_cast<uint8_t>(q[0] & 0x3),
                    FcId{load_be24(q + 1)}};
  }
};

// Errors: fewer than 4 bytes (kTruncated); command not RSCN (kBadValue
// "els_command", 0); page length not 4 (kBadLength "page_length", 1); payload length
// not 4 + 4n with n >= 1, or past the buffer (kBadLength "payload_length", 2).
constexpr WireResult<RscnView> decode_rscn(ConstBytes payload) {
  if (payload.size() < 4) {
    return wire_error(WireErrc::kTruncated, "rscn", static_cast<uint32_t>(payload.size()));
  }
  if (payload[0] != els_cmd::kRscn) return wire_error(WireErrc::kBadValue, "els_command", 0);
  if (payload[1] != kRscnPageSize) return wire_error(WireErrc::kBadLength, "page_length", 1);
  const size_t len = load_be16(payload.data() + 2);
  if (len < rscn_size(1) || len % kRscnPageSize != 0 || len > payload.size()) {
    return wire_error(WireErrc::kBadLength, "payload_length", 2);
  }
  return RscnView{(len - 4) / kRscnPageSize, payload.subspan(4, len - 4)};
}

}  // namespace splitpath::fc
