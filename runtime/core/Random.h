// A small deterministic generator (xoshiro256**, seeded by splitmix64) with normal samples:
// the same seed gives the same weights on every machine and build.
#pragma once

#include <cmath>
#include <cstdint>

namespace vidnet::rt {

class Random {
public:
  explicit Random(uint64_t seed) {
    for (uint64_t &s : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    uint64_t result = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3], s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in (0, 1): never 0, so log() below is finite.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  // Box-Muller; the second value of each pair is dropped for simplicity.
  double normal(double mean, double std) {
    const double u = uniform(), v = uniform();
    return normalOf(u, v, mean, std);
  }
  // normal()'s sample from its two uniforms, u drawn first: uniforms drawn in order can be
  // turned into samples on any number of threads, the same bits.
  static double normalOf(double u, double v, double mean, double std) {
    return mean + std * std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
  }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

} // namespace vidnet::rt
