// A GoogleTest fixture that gives each test a fresh scratch directory (removed afterwards) and
// raw file helpers, for the file-format tests.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <string>
#include <vector>

// A substring check that prints the whole message when it fails (gmock is not linked).
#define EXPECT_CONTAINS(text, word) EXPECT_NE(std::string(text).find(word), std::string::npos) << "in: " << (text)

namespace vidnet::test {

class ScratchDirTest : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "vidnet-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    // A test may have made the directory read-only.
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ignored);
    std::filesystem::remove_all(dir, ignored);
  }
  std::string path(const std::string &name) const { return dir + "/" + name; }
  void writeRaw(const std::string &name, const std::string &bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }
  std::string readRaw(const std::string &name) const {
    std::ifstream in(path(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::vector<std::string> listDir() const {
    std::vector<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(dir))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string dir;
};

} // namespace vidnet::test
