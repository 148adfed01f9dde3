// vidnet-lower-to-linalg: every vidnet op (after decomposition) to linalg on tensors.
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

namespace vidnet {
#define GEN_PASS_DEF_LOWERTOLINALG
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;
using utils::IteratorType;

namespace {

// Helpers shared by the op lowerings; all emit at the builder's insertion point.
class Emitter {
public:
  Emitter(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value f32(double v) { return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)); }

  Value empty(RankedTensorType type) {
    return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  }

  Value filled(RankedTensorType type, double value) {
    return linalg::FillOp::create(b, loc, ValueRange{f32(value)}, ValueRange{empty(type)}).getResult(0);
  }

  // (d0, ..., d_{rank-1}) -> (d_{rank-1}): a per-channel vector over a channels-last tensor.
  AffineMap lastDimMap(unsigned rank) {
    return AffineMap::get(rank, 0, {b.getAffineDimExpr(rank - 1)}, b.getContext());
  }

  // A linalg.generic over `rank` loops with the given maps and iterators.
  Value generic(Type result, ValueRange inputs, Value init, ArrayRef<AffineMap> maps,
                ArrayRef<IteratorType> iterators,
                function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
    auto op = linalg::GenericOp::create(
        b, loc, TypeRange{result}, inputs, ValueRange{init}, maps, iterators, "", "",
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
        });
    return op.getResult(0);
  }

  // Elementwise over the shape of `like`; channel vectors broadcast along the last dim.
  Value elementwise(ValueRange full, ValueRange perChannel, RankedTensorType like,
                    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
    unsigned rank = like.getRank();
    AffineMap id = b.getMultiDimIdentityMap(rank);
    AffineMap channel = lastDimMap(rank);
    SmallVector<AffineMap> maps(full.size(), id);
    maps.append(perChannel.size(), channel);
    maps.push_back(id);
    SmallVector<Value> inputs(full.begin(), full.end());
    inputs.append(perChannel.begin(), perChannel.end());
    return generic(like, inputs, empty(like), maps,
                   SmallVector<IteratorType>(rank, IteratorType::parallel), body);
  }

  OpBuilder &b;
  Location loc;
};

// y = (x - mean) * rsqrt(var + eps) * gamma + beta
Value normalize(OpBuilder &nb, Location l, Value x, Value mean, Value var, Value gamma, Value beta,
                float eps) {
  Value e = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(eps));
  Value centered = arith::SubFOp::create(nb, l, x, mean);
  Value inv = math::RsqrtOp::create(nb, l, arith::AddFOp::create(nb, l, var, e));
  Value scaled = arith::MulFOp::create(nb, l, arith::MulFOp::create(nb, l, centered, inv), gamma);
  return arith::AddFOp::create(nb, l, scaled, beta);
}

// x zero-padded by p[i] on both sides of D, H and W (x itself when p is all zero).
Value padSpatial(Emitter &e, Value x, ArrayRef<int64_t> p) {
  if (llvm::all_of(p, [](int64_t v) { return v == 0; }))
    return x;
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> padded(type.getShape());
  SmallVector<OpFoldResult> pads(5, e.b.getIndexAttr(0));
  for (int i = 0; i < 3; ++i) {
    padded[i + 1] += 2 * p[i];
    pads[i + 1] = e.b.getIndexAttr(p[i]);
  }
  return tensor::PadOp::create(e.b, e.loc, RankedTensorType::get(padded, type.getElementType()), x, pads, pads,
                               e.f32(0.0));
}

LogicalResult lowerConv(vidnet::ConvOp op, OpBuilder &b) {
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
  op.replaceAllUsesWith(conv.getResult(0));
  return success();
}

LogicalResult lowerDense(vidnet::DenseOp op, OpBuilder &b) {
  Emitter e(b, op.getLoc());
  auto type = cast<RankedTensorType>(op.getType());
  AffineMap id = b.getMultiDimIdentityMap(2);
  AffineMap column = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, b.getContext());
  Value init = e.generic(type, ValueRange{op.getBias()}, e.empty(type), {column, id},
                         {IteratorType::parallel, IteratorType::parallel},
                         [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  auto mm = linalg::MatmulOp::create(b, op.getLoc(), TypeRange{type},
                                     ValueRange{op.getInput(), op.getWeight()}, ValueRange{init});
  op.replaceAllUsesWith(mm.getResult(0));
  return success();
}

LogicalResult lowerBatchNorm(vidnet::BatchNormOp op, OpBuilder &b) {
  Emitter e(b, op.getLoc());
  float eps = op.getEpsilon().convertToFloat();
  Value y = e.elementwise(
      {op.getInput()}, {op.getGamma(), op.getBeta(), op.getRunningMean(), op.getRunningVar()},
      cast<RankedTensorType>(op.getType()), [&](OpBuilder &nb, Location l, ValueRange a) {
        return normalize(nb, l, a[0], a[3], a[4], a[1], a[2], eps);
      });
  op.replaceAllUsesWith(y);
  return success();
}

// Per-channel sum over every other dimension of term(args), args full tensors or channel vectors.
Value channelSum(Emitter &e, ValueRange full, ValueRange perChannel,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> term) {
  auto type = cast<RankedTensorType>(full[0].getType());
  unsigned rank = type.getRank();
  auto vecType = RankedTensorType::get({type.getShape().back()}, type.getElementType());
  SmallVector<AffineMap> maps(full.size(), e.b.getMultiDimIdentityMap(rank));
  maps.append(perChannel.size() + 1, e.lastDimMap(rank));
  SmallVector<IteratorType> iters(rank, IteratorType::reduction);
  iters.back() = IteratorType::parallel;
  SmallVector<Value> inputs(full.begin(), full.end());
  inputs.append(perChannel.begin(), perChannel.end());
  return e.generic(vecType, inputs, e.filled(vecType, 0.0), maps, iters,
                   [&](OpBuilder &nb, Location l, ValueRange a) {
                     Value t = term(nb, l, a.drop_back());
                     return arith::AddFOp::create(nb, l, t, a.back()).getResult();
                   });
}

// Per-channel mean over every other dimension of term(x, center): sum, then scale by 1/count.
Value channelMean(Emitter &e, Value x, function_ref<Value(OpBuilder &, Location, Value, Value)> term,
                  Value centerOrNull) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t count = type.getNumElements() / type.getShape().back();
  SmallVector<Value> perChannel;
  if (centerOrNull)
    perChannel.push_back(centerOrNull);
  Value sum = channelSum(e, {x}, perChannel, [&](OpBuilder &nb, Location l, ValueRange a) {
    return term(nb, l, a[0], centerOrNull ? a[1] : Value());
  });
  auto vecType = cast<RankedTensorType>(sum.getType());
  Value scale = e.f32(1.0 / static_cast<double>(count));
  AffineMap vid = e.b.getMultiDimIdentityMap(1);
  return e.generic(vecType, {sum}, e.empty(vecType), {vid, vid}, {IteratorType::parallel},
                   [&](OpBuilder &nb, Location l, ValueRange a) {
                     return arith::MulFOp::create(nb, l, a[0], scale).getResult();
                   });
}

LogicalResult lowerBatchNormTrain(vidnet::BatchNormTrainOp op, OpBuilder &b) {
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
  op.getOutput().replaceAllUsesWith(y);
  op.getBatchMean().replaceAllUsesWith(mean);
  op.getBatchVar().replaceAllUsesWith(var);
  return success();
}

LogicalResult lowerGlobalAvgPool(vidnet::GlobalAvgPoolOp op, OpBuilder &b) {
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
  op.replaceAllUsesWith(mean);
  return success();
}

LogicalResult lowerFoldTime(vidnet::FoldTimeOp op, OpBuilder &b) {
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
  op.replaceAllUsesWith(folded);
  return success();
}

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

LogicalResult lowerSoftmaxCrossEntropy(vidnet::SoftmaxCrossEntropyOp op, OpBuilder &b) {
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
  op.replaceAllUsesWith(loss);
  return success();
}

LogicalResult lowerRelu(vidnet::ReluOp op, OpBuilder &b) {
  Emitter e(b, op.getLoc());
  op.replaceAllUsesWith(e.elementwise({op.getInput()}, {}, cast<RankedTensorType>(op.getType()),
                                      [](OpBuilder &nb, Location l, ValueRange a) {
                                        Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0));
                                        return arith::MaximumFOp::create(nb, l, a[0], zero).getResult();
                                      }));
  return success();
}

LogicalResult lowerAdd(vidnet::AddOp op, OpBuilder &b) {
  Emitter e(b, op.getLoc());
  op.replaceAllUsesWith(e.elementwise({op.getLhs(), op.getRhs()}, {}, cast<RankedTensorType>(op.getType()),
                                      [](OpBuilder &nb, Location l, ValueRange a) {
                                        return arith::AddFOp::create(nb, l, a[0], a[1]).getResult();
                                      }));
  return success();
}

// ---- Backward and optimizer ops ------------------------------------------------------------

// The transposed convolution, as a stride-1 convolution: dy zero-inserted (stride s) into a
// zero tensor of extent I + K - 1 at offset K - 1 - p, against the filter flipped in D, H, W
// with C and F swapped (TOOLCHAIN.md: checked against torch in float64).
LogicalResult lowerConvBackwardData(vidnet::ConvBackwardDataOp op, OpBuilder &b) {
  Emitter e(b, op.getLoc());
  MLIRContext *ctx = b.getContext();
  auto dy = cast<RankedTensorType>(op.getOutputGrad().getType());
  auto filter = cast<RankedTensorType>(op.getFilter().getType());
  auto dx = cast<RankedTensorType>(op.getInputGrad().getType());
  ArrayRef<int64_t> k = filter.getShape(), s = op.getStrides(), p = op.getPadding();
  for (int i = 0; i < 3; ++i)
    if (p[i] > k[i] - 1)
      return op.emitOpError("padding ") << p[i] << " wider than kernel " << k[i] << " - 1 has no backward yet";

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
  op.replaceAllUsesWith(conv.getResult(0));
  return success();
}

// Per filter tap (kd, kh, kw), a matmul over the P = N*OD*OH*OW output positions:
// dfilter[kd, kh, kw] (C x F) = x_tap^T (C x P) * dy (P x F), where x_tap is the strided
// slice of the padded input the tap sees. The matmul is written as a 1x1x1
// linalg.conv_3d_ndhwc_dhwcf (W = C, input channels = P), so targets schedule it like every
// other conv; the taps are an scf.for nest, so code size does not grow with the kernel.
// (One linalg.generic over all 9 loops is correct too, but LLVM's IndVarSimplify took a
// minute on a tiny model's nests, and its loads stride through memory.)
LogicalResult lowerConvBackwardFilter(vidnet::ConvBackwardFilterOp op, OpBuilder &b) {
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
  op.replaceAllUsesWith(loop(b, e.empty(dfilter), 0));
  return success();
}

LogicalResult lowerBatchNormTrainBackward(vidnet::BatchNormTrainBackwardOp op, OpBuilder &b) {
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
  op.getInputGrad().replaceAllUsesWith(dx);
  op.getGammaGrad().replaceAllUsesWith(dgamma);
  op.getBetaGrad().replaceAllUsesWith(dbeta);
  return success();
}

LogicalResult lowerReluBackward(vidnet::ReluBackwardOp op, OpBuilder &b) {
  Emitter e(b, op.getLoc());
  op.replaceAllUsesWith(e.elementwise({op.getOutputGrad(), op.getOutput()}, {},
                                      cast<RankedTensorType>(op.getType()),
                                      [](OpBuilder &nb, Location l, ValueRange a) {
                                        Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0));
                                        Value on = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, a[1], zero);
                                        return arith::SelectOp::create(nb, l, on, a[0], zero).getResult();
                                      }));
  return success();
}

LogicalResult lowerGlobalAvgPoolBackward(vidnet::GlobalAvgPoolBackwardOp op, OpBuilder &b) {
  Emitter e(b, op.getLoc());
  auto type = cast<RankedTensorType>(op.getType());
  Value scale = e.f32(1.0 / static_cast<double>(type.getDimSize(1) * type.getDimSize(2) * type.getDimSize(3)));
  AffineMap nc = AffineMap::get(5, 0, {b.getAffineDimExpr(0), b.getAffineDimExpr(4)}, b.getContext());
  op.replaceAllUsesWith(e.generic(type, {op.getOutputGrad()}, e.empty(type), {nc, b.getMultiDimIdentityMap(5)},
                                  SmallVector<IteratorType>(5, IteratorType::parallel),
                                  [&](OpBuilder &nb, Location l, ValueRange a) {
                                    return arith::MulFOp::create(nb, l, a[0], scale).getResult();
                                  }));
  return success();
}

// fold_time in reverse: N x 1 x H x W x (D*C) -> N x H x W x D x C -> N x D x H x W x C.
LogicalResult lowerUnfoldTime(vidnet::UnfoldTimeOp op, OpBuilder &b) {
  Emitter e(b, op.getLoc());
  auto out = cast<RankedTensorType>(op.getType());
  ArrayRef<int64_t> s = out.getShape();
  auto collapsedType = RankedTensorType::get({s[0], s[2], s[3], s[1] * s[4]}, out.getElementType());
  Value collapsed = tensor::CollapseShapeOp::create(b, op.getLoc(), collapsedType, op.getInput(),
                                                    ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
  auto expandedType = RankedTensorType::get({s[0], s[2], s[3], s[1], s[4]}, out.getElementType());
  Value expanded = tensor::ExpandShapeOp::create(b, op.getLoc(), expandedType, collapsed,
                                                 ArrayRef<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
  op.replaceAllUsesWith(linalg::TransposeOp::create(b, op.getLoc(), expanded, e.empty(out),
                                                    ArrayRef<int64_t>{0, 3, 1, 2, 4})
                            .getResult()[0]);
  return success();
}

LogicalResult lowerDenseBackward(vidnet::DenseBackwardOp op, OpBuilder &b) {
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
  op.getInputGrad().replaceAllUsesWith(dx);
  op.getWeightGrad().replaceAllUsesWith(dw);
  op.getBiasGrad().replaceAllUsesWith(db);
  return success();
}

// (softmax(logits) - onehot(label)) / N, softmax with the row maximum subtracted.
LogicalResult lowerSoftmaxCrossEntropyBackward(vidnet::SoftmaxCrossEntropyBackwardOp op, OpBuilder &b) {
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
  op.replaceAllUsesWith(grad);
  return success();
}

// PyTorch's SGD: d = g + wd w; buf' = momentum buf + d; w' = w - lr buf'. One pass, two results.
LogicalResult lowerSgdUpdate(vidnet::SgdUpdateOp op, OpBuilder &b) {
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
        Value d = arith::AddFOp::create(nb, l, a[1], arith::MulFOp::create(nb, l, wd, a[0]));
        Value buf = arith::AddFOp::create(nb, l, arith::MulFOp::create(nb, l, momentum, a[2]), d);
        Value w = arith::SubFOp::create(nb, l, a[0], arith::MulFOp::create(nb, l, lr, buf));
        linalg::YieldOp::create(nb, l, ValueRange{w, buf});
      });
  op.getNewParam().replaceAllUsesWith(update.getResult(0));
  op.getNewMomentumBuffer().replaceAllUsesWith(update.getResult(1));
  return success();
}

LogicalResult lowerRunningStatsUpdate(vidnet::RunningStatsUpdateOp op, OpBuilder &b) {
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
  op.getNewRunningMean().replaceAllUsesWith(blend(op.getRunningMean(), op.getBatchMean(), false));
  op.getNewRunningVar().replaceAllUsesWith(blend(op.getRunningVar(), op.getBatchVar(), true));
  return success();
}

struct LowerToLinalg : vidnet::impl::LowerToLinalgBase<LowerToLinalg> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<vidnet::VidnetDialect>(op->getDialect()))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      LogicalResult result =
          llvm::TypeSwitch<Operation *, LogicalResult>(op)
              .Case([&](vidnet::ConvOp o) { return lowerConv(o, b); })
              .Case([&](vidnet::DenseOp o) { return lowerDense(o, b); })
              .Case([&](vidnet::BatchNormOp o) { return lowerBatchNorm(o, b); })
              .Case([&](vidnet::BatchNormTrainOp o) { return lowerBatchNormTrain(o, b); })
              .Case([&](vidnet::GlobalAvgPoolOp o) { return lowerGlobalAvgPool(o, b); })
              .Case([&](vidnet::FoldTimeOp o) { return lowerFoldTime(o, b); })
              .Case([&](vidnet::SoftmaxCrossEntropyOp o) { return lowerSoftmaxCrossEntropy(o, b); })
              .Case([&](vidnet::ReluOp o) { return lowerRelu(o, b); })
              .Case([&](vidnet::AddOp o) { return lowerAdd(o, b); })
              .Case([&](vidnet::ConvBackwardDataOp o) { return lowerConvBackwardData(o, b); })
              .Case([&](vidnet::ConvBackwardFilterOp o) { return lowerConvBackwardFilter(o, b); })
              .Case([&](vidnet::BatchNormTrainBackwardOp o) { return lowerBatchNormTrainBackward(o, b); })
              .Case([&](vidnet::ReluBackwardOp o) { return lowerReluBackward(o, b); })
              .Case([&](vidnet::GlobalAvgPoolBackwardOp o) { return lowerGlobalAvgPoolBackward(o, b); })
              .Case([&](vidnet::UnfoldTimeOp o) { return lowerUnfoldTime(o, b); })
              .Case([&](vidnet::DenseBackwardOp o) { return lowerDenseBackward(o, b); })
              .Case([&](vidnet::SoftmaxCrossEntropyBackwardOp o) { return lowerSoftmaxCrossEntropyBackward(o, b); })
              .Case([&](vidnet::SgdUpdateOp o) { return lowerSgdUpdate(o, b); })
              .Case([&](vidnet::RunningStatsUpdateOp o) { return lowerRunningStatsUpdate(o, b); })
              .Case([&](vidnet::Conv2Plus1dOp o) {
                return o.emitOpError("run vidnet-decompose-2plus1d before lowering to linalg");
              })
              .Default([](Operation *o) { return o->emitOpError("has no lowering to linalg"); });
      if (failed(result))
        return signalPassFailure();
      op->erase();
    }
  }
};

} // namespace
