// vidnet-free-buffers: a memref.dealloc after the last use of each buffer bufferization allocated.
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace vidnet {
#define GEN_PASS_DEF_FREEBUFFERS
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;

namespace {

struct FreeBuffers : vidnet::impl::FreeBuffersBase<FreeBuffers> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<memref::AllocOp> allocs;
    func.walk([&](memref::AllocOp alloc) { allocs.push_back(alloc); });
    for (memref::AllocOp alloc : allocs)
      if (failed(free(alloc)))
        return signalPassFailure();
  }

  // The values that may be `alias` or a view of it, through `user`: a view's result; a loop's
  // iteration argument and result for its initial value; the result an scf.yield gives.
  static LogicalResult aliasesThrough(Operation *user, OpOperand &use, SmallVectorImpl<Value> &aliases) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(user); view && view.getViewSource() == use.get()) {
      aliases.push_back(user->getResult(0));
      return success();
    }
    if (auto loop = dyn_cast<LoopLikeOpInterface>(user)) {
      if (BlockArgument iterArg = loop.getTiedLoopRegionIterArg(&use)) {
        aliases.push_back(iterArg);
        aliases.push_back(loop.getTiedLoopResult(&use));
        return success();
      }
    }
    if (isa<scf::YieldOp>(user) && isa<scf::ForOp, scf::IfOp>(user->getParentOp())) {
      aliases.push_back(user->getParentOp()->getResult(use.getOperandNumber()));
      return success();
    }
    if (isa<func::ReturnOp, CallOpInterface, RegionBranchTerminatorOpInterface>(user) ||
        llvm::any_of(user->getResultTypes(), llvm::IsaPred<BaseMemRefType>))
      return user->emitError("vidnet-free-buffers: a view of this function's buffer escapes through ")
             << user->getName() << "; cannot place its dealloc";
    return success();
  }

  // Places the dealloc after the op of the alloc's block that holds the last use of the buffer
  // or of a value that may alias it.
  static LogicalResult free(memref::AllocOp alloc) {
    Block *block = alloc->getBlock();
    if (!block->getParentOp() || !isa<func::FuncOp>(block->getParentOp()) || !block->getParent()->hasOneBlock())
      return alloc.emitError("vidnet-free-buffers: expected the buffer's alloc in the function's only block");
    Operation *last = nullptr;
    SmallVector<Value> pending = {alloc.getResult()};
    DenseSet<Value> seen = {alloc.getResult()};
    while (!pending.empty()) {
      Value alias = pending.pop_back_val();
      for (OpOperand &use : alias.getUses()) {
        Operation *user = use.getOwner();
        SmallVector<Value> more;
        if (failed(aliasesThrough(user, use, more)))
          return failure();
        for (Value v : more)
          if (seen.insert(v).second)
            pending.push_back(v);
        Operation *holder = block->findAncestorOpInBlock(*user);
        if (!holder)
          return user->emitError("vidnet-free-buffers: a use of the buffer outside its block");
        if (!last || last->isBeforeInBlock(holder))
          last = holder;
      }
    }
    if (!last) {
      alloc.erase();
      return success();
    }
    OpBuilder b(last->getContext());
    b.setInsertionPointAfter(last);
    memref::DeallocOp::create(b, alloc.getLoc(), alloc.getResult());
    return success();
  }
};

} // namespace
