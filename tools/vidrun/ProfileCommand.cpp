// `vidrun profile`: a CPU bundle's forward or train_step timed loop by loop (through the runtime's
// parallel-for hook and the loop table vidc writes into the bundle), per spec layer and kind of
// work, against the untimed call and the machine's FMA peak and memory bandwidth measured in the
// same run.
#include "runtime/core/LoopProfile.h"
#include "runtime/core/MemoryBandwidth.h"
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
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace vidnet {

namespace {

// The loops of one layer that do one kind of work on one shape (a strided data gradient's
// phases, a filter gradient's chunks), summed; `perCall` is that sum in each profiled call.
struct Row {
  std::string layer, kind, shape;
  int64_t line = 0, loops = 0, flops = 0, bytes = 0;
  double seconds = 0, calls = 0;
  std::vector<double> perCall;
};

// One bundle being profiled: its model, inputs and what its calls measured.
struct Subject {
  std::string path;
  std::unique_ptr<rt::Bundle> bundle;
  std::vector<rt::LoopRow> loops;
  std::unique_ptr<rt::Model> model;
  int64_t batch = 0;
  bool clipPerThread = false;
  std::vector<float> clips, logits;
  std::vector<int64_t> labels;
  std::vector<double> untimed, profiled;
  std::vector<std::vector<double>> loopSeconds; // per profiled call, per loop (a thread's share)
  std::vector<int64_t> loopCalls;               // per loop, over every profiled call
  std::vector<Row> rows;
  std::map<std::string, Row> kinds;
  // The conv rows by kernel, stride and direction ("3x3x3 /2x2x2" x "conv filter gradient"): the
  // kinds of convolution whose share of the peak a kernel writer compares, every layer of one
  // summed (Row::loops counts the layers).
  std::map<std::pair<std::string, std::string>, Row> convKinds;
  double inLoops = 0;                    // the profiled calls' mean time in loops, as the rows' times are means
  double untimedS = 0, profiledS = 0;    // medians of the calls
  double profiledMeanS = 0, serialS = 0; // the profiled calls' mean, and its time outside loops
};

std::string fixed(double v, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

// A conv row's kernel and stride ("3x3x3 /2x2x2") from its shape ("3x3x3 64->128 /2x2x2, out
// 2x4x28x28"); empty for another row.
std::string convKindOf(const std::string &shape) {
  const size_t kernelEnd = shape.find(' '), stride = shape.find(" /"), strideEnd = shape.find(',', stride);
  if (kernelEnd == std::string::npos || stride == std::string::npos || strideEnd == std::string::npos)
    return "";
  return shape.substr(0, kernelEnd) + shape.substr(stride, strideEnd - stride);
}

// The subject's rows, in the order of their first loop, and its totals per kind.
void summarize(Subject &s, int64_t iters, bool trainStep) {
  std::map<std::tuple<std::string, std::string, std::string>, size_t> rowOf;
  for (size_t i = 0; i < s.loops.size(); ++i) {
    const rt::LoopRow &loop = s.loops[i];
    auto [it, added] = rowOf.try_emplace({loop.layer, loop.kind, loop.shape}, s.rows.size());
    if (added)
      s.rows.push_back(Row{.layer = loop.layer,
                           .kind = loop.kind,
                           .shape = loop.shape,
                           .line = loop.line,
                           .perCall = std::vector<double>(static_cast<size_t>(iters), 0.0)});
    Row &row = s.rows[it->second];
    // A loop's flops and bytes are its whole op's, however many calls it takes (a filter
    // gradient calls its loop once per chunk); the forward runs once per clip.
    const int64_t perEntry = trainStep ? 1 : s.batch;
    row.flops += loop.flops * perEntry;
    row.bytes += loop.bytes * perEntry;
    row.loops += 1;
    row.calls += static_cast<double>(s.loopCalls[i]) / static_cast<double>(iters);
    for (int64_t call = 0; call < iters; ++call) {
      const double seconds = s.loopSeconds[static_cast<size_t>(call)][i];
      row.perCall[static_cast<size_t>(call)] += seconds;
      row.seconds += seconds / static_cast<double>(iters);
      s.inLoops += seconds / static_cast<double>(iters);
    }
  }
  s.untimedS = median(s.untimed);
  s.profiledS = median(s.profiled);
  // Against the mean, as the loops are: each call's loops are within it, so their mean is within
  // the calls' mean (against the median, a slow call's loops read as more than 100% of it).
  for (double seconds : s.profiled)
    s.profiledMeanS += seconds / static_cast<double>(s.profiled.size());
  s.serialS = std::max(0.0, s.profiledMeanS - s.inLoops);
  auto addTo = [](Row &total, const Row &r) {
    total.seconds += r.seconds;
    total.flops += r.flops;
    total.bytes += r.bytes;
    total.perCall.resize(r.perCall.size(), 0.0);
    for (size_t call = 0; call < r.perCall.size(); ++call)
      total.perCall[call] += r.perCall[call];
  };
  for (const Row &r : s.rows) {
    addTo(s.kinds[r.kind], r);
    if (std::string convKind = convKindOf(r.shape); r.kind.starts_with("conv") && !convKind.empty()) {
      Row &c = s.convKinds[{convKind, r.kind}];
      addTo(c, r);
      c.loops += 1;
    }
  }
}

double gflops(const Row &r) { return r.seconds > 0 ? static_cast<double>(r.flops) / r.seconds / 1e9 : 0.0; }

// A row's (or a kind's) time in its fastest profiled call: the call the machine's other tenants
// disturbed least, as the peak is the best of its measurements.
double fastestCall(const Row &r) {
  return r.perCall.empty() ? 0.0 : *std::min_element(r.perCall.begin(), r.perCall.end());
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
  // Several bundles take turns call by call (an A/B comparison whose calls see the same phases
  // of a shared machine).
  constexpr size_t kMaxBundles = 8;
  if (problem.empty() && parsed.positional.empty())
    problem = "no bundle given";
  if (problem.empty() && parsed.positional.size() > kMaxBundles)
    problem = "at most " + std::to_string(kMaxBundles) + " bundles";
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
  std::vector<Subject> subjects(parsed.positional.size());
  for (size_t i = 0; i < subjects.size(); ++i) {
    Subject &s = subjects[i];
    s.path = parsed.positional[i];
    s.bundle = rt::Bundle::open(s.path, error);
    if (!s.bundle)
      return fail(error);
    const rt::Manifest &m = s.bundle->manifest();
    // The first bundle picks the default entry; the others must have it too.
    if (entry.empty())
      entry = s.bundle->hasTrainStep() ? "train_step" : "forward";
    const bool trainStep = entry == "train_step";
    std::optional<std::vector<rt::LoopRow>> loops = s.bundle->loops(trainStep, error);
    if (!loops)
      return fail(s.path + ": " + error);
    s.loops = std::move(*loops);
    if (trainStep && batch != 0 && batch != m.trainBatch)
      return usage("train_step's batch is the bundle's (" + std::to_string(m.trainBatch) +
                   "): vidc build --batch N for another");
    // The forward's default is the batch the bundle was built for (vidc build --batch), also when
    // it has no train_step: profiling one clip of a batch-2 build read as half its time.
    s.batch = batch != 0 ? batch : trainStep ? m.trainBatch : std::max(m.batch, m.forwardBatch);
  }
  const bool trainStep = entry == "train_step";

  // The forward as Model::forward runs a batch of whole groups of threads clips: one clip per
  // thread, each clip's loops inline on its thread, the same loop timed on every thread at once.
  // A row's time is then its threads' summed time over the thread count (its share of the wall
  // clock, as in a step, whose loops spread over every thread). Timed one clip at a time with
  // --serial-clips, or where the batch leaves a remainder: on a Zen 3 (2 threads, batch 2)
  // torchvision r2plus1d_18's layer4 convs read 53-57% of the peak that way, split over 49
  // positions, against 67-72% one clip per thread, which is what its forward runs.
  const int threads = rt::Model::threads();
  for (Subject &s : subjects) {
    const rt::Manifest &m = s.bundle->manifest();
    s.model = std::make_unique<rt::Model>(*s.bundle);
    s.clipPerThread = !trainStep && !serialClips && s.model->concurrentClips(s.batch) == s.batch;
    s.model->setClipPerThread(s.clipPerThread);
    s.clips = syntheticClips(m, s.batch);
    s.labels = syntheticLabels(m, s.batch);
    s.logits.resize(static_cast<size_t>(s.batch * m.classes));
    s.loopCalls.assign(s.loops.size(), 0);
  }
  const rt::SgdHyper hyper{0.01f, 0.9f, 1e-4f};
  auto call = [&](Subject &s) {
    if (trainStep) {
      float loss = 0;
      return s.model->trainStep(s.clips.data(), s.labels.data(), hyper, loss, s.logits.data(), error);
    }
    return s.model->forward(s.clips.data(), s.batch, s.logits.data(), error);
  };
  auto timedCall = [&](Subject &s, std::vector<double> &seconds) {
    auto start = std::chrono::steady_clock::now();
    if (!call(s))
      return false;
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return true;
  };
  auto clipMode = [&](const Subject &s) -> std::string {
    return trainStep ? "" : s.clipPerThread ? " (one clip per thread)" : " (one clip at a time)";
  };

  for (const Subject &s : subjects)
    std::cerr << "vidrun profile: " << s.bundle->manifest().model << " " << entry << ", batch " << s.batch
              << clipMode(s) << ", " << s.loops.size() << " parallel loops; " << warmup << " warm-up, " << iters
              << " untimed and " << iters << " profiled calls"
              << (subjects.size() > 1 ? " (" + s.path + ", the bundles taking turns)" : "") << "\n";
  for (int64_t i = 0; i < warmup; ++i)
    for (Subject &s : subjects)
      if (!call(s))
        return fail(error);
  for (int64_t i = 0; i < iters; ++i)
    for (Subject &s : subjects)
      if (!timedCall(s, s.untimed))
        return fail(error);
  // The FMA peak of a shared machine moves with its other tenants (a Zen 3 VM's two threads
  // measured 137-185 GFLOP/s a second apart, one thread 91-95): one short measurement after every
  // profiled call, and the best of them all is the peak the rows are a share of.
  std::vector<double> peakSamples;
  for (int64_t i = 0; i < iters; ++i)
    for (Subject &s : subjects) {
      rt::LoopTimer timer(s.loops.size());
      if (!timedCall(s, s.profiled))
        return fail(error);
      peakSamples.push_back(rt::measureFmaPeak(static_cast<unsigned>(threads), 0.05, 1).gflops);
      std::vector<double> &seconds = s.loopSeconds.emplace_back(s.loops.size());
      for (size_t l = 0; l < s.loops.size(); ++l) {
        seconds[l] = timer.seconds(l) / (s.clipPerThread ? threads : 1);
        s.loopCalls[l] += timer.calls(l);
      }
    }
  rt::FmaPeak peak = rt::measureFmaPeak(static_cast<unsigned>(threads), 0.1);
  peakSamples.push_back(peak.gflops);
  peak.gflops = *std::max_element(peakSamples.begin(), peakSamples.end());
  const double lowestPeak = *std::min_element(peakSamples.begin(), peakSamples.end());
  const double bandwidthGbs = rt::measureReadBandwidth(static_cast<unsigned>(threads));
  // A row's products at the peak, and its least traffic at the bandwidth (a conv's operands moved
  // once, an elementwise loop's reads and writes): "traffic" is the second over the first.
  auto computeS = [&](const Row &r) {
    return peak.gflops > 0 ? static_cast<double>(r.flops) / (peak.gflops * 1e9) : 0.0;
  };
  auto memoryS = [&](const Row &r) {
    return bandwidthGbs > 0 ? static_cast<double>(r.bytes) / (bandwidthGbs * 1e9) : 0.0;
  };
  auto fastestCallShare = [&](const Row &r) {
    const double seconds = fastestCall(r);
    return peak.gflops > 0 && seconds > 0 ? static_cast<double>(r.flops) / seconds / 1e9 / peak.gflops : 0.0;
  };
  for (Subject &s : subjects)
    summarize(s, iters, trainStep);

  if (json) {
    // One object per bundle, one per line.
    for (const Subject &s : subjects) {
      const rt::Manifest &m = s.bundle->manifest();
      nlohmann::json report = {{"bundle", m.model},
                               {"path", s.path},
                               {"entry", entry},
                               {"batch", s.batch},
                               {"clip", {m.channels, m.frames, m.height, m.width}},
                               {"threads", threads},
                               {"clips_per_thread", s.clipPerThread},
                               {"peak_gflops", peak.gflops},
                              {"peak_gflops_lowest", lowestPeak},
                              {"peak_samples", peakSamples.size()},
                               {"vector_bits", peak.vectorBits},
                               {"read_gbs", bandwidthGbs},
                               {"iters", iters},
                               {"untimed_s", s.untimedS},
                               {"profiled_s", s.profiledS},
                               {"profiled_mean_s", s.profiledMeanS},
                               {"loops_s", s.inLoops},
                               {"serial_s", s.serialS}};
      // What every row, kind and conv kind says of its work: time, products, bytes, their rates.
      auto work = [&](const Row &r) {
        return nlohmann::json{{"seconds", r.seconds},
                              {"flops", r.flops},
                              {"bytes", r.bytes},
                              {"gflops", gflops(r)},
                              {"peak_fraction", peak.gflops > 0 ? gflops(r) / peak.gflops : 0.0},
                              {"seconds_fastest_call", fastestCall(r)},
                              {"fastest_call_peak_fraction", fastestCallShare(r)},
                              {"compute_s", computeS(r)},
                              {"memory_s", memoryS(r)}};
      };
      nlohmann::json &out = report["rows"] = nlohmann::json::array();
      for (const Row &r : s.rows) {
        nlohmann::json row = work(r);
        row.update({{"layer", r.layer},
                    {"line", r.line},
                    {"kind", r.kind},
                    {"shape", r.shape},
                    {"loops", r.loops},
                    {"calls", r.calls},
                    {"seconds_min", *std::min_element(r.perCall.begin(), r.perCall.end())},
                    {"seconds_median", median(r.perCall)},
                    {"seconds_max", *std::max_element(r.perCall.begin(), r.perCall.end())}});
        out.push_back(row);
      }
      nlohmann::json &byKind = report["kinds"] = nlohmann::json::object();
      for (const auto &[name, k] : s.kinds)
        byKind[name] = work(k);
      nlohmann::json &byConvKind = report["conv_kinds"] = nlohmann::json::array();
      for (const auto &[key, c] : s.convKinds) {
        nlohmann::json convKind = work(c);
        convKind.update({{"conv", key.first}, {"kind", key.second}, {"layers", c.loops}});
        byConvKind.push_back(convKind);
      }
      std::cout << report.dump() << std::endl;
    }
    return 0;
  }

  const Subject &first = subjects[0];
  auto share = [&](double s) { return fixed(100.0 * s / first.profiledMeanS, 1) + "%"; };
  auto rate = [&](const Row &r) {
    if (r.flops > 0)
      return fixed(gflops(r), 1) + " GFLOP/s" +
             (peak.gflops > 0 ? " (" + fixed(100.0 * gflops(r) / peak.gflops, 0) + "% of peak" +
                                    (r.bytes > 0 && bandwidthGbs > 0
                                         ? ", traffic " + fixed(100.0 * memoryS(r) / computeS(r), 0) + "%"
                                         : "") +
                                    ")"
                              : "");
    if (r.bytes > 0 && r.seconds > 0)
      return fixed(static_cast<double>(r.bytes) / r.seconds / 1e9, 1) + " GB/s" +
             (bandwidthGbs > 0 ? " (" + fixed(100.0 * memoryS(r) / r.seconds, 0) + "% of memory)" : "");
    return std::string();
  };
  auto callLine = [&](const Subject &s) {
    return "untimed " + fixed(s.untimedS * 1e3, 1) + " ms per call, profiled " + fixed(s.profiledS * 1e3, 1) + " ms (" +
           (s.profiledS >= s.untimedS ? "+" : "") + fixed(100.0 * (s.profiledS - s.untimedS) / s.untimedS, 1) +
           "%; medians of " + std::to_string(iters) + "): on average " + fixed(100.0 * s.inLoops / s.profiledMeanS, 1) +
           "% in " + std::to_string(s.loops.size()) + " loops, " + fixed(100.0 * s.serialS / s.profiledMeanS, 1) +
           "% serial code between them";
  };
  const rt::Manifest &fm = first.bundle->manifest();
  std::printf("%s %s, batch %lld, %lldx%lldx%lldx%lld, %d threads%s, FMA peak %s GFLOP/s (%d-bit; best of %zu, "
              "lowest %s), memory %s GB/s (read), measured now\n",
              fm.model.c_str(), entry.c_str(), static_cast<long long>(first.batch), static_cast<long long>(fm.channels),
              static_cast<long long>(fm.frames), static_cast<long long>(fm.height), static_cast<long long>(fm.width),
              threads, clipMode(first).c_str(), fixed(peak.gflops, 1).c_str(), peak.vectorBits, peakSamples.size(),
              fixed(lowestPeak, 1).c_str(), fixed(bandwidthGbs, 1).c_str());
  std::vector<size_t> order(first.rows.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return first.rows[a].seconds > first.rows[b].seconds; });

  if (subjects.size() == 1) {
    std::printf("%s\n\n", callLine(first).c_str());
    std::printf("%9s %6s  %-22s %4s  %-20s %-36s %s\n", "ms", "share", "layer", "line", "kind", "shape", "rate");
    for (size_t i = 0; i < order.size() && static_cast<int64_t>(i) < top; ++i) {
      const Row &r = first.rows[order[i]];
      std::printf("%9.2f %6s  %-22s %4lld  %-20s %-36s %s\n", r.seconds * 1e3, share(r.seconds).c_str(),
                  r.layer.c_str(), static_cast<long long>(r.line), r.kind.c_str(), r.shape.c_str(), rate(r).c_str());
    }
    if (static_cast<int64_t>(order.size()) > top)
      std::printf("%9s  ... %zu more rows (--top N, or --json for all)\n", "", order.size() - static_cast<size_t>(top));
    std::printf("\nby kind:\n");
    for (const auto &[name, k] : first.kinds)
      std::printf("%9.2f %6s  %-20s %s\n", k.seconds * 1e3, share(k.seconds).c_str(), name.c_str(), rate(k).c_str());
    std::printf("%9.2f %6s  %-20s\n", first.serialS * 1e3, share(first.serialS).c_str(), "serial code");
    std::printf("\nby conv kind (every layer of a kernel, stride and direction; the share of the peak in the "
                "fastest call last):\n");
    for (const auto &[key, c] : first.convKinds) {
      const double fastest = fastestCallShare(c);
      std::printf("%9.2f %6s  %-14s %-20s %2lld layer%s  %s%s\n", c.seconds * 1e3, share(c.seconds).c_str(),
                  key.first.c_str(), key.second.c_str(), static_cast<long long>(c.loops), c.loops == 1 ? " " : "s",
                  rate(c).c_str(), fastest > 0 ? ("; fastest call " + fixed(100.0 * fastest, 0) + "%").c_str() : "");
    }
    return 0;
  }

  // Several bundles: each one's calls, then the rows of the first beside the same rows (layer,
  // kind, shape) of the others, as milliseconds and as the other's time over the first's.
  const char letters[] = "ABCDEFGH";
  for (size_t i = 0; i < subjects.size(); ++i)
    std::printf("%c: %s: %s\n", letters[i], subjects[i].path.c_str(), callLine(subjects[i]).c_str());
  std::printf("\n");
  for (size_t i = 0; i < subjects.size(); ++i)
    std::printf("%8c ms", letters[i]);
  for (size_t i = 1; i < subjects.size(); ++i)
    std::printf("  %c/A  ", letters[i]);
  std::printf("  %-22s %-20s %s\n", "layer", "kind", "shape");
  // Rows of two bundles are the same work when their layer, kind and shape are.
  auto sameWork = [](const Row &a, const Row &b) {
    return a.layer == b.layer && a.kind == b.kind && a.shape == b.shape;
  };
  auto secondsOf = [&](const Subject &s, const Row &like) -> std::optional<double> {
    for (const Row &r : s.rows)
      if (sameWork(r, like))
        return r.seconds;
    return std::nullopt;
  };
  auto ratio = [](std::optional<double> other, double base) {
    return other && base > 0 ? fixed(*other / base, 3) : std::string("  -  ");
  };
  // One line of times, "-" where a bundle has no such row or kind, and each time over A's.
  auto printTimes = [&](const std::vector<std::optional<double>> &times) {
    for (const std::optional<double> &t : times)
      std::printf("%11s", t ? fixed(*t * 1e3, 2).c_str() : "-");
    for (size_t j = 1; j < times.size(); ++j)
      std::printf("  %s", times[0] ? ratio(times[j], *times[0]).c_str() : "  -  ");
  };
  auto printRow = [&](const Row &r) {
    std::vector<std::optional<double>> times;
    for (const Subject &s : subjects)
      times.push_back(secondsOf(s, r));
    printTimes(times);
    std::printf("  %-22s %-20s %s\n", r.layer.c_str(), r.kind.c_str(), r.shape.c_str());
  };
  for (size_t i = 0; i < order.size() && static_cast<int64_t>(i) < top; ++i)
    printRow(first.rows[order[i]]);
  if (static_cast<int64_t>(order.size()) > top)
    std::printf("  ... %zu more rows of A (--top N, or --json for all)\n", order.size() - static_cast<size_t>(top));
  // The work only the others do (a Winograd conv's input transform, a pass one code generator
  // adds): without these rows and kinds, B's sums would not add up to its call.
  std::vector<const Row *> othersOnly;
  for (size_t j = 1; j < subjects.size(); ++j)
    for (const Row &r : subjects[j].rows)
      if (!secondsOf(first, r) &&
          std::none_of(othersOnly.begin(), othersOnly.end(), [&](const Row *o) { return sameWork(*o, r); }))
        othersOnly.push_back(&r);
  std::stable_sort(othersOnly.begin(), othersOnly.end(),
                   [](const Row *a, const Row *b) { return a->seconds > b->seconds; });
  if (!othersOnly.empty())
    std::printf("\nrows A does not have:\n");
  for (size_t i = 0; i < othersOnly.size() && static_cast<int64_t>(i) < top; ++i)
    printRow(*othersOnly[i]);
  if (static_cast<int64_t>(othersOnly.size()) > top)
    std::printf("  ... %zu more rows (--top N, or --json for all)\n", othersOnly.size() - static_cast<size_t>(top));
  std::printf("\nby kind:\n");
  // Every bundle's kinds, in the order of each one's own table.
  std::set<std::string> kindNames;
  for (const Subject &s : subjects)
    for (const auto &[name, k] : s.kinds)
      kindNames.insert(name);
  for (const std::string &name : kindNames) {
    std::vector<std::optional<double>> times;
    for (const Subject &s : subjects) {
      auto it = s.kinds.find(name);
      times.push_back(it == s.kinds.end() ? std::nullopt : std::optional<double>(it->second.seconds));
    }
    printTimes(times);
    std::printf("  %s\n", name.c_str());
  }
  for (const Subject &s : subjects)
    std::printf("%11s", fixed(s.profiledS * 1e3, 2).c_str());
  for (size_t j = 1; j < subjects.size(); ++j)
    std::printf("  %s", ratio(subjects[j].profiledS, first.profiledS).c_str());
  std::printf("  %s\n", "profiled call");
  return 0;
}

} // namespace vidnet
