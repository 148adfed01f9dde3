// The paper's Table 2 and torchvision's exact counts, from the spec files in models/.
#include "compiler/Frontend.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace vidnet;

namespace {

ModelGraph load(const std::string &relative, std::optional<Shape> input = std::nullopt) {
  ElaborateOptions options;
  options.input = input;
  FrontendResult r = runFrontend(std::string(VIDNET_SOURCE_DIR) + "/models/" + relative, options);
  std::ostringstream diagnostics;
  r.diags->render(diagnostics);
  EXPECT_TRUE(r.graph) << diagnostics.str();
  return r.graph ? *r.graph : ModelGraph{};
}

struct PaperRow {
  const char *spec;
  double millions;  // Table 2, "# params"
};

void PrintTo(const PaperRow &row, std::ostream *os) { *os << row.spec; }

class Table2 : public testing::TestWithParam<PaperRow> {};

TEST_P(Table2, ParamsWithinPointOneMillionOfThePaper) {
  ModelGraph g = load(GetParam().spec);
  double got = static_cast<double>(g.params) / 1e6;
  std::printf("%-18s %10.3fM  paper %.1fM  diff %+.3fM\n", GetParam().spec, got,
              GetParam().millions, got - GetParam().millions);
  EXPECT_LE(std::fabs(got - GetParam().millions), 0.1);
  EXPECT_EQ(g.classes, 400);
}

INSTANTIATE_TEST_SUITE_P(
    Paper, Table2,
    testing::Values(PaperRow{"r2d_18.vnet", 11.4}, PaperRow{"fr2d_18.vnet", 11.4},
                    PaperRow{"r3d_18.vnet", 33.4}, PaperRow{"mc2_18.vnet", 11.4},
                    PaperRow{"mc3_18.vnet", 11.7}, PaperRow{"mc4_18.vnet", 12.7},
                    PaperRow{"mc5_18.vnet", 16.9}, PaperRow{"rmc2_18.vnet", 33.3},
                    PaperRow{"rmc3_18.vnet", 33.0}, PaperRow{"rmc4_18.vnet", 32.0},
                    PaperRow{"rmc5_18.vnet", 27.9}, PaperRow{"r2plus1d_18.vnet", 33.3}),
    [](const testing::TestParamInfo<PaperRow> &row) {
      std::string name = row.param.spec;
      return name.substr(0, name.find('.'));
    });

TEST(Torchvision, ExactParameterCounts) {
  EXPECT_EQ(load("r3d_18.vnet").params, 33371472);
  EXPECT_EQ(load("mc3_18.vnet").params, 11695440);
  EXPECT_EQ(load("torchvision/r2plus1d_18.vnet").params, 31505325);
}

TEST(Torchvision, MacsAt16x112x112) {
  Shape clip{3, 16, 112, 112};
  auto gmacs = [&](const char *spec) { return static_cast<double>(load(spec, clip).macs) / 1e9; };
  EXPECT_NEAR(gmacs("r3d_18.vnet"), 40.70, 0.005);
  EXPECT_NEAR(gmacs("mc3_18.vnet"), 43.34, 0.005);
  EXPECT_NEAR(gmacs("torchvision/r2plus1d_18.vnet"), 40.52, 0.005);
}

TEST(Torchvision, R2plus1dMidsAreComputedPerBlock) {
  ModelGraph g = load("torchvision/r2plus1d_18.vnet");
  std::vector<int64_t> mids;
  for (const Layer &l : g.layers)
    if (l.kind == LayerKind::Conv2Plus1d)
      mids.push_back(l.mid);
  // torchvision: midplanes = (in * out * 27) // (in * 9 + 3 * out), shared by both convs.
  EXPECT_EQ(mids, (std::vector<int64_t>{45, 144, 144, 144, 144, 230, 230, 288, 288, 460, 460,
                                        576, 576, 921, 921, 1152, 1152}));
}

TEST(Paper, DeeperModelsElaborate) {
  EXPECT_EQ(load("r3d_34.vnet").params, 63681104);
  EXPECT_EQ(load("r2plus1d_34.vnet").params, 63710133);
}

} // namespace

// Trainable parameters without batch norm's scale and shift: how VMZ's model zoo counts.
static double millionsWithoutBatchNorm(const ModelGraph &g) {
  int64_t n = 0;
  for (const Layer &l : g.layers)
    if (l.kind != LayerKind::BatchNorm && l.kind != LayerKind::Conv2Plus1d)
      n += l.params;
  return static_cast<double>(n) / 1e6;
}

TEST(Csn, ParamsAsTheAuthorsPublishThem) {
  // VMZ's model zoo: ir-CSN-152 29.6M, ip-CSN-152 32.8M, BN not counted.
  EXPECT_NEAR(millionsWithoutBatchNorm(load("csn/ir_csn_152.vnet")), 29.6, 0.05);
  EXPECT_NEAR(millionsWithoutBatchNorm(load("csn/ip_csn_152.vnet")), 32.8, 0.05);
}

TEST(Csn, FlopsAsTheAuthorsPublishThem) {
  // The CSN paper's GFLOPs per clip (multiply-adds): Sports1M at 32x224x224 (ip-CSN-101 63.6,
  // ip-CSN-152 83.3), Kinetics at 32x256x256 (ir-CSN-152 96.7, ip-CSN-152 108.8).
  auto gmacs = [&](const char *spec, Shape clip) { return static_cast<double>(load(spec, clip).macs) / 1e9; };
  EXPECT_NEAR(gmacs("csn/ip_csn_101.vnet", {3, 32, 224, 224}), 63.6, 0.05);
  EXPECT_NEAR(gmacs("csn/ip_csn_152.vnet", {3, 32, 224, 224}), 83.3, 0.05);
  EXPECT_NEAR(gmacs("csn/ir_csn_152.vnet", {3, 32, 256, 256}), 96.7, 0.05);
  EXPECT_NEAR(gmacs("csn/ip_csn_152.vnet", {3, 32, 256, 256}), 108.8, 0.05);
}

TEST(Csn, MiddleConvsAreDepthwiseWithTheStride) {
  ModelGraph g = load("csn/ir_csn_50.vnet");
  EXPECT_FLOAT_EQ(g.bnEpsilon, 1e-3f);
  int depthwise = 0;
  for (const Layer &l : g.layers) {
    if (l.kind != LayerKind::Conv || l.groups == 1)
      continue;
    ++depthwise;
    EXPECT_EQ(l.groups, l.inChannels) << l.name;
    EXPECT_EQ(l.groups, l.outChannels) << l.name;
    EXPECT_EQ(l.tensor(TensorRole::ConvWeight).shape, (std::vector<int64_t>{l.outChannels, 1, 3, 3, 3})) << l.name;
    bool firstOfStridedStage = l.name == "layer2.0.conv2.0" || l.name == "layer3.0.conv2.0" || l.name == "layer4.0.conv2.0";
    EXPECT_EQ(l.stride, firstOfStridedStage ? (Dims3{2, 2, 2}) : (Dims3{1, 1, 1})) << l.name;
  }
  EXPECT_EQ(depthwise, 3 + 4 + 6 + 3);
  EXPECT_EQ(g.layers.back().inChannels, 2048);
}

TEST(Csn, IpMiddleIsPointwiseBatchNormDepthwise) {
  ModelGraph g = load("csn/ip_csn_50.vnet");
  std::vector<std::string> names;
  for (const Layer &l : g.layers)
    if (l.name.rfind("layer2.0.conv2.", 0) == 0)
      names.push_back(l.name + ":" + std::string(layerKindName(l.kind)));
  EXPECT_EQ(names, (std::vector<std::string>{"layer2.0.conv2.0.0:conv", "layer2.0.conv2.0.1:batch_norm",
                                             "layer2.0.conv2.0.2:conv", "layer2.0.conv2.1:batch_norm",
                                             "layer2.0.conv2.2:relu"}));
}

TEST(Bottleneck, StemPoolAndStageShapes) {
  ModelGraph g = load("r3d_50.vnet");
  auto shapeOf = [&](const std::string &name) {
    for (const Layer &l : g.layers)
      if (l.name == name)
        return l.output;
    ADD_FAILURE() << "no layer " << name;
    return Shape{};
  };
  EXPECT_EQ(shapeOf("maxpool"), (Shape{64, 8, 56, 56}));
  EXPECT_EQ(shapeOf("layer1.2.relu"), (Shape{256, 8, 56, 56}));
  EXPECT_EQ(shapeOf("layer2.0.conv1.0"), (Shape{128, 8, 56, 56}));  // the stride is on conv2
  EXPECT_EQ(shapeOf("layer2.0.downsample.0"), (Shape{512, 4, 28, 28}));
  EXPECT_EQ(shapeOf("layer4.2.relu"), (Shape{2048, 1, 7, 7}));
  EXPECT_FLOAT_EQ(g.bnEpsilon, 1e-5f);
}
