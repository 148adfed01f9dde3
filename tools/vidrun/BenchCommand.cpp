// `vidrun bench`: times a bundle's forward and train_step (synthetic or given clips) and prints one JSON line
// (seconds per call, spread, clips/s; on a GPU the kernels launched, the kernel and copy times, device memory; on
// the CPU the thread pool's counters).
#include "runtime/core/Model.h"
#include "runtime/core/ParallelFor.h"
#include "runtime/io/ClipArrays.h"
#include "runtime/cuda/CudaExecutor.h"
#include "tools/vidrun/CommandLine.h"
#include "tools/vidrun/VideoCommands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

namespace vidnet {

namespace {

// `warmup` untimed calls, then `iters` timed ones; each call returns false with a message on failure.
bool timeCalls(const std::string &what, int64_t warmup, int64_t iters, const rt::Bundle &bundle, int64_t clips,
               const std::function<bool(std::string &)> &call, nlohmann::json &out, std::string &error) {
  std::vector<double> seconds, kernels, copies;
  rt::PoolCounters before;
  for (int64_t i = 0; i < warmup + iters; ++i) {
    if (i == warmup)
      before = rt::poolCounters();
    auto start = std::chrono::steady_clock::now();
    if (!call(error)) {
      error = what + ": " + error;
      return false;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (i < warmup)
      continue;
    seconds.push_back(s);
    if (const rt::CudaExecutor *gpu = bundle.gpu()) {
      kernels.push_back(gpu->lastRun().kernelSeconds);
      copies.push_back(gpu->lastRun().copyInSeconds + gpu->lastRun().copyOutSeconds);
    }
  }
  double mid = median(seconds);
  out = {{"iters", iters},
         {"median_s", mid},
         {"min_s", *std::min_element(seconds.begin(), seconds.end())},
         {"max_s", *std::max_element(seconds.begin(), seconds.end())},
         {"clips_per_s", static_cast<double>(clips) / mid},
         {"times_s", seconds}};
  if (!bundle.onGpu()) {
    // The timed calls' loops that ran on one thread because the pool was busy, and chunks a thread
    // took from another's share. A forward's clips are one chunk per thread: one taken per call
    // is a thread that never started on its clip (no CPU for it). In loops of many chunks (a
    // step's) taking the others' last chunks is the usual balancing.
    const rt::PoolCounters after = rt::poolCounters();
    out["loops_run_inline"] = after.loopsRunInline - before.loopsRunInline;
    out["chunks_taken_from_other_threads"] = after.chunksTakenFromOthers - before.chunksTakenFromOthers;
  }
  if (const rt::CudaExecutor *gpu = bundle.gpu()) {
    out["kernels"] = gpu->lastRun().launches;
    out["kernel_median_s"] = median(kernels);
    out["kernel_min_s"] = *std::min_element(kernels.begin(), kernels.end());
    out["copy_median_s"] = median(copies);
  }
  std::cerr << "vidrun bench: " << what << " " << mid * 1e3 << " ms per call (median of " << iters << ")\n";
  return true;
}

} // namespace

int benchCommand(int argc, char **argv, Usage usage, Fail fail) {
  std::string device, itersText = "10", warmupText = "2", entry = "all", weights, input, labelsPath;
  ParsedCommand parsed;
  std::string problem = parseCommand(argc, argv, 2, "bench",
                                     {{"--device", &device, "--device takes cpu or cuda"},
                                      {"--iters", &itersText, "--iters takes a positive integer"},
                                      {"--warmup", &warmupText, "--warmup takes a non-negative integer"},
                                      {"--entry", &entry, "--entry takes forward, train_step or all"},
                                      {"--weights", &weights, "--weights takes a .safetensors file"},
                                      {"--input", &input, "--input takes a .npy file of clips"},
                                      {"--labels", &labelsPath, "--labels takes a .npy file of int64 labels"}},
                                     parsed);
  if (problem.empty())
    problem = oneBundle(parsed);
  int64_t iters = 0, warmup = 0;
  if (problem.empty() && !integerIn(itersText, 1, 100000, iters))
    problem = "--iters takes a positive integer";
  if (problem.empty() && !integerIn(warmupText, 0, 100000, warmup))
    problem = "--warmup takes a non-negative integer";
  if (problem.empty() && entry != "forward" && entry != "train_step" && entry != "all")
    problem = "--entry takes forward, train_step or all";
  if (problem.empty() && !labelsPath.empty() && input.empty())
    problem = "--labels needs --input";
  if (!problem.empty())
    return usage(problem);
  bool usageProblem = false;
  if (std::string mismatch = deviceMismatch(parsed.positional[0], device, usageProblem); !mismatch.empty())
    return usageProblem ? usage(mismatch) : fail(mismatch);

  std::string error;
  std::unique_ptr<rt::Bundle> bundle = rt::Bundle::open(parsed.positional[0], error);
  if (!bundle)
    return fail(error);
  const rt::Manifest &m = bundle->manifest();
  std::unique_ptr<rt::Model> modelOwner =
      weights.empty() ? std::make_unique<rt::Model>(*bundle) : rt::Model::fromWeights(*bundle, weights, error);
  if (!modelOwner)
    return fail(error);
  rt::Model &model = *modelOwner;
  // Without --input: clips of N(0, 1) values and labels 0, 1, 2, ...; the timing does not depend
  // on them, but --weights/--input/--labels let a comparison time exactly the work of its peers.
  const int64_t batch = std::max(m.forwardBatch, m.trainBatch);
  std::vector<float> clips;
  std::vector<int64_t> labels;
  if (input.empty()) {
    clips = syntheticClips(m, batch);
  } else {
    int64_t n = 0;
    if (!rt::readClipsNpy(input, {m.channels, m.frames, m.height, m.width}, clips, n, error))
      return fail(error);
    if (n != batch)
      return fail(input + ": " + std::to_string(n) + " clips; the bundle's batch is " + std::to_string(batch) +
                  " (vidc build --batch)");
  }
  if (!labelsPath.empty()) {
    if (!rt::readLabelsNpy(labelsPath, batch, labels, error))
      return fail(error);
  } else {
    labels = syntheticLabels(m, batch);
  }
  std::vector<float> logits(static_cast<size_t>(batch * m.classes));

  nlohmann::json report = {{"bundle", m.model},
                           {"device", bundle->deviceName()},
                           {"clip", {m.channels, m.frames, m.height, m.width}},
                           {"classes", m.classes}};
  if (entry != "train_step") {
    // The compiled forward's batch: one call of the kernels (CUDA) or of the shared object per worker.
    const int64_t n = bundle->onGpu() ? m.forwardBatch : std::max<int64_t>(m.trainBatch, m.forwardBatch);
    report["forward_batch"] = n;
    auto forward = [&](std::string &message) { return model.forward(clips.data(), n, logits.data(), message); };
    if (!timeCalls("forward", warmup, iters, *bundle, n, forward, report["forward"], error))
      return fail(error);
  }
  if (entry != "forward" && bundle->hasTrainStep()) {
    report["train_batch"] = m.trainBatch;
    const rt::SgdHyper hyper{0.01f, 0.9f, 1e-4f};
    std::vector<float> losses;
    auto step = [&](std::string &message) {
      float loss = 0;
      bool ok = model.trainStep(clips.data(), labels.data(), hyper, loss, logits.data(), message);
      losses.push_back(loss);
      return ok;
    };
    if (!timeCalls("train_step", warmup, iters, *bundle, m.trainBatch, step, report["train_step"], error))
      return fail(error);
    // The first step's loss (from the starting weights) ties the timing to the work it timed.
    report["train_step"]["first_loss"] = losses.front();
  } else if (entry == "train_step") {
    return fail(parsed.positional[0] + ": built with --forward-only (no train_step)");
  }
  if (const rt::CudaExecutor *gpu = bundle->gpu())
    report["device_buffer_bytes"] = gpu->deviceBytes();
  std::cout << report.dump() << std::endl;
  return 0;
}

} // namespace vidnet
