// A spec file held in memory with a line table, so diagnostics can quote any line by number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vidnet::dsl {

// A position in a spec: 1-based line and byte column. Line 0 means "no position".
struct Loc {
  uint32_t line = 0;
  uint32_t col = 0;
  friend bool operator==(const Loc &, const Loc &) = default;
};

class SourceFile {
public:
  SourceFile(std::string path, std::string text);

  // Reads a whole file; on failure returns false and sets `error` to a readable reason.
  static bool load(const std::string &path, SourceFile &out, std::string &error);

  const std::string &path() const { return path_; }
  const std::string &text() const { return text_; }
  uint32_t lineCount() const { return static_cast<uint32_t>(lineStarts_.size()); }
  // The text of a line without its newline; empty for an out-of-range line.
  std::string_view lineText(uint32_t line) const;

  // Specs are small; anything larger is rejected instead of parsed slowly.
  static constexpr size_t kMaxBytes = 16u << 20;

private:
  std::string path_;
  std::string text_;
  std::vector<size_t> lineStarts_;
};

} // namespace vidnet::dsl
