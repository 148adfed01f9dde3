// Tests for runtime/train/CurvePlot: SVG structure, one drawn point per finite value, escaping,
// degenerate inputs (none, one, NaN, huge steps, a million points) and the atomic write.
#include "runtime/train/CurvePlot.h"
#include "test/unit/ScratchDir.h"

#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <sstream>

using namespace vidnet::train;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The "x,y" pairs of the polyline of class `cssClass`; empty if there is none.
std::vector<std::pair<double, double>> polyline(const std::string &svg, const std::string &cssClass) {
  const size_t at = svg.find("<polyline class=\"" + cssClass + "\"");
  if (at == std::string::npos)
    return {};
  const size_t begin = svg.find("points=\"", at) + 8;
  std::istringstream in(svg.substr(begin, svg.find('"', begin) - begin));
  std::vector<std::pair<double, double>> points;
  std::string pair;
  while (in >> pair) {
    size_t comma = pair.find(',');
    EXPECT_NE(comma, std::string::npos) << pair;
    EXPECT_EQ(pair.find_first_not_of("0123456789.,-"), std::string::npos) << "not a plain coordinate: " << pair;
    points.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
  }
  return points;
}

void expectWellFormed(const std::string &svg) {
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << svg.substr(0, 80);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(svg.find("nan"), std::string::npos) << "a NaN coordinate or label leaked out";
  EXPECT_EQ(svg.find("inf"), std::string::npos) << "an infinite coordinate or label leaked out";
  size_t open = 0, close = 0;
  for (size_t at = 0; (at = svg.find("<text", at)) != std::string::npos; ++at)
    ++open;
  for (size_t at = 0; (at = svg.find("</text>", at)) != std::string::npos; ++at)
    ++close;
  EXPECT_EQ(open, close);
}

std::vector<CurvePoint> falling(int64_t n, int64_t stride = 1) {
  std::vector<CurvePoint> points;
  for (int64_t i = 0; i < n; ++i)
    points.push_back({i * stride, 6.0 / (1.0 + static_cast<double>(i) * 0.01), 0.5});
  return points;
}

TEST(CurvePlotTest, NoPointsSaysNoData) {
  const std::string svg = curvesSvg({}, "empty run");
  expectWellFormed(svg);
  EXPECT_CONTAINS(svg, ">no data</text>");
  EXPECT_CONTAINS(svg, ">empty run</text>");
  EXPECT_EQ(svg.find("<polyline"), std::string::npos);
}

TEST(CurvePlotTest, OnePolylinePointPerFiniteValue) {
  std::vector<CurvePoint> points;
  for (int64_t step = 0; step < 100; ++step) {
    double loss = 5.0 - static_cast<double>(step) * 0.03;
    if (step % 15 == 7)
      loss = step % 2 ? kNaN : kInf;  // 7 non-finite losses: 7, 22, 37, 52, 67, 82, 97
    points.push_back({step, loss, step % 10 == 0 ? static_cast<double>(step) / 100 : kNaN});
  }
  const std::string svg = curvesSvg(points, "r2plus1d_18");
  expectWellFormed(svg);
  EXPECT_EQ(polyline(svg, "loss").size(), 93u);
  EXPECT_EQ(polyline(svg, "loss-smoothed").size(), 93u);
  EXPECT_CONTAINS(svg, "moving average of 4 points");  // 5% of 93
  EXPECT_EQ(polyline(svg, "accuracy").size(), 10u);
  // Ten points are too few to average over 5% of them.
  EXPECT_EQ(svg.find("accuracy-smoothed"), std::string::npos);
}

TEST(CurvePlotTest, PointsAreInsideTheirPanelsAndInStepOrder) {
  const std::string svg = curvesSvg(falling(50), "t");
  const auto loss = polyline(svg, "loss");
  const auto accuracy = polyline(svg, "accuracy");
  ASSERT_EQ(loss.size(), 50u);
  ASSERT_EQ(accuracy.size(), 50u);
  for (size_t i = 0; i < loss.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(loss[i].first, loss[i - 1].first);
    }
    EXPECT_EQ(loss[i].first, accuracy[i].first) << "the panels share the step axis";
    EXPECT_LT(loss[i].second, accuracy[i].second) << "the loss panel is above the accuracy panel";
  }
  EXPECT_LT(loss.front().second, loss.back().second) << "a falling loss is drawn falling (SVG y grows downwards)";
}

TEST(CurvePlotTest, TheMovingAverageSmooths) {
  std::vector<CurvePoint> points;
  for (int64_t step = 0; step < 1000; ++step)
    points.push_back({step, step % 2 ? 1.0 : 3.0, kNaN});
  const std::string svg = curvesSvg(points, "zigzag");
  auto spread = [](const std::vector<std::pair<double, double>> &line) {
    double lo = line.at(0).second, hi = lo;
    for (const auto &p : line)
      lo = std::min(lo, p.second), hi = std::max(hi, p.second);
    return hi - lo;
  };
  const auto raw = polyline(svg, "loss"), smoothed = polyline(svg, "loss-smoothed");
  ASSERT_EQ(smoothed.size(), raw.size());
  EXPECT_GT(spread(raw), 100);
  EXPECT_LT(spread(smoothed), spread(raw) / 5);
}

TEST(CurvePlotTest, OnePointIsDrawnAsAMarker) {
  const std::string svg = curvesSvg({{0, 2.5, 0.25}}, "one step");
  expectWellFormed(svg);
  EXPECT_EQ(polyline(svg, "loss").size(), 1u);
  EXPECT_EQ(polyline(svg, "accuracy").size(), 1u);
  EXPECT_CONTAINS(svg, "<circle");
}

TEST(CurvePlotTest, NonFiniteValuesAreSkipped) {
  const std::string svg = curvesSvg({{0, kNaN, kNaN}, {1, kInf, kNaN}, {2, -kInf, kInf}}, "diverged");
  expectWellFormed(svg);
  EXPECT_EQ(svg.find("<polyline"), std::string::npos);
  EXPECT_CONTAINS(svg, "no finite loss values");
  EXPECT_CONTAINS(svg, "no accuracy values");
}

TEST(CurvePlotTest, ExtremeFiniteValuesStayPlottable) {
  const double big = std::numeric_limits<double>::max();
  const std::string svg = curvesSvg({{0, -big, 0}, {1, big, 1}, {2, 1e-300, 0.5}}, "extremes");
  expectWellFormed(svg);
  EXPECT_EQ(polyline(svg, "loss").size(), 3u);
}

TEST(CurvePlotTest, TitleIsEscaped) {
  const std::string svg = curvesSvg(falling(3), "a<b & \"c\" 'd'> \x01 \xff R(2+1)D \xc3\xbc");
  expectWellFormed(svg);
  EXPECT_CONTAINS(svg, ">a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt; ? ? R(2+1)D \xc3\xbc</text>");
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
}

TEST(CurvePlotTest, TickLabelsAreReadable) {
  const std::string small = curvesSvg(falling(11, 100), "t");  // steps 0..1000
  EXPECT_CONTAINS(small, ">1000</text>");
  EXPECT_CONTAINS(small, ">step</text>");
  EXPECT_CONTAINS(small, ">clip accuracy</text>");
  const std::string paper = curvesSvg(falling(8, 200'000), "t");  // steps 0..1.4M
  EXPECT_CONTAINS(paper, ">1.4M</text>");
  EXPECT_EQ(paper.find(">1400000</text>"), std::string::npos);
}

TEST(CurvePlotTest, HugeStepCounts) {
  const std::string trillion = curvesSvg(falling(3, 500'000'000'000), "t");
  expectWellFormed(trillion);
  EXPECT_CONTAINS(trillion, ">1.0T</text>");
  EXPECT_EQ(polyline(trillion, "loss").size(), 3u);

  // Next to INT64_MAX, one step is lost in the rounding to double.
  const int64_t max = std::numeric_limits<int64_t>::max();
  const std::string edge = curvesSvg({{max - 1, 1, 0.5}, {max, 2, 0.5}}, "t");
  expectWellFormed(edge);
  EXPECT_EQ(polyline(edge, "loss").size(), 2u);
  size_t stepLabels = 0;
  for (size_t at = 0; (at = edge.find(">9.22e+18</text>", at)) != std::string::npos; ++at)
    ++stepLabels;
  EXPECT_EQ(stepLabels, 2u) << "one step tick per panel, not one per lost rounding step";
}

TEST(CurvePlotTest, AMillionPointsAreDrawnAsAFewThousand) {
  const std::string svg = curvesSvg(falling(1'000'000), "long run");
  expectWellFormed(svg);
  const size_t drawn = polyline(svg, "loss").size();
  EXPECT_LE(drawn, 2000u);
  EXPECT_GE(drawn, 1000u);
  EXPECT_EQ(polyline(svg, "loss-smoothed").size(), drawn);
  EXPECT_CONTAINS(svg, "moving average of 50000 points");
  EXPECT_LT(svg.size(), 200'000u);
}

class CurvePlotFileTest : public vidnet::test::ScratchDirTest {};

TEST_F(CurvePlotFileTest, WritesTheSvgAtomically) {
  const auto points = falling(20);
  std::string error;
  ASSERT_TRUE(writeCurvesSvg(path("curves.svg"), points, "run", error)) << error;
  EXPECT_EQ(readRaw("curves.svg"), curvesSvg(points, "run"));
  ASSERT_TRUE(writeCurvesSvg(path("curves.svg"), falling(5), "again", error)) << error;
  EXPECT_EQ(readRaw("curves.svg"), curvesSvg(falling(5), "again"));
  EXPECT_EQ(listDir(), std::vector<std::string>{"curves.svg"}) << "no temporary file may be left behind";

  EXPECT_FALSE(writeCurvesSvg(path("no/such/dir/curves.svg"), points, "run", error));
  EXPECT_CONTAINS(error, path("no/such/dir/curves.svg"));
}

} // namespace
