// Clip placement (temporal jitter, crops, flips, short videos) and float clip assembly.
#include "runtime/data/ClipSampler.h"

#include <algorithm>
#include <cmath>

namespace vidnet::data {

namespace {

// floor(fraction * (range + 1)) clamped into [0, range]: every offset equally likely for a
// uniform fraction in (0, 1), and 0.5 the centre.
int64_t offsetIn(double fraction, int64_t range) {
  if (range <= 0)
    return 0;
  return std::clamp<int64_t>(static_cast<int64_t>(std::floor(fraction * static_cast<double>(range + 1))), 0, range);
}

std::vector<int64_t> sortedUnique(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

void writeClip(const ClipOptions &o, const ClipPlacement &p, const DecodedFrames &decoded, float *out,
               uint8_t *rawOut) {
  const int64_t plane = o.frames * o.height * o.width;
  for (int64_t t = 0; t < o.frames; ++t) {
    size_t slot = static_cast<size_t>(std::lower_bound(decoded.indices.begin(), decoded.indices.end(), p.frames[t]) -
                                      decoded.indices.begin());
    const uint8_t *image = decoded.rgb.data() + slot * static_cast<size_t>(decoded.height * decoded.width * 3);
    for (int64_t y = 0; y < o.height; ++y)
      for (int64_t x = 0; x < o.width; ++x) {
        int64_t sx = p.left + (p.flip ? o.width - 1 - x : x);
        const uint8_t *px = image + ((p.top + y) * decoded.width + sx) * 3;
        int64_t at = (t * o.height + y) * o.width + x;
        if (rawOut)
          for (int c = 0; c < 3; ++c)
            rawOut[at * 3 + c] = px[c];
        if (out)
          for (int c = 0; c < 3; ++c)
            out[c * plane + at] = (static_cast<float>(px[c]) * (1.0f / 255.0f) - o.mean[c]) / o.std[c];
      }
  }
}

} // namespace

ClipDraw drawTrainClip(const ClipOptions &o, rt::Random &rng) {
  ClipDraw d;
  d.start = rng.uniform();
  d.top = rng.uniform();
  d.left = rng.uniform();
  d.flip = o.flip && rng.uniform() < 0.5;
  return d;
}

std::vector<ClipDraw> evalClipDraws(int64_t clips) {
  std::vector<ClipDraw> draws(static_cast<size_t>(clips));
  for (int64_t k = 0; k < clips; ++k)
    draws[static_cast<size_t>(k)].start = (static_cast<double>(k) + 0.5) / static_cast<double>(clips);
  return draws;
}

bool placeClip(const ClipOptions &o, const ClipDraw &draw, int64_t frameCount, ClipPlacement &out,
               std::string &error) {
  if (frameCount <= 0) {
    error = "no frames";
    return false;
  }
  const int64_t span = (o.frames - 1) * o.frameStride + 1;
  if (frameCount < span && o.shortVideos == ShortVideos::Skip) {
    error = std::to_string(frameCount) + " frames, fewer than one clip spans (" + std::to_string(span) + ")";
    return false;
  }
  // The centre start of a uniform fraction over [0, F - span]: with `offsetIn`, the middle
  // clip of an odd K sits exactly in the middle of the video.
  const int64_t start = offsetIn(draw.start, frameCount - span);
  out.frames.resize(static_cast<size_t>(o.frames));
  for (int64_t t = 0; t < o.frames; ++t) {
    int64_t i = start + t * o.frameStride;
    if (i >= frameCount)
      i = o.shortVideos == ShortVideos::Loop ? i % frameCount : frameCount - 1;
    out.frames[static_cast<size_t>(t)] = i;
  }
  out.top = offsetIn(draw.top, o.resizeHeight - o.height);
  out.left = offsetIn(draw.left, o.resizeWidth - o.width);
  out.flip = draw.flip;
  return true;
}

bool readClips(VideoDecoder &video, const ClipOptions &o, const std::vector<ClipDraw> &draws, float *out,
               uint8_t *rawOut, std::vector<ClipPlacement> *placements, std::string &error) {
  int64_t frameCount = video.frameCount();
  // Two rounds at most: the second when decoding found fewer frames than the container said
  // (a truncated file), on exactly the frames that exist.
  for (int round = 0; round < 2; ++round) {
    std::vector<ClipPlacement> placed(draws.size());
    std::vector<int64_t> wanted;
    for (size_t k = 0; k < draws.size(); ++k) {
      std::string why;
      if (!placeClip(o, draws[k], frameCount, placed[k], why)) {
        error = "video has " + why;
        return false;
      }
      wanted.insert(wanted.end(), placed[k].frames.begin(), placed[k].frames.end());
    }
    wanted = sortedUnique(std::move(wanted));
    DecodedFrames decoded;
    if (!video.read(wanted, o.resizeHeight, o.resizeWidth, o.filter, decoded, error))
      return false;
    if (decoded.indices.size() == wanted.size()) {
      const int64_t clipFloats = 3 * o.frames * o.height * o.width;
      for (size_t k = 0; k < draws.size(); ++k)
        writeClip(o, placed[k], decoded, out ? out + static_cast<int64_t>(k) * clipFloats : nullptr,
                  rawOut ? rawOut + static_cast<int64_t>(k) * clipFloats : nullptr);
      if (placements)
        *placements = std::move(placed);
      return true;
    }
    if (decoded.endOfStream < 0 || decoded.endOfStream >= frameCount) {
      error = "decoder skipped frames it was asked for";
      return false;
    }
    frameCount = decoded.endOfStream;
  }
  error = "video ended before its clips' frames twice";
  return false;
}

bool readVideoClips(const std::string &path, const ClipOptions &o, const std::vector<ClipDraw> &draws, float *out,
                    uint8_t *rawOut, std::vector<ClipPlacement> *placements, std::string &reason) {
  std::unique_ptr<VideoDecoder> decoder = VideoDecoder::open(path, reason);
  if (decoder && readClips(*decoder, o, draws, out, rawOut, placements, reason))
    return true;
  // The decoder's messages start with the path already.
  if (reason.rfind(path + ": ", 0) == 0)
    reason.erase(0, path.size() + 2);
  return false;
}

} // namespace vidnet::data
