// Independent vector FMA chains, one set per thread, in the widest ISA the CPU reports.
#include "runtime/core/PeakFma.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace vidnet::rt {
namespace {

constexpr int kChains = 12; // enough independent accumulators to cover FMA latency x ports

#if defined(__x86_64__)
__attribute__((target("avx512f"))) float spin512(long iterations) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it)
#pragma GCC unroll 16 // keep every accumulator in a register
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 total = acc[0];
  for (int i = 1; i < kChains; ++i)
    total = _mm512_add_ps(total, acc[i]);
  return _mm512_reduce_add_ps(total);
}

__attribute__((target("avx2,fma"))) float spin256(long iterations) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it)
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 total = acc[0];
  for (int i = 1; i < kChains; ++i)
    total = _mm256_add_ps(total, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, total);
  return lanes[0];
}
#endif

} // namespace

FmaPeak measureFmaPeak(unsigned threads, double seconds, int rounds) {
  FmaPeak peak;
#if defined(__x86_64__)
  __builtin_cpu_init();
  float (*spin)(long) = nullptr;
  if (__builtin_cpu_supports("avx512f")) {
    spin = spin512;
    peak.vectorBits = 512;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    spin = spin256;
    peak.vectorBits = 256;
  }
  if (!spin)
    return peak;
  threads = std::max(1u, threads);
  // Iterations for `seconds` at an assumed 4 GHz and one vector FMA per cycle: short rounds on
  // slower machines are still long enough to time.
  const long iterations = std::max(1000L, static_cast<long>(seconds * 4e9 / kChains));
  const int lanes = peak.vectorBits / 32;
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::thread> pool;
    std::vector<float> sinks(threads);
    auto start = std::chrono::steady_clock::now();
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { sinks[t] = spin(iterations); });
    for (std::thread &t : pool)
      t.join();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double flops = 2.0 * lanes * kChains * static_cast<double>(iterations) * threads;
    peak.gflops = std::max(peak.gflops, flops / elapsed / 1e9 + 0 * static_cast<double>(sinks[0]));
  }
#else
  (void)threads, (void)seconds, (void)rounds;
#endif
  return peak;
}

} // namespace vidnet::rt
