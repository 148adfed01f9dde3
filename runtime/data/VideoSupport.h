// Whether this build decodes and encodes video (FFmpeg); -DVIDNET_WITH_VIDEO=OFF builds a
// runtime whose tensor commands run anywhere and whose video commands say why they cannot.
#pragma once

#include <string>

namespace vidnet::data {

// Empty when video works; otherwise one sentence for a user (what is missing, how to get it).
std::string videoUnavailableReason();

} // namespace vidnet::data
