// vidnet-cpu-vectorize-tiles: static linalg.matmul tiles -> vector.contract -> outer products; the
// tiles' zero fills, adds and epilogues -> vector ops.
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

// Register-sized: what vidnet-cpu-tile-convs makes (matmul tiles, the zero fills and adds of its
// two-level sums, the epilogues). Anything larger stays scalar loops.
bool isRegisterTile(linalg::LinalgOp op) {
  auto shapeOf = [](Value v) { return cast<ShapedType>(v.getType()); };
  if (auto matmul = dyn_cast<linalg::MatmulOp>(op.getOperation())) {
    ShapedType lhs = shapeOf(matmul.getInputs()[0]), rhs = shapeOf(matmul.getInputs()[1]);
    return lhs.hasStaticShape() && rhs.hasStaticShape() && lhs.getDimSize(0) <= 16 && lhs.getDimSize(1) <= 16 &&
           rhs.getDimSize(1) <= 64;
  }
  const bool epilogue = isa<linalg::GenericOp>(op.getOperation()) && op->hasAttr(vidnet::cpu::kEpilogueAttr);
  if (!(epilogue || isa<linalg::FillOp, linalg::AddOp>(op.getOperation())) || !op.hasPureTensorSemantics())
    return false;
  ShapedType out = shapeOf(op.getDpsInits()[0]);
  return out.hasStaticShape() && out.getRank() == 2 && out.getDimSize(0) <= 16 && out.getDimSize(1) <= 64;
}

struct VectorizeTiles : vidnet::cpu::impl::VectorizeTilesBase<VectorizeTiles> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> tiles;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isRegisterTile(op))
        tiles.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : tiles) {
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
    // The 16 x 16 blocks of vidnet-cpu-parallelize-elementwise's transposes: 64 shuffles, as
    // oneDNN's reorders do, instead of 256 lane extracts and inserts. (This lowers every 2-D
    // vector.transpose in the function here, other shapes to one flat shuffle; the matmul tiles'
    // A reads still become scalar broadcasts: lit @tile, and the same conv speeds and bits.)
    vector::populateVectorTransposeLoweringPatterns(patterns, vector::VectorTransposeLowering::Shuffle16x16);
    // A-tile elements are only ever broadcast: read each as a scalar (a broadcast load on
    // x86) instead of loading rows into vectors and extracting lanes with shuffles, which
    // compete with the FMAs for the same port.
    vector::populateScalarVectorTransferLoweringPatterns(patterns, /*benefit=*/1, /*allowMultipleUses=*/true);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
