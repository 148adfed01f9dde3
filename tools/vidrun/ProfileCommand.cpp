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


// What the command line asks for.
struct ProfileOptions {
  std::vector<std::string> paths; // the bundles, A, B, ... in the tables
  std::string entry;              // forward or train_step; "" until the first bundle picks it
  int64_t iters = 0, warmup = 0, top = 0;
  int64_t batch = 0; // 0: each bundle's own
  bool json = false, serialClips = false;
};

// The options, or "" and the usage problem.
std::string parseProfileOptions(int argc, char **argv, ProfileOptions &out) {
  std::string batchText, itersText = "5", warmupText = "1", topText = "25";
  ParsedCommand parsed;
  std::string problem = parseCommand(argc, argv, 2, "profile",
                                     {{"--entry", &out.entry, "--entry takes forward or train_step"},
                                      {"--batch", &batchText, "--batch takes a positive integer"},
                                      {"--iters", &itersText, "--iters takes a positive integer"},
                                      {"--warmup", &warmupText, "--warmup takes a non-negative integer"},
                                      {"--top", &topText, "--top takes a positive integer"},
                                      {"--serial-clips", nullptr, "", &out.serialClips},
                                      {"--json", nullptr, "", &out.json}},
                                     parsed);
  // Several bundles take turns call by call (an A/B comparison whose calls see the same phases
  // of a shared machine).
  constexpr size_t kMaxBundles = 8;
  if (problem.empty() && parsed.positional.empty())
    problem = "no bundle given";
  if (problem.empty() && parsed.positional.size() > kMaxBundles)
    problem = "at most " + std::to_string(kMaxBundles) + " bundles";
  if (problem.empty() && !integerIn(itersText, 1, 100000, out.iters))
    problem = "--iters takes a positive integer";
  if (problem.empty() && !integerIn(warmupText, 0, 100000, out.warmup))
    problem = "--warmup takes a non-negative integer";
  if (problem.empty() && !integerIn(topText, 1, 100000, out.top))
    problem = "--top takes a positive integer";
  if (problem.empty() && !batchText.empty() && !integerIn(batchText, 1, 4096, out.batch))
    problem = "--batch takes a positive integer";
  if (problem.empty() && !out.entry.empty() && out.entry != "forward" && out.entry != "train_step")
    problem = "--entry takes forward or train_step";
  out.paths = parsed.positional;
  return problem;
}

// Opens every bundle with its loop table and picks its batch; the first bundle picks the entry
// when --entry does not. Returns the exit code (through `usage` or `fail`) where one cannot be
// profiled.
std::optional<int> openSubjects(ProfileOptions &opts, std::vector<Subject> &subjects, Usage usage, Fail fail) {
  std::string error;
  subjects.resize(opts.paths.size());
  for (size_t i = 0; i < subjects.size(); ++i) {
    Subject &s = subjects[i];
    s.path = opts.paths[i];
    s.bundle = rt::Bundle::open(s.path, error);
    if (!s.bundle)
      return fail(error);
    const rt::Manifest &m = s.bundle->manifest();
    // The first bundle picks the default entry; the others must have it too.
    if (opts.entry.empty())
      opts.entry = s.bundle->hasTrainStep() ? "train_step" : "forward";
    const bool trainStep = opts.entry == "train_step";
    std::optional<std::vector<rt::LoopRow>> loops = s.bundle->loops(trainStep, error);
    if (!loops)
      return fail(s.path + ": " + error);
    s.loops = std::move(*loops);
    if (trainStep && opts.batch != 0 && opts.batch != m.trainBatch)
      return usage("train_step's batch is the bundle's (" + std::to_string(m.trainBatch) +
                   "): vidc build --batch N for another");
    // The forward's default is the batch the bundle was built for (vidc build --batch), also when
    // it has no train_step: one clip of a batch-2 build would time half the work it was built for.
    s.batch = opts.batch != 0 ? opts.batch : trainStep ? m.trainBatch : std::max(m.batch, m.forwardBatch);
  }
  return std::nullopt;
}

// Each subject's model and synthetic batch. The forward as Model::forward runs a batch of whole
// groups of threads clips: one clip per thread, each clip's loops inline on its thread, the same
// loop timed on every thread at once. A row's time is then its threads' summed time over the
// thread count (its share of the wall clock, as in a step, whose loops spread over every thread).
// Timed one clip at a time with --serial-clips, or where the batch leaves a remainder: each loop
// then splits one clip's positions over the threads, which reads a conv's share of the peak well
// below what the forward, one clip per thread, gets from it.
void prepareCalls(std::vector<Subject> &subjects, const ProfileOptions &opts) {
  const bool trainStep = opts.entry == "train_step";
  for (Subject &s : subjects) {
    const rt::Manifest &m = s.bundle->manifest();
    s.model = std::make_unique<rt::Model>(*s.bundle);
    s.clipPerThread = !trainStep && !opts.serialClips && s.model->concurrentClips(s.batch) == s.batch;
    s.model->setClipPerThread(s.clipPerThread);
    s.clips = syntheticClips(m, s.batch);
    s.labels = syntheticLabels(m, s.batch);
    s.logits.resize(static_cast<size_t>(s.batch * m.classes));
    s.loopCalls.assign(s.loops.size(), 0);
  }
}

// One forward or train_step of the subject's synthetic batch.
bool callOnce(Subject &s, bool trainStep, std::string &error) {
  if (trainStep) {
    const rt::SgdHyper hyper{0.01f, 0.9f, 1e-4f};
    float loss = 0;
    return s.model->trainStep(s.clips.data(), s.labels.data(), hyper, loss, s.logits.data(), error);
  }
  return s.model->forward(s.clips.data(), s.batch, s.logits.data(), error);
}

// callOnce, its wall-clock time appended to `seconds` when it succeeds.
bool timedCall(Subject &s, bool trainStep, std::vector<double> &seconds, std::string &error) {
  auto start = std::chrono::steady_clock::now();
  if (!callOnce(s, trainStep, error))
    return false;
  seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return true;
}

// How the forward runs its clips, for the log and the header; "" for a step.
std::string clipMode(const Subject &s, bool trainStep) {
  return trainStep ? "" : s.clipPerThread ? " (one clip per thread)" : " (one clip at a time)";
}

// What the machine did in the same run as the calls.
struct Measurement {
  int threads = 0;
  rt::FmaPeak peak;                // gflops: the best of peakSamples
  std::vector<double> peakSamples; // one after every profiled call, one at the end
  double lowestPeak = 0;
  double bandwidthGbs = 0; // read
};

// One stderr line per bundle: what is about to be called, how many times.
void announceCalls(const std::vector<Subject> &subjects, const ProfileOptions &opts) {
  const bool trainStep = opts.entry == "train_step";
  for (const Subject &s : subjects)
    std::cerr << "vidrun profile: " << s.bundle->manifest().model << " " << opts.entry << ", batch " << s.batch
              << clipMode(s, trainStep) << ", " << s.loops.size() << " parallel loops; " << opts.warmup
              << " warm-up, " << opts.iters << " untimed and " << opts.iters << " profiled calls"
              << (subjects.size() > 1 ? " (" + s.path + ", the bundles taking turns)" : "") << "\n";
}

// The warm-up, untimed and profiled calls, the bundles taking turns in each, then the peak and
// the bandwidth. The FMA peak of a shared machine moves with its other tenants: one short
// measurement after every profiled call, and the best of them all (with a longer one at the end)
// is the peak the rows are a share of.
bool measureCalls(std::vector<Subject> &subjects, const ProfileOptions &opts, Measurement &out, std::string &error) {
  const bool trainStep = opts.entry == "train_step";
  const auto threads = static_cast<unsigned>(out.threads);
  for (int64_t i = 0; i < opts.warmup; ++i)
    for (Subject &s : subjects)
      if (!callOnce(s, trainStep, error))
        return false;
  for (int64_t i = 0; i < opts.iters; ++i)
    for (Subject &s : subjects)
      if (!timedCall(s, trainStep, s.untimed, error))
        return false;
  for (int64_t i = 0; i < opts.iters; ++i)
    for (Subject &s : subjects) {
      rt::LoopTimer timer(s.loops.size());
      if (!timedCall(s, trainStep, s.profiled, error))
        return false;
      out.peakSamples.push_back(rt::measureFmaPeak(threads, 0.05, 1).gflops);
      std::vector<double> &seconds = s.loopSeconds.emplace_back(s.loops.size());
      for (size_t l = 0; l < s.loops.size(); ++l) {
        seconds[l] = timer.seconds(l) / (s.clipPerThread ? out.threads : 1);
        s.loopCalls[l] += timer.calls(l);
      }
    }
  out.peak = rt::measureFmaPeak(threads, 0.1);
  out.peakSamples.push_back(out.peak.gflops);
  out.peak.gflops = *std::max_element(out.peakSamples.begin(), out.peakSamples.end());
  out.lowestPeak = *std::min_element(out.peakSamples.begin(), out.peakSamples.end());
  out.bandwidthGbs = rt::measureReadBandwidth(threads);
  return true;
}

// A row's work against the peak and bandwidth measured: its products at the peak, and its least
// traffic at the bandwidth (a conv's operands moved once, an elementwise loop's reads and
// writes); "traffic" is the second over the first.
struct Rates {
  double peakGflops = 0, bandwidthGbs = 0;

  double computeS(const Row &r) const {
    return peakGflops > 0 ? static_cast<double>(r.flops) / (peakGflops * 1e9) : 0.0;
  }
  double memoryS(const Row &r) const {
    return bandwidthGbs > 0 ? static_cast<double>(r.bytes) / (bandwidthGbs * 1e9) : 0.0;
  }
  double peakFraction(const Row &r) const { return peakGflops > 0 ? gflops(r) / peakGflops : 0.0; }
  double fastestCallShare(const Row &r) const {
    const double seconds = fastestCall(r);
    return peakGflops > 0 && seconds > 0 ? static_cast<double>(r.flops) / seconds / 1e9 / peakGflops : 0.0;
  }

  // The table's rate column: GFLOP/s and the share of the peak (and the traffic) for a row with
  // products, GB/s and the share of the bandwidth for one that only moves data.
  std::string text(const Row &r) const {
    if (r.flops > 0)
      return fixed(gflops(r), 1) + " GFLOP/s" +
             (peakGflops > 0 ? " (" + fixed(100.0 * gflops(r) / peakGflops, 0) + "% of peak" +
                                   (r.bytes > 0 && bandwidthGbs > 0
                                        ? ", traffic " + fixed(100.0 * memoryS(r) / computeS(r), 0) + "%"
                                        : "") +
                                   ")"
                             : "");
    if (r.bytes > 0 && r.seconds > 0)
      return fixed(static_cast<double>(r.bytes) / r.seconds / 1e9, 1) + " GB/s" +
             (bandwidthGbs > 0 ? " (" + fixed(100.0 * memoryS(r) / r.seconds, 0) + "% of memory)" : "");
    return std::string();
  }
};

// What every row, kind and conv kind says of its work: time, products, bytes, their rates.
nlohmann::json workJson(const Row &r, const Rates &rates) {
  return nlohmann::json{{"seconds", r.seconds},
                        {"flops", r.flops},
                        {"bytes", r.bytes},
                        {"gflops", gflops(r)},
                        {"peak_fraction", rates.peakFraction(r)},
                        {"seconds_fastest_call", fastestCall(r)},
                        {"fastest_call_peak_fraction", rates.fastestCallShare(r)},
                        {"compute_s", rates.computeS(r)},
                        {"memory_s", rates.memoryS(r)}};
}

// One bundle's report: the run, its calls, then its rows, kinds and conv kinds.
nlohmann::json subjectJson(const Subject &s, const ProfileOptions &opts, const Measurement &m) {
  const rt::Manifest &manifest = s.bundle->manifest();
  const Rates rates{m.peak.gflops, m.bandwidthGbs};
  nlohmann::json report = {{"bundle", manifest.model},
                           {"path", s.path},
                           {"entry", opts.entry},
                           {"batch", s.batch},
                           {"clip", {manifest.channels, manifest.frames, manifest.height, manifest.width}},
                           {"threads", m.threads},
                           {"clips_per_thread", s.clipPerThread},
                           {"peak_gflops", m.peak.gflops},
                           {"peak_gflops_lowest", m.lowestPeak},
                           {"peak_samples", m.peakSamples.size()},
                           {"vector_bits", m.peak.vectorBits},
                           {"read_gbs", m.bandwidthGbs},
                           {"iters", opts.iters},
                           {"untimed_s", s.untimedS},
                           {"profiled_s", s.profiledS},
                           {"profiled_mean_s", s.profiledMeanS},
                           {"loops_s", s.inLoops},
                           {"serial_s", s.serialS}};
  nlohmann::json &out = report["rows"] = nlohmann::json::array();
  for (const Row &r : s.rows) {
    nlohmann::json row = workJson(r, rates);
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
    byKind[name] = workJson(k, rates);
  nlohmann::json &byConvKind = report["conv_kinds"] = nlohmann::json::array();
  for (const auto &[key, c] : s.convKinds) {
    nlohmann::json convKind = workJson(c, rates);
    convKind.update({{"conv", key.first}, {"kind", key.second}, {"layers", c.loops}});
    byConvKind.push_back(convKind);
  }
  return report;
}

// One object per bundle, one per line.
void printJson(const std::vector<Subject> &subjects, const ProfileOptions &opts, const Measurement &m) {
  for (const Subject &s : subjects)
    std::cout << subjectJson(s, opts, m).dump() << std::endl;
}

// A time as a share of the subject's mean profiled call ("12.3%").
std::string shareOf(double seconds, const Subject &s) { return fixed(100.0 * seconds / s.profiledMeanS, 1) + "%"; }

// The subject's calls: the medians, the change profiling makes, the time in loops and between.
std::string callLine(const Subject &s, int64_t iters) {
  return "untimed " + fixed(s.untimedS * 1e3, 1) + " ms per call, profiled " + fixed(s.profiledS * 1e3, 1) + " ms (" +
         (s.profiledS >= s.untimedS ? "+" : "") + fixed(100.0 * (s.profiledS - s.untimedS) / s.untimedS, 1) +
         "%; medians of " + std::to_string(iters) + "): on average " + fixed(100.0 * s.inLoops / s.profiledMeanS, 1) +
         "% in " + std::to_string(s.loops.size()) + " loops, " + fixed(100.0 * s.serialS / s.profiledMeanS, 1) +
         "% serial code between them";
}

// The first line of either table: the first bundle's call and the machine measured.
void printHeader(const Subject &first, const ProfileOptions &opts, const Measurement &m) {
  const rt::Manifest &fm = first.bundle->manifest();
  std::printf("%s %s, batch %lld, %lldx%lldx%lldx%lld, %d threads%s, FMA peak %s GFLOP/s (%d-bit; best of %zu, "
              "lowest %s), memory %s GB/s (read), measured now\n",
              fm.model.c_str(), opts.entry.c_str(), static_cast<long long>(first.batch),
              static_cast<long long>(fm.channels), static_cast<long long>(fm.frames),
              static_cast<long long>(fm.height), static_cast<long long>(fm.width), m.threads,
              clipMode(first, opts.entry == "train_step").c_str(), fixed(m.peak.gflops, 1).c_str(),
              m.peak.vectorBits, m.peakSamples.size(), fixed(m.lowestPeak, 1).c_str(),
              fixed(m.bandwidthGbs, 1).c_str());
}

// The subject's rows by index, the slowest first (ties in the order of their first loop).
std::vector<size_t> slowestFirst(const Subject &s) {
  std::vector<size_t> order(s.rows.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return s.rows[a].seconds > s.rows[b].seconds; });
  return order;
}

// One bundle: its calls, its `top` slowest rows, its kinds and serial code, its conv kinds.
void printTable(const Subject &s, const ProfileOptions &opts, const Rates &rates) {
  const std::vector<size_t> order = slowestFirst(s);
  std::printf("%s\n\n", callLine(s, opts.iters).c_str());
  std::printf("%9s %6s  %-22s %4s  %-20s %-36s %s\n", "ms", "share", "layer", "line", "kind", "shape", "rate");
  for (size_t i = 0; i < order.size() && static_cast<int64_t>(i) < opts.top; ++i) {
    const Row &r = s.rows[order[i]];
    std::printf("%9.2f %6s  %-22s %4lld  %-20s %-36s %s\n", r.seconds * 1e3, shareOf(r.seconds, s).c_str(),
                r.layer.c_str(), static_cast<long long>(r.line), r.kind.c_str(), r.shape.c_str(),
                rates.text(r).c_str());
  }
  if (static_cast<int64_t>(order.size()) > opts.top)
    std::printf("%9s  ... %zu more rows (--top N, or --json for all)\n", "",
                order.size() - static_cast<size_t>(opts.top));
  std::printf("\nby kind:\n");
  for (const auto &[name, k] : s.kinds)
    std::printf("%9.2f %6s  %-20s %s\n", k.seconds * 1e3, shareOf(k.seconds, s).c_str(), name.c_str(),
                rates.text(k).c_str());
  std::printf("%9.2f %6s  %-20s\n", s.serialS * 1e3, shareOf(s.serialS, s).c_str(), "serial code");
  std::printf("\nby conv kind (every layer of a kernel, stride and direction; the share of the peak in the "
              "fastest call last):\n");
  for (const auto &[key, c] : s.convKinds) {
    const double fastest = rates.fastestCallShare(c);
    std::printf("%9.2f %6s  %-14s %-20s %2lld layer%s  %s%s\n", c.seconds * 1e3, shareOf(c.seconds, s).c_str(),
                key.first.c_str(), key.second.c_str(), static_cast<long long>(c.loops), c.loops == 1 ? " " : "s",
                rates.text(c).c_str(),
                fastest > 0 ? ("; fastest call " + fixed(100.0 * fastest, 0) + "%").c_str() : "");
  }
}

// Rows of two bundles are the same work when their layer, kind and shape are.
bool sameWork(const Row &a, const Row &b) { return a.layer == b.layer && a.kind == b.kind && a.shape == b.shape; }

// The subject's time for the same work as `like`; none where it has no such row.
std::optional<double> secondsOf(const Subject &s, const Row &like) {
  for (const Row &r : s.rows)
    if (sameWork(r, like))
      return r.seconds;
  return std::nullopt;
}

// `other` over `base` ("1.023"), "-" where either is missing.
std::string ratio(std::optional<double> other, double base) {
  return other && base > 0 ? fixed(*other / base, 3) : std::string("  -  ");
}

// One line of times, "-" where a bundle has no such row or kind, and each time over A's.
void printTimes(const std::vector<std::optional<double>> &times) {
  for (const std::optional<double> &t : times)
    std::printf("%11s", t ? fixed(*t * 1e3, 2).c_str() : "-");
  for (size_t j = 1; j < times.size(); ++j)
    std::printf("  %s", times[0] ? ratio(times[j], *times[0]).c_str() : "  -  ");
}

// A row's times in every bundle, then what it is.
void printRowTimes(const std::vector<Subject> &subjects, const Row &r) {
  std::vector<std::optional<double>> times;
  for (const Subject &s : subjects)
    times.push_back(secondsOf(s, r));
  printTimes(times);
  std::printf("  %-22s %-20s %s\n", r.layer.c_str(), r.kind.c_str(), r.shape.c_str());
}

// The work only the bundles after the first do (a Winograd conv's input transform, a pass one
// code generator adds), once each, the slowest first: without these rows, B's sums would not add
// up to its call.
std::vector<const Row *> rowsOnlyOthersHave(const std::vector<Subject> &subjects) {
  std::vector<const Row *> othersOnly;
  for (size_t j = 1; j < subjects.size(); ++j)
    for (const Row &r : subjects[j].rows)
      if (!secondsOf(subjects[0], r) &&
          std::none_of(othersOnly.begin(), othersOnly.end(), [&](const Row *o) { return sameWork(*o, r); }))
        othersOnly.push_back(&r);
  std::stable_sort(othersOnly.begin(), othersOnly.end(),
                   [](const Row *a, const Row *b) { return a->seconds > b->seconds; });
  return othersOnly;
}

// Every bundle's kinds side by side, in name order (each one's own table's), then the calls.
void printKindTimes(const std::vector<Subject> &subjects) {
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
    std::printf("  %s", ratio(subjects[j].profiledS, subjects[0].profiledS).c_str());
  std::printf("  %s\n", "profiled call");
}

// Several bundles: each one's calls, then the rows of the first beside the same rows (layer,
// kind, shape) of the others, as milliseconds and as the other's time over the first's; then the
// rows only the others have, and the kinds.
void printComparison(const std::vector<Subject> &subjects, const ProfileOptions &opts) {
  const char letters[] = "ABCDEFGH";
  const Subject &first = subjects[0];
  for (size_t i = 0; i < subjects.size(); ++i)
    std::printf("%c: %s: %s\n", letters[i], subjects[i].path.c_str(), callLine(subjects[i], opts.iters).c_str());
  std::printf("\n");
  for (size_t i = 0; i < subjects.size(); ++i)
    std::printf("%8c ms", letters[i]);
  for (size_t i = 1; i < subjects.size(); ++i)
    std::printf("  %c/A  ", letters[i]);
  std::printf("  %-22s %-20s %s\n", "layer", "kind", "shape");
  const std::vector<size_t> order = slowestFirst(first);
  for (size_t i = 0; i < order.size() && static_cast<int64_t>(i) < opts.top; ++i)
    printRowTimes(subjects, first.rows[order[i]]);
  if (static_cast<int64_t>(order.size()) > opts.top)
    std::printf("  ... %zu more rows of A (--top N, or --json for all)\n",
                order.size() - static_cast<size_t>(opts.top));
  const std::vector<const Row *> othersOnly = rowsOnlyOthersHave(subjects);
  if (!othersOnly.empty())
    std::printf("\nrows A does not have:\n");
  for (size_t i = 0; i < othersOnly.size() && static_cast<int64_t>(i) < opts.top; ++i)
    printRowTimes(subjects, *othersOnly[i]);
  if (static_cast<int64_t>(othersOnly.size()) > opts.top)
    std::printf("  ... %zu more rows (--top N, or --json for all)\n",
                othersOnly.size() - static_cast<size_t>(opts.top));
  std::printf("\nby kind:\n");
  printKindTimes(subjects);
}

} // namespace

int profileCommand(int argc, char **argv, Usage usage, Fail fail) {
  ProfileOptions opts;
  if (std::string problem = parseProfileOptions(argc, argv, opts); !problem.empty())
    return usage(problem);
  std::vector<Subject> subjects;
  if (std::optional<int> failed = openSubjects(opts, subjects, usage, fail))
    return *failed;
  Measurement measured;
  measured.threads = rt::Model::threads();
  prepareCalls(subjects, opts);
  announceCalls(subjects, opts);
  std::string error;
  if (!measureCalls(subjects, opts, measured, error))
    return fail(error);
  for (Subject &s : subjects)
    summarize(s, opts.iters, opts.entry == "train_step");

  if (opts.json) {
    printJson(subjects, opts, measured);
    return 0;
  }
  printHeader(subjects[0], opts, measured);
  if (subjects.size() == 1)
    printTable(subjects[0], opts, Rates{measured.peak.gflops, measured.bandwidthGbs});
  else
    printComparison(subjects, opts);
  return 0;
}

} // namespace vidnet
