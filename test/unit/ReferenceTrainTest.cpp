// referenceTrainStep on tiny R(2+1)D, R3D, bottleneck, CSN and P3D graphs: every trainable tensor gets a gradient,
// and sampled gradients match central finite differences of an independently written
// training-mode loss (batch-statistics BN, mean softmax cross-entropy).
#include "TestHelpers.h"
#include "test/support/ReferenceModel.h"
#include "runtime/reference/Pooling.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <optional>
#include <random>
#include <set>

using namespace vidnet;

namespace {

// Parameters and statistics by name; float for the step, double for finite differences.
template <typename T>
using TensorMap = std::map<std::string, ref::BasicTensor<T>>;

constexpr int64_t kClips = 2;
const std::vector<int64_t> kLabels = {0, 2};

// The (2+1)D stem and stages as in models/r2plus1d_18.vnet, with 4 and 8 channels: stage 1
// has an identity shortcut, stage 2 a strided projection, and the inner BN of every (2+1)D
// conv is in the path.
const char *kR2plus1d = "model tiny_r2plus1d\n"
                        "input clip c=3 l=16 h=112 w=112\n"
                        "stem  conv(2+1)d t=3 d=7 ch=4 stride=1x2x2\n"
                        "stage conv(2+1)d t=3 d=3 ch=4 x1\n"
                        "stage conv(2+1)d t=3 d=3 ch=8 x1 stride=2\n"
                        "head  classes=3\n";
const char *kR3d = "model tiny_r3d\n"
                   "input clip c=3 l=16 h=112 w=112\n"
                   "stem  conv3d t=3 d=7 ch=4 stride=1x2x2\n"
                   "stage conv3d t=3 d=3 ch=4 x1\n"
                   "stage conv3d t=3 d=3 ch=8 x1 stride=2\n"
                   "head  classes=3\n";

// Bottleneck blocks after a max-pooled stem (4x8x8 -> 4x4x4): stage 1 projects 4 -> 16
// channels, stage 2 strides its middle conv and shortcut. The CSN variants make the middle conv
// depthwise (ip: after a 1x1x1 conv and BN) and set BN's epsilon as CSN does.
std::string bottleneckSpec(const char *name, const char *block, const char *modelOptions = "") {
  return std::string("model ") + name + modelOptions + "\n"
         "input clip c=3 l=16 h=112 w=112\n"
         "stem  conv3d t=3 d=7 ch=4 stride=1x2x2\n"
         "pool  max k=1x3x3 stride=1x2x2 pad=0x1x1\n"
         "stage conv3d t=3 d=3 ch=4 x1 block=" + block + "\n"
         "stage conv3d t=3 d=3 ch=8 x1 stride=2 block=" + block + "\n"
         "head  classes=3\n";
}
const std::string kBottleneck = bottleneckSpec("tiny_r3d_50", "bottleneck");
const std::string kIrCsn = bottleneckSpec("tiny_ir_csn", "ir-csn", " bn_eps=1e-3");
const std::string kIpCsn = bottleneckSpec("tiny_ip_csn", "ip-csn", " bn_eps=1e-3");
// P3D-A, -B and -C in turn (block=p3d cycles them over the network), a temporal pool between
// the stages and the stride on the first 1x1x1 conv of stage 2.
const char *kP3d = "model tiny_p3d\n"
                   "input clip c=3 l=16 h=112 w=112\n"
                   "stem  conv3d t=1 d=7 ch=4 stride=1x2x2\n"
                   "stage conv3d t=3 d=3 ch=4 x3 block=p3d\n"
                   "pool  max k=2x1x1 stride=2x1x1\n"
                   "stage conv3d t=3 d=3 ch=4 x1 block=p3d stride=1x2x2\n"
                   "head  classes=3\n";

// As vidc --input 3x4x16x16: 8x8 after the stem, 2x4x4 in stage 2, so every BN still sees at
// least 64 values per channel.
ModelGraph elaborateTiny(const std::string &spec) {
  ElaborateOptions options;
  options.input = Shape{3, 4, 16, 16};
  FrontendResult r = test::frontend(spec, options);
  EXPECT_TRUE(r.graph) << test::rendered(r);
  return r.graph ? *r.graph : ModelGraph{};
}

// PyTorch's layout to the compiled one: conv O x I x T x H x W -> T x H x W x I x O, fc O x I
// -> I x O.
std::vector<int64_t> compiledShape(const std::vector<int64_t> &s) {
  if (s.size() == 5)
    return {s[2], s[3], s[4], s[1], s[0]};
  if (s.size() == 2)
    return {s[1], s[0]};
  return s;
}

// Random parameters: convs as kaiming_normal_(fan_out), but BN gamma and beta and the fc
// weight spread out rather than torchvision's 1, 0 and N(0, 0.01), so that no gradient is
// trivially zero or tiny. Running statistics are unused in training mode.
TensorMap<float> randomParameters(const ModelGraph &g, std::mt19937 &rng) {
  TensorMap<float> p;
  std::uniform_real_distribution<float> u(-1, 1);
  for (const Layer &l : g.layers)
    for (const TensorInfo &t : l.tensors) {
      ref::Tensor v(compiledShape(t.shape));
      if (t.shape.size() == 5) {
        const float fanOut = float(t.shape[0] * t.shape[2] * t.shape[3] * t.shape[4]);
        std::normal_distribution<float> kaiming(0, std::sqrt(2.0f / fanOut));
        for (float &x : v.data)
          x = kaiming(rng);
      } else if (t.name.ends_with(".weight")) {  // BN gamma and the fc weight
        for (float &x : v.data)
          x = t.shape.size() == 2 ? u(rng) : 1.0f + 0.5f * u(rng);
      } else if (t.name.ends_with(".bias")) {
        for (float &x : v.data)
          x = 0.5f * u(rng);
      }
      p[t.name] = std::move(v);
    }
  return p;
}

ref::Tensor randomClips(const ModelGraph &g, std::mt19937 &rng) {
  ref::Tensor x({kClips, g.input.l, g.input.h, g.input.w, g.input.c});
  std::normal_distribution<float> normal;
  for (float &v : x.data)
    v = normal(rng);
  return x;
}

ref::TensorD toDouble(const ref::Tensor &t) {
  ref::TensorD d(t.shape);
  std::copy(t.data.begin(), t.data.end(), d.data.begin());
  return d;
}

TensorMap<double> toDouble(const TensorMap<float> &p) {
  TensorMap<double> d;
  for (const auto &[name, t] : p)
    d[name] = toDouble(t);
  return d;
}

// The training-mode loss and which ReLU inputs were positive: the loss is smooth only while
// that pattern holds, so central differences are trusted only between two points that share it.
template <typename T>
struct TrainingLoss {
  T loss;
  std::vector<bool> active;
};

// Written apart from referenceTrainStep so that the two check each other: referenceForward's
// interpretation with batch statistics in every BN. In float it is the step's own forward; in
// double it is smooth enough for finite differences with a tiny step.
template <typename T>
TrainingLoss<T> trainingLoss(const ModelGraph &g, const ref::BasicTensor<T> &clips, const TensorMap<T> &p) {
  std::vector<ref::BasicTensor<T>> values;
  std::vector<bool> active;
  auto in = [&](const Layer &l, size_t i = 0) -> const ref::BasicTensor<T> & {
    return l.inputs[i] < 0 ? clips : values[static_cast<size_t>(l.inputs[i])];
  };
  auto param = [&](const Layer &l, TensorRole role) -> const ref::BasicTensor<T> & {
    return p.at(l.tensorName(role));
  };
  auto bn = [&](const ref::BasicTensor<T> &x, const Layer &l) {
    return ref::batchNormTrainForward(x, param(l, TensorRole::BnGamma), param(l, TensorRole::BnBeta), g.bnEpsilon).y;
  };
  // A max pool is smooth while every window keeps its first maximum where it was.
  auto maxPool = [&](const ref::BasicTensor<T> &x, const Layer &l) {
    ref::BasicTensor<T> y = ref::maxPoolForward(x, {l.kernel.t, l.kernel.h, l.kernel.w},
                                                {l.stride.t, l.stride.h, l.stride.w}, {l.pad.t, l.pad.h, l.pad.w});
    const int64_t C = x.shape[4];
    for (int64_t n = 0; n < y.shape[0]; ++n)
      for (int64_t d = 0; d < y.shape[1]; ++d)
        for (int64_t h = 0; h < y.shape[2]; ++h)
          for (int64_t w = 0; w < y.shape[3]; ++w)
            for (int64_t c = 0; c < C; ++c)
              for (int64_t kd = 0; kd < l.kernel.t; ++kd)
                for (int64_t kh = 0; kh < l.kernel.h; ++kh)
                  for (int64_t kw = 0; kw < l.kernel.w; ++kw) {
                    int64_t i = d * l.stride.t + kd - l.pad.t, j = h * l.stride.h + kh - l.pad.h,
                            k = w * l.stride.w + kw - l.pad.w;
                    bool inside = i >= 0 && i < x.shape[1] && j >= 0 && j < x.shape[2] && k >= 0 && k < x.shape[3];
                    active.push_back(inside && x.at({n, i, j, k, c}) == y.at({n, d, h, w, c}));
                  }
    return y;
  };
  auto relu = [&](const ref::BasicTensor<T> &x) {
    for (T v : x.data)
      active.push_back(v > 0);
    return ref::reluForward(x);
  };
  for (const Layer &l : g.layers) {
    switch (l.kind) {
    case LayerKind::FoldTime:
      values.push_back(ref::foldTimeForward(in(l)));
      break;
    case LayerKind::Conv:
      values.push_back(ref::convForward(in(l), param(l, TensorRole::ConvWeight), {l.stride.t, l.stride.h, l.stride.w},
                                        {l.pad.t, l.pad.h, l.pad.w}, l.groups));
      break;
    case LayerKind::MaxPool:
      values.push_back(maxPool(in(l), l));
      break;
    case LayerKind::Conv2Plus1d: {
      ref::BasicTensor<T> spatial = ref::convForward(in(l), param(l, TensorRole::SpatialWeight),
                                                     {1, l.stride.h, l.stride.w}, {0, l.pad.h, l.pad.w});
      values.push_back(ref::convForward(relu(bn(spatial, l)), param(l, TensorRole::TemporalWeight),
                                        {l.stride.t, 1, 1}, {l.pad.t, 0, 0}));
      break;
    }
    case LayerKind::BatchNorm:
      values.push_back(bn(in(l), l));
      break;
    case LayerKind::ReLU:
      values.push_back(relu(in(l)));
      break;
    case LayerKind::Add:
      values.push_back(ref::addForward(in(l, 0), in(l, 1)));
      break;
    case LayerKind::GlobalAvgPool:
      values.push_back(ref::globalAvgPoolForward(in(l)));
      break;
    case LayerKind::Linear:
      values.push_back(ref::denseForward(in(l), param(l, TensorRole::LinearWeight), param(l, TensorRole::LinearBias)));
      break;
    }
  }
  return {ref::softmaxCrossEntropyForward(values.back(), kLabels), std::move(active)};
}

// Central differences of the double-precision training loss in one element of one tensor.
//
// Why double: in float the loss carries ~1e-7 of rounding, so a step small enough to cross no
// ReLU kink among thousands of units (~1e-4) would leave ~1e-3 of noise in the quotient. In
// double that noise is ~1e-11 at step 1e-5, BN's curvature adds ~e^2 = 1e-10, and a kink within
// the step is rare; a step whose two ends differ in the ReLU pattern is retried smaller, and
// nullopt means every step straddled one.
constexpr double kSteps[] = {1e-5, 1e-7};

std::optional<double> centralDifference(const ModelGraph &g, const ref::TensorD &clips, TensorMap<double> &p,
                                        const std::string &name, int64_t i) {
  double &w = p.at(name).data[static_cast<size_t>(i)];
  const double saved = w;
  std::optional<double> result;
  for (double step : kSteps) {
    w = saved + step;
    TrainingLoss<double> up = trainingLoss(g, clips, p);
    w = saved - step;
    TrainingLoss<double> down = trainingLoss(g, clips, p);
    if (up.active == down.active) {
      result = (up.loss - down.loss) / (2 * step);
      break;
    }
  }
  w = saved;
  return result;
}

struct TrainCase {
  const char *name;
  const char *spec;
  std::vector<std::string> checked;  // tensors whose gradients are compared with finite differences
};

void PrintTo(const TrainCase &c, std::ostream *os) { *os << c.name; }

class ReferenceTrain : public testing::TestWithParam<TrainCase> {
protected:
  void SetUp() override {
    graph = elaborateTiny(GetParam().spec);
    std::mt19937 rng(2018);
    params = randomParameters(graph, rng);
    clips = randomClips(graph, rng);
    result = test::referenceTrainStep(graph, clips, kLabels, [&](const std::string &name) { return params.at(name); });
  }

  ModelGraph graph;
  TensorMap<float> params;
  ref::Tensor clips;
  test::ReferenceTrainResult result;
};

TEST_P(ReferenceTrain, EveryTrainableTensorHasAGradientAndEveryBatchNormItsStatistics) {
  ASSERT_FALSE(graph.layers.empty());
  std::set<std::string> trainable, means, vars;
  for (const Layer &l : graph.layers)
    for (const TensorInfo &t : l.tensors) {
      if (t.trainable) {
        trainable.insert(t.name);
        ASSERT_TRUE(result.grads.count(t.name)) << t.name;
        EXPECT_EQ(result.grads.at(t.name).shape, compiledShape(t.shape)) << t.name;
      } else if (t.name.ends_with(".running_mean")) {
        means.insert(t.name);
        ASSERT_TRUE(result.batchMean.count(t.name)) << t.name;
        EXPECT_EQ(result.batchMean.at(t.name).shape, t.shape) << t.name;
      } else if (t.name.ends_with(".running_var")) {
        vars.insert(t.name);
        ASSERT_TRUE(result.batchVar.count(t.name)) << t.name;
        EXPECT_EQ(result.batchVar.at(t.name).shape, t.shape) << t.name;
      }
    }
  EXPECT_EQ(result.grads.size(), trainable.size());
  EXPECT_EQ(result.batchMean.size(), means.size());
  EXPECT_EQ(result.batchVar.size(), vars.size());
  EXPECT_EQ(result.logits.shape, (std::vector<int64_t>{kClips, graph.classes}));
  EXPECT_EQ(result.loss, trainingLoss(graph, clips, params).loss);  // the same float ops
}

TEST_P(ReferenceTrain, BatchStatisticsAreThoseOfTheBatch) {
  // stem.1 is the BN after the stem's first conv in both models: R3D's stem BN, and the inner
  // BN after the spatial conv of R(2+1)D's.
  const Layer &stem = graph.layers.at(0);
  const bool spatialOnly = stem.kind == LayerKind::Conv2Plus1d;
  ref::Tensor conv = ref::convForward(clips, params.at(stem.tensors.front().name),
                                      {spatialOnly ? 1 : stem.stride.t, stem.stride.h, stem.stride.w},
                                      {spatialOnly ? 0 : stem.pad.t, stem.pad.h, stem.pad.w});
  ref::BatchNormTrainResult stats =
      ref::batchNormTrainForward(conv, params.at("stem.1.weight"), params.at("stem.1.bias"));
  EXPECT_EQ(result.batchMean.at("stem.1.running_mean").data, stats.mean.data);
  EXPECT_EQ(result.batchVar.at("stem.1.running_var").data, stats.var.data);
}

// Tolerance, relative to the largest gradient of the tensor: the step's VJPs run in float
// (double sums, float storage and cotangent accumulation) on float activations, so they sit a
// few float ulps from the exact gradient, which the double central differences approximate to
// ~1e-9; the worst seen is 3e-7. 1e-5 leaves 30x of margin and still catches a dropped branch,
// a residual's second use or a BN term (even BN's eps, or 1/(M-1) for 1/M at M = 64..512).
constexpr double kRelativeTolerance = 1e-5;

TEST_P(ReferenceTrain, GradientsMatchFiniteDifferences) {
  const ref::TensorD clipsD = toDouble(clips);
  TensorMap<double> paramsD = toDouble(params);
  for (const std::string &name : GetParam().checked) {
    ASSERT_TRUE(result.grads.count(name)) << name;
    const ref::Tensor &analytic = result.grads.at(name);
    const auto largest = std::max_element(analytic.data.begin(), analytic.data.end(),
                                          [](float a, float b) { return std::abs(a) < std::abs(b); });
    const double scale = std::abs(*largest);
    ASSERT_GT(scale, 1e-4) << name << " has no gradient to speak of";
    int checked = 0;
    for (int64_t i : {int64_t{0}, int64_t(largest - analytic.data.begin()), analytic.elements() / 2,
                      analytic.elements() - 1}) {
      std::optional<double> numerical = centralDifference(graph, clipsD, paramsD, name, i);
      if (!numerical)
        continue;
      ++checked;
      EXPECT_NEAR(analytic.data[static_cast<size_t>(i)], *numerical, kRelativeTolerance * scale)
          << name << "[" << i << "]";
    }
    EXPECT_GE(checked, 3) << name << ": too many samples sit on a ReLU kink";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Tiny, ReferenceTrain,
    testing::Values(TrainCase{"r2plus1d", kR2plus1d,
                              {"stem.0.weight", "stem.3.weight", "layer1.0.conv1.0.0.weight",
                               "layer1.0.conv1.0.1.weight", "layer2.0.conv2.0.3.weight", "layer2.0.conv2.1.weight",
                               "layer2.0.downsample.0.weight", "fc.bias", "fc.weight"}},
                    TrainCase{"r3d", kR3d,
                              {"stem.0.weight", "stem.1.weight", "layer1.0.conv1.0.weight", "layer1.0.conv2.1.bias",
                               "layer2.0.conv2.0.weight", "layer2.0.downsample.1.weight", "fc.bias"}},
                    TrainCase{"bottleneck", kBottleneck.c_str(),
                              {"stem.0.weight", "layer1.0.conv1.0.weight", "layer1.0.conv2.0.weight",
                               "layer1.0.conv3.0.weight", "layer1.0.downsample.0.weight", "layer2.0.conv2.0.weight",
                               "layer2.0.conv3.1.bias", "fc.weight"}},
                    TrainCase{"ir_csn", kIrCsn.c_str(),
                              {"stem.0.weight", "stem.1.weight", "layer1.0.conv2.0.weight", "layer2.0.conv2.0.weight",
                               "layer2.0.conv2.1.weight", "layer2.0.downsample.0.weight", "fc.bias"}},
                    TrainCase{"ip_csn", kIpCsn.c_str(),
                              {"stem.0.weight", "layer1.0.conv2.0.0.weight", "layer1.0.conv2.0.1.weight",
                               "layer1.0.conv2.0.2.weight", "layer2.0.conv2.0.2.weight", "layer2.0.conv3.0.weight",
                               "fc.weight"}},
                    TrainCase{"p3d", kP3d,
                              {"stem.0.weight", "layer1.0.conv2.0.weight", "layer1.0.conv3.0.weight",
                               "layer1.1.conv2.0.weight", "layer1.1.conv3.0.weight", "layer1.2.conv3.0.weight",
                               "layer1.2.conv4.0.weight", "layer2.0.conv1.0.weight", "layer2.0.downsample.0.weight",
                               "fc.bias"}}),
    [](const testing::TestParamInfo<TrainCase> &row) { return std::string(row.param.name); });

} // namespace
