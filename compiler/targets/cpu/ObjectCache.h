// A content-addressed, on-disk cache of compiled code (objects, linked libraries) for vidc.
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/BLAKE3.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace vidnet::cpu {

using CacheKey = llvm::BLAKE3Result<32>;

// Builds a key from every input that decides an entry's bytes.
class CacheKeyBuilder {
public:
  explicit CacheKeyBuilder(llvm::StringRef kind);
  CacheKeyBuilder &add(llvm::StringRef field);
  CacheKeyBuilder &add(int64_t field);
  CacheKey key();

private:
  llvm::BLAKE3 hasher_;
};

// What identifies the code generator: a hash of the running executable (vidc, or a test
// binary linking the compiler), the LLVM version, and the path, size, time and inode of every
// shared library it loaded and of the linker, so that a rebuilt compiler or an upgraded
// libLLVM never reads entries an older one wrote.
llvm::StringRef compilerIdentity();

struct CacheStats {
  size_t entries = 0;
  uint64_t bytes = 0;
};

// Entries are files DIR/xx/<64 hex digits>, each a header (magic, key, payload size, payload
// hash) and the payload. A read checks all four, so a truncated, corrupted or misplaced entry
// is a miss (and removed), never returned. Writes go to a temporary file renamed into place,
// so concurrent builds see whole entries or none. Hits refresh the entry's time; trim()
// removes the least recently used entries above the size bound.
class ObjectCache {
public:
  // VIDNET_CACHE_DIR, else $XDG_CACHE_HOME/vidnet, else $HOME/.cache/vidnet.
  static std::string defaultDirectory();
  // VIDNET_CACHE_MAX_MB megabytes, else 1024.
  static uint64_t defaultLimitBytes();

  ObjectCache(std::string directory, uint64_t limitBytes);

  std::optional<llvm::SmallVector<char, 0>> read(const CacheKey &key);
  // False (and no entry) when the directory cannot be written; the build goes on uncached.
  bool write(const CacheKey &key, llvm::ArrayRef<char> payload);
  // Removes least recently used entries until the cache holds at most the size bound.
  void trim();
  CacheStats stats() const;
  // Removes every entry; returns how many.
  size_t clear();

  const std::string &directory() const { return directory_; }
  uint64_t limitBytes() const { return limitBytes_; }
  // Entries found damaged and removed by read() since this object was made.
  size_t corruptEntries() const { return corrupt_; }

private:
  std::string pathOf(const CacheKey &key) const;

  std::string directory_;
  uint64_t limitBytes_;
  std::atomic<size_t> corrupt_ = 0;
};

} // namespace vidnet::cpu
