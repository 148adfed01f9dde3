// Naive reference max pooling, forward and input gradient, with PyTorch's max_pool3d semantics.
#pragma once

#include "runtime/reference/Reference.h"

namespace vidnet::ref {

// N x D x H x W x C -> N x OD x OH x OW x C: the max over each kernel window, padding counting as
// -inf, out extent = floor((in + 2 pad - kernel) / stride) + 1 (floor mode). NaN wins a window.
template <typename T>
BasicTensor<T> maxPoolForward(const BasicTensor<T> &x, Triple kernel, Triple stride, Triple pad);

// The VJP of maxPoolForward: each output's dy goes to the first maximum of its window in row-major
// (kd, kh, kw) order (PyTorch's recorded index); gradients of overlapping windows add up.
Tensor maxPoolBackward(const Tensor &dy, const Tensor &x, Triple kernel, Triple stride, Triple pad);

} // namespace vidnet::ref
