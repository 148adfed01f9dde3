// Tests for runtime/train/TrainConfig: the paper's defaults, strict validation, --set overrides,
// the toJson round trip, the learning-rate schedule and the configs/ files.
#include "runtime/train/TrainConfig.h"
#include "test/unit/ScratchDir.h"

#include <cstdint>
#include <gtest/gtest.h>
#include <limits>
#include <nlohmann/json.hpp>

using namespace vidnet::train;
using nlohmann::json;

namespace {

// Field by field, so that a field toJson forgot cannot hide.
void expectSameConfig(const TrainConfig &a, const TrainConfig &b) {
  EXPECT_EQ(a.epochs, b.epochs);
  EXPECT_EQ(a.epochSize, b.epochSize);
  EXPECT_EQ(a.batchSize, b.batchSize);
  EXPECT_EQ(a.baseLr, b.baseLr);
  EXPECT_EQ(a.warmupEpochs, b.warmupEpochs);
  EXPECT_EQ(a.lrStepEpochs, b.lrStepEpochs);
  EXPECT_EQ(a.lrDecay, b.lrDecay);
  EXPECT_EQ(a.momentum, b.momentum);
  EXPECT_EQ(a.weightDecay, b.weightDecay);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.checkpointEvery, b.checkpointEvery);
  EXPECT_EQ(a.logEvery, b.logEvery);
  EXPECT_EQ(a.outDir, b.outDir);
  EXPECT_EQ(a.resizeHeight, b.resizeHeight);
  EXPECT_EQ(a.resizeWidth, b.resizeWidth);
  EXPECT_EQ(a.resizeFilter, b.resizeFilter);
  EXPECT_EQ(a.frameStride, b.frameStride);
  EXPECT_EQ(a.flip, b.flip);
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.std, b.std);
  EXPECT_EQ(a.shortVideos, b.shortVideos);
  EXPECT_EQ(a.evalClips, b.evalClips);
  EXPECT_EQ(a.loaderThreads, b.loaderThreads);
  EXPECT_EQ(a.prefetchBatches, b.prefetchBatches);
}

// A config that differs from the defaults in every field.
TrainConfig everythingChanged() {
  TrainConfig c;
  c.epochs = 7;
  c.epochSize = 1001;
  c.batchSize = 10;
  c.baseLr = 0.123456789012345;
  c.warmupEpochs = 1.5;
  c.lrStepEpochs = 3;
  c.lrDecay = 0.5;
  c.momentum = 0.95;
  c.weightDecay = 5e-4;
  c.seed = std::numeric_limits<uint64_t>::max();
  c.checkpointEvery = 0;
  c.logEvery = 1;
  c.outDir = "some dir/\"quoted\"";
  c.resizeHeight = 36;
  c.resizeWidth = 48;
  c.resizeFilter = "area";
  c.frameStride = 2;
  c.flip = false;
  c.mean = {0.5, 0.25, 0.125};
  c.std = {0.1, 0.2, 0.3};
  c.shortVideos = "repeat_last";
  c.evalClips = 3;
  c.loaderThreads = 0;
  c.prefetchBatches = 9;
  return c;
}

// Parses `j`, expects a rejection, checks that `out` was left alone; returns the message.
std::string parseError(const json &j) {
  TrainConfig out;
  out.outDir = "untouched";
  std::string error;
  EXPECT_FALSE(parseTrainConfig(j, out, error)) << j.dump() << " was accepted";
  EXPECT_EQ(out.outDir, "untouched") << "a rejected config must not be half applied";
  return error;
}

TEST(TrainConfigTest, DefaultsAreThePapersKineticsRecipe) {
  const TrainConfig c;
  EXPECT_EQ(c.epochs, 45);
  EXPECT_EQ(c.epochSize, 1'000'000);
  EXPECT_EQ(c.batchSize, 32);
  EXPECT_DOUBLE_EQ(c.baseLr, 0.01);
  EXPECT_DOUBLE_EQ(c.warmupEpochs, 10);
  EXPECT_EQ(c.lrStepEpochs, 10);
  EXPECT_DOUBLE_EQ(c.lrDecay, 0.1);
  EXPECT_DOUBLE_EQ(c.momentum, 0.9);
  EXPECT_DOUBLE_EQ(c.weightDecay, 1e-4);
  EXPECT_EQ(stepsPerEpoch(c), 31'250);
  EXPECT_EQ(c.checkpointEvery, stepsPerEpoch(c));

  TrainConfig parsed = everythingChanged();
  std::string error;
  ASSERT_TRUE(parseTrainConfig(json::object(), parsed, error)) << error;
  expectSameConfig(parsed, c);
}

TEST(TrainConfigTest, KeysOverrideOnlyThemselves) {
  TrainConfig c;
  std::string error;
  ASSERT_TRUE(parseTrainConfig(json{{"epochs", 12}, {"base_lr", 1}, {"out_dir", "x"}}, c, error)) << error;
  TrainConfig expected;
  expected.epochs = 12;
  expected.baseLr = 1.0;  // an integer is a number
  expected.outDir = "x";
  expectSameConfig(c, expected);
}

TEST(TrainConfigTest, MessageShowsKeyExpectationAndValue) {
  EXPECT_EQ(parseError(json{{"base_lr", "x"}}), "\"base_lr\": expected a positive number, got \"x\"");
  EXPECT_EQ(parseError(json{{"epochs", 1.5}}), "\"epochs\": expected a positive integer, got 1.5");
}

TEST(TrainConfigTest, EachValidationErrorNamesItsKey) {
  const json bad[] = {
      {{"epochs", 0}},
      {{"epochs", -1}},
      {{"epochs", 45.0}},
      {{"epochs", "45"}},
      {{"epochs", true}},
      {{"epochs", nullptr}},
      {{"epochs", std::numeric_limits<uint64_t>::max()}},
      {{"epoch_size", 0}},
      {{"batch_size", -8}},
      {{"batch_size", json::array({32})}},
      {{"base_lr", 0}},
      {{"base_lr", -0.01}},
      {{"base_lr", std::numeric_limits<double>::infinity()}},
      {{"base_lr", std::numeric_limits<double>::quiet_NaN()}},
      {{"warmup_epochs", -1}},
      {{"lr_step_epochs", 0}},
      {{"lr_decay", 0}},
      {{"lr_decay", 1.5}},
      {{"momentum", 1}},
      {{"momentum", -0.1}},
      {{"weight_decay", -1e-4}},
      {{"seed", -1}},
      {{"seed", 1.5}},
      {{"checkpoint_every", -1}},
      {{"log_every", 0}},
      {{"out_dir", ""}},
      {{"out_dir", 3}},
  };
  for (const json &j : bad) {
    const std::string key = j.begin().key();
    const std::string error = parseError(j);
    EXPECT_EQ(error.rfind("\"" + key + "\": expected ", 0), 0u) << j.dump() << " gave: " << error;
  }
}

TEST(TrainConfigTest, EdgesOfTheRangesAreAccepted) {
  TrainConfig c;
  std::string error;
  ASSERT_TRUE(parseTrainConfig(json{{"momentum", 0},
                                    {"lr_decay", 1},
                                    {"weight_decay", 0},
                                    {"warmup_epochs", 45},
                                    {"checkpoint_every", 0},
                                    {"seed", json::parse("18446744073709551615")}},
                               c, error))
      << error;
  EXPECT_EQ(c.seed, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(c.momentum, 0);
  EXPECT_EQ(c.lrDecay, 1);
  // A seed built in C++ is a signed JSON integer, not an unsigned one.
  ASSERT_TRUE(parseTrainConfig(json{{"seed", int64_t{5}}}, c, error)) << error;
  EXPECT_EQ(c.seed, 5u);
}

TEST(TrainConfigTest, UnknownKeysAndNonObjectsAreRejected) {
  const std::string error = parseError(json{{"epochs", 3}, {"learning_rate", 0.1}});
  EXPECT_EQ(error.rfind("\"learning_rate\": unknown setting", 0), 0u) << error;
  EXPECT_CONTAINS(error, "base_lr");  // the message lists what is known
  EXPECT_CONTAINS(parseError(json::array({1, 2})), "expected a JSON object");
}

TEST(TrainConfigTest, SettingsThatContradictEachOtherAreRejected) {
  EXPECT_EQ(parseError(json{{"epochs", 3}}).rfind("\"warmup_epochs\": ", 0), 0u)
      << "3 epochs with the default 10-epoch warmup never reach base_lr";
  EXPECT_CONTAINS(parseError(json{{"epochs", std::numeric_limits<int64_t>::max()}}), "\"epochs\"");
  TrainConfig c;
  c.epochs = 3;
  c.warmupEpochs = 3;
  std::string error;
  EXPECT_TRUE(validateTrainConfig(c, error)) << error;
}

TEST(TrainConfigTest, OverridesUseTheSameKeysAndChecks) {
  TrainConfig c;
  std::string error;
  ASSERT_TRUE(applyOverride(c, "base_lr", "0.1", error)) << error;
  EXPECT_DOUBLE_EQ(c.baseLr, 0.1);
  ASSERT_TRUE(applyOverride(c, "epochs", "3", error)) << error;
  EXPECT_EQ(c.epochs, 3);
  EXPECT_FALSE(validateTrainConfig(c, error)) << "warmup is still 10 epochs";
  ASSERT_TRUE(applyOverride(c, "warmup_epochs", "0", error)) << error;
  EXPECT_TRUE(validateTrainConfig(c, error)) << error;
  ASSERT_TRUE(applyOverride(c, "seed", "18446744073709551615", error)) << error;
  EXPECT_EQ(c.seed, std::numeric_limits<uint64_t>::max());
  // Paths are taken as they are: no JSON quotes needed, and "3" stays a string.
  ASSERT_TRUE(applyOverride(c, "out_dir", "runs/a b", error)) << error;
  EXPECT_EQ(c.outDir, "runs/a b");
  ASSERT_TRUE(applyOverride(c, "out_dir", "3", error)) << error;
  EXPECT_EQ(c.outDir, "3");

  const TrainConfig before = c;
  auto rejected = [&](std::string_view key, std::string_view value) {
    std::string message;
    EXPECT_FALSE(applyOverride(c, key, value, message)) << key << "=" << value << " was accepted";
    expectSameConfig(c, before);
    return message;
  };
  EXPECT_EQ(rejected("base_lr", "x"), "\"base_lr\": expected a positive number, got \"x\"");
  EXPECT_EQ(rejected("base_lr", ""), "\"base_lr\": expected a positive number, got \"\"");
  EXPECT_EQ(rejected("base_lr", "1e999").rfind("\"base_lr\": ", 0), 0u);
  EXPECT_EQ(rejected("epochs", "1.5"), "\"epochs\": expected a positive integer, got 1.5");
  EXPECT_EQ(rejected("momentum", "1").rfind("\"momentum\": ", 0), 0u);
  EXPECT_EQ(rejected("out_dir", "").rfind("\"out_dir\": ", 0), 0u);
  EXPECT_EQ(rejected("lr", "0.1").rfind("\"lr\": unknown setting", 0), 0u);
  EXPECT_EQ(rejected("short_videos", "drop"), "\"short_videos\": expected one of loop, repeat_last, skip, got \"drop\"");
  EXPECT_EQ(rejected("resize_filter", "lanczos").rfind("\"resize_filter\": expected one of", 0), 0u);
  EXPECT_EQ(rejected("flip", "1"), "\"flip\": expected true or false, got 1");
  EXPECT_EQ(rejected("mean", "[0.4, 0.4]"), "\"mean\": expected 3 numbers (R, G, B), got [0.4,0.4]");
  EXPECT_EQ(rejected("std", "[0.2, 0, 0.2]").rfind("\"std\": expected 3 positive numbers", 0), 0u);
}

TEST(TrainConfigTest, ToJsonRoundTripsThroughText) {
  const TrainConfig c = everythingChanged();
  const nlohmann::ordered_json j = toJson(c);
  std::vector<std::string> keys;
  for (const auto &[key, value] : j.items())
    keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"epochs", "epoch_size", "batch_size", "base_lr", "warmup_epochs",
                                            "lr_step_epochs", "lr_decay", "momentum", "weight_decay", "seed",
                                            "checkpoint_every", "log_every", "out_dir", "resize_height",
                                            "resize_width", "resize_filter", "frame_stride", "flip", "mean", "std",
                                            "short_videos", "eval_clips", "loader_threads", "prefetch_batches"}));
  TrainConfig back;
  std::string error;
  ASSERT_TRUE(parseTrainConfig(json::parse(j.dump()), back, error)) << error;
  expectSameConfig(back, c);
}

TEST(TrainConfigTest, StepsPerEpochRoundsUp) {
  auto steps = [](int64_t epochSize, int64_t batchSize) {
    TrainConfig c;
    c.epochSize = epochSize;
    c.batchSize = batchSize;
    return stepsPerEpoch(c);
  };
  EXPECT_EQ(steps(1'000'000, 32), 31'250);
  EXPECT_EQ(steps(64, 8), 8);
  EXPECT_EQ(steps(10, 3), 4);
  EXPECT_EQ(steps(5, 8), 1);
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(steps(max, 2), max / 2 + 1);
  EXPECT_EQ(steps(max, 1), max);
}

// Relative comparison: the rates span eight orders of magnitude.
#define EXPECT_LR(actual, expected) EXPECT_NEAR((actual) / (expected), 1.0, 1e-12) << (actual) << " vs " << (expected)

TEST(TrainConfigTest, PaperScheduleWarmsUpForTenEpochsThenDividesByTenEveryTen) {
  const TrainConfig c;
  const int64_t spe = stepsPerEpoch(c);
  const int64_t warmup = 10 * spe;  // 312,500 steps
  auto lr = [&](int64_t step) { return learningRate(c, step, spe); };
  EXPECT_LR(lr(0), 0.01 / warmup);
  EXPECT_LR(lr(1), 0.01 * 2 / warmup);
  EXPECT_LR(lr(warmup / 2 - 1), 0.005);
  EXPECT_LR(lr(warmup - 1), 0.01);
  for (int64_t step = 1; step < warmup; step += 997)
    ASSERT_GT(lr(step), lr(step - 1)) << "the warmup ramp must rise at step " << step;
  // Decays count from the end of the warmup (torchvision's reading): /10 at 20, 30 and 40.
  EXPECT_LR(lr(10 * spe), 0.01);
  EXPECT_LR(lr(20 * spe - 1), 0.01);
  EXPECT_LR(lr(20 * spe), 0.001);
  EXPECT_LR(lr(30 * spe), 1e-4);
  EXPECT_LR(lr(40 * spe), 1e-5);
  EXPECT_LR(lr(45 * spe - 1), 1e-5);
}

TEST(TrainConfigTest, ScheduleWithoutWarmupAndWithFractionalWarmup) {
  TrainConfig c;
  c.baseLr = 0.05;
  c.warmupEpochs = 0;
  c.lrStepEpochs = 2;
  EXPECT_LR(learningRate(c, 0, 8), 0.05);
  EXPECT_LR(learningRate(c, 15, 8), 0.05);
  EXPECT_LR(learningRate(c, 16, 8), 0.005);
  EXPECT_LR(learningRate(c, 32, 8), 0.0005);

  // Half an epoch of three steps is two warmup steps: the ramp never has a zero rate.
  c.warmupEpochs = 0.5;
  EXPECT_LR(learningRate(c, 0, 3), 0.025);
  EXPECT_LR(learningRate(c, 1, 3), 0.05);
  EXPECT_LR(learningRate(c, 2, 3), 0.05);
}

class TrainConfigFileTest : public vidnet::test::ScratchDirTest {};

TEST_F(TrainConfigFileTest, LoadsAFileAndNamesItInEveryMessage) {
  writeRaw("good.json", R"({"epochs": 3, "warmup_epochs": 1, "out_dir": "runs/x"})");
  TrainConfig c;
  std::string error;
  ASSERT_TRUE(loadTrainConfig(path("good.json"), c, error)) << error;
  EXPECT_EQ(c.epochs, 3);
  EXPECT_EQ(c.outDir, "runs/x");

  auto loadError = [&](const std::string &name, const std::string &text) {
    writeRaw(name, text);
    TrainConfig out;
    std::string message;
    EXPECT_FALSE(loadTrainConfig(path(name), out, message)) << text << " was accepted";
    EXPECT_EQ(message.rfind(path(name) + ": ", 0), 0u) << message;
    return message;
  };
  EXPECT_CONTAINS(loadError("syntax.json", "{\"epochs\": 3,}"), "parse error at line 1");
  EXPECT_CONTAINS(loadError("range.json", R"({"log_every": 0})"), "\"log_every\": expected a positive integer");
  EXPECT_CONTAINS(loadError("twice.json", R"({"base_lr": 0.1, "epochs": 50, "base_lr": 0.2})"),
                  "\"base_lr\" is given twice");

  TrainConfig out;
  EXPECT_FALSE(loadTrainConfig(path("missing.json"), out, error));
  EXPECT_CONTAINS(error, path("missing.json"));
}

TEST(TrainConfigTest, TheRepositoryConfigsParse) {
  const std::string dir = std::string(VIDNET_SOURCE_DIR) + "/configs/";
  TrainConfig scratch, finetune, tiny;
  std::string error;
  ASSERT_TRUE(loadTrainConfig(dir + "kinetics_scratch.json", scratch, error)) << error;
  ASSERT_TRUE(loadTrainConfig(dir + "finetune.json", finetune, error)) << error;
  ASSERT_TRUE(loadTrainConfig(dir + "tiny.json", tiny, error)) << error;

  TrainConfig paper;
  paper.outDir = scratch.outDir;
  expectSameConfig(scratch, paper);

  EXPECT_DOUBLE_EQ(finetune.baseLr, 0.001);
  EXPECT_EQ(finetune.lrStepEpochs, 4);
  EXPECT_EQ(finetune.epochs, 15);
  EXPECT_EQ(finetune.warmupEpochs, 0);

  EXPECT_EQ(tiny.epochs * stepsPerEpoch(tiny), 24) << "tiny.json should stay a few-minute CPU run";
  EXPECT_EQ(tiny.warmupEpochs, 0);
}

} // namespace
