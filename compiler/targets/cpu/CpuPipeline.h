// The CPU target's pass pipeline, from the vidnet dialect to the LLVM dialect.
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"

#include <string>

namespace vidnet::cpu {

enum class Stage {
  Vidnet,  // after decomposition (and, for train_step, differentiation): still the vidnet dialect
  Linalg,  // after decomposition and lowering to linalg on tensors
  LLVM,    // the LLVM dialect, ready for translation to LLVM IR
};

// Which entry point the module is compiled into.
enum class Entry {
  Forward,    // @forward as mlirgen wrote it -> vidnet_forward
  TrainStep,  // @train_step derived from @forward (which is dropped) -> vidnet_train_step
};

// Every dialect, interface and translation the CPU pipeline touches.
void registerCpuPipelineDialects(mlir::DialectRegistry &registry);

// The target-independent front up to `until` (Vidnet or Linalg): (2+1)D decomposition, the
// derived training step, the generic lowering to linalg. The CUDA pipeline starts with it.
std::string frontPipeline(Stage until, Entry entry = Entry::Forward);

// The pipeline up to `until`, as the textual list parsePassPipeline takes (for people and
// for `vidnet-opt --pass-pipeline`), with register tiles sized for `vectorBits`-bit vector
// registers (vectorBits(MachineTarget) in ObjectEmitter.h says the target's). With
// `printSchedules`, the tile schedules print each conv's and filter gradient's on stderr.
std::string cpuPipeline(Stage until, Entry entry = Entry::Forward, int64_t vectorBits = 512,
                        bool printSchedules = false);

// The pipeline's last part: bufferized loops (and vectors) to the LLVM dialect with the
// bundle's bare-pointer C ABI. Also the tail of the CUDA kernels-on-CPU check.
std::string cpuLoweringToLLVM();

// Runs the pipeline on `module` in place; diagnostics go to the context's handlers.
mlir::LogicalResult runCpuPipeline(mlir::ModuleOp module, Stage until, Entry entry = Entry::Forward,
                                   int64_t vectorBits = 512, bool printSchedules = false);

} // namespace vidnet::cpu
