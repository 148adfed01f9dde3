// The motion set: smoothed periodic noise textures translated at constant velocity, encoded with VideoWriter.
#include "runtime/data/MotionSet.h"

#include "runtime/core/Random.h"
#include "runtime/data/VideoWriter.h"
#include "runtime/io/AtomicFile.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <unordered_set>

namespace vidnet::data {
namespace {

constexpr int kMaxClasses = 8;
constexpr const char *kClassNames[kMaxClasses] = {"right", "left",    "down",      "up",
                                                  "down_right", "up_left", "down_left", "up_right"};
constexpr double kDiagonal = 0.70710678118654752;
constexpr std::array<double, 2> kDirections[kMaxClasses] = {
    {1, 0}, {-1, 0}, {0, 1}, {0, -1}, {kDiagonal, kDiagonal}, {-kDiagonal, -kDiagonal}, {-kDiagonal, kDiagonal},
    {kDiagonal, -kDiagonal}};

// splitmix64's finaliser: every input bit affects every output bit.
uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int wrap(int64_t i, int n) { return static_cast<int>(((i % n) + n) % n); }

// One pass of a Gaussian along rows (stride 1) or columns (stride width), wrapping around so
// the texture stays periodic with period width x height and can slide without a seam.
std::vector<float> blurWrapped(const std::vector<float> &in, int width, int height, bool alongRows,
                               const std::vector<double> &kernel) {
  const int radius = static_cast<int>(kernel.size() / 2);
  const int n = alongRows ? width : height;
  std::vector<float> out(in.size());
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const int along = alongRows ? x : y;
      double sum = 0;
      for (int k = -radius; k <= radius; ++k) {
        const int j = wrap(along + k, n);
        sum += kernel[k + radius] * in[alongRows ? y * width + j : j * width + x];
      }
      out[y * width + x] = static_cast<float>(sum);
    }
  return out;
}

std::vector<double> gaussianKernel(double sigma) {
  const int radius = static_cast<int>(std::ceil(3 * sigma));
  std::vector<double> kernel(2 * radius + 1);
  for (int k = -radius; k <= radius; ++k)
    kernel[k + radius] = std::exp(-0.5 * k * k / (sigma * sigma));
  return kernel; // unnormalised: the texture is standardised afterwards
}

// Low-pass white noise, standardised to mean 0 and standard deviation 1, so every video has
// the same contrast before its colours are applied.
std::vector<float> periodicTexture(rt::Random &random, int width, int height, double sigma) {
  std::vector<float> noise(static_cast<size_t>(width) * height);
  for (float &v : noise)
    v = static_cast<float>(random.normal(0, 1));
  const std::vector<double> kernel = gaussianKernel(sigma);
  std::vector<float> texture = blurWrapped(blurWrapped(noise, width, height, true, kernel), width, height, false, kernel);
  double sum = 0, squares = 0;
  for (float v : texture)
    sum += v, squares += static_cast<double>(v) * v;
  const double mean = sum / texture.size();
  const double deviation = std::sqrt(std::max(squares / texture.size() - mean * mean, 1e-12));
  for (float &v : texture)
    v = static_cast<float>((v - mean) / deviation);
  return texture;
}

// A random tint per video (mid-grey level and contrast per channel) so colour carries no
// label either, yet the texture keeps a standard deviation of 29..48 grey levels per channel.
struct Colouring {
  double base[3], amplitude[3];
};

Colouring randomColouring(rt::Random &random) {
  Colouring c;
  for (int ch = 0; ch < 3; ++ch) {
    c.base[ch] = 96 + 64 * random.uniform();
    c.amplitude[ch] = 48 * (0.6 + 0.4 * random.uniform());
  }
  return c;
}

// The texture shifted by (dx, dy): every pixel shares the same bilinear weights, so the
// columns and rows to blend are computed once per frame.
void renderFrame(const std::vector<float> &texture, int width, int height, double dx, double dy,
                 const Colouring &colouring, uint8_t *out) {
  const double fx = std::floor(-dx), fy = std::floor(-dy);
  const double wx = -dx - fx, wy = -dy - fy;
  std::vector<int> col0(width), col1(width);
  for (int x = 0; x < width; ++x)
    col0[x] = wrap(x + static_cast<int64_t>(fx), width), col1[x] = wrap(x + static_cast<int64_t>(fx) + 1, width);
  for (int y = 0; y < height; ++y) {
    const float *row0 = &texture[static_cast<size_t>(wrap(y + static_cast<int64_t>(fy), height)) * width];
    const float *row1 = &texture[static_cast<size_t>(wrap(y + static_cast<int64_t>(fy) + 1, height)) * width];
    for (int x = 0; x < width; ++x) {
      const double z = (1 - wy) * ((1 - wx) * row0[col0[x]] + wx * row0[col1[x]]) +
                       wy * ((1 - wx) * row1[col0[x]] + wx * row1[col1[x]]);
      for (int ch = 0; ch < 3; ++ch) {
        const double v = std::floor(colouring.base[ch] + colouring.amplitude[ch] * z + 0.5);
        *out++ = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
      }
    }
  }
}

std::string videoName(int index, const std::string &extension) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%04d", index);
  return digits + extension;
}

bool writeVideo(const std::string &path, const MotionSetOptions &o, const std::vector<uint8_t> &frames,
                std::string &error) {
  VideoWriter writer;
  if (!writer.open(path, o.width, o.height, o.fps, o.codec, error))
    return false;
  const size_t frameBytes = static_cast<size_t>(o.width) * o.height * 3;
  for (int t = 0; t < o.frames; ++t)
    if (!writer.write(frames.data() + t * frameBytes, error))
      return false;
  return writer.finish(error);
}

bool writeText(const std::string &path, const std::string &text, std::string &error) {
  return rt::writeFileAtomically(path, {{text.data(), text.size()}}, error);
}

// Writes one split's videos and returns its CSV text.
bool writeSplit(const MotionSetOptions &o, MotionSplit split, std::unordered_set<uint64_t> &seeds, std::string &csv,
                std::string &error) {
  const std::string splitName = split == MotionSplit::Train ? "train" : "test";
  const int perClass = split == MotionSplit::Train ? o.trainPerClass : o.testPerClass;
  const std::vector<std::string> names = motionClassNames(o.classes);
  csv = "path,label\n";
  for (int c = 0; c < o.classes; ++c) {
    const std::string directory = splitName + "/" + names[c];
    std::error_code failed;
    std::filesystem::create_directories(o.root + "/" + directory, failed);
    if (failed) {
      error = o.root + "/" + directory + ": cannot create the directory: " + failed.message();
      return false;
    }
    for (int i = 0; i < perClass; ++i) {
      const uint64_t seed = motionVideoSeed(o.seed, split, c, i);
      if (!seeds.insert(seed).second) {
        error = "motion set: two videos share the seed " + std::to_string(seed) + "; try another seed";
        return false;
      }
      const std::string relative = directory + "/" + videoName(i, o.extension);
      if (!writeVideo(o.root + "/" + relative, o, renderMotionVideo(o, c, seed), error))
        return false;
      csv += relative + "," + names[c] + "\n";
    }
  }
  return true;
}

} // namespace

std::vector<std::string> motionClassNames(int classes) {
  classes = std::clamp(classes, 0, kMaxClasses);
  return {kClassNames, kClassNames + classes};
}

std::array<double, 2> motionDirection(int classIndex) {
  if (classIndex < 0 || classIndex >= kMaxClasses)
    return {0, 0};
  return kDirections[classIndex];
}

uint64_t motionVideoSeed(uint64_t seed, MotionSplit split, int classIndex, int index) {
  uint64_t h = mix64(seed);
  h = mix64(h ^ (split == MotionSplit::Train ? 0x7472ULL : 0x7465ULL));
  h = mix64(h ^ static_cast<uint64_t>(static_cast<uint32_t>(classIndex)));
  return mix64(h ^ static_cast<uint64_t>(static_cast<uint32_t>(index)));
}

bool checkMotionSetOptions(const MotionSetOptions &o, std::string &error) {
  auto bad = [&](const std::string &what) {
    error = "motion set: " + what;
    return false;
  };
  if (o.classes < 2 || o.classes > kMaxClasses)
    return bad("classes must be 2..8, not " + std::to_string(o.classes));
  if (o.trainPerClass < 1 || o.testPerClass < 0)
    return bad("need trainPerClass >= 1 and testPerClass >= 0");
  if (o.frames < 2 || o.frames > 10000)
    return bad("frames must be 2..10000 (motion needs two), not " + std::to_string(o.frames));
  if (o.width < 8 || o.height < 8 || o.width > 4096 || o.height > 4096)
    return bad("width and height must be 8..4096, not " + std::to_string(o.width) + "x" + std::to_string(o.height));
  if (o.fps < 1 || o.fps > 1000)
    return bad("fps must be 1..1000");
  const double halfSide = std::min(o.width, o.height) / 2.0;
  if (!(o.minSpeed >= 0 && o.minSpeed <= o.maxSpeed && o.maxSpeed < halfSide))
    return bad("need 0 <= minSpeed <= maxSpeed < half the smaller side (" + std::to_string(halfSide) + " px)");
  if (!(o.textureSigma >= 0.5 && o.textureSigma <= halfSide / 2))
    return bad("textureSigma must be 0.5..a quarter of the smaller side");
  if (o.extension.size() < 2 || o.extension[0] != '.' || o.extension.find('/') != std::string::npos)
    return bad("extension must look like .avi, not '" + o.extension + "'");
  return true;
}

std::vector<uint8_t> renderMotionVideo(const MotionSetOptions &o, int classIndex, uint64_t videoSeed,
                                       float *speedOut) {
  std::string ignored;
  if (!checkMotionSetOptions(o, ignored) || classIndex < 0 || classIndex >= kMaxClasses)
    return {};
  // Only the direction comes from the class; everything random is drawn in the same order
  // whatever the class, so equal seeds give equal textures, speeds and starting offsets.
  rt::Random random(videoSeed);
  const double speed = o.minSpeed + (o.maxSpeed - o.minSpeed) * random.uniform();
  const double startX = o.width * random.uniform(), startY = o.height * random.uniform();
  const Colouring colouring = randomColouring(random);
  const std::vector<float> texture = periodicTexture(random, o.width, o.height, o.textureSigma);

  const auto [dirX, dirY] = kDirections[classIndex];
  const size_t frameBytes = static_cast<size_t>(o.width) * o.height * 3;
  std::vector<uint8_t> frames(frameBytes * o.frames);
  for (int t = 0; t < o.frames; ++t)
    renderFrame(texture, o.width, o.height, startX + t * speed * dirX, startY + t * speed * dirY, colouring,
                frames.data() + t * frameBytes);
  if (speedOut != nullptr)
    *speedOut = static_cast<float>(speed);
  return frames;
}

bool makeMotionSet(const MotionSetOptions &o, std::ostream *progress, std::string &error) {
  if (!checkMotionSetOptions(o, error))
    return false;
  if (o.root.empty()) {
    error = "motion set: no output directory given";
    return false;
  }
  const auto started = std::chrono::steady_clock::now();
  std::unordered_set<uint64_t> seeds;
  std::string trainCsv, testCsv;
  if (!writeSplit(o, MotionSplit::Train, seeds, trainCsv, error) ||
      !writeSplit(o, MotionSplit::Test, seeds, testCsv, error))
    return false;
  std::string classList;
  for (const std::string &name : motionClassNames(o.classes))
    classList += name + "\n";
  if (!writeText(o.root + "/classes.txt", classList, error) || !writeText(o.root + "/train.csv", trainCsv, error) ||
      !writeText(o.root + "/test.csv", testCsv, error))
    return false;

  if (progress != nullptr) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char line[256];
    std::snprintf(line, sizeof line, "motion set: %d videos (%d train, %d test), %d classes, %d frames %dx%d %s, %.1f s",
                  o.classes * (o.trainPerClass + o.testPerClass), o.classes * o.trainPerClass,
                  o.classes * o.testPerClass, o.classes, o.frames, o.width, o.height, o.codec.c_str(), seconds);
    *progress << line << " -> " << o.root << "\n";
  }
  return true;
}

} // namespace vidnet::data
