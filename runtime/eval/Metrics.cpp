// Computes clip@1, video@1/@5 (averaged clip softmax), per-class accuracy and the confusion matrix.
#include "runtime/eval/Metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace vidnet::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : kNaN;
}

bool allFinite(const float *row, int64_t n) {
  return std::all_of(row, row + n, [](float v) { return std::isfinite(v); });
}

// max_element returns the first of equal maxima: the lower index wins a tie.
template <typename T> int64_t argmax(const T *row, int64_t n) { return std::max_element(row, row + n) - row; }

// Adds softmax(row) to sum. Subtracting the largest logit keeps exp() from overflowing on
// large logits; double keeps small probabilities from vanishing before they are averaged.
void addSoftmax(const float *row, int64_t n, std::vector<double> &sum) {
  const double top = row[argmax(row, n)];
  double total = 0;
  for (int64_t i = 0; i < n; ++i)
    total += std::exp(static_cast<double>(row[i]) - top);
  for (int64_t i = 0; i < n; ++i)
    sum[i] += std::exp(static_cast<double>(row[i]) - top) / total;
}

// Classes ranked ahead of c: a higher score, or the same score and a lower index.
int64_t rankOf(const std::vector<double> &scores, int64_t c) {
  int64_t ahead = 0;
  for (int64_t j = 0; j < static_cast<int64_t>(scores.size()); ++j)
    if (scores[j] > scores[c] || (scores[j] == scores[c] && j < c))
      ++ahead;
  return ahead;
}

nlohmann::ordered_json numberOrNull(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

} // namespace

double Report::classAccuracy(int64_t c) const { return ratio(classCorrect[c], classVideos[c]); }

Evaluator::Evaluator(int64_t classes) : classes_(classes) {
  if (classes < 1)
    throw std::invalid_argument("eval: a model needs at least one class, not " + std::to_string(classes));
  classVideos_.assign(classes, 0);
  classCorrect_.assign(classes, 0);
  confusion_.assign(classes * classes, 0);
}

VideoOutcome Evaluator::addVideo(int64_t label, const float *clipLogits, int64_t clips) {
  if (label < 0 || label >= classes_)
    throw std::invalid_argument("eval: label " + std::to_string(label) + " is outside [0, " +
                                std::to_string(classes_) + ")");
  if (clips < 1 || !clipLogits)
    throw std::invalid_argument("eval: a video needs at least one clip of logits");
  VideoOutcome out;
  probabilities_.assign(classes_, 0.0);
  int64_t finiteClips = 0;
  for (int64_t k = 0; k < clips; ++k) {
    const float *row = clipLogits + k * classes_;
    if (!allFinite(row, classes_)) {
      ++out.nonFiniteClips;
      continue;
    }
    ++finiteClips;
    out.clipsCorrect += argmax(row, classes_) == label;
    addSoftmax(row, classes_, probabilities_);
  }
  // The sum ranks the classes as the mean does; dividing by finiteClips would change nothing.
  if (finiteClips > 0) {
    out.prediction = argmax(probabilities_.data(), classes_);
    const int64_t rank = rankOf(probabilities_, label);
    out.top1 = rank == 0;
    out.top5 = rank < std::min(kVideoTopK, classes_);
  }
  record(label, clips, out);
  return out;
}

void Evaluator::record(int64_t label, int64_t clips, const VideoOutcome &outcome) {
  clips_ += clips;
  clipsCorrect_ += outcome.clipsCorrect;
  nonFiniteClips_ += outcome.nonFiniteClips;
  videosTop1_ += outcome.top1;
  videosTop5_ += outcome.top5;
  ++classVideos_[label];
  classCorrect_[label] += outcome.top1;
  if (outcome.prediction >= 0)
    ++confusion_[label * classes_ + outcome.prediction];
  else
    ++unpredictedVideos_;
  videoLabel_.push_back(label);
  videoPrediction_.push_back(outcome.prediction);
}

Report Evaluator::report() const {
  Report r;
  r.classes = classes_;
  r.videos = videos();
  r.clips = clips_;
  r.topK = std::min(kVideoTopK, classes_);
  r.nonFiniteClips = nonFiniteClips_;
  r.unpredictedVideos = unpredictedVideos_;
  r.clipsCorrect = clipsCorrect_;
  r.videosTop1 = videosTop1_;
  r.videosTop5 = videosTop5_;
  r.clipTop1 = ratio(clipsCorrect_, clips_);
  r.videoTop1 = ratio(videosTop1_, r.videos);
  r.videoTop5 = ratio(videosTop5_, r.videos);
  r.classVideos = classVideos_;
  r.classCorrect = classCorrect_;
  for (int64_t t = 0; t < classes_; ++t)
    r.confusion.emplace_back(confusion_.begin() + t * classes_, confusion_.begin() + (t + 1) * classes_);
  r.videoLabel = videoLabel_;
  r.videoPrediction = videoPrediction_;

  double sum = 0;
  int64_t present = 0;
  for (int64_t c = 0; c < classes_; ++c)
    if (classVideos_[c] > 0) {
      sum += r.classAccuracy(c);
      ++present;
    }
  r.meanClassAccuracy = present > 0 ? sum / static_cast<double>(present) : kNaN;
  return r;
}

std::string className(const std::vector<std::string> &classNames, int64_t c) {
  return c >= 0 && c < static_cast<int64_t>(classNames.size()) ? classNames[c] : std::to_string(c);
}

nlohmann::ordered_json reportJson(const Report &report, const std::vector<std::string> &classNames) {
  nlohmann::ordered_json j = {{"videos", report.videos},
                              {"clips", report.clips},
                              {"classes", report.classes},
                              {"clip_top1", numberOrNull(report.clipTop1)},
                              {"video_top1", numberOrNull(report.videoTop1)},
                              {"video_top5", numberOrNull(report.videoTop5)},
                              {"video_top5_k", report.topK},
                              {"mean_class_accuracy", numberOrNull(report.meanClassAccuracy)},
                              {"non_finite_clips", report.nonFiniteClips},
                              {"unpredicted_videos", report.unpredictedVideos}};
  nlohmann::ordered_json perClass = nlohmann::ordered_json::array();
  for (int64_t c = 0; c < report.classes; ++c)
    perClass.push_back({{"class", className(classNames, c)},
                        {"videos", report.classVideos[c]},
                        {"correct", report.classCorrect[c]},
                        {"accuracy", numberOrNull(report.classAccuracy(c))}});
  j["per_class"] = std::move(perClass);
  j["confusion"] = report.confusion;
  return j;
}

} // namespace vidnet::eval
