// vidc's cache of compiled code: damaged entries are detected and rebuilt, never linked;
// cached, partly cached and cold builds give the same bundle.
#include "ScratchDir.h"

#include "compiler/Frontend.h"
#include "compiler/bundle/BundleWriter.h"
#include "compiler/targets/cpu/ObjectCache.h"
#include "runtime/core/Model.h"

#include <thread>

namespace fs = std::filesystem;
using namespace vidnet;

namespace {

using test::ScratchDirTest;

cpu::CacheKey keyOf(const std::string &text) { return cpu::CacheKeyBuilder("test").add(text).key(); }

std::string entryPath(const cpu::ObjectCache &cache, const cpu::CacheKey &key) {
  std::string hex;
  for (uint8_t b : key) {
    char digits[3];
    std::snprintf(digits, sizeof digits, "%02x", b);
    hex += digits;
  }
  return cache.directory() + "/" + hex.substr(0, 2) + "/" + hex;
}

std::string fileBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

llvm::ArrayRef<char> bytesOf(const std::string &s) { return {s.data(), s.size()}; }

class ObjectCacheTest : public ScratchDirTest {};

TEST_F(ObjectCacheTest, ReadsBackWhatItWrote) {
  cpu::ObjectCache cache(path("cache"), 1 << 20);
  EXPECT_FALSE(cache.read(keyOf("a")));
  ASSERT_TRUE(cache.write(keyOf("a"), bytesOf("object a")));
  auto a = cache.read(keyOf("a"));
  ASSERT_TRUE(a);
  EXPECT_EQ(std::string(a->begin(), a->end()), "object a");
  EXPECT_FALSE(cache.read(keyOf("b")));
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(cache.corruptEntries(), 0u);
}

TEST_F(ObjectCacheTest, KeysSeparateTheirFields) {
  EXPECT_NE(cpu::CacheKeyBuilder("k").add("ab").add("c").key(), cpu::CacheKeyBuilder("k").add("a").add("bc").key());
  EXPECT_EQ(cpu::CacheKeyBuilder("k").add("ab").add(3).key(), cpu::CacheKeyBuilder("k").add("ab").add(3).key());
}

TEST_F(ObjectCacheTest, FlippedByteTruncationAndWrongKeyAreMissesAndRemoved) {
  cpu::ObjectCache cache(path("cache"), 1 << 20);
  std::string payload(4096, 'x');
  for (const char *damage : {"flip", "truncate", "wrong-key", "flip-header"}) {
    SCOPED_TRACE(damage);
    ASSERT_TRUE(cache.write(keyOf("a"), bytesOf(payload)));
    std::string file = entryPath(cache, keyOf("a"));
    std::string bytes = fileBytes(file);
    ASSERT_GT(bytes.size(), payload.size());
    std::string target = file;
    if (std::string(damage) == "flip")
      bytes[bytes.size() - 100] ^= 0x01;
    else if (std::string(damage) == "flip-header")
      bytes[9] ^= 0x40;
    else if (std::string(damage) == "truncate")
      bytes.resize(bytes.size() - 1);
    else // a whole, valid entry at another key's place
      target = entryPath(cache, keyOf("b"));
    fs::create_directories(fs::path(target).parent_path());
    std::ofstream(target, std::ios::binary | std::ios::trunc) << bytes;
    size_t before = cache.corruptEntries();
    EXPECT_FALSE(cache.read(target == file ? keyOf("a") : keyOf("b")));
    EXPECT_EQ(cache.corruptEntries(), before + 1);
    EXPECT_FALSE(fs::exists(target)) << "a damaged entry is removed so that it is rebuilt";
    fs::remove(file);
  }
}

TEST_F(ObjectCacheTest, TrimRemovesTheLeastRecentlyUsed) {
  cpu::ObjectCache cache(path("cache"), 2 * (4096 + 80));
  std::string payload(4096, 'x');
  auto age = [&](const char *name, int seconds) {
    fs::last_write_time(entryPath(cache, keyOf(name)),
                        fs::file_time_type::clock::now() - std::chrono::seconds(seconds));
  };
  for (const char *name : {"old", "middle", "new"})
    ASSERT_TRUE(cache.write(keyOf(name), bytesOf(payload)));
  age("old", 300);
  age("middle", 200);
  age("new", 100);
  ASSERT_TRUE(cache.read(keyOf("old"))); // used now: the most recent
  cache.trim();
  EXPECT_TRUE(cache.read(keyOf("old")));
  EXPECT_FALSE(fs::exists(entryPath(cache, keyOf("middle"))));
  EXPECT_TRUE(cache.read(keyOf("new")));
  EXPECT_EQ(cache.stats().entries, 2u);
  EXPECT_EQ(cache.clear(), 2u);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST_F(ObjectCacheTest, ConcurrentWritersOfOneEntryLeaveAWholeEntry) {
  cpu::ObjectCache cache(path("cache"), 1 << 26);
  std::string payload(1 << 20, 'y');
  std::vector<std::thread> writers;
  std::atomic<int> written = 0;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&] {
      for (int i = 0; i < 5; ++i)
        written += cache.write(keyOf("shared"), bytesOf(payload));
    });
  std::atomic<int> wholeReads = 0, reads = 0;
  std::thread reader([&] {
    for (int i = 0; i < 50; ++i)
      if (auto r = cache.read(keyOf("shared"))) {
        ++reads;
        wholeReads += r->size() == payload.size();
      }
  });
  for (std::thread &w : writers)
    w.join();
  reader.join();
  EXPECT_EQ(written, 20);
  EXPECT_EQ(wholeReads, reads);
  EXPECT_EQ(cache.corruptEntries(), 0u);
  size_t files = 0;
  for (const fs::directory_entry &e : fs::recursive_directory_iterator(path("cache")))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1u) << "one entry, no temporary files left behind";
}

// One bundle of the tiny f-R2D, built with `cache` (or without); returns model.so's bytes.
std::string buildTiny(const std::string &outDir, cpu::ObjectCache *cache, unsigned threads, BundleTimings &timings) {
  ElaborateOptions options;
  options.input = Shape{3, 4, 16, 16};
  options.classes = 3;
  FrontendResult r = runFrontend(std::string(VIDNET_SOURCE_DIR) + "/examples/tiny_fr2d.vnet", options);
  EXPECT_TRUE(r.ok());
  if (!r.ok())
    return {};
  BundleRequest request{*r.graph, r.source->text(), 2, true, cpu::hostTarget(), outDir};
  request.cache = cache;
  request.threads = threads;
  std::string error;
  EXPECT_TRUE(writeCpuBundle(request, timings, error)) << error;
  return fileBytes(outDir + "/model.so");
}

std::vector<float> tinyLogits(const std::string &bundleDir) {
  std::string error;
  std::unique_ptr<rt::Bundle> bundle = rt::Bundle::open(bundleDir, error);
  EXPECT_TRUE(bundle) << error;
  if (!bundle)
    return {};
  rt::Model model(*bundle);
  model.initialize(3);
  const rt::Manifest &m = bundle->manifest();
  std::vector<float> clip(static_cast<size_t>(m.channels * m.frames * m.height * m.width));
  for (size_t i = 0; i < clip.size(); ++i)
    clip[i] = static_cast<float>((i * 7919) % 101) / 50.0f - 1.0f;
  std::vector<float> logits(static_cast<size_t>(m.classes));
  EXPECT_TRUE(model.forward(clip.data(), 1, logits.data(), error)) << error;
  return logits;
}

TEST_F(ObjectCacheTest, CachedPartlyCachedAndColdBuildsGiveTheSameBundle) {
  cpu::ObjectCache cache(path("cache"), 1 << 30);
  BundleTimings cold, warm, parts, damaged, uncached;
  std::string coldLib = buildTiny(path("cold.vbundle"), &cache, 2, cold);
  ASSERT_FALSE(coldLib.empty());
  EXPECT_FALSE(cold.libraryFromCache);
  EXPECT_EQ(cold.emit.partsFromCache, 0u);

  std::string warmLib = buildTiny(path("warm.vbundle"), &cache, 2, warm);
  EXPECT_TRUE(warm.libraryFromCache);
  EXPECT_EQ(warmLib, coldLib);

  // An emptied cache refilled on one thread: the same library as on two.
  size_t objects = cache.stats().entries - 1; // all but the library
  EXPECT_EQ(cache.clear(), objects + 1);
  buildTiny(path("refill.vbundle"), &cache, 1, parts);
  EXPECT_EQ(fileBytes(path("refill.vbundle/model.so")), coldLib);
  // Without the library entry, every object comes from the cache.
  for (const fs::directory_entry &e : fs::recursive_directory_iterator(path("cache")))
    if (e.is_regular_file() && e.file_size() == coldLib.size() + 80)
      fs::remove(e.path()); // the library entry (its header is 80 bytes)
  cpu::ObjectCache objectsOnly(path("cache"), 1 << 30);
  BundleTimings fromParts;
  EXPECT_EQ(buildTiny(path("parts.vbundle"), &objectsOnly, 2, fromParts), coldLib);
  EXPECT_FALSE(fromParts.libraryFromCache);
  EXPECT_EQ(fromParts.emit.partsFromCache, fromParts.emit.parts);
  EXPECT_EQ(fromParts.emit.parts, objects);

  // A damaged object is rebuilt, not linked.
  for (const fs::directory_entry &e : fs::recursive_directory_iterator(path("cache")))
    if (e.is_regular_file() && e.file_size() != coldLib.size() + 80) {
      std::string bytes = fileBytes(e.path().string());
      bytes[bytes.size() / 2] ^= 0x10;
      std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << bytes;
    }
  for (const fs::directory_entry &e : fs::recursive_directory_iterator(path("cache")))
    if (e.is_regular_file() && e.file_size() == coldLib.size() + 80)
      fs::remove(e.path());
  cpu::ObjectCache afterDamage(path("cache"), 1 << 30);
  EXPECT_EQ(buildTiny(path("damaged.vbundle"), &afterDamage, 2, damaged), coldLib);
  EXPECT_EQ(damaged.emit.partsFromCache, 0u);
  EXPECT_EQ(afterDamage.corruptEntries(), objects);

  EXPECT_EQ(buildTiny(path("uncached.vbundle"), nullptr, 2, uncached), coldLib);
  std::vector<float> expected = tinyLogits(path("uncached.vbundle"));
  ASSERT_FALSE(expected.empty());
  for (const char *bundle : {"cold.vbundle", "warm.vbundle", "parts.vbundle", "damaged.vbundle"})
    EXPECT_EQ(tinyLogits(path(bundle)), expected) << bundle;
  EXPECT_EQ(fileBytes(path("warm.vbundle/manifest.json")), fileBytes(path("uncached.vbundle/manifest.json")));
}

} // namespace
