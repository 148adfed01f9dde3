// `vidrun train`: the SGD loop around a bundle's compiled train_step, with the LR schedule,
// progress lines, a JSON-lines log, checkpoints that survive kill -9, and exact resumption.
#pragma once

#include "runtime/core/Model.h"
#include "runtime/train/BatchSource.h"
#include "runtime/train/TrainConfig.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace vidnet::train {

// Labelled clips held in memory (.npy files).
struct ClipSet {
  std::vector<float> clips;     // count x C x L x H x W, torchvision's layout
  std::vector<int64_t> labels;  // count, each in [0, classes)
  int64_t count = 0, clipElements = 0;
};

// clips: N x C x L x H x W float32 or float64 matching the bundle's clip; labels: N int64 or
// int32 in [0, classes). Messages name the file and what is wrong.
bool loadClipSet(const std::string &clipsPath, const std::string &labelsPath, const rt::Manifest &manifest,
                 ClipSet &out, std::string &error);

// Which clips each step trains on: epoch e visits the set in a fresh order (a Fisher-Yates
// permutation seeded by (seed, e, pass)), repeating it as often as epoch_size needs. The
// batch is a pure function of (seed, step), so a resumed run draws exactly the batches the
// original would; the current order is kept between calls, so a step costs O(batch), not a
// shuffle of the whole set.
class BatchSampler {
public:
  BatchSampler(const TrainConfig &config, int64_t clipCount);
  std::vector<int64_t> batch(int64_t step);

private:
  const TrainConfig &config_;
  int64_t clipCount_, stepsPerEpoch_;
  int64_t epoch_ = -1, pass_ = -1;  // the (epoch, pass) `order_` belongs to
  std::vector<int64_t> order_;
};

struct TrainRun {
  TrainConfig config;
  bool resume = false;         // continue from config.outDir/ckpt/last.json
  std::ostream *progress;      // human-readable progress lines
};

// Trains until config.epochs are done. Layout of config.outDir:
//   log.jsonl                one JSON object per step (step, epoch, loss, clip_acc, lr, clips_per_s)
//   ckpt/step-NNNNNNNN.safetensors  weights, BN statistics, counters and momentum buffers
//   ckpt/step-NNNNNNNN.json  trainer state: step, epoch, sampler seed, config, files
//   ckpt/last.json           names the newest complete checkpoint (written last)
//   curves.svg               loss and clip accuracy against the step
// Every file is written to a temporary name and renamed, checkpoint before last.json, so a
// run killed at any instant leaves the previous checkpoint intact and usable by --resume.
bool runTraining(rt::Model &model, BatchSource &data, const TrainRun &run, std::string &error);

} // namespace vidnet::train
