// Tests for runtime/data/MotionSet and VideoWriter: the files and CSVs, decoding back with the ffmpeg CLI, label
// only in the motion (never in a single frame), determinism, and the writer's error paths.
#include "runtime/data/MotionSet.h"
#include "runtime/data/VideoWriter.h"
#include "test/unit/ScratchDir.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <numbers>
#include <set>
#include <sstream>

using namespace vidnet::data;

namespace {

MotionSetOptions smallOptions(const std::string &root) {
  MotionSetOptions o;
  o.root = root;
  o.classes = 8;
  o.trainPerClass = 2;
  o.testPerClass = 1;
  o.frames = 12;
  o.width = 64;
  o.height = 48;
  return o;
}

std::vector<std::string> readLines(const std::string &path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// Everything a shell command prints on stdout; false if it could not run or failed.
bool runCommand(const std::string &command, std::string &out) {
  FILE *pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr)
    return false;
  char buffer[1 << 16];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    out.append(buffer, n);
  return ::pclose(pipe) == 0;
}

bool haveFfmpegCli() {
  static const bool have = [] {
    std::string ignored;
    return runCommand("ffmpeg -version >/dev/null 2>&1 && ffprobe -version >/dev/null 2>&1", ignored);
  }();
  return have;
}

// Decoding by a separate program (ffmpeg, ffprobe), so the checks do not share a bug with the
// writer. Each call starts a process (~0.15 s), so the tests decode only a few videos.
struct Probe {
  int width = 0, height = 0, frames = 0;
};

Probe probeVideo(const std::string &path) {
  std::string text;
  EXPECT_TRUE(runCommand("ffprobe -v error -select_streams v:0 -count_frames -show_entries "
                         "stream=width,height,nb_read_frames -of csv=p=0 '" + path + "'",
                         text))
      << path;
  Probe probe;
  char comma;
  std::istringstream(text) >> probe.width >> comma >> probe.height >> comma >> probe.frames;
  return probe;
}

std::vector<uint8_t> decodeRgb(const std::string &path) {
  std::string raw;
  EXPECT_TRUE(runCommand("ffmpeg -v error -nostdin -i '" + path + "' -f rawvideo -pix_fmt rgb24 -", raw)) << path;
  return {raw.begin(), raw.end()};
}

using Frame = std::vector<double>; // grey levels, row-major

std::vector<Frame> greyFrames(const std::vector<uint8_t> &rgb, int width, int height) {
  const size_t pixels = static_cast<size_t>(width) * height;
  std::vector<Frame> frames(rgb.size() / (pixels * 3), Frame(pixels));
  for (size_t f = 0; f < frames.size(); ++f)
    for (size_t p = 0; p < pixels; ++p) {
      const uint8_t *px = &rgb[(f * pixels + p) * 3];
      frames[f][p] = (px[0] + px[1] + px[2]) / 3.0;
    }
  return frames;
}

// Sum of squared differences between `to` and `from` shifted by (sx, sy), wrapping around.
double shiftError(const Frame &from, const Frame &to, int width, int height, int sx, int sy) {
  double error = 0;
  for (int y = 0; y < height; ++y) {
    const double *source = &from[static_cast<size_t>(((y - sy) % height + height) % height) * width];
    const double *target = &to[static_cast<size_t>(y) * width];
    for (int x = 0; x < width; ++x) {
      const double d = target[x] - source[((x - sx) % width + width) % width];
      error += d * d;
    }
  }
  return error;
}

// The minimum of the parabola through three errors at -1, 0, +1.
double parabolaMinimum(double minus, double centre, double plus) {
  const double curvature = minus - 2 * centre + plus;
  return curvature > 0 ? 0.5 * (minus - plus) / curvature : 0.0;
}

// The shift (within +-radius, wrapping around) that best maps `from` onto `to`: the best
// integer shift, refined to sub-pixel precision along each axis, since a constant speed
// would otherwise round the same way on every frame pair.
std::array<double, 2> bestShift(const Frame &from, const Frame &to, int width, int height, int radius) {
  int bestX = 0, bestY = 0;
  double best = INFINITY;
  for (int sy = -radius; sy <= radius; ++sy)
    for (int sx = -radius; sx <= radius; ++sx)
      if (double error = shiftError(from, to, width, height, sx, sy); error < best)
        best = error, bestX = sx, bestY = sy;
  auto at = [&](int sx, int sy) { return shiftError(from, to, width, height, sx, sy); };
  return {bestX + parabolaMinimum(at(bestX - 1, bestY), best, at(bestX + 1, bestY)),
          bestY + parabolaMinimum(at(bestX, bestY - 1), best, at(bestX, bestY + 1))};
}

// The mean displacement per frame over all consecutive pairs, in pixels.
std::array<double, 2> meanMotion(const std::vector<Frame> &frames, int width, int height, int radius) {
  double dx = 0, dy = 0;
  for (size_t t = 0; t + 1 < frames.size(); ++t) {
    const auto [sx, sy] = bestShift(frames[t], frames[t + 1], width, height, radius);
    dx += sx, dy += sy;
  }
  const double pairs = static_cast<double>(frames.size() - 1);
  return {dx / pairs, dy / pairs};
}

// The motion points along the class direction (within 12 degrees) at about the drawn speed.
void expectMotion(const std::array<double, 2> &motion, int classIndex, double speed, const std::string &what) {
  const auto [ux, uy] = motionDirection(classIndex);
  const double length = std::hypot(motion[0], motion[1]);
  const double along = motion[0] * ux + motion[1] * uy;
  EXPECT_GT(along, length * std::cos(12 * std::numbers::pi / 180)) << what << ": motion (" << motion[0] << ", " << motion[1]
                                                       << ") is not along class " << classIndex;
  EXPECT_NEAR(length, speed, 0.5) << what;
}

double meanAbsoluteError(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += std::abs(a[i] - b[i]);
  return sum / static_cast<double>(a.size());
}

class MotionSetTest : public vidnet::test::ScratchDirTest {};

TEST_F(MotionSetTest, WritesVideosClassListAndCsvs) {
  const MotionSetOptions o = smallOptions(path("set"));
  std::ostringstream progress;
  std::string error;
  ASSERT_TRUE(makeMotionSet(o, &progress, error)) << error;
  const std::string summary = progress.str();
  EXPECT_EQ(summary.rfind("motion set: 24 videos (16 train, 8 test), 8 classes, 12 frames 64x48 mpeg4, ", 0), 0u)
      << summary;
  EXPECT_EQ(std::count(summary.begin(), summary.end(), '\n'), 1) << "one summary line only: " << summary;

  const std::vector<std::string> names = readLines(o.root + "/classes.txt");
  EXPECT_EQ(names, (std::vector<std::string>{"right", "left", "down", "up", "down_right", "up_left", "down_left",
                                             "up_right"}));
  std::set<std::string> contents; // train and test are disjoint draws: no video appears twice
  for (const auto &[split, perClass] : {std::pair<std::string, int>{"train", 2}, {"test", 1}}) {
    const std::vector<std::string> lines = readLines(o.root + "/" + split + ".csv");
    ASSERT_EQ(lines.size(), 1u + 8 * perClass) << split;
    EXPECT_EQ(lines[0], "path,label");
    for (size_t i = 1; i < lines.size(); ++i) {
      const int c = static_cast<int>(i - 1) / perClass, index = static_cast<int>(i - 1) % perClass;
      EXPECT_EQ(lines[i], split + "/" + names[c] + "/000" + std::to_string(index) + ".avi," + names[c]);
      const std::string video = o.root + "/" + lines[i].substr(0, lines[i].find(','));
      EXPECT_GT(std::filesystem::file_size(video), 1000u) << video;
      EXPECT_TRUE(contents.insert(readRaw(video.substr(dir.size() + 1))).second) << video << " repeats another video";
    }
  }
  // Nothing else: no temporary files left behind by the writer or the CSV writes.
  std::vector<std::string> top;
  for (const auto &entry : std::filesystem::recursive_directory_iterator(o.root)) {
    if (entry.is_regular_file()) {
      EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
    }
  }
  for (const auto &entry : std::filesystem::directory_iterator(o.root))
    top.push_back(entry.path().filename().string());
  std::sort(top.begin(), top.end());
  EXPECT_EQ(top, (std::vector<std::string>{"classes.txt", "test", "test.csv", "train", "train.csv"}));
}

TEST_F(MotionSetTest, DecodedVideosMatchTheRenderingAndMoveInTheClassDirection) {
  if (!haveFfmpegCli())
    GTEST_SKIP() << "no ffmpeg/ffprobe on PATH";
  const MotionSetOptions o = smallOptions(path("set"));
  std::string error;
  ASSERT_TRUE(makeMotionSet(o, nullptr, error)) << error;
  const std::vector<std::string> names = motionClassNames(o.classes);
  for (int c : {3, 4}) { // up, down_right: one along an axis, one diagonal
    const std::string video = o.root + "/test/" + names[c] + "/0000.avi";
    const Probe probe = probeVideo(video);
    EXPECT_EQ(probe.width, o.width);
    EXPECT_EQ(probe.height, o.height);
    EXPECT_EQ(probe.frames, o.frames);
    float speed = 0;
    const std::vector<uint8_t> rendered =
        renderMotionVideo(o, c, motionVideoSeed(o.seed, MotionSplit::Test, c, 0), &speed);
    const std::vector<uint8_t> decoded = decodeRgb(video);
    ASSERT_EQ(decoded.size(), rendered.size()) << video;
    EXPECT_LT(meanAbsoluteError(decoded, rendered), 4.0) << video;
    expectMotion(meanMotion(greyFrames(decoded, o.width, o.height), o.width, o.height, 5), c, speed, video);
  }
}

TEST(MotionSetRender, EveryVideoMovesInItsClassDirection) {
  MotionSetOptions o = smallOptions("");
  o.frames = 8;
  for (int c = 0; c < 8; ++c)
    for (int i = 0; i < 4; ++i) {
      float speed = 0;
      const std::vector<uint8_t> rgb = renderMotionVideo(o, c, motionVideoSeed(7, MotionSplit::Train, c, i), &speed);
      ASSERT_EQ(rgb.size(), 8u * 64 * 48 * 3);
      EXPECT_GE(speed, o.minSpeed);
      EXPECT_LE(speed, o.maxSpeed);
      expectMotion(meanMotion(greyFrames(rgb, o.width, o.height), o.width, o.height, 5), c, speed,
                   "class " + std::to_string(c) + " video " + std::to_string(i));
    }
}

// Nothing but the direction depends on the class: the same seed gives the same first frame.
TEST(MotionSetRender, FirstFrameIsTheSameForEveryClass) {
  const MotionSetOptions o = smallOptions("");
  const size_t frameBytes = 64 * 48 * 3;
  const std::vector<uint8_t> first = renderMotionVideo(o, 0, 123);
  for (int c = 1; c < 8; ++c) {
    const std::vector<uint8_t> other = renderMotionVideo(o, c, 123);
    EXPECT_TRUE(std::equal(first.begin(), first.begin() + frameBytes, other.begin())) << "class " << c;
    EXPECT_FALSE(std::equal(first.begin() + frameBytes, first.begin() + 2 * frameBytes, other.begin() + frameBytes))
        << "class " << c << " moves like class 0";
  }
}

// Per-frame brightness and contrast, averaged per class, differ between classes no more than
// sampling noise allows: a frame-level statistic does not reveal the class.
TEST(MotionSetRender, FrameStatisticsDoNotDependOnTheClass) {
  MotionSetOptions o = smallOptions("");
  o.frames = 6;
  o.width = 48;
  o.height = 32;
  constexpr int kClasses = 4, kVideos = 40;
  const int pixels = o.width * o.height;
  for (int statistic = 0; statistic < 2; ++statistic) {
    std::vector<double> classMean(kClasses), all;
    for (int c = 0; c < kClasses; ++c)
      for (int i = 0; i < kVideos; ++i) {
        const auto frames = greyFrames(renderMotionVideo(o, c, motionVideoSeed(3, MotionSplit::Train, c, i)), o.width,
                                       o.height);
        // One frame per video: frames of one video are too alike to count as independent.
        const Frame &f = frames[i % o.frames];
        double sum = 0, squares = 0;
        for (double v : f)
          sum += v, squares += v * v;
        const double mean = sum / pixels, value = statistic == 0 ? mean : std::sqrt(squares / pixels - mean * mean);
        classMean[c] += value / kVideos;
        all.push_back(value);
      }
    double grand = 0, variance = 0;
    for (double v : all)
      grand += v / all.size();
    for (double v : all)
      variance += (v - grand) * (v - grand) / (all.size() - 1);
    const double standardError = std::sqrt(variance / kVideos);
    EXPECT_GT(standardError, 0.1) << "the statistic should vary from video to video";
    for (int c = 0; c < kClasses; ++c)
      EXPECT_LT(std::abs(classMean[c] - grand), 3.5 * standardError)
          << (statistic == 0 ? "mean" : "std") << " of class " << c << ": " << classMean[c] << " vs " << grand;
  }
}

TEST(MotionSetRender, SameSeedSameFramesOtherSeedOtherFrames) {
  const MotionSetOptions o = smallOptions("");
  float speedA = 0, speedB = 0;
  EXPECT_EQ(renderMotionVideo(o, 2, 99, &speedA), renderMotionVideo(o, 2, 99, &speedB));
  EXPECT_EQ(speedA, speedB);
  EXPECT_GT(meanAbsoluteError(renderMotionVideo(o, 2, 99), renderMotionVideo(o, 2, 100)), 10.0);
  EXPECT_NE(motionVideoSeed(1, MotionSplit::Train, 0, 0), motionVideoSeed(1, MotionSplit::Test, 0, 0));
  EXPECT_NE(motionVideoSeed(1, MotionSplit::Train, 0, 0), motionVideoSeed(2, MotionSplit::Train, 0, 0));
  EXPECT_NE(motionVideoSeed(1, MotionSplit::Train, 0, 1), motionVideoSeed(1, MotionSplit::Train, 1, 0));
}

// Same options, same bytes on disk; a different trainPerClass leaves the test videos alone.
TEST_F(MotionSetTest, FilesAreReproducibleAndTheTestSetIndependentOfTheTrainSize) {
  MotionSetOptions a = smallOptions(path("a"));
  a.classes = 2;
  MotionSetOptions b = a;
  b.root = path("b");
  MotionSetOptions c = a;
  c.root = path("c");
  c.trainPerClass = 1;
  std::string error;
  ASSERT_TRUE(makeMotionSet(a, nullptr, error)) << error;
  ASSERT_TRUE(makeMotionSet(b, nullptr, error)) << error;
  ASSERT_TRUE(makeMotionSet(c, nullptr, error)) << error;
  EXPECT_EQ(readRaw("a/train/left/0001.avi"), readRaw("b/train/left/0001.avi"));
  EXPECT_EQ(readRaw("a/train/right/0000.avi"), readRaw("c/train/right/0000.avi"));
  EXPECT_EQ(readRaw("a/test/left/0000.avi"), readRaw("c/test/left/0000.avi"));
  EXPECT_EQ(readRaw("a/test.csv"), readRaw("c/test.csv"));
  EXPECT_NE(readRaw("a/train.csv"), readRaw("c/train.csv"));
}

TEST(MotionSetOptionsTest, RejectsBadOptionsWithAReason) {
  MotionSetOptions o = smallOptions("");
  std::string error;
  EXPECT_TRUE(checkMotionSetOptions(o, error)) << error;
  auto rejected = [&](auto change, const std::string &word) {
    MotionSetOptions bad = o;
    change(bad);
    std::string why;
    EXPECT_FALSE(checkMotionSetOptions(bad, why)) << word;
    EXPECT_CONTAINS(why, word);
    EXPECT_TRUE(renderMotionVideo(bad, 0, 1).empty()) << word;
  };
  rejected([](MotionSetOptions &b) { b.classes = 1; }, "classes");
  rejected([](MotionSetOptions &b) { b.classes = 9; }, "classes");
  rejected([](MotionSetOptions &b) { b.frames = 1; }, "frames");
  rejected([](MotionSetOptions &b) { b.maxSpeed = 30; }, "maxSpeed");
  rejected([](MotionSetOptions &b) { b.minSpeed = 5; }, "minSpeed");
  rejected([](MotionSetOptions &b) { b.extension = "avi"; }, "extension");
  EXPECT_TRUE(renderMotionVideo(o, 8, 1).empty());
  EXPECT_FALSE(makeMotionSet(o, nullptr, error)); // no root
  EXPECT_CONTAINS(error, "output directory");
}

class VideoWriterTest : public vidnet::test::ScratchDirTest {
protected:
  std::vector<uint8_t> grey = std::vector<uint8_t>(32 * 24 * 3, 128);
};

TEST_F(VideoWriterTest, WritesEveryFrameAtTheGivenSizeInEachContainer) {
  for (const std::string name : {"v.avi", "v.mp4", "v.mkv"}) {
    VideoWriter writer;
    std::string error;
    ASSERT_TRUE(writer.open(path(name), 32, 24, 25, kDefaultVideoCodec, error)) << error;
    for (int t = 0; t < 5; ++t)
      ASSERT_TRUE(writer.write(grey.data(), error)) << error;
    ASSERT_TRUE(writer.finish(error)) << error;
    EXPECT_EQ(writer.framesWritten(), 5);
    EXPECT_FALSE(writer.write(grey.data(), error));
    EXPECT_CONTAINS(error, "after finish");
    if (haveFfmpegCli()) {
      const std::vector<uint8_t> decoded = decodeRgb(path(name));
      ASSERT_EQ(decoded.size(), 5 * grey.size()) << name << ": five 32x24 frames";
      EXPECT_LT(meanAbsoluteError(decoded, std::vector<uint8_t>(decoded.size(), 128)), 2.0) << name;
    }
  }
}

TEST_F(VideoWriterTest, ErrorsNameThePathAndTheReason) {
  std::string error;
  {
    VideoWriter writer;
    const std::string missing = path("no/such/dir/v.avi");
    EXPECT_FALSE(writer.open(missing, 32, 24, 25, "mpeg4", error));
    EXPECT_CONTAINS(error, missing);
    EXPECT_CONTAINS(error, "No such file or directory");
    EXPECT_FALSE(writer.write(grey.data(), error));
    EXPECT_FALSE(writer.finish(error));
  }
  {
    VideoWriter writer;
    EXPECT_FALSE(writer.open(path("v.avi"), 32, 24, 25, "no_such_codec", error));
    EXPECT_CONTAINS(error, path("v.avi"));
    EXPECT_CONTAINS(error, "'no_such_codec'");
  }
  {
    VideoWriter writer;
    EXPECT_FALSE(writer.open(path("v.nosuchcontainer"), 32, 24, 25, "mpeg4", error));
    EXPECT_CONTAINS(error, "no container");
    EXPECT_FALSE(writer.open(path("v.avi"), 0, 24, 25, "mpeg4", error));
    EXPECT_CONTAINS(error, "0x24");
  }
  {
    VideoWriter writer;
    if (writer.open(path("odd.mp4"), 33, 24, 25, "libx264", error)) {
      ADD_FAILURE() << "libx264 took an odd width for yuv420p";
    } else if (error.find("no video encoder") == std::string::npos) {
      EXPECT_CONTAINS(error, "even width and height for yuv420p; got 33x24");
    }
  }
  EXPECT_EQ(listDir(), std::vector<std::string>{}) << "failed opens must leave no files";
}

// A writer dropped midway (an error elsewhere, an early return) leaves neither the video nor
// its temporary file, and does not disturb an existing file of that name.
TEST_F(VideoWriterTest, AnUnfinishedWriterLeavesNothingBehind) {
  writeRaw("v.avi", "old");
  {
    VideoWriter writer;
    std::string error;
    ASSERT_TRUE(writer.open(path("v.avi"), 32, 24, 25, "mpeg4", error)) << error;
    ASSERT_TRUE(writer.write(grey.data(), error)) << error;
    EXPECT_EQ(listDir().size(), 2u) << "the temporary file";
  }
  EXPECT_EQ(listDir(), std::vector<std::string>{"v.avi"});
  EXPECT_EQ(readRaw("v.avi"), "old");
}

} // namespace
