// Elaboration tests: PyTorch's convolution arithmetic, M_i, strides by conv kind, R2D's fold,
// shortcuts, torchvision tensor names, overrides, and semantic errors.
#include "compiler/GraphReport.h"
#include "TestHelpers.h"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace vidnet;
using vidnet::test::frontend;
using vidnet::test::rendered;
using vidnet::test::specWithStage;

namespace {

const Layer &layer(const ModelGraph &g, const std::string &name) {
  for (const Layer &l : g.layers)
    if (l.name == name)
      return l;
  ADD_FAILURE() << "no layer " << name;
  static Layer none;
  return none;
}

bool hasLayer(const ModelGraph &g, const std::string &name) {
  for (const Layer &l : g.layers)
    if (l.name == name)
      return true;
  return false;
}

TEST(Elaborate, PaperMidFormula) {
  // floor(t d^2 N_{i-1} N_i / (d^2 N_{i-1} + t N_i)), worked by hand.
  EXPECT_EQ(paperMid(3, 3, 64, 64), 144);    // 110592 / 768
  EXPECT_EQ(paperMid(3, 3, 64, 128), 230);   // 221184 / 960 = 230.4
  EXPECT_EQ(paperMid(3, 7, 3, 64), 83);      // 28224 / 339 = 83.3
  EXPECT_EQ(paperMid(3, 3, 256, 512), 921);  // 3538944 / 3840 = 921.6
}

TEST(Elaborate, SignatureStageShapesAndMid) {
  auto r = frontend(specWithStage("stage conv(2+1)d t=3 d=3 ch=128 x4 stride=2"));
  ASSERT_TRUE(r.graph) << rendered(r);
  const ModelGraph &g = *r.graph;
  // stem: 16x112x112 -> 1x2x2 stride, pad 1x3x3 -> 16x56x56; stage stride 2x2x2 -> 8x28x28.
  EXPECT_EQ(layer(g, "stem.0").output, (Shape{64, 16, 56, 56}));
  const Layer &first = layer(g, "layer1.0.conv1.0");
  EXPECT_EQ(first.kind, LayerKind::Conv2Plus1d);
  EXPECT_EQ(first.stride, (Dims3{2, 2, 2}));
  EXPECT_EQ(first.output, (Shape{128, 8, 28, 28}));
  EXPECT_EQ(first.mid, 230);                                 // 64 -> 128
  EXPECT_EQ(layer(g, "layer1.0.conv2.0").mid, 288);          // 128 -> 128, per conv
  EXPECT_EQ(layer(g, "layer1.3.conv2.0").stride, (Dims3{1, 1, 1}));
  EXPECT_TRUE(hasLayer(g, "layer1.0.downsample.0"));
  EXPECT_FALSE(hasLayer(g, "layer1.1.downsample.0"));
  EXPECT_EQ(layer(g, "layer1.0.downsample.0").stride, (Dims3{2, 2, 2}));
  // params of a (2+1)D conv: spatial + inner BN gamma/beta + temporal.
  EXPECT_EQ(first.params, 230 * 64 * 9 + 2 * 230 + 128 * 230 * 3);
  // MACs: spatial at 16x28x28 (time not yet strided), temporal at 8x28x28.
  EXPECT_EQ(first.macs, int64_t{230} * 16 * 28 * 28 * 64 * 9 + int64_t{128} * 8 * 28 * 28 * 230 * 3);
}

TEST(Elaborate, StrideTwoIsSpatialOnlyFor2d) {
  auto r = frontend(specWithStage("stage conv2d d=3 ch=128 x1 stride=2"));
  ASSERT_TRUE(r.graph) << rendered(r);
  EXPECT_EQ(layer(*r.graph, "layer1.0.conv1.0").stride, (Dims3{1, 2, 2}));
  EXPECT_EQ(layer(*r.graph, "layer1.0.conv1.0").kernel, (Dims3{1, 3, 3}));
  EXPECT_EQ(layer(*r.graph, "layer1.0.conv1.0").output, (Shape{128, 16, 28, 28}));
  EXPECT_EQ(layer(*r.graph, "layer1.0.downsample.0").stride, (Dims3{1, 2, 2}));
}

TEST(Elaborate, FullStrideAndExplicitPadding) {
  auto r = frontend("input clip c=3 l=16 h=112 w=112\n"
                    "stem conv3d t=3 d=3 ch=64 stride=2x1x1 pad=0\nhead classes=10\n");
  ASSERT_TRUE(r.graph) << rendered(r);
  // (16 + 0 - 3) / 2 + 1 = 7 frames; (112 - 3) / 1 + 1 = 110.
  EXPECT_EQ(layer(*r.graph, "stem.0").output, (Shape{64, 7, 110, 110}));
}

TEST(Elaborate, ResidualShapesMustAgree) {
  // Without padding the branch shrinks while the identity shortcut does not.
  auto r = frontend(specWithStage("stage conv3d t=3 d=3 ch=64 x1 pad=0"));
  EXPECT_FALSE(r.graph);
  EXPECT_NE(rendered(r).find("ends in 64x12x52x52 but its shortcut is 64x16x56x56"),
            std::string::npos)
      << rendered(r);
}

TEST(Elaborate, R2dFoldsFramesIntoChannels) {
  auto r = frontend(specWithStage("stage conv2d d=3 ch=64 x1 stride=2",
                                  "stem conv2d d=7 ch=64 stride=2 fold=time"));
  ASSERT_TRUE(r.graph) << rendered(r);
  const ModelGraph &g = *r.graph;
  EXPECT_EQ(g.layers[0].kind, LayerKind::FoldTime);
  EXPECT_EQ(g.layers[0].output, (Shape{48, 1, 112, 112}));
  EXPECT_EQ(layer(g, "stem.0").tensor(TensorRole::ConvWeight).shape, (std::vector<int64_t>{64, 48, 1, 7, 7}));
  EXPECT_EQ(layer(g, "layer1.0.conv1.0").output, (Shape{64, 1, 28, 28}));
}

TEST(Elaborate, TorchvisionTensorNamesAndLayouts) {
  auto r = frontend(specWithStage("stage conv(2+1)d t=3 d=3 ch=128 x1 stride=2 mid=230",
                                  "stem conv(2+1)d t=3 d=7 ch=64 mid=45 stride=1x2x2"));
  ASSERT_TRUE(r.graph) << rendered(r);
  std::vector<std::string> names;
  for (const Layer &l : r.graph->layers)
    for (const TensorInfo &t : l.tensors)
      names.push_back(t.name);
  for (const char *expected :
       {"stem.0.weight", "stem.1.weight", "stem.1.running_var", "stem.3.weight", "stem.4.bias",
        "layer1.0.conv1.0.0.weight", "layer1.0.conv1.0.1.num_batches_tracked",
        "layer1.0.conv1.0.3.weight", "layer1.0.conv1.1.weight", "layer1.0.conv2.1.bias",
        "layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_mean", "fc.weight",
        "fc.bias"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  const Layer &stem = layer(*r.graph, "stem.0");
  EXPECT_EQ(stem.tensor(TensorRole::SpatialWeight).shape, (std::vector<int64_t>{45, 3, 1, 7, 7}));
  EXPECT_EQ(stem.tensor(TensorRole::TemporalWeight).shape, (std::vector<int64_t>{64, 45, 3, 1, 1}));
  EXPECT_EQ(stem.tensorName(TensorRole::BnRunningVar), "stem.1.running_var");
  EXPECT_FALSE(stem.tensor(TensorRole::BnRunningVar).trainable);
  EXPECT_TRUE(stem.tensor(TensorRole::BnNumBatchesTracked).isInteger);
  EXPECT_THROW(stem.tensor(TensorRole::ConvWeight), std::logic_error);
  EXPECT_EQ(layer(*r.graph, "fc").tensor(TensorRole::LinearWeight).shape, (std::vector<int64_t>{10, 128}));
}

TEST(Elaborate, OverridesReplaceInputAndClasses) {
  ElaborateOptions options;
  options.input = Shape{2, 8, 64, 64};
  options.classes = 5;
  auto r = frontend(specWithStage("stage conv3d t=3 d=3 ch=64 x1"), options);
  ASSERT_TRUE(r.graph) << rendered(r);
  EXPECT_EQ(r.graph->input, (Shape{2, 8, 64, 64}));
  EXPECT_EQ(layer(*r.graph, "stem.0").tensor(TensorRole::ConvWeight).shape, (std::vector<int64_t>{64, 2, 3, 7, 7}));
  EXPECT_EQ(layer(*r.graph, "fc").output.c, 5);
  auto json = graphToJson(*r.graph);
  EXPECT_EQ(json["input"], nlohmann::json({2, 8, 64, 64}));
  EXPECT_EQ(json["params"].get<int64_t>(), r.graph->params);
}

TEST(Elaborate, ShapeTooSmallNamesLayerAndShape) {
  ElaborateOptions options;
  options.input = Shape{3, 2, 8, 8};
  auto r = frontend(specWithStage("stage conv3d t=3 d=7 ch=64 x1 stride=2 pad=0"), options);
  EXPECT_FALSE(r.graph);
  std::string out = rendered(r);
  EXPECT_NE(out.find("layer `layer1.0.conv1.0`"), std::string::npos) << out;
  EXPECT_NE(out.find("gets input 64x2x4x4"), std::string::npos) << out;
  EXPECT_NE(out.find("[ShapeTooSmall]"), std::string::npos) << out;
}

TEST(Elaborate, TemporalStrideAfterFoldIsAnError) {
  auto r = frontend(specWithStage("stage conv2d d=3 ch=64 x1 stride=2x2x2",
                                  "stem conv2d d=7 ch=64 stride=2 fold=time"));
  EXPECT_FALSE(r.graph);
  EXPECT_NE(rendered(r).find("[TemporalAfterFold]"), std::string::npos) << rendered(r);
}

TEST(Elaborate, ReportsAllStatementErrorsAtOnce) {
  auto r = frontend("model m\ninput clip c=3 l=0 h=112 w=112\n"
                    "stem conv3d t=3 d=7 ch=64 mid=4\n"
                    "stage conv2d t=3 d=3 ch=64 x2\n");
  std::string out = rendered(r);
  EXPECT_FALSE(r.graph);
  for (const char *kind : {"[NonPositiveSize]", "[MidNotTwoPlusOne]", "[InapplicableOption]",
                           "[MissingStatement]"})
    EXPECT_NE(out.find(kind), std::string::npos) << kind << "\n" << out;
}

TEST(Elaborate, OverflowIsReportedNotWrapped) {
  auto r = frontend("input clip c=3 l=2147483647 h=2147483647 w=2147483647\n"
                    "stem conv3d t=1 d=1 ch=2147483647\nhead classes=1\n");
  EXPECT_FALSE(r.graph);
  EXPECT_NE(rendered(r).find("[TooLarge]"), std::string::npos) << rendered(r);
}

} // namespace
