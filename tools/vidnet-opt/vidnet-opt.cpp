// vidnet-opt: mlir-opt with the vidnet dialect, its passes and the upstream dialects it lowers to.
#include "compiler/transforms/Passes.h"
#include "dialects/vidnet/VidnetDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  vidnet::registerVidnetPasses();
  mlir::DialectRegistry registry;
  registry.insert<vidnet::VidnetDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect, mlir::linalg::LinalgDialect, mlir::math::MathDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "vidnet optimizer driver\n", registry));
}
