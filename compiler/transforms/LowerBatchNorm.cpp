// vidnet-lower-to-linalg patterns for batch norm: eval and training forms, the VJP and the running statistics.
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"

using namespace mlir;
using utils::IteratorType;

namespace vidnet {
namespace {

// y = (x - mean) * scale + beta with scale = gamma / sqrt(var + eps) per channel, all in float64
// and rounded once. x - mean is exact in float64 (two float32 values within a factor 2^29 of each
// other), so y is within an ulp of the exact value: the sign of a ReLU input near zero is
// decided by the conv's rounding, not the normalization's (in float32 it was rounded four times,
// with a square root and a division per element).
Value batchNormalize(Emitter &e, Value x, Value mean, Value var, Value gamma, Value beta, float eps,
                     RankedTensorType like) {
  OpBuilder &b = e.b;
  Type f64 = b.getF64Type();
  auto vecType = cast<RankedTensorType>(gamma.getType());
  auto scaleType = RankedTensorType::get(vecType.getShape(), f64);
  AffineMap vid = b.getMultiDimIdentityMap(1);
  Value scale = e.generic(scaleType, {gamma, var}, e.empty(scaleType), {vid, vid, vid}, {IteratorType::parallel},
                          [&](OpBuilder &nb, Location l, ValueRange a) {
                            ArithBuilder f(nb, l);
                            Value g = arith::ExtFOp::create(nb, l, f64, a[0]);
                            Value v = arith::ExtFOp::create(nb, l, f64, a[1]);
                            Value epsilon = arith::ConstantOp::create(nb, l, nb.getF64FloatAttr(eps));
                            Value stddev = math::SqrtOp::create(nb, l, f.add(v, epsilon));
                            return arith::DivFOp::create(nb, l, g, stddev).getResult();
                          });
  return e.elementwise({x}, {mean, scale, beta}, like, [&](OpBuilder &nb, Location l, ValueRange a) {
    ArithBuilder f(nb, l);
    Value centered = f.sub(arith::ExtFOp::create(nb, l, f64, a[0]), arith::ExtFOp::create(nb, l, f64, a[1]));
    Value y = f.add(f.mul(centered, a[2]), arith::ExtFOp::create(nb, l, f64, a[3]));
    return arith::TruncFOp::create(nb, l, nb.getF32Type(), y).getResult();
  });
}

LogicalResult lowerBatchNorm(vidnet::BatchNormOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  Value y = batchNormalize(e, op.getInput(), op.getRunningMean(), op.getRunningVar(), op.getGamma(), op.getBeta(),
                           op.getEpsilon().convertToFloat(), cast<RankedTensorType>(op.getType()));
  b.replaceOp(op, y);
  return success();
}

LogicalResult lowerBatchNormTrain(vidnet::BatchNormTrainOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  // One pass over x for both statistics: the float64 sums of x and of x^2 (each square exact in
  // float64), then var = E[x^2] - E[x]^2 in float64. Its cancellation costs about 2^-53 x E[x^2],
  // under a float32 rounding of var unless |mean| / std is above 2^14; the two passes before
  // (the mean, then the float32 squares of x - mean rounded to float32) each read x once more.
  // vidnet-cpu-parallelize-elementwise makes the two sums one loop.
  auto input = cast<RankedTensorType>(op.getInput().getType());
  const double count = static_cast<double>(input.getNumElements() / input.getShape().back());
  Type f64 = b.getF64Type();
  Value sum = channelSumF64(e, {op.getInput()}, {}, [&](OpBuilder &nb, Location l, ValueRange a) {
    return arith::ExtFOp::create(nb, l, f64, a[0]).getResult();
  });
  Value squares = channelSumF64(e, {op.getInput()}, {}, [&](OpBuilder &nb, Location l, ValueRange a) {
    Value x = arith::ExtFOp::create(nb, l, f64, a[0]);
    return arith::MulFOp::create(nb, l, x, x).getResult();
  });
  auto vecType = cast<RankedTensorType>(op.getGamma().getType());
  AffineMap vid = b.getMultiDimIdentityMap(1);
  auto statistic = [&](bool variance) {
    SmallVector<Value> sums{sum};
    if (variance)
      sums.push_back(squares);
    SmallVector<AffineMap> maps(sums.size() + 1, vid);
    return e.generic(vecType, sums, e.empty(vecType), maps, {IteratorType::parallel},
                     [&](OpBuilder &nb, Location l, ValueRange a) {
                       ArithBuilder f(nb, l);
                       Value inverse = arith::ConstantOp::create(nb, l, nb.getF64FloatAttr(1.0 / count));
                       Value mean = f.mul(a[0], inverse);
                       Value result = mean;
                       if (variance) {
                         Value meanOfSquares = f.mul(a[1], inverse);
                         Value zero = arith::ConstantOp::create(nb, l, nb.getF64FloatAttr(0.0));
                         result = arith::MaximumFOp::create(nb, l, f.sub(meanOfSquares, f.mul(mean, mean)), zero);
                       }
                       return arith::TruncFOp::create(nb, l, nb.getF32Type(), result).getResult();
                     });
  };
  Value mean = statistic(false), var = statistic(true);
  Value y = batchNormalize(e, op.getInput(), mean, var, op.getGamma(), op.getBeta(), op.getEpsilon().convertToFloat(),
                           cast<RankedTensorType>(op.getOutput().getType()));
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
                           Value var = a[0], epsilon = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(eps));
                           return math::RsqrtOp::create(nb, l, ArithBuilder(nb, l).add(var, epsilon)).getResult();
                         });
  auto xhat = [](ArithBuilder &f, Value x, Value mean, Value rstd) { return f.mul(f.sub(x, mean), rstd); };
  Value dbeta = channelSum(e, {op.getOutputGrad()}, {}, [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  Value dgamma = channelSum(e, {op.getOutputGrad(), op.getInput()}, {op.getBatchMean(), rstd},
                            [&](OpBuilder &nb, Location l, ValueRange a) {
                              Value dy = a[0], x = a[1], mean = a[2], rstdC = a[3];
                              ArithBuilder f(nb, l);
                              return f.mul(dy, xhat(f, x, mean, rstdC));
                            });
  // dx = gamma * rstd * (dy - dbeta / M - xhat * dgamma / M)
  Value invCount = e.f32(1.0 / count);
  Value dx = e.elementwise({op.getOutputGrad(), op.getInput()}, {op.getBatchMean(), rstd, op.getGamma(), dbeta, dgamma},
                           type, [&](OpBuilder &nb, Location l, ValueRange a) {
                             Value dy = a[0], x = a[1], mean = a[2], rstdC = a[3], gamma = a[4], dbetaC = a[5],
                                   dgammaC = a[6];
                             ArithBuilder f(nb, l);
                             // One statement per op, so that the IR's op order does not depend on the C++ compiler's
                             // order of evaluating arguments.
                             Value xh = xhat(f, x, mean, rstdC);
                             Value meanDy = f.mul(dbetaC, invCount);
                             Value meanDyXhat = f.mul(f.mul(dgammaC, invCount), xh);
                             Value centered = f.sub(f.sub(dy, meanDy), meanDyXhat);
                             Value scale = f.mul(gamma, rstdC);
                             return f.mul(scale, centered);
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
      Value old = a[0], fresh = a[1];
      ArithBuilder f(nb, l);
      if (unbiased)
        fresh = f.mul(fresh, unbias);
      Value kept = f.mul(keep, old);
      Value taken = f.mul(take, fresh);
      return f.add(kept, taken);
    });
  };
  Value mean = blend(op.getRunningMean(), op.getBatchMean(), false);
  Value var = blend(op.getRunningVar(), op.getBatchVar(), true);
  b.replaceOp(op, ValueRange{mean, var});
  return success();
}

} // namespace

void populateBatchNormLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LoweringPattern<BatchNormOp, lowerBatchNorm>, LoweringPattern<BatchNormTrainOp, lowerBatchNormTrain>,
               LoweringPattern<BatchNormTrainBackwardOp, lowerBatchNormTrainBackward>,
               LoweringPattern<RunningStatsUpdateOp, lowerRunningStatsUpdate>>(patterns.getContext());
}

} // namespace vidnet
