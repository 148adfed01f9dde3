// vidnet-memref-copy-to-linalg: memref.copy -> linalg.copy (no memrefCopy runtime call).
#include "compiler/transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace vidnet {
#define GEN_PASS_DEF_MEMREFCOPYTOLINALG
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;

namespace {

struct MemrefCopyToLinalg : vidnet::impl::MemrefCopyToLinalgBase<MemrefCopyToLinalg> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace
