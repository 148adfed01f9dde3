// The video-level confusion matrix of an eval Report as a standalone SVG heat map, for confusion.svg.
#pragma once

#include "runtime/eval/Metrics.h"

#include <string>
#include <vector>

namespace vidnet::eval {

// Rows are true classes, columns predicted ones. A cell's colour is its share of its row's
// videos, so the diagonal reads as per-class accuracy whatever the class sizes; rows of classes
// without videos are grey. Up to 30 classes every cell is drawn with its count and class names
// label both axes (rotated on x). Above that only non-zero cells are drawn, without counts, and
// names only while a row is tall enough to read them (up to 120 classes), else every n-th class
// index: a 400-class matrix stays a few hundred kB. The title is followed by video@1, video@5,
// clip@1 and the number of videos. classNames as for reportJson (className()).
std::string confusionSvg(const Report &report, const std::vector<std::string> &classNames, const std::string &title);

// confusionSvg written with writeFileAtomically, so a viewer never sees half a plot.
bool writeConfusionSvg(const std::string &path, const Report &report, const std::vector<std::string> &classNames,
                       const std::string &title, std::string &error);

} // namespace vidnet::eval
