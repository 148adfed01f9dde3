// `vidrun profile`: a CPU bundle's forward or train_step timed loop by loop (through the runtime's
// parallel-for hook and the loop table vidc writes into the bundle), per spec layer and kind of
// work, against the untimed call and the machine's FMA peak measured in the same run.
#include "runtime/core/LoopProfile.h"
#include "runtime/core/Model.h"
#include "runtime/core/PeakFma.h"
#include "tools/vidrun/CommandLine.h"
#include "tools/vidrun/VideoCommands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

namespace vidnet {

namespace {

// The loops of one layer that do one kind of work on one shape (a strided data gradient's
// phases, a filter gradient's chunks), summed.
struct Row {
  std::string layer, kind, shape;
  int64_t line = 0, loops = 0, flops = 0, bytes = 0;
  double seconds = 0, calls = 0;
};

std::string fixed(double v, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

} // namespace

int profileCommand(int argc, char **argv, Usage usage, Fail fail) {
  std::string entry, batchText, itersText = "5", warmupText = "1", topText = "25";
  bool json = false, serialClips = false;
  ParsedCommand parsed;
  std::string problem = parseCommand(argc, argv, 2, "profile",
                                     {{"--entry", &entry, "--entry takes forward or train_step"},
                                      {"--batch", &batchText, "--batch takes a positive integer"},
                                      {"--iters", &itersText, "--iters takes a positive integer"},
                                      {"--warmup", &warmupText, "--warmup takes a non-negative integer"},
                                      {"--top", &topText, "--top takes a positive integer"},
                                      {"--serial-clips", nullptr, "", &serialClips},
                                      {"--json", nullptr, "", &json}},
                                     parsed);
  if (problem.empty())
    problem = oneBundle(parsed);
  int64_t iters = 0, warmup = 0, top = 0, batch = 0;
  if (problem.empty() && !integerIn(itersText, 1, 100000, iters))
    problem = "--iters takes a positive integer";
  if (problem.empty() && !integerIn(warmupText, 0, 100000, warmup))
    problem = "--warmup takes a non-negative integer";
  if (problem.empty() && !integerIn(topText, 1, 100000, top))
    problem = "--top takes a positive integer";
  if (problem.empty() && !batchText.empty() && !integerIn(batchText, 1, 4096, batch))
    problem = "--batch takes a positive integer";
  if (problem.empty() && !entry.empty() && entry != "forward" && entry != "train_step")
    problem = "--entry takes forward or train_step";
  if (!problem.empty())
    return usage(problem);

  std::string error;
  std::unique_ptr<rt::Bundle> bundle = rt::Bundle::open(parsed.positional[0], error);
  if (!bundle)
    return fail(error);
  const rt::Manifest &m = bundle->manifest();
  if (entry.empty())
    entry = bundle->hasTrainStep() ? "train_step" : "forward";
  const bool trainStep = entry == "train_step";
  std::optional<std::vector<rt::LoopRow>> loops = bundle->loops(trainStep, error);
  if (!loops)
    return fail(parsed.positional[0] + ": " + error);
  if (trainStep && batch != 0 && batch != m.trainBatch)
    return usage("train_step's batch is the bundle's (" + std::to_string(m.trainBatch) +
                 "): vidc build --batch N for another");
  // The forward's default is the batch the bundle was built for (vidc build --batch), also when
  // it has no train_step: profiling one clip of a batch-2 build read as half its time.
  if (batch == 0)
    batch = trainStep ? m.trainBatch : std::max(m.batch, m.forwardBatch);

  // The forward as Model::forward runs a batch of whole groups of threads clips: one clip per
  // thread, each clip's loops inline on its thread, the same loop timed on every thread at once.
  // A row's time is then its threads' summed time over the thread count (its share of the wall
  // clock, as in a step, whose loops spread over every thread). Timed one clip at a time with
  // --serial-clips, or where the batch leaves a remainder: on a Zen 3 (2 threads, batch 2)
  // torchvision r2plus1d_18's layer4 convs read 53-57% of the peak that way, split over 49
  // positions, against 67-72% one clip per thread, which is what its forward runs.
  const int threads = rt::Model::threads();
  rt::Model model(*bundle);
  const bool clipPerThread = !trainStep && !serialClips && model.concurrentClips(batch) == batch;
  const char *clipMode = trainStep ? "" : clipPerThread ? " (one clip per thread)" : " (one clip at a time)";
  model.setClipPerThread(clipPerThread);
  const std::vector<float> clips = syntheticClips(m, batch);
  const std::vector<int64_t> labels = syntheticLabels(m, batch);
  std::vector<float> logits(static_cast<size_t>(batch * m.classes));
  const rt::SgdHyper hyper{0.01f, 0.9f, 1e-4f};
  auto call = [&]() {
    if (trainStep) {
      float loss = 0;
      return model.trainStep(clips.data(), labels.data(), hyper, loss, logits.data(), error);
    }
    return model.forward(clips.data(), batch, logits.data(), error);
  };
  auto timedCalls = [&](std::vector<double> &seconds) {
    for (int64_t i = 0; i < iters; ++i) {
      auto start = std::chrono::steady_clock::now();
      if (!call())
        return false;
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return true;
  };

  std::cerr << "vidrun profile: " << m.model << " " << entry << ", batch " << batch << clipMode << ", " << loops->size()
            << " parallel loops; " << warmup << " warm-up, " << iters << " untimed and " << iters
            << " profiled calls\n";
  std::vector<double> untimed, profiled;
  for (int64_t i = 0; i < warmup; ++i)
    if (!call())
      return fail(error);
  if (!timedCalls(untimed))
    return fail(error);
  std::vector<double> loopSeconds(loops->size());
  std::vector<int64_t> loopCalls(loops->size());
  {
    rt::LoopTimer timer(loops->size());
    if (!timedCalls(profiled))
      return fail(error);
    for (size_t i = 0; i < loops->size(); ++i) {
      loopSeconds[i] = timer.seconds(i) / static_cast<double>(iters) / (clipPerThread ? threads : 1);
      loopCalls[i] = timer.calls(i);
    }
  }
  const rt::FmaPeak peak = rt::measureFmaPeak(static_cast<unsigned>(threads), 0.1);

  // Rows: per (layer, kind, shape), in the order of their first loop.
  std::map<std::tuple<std::string, std::string, std::string>, size_t> rowOf;
  std::vector<Row> rows;
  double inLoops = 0;
  for (size_t i = 0; i < loops->size(); ++i) {
    const rt::LoopRow &loop = (*loops)[i];
    auto [it, added] = rowOf.try_emplace({loop.layer, loop.kind, loop.shape}, rows.size());
    if (added)
      rows.push_back(Row{loop.layer, loop.kind, loop.shape, loop.line});
    Row &row = rows[it->second];
    // A loop's flops and bytes are its whole op's, however many calls it takes (a filter
    // gradient calls its loop once per chunk); the forward runs once per clip.
    const double callsPerEntry = static_cast<double>(loopCalls[i]) / static_cast<double>(iters);
    const int64_t perEntry = trainStep ? 1 : batch;
    row.flops += loop.flops * perEntry;
    row.bytes += loop.bytes * perEntry;
    row.loops += 1;
    row.calls += callsPerEntry;
    row.seconds += loopSeconds[i];
    inLoops += loopSeconds[i];
  }
  const double untimedS = median(untimed), profiledS = median(profiled);
  const double serialS = std::max(0.0, profiledS - inLoops);
  auto gflops = [](const Row &r) { return r.seconds > 0 ? static_cast<double>(r.flops) / r.seconds / 1e9 : 0.0; };

  // Totals per kind (the serial code is serialS).
  std::map<std::string, Row> kinds;
  for (const Row &r : rows) {
    Row &k = kinds[r.kind];
    k.seconds += r.seconds;
    k.flops += r.flops;
    k.bytes += r.bytes;
  }

  if (json) {
    nlohmann::json report = {{"bundle", m.model},
                             {"entry", entry},
                             {"batch", batch},
                             {"clip", {m.channels, m.frames, m.height, m.width}},
                             {"threads", threads},
                             {"clips_per_thread", clipPerThread},
                             {"peak_gflops", peak.gflops},
                             {"vector_bits", peak.vectorBits},
                             {"iters", iters},
                             {"untimed_s", untimedS},
                             {"profiled_s", profiledS},
                             {"loops_s", inLoops},
                             {"serial_s", serialS}};
    nlohmann::json &out = report["rows"] = nlohmann::json::array();
    for (const Row &r : rows)
      out.push_back({{"layer", r.layer},
                     {"line", r.line},
                     {"kind", r.kind},
                     {"shape", r.shape},
                     {"loops", r.loops},
                     {"calls", r.calls},
                     {"seconds", r.seconds},
                     {"flops", r.flops},
                     {"bytes", r.bytes},
                     {"gflops", gflops(r)},
                     {"peak_fraction", peak.gflops > 0 ? gflops(r) / peak.gflops : 0.0}});
    nlohmann::json &byKind = report["kinds"] = nlohmann::json::object();
    for (const auto &[name, k] : kinds)
      byKind[name] = {{"seconds", k.seconds}, {"flops", k.flops}, {"bytes", k.bytes}, {"gflops", gflops(k)}};
    std::cout << report.dump() << std::endl;
    return 0;
  }

  auto share = [&](double s) { return fixed(100.0 * s / profiledS, 1) + "%"; };
  auto rate = [&](const Row &r) {
    if (r.flops > 0)
      return fixed(gflops(r), 1) + " GFLOP/s" +
             (peak.gflops > 0 ? " (" + fixed(100.0 * gflops(r) / peak.gflops, 0) + "% of peak)" : "");
    if (r.bytes > 0 && r.seconds > 0)
      return fixed(static_cast<double>(r.bytes) / r.seconds / 1e9, 1) + " GB/s";
    return std::string();
  };
  std::printf("%s %s, batch %lld, %lldx%lldx%lldx%lld, %d threads%s, FMA peak %s GFLOP/s (%d-bit, measured now)\n",
              m.model.c_str(), entry.c_str(), static_cast<long long>(batch), static_cast<long long>(m.channels),
              static_cast<long long>(m.frames), static_cast<long long>(m.height), static_cast<long long>(m.width),
              threads, clipMode, fixed(peak.gflops, 1).c_str(), peak.vectorBits);
  std::printf("untimed %.1f ms per call, profiled %.1f ms (%+.1f%%; medians of %lld): %s in %zu loops, %s serial "
              "code between them\n\n",
              untimedS * 1e3, profiledS * 1e3, 100.0 * (profiledS - untimedS) / untimedS, static_cast<long long>(iters),
              share(inLoops).c_str(), loops->size(), share(serialS).c_str());
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows[a].seconds > rows[b].seconds; });
  std::printf("%9s %6s  %-22s %4s  %-20s %-36s %s\n", "ms", "share", "layer", "line", "kind", "shape", "rate");
  for (size_t i = 0; i < order.size() && static_cast<int64_t>(i) < top; ++i) {
    const Row &r = rows[order[i]];
    std::printf("%9.2f %6s  %-22s %4lld  %-20s %-36s %s\n", r.seconds * 1e3, share(r.seconds).c_str(), r.layer.c_str(),
                static_cast<long long>(r.line), r.kind.c_str(), r.shape.c_str(), rate(r).c_str());
  }
  if (static_cast<int64_t>(order.size()) > top)
    std::printf("%9s  ... %zu more rows (--top N, or --json for all)\n", "", order.size() - static_cast<size_t>(top));
  std::printf("\nby kind:\n");
  for (const auto &[name, k] : kinds)
    std::printf("%9.2f %6s  %-20s %s\n", k.seconds * 1e3, share(k.seconds).c_str(), name.c_str(), rate(k).c_str());
  std::printf("%9.2f %6s  %-20s\n", serialS * 1e3, share(serialS).c_str(), "serial code");
  return 0;
}

} // namespace vidnet
