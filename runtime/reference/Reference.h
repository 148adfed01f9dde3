// The naive reference implementation of every vidnet op, written for clarity, not speed:
// the compiled code is compared against it. No MLIR, no LLVM.
//
// Glossary: N batch, D frames (time), H height, W width, C input channels, F output
// channels, G groups, K classes. Activations are N x D x H x W x C (channels-last), conv
// filters D x H x W x C/G x F, the dense weight C x K, as in the vidnet dialect.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace vidnet::ref {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape);
  int64_t elements() const;
  float &at(std::initializer_list<int64_t> index);
  float at(std::initializer_list<int64_t> index) const;
};

using Triple = std::array<int64_t, 3>;  // (D, H, W)

// out extent = floor((in + 2 pad - kernel) / stride) + 1, zero padding, no bias.
Tensor convForward(const Tensor &x, const Tensor &filter, Triple stride, Triple pad, int64_t groups = 1);
// (x - mean) / sqrt(var + eps) * gamma + beta, per channel (the last dimension).
Tensor batchNormForward(const Tensor &x, const Tensor &gamma, const Tensor &beta, const Tensor &mean,
                        const Tensor &var, float eps = 1e-5f);
struct BatchNormTrainResult {
  Tensor y, mean, var;  // var is the biased batch variance
};
BatchNormTrainResult batchNormTrainForward(const Tensor &x, const Tensor &gamma, const Tensor &beta,
                                           float eps = 1e-5f);
Tensor reluForward(const Tensor &x);
Tensor addForward(const Tensor &a, const Tensor &b);
// N x D x H x W x C -> N x C, the mean over D, H, W.
Tensor globalAvgPoolForward(const Tensor &x);
// N x D x H x W x C -> N x 1 x H x W x (D*C), channel index d*C + c.
Tensor foldTimeForward(const Tensor &x);
// N x C times C x K plus K -> N x K.
Tensor denseForward(const Tensor &x, const Tensor &weight, const Tensor &bias);
// Mean over the batch of -log softmax(logits)[label].
float softmaxCrossEntropyForward(const Tensor &logits, const std::vector<int64_t> &labels);

} // namespace vidnet::ref
