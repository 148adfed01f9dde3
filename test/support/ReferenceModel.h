// A whole-model forward built from the naive reference ops, interpreting a ModelGraph layer
// by layer: the independent answer compiled bundles are checked against.
#pragma once

#include "compiler/ModelGraph.h"
#include "runtime/reference/Reference.h"

#include <functional>
#include <string>

namespace vidnet::test {

// `tensor(name)` returns a parameter or statistic in the compiled, channels-last layout (conv
// D x H x W x C x F, fc C x K). `clips` is N x D x H x W x C; the result N x classes.
ref::Tensor referenceForward(const ModelGraph &graph, const ref::Tensor &clips,
                             const std::function<ref::Tensor(const std::string &)> &tensor);

} // namespace vidnet::test
