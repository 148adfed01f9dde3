// `vidrun train` settings: strict JSON / --set parsing and the learning-rate schedule.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace vidnet::train {

// The defaults are the Kinetics from-scratch recipe of Tran et al. 2018, "A Closer Look at
// Spatiotemporal Convolutions for Action Recognition", section 4.1. JSON keys are the
// snake_case of the field names.
struct TrainConfig {
  int64_t epochs = 45;
  int64_t epochSize = 1'000'000;  // clips per epoch: 1M although Kinetics has ~240k videos (temporal jittering)
  int64_t batchSize = 32;         // clips per step; the trainer checks it against the bundle's train batch
  double baseLr = 0.01;           // per 32-clip batch: VMZ multiplies it by the GPU count
  double warmupEpochs = 10;       // linear warmup; 0 = none
  int64_t lrStepEpochs = 10;      // multiply the LR by lrDecay every lrStepEpochs epochs
  double lrDecay = 0.1;
  double momentum = 0.9;          // not in the paper; VMZ hardcodes 0.9 (Nesterov)
  // The paper does not say. 1e-4 is what the authors' released Kinetics script passes
  // (facebookresearch/VMZ scripts/train_r2plus1d_kinetics.sh, --weight_decay=0.0001), and
  // torchvision's video-classification reference uses it too.
  double weightDecay = 1e-4;
  uint64_t seed = 0;
  // Steps; 0 = only at the end. One epoch of the default recipe (1M / 32 clips rounded up),
  // since the authors' trainer also saved once per epoch.
  int64_t checkpointEvery = 31'250;
  int64_t logEvery = 100;         // steps between progress lines; log.jsonl gets every step
  std::string outDir = "runs/train";  // checkpoints, log.jsonl, curves.svg

  // Video clips (vidrun train/eval/features/clips --data LIST). The clip's length and crop are
  // the bundle's; these say how frames get there (runtime/data/ClipSampler.h).
  int64_t resizeHeight = 128, resizeWidth = 171;  // section 4.1: frames resized to 128 x 171
  std::string resizeFilter = "bicubic";           // bicubic (the ffmpeg CLI's), bilinear, area
  int64_t frameStride = 1;                        // take every n-th frame
  bool flip = true;                               // training: random horizontal flips
  std::vector<double> mean = {0.43216, 0.394666, 0.37645};  // torchvision's Kinetics-400 RGB
  std::vector<double> std = {0.22803, 0.22145, 0.216989};
  std::string shortVideos = "loop";  // fewer frames than a clip spans: loop, repeat_last or skip
  int64_t evalClips = 10;            // clips per video in eval and features (Tran et al.: 10)
  int64_t loaderThreads = 2;         // decoding threads; 0 = decode on the training thread
  int64_t prefetchBatches = 4;       // batches decoded ahead of the step
};

// Reads a JSON object of settings on top of the defaults. Unknown keys, wrong types and out of
// range values are rejected with a message that starts with the key, e.g.
//   "base_lr": expected a positive number, got "x"
// and then validateTrainConfig runs. `out` is only written on success.
bool parseTrainConfig(const nlohmann::json &j, TrainConfig &out, std::string &error);

// Reads and parses a JSON file; every message starts with the path. A key given twice is an
// error (nlohmann would silently keep the last one).
bool loadTrainConfig(const std::string &path, TrainConfig &out, std::string &error);

// One `--set key=value` (already split at '='): the same keys and checks as the JSON. The
// value is JSON text (0.1, 45), except for out_dir, which is taken verbatim so that paths
// need no quotes. `c` is unchanged on failure. Checks that relate two settings are left to
// validateTrainConfig, to be run after the last override: overrides come one at a time and
// an intermediate state (epochs=3 before warmup_epochs=0) must not be refused.
bool applyOverride(TrainConfig &c, std::string_view key, std::string_view value, std::string &error);

// Checks across settings: the warmup fits in the run, and the total step count fits in int64_t.
bool validateTrainConfig(const TrainConfig &c, std::string &error);

// Every setting, in declaration order; parseTrainConfig reads it back to the same config.
nlohmann::ordered_json toJson(const TrainConfig &c);

// ceil(epochSize / batchSize): the last, partial batch of an epoch still counts as a step.
int64_t stepsPerEpoch(const TrainConfig &c);

// The learning rate of step `step` (from 0); stepsPerEpoch > 0, as stepsPerEpoch(c) returns.
double learningRate(const TrainConfig &c, int64_t step, int64_t stepsPerEpoch);

} // namespace vidnet::train
