#include "fabric_sim/topology/wwn.h"

#include <fmt/format.h>

#include "fabric_sim/kernel/rng.h"

namespace splitpath::sim {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status bad_wwn(const std::string& text) {
  return absl::InvalidArgumentError(fmt::format(
      "must be a WWN like 50:00:00:00:00:00:01:00 or 0x5000000000000100 (got '{}')", text));
}

}  // namespace

std::string format_wwn(uint64_t wwn) {
  std::string out;
  out.reserve(23);
  for (int shift = 56; shift >= 0; shift -= 8) {
    if (!out.empty()) out += ':';
    out += fmt::format("{:02x}", (wwn >> shift) & 0xFF);
  }
  return out;
}

absl::StatusOr<uint64_t> parse_wwn(std::string text) {
  uint64_t value = 0;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    if (text.size() > 18) return bad_wwn(text);
    for (size_t i = 2; i < text.size(); ++i) {
      int v = hex_value(text[i]);
      if (v < 0) return bad_wwn(text);
      value = (value << 4) | static_cast<uint64_t>(v);
    }
  } else {
    // "hh:hh:hh:hh:hh:hh:hh:hh" is 23 characters with a colon after every pair.
    if (text.size() != 23) return bad_wwn(text);
    for (size_t i = 0; i < text.size(); ++i) {
      if (i % 3 == 2) {
        if (text[i] != ':') return bad_wwn(text);
        continue;
      }
      int v = hex_value(text[i]);
      if (v < 0) return bad_wwn(text);
      value = (value << 4) | static_cast<uint64_t>(v);
    }
  }
  if (value == 0) {
    return absl::InvalidArgumentError(
        fmt::format("the all-zero WWN is not valid (got '{}')", text));
  }
  return value;
}

uint64_t wwpn_from_name(const std::string& name) {
  constexpr uint64_t kNaa5 = uint64_t{5} << 60;
  constexpr uint64_t kOui = uint64_t{0x005350} << 36;
  return kNaa5 | kOui | (stable_hash(name) & ((uint64_t{1} << 36) - 1));
}

}  // namespace splitpath::sim
