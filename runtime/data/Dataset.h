// Video dataset lists (CSV, class folders, UCF101 splits) and the class lists that keep label indices stable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vidnet::data {

struct VideoItem {
  std::string path;    // relative entries already joined to the list's directory or the video root
  int64_t label = 0;   // index into VideoList::classes
  std::string source;  // for messages: "train.csv:12", "trainlist01.txt:3", or the class folder
};

struct VideoList {
  std::vector<VideoItem> videos;     // entries whose file exists, in list order
  std::vector<VideoItem> missing;    // entries that are not an existing regular file, labels resolved
  std::vector<std::string> classes;  // label index -> class name
  std::vector<std::string> ignored;  // class folders only: hidden, non-video and nested entries skipped
};

// Every loader below: `classes` empty means derive the classes from the data; otherwise it is
// the fixed index -> name list every label maps through (an unknown name is an error), so that
// indices never shift between runs. A missing video is not an error: it goes to `missing`, so
// the caller can list them all before training starts. A missing or unreadable list, root or
// split file is. Messages are "FILE:LINE: ..." and quote the offending values. `out` is only
// written on success.

// Lines `path,label`. The first data line is skipped if its fields are `path` and `label`
// (any case). Blank lines and lines whose first non-blank character is '#' are skipped; CRLF
// and a UTF-8 BOM are accepted. A field may be double-quoted, "" inside quotes being one quote,
// which is how a path containing a comma (or starting with '#') is written. The label is a
// class name or a non-negative integer index, the same kind on every line. Relative paths are
// resolved against the CSV's directory. Derived classes: the sorted unique names, or, for
// integer labels, "0".."max".
bool loadCsvList(const std::string &csvPath, const std::vector<std::string> &classes, VideoList &out,
                 std::string &error);

// root/<class>/<video>, a video being a regular file (or a link to one) ending in .mp4, .avi,
// .mkv, .webm or .mov in any case. Derived classes: every non-hidden folder in `root`, sorted
// by name (byte order), empty ones included. Videos come grouped by class in class order, each
// class's sorted by file name. Hidden entries, other files and deeper folders are skipped and
// listed in `ignored`; a video-named link to nothing goes to `missing`.
bool loadClassFolders(const std::string &root, const std::vector<std::string> &classes, VideoList &out,
                      std::string &error);

// A UCF101 split: trainlist lines `Class/v_Class_g08_c01.avi 1` (1-based index into
// classInd.txt, whose lines are `1 ApplyEyeMakeup`) or testlist lines `Class/v_...avi` (the
// class is the video's folder). Paths are relative to `videoRoot`. An indexed line whose folder
// is not its classInd class (ignoring case) is an error: an off-by-one index would otherwise
// train silently on wrong labels. `classIndPath` may be empty if no line has an index. Derived
// classes: classInd's order, or without it the sorted unique folder names.
bool loadUcfSplit(const std::string &splitPath, const std::string &classIndPath, const std::string &videoRoot,
                  const std::vector<std::string> &classes, VideoList &out, std::string &error);

// The CLI's one entry point: a directory (class folders), a .csv file, or a UCF split .txt file
// with classInd.txt taken from its directory if present. `videoRoot` is for split files only
// (empty: the split file's directory); CSV paths are always relative to the CSV.
bool loadVideoList(const std::string &source, const std::string &videoRoot, const std::vector<std::string> &classes,
                   VideoList &out, std::string &error);

// One class name per line, line i (from 0) naming class i. CRLF, a UTF-8 BOM and blank lines
// at the very end are accepted. Rejected, with FILE:LINE: no names, an empty name (a blank line
// would shift every later index), a name with a comma, leading or trailing whitespace or a
// control character, a duplicate.
bool readClassList(const std::string &path, std::vector<std::string> &names, std::string &error);

// Writes the names, one per line, atomically (a crash leaves the old list or the new one).
// Refuses what readClassList would reject, so that every written list reads back.
bool writeClassList(const std::string &path, const std::vector<std::string> &names, std::string &error);

} // namespace vidnet::data
