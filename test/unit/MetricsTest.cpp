// Tests for runtime/eval: hand-computed clip and video metrics, ties, empty classes, non-finite
// logits, a naive re-computation on random videos, the JSON report and the confusion SVG.
#include "runtime/eval/ConfusionPlot.h"
#include "runtime/eval/Metrics.h"
#include "test/unit/ScratchDir.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <map>
#include <numeric>
#include <random>

using namespace vidnet::eval;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

using Clips = std::vector<std::vector<float>>;

VideoOutcome add(Evaluator &e, int64_t label, const Clips &clips) {
  std::vector<float> flat;
  for (const auto &clip : clips) {
    EXPECT_EQ(static_cast<int64_t>(clip.size()), e.classes());
    flat.insert(flat.end(), clip.begin(), clip.end());
  }
  return e.addVideo(label, flat.data(), static_cast<int64_t>(clips.size()));
}

// Logits that make `predicted` the clear argmax.
std::vector<float> oneHot(int64_t classes, int64_t predicted) {
  std::vector<float> logits(classes, 0.0f);
  logits[predicted] = 8.0f;
  return logits;
}

size_t occurrences(const std::string &text, const std::string &word) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(word, at)) != std::string::npos; at += word.size())
    ++n;
  return n;
}

int64_t total(const std::vector<std::vector<int64_t>> &m) {
  int64_t sum = 0;
  for (const auto &row : m)
    sum = std::accumulate(row.begin(), row.end(), sum);
  return sum;
}

// The class most clips vote for, lower index on a tie: what averaging softmax is not.
int64_t clipVote(const Clips &clips) {
  std::map<int64_t, int> votes;
  for (const auto &clip : clips)
    ++votes[std::max_element(clip.begin(), clip.end()) - clip.begin()];
  return std::max_element(votes.begin(), votes.end(), [](auto a, auto b) { return a.second < b.second; })->first;
}

// Two videos of three clips. In the first, two clips lean slightly to class 1 and one is sure of
// class 0: the vote says 1, the averaged softmax 0 (0.631 against 0.329), the label is 0. The
// second is the mirror image: the vote is right (1), the average wrong (0: 0.649 against 0.349).
const Clips kAverageRight = {{2.0f, 2.1f, 0.0f}, {2.0f, 2.1f, 0.0f}, {10.0f, 0.0f, 0.0f}};
const Clips kVoteRight = {{0.0f, 0.1f, -5.0f}, {0.0f, 0.1f, -5.0f}, {10.0f, 0.0f, 0.0f}};

TEST(MetricsTest, TheAveragedSoftmaxOverrulesTheClipVote) {
  ASSERT_EQ(clipVote(kAverageRight), 1);
  ASSERT_EQ(clipVote(kVoteRight), 1);
  Evaluator e(3);
  const VideoOutcome a = add(e, 0, kAverageRight);
  EXPECT_EQ(a.prediction, 0);
  EXPECT_TRUE(a.top1);
  EXPECT_EQ(a.clipsCorrect, 1);
  const VideoOutcome b = add(e, 1, kVoteRight);
  EXPECT_EQ(b.prediction, 0);
  EXPECT_FALSE(b.top1);
  EXPECT_TRUE(b.top5);  // three classes: every label is in the top 5
  EXPECT_EQ(b.clipsCorrect, 2);

  const Report r = e.report();
  EXPECT_EQ(r.videos, 2);
  EXPECT_EQ(r.clips, 6);
  EXPECT_EQ(r.clipsCorrect, 3);
  EXPECT_DOUBLE_EQ(r.clipTop1, 0.5);
  EXPECT_DOUBLE_EQ(r.videoTop1, 0.5);
  EXPECT_DOUBLE_EQ(r.videoTop5, 1.0);
  EXPECT_EQ(r.videoPrediction, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(r.videoLabel, (std::vector<int64_t>{0, 1}));
}

TEST(MetricsTest, LargeLogitsDoNotOverflowTheSoftmax) {
  // exp(1000) is infinite in double; after subtracting the maximum the clips give
  // [0.731, 0.269, 0] and [0, 0.818, 0.182], so class 1 wins with 0.543.
  Evaluator e(3);
  const VideoOutcome v = add(e, 1, {{1000.0f, 999.0f, 0.0f}, {0.0f, 1000.0f, 998.5f}});
  EXPECT_EQ(v.prediction, 1);
  EXPECT_EQ(v.nonFiniteClips, 0);
  EXPECT_EQ(e.report().confusion[1][1], 1);
}

TEST(MetricsTest, TopFiveIsCappedAtTheClassCount) {
  Evaluator three(3);
  add(three, 2, {{5.0f, 4.0f, 3.0f}});  // the label ranks last
  EXPECT_EQ(three.report().topK, 3);
  EXPECT_DOUBLE_EQ(three.report().videoTop5, 1.0);
  EXPECT_DOUBLE_EQ(three.report().videoTop1, 0.0);

  Evaluator seven(7);
  const Clips ranked = {{7.0f, 6.0f, 5.0f, 4.0f, 3.0f, 2.0f, 1.0f}};  // class i ranks i-th
  EXPECT_TRUE(add(seven, 4, ranked).top5);
  EXPECT_FALSE(add(seven, 5, ranked).top5);
  EXPECT_FALSE(add(seven, 6, ranked).top5);
  const Report r = seven.report();
  EXPECT_EQ(r.topK, 5);
  EXPECT_EQ(r.videosTop5, 1);
  EXPECT_NEAR(r.videoTop5, 1.0 / 3, 1e-15);
}

TEST(MetricsTest, TiesGoToTheLowerClassIndex) {
  Evaluator e(7);
  const Clips flat = {std::vector<float>(7, 0.0f), std::vector<float>(7, 0.0f)};
  EXPECT_EQ(add(e, 0, flat).prediction, 0);
  EXPECT_TRUE(add(e, 0, flat).top1);
  EXPECT_FALSE(add(e, 1, flat).top1);
  EXPECT_TRUE(add(e, 4, flat).top5);   // classes 0-4 are the top 5 of a flat distribution
  EXPECT_FALSE(add(e, 5, flat).top5);

  const Clips twoWay = {{0.0f, 3.0f, 3.0f, 0.0f, 0.0f, 0.0f, 0.0f}};
  VideoOutcome v = add(e, 2, twoWay);
  EXPECT_EQ(v.prediction, 1);
  EXPECT_FALSE(v.top1);
  EXPECT_EQ(v.clipsCorrect, 0);  // the clip argmax breaks the tie the same way
  v = add(e, 1, twoWay);
  EXPECT_TRUE(v.top1);
  EXPECT_EQ(v.clipsCorrect, 1);
}

TEST(MetricsTest, PerClassAccuracyLeavesEmptyClassesOut) {
  Evaluator e(4);
  add(e, 0, {oneHot(4, 0)});
  add(e, 0, {oneHot(4, 3)});
  add(e, 1, {oneHot(4, 1)});
  add(e, 3, {oneHot(4, 0)});
  const Report r = e.report();
  EXPECT_EQ(r.classVideos, (std::vector<int64_t>{2, 1, 0, 1}));
  EXPECT_EQ(r.classCorrect, (std::vector<int64_t>{1, 1, 0, 0}));
  EXPECT_DOUBLE_EQ(r.classAccuracy(0), 0.5);
  EXPECT_DOUBLE_EQ(r.classAccuracy(1), 1.0);
  EXPECT_TRUE(std::isnan(r.classAccuracy(2)));
  EXPECT_DOUBLE_EQ(r.classAccuracy(3), 0.0);
  EXPECT_DOUBLE_EQ(r.meanClassAccuracy, 0.5);  // (0.5 + 1 + 0) / 3, not / 4
  EXPECT_DOUBLE_EQ(r.videoTop1, 0.5);
}

TEST(MetricsTest, ConfusionRowsAreTrueClassesAndSumToTheVideos) {
  Evaluator e(3);
  const int64_t videos[][2] = {{0, 0}, {0, 2}, {0, 2}, {1, 1}, {2, 0}, {2, 2}, {2, 2}, {2, 1}};
  for (const auto &[label, predicted] : videos)
    EXPECT_EQ(add(e, label, {oneHot(3, predicted)}).prediction, predicted);
  const Report r = e.report();
  const std::vector<std::vector<int64_t>> expected = {{1, 0, 2}, {0, 1, 0}, {1, 1, 2}};
  EXPECT_EQ(r.confusion, expected);
  EXPECT_EQ(total(r.confusion), r.videos);
  for (int64_t t = 0; t < 3; ++t) {
    EXPECT_EQ(std::accumulate(r.confusion[t].begin(), r.confusion[t].end(), int64_t{0}), r.classVideos[t]);
    EXPECT_EQ(r.confusion[t][t], r.classCorrect[t]);
  }
}

TEST(MetricsTest, NonFiniteClipsAreWrongAndLeftOutOfTheAverage) {
  Evaluator e(3);
  // Without the NaN clip (whose NaN sits on the label) the finite clip decides: class 2.
  VideoOutcome v = add(e, 0, {{kNaN, 0.0f, 0.0f}, {0.0f, 0.0f, 4.0f}, {50.0f, -kInf, 0.0f}});
  EXPECT_EQ(v.nonFiniteClips, 2);
  EXPECT_EQ(v.clipsCorrect, 0);
  EXPECT_EQ(v.prediction, 2);
  v = add(e, 2, {{kInf, 0.0f, 0.0f}, {0.0f, 0.0f, 4.0f}});
  EXPECT_EQ(v.prediction, 2);
  EXPECT_TRUE(v.top1);
  EXPECT_EQ(v.clipsCorrect, 1);
  // No finite clip: wrong, even for top-5 of three classes, and in no confusion cell.
  v = add(e, 1, {{kNaN, kNaN, kNaN}, {0.0f, -kInf, 0.0f}});
  EXPECT_EQ(v.prediction, -1);
  EXPECT_FALSE(v.top1);
  EXPECT_FALSE(v.top5);

  const Report r = e.report();
  EXPECT_EQ(r.clips, 7);
  EXPECT_EQ(r.nonFiniteClips, 5);
  EXPECT_EQ(r.clipsCorrect, 1);
  EXPECT_EQ(r.unpredictedVideos, 1);
  EXPECT_DOUBLE_EQ(r.videoTop1, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.videoTop5, 2.0 / 3);
  EXPECT_EQ(total(r.confusion), r.videos - r.unpredictedVideos);
  EXPECT_EQ(r.classVideos[1], 1);
  EXPECT_DOUBLE_EQ(r.classAccuracy(1), 0.0);
  EXPECT_EQ(r.videoPrediction.back(), -1);
  EXPECT_EQ(reportJson(r, {})["non_finite_clips"], 5);
}

TEST(MetricsTest, CallerErrorsThrowAndRecordNothing) {
  EXPECT_THROW(Evaluator(0), std::invalid_argument);
  Evaluator e(3);
  const std::vector<float> logits(3, 0.0f);
  EXPECT_THROW(e.addVideo(3, logits.data(), 1), std::invalid_argument);
  EXPECT_THROW(e.addVideo(-1, logits.data(), 1), std::invalid_argument);
  EXPECT_THROW(e.addVideo(0, logits.data(), 0), std::invalid_argument);
  EXPECT_THROW(e.addVideo(0, nullptr, 1), std::invalid_argument);
  EXPECT_EQ(e.report().videos, 0);
  EXPECT_EQ(e.report().clips, 0);
}

TEST(MetricsTest, AReportCanBeTakenMidStream) {
  Evaluator e(3);
  add(e, 0, {oneHot(3, 0)});
  EXPECT_DOUBLE_EQ(e.report().videoTop1, 1.0);
  add(e, 1, {oneHot(3, 0)});
  EXPECT_DOUBLE_EQ(e.report().videoTop1, 0.5);
  EXPECT_EQ(e.report().videos, 2);
}

// A textbook re-computation: exp without the max shift (the logits are small), sums in video
// order, a stable sort for the top 5. It shares no code with Evaluator.
struct Naive {
  int64_t clipsCorrect = 0, top1 = 0, top5 = 0;
  std::vector<int64_t> predictions;
  std::vector<std::vector<int64_t>> confusion;
};

Naive naive(const std::vector<int64_t> &labels, const std::vector<Clips> &videos, int64_t classes) {
  Naive n;
  n.confusion.assign(classes, std::vector<int64_t>(classes, 0));
  for (size_t v = 0; v < videos.size(); ++v) {
    std::vector<double> mean(classes, 0.0);
    for (const auto &clip : videos[v]) {
      int64_t best = 0;
      double denominator = 0;
      for (int64_t c = 0; c < classes; ++c) {
        if (clip[c] > clip[best])
          best = c;
        denominator += std::exp(static_cast<double>(clip[c]));
      }
      n.clipsCorrect += best == labels[v];
      for (int64_t c = 0; c < classes; ++c)
        mean[c] += std::exp(static_cast<double>(clip[c])) / denominator / static_cast<double>(videos[v].size());
    }
    std::vector<int64_t> order(classes);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return mean[a] > mean[b]; });
    n.predictions.push_back(order[0]);
    n.top1 += order[0] == labels[v];
    n.top5 += std::find(order.begin(), order.begin() + 5, labels[v]) != order.begin() + 5;
    ++n.confusion[labels[v]][order[0]];
  }
  return n;
}

TEST(MetricsTest, RandomVideosMatchANaiveComputation) {
  constexpr int64_t kClasses = 10, kVideos = 200;
  std::mt19937 rng(20180618);
  std::normal_distribution<float> logit(0.0f, 2.0f);
  std::uniform_int_distribution<int64_t> label(0, kClasses - 1), clipCount(1, 4);
  std::vector<int64_t> labels;
  std::vector<Clips> videos;
  Evaluator e(kClasses);
  for (int64_t v = 0; v < kVideos; ++v) {
    labels.push_back(label(rng));
    Clips clips(clipCount(rng), std::vector<float>(kClasses));
    for (auto &clip : clips)
      for (float &x : clip)
        x = logit(rng);
    // A nudge towards the label, so that the top-1 and top-5 counts are far from 0 and all.
    for (auto &clip : clips)
      clip[labels.back()] += 1.5f;
    videos.push_back(clips);
    add(e, labels.back(), clips);
  }
  const Naive n = naive(labels, videos, kClasses);
  const Report r = e.report();
  EXPECT_EQ(r.videoPrediction, n.predictions);
  EXPECT_EQ(r.videosTop1, n.top1);
  EXPECT_EQ(r.videosTop5, n.top5);
  EXPECT_EQ(r.clipsCorrect, n.clipsCorrect);
  EXPECT_EQ(r.confusion, n.confusion);
  EXPECT_GT(n.top1, kVideos / 5);
  EXPECT_LT(n.top5, kVideos);
  EXPECT_GT(n.top5, n.top1);
}

TEST(MetricsTest, JsonHasTheDocumentedFieldsInOrder) {
  Evaluator e(3);
  add(e, 0, kAverageRight);
  add(e, 1, kVoteRight);
  const nlohmann::ordered_json j = reportJson(e.report(), {"walk", "run", "jump"});
  std::vector<std::string> keys;
  for (const auto &item : j.items())
    keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"videos", "clips", "classes", "clip_top1", "video_top1", "video_top5",
                                            "video_top5_k", "mean_class_accuracy", "non_finite_clips",
                                            "unpredicted_videos", "per_class", "confusion"}));
  EXPECT_EQ(j["videos"], 2);
  EXPECT_EQ(j["clips"], 6);
  EXPECT_EQ(j["classes"], 3);
  EXPECT_DOUBLE_EQ(j["clip_top1"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["video_top1"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["video_top5"].get<double>(), 1.0);
  EXPECT_EQ(j["video_top5_k"], 3);
  EXPECT_DOUBLE_EQ(j["mean_class_accuracy"].get<double>(), 0.5);  // walk 1/1, run 0/1, jump none
  EXPECT_EQ(j["non_finite_clips"], 0);
  ASSERT_EQ(j["per_class"].size(), 3u);
  EXPECT_EQ(j["per_class"][0], nlohmann::ordered_json::parse(
                                   R"({"class": "walk", "videos": 1, "correct": 1, "accuracy": 1.0})"));
  EXPECT_EQ(j["per_class"][1]["accuracy"], 0.0);
  EXPECT_EQ(j["per_class"][2]["class"], "jump");
  EXPECT_EQ(j["per_class"][2]["videos"], 0);
  EXPECT_TRUE(j["per_class"][2]["accuracy"].is_null());
  EXPECT_EQ(j["confusion"], nlohmann::ordered_json::parse("[[1,0,0],[1,0,0],[0,0,0]]"));
}

TEST(MetricsTest, JsonOfNoVideosIsNullNotZero) {
  const nlohmann::ordered_json j = reportJson(Evaluator(2).report(), {});
  for (const char *key : {"clip_top1", "video_top1", "video_top5", "mean_class_accuracy"})
    EXPECT_TRUE(j[key].is_null()) << key;
  EXPECT_EQ(j["per_class"][1]["class"], "1");  // no names: the index
  EXPECT_EQ(j.dump(), nlohmann::ordered_json::parse(j.dump()).dump());
}

TEST(MetricsTest, ClassNamesFallBackToIndices) {
  EXPECT_EQ(className({"a", "b"}, 1), "b");
  EXPECT_EQ(className({"a"}, 1), "1");
  EXPECT_EQ(className({}, 0), "0");
}

TEST(MetricsTest, BrokenUtf8InANameDumpsWithTheReplaceHandler) {
  const nlohmann::ordered_json j = reportJson(Evaluator(1).report(), {"caf\xe9"});
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);
  EXPECT_CONTAINS(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "caf\xef\xbf\xbd");
}

// ---- confusion.svg

void expectWellFormed(const std::string &svg) {
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << svg.substr(0, 80);
  ASSERT_GE(svg.size(), 7u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(occurrences(svg, "<text"), occurrences(svg, "</text>"));
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

Report fiveClassReport() {
  Evaluator e(5);
  const int64_t videos[][2] = {{0, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 1}, {1, 1}, {2, 3},
                               {2, 2}, {3, 3}, {3, 2}, {3, 3}, {3, 3}, {2, 2}};
  for (const auto &[label, predicted] : videos)
    add(e, label, {oneHot(5, predicted), oneHot(5, predicted)});
  return e.report();  // class 4 has no videos
}

const std::vector<std::string> kFiveNames = {"a&b", "<jump>", "ride \"bike\"", "swim", "ApplyEyeMakeup"};

TEST(ConfusionPlotTest, SmallMatrixHasEveryCellWithItsCount) {
  const Report r = fiveClassReport();
  const std::string svg = confusionSvg(r, kFiveNames, "r2plus1d_18 on UCF-101 split 1");
  expectWellFormed(svg);
  EXPECT_EQ(occurrences(svg, "class=\"cell\""), 25u);
  EXPECT_CONTAINS(svg, ">r2plus1d_18 on UCF-101 split 1</text>");
  EXPECT_CONTAINS(svg, "video@1 76.9%");  // 10 of 13
  EXPECT_CONTAINS(svg, "a&amp;b");
  EXPECT_CONTAINS(svg, "&lt;jump&gt;");
  EXPECT_CONTAINS(svg, "ride &quot;bike&quot;");
  EXPECT_EQ(svg.find("a&b"), std::string::npos);
  EXPECT_EQ(svg.find("<jump>"), std::string::npos);
  EXPECT_EQ(occurrences(svg, ">ApplyEyeMakeup</text>"), 2u);  // on both axes
  EXPECT_CONTAINS(svg, "rotate(-45)");
  // Counts: the four rows with videos write all their cells, zeros included.
  EXPECT_EQ(occurrences(svg, "font-size=\"11\""), 20u);
  EXPECT_CONTAINS(svg, "fill=\"white\">3</text>");  // row 1: all three videos on the diagonal
  // Class 1's row is all on the diagonal: the darkest colour; its other cells the lightest.
  EXPECT_CONTAINS(svg, "fill=\"#08306b\"/>");
  EXPECT_CONTAINS(svg, ">no videos</text>");
  EXPECT_EQ(occurrences(svg, "fill=\"#e0e0e0\"/>"), 6u);  // class 4's row and the legend's swatch
}

TEST(ConfusionPlotTest, ManyClassesKeepTheFileSmall) {
  constexpr int64_t kClasses = 400, kVideos = 20000;
  std::mt19937 rng(400);
  std::uniform_int_distribution<int64_t> anyClass(0, kClasses - 1);
  std::bernoulli_distribution right(0.7);
  Evaluator e(kClasses);
  std::vector<std::string> names;
  for (int64_t c = 0; c < kClasses; ++c)
    names.push_back("kinetics class " + std::to_string(c));
  for (int64_t v = 0; v < kVideos; ++v) {
    const int64_t label = v % kClasses;
    add(e, label, {oneHot(kClasses, right(rng) ? label : anyClass(rng))});
  }
  const Report r = e.report();
  const std::string svg = confusionSvg(r, names, "Kinetics-400");
  expectWellFormed(svg);
  int64_t nonZero = 0;
  for (const auto &row : r.confusion)
    nonZero += std::count_if(row.begin(), row.end(), [](int64_t n) { return n > 0; });
  EXPECT_EQ(occurrences(svg, "class=\"cell\""), static_cast<size_t>(nonZero));
  EXPECT_LT(svg.size(), 1000000u);
  EXPECT_LT(occurrences(svg, "<text"), 40u);  // titles, a few class indices, the legend
  EXPECT_EQ(svg.find("kinetics class"), std::string::npos);
  EXPECT_CONTAINS(svg, ">350</text>");  // every 50th index
}

TEST(ConfusionPlotTest, AHundredClassesKeepTheirNames) {
  Evaluator e(101);
  std::vector<std::string> names;
  for (int64_t c = 0; c < 101; ++c) {
    names.push_back("ucf" + std::to_string(c));
    add(e, c, {oneHot(101, (c * 7) % 101)});
  }
  const std::string svg = confusionSvg(e.report(), names, "UCF-101");
  expectWellFormed(svg);
  EXPECT_EQ(occurrences(svg, ">ucf100</text>"), 2u);
  EXPECT_CONTAINS(svg, "rotate(-90)");
  EXPECT_EQ(occurrences(svg, "class=\"cell\""), 101u);
  EXPECT_EQ(occurrences(svg, "font-size=\"11\""), 0u);  // no counts
}

TEST(ConfusionPlotTest, LongNamesAreCutBetweenCharacters) {
  Evaluator e(2);
  add(e, 0, {oneHot(2, 0)});
  std::string longName;
  for (int i = 0; i < 40; ++i)
    longName += "\xc3\xa9";  // é
  const std::string svg = confusionSvg(e.report(), {longName, "short"}, "t");
  std::string cut;
  for (int i = 0; i < 31; ++i)
    cut += "\xc3\xa9";
  EXPECT_EQ(occurrences(svg, ">" + cut + "\xe2\x80\xa6</text>"), 2u);
}

TEST(ConfusionPlotTest, NoVideosAndNoClassesStillDraw) {
  std::string svg = confusionSvg(Evaluator(3).report(), {}, "empty");
  expectWellFormed(svg);
  EXPECT_CONTAINS(svg, "video@1 n/a");
  EXPECT_CONTAINS(svg, " 0 videos, 0 clips</text>");
  EXPECT_EQ(occurrences(svg, "class=\"cell\""), 9u);  // grey: no class has videos
  svg = confusionSvg(Report{}, {}, "nothing");
  expectWellFormed(svg);
  EXPECT_CONTAINS(svg, ">no classes</text>");
}

class ConfusionPlotFileTest : public vidnet::test::ScratchDirTest {};

TEST_F(ConfusionPlotFileTest, WritesTheSvgAtomically) {
  const Report r = fiveClassReport();
  std::string error;
  ASSERT_TRUE(writeConfusionSvg(path("confusion.svg"), r, kFiveNames, "run", error)) << error;
  EXPECT_EQ(readRaw("confusion.svg"), confusionSvg(r, kFiveNames, "run"));
  EXPECT_EQ(listDir(), std::vector<std::string>{"confusion.svg"});
  EXPECT_FALSE(writeConfusionSvg(path("no/such/dir/confusion.svg"), r, kFiveNames, "run", error));
  EXPECT_FALSE(error.empty());
}

} // namespace
