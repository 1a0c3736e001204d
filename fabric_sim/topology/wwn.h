// World Wide Names (WWPNs and WWNNs) as text: "50:00:00:00:00:00:01:00".
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace splitpath::sim {

// Eight lowercase hex bytes separated by colons, most significant first.
std::string format_wwn(uint64_t wwn);

// Accepts the colon form (exactly eight two-digit hex bytes) or "0x" followed by
// 1 to 16 hex digits. Zero is not a valid WWN. The error message describes the
// problem without naming the text's origin.
absl::StatusOr<uint64_t> parse_wwn(std::string text);

// A WWPN for a node that has none in its configuration: NAA 5, OUI 00:53:50
// ("SP"), and 36 bits of a stable hash of the node's name, so a topology yields
// the same WWPNs on every run and platform.
uint64_t wwpn_from_name(const std::string& name);

}  // namespace splitpath::sim
