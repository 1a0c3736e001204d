// Parsers for the quantities a topology file writes as text: integers, times,
// byte sizes, link speeds, bandwidths and rates. Each returns an error whose
// message says only what is wrong ("must be ... (got ...)"); the caller adds the
// file, line and field.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "fabric_sim/kernel/kernel.h"
#include "fabric_sim/net/link.h"

namespace splitpath::sim {

// Decimal digits only, within [min, max].
absl::StatusOr<uint64_t> parse_unsigned(const std::string& text, uint64_t min, uint64_t max);

// A time with a unit: "700ns", "100us" (or "µs"), "20ms", "1.5s", "2e-3s". A bare
// number is seconds when `bare_is_seconds`, otherwise only a bare 0 is accepted:
// "latency: 700" is more likely a mistake than 700 seconds.
absl::StatusOr<SimTime> parse_time(const std::string& text, bool bare_is_seconds);

// A size: a bare integer (unit_given false: the caller decides what it counts),
// or a number with one of B, KiB, MiB, GiB, TiB, PiB (a whole number of bytes).
struct ParsedSize {
  uint64_t value = 0;
  bool unit_given = false;
};
absl::StatusOr<ParsedSize> parse_size(const std::string& text);

// 8G, 16G, 32G, 64G, optionally followed by "FC", in any case; or 8, 16, 32, 64.
absl::StatusOr<LinkSpeed> parse_link_speed(const std::string& text);

// MB/s as a bare integer, or a number with "MB/s" or "GB/s" (decimal units).
absl::StatusOr<uint64_t> parse_bandwidth_mb_s(const std::string& text);

// A non-negative decimal number no larger than `max`.
absl::StatusOr<double> parse_rate(const std::string& text, double max);

// "200ms", "1500ns", "2s": the largest unit that represents `ns` exactly.
std::string format_time(SimTime ns);

// "8G", "16G", "32G", "64G".
const char* link_speed_name(LinkSpeed speed);

// `text` as it may appear in an error message: at most 40 characters, control
// characters replaced.
std::string quote_got(const std::string& text);

}  // namespace splitpath::sim
