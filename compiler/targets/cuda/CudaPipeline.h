// The CUDA target's pass pipeline: vidnet dialect -> fused gpu.launch kernels -> outlined
// gpu.module -> NVVM -> PTX.
#pragma once

#include "compiler/targets/cpu/CpuPipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"

#include <string>

namespace vidnet::cuda {

using cpu::Entry;

// An NVIDIA GPU generation: "sm_80", "sm_90", ... (compute capability 8.0 and up).
struct GpuTarget {
  std::string chip = "sm_90";
  // PTX ISA 8.0 (CUDA 12.0): what sm_90 needs, and what every driver able to run it reads.
  std::string features = "+ptx80";
};

// Parses "cuda:sm_XY" (X >= 8); the error says what is accepted.
bool parseGpuTarget(const std::string &text, GpuTarget &target, std::string &error);

enum class Stage {
  Gpu,   // kernels formed and outlined: host launches + gpu.module of gpu.func kernels
  NVVM,  // host code dropped; the gpu.module in the LLVM/NVVM dialects
  PTX,   // the gpu.module serialized: one gpu.binary holding the PTX text
};

void registerCudaPipelineDialects(mlir::DialectRegistry &registry);

// The textual pipeline from the vidnet dialect up to Stage::Gpu (host + kernels).
std::string cudaKernelPipeline(Entry entry);
// The device-side pipeline from Stage::Gpu (host code already removed) to `until`.
std::string cudaDevicePipeline(const GpuTarget &target, Stage until);

// The CUDA kernels, each launch run as loops on the CPU, down to the LLVM dialect with the CPU
// bundle's ABI: how kernel formation is checked against the reference without a GPU.
std::string kernelsOnCpuPipeline(Entry entry);
mlir::LogicalResult compileKernelsForCpu(mlir::ModuleOp module, Entry entry);

// Runs `cudaKernelPipeline` on the vidnet-dialect `module`.
mlir::LogicalResult formKernels(mlir::ModuleOp module, Entry entry);
// Erases every func.func (the host side, already captured as a launch plan) and lowers the
// gpu.module(s) to `until` (NVVM or PTX).
mlir::LogicalResult lowerKernels(mlir::ModuleOp module, const GpuTarget &target, Stage until);
// The PTX text of a module lowered to Stage::PTX.
std::string ptxOf(mlir::ModuleOp module);

} // namespace vidnet::cuda
