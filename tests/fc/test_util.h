// Helpers shared by the wire codec tests.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "splitpath/fc/wire.h"

namespace splitpath::fc::test {

using Bytes = std::vector<uint8_t>;

inline Bytes bytes(std::initializer_list<int> v) {
  Bytes out;
  for (int b : v)
    out.push_back(static_cast<uint8_t>(b));
  return out;
}

inline std::string describe(const WireError& e) {
  return std::string(wire_errc_name(e.code)) + " " + e.field + " @" + std::to_string(e.offset);
}

// Expects `r` to have failed with exactly this code, field and offset.
template <typename T>
void expect_error(const WireResult<T>& r, WireErrc code, const std::string& field,
                  uint32_t offset) {
  ASSERT_FALSE(r.ok()) << "expected " << wire_errc_name(code) << " " << field;
  EXPECT_EQ(r.error().code, code) << describe(r.error());
  EXPECT_EQ(std::string(r.error().field), field) << describe(r.error());
  EXPECT_EQ(r.error().offset, offset) << describe(r.error());
}

// Decodes every proper prefix of `full`, each copied into its own exactly-sized
// heap buffer so AddressSanitizer flags any read past the span, and expects each
// to fail with kTruncated or kBadLength.
template <typename Decode>
void expect_prefixes_fail(const Bytes& full, Decode decode) {
  for (size_t n = 0; n < full.size(); ++n) {
    Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = decode(ConstBytes(prefix.data(), prefix.size()));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_TRUE(r.error().code == WireErrc::kTruncated || r.error().code == WireErrc::kBadLength)
        << "prefix of " << n << " bytes: " << describe(r.error());
  }
}

// Encodes `value`, decodes the bytes and expects the same value back; also
// expects encoding into a buffer one byte short to fail with kBufferTooSmall.
// Returns the encoding.
template <typename T, typename Encode, typename Decode>
Bytes expect_round_trip(const T& value, Encode encode, Decode decode) {
  std::array<uint8_t, 4096> buf{};
  auto n = encode(value, MutableBytes(buf));
  EXPECT_TRUE(n.ok()) << (n.ok() ? "" : describe(n.error()));
  if (!n.ok()) return {};
  Bytes out(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  auto d = decode(ConstBytes(out));
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : describe(d.error()));
  if (d.ok()) {
    EXPECT_TRUE(*d == value);
  }
  if (*n > 0) {
    Bytes small(*n - 1);
    auto s = encode(value, MutableBytes(small));
    EXPECT_FALSE(s.ok());
    if (!s.ok()) {
      EXPECT_EQ(s.error().code, WireErrc::kBufferTooSmall);
    }
  }
  return out;
}

}  // namespace splitpath::fc::test
