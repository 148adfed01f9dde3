// Draws a confusion matrix as a dependency-free SVG heat map in the style of train/CurvePlot.
#include "runtime/eval/ConfusionPlot.h"

#include "runtime/io/AtomicFile.h"
#include "runtime/io/SvgText.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string_view>

namespace vidnet::eval {
namespace {

// Up to this many classes a cell is big enough for its count.
constexpr size_t kMaxAnnotated = 30;
constexpr double kMaxAnnotatedSide = 600, kMinAnnotatedCell = 24, kMaxAnnotatedCell = 48;
// Above kMaxAnnotated the matrix takes this much room whatever the class count.
constexpr double kDenseSide = 800;
// Class names shrink with the rows down to this size, then give way to class indices.
constexpr double kMinLabelFont = 6, kLabelFont = 12, kCountFont = 11;
constexpr size_t kMaxLabelChars = 32;
// An average sans-serif glyph is about this wide, in units of the font size.
constexpr double kGlyphWidth = 0.6;
constexpr double kTitleTop = 32, kMatrixTop = 84;
constexpr double kAxisTitleRoom = 36, kLegendRoom = 130;

// ColorBrewer's "Blues", whose darker end CurvePlot uses for its smoothed loss line.
constexpr unsigned kBlues[] = {0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6,
                               0x4292c6, 0x2171b5, 0x08519c, 0x08306b};
constexpr std::string_view kNoVideosColor = "#e0e0e0";

std::string num(double v, int decimals = 1) { return rt::svgNumber(v, decimals); }

std::string percent(double v) { return std::isfinite(v) ? num(100 * v) + "%" : "n/a"; }

using rt::svgText;

bool isContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t characters(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return !isContinuationByte(c); }));
}

// At most kMaxLabelChars characters, cut between UTF-8 sequences, so one long name does not
// push the matrix off the page.
std::string shortened(const std::string &name) {
  if (characters(name) <= kMaxLabelChars)
    return name;
  size_t end = 0;
  for (size_t kept = 0; kept < kMaxLabelChars - 1; ++kept)
    for (++end; end < name.size() && isContinuationByte(name[end]); ++end) {
    }
  return name.substr(0, end) + "\u2026";
}

std::string color(double share) {
  constexpr size_t kLast = std::size(kBlues) - 1;
  const double at = std::clamp(share, 0.0, 1.0) * kLast;
  const size_t lo = std::min(static_cast<size_t>(at), kLast - 1);
  const double f = at - static_cast<double>(lo);
  char buf[8];
  auto channel = [&](int shift) {
    const double a = (kBlues[lo] >> shift) & 0xff, b = (kBlues[lo + 1] >> shift) & 0xff;
    return static_cast<unsigned>(std::lround(a + (b - a) * f));
  };
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", channel(16), channel(8), channel(0));
  return buf;
}

// Where everything goes; fixed by the class count and the longest label.
struct Layout {
  size_t n;
  bool annotated;     // every cell drawn, with its count
  double cell;        // the side of a cell
  double labelFont;   // for class names or indices on the axes
  size_t indexStep;   // 0: class names; else every indexStep-th class index
  double left, top;   // the matrix's top-left corner
  double labelRoom;   // below the matrix, for the column labels
  double width, height;
  double side() const { return cell * static_cast<double>(n); }
  double centre(size_t i) const { return (static_cast<double>(i) + 0.5) * cell; }
};

// 1, 2 or 5 times a power of ten, for at most ten labelled indices.
size_t indexStep(size_t n) {
  for (size_t magnitude = 1;; magnitude *= 10)
    for (size_t f : {1, 2, 5})
      if (n <= 10 * f * magnitude)
        return f * magnitude;
}

std::vector<std::string> axisLabels(const Layout &l, const std::vector<std::string> &classNames) {
  std::vector<std::string> labels(l.n);
  for (size_t i = 0; i < l.n; ++i)
    if (l.indexStep == 0)
      labels[i] = shortened(className(classNames, static_cast<int64_t>(i)));
    else if (i % l.indexStep == 0)
      labels[i] = std::to_string(i);
  return labels;
}

double labelWidth(const std::vector<std::string> &labels, double font) {
  size_t longest = 0;
  for (const std::string &s : labels)
    longest = std::max(longest, characters(s));
  return static_cast<double>(longest) * font * kGlyphWidth;
}

Layout layout(size_t n, const std::vector<std::string> &classNames, size_t titleChars) {
  Layout l{};
  l.n = n;
  l.annotated = n <= kMaxAnnotated;
  l.cell = l.annotated ? std::clamp(std::floor(kMaxAnnotatedSide / static_cast<double>(n)), kMinAnnotatedCell,
                                    kMaxAnnotatedCell)
                       : kDenseSide / static_cast<double>(n);
  l.labelFont = std::min(kLabelFont, std::floor(l.cell * 0.9));
  if (l.labelFont < kMinLabelFont) {
    l.labelFont = kLabelFont - 2;
    l.indexStep = indexStep(n);
  }
  const double width = labelWidth(axisLabels(l, classNames), l.labelFont);
  // Names on x are turned 45 degrees while there is room between columns, else upright;
  // the few indices shown in their place fit flat.
  l.labelRoom = (l.indexStep ? l.labelFont : l.annotated ? width * std::sqrt(0.5) : width) + 12;
  l.left = kAxisTitleRoom + width + 10;
  l.top = kMatrixTop;
  const double titleWidth = static_cast<double>(titleChars) * 16 * kGlyphWidth + 40;
  l.width = std::max(l.left + l.side() + kLegendRoom, titleWidth);
  l.height = l.top + l.side() + l.labelRoom + kAxisTitleRoom;
  return l;
}


void rect(std::string &svg, double x, double y, double w, double h, std::string_view fill, std::string_view extra = "") {
  svg += "<rect" + std::string(extra) + " x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) +
         "\" height=\"" + num(h) + "\" fill=\"" + std::string(fill) + "\"/>\n";
}

std::string headline(const Report &r) {
  std::string s = "video@1 " + percent(r.videoTop1) + " \u00b7 video@" + std::to_string(r.topK) + " " +
                  percent(r.videoTop5) + " \u00b7 clip@1 " + percent(r.clipTop1) + " \u00b7 " +
                  std::to_string(r.videos) + " videos, " + std::to_string(r.clips) + " clips";
  if (r.nonFiniteClips > 0)
    s += " \u00b7 " + std::to_string(r.nonFiniteClips) + " clips with non-finite logits";
  return s;
}

double rowShare(const Report &r, size_t t, size_t p) {
  return static_cast<double>(r.confusion[t][p]) / static_cast<double>(r.classVideos[t]);
}

// A white count on dark cells, black on light ones.
void count(std::string &svg, const Layout &l, size_t t, size_t p, int64_t value, double share) {
  const std::string fill = share > 0.5 ? " fill=\"white\"" : "";
  svgText(svg, l.left + l.centre(p), l.top + l.centre(t) + kCountFont * 0.35, "middle", std::to_string(value),
       " font-size=\"" + num(kCountFont, 0) + "\"" + fill);
}

// One row of cells. Dense matrices skip zero cells: the background already has their colour,
// and 400 x 400 rectangles would make a file of megabytes.
void cells(std::string &svg, const Layout &l, const Report &r, size_t t) {
  const double y = l.top + static_cast<double>(t) * l.cell;
  const bool empty = r.classVideos[t] == 0;
  if (!l.annotated && empty) {
    rect(svg, l.left, y, l.side(), l.cell, kNoVideosColor);
    return;
  }
  for (size_t p = 0; p < l.n; ++p) {
    if (!l.annotated && r.confusion[t][p] == 0)
      continue;
    const double share = empty ? 0 : rowShare(r, t, p);
    const double x = l.left + static_cast<double>(p) * l.cell;
    // Annotated cells are a pixel smaller, leaving white lines between them.
    const double inset = l.annotated ? 1 : 0;
    rect(svg, x, y, l.cell - inset, l.cell - inset, empty ? kNoVideosColor : color(share), " class=\"cell\"");
    if (l.annotated && !empty)
      count(svg, l, t, p, r.confusion[t][p], share);
  }
}

void axes(std::string &svg, const Layout &l, const std::vector<std::string> &labels) {
  const std::string font = " font-size=\"" + num(l.labelFont, 0) + "\"";
  const double shift = l.labelFont * 0.35;  // from the baseline to the middle of the glyphs
  const double bottom = l.top + l.side();
  for (size_t i = 0; i < l.n; ++i) {
    if (labels[i].empty())
      continue;
    svgText(svg, l.left - 6, l.top + l.centre(i) + shift, "end", labels[i], font);
    if (l.indexStep) {
      svgText(svg, l.left + l.centre(i), bottom + 6 + l.labelFont, "middle", labels[i], font);
      continue;
    }
    const double x = l.left + l.centre(i) + (l.annotated ? shift * std::sqrt(0.5) : shift);
    svgText(svg, 0, 0, "end", labels[i],
         font + " transform=\"translate(" + num(x) + "," + num(bottom + 8) + ") rotate(" +
             (l.annotated ? "-45" : "-90") + ")\"");
  }
  svg += "<rect x=\"" + num(l.left) + "\" y=\"" + num(l.top) + "\" width=\"" + num(l.side()) + "\" height=\"" +
         num(l.side()) + "\" fill=\"none\" stroke=\"#444444\"/>\n";
  svgText(svg, l.left + l.side() / 2, bottom + l.labelRoom + 22, "middle", "predicted class");
  svgText(svg, 0, 0, "middle", "true class",
       " transform=\"translate(22," + num(l.top + l.side() / 2) + ") rotate(-90)\"");
}

// A vertical colour bar from 0% (bottom) to 100% of the row.
void legend(std::string &svg, const Layout &l, bool anyEmptyRow) {
  const double x = l.left + l.side() + 24, height = std::min(l.side(), 240.0);
  svg += "<defs><linearGradient id=\"confusion-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  for (size_t i = 0; i < std::size(kBlues); ++i) {
    const double at = static_cast<double>(i) / static_cast<double>(std::size(kBlues) - 1);
    svg += "<stop offset=\"" + num(at, 3) + "\" stop-color=\"" + color(at) + "\"/>";
  }
  svg += "</linearGradient></defs>\n";
  svg += "<rect x=\"" + num(x) + "\" y=\"" + num(l.top) + "\" width=\"16\" height=\"" + num(height) +
         "\" fill=\"url(#confusion-scale)\" stroke=\"#444444\"/>\n";
  for (int pct : {0, 50, 100})
    svgText(svg, x + 22, l.top + height * (1 - pct / 100.0) + 4, "start", std::to_string(pct) + "%");
  svgText(svg, 0, 0, "middle", "share of the true class's videos",
       " transform=\"translate(" + num(x + 64) + "," + num(l.top + height / 2) + ") rotate(-90)\"");
  if (anyEmptyRow) {
    rect(svg, x, l.top + height + 16, 16, 16, kNoVideosColor, " stroke=\"#444444\"");
    svgText(svg, x, l.top + height + 48, "start", "no videos");
  }
}

std::string svgOpen(double width, double height) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width, 0) + "\" height=\"" + num(height, 0) +
         "\" viewBox=\"0 0 " + num(width, 0) + " " + num(height, 0) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n"
         "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
}

void titles(std::string &svg, double width, const std::string &title, const Report &report) {
  svgText(svg, width / 2, kTitleTop, "middle", title, " font-size=\"16\" font-weight=\"bold\"");
  svgText(svg, width / 2, kTitleTop + 22, "middle", headline(report));
}

} // namespace

std::string confusionSvg(const Report &report, const std::vector<std::string> &classNames, const std::string &title) {
  const size_t n = report.confusion.size();
  if (n == 0) {
    std::string svg = svgOpen(600, 200);
    titles(svg, 600, title, report);
    svgText(svg, 300, 130, "middle", "no classes");
    return svg + "</svg>\n";
  }
  const size_t titleChars = std::max(characters(title), characters(headline(report)) * 12 / 16);
  const Layout l = layout(n, classNames, titleChars);
  std::string svg = svgOpen(l.width, l.height);
  titles(svg, l.width, title, report);
  // The colour of a zero cell; annotated matrices draw every cell over it anyway.
  rect(svg, l.left, l.top, l.side(), l.side(), color(0));
  for (size_t t = 0; t < n; ++t)
    cells(svg, l, report, t);
  axes(svg, l, axisLabels(l, classNames));
  legend(svg, l, std::find(report.classVideos.begin(), report.classVideos.end(), 0) != report.classVideos.end());
  return svg + "</svg>\n";
}

bool writeConfusionSvg(const std::string &path, const Report &report, const std::vector<std::string> &classNames,
                       const std::string &title, std::string &error) {
  const std::string svg = confusionSvg(report, classNames, title);
  return rt::writeFileAtomically(path, {{svg.data(), svg.size()}}, error);
}

} // namespace vidnet::eval
