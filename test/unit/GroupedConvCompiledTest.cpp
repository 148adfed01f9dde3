// Grouped and depthwise convs compiled from the vidnet dialect (specs have no groups yet): the CPU
// pipeline's code run against the reference, its train step compiled, and the CUDA target's
// kernels assembled by ptxas without spills.
#include "compiler/targets/cpu/CpuPipeline.h"
#include "compiler/targets/cpu/ObjectEmitter.h"
#include "compiler/targets/cuda/CudaPipeline.h"
#include "compiler/targets/cuda/LaunchPlan.h"
#include "compiler/targets/cuda/Ptxas.h"
#include "compiler/transforms/BufferLayout.h"
#include "runtime/reference/Reference.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "ReferenceTensors.h"

#include <cmath>
#include <cstdio>
#include <dlfcn.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <fstream>
#include <map>
#include <random>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace vidnet;

namespace {

// A depthwise 3x3x3 conv (groups = C = 16) into a grouped one (groups 2, 16 -> 32, stride 2);
// both large enough for the CPU target's parallel loops (over 65536 iterations each).
constexpr const char *kModel = R"mlir(
func.func @forward(%x: tensor<1x4x12x12x16xf32> {vidnet.name = "input"},
                   %dw: tensor<3x3x3x1x16xf32> {vidnet.name = "dw.weight"},
                   %gw: tensor<3x3x3x8x32xf32> {vidnet.name = "gc.weight"}) -> tensor<1x2x6x6x32xf32> {
  %d = vidnet.conv %x, %dw strides [1, 1, 1] padding [1, 1, 1] groups 16
      : tensor<1x4x12x12x16xf32>, tensor<3x3x3x1x16xf32> -> tensor<1x4x12x12x16xf32>
  %g = vidnet.conv %d, %gw strides [2, 2, 2] padding [1, 1, 1] groups 2
      : tensor<1x4x12x12x16xf32>, tensor<3x3x3x8x32xf32> -> tensor<1x2x6x6x32xf32>
  return %g : tensor<1x2x6x6x32xf32>
}
)mlir";

// The same shapes with a loss head for the train step: BN (whose training form has batch
// statistics), ReLU, pooling and a dense layer after the convs.
constexpr const char *kTrainModel = R"mlir(
func.func @forward(%x: tensor<1x4x12x12x16xf32> {vidnet.name = "input"},
                   %dw: tensor<3x3x3x1x16xf32> {vidnet.name = "dw.weight"},
                   %g: tensor<16xf32> {vidnet.name = "bn.weight"}, %b: tensor<16xf32> {vidnet.name = "bn.bias"},
                   %m: tensor<16xf32> {vidnet.name = "bn.running_mean", vidnet.state},
                   %v: tensor<16xf32> {vidnet.name = "bn.running_var", vidnet.state},
                   %gw: tensor<3x3x3x8x32xf32> {vidnet.name = "gc.weight"},
                   %fw: tensor<32x5xf32> {vidnet.name = "fc.weight"}, %fb: tensor<5xf32> {vidnet.name = "fc.bias"})
    -> (tensor<1x5xf32>, tensor<1x32xf32>) {
  %c = vidnet.conv %x, %dw strides [1, 1, 1] padding [1, 1, 1] groups 16
      : tensor<1x4x12x12x16xf32>, tensor<3x3x3x1x16xf32> -> tensor<1x4x12x12x16xf32>
  %n = vidnet.batch_norm %c, %g, %b, %m, %v epsilon 1.0e-05 : tensor<1x4x12x12x16xf32>, tensor<16xf32>
  %r = vidnet.relu %n : tensor<1x4x12x12x16xf32>
  %c2 = vidnet.conv %r, %gw strides [2, 2, 2] padding [1, 1, 1] groups 2
      : tensor<1x4x12x12x16xf32>, tensor<3x3x3x8x32xf32> -> tensor<1x2x6x6x32xf32>
  %p = vidnet.global_avg_pool %c2 : tensor<1x2x6x6x32xf32> -> tensor<1x32xf32>
  %l = vidnet.dense %p, %fw, %fb : (tensor<1x32xf32>, tensor<32x5xf32>, tensor<5xf32>) -> tensor<1x5xf32>
  return %l, %p : tensor<1x5xf32>, tensor<1x32xf32>
}
)mlir";

mlir::OwningOpRef<mlir::ModuleOp> parse(mlir::MLIRContext &context, const char *text) {
  context.loadAllAvailableDialects();
  return mlir::parseSourceString<mlir::ModuleOp>(text, &context);
}


fs::path scratch(const std::string &name) {
  fs::path dir = fs::path(testing::TempDir()) / ("vidnet-grouped-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

using ForwardFn = void (*)(const float *, const float *, const float *, float *, float *);
using PrepareFn = void (*)(const float *, const float *, float *);
using PreparedElementsFn = int64_t (*)();

TEST(GroupedConvCompiled, CpuForwardMatchesReference) {
  mlir::DialectRegistry registry;
  cpu::registerCpuPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module = parse(context, kModel);
  ASSERT_TRUE(module);
  BufferLayout layout = layoutForwardArguments(module->lookupSymbol<mlir::func::FuncOp>("forward"));
  ASSERT_EQ(layout.slots.size(), 2u);
  const cpu::MachineTarget target = cpu::hostTarget();
  ASSERT_TRUE(mlir::succeeded(
      cpu::runCpuPipeline(*module, cpu::Stage::LLVM, cpu::Entry::Forward, cpu::vectorBits(target), false)));

  fs::path dir = scratch("forward");
  std::vector<std::string> parts, objects;
  size_t functions = 0;
  cpu::EmitStats stats;
  std::string error;
  ASSERT_TRUE(cpu::cutIntoParts(*module, target, "grouped_", cpu::kPartInstructions, parts, functions, error)) << error;
  ASSERT_TRUE(cpu::compileParts(parts, target, (dir / "code").string(), {}, objects, stats, error)) << error;
  ASSERT_TRUE(cpu::linkSharedObject(objects, (dir / "model.so").string(), error)) << error;
  void *library = dlopen((dir / "model.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(library, nullptr) << dlerror();
  auto forward = reinterpret_cast<ForwardFn>(dlsym(library, "vidnet_forward"));
  auto prepare = reinterpret_cast<PrepareFn>(dlsym(library, "vidnet_forward_prepare"));
  auto preparedElements = reinterpret_cast<PreparedElementsFn>(dlsym(library, "vidnet_forward_prepared_elements"));
  ASSERT_TRUE(forward && prepare && preparedElements);

  std::mt19937 rng(3);
  ref::Tensor x = test::uniformTensor({1, 4, 12, 12, 16}, rng), dw = test::uniformTensor({3, 3, 3, 1, 16}, rng);
  ref::Tensor gw = test::uniformTensor({3, 3, 3, 8, 32}, rng);
  std::vector<float> params(layout.paramElements), state(std::max<int64_t>(layout.stateElements, 1));
  std::copy(dw.data.begin(), dw.data.end(), params.begin() + layout.slots[0].offset);
  std::copy(gw.data.begin(), gw.data.end(), params.begin() + layout.slots[1].offset);
  std::vector<float> prepared(std::max<int64_t>(preparedElements(), 1));
  ref::Tensor depthwise = ref::convForward(x, dw, {1, 1, 1}, {1, 1, 1}, 16);
  ref::Tensor expected = ref::convForward(depthwise, gw, {2, 2, 2}, {1, 1, 1}, 2);
  std::vector<float> y(expected.elements());
  prepare(params.data(), state.data(), prepared.data());
  forward(x.data.data(), params.data(), state.data(), prepared.data(), y.data());
  dlclose(library);

  double worst = 0;
  for (int64_t i = 0; i < expected.elements(); ++i)
    worst = std::max(worst, std::abs(double(y[i]) - expected.data[i]) /
                                std::max(1.0, std::abs(double(expected.data[i]))));
  std::printf("grouped convs on the CPU: max relative difference %.2e over %lld outputs\n", worst,
              static_cast<long long>(expected.elements()));
  EXPECT_LT(worst, 1e-4);
  fs::remove_all(dir);
}

TEST(GroupedConvCompiled, CpuTrainStepCompiles) {
  mlir::DialectRegistry registry;
  cpu::registerCpuPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module = parse(context, kTrainModel);
  ASSERT_TRUE(module);
  EXPECT_TRUE(mlir::succeeded(cpu::runCpuPipeline(*module, cpu::Stage::LLVM, cpu::Entry::TrainStep,
                                                  cpu::vectorBits(cpu::hostTarget()), false)));
}

// Forward and train step to PTX for sm_90; ptxas (when the toolkit is here) assembles every
// kernel without spilling registers.
TEST(GroupedConvCompiled, CudaKernelsAssembleWithoutSpills) {
  for (cuda::Entry entry : {cuda::Entry::Forward, cuda::Entry::TrainStep}) {
    const char *name = entry == cuda::Entry::Forward ? "forward" : "train_step";
    mlir::DialectRegistry registry;
    cuda::registerCudaPipelineDialects(registry);
    mlir::MLIRContext context(registry);
    mlir::OwningOpRef<mlir::ModuleOp> module = parse(context, kTrainModel);
    ASSERT_TRUE(module);
    ASSERT_TRUE(mlir::succeeded(cuda::formKernels(*module, entry))) << name;
    mlir::OwningOpRef<mlir::ModuleOp> kernels = mlir::ModuleOp::create(module->getLoc());
    ASSERT_TRUE(mlir::succeeded(cuda::extractLaunchPlan(*module, name, *kernels))) << name;
    ASSERT_TRUE(mlir::succeeded(cuda::lowerKernels(*kernels, cuda::GpuTarget{}, cuda::Stage::PTX))) << name;
    const std::string ptx = cuda::ptxOf(*kernels);
    ASSERT_NE(ptx.find(".entry"), std::string::npos) << name;
    std::string error;
    if (cuda::findPtxas(error).empty())
      GTEST_SKIP() << "PTX generated; no ptxas to assemble it: " << error;
    fs::path dir = scratch(name);
    { std::ofstream(dir / "kernels.ptx") << ptx; }
    std::map<std::string, cuda::KernelResources> resources;
    ASSERT_TRUE(cuda::assemblePtx((dir / "kernels.ptx").string(), "sm_90", (dir / "kernels.cubin").string(), resources,
                                  error))
        << error;
    EXPECT_FALSE(resources.empty());
    int spilling = 0;
    for (const auto &[kernel, r] : resources)
      spilling += r.spillStoreBytes + r.spillLoadBytes > 0;
    std::printf("%s: %zu kernels, %d spilling\n", name, resources.size(), spilling);
    EXPECT_EQ(spilling, 0) << name;
    fs::remove_all(dir);
  }
}

} // namespace
