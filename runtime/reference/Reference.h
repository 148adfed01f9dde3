// The naive reference implementation of every vidnet op, written for clarity, not speed:
// the compiled code is compared against it. No MLIR, no LLVM.
//
// Glossary: N batch, D frames (time), H height, W width, C input channels, F output
// channels, G groups, K classes. Activations are N x D x H x W x C (channels-last), conv
// filters D x H x W x C/G x F, the dense weight C x K, as in the vidnet dialect.
#pragma once

#include "common/OpArithmetic.h"

#include <array>
#include <cstdint>
#include <vector>

namespace vidnet::ref {

template <typename T>
struct BasicTensor {
  std::vector<int64_t> shape;
  std::vector<T> data;  // row-major

  BasicTensor() = default;
  explicit BasicTensor(std::vector<int64_t> shape);
  int64_t elements() const;
  T &at(std::initializer_list<int64_t> index);
  T at(std::initializer_list<int64_t> index) const;
};
// Float, as the compiled code computes. The double instantiation of the ops below is for checks
// that float's rounding would drown: finite differences of a whole model's training loss.
using Tensor = BasicTensor<float>;
using TensorD = BasicTensor<double>;

using Triple = std::array<int64_t, 3>;  // (D, H, W)

// out extent = floor((in + 2 pad - kernel) / stride) + 1, zero padding, no bias.
template <typename T>
BasicTensor<T> convForward(const BasicTensor<T> &x, const BasicTensor<T> &filter, Triple stride, Triple pad,
                           int64_t groups = 1);
// (x - mean) / sqrt(var + eps) * gamma + beta, per channel (the last dimension).
template <typename T>
BasicTensor<T> batchNormForward(const BasicTensor<T> &x, const BasicTensor<T> &gamma, const BasicTensor<T> &beta,
                                const BasicTensor<T> &mean, const BasicTensor<T> &var, float eps = kBatchNormEpsilon);
template <typename T>
struct BasicBatchNormTrainResult {
  BasicTensor<T> y, mean, var;  // var is the biased batch variance
};
using BatchNormTrainResult = BasicBatchNormTrainResult<float>;
template <typename T>
BasicBatchNormTrainResult<T> batchNormTrainForward(const BasicTensor<T> &x, const BasicTensor<T> &gamma,
                                                   const BasicTensor<T> &beta, float eps = kBatchNormEpsilon);
template <typename T>
BasicTensor<T> reluForward(const BasicTensor<T> &x);
template <typename T>
BasicTensor<T> addForward(const BasicTensor<T> &a, const BasicTensor<T> &b);
// N x D x H x W x C -> N x C, the mean over D, H, W.
template <typename T>
BasicTensor<T> globalAvgPoolForward(const BasicTensor<T> &x);
// N x D x H x W x C -> N x 1 x H x W x (D*C), channel index d*C + c.
template <typename T>
BasicTensor<T> foldTimeForward(const BasicTensor<T> &x);
// N x C times C x K plus K -> N x K.
template <typename T>
BasicTensor<T> denseForward(const BasicTensor<T> &x, const BasicTensor<T> &weight, const BasicTensor<T> &bias);
// log sum_k exp(logits[n, k]), with the row maximum subtracted first; in double.
template <typename T>
double rowLogSumExp(const BasicTensor<T> &logits, int64_t n);
// Mean over the batch of -log softmax(logits)[label].
template <typename T>
T softmaxCrossEntropyForward(const BasicTensor<T> &logits, const std::vector<int64_t> &labels);

} // namespace vidnet::ref
