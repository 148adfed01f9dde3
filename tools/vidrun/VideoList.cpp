// vidrun's video-list loading and class-list resolution.
#include "tools/vidrun/VideoList.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace vidnet {

bool openVideoList(const std::string &source, const std::string &classesPath, int64_t bundleClasses,
                   data::VideoList &list, std::ostream &report, std::string &error) {
  std::string classFile = classesPath;
  if (classFile.empty()) {
    std::error_code ec;
    fs::path beside = (fs::is_directory(source, ec) ? fs::path(source) : fs::path(source).parent_path()) / "classes.txt";
    if (fs::is_regular_file(beside, ec))
      classFile = beside.string();
  }
  std::vector<std::string> classes;
  if (!classFile.empty() && !data::readClassList(classFile, classes, error))
    return false;
  if (!data::loadVideoList(source, "", classes, list, error))
    return false;
  for (const data::VideoItem &v : list.missing)
    report << "vidrun: missing " << v.path << " (" << v.source << "), skipped\n";
  if (bundleClasses > 0 && static_cast<int64_t>(list.classes.size()) != bundleClasses) {
    error = source + ": " + std::to_string(list.classes.size()) + " classes" +
            (classFile.empty() ? "" : " (from " + classFile + ")") + " but the bundle has " +
            std::to_string(bundleClasses) + " (vidc build --classes, or --classes FILE)";
    return false;
  }
  if (list.videos.empty()) {
    error = source + ": no video files to read (" + std::to_string(list.missing.size()) + " missing)";
    return false;
  }
  return true;
}

std::vector<train::LabelledVideo> labelledVideos(const data::VideoList &list) {
  std::vector<train::LabelledVideo> out;
  for (const data::VideoItem &v : list.videos)
    out.push_back({v.path, v.label});
  return out;
}

} // namespace vidnet
