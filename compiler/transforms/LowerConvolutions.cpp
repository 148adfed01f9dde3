// vidnet-lower-to-linalg patterns for convolutions: the forward and both gradients.
#include "compiler/transforms/LinalgBuilders.h"
#include "common/BundleFormat.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <functional>

using namespace mlir;
using utils::IteratorType;

namespace vidnet {
namespace {

LogicalResult lowerConv(vidnet::ConvOp op, ConversionPatternRewriter &b) {
  if (op.getGroups() != 1)
    return lowerGroupedConvolution(op, b);
  Emitter e(b, op.getLoc());
  Value input = padSpatial(e, op.getInput(), op.getPadding());
  auto resultType = cast<RankedTensorType>(op.getType());
  auto strides = b.getI64TensorAttr(op.getStrides());
  auto dilations = b.getI64TensorAttr({1, 1, 1});
  auto conv =
      linalg::Conv3DNdhwcDhwcfOp::create(b, op.getLoc(), TypeRange{resultType}, ValueRange{input, op.getFilter()},
                                         ValueRange{e.filled(resultType, 0.0)}, strides, dilations);
  b.replaceOp(op, conv.getResult(0));
  return success();
}

// One output phase of the input gradient along one axis. With i = q*s + r, the taps that reach
// dx[i] are k = k0 + j*s (k0 = (r + p) mod s), read from dy[q + c - j] (c = floor((r + p) / s)),
// so the phase is a stride-1 correlation of dy with those J taps in reverse order, over dy
// shifted by J - 1 - c: no zero is inserted and no product is by a known zero.
struct AxisPhase {
  int64_t phase;    // r: the phase covers dx[r], dx[r + s], ...
  int64_t count;    // Q: how many positions that is
  int64_t firstTap; // k0
  int64_t taps;     // J (0: nothing reaches this phase, its gradient is zero)
  int64_t dyShift;  // J - 1 - c: dy[o] sits at o + dyShift of the phase's input
  int64_t extent() const { return count + taps - 1; }
};

AxisPhase axisPhase(int64_t inputExtent, int64_t kernel, int64_t stride, int64_t pad, int64_t r) {
  AxisPhase a{r, (inputExtent - r + stride - 1) / stride, (r + pad) % stride, 0, 0};
  if (a.firstTap < kernel)
    a.taps = (kernel - a.firstTap + stride - 1) / stride;
  a.dyShift = a.taps - 1 - (r + pad) / stride;
  return a;
}

// The input gradient of a convolution (its transpose), one stride-1 convolution per output
// phase: for stride s, s_d * s_h * s_w phases, each with its sub-filter (the taps of that phase,
// flipped in D, H, W, with C and F swapped) over the part of dy it reads, its result inserted
// into dx with stride s. A stride-1 conv has one phase: dy padded by K - 1 - p against the
// flipped filter. A strided one does 1/(s_d s_h s_w) of the products zero insertion would.
LogicalResult lowerConvBackwardData(vidnet::ConvBackwardDataOp op, ConversionPatternRewriter &b) {
  if (op.getGroups() != 1)
    return lowerGroupedConvolution(op, b);
  Emitter e(b, op.getLoc());
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto dy = cast<RankedTensorType>(op.getOutputGrad().getType());
  auto filter = cast<RankedTensorType>(op.getFilter().getType());
  auto dx = cast<RankedTensorType>(op.getInputGrad().getType());
  Type f32 = dx.getElementType();
  ArrayRef<int64_t> k = filter.getShape(), s = op.getStrides(), p = op.getPadding();
  const int64_t n = dy.getDimSize(0), f = dy.getDimSize(4), c = dx.getDimSize(4);
  auto ones = b.getI64TensorAttr({1, 1, 1});

  // The phase's taps, flipped and transposed: sub[m, f, c] = filter[k0 + (J - 1 - m) s, c, f].
  auto subFilter = [&](const AxisPhase(&axes)[3]) {
    auto type = RankedTensorType::get({axes[0].taps, axes[1].taps, axes[2].taps, f, c}, f32);
    SmallVector<AffineExpr> src;
    for (int i = 0; i < 3; ++i)
      src.push_back(b.getAffineConstantExpr(axes[i].firstTap + (axes[i].taps - 1) * s[i]) -
                    b.getAffineDimExpr(i) * s[i]);
    src.push_back(b.getAffineDimExpr(4));
    src.push_back(b.getAffineDimExpr(3));
    return e.generic(
        type, {op.getFilter()}, e.empty(type), {AffineMap::get(5, 0, src, ctx), b.getMultiDimIdentityMap(5)},
        SmallVector<IteratorType>(5, IteratorType::parallel), [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  };
  // The part of dy the phase reads, zero-padded to the phase's input extent (dy itself when it
  // fits exactly); null when the phase reads none of dy. A tensor.pad, so that the CPU's conv
  // schedule sees the zero rows and skips the taps that would only read them.
  auto phaseInput = [&](const AxisPhase(&axes)[3]) -> Value {
    SmallVector<int64_t> shape = {n, 0, 0, 0, f};
    SmallVector<OpFoldResult> from(5, b.getIndexAttr(0)), to(5, b.getIndexAttr(0)), sizes, unit(5, b.getIndexAttr(1));
    bool whole = true, allOfDy = true;
    sizes.push_back(b.getIndexAttr(n));
    for (int i = 0; i < 3; ++i) {
      const AxisPhase &a = axes[i];
      int64_t outExtent = dy.getDimSize(i + 1);
      int64_t first = std::max<int64_t>(0, -a.dyShift), last = std::min(outExtent, a.extent() - a.dyShift);
      if (last <= first)
        return {};
      shape[i + 1] = a.extent();
      from[i + 1] = b.getIndexAttr(first);
      to[i + 1] = b.getIndexAttr(first + a.dyShift);
      sizes.push_back(b.getIndexAttr(last - first));
      whole = whole && a.dyShift == 0 && a.extent() == outExtent;
      allOfDy = allOfDy && first == 0 && last == outExtent;
    }
    sizes.push_back(b.getIndexAttr(f));
    if (whole)
      return op.getOutputGrad();
    auto sliceType = RankedTensorType::get(
        {n, *getConstantIntValue(sizes[1]), *getConstantIntValue(sizes[2]), *getConstantIntValue(sizes[3]), f}, f32);
    Value part = allOfDy ? op.getOutputGrad()
                         : tensor::ExtractSliceOp::create(b, loc, sliceType, op.getOutputGrad(), from, sizes, unit);
    SmallVector<OpFoldResult> high(5, b.getIndexAttr(0));
    bool padded = false;
    for (int i = 1; i <= 3; ++i) {
      high[i] = b.getIndexAttr(shape[i] - *getConstantIntValue(to[i]) - *getConstantIntValue(sizes[i]));
      padded = padded || !isZeroInteger(to[i]) || !isZeroInteger(high[i]);
    }
    if (!padded)
      return part;
    return tensor::PadOp::create(b, loc, RankedTensorType::get(shape, f32), part, to, high, e.f32(0.0));
  };

  Value result; // dx so far; zero-filled once a phase is inserted or none reads dy
  for (int64_t rd = 0; rd < s[0]; ++rd)
    for (int64_t rh = 0; rh < s[1]; ++rh)
      for (int64_t rw = 0; rw < s[2]; ++rw) {
        const int64_t r[3] = {rd, rh, rw};
        AxisPhase axes[3];
        bool empty = false;
        for (int i = 0; i < 3; ++i) {
          axes[i] = axisPhase(dx.getDimSize(i + 1), k[i], s[i], p[i], r[i]);
          empty = empty || axes[i].taps == 0 || axes[i].count <= 0;
        }
        Value input = empty ? Value() : phaseInput(axes);
        if (!input)
          continue; // nothing reaches these positions: their gradient stays 0
        auto phaseType = RankedTensorType::get({n, axes[0].count, axes[1].count, axes[2].count, c}, f32);
        Value taps = subFilter(axes);
        Value init = e.filled(phaseType, 0.0);
        auto phaseConv = linalg::Conv3DNdhwcDhwcfOp::create(b, loc, TypeRange{phaseType}, ValueRange{input, taps},
                                                            ValueRange{init}, ones, ones);
        phaseConv->setAttr(kConvRoleAttr, b.getStringAttr(vidnet::bundle::loop_kind::kConvDataGradient));
        phaseConv->setAttr(kConvShapeAttr, b.getStringAttr(describeConv(k, s, dy.getShape())));
        Value phase = phaseConv.getResult(0);
        if (phaseType == dx) {
          result = phase; // one phase covers dx (stride 1)
          continue;
        }
        SmallVector<OpFoldResult> at = {b.getIndexAttr(0), b.getIndexAttr(rd), b.getIndexAttr(rh), b.getIndexAttr(rw),
                                        b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes = {b.getIndexAttr(n), b.getIndexAttr(axes[0].count),
                                           b.getIndexAttr(axes[1].count), b.getIndexAttr(axes[2].count),
                                           b.getIndexAttr(c)};
        SmallVector<OpFoldResult> steps = {b.getIndexAttr(1), b.getIndexAttr(s[0]), b.getIndexAttr(s[1]),
                                           b.getIndexAttr(s[2]), b.getIndexAttr(1)};
        if (!result)
          result = e.filled(dx, 0.0);
        result = tensor::InsertSliceOp::create(b, loc, phase, result, at, sizes, steps);
      }
  b.replaceOp(op, result ? result : e.filled(dx, 0.0));
  return success();
}

// Per filter tap (kd, kh, kw), a matmul over the P = N*OD*OH*OW output positions:
// dfilter[kd, kh, kw] (C x F) = x_tap^T (C x P) * dy (P x F), where x_tap is the strided
// slice of the padded input the tap sees. The matmul is written as a 1x1x1
// linalg.conv_3d_ndhwc_dhwcf (W = C, input channels = P), so targets schedule it like every
// other conv; the taps are an scf.for nest, so code size does not grow with the kernel.
// (One linalg.generic over all 9 loops is correct too, but LLVM's IndVarSimplify took a
// minute on a tiny model's nests, and its loads stride through memory.)
LogicalResult lowerConvBackwardFilter(vidnet::ConvBackwardFilterOp op, ConversionPatternRewriter &b) {
  if (op.getGroups() != 1)
    return lowerGroupedConvolution(op, b);
  Emitter e(b, op.getLoc());
  Location loc = op.getLoc();
  auto x = cast<RankedTensorType>(op.getInput().getType());
  auto dy = cast<RankedTensorType>(op.getOutputGrad().getType());
  auto dfilter = cast<RankedTensorType>(op.getFilterGrad().getType());
  Type f32 = x.getElementType();
  ArrayRef<int64_t> s = op.getStrides(), p = op.getPadding(), k = dfilter.getShape();
  int64_t C = x.getDimSize(4), F = dy.getDimSize(4);
  int64_t P = dy.getNumElements() / F;
  Value input = padSpatial(e, op.getInput(), p);
  SmallVector<ReassociationIndices> positions = {{0, 1, 2, 3}, {4}};
  Value dyFlat =
      tensor::CollapseShapeOp::create(b, loc, RankedTensorType::get({P, F}, f32), op.getOutputGrad(), positions);
  Value dyFilter =
      tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get({1, 1, 1, P, F}, f32), dyFlat, positions);
  auto tapType = RankedTensorType::get({1, 1, 1, C, F}, f32);
  auto ones = b.getI64TensorAttr({1, 1, 1});
  Value zeroIndex = arith::ConstantIndexOp::create(b, loc, 0);
  Value oneIndex = arith::ConstantIndexOp::create(b, loc, 1);
  auto bound = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };

  SmallVector<Value> taps; // kd, kh, kw
  std::function<Value(OpBuilder &, Value, int)> loop = [&](OpBuilder &lb, Value acc, int dim) -> Value {
    auto forOp = scf::ForOp::create(
        lb, loc, zeroIndex, bound(k[dim]), oneIndex, ValueRange{acc},
        [&](OpBuilder &bb, Location l, Value iv, ValueRange iter) {
          taps.push_back(iv);
          Value next;
          if (dim < 2) {
            next = loop(bb, iter[0], dim + 1);
          } else {
            Emitter ie(bb, l);
            SmallVector<OpFoldResult> offsets = {bb.getIndexAttr(0), taps[0], taps[1], taps[2], bb.getIndexAttr(0)};
            SmallVector<OpFoldResult> sizes, strides = {bb.getIndexAttr(1)};
            for (int64_t d : dy.getShape().drop_back())
              sizes.push_back(bb.getIndexAttr(d));
            sizes.push_back(bb.getIndexAttr(C));
            for (int i = 0; i < 3; ++i)
              strides.push_back(bb.getIndexAttr(s[i]));
            strides.push_back(bb.getIndexAttr(1));
            auto sliceType =
                RankedTensorType::get({dy.getDimSize(0), dy.getDimSize(1), dy.getDimSize(2), dy.getDimSize(3), C}, f32);
            Value slice = tensor::ExtractSliceOp::create(bb, l, sliceType, input, offsets, sizes, strides);
            Value flat = tensor::CollapseShapeOp::create(bb, l, RankedTensorType::get({P, C}, f32), slice, positions);
            Value transposed = linalg::TransposeOp::create(bb, l, flat, ie.empty(RankedTensorType::get({C, P}, f32)),
                                                           ArrayRef<int64_t>{1, 0})
                                   .getResult()[0];
            Value lhs = tensor::ExpandShapeOp::create(bb, l, RankedTensorType::get({1, 1, 1, C, P}, f32), transposed,
                                                      positions);
            auto tapConv = linalg::Conv3DNdhwcDhwcfOp::create(bb, l, TypeRange{tapType}, ValueRange{lhs, dyFilter},
                                                              ValueRange{ie.filled(tapType, 0.0)}, ones, ones);
            tapConv->setAttr(kConvRoleAttr, bb.getStringAttr(vidnet::bundle::loop_kind::kConvFilterGradient));
            tapConv->setAttr(kConvShapeAttr, bb.getStringAttr(describeConv(k, s, dy.getShape())));
            Value tap = tapConv.getResult(0);
            SmallVector<OpFoldResult> at = {taps[0], taps[1], taps[2], bb.getIndexAttr(0), bb.getIndexAttr(0)};
            SmallVector<OpFoldResult> tapSizes = {bb.getIndexAttr(1), bb.getIndexAttr(1), bb.getIndexAttr(1),
                                                  bb.getIndexAttr(C), bb.getIndexAttr(F)};
            SmallVector<OpFoldResult> unit(5, bb.getIndexAttr(1));
            next = tensor::InsertSliceOp::create(bb, l, tap, iter[0], at, tapSizes, unit);
          }
          taps.pop_back();
          scf::YieldOp::create(bb, l, next);
        });
    return forOp.getResult(0);
  };
  b.replaceOp(op, loop(b, e.empty(dfilter), 0));
  return success();
}

// The (2+1)D conv is a composite op: vidnet-decompose-2plus1d rewrites it into ops that lower.
LogicalResult refuseConv2Plus1d(vidnet::Conv2Plus1dOp op, ConversionPatternRewriter &) {
  return op.emitOpError("run vidnet-decompose-2plus1d before lowering to linalg");
}

} // namespace

void populateConvolutionLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LoweringPattern<ConvOp, lowerConv>, LoweringPattern<ConvBackwardDataOp, lowerConvBackwardData>,
               LoweringPattern<ConvBackwardFilterOp, lowerConvBackwardFilter>,
               LoweringPattern<Conv2Plus1dOp, refuseConv2Plus1d>>(patterns.getContext());
}

} // namespace vidnet
