// Every diagnostic kind has a golden test: some file under test/diagnostics/ checks for
// `[Kind]`. Adding a kind without a golden fails here (Carbon's coverage_test idea).
#include "dsl/Diagnostics.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace {

TEST(DiagnosticCoverage, EveryKindHasAGoldenTest) {
  std::filesystem::path dir = std::filesystem::path(VIDNET_SOURCE_DIR) / "test" / "diagnostics";
  std::string goldens;
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line))
      if (line.find("CHECK") != std::string::npos)
        goldens += line + "\n";
  }
  ASSERT_FALSE(goldens.empty()) << "no golden tests in " << dir;
  for (const auto &kind : vidnet::dsl::allDiagKinds())
    EXPECT_NE(goldens.find("[" + std::string(kind.name) + "]"), std::string::npos)
        << "diagnostic kind " << kind.name << " has no golden test in test/diagnostics/";
}

} // namespace
