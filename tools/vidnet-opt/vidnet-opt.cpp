// vidnet-opt: mlir-opt with the vidnet dialect, its passes (target-independent and CPU) and
// every upstream dialect the CPU pipeline lowers through, for lit tests and experiments.
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/CpuPipeline.h"
#include "compiler/transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  vidnet::registerVidnetPasses();
  vidnet::cpu::registerVidnetCpuPasses();
  mlir::DialectRegistry registry;
  vidnet::cpu::registerCpuPipelineDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "vidnet optimizer driver\n", registry));
}
