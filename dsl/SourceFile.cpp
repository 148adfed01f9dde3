// Loading spec files and indexing their lines.
#include "dsl/SourceFile.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace vidnet::dsl {

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  // Some editors start files with a UTF-8 byte-order mark; it is not part of the spec.
  if (text_.rfind("\xEF\xBB\xBF", 0) == 0)
    text_.erase(0, 3);
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n' && i + 1 < text_.size())
      lineStarts_.push_back(i + 1);
}

bool SourceFile::load(const std::string &path, SourceFile &out, std::string &error) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    error = std::strerror(errno);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    error = "is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return false;
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxBytes) {
      error = "file is larger than " + std::to_string(kMaxBytes >> 20) + " MiB; a spec is a few lines";
      return false;
    }
  }
  if (in.bad()) {
    error = "read error";
    return false;
  }
  out = SourceFile(path, std::move(text));
  return true;
}

std::string_view SourceFile::lineText(uint32_t line) const {
  if (line == 0 || line > lineStarts_.size())
    return {};
  size_t begin = lineStarts_[line - 1];
  size_t end = text_.find('\n', begin);
  if (end == std::string::npos)
    end = text_.size();
  if (end > begin && text_[end - 1] == '\r')
    --end;
  return std::string_view(text_).substr(begin, end - begin);
}

} // namespace vidnet::dsl
