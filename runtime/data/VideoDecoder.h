// One video file through FFmpeg: its frame count, and chosen frames decoded and resized to
// RGB24, seeking to the first wanted frame where the seek is exact.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vidnet::data {

// How frames are resized; bicubic is what the `ffmpeg` CLI's scale filter uses by default,
// so `ffmpeg -vf scale=W:H` gives the same pixels.
enum class ResizeFilter { Bicubic, Bilinear, Area };

struct DecodedFrames {
  int64_t width = 0, height = 0;
  std::vector<int64_t> indices;  // which frame of the video each one is, ascending
  std::vector<uint8_t> rgb;      // indices.size() x height x width x 3
  int64_t endOfStream = -1;      // the true frame count when decoding reached the end, else -1
  bool sought = false;           // decoding started from a seek, not from the first frame
};

class VideoDecoder {
public:
  // Opens the container and the first video stream's decoder. The error names the file and
  // says what is wrong (missing, not a video, no decoder, ...).
  static std::unique_ptr<VideoDecoder> open(const std::string &path, std::string &error);
  ~VideoDecoder();
  VideoDecoder(const VideoDecoder &) = delete;
  VideoDecoder &operator=(const VideoDecoder &) = delete;

  // Frames in the stream: the container's count when it has one, else counted by reading
  // the packets (no decoding). 0 for a stream without frames.
  int64_t frameCount() const { return frameCount_; }
  int64_t width() const { return width_; }
  int64_t height() const { return height_; }
  double fps() const;  // 0 when the file does not say

  // Decodes the frames `wanted` (ascending, no repeats) resized to outWidth x outHeight. A
  // wanted frame past the last one is simply absent from `out` (out.endOfStream then says
  // where the video ended). Fails only on a read or decode error, naming the file.
  bool read(const std::vector<int64_t> &wanted, int64_t outHeight, int64_t outWidth, ResizeFilter filter,
            DecodedFrames &out, std::string &error);

  struct Impl;

private:
  VideoDecoder() = default;
  std::unique_ptr<Impl> impl_;
  int64_t frameCount_ = 0, width_ = 0, height_ = 0;
};

} // namespace vidnet::data
