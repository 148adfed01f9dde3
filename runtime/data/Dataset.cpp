// Video dataset lists (CSV, class folders, UCF101 splits) and class lists, with FILE:LINE messages.
#include "runtime/data/Dataset.h"

#include "runtime/io/AtomicFile.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace vidnet::data {

namespace fs = std::filesystem;

namespace {

// Video ids or frame counts in the label column would otherwise derive millions of classes.
constexpr int64_t kMaxDerivedClasses = 100'000;

const char *const kVideoExtensions[] = {".mp4", ".avi", ".mkv", ".webm", ".mov"};

bool isBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isBlank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back()))
    s.remove_suffix(1);
  return s;
}

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool isControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// A value quoted for a message: control bytes cannot garble the terminal, a long line cannot
// flood it.
std::string show(std::string_view s) {
  constexpr size_t kMaxShown = 80;
  std::string out(s.substr(0, kMaxShown));
  for (char &c : out)
    if (isControl(c))
      c = '?';
  return "'" + out + (s.size() > kMaxShown ? "...'" : "'");
}

std::string at(const std::string &file, size_t line) { return file + ":" + std::to_string(line) + ": "; }

struct Line {
  std::string_view text;
  size_t number;  // from 1
};

// Windows editors write a BOM and CRLF; neither is part of the first path or the last field.
std::vector<Line> splitLines(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  std::vector<Line> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    lines.push_back({line, lines.size() + 1});
    start = end + 1;
  }
  return lines;
}

bool readText(const std::string &path, std::string &text, std::string &error) {
  std::vector<char> bytes;
  if (!rt::readWholeFile(path, bytes, error))
    return false;
  text.assign(bytes.begin(), bytes.end());
  return true;
}

// Why `name` cannot be a class name ("" if it can): class lists are one name per line and
// CSV labels end at a comma, so every accepted name must survive both.
std::string classNameProblem(std::string_view name) {
  if (trim(name).empty())
    return "is empty";
  if (name.find(',') != std::string_view::npos)
    return "contains a comma";
  if (trim(name).size() != name.size())
    return "has leading or trailing whitespace";
  if (std::any_of(name.begin(), name.end(), isControl))
    return "contains a control character";
  return "";
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Plain decimal digits only: "+3", "3.0" or " 3" are not indices.
std::optional<int64_t> parseIndex(std::string_view s) {
  if (!allDigits(s))
    return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size())
    return std::nullopt;
  return value;
}

// Names -> indices for a fixed class list, and the messages for names that are not in it.
class ClassMap {
public:
  ClassMap(const std::vector<std::string> &names, std::string description)
      : names_(names), description_(std::move(description)) {
    for (size_t i = 0; i < names.size(); ++i)
      index_.emplace(names[i], static_cast<int64_t>(i));
  }
  std::optional<int64_t> find(const std::string &name) const {
    auto it = index_.find(name);
    return it == index_.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  size_t size() const { return names_.size(); }
  const std::string &description() const { return description_; }
  // "label 'jump' is not in classes.txt (5 classes); did you mean 'Jump'?"
  std::string unknown(const std::string &what, const std::string &name) const {
    std::string message = what + " " + show(name) + " is not in " + description_ + " (" +
                          std::to_string(names_.size()) + " classes)";
    const std::string lower = lowerAscii(name);
    for (const std::string &candidate : names_)
      if (lowerAscii(candidate) == lower)
        return message + "; did you mean " + show(candidate) + "?";
    return message;
  }

private:
  const std::vector<std::string> &names_;
  std::string description_;
  std::unordered_map<std::string, int64_t> index_;
};

// A list built in code gets the same checks as one read from a file: a duplicate would make
// a name map to two indices.
bool checkClassNames(const std::vector<std::string> &names, const std::string &prefix, std::string &error) {
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (std::string problem = classNameProblem(names[i]); !problem.empty()) {
      error = prefix + "class " + std::to_string(i) + " " + show(names[i]) + " " + problem;
      return false;
    }
    if (auto [it, fresh] = seen.emplace(names[i], i); !fresh) {
      error = prefix + "class " + std::to_string(i) + " " + show(names[i]) + " is a duplicate of class " +
              std::to_string(it->second);
      return false;
    }
  }
  return true;
}

bool checkGivenClasses(const std::vector<std::string> &classes, std::string &error) {
  return checkClassNames(classes, "the class list: ", error);
}

std::vector<std::string> sortedUnique(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// A link to a directory, or a file we may not stat, is as unusable for training as no file.
void place(VideoList &list, VideoItem item) {
  std::error_code ec;
  if (fs::is_regular_file(item.path, ec))
    list.videos.push_back(std::move(item));
  else
    list.missing.push_back(std::move(item));
}

std::string resolve(const fs::path &base, const std::string &path) { return (base / path).string(); }

bool hasVideoExtension(const fs::path &p) {
  const std::string ext = lowerAscii(p.extension().string());
  return std::any_of(std::begin(kVideoExtensions), std::end(kVideoExtensions),
                     [&](const char *known) { return ext == known; });
}

bool isHidden(const fs::path &p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// ---- CSV -------------------------------------------------------------------------------

struct CsvRow {
  std::string path;
  std::string label;
  size_t line;
};

// One field from `pos`: quoted (RFC 4180, "" inside is one quote) or bare; the blanks around
// it are dropped. Leaves `pos` at the comma after the field or at the end of the line.
bool readField(std::string_view line, size_t &pos, std::string &field, std::string &problem) {
  field.clear();
  while (pos < line.size() && isBlank(line[pos]))
    ++pos;
  if (pos < line.size() && line[pos] == '"') {
    for (++pos;; ++pos) {
      if (pos == line.size()) {
        problem = "unterminated quote";
        return false;
      }
      if (line[pos] != '"') {
        field += line[pos];
      } else if (pos + 1 < line.size() && line[pos + 1] == '"') {
        field += '"';
        ++pos;
      } else {
        ++pos;
        break;
      }
    }
    while (pos < line.size() && isBlank(line[pos]))
      ++pos;
    if (pos < line.size() && line[pos] != ',') {
      problem = "text after a closing quote";
      return false;
    }
    return true;
  }
  size_t end = std::min(line.find(',', pos), line.size());
  std::string_view bare = trim(line.substr(pos, end - pos));
  if (bare.find('"') != std::string_view::npos) {
    problem = "a quote inside an unquoted field (quote the whole field and double the quotes in it)";
    return false;
  }
  field.assign(bare);
  pos = end;
  return true;
}

bool parseCsvLine(std::string_view line, CsvRow &row, std::string &problem) {
  auto expected = [&] { return "expected `path,label`, got " + show(line); };
  size_t pos = 0;
  if (!readField(line, pos, row.path, problem)) {
    problem += " in " + show(line);
    return false;
  }
  if (pos == line.size()) {
    problem = expected();
    return false;
  }
  ++pos;
  if (!readField(line, pos, row.label, problem)) {
    problem += " in " + show(line);
    return false;
  }
  if (pos != line.size()) {
    problem = expected() + " (a class name cannot contain a comma; quote a path that does)";
    return false;
  }
  if (row.path.empty() || row.label.empty()) {
    problem = std::string(row.path.empty() ? "empty path" : "empty label") + " in " + show(line);
    return false;
  }
  return true;
}

bool isHeader(const CsvRow &row) { return lowerAscii(row.path) == "path" && lowerAscii(row.label) == "label"; }

bool readCsvRows(const std::string &csvPath, std::vector<CsvRow> &rows, std::string &error) {
  std::string text;
  if (!readText(csvPath, text, error))
    return false;
  bool first = true;
  for (const Line &line : splitLines(text)) {
    std::string_view content = trim(line.text);
    if (content.empty() || content[0] == '#')
      continue;
    CsvRow row;
    std::string problem;
    if (!parseCsvLine(line.text, row, problem)) {
      error = at(csvPath, line.number) + problem;
      return false;
    }
    row.line = line.number;
    if (std::exchange(first, false) && isHeader(row))
      continue;
    rows.push_back(std::move(row));
  }
  if (rows.empty()) {
    error = csvPath + ": no entries (expected lines `path,label`)";
    return false;
  }
  return true;
}

// A label is an index (all digits) or a name; one CSV must not mix them, since "3" next to
// "jump" leaves it unclear whether "3" is a name or an index.
struct LabelKinds {
  const CsvRow *firstName = nullptr;
  const CsvRow *firstIndex = nullptr;
};

bool classifyLabels(const std::string &csvPath, const std::vector<CsvRow> &rows, LabelKinds &kinds,
                    std::string &error) {
  for (const CsvRow &row : rows) {
    const std::string where = at(csvPath, row.line);
    if (row.label[0] == '-' && allDigits(std::string_view(row.label).substr(1))) {
      error = where + "label " + row.label + " is negative: an integer label is a class index from 0";
      return false;
    }
    if (allDigits(row.label)) {
      if (!parseIndex(row.label)) {
        error = where + "label " + show(row.label) + " is too large for a class index";
        return false;
      }
      if (kinds.firstName) {
        error = where + "label " + show(row.label) + " is a class index, but line " +
                std::to_string(kinds.firstName->line) + " has the class name " + show(kinds.firstName->label) +
                "; use names or indices, not both";
        return false;
      }
      if (!kinds.firstIndex)
        kinds.firstIndex = &row;
      continue;
    }
    if (std::string problem = classNameProblem(row.label); !problem.empty()) {
      error = where + "label " + show(row.label) + " " + problem;
      return false;
    }
    if (kinds.firstIndex) {
      error = where + "label " + show(row.label) + " is a class name, but line " +
              std::to_string(kinds.firstIndex->line) + " has the class index " + kinds.firstIndex->label +
              "; use names or indices, not both";
      return false;
    }
    if (!kinds.firstName)
      kinds.firstName = &row;
  }
  return true;
}

// Integer labels without a class list: classes "0".."max", so that index i is still class i.
bool deriveIndexClasses(const std::string &csvPath, const std::vector<CsvRow> &rows, std::vector<std::string> &classes,
                        std::string &error) {
  const CsvRow *largest = &rows.front();
  for (const CsvRow &row : rows)
    if (*parseIndex(row.label) > *parseIndex(largest->label))
      largest = &row;
  const int64_t max = *parseIndex(largest->label);
  if (max >= kMaxDerivedClasses) {
    error = at(csvPath, largest->line) + "label " + largest->label + " would derive the classes 0.." + largest->label +
            "; pass a class list if that is meant (at most " + std::to_string(kMaxDerivedClasses) +
            " are derived from integer labels)";
    return false;
  }
  classes.clear();
  for (int64_t i = 0; i <= max; ++i)
    classes.push_back(std::to_string(i));
  return true;
}

// An index k is ambiguous when the list also names a class "k" at another index (a list of
// numeric names not in order): refuse rather than guess which was meant.
bool resolveIndex(const ClassMap &map, const std::string &label, int64_t &out, std::string &problem) {
  const int64_t k = *parseIndex(label);
  if (k >= static_cast<int64_t>(map.size())) {
    problem = "label " + label + " is out of range: " + map.description() + " has " + std::to_string(map.size()) +
              " classes (0.." + std::to_string(static_cast<int64_t>(map.size()) - 1) + ")";
    return false;
  }
  if (auto named = map.find(label); named && *named != k) {
    problem = "label " + label + " is ambiguous: it is the index of a class, but " + map.description() +
              " also names class " + std::to_string(*named) + " '" + label + "'";
    return false;
  }
  out = k;
  return true;
}

} // namespace

bool loadCsvList(const std::string &csvPath, const std::vector<std::string> &classes, VideoList &out,
                 std::string &error) {
  if (!checkGivenClasses(classes, error))
    return false;
  std::vector<CsvRow> rows;
  LabelKinds kinds;
  if (!readCsvRows(csvPath, rows, error) || !classifyLabels(csvPath, rows, kinds, error))
    return false;

  VideoList list;
  if (!classes.empty()) {
    list.classes = classes;
  } else if (kinds.firstIndex) {
    if (!deriveIndexClasses(csvPath, rows, list.classes, error))
      return false;
  } else {
    for (const CsvRow &row : rows)
      list.classes.push_back(row.label);
    list.classes = sortedUnique(std::move(list.classes));
  }

  const ClassMap map(list.classes, "the class list");
  const fs::path base = fs::path(csvPath).parent_path();
  for (const CsvRow &row : rows) {
    int64_t label = 0;
    std::string problem;
    if (kinds.firstIndex) {
      if (!resolveIndex(map, row.label, label, problem)) {
        error = at(csvPath, row.line) + problem;
        return false;
      }
    } else if (auto index = map.find(row.label)) {
      label = *index;
    } else {
      error = at(csvPath, row.line) + map.unknown("label", row.label);
      return false;
    }
    place(list, {resolve(base, row.path), label, csvPath + ":" + std::to_string(row.line)});
  }
  out = std::move(list);
  return true;
}

// ---- Class folders -----------------------------------------------------------------------

namespace {

struct ClassFolder {
  std::string name;
  fs::path path;
  int64_t label = 0;
};

// The folders in `root` that are classes; everything else there goes to `ignored`.
bool listClassFolders(const std::string &root, std::vector<ClassFolder> &folders, std::vector<std::string> &ignored,
                      std::string &error) {
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code statEc;
    if (isHidden(it->path()) || !fs::is_directory(it->path(), statEc))
      ignored.push_back(it->path().string());
    else
      folders.push_back({it->path().filename().string(), it->path()});
  }
  if (ec) {
    error = root + ": cannot list the class folders: " + ec.message();
    return false;
  }
  for (const ClassFolder &folder : folders)
    if (std::string problem = classNameProblem(folder.name); !problem.empty()) {
      error = folder.path.string() + ": the folder name cannot be a class name: it " + problem;
      return false;
    }
  return true;
}

// One class folder's videos, sorted by file name. A video-named link to nothing is a missing
// video rather than an ignored file: the user meant it to be one.
bool scanClassFolder(const ClassFolder &folder, VideoList &list, std::string &error) {
  std::vector<fs::path> videos, dangling;
  std::error_code ec;
  for (fs::directory_iterator it(folder.path, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path &p = it->path();
    std::error_code statEc;
    const fs::file_type type = fs::status(p, statEc).type();
    const bool candidate = !isHidden(p) && hasVideoExtension(p);
    if (candidate && type == fs::file_type::regular)
      videos.push_back(p);
    else if (candidate && type == fs::file_type::not_found)
      dangling.push_back(p);
    else
      list.ignored.push_back(p.string());  // includes folders and other non-files named like videos
  }
  if (ec) {
    error = folder.path.string() + ": cannot list the videos: " + ec.message();
    return false;
  }
  std::sort(videos.begin(), videos.end());
  std::sort(dangling.begin(), dangling.end());
  for (const fs::path &p : videos)
    list.videos.push_back({p.string(), folder.label, folder.path.string()});
  for (const fs::path &p : dangling)
    list.missing.push_back({p.string(), folder.label, folder.path.string()});
  return true;
}

std::string videoExtensionList() {
  std::string s;
  for (const char *ext : kVideoExtensions)
    s.append(s.empty() ? "" : ", ").append(ext);
  return s;
}

} // namespace

bool loadClassFolders(const std::string &root, const std::vector<std::string> &classes, VideoList &out,
                      std::string &error) {
  if (!checkGivenClasses(classes, error))
    return false;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    error = root + ": not a directory of class folders";
    return false;
  }
  VideoList list;
  std::vector<ClassFolder> folders;
  if (!listClassFolders(root, folders, list.ignored, error))
    return false;
  if (folders.empty()) {
    error = root + ": no class folders (expected " + root + "/<class>/<video>)";
    return false;
  }

  if (classes.empty()) {
    for (const ClassFolder &folder : folders)
      list.classes.push_back(folder.name);
    list.classes = sortedUnique(std::move(list.classes));
  } else {
    list.classes = classes;
  }
  const ClassMap map(list.classes, "the class list");
  for (ClassFolder &folder : folders) {
    auto index = map.find(folder.name);
    if (!index) {
      error = folder.path.string() + ": " + map.unknown("class folder", folder.name);
      return false;
    }
    folder.label = *index;
  }
  std::sort(folders.begin(), folders.end(), [](const auto &a, const auto &b) { return a.label < b.label; });

  for (const ClassFolder &folder : folders)
    if (!scanClassFolder(folder, list, error))
      return false;
  if (list.videos.empty() && list.missing.empty()) {
    error = root + ": no videos (" + videoExtensionList() + ") in its " + std::to_string(folders.size()) +
            " class folders";
    return false;
  }
  std::sort(list.ignored.begin(), list.ignored.end());
  out = std::move(list);
  return true;
}

// ---- UCF101 splits -----------------------------------------------------------------------

namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && isBlank(line[pos]))
      ++pos;
    size_t start = pos;
    while (pos < line.size() && !isBlank(line[pos]))
      ++pos;
    if (pos > start)
      out.push_back(line.substr(start, pos - start));
  }
  return out;
}

// classInd.txt: `1 ApplyEyeMakeup` lines, indices 1..N each exactly once, in any order.
bool readClassInd(const std::string &path, std::vector<std::string> &names, std::string &error) {
  std::string text;
  if (!readText(path, text, error))
    return false;
  std::vector<std::optional<std::string>> byIndex;
  std::unordered_map<std::string, size_t> nameLine;
  std::vector<size_t> indexLine;
  for (const Line &line : splitLines(text)) {
    const std::vector<std::string_view> w = words(line.text);
    if (w.empty())
      continue;
    const std::string where = at(path, line.number);
    const std::optional<int64_t> index = w.size() == 2 ? parseIndex(w[0]) : std::nullopt;
    if (!index || *index < 1 || *index > kMaxDerivedClasses) {
      error = where + "expected `index name` with an index from 1, got " + show(line.text);
      return false;
    }
    const std::string name(w[1]);
    if (std::string problem = classNameProblem(name); !problem.empty()) {
      error = where + "class name " + show(name) + " " + problem;
      return false;
    }
    const size_t i = static_cast<size_t>(*index - 1);
    if (byIndex.size() <= i) {
      byIndex.resize(i + 1);
      indexLine.resize(i + 1);
    }
    if (byIndex[i]) {
      error = where + "index " + std::to_string(*index) + " is already class " + show(*byIndex[i]) + " (line " +
              std::to_string(indexLine[i]) + ")";
      return false;
    }
    if (auto [it, fresh] = nameLine.emplace(name, line.number); !fresh) {
      error = where + "class " + show(name) + " is listed twice (first at line " + std::to_string(it->second) + ")";
      return false;
    }
    byIndex[i] = name;
    indexLine[i] = line.number;
  }
  if (byIndex.empty()) {
    error = path + ": no classes (expected lines `index name`)";
    return false;
  }
  names.clear();
  for (size_t i = 0; i < byIndex.size(); ++i) {
    if (!byIndex[i]) {
      error = path + ": no class with index " + std::to_string(i + 1) + " (indices go up to " +
              std::to_string(byIndex.size()) + ")";
      return false;
    }
    names.push_back(*byIndex[i]);
  }
  return true;
}

struct SplitRow {
  std::string path;
  std::string name;  // the class: classInd's for an indexed line, else the folder's
  size_t line;
};

// The class of one split line: the classInd class of its index, cross-checked against the
// folder, or the folder itself.
bool splitRowClass(const std::vector<std::string_view> &w, const std::vector<std::string> &classInd,
                   const std::string &classIndPath, std::string &name, std::string &problem) {
  const std::string folder = fs::path(std::string(w[0])).parent_path().filename().string();
  if (w.size() == 1) {
    if (folder.empty()) {
      problem = show(w[0]) + " has no class index and no class folder";
      return false;
    }
    name = folder;
    return true;
  }
  const std::optional<int64_t> index = parseIndex(w[1]);
  if (!index) {
    problem = "expected a class index from 1 after the path, got " + show(w[1]);
    return false;
  }
  if (classInd.empty()) {
    problem = "class index " + std::string(w[1]) + " but no classInd.txt was given";
    return false;
  }
  if (*index < 1 || *index > static_cast<int64_t>(classInd.size())) {
    problem = "class index " + std::string(w[1]) + " is out of range: " + classIndPath + " has " +
              std::to_string(classInd.size()) + " classes (1.." + std::to_string(classInd.size()) + ")";
    return false;
  }
  name = classInd[static_cast<size_t>(*index - 1)];
  // Case is ignored because the dataset's own spelling varies (HandstandPushups/HandStandPushups).
  if (!folder.empty() && lowerAscii(folder) != lowerAscii(name)) {
    problem = show(w[0]) + " is in folder " + show(folder) + ", but class index " + std::string(w[1]) + " is " +
              show(name) + " in " + classIndPath;
    return false;
  }
  return true;
}

bool readSplitRows(const std::string &splitPath, const std::vector<std::string> &classInd,
                   const std::string &classIndPath, std::vector<SplitRow> &rows, std::string &error) {
  std::string text;
  if (!readText(splitPath, text, error))
    return false;
  for (const Line &line : splitLines(text)) {
    const std::vector<std::string_view> w = words(line.text);
    if (w.empty())
      continue;
    const std::string where = at(splitPath, line.number);
    if (w.size() > 2) {
      error = where + "expected `path` or `path index`, got " + show(line.text);
      return false;
    }
    SplitRow row{std::string(w[0]), "", line.number};
    std::string problem;
    if (!splitRowClass(w, classInd, classIndPath, row.name, problem)) {
      error = where + problem;
      return false;
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) {
    error = splitPath + ": no entries (expected lines `path` or `path index`)";
    return false;
  }
  return true;
}

} // namespace

bool loadUcfSplit(const std::string &splitPath, const std::string &classIndPath, const std::string &videoRoot,
                  const std::vector<std::string> &classes, VideoList &out, std::string &error) {
  if (!checkGivenClasses(classes, error))
    return false;
  std::vector<std::string> classInd;
  if (!classIndPath.empty() && !readClassInd(classIndPath, classInd, error))
    return false;
  std::error_code ec;
  if (!fs::is_directory(videoRoot, ec)) {
    error = videoRoot + ": the video root is not a directory";
    return false;
  }
  std::vector<SplitRow> rows;
  if (!readSplitRows(splitPath, classInd, classIndPath, rows, error))
    return false;

  VideoList list;
  std::string description = "the class list";
  if (!classes.empty()) {
    list.classes = classes;
  } else if (!classInd.empty()) {
    list.classes = classInd;
    description = classIndPath;
  } else {
    for (const SplitRow &row : rows)
      list.classes.push_back(row.name);
    list.classes = sortedUnique(std::move(list.classes));
  }
  const ClassMap map(list.classes, description);
  for (const SplitRow &row : rows) {
    auto index = map.find(row.name);
    if (!index) {
      error = at(splitPath, row.line) + map.unknown("class", row.name);
      return false;
    }
    place(list, {resolve(videoRoot, row.path), *index, splitPath + ":" + std::to_string(row.line)});
  }
  out = std::move(list);
  return true;
}

bool loadVideoList(const std::string &source, const std::string &videoRoot, const std::vector<std::string> &classes,
                   VideoList &out, std::string &error) {
  std::error_code ec;
  const fs::file_status status = fs::status(source, ec);
  if (!fs::exists(status)) {
    error = source + ": " + (status.type() == fs::file_type::not_found ? "no such file or directory" : ec.message());
    return false;
  }
  const fs::path p(source);
  const std::string ext = lowerAscii(p.extension().string());
  const bool isDirectory = fs::is_directory(status);
  if (!videoRoot.empty() && (isDirectory || ext == ".csv")) {
    error = source + ": a video root applies only to UCF101 split files (paths in a CSV are relative to the CSV)";
    return false;
  }
  if (isDirectory)
    return loadClassFolders(source, classes, out, error);
  if (ext == ".csv")
    return loadCsvList(source, classes, out, error);
  if (ext == ".txt" && lowerAscii(p.filename().string()) == "classind.txt") {
    error = source + ": this is UCF101's class index, not a split; pass trainlistNN.txt or testlistNN.txt";
    return false;
  }
  if (ext == ".txt") {
    const fs::path dir = p.parent_path();
    const fs::path classInd = dir / "classInd.txt";
    const bool haveClassInd = fs::is_regular_file(classInd, ec);
    const std::string root = !videoRoot.empty() ? videoRoot : dir.empty() ? "." : dir.string();
    return loadUcfSplit(source, haveClassInd ? classInd.string() : "", root, classes, out, error);
  }
  error = source + ": expected a directory of class folders, a .csv list or a UCF101 split .txt file";
  return false;
}

// ---- Class lists -------------------------------------------------------------------------

bool readClassList(const std::string &path, std::vector<std::string> &names, std::string &error) {
  std::string text;
  if (!readText(path, text, error))
    return false;
  std::vector<Line> lines = splitLines(text);
  while (!lines.empty() && trim(lines.back().text).empty())
    lines.pop_back();
  if (lines.empty()) {
    error = path + ": no class names";
    return false;
  }
  std::vector<std::string> read;
  std::unordered_map<std::string_view, size_t> firstLine;
  for (const Line &line : lines) {
    if (std::string problem = classNameProblem(line.text); !problem.empty()) {
      error = at(path, line.number) + "class name " + show(line.text) + " " + problem;
      return false;
    }
    if (auto [it, fresh] = firstLine.emplace(line.text, line.number); !fresh) {
      error = at(path, line.number) + "class name " + show(line.text) + " is a duplicate of line " +
              std::to_string(it->second);
      return false;
    }
    read.emplace_back(line.text);
  }
  names = std::move(read);
  return true;
}

bool writeClassList(const std::string &path, const std::vector<std::string> &names, std::string &error) {
  if (names.empty()) {
    error = path + ": no class names to write";
    return false;
  }
  if (!checkClassNames(names, path + ": ", error))
    return false;
  std::string text;
  for (const std::string &name : names)
    text.append(name).append("\n");
  return rt::writeFileAtomically(path, {{text.data(), text.size()}}, error);
}

} // namespace vidnet::data
