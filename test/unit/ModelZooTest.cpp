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
