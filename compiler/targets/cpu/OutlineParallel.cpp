// vidnet-cpu-outline-parallel: each bufferized scf.forall -> a body function per item and a
// call to a dispatch declaration that vidnet-cpu-parallel-for-abi defines.
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/Outlining.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_OUTLINEPARALLEL
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

using vidnet::cpu::passable;
using vidnet::cpu::sinkProducers;

struct OutlineParallel : vidnet::cpu::impl::OutlineParallelBase<OutlineParallel> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ForallOp> loops;
    module.walk([&](scf::ForallOp loop) {
      if (!loop->getParentOfType<scf::ForallOp>())
        loops.push_back(loop);
    });
    SymbolTable symbols(module);
    vidnet::cpu::SharedBodies bodies; // of this module only: a loop whose body is the same code
    // as an earlier one's (a stage's identical convolutions, forward and backward alike) calls
    // that body; its dispatch stays its own (its loop number, its location).
    for (scf::ForallOp loop : loops)
      if (failed(outline(loop, symbols, bodies)))
        return signalPassFailure();
  }

  LogicalResult outline(scf::ForallOp loop, SymbolTable &symbols, vidnet::cpu::SharedBodies &bodies) {
    // Items are numbered 0 .. count-1 over the static iteration space; the body gets back
    // each induction variable as lower + item index * step.
    SmallVector<int64_t> extents, lowers, steps;
    for (auto [lb, ub, step] : llvm::zip(loop.getMixedLowerBound(), loop.getMixedUpperBound(), loop.getMixedStep())) {
      std::optional<int64_t> lower = getConstantIntValue(lb), upper = getConstantIntValue(ub),
                             stride = getConstantIntValue(step);
      if (!lower || !upper || !stride || *stride <= 0)
        return loop.emitError("vidnet-cpu-outline-parallel: expects a forall with static bounds and steps "
                              "(what vidnet-cpu-tile-convs and vidnet-cpu-parallelize-elementwise make)");
      extents.push_back(std::max<int64_t>(0, (*upper - *lower + *stride - 1) / *stride));
      lowers.push_back(*lower);
      steps.push_back(*stride);
    }
    if (!loop.getOutputs().empty())
      return loop.emitError("vidnet-cpu-outline-parallel: expects a bufferized forall (no shared outputs)");
    auto parent = loop->getParentOfType<func::FuncOp>();
    SetVector<Value> captures = sinkProducers(loop.getRegion());
    SmallVector<Type> types = {IndexType::get(loop.getContext())};
    for (Value v : captures) {
      if (!passable(v.getType()))
        return loop.emitError("vidnet-cpu-outline-parallel: the loop uses a ")
               << v.getType() << " from outside, which cannot be passed to the runtime's threads";
      types.push_back(v.getType());
    }

    OpBuilder b = OpBuilder::atBlockEnd(parent->getParentOfType<ModuleOp>().getBody());
    Location loc = loop.getLoc();
    auto bodyType = b.getFunctionType(types, {});
    auto body = func::FuncOp::create(b, loc, parent.getName().str() + "_parallel", bodyType);
    body.setPrivate();
    symbols.insert(body); // renames on a clash, so every body is unique
    Block *entry = body.addEntryBlock();
    Block &from = loop.getRegion().front();
    entry->getOperations().splice(entry->end(), from.getOperations());
    {
      OpBuilder start = OpBuilder::atBlockBegin(entry);
      SmallVector<Value> indices = {entry->getArgument(0)};
      if (extents.size() > 1)
        indices = affine::AffineDelinearizeIndexOp::create(start, loc, entry->getArgument(0), extents).getResults();
      for (auto [i, iv] : llvm::enumerate(loop.getInductionVars())) {
        Value v = indices[i];
        if (steps[i] != 1)
          v = arith::MulIOp::create(start, loc, v, arith::ConstantIndexOp::create(start, loc, steps[i]));
        if (lowers[i] != 0)
          v = arith::AddIOp::create(start, loc, v, arith::ConstantIndexOp::create(start, loc, lowers[i]));
        iv.replaceAllUsesWith(v);
      }
    }
    entry->getTerminator()->erase(); // the empty scf.forall.in_parallel
    OpBuilder end = OpBuilder::atBlockEnd(entry);
    func::ReturnOp::create(end, loc);
    for (auto [i, v] : llvm::enumerate(captures))
      replaceAllUsesInRegionWith(v, entry->getArgument(i + 1), body.getBody());

    // A body without vector code is a pass over memory (BN, ReLU, adds, fills, the optimizer):
    // marked like the serial code, so that LLVM keeps its loops vectorized but not unrolled.
    // Only the register tiles (vectorized already) gain from unrolling.
    bool vectorized =
        body.walk([](Operation *op) {
              return isa<vector::VectorDialect>(op->getDialect()) ? WalkResult::interrupt() : WalkResult::advance();
            })
            .wasInterrupted();
    if (!vectorized)
      vidnet::cpu::markNotUnrolled(body);

    // The dispatch is only declared here: it is LLVM-level code (a slot array, the runtime's
    // hook), written after lowering to the LLVM dialect.
    auto dispatch = func::FuncOp::create(b, loc, body.getName().str() + "_dispatch", bodyType);
    if (func::FuncOp earlier = bodies.find(body); earlier != body) {
      symbols.erase(body);
      body = earlier;
    }
    dispatch.setPrivate();
    dispatch->setAttr(vidnet::cpu::kParallelBodyAttr, FlatSymbolRefAttr::get(body.getNameAttr()));
    dispatch->setAttr(vidnet::cpu::kParallelFunctionAttr, parent.getNameAttr());
    symbols.insert(dispatch);

    OpBuilder call(loop);
    int64_t count = 1;
    for (int64_t e : extents)
      count *= e;
    SmallVector<Value> operands = {arith::ConstantIndexOp::create(call, loc, count)};
    operands.append(captures.begin(), captures.end());
    func::CallOp::create(call, loc, dispatch, operands);
    loop.erase();
    return success();
  }
};

} // namespace
