// vidnet-lower-to-linalg patterns for the loss: softmax cross-entropy and its gradient.
#include "compiler/transforms/LinalgBuilders.h"

using namespace mlir;
using utils::IteratorType;

namespace vidnet {
namespace {

// Per row of N x K logits: the maximum and the sum of exp(logit - maximum), the stable parts
// of log-sum-exp that the loss and its gradient share.
std::pair<Value, Value> rowMaxAndSumExp(Emitter &e, Value logits) {
  auto type = cast<RankedTensorType>(logits.getType());
  auto rowType = RankedTensorType::get({type.getDimSize(0)}, type.getElementType());
  AffineMap id = e.b.getMultiDimIdentityMap(2);
  AffineMap row = AffineMap::get(2, 0, {e.b.getAffineDimExpr(0)}, e.b.getContext());
  SmallVector<IteratorType> rowReduce = {IteratorType::parallel, IteratorType::reduction};
  Value max = e.generic(rowType, {logits}, e.filled(rowType, -INFINITY), {id, row}, rowReduce,
                        [](OpBuilder &nb, Location l, ValueRange a) {
                          return arith::MaximumFOp::create(nb, l, a[0], a[1]).getResult();
                        });
  Value sumExp = e.generic(rowType, {logits, max}, e.filled(rowType, 0.0), {id, row, row}, rowReduce,
                           [](OpBuilder &nb, Location l, ValueRange a) {
                             Value x = arith::SubFOp::create(nb, l, a[0], a[1]);
                             return arith::AddFOp::create(nb, l, math::ExpOp::create(nb, l, x), a[2]).getResult();
                           });
  return {max, sumExp};
}

LogicalResult lowerSoftmaxCrossEntropy(vidnet::SoftmaxCrossEntropyOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  auto logits = cast<RankedTensorType>(op.getLogits().getType());
  int64_t n = logits.getDimSize(0);
  auto rowType = RankedTensorType::get({n}, logits.getElementType());
  MLIRContext *ctx = b.getContext();
  AffineMap id = b.getMultiDimIdentityMap(2);
  AffineMap row = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx);
  SmallVector<IteratorType> rowReduce = {IteratorType::parallel, IteratorType::reduction};
  auto [max, sumExp] = rowMaxAndSumExp(e, op.getLogits());
  // The label's logit: a masked sum over k (linalg.index compared to the label).
  Value picked = e.generic(rowType, {op.getLogits(), op.getLabels()}, e.filled(rowType, 0.0),
                           {id, row, row}, rowReduce, [](OpBuilder &nb, Location l, ValueRange a) {
                             Value k = linalg::IndexOp::create(nb, l, 1);
                             Value label = arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[1]);
                             Value hit = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, k, label);
                             Value add = arith::AddFOp::create(nb, l, a[2], a[0]);
                             return arith::SelectOp::create(nb, l, hit, add, a[2]).getResult();
                           });
  // loss = mean over rows of (max + log(sumExp) - picked)
  auto scalarType = cast<RankedTensorType>(op.getType());
  AffineMap r1 = b.getMultiDimIdentityMap(1);
  AffineMap toScalar = AffineMap::get(1, 0, {}, ctx);
  Value scale = e.f32(1.0 / static_cast<double>(n));
  Value loss = e.generic(scalarType, {max, sumExp, picked}, e.filled(scalarType, 0.0),
                         {r1, r1, r1, toScalar}, {IteratorType::reduction},
                         [&](OpBuilder &nb, Location l, ValueRange a) {
                           Value lse = arith::AddFOp::create(nb, l, a[0], math::LogOp::create(nb, l, a[1]));
                           Value term = arith::MulFOp::create(nb, l, arith::SubFOp::create(nb, l, lse, a[2]), scale);
                           return arith::AddFOp::create(nb, l, a[3], term).getResult();
                         });
  b.replaceOp(op, loss);
  return success();
}

// (softmax(logits) - onehot(label)) / N, softmax with the row maximum subtracted.
LogicalResult lowerSoftmaxCrossEntropyBackward(vidnet::SoftmaxCrossEntropyBackwardOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  auto logits = cast<RankedTensorType>(op.getLogits().getType());
  int64_t n = logits.getDimSize(0);
  AffineMap id = b.getMultiDimIdentityMap(2);
  AffineMap row = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, b.getContext());
  SmallVector<IteratorType> parallel2(2, IteratorType::parallel);
  auto [max, sumExp] = rowMaxAndSumExp(e, op.getLogits());
  Value invN = e.f32(1.0 / static_cast<double>(n));
  Value grad = e.generic(logits, {op.getLogits(), max, sumExp, op.getLabels()}, e.empty(logits),
                         {id, row, row, row, id}, parallel2, [&](OpBuilder &nb, Location l, ValueRange a) {
                           Value x = arith::SubFOp::create(nb, l, a[0], a[1]);
                           Value p = arith::DivFOp::create(nb, l, math::ExpOp::create(nb, l, x), a[2]);
                           Value k = linalg::IndexOp::create(nb, l, 1);
                           Value label = arith::IndexCastOp::create(nb, l, nb.getIndexType(), a[3]);
                           Value hit = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, k, label);
                           Value one = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1));
                           Value pMinus = arith::SelectOp::create(nb, l, hit, arith::SubFOp::create(nb, l, p, one), p);
                           return arith::MulFOp::create(nb, l, pMinus, invN).getResult();
                         });
  b.replaceOp(op, grad);
  return success();
}

} // namespace

void populateLossLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LoweringPattern<SoftmaxCrossEntropyOp, lowerSoftmaxCrossEntropy>,
               LoweringPattern<SoftmaxCrossEntropyBackwardOp, lowerSoftmaxCrossEntropyBackward>>(patterns.getContext());
}

} // namespace vidnet
