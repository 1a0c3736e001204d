#include "fabric_sim/topology/units.h"

#include <fmt/format.h>
#include <cctype>
#include <cmath>

namespace splitpath::sim {
namespace {

// mantissa * 10^exp10, with at most 19 significant digits.
struct Decimal {
  uint64_t mantissa = 0;
  int exp10 = 0;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads `[0-9]*(.[0-9]*)?([eE][+-]?[0-9]+)?` (at least one mantissa digit) from the
// start of `text`; returns the number of characters read, 0 when there is no number
// or it has too many significant digits or too large an exponent.
size_t read_decimal(const std::string& text, Decimal* out) {
  size_t i = 0;
  std::string digits;
  int exp10 = 0;
  bool any_digit = false;
  while (i < text.size() && is_digit(text[i])) {
    digits += text[i++];
    any_digit = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && is_digit(text[i])) {
      digits += text[i++];
      --exp10;
      any_digit = true;
    }
  }
  if (!any_digit) return 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    size_t j = i + 1;
    bool negative = false;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) negative = text[j++] == '-';
    if (j >= text.size() || !is_digit(text[j])) return 0;
    int e = 0;
    while (j < text.size() && is_digit(text[j])) {
      if (e > 1000) return 0;
      e = e * 10 + (text[j++] - '0');
    }
    exp10 += negative ? -e : e;
    i = j;
  }
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) {
    *out = Decimal{};
    return i;
  }
  digits.erase(0, first);
  while (digits.back() == '0') {
    digits.pop_back();
    ++exp10;
  }
  if (digits.size() > 19 || exp10 > 1000 || exp10 < -1000) return 0;
  uint64_t m = 0;
  for (char c : digits)
    m = m * 10 + static_cast<uint64_t>(c - '0');
  *out = Decimal{m, exp10};
  return i;
}

enum class Scaled { kOk, kFraction, kOverflow };

// d * multiplier * 10^exp10 as an integer.
Scaled scale(Decimal d, uint64_t multiplier, int exp10, uint64_t* out) {
  unsigned __int128 v = static_cast<unsigned __int128>(d.mantissa) * multiplier;
  int e = d.exp10 + exp10;
  constexpr unsigned __int128 kMax = ~uint64_t{0};
  if (v == 0) {
    *out = 0;
    return Scaled::kOk;
  }
  for (; e < 0; ++e) {
    if (v % 10 != 0) return Scaled::kFraction;
    v /= 10;
  }
  for (; e > 0; --e) {
    if (v > kMax) return Scaled::kOverflow;
    v *= 10;
  }
  if (v > kMax) return Scaled::kOverflow;
  *out = static_cast<uint64_t>(v);
  return Scaled::kOk;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

absl::Status invalid(std::string msg) {
  return absl::InvalidArgumentError(msg);
}

}  // namespace

std::string quote_got(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= 40) {
      out += "...";
      break;
    }
    out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  }
  return out;
}

absl::StatusOr<uint64_t> parse_unsigned(const std::string& text, uint64_t min, uint64_t max) {
  auto fail = [&] {
    return invalid(fmt::format("must be an integer in {}..{} (got {})", min, max, quote_got(text)));
  };
  if (text.empty() || text.size() > 20) return fail();
  unsigned __int128 v = 0;
  for (char c : text) {
    if (!is_digit(c)) return fail();
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v < min || v > max) return fail();
  return static_cast<uint64_t>(v);
}

absl::StatusOr<SimTime> parse_time(const std::string& raw, bool bare_is_seconds) {
  const std::string text = trim(raw);
  auto fail = [&] {
    return invalid(
        fmt::format("must be a time such as 500ns, 100us, 20ms or 1.5s (got {})", quote_got(raw)));
  };
  Decimal d;
  size_t n = read_decimal(text, &d);
  if (n == 0) return fail();
  const std::string unit = trim(text.substr(n));
  int exp10;
  if (unit == "ns") {
    exp10 = 0;
  } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {  // micro or mu sign
    exp10 = 3;
  } else if (unit == "ms") {
    exp10 = 6;
  } else if (unit == "s") {
    exp10 = 9;
  } else if (unit.empty() && (bare_is_seconds || d.mantissa == 0)) {
    exp10 = 9;
  } else if (unit.empty()) {
    return invalid(fmt::format("needs a unit: ns, us, ms or s (got {})", quote_got(raw)));
  } else {
    return fail();
  }
  uint64_t ns = 0;
  switch (scale(d, 1, exp10, &ns)) {
    case Scaled::kOk:
      return ns;
    case Scaled::kFraction:
      return invalid(fmt::format("must be a whole number of nanoseconds (got {})", quote_got(raw)));
    case Scaled::kOverflow:
      break;
  }
  return invalid(fmt::format("is too large (got {})", quote_got(raw)));
}

absl::StatusOr<ParsedSize> parse_size(const std::string& raw) {
  const std::string text = trim(raw);
  auto fail = [&] {
    return invalid(fmt::format(
        "must be an integer or a size with B, KiB, MiB, GiB, TiB or PiB (got {})", quote_got(raw)));
  };
  Decimal d;
  size_t n = read_decimal(text, &d);
  if (n == 0) return fail();
  const std::string unit = trim(text.substr(n));
  if (unit.empty()) {
    // A bare count must be written as an integer.
    auto v = parse_unsigned(text, 0, ~uint64_t{0});
    if (!v.ok()) return fail();
    return ParsedSize{*v, false};
  }
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int power = -1;
  for (int i = 0; i < 6; ++i) {
    if (unit == kUnits[i]) power = i;
  }
  if (power < 0) {
    const std::string u = lower(unit);
    if (u == "k" || u == "kb" || u == "m" || u == "mb" || u == "g" || u == "gb" || u == "t" ||
        u == "tb" || u == "p" || u == "pb") {
      return invalid(fmt::format(
          "unit '{}' is ambiguous: use KiB, MiB, GiB, TiB or PiB (powers of 1024) (got {})",
          quote_got(unit), quote_got(raw)));
    }
    return fail();
  }
  uint64_t bytes = 0;
  switch (scale(d, uint64_t{1} << (10 * power), 0, &bytes)) {
    case Scaled::kOk:
      return ParsedSize{bytes, true};
    case Scaled::kFraction:
      return invalid(fmt::format("must be a whole number of bytes (got {})", quote_got(raw)));
    case Scaled::kOverflow:
      break;
  }
  return invalid(fmt::format("is too large (got {})", quote_got(raw)));
}

absl::StatusOr<LinkSpeed> parse_link_speed(const std::string& raw) {
  std::string s = lower(trim(raw));
  if (s.size() > 2 && s.ends_with("fc")) s.resize(s.size() - 2);
  if (s.size() > 1 && s.back() == 'g') s.pop_back();
  if (s == "8") return LinkSpeed::k8G;
  if (s == "16") return LinkSpeed::k16G;
  if (s == "32") return LinkSpeed::k32G;
  if (s == "64") return LinkSpeed::k64G;
  return invalid(fmt::format("must be one of 8G, 16G, 32G, 64G (got {})", quote_got(raw)));
}

absl::StatusOr<uint64_t> parse_bandwidth_mb_s(const std::string& raw) {
  constexpr uint64_t kMax = 1'000'000;
  const std::string text = trim(raw);
  auto fail = [&] {
    return invalid(
        fmt::format("must be a bandwidth in 1..{} MB/s such as 1000MB/s or 2GB/s (got {})", kMax,
                    quote_got(raw)));
  };
  Decimal d;
  size_t n = read_decimal(text, &d);
  if (n == 0) return fail();
  const std::string unit = trim(text.substr(n));
  int exp10;
  if (unit == "MB/s") {
    exp10 = 0;
  } else if (unit == "GB/s") {
    exp10 = 3;
  } else if (unit.empty() && parse_unsigned(text, 0, kMax).ok()) {
    exp10 = 0;
  } else {
    return fail();
  }
  uint64_t mb = 0;
  if (scale(d, 1, exp10, &mb) != Scaled::kOk || mb < 1 || mb > kMax) return fail();
  return mb;
}

absl::StatusOr<double> parse_rate(const std::string& raw, double max) {
  const std::string text = trim(raw);
  auto fail = [&] {
    return invalid(fmt::format("must be a number in 0..{} (got {})", max, quote_got(raw)));
  };
  Decimal d;
  if (read_decimal(text, &d) != text.size()) return fail();
  double v = static_cast<double>(d.mantissa) * std::pow(10.0, d.exp10);
  if (!std::isfinite(v) || v < 0 || v > max) return fail();
  return v;
}

std::string format_time(SimTime ns) {
  if (ns == 0) return "0s";
  if (ns % kNsPerSec == 0) return fmt::format("{}s", ns / kNsPerSec);
  if (ns % kNsPerMs == 0) return fmt::format("{}ms", ns / kNsPerMs);
  if (ns % kNsPerUs == 0) return fmt::format("{}us", ns / kNsPerUs);
  return fmt::format("{}ns", ns);
}

const char* link_speed_name(LinkSpeed speed) {
  switch (speed) {
    case LinkSpeed::k8G:
      return "8G";
    case LinkSpeed::k16G:
      return "16G";
    case LinkSpeed::k32G:
      return "32G";
    case LinkSpeed::k64G:
      return "64G";
  }
  return "?";
}

}  // namespace splitpath::sim
