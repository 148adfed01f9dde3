// vidnet-cpu-freeze-selected-loads: a freeze on each value a vector select picks from, so that
// LLVM 22 does not turn a select of a loaded vector stored back in place into a masked store.
#include "compiler/targets/cpu/CpuPasses.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_FREEZESELECTEDLOADS
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

struct FreezeSelectedLoads : vidnet::cpu::impl::FreezeSelectedLoadsBase<FreezeSelectedLoads> {
  void runOnOperation() override {
    // Every vector select's non-constant values, not only those straight from a llvm.load:
    // the vector lowering passes 2-D tiles row by row through extractvalue, and LLVM folds
    // those back into loads before instruction selection.
    getOperation().walk([](LLVM::SelectOp select) {
      if (!isa<VectorType>(select.getType()))
        return;
      for (OpOperand *operand : {&select.getTrueValueMutable(), &select.getFalseValueMutable()}) {
        Operation *def = operand->get().getDefiningOp();
        if (def && (def->hasTrait<OpTrait::ConstantLike>() || isa<LLVM::ZeroOp, LLVM::PoisonOp, LLVM::UndefOp>(def)))
          continue;
        OpBuilder b(select);
        operand->set(LLVM::FreezeOp::create(b, select.getLoc(), operand->get()));
      }
    });
  }
};

} // namespace
