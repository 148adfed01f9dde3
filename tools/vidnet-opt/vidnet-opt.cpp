// vidnet-opt: mlir-opt with the vidnet dialect, its passes (target-independent, CPU, CUDA) and
// every upstream dialect the pipelines lower through, for lit tests and experiments.
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/CpuPipeline.h"
#include "compiler/targets/cuda/CudaPasses.h"
#include "compiler/targets/cuda/CudaPipeline.h"
#include "compiler/transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  vidnet::registerVidnetPasses();
  vidnet::cpu::registerVidnetCpuPasses();
  vidnet::cuda::registerVidnetCudaPasses();
  mlir::DialectRegistry registry;
  vidnet::cuda::registerCudaPipelineDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "vidnet optimizer driver\n", registry));
}
