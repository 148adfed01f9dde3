// VideoDecoder against the `ffmpeg` CLI's own decode and scale of videos the CLI encoded:
// every container and codec the loader is meant for, seeking, frame counts, broken files.
#include "runtime/data/ClipSampler.h"
#include "runtime/data/VideoDecoder.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace vidnet::data;

namespace {

constexpr int kFrames = 40, kHeight = 128, kWidth = 171;

std::string run(const std::string &command) {
  std::string out;
  FILE *p = popen(command.c_str(), "r");
  if (!p)
    return out;
  char buffer[1 << 16];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), p)) > 0;)
    out.append(buffer, n);
  pclose(p);
  return out;
}

class VideoDecoderTest : public testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("vidnet-decoder-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // testsrc2 moves every frame, so a wrong frame index cannot go unnoticed. 320x240
    // sources, scaled to 171x128 like the paper's inputs.
    const std::string source = "ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=25 -frames:v " +
                               std::to_string(kFrames) + " ";
    encoded_["mpeg4.avi"] = run(source + "-c:v mpeg4 -q:v 3 -g 12 " + path("mpeg4.avi") + " 2>&1");
    encoded_["h264.mp4"] = run(source + "-c:v libx264 -pix_fmt yuv420p -bf 2 -g 10 " + path("h264.mp4") + " 2>&1");
    encoded_["mjpeg.mkv"] = run(source + "-c:v mjpeg -q:v 3 " + path("mjpeg.mkv") + " 2>&1");
    encoded_["h264.mkv"] = run(source + "-c:v libx264 -pix_fmt yuv420p -g 10 " + path("h264.mkv") + " 2>&1");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string path(const std::string &name) { return (dir_ / name).string(); }

  // ffmpeg's decode of every frame, scaled as the decoder's default does (bicubic).
  static std::vector<uint8_t> ffmpegFrames(const std::string &name) {
    std::string raw = run("ffmpeg -v error -i " + path(name) + " -vf scale=" + std::to_string(kWidth) + ":" +
                          std::to_string(kHeight) + " -pix_fmt rgb24 -f rawvideo -");
    return {raw.begin(), raw.end()};
  }

  static fs::path dir_;
  static std::map<std::string, std::string> encoded_;
};

fs::path VideoDecoderTest::dir_;
std::map<std::string, std::string> VideoDecoderTest::encoded_;

std::vector<int64_t> range(int64_t first, int64_t end) {
  std::vector<int64_t> v;
  for (int64_t i = first; i < end; ++i)
    v.push_back(i);
  return v;
}

// The largest |difference| between our frames and ffmpeg's frames at `indices`.
int maxDifference(const DecodedFrames &ours, const std::vector<uint8_t> &reference) {
  const size_t frame = size_t(kHeight) * kWidth * 3;
  int worst = 0;
  for (size_t k = 0; k < ours.indices.size(); ++k)
    for (size_t i = 0; i < frame; ++i)
      worst = std::max(worst, std::abs(int(ours.rgb[k * frame + i]) - int(reference[size_t(ours.indices[k]) * frame + i])));
  return worst;
}

TEST_F(VideoDecoderTest, EveryFrameEqualsTheFfmpegCli) {
  for (const std::string name : {"mpeg4.avi", "h264.mp4", "mjpeg.mkv", "h264.mkv"}) {
    SCOPED_TRACE(name + ": " + encoded_[name]);
    std::string error;
    auto video = VideoDecoder::open(path(name), error);
    ASSERT_TRUE(video) << error;
    EXPECT_EQ(video->frameCount(), kFrames);
    EXPECT_EQ(video->width(), 320);
    EXPECT_EQ(video->height(), 240);
    EXPECT_NEAR(video->fps(), 25.0, 1e-9);
    DecodedFrames frames;
    ASSERT_TRUE(video->read(range(0, kFrames), kHeight, kWidth, ResizeFilter::Bicubic, frames, error)) << error;
    ASSERT_EQ(frames.indices, range(0, kFrames));
    EXPECT_EQ(frames.endOfStream, -1);
    std::vector<uint8_t> reference = ffmpegFrames(name);
    ASSERT_EQ(reference.size(), size_t(kFrames) * kHeight * kWidth * 3);
    int worst = maxDifference(frames, reference);
    std::printf("%s: max |ours - ffmpeg CLI| = %d of 255\n", name.c_str(), worst);
    EXPECT_LE(worst, 2);
  }
}

TEST_F(VideoDecoderTest, SeeksExactlyWithinAGroupOfPictures) {
  for (const std::string name : {"mpeg4.avi", "h264.mp4", "mjpeg.mkv", "h264.mkv"}) {
    SCOPED_TRACE(name);
    std::string error;
    auto video = VideoDecoder::open(path(name), error);
    ASSERT_TRUE(video) << error;
    std::vector<uint8_t> reference = ffmpegFrames(name);
    // Frame 23 is mid-GOP in every file: a seek that is off by one shows here.
    const std::vector<int64_t> wanted = {23, 25, 27, 29};
    DecodedFrames frames;
    ASSERT_TRUE(video->read(wanted, kHeight, kWidth, ResizeFilter::Bicubic, frames, error)) << error;
    EXPECT_EQ(frames.indices, wanted);
    EXPECT_TRUE(frames.sought) << "decoded from the start instead of seeking";
    EXPECT_LE(maxDifference(frames, reference), 2);
    // A second read on the same decoder rewinds.
    ASSERT_TRUE(video->read({0, 1}, kHeight, kWidth, ResizeFilter::Bicubic, frames, error)) << error;
    EXPECT_EQ(frames.indices, (std::vector<int64_t>{0, 1}));
    EXPECT_LE(maxDifference(frames, reference), 2);
  }
}

TEST_F(VideoDecoderTest, FramesPastTheEndAreReportedNotInvented) {
  std::string error;
  auto video = VideoDecoder::open(path("h264.mp4"), error);
  ASSERT_TRUE(video) << error;
  DecodedFrames frames;
  ASSERT_TRUE(video->read({38, 39, 40, 41}, kHeight, kWidth, ResizeFilter::Bicubic, frames, error)) << error;
  EXPECT_EQ(frames.indices, (std::vector<int64_t>{38, 39}));
  EXPECT_EQ(frames.endOfStream, kFrames);
}

TEST_F(VideoDecoderTest, TruncatedFileGivesTheFramesItHas) {
  // Half of an AVI: the header still says 40 frames.
  std::ifstream in(path("mpeg4.avi"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(path("truncated.avi"), std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
  std::string error;
  auto video = VideoDecoder::open(path("truncated.avi"), error);
  ASSERT_TRUE(video) << error;
  EXPECT_EQ(video->frameCount(), kFrames);
  ClipOptions o;
  o.frames = 8, o.height = 112, o.width = 112;
  std::vector<float> clip(size_t(3 * 8 * 112 * 112));
  std::vector<ClipPlacement> placed;
  ClipDraw lastFrames;
  lastFrames.start = 0.99;
  ASSERT_TRUE(readClips(*video, o, {lastFrames}, clip.data(), nullptr, &placed, error)) << error;
  // Placed again on the frames that exist: the clip ends at the real last frame.
  ASSERT_EQ(placed.size(), 1u);
  EXPECT_LT(placed[0].frames.back(), kFrames / 2 + 2);
  EXPECT_GT(placed[0].frames.back(), 5);
}

TEST_F(VideoDecoderTest, BrokenFilesAreNamedWithTheReason) {
  std::ofstream(path("empty.mp4"));
  std::ofstream(path("notes.avi")) << "these are not video frames\n";
  std::ofstream(path("audio.wav"));
  run("ffmpeg -v error -y -f lavfi -i sine=duration=0.2 " + path("audio.wav"));
  struct Case {
    std::string name, reason;
  } cases[] = {{"missing.mp4", "No such file"},
               {"empty.mp4", "cannot open"},
               {"notes.avi", "cannot open"},
               {"audio.wav", "no video stream"}};
  for (const Case &c : cases) {
    std::string error;
    EXPECT_FALSE(VideoDecoder::open(path(c.name), error)) << c.name;
    EXPECT_NE(error.find(path(c.name)), std::string::npos) << error;
    EXPECT_NE(error.find(c.reason), std::string::npos) << error;
  }
}

TEST(ClipPlacement, TrainingJitterCoversEveryStartAndCrop) {
  ClipOptions o;
  o.frames = 4, o.height = 112, o.width = 112;
  vidnet::rt::Random rng(3);
  std::set<int64_t> starts, tops, lefts;
  int flips = 0;
  for (int i = 0; i < 4000; ++i) {
    ClipPlacement p;
    std::string error;
    ClipDraw d = drawTrainClip(o, rng);
    ASSERT_TRUE(placeClip(o, d, 10, p, error)) << error;
    starts.insert(p.frames[0]);
    tops.insert(p.top), lefts.insert(p.left);
    flips += p.flip;
    EXPECT_EQ(p.frames[3], p.frames[0] + 3);
  }
  EXPECT_EQ(starts, (std::set<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(*tops.rbegin(), 128 - 112);
  EXPECT_EQ(*lefts.rbegin(), 171 - 112);
  EXPECT_EQ(*tops.begin(), 0);
  EXPECT_NEAR(flips / 4000.0, 0.5, 0.05);
}

TEST(ClipPlacement, EvaluationClipsAreUniformAndCentred) {
  ClipOptions o;
  o.frames = 8, o.frameStride = 2;  // spans 15 frames
  std::vector<ClipDraw> draws = evalClipDraws(3);
  std::vector<int64_t> starts;
  for (const ClipDraw &d : draws) {
    ClipPlacement p;
    std::string error;
    ASSERT_TRUE(placeClip(o, d, 115, p, error));  // starts 0..100
    EXPECT_EQ(p.top, 8);
    EXPECT_EQ(p.left, 30);  // torchvision CenterCrop: round((171 - 112) / 2)
    EXPECT_FALSE(p.flip);
    starts.push_back(p.frames[0]);
    EXPECT_EQ(p.frames[7], p.frames[0] + 14);
  }
  EXPECT_EQ(starts, (std::vector<int64_t>{16, 50, 84}));
}

TEST(ClipPlacement, ShortVideosFollowThePolicy) {
  ClipOptions o;
  o.frames = 6;
  ClipDraw d;
  ClipPlacement p;
  std::string error;
  o.shortVideos = ShortVideos::Loop;
  ASSERT_TRUE(placeClip(o, d, 4, p, error));
  EXPECT_EQ(p.frames, (std::vector<int64_t>{0, 1, 2, 3, 0, 1}));
  o.shortVideos = ShortVideos::RepeatLast;
  ASSERT_TRUE(placeClip(o, d, 4, p, error));
  EXPECT_EQ(p.frames, (std::vector<int64_t>{0, 1, 2, 3, 3, 3}));
  o.shortVideos = ShortVideos::Skip;
  EXPECT_FALSE(placeClip(o, d, 4, p, error));
  EXPECT_NE(error.find("4 frames, fewer than one clip spans (6)"), std::string::npos) << error;
  EXPECT_FALSE(placeClip(o, d, 0, p, error));
}

} // namespace
