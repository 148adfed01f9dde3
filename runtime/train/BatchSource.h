// Where the trainer's batches come from: clips held in memory (.npy) or videos decoded,
// jittered and normalized on worker threads ahead of the step.
#pragma once

#include "runtime/core/Manifest.h"
#include "runtime/data/BadVideos.h"
#include "runtime/data/ClipSampler.h"
#include "runtime/train/TrainConfig.h"

#include <memory>
#include <string>
#include <vector>

namespace vidnet::train {

struct ClipSet;

// The clip settings of `config` for the bundle's clip (L x H x W), refusing a resize smaller
// than the crop or a bundle whose clips are not RGB.
bool clipOptions(const TrainConfig &config, const rt::Manifest &manifest, data::ClipOptions &out,
                 std::string &error);

class BatchSource {
public:
  virtual ~BatchSource() = default;
  // Items the sampler draws from (clips or videos).
  virtual int64_t size() const = 0;
  // The batch of `step` (steps come in increasing order, from the first step of the run or
  // of a resumed run): clips batch x C x L x H x W, labels batch.
  virtual bool batch(int64_t step, float *clips, int64_t *labels, std::string &error) = 0;
  // A line for the end of the run ("" when there is nothing to say).
  virtual std::string summary() const { return ""; }
};

// Clips from .npy files, picked by a BatchSampler.
std::unique_ptr<BatchSource> clipSetSource(const ClipSet &set, const TrainConfig &config);

struct LabelledVideo {
  std::string path;
  int64_t label = 0;
};

// Videos picked by a BatchSampler, one clip each: random start, crop and flip drawn from
// (seed, step, slot), decoded by config.loader_threads threads up to config.prefetch_batches
// steps ahead. A video that cannot be read is named once, skipped, and replaced by another
// video drawn from (seed, step, slot, attempt) with that video's own label; so a run is the
// same whatever the number of threads, and no label ever moves to another video.
std::unique_ptr<BatchSource> videoSource(std::vector<LabelledVideo> videos, const data::ClipOptions &clip,
                                         const TrainConfig &config, int64_t totalSteps, data::BadVideos &bad);

} // namespace vidnet::train
