// The machine's fp32 FMA peak on one thread and on all of them (runtime/core/PeakFma), and its
// memory read bandwidth on all of them (runtime/core/MemoryBandwidth), as JSON.
#include "runtime/core/PeakFma.h"
#include "runtime/core/MemoryBandwidth.h"

#include <algorithm>
#include <cstdio>
#include <thread>

int main() {
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  vidnet::rt::FmaPeak one = vidnet::rt::measureFmaPeak(1, 0.25), all = vidnet::rt::measureFmaPeak(threads, 0.25);
  const double readGbs = vidnet::rt::measureReadBandwidth(threads);
  std::printf(
      "{\"vector_bits\": %d, \"threads\": %u, \"peak_gflops_1_thread\": %.1f, \"peak_gflops_all_threads\": %.1f, "
      "\"read_gbs_all_threads\": %.1f}\n",
      one.vectorBits, threads, one.gflops, all.gflops, readGbs);
}
