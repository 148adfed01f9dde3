// This build has FFmpeg: video always works.
#include "runtime/data/VideoSupport.h"

namespace vidnet::data {

std::string videoUnavailableReason() { return ""; }

} // namespace vidnet::data
