// A whole-model forward and training step built from the naive reference ops, interpreting a
// ModelGraph layer by layer: the independent answer compiled bundles are checked against.
#pragma once

#include "compiler/ModelGraph.h"
#include "runtime/reference/Reference.h"

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vidnet::test {

// `tensor(name)` returns a parameter or statistic in the compiled, channels-last layout (conv
// D x H x W x C x F, fc C x K). `clips` is N x D x H x W x C; the result N x classes.
// `features`, when given, receives what the classifier reads (N x C pooled vectors).
ref::Tensor referenceForward(const ModelGraph &graph, const ref::Tensor &clips,
                             const std::function<ref::Tensor(const std::string &)> &tensor,
                             ref::Tensor *features = nullptr);

struct ReferenceTrainResult {
  float loss = 0;
  ref::Tensor logits;                        // N x classes
  std::map<std::string, ref::Tensor> grads;  // every trainable tensor, by name, channels-last layout
  // Keyed by each BN's running_mean / running_var tensor name: the batch statistics the step
  // normalized with (biased variance), from which the caller updates the running statistics.
  std::map<std::string, ref::Tensor> batchMean, batchVar;
  // The smallest |x| over every ReLU input. Where it is within float rounding of 0, a
  // float32 implementation may take the other side of that ReLU, and every gradient upstream
  // of it legitimately differs by that element's contribution.
  double smallestReluInput = INFINITY;
};

// One training step's forward and backward as PyTorch's model.train() computes it: every BN,
// the inner one of a (2+1)D conv included, normalizes with batch statistics; the loss is the
// mean softmax cross-entropy over the batch of `labels`. Parameters are not updated.
ReferenceTrainResult referenceTrainStep(const ModelGraph &graph, const ref::Tensor &clips,
                                        const std::vector<int64_t> &labels,
                                        const std::function<ref::Tensor(const std::string &)> &tensor);

} // namespace vidnet::test
