// Whole-file reads and crash-safe whole-file writes for the runtime's file formats (.npy, .safetensors).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace vidnet::rt {

// Writes `chunks`, in order, to path + ".tmp.<pid>", fsyncs it, renames it over `path` and
// fsyncs the directory, so a reader (or a crash) sees either the old file or the whole new
// one, never a torn mix. On any failure before the rename it removes the temp file, leaves
// an existing `path` untouched and says why (strerror). An existing `path` keeps its
// permission bits. Two threads of one process must not write the same `path` at once: they
// would share the temp name.
bool writeFileAtomically(const std::string &path, const std::vector<std::pair<const void *, size_t>> &chunks,
                         std::string &error);

// Reads the whole of `path` into `out`. The error names the path and the strerror.
bool readWholeFile(const std::string &path, std::vector<char> &out, std::string &error);

} // namespace vidnet::rt
