// Dense reads of a buffer larger than the caches, one contiguous share per thread.
#include "runtime/core/MemoryBandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <new>
#include <thread>
#include <vector>

namespace vidnet::rt {
namespace {

// Four independent chains, so that the loads, not one chain of XORs, set the pace.
std::uint64_t readAll(const std::uint64_t *words, std::size_t count) {
  std::uint64_t a = 0, b = 0, c = 0, d = 0;
  std::size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    a ^= words[i];
    b ^= words[i + 1];
    c ^= words[i + 2];
    d ^= words[i + 3];
  }
  for (; i < count; ++i)
    a ^= words[i];
  return a ^ b ^ c ^ d;
}

// Runs body(t, first, count) on `threads` threads over `words` words split in contiguous shares.
template <typename Body> void onShares(unsigned threads, std::size_t words, Body body) {
  std::vector<std::thread> pool;
  const std::size_t share = words / threads;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { body(t, t * share, t + 1 == threads ? words - t * share : share); });
  for (std::thread &thread : pool)
    thread.join();
}

} // namespace

double measureReadBandwidth(unsigned threads, std::size_t bytes, int rounds) {
  threads = std::max(1u, threads);
  const std::size_t words = bytes / sizeof(std::uint64_t);
  std::unique_ptr<std::uint64_t[]> buffer(new (std::nothrow) std::uint64_t[words]);
  if (!buffer || words < threads)
    return 0;
  // Each thread writes its share first, so that its pages are where it runs (and are real pages,
  // not the shared zero page that an untouched allocation reads from).
  onShares(threads, words, [&](unsigned t, std::size_t first, std::size_t count) {
    std::fill(buffer.get() + first, buffer.get() + first + count, std::uint64_t{t} * 0x9E3779B97F4A7C15ull + 1);
  });
  std::vector<std::uint64_t> sinks(threads);
  double best = 0;
  for (int round = 0; round < rounds; ++round) {
    auto start = std::chrono::steady_clock::now();
    onShares(threads, words, [&](unsigned t, std::size_t first, std::size_t count) {
      sinks[t] ^= readAll(buffer.get() + first, count);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(words * sizeof(std::uint64_t)) / seconds / 1e9);
  }
  // Stored where the compiler must keep it, so that the reads are not left out.
  static volatile std::uint64_t sink;
  for (std::uint64_t s : sinks)
    sink = sink ^ s;
  return best;
}

} // namespace vidnet::rt
