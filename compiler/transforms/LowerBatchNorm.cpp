// vidnet-lower-to-linalg patterns for batch norm: eval and training forms, the VJP and the running statistics.
#include "compiler/transforms/LinalgBuilders.h"

using namespace mlir;
using utils::IteratorType;

namespace vidnet {
namespace {

LogicalResult lowerBatchNorm(vidnet::BatchNormOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  float eps = op.getEpsilon().convertToFloat();
  Value y = e.elementwise(
      {op.getInput()}, {op.getGamma(), op.getBeta(), op.getRunningMean(), op.getRunningVar()},
      cast<RankedTensorType>(op.getType()), [&](OpBuilder &nb, Location l, ValueRange a) {
        return normalize(nb, l, a[0], a[3], a[4], a[1], a[2], eps);
      });
  b.replaceOp(op, y);
  return success();
}

LogicalResult lowerBatchNormTrain(vidnet::BatchNormTrainOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  float eps = op.getEpsilon().convertToFloat();
  Value mean = channelMean(e, op.getInput(), [](OpBuilder &, Location, Value x, Value) { return x; }, {});
  Value var = channelMean(
      e, op.getInput(),
      [](OpBuilder &nb, Location l, Value x, Value m) {
        Value d = arith::SubFOp::create(nb, l, x, m);
        return arith::MulFOp::create(nb, l, d, d).getResult();
      },
      mean);
  Value y = e.elementwise({op.getInput()}, {op.getGamma(), op.getBeta(), mean, var},
                          cast<RankedTensorType>(op.getOutput().getType()),
                          [&](OpBuilder &nb, Location l, ValueRange a) {
                            return normalize(nb, l, a[0], a[3], a[4], a[1], a[2], eps);
                          });
  b.replaceOp(op, ValueRange{y, mean, var});
  return success();
}

LogicalResult lowerBatchNormTrainBackward(vidnet::BatchNormTrainBackwardOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  auto type = cast<RankedTensorType>(op.getInput().getType());
  double count = static_cast<double>(type.getNumElements() / type.getShape().back());
  float eps = op.getEpsilon().convertToFloat();
  auto vecType = cast<RankedTensorType>(op.getGamma().getType());
  AffineMap vid = b.getMultiDimIdentityMap(1);
  Value rstd = e.generic(vecType, {op.getBatchVar()}, e.empty(vecType), {vid, vid}, {IteratorType::parallel},
                         [&](OpBuilder &nb, Location l, ValueRange a) {
                           Value ve = arith::AddFOp::create(nb, l, a[0], arith::ConstantOp::create(
                                                                             nb, l, nb.getF32FloatAttr(eps)));
                           return math::RsqrtOp::create(nb, l, ve).getResult();
                         });
  auto xhat = [](OpBuilder &nb, Location l, Value x, Value mean, Value rstd) {
    return arith::MulFOp::create(nb, l, arith::SubFOp::create(nb, l, x, mean), rstd).getResult();
  };
  Value dbeta = channelSum(e, {op.getOutputGrad()}, {}, [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  Value dgamma = channelSum(e, {op.getOutputGrad(), op.getInput()}, {op.getBatchMean(), rstd},
                            [&](OpBuilder &nb, Location l, ValueRange a) {
                              return arith::MulFOp::create(nb, l, a[0], xhat(nb, l, a[1], a[2], a[3])).getResult();
                            });
  // dx = gamma * rstd * (dy - dbeta / M - xhat * dgamma / M)
  Value invCount = e.f32(1.0 / count);
  Value dx = e.elementwise(
      {op.getOutputGrad(), op.getInput()}, {op.getBatchMean(), rstd, op.getGamma(), dbeta, dgamma}, type,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value xh = xhat(nb, l, a[1], a[2], a[3]);
        Value meanDy = arith::MulFOp::create(nb, l, a[5], invCount);
        Value meanDyXhat = arith::MulFOp::create(nb, l, arith::MulFOp::create(nb, l, a[6], invCount), xh);
        Value centered = arith::SubFOp::create(nb, l, arith::SubFOp::create(nb, l, a[0], meanDy), meanDyXhat);
        return arith::MulFOp::create(nb, l, arith::MulFOp::create(nb, l, a[4], a[3]), centered).getResult();
      });
  b.replaceOp(op, ValueRange{dx, dgamma, dbeta});
  return success();
}

LogicalResult lowerRunningStatsUpdate(vidnet::RunningStatsUpdateOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  auto type = cast<RankedTensorType>(op.getRunningMean().getType());
  double m = op.getMomentum().convertToFloat();
  double n = static_cast<double>(op.getCount());
  Value keep = e.f32(1.0 - m), take = e.f32(m);
  // PyTorch multiplies the biased variance by n / (n - 1); n = 1 gives inf, as there.
  Value unbias = e.f32(n / (n - 1.0));
  auto blend = [&](Value running, Value batch, bool unbiased) {
    return e.elementwise({running, batch}, {}, type, [&](OpBuilder &nb, Location l, ValueRange a) {
      Value fresh = unbiased ? arith::MulFOp::create(nb, l, a[1], unbias).getResult() : a[1];
      return arith::AddFOp::create(nb, l, arith::MulFOp::create(nb, l, keep, a[0]),
                                   arith::MulFOp::create(nb, l, take, fresh))
          .getResult();
    });
  };
  Value mean = blend(op.getRunningMean(), op.getBatchMean(), false);
  Value var = blend(op.getRunningVar(), op.getBatchVar(), true);
  b.replaceOp(op, ValueRange{mean, var});
  return success();
}

} // namespace

void populateBatchNormLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LoweringPattern<BatchNormOp, lowerBatchNorm>,
               LoweringPattern<BatchNormTrainOp, lowerBatchNormTrain>,
               LoweringPattern<BatchNormTrainBackwardOp, lowerBatchNormTrainBackward>,
               LoweringPattern<RunningStatsUpdateOp, lowerRunningStatsUpdate>>(patterns.getContext());
}

} // namespace vidnet
