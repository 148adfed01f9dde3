// Draws training curves as a dependency-free SVG: two panels, nice ticks, raw and smoothed lines.
#include "runtime/train/CurvePlot.h"

#include "runtime/io/AtomicFile.h"
#include "runtime/io/SvgText.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace vidnet::train {
namespace {

std::string num(double v, int decimals = 1) { return rt::svgNumber(v, decimals); }
using rt::svgText;
bool isZeroText(const std::string &s) { return s.find_first_not_of("-0.") == std::string::npos; }

constexpr double kWidth = 900, kHeight = 640;
constexpr double kPlotLeft = 80, kPlotRight = kWidth - 30;
constexpr double kPanelHeight = 220;
// A browser draws a few thousand points per line easily; a million-step run has more.
constexpr size_t kMaxDrawn = 2000;
constexpr int kMaxTicks = 20;

struct Series {
  std::vector<double> x, y;
  size_t size() const { return x.size(); }
};

struct Range {
  double lo, hi;
};

struct PanelStyle {
  std::string_view cssClass;  // the polylines' classes: cssClass and cssClass + "-smoothed"
  std::string_view label;     // y axis and legend
  std::string_view noData;
  double top;
  std::string_view rawColor, smoothColor;
  bool unitInterval;    // the y axis always shows [0, 1]
  bool legendAtBottom;  // in the corner the curve leaves free: loss falls, accuracy rises
};

constexpr PanelStyle kLossPanel{"loss", "loss", "no finite loss values", 60, "#9ecae1", "#08519c", false, false};
constexpr PanelStyle kAccuracyPanel{
    "accuracy", "clip accuracy", "no accuracy values", 360, "#fdae6b", "#a63603", true, true};

Series finiteColumn(const std::vector<CurvePoint> &points, double CurvePoint::*column) {
  Series s;
  for (const CurvePoint &p : points)
    if (std::isfinite(p.*column)) {
      s.x.push_back(static_cast<double>(p.step));
      s.y.push_back(p.*column);
    }
  return s;
}

// ~5% of the points: enough to see the trend through per-batch noise, short enough to keep
// the shape of the LR steps.
size_t smoothingWindow(size_t points) { return std::max<size_t>(1, points / 20); }

// Centred, so that the average does not lag behind the raw line; shorter at the ends.
Series movingAverage(const Series &s, size_t window) {
  const size_t half = window / 2;
  Series out{s.x, std::vector<double>(s.size())};
  double sum = 0;
  size_t lo = 0, hi = 0;  // the window is [lo, hi)
  for (size_t i = 0; i < s.size(); ++i) {
    for (; hi < std::min(s.size(), i + half + 1); ++hi)
      sum += s.y[hi];
    for (; lo + half < i; ++lo)
      sum -= s.y[lo];
    out.y[i] = sum / static_cast<double>(hi - lo);
  }
  return out;
}

// At most kMaxDrawn points: the lowest and the highest of each run of consecutive points, in
// their order. Unlike means, this keeps the spread of a noisy loss and its spikes visible.
Series decimate(const Series &s) {
  if (s.size() <= kMaxDrawn)
    return s;
  const size_t run = (s.size() + kMaxDrawn / 2 - 1) / (kMaxDrawn / 2);
  Series out;
  auto keep = [&](size_t i) {
    out.x.push_back(s.x[i]);
    out.y.push_back(s.y[i]);
  };
  for (size_t begin = 0; begin < s.size(); begin += run) {
    size_t lo = begin, hi = begin;
    for (size_t i = begin + 1; i < std::min(s.size(), begin + run); ++i) {
      if (s.y[i] < s.y[lo])
        lo = i;
      if (s.y[i] > s.y[hi])
        hi = i;
    }
    keep(std::min(lo, hi));
    if (lo != hi)
      keep(std::max(lo, hi));
  }
  return out;
}

// 1, 2 or 5 times a power of ten, giving about five intervals over the range.
double niceStep(Range r) {
  const double raw = (r.hi - r.lo) / 5;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
}

// A range with room to draw in: one value becomes an interval around it.
Range widen(Range r) {
  if (r.hi > r.lo)
    return r;
  const double pad = r.lo == 0 ? 1 : std::fabs(r.lo) * 0.1;
  return {r.lo - pad, r.hi + pad};
}

Range dataRange(const std::vector<double> &v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return {*lo, *hi};
}

// The y range rounded out to whole ticks, so the frame starts and ends on a labelled line.
Range yRange(const Series &s, bool unitInterval) {
  Range r = dataRange(s.y);
  if (unitInterval)
    r = {std::min(r.lo, 0.0), std::max(r.hi, 1.0)};
  r = widen(r);
  const double step = niceStep(r);
  if (std::isfinite(step) && step > 0)
    r = {std::floor(r.lo / step) * step, std::ceil(r.hi / step) * step};
  return r;
}

// The steps of all points; a single step is put in the middle of a one-step-wide axis.
Range xRange(const std::vector<CurvePoint> &points) {
  const auto [lo, hi] = std::minmax_element(points.begin(), points.end(),
                                            [](const CurvePoint &a, const CurvePoint &b) { return a.step < b.step; });
  const double l = static_cast<double>(lo->step), h = static_cast<double>(hi->step);
  return h > l ? Range{l, h} : Range{l - 0.5, l + 0.5};
}

std::vector<double> ticks(Range r, double step) {
  if (!std::isfinite(step) || step <= 0)
    return {r.lo, r.hi};
  std::vector<double> out;
  const double first = std::ceil(r.lo / step) * step;
  // Bounded by kMaxTicks, and stops when the step is lost in the rounding of huge values.
  for (int i = 0; i < kMaxTicks; ++i) {
    const double t = first + i * step;
    if (t > r.hi + step * 1e-9 || (!out.empty() && t == out.back()))
      break;
    out.push_back(t);
  }
  return out;
}

// Tick text with just enough decimals for the tick step, and k/M/G/T for big numbers (a
// million-step run reads as 1.4M, not 1400000).
std::string tickLabel(double v, double step, double axisMax) {
  static constexpr struct {
    double scale;
    const char *suffix;
  } kUnits[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e4, "k"}};
  if (!std::isfinite(step) || step <= 0 || axisMax >= 1e15 || (axisMax > 0 && axisMax < 1e-6)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
  }
  double scale = 1;
  const char *suffix = "";
  for (const auto &u : kUnits) {
    if (axisMax >= u.scale) {
      scale = u.scale;
      suffix = u.suffix;
      break;
    }
  }
  const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(step / scale) + 1e-9)), 0, 10);
  const std::string s = num(v / scale, decimals);
  return isZeroText(s) ? "0" : s + suffix;
}

// Where v falls in r, from 0 to 1; anything unplottable (NaN, a lost range) goes to an edge.
double fraction(double v, Range r) {
  const double f = (v - r.lo) / (r.hi - r.lo);
  if (!(f >= 0))
    return 0;
  return std::min(f, 1.0);
}

struct Frame {
  double top;
  Range x, y;
  double px(double v) const { return kPlotLeft + fraction(v, x) * (kPlotRight - kPlotLeft); }
  double py(double v) const { return top + kPanelHeight - fraction(v, y) * kPanelHeight; }
  double bottom() const { return top + kPanelHeight; }
};


void line(std::string &svg, double x1, double y1, double x2, double y2, std::string_view stroke, double width) {
  svg += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) +
         "\" stroke=\"" + std::string(stroke) + "\" stroke-width=\"" + num(width) + "\"/>\n";
}

void polyline(std::string &svg, const Frame &f, const Series &s, std::string_view cssClass, std::string_view color,
              double width) {
  svg += "<polyline class=\"" + std::string(cssClass) + "\" fill=\"none\" stroke=\"" + std::string(color) +
         "\" stroke-width=\"" + num(width) + "\" stroke-linejoin=\"round\" points=\"";
  for (size_t i = 0; i < s.size(); ++i)
    svg += (i ? " " : "") + num(f.px(s.x[i])) + "," + num(f.py(s.y[i]));
  svg += "\"/>\n";
  // A polyline of one point draws nothing.
  if (s.size() == 1)
    svg += "<circle cx=\"" + num(f.px(s.x[0])) + "\" cy=\"" + num(f.py(s.y[0])) + "\" r=\"3\" fill=\"" +
           std::string(color) + "\"/>\n";
}

void frameRect(std::string &svg, double top) {
  svg += "<rect x=\"" + num(kPlotLeft) + "\" y=\"" + num(top) + "\" width=\"" + num(kPlotRight - kPlotLeft) +
         "\" height=\"" + num(kPanelHeight) + "\" fill=\"none\" stroke=\"#444444\"/>\n";
}

void frameAndTicks(std::string &svg, const Frame &f, std::string_view yLabel) {
  const double xStep = std::max(1.0, niceStep(f.x));  // steps are integers
  for (double t : ticks(f.x, xStep)) {
    line(svg, f.px(t), f.top, f.px(t), f.bottom(), "#eeeeee", 1);
    svgText(svg, f.px(t), f.bottom() + 16, "middle", tickLabel(t, xStep, std::max(std::fabs(f.x.lo), std::fabs(f.x.hi))));
  }
  const double yStep = niceStep(f.y);
  for (double t : ticks(f.y, yStep)) {
    line(svg, kPlotLeft, f.py(t), kPlotRight, f.py(t), "#eeeeee", 1);
    svgText(svg, kPlotLeft - 6, f.py(t) + 4, "end", tickLabel(t, yStep, std::max(std::fabs(f.y.lo), std::fabs(f.y.hi))));
  }
  frameRect(svg, f.top);
  svgText(svg, (kPlotLeft + kPlotRight) / 2, f.bottom() + 34, "middle", "step");
  const double midY = f.top + kPanelHeight / 2;
  svgText(svg, 0, 0, "middle", yLabel, " transform=\"translate(22," + num(midY) + ") rotate(-90)\"");
}

void legendEntry(std::string &svg, double x, double y, std::string_view color, double width, std::string_view label) {
  line(svg, x, y - 4, x + 24, y - 4, color, width);
  svgText(svg, x + 30, y, "start", label);
}

void panel(std::string &svg, const PanelStyle &style, const Series &raw, Range x) {
  if (raw.size() == 0) {
    frameRect(svg, style.top);
    svgText(svg, (kPlotLeft + kPlotRight) / 2, style.top + kPanelHeight / 2, "middle", style.noData);
    return;
  }
  const Frame f{style.top, x, yRange(raw, style.unitInterval)};
  frameAndTicks(svg, f, style.label);
  const std::string cssClass(style.cssClass);
  polyline(svg, f, decimate(raw), cssClass, style.rawColor, 1);
  const size_t window = smoothingWindow(raw.size());
  if (window > 1)
    polyline(svg, f, decimate(movingAverage(raw, window)), cssClass + "-smoothed", style.smoothColor, 2);

  const double legendX = kPlotRight - 230, legendHeight = window > 1 ? 46 : 28;
  const double legendTop = style.legendAtBottom ? f.bottom() - 8 - legendHeight : f.top + 8;
  svg += "<rect x=\"" + num(legendX - 8) + "\" y=\"" + num(legendTop) + "\" width=\"226\" height=\"" +
         num(legendHeight) + "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n";
  legendEntry(svg, legendX, legendTop + 18, style.rawColor, 2, style.label);
  if (window > 1)
    legendEntry(svg, legendX, legendTop + 36, style.smoothColor, 2,
                "moving average of " + std::to_string(window) + " points");
}

} // namespace

std::string curvesSvg(const std::vector<CurvePoint> &points, const std::string &title) {
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kWidth, 0) + "\" height=\"" +
                    num(kHeight, 0) + "\" viewBox=\"0 0 " + num(kWidth, 0) + " " + num(kHeight, 0) +
                    "\" font-family=\"sans-serif\" font-size=\"12\">\n"
                    "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svgText(svg, kWidth / 2, 32, "middle", title, " font-size=\"16\" font-weight=\"bold\"");
  if (points.empty()) {
    svgText(svg, kWidth / 2, kHeight / 2, "middle", "no data");
  } else {
    const Range x = xRange(points);
    panel(svg, kLossPanel, finiteColumn(points, &CurvePoint::loss), x);
    panel(svg, kAccuracyPanel, finiteColumn(points, &CurvePoint::accuracy), x);
  }
  return svg + "</svg>\n";
}

bool writeCurvesSvg(const std::string &path, const std::vector<CurvePoint> &points, const std::string &title,
                    std::string &error) {
  const std::string svg = curvesSvg(points, title);
  return rt::writeFileAtomically(path, {{svg.data(), svg.size()}}, error);
}

} // namespace vidnet::train
