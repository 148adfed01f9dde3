// Small builders the vidnet-lower-to-linalg patterns share.
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using utils::IteratorType;

namespace vidnet {

Value Emitter::f32(double v) { return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)); }

Value Emitter::empty(RankedTensorType type) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
}

Value Emitter::filled(RankedTensorType type, double value) {
  Value scalar = arith::ConstantOp::create(b, loc, b.getFloatAttr(type.getElementType(), value));
  return linalg::FillOp::create(b, loc, ValueRange{scalar}, ValueRange{empty(type)}).getResult(0);
}

bool isPositiveZeroFill(Value v) {
  auto fill = v.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.getInputs()[0], m_PosZeroFloat());
}

AffineMap Emitter::lastDimMap(unsigned rank) {
  return AffineMap::get(rank, 0, {b.getAffineDimExpr(rank - 1)}, b.getContext());
}

Value Emitter::generic(Type result, ValueRange inputs, Value init, ArrayRef<AffineMap> maps,
                       ArrayRef<IteratorType> iterators, Body body) {
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange{result}, inputs, ValueRange{init}, maps, iterators, "", "",
      [&](OpBuilder &nb, Location nloc, ValueRange args) { linalg::YieldOp::create(nb, nloc, body(nb, nloc, args)); });
  return op.getResult(0);
}

Value Emitter::elementwise(ValueRange full, ValueRange perChannel, RankedTensorType like, Body body) {
  unsigned rank = like.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap channel = lastDimMap(rank);
  SmallVector<AffineMap> maps(full.size(), id);
  maps.append(perChannel.size(), channel);
  maps.push_back(id);
  SmallVector<Value> inputs(full.begin(), full.end());
  inputs.append(perChannel.begin(), perChannel.end());
  return generic(like, inputs, empty(like), maps, SmallVector<IteratorType>(rank, IteratorType::parallel), body);
}

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

// Sums in float64 per channel (rounded to float32 once, by the caller), as PyTorch's CPU batch
// norm accumulates its statistics in double. A float32 chain over N*D*H*W
// (50k terms in r3d_18's first stage) loses about as many bits as its length. The CPU target
// splits the chain into partial sums run in parallel (vidnet-cpu-parallelize-elementwise), late,
// so this stays one generic: emitted here as two levels of generics, they made 20% more
// functions for LLVM and torchvision r2plus1d_18's build 30% longer; split late, they cost
// nothing measurable.
Value channelSumF64(Emitter &e, ValueRange full, ValueRange perChannel,
                    function_ref<Value(OpBuilder &, Location, ValueRange)> term) {
  OpBuilder &b = e.b;
  auto type = cast<RankedTensorType>(full[0].getType());
  unsigned rank = type.getRank();
  auto sumType = RankedTensorType::get({type.getShape().back()}, b.getF64Type());
  SmallVector<AffineMap> maps(full.size(), b.getMultiDimIdentityMap(rank));
  maps.append(perChannel.size() + 1, e.lastDimMap(rank));
  SmallVector<IteratorType> iters(rank, IteratorType::reduction);
  iters.back() = IteratorType::parallel;
  SmallVector<Value> inputs(full.begin(), full.end());
  inputs.append(perChannel.begin(), perChannel.end());
  return e.generic(sumType, inputs, e.filled(sumType, 0.0), maps, iters, [&](OpBuilder &nb, Location l, ValueRange a) {
    return arith::AddFOp::create(nb, l, term(nb, l, a.drop_back()), a.back()).getResult();
  });
}

Value channelSum(Emitter &e, ValueRange full, ValueRange perChannel,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> term) {
  Value sum = channelSumF64(e, full, perChannel, [&](OpBuilder &nb, Location l, ValueRange a) {
    return arith::ExtFOp::create(nb, l, nb.getF64Type(), term(nb, l, a)).getResult();
  });
  auto sumType = cast<RankedTensorType>(sum.getType());
  auto vecType = RankedTensorType::get(sumType.getShape(), cast<RankedTensorType>(full[0].getType()).getElementType());
  AffineMap vid = e.b.getMultiDimIdentityMap(1);
  return e.generic(vecType, {sum}, e.empty(vecType), {vid, vid}, {IteratorType::parallel},
                   [&](OpBuilder &nb, Location l, ValueRange a) {
                     return arith::TruncFOp::create(nb, l, nb.getF32Type(), a[0]).getResult();
                   });
}

bool movesElements(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      !llvm::all_of(op.getIteratorTypesArray(), linalg::isParallelIterator))
    return false;
  Operation *yield = op.getBlock()->getTerminator();
  return yield->getNumOperands() == 1 && yield->getOperand(0) == op.getBlock()->getArgument(0);
}

bool sumsInto(linalg::GenericOp op, OpOperand &init) {
  BlockArgument out = op.getMatchingBlockArgument(&init);
  // The init's place among the outputs (on buffers the op has no results to count by).
  Value yielded = op.getBlock()->getTerminator()->getOperand(init.getOperandNumber() - op.getNumDpsInputs());
  auto add = yielded.getDefiningOp<arith::AddFOp>();
  return isa<FloatType>(out.getType()) && add && out.hasOneUse() && (add.getLhs() == out || add.getRhs() == out);
}

bool isFloatSum(linalg::GenericOp op) { return op.getNumDpsInits() == 1 && sumsInto(op, *op.getDpsInitOperand(0)); }

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  for (int64_t d : shape)
    s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

std::string describeConv(llvm::ArrayRef<int64_t> filter, llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> out) {
  return shapeString(filter.take_front(3)) + " " + std::to_string(filter[3]) + "->" + std::to_string(filter[4]) + " /" +
         shapeString(strides) + ", out " + shapeString(out.drop_back());
}

} // namespace vidnet
