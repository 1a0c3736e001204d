// Deterministic random streams. One seed determines a whole run; every component
// draws from its own stream, derived from the seed and the component's name, so
// that adding a component or splitting the fabric into partitions does not change
// what the others draw.
#pragma once

#include <cstdint>
#include <string_view>

namespace splitpath::sim {

// splitmix64 step: used to seed and to derive streams.
constexpr uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// FNV-1a: a stable (platform- and run-independent) hash of a name.
constexpr uint64_t stable_hash(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001B3ull;
  }
  return h;
}

// xoshiro256** generator.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) {
    uint64_t s = seed;
    for (auto& word : state_)
      word = splitmix64(s);
  }

  // A stream for the component `name`, independent of every other name's.
  static Rng derive(uint64_t seed, std::string_view name) {
    uint64_t s = seed ^ stable_hash(name);
    return Rng(splitmix64(s));
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound) without modulo bias worth caring about (Lemire).
  uint64_t uniform(uint64_t bound) {
    if (bound == 0) return 0;
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
  }

  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Exponentially distributed with the given mean (inter-arrival times).
  double exponential(double mean);

 private:
  static constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace splitpath::sim
