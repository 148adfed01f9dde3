// The reference max pooling against cases worked out by hand (ties, padding, overlapping
// windows) and its gradient against finite differences of its forward in double.
#include "runtime/reference/Pooling.h"
#include "ReferenceTensors.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <numeric>
#include <random>

using namespace vidnet::ref;
using vidnet::test::tensorOf;

namespace {


TEST(ReferenceMaxPool, OverlappingWindowsAddTheirGradients) {
  // Windows over W (pad 1): [pad, 1, 3], [3, 2, 5], [5, 4, pad]; 5 wins the last two.
  Tensor x = tensorOf({1, 1, 1, 5, 1}, {1, 3, 2, 5, 4});
  Tensor y = maxPoolForward(x, {1, 1, 3}, {1, 1, 2}, {0, 0, 1});
  EXPECT_EQ(y.shape, (std::vector<int64_t>{1, 1, 1, 3, 1}));
  EXPECT_EQ(y.data, (std::vector<float>{3, 5, 5}));
  Tensor dx = maxPoolBackward(tensorOf({1, 1, 1, 3, 1}, {1, 10, 100}), x, {1, 1, 3}, {1, 1, 2}, {0, 0, 1});
  EXPECT_EQ(dx.data, (std::vector<float>{0, 1, 0, 110, 0}));
}

TEST(ReferenceMaxPool, TiesGoToTheFirstMaximumInRowMajorOrder) {
  // One 2x2x2 window; the maximum 4 at (d, h, w) = (0, 1, 1) and (1, 0, 0): kd = 0 comes first.
  Tensor x = tensorOf({1, 2, 2, 2, 1}, {0, 1, 2, 4, 4, 3, 1, 0});
  Tensor y = maxPoolForward(x, {2, 2, 2}, {2, 2, 2}, {0, 0, 0});
  EXPECT_EQ(y.data, (std::vector<float>{4}));
  Tensor dx = maxPoolBackward(tensorOf({1, 1, 1, 1, 1}, {7}), x, {2, 2, 2}, {2, 2, 2}, {0, 0, 0});
  EXPECT_EQ(dx.data, (std::vector<float>{0, 0, 0, 7, 0, 0, 0, 0}));
  // All equal: the window's first element.
  Tensor flat = tensorOf({1, 1, 2, 2, 1}, {2, 2, 2, 2});
  EXPECT_EQ(maxPoolBackward(tensorOf({1, 1, 1, 1, 1}, {3}), flat, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}).data,
            (std::vector<float>{3, 0, 0, 0}));
}

TEST(ReferenceMaxPool, PaddingIsMinusInfinityNotZero) {
  Tensor x = tensorOf({1, 1, 1, 2, 1}, {-3, -1});
  Tensor y = maxPoolForward(x, {1, 1, 3}, {1, 1, 1}, {0, 0, 1});
  EXPECT_EQ(y.data, (std::vector<float>{-1, -1}));
  EXPECT_EQ(maxPoolBackward(tensorOf({1, 1, 1, 2, 1}, {1, 2}), x, {1, 1, 3}, {1, 1, 1}, {0, 0, 1}).data,
            (std::vector<float>{0, 3}));
  // A window of -inf inputs still routes its gradient to its first input element, not the padding.
  const float inf = std::numeric_limits<float>::infinity();
  Tensor low = tensorOf({1, 1, 1, 2, 1}, {-inf, -inf});
  EXPECT_EQ(maxPoolBackward(tensorOf({1, 1, 1, 2, 1}, {1, 2}), low, {1, 1, 3}, {1, 1, 1}, {0, 0, 1}).data,
            (std::vector<float>{3, 0}));
}

TEST(ReferenceMaxPool, ChannelsPoolIndependently) {
  Tensor x = tensorOf({1, 1, 1, 2, 2}, {1, 4, 2, 3});
  EXPECT_EQ(maxPoolForward(x, {1, 1, 2}, {1, 1, 1}, {0, 0, 0}).data, (std::vector<float>{2, 4}));
  EXPECT_EQ(maxPoolBackward(tensorOf({1, 1, 1, 1, 2}, {5, 6}), x, {1, 1, 2}, {1, 1, 1}, {0, 0, 0}).data,
            (std::vector<float>{0, 6, 5, 0}));
}

TEST(ReferenceMaxPool, FloorModeExtentsAndBadPaddingRejected) {
  // C3D's pool5: 2x2x2, stride 2, padding 0x1x1 on 2x7x7 -> 1x4x4.
  Tensor y = maxPoolForward(Tensor({1, 2, 7, 7, 3}), {2, 2, 2}, {2, 2, 2}, {0, 1, 1});
  EXPECT_EQ(y.shape, (std::vector<int64_t>{1, 1, 4, 4, 3}));
  EXPECT_THROW(maxPoolForward(Tensor({1, 2, 7, 7, 3}), {2, 2, 2}, {2, 2, 2}, {0, 2, 1}), std::invalid_argument);
}

// sum(w * maxPool(x)) differentiated by central differences in double, against the backward
// with dy = w. x is a shuffle of distinct values 0.01 apart, so no perturbation changes a max.
void expectGradientMatchesFiniteDifferences(std::vector<int64_t> shape, Triple k, Triple s, Triple p) {
  std::mt19937 rng(2018);
  Tensor x(std::move(shape));
  std::vector<int64_t> order(x.data.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i = 0; i < order.size(); ++i)
    x.data[i] = 0.01f * static_cast<float>(order[i] - static_cast<int64_t>(order.size() / 2));
  Tensor w = maxPoolForward(x, k, s, p);
  std::uniform_real_distribution<float> u(-1, 1);
  for (float &v : w.data)
    v = u(rng);
  Tensor dx = maxPoolBackward(w, x, k, s, p);
  TensorD xd(x.shape);
  std::copy(x.data.begin(), x.data.end(), xd.data.begin());
  auto loss = [&](const TensorD &t) {
    TensorD y = maxPoolForward(t, k, s, p);
    double sum = 0;
    for (size_t i = 0; i < y.data.size(); ++i)
      sum += double(w.data[i]) * y.data[i];
    return sum;
  };
  const double eps = 1e-4;
  double worst = 0;
  int64_t routed = 0;
  for (size_t i = 0; i < xd.data.size(); ++i) {
    TensorD plus = xd, minus = xd;
    plus.data[i] += eps;
    minus.data[i] -= eps;
    const double fd = (loss(plus) - loss(minus)) / (2 * eps);
    worst = std::max(worst, std::abs(fd - dx.data[i]));
    routed += dx.data[i] != 0;
  }
  std::printf("max |backward - finite difference| %.2e over %zu inputs, %lld with a gradient\n", worst,
              xd.data.size(), static_cast<long long>(routed));
  EXPECT_LT(worst, 1e-5);
  EXPECT_GT(routed, 0);
}

TEST(ReferenceMaxPool, CsnStemGradientMatchesFiniteDifferences) {
  expectGradientMatchesFiniteDifferences({2, 2, 7, 7, 3}, {1, 3, 3}, {1, 2, 2}, {0, 1, 1});
}

TEST(ReferenceMaxPool, OverlappingP3dGradientMatchesFiniteDifferences) {
  expectGradientMatchesFiniteDifferences({1, 5, 6, 7, 2}, {2, 3, 3}, {2, 2, 2}, {1, 1, 0});
}

TEST(ReferenceMaxPool, C3dPool5GradientMatchesFiniteDifferences) {
  expectGradientMatchesFiniteDifferences({1, 2, 7, 7, 4}, {2, 2, 2}, {2, 2, 2}, {0, 1, 1});
}

} // namespace
