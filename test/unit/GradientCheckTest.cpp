// Every reference VJP in Backward.h against central finite differences of its forward op, and
// PyTorch's SGD and running-statistics formulas on cases worked by hand.
#include "runtime/reference/Backward.h"
#include "ReferenceTensors.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <gtest/gtest.h>
#include <random>

using namespace vidnet::ref;
using vidnet::test::tensorOf;
using vidnet::test::uniformTensor;

namespace {



// The projection loss L = sum(r * y), in double so that it adds no rounding of its own:
// its gradient with respect to y is r, the dy every VJP below is given.
double project(const Tensor &y, const Tensor &r) {
  EXPECT_EQ(y.shape, r.shape);
  double sum = 0;
  for (int64_t i = 0; i < y.elements(); ++i)
    sum += double(y.data[i]) * r.data[i];
  return sum;
}

// Central differences of `loss` with respect to every element of `x`, which `loss` reads.
//
// Step and tolerance: the forward ops are float, so every output carries a relative rounding
// error of at most 2^-24 (they accumulate in double and round once). Only outputs that depend
// on the perturbed element differ between L(x+e) and L(x-e); the rest cancel exactly. With
// O(1) inputs that is ~1e-6 of noise in L at most, ~1e-4 in the gradient for e = 1e-2. The
// divisor is the step actually taken after rounding x +- e to float, so that costs nothing.
// The linear ops (conv, dense, pool, fold, add) have no truncation error at all; BN, ReLU away
// from its kink and softmax cross-entropy are smooth, and e^2/6 L''' is ~1e-5 at e = 1e-2.
// Hence kTolerance below: 1e-3 of the gradient's scale, which a wrong sign, a dropped term or a
// padding off by one (an O(1) change of some element) exceeds by orders of magnitude.
constexpr float kStep = 1e-2f;
constexpr double kTolerance = 1e-3;

Tensor numericalGradient(Tensor &x, const std::function<double()> &loss, float step = kStep) {
  Tensor g(x.shape);
  for (int64_t i = 0; i < x.elements(); ++i) {
    const float saved = x.data[i];
    const float plus = saved + step, minus = saved - step;
    x.data[i] = plus;
    const double lPlus = loss();
    x.data[i] = minus;
    const double lMinus = loss();
    x.data[i] = saved;
    g.data[i] = static_cast<float>((lPlus - lMinus) / (double(plus) - double(minus)));
  }
  return g;
}

// Every element within kTolerance times the largest numerical gradient (the tensor's scale);
// the scale has a floor so that an all-zero gradient is compared absolutely.
testing::AssertionResult gradientsAgree(const Tensor &analytic, const Tensor &numerical) {
  if (analytic.shape != numerical.shape)
    return testing::AssertionFailure() << "shapes differ";
  double scale = 1e-6;
  for (float v : numerical.data)
    scale = std::max(scale, std::abs(double(v)));
  int64_t worst = 0;
  double worstError = 0;
  for (int64_t i = 0; i < analytic.elements(); ++i) {
    const double error = std::abs(double(analytic.data[i]) - numerical.data[i]);
    if (error > worstError) {
      worstError = error;
      worst = i;
    }
  }
  if (worstError > kTolerance * scale)
    return testing::AssertionFailure() << "element " << worst << ": VJP " << analytic.data[worst]
                                       << ", finite differences " << numerical.data[worst]
                                       << " (gradient scale " << scale << ")";
  return testing::AssertionSuccess();
}

struct ConvCase {
  const char *name;
  std::vector<int64_t> x;  // N x D x H x W x C
  Triple kernel, stride, pad;
  int64_t filters;
  int64_t groups = 1; // filters are kernel x C/groups x filters
};

void PrintTo(const ConvCase &c, std::ostream *os) { *os << c.name; }

class ConvGradient : public testing::TestWithParam<ConvCase> {};

TEST_P(ConvGradient, DataAndFilterMatchFiniteDifferences) {
  const ConvCase &c = GetParam();
  std::mt19937 rng(11);
  Tensor x = uniformTensor(c.x, rng);
  Tensor filter = uniformTensor({c.kernel[0], c.kernel[1], c.kernel[2], c.x[4] / c.groups, c.filters}, rng);
  Tensor y = convForward(x, filter, c.stride, c.pad, c.groups);
  Tensor r = uniformTensor(y.shape, rng);
  auto loss = [&] { return project(convForward(x, filter, c.stride, c.pad, c.groups), r); };
  EXPECT_TRUE(gradientsAgree(convBackwardData(r, filter, x.shape, c.stride, c.pad, c.groups),
                             numericalGradient(x, loss)));
  EXPECT_TRUE(gradientsAgree(convBackwardFilter(x, r, filter.shape, c.stride, c.pad, c.groups),
                             numericalGradient(filter, loss)));
}

INSTANTIATE_TEST_SUITE_P(
    GradientCheck, ConvGradient,
    testing::Values(
        ConvCase{"k333_s1_p1", {2, 3, 5, 4, 3}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, 4},
        ConvCase{"k333_s1_p0", {2, 3, 5, 4, 3}, {3, 3, 3}, {1, 1, 1}, {0, 0, 0}, 4},
        ConvCase{"k333_s2_p1", {2, 3, 5, 4, 3}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, 4},
        // W: floor((4 - 3) / 2) + 1 = 1 output, so column 3 is never read and gets dx = 0.
        ConvCase{"k333_s2_p0_floor", {2, 3, 5, 4, 3}, {3, 3, 3}, {2, 2, 2}, {0, 0, 0}, 4},
        ConvCase{"k133_s1_p011", {2, 3, 5, 4, 3}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}, 4},
        ConvCase{"k133_s122_p011", {2, 3, 5, 4, 3}, {1, 3, 3}, {1, 2, 2}, {0, 1, 1}, 4},
        ConvCase{"k311_s1_p100", {2, 3, 5, 4, 3}, {3, 1, 1}, {1, 1, 1}, {1, 0, 0}, 4},
        ConvCase{"k311_s2_p100", {2, 3, 5, 4, 3}, {3, 1, 1}, {2, 1, 1}, {1, 0, 0}, 4},
        // The shortcut projection: odd columns and rows are skipped by the stride.
        ConvCase{"k111_s2_p0_floor", {2, 3, 5, 4, 3}, {1, 1, 1}, {2, 2, 2}, {0, 0, 0}, 4},
        // The R(2+1)D / R3D stem's spatial kernel on a tiny clip.
        ConvCase{"stem_k177_s122_p033", {1, 2, 6, 5, 3}, {1, 7, 7}, {1, 2, 2}, {0, 3, 3}, 2},
        // Grouped: 2 groups of 2 input and 3 output channels, strided and padded.
        ConvCase{"groups2_k333_s2_p1", {2, 3, 5, 4, 4}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, 6, 2},
        // Depthwise (CSN's 3x3x3 channel-separated convs): groups = C = F, stride 1 and 2.
        ConvCase{"depthwise_k333_s1_p1", {2, 3, 5, 4, 4}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, 4, 4},
        ConvCase{"depthwise_k333_s2_p1", {2, 3, 5, 4, 4}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, 4, 4},
        // Depthwise with a channel multiplier of 2 (F = 2C).
        ConvCase{"depthwise_x2_k133_s1_p011", {1, 3, 5, 4, 3}, {1, 3, 3}, {1, 1, 1}, {0, 1, 1}, 6, 3}),
    [](const testing::TestParamInfo<ConvCase> &row) { return std::string(row.param.name); });

TEST(GradientCheck, ConvRejectsFiltersThatDoNotMatchTheGroups) {
  // 4 input channels in 2 groups need filters of 2 input channels, not 4.
  EXPECT_THROW(convBackwardFilter(Tensor({1, 3, 3, 3, 4}), Tensor({1, 1, 1, 1, 6}), {3, 3, 3, 4, 6}, {1, 1, 1},
                                  {0, 0, 0}, 2),
               std::invalid_argument);
}

TEST(GradientCheck, ConvRejectsAGradientOfTheWrongShape) {
  Tensor filter({3, 3, 3, 3, 4});
  // Stride 2 on width 4 gives 1 output column, not 2.
  EXPECT_THROW(convBackwardData(Tensor({2, 1, 2, 2, 4}), filter, {2, 3, 5, 4, 3}, {2, 2, 2}, {0, 0, 0}),
               std::invalid_argument);
}

// A BN input whose channels have different means and spreads, as real activations do.
Tensor batchNormInput(std::mt19937 &rng) {
  Tensor x = uniformTensor({2, 2, 3, 3, 3}, rng);
  for (int64_t i = 0; i < x.elements(); ++i)
    x.data[i] = x.data[i] * (1.0f + static_cast<float>(i % 3)) + 0.5f * static_cast<float>(i % 3);
  return x;
}

TEST(GradientCheck, BatchNormTrain) {
  std::mt19937 rng(12);
  Tensor x = batchNormInput(rng);
  Tensor gamma = uniformTensor({3}, rng, 1.5f), beta = uniformTensor({3}, rng);
  Tensor r = uniformTensor(x.shape, rng);
  auto loss = [&] { return project(batchNormTrainForward(x, gamma, beta).y, r); };
  BatchNormTrainGrads g = batchNormTrainBackward(r, x, gamma);
  EXPECT_TRUE(gradientsAgree(g.dx, numericalGradient(x, loss)));
  EXPECT_TRUE(gradientsAgree(g.dgamma, numericalGradient(gamma, loss)));
  EXPECT_TRUE(gradientsAgree(g.dbeta, numericalGradient(beta, loss)));
}

TEST(GradientCheck, Relu) {
  std::mt19937 rng(13);
  Tensor x = uniformTensor({2, 2, 3, 3, 3}, rng);
  // Central differences straddling the kink would average the two slopes.
  for (float &v : x.data)
    v = v < 0 ? v - 2 * kStep : v + 2 * kStep;
  Tensor r = uniformTensor(x.shape, rng);
  auto loss = [&] { return project(reluForward(x), r); };
  EXPECT_TRUE(gradientsAgree(reluBackward(r, x), numericalGradient(x, loss)));
}

TEST(GradientCheck, Add) {
  std::mt19937 rng(14);
  Tensor a = uniformTensor({2, 2, 3, 3, 3}, rng), b = uniformTensor(a.shape, rng), r = uniformTensor(a.shape, rng);
  auto loss = [&] { return project(addForward(a, b), r); };
  AddGrads g = addBackward(r);
  EXPECT_TRUE(gradientsAgree(g.da, numericalGradient(a, loss)));
  EXPECT_TRUE(gradientsAgree(g.db, numericalGradient(b, loss)));
}

TEST(GradientCheck, GlobalAvgPool) {
  std::mt19937 rng(15);
  Tensor x = uniformTensor({2, 3, 2, 2, 3}, rng);
  Tensor r = uniformTensor({2, 3}, rng);
  auto loss = [&] { return project(globalAvgPoolForward(x), r); };
  EXPECT_TRUE(gradientsAgree(globalAvgPoolBackward(r, x.shape), numericalGradient(x, loss)));
}

TEST(GradientCheck, FoldTime) {
  std::mt19937 rng(16);
  Tensor x = uniformTensor({2, 3, 2, 2, 3}, rng);
  Tensor r = uniformTensor({2, 1, 2, 2, 9}, rng);
  auto loss = [&] { return project(foldTimeForward(x), r); };
  EXPECT_TRUE(gradientsAgree(foldTimeBackward(r, x.shape), numericalGradient(x, loss)));
}

TEST(GradientCheck, Dense) {
  std::mt19937 rng(17);
  Tensor x = uniformTensor({3, 5}, rng), weight = uniformTensor({5, 4}, rng), bias = uniformTensor({4}, rng);
  Tensor r = uniformTensor({3, 4}, rng);
  auto loss = [&] { return project(denseForward(x, weight, bias), r); };
  DenseGrads g = denseBackward(r, x, weight);
  EXPECT_TRUE(gradientsAgree(g.dx, numericalGradient(x, loss)));
  EXPECT_TRUE(gradientsAgree(g.dweight, numericalGradient(weight, loss)));
  EXPECT_TRUE(gradientsAgree(g.dbias, numericalGradient(bias, loss)));
}

TEST(GradientCheck, SoftmaxCrossEntropy) {
  std::mt19937 rng(18);
  Tensor logits = uniformTensor({4, 5}, rng, 3.0f);
  const std::vector<int64_t> labels = {0, 4, 2, 2};
  // The loss is a scalar already; its own gradient is the VJP with dy = 1.
  auto loss = [&] { return double(softmaxCrossEntropyForward(logits, labels)); };
  EXPECT_TRUE(gradientsAgree(softmaxCrossEntropyBackward(logits, labels), numericalGradient(logits, loss)));
}

// The checker must be able to fail: a VJP off in one element, and eval-mode BN's gradient (the
// batch-statistics terms forgotten, a plausible bug) must both be rejected.
TEST(GradientCheck, NegativeControlsAreRejected) {
  std::mt19937 rng(19);
  Tensor x = uniformTensor({2, 3, 5, 4, 3}, rng), filter = uniformTensor({3, 3, 3, 3, 4}, rng);
  Tensor r = uniformTensor(convForward(x, filter, {1, 1, 1}, {1, 1, 1}).shape, rng);
  auto convLoss = [&] { return project(convForward(x, filter, {1, 1, 1}, {1, 1, 1}), r); };
  Tensor numerical = numericalGradient(x, convLoss);
  Tensor wrong = convBackwardData(r, filter, x.shape, {1, 1, 1}, {1, 1, 1});
  ASSERT_TRUE(gradientsAgree(wrong, numerical));
  wrong.data[17] += 0.01f * std::abs(numerical.data[17]) + 0.01f;
  EXPECT_FALSE(gradientsAgree(wrong, numerical));

  Tensor bx = batchNormInput(rng), gamma = uniformTensor({3}, rng, 1.5f), beta = uniformTensor({3}, rng);
  Tensor br = uniformTensor(bx.shape, rng);
  BatchNormTrainResult stats = batchNormTrainForward(bx, gamma, beta);
  Tensor evalForm(bx.shape);
  for (int64_t i = 0; i < bx.elements(); ++i)
    evalForm.data[i] = br.data[i] * gamma.data[i % 3] / std::sqrt(stats.var.data[i % 3] + 1e-5f);
  auto bnLoss = [&] { return project(batchNormTrainForward(bx, gamma, beta).y, br); };
  EXPECT_FALSE(gradientsAgree(evalForm, numericalGradient(bx, bnLoss)));
}

// Exact binary fractions, so float and the hand arithmetic agree to the last bit.
TEST(GradientCheck, SgdStepFollowsPyTorch) {
  Tensor w = tensorOf({2}, {1.0f, -2.0f}), g = tensorOf({2}, {0.5f, 0.25f}), buf({2});
  // lr 0.5, momentum 0.5, weight decay 0.25. Step 1: d = g + 0.25 w = (0.75, -0.25); buf = d
  // (PyTorch's first step); w -= 0.5 buf.
  sgdStep(w, g, buf, 0.5f, 0.5f, 0.25f);
  EXPECT_EQ(buf.data, (std::vector<float>{0.75f, -0.25f}));
  EXPECT_EQ(w.data, (std::vector<float>{0.625f, -1.875f}));
  // Step 2: d = (0.5 + 0.15625, 0.25 - 0.46875); buf = 0.5 buf + d; w -= 0.5 buf.
  sgdStep(w, g, buf, 0.5f, 0.5f, 0.25f);
  EXPECT_EQ(buf.data, (std::vector<float>{1.03125f, -0.34375f}));
  EXPECT_EQ(w.data, (std::vector<float>{0.109375f, -1.703125f}));
}

TEST(GradientCheck, SgdWithoutMomentumOrDecayIsPlainDescent) {
  Tensor w = tensorOf({1}, {1.0f}), g = tensorOf({1}, {4.0f}), buf({1});
  sgdStep(w, g, buf, 0.125f, 0.0f, 0.0f);
  EXPECT_EQ(w.data[0], 0.5f);
  sgdStep(w, g, buf, 0.125f, 0.0f, 0.0f);
  EXPECT_EQ(w.data[0], 0.0f);  // no momentum: the first step's buffer does not carry over
}

TEST(GradientCheck, RunningStatsUseUnbiasedVariance) {
  // x = 1, 2, 3, 6 in one channel: mean 3, biased variance 14/4, unbiased 14/3.
  Tensor x = tensorOf({1, 1, 1, 4, 1}, {1, 2, 3, 6});
  BatchNormTrainResult stats = batchNormTrainForward(x, tensorOf({1}, {1}), tensorOf({1}, {0}));
  Tensor mean = tensorOf({1}, {0}), var = tensorOf({1}, {1});  // PyTorch's initial running statistics
  runningStatsUpdate(mean, var, stats.mean, stats.var, 4);
  EXPECT_FLOAT_EQ(mean.data[0], 0.9f * 0 + 0.1f * 3);
  EXPECT_FLOAT_EQ(var.data[0], static_cast<float>(0.9 * 1 + 0.1 * 14.0 / 3));
  runningStatsUpdate(mean, var, stats.mean, stats.var, 4);
  EXPECT_FLOAT_EQ(mean.data[0], static_cast<float>(0.9 * 0.3 + 0.1 * 3));
  EXPECT_FLOAT_EQ(var.data[0], static_cast<float>(0.9 * (0.9 + 0.1 * 14.0 / 3) + 0.1 * 14.0 / 3));
  EXPECT_THROW(runningStatsUpdate(mean, var, stats.mean, stats.var, 1), std::invalid_argument);
}

} // namespace
