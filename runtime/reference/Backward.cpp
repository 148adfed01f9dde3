// Naive VJPs of the reference ops; every sum is accumulated in double so that the reference
// stays the more accurate side of a comparison.
#include "runtime/reference/Backward.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace vidnet::ref {

namespace {

// A double-precision tensor for sums scattered from many places, rounded to float once.
struct Accumulator {
  std::vector<int64_t> shape;
  std::vector<double> data;

  explicit Accumulator(std::vector<int64_t> s) : shape(std::move(s)) {
    size_t n = 1;
    for (int64_t d : shape)
      n *= static_cast<size_t>(d);
    data.resize(n);
  }
  double &at(std::initializer_list<int64_t> index) {
    size_t flat = 0, i = 0;
    for (int64_t v : index)
      flat = flat * static_cast<size_t>(shape[i++]) + static_cast<size_t>(v);
    return data[flat];
  }
  Tensor rounded() const {
    Tensor t(shape);
    for (size_t i = 0; i < data.size(); ++i)
      t.data[i] = static_cast<float>(data[i]);
    return t;
  }
};

void require(bool condition, const char *message) {
  if (!condition)
    throw std::invalid_argument(message);
}

// The shapes a conv VJP accepts: dy must be the forward's output for xShape.
void checkConvShapes(const std::vector<int64_t> &xShape, const std::vector<int64_t> &filterShape,
                     const std::vector<int64_t> &dyShape, Triple stride, Triple pad, int64_t groups) {
  require(xShape.size() == 5 && filterShape.size() == 5 && dyShape.size() == 5,
          "reference conv backward: tensors must be rank 5");
  require(groups >= 1 && filterShape[4] % groups == 0 && filterShape[3] * groups == xShape[4],
          "reference conv backward: filter channels x groups != input channels");
  const std::vector<int64_t> expected = {xShape[0], convOutputExtent(xShape[1], filterShape[0], stride[0], pad[0]),
                                         convOutputExtent(xShape[2], filterShape[1], stride[1], pad[1]),
                                         convOutputExtent(xShape[3], filterShape[2], stride[2], pad[2]),
                                         filterShape[4]};
  require(dyShape == expected, "reference conv backward: dy is not the forward's output shape");
}

// One output position and one kernel tap that reads a real (not padding) input element.
struct ConvTap {
  int64_t n, od, oh, ow, kd, kh, kw, d, h, w;
};

// Visits exactly the (output, tap) pairs convForward sums over, so both VJPs below are the
// forward's loop nest with the multiply-accumulate turned around.
void forEachConvTap(const std::vector<int64_t> &xShape, const std::vector<int64_t> &filterShape,
                    const std::vector<int64_t> &dyShape, Triple stride, Triple pad,
                    const std::function<void(const ConvTap &)> &visit) {
  const int64_t D = xShape[1], H = xShape[2], W = xShape[3];
  for (int64_t n = 0; n < dyShape[0]; ++n)
    for (int64_t od = 0; od < dyShape[1]; ++od)
      for (int64_t oh = 0; oh < dyShape[2]; ++oh)
        for (int64_t ow = 0; ow < dyShape[3]; ++ow)
          for (int64_t kd = 0; kd < filterShape[0]; ++kd)
            for (int64_t kh = 0; kh < filterShape[1]; ++kh)
              for (int64_t kw = 0; kw < filterShape[2]; ++kw) {
                const int64_t d = od * stride[0] + kd - pad[0];
                const int64_t h = oh * stride[1] + kh - pad[1];
                const int64_t w = ow * stride[2] + kw - pad[2];
                if (d < 0 || d >= D || h < 0 || h >= H || w < 0 || w >= W)
                  continue;  // padding contributes nothing, so receives nothing
                visit({n, od, oh, ow, kd, kh, kw, d, h, w});
              }
}

} // namespace

Tensor convBackwardData(const Tensor &dy, const Tensor &filter, const std::vector<int64_t> &xShape,
                        Triple stride, Triple pad, int64_t groups) {
  checkConvShapes(xShape, filter.shape, dy.shape, stride, pad, groups);
  Accumulator dx(xShape);
  const int64_t CG = filter.shape[3], F = filter.shape[4], FG = F / groups;
  forEachConvTap(xShape, filter.shape, dy.shape, stride, pad, [&](const ConvTap &t) {
    for (int64_t f = 0; f < F; ++f) {
      const double g = dy.at({t.n, t.od, t.oh, t.ow, f});
      const int64_t first = f / FG * CG; // the group's first input channel
      for (int64_t c = 0; c < CG; ++c)
        dx.at({t.n, t.d, t.h, t.w, first + c}) += g * filter.at({t.kd, t.kh, t.kw, c, f});
    }
  });
  return dx.rounded();
}

Tensor convBackwardFilter(const Tensor &x, const Tensor &dy, const std::vector<int64_t> &filterShape,
                          Triple stride, Triple pad, int64_t groups) {
  checkConvShapes(x.shape, filterShape, dy.shape, stride, pad, groups);
  Accumulator df(filterShape);
  const int64_t CG = filterShape[3], F = filterShape[4], FG = F / groups;
  forEachConvTap(x.shape, filterShape, dy.shape, stride, pad, [&](const ConvTap &t) {
    for (int64_t f = 0; f < F; ++f) {
      const double g = dy.at({t.n, t.od, t.oh, t.ow, f});
      const int64_t first = f / FG * CG; // the group's first input channel
      for (int64_t c = 0; c < CG; ++c)
        df.at({t.kd, t.kh, t.kw, c, f}) += g * x.at({t.n, t.d, t.h, t.w, first + c});
    }
  });
  return df.rounded();
}

BatchNormTrainGrads batchNormTrainBackward(const Tensor &dy, const Tensor &x, const Tensor &gamma, float eps) {
  require(dy.shape == x.shape, "reference batch norm backward: dy and x shapes differ");
  const int64_t C = x.shape.back(), count = x.elements() / C;
  std::vector<double> mean(C, 0.0), var(C, 0.0), sumDy(C, 0.0), sumDyXhat(C, 0.0);
  for (int64_t i = 0; i < x.elements(); ++i)
    mean[i % C] += x.data[i];
  for (double &m : mean)
    m /= count;
  for (int64_t i = 0; i < x.elements(); ++i)
    var[i % C] += (x.data[i] - mean[i % C]) * (x.data[i] - mean[i % C]);
  std::vector<double> invStd(C);
  for (int64_t c = 0; c < C; ++c)
    invStd[c] = 1.0 / std::sqrt(var[c] / count + eps);
  auto xhat = [&](int64_t i) { return (x.data[i] - mean[i % C]) * invStd[i % C]; };
  for (int64_t i = 0; i < x.elements(); ++i) {
    sumDy[i % C] += dy.data[i];
    sumDyXhat[i % C] += dy.data[i] * xhat(i);
  }
  BatchNormTrainGrads r{Tensor(x.shape), Tensor({C}), Tensor({C})};
  for (int64_t c = 0; c < C; ++c) {
    r.dgamma.data[c] = static_cast<float>(sumDyXhat[c]);
    r.dbeta.data[c] = static_cast<float>(sumDy[c]);
  }
  // y = gamma xhat + beta with xhat depending on x directly and through the batch mean and
  // variance: dx = gamma / sigma (dy - mean(dy) - xhat mean(dy xhat)).
  for (int64_t i = 0; i < x.elements(); ++i) {
    const int64_t c = i % C;
    r.dx.data[i] = static_cast<float>(gamma.data[c] * invStd[c] *
                                      (dy.data[i] - sumDy[c] / count - xhat(i) * sumDyXhat[c] / count));
  }
  return r;
}

Tensor reluBackward(const Tensor &dy, const Tensor &x) {
  require(dy.shape == x.shape, "reference relu backward: dy and x shapes differ");
  Tensor dx(x.shape);
  for (int64_t i = 0; i < x.elements(); ++i)
    dx.data[i] = x.data[i] > 0 ? dy.data[i] : 0.0f;
  return dx;
}

AddGrads addBackward(const Tensor &dy) { return {dy, dy}; }

Tensor globalAvgPoolBackward(const Tensor &dy, const std::vector<int64_t> &xShape) {
  require(xShape.size() == 5 && dy.shape == std::vector<int64_t>{xShape[0], xShape[4]},
          "reference global average pool backward: dy is not N x C");
  const int64_t N = xShape[0], C = xShape[4], spatial = xShape[1] * xShape[2] * xShape[3];
  Tensor dx(xShape);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < spatial; ++s)
      for (int64_t c = 0; c < C; ++c)
        dx.data[(n * spatial + s) * C + c] = static_cast<float>(double(dy.at({n, c})) / spatial);
  return dx;
}

Tensor foldTimeBackward(const Tensor &dy, const std::vector<int64_t> &xShape) {
  require(xShape.size() == 5, "reference fold_time backward: x must be rank 5");
  const int64_t N = xShape[0], D = xShape[1], H = xShape[2], W = xShape[3], C = xShape[4];
  require(dy.shape == std::vector<int64_t>{N, 1, H, W, D * C},
          "reference fold_time backward: dy is not N x 1 x H x W x (D*C)");
  Tensor dx(xShape);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          for (int64_t c = 0; c < C; ++c)
            dx.at({n, d, h, w, c}) = dy.at({n, 0, h, w, d * C + c});
  return dx;
}

DenseGrads denseBackward(const Tensor &dy, const Tensor &x, const Tensor &weight) {
  const int64_t N = x.shape[0], C = x.shape[1], K = weight.shape[1];
  require(weight.shape[0] == C && dy.shape == std::vector<int64_t>{N, K},
          "reference dense backward: shapes do not match N x C times C x K");
  Accumulator dx({N, C}), dw({C, K}), db({K});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const double g = dy.at({n, k});
      db.at({k}) += g;
      for (int64_t c = 0; c < C; ++c) {
        dx.at({n, c}) += g * weight.at({c, k});
        dw.at({c, k}) += g * x.at({n, c});
      }
    }
  return {dx.rounded(), dw.rounded(), db.rounded()};
}

Tensor softmaxCrossEntropyBackward(const Tensor &logits, const std::vector<int64_t> &labels) {
  const int64_t N = logits.shape[0], K = logits.shape[1];
  require(labels.size() == static_cast<size_t>(N), "reference cross-entropy backward: one label per row");
  Tensor dl(logits.shape);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t label = labels[static_cast<size_t>(n)];
    require(label >= 0 && label < K, "reference cross-entropy backward: label out of range");
    const double logSumExp = rowLogSumExp(logits, n);
    for (int64_t k = 0; k < K; ++k) {
      const double p = std::exp(logits.at({n, k}) - logSumExp);
      dl.at({n, k}) = static_cast<float>((p - (k == label ? 1.0 : 0.0)) / N);
    }
  }
  return dl;
}

void sgdStep(Tensor &w, const Tensor &g, Tensor &buf, float lr, float momentum, float weightDecay) {
  require(g.shape == w.shape && buf.shape == w.shape, "reference sgd: w, g and buf shapes differ");
  for (int64_t i = 0; i < w.elements(); ++i) {
    const double d = double(g.data[i]) + double(weightDecay) * w.data[i];
    buf.data[i] = static_cast<float>(double(momentum) * buf.data[i] + d);
    w.data[i] = static_cast<float>(w.data[i] - double(lr) * buf.data[i]);
  }
}

void runningStatsUpdate(Tensor &runningMean, Tensor &runningVar, const Tensor &batchMean,
                        const Tensor &batchVarBiased, int64_t count) {
  // PyTorch refuses count 1 in training ("Expected more than 1 value per channel").
  require(count > 1, "reference running stats: need more than one value per channel");
  require(runningMean.shape == batchMean.shape && runningVar.shape == batchVarBiased.shape &&
              runningMean.shape == runningVar.shape,
          "reference running stats: shapes differ");
  constexpr double momentum = kBatchNormMomentum;
  for (int64_t c = 0; c < runningMean.elements(); ++c) {
    const double unbiased = double(batchVarBiased.data[c]) * count / (count - 1);
    runningMean.data[c] = static_cast<float>((1 - momentum) * runningMean.data[c] + momentum * batchMean.data[c]);
    runningVar.data[c] = static_cast<float>((1 - momentum) * runningVar.data[c] + momentum * unbiased);
  }
}

} // namespace vidnet::ref
