// Naive reference vector-Jacobian products of the ops in Reference.h, plus PyTorch's SGD step
// and BN running-statistics update: the independent answer compiled training is checked against.
//
// Every VJP takes the cotangent `dy` of its forward op's output (same shape and layout) and
// returns the cotangents of the inputs, in the forward op's layouts (channels-last activations,
// D x H x W x C x F filters, C x K dense weight).
#pragma once

#include "runtime/reference/Reference.h"

namespace vidnet::ref {

// convForward(x, filter, stride, pad, groups). `dy` must have the forward's output shape for an
// input of shape `xShape`; rows the floor in the output extent skipped get dx = 0. Output channel
// f belongs to group f / (F / groups), which reads input channels from that group times C / groups.
Tensor convBackwardData(const Tensor &dy, const Tensor &filter, const std::vector<int64_t> &xShape,
                        Triple stride, Triple pad, int64_t groups = 1);
Tensor convBackwardFilter(const Tensor &x, const Tensor &dy, const std::vector<int64_t> &filterShape,
                          Triple stride, Triple pad, int64_t groups = 1);

// batchNormTrainForward: the mean and biased variance are functions of x too, so dx has the
// two extra terms eval-mode BN lacks. Mean and variance are recomputed from x.
struct BatchNormTrainGrads {
  Tensor dx, dgamma, dbeta;
};
BatchNormTrainGrads batchNormTrainBackward(const Tensor &dy, const Tensor &x, const Tensor &gamma,
                                           float eps = kBatchNormEpsilon);

// dx = dy where x > 0, else 0 (PyTorch's choice of 0 as the subgradient at x = 0).
Tensor reluBackward(const Tensor &dy, const Tensor &x);

// addForward(a, b): both operands receive dy unchanged; a value used twice (a residual
// block's input) sums the cotangents of its two uses.
struct AddGrads {
  Tensor da, db;
};
AddGrads addBackward(const Tensor &dy);

// dy is N x C; every one of the D*H*W positions gets dy / (D*H*W).
Tensor globalAvgPoolBackward(const Tensor &dy, const std::vector<int64_t> &xShape);

// The inverse permutation of foldTimeForward: dy is N x 1 x H x W x (D*C), the result xShape.
Tensor foldTimeBackward(const Tensor &dy, const std::vector<int64_t> &xShape);

struct DenseGrads {
  Tensor dx, dweight, dbias;
};
DenseGrads denseBackward(const Tensor &dy, const Tensor &x, const Tensor &weight);

// The gradient of softmaxCrossEntropyForward (the batch mean): (softmax(logits) - onehot) / N.
Tensor softmaxCrossEntropyBackward(const Tensor &logits, const std::vector<int64_t> &labels);

// torch.optim.SGD (dampening 0, no Nesterov), in place: d = g + wd w; buf = momentum buf + d;
// w -= lr buf. `buf` starts at zero, which makes the first step PyTorch's "buf = d".
void sgdStep(Tensor &w, const Tensor &g, Tensor &buf, float lr, float momentum, float weightDecay);

// BatchNorm's running statistics in training mode (PyTorch momentum 0.1), in place:
// r = (1 - m) r + m batch, where running_var takes the unbiased variance var * count / (count - 1)
// though normalization used the biased one. `count` is the elements per channel (N*D*H*W).
// num_batches_tracked (+1 per step) is the caller's.
void runningStatsUpdate(Tensor &runningMean, Tensor &runningVar, const Tensor &batchMean,
                        const Tensor &batchVarBiased, int64_t count);

} // namespace vidnet::ref
