// Thread-safe record of unusable videos.
#include "runtime/data/BadVideos.h"

namespace vidnet::data {

void BadVideos::add(int64_t video, const std::string &path, const std::string &reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!bad_.emplace(video, std::make_pair(path, reason)).second)
    return;
  if (report_)
    *report_ << "vidrun: skipped " << path << ": " << reason << "\n" << std::flush;
}

bool BadVideos::contains(int64_t video) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bad_.count(video) > 0;
}

int64_t BadVideos::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(bad_.size());
}

std::vector<std::pair<std::string, std::string>> BadVideos::list() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto &[video, entry] : bad_)
    out.push_back(entry);
  return out;
}

std::string BadVideos::summary() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (bad_.empty())
    return "";
  const auto &first = bad_.begin()->second;
  return std::to_string(bad_.size()) + (bad_.size() == 1 ? " video" : " videos") + " skipped (first: " + first.first +
         ": " + first.second + ")";
}

} // namespace vidnet::data
