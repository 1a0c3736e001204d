// Fibre Channel common transport and the name server (FC-GS-7): frame payloads
// with R_CTL 0x02 (request) / 0x03 (response) and TYPE 0x20, sent to the
// directory server FF.FF.FC.
//
//   CT_IU preamble, 16 bytes:
//     0 revision (0x01), 1..3 IN_ID, 4 GS_Type (0xFC directory service),
//     5 GS_Subtype (0x02 name server), 6 options, 7 reserved,
//     8..9 command/response code, 10..11 maximum/residual size (4-byte words),
//     12 fragment ID, 13 reason code, 14 reason code explanation, 15 vendor unique
//   then the body. Name-server bodies (port ID fields: byte 0 reserved, 1..3 ID):
//     RPN_ID / RNN_ID request: 0..3 port ID, 4..11 port / node name
//     RFT_ID request: 0..3 port ID, 4..35 FC-4 TYPEs bitmap (type T is bit T % 32
//       of big-endian word T / 32)
//     RFF_ID request: 0..3 port ID, 4..5 reserved, 6 FC-4 features, 7 FC-4 type
//     GID_FT request: 0 reserved, 1 domain scope, 2 area scope, 3 FC-4 type
//     GID_FT ACC: 4-byte entries, 0 control (bit 7 Last on the final entry),
//       1..3 port ID
//     GPN_ID / GNN_ID request: 0..3 port ID; ACC: 0..7 port / node name
//   CT ACC (0x8002) and RJT (0x8001) are preamble codes; RJT carries reason and
//   explanation in bytes 13..14.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "splitpath/fc/wire.h"

namespace splitpath::fc {

inline constexpr size_t kCtPreambleSize = 16;
inline constexpr uint8_t kCtRevision = 0x01;

namespace gs_type {
inline constexpr uint8_t kManagementService = 0xFA;
inline constexpr uint8_t kTimeService = 0xFB;
inline constexpr uint8_t kDirectoryService = 0xFC;
}  // namespace gs_type
namespace gs_subtype {
inline constexpr uint8_t kNameServer = 0x02;
}  // namespace gs_subtype

// Command/response codes.
namespace ct_cmd {
inline constexpr uint16_t kGaNxt = 0x0100;
inline constexpr uint16_t kGpnId = 0x0112;
inline constexpr uint16_t kGnnId = 0x0113;
inline constexpr uint16_t kGftId = 0x0117;
inline constexpr uint16_t kGffId = 0x011F;
inline constexpr uint16_t kGidFt = 0x0171;
inline constexpr uint16_t kGpnFt = 0x0172;
inline constexpr uint16_t kRpnId = 0x0212;
inline constexpr uint16_t kRnnId = 0x0213;
inline constexpr uint16_t kRftId = 0x0217;
inline constexpr uint16_t kRspnId = 0x0218;
inline constexpr uint16_t kRffId = 0x021F;
inline constexpr uint16_t kDaId = 0x0300;
inline constexpr uint16_t kRjt = 0x8001;
inline constexpr uint16_t kAcc = 0x8002;
}  // namespace ct_cmd

namespace ct_reason {
inline constexpr uint8_t kInvalidCommandCode = 0x01;
inline constexpr uint8_t kInvalidVersionLevel = 0x02;
inline constexpr uint8_t kLogicalError = 0x03;
inline constexpr uint8_t kInvalidCtIuSize = 0x04;
inline constexpr uint8_t kLogicalBusy = 0x05;
inline constexpr uint8_t kProtocolError = 0x07;
inline constexpr uint8_t kUnableToPerform = 0x09;
inline constexpr uint8_t kCommandNotSupported = 0x0B;
inline constexpr uint8_t kVendorSpecific = 0xFF;
}  // namespace ct_reason

// Name-server reason code explanations.
namespace ns_explanation {
inline constexpr uint8_t kNone = 0x00;
inline constexpr uint8_t kPortIdNotRegistered = 0x01;
inline constexpr uint8_t kPortNameNotRegistered = 0x02;
inline constexpr uint8_t kNodeNameNotRegistered = 0x03;
inline constexpr uint8_t kClassOfServiceNotRegistered = 0x04;
inline constexpr uint8_t kFc4TypesNotRegistered = 0x07;
inline constexpr uint8_t kSymbolicPortNameNotRegistered = 0x08;
inline constexpr uint8_t kPortTypeNotRegistered = 0x0A;
inline constexpr uint8_t kFc4FeaturesNotRegistered = 0x0F;
inline constexpr uint8_t kAccessDenied = 0x10;
inline constexpr uint8_t kUnacceptablePortId = 0x11;
inline constexpr uint8_t kDatabaseEmpty = 0x12;
}  // namespace ns_explanation

struct CtPreamble {
  uint8_t revision = kCtRevision;
  FcId in_id;
  uint8_t gs_type = gs_type::kDirectoryService;
  uint8_t gs_subtype = gs_subtype::kNameServer;
  uint8_t options = 0;
  uint16_t command_response = 0;   // ct_cmd::
  uint16_t max_residual_size = 0;  // words; 0 = no limit
  uint8_t fragment_id = 0;
  uint8_t reason_code = 0;  // ct_reason::, RJT only
  uint8_t explanation = 0;  // ns_explanation::, RJT only
  uint8_t vendor = 0;
  friend constexpr bool operator==(const CtPreamble&, const CtPreamble&) = default;
};

// A name-server request preamble.
constexpr CtPreamble make_ns_request(uint16_t command, uint16_t max_size_words = 0) {
  CtPreamble p;
  p.command_response = command;
  p.max_residual_size = max_size_words;
  return p;
}
// The ACC / RJT preamble answering `request` (same GS type and subtype).
constexpr CtPreamble make_ct_accept(const CtPreamble& request) {
  CtPreamble p;
  p.gs_type = request.gs_type;
  p.gs_subtype = request.gs_subtype;
  p.command_response = ct_cmd::kAcc;
  return p;
}
constexpr CtPreamble make_ct_reject(const CtPreamble& request, uint8_t reason,
                                    uint8_t explanation) {
  CtPreamble p = make_ct_accept(request);
  p.command_response = ct_cmd::kRjt;
  p.reason_code = reason;
  p.explanation = explanation;
  return p;
}

// Errors: fewer than 16 bytes (kTruncated); revision other than 1 (kUnsupported
// "revision", 0).
constexpr WireResult<CtPreamble> decode_ct_preamble(ConstBytes iu) {
  if (iu.size() < kCtPreambleSize) {
    return wire_error(WireErrc::kTruncated, "ct_preamble", static_cast<uint32_t>(iu.size()));
  }
  const uint8_t* p = iu.data();
  if (p[0] != kCtRevision) return wire_error(WireErrc::kUnsupported, "revision", 0);
  CtPreamble c;
  c.in_id = FcId{load_be24(p + 1)};
  c.gs_type = p[4];
  c.gs_subtype = p[5];
  c.options = p[6];
  c.command_response = load_be16(p + 8);
  c.max_residual_size = load_be16(p + 10);
  c.fragment_id = p[12];
  c.reason_code = p[13];
  c.explanation = p[14];
  c.vendor = p[15];
  return c;
}

constexpr WireResult<size_t> encode_ct_preamble(const CtPreamble& c, MutableBytes out) {
  if (out.size() < kCtPreambleSize) return wire_error(WireErrc::kBufferTooSmall, "ct_preamble", 0);
  uint8_t* p = out.data();
  p[0] = c.revision;
  store_be24(p + 1, c.in_id.value);
  p[4] = c.gs_type;
  p[5] = c.gs_subtype;
  p[6] = c.options;
  p[7] = 0;
  store_be16(p + 8, c.command_response);
  store_be16(p + 10, c.max_residual_size);
  p[12] = c.fragment_id;
  p[13] = c.reason_code;
  p[14] = c.explanation;
  p[15] = c.vendor;
  return kCtPreambleSize;
}

// The body after the preamble. Precondition: iu.size() >= kCtPreambleSize (true
// once decode_ct_preamble succeeded).
constexpr ConstBytes ct_body(ConstBytes iu) {
  return iu.subspan(kCtPreambleSize);
}
constexpr MutableBytes ct_body(MutableBytes iu) {
  return iu.subspan(kCtPreambleSize);
}

// ------------------------------------------------ name-server bodies

// GPN_ID / GNN_ID / GFF_ID / GFT_ID request: one port ID. Errors: fewer than 4
// bytes (kTruncated).
constexpr WireResult<FcId> decode_ns_port_id(ConstBytes body) {
  if (body.size() < 4) {
    return wire_error(WireErrc::kTruncated, "port_id", static_cast<uint32_t>(body.size()));
  }
  return FcId{load_be24(body.data() + 1)};
}
constexpr WireResult<size_t> encode_ns_port_id(FcId id, MutableBytes out) {
  if (out.size() < 4) return wire_error(WireErrc::kBufferTooSmall, "port_id", 0);
  out[0] = 0;
  store_be24(out.data() + 1, id.value);
  return size_t{4};
}

// GPN_ID / GNN_ID ACC: one name. Errors: fewer than 8 bytes (kTruncated).
constexpr WireResult<Wwn> decode_ns_name(ConstBytes body) {
  if (body.size() < 8) {
    return wire_error(WireErrc::kTruncated, "name", static_cast<uint32_t>(body.size()));
  }
  return Wwn{load_be64(body.data())};
}
constexpr WireResult<size_t> encode_ns_name(Wwn name, MutableBytes out) {
  if (out.size() < 8) return wire_error(WireErrc::kBufferTooSmall, "name", 0);
  store_be64(out.data(), name.value);
  return size_t{8};
}

// RPN_ID (port name) and RNN_ID (node name) requests, 12 bytes.
inline constexpr size_t kNsIdNameSize = 12;
struct NsIdName {
  FcId port_id;
  Wwn name;
  friend constexpr bool operator==(const NsIdName&, const NsIdName&) = default;
};

constexpr WireResult<NsIdName> decode_ns_id_name(ConstBytes body) {
  if (body.size() < kNsIdNameSize) {
    return wire_error(WireErrc::kTruncated, "id_name", static_cast<uint32_t>(body.size()));
  }
  return NsIdName{FcId{load_be24(body.data() + 1)}, Wwn{load_be64(body.data() + 4)}};
}
constexpr WireResult<size_t> encode_ns_id_name(const NsIdName& r, MutableBytes out) {
  if (out.size() < kNsIdNameSize) return wire_error(WireErrc::kBufferTooSmall, "id_name", 0);
  out[0] = 0;
  store_be24(out.data() + 1, r.port_id.value);
  store_be64(out.data() + 4, r.name.value);
  return kNsIdNameSize;
}

// FC-4 TYPEs bitmap (32 bytes): type T is bit T % 32 of big-endian word T / 32.
struct Fc4Types {
  std::array<uint8_t, 32> bitmap{};

  static constexpr size_t byte_index(uint8_t type) { return 4 * (type / 32) + 3 - (type % 32) / 8; }
  constexpr void set(uint8_t type) { bitmap[byte_index(type)] |= uint8_t(1u << (type % 8)); }
  constexpr bool test(uint8_t type) const { return (bitmap[byte_index(type)] >> (type % 8)) & 1u; }
  friend constexpr bool operator==(const Fc4Types&, const Fc4Types&) = default;
};

inline constexpr size_t kRftIdSize = 36;
static_assert(kRftIdSize == 4 + sizeof(Fc4Types::bitmap));
struct RftId {
  FcId port_id;
  Fc4Types types;
  friend constexpr bool operator==(const RftId&, const RftId&) = default;
};

constexpr WireResult<RftId> decode_rft_id(ConstBytes body) {
  if (body.size() < kRftIdSize) {
    return wire_error(WireErrc::kTruncated, "rft_id", static_cast<uint32_t>(body.size()));
  }
  RftId r;
  r.port_id = FcId{load_be24(body.data() + 1)};
  for (size_t i = 0; i < 32; ++i)
    r.types.bitmap[i] = body[4 + i];
  return r;
}
constexpr WireResult<size_t> encode_rft_id(const RftId& r, MutableBytes out) {
  if (out.size() < kRftIdSize) return wire_error(WireErrc::kBufferTooSmall, "rft_id", 0);
  out[0] = 0;
  store_be24(out.data() + 1, r.port_id.value);
  for (size_t i = 0; i < 32; ++i)
    out[4 + i] = r.types.bitmap[i];
  return kRftIdSize;
}

// FC-4 features for TYPE 0x08 (FCP).
namespace fc4_features {
inline constexpr uint8_t kTarget = 0x01;
inline constexpr uint8_t kInitiator = 0x02;
}  // namespace fc4_features

inline constexpr size_t kRffIdSize = 8;
struct RffId {
  FcId port_id;
  uint8_t features = 0;  // fc4_features::
  uint8_t type = 0x08;
  friend constexpr bool operator==(const RffId&, const RffId&) = default;
};

constexpr WireResult<RffId> decode_rff_id(ConstBytes body) {
  if (body.size() < kRffIdSize) {
    return wire_error(WireErrc::kTruncated, "rff_id", static_cast<uint32_t>(body.size()));
  }
  return RffId{FcId{load_be24(body.data() + 1)}, body[6], body[7]};
}
constexpr WireResult<size_t> encode_rff_id(const RffId& r, MutableBytes out) {
  if (out.size() < kRffIdSize) return wire_error(WireErrc::kBufferTooSmall, "rff_id", 0);
  out[0] = 0;
  store_be24(out.data() + 1, r.port_id.value);
  out[4] = out[5] = 0;
  out[6] = r.features;
  out[7] = r.type;
  return kRffIdSize;
}

// ----------------------------------------------------------- GID_FT

inline constexpr size_t kGidFtRequestSize = 4;
struct GidFtRequest {
  uint8_t domain_scope = 0;  // 0 = whole fabric
  uint8_t area_scope = 0;
  uint8_t type = 0x08;
  friend constexpr bool operator==(const GidFtRequest&, const GidFtRequest&) = default;
};

constexpr WireResult<GidFtRequest> decode_gid_ft_request(ConstBytes body) {
  if (body.size() < kGidFtRequestSize) {
    return wire_error(WireErrc::kTruncated, "gid_ft", static_cast<uint32_t>(body.size()));
  }
  return GidFtRequest{body[1], body[2], body[3]};
}
constexpr WireResult<size_t> encode_gid_ft_request(const GidFtRequest& r, MutableBytes out) {
  if (out.size() < kGidFtRequestSize) return wire_error(WireErrc::kBufferTooSmall, "gid_ft", 0);
  out[0] = 0;
  out[1] = r.domain_scope;
  out[2] = r.area_scope;
  out[3] = r.type;
  return kGidFtRequestSize;
}

inline constexpr size_t kGidFtEntrySize = 4;
inline constexpr uint8_t kGidFtLast = 0x80;

// Writes one entry per port ID, Last bit on the final one. An empty list is
// answered with a CT RJT (ns_explanation::kFc4TypesNotRegistered) instead, so it
// is kBadValue "port_ids". Output too small: kBufferTooSmall.
constexpr WireResult<size_t> encode_gid_ft_acc(std::span<const FcId> port_ids, MutableBytes out) {
  if (port_ids.empty()) return wire_error(WireErrc::kBadValue, "port_ids", 0);
  const size_t n = kGidFtEntrySize * port_ids.size();
  if (out.size() < n) return wire_error(WireErrc::kBufferTooSmall, "gid_ft_acc", 0);
  for (size_t i = 0; i < port_ids.size(); ++i) {
    uint8_t* e = out.data() + kGidFtEntrySize * i;
    e[0] = i + 1 == port_ids.size() ? kGidFtLast : 0;
    store_be24(e + 1, port_ids[i].value);
  }
  return n;
}

// A decoded GID_FT ACC body; entries are read in place from the decoded buffer.
struct GidFtAccView {
  size_t count = 0;       // entries up to and including the one with Last
  bool complete = false;  // false: the body ended before an entry with Last
  ConstBytes entries;

  constexpr FcId port_id(size_t i) const {
    return FcId{load_be24(entries.data() + kGidFtEntrySize * i + 1)};
  }
};

// Entries after the one with Last are ignored. Without a Last bit the view holds
// every whole entry and complete = false (a reply cut by the maximum size).
// Errors: no whole entry (kTruncated).
constexpr WireResult<GidFtAccView> decode_gid_ft_acc(ConstBytes body) {
  const size_t whole = body.size() / kGidFtEntrySize;
  if (whole == 0) {
    return wire_error(WireErrc::kTruncated, "gid_ft_acc", static_cast<uint32_t>(body.size()));
  }
  GidFtAccView v;
  v.count = whole;
  for (size_t i = 0; i < whole; ++i) {
    if (body[kGidFtEntrySize * i] & kGidFtLast) {
      v.count = i + 1;
      v.complete = true;
      break;
    }
  }
  v.entries = body.subspan(0, kGidFtEntrySize * v.count);
  return v;
}

}  // namespace splitpath::fc
