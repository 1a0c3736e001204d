// The deterministic random source of the fuzz replay tests: one seed (printed,
// and settable from the environment) reproduces a whole run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace splitpath::testing {

class Xorshift {
 public:
  explicit Xorshift(uint64_t seed) : s_(seed ? seed : 1) {}
  uint64_t next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
  uint8_t byte() { return static_cast<uint8_t>(next()); }

 private:
  uint64_t s_;
};

// The value of environment variable `name` (decimal or 0x hex), or `fallback`.
inline uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 0) : fallback;
}

}  // namespace splitpath::testing
