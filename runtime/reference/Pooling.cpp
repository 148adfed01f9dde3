// Naive max pooling: every window scanned in row-major order, as PyTorch's CPU kernel does.
#include "runtime/reference/Pooling.h"

#include <cmath>
#include <stdexcept>

namespace vidnet::ref {

namespace {

struct Extents {
  int64_t N, D, H, W, C, OD, OH, OW;
};

Extents poolExtents(const std::vector<int64_t> &x, Triple kernel, Triple stride, Triple pad) {
  for (int i = 0; i < 3; ++i)
    if (kernel[i] < 1 || stride[i] < 1 || pad[i] < 0 || pad[i] > kernel[i] / 2)
      throw std::invalid_argument("reference max pool: kernel and stride must be positive, 0 <= pad <= kernel / 2");
  Extents e{x[0], x[1], x[2], x[3], x[4], convOutputExtent(x[1], kernel[0], stride[0], pad[0]),
            convOutputExtent(x[2], kernel[1], stride[1], pad[1]), convOutputExtent(x[3], kernel[2], stride[2], pad[2])};
  if (e.OD < 1 || e.OH < 1 || e.OW < 1)
    throw std::invalid_argument("reference max pool: the kernel does not fit the padded input");
  return e;
}

// The input position (d, h, w) of the window's first maximum in channel c: the first tap inside
// the input starts it, a later tap replaces it only if greater or NaN (PyTorch's rule).
template <typename T>
Triple windowArgmax(const BasicTensor<T> &x, const Extents &e, int64_t n, Triple o, int64_t c, Triple kernel,
                    Triple stride, Triple pad) {
  Triple best{-1, -1, -1};
  T max = 0;
  for (int64_t kd = 0; kd < kernel[0]; ++kd)
    for (int64_t kh = 0; kh < kernel[1]; ++kh)
      for (int64_t kw = 0; kw < kernel[2]; ++kw) {
        const int64_t d = o[0] * stride[0] + kd - pad[0];
        const int64_t h = o[1] * stride[1] + kh - pad[1];
        const int64_t w = o[2] * stride[2] + kw - pad[2];
        if (d < 0 || d >= e.D || h < 0 || h >= e.H || w < 0 || w >= e.W)
          continue;  // padding: -inf, never a maximum
        const T v = x.at({n, d, h, w, c});
        if (best[0] < 0 || v > max || std::isnan(v)) {
          max = v;
          best = {d, h, w};
        }
      }
  return best;
}

// Calls visit(n, o, c, at) for every output position o = (od, oh, ow) and channel c, `at` the
// input position of its window's first maximum.
template <typename T, typename Visit>
void forEachWindowArgmax(const BasicTensor<T> &x, const Extents &e, Triple kernel, Triple stride, Triple pad,
                         Visit visit) {
  for (int64_t n = 0; n < e.N; ++n)
    for (int64_t od = 0; od < e.OD; ++od)
      for (int64_t oh = 0; oh < e.OH; ++oh)
        for (int64_t ow = 0; ow < e.OW; ++ow)
          for (int64_t c = 0; c < e.C; ++c)
            visit(n, Triple{od, oh, ow}, c, windowArgmax(x, e, n, {od, oh, ow}, c, kernel, stride, pad));
}

} // namespace

template <typename T>
BasicTensor<T> maxPoolForward(const BasicTensor<T> &x, Triple kernel, Triple stride, Triple pad) {
  const Extents e = poolExtents(x.shape, kernel, stride, pad);
  BasicTensor<T> y({e.N, e.OD, e.OH, e.OW, e.C});
  forEachWindowArgmax(x, e, kernel, stride, pad, [&](int64_t n, Triple o, int64_t c, Triple at) {
    y.at({n, o[0], o[1], o[2], c}) = x.at({n, at[0], at[1], at[2], c});
  });
  return y;
}

// Scatters in output order into double sums, rounded to float once (the reference is the more
// accurate side of a comparison).
Tensor maxPoolBackward(const Tensor &dy, const Tensor &x, Triple kernel, Triple stride, Triple pad) {
  const Extents e = poolExtents(x.shape, kernel, stride, pad);
  if (dy.shape != std::vector<int64_t>{e.N, e.OD, e.OH, e.OW, e.C})
    throw std::invalid_argument("reference max pool backward: dy does not have the forward's output shape");
  BasicTensor<double> sum(x.shape);
  forEachWindowArgmax(x, e, kernel, stride, pad, [&](int64_t n, Triple o, int64_t c, Triple at) {
    sum.at({n, at[0], at[1], at[2], c}) += dy.at({n, o[0], o[1], o[2], c});
  });
  Tensor dx(x.shape);
  for (size_t i = 0; i < dx.data.size(); ++i)
    dx.data[i] = static_cast<float>(sum.data[i]);
  return dx;
}

template BasicTensor<float> maxPoolForward(const BasicTensor<float> &, Triple, Triple, Triple);
template BasicTensor<double> maxPoolForward(const BasicTensor<double> &, Triple, Triple, Triple);

} // namespace vidnet::ref
