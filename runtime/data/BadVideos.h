// The videos a run could not use, each named once with its reason, for the run's summary.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace vidnet::data {

// Shared by the loader's threads. Whether a video is bad depends only on its file, so
// skipping one never makes a run depend on which thread met it first.
class BadVideos {
public:
  explicit BadVideos(std::ostream *report = nullptr) : report_(report) {}

  // The first failure of `video` prints "vidrun: skipped PATH: REASON" to the report stream.
  void add(int64_t video, const std::string &path, const std::string &reason);
  bool contains(int64_t video) const;
  int64_t count() const;
  // (path, reason), ordered by video index.
  std::vector<std::pair<std::string, std::string>> list() const;
  // "" when none, else "N videos skipped (first: PATH: REASON)".
  std::string summary() const;

private:
  std::ostream *report_;
  mutable std::mutex mutex_;
  std::map<int64_t, std::pair<std::string, std::string>> bad_;
};

} // namespace vidnet::data
