// scf.for nests with constant steps that carry values, as the CPU schedules build their tiles' loops.
#pragma once

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace vidnet::cpu {

using LoopBody = llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::ValueRange ivs, mlir::Value carried)>;
using LoopBodyN = llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::OpBuilder &, mlir::ValueRange ivs,
                                                                    mlir::ValueRange carried)>;

// for ivs in [lbs, ubs) by steps (outermost first): carried = body(ivs, carried); the results.
inline llvm::SmallVector<mlir::Value> loopNestN(mlir::OpBuilder &b, mlir::Location loc, llvm::ArrayRef<mlir::Value> lbs,
                                                llvm::ArrayRef<mlir::Value> ubs, llvm::ArrayRef<int64_t> steps,
                                                mlir::ValueRange carried, LoopBodyN body) {
  llvm::SmallVector<mlir::Value> st;
  for (int64_t step : steps)
    st.push_back(mlir::arith::ConstantIndexOp::create(b, loc, step));
  return mlir::scf::buildLoopNest(b, loc, lbs, ubs, st, carried,
                                  [&](mlir::OpBuilder &ib, mlir::Location, mlir::ValueRange ivs,
                                      mlir::ValueRange c) -> mlir::scf::ValueVector { return body(ib, ivs, c); })
      .results;
}

// The same with one carried value.
inline mlir::Value loopNest(mlir::OpBuilder &b, mlir::Location loc, llvm::ArrayRef<mlir::Value> lbs,
                            llvm::ArrayRef<mlir::Value> ubs, llvm::ArrayRef<int64_t> steps, mlir::Value carried,
                            LoopBody body) {
  return loopNestN(b, loc, lbs, ubs, steps, mlir::ValueRange{carried},
                   [&](mlir::OpBuilder &ib, mlir::ValueRange ivs,
                       mlir::ValueRange c) -> llvm::SmallVector<mlir::Value> { return {body(ib, ivs, c[0])}; })[0];
}

} // namespace vidnet::cpu
