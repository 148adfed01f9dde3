// Encodes RGB24 frames to a video file (.avi, .mp4, .mkv, ...) through libavformat/libavcodec/libswscale.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace vidnet::data {

// Present in every libavcodec build (Debian's included); odd frame sizes are fine with it.
inline constexpr const char *kDefaultVideoCodec = "mpeg4";

// One video file, written frame by frame. The frames go to path + ".tmp.<pid>" and finish()
// renames that over `path`, so a reader never sees half a video; a writer destroyed before a
// successful finish() (an error midway, an early return) removes the temporary file and leaves
// an existing `path` untouched.
//
// Quality is fixed high, because the content (fine texture) matters more than the size:
// qscale 2 for codecs with a quantiser scale (mpeg4, mjpeg, ...), crf 16 for those with a crf
// option (libx264, libvpx-vp9). The pixel format is yuv420p where the codec takes it (what real
// datasets hold), otherwise the codec's format closest to RGB24; codecs that need an even size
// for yuv420p (libx264) fail on odd sizes with a message saying so. Encoding and muxing are
// bit-exact and single-threaded: the same frames give the same file.
//
// Errors return false with a message naming the file and FFmpeg's reason (av_strerror). Like
// VideoDecoder, the first open silences FFmpeg's own log process-wide (libx264 alone prints a
// dozen lines per file); VIDNET_FFMPEG_LOG=1 brings its warnings back.
class VideoWriter {
public:
  VideoWriter();
  ~VideoWriter();
  VideoWriter(const VideoWriter &) = delete;
  VideoWriter &operator=(const VideoWriter &) = delete;

  // The container is chosen from the extension of `path`; `codec` is an encoder name as in
  // `ffmpeg -encoders` (kDefaultVideoCodec if empty). A writer can be opened once.
  bool open(const std::string &path, int width, int height, int fps, const std::string &codec, std::string &error);

  // One frame of width x height x 3 bytes, row-major RGB. After a failed write the writer is
  // broken: further writes and finish() fail.
  bool write(const uint8_t *rgb, std::string &error);

  // Flushes the encoder, writes the trailer and moves the file into place.
  bool finish(std::string &error);

  int64_t framesWritten() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace vidnet::data
