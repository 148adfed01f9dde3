// Winograd F(2,3) along one axis: the input and output transforms, the filter pack, tile sizes.
#include "compiler/targets/cpu/WinogradF23.h"
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/LoopInfo.h"
#include "compiler/targets/cpu/LoopNests.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace vidnet::cpu::winograd {

namespace {

struct PhaseInput {
  int64_t first, second; // the two padded positions 2p + j it combines
  bool sum;              // d_first + d_second, else d_first - d_second
};
constexpr PhaseInput kPhaseInputs[4] = {{0, 2, false}, {1, 2, true}, {2, 1, false}, {1, 3, false}};

} // namespace

std::optional<ZeroPad> staticZeroPad(Value input) {
  auto pad = input.getDefiningOp<tensor::PadOp>();
  if (!pad || !pad.getConstantPaddingValue() || !matchPattern(pad.getConstantPaddingValue(), m_AnyZeroFloat()) ||
      !pad.getSourceType().hasStaticShape())
    return std::nullopt;
  ArrayRef<int64_t> low = pad.getStaticLow(), high = pad.getStaticHigh();
  if (llvm::any_of(low, ShapedType::isDynamic) || llvm::any_of(high, ShapedType::isDynamic))
    return std::nullopt;
  ArrayRef<int64_t> source = pad.getSourceType().getShape();
  return ZeroPad{{low.begin(), low.end()}, {high.begin(), high.end()}, {source.begin(), source.end()}};
}

std::pair<Value, Value> realTapRange(OpBuilder &b, Location loc, int64_t low, int64_t extent, int64_t padded,
                                     int64_t taps, Value o) {
  auto index = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, loc, v); };
  if (low == 0 && extent == padded)
    return {index(0), index(taps)};
  Value first = arith::SubIOp::create(b, loc, index(low), o);
  Value end = arith::SubIOp::create(b, loc, index(low + extent), o);
  return {arith::MaxSIOp::create(b, loc, index(0), first), arith::MinSIOp::create(b, loc, index(taps), end)};
}

SmallVector<Value, 4> inputPhases(OpBuilder &b, Location loc, ValueRange d) {
  SmallVector<Value, 4> phases;
  for (const PhaseInput &phase : kPhaseInputs)
    phases.push_back(phase.sum ? arith::AddFOp::create(b, loc, d[phase.first], d[phase.second]).getResult()
                               : arith::SubFOp::create(b, loc, d[phase.first], d[phase.second]).getResult());
  return phases;
}

std::pair<Value, Value> outputPair(OpBuilder &b, Location loc, ArrayRef<Value> m) {
  Value even = arith::AddFOp::create(b, loc, arith::AddFOp::create(b, loc, m[0], m[1]), m[2]);
  Value odd = arith::SubFOp::create(b, loc, arith::SubFOp::create(b, loc, m[1], m[2]), m[3]);
  return {even, odd};
}

int64_t tileRows(int64_t count, int64_t maxRows) {
  maxRows = std::min(maxRows, count);
  auto last = [&](int64_t rows) { return count % rows == 0 ? rows : count % rows; };
  int64_t best = maxRows;
  for (int64_t rows = maxRows - 1; rows >= (maxRows + 1) / 2; --rows)
    if (llvm::divideCeil(count, rows) < llvm::divideCeil(count, best) ||
        (llvm::divideCeil(count, rows) == llvm::divideCeil(count, best) && last(rows) > last(best)))
      best = rows;
  return best;
}

int64_t filterBlockLanes(int64_t F, int64_t taps, int64_t C, const VectorRegisters &regs) {
  const SmallVector<int64_t, 3> widths =
      regs.count >= 32 ? SmallVector<int64_t, 3>{4, 3, 2} : SmallVector<int64_t, 3>{3, 2};
  for (int64_t vectors : widths) {
    const int64_t lanes = vectors * regs.lanes;
    if (F % lanes == 0 && 4 * taps * C * lanes * 4 <= kPhaseSlicesL2Bytes)
      return lanes;
  }
  return 0;
}

int64_t maxTileRows(int64_t fTile, const VectorRegisters &regs) {
  const int64_t vectors = fTile / regs.lanes;
  return std::min<int64_t>(8, (regs.count - vectors - 1) / vectors);
}

Value packFilterPhases(Emitter &e, Value filter, int64_t fTile, unsigned axis, StringRef role, StringRef shape) {
  OpBuilder &b = e.b;
  MLIRContext *ctx = b.getContext();
  auto filterType = cast<RankedTensorType>(filter.getType());
  ArrayRef<int64_t> k = filterType.getShape();
  SmallVector<int64_t, 2> others;
  for (unsigned i = 0; i < 3; ++i)
    if (i != axis)
      others.push_back(k[i]);
  auto gType =
      RankedTensorType::get({k[4] / fTile, 4, others[0], others[1], k[3], fTile}, filterType.getElementType());
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto tap = [&](int64_t j) {
    SmallVector<AffineExpr, 5> index;
    unsigned other = 2;
    for (unsigned i = 0; i < 3; ++i)
      index.push_back(i == axis ? getAffineConstantExpr(j, ctx) : d(other++));
    index.append({d(4), d(0) * fTile + d(5)});
    return AffineMap::get(6, 0, index, ctx);
  };
  Value g = e.generic(gType, ValueRange{filter, filter, filter}, e.empty(gType),
                      {tap(0), tap(1), tap(2), b.getMultiDimIdentityMap(6)},
                      SmallVector<utils::IteratorType>(6, utils::IteratorType::parallel),
                      [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                        Value phase = linalg::IndexOp::create(nb, l, 1);
                        Value half = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.5f));
                        Value outer = arith::AddFOp::create(nb, l, arith::AddFOp::create(nb, l, a[0], a[1]), a[2]);
                        Value alternating =
                            arith::AddFOp::create(nb, l, arith::SubFOp::create(nb, l, a[0], a[1]), a[2]);
                        Value g1 = arith::MulFOp::create(nb, l, outer, half);
                        Value g2 = arith::MulFOp::create(nb, l, alternating, half);
                        auto is = [&](int64_t i) {
                          return arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, phase,
                                                       arith::ConstantIndexOp::create(nb, l, i));
                        };
                        Value v = arith::SelectOp::create(nb, l, is(2), g2, a[2]);
                        v = arith::SelectOp::create(nb, l, is(1), g1, v);
                        return arith::SelectOp::create(nb, l, is(0), a[0], v);
                      });
  g.getDefiningOp()->setAttr(kWeightPackAttr, b.getUnitAttr());
  LoopInfo info;
  info.kind = role == vidnet::bundle::loop_kind::kConvDataGradient ? vidnet::bundle::loop_kind::kSubFilterPacking
                                                          : vidnet::bundle::loop_kind::kFilterPacking;
  info.shape = shape.str();
  info.bytes = (filterType.getNumElements() + gType.getNumElements()) * 4;
  g.getDefiningOp()->setLoc(describeLoop(e.loc, info));
  return g;
}

LoopInfo describeWinogradConv(linalg::Conv3DNdhwcDhwcfOp op, ArrayRef<int64_t> lows, ArrayRef<int64_t> extents,
                              StringRef suffix) {
  ArrayRef<int64_t> k = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
  ArrayRef<int64_t> out = cast<RankedTensorType>(op.getResultTypes()[0]).getShape();
  auto role = op->getAttrOfType<StringAttr>(kConvRoleAttr);
  auto shape = op->getAttrOfType<StringAttr>(kConvShapeAttr);
  SmallVector<int64_t> s(3, 1);
  LoopInfo info;
  info.kind = role ? role.str() : vidnet::bundle::loop_kind::kConv;
  info.shape = (shape ? shape.str() : describeConv(k, s, out)) + suffix.str();
  info.flops = convFlops(k, s, out, lows, extents);
  info.bytes = convTrafficBytes(k, s, out, lows, extents, /*wholeFilter=*/false);
  return info;
}

SmallVector<Value, 4> transformInput(Emitter &e, Value x, RankedTensorType type, ArrayRef<AffineMap> positions,
                                     const LoopInfo &conv) {
  const unsigned rank = type.getRank();
  SmallVector<AffineMap> maps(positions.begin(), positions.end());
  SmallVector<Value> inits;
  for (int i = 0; i < 4; ++i) {
    maps.push_back(e.b.getMultiDimIdentityMap(rank));
    inits.push_back(e.empty(type));
  }
  auto transform = linalg::GenericOp::create(
      e.b, e.loc, SmallVector<Type>(4, type), ValueRange{x, x, x, x}, inits, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [](OpBuilder &nb, Location l, ValueRange a) { linalg::YieldOp::create(nb, l, ValueRange(inputPhases(nb, l, a))); });
  LoopInfo info;
  info.kind = "winograd input transform";
  info.shape = conv.shape;
  info.bytes = (cast<RankedTensorType>(x.getType()).getNumElements() + 4 * type.getNumElements()) * 4;
  transform->setLoc(describeLoop(e.loc, info));
  return SmallVector<Value, 4>(transform.getResults().begin(), transform.getResults().end());
}

Value sumPhase(OpBuilder &b, Location loc, std::pair<Value, Value> outer, std::pair<Value, Value> inner, int64_t C,
               int64_t cTile, int64_t rows, int64_t fTile, PhaseSlices slices) {
  auto tileType = RankedTensorType::get({rows, fTile}, b.getF32Type());
  auto index = [&](OpBuilder &nb, int64_t v) -> Value { return arith::ConstantIndexOp::create(nb, loc, v); };
  auto zeroTile = [&](OpBuilder &nb) { return Emitter(nb, loc).filled(tileType, 0.0); };
  Value sum = loopNest(b, loc, {outer.first}, {outer.second}, {1}, zeroTile(b), [&](OpBuilder &ob, ValueRange o, Value sum) {
    Value partial = loopNest(ob, loc, {inner.first, index(ob, 0)}, {inner.second, index(ob, C)}, {1, cTile},
                             zeroTile(ob), [&](OpBuilder &rb, ValueRange tap, Value partial) -> Value {
                               auto [lhs, rhs] = slices(rb, o[0], tap[0], tap[1]);
                               return linalg::MatmulOp::create(rb, loc, TypeRange{partial.getType()},
                                                               ValueRange{lhs, rhs}, ValueRange{partial})
                                   .getResult(0);
                             });
    return linalg::AddOp::create(ob, loc, TypeRange{sum.getType()}, ValueRange{sum, partial}, ValueRange{sum})
        .getResult(0);
  });
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  return vector::TransferReadOp::create(b, loc, VectorType::get({rows, fTile}, b.getF32Type()), sum,
                                        ValueRange{index(b, 0), index(b, 0)}, zero, ArrayRef<bool>{true, true});
}

Value storeTile(OpBuilder &b, Location loc, const std::optional<ConvEpilogue> &epilogue, Value tile, Value dest,
                ValueRange destIndices, ArrayRef<OpFoldResult> outputOffsets) {
  if (!epilogue)
    return vector::TransferWriteOp::create(b, loc, tile, dest, destIndices, ArrayRef<bool>{true, true}).getResult();
  // The epilogue on the tile in registers, as tile-convs' tiles do.
  ArrayRef<int64_t> shape = cast<VectorType>(tile.getType()).getShape();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value sums = vector::TransferWriteOp::create(b, loc, tile, tensor::EmptyOp::create(b, loc, shape, b.getF32Type()),
                                               ValueRange{zero, zero}, ArrayRef<bool>{true, true})
                   .getResult();
  sums = applyConvEpilogue(b, loc, *epilogue, sums, outputOffsets);
  const int64_t rank = cast<RankedTensorType>(dest.getType()).getRank();
  SmallVector<int64_t> sizes(rank - 2, 1);
  sizes.append(shape.begin(), shape.end());
  return tensor::InsertSliceOp::create(b, loc, sums, dest, SmallVector<OpFoldResult>(destIndices.begin(), destIndices.end()),
                                       getAsIndexOpFoldResult(b.getContext(), sizes),
                                       getAsIndexOpFoldResult(b.getContext(), SmallVector<int64_t>(rank, 1)))
      .getResult();
}

void replaceConv(linalg::Conv3DNdhwcDhwcfOp op, std::optional<ConvEpilogue> epilogue, Value result) {
  if (epilogue) {
    epilogue->op->getResult(0).replaceAllUsesWith(result);
    epilogue->op.erase();
  } else {
    op->getResult(0).replaceAllUsesWith(result);
  }
  Operation *fill = op.getOutputs()[0].getDefiningOp();
  op.erase();
  if (fill && fill->use_empty())
    fill->erase();
}

} // namespace vidnet::cpu::winograd
