// vidnet-lower-to-linalg patterns for the classifier head: global average pooling, dense, their VJPs.
#include "compiler/transforms/LinalgBuilders.h"

using namespace mlir;
using utils::IteratorType;

namespace vidnet {
namespace {

LogicalResult lowerGlobalAvgPool(vidnet::GlobalAvgPoolOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto type = cast<RankedTensorType>(op.getType());
  MLIRContext *ctx = b.getContext();
  AffineMap nc = AffineMap::get(5, 0, {b.getAffineDimExpr(0), b.getAffineDimExpr(4)}, ctx);
  Value sum = e.generic(type, {op.getInput()}, e.filled(type, 0.0), {b.getMultiDimIdentityMap(5), nc},
                        {IteratorType::parallel, IteratorType::reduction, IteratorType::reduction,
                         IteratorType::reduction, IteratorType::parallel},
                        [](OpBuilder &nb, Location l, ValueRange a) {
                          return arith::AddFOp::create(nb, l, a[0], a[1]).getResult();
                        });
  Value scale = e.f32(1.0 / static_cast<double>(in.getDimSize(1) * in.getDimSize(2) * in.getDimSize(3)));
  AffineMap id = b.getMultiDimIdentityMap(2);
  Value mean = e.generic(type, {sum}, e.empty(type), {id, id},
                         {IteratorType::parallel, IteratorType::parallel},
                         [&](OpBuilder &nb, Location l, ValueRange a) {
                           return arith::MulFOp::create(nb, l, a[0], scale).getResult();
                         });
  b.replaceOp(op, mean);
  return success();
}

LogicalResult lowerGlobalAvgPoolBackward(vidnet::GlobalAvgPoolBackwardOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  auto type = cast<RankedTensorType>(op.getType());
  Value scale = e.f32(1.0 / static_cast<double>(type.getDimSize(1) * type.getDimSize(2) * type.getDimSize(3)));
  AffineMap nc = AffineMap::get(5, 0, {b.getAffineDimExpr(0), b.getAffineDimExpr(4)}, b.getContext());
  b.replaceOp(op, e.generic(type, {op.getOutputGrad()}, e.empty(type), {nc, b.getMultiDimIdentityMap(5)},
                                  SmallVector<IteratorType>(5, IteratorType::parallel),
                                  [&](OpBuilder &nb, Location l, ValueRange a) {
                                    return arith::MulFOp::create(nb, l, a[0], scale).getResult();
                                  }));
  return success();
}

LogicalResult lowerDense(vidnet::DenseOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  auto type = cast<RankedTensorType>(op.getType());
  AffineMap id = b.getMultiDimIdentityMap(2);
  AffineMap column = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, b.getContext());
  Value init = e.generic(type, ValueRange{op.getBias()}, e.empty(type), {column, id},
                         {IteratorType::parallel, IteratorType::parallel},
                         [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  auto mm = linalg::MatmulOp::create(b, op.getLoc(), TypeRange{type},
                                     ValueRange{op.getInput(), op.getWeight()}, ValueRange{init});
  b.replaceOp(op, mm.getResult(0));
  return success();
}

LogicalResult lowerDenseBackward(vidnet::DenseBackwardOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return b.getAffineDimExpr(i); };
  auto map = [&](std::initializer_list<AffineExpr> r) { return AffineMap::get(3, 0, r, ctx); };
  auto mac = [](OpBuilder &nb, Location l, ValueRange a) {
    return arith::AddFOp::create(nb, l, a[2], arith::MulFOp::create(nb, l, a[0], a[1])).getResult();
  };
  auto xType = cast<RankedTensorType>(op.getInput().getType());
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  auto bType = cast<RankedTensorType>(op.getBiasGrad().getType());
  using I = IteratorType;
  // dx[n, c] = sum_k dy[n, k] w[c, k]      loops (n, c, k)
  Value dx = e.generic(xType, {op.getOutputGrad(), op.getWeight()}, e.filled(xType, 0.0),
                       {map({d(0), d(2)}), map({d(1), d(2)}), map({d(0), d(1)})},
                       {I::parallel, I::parallel, I::reduction}, mac);
  // dw[c, k] = sum_n x[n, c] dy[n, k]      loops (c, k, n)
  Value dw = e.generic(wType, {op.getInput(), op.getOutputGrad()}, e.filled(wType, 0.0),
                       {map({d(2), d(0)}), map({d(2), d(1)}), map({d(0), d(1)})},
                       {I::parallel, I::parallel, I::reduction}, mac);
  AffineMap nk = b.getMultiDimIdentityMap(2);
  AffineMap k = AffineMap::get(2, 0, {d(1)}, ctx);
  Value db = e.generic(bType, {op.getOutputGrad()}, e.filled(bType, 0.0), {nk, k}, {I::reduction, I::parallel},
                       [](OpBuilder &nb, Location l, ValueRange a) {
                         return arith::AddFOp::create(nb, l, a[0], a[1]).getResult();
                       });
  b.replaceOp(op, ValueRange{dx, dw, db});
  return success();
}

} // namespace

void populateHeadLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LoweringPattern<GlobalAvgPoolOp, lowerGlobalAvgPool>,
               LoweringPattern<GlobalAvgPoolBackwardOp, lowerGlobalAvgPoolBackward>,
               LoweringPattern<DenseOp, lowerDense>,
               LoweringPattern<DenseBackwardOp, lowerDenseBackward>>(patterns.getContext());
}

} // namespace vidnet
