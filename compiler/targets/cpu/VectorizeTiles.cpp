// vidnet-cpu-vectorize-tiles: static linalg.matmul tiles -> vector.contract -> outer products; the
// tiles' zero fills, adds and epilogues -> vector ops.
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/TileSizes.h"

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

// One register per op for the tiles whose rows are several registers but not a power of two of
// them: LLVM widens a <24 x float> to 32 lanes and moves it through the stack with shuffles
// (AVX2's 4 x 24 conv tiles ran at a fifth of their speed), while 16 or 32 lanes split into
// registers cleanly. Every op becomes ops on one row of one register, so that each slice one op
// makes is exactly one that the next op reads (a 3 x 24 tile read in 3 x 8 pieces and summed in
// 1 x 8 ones left inserts and extracts across pieces). A contraction's shape is its loop ranges
// (m, n, k): one row, one register of lanes and one k at a time, in the order k, m, n (below),
// so that one broadcast serves the row's registers before the next is loaded: in the order
// n, k, m, LLVM kept the broadcasts of all rows live across the three registers' products and
// spilled 38 times per 96 FMAs (47% of the peak; 89% in this order).
std::optional<SmallVector<int64_t>> registerColumns(Operation *op, int64_t lanes) {
  auto unrollable = dyn_cast<VectorUnrollOpInterface>(op);
  if (!unrollable)
    return std::nullopt;
  std::optional<SmallVector<int64_t>> shape = unrollable.getShapeForUnroll();
  if (!shape || shape->empty())
    return std::nullopt;
  const bool contraction = isa<vector::ContractionOp>(op);
  const size_t laneDim = contraction ? shape->size() - 2 : shape->size() - 1;
  const int64_t registers = (*shape)[laneDim] / lanes;
  if ((*shape)[laneDim] % lanes != 0 || registers <= 1 || llvm::isPowerOf2_64(registers))
    return std::nullopt;
  SmallVector<int64_t> native(shape->size(), 1);
  native[laneDim] = lanes;
  return native;
}

struct VectorizeTiles : vidnet::cpu::impl::VectorizeTilesBase<VectorizeTiles> {
  using VectorizeTilesBase::VectorizeTilesBase;

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
    const int64_t lanes = vidnet::cpu::VectorRegisters::forBits(vectorBits).lanes;
    RewritePatternSet unroll(&getContext());
    vector::populateVectorUnrollPatterns(
        unroll, vector::UnrollVectorOptions()
                    .setNativeShapeFn([&](Operation *op) { return registerColumns(op, lanes); })
                    .setUnrollTraversalOrderFn([](Operation *op) -> std::optional<SmallVector<int64_t>> {
                      if (isa<vector::ContractionOp>(op))
                        return SmallVector<int64_t>{2, 0, 1};
                      return std::nullopt;
                    }));
    vector::populateVectorToVectorCanonicalizationPatterns(unroll);
    if (failed(applyPatternsGreedily(getOperation(), std::move(unroll))))
      return signalPassFailure();
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
