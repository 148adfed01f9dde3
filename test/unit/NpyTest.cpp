// Tests for runtime/io/Npy against files byte-exact as numpy 1.24's np.save writes them, and
// for writeFileAtomically, which both of the runtime's writers go through.
#include "runtime/io/AtomicFile.h"
#include "runtime/io/Npy.h"
#include "test/unit/ScratchDir.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <iterator>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace vidnet::rt;
namespace fs = std::filesystem;

namespace {


const std::string kMagic("\x93NUMPY", 6);

class NpyTest : public vidnet::test::ScratchDirTest {
protected:
  // Reads a file expected to be rejected; returns the message.
  std::string readError(const std::string &name) const {
    NpyArray array;
    std::string error;
    EXPECT_FALSE(readNpy(path(name), array, error)) << name << " was accepted";
    EXPECT_EQ(error.rfind(path(name) + ": ", 0), 0u) << "the message should start with the path: " << error;
    return error;
  }
};

// A .npy file around a header dict, padded with spaces and '\n' to `align` the way np.save does.
std::string npyFile(const std::string &dict, const std::string &data, int major = 1, size_t align = 64) {
  const size_t lengthBytes = major == 1 ? 2 : 4;
  std::string header = dict;
  header.append(align - (kMagic.size() + 2 + lengthBytes + header.size() + 1) % align, ' ');
  header += '\n';
  std::string file = kMagic + static_cast<char>(major) + '\0';
  for (size_t i = 0; i < lengthBytes; ++i)
    file += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return file + header + data;
}

std::string floatBytes(std::initializer_list<float> values) {
  std::string s;
  for (float v : values)
    s.append(reinterpret_cast<const char *>(&v), sizeof v);
  return s;
}

TEST_F(NpyTest, ReadsAndWritesExactlyWhatNumpySaveWrites) {
  // np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3)) with numpy 1.24: version 1.0,
  // header length 118 (0x76), 20 growth-axis spaces and alignment padding, 128-byte preamble.
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string data = floatBytes({0, 1, 2, 3, 4, 5});
  const std::string expected = kMagic + std::string("\x01\x00\x76\x00", 4) + dict + std::string(58, ' ') + "\n" + data;
  ASSERT_EQ(expected.size(), 128u + 24u);

  writeRaw("numpy.npy", expected);
  NpyArray array;
  std::string error;
  ASSERT_TRUE(readNpy(path("numpy.npy"), array, error)) << error;
  EXPECT_EQ(array.dtype, "<f4");
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(array.elements(), 6);
  EXPECT_EQ(std::string(array.data.begin(), array.data.end()), data);

  ASSERT_TRUE(writeNpy(path("ours.npy"), "<f4", {2, 3}, data.data(), data.size(), error)) << error;
  EXPECT_EQ(readRaw("ours.npy"), expected);
}

TEST_F(NpyTest, WritesNumpyHeadersForScalarsAndOneDimension) {
  std::string error;
  // np.save of np.float64(2.5): shape (), so no growth-axis spaces.
  const double scalar = 2.5;
  ASSERT_TRUE(writeNpy(path("scalar.npy"), "<f8", {}, &scalar, sizeof scalar, error)) << error;
  EXPECT_EQ(readRaw("scalar.npy"), kMagic + std::string("\x01\x00\x76\x00", 4) +
                                       "{'descr': '<f8', 'fortran_order': False, 'shape': (), }" +
                                       std::string(62, ' ') + "\n" + std::string(reinterpret_cast<const char *>(&scalar), 8));
  // np.save of np.arange(5): a 1-d shape is the tuple (5,).
  const int64_t ints[5] = {0, 1, 2, 3, 4};
  ASSERT_TRUE(writeNpy(path("ints.npy"), "<i8", {5}, ints, sizeof ints, error)) << error;
  EXPECT_EQ(readRaw("ints.npy"), kMagic + std::string("\x01\x00\x76\x00", 4) +
                                     "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }" +
                                     std::string(60, ' ') + "\n" + std::string(reinterpret_cast<const char *>(ints), 40));
}

TEST_F(NpyTest, RoundTripsEveryDtypeAndShape) {
  const std::vector<std::pair<std::string, size_t>> dtypes = {
      {"<f2", 2}, {"<f4", 4}, {"<f8", 8}, {"|i1", 1}, {"<i2", 2}, {"<i4", 4}, {"<i8", 8},
      {"|u1", 1}, {"<u2", 2}, {"<u4", 4}, {"<u8", 8}, {"|b1", 1}, {"<c8", 8}, {"<c16", 16}};
  const std::vector<std::vector<int64_t>> shapes = {{}, {0}, {7}, {2, 3, 4}, {3, 0, 2}, {1, 1, 5}, {2, 1, 3, 1, 2}};
  for (const auto &[dtype, itemSize] : dtypes)
    for (const auto &shape : shapes) {
      int64_t elements = 1;
      for (int64_t d : shape)
        elements *= d;
      std::vector<char> data(static_cast<size_t>(elements) * itemSize);
      for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(dtype == "|b1" ? i % 2 : i * 37 + 11);
      SCOPED_TRACE(dtype + " with " + std::to_string(shape.size()) + " dims");
      std::string error;
      ASSERT_TRUE(writeNpy(path("a.npy"), dtype, shape, data.data(), data.size(), error)) << error;
      const std::string file = readRaw("a.npy");
      const size_t preamble = file.size() - data.size();
      EXPECT_EQ(preamble % 64, 0u) << "the data must start 64-byte aligned";
      EXPECT_EQ(file[preamble - 1], '\n');
      NpyArray array;
      ASSERT_TRUE(readNpy(path("a.npy"), array, error)) << error;
      EXPECT_EQ(array.dtype, dtype);
      EXPECT_EQ(array.shape, shape);
      EXPECT_EQ(array.elements(), elements);
      EXPECT_EQ(array.data, data);
    }
  EXPECT_EQ(listDir(), std::vector<std::string>{"a.npy"});
}

TEST_F(NpyTest, NormalizesByteOrderToLittleEndianSpelling) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"=f4", "<f4"}, {"f8", "<f8"}, {"|i8", "<i8"}, {"<u1", "|u1"}, {">u1", "|u1"}, {"=b1", "|b1"}, {"b1", "|b1"}};
  for (const auto &[written, normalized] : cases) {
    SCOPED_TRACE(written);
    const std::string data(normalized == "|u1" || normalized == "|b1" ? 3 : normalized == "<f4" ? 12 : 24, '\1');
    writeRaw("a.npy", npyFile("{'descr': '" + written + "', 'fortran_order': False, 'shape': (3,), }", data));
    NpyArray array;
    std::string error;
    ASSERT_TRUE(readNpy(path("a.npy"), array, error)) << error;
    EXPECT_EQ(array.dtype, normalized);

    ASSERT_TRUE(writeNpy(path("b.npy"), written, {3}, data.data(), data.size(), error)) << error;
    EXPECT_NE(readRaw("b.npy").find("'descr': '" + normalized + "'"), std::string::npos);
  }
}

TEST_F(NpyTest, ReadsHeadersWrittenByOtherWriters) {
  const std::string six = floatBytes({1, 2, 3, 4, 5, 6});
  struct Case {
    const char *what;
    std::string file;
    std::vector<int64_t> shape;
  };
  const std::vector<Case> cases = {
      {"keys in another order, double quotes, odd spacing",
       npyFile("{ \"shape\" :( 2 ,3 ) ,'fortran_order':False,  'descr' : '<f4' }", six), {2, 3}},
      {"no trailing comma, tuple with trailing comma", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", six), {6}},
      {"numpy < 1.14: 16-byte alignment", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", six, 1, 16), {2, 3}},
      {"Python 2 long literals", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", six), {2, 3}},
      {"version 2.0", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", six, 2), {3, 2}},
      {"version 3.0", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 6), }", six, 3), {1, 6}},
      {"fortran_order True, but 1-d: the same bytes as C order",
       npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }", six), {6}},
      {"fortran_order True with one non-unit dimension", npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 6, 1), }", six), {1, 6, 1}},
      {"fortran_order True, empty", npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 0, 3), }", ""), {2, 0, 3}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.what);
    writeRaw("a.npy", c.file);
    NpyArray array;
    std::string error;
    ASSERT_TRUE(readNpy(path("a.npy"), array, error)) << error;
    EXPECT_EQ(array.dtype, "<f4");
    EXPECT_EQ(array.shape, c.shape);
    EXPECT_EQ(std::string(array.data.begin(), array.data.end()), std::count(c.shape.begin(), c.shape.end(), 0) ? "" : six);
  }
}

TEST_F(NpyTest, WritesVersion2WhenTheHeaderOutgrowsVersion1) {
  // 30000 unit dimensions make a header of about 90 kB, beyond 1.0's 16-bit length.
  const std::vector<int64_t> shape(30000, 1);
  const float value = 7;
  std::string error;
  ASSERT_TRUE(writeNpy(path("big.npy"), "<f4", shape, &value, sizeof value, error)) << error;
  const std::string file = readRaw("big.npy");
  EXPECT_EQ(file.substr(0, 8), kMagic + std::string("\x02\x00", 2));
  EXPECT_EQ((file.size() - sizeof value) % 64, 0u);
  NpyArray array;
  ASSERT_TRUE(readNpy(path("big.npy"), array, error)) << error;
  EXPECT_EQ(array.shape, shape);
  EXPECT_EQ(array.data.size(), sizeof value);
}

TEST_F(NpyTest, RejectsWhatItCannotReadAndSaysWhy) {
  const std::string f4 = "'descr': '<f4', 'fortran_order': False";
  struct Case {
    const char *what;
    std::string file;
    std::vector<std::string> words;
  };
  const std::vector<Case> cases = {
      {"empty file", "", {"not a .npy file"}},
      {"bad magic", "PK\x03\x04 this is a zip file", {"not a .npy file", "magic"}},
      {"version 4.0", kMagic + std::string("\x04\x00\x10\x00", 4) + std::string(16, ' '), {"unsupported .npy format version 4.0"}},
      {"version 1.1", kMagic + std::string("\x01\x01\x10\x00", 4) + std::string(16, ' '), {"unsupported .npy format version 1.1"}},
      {"file ends inside the header length", kMagic + std::string("\x02\x00\x10", 3), {"truncated", "header length"}},
      {"header longer than the file", kMagic + std::string("\x01\x00\x00\x01", 4) + "{'descr'", {"truncated", "header is 256 bytes"}},
      {"fortran order", npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", std::string(24, '\0')),
       {"fortran_order", "np.ascontiguousarray", "[2, 3]"}},
      {"big-endian", npyFile("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", std::string(8, '\0')),
       {"big-endian", "'>f4'", "astype('<f4')"}},
      {"object array", npyFile("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", std::string(16, '\0')),
       {"object arrays", "'|O'"}},
      {"structured dtype", npyFile("{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (2,), }", std::string(16, '\0')),
       {"structured"}},
      {"unicode strings", npyFile("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", std::string(24, '\0')),
       {"unsupported dtype '<U3'"}},
      {"f3", npyFile("{'descr': '<f3', 'fortran_order': False, 'shape': (2,), }", std::string(6, '\0')),
       {"unsupported dtype '<f3'"}},
      {"no dict", npyFile("descr: <f4", ""), {"malformed header", "'{'"}},
      {"missing shape", npyFile("{" + f4 + ", }", ""), {"malformed header", "no 'shape' key"}},
      {"unknown key", npyFile("{" + f4 + ", 'shape': (2,), 'extra': 1, }", std::string(8, '\0')),
       {"malformed header", "unexpected key 'extra'"}},
      {"repeated key", npyFile("{" + f4 + ", 'shape': (2,), 'shape': (2,), }", std::string(8, '\0')),
       {"malformed header", "'shape' appears twice"}},
      {"unterminated dict", npyFile("{" + f4 + ", 'shape': (2,)", std::string(8, '\0')), {"malformed header", "expected ',' or '}'"}},
      {"text after the dict", npyFile("{" + f4 + ", 'shape': (2,), } x", std::string(8, '\0')), {"malformed header", "after the closing"}},
      {"(5) is not a tuple", npyFile("{" + f4 + ", 'shape': (5), }", std::string(20, '\0')), {"malformed header", "not a tuple", "(5,)"}},
      {"shape is a list", npyFile("{" + f4 + ", 'shape': [5], }", std::string(20, '\0')), {"'shape' is not a tuple"}},
      {"negative dimension", npyFile("{" + f4 + ", 'shape': (2, -3), }", ""), {"negative dimension -3"}},
      {"float dimension", npyFile("{" + f4 + ", 'shape': (2.5,), }", ""), {"malformed header", "expected ',' or ')'"}},
      {"huge dimension", npyFile("{" + f4 + ", 'shape': (99999999999999999999999,), }", ""), {"malformed header", "too large"}},
      {"size overflow", npyFile("{" + f4 + ", 'shape': (4611686018427387904, 4), }", ""), {"too large to address"}},
      {"fortran_order is a string", npyFile("{'descr': '<f4', 'fortran_order': 'no', 'shape': (2,), }", ""),
       {"'fortran_order' is not True or False"}},
      {"truncated data", npyFile("{" + f4 + ", 'shape': (2, 3, 4, 5), }", std::string(100, '\0')),
       {"truncated: shape [2, 3, 4, 5] of <f4 needs 480 bytes, file has 100"}},
      {"trailing bytes", npyFile("{" + f4 + ", 'shape': (2,), }", std::string(12, '\0')),
       {"4 trailing bytes", "needs 8 bytes, file has 12"}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.what);
    writeRaw("bad.npy", c.file);
    const std::string error = readError("bad.npy");
    for (const std::string &word : c.words)
      EXPECT_CONTAINS(error, (word));
  }
}

TEST_F(NpyTest, ReportsMissingFilesAndDirectoriesAndKeepsTheOutput) {
  NpyArray array;
  array.dtype = "<i4";
  array.shape = {1};
  std::string error;
  EXPECT_FALSE(readNpy(path("missing.npy"), array, error));
  EXPECT_EQ(error, path("missing.npy") + ": cannot open: No such file or directory");
  EXPECT_FALSE(readNpy(dir, array, error));
  EXPECT_EQ(error, dir + ": is a directory, not a file");
  EXPECT_EQ(array.dtype, "<i4") << "a failed read must leave the output alone";
  EXPECT_EQ(array.shape, std::vector<int64_t>{1});
}

TEST_F(NpyTest, WriteRejectsInconsistentArguments) {
  const float data[6] = {};
  std::string error;
  EXPECT_FALSE(writeNpy(path("a.npy"), "<f4", {2, 3}, data, 20, error));
  EXPECT_EQ(error, path("a.npy") + ": data has 20 bytes but shape [2, 3] of <f4 needs 24");
  EXPECT_FALSE(writeNpy(path("a.npy"), "<f16", {6}, data, 24, error));
  EXPECT_CONTAINS(error, ("unsupported dtype '<f16'"));
  EXPECT_FALSE(writeNpy(path("a.npy"), ">f4", {6}, data, 24, error));
  EXPECT_CONTAINS(error, ("big-endian"));
  EXPECT_FALSE(writeNpy(path("a.npy"), "<f4", {-2, -3}, data, 24, error));
  EXPECT_CONTAINS(error, ("negative dimension"));
  EXPECT_FALSE(writeNpy(path("a.npy"), "<f4", {6}, nullptr, 24, error));
  EXPECT_CONTAINS(error, ("null"));
  EXPECT_TRUE(listDir().empty()) << "nothing may be written when the arguments are wrong";
}

// --- writeFileAtomically -------------------------------------------------------------------

using AtomicFileTest = NpyTest;

bool writeText(const std::string &path, const std::string &text, std::string &error) {
  return writeFileAtomically(path, {{text.data(), text.size()}}, error);
}

// Runs `write` where the directory cannot be written: with the directory made read-only, or,
// as root (which ignores permissions), in a child process that drops to user nobody.
// Returns (result, error); skips the test when neither is possible.
std::pair<bool, std::string> runWithoutWriteAccess(const std::string &dir, const std::function<bool(std::string &)> &write) {
  if (::geteuid() != 0) {
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
    std::string error;
    bool ok = write(error);
    fs::permissions(dir, fs::perms::owner_all);
    return {ok, error};
  }
  // Readable and searchable for the unprivileged child, but not writable.
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  int fds[2];
  if (::pipe(fds) != 0)
    return {true, "pipe failed"};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0)
      ::_exit(77);
    std::string error;
    bool ok = write(error);
    ssize_t ignored = ::write(fds[1], error.data(), error.size());
    (void)ignored;
    ::_exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  std::string error;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0)
    error.append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
    return {true, "SKIP"};
  return {WIFEXITED(status) && WEXITSTATUS(status) == 0, error};
}

TEST_F(AtomicFileTest, ReplacesTheFileAndLeavesNoTemporaryFiles) {
  std::string error;
  ASSERT_TRUE(writeText(path("f"), "old contents", error)) << error;
  const std::string a = "new ", b = "contents";
  ASSERT_TRUE(writeFileAtomically(path("f"), {{a.data(), a.size()}, {nullptr, 0}, {b.data(), b.size()}}, error)) << error;
  EXPECT_EQ(readRaw("f"), "new contents");
  ASSERT_TRUE(writeFileAtomically(path("empty"), {}, error)) << error;
  EXPECT_EQ(readRaw("empty"), "");
  EXPECT_EQ(listDir(), (std::vector<std::string>{"empty", "f"}));
}

TEST_F(AtomicFileTest, KeepsThePermissionsOfTheFileItReplaces) {
  std::string error;
  ASSERT_TRUE(writeText(path("secret"), "v1", error)) << error;
  fs::permissions(path("secret"), fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_TRUE(writeText(path("secret"), "v2", error)) << error;
  EXPECT_EQ(fs::status(path("secret")).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(AtomicFileTest, FailsOnADirectoryAndLeavesItAlone) {
  fs::create_directory(path("d"));
  writeRaw("d/inside", "x");
  std::string error;
  EXPECT_FALSE(writeText(path("d"), "data", error));
  EXPECT_EQ(error.rfind(path("d") + ": ", 0), 0u) << error;
  EXPECT_CONTAINS(error, ("Is a directory"));
  EXPECT_TRUE(fs::is_directory(path("d")));
  EXPECT_EQ(readRaw("d/inside"), "x");
  EXPECT_EQ(listDir(), std::vector<std::string>{"d"}) << "the temporary file must be removed";

  const float value = 1;
  EXPECT_FALSE(writeNpy(path("d"), "<f4", {}, &value, sizeof value, error));
  EXPECT_CONTAINS(error, ("Is a directory"));
  EXPECT_EQ(listDir(), std::vector<std::string>{"d"});
}

TEST_F(AtomicFileTest, FailsInAnUnwritableDirectoryAndKeepsTheOldFile) {
  const float old[2] = {1, 2}, replacement[2] = {3, 4};
  std::string error;
  ASSERT_TRUE(writeNpy(path("w.npy"), "<f4", {2}, old, sizeof old, error)) << error;
  const std::string before = readRaw("w.npy");
  auto [ok, message] = runWithoutWriteAccess(dir, [&](std::string &e) {
    return writeNpy(path("w.npy"), "<f4", {2}, replacement, sizeof replacement, e);
  });
  if (message == "SKIP")
    GTEST_SKIP() << "running as root and cannot drop privileges";
  EXPECT_FALSE(ok);
  EXPECT_EQ(message.rfind(path("w.npy") + ": cannot create temporary file", 0), 0u) << message;
  EXPECT_CONTAINS(message, ("Permission denied"));
  EXPECT_EQ(readRaw("w.npy"), before);
  EXPECT_EQ(listDir(), std::vector<std::string>{"w.npy"});
}

TEST_F(AtomicFileTest, FailsWhenTheDirectoryDoesNotExist) {
  std::string error;
  EXPECT_FALSE(writeText(path("no/such/dir/f"), "data", error));
  EXPECT_CONTAINS(error, ("No such file or directory"));
  EXPECT_TRUE(listDir().empty());
}

} // namespace
