// Which frames and pixels of a video make a clip (training jitter, evaluation's uniform
// clips), and the clip as the model's float input: decode, resize, crop, flip, normalize.
#pragma once

#include "runtime/core/Random.h"
#include "runtime/data/VideoDecoder.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vidnet::data {

// What happens to a video with fewer frames than one clip spans ((L - 1) x stride + 1):
//   Loop        frames repeat from the first (MMAction2's default)
//   RepeatLast  the last frame repeats (PySlowFast's clamping)
//   Skip        the video is reported and skipped (torchvision's VideoClips drops it)
enum class ShortVideos { Loop, RepeatLast, Skip };

struct ClipOptions {
  int64_t frames = 16, height = 112, width = 112;  // the model's clip: L x crop H x crop W
  int64_t resizeHeight = 128, resizeWidth = 171;    // Tran et al. 2018, section 4.1
  int64_t frameStride = 1;
  bool flip = true;                                 // training only: horizontal, p = 0.5
  // torchvision's Kinetics-400 statistics, on RGB in [0, 1].
  std::array<float, 3> mean = {0.43216f, 0.394666f, 0.37645f};
  std::array<float, 3> std = {0.22803f, 0.22145f, 0.216989f};
  ShortVideos shortVideos = ShortVideos::Loop;
  ResizeFilter filter = ResizeFilter::Bicubic;
};

// The random choices of one training clip, drawn before the video's length is known, so
// that placing them is a pure function of (draw, frame count).
struct ClipDraw {
  double start = 0.5, top = 0.5, left = 0.5;  // fractions of the free range; 0.5 = centred
  bool flip = false;
};

struct ClipPlacement {
  std::vector<int64_t> frames;  // L frame indices, in clip order (repeats possible)
  int64_t top = 0, left = 0;
  bool flip = false;
};

ClipDraw drawTrainClip(const ClipOptions &o, rt::Random &rng);

// Evaluation: K clips whose starts are the centres of K equal parts of the possible start
// range (one clip: the video's middle), centre crop, no flip.
std::vector<ClipDraw> evalClipDraws(int64_t clips);

// Frames (short-video policy applied) and crop offset for a video of `frameCount` frames.
// False only for ShortVideos::Skip on a too-short video, or a video without frames.
bool placeClip(const ClipOptions &o, const ClipDraw &draw, int64_t frameCount, ClipPlacement &out,
               std::string &error);

// Decodes and writes the clips, each C x L x H x W normalized floats (torchvision's layout),
// one after another into `out`; or, with `rawOut`, L x H x W x 3 bytes per clip before
// normalization (what `vidrun clips --raw` dumps). When the video turns out shorter than its
// container said, the clips are placed again on the frames it really has.
bool readClips(VideoDecoder &video, const ClipOptions &o, const std::vector<ClipDraw> &draws, float *out,
               uint8_t *rawOut, std::vector<ClipPlacement> *placements, std::string &error);

// Opens `path` and reads its clips as readClips does. `reason` says what is wrong without the
// path, so that the caller names the file once (BadVideos: "skipped PATH: REASON").
bool readVideoClips(const std::string &path, const ClipOptions &o, const std::vector<ClipDraw> &draws, float *out,
                    uint8_t *rawOut, std::vector<ClipPlacement> *placements, std::string &reason);

} // namespace vidnet::data
