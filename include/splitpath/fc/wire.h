// Byte-order helpers and the decode-result type shared by every wire codec.
//
// Wire formats are byte arrays read and written through explicit big-endian
// accessors, whatever the host byte order. Nothing here throws or allocates, so
// the firmware (built with -fno-exceptions -fno-rtti) uses the same codecs as the
// simulator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace splitpath::fc {

// Why a buffer could not be decoded (or encoded). One code per kind of failure;
// WireError adds the field and the byte offset so a message can be precise.
enum class WireErrc : uint8_t {
  kOk = 0,
  kTruncated,       // buffer ends before the field
  kBufferTooSmall,  // encode: output span cannot hold the result
  kBadValue,        // field holds a value the standard reserves or forbids
  kBadLength,       // a length field disagrees with the buffer
  kUnsupported,     // well-formed, but a code this codec does not handle
};

constexpr const char* wire_errc_name(WireErrc e) {
  switch (e) {
    case WireErrc::kOk:
      return "ok";
    case WireErrc::kTruncated:
      return "truncated";
    case WireErrc::kBufferTooSmall:
      return "buffer too small";
    case WireErrc::kBadValue:
      return "bad value";
    case WireErrc::kBadLength:
      return "bad length";
    case WireErrc::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

struct WireError {
  WireErrc code = WireErrc::kOk;
  const char* field = "";  // static string naming the offending field
  uint32_t offset = 0;     // byte offset of that field in the decoded buffer
};

// A value or a WireError. Firmware-safe: no exceptions, no heap.
template <typename T>
class WireResult {
 public:
  constexpr WireResult(const T& value) : value_(value) {}   // NOLINT(google-explicit-constructor)
  constexpr WireResult(WireError error) : error_(error) {}  // NOLINT(google-explicit-constructor)

  constexpr bool ok() const { return error_.code == WireErrc::kOk; }
  constexpr const T& value() const { return value_; }
  constexpr T& value() { return value_; }
  constexpr const T& operator*() const { return value_; }
  constexpr const T* operator->() const { return &value_; }
  constexpr const WireError& error() const { return error_; }

 private:
  T value_{};
  WireError error_{};
};

constexpr WireError wire_error(WireErrc code, const char* field, uint32_t offset) {
  return WireError{code, field, offset};
}

using ConstBytes = std::span<const uint8_t>;
using MutableBytes = std::span<uint8_t>;

// Big-endian loads and stores. Callers check bounds first; these do not.
constexpr uint16_t load_be16(const uint8_t* p) {
  return static_cast<uint16_t>((uint16_t{p[0]} << 8) | p[1]);
}
constexpr uint32_t load_be24(const uint8_t* p) {
  return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
}
constexpr uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
constexpr uint64_t load_be64(const uint8_t* p) {
  return (uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}
constexpr void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
constexpr void store_be24(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 16);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v);
}
constexpr void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
constexpr void store_be64(uint8_t* p, uint64_t v) {
  store_be32(p, static_cast<uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<uint32_t>(v));
}

// A 24-bit Fibre Channel address identifier (S_ID / D_ID): domain, area, port.
struct FcId {
  uint32_t value = 0;  // only the low 24 bits are used

  constexpr uint8_t domain() const { return static_cast<uint8_t>(value >> 16); }
  constexpr uint8_t area() const { return static_cast<uint8_t>(value >> 8); }
  constexpr uint8_t port() const { return static_cast<uint8_t>(value); }
  static constexpr FcId from_parts(uint8_t domain, uint8_t area, uint8_t port) {
    return FcId{(uint32_t{domain} << 16) | (uint32_t{area} << 8) | port};
  }
  friend constexpr bool operator==(FcId a, FcId b) { return a.value == b.value; }
  friend constexpr bool operator<(FcId a, FcId b) { return a.value < b.value; }
};

// Well-known addresses (FC-FS-3 table 37).
inline constexpr FcId kFabricLoginServer{0xFFFFFE};  // F_Port controller: FLOGI/FDISC
inline constexpr FcId kFabricController{0xFFFFFD};
inline constexpr FcId kDirectoryServer{0xFFFFFC};  // name server
inline constexpr FcId kBroadcastAlias{0xFFFFFF};
constexpr bool is_well_known(FcId id) {
  return id.value >= 0xFFFFF0;
}
// Domain controller of domain D is FF.FC.D (FC-SW); switches talk to each other there.
constexpr FcId domain_controller(uint8_t domain) {
  return FcId{0xFFFC00u | domain};
}
constexpr bool is_domain_controller(FcId id) {
  return (id.value & 0xFFFF00u) == 0xFFFC00u;
}

// A 64-bit World Wide Name (port or node name).
struct Wwn {
  uint64_t value = 0;
  friend constexpr bool operator==(Wwn a, Wwn b) { return a.value == b.value; }
  friend constexpr bool operator<(Wwn a, Wwn b) { return a.value < b.value; }
};

}  // namespace splitpath::fc
