// vidnet-lower-to-linalg: every vidnet op (after decomposition) to linalg on tensors.
#include "compiler/transforms/Passes.h"

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

LogicalResult lowerConv(vidnet::ConvOp op, OpBuilder &b) {
  if (op.getGroups() != 1)
    return op.emitOpError("grouped convolutions are not lowered yet");
  Emitter e(b, op.getLoc());
  auto in = cast<RankedTensorType>(op.getInput().getType());
  ArrayRef<int64_t> p = op.getPadding();
  Value input = op.getInput();
  if (llvm::any_of(p, [](int64_t v) { return v != 0; })) {
    SmallVector<int64_t> padded(in.getShape());
    SmallVector<OpFoldResult> pads(5, b.getIndexAttr(0));
    for (int i = 0; i < 3; ++i) {
      padded[i + 1] += 2 * p[i];
      pads[i + 1] = b.getIndexAttr(p[i]);
    }
    input = tensor::PadOp::create(b, op.getLoc(), RankedTensorType::get(padded, in.getElementType()),
                                  input, pads, pads, e.f32(0.0));
  }
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

// Per-channel mean over every other dimension: sum, then scale by 1/count.
Value channelMean(Emitter &e, Value x, function_ref<Value(OpBuilder &, Location, Value, Value)> term,
                  Value centerOrNull) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  int64_t channels = type.getShape().back();
  int64_t count = type.getNumElements() / channels;
  auto vecType = RankedTensorType::get({channels}, type.getElementType());
  AffineMap id = e.b.getMultiDimIdentityMap(rank);
  AffineMap channel = e.lastDimMap(rank);
  SmallVector<IteratorType> iters(rank, IteratorType::reduction);
  iters.back() = IteratorType::parallel;
  SmallVector<Value> inputs = {x};
  SmallVector<AffineMap> maps = {id};
  if (centerOrNull) {
    inputs.push_back(centerOrNull);
    maps.push_back(channel);
  }
  maps.push_back(channel);
  Value sum = e.generic(vecType, inputs, e.filled(vecType, 0.0), maps, iters,
                        [&](OpBuilder &nb, Location l, ValueRange a) {
                          Value t = term(nb, l, a[0], centerOrNull ? a[1] : Value());
                          return arith::AddFOp::create(nb, l, t, a.back()).getResult();
                        });
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

LogicalResult lowerSoftmaxCrossEntropy(vidnet::SoftmaxCrossEntropyOp op, OpBuilder &b) {
  Emitter e(b, op.getLoc());
  auto logits = cast<RankedTensorType>(op.getLogits().getType());
  int64_t n = logits.getDimSize(0);
  auto rowType = RankedTensorType::get({n}, logits.getElementType());
  MLIRContext *ctx = b.getContext();
  AffineMap id = b.getMultiDimIdentityMap(2);
  AffineMap row = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx);
  SmallVector<IteratorType> rowReduce = {IteratorType::parallel, IteratorType::reduction};
  Value max = e.generic(rowType, {op.getLogits()}, e.filled(rowType, -INFINITY), {id, row}, rowReduce,
                        [](OpBuilder &nb, Location l, ValueRange a) {
                          return arith::MaximumFOp::create(nb, l, a[0], a[1]).getResult();
                        });
  Value sumExp = e.generic(rowType, {op.getLogits(), max}, e.filled(rowType, 0.0), {id, row, row},
                           rowReduce, [](OpBuilder &nb, Location l, ValueRange a) {
                             Value x = arith::SubFOp::create(nb, l, a[0], a[1]);
                             return arith::AddFOp::create(nb, l, math::ExpOp::create(nb, l, x), a[2])
                                 .getResult();
                           });
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
