// vidnet-lower-to-linalg patterns for elementwise ops: ReLU, add, the ReLU VJP and the SGD update.
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"

using namespace mlir;
using utils::IteratorType;

namespace vidnet {
namespace {

LogicalResult lowerRelu(vidnet::ReluOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  b.replaceOp(op, e.elementwise({op.getInput()}, {}, cast<RankedTensorType>(op.getType()),
                                      [](OpBuilder &nb, Location l, ValueRange a) {
                                        Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0));
                                        return arith::MaximumFOp::create(nb, l, a[0], zero).getResult();
                                      }));
  return success();
}

LogicalResult lowerAdd(vidnet::AddOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  b.replaceOp(op, e.elementwise({op.getLhs(), op.getRhs()}, {}, cast<RankedTensorType>(op.getType()),
                                      [](OpBuilder &nb, Location l, ValueRange a) {
                                        return arith::AddFOp::create(nb, l, a[0], a[1]).getResult();
                                      }));
  return success();
}

LogicalResult lowerReluBackward(vidnet::ReluBackwardOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  b.replaceOp(op, e.elementwise({op.getOutputGrad(), op.getOutput()}, {},
                                      cast<RankedTensorType>(op.getType()),
                                      [](OpBuilder &nb, Location l, ValueRange a) {
                                        Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0));
                                        Value on = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, a[1], zero);
                                        return arith::SelectOp::create(nb, l, on, a[0], zero).getResult();
                                      }));
  return success();
}

// PyTorch's SGD: d = g + wd w; buf' = momentum buf + d; w' = w - lr buf'. One pass, two results.
LogicalResult lowerSgdUpdate(vidnet::SgdUpdateOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  auto type = cast<RankedTensorType>(op.getParam().getType());
  auto hyper = [&](int64_t i) {
    return tensor::ExtractOp::create(b, op.getLoc(), op.getHyper(),
                                     ValueRange{arith::ConstantIndexOp::create(b, op.getLoc(), i)})
        .getResult();
  };
  Value lr = hyper(0), momentum = hyper(1), wd = hyper(2);
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  auto update = linalg::GenericOp::create(
      b, op.getLoc(), TypeRange{type, type}, ValueRange{op.getParam(), op.getGrad(), op.getMomentumBuffer()},
      ValueRange{e.empty(type), e.empty(type)}, SmallVector<AffineMap>(5, id),
      SmallVector<IteratorType>(type.getRank(), IteratorType::parallel), "", "",
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value w = a[0], g = a[1], buf = a[2];
        ArithBuilder f(nb, l);
        Value d = f.add(g, f.mul(wd, w));
        Value newBuf = f.add(f.mul(momentum, buf), d);
        Value newW = f.sub(w, f.mul(lr, newBuf));
        linalg::YieldOp::create(nb, l, ValueRange{newW, newBuf});
      });
  b.replaceOp(op, update.getResults());
  return success();
}

} // namespace

void populateElementwiseLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LoweringPattern<ReluOp, lowerRelu>,
               LoweringPattern<AddOp, lowerAdd>,
               LoweringPattern<ReluBackwardOp, lowerReluBackward>,
               LoweringPattern<SgdUpdateOp, lowerSgdUpdate>>(patterns.getContext());
}

} // namespace vidnet
