// vidnet-lower-to-linalg patterns for reshapes: fold_time (R2D) and its inverse.
#include "compiler/transforms/LinalgBuilders.h"

using namespace mlir;
using utils::IteratorType;

namespace vidnet {
namespace {

LogicalResult lowerFoldTime(vidnet::FoldTimeOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  auto in = cast<RankedTensorType>(op.getInput().getType());
  ArrayRef<int64_t> s = in.getShape();
  // N x D x H x W x C -> N x H x W x D x C: frame-major channels (index d*C + c) after collapse.
  auto transposedType = RankedTensorType::get({s[0], s[2], s[3], s[1], s[4]}, in.getElementType());
  Value transposed = linalg::TransposeOp::create(b, op.getLoc(), op.getInput(), e.empty(transposedType),
                                                 ArrayRef<int64_t>{0, 2, 3, 1, 4})
                         .getResult()[0];
  auto collapsedType = RankedTensorType::get({s[0], s[2], s[3], s[1] * s[4]}, in.getElementType());
  Value collapsed = tensor::CollapseShapeOp::create(
      b, op.getLoc(), collapsedType, transposed,
      ArrayRef<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
  Value folded = tensor::ExpandShapeOp::create(
      b, op.getLoc(), op.getType(), collapsed, ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
  b.replaceOp(op, folded);
  return success();
}

// fold_time in reverse: N x 1 x H x W x (D*C) -> N x H x W x D x C -> N x D x H x W x C.
LogicalResult lowerUnfoldTime(vidnet::UnfoldTimeOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  auto out = cast<RankedTensorType>(op.getType());
  ArrayRef<int64_t> s = out.getShape();
  auto collapsedType = RankedTensorType::get({s[0], s[2], s[3], s[1] * s[4]}, out.getElementType());
  Value collapsed = tensor::CollapseShapeOp::create(b, op.getLoc(), collapsedType, op.getInput(),
                                                    ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
  auto expandedType = RankedTensorType::get({s[0], s[2], s[3], s[1], s[4]}, out.getElementType());
  Value expanded = tensor::ExpandShapeOp::create(b, op.getLoc(), expandedType, collapsed,
                                                 ArrayRef<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
  b.replaceOp(op, linalg::TransposeOp::create(b, op.getLoc(), expanded, e.empty(out),
                                                    ArrayRef<int64_t>{0, 3, 1, 2, 4})
                            .getResult()[0]);
  return success();
}

} // namespace

void populateReshapeLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LoweringPattern<FoldTimeOp, lowerFoldTime>,
               LoweringPattern<UnfoldTimeOp, lowerUnfoldTime>>(patterns.getContext());
}

} // namespace vidnet
