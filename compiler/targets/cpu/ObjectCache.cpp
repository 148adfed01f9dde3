// The on-disk cache of compiled code: keys, entry format and checks, atomic writes, LRU trim.
#include "compiler/targets/cpu/ObjectCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <link.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

namespace fs = std::filesystem;

namespace vidnet::cpu {
namespace {

constexpr char kMagic[8] = {'V', 'I', 'D', 'N', 'E', 'T', 'C', '1'};
constexpr size_t kHeaderBytes = sizeof kMagic + 32 + 8 + 32;

std::string hex(llvm::ArrayRef<uint8_t> bytes) {
  static const char *digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

bool isEntryName(const std::string &name) {
  return name.size() == 64 &&
         std::all_of(name.begin(), name.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

struct EntryFile {
  fs::path path;
  uint64_t bytes;
  fs::file_time_type time;
};

// Every entry file under `directory`, with its size and time; `leftovers` (when given) gets
// the temporary files of writers that died before renaming them.
std::vector<EntryFile> listEntries(const std::string &directory, std::vector<EntryFile> *leftovers = nullptr) {
  std::vector<EntryFile> entries;
  std::error_code ec;
  for (fs::directory_iterator shard(directory, ec), end; !ec && shard != end; shard.increment(ec)) {
    if (shard->path().filename().string().size() != 2 || !shard->is_directory(ec))
      continue;
    for (fs::directory_iterator file(shard->path(), ec); !ec && file != end; file.increment(ec)) {
      std::error_code fileError;
      std::string name = file->path().filename().string();
      if (leftovers && name.size() > 64 && isEntryName(name.substr(0, 64)) && name.substr(64, 5) == ".tmp.")
        leftovers->push_back({file->path(), 0, file->last_write_time(fileError)});
      if (!isEntryName(name) || !file->is_regular_file(fileError))
        continue;
      uint64_t bytes = file->file_size(fileError);
      fs::file_time_type time = file->last_write_time(fileError);
      if (!fileError)
        entries.push_back({file->path(), bytes, time});
    }
    ec.clear();
  }
  return entries;
}

} // namespace

CacheKeyBuilder::CacheKeyBuilder(llvm::StringRef kind) { add(kind); }

CacheKeyBuilder &CacheKeyBuilder::add(llvm::StringRef field) {
  // Length-prefixed, so that ("ab", "c") and ("a", "bc") are different keys.
  add(static_cast<int64_t>(field.size()));
  hasher_.update(field);
  return *this;
}

CacheKeyBuilder &CacheKeyBuilder::add(int64_t field) {
  uint8_t bytes[8];
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<uint8_t>(static_cast<uint64_t>(field) >> (8 * i));
  hasher_.update(llvm::ArrayRef<uint8_t>(bytes));
  return *this;
}

CacheKey CacheKeyBuilder::key() { return hasher_.final(); }

// Identifies a file by path, size, time and inode: a package upgrade or a rebuild changes it.
static void hashFileStamp(llvm::BLAKE3 &hasher, const std::string &path) {
  struct stat st {};
  hasher.update(path);
  if (::stat(path.c_str(), &st) == 0)
    hasher.update(std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
                  std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino));
}

llvm::StringRef compilerIdentity() {
  static const std::string identity = [] {
    llvm::BLAKE3 hasher;
    hasher.update(LLVM_VERSION_STRING);
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> self = llvm::MemoryBuffer::getFile("/proc/self/exe");
    if (self)
      hasher.update((*self)->getBuffer());
    else // no executable to hash: a key no other process shares, so nothing is reused
      hasher.update(std::to_string(std::random_device{}()) + std::to_string(reinterpret_cast<uintptr_t>(&hasher)));
    // The shared libraries doing the work (libLLVM, libMLIR, ...): a point release of one
    // changes the code without changing vidc.
    ::dl_iterate_phdr(
        [](struct dl_phdr_info *info, size_t, void *data) {
          if (info->dlpi_name && *info->dlpi_name)
            hashFileStamp(*static_cast<llvm::BLAKE3 *>(data), info->dlpi_name);
          return 0;
        },
        &hasher);
    // The linker `cc` runs, for the libraries.
    if (llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc"))
      hashFileStamp(hasher, *cc);
    if (llvm::ErrorOr<std::string> ld = llvm::sys::findProgramByName("ld"))
      hashFileStamp(hasher, *ld);
    return hex(hasher.final());
  }();
  return identity;
}

std::string ObjectCache::defaultDirectory() {
  if (const char *dir = std::getenv("VIDNET_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/vidnet";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/vidnet";
  return ".vidnet-cache";
}

uint64_t ObjectCache::defaultLimitBytes() {
  if (const char *mb = std::getenv("VIDNET_CACHE_MAX_MB"); mb && *mb) {
    char *end = nullptr;
    unsigned long long value = std::strtoull(mb, &end, 10);
    if (end && *end == '\0')
      return static_cast<uint64_t>(value) << 20;
  }
  return uint64_t{1024} << 20;
}

ObjectCache::ObjectCache(std::string directory, uint64_t limitBytes)
    : directory_(std::move(directory)), limitBytes_(limitBytes) {}

std::string ObjectCache::pathOf(const CacheKey &key) const {
  std::string name = hex(key);
  return directory_ + "/" + name.substr(0, 2) + "/" + name;
}

std::optional<llvm::SmallVector<char, 0>> ObjectCache::read(const CacheKey &key) {
  std::string path = pathOf(key);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  auto damaged = [&] {
    std::error_code ec;
    fs::remove(path, ec);
    ++corrupt_;
    return std::nullopt;
  };
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0 ||
      std::memcmp(bytes.data() + sizeof kMagic, key.data(), 32) != 0)
    return damaged();
  uint64_t size = 0;
  for (int i = 0; i < 8; ++i)
    size |= uint64_t(static_cast<uint8_t>(bytes[sizeof kMagic + 32 + i])) << (8 * i);
  if (size != bytes.size() - kHeaderBytes)
    return damaged();
  llvm::StringRef payload(bytes.data() + kHeaderBytes, size);
  CacheKey digest = llvm::BLAKE3::hash(llvm::arrayRefFromStringRef(payload));
  if (std::memcmp(bytes.data() + sizeof kMagic + 40, digest.data(), 32) != 0)
    return damaged();
  std::error_code ec;
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec); // recently used
  return llvm::SmallVector<char, 0>(payload.begin(), payload.end());
}

bool ObjectCache::write(const CacheKey &key, llvm::ArrayRef<char> payload) {
  std::string path = pathOf(key);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec)
    return false;
  // A name of its own per writer: two builds writing the same entry never share a file.
  std::string temporary = path + ".tmp." + std::to_string(std::random_device{}()) +
                          std::to_string(std::hash<const void *>{}(payload.data()));
  {
    std::ofstream out(temporary, std::ios::binary);
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char *>(key.data()), 32);
    char size[8];
    for (int i = 0; i < 8; ++i)
      size[i] = static_cast<char>(static_cast<uint64_t>(payload.size()) >> (8 * i));
    out.write(size, 8);
    CacheKey digest =
        llvm::BLAKE3::hash(llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(payload.data()), payload.size()));
    out.write(reinterpret_cast<const char *>(digest.data()), 32);
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    if (!out.flush()) {
      out.close();
      fs::remove(temporary, ec);
      return false;
    }
  }
  fs::rename(temporary, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    return false;
  }
  return true;
}

void ObjectCache::trim() {
  std::vector<EntryFile> leftovers;
  std::vector<EntryFile> entries = listEntries(directory_, &leftovers);
  for (const EntryFile &e : leftovers)
    if (e.time < fs::file_time_type::clock::now() - std::chrono::hours(1)) { // surely not being written
      std::error_code ec;
      fs::remove(e.path, ec);
    }
  uint64_t total = 0;
  for (const EntryFile &e : entries)
    total += e.bytes;
  if (total <= limitBytes_)
    return;
  std::sort(entries.begin(), entries.end(), [](const EntryFile &a, const EntryFile &b) { return a.time < b.time; });
  for (const EntryFile &e : entries) {
    if (total <= limitBytes_)
      break;
    std::error_code ec;
    if (fs::remove(e.path, ec))
      total -= e.bytes;
  }
}

CacheStats ObjectCache::stats() const {
  CacheStats s;
  for (const EntryFile &e : listEntries(directory_)) {
    ++s.entries;
    s.bytes += e.bytes;
  }
  return s;
}

size_t ObjectCache::clear() {
  size_t removed = 0;
  std::vector<EntryFile> leftovers;
  for (const EntryFile &e : listEntries(directory_, &leftovers)) {
    std::error_code ec;
    removed += fs::remove(e.path, ec);
  }
  for (const EntryFile &e : leftovers) {
    std::error_code ec;
    fs::remove(e.path, ec);
  }
  return removed;
}

} // namespace vidnet::cpu
