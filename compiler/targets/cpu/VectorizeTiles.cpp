// vidnet-cpu-vectorize-tiles: static linalg.matmul tiles -> vector.contract -> outer products.
#include "compiler/targets/cpu/CpuPasses.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_VECTORIZETILES
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

// Register-sized: what vidnet-cpu-tile-convs makes. Anything larger stays scalar loops.
bool isRegisterTile(linalg::MatmulOp op) {
  auto shapeOf = [](Value v) { return cast<ShapedType>(v.getType()); };
  ShapedType lhs = shapeOf(op.getInputs()[0]), rhs = shapeOf(op.getInputs()[1]);
  return lhs.hasStaticShape() && rhs.hasStaticShape() && lhs.getDimSize(0) <= 16 && lhs.getDimSize(1) <= 16 &&
         rhs.getDimSize(1) <= 64;
}

struct VectorizeTiles : vidnet::cpu::impl::VectorizeTilesBase<VectorizeTiles> {
  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> tiles;
    getOperation().walk([&](linalg::MatmulOp op) {
      if (isRegisterTile(op))
        tiles.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::MatmulOp op : tiles) {
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::VectorizationResult> result =
          linalg::vectorize(rewriter, op, {}, {}, false, false, false, /*createNamedContraction=*/true);
      if (failed(result)) {
        op.emitError("vidnet-cpu-vectorize-tiles: cannot vectorize this tile");
        return signalPassFailure();
      }
      rewriter.replaceOp(op, result->replacements);
    }
    RewritePatternSet patterns(&getContext());
    vector::populateVectorContractLoweringPatterns(patterns, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorOuterProductLoweringPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    // A-tile elements are only ever broadcast: read each as a scalar (a broadcast load on
    // x86) instead of loading rows into vectors and extracting lanes with shuffles, which
    // compete with the FMAs for the same port.
    vector::populateScalarVectorTransferLoweringPatterns(patterns, /*benefit=*/1, /*allowMultipleUses=*/true);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
