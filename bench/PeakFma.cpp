// The machine's fp32 FMA peak: independent vector FMA chains on every thread, the number the
// generated code's GFLOP/s is a fraction of. Prints JSON.
#include <chrono>
#include <cstdio>
#include <immintrin.h>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 12;  // enough independent accumulators to cover FMA latency x ports
constexpr long kIterations = 200'000'000 / kChains;

#if defined(__AVX512F__)
constexpr int kLanes = 16;
double spin() {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < kIterations; ++it)
#pragma GCC unroll 16  // keep every accumulator in a register
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  float sink[kLanes];
  __m512 total = acc[0];
  for (int i = 1; i < kChains; ++i)
    total = _mm512_add_ps(total, acc[i]);
  _mm512_storeu_ps(sink, total);
  return sink[0];
}
#else
constexpr int kLanes = 8;
double spin() {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < kIterations; ++it)
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  float sink[kLanes];
  __m256 total = acc[0];
  for (int i = 1; i < kChains; ++i)
    total = _mm256_add_ps(total, acc[i]);
  _mm256_storeu_ps(sink, total);
  return sink[0];
}
#endif

// GFLOP/s of `threads` threads spinning at once (2 flops per lane per FMA), best of 3.
double measure(unsigned threads) {
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::thread> pool;
    std::vector<double> sinks(threads);
    auto start = std::chrono::steady_clock::now();
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { sinks[t] = spin(); });
    for (auto &t : pool)
      t.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double flops = 2.0 * kLanes * kChains * static_cast<double>(kIterations) * threads;
    best = std::max(best, flops / seconds / 1e9 + 0 * sinks[0]);
  }
  return best;
}

} // namespace

int main() {
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::printf("{\"vector_bits\": %d, \"threads\": %u, \"peak_gflops_1_thread\": %.1f, \"peak_gflops_all_threads\": %.1f}\n",
              kLanes * 32, threads, measure(1), measure(threads));
}
