// Video-level evaluation metrics for `vidrun eval`: clip@1, video@1/@5, per-class accuracy, confusion matrix.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vidnet::eval {

// video@5 looks at this many classes, or at all of them when a model has fewer.
inline constexpr int64_t kVideoTopK = 5;

// What addVideo made of one video, for a caller that lists videos one by one.
struct VideoOutcome {
  int64_t prediction = -1;     // top-1 class of the averaged softmax; -1 when no clip was finite
  bool top1 = false, top5 = false;
  int64_t clipsCorrect = 0;    // clips whose own argmax is the label
  int64_t nonFiniteClips = 0;  // clips with a NaN or infinite logit
};

// Ratios are NaN where there is nothing to divide by (no clips, no videos, a class without
// videos); reportJson writes them as null, so an empty class never reads as 0% accurate.
struct Report {
  int64_t classes = 0, videos = 0, clips = 0;
  int64_t topK = 0;  // the k of videoTop5: min(kVideoTopK, classes)
  // A clip with a non-finite logit counts as wrong for clip@1 and is left out of its video's
  // average; a video none of whose clips is finite is wrong and has no predicted class, so it
  // is in no confusion cell: the confusion matrix sums to videos - unpredictedVideos.
  int64_t nonFiniteClips = 0, unpredictedVideos = 0;
  int64_t clipsCorrect = 0, videosTop1 = 0, videosTop5 = 0;
  double clipTop1 = 0, videoTop1 = 0, videoTop5 = 0;
  double meanClassAccuracy = 0;  // the mean of classAccuracy over the classes that have videos
  std::vector<int64_t> classVideos, classCorrect;  // per true class; correct = video@1
  std::vector<std::vector<int64_t>> confusion;     // [true class][predicted class] = videos
  std::vector<int64_t> videoLabel, videoPrediction;  // per video in the order added; prediction -1: none

  double classAccuracy(int64_t c) const;  // NaN for a class without videos
};

// Accumulates videos as eval streams them and reports the metrics of all seen so far.
//
// A video's prediction is the mean over its clips of softmax(logits), computed in double after
// subtracting each clip's largest logit (Tran et al., CVPR 2018). Ranking rule, for clip argmax,
// video@1 and video@5 alike: a higher score first and, among equal scores, the lower class index
// first; so a video whose averaged probabilities are all equal predicts class 0, and its top 5
// are classes 0-4. The rule is deterministic and matches the first maximum numpy.argmax and
// torch.argmax return.
class Evaluator {
public:
  // Throws std::invalid_argument when classes < 1.
  explicit Evaluator(int64_t classes);

  // clipLogits: clips x classes floats, row-major. Throws std::invalid_argument for a label
  // outside [0, classes), clips < 1 or a null clipLogits: those are the caller's bugs, while
  // non-finite logits are a model's and are counted (see Report).
  VideoOutcome addVideo(int64_t label, const float *clipLogits, int64_t clips);

  Report report() const;
  int64_t classes() const { return classes_; }
  int64_t videos() const { return static_cast<int64_t>(videoLabel_.size()); }

private:
  void record(int64_t label, int64_t clips, const VideoOutcome &outcome);

  int64_t classes_;
  int64_t clips_ = 0, clipsCorrect_ = 0, nonFiniteClips_ = 0;
  int64_t videosTop1_ = 0, videosTop5_ = 0, unpredictedVideos_ = 0;
  std::vector<int64_t> classVideos_, classCorrect_;
  std::vector<int64_t> confusion_;  // classes x classes, row-major
  std::vector<int64_t> videoLabel_, videoPrediction_;
  std::vector<double> probabilities_;  // addVideo's sum of clip softmaxes, kept to spare an allocation per video
};

// The name of class c: classNames[c], or the index as text where the list is shorter (an
// empty list shows indices throughout), so a report is never lost at the end of a long run.
std::string className(const std::vector<std::string> &classNames, int64_t c);

// {"videos","clips","classes","clip_top1","video_top1","video_top5","video_top5_k",
//  "mean_class_accuracy","non_finite_clips","unpredicted_videos",
//  "per_class":[{"class":name,"videos":n,"correct":c,"accuracy":a|null}],"confusion":[[...]]},
// in that order. Class names come from a user's file: dump with
// nlohmann::json::error_handler_t::replace, or broken UTF-8 in one makes dump() throw.
nlohmann::ordered_json reportJson(const Report &report, const std::vector<std::string> &classNames);

} // namespace vidnet::eval
