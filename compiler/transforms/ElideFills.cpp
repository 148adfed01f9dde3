// vidnet-elide-fills: the zero fills of strided data gradients that their inserted phases make
// needless (a fill the phases overwrite; a mostly-zero gradient added to another one).
#include "compiler/transforms/LinalgBuilders.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/BitVector.h"

namespace vidnet {
#define GEN_PASS_DEF_ELIDEFILLS
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;

namespace {

// The input operand of `add` (an elementwise linalg.generic whose body yields the sum of its
// two inputs) that is a slice inserted into a zero fill, used by `add` only; null otherwise.
OpOperand *zeroButSliceAddend(linalg::GenericOp add) {
  if (add.getNumDpsInputs() != 2 || add.getNumDpsInits() != 1 || !add.hasPureTensorSemantics() ||
      add.getNumReductionLoops() != 0 ||
      !llvm::all_of(add.getIndexingMapsArray(), [](AffineMap m) { return m.isIdentity(); }))
    return nullptr;
  Block &body = add.getRegion().front();
  if (body.getOperations().size() != 2)
    return nullptr;
  auto sum = dyn_cast<arith::AddFOp>(body.front());
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (!sum || yield.getNumOperands() != 1 || yield.getOperand(0) != sum.getResult())
    return nullptr;
  Value a = body.getArgument(0), b = body.getArgument(1);
  if (!((sum.getLhs() == a && sum.getRhs() == b) || (sum.getLhs() == b && sum.getRhs() == a)))
    return nullptr;
  for (OpOperand *operand : add.getDpsInputOperands()) {
    auto insert = operand->get().getDefiningOp<tensor::InsertSliceOp>();
    if (!insert || !insert->hasOneUse() || insert.getSourceType().getRank() != insert.getDestType().getRank())
      continue;
    if (vidnet::isPositiveZeroFill(insert.getDest()))
      return operand;
  }
  return nullptr;
}

// add(insert(s into zeros), y) = insert(add(s, y's slice) into y): outside the slice 0 + y is
// y (bit for bit, but for y = -0, which the zeros made +0), inside it the same sum. Where y has
// no other use the insert writes into y's buffer, so the strided data gradient of a 1x1x1
// shortcut conv (an eighth of dx at stride 2) is added into the main path's dx instead of
// being written into a zero-filled dx (r3d_18: 12.8 MB at layer2) that the add then reads.
struct AddIntoSlice : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp add, PatternRewriter &rewriter) const override {
    OpOperand *zeroButSlice = zeroButSliceAddend(add);
    if (!zeroButSlice)
      return rewriter.notifyMatchFailure(add, "not an add of a slice inserted into zeros");
    OpOperand *other = add.getDpsInputOperand(zeroButSlice->getOperandNumber() == 0 ? 1 : 0);
    Value y = other->get();
    if (!y.hasOneUse() || y.getType() != add.getResult(0).getType())
      return rewriter.notifyMatchFailure(add, "the other addend is used elsewhere");
    auto insert = zeroButSlice->get().getDefiningOp<tensor::InsertSliceOp>();
    Location loc = add.getLoc();
    RankedTensorType sliceType = insert.getSourceType();
    Value ySlice = tensor::ExtractSliceOp::create(rewriter, loc, sliceType, y, insert.getMixedOffsets(),
                                                  insert.getMixedSizes(), insert.getMixedStrides());
    SmallVector<Value> inputs(2);
    inputs[zeroButSlice->getOperandNumber()] = insert.getSource();
    inputs[other->getOperandNumber()] = ySlice;
    Value init = tensor::EmptyOp::create(rewriter, loc, sliceType.getShape(), sliceType.getElementType());
    SmallVector<AffineMap> maps(3, rewriter.getMultiDimIdentityMap(sliceType.getRank()));
    auto sliceAdd = linalg::GenericOp::create(rewriter, loc, TypeRange{sliceType}, inputs, ValueRange{init}, maps,
                                              add.getIteratorTypesArray());
    rewriter.cloneRegionBefore(add.getRegion(), sliceAdd.getRegion(), sliceAdd.getRegion().end());
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(add, sliceAdd.getResult(0), y, insert.getMixedOffsets(),
                                                       insert.getMixedSizes(), insert.getMixedStrides());
    return success();
  }
};

// Per axis of its destination, the indices an insert_slice writes (none for dynamic slices).
using AxisSets = SmallVector<llvm::BitVector>;

std::optional<AxisSets> writtenPerAxis(tensor::InsertSliceOp insert) {
  auto offsets = getConstantIntValues(insert.getMixedOffsets());
  auto sizes = getConstantIntValues(insert.getMixedSizes());
  auto strides = getConstantIntValues(insert.getMixedStrides());
  RankedTensorType dest = insert.getDestType();
  if (!offsets || !sizes || !strides || !dest.hasStaticShape() || insert.getSourceType().getRank() != dest.getRank())
    return std::nullopt;
  AxisSets axes;
  for (int64_t i = 0; i < dest.getRank(); ++i) {
    llvm::BitVector axis(dest.getDimSize(i));
    for (int64_t k = 0; k < (*sizes)[i]; ++k)
      axis.set((*offsets)[i] + k * (*strides)[i]);
    axes.push_back(std::move(axis));
  }
  return axes;
}

// A fill whose every element a chain of insert_slices then overwrites is not needed: the chain
// starts from tensor.empty instead. The data gradient of a conv with stride s is its s_d s_h s_w
// phases inserted into a zero dx (r3d_18's 3x3x3 /2x2x2 ones: every element of dx, 12.8 MB at
// layer2). The slices cover dx where no two share an element and their sizes sum to dx's.
struct OverwrittenFill : OpRewritePattern<linalg::FillOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::FillOp fill, PatternRewriter &rewriter) const override {
    Value filled = fill.getResult(0);
    auto type = dyn_cast<RankedTensorType>(filled.getType());
    if (!type || !type.hasStaticShape() || !filled.hasOneUse())
      return rewriter.notifyMatchFailure(fill, "not one static tensor with one use");
    SmallVector<AxisSets> slices;
    int64_t written = 0;
    for (Value current = filled; current.hasOneUse();) {
      auto insert = dyn_cast<tensor::InsertSliceOp>(*current.getUsers().begin());
      if (!insert || insert.getDest() != current)
        break;
      std::optional<AxisSets> axes = writtenPerAxis(insert);
      if (!axes)
        return rewriter.notifyMatchFailure(insert, "a slice of dynamic or rank-reducing extent");
      for (const AxisSets &other : slices)
        if (llvm::none_of(llvm::seq<size_t>(0, axes->size()),
                          [&](size_t i) { return !(*axes)[i].anyCommon(other[i]); }))
          return rewriter.notifyMatchFailure(insert, "overlaps an earlier slice");
      written += insert.getSourceType().getNumElements();
      slices.push_back(std::move(*axes));
      current = insert.getResult();
    }
    if (written != type.getNumElements())
      return rewriter.notifyMatchFailure(fill, "the inserted slices leave some of it as filled");
    rewriter.replaceOp(fill, fill.getDpsInitOperand(0)->get());
    return success();
  }
};

struct ElideFills : vidnet::impl::ElideFillsBase<ElideFills> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AddIntoSlice, OverwrittenFill>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
