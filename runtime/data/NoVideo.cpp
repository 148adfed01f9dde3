// VideoDecoder and VideoWriter for a build without FFmpeg (-DVIDNET_WITH_VIDEO=OFF): every
// open fails with videoUnavailableReason(), so nothing links FFmpeg and nothing pretends to decode.
#include "runtime/data/VideoDecoder.h"
#include "runtime/data/VideoSupport.h"
#include "runtime/data/VideoWriter.h"

namespace vidnet::data {

std::string videoUnavailableReason() {
  return "this vidrun was built without video support (-DVIDNET_WITH_VIDEO=OFF, no FFmpeg): "
         "use clips in .npy files, or a build with FFmpeg for video files";
}

struct VideoDecoder::Impl {};

std::unique_ptr<VideoDecoder> VideoDecoder::open(const std::string &path, std::string &error) {
  error = path + ": " + videoUnavailableReason();
  return nullptr;
}

VideoDecoder::~VideoDecoder() = default;

double VideoDecoder::fps() const { return 0; }

bool VideoDecoder::read(const std::vector<int64_t> &, int64_t, int64_t, ResizeFilter, DecodedFrames &,
                        std::string &error) {
  error = videoUnavailableReason();
  return false;
}

struct VideoWriter::State {};

VideoWriter::VideoWriter() = default;
VideoWriter::~VideoWriter() = default;

int64_t VideoWriter::framesWritten() const { return 0; }

bool VideoWriter::open(const std::string &path, int, int, int, const std::string &, std::string &error) {
  error = path + ": " + videoUnavailableReason();
  return false;
}

bool VideoWriter::write(const uint8_t *, std::string &error) {
  error = videoUnavailableReason();
  return false;
}

bool VideoWriter::finish(std::string &error) {
  error = videoUnavailableReason();
  return false;
}

} // namespace vidnet::data
