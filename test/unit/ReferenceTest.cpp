// The reference implementation against values worked out by hand, and against itself where
// a property must hold (a grouped conv and its VJPs are separate convs on channel slices).
#include "runtime/reference/Backward.h"
#include "runtime/reference/Reference.h"
#include "ReferenceTensors.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>

using namespace vidnet::ref;
using vidnet::test::tensorOf;
using vidnet::test::uniformTensor;

namespace {



TEST(Reference, ConvBoxFilterWithSpatialPadding) {
  Tensor x = tensorOf({1, 1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor w = tensorOf({1, 3, 3, 1, 1}, std::vector<float>(9, 1.0f));
  Tensor y = convForward(x, w, {1, 1, 1}, {0, 1, 1});
  EXPECT_EQ(y.shape, (std::vector<int64_t>{1, 1, 3, 3, 1}));
  EXPECT_EQ(y.data, (std::vector<float>{12, 21, 16, 27, 45, 33, 24, 39, 28}));
}

TEST(Reference, ConvTemporalKernelAndPadding) {
  Tensor x = tensorOf({1, 3, 1, 1, 1}, {1, 2, 3});
  Tensor w = tensorOf({3, 1, 1, 1, 1}, {1, 10, 100});
  Tensor y = convForward(x, w, {1, 1, 1}, {1, 0, 0});
  EXPECT_EQ(y.data, (std::vector<float>{210, 321, 32}));
}

TEST(Reference, ConvStrideSkipsPositions) {
  Tensor x = tensorOf({1, 1, 1, 5, 1}, {1, 2, 3, 4, 5});
  Tensor w = tensorOf({1, 1, 1, 1, 1}, {2});
  Tensor y = convForward(x, w, {1, 1, 2}, {0, 0, 0});
  EXPECT_EQ(y.shape, (std::vector<int64_t>{1, 1, 1, 3, 1}));
  EXPECT_EQ(y.data, (std::vector<float>{2, 6, 10}));
}

TEST(Reference, GroupedConvIsConvsOnChannelSlices) {
  std::mt19937 rng(7);
  Tensor x = uniformTensor({1, 3, 4, 4, 4}, rng), w = uniformTensor({3, 3, 3, 2, 6}, rng);
  Tensor grouped = convForward(x, w, {1, 2, 1}, {1, 1, 1}, 2);
  for (int64_t g = 0; g < 2; ++g) {
    Tensor xs({1, 3, 4, 4, 2}), ws({3, 3, 3, 2, 3});
    for (int64_t i = 0; i < xs.elements() / 2; ++i)
      for (int64_t c = 0; c < 2; ++c)
        xs.data[i * 2 + c] = x.data[i * 4 + g * 2 + c];
    for (int64_t i = 0; i < ws.elements() / 3; ++i)
      for (int64_t f = 0; f < 3; ++f)
        ws.data[i * 3 + f] = w.data[i * 6 + g * 3 + f];
    Tensor part = convForward(xs, ws, {1, 2, 1}, {1, 1, 1});
    for (int64_t i = 0; i < part.elements() / 3; ++i)
      for (int64_t f = 0; f < 3; ++f)
        EXPECT_FLOAT_EQ(part.data[i * 3 + f], grouped.data[i * 6 + g * 3 + f]);
  }
}

// Channels [first, first + count) of a channels-last tensor (or filter outputs, its last dim).
Tensor channelSlice(const Tensor &t, int64_t first, int64_t count) {
  std::vector<int64_t> shape = t.shape;
  const int64_t all = shape.back();
  shape.back() = count;
  Tensor s(shape);
  for (int64_t i = 0; i < s.elements() / count; ++i)
    for (int64_t c = 0; c < count; ++c)
      s.data[i * count + c] = t.data[i * all + first + c];
  return s;
}

// Expects `part` to be channels [first, first + part's count) of `whole`.
void expectChannelSlice(const Tensor &whole, const Tensor &part, int64_t first) {
  const int64_t count = part.shape.back(), all = whole.shape.back();
  for (int64_t i = 0; i < part.elements() / count; ++i)
    for (int64_t c = 0; c < count; ++c)
      EXPECT_FLOAT_EQ(part.data[i * count + c], whole.data[i * all + first + c]) << "element " << i << " channel " << c;
}

// Depthwise (groups = C = F): each channel is a one-channel conv of its own.
TEST(Reference, DepthwiseConvIsOneConvPerChannel) {
  std::mt19937 rng(5);
  Tensor x = uniformTensor({2, 3, 5, 4, 3}, rng), w = uniformTensor({3, 3, 3, 1, 3}, rng);
  Tensor depthwise = convForward(x, w, {1, 2, 2}, {1, 1, 1}, 3);
  for (int64_t c = 0; c < 3; ++c)
    expectChannelSlice(depthwise, convForward(channelSlice(x, c, 1), channelSlice(w, c, 1), {1, 2, 2}, {1, 1, 1}), c);
}

// Both VJPs of a grouped conv are, group by group, the groups = 1 VJPs of that group's slices.
TEST(Reference, GroupedConvBackwardIsBackwardOnChannelSlices) {
  std::mt19937 rng(9);
  const Triple stride = {2, 1, 2}, pad = {1, 1, 0};
  Tensor x = uniformTensor({2, 4, 5, 4, 6}, rng), w = uniformTensor({3, 3, 2, 2, 9}, rng);
  Tensor dy = uniformTensor(convForward(x, w, stride, pad, 3).shape, rng);
  Tensor dx = convBackwardData(dy, w, x.shape, stride, pad, 3);
  Tensor dw = convBackwardFilter(x, dy, w.shape, stride, pad, 3);
  for (int64_t g = 0; g < 3; ++g) {
    Tensor xs = channelSlice(x, g * 2, 2), ws = channelSlice(w, g * 3, 3), dys = channelSlice(dy, g * 3, 3);
    expectChannelSlice(dx, convBackwardData(dys, ws, xs.shape, stride, pad), g * 2);
    expectChannelSlice(dw, convBackwardFilter(xs, dys, ws.shape, stride, pad), g * 3);
  }
}

TEST(Reference, BatchNormBothForms) {
  Tensor x = tensorOf({1, 1, 1, 2, 1}, {1, 3});
  Tensor y = batchNormForward(x, tensorOf({1}, {2}), tensorOf({1}, {1}), tensorOf({1}, {2}), tensorOf({1}, {1}), 0.0f);
  EXPECT_EQ(y.data, (std::vector<float>{-1, 3}));
  Tensor z = tensorOf({2, 1, 1, 2, 1}, {1, 2, 3, 4});
  BatchNormTrainResult r = batchNormTrainForward(z, tensorOf({1}, {1}), tensorOf({1}, {0}), 0.0f);
  EXPECT_FLOAT_EQ(r.mean.data[0], 2.5f);
  EXPECT_FLOAT_EQ(r.var.data[0], 1.25f);  // biased: divided by 4, not 3
  EXPECT_FLOAT_EQ(r.y.data[0], static_cast<float>(-1.5 / std::sqrt(1.25)));
}

TEST(Reference, PoolFoldDenseReluAdd) {
  Tensor x = tensorOf({1, 2, 1, 1, 2}, {1, 10, 3, 30});
  EXPECT_EQ(globalAvgPoolForward(x).data, (std::vector<float>{2, 20}));
  // Frame-major channels: (d0c0, d0c1, d1c0, d1c1).
  Tensor folded = foldTimeForward(x);
  EXPECT_EQ(folded.shape, (std::vector<int64_t>{1, 1, 1, 1, 4}));
  EXPECT_EQ(folded.data, (std::vector<float>{1, 10, 3, 30}));
  Tensor y = denseForward(tensorOf({1, 2}, {1, 2}), tensorOf({2, 2}, {1, 2, 3, 4}), tensorOf({2}, {0.5f, -0.5f}));
  EXPECT_EQ(y.data, (std::vector<float>{7.5f, 9.5f}));
  EXPECT_EQ(reluForward(tensorOf({3}, {-1, 0, 2})).data, (std::vector<float>{0, 0, 2}));
  EXPECT_EQ(addForward(tensorOf({2}, {1, 2}), tensorOf({2}, {3, 4})).data, (std::vector<float>{4, 6}));
}

TEST(Reference, CrossEntropyIsStable) {
  EXPECT_NEAR(softmaxCrossEntropyForward(Tensor({2, 4}), {0, 3}), std::log(4.0), 1e-6);
  Tensor big = tensorOf({2, 2}, {1000, 0, 1000, 0});
  EXPECT_NEAR(softmaxCrossEntropyForward(big, {0, 1}), (0.0 + 1000.0) / 2, 1e-3);
}

} // namespace
