// The trainer's two batch sources: in-memory clips and the threaded video loader.
#include "runtime/train/BatchSource.h"

#include "runtime/core/Random.h"
#include "runtime/data/Prefetcher.h"
#include "runtime/train/Trainer.h"

#include <algorithm>
#include <mutex>

namespace vidnet::train {

namespace {

class ClipSetBatches : public BatchSource {
public:
  ClipSetBatches(const ClipSet &set, const TrainConfig &config) : set_(set), sampler_(config, set.count) {}
  int64_t size() const override { return set_.count; }
  bool batch(int64_t step, float *clips, int64_t *labels, std::string &) override {
    std::vector<int64_t> picked = sampler_.batch(step);
    for (size_t j = 0; j < picked.size(); ++j) {
      const float *src = set_.clips.data() + picked[j] * set_.clipElements;
      std::copy(src, src + set_.clipElements, clips + static_cast<int64_t>(j) * set_.clipElements);
      labels[j] = set_.labels[static_cast<size_t>(picked[j])];
    }
    return true;
  }

private:
  const ClipSet &set_;
  BatchSampler sampler_;
};

struct LoadedBatch {
  std::vector<float> clips;
  std::vector<int64_t> labels;
  std::string error;
};

class VideoBatches : public BatchSource {
public:
  VideoBatches(std::vector<LabelledVideo> videos, const data::ClipOptions &clip, const TrainConfig &config,
               int64_t totalSteps, data::BadVideos &bad)
      : videos_(std::move(videos)), clip_(clip), config_(config), totalSteps_(totalSteps), bad_(bad),
        sampler_(config_, static_cast<int64_t>(videos_.size())) {}

  int64_t size() const override { return static_cast<int64_t>(videos_.size()); }

  bool batch(int64_t step, float *clips, int64_t *labels, std::string &error) override {
    // The first call says where the run starts (0, or a resumed run's step); decoding runs
    // ahead from there, so the steps must then come one after another.
    if (!loader_) {
      firstStep_ = nextStep_ = step;
      loader_ = std::make_unique<data::Prefetcher<LoadedBatch>>(
          totalSteps_ - step, config_.loaderThreads, config_.prefetchBatches,
          [this](int64_t job) { return load(firstStep_ + job); });
    }
    if (step != nextStep_ || step >= totalSteps_) {
      error = "video batches are decoded in order: asked for step " + std::to_string(step) + ", next is " +
              std::to_string(nextStep_) + " of " + std::to_string(totalSteps_);
      return false;
    }
    LoadedBatch b = loader_->next();
    ++nextStep_;
    if (!b.error.empty()) {
      error = b.error;
      return false;
    }
    std::copy(b.clips.begin(), b.clips.end(), clips);
    std::copy(b.labels.begin(), b.labels.end(), labels);
    return true;
  }

  std::string summary() const override { return bad_.summary(); }

private:
  LoadedBatch load(int64_t step) {
    std::vector<int64_t> picked;
    {
      // The sampler keeps the epoch's order between calls; steps are claimed nearly in order.
      std::lock_guard<std::mutex> lock(samplerMutex_);
      picked = sampler_.batch(step);
    }
    const int64_t clipFloats = 3 * clip_.frames * clip_.height * clip_.width;
    LoadedBatch b;
    b.clips.resize(picked.size() * static_cast<size_t>(clipFloats));
    b.labels.resize(picked.size());
    for (size_t j = 0; j < picked.size(); ++j) {
      rt::Random rng(config_.seed * 0xD1B54A32D192ED03ULL ^ static_cast<uint64_t>(step) * 0x9E3779B97F4A7C15ULL ^
                     static_cast<uint64_t>(j));
      int64_t video = picked[j];
      // A bad video is skipped whether this thread finds out or another already did: the
      // replacement draw is the same either way.
      constexpr int kAttempts = 64;
      int attempt = 0;
      for (; attempt < kAttempts; ++attempt) {
        data::ClipDraw draw = data::drawTrainClip(clip_, rng);
        if (!bad_.contains(video) && readOne(video, draw, b.clips.data() + static_cast<int64_t>(j) * clipFloats))
          break;
        video = static_cast<int64_t>(rng.next() % videos_.size());
      }
      if (attempt == kAttempts) {
        b.error = "no readable video in " + std::to_string(kAttempts) + " tries at step " + std::to_string(step) +
                  " (" + bad_.summary() + ")";
        return b;
      }
      b.labels[j] = videos_[static_cast<size_t>(video)].label;
    }
    return b;
  }

  bool readOne(int64_t video, const data::ClipDraw &draw, float *out) {
    const std::string &path = videos_[static_cast<size_t>(video)].path;
    std::string reason;
    if (data::readVideoClips(path, clip_, {draw}, out, nullptr, nullptr, reason))
      return true;
    bad_.add(video, path, reason);
    return false;
  }

  std::vector<LabelledVideo> videos_;
  data::ClipOptions clip_;
  TrainConfig config_;
  int64_t totalSteps_;
  data::BadVideos &bad_;
  std::mutex samplerMutex_;
  BatchSampler sampler_;
  int64_t firstStep_ = 0, nextStep_ = 0;
  std::unique_ptr<data::Prefetcher<LoadedBatch>> loader_;
};

} // namespace

bool clipOptions(const TrainConfig &c, const rt::Manifest &m, data::ClipOptions &out, std::string &error) {
  if (m.channels != 3) {
    error = "the bundle takes " + std::to_string(m.channels) + "-channel clips; videos give RGB (3)";
    return false;
  }
  if (c.resizeHeight < m.height || c.resizeWidth < m.width) {
    error = "frames resized to " + std::to_string(c.resizeHeight) + "x" + std::to_string(c.resizeWidth) +
            " (resize_height x resize_width) are smaller than the bundle's " + std::to_string(m.height) + "x" +
            std::to_string(m.width) + " crop";
    return false;
  }
  data::ClipOptions o;
  o.frames = m.frames, o.height = m.height, o.width = m.width;
  o.resizeHeight = c.resizeHeight, o.resizeWidth = c.resizeWidth;
  o.frameStride = c.frameStride;
  o.flip = c.flip;
  for (int i = 0; i < 3; ++i) {
    o.mean[i] = static_cast<float>(c.mean[static_cast<size_t>(i)]);
    o.std[i] = static_cast<float>(c.std[static_cast<size_t>(i)]);
  }
  o.shortVideos = c.shortVideos == "skip"          ? data::ShortVideos::Skip
                  : c.shortVideos == "repeat_last" ? data::ShortVideos::RepeatLast
                                                   : data::ShortVideos::Loop;
  o.filter = c.resizeFilter == "bilinear" ? data::ResizeFilter::Bilinear
             : c.resizeFilter == "area"   ? data::ResizeFilter::Area
                                          : data::ResizeFilter::Bicubic;
  out = o;
  return true;
}

std::unique_ptr<BatchSource> clipSetSource(const ClipSet &set, const TrainConfig &config) {
  return std::make_unique<ClipSetBatches>(set, config);
}

std::unique_ptr<BatchSource> videoSource(std::vector<LabelledVideo> videos, const data::ClipOptions &clip,
                                         const TrainConfig &config, int64_t totalSteps, data::BadVideos &bad) {
  return std::make_unique<VideoBatches>(std::move(videos), clip, config, totalSteps, bad);
}

} // namespace vidnet::train
