// vidnet-memref-copy-to-linalg: memref.copy -> linalg.copy (no memrefCopy runtime call); a copy of a
// view onto itself is dropped.
#include "compiler/transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OperationSupport.h"

#include "llvm/ADT/SetVector.h"

namespace vidnet {
#define GEN_PASS_DEF_MEMREFCOPYTOLINALG
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;

namespace {

// One-shot-bufferize writes a tensor.insert_slice of a value computed in place in its
// destination as a copy between two identical subviews of the same buffer (where the value
// came out of loops that accumulate into it, once canonicalize has folded them to their
// initial value).
bool copiesOntoItself(memref::CopyOp copy) {
  Value source = copy.getSource(), target = copy.getTarget();
  if (source == target)
    return true;
  Operation *a = source.getDefiningOp(), *b = target.getDefiningOp();
  return a && b && isa<memref::SubViewOp>(a) &&
         OperationEquivalence::isEquivalentTo(a, b, OperationEquivalence::exactValueMatch, nullptr,
                                              OperationEquivalence::IgnoreLocations);
}

struct MemrefCopyToLinalg : vidnet::impl::MemrefCopyToLinalgBase<MemrefCopyToLinalg> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      if (copiesOntoItself(copy)) {
        SetVector<Operation *> views;
        for (Value operand : copy->getOperands())
          if (Operation *view = operand.getDefiningOp<memref::SubViewOp>())
            views.insert(view);
        copy.erase();
        for (Operation *view : views)
          if (view->use_empty())
            view->erase();
        continue;
      }
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace
