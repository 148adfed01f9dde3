// PyTorch's arithmetic that the dialect verifiers, elaboration and both references share.
#pragma once

#include <cstdint>

namespace vidnet {

// torch.nn.BatchNorm defaults, which every vidnet BN uses (the spec language has no knob).
inline constexpr float kBatchNormEpsilon = 1e-5f;
inline constexpr double kBatchNormMomentum = 0.1;

// Output extent of a convolution (or floor-mode pooling window) along one axis, as
// torch.nn.Conv3d computes it: floor((in + 2 pad - kernel) / stride) + 1; 0 when the padded
// input is smaller than the kernel.
constexpr int64_t convOutputExtent(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  int64_t span = in + 2 * pad - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

} // namespace vidnet
