// vidnet-lower-to-linalg patterns for convolutions: the forward and both gradients.
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <functional>

using namespace mlir;
using utils::IteratorType;

namespace vidnet {
namespace {

LogicalResult lowerConv(vidnet::ConvOp op, ConversionPatternRewriter &b) {
  if (op.getGroups() != 1)
    return op.emitOpError("grouped convolutions are not lowered yet");
  Emitter e(b, op.getLoc());
  Value input = padSpatial(e, op.getInput(), op.getPadding());
  auto resultType = cast<RankedTensorType>(op.getType());
  auto strides = b.getI64TensorAttr(op.getStrides());
  auto dilations = b.getI64TensorAttr({1, 1, 1});
  auto conv = linalg::Conv3DNdhwcDhwcfOp::create(b, op.getLoc(), TypeRange{resultType},
                                                 ValueRange{input, op.getFilter()},
                                                 ValueRange{e.filled(resultType, 0.0)}, strides, dilations);
  b.replaceOp(op, conv.getResult(0));
  return success();
}

// The transposed convolution, as a stride-1 convolution: dy zero-inserted (stride s) into a
// zero tensor of extent I + K - 1 at offset K - 1 - p, against the filter flipped in D, H, W
// with C and F swapped (TOOLCHAIN.md: checked against torch in float64).
LogicalResult lowerConvBackwardData(vidnet::ConvBackwardDataOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  MLIRContext *ctx = b.getContext();
  auto dy = cast<RankedTensorType>(op.getOutputGrad().getType());
  auto filter = cast<RankedTensorType>(op.getFilter().getType());
  auto dx = cast<RankedTensorType>(op.getInputGrad().getType());
  ArrayRef<int64_t> k = filter.getShape(), s = op.getStrides(), p = op.getPadding();

  // flipped[kd, kh, kw, f, c] = filter[KD-1-kd, KH-1-kh, KW-1-kw, c, f]
  auto flippedType = RankedTensorType::get({k[0], k[1], k[2], k[4], k[3]}, filter.getElementType());
  SmallVector<AffineExpr> src;
  for (int i = 0; i < 3; ++i)
    src.push_back(b.getAffineConstantExpr(k[i] - 1) - b.getAffineDimExpr(i));
  src.push_back(b.getAffineDimExpr(4));
  src.push_back(b.getAffineDimExpr(3));
  Value flipped = e.generic(flippedType, {op.getFilter()}, e.empty(flippedType),
                            {AffineMap::get(5, 0, src, ctx), b.getMultiDimIdentityMap(5)},
                            SmallVector<IteratorType>(5, IteratorType::parallel),
                            [](OpBuilder &, Location, ValueRange a) { return a[0]; });

  SmallVector<int64_t> spread = {dy.getDimSize(0), 0, 0, 0, dy.getDimSize(4)};
  SmallVector<OpFoldResult> offsets(5, b.getIndexAttr(0)), sizes, strides(5, b.getIndexAttr(1));
  for (int i = 0; i < 3; ++i) {
    spread[i + 1] = dx.getDimSize(i + 1) + k[i] - 1;
    offsets[i + 1] = b.getIndexAttr(k[i] - 1 - p[i]);
    strides[i + 1] = b.getIndexAttr(s[i]);
  }
  for (int64_t d : dy.getShape())
    sizes.push_back(b.getIndexAttr(d));
  Value spreadInit = e.filled(RankedTensorType::get(spread, dy.getElementType()), 0.0);
  Value spreadDy = tensor::InsertSliceOp::create(b, op.getLoc(), op.getOutputGrad(), spreadInit, offsets, sizes,
                                                 strides);
  auto ones = b.getI64TensorAttr({1, 1, 1});
  auto conv = linalg::Conv3DNdhwcDhwcfOp::create(b, op.getLoc(), TypeRange{dx}, ValueRange{spreadDy, flipped},
                                                 ValueRange{e.filled(dx, 0.0)}, ones, ones);
  b.replaceOp(op, conv.getResult(0));
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
  Value dyFlat = tensor::CollapseShapeOp::create(b, loc, RankedTensorType::get({P, F}, f32), op.getOutputGrad(),
                                                 positions);
  Value dyFilter = tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get({1, 1, 1, P, F}, f32), dyFlat,
                                                 positions);
  auto tapType = RankedTensorType::get({1, 1, 1, C, F}, f32);
  auto ones = b.getI64TensorAttr({1, 1, 1});
  Value zeroIndex = arith::ConstantIndexOp::create(b, loc, 0);
  Value oneIndex = arith::ConstantIndexOp::create(b, loc, 1);
  auto bound = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };

  SmallVector<Value> taps;  // kd, kh, kw
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
            auto sliceType = RankedTensorType::get({dy.getDimSize(0), dy.getDimSize(1), dy.getDimSize(2),
                                                    dy.getDimSize(3), C}, f32);
            Value slice = tensor::ExtractSliceOp::create(bb, l, sliceType, input, offsets, sizes, strides);
            Value flat = tensor::CollapseShapeOp::create(bb, l, RankedTensorType::get({P, C}, f32), slice, positions);
            Value transposed = linalg::TransposeOp::create(bb, l, flat, ie.empty(RankedTensorType::get({C, P}, f32)),
                                                           ArrayRef<int64_t>{1, 0})
                                   .getResult()[0];
            Value lhs = tensor::ExpandShapeOp::create(bb, l, RankedTensorType::get({1, 1, 1, C, P}, f32), transposed,
                                                      positions);
            Value tap = linalg::Conv3DNdhwcDhwcfOp::create(bb, l, TypeRange{tapType}, ValueRange{lhs, dyFilter},
                                                           ValueRange{ie.filled(tapType, 0.0)}, ones, ones)
                            .getResult(0);
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
  patterns.add<LoweringPattern<ConvOp, lowerConv>,
               LoweringPattern<ConvBackwardDataOp, lowerConvBackwardData>,
               LoweringPattern<ConvBackwardFilterOp, lowerConvBackwardFilter>,
               LoweringPattern<Conv2Plus1dOp, refuseConv2Plus1d>>(patterns.getContext());
}

} // namespace vidnet
