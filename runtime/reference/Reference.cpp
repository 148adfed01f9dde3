// Naive forward of every vidnet op; sums are accumulated in double so the reference is the
// more accurate side of every comparison. Instantiated for float and double (see Reference.h).
#include "runtime/reference/Reference.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace vidnet::ref {

template <typename T>
BasicTensor<T>::BasicTensor(std::vector<int64_t> s) : shape(std::move(s)), data(static_cast<size_t>(elements())) {}

template <typename T>
int64_t BasicTensor<T>::elements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

namespace {
size_t offset(const std::vector<int64_t> &shape, std::initializer_list<int64_t> index) {
  if (index.size() != shape.size())
    throw std::invalid_argument("reference: index rank differs from tensor rank");
  size_t flat = 0;
  size_t i = 0;
  for (int64_t v : index)
    flat = flat * static_cast<size_t>(shape[i++]) + static_cast<size_t>(v);
  return flat;
}
} // namespace

template <typename T>
T &BasicTensor<T>::at(std::initializer_list<int64_t> index) {
  return data[offset(shape, index)];
}
template <typename T>
T BasicTensor<T>::at(std::initializer_list<int64_t> index) const {
  return data[offset(shape, index)];
}

template <typename T>
BasicTensor<T> convForward(const BasicTensor<T> &x, const BasicTensor<T> &filter, Triple stride, Triple pad,
                           int64_t groups) {
  const int64_t N = x.shape[0], D = x.shape[1], H = x.shape[2], W = x.shape[3], C = x.shape[4];
  const int64_t KD = filter.shape[0], KH = filter.shape[1], KW = filter.shape[2];
  const int64_t CG = filter.shape[3], F = filter.shape[4], FG = F / groups;
  if (CG * groups != C)
    throw std::invalid_argument("reference conv: filter channels x groups != input channels");
  const int64_t OD = convOutputExtent(D, KD, stride[0], pad[0]);
  const int64_t OH = convOutputExtent(H, KH, stride[1], pad[1]);
  const int64_t OW = convOutputExtent(W, KW, stride[2], pad[2]);
  if (OD < 1 || OH < 1 || OW < 1)
    throw std::invalid_argument("reference conv: the kernel does not fit the padded input");
  BasicTensor<T> y({N, OD, OH, OW, F});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t od = 0; od < OD; ++od)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow)
          for (int64_t f = 0; f < F; ++f) {
            const int64_t g = f / FG;
            double acc = 0;
            for (int64_t kd = 0; kd < KD; ++kd)
              for (int64_t kh = 0; kh < KH; ++kh)
                for (int64_t kw = 0; kw < KW; ++kw) {
                  const int64_t d = od * stride[0] + kd - pad[0];
                  const int64_t h = oh * stride[1] + kh - pad[1];
                  const int64_t w = ow * stride[2] + kw - pad[2];
                  if (d < 0 || d >= D || h < 0 || h >= H || w < 0 || w >= W)
                    continue;  // zero padding
                  for (int64_t c = 0; c < CG; ++c)
                    acc += double(x.at({n, d, h, w, g * CG + c})) * filter.at({kd, kh, kw, c, f});
                }
            y.at({n, od, oh, ow, f}) = static_cast<T>(acc);
          }
  return y;
}

template <typename T>
BasicTensor<T> batchNormForward(const BasicTensor<T> &x, const BasicTensor<T> &gamma, const BasicTensor<T> &beta,
                                const BasicTensor<T> &mean, const BasicTensor<T> &var, float eps) {
  const int64_t C = x.shape.back();
  BasicTensor<T> y(x.shape);
  for (int64_t i = 0; i < x.elements(); ++i) {
    const int64_t c = i % C;
    double normalized = (double(x.data[i]) - mean.data[c]) / std::sqrt(double(var.data[c]) + eps);
    y.data[i] = static_cast<T>(normalized * gamma.data[c] + beta.data[c]);
  }
  return y;
}

template <typename T>
BasicBatchNormTrainResult<T> batchNormTrainForward(const BasicTensor<T> &x, const BasicTensor<T> &gamma,
                                                   const BasicTensor<T> &beta, float eps) {
  const int64_t C = x.shape.back(), count = x.elements() / C;
  std::vector<double> sum(C, 0.0), sq(C, 0.0);
  for (int64_t i = 0; i < x.elements(); ++i)
    sum[i % C] += x.data[i];
  BasicBatchNormTrainResult<T> r{BasicTensor<T>(x.shape), BasicTensor<T>({C}), BasicTensor<T>({C})};
  for (int64_t c = 0; c < C; ++c)
    r.mean.data[c] = static_cast<T>(sum[c] / count);
  for (int64_t i = 0; i < x.elements(); ++i) {
    double d = x.data[i] - sum[i % C] / count;
    sq[i % C] += d * d;
  }
  for (int64_t c = 0; c < C; ++c)
    r.var.data[c] = static_cast<T>(sq[c] / count);
  r.y = batchNormForward(x, gamma, beta, r.mean, r.var, eps);
  return r;
}

template <typename T>
BasicTensor<T> reluForward(const BasicTensor<T> &x) {
  BasicTensor<T> y(x.shape);
  std::transform(x.data.begin(), x.data.end(), y.data.begin(), [](T v) { return v > 0 ? v : T(0); });
  return y;
}

template <typename T>
BasicTensor<T> addForward(const BasicTensor<T> &a, const BasicTensor<T> &b) {
  if (a.shape != b.shape)
    throw std::invalid_argument("reference add: shapes differ");
  BasicTensor<T> y(a.shape);
  for (int64_t i = 0; i < a.elements(); ++i)
    y.data[i] = a.data[i] + b.data[i];
  return y;
}

template <typename T>
BasicTensor<T> globalAvgPoolForward(const BasicTensor<T> &x) {
  const int64_t N = x.shape[0], C = x.shape[4], spatial = x.shape[1] * x.shape[2] * x.shape[3];
  BasicTensor<T> y({N, C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double acc = 0;
      for (int64_t s = 0; s < spatial; ++s)
        acc += x.data[(n * spatial + s) * C + c];
      y.at({n, c}) = static_cast<T>(acc / spatial);
    }
  return y;
}

template <typename T>
BasicTensor<T> foldTimeForward(const BasicTensor<T> &x) {
  const int64_t N = x.shape[0], D = x.shape[1], H = x.shape[2], W = x.shape[3], C = x.shape[4];
  BasicTensor<T> y({N, 1, H, W, D * C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          for (int64_t c = 0; c < C; ++c)
            y.at({n, 0, h, w, d * C + c}) = x.at({n, d, h, w, c});
  return y;
}

template <typename T>
BasicTensor<T> denseForward(const BasicTensor<T> &x, const BasicTensor<T> &weight, const BasicTensor<T> &bias) {
  const int64_t N = x.shape[0], C = x.shape[1], K = weight.shape[1];
  BasicTensor<T> y({N, K});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      double acc = bias.data[k];
      for (int64_t c = 0; c < C; ++c)
        acc += double(x.at({n, c})) * weight.at({c, k});
      y.at({n, k}) = static_cast<T>(acc);
    }
  return y;
}

template <typename T>
double rowLogSumExp(const BasicTensor<T> &logits, int64_t n) {
  const int64_t K = logits.shape[1];
  double max = logits.at({n, 0});
  for (int64_t k = 1; k < K; ++k)
    max = std::max(max, double(logits.at({n, k})));
  double sum = 0;
  for (int64_t k = 0; k < K; ++k)
    sum += std::exp(logits.at({n, k}) - max);
  return max + std::log(sum);
}

template <typename T>
T softmaxCrossEntropyForward(const BasicTensor<T> &logits, const std::vector<int64_t> &labels) {
  const int64_t N = logits.shape[0];
  double total = 0;
  for (int64_t n = 0; n < N; ++n)
    total += rowLogSumExp(logits, n) - logits.at({n, labels[static_cast<size_t>(n)]});
  return static_cast<T>(total / N);
}

#define VIDNET_REFERENCE_INSTANTIATE(T)                                                                 \
  template struct BasicTensor<T>;                                                                       \
  template BasicTensor<T> convForward(const BasicTensor<T> &, const BasicTensor<T> &, Triple, Triple,    \
                                      int64_t);                                                         \
  template BasicTensor<T> batchNormForward(const BasicTensor<T> &, const BasicTensor<T> &,               \
                                           const BasicTensor<T> &, const BasicTensor<T> &,               \
                                           const BasicTensor<T> &, float);                               \
  template BasicBatchNormTrainResult<T> batchNormTrainForward(const BasicTensor<T> &, const BasicTensor<T> &, \
                                                              const BasicTensor<T> &, float);            \
  template BasicTensor<T> reluForward(const BasicTensor<T> &);                                          \
  template BasicTensor<T> addForward(const BasicTensor<T> &, const BasicTensor<T> &);                   \
  template BasicTensor<T> globalAvgPoolForward(const BasicTensor<T> &);                                 \
  template BasicTensor<T> foldTimeForward(const BasicTensor<T> &);                                      \
  template BasicTensor<T> denseForward(const BasicTensor<T> &, const BasicTensor<T> &, const BasicTensor<T> &); \
  template double rowLogSumExp(const BasicTensor<T> &, int64_t);                                        \
  template T softmaxCrossEntropyForward(const BasicTensor<T> &, const std::vector<int64_t> &);
VIDNET_REFERENCE_INSTANTIATE(float)
VIDNET_REFERENCE_INSTANTIATE(double)
#undef VIDNET_REFERENCE_INSTANTIATE

} // namespace vidnet::ref
