// Tests for the manifest's CUDA launch plan, the run-time loaded driver, and the executor (GPU parts skip without one).
#include "runtime/cuda/CudaDriver.h"
#include "runtime/cuda/CudaExecutor.h"
#include "test/unit/ScratchDir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace vidnet::rt;
using nlohmann::json;

namespace {

json validSection() {
  return json::parse(R"({
    "arch": "sm_90", "cubin": "kernels.cubin", "ptx": "kernels.ptx",
    "entry_points": {
      "forward": {
        "abi": [{"name": "clips", "bytes": 393216, "output": false}, {"name": "params", "bytes": 930580, "output": false},
                {"name": "state", "bytes": 7168, "output": false}, {"name": "logits", "bytes": 20, "output": true},
                {"name": "features", "bytes": 256, "output": true}],
        "arena_bytes": 1048576,
        "launches": [
          {"kernel": "forward_k0", "grid": [64, 1, 1], "block": [256, 1, 1], "shared_bytes": 0,
           "args": [{"abi": 0}, {"abi": 1}, {"arena": 4096}]},
          {"kernel": "forward_k1", "grid": [2, 3, 4], "block": [32, 4, 1], "shared_bytes": 8192,
           "args": [{"arena": 4096}, {"abi": 3}, {"abi": 4}]}]
      },
      "train_step": {
        "abi": [{"name": "clips", "bytes": 393216, "output": false}, {"name": "loss", "bytes": 4, "output": true}],
        "arena_bytes": 0,
        "launches": [{"kernel": "train_step_k0", "grid": [1, 1, 1], "block": [1, 1, 1], "args": [{"abi": 0}, {"abi": 1}]}]
      }
    },
    "kernels": [{"name": "forward_k0", "ignored": true}]
  })");
}

// Parses a section expected to be rejected; returns the message.
std::string parseError(const json &cuda) {
  CudaPlan plan;
  std::string error;
  EXPECT_FALSE(parseCudaPlan(cuda, plan, error)) << cuda.dump();
  return error;
}

json &firstLaunch(json &cuda) { return cuda["entry_points"]["forward"]["launches"][0]; }

TEST(CudaPlanTest, ParsesTheCompilersSection) {
  CudaPlan plan;
  std::string error;
  ASSERT_TRUE(parseCudaPlan(validSection(), plan, error)) << error;
  EXPECT_EQ(plan.arch, "sm_90");
  EXPECT_EQ(plan.cubinFile, "kernels.cubin");
  EXPECT_EQ(plan.ptxFile, "kernels.ptx");
  ASSERT_EQ(plan.entries.size(), 2u);
  const CudaEntryPlan &forward = plan.entries.at("forward");
  ASSERT_EQ(forward.abi.size(), 5u);
  EXPECT_EQ(forward.abi[1].name, "params");
  EXPECT_EQ(forward.abi[1].bytes, 930580);
  EXPECT_FALSE(forward.abi[1].output);
  EXPECT_TRUE(forward.abi[3].output);
  EXPECT_EQ(forward.arenaBytes, 1048576);
  ASSERT_EQ(forward.launches.size(), 2u);
  const CudaLaunch &k1 = forward.launches[1];
  EXPECT_EQ(k1.kernel, "forward_k1");
  EXPECT_EQ(k1.grid[0], 2);
  EXPECT_EQ(k1.grid[1], 3);
  EXPECT_EQ(k1.grid[2], 4);
  EXPECT_EQ(k1.block[1], 4);
  EXPECT_EQ(k1.sharedBytes, 8192);
  std::vector<LaunchArg> args{{-1, 4096}, {3, 0}, {4, 0}};
  EXPECT_EQ(k1.args, args);
  const CudaEntryPlan &train = plan.entries.at("train_step");
  EXPECT_EQ(train.arenaBytes, 0);
  EXPECT_EQ(train.launches[0].sharedBytes, 0) << "shared_bytes defaults to 0";
}

TEST(CudaPlanTest, MissingLaunchesIsNamed) {
  json cuda = validSection();
  cuda["entry_points"]["forward"].erase("launches");
  EXPECT_EQ(parseError(cuda), "cuda.entry_points.forward.launches: missing");
}

TEST(CudaPlanTest, GridNeedsThreeNumbers) {
  json cuda = validSection();
  firstLaunch(cuda)["grid"] = json::array({64, 1});
  EXPECT_EQ(parseError(cuda), "cuda.entry_points.forward.launches[0].grid: expected 3 positive integers");
  firstLaunch(cuda)["grid"] = json::array({64, 0, 1});
  EXPECT_EQ(parseError(cuda), "cuda.entry_points.forward.launches[0].grid: expected 3 positive integers");
}

TEST(CudaPlanTest, ArgNeedsExactlyOneOfAbiAndArena) {
  json cuda = validSection();
  firstLaunch(cuda)["args"][1] = json{{"abi", 1}, {"arena", 0}};
  std::string error = parseError(cuda);
  EXPECT_CONTAINS(error, "cuda.entry_points.forward.launches[0].args[1]: ");
  EXPECT_CONTAINS(error, "exactly one of \"abi\" and \"arena\"");
  firstLaunch(cuda)["args"][1] = json::object();
  EXPECT_CONTAINS(parseError(cuda), "cuda.entry_points.forward.launches[0].args[1]: ");
}

TEST(CudaPlanTest, AbiIndexOutOfRangeIsNamed) {
  json cuda = validSection();
  firstLaunch(cuda)["args"][0] = json{{"abi", 5}};
  EXPECT_EQ(parseError(cuda), "cuda.entry_points.forward.launches[0].args[0].abi: expected an index into abi (0 to 4), "
                              "got 5");
}

TEST(CudaPlanTest, ArenaOffsetOutsideTheArenaIsNamed) {
  json cuda = validSection();
  firstLaunch(cuda)["args"][2] = json{{"arena", -8}};
  std::string error = parseError(cuda);
  EXPECT_CONTAINS(error, "cuda.entry_points.forward.launches[0].args[2].arena: ");
  EXPECT_CONTAINS(error, "got -8");
  firstLaunch(cuda)["args"][2] = json{{"arena", 1048576}};
  EXPECT_EQ(parseError(cuda), "cuda.entry_points.forward.launches[0].args[2].arena: expected a byte offset below "
                              "arena_bytes (1048576), got 1048576");
}

TEST(CudaPlanTest, OtherFieldsAreChecked) {
  json cuda = validSection();
  cuda["arch"] = "compute_90";
  EXPECT_CONTAINS(parseError(cuda), "cuda.arch: ");
  cuda = validSection();
  cuda["cubin"] = "../../etc/passwd";
  EXPECT_CONTAINS(parseError(cuda), "cuda.cubin: expected a file name inside the bundle");
  cuda = validSection();
  cuda["entry_points"]["forward"]["abi"][2]["bytes"] = 1.5;
  EXPECT_EQ(parseError(cuda), "cuda.entry_points.forward.abi[2].bytes: expected a positive integer, got 1.5");
  cuda = validSection();
  cuda["entry_points"]["forward"]["abi"][2]["bytes"] = 18446744073709551615ull;
  EXPECT_CONTAINS(parseError(cuda), "cuda.entry_points.forward.abi[2].bytes: ");
  cuda = validSection();
  firstLaunch(cuda)["shared_bytes"] = "0";
  EXPECT_EQ(parseError(cuda), "cuda.entry_points.forward.launches[0].shared_bytes: expected a non-negative integer, "
                              "got \"0\"");
  EXPECT_EQ(parseError(json::array()), "cuda: expected an object, got []");
}

// Right on both kinds of machine: without a driver the reason is one clear line, with one the device is there.
TEST(CudaDriverTest, LoadsOrSaysWhyNot) {
  std::string error;
  const CudaDriver *driver = CudaDriver::load(error);
  if (!driver) {
    EXPECT_TRUE(error.find("libcuda.so.1") != std::string::npos || error.find("no CUDA device") != std::string::npos)
        << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    std::string again;
    EXPECT_EQ(CudaDriver::load(again), nullptr);
    EXPECT_EQ(again, error) << "the outcome is decided once per process";
    return;
  }
  EXPECT_GT(driver->deviceCount, 0);
  CUdevice device = 0;
  ASSERT_TRUE(driver->selectDevice(device, error)) << error;
  EXPECT_FALSE(driver->deviceName(device).empty());
  int major = 0, minor = 0;
  ASSERT_TRUE(driver->computeCapability(device, major, minor, error)) << error;
  EXPECT_GE(major, 3);
  EXPECT_EQ(driver->describe(kCudaErrorNoBinaryForGpu).rfind("CUDA_ERROR_NO_BINARY_FOR_GPU: ", 0), 0u);
}

class CudaExecutorTest : public vidnet::test::ScratchDirTest {
protected:
  void SetUp() override {
    ScratchDirTest::SetUp();
    std::string error;
    driver = CudaDriver::load(error);
    if (!driver)
      GTEST_SKIP() << "no CUDA GPU: " << error;
  }
  const CudaDriver *driver = nullptr;
};

TEST_F(CudaExecutorTest, GarbageCubinAndPtxAreRejected) {
  writeRaw("kernels.cubin", std::string(300, '\x7f') + "not an ELF image");
  writeRaw("kernels.ptx", "this is not PTX {");
  CudaPlan plan;
  std::string error;
  ASSERT_TRUE(parseCudaPlan(validSection(), plan, error)) << error;
  CUdevice device = 0;
  int major = 0, minor = 0;
  ASSERT_TRUE(driver->selectDevice(device, error) && driver->computeCapability(device, major, minor, error)) << error;
  // Both paths: the device's own architecture (the cubin is tried first) and another one (straight to the PTX).
  for (const std::string &arch : {"sm_" + std::to_string(major) + std::to_string(minor), std::string("sm_35")}) {
    plan.arch = arch;
    error.clear();
    EXPECT_EQ(CudaExecutor::open(dir, plan, error), nullptr) << arch;
    EXPECT_FALSE(error.empty()) << arch;
    EXPECT_CONTAINS(error, "kernels.");
  }
}

TEST_F(CudaExecutorTest, MissingBundleFilesAreNamed) {
  CudaPlan plan;
  std::string error;
  ASSERT_TRUE(parseCudaPlan(validSection(), plan, error)) << error;
  plan.arch = "sm_35";  // no current driver runs sm_35, so the PTX is wanted
  EXPECT_EQ(CudaExecutor::open(dir, plan, error), nullptr);
  EXPECT_CONTAINS(error, path("kernels.ptx") + ": cannot read");
}

} // namespace
