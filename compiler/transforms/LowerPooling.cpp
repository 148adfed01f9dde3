// vidnet-lower-to-linalg patterns for max pooling: the forward and its input gradient.
#include "compiler/transforms/LinalgBuilders.h"

#include <array>
#include <limits>

using namespace mlir;
using utils::IteratorType;

namespace vidnet {
namespace {

using Triple = std::array<int64_t, 3>;

// Loops of both generics: (n, 4 window-side positions, 3 reduction taps, c), channels
// innermost, so each window or tap is one contiguous sweep over C (vectorizes over channels)
// and the CPU target parallelizes the leading positions.
constexpr unsigned kLoops = 8;
const SmallVector<IteratorType> kIterators = {IteratorType::parallel,  IteratorType::parallel,
                                              IteratorType::parallel,  IteratorType::parallel,
                                              IteratorType::reduction, IteratorType::reduction,
                                              IteratorType::reduction, IteratorType::parallel};

Triple triple(ArrayRef<int64_t> v) { return {v[0], v[1], v[2]}; }

// x padded along D, H, W by `low` and `high` with `value`.
Value padDHW(Emitter &e, Value x, Triple low, Triple high, TypedAttr value) {
  if (low == Triple{} && high == Triple{})
    return x;
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<OpFoldResult> lo(5, e.b.getIndexAttr(0)), hi(5, e.b.getIndexAttr(0));
  for (int i = 0; i < 3; ++i) {
    shape[i + 1] += low[i] + high[i];
    lo[i + 1] = e.b.getIndexAttr(low[i]);
    hi[i + 1] = e.b.getIndexAttr(high[i]);
  }
  Value pad = arith::ConstantOp::create(e.b, e.loc, value);
  return tensor::PadOp::create(e.b, e.loc, RankedTensorType::get(shape, type.getElementType()), x, lo, hi, pad);
}

TypedAttr negativeInfinity(OpBuilder &b) {
  return b.getF32FloatAttr(-std::numeric_limits<float>::infinity());
}

// (n, od, oh, ow, kd, kh, kw, c) -> (n, od*sd + kd, oh*sh + kh, ow*sw + kw, c): the window's
// element in the padded input.
AffineMap windowMap(MLIRContext *ctx, Triple s) {
  SmallVector<AffineExpr> r = {getAffineDimExpr(0, ctx)};
  for (unsigned i = 0; i < 3; ++i)
    r.push_back(getAffineDimExpr(1 + i, ctx) * s[i] + getAffineDimExpr(4 + i, ctx));
  r.push_back(getAffineDimExpr(7, ctx));
  return AffineMap::get(kLoops, 0, r, ctx);
}

// (n, a, b, c', taps..., ch) -> (n, a, b, c', ch): the result of a loop nest over kIterators.
AffineMap positionMap(MLIRContext *ctx) {
  SmallVector<AffineExpr> r;
  for (unsigned d : {0u, 1u, 2u, 3u, 7u})
    r.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(kLoops, 0, r, ctx);
}

// A tensor of `extents` (the window's taps, or the windows that reach an input) that only
// sizes the three reduction loops: their extents cannot be read off od * sd + kd.
struct ReductionExtent {
  Value tensor;
  AffineMap map;
};
ReductionExtent reductionExtent(Emitter &e, Triple extents) {
  MLIRContext *ctx = e.b.getContext();
  auto type = RankedTensorType::get({extents[0], extents[1], extents[2]}, e.b.getF32Type());
  return {e.empty(type), AffineMap::get(kLoops, 0,
                                        {getAffineDimExpr(4, ctx), getAffineDimExpr(5, ctx), getAffineDimExpr(6, ctx)},
                                        ctx)};
}

Value index(OpBuilder &b, Location l, unsigned dim) { return linalg::IndexOp::create(b, l, dim); }
Value constant(OpBuilder &b, Location l, int64_t v) { return arith::ConstantIndexOp::create(b, l, v); }

// Flat tap (kd * KH + kh) * KW + kw of per-axis taps, as the i32 the argmax holds.
Value flatTap(OpBuilder &b, Location l, ArrayRef<Value> taps, Triple k) {
  Value flat = taps[0];
  for (int i = 1; i < 3; ++i)
    flat = arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, flat, constant(b, l, k[i])), taps[i]);
  return arith::IndexCastOp::create(b, l, b.getI32Type(), flat);
}

// The max of each window of `x` (padded by -inf already) into a tensor of `type`.
Value windowMax(Emitter &e, Value paddedX, RankedTensorType type, Triple kernel, Triple strides) {
  MLIRContext *ctx = e.b.getContext();
  // maximumf propagates NaN, as PyTorch's max pooling does.
  ReductionExtent window = reductionExtent(e, kernel);
  return e.generic(type, {paddedX, window.tensor}, e.filled(type, -std::numeric_limits<double>::infinity()),
                   {windowMap(ctx, strides), window.map, positionMap(ctx)}, kIterators,
                   [](OpBuilder &nb, Location l, ValueRange a) {
                     return arith::MaximumFOp::create(nb, l, a[0], a[2]).getResult();
                   });
}

LogicalResult lowerMaxPool(vidnet::MaxPoolOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  Triple p = triple(op.getPadding());
  // Padding never wins a max: every window holds an input element (pad <= kernel / 2).
  Value x = padDHW(e, op.getInput(), p, p, negativeInfinity(b));
  b.replaceOp(op, windowMax(e, x, cast<RankedTensorType>(op.getType()), triple(op.getKernel()),
                            triple(op.getStrides())));
  return success();
}

// The flat tap of each window's first maximum in row-major (kd, kh, kw) order, as PyTorch's
// max_pool3d records it. The window's max comes first, from the forward's own generic (CSE
// makes it the forward's result); the argmax then has one result, the tap: a second, running
// max result would be dead after it and its buffer copied per parallel item. A tap is the
// first inside the input equal to the max (so a window of -inf still routes to an input
// element), or the last NaN (PyTorch's CPU kernel takes every NaN it meets).
Value windowArgmax(Emitter &e, vidnet::MaxPoolBackwardOp op) {
  OpBuilder &b = e.b;
  MLIRContext *ctx = b.getContext();
  Triple k = triple(op.getKernel()), s = triple(op.getStrides()), p = triple(op.getPadding());
  auto xType = cast<RankedTensorType>(op.getInput().getType());
  auto maxType = cast<RankedTensorType>(op.getOutputGrad().getType());
  auto tapType = RankedTensorType::get(maxType.getShape(), b.getI32Type());
  Value x = padDHW(e, op.getInput(), p, p, negativeInfinity(b));
  Value max = windowMax(e, x, maxType, k, s);
  Value none = arith::ConstantIntOp::create(b, e.loc, b.getI32Type(), -1);
  Value init = linalg::FillOp::create(b, e.loc, ValueRange{none}, ValueRange{e.empty(tapType)}).getResult(0);
  AffineMap out = positionMap(ctx);
  ReductionExtent window = reductionExtent(e, k);
  auto argmax = linalg::GenericOp::create(
      b, e.loc, TypeRange{tapType}, ValueRange{x, window.tensor, max}, ValueRange{init},
      {windowMap(ctx, s), window.map, out, out}, kIterators, "", "", [&](OpBuilder &nb, Location l, ValueRange a) {
        Value v = a[0], windowMax = a[2], tap = a[3];
        SmallVector<Value> taps;
        Value inside;
        for (unsigned i = 0; i < 3; ++i) {
          taps.push_back(index(nb, l, 4 + i));
          // The padded coordinate od * sd + kd lies in [pd, pd + D).
          Value at = arith::AddIOp::create(
              nb, l, arith::MulIOp::create(nb, l, index(nb, l, 1 + i), constant(nb, l, s[i])), taps.back());
          Value lo = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, at, constant(nb, l, p[i]));
          Value hi = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, at,
                                           constant(nb, l, p[i] + xType.getDimSize(1 + i)));
          Value both = arith::AndIOp::create(nb, l, lo, hi);
          inside = inside ? arith::AndIOp::create(nb, l, inside, both).getResult() : both;
        }
        Value zero = arith::ConstantIntOp::create(nb, l, nb.getI32Type(), 0);
        Value unset = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, tap, zero);
        Value isMax = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, v, windowMax);
        Value first = arith::AndIOp::create(nb, l, inside, arith::AndIOp::create(nb, l, unset, isMax));
        Value nan = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::UNO, v, v);
        Value take = arith::OrIOp::create(nb, l, first, nan);
        linalg::YieldOp::create(nb, l, ValueRange{arith::SelectOp::create(nb, l, take, flatTap(nb, l, taps, k), tap)});
      });
  return argmax.getResult(0);
}

// dx[n, i, c] = sum over the windows o that cover i and chose it of dy[n, o, c]. Per axis the
// windows covering i are o = floor((i + p) / s) - (J - 1) + j, j < J = ceil(k / s), at tap
// (i + p) mod s + (J - 1 - j) s when that is below k; so each input sums at most J_d J_h J_w
// windows, in increasing o (the order PyTorch scatters them in), without atomics. dy and the
// argmax are padded so that every such o can be read: dy by zeros, the argmax by -1 (no tap).
LogicalResult lowerMaxPoolBackward(vidnet::MaxPoolBackwardOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  MLIRContext *ctx = b.getContext();
  Triple k = triple(op.getKernel()), s = triple(op.getStrides()), p = triple(op.getPadding());
  auto dxType = cast<RankedTensorType>(op.getType());
  auto dyType = cast<RankedTensorType>(op.getOutputGrad().getType());
  Triple j, low, high;
  SmallVector<AffineExpr> read = {getAffineDimExpr(0, ctx)};
  for (int i = 0; i < 3; ++i) {
    j[i] = (k[i] + s[i] - 1) / s[i];
    low[i] = j[i] - 1;
    high[i] = std::max<int64_t>(0, (dxType.getDimSize(1 + i) - 1 + p[i]) / s[i] - (dyType.getDimSize(1 + i) - 1));
    // dy[o] sits at o + J - 1 of the padded dy.
    read.push_back((getAffineDimExpr(1 + i, ctx) + p[i]).floorDiv(s[i]) + getAffineDimExpr(4 + i, ctx));
  }
  read.push_back(getAffineDimExpr(7, ctx));
  Value argmax = windowArgmax(e, op);
  Value dy = padDHW(e, op.getOutputGrad(), low, high, b.getF32FloatAttr(0.0f));
  Value taps = padDHW(e, argmax, low, high, b.getI32IntegerAttr(-1));
  AffineMap readMap = AffineMap::get(kLoops, 0, read, ctx);
  ReductionExtent windows = reductionExtent(e, j);
  Value dx = e.generic(
      dxType, {dy, taps, windows.tensor}, e.filled(dxType, 0.0), {readMap, readMap, windows.map, positionMap(ctx)},
      kIterators, [&](OpBuilder &nb, Location l, ValueRange a) {
        SmallVector<Value> tap;
        Value covers;
        for (unsigned i = 0; i < 3; ++i) {
          Value phase = arith::RemUIOp::create(
              nb, l, arith::AddIOp::create(nb, l, index(nb, l, 1 + i), constant(nb, l, p[i])), constant(nb, l, s[i]));
          Value back = arith::SubIOp::create(nb, l, constant(nb, l, j[i] - 1), index(nb, l, 4 + i));
          tap.push_back(arith::AddIOp::create(
              nb, l, phase, arith::MulIOp::create(nb, l, back, constant(nb, l, s[i]))));
          Value in = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, tap.back(), constant(nb, l, k[i]));
          covers = covers ? arith::AndIOp::create(nb, l, covers, in).getResult() : in;
        }
        Value chose = arith::AndIOp::create(
            nb, l, covers, arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, a[1], flatTap(nb, l, tap, k)));
        return arith::SelectOp::create(nb, l, chose, arith::AddFOp::create(nb, l, a[3], a[0]), a[3]).getResult();
      });
  b.replaceOp(op, dx);
  return success();
}

} // namespace

void populatePoolingLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LoweringPattern<MaxPoolOp, lowerMaxPool>, LoweringPattern<MaxPoolBackwardOp, lowerMaxPoolBackward>>(
      patterns.getContext());
}

} // namespace vidnet
