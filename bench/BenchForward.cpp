// Times a bundle's forward through the runtime (weights from a seed, random clips): median of
// several runs after a warm-up, as JSON. The PyTorch side runs in bench/forward_vs_pytorch.py.
#include "runtime/core/Model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: vidnet-bench-forward BUNDLE [CLIPS] [RUNS]\n");
    return 2;
  }
  std::string error;
  auto bundle = vidnet::rt::Bundle::open(argv[1], error);
  if (!bundle) {
    std::fprintf(stderr, "vidnet-bench-forward: %s\n", error.c_str());
    return 1;
  }
  const vidnet::rt::Manifest &m = bundle->manifest();
  int64_t clips = argc > 2 ? std::stoll(argv[2]) : m.batch;
  int runs = argc > 3 ? std::stoi(argv[3]) : 5;
  vidnet::rt::Model model(*bundle);
  model.initialize(1);
  std::vector<float> x(static_cast<size_t>(clips * m.channels * m.frames * m.height * m.width));
  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  for (float &v : x)
    v = normal(rng);
  std::vector<float> logits(static_cast<size_t>(clips * m.classes));
  model.forward(x.data(), clips, logits.data());  // warm-up: page faults, caches
  std::vector<double> seconds;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    model.forward(x.data(), clips, logits.data());
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  double median = seconds[seconds.size() / 2];
  double gflop = 2.0 * static_cast<double>(m.macsPerClip) * static_cast<double>(clips) / 1e9;
  std::printf("{\"model\": \"%s\", \"clips\": %lld, \"threads\": %d, \"median_s\": %.4f, \"min_s\": %.4f, "
              "\"gflop\": %.2f, \"gflops\": %.1f}\n",
              m.model.c_str(), static_cast<long long>(clips), vidnet::rt::Model::threads(), median, seconds[0], gflop,
              gflop / median);
}
