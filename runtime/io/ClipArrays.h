// Clip batches and their labels as .npy files: the shapes and dtypes vidrun and the trainer
// accept, with one message naming the file for anything else.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vidnet::rt {

// N x C x L x H x W float32 or float64 (converted) whose clip is `clipShape` (C, L, H, W), N >= 1.
bool readClipsNpy(const std::string &path, const std::vector<int64_t> &clipShape, std::vector<float> &clips,
                  int64_t &count, std::string &error);

// `count` int64 or int32 (converted) labels, shape [count]. Their range is the caller's to check.
bool readLabelsNpy(const std::string &path, int64_t count, std::vector<int64_t> &labels, std::string &error);

// NC(DHW) -> N(DHW)C: clips in the compiled code's layout (n clips of `channels` x `spatial`). A
// plain copy loop, on every forward and step; a general permute recomputes a multi-dimensional
// index per element.
void clipsToChannelsLast(const float *src, int64_t n, int64_t channels, int64_t spatial, float *dst);

} // namespace vidnet::rt
