// Opening a video list for vidrun (CSV, class folders or a UCF split) with a fixed class list,
// missing files listed before any work starts.
#pragma once

#include "runtime/data/Dataset.h"
#include "runtime/train/BatchSource.h"

#include <ostream>
#include <string>
#include <vector>

namespace vidnet {

// Class names come from `classesPath` when given, else from classes.txt beside the list (in
// the folder of a class-folder root), else from the list itself (sorted names). Each missing
// video is named on `report` and left out. With `bundleClasses` > 0 the class count must
// match the bundle's.
bool openVideoList(const std::string &source, const std::string &classesPath, int64_t bundleClasses,
                   data::VideoList &list, std::ostream &report, std::string &error);

std::vector<train::LabelledVideo> labelledVideos(const data::VideoList &list);

} // namespace vidnet
