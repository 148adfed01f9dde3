// Training curves (loss and clip accuracy against step) as a standalone SVG, for curves.svg.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vidnet::train {

struct CurvePoint {
  int64_t step;
  double loss;      // non-finite values (a diverged step) are left out of the plot
  double accuracy;  // clip accuracy in [0, 1]; NaN where the step has none
};

// Two panels sharing the step axis: loss (raw and a centred moving average over ~5% of the
// points) and clip accuracy (the same two lines). No data gives an SVG that says so. A line
// of more than 2000 points is drawn through the lowest and highest point of each run of
// consecutive points, so the file stays small for a million-step run.
std::string curvesSvg(const std::vector<CurvePoint> &points, const std::string &title);

// curvesSvg written with writeFileAtomically, so a viewer never sees half a plot.
bool writeCurvesSvg(const std::string &path, const std::vector<CurvePoint> &points, const std::string &title,
                    std::string &error);

} // namespace vidnet::train
