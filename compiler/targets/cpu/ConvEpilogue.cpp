// A conv's elementwise consumer run on its register tiles (see ConvEpilogue.h).
#include "compiler/targets/cpu/ConvEpilogue.h"

#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/ReadOnlyBuffer.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace vidnet::cpu {

namespace {

enum class Operand { Output, PerChannel, Other };

Operand classify(AffineMap map, Type type, ArrayRef<int64_t> outShape) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return Operand::Other;
  if (map.isIdentity() && tensor.getShape() == outShape)
    return Operand::Output;
  const unsigned lanes = outShape.size() - 1;
  if (map.getNumResults() == 1 && map.getResult(0) == getAffineDimExpr(lanes, map.getContext()) &&
      tensor.getShape() == outShape.take_back())
    return Operand::PerChannel;
  return Operand::Other;
}

} // namespace

std::optional<ConvEpilogue> matchConvEpilogue(Value convResult) {
  if (!convResult.hasOneUse())
    return std::nullopt;
  OpOperand &use = *convResult.getUses().begin();
  auto g = dyn_cast<linalg::GenericOp>(use.getOwner());
  auto outType = cast<RankedTensorType>(convResult.getType());
  if (!g || !g.hasPureTensorSemantics() || g.getNumDpsInits() != 1 || g.getNumLoops() != outType.getRank() ||
      g.getNumParallelLoops() != g.getNumLoops() || g.getResultTypes()[0] != outType || g.hasIndexSemantics())
    return std::nullopt;
  OpOperand *init = g.getDpsInitOperand(0);
  if (!init->get().getDefiningOp<tensor::EmptyOp>() || !g.getMatchingIndexingMap(init).isIdentity() ||
      !g.getMatchingBlockArgument(init).use_empty())
    return std::nullopt;
  for (Operation &op : g.getRegion().front().without_terminator())
    if (!isPure(&op) || op.getNumRegions() != 0)
      return std::nullopt;
  // (The conv's result, shaped like the output, can only classify as Output: identity map. It is
  // an input, since the init is an empty tensor.)
  for (OpOperand *input : g.getDpsInputOperands())
    if (classify(g.getMatchingIndexingMap(input), input->get().getType(), outType.getShape()) == Operand::Other)
      return std::nullopt;
  return ConvEpilogue{g, use.getOperandNumber()};
}

Value applyConvEpilogue(OpBuilder &b, Location loc, const ConvEpilogue &epilogue, Value tile,
                        ArrayRef<OpFoldResult> offsets) {
  linalg::GenericOp g = epilogue.op;
  auto tileType = cast<RankedTensorType>(tile.getType());
  const int64_t rows = tileType.getDimSize(0), lanes = tileType.getDimSize(1);
  ArrayRef<int64_t> outShape = cast<RankedTensorType>(g.getResultTypes()[0]).getShape();
  const unsigned rank = outShape.size();
  MLIRContext *ctx = b.getContext();
  AffineMap whole = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap perLane = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);

  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  for (OpOperand *input : g.getDpsInputOperands()) {
    Value v = input->get();
    Type element = cast<RankedTensorType>(v.getType()).getElementType();
    if (input->getOperandNumber() == epilogue.convInput) {
      inputs.push_back(tile);
      maps.push_back(whole);
    } else if (classify(g.getMatchingIndexingMap(input), v.getType(), outShape) == Operand::PerChannel) {
      inputs.push_back(tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get({lanes}, element), v, ArrayRef<OpFoldResult>{offsets[rank - 1]},
          ArrayRef<OpFoldResult>{b.getIndexAttr(lanes)}, ArrayRef<OpFoldResult>{b.getIndexAttr(1)}));
      maps.push_back(perLane);
    } else {
      SmallVector<OpFoldResult> sizes(rank, b.getIndexAttr(1)), strides(rank, b.getIndexAttr(1));
      sizes[rank - 2] = b.getIndexAttr(rows);
      sizes[rank - 1] = b.getIndexAttr(lanes);
      inputs.push_back(tensor::ExtractSliceOp::create(b, loc, RankedTensorType::get({rows, lanes}, element), v, offsets,
                                                      sizes, strides));
      maps.push_back(whole);
    }
  }
  maps.push_back(whole);
  // In place: the tile's own tensor is the output (the body never reads it).
  auto tiled = linalg::GenericOp::create(b, loc, TypeRange{tileType}, inputs, ValueRange{tile}, maps,
                                         SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel));
  IRMapping mapping;
  g.getRegion().cloneInto(&tiled.getRegion(), mapping);
  tiled->setAttr(kEpilogueAttr, b.getUnitAttr());
  return tiled.getResult(0);
}

void prefetchConvEpilogueInputs(OpBuilder &b, Location loc, const ConvEpilogue &epilogue, int64_t rows, int64_t lanes,
                                ArrayRef<OpFoldResult> offsets) {
  linalg::GenericOp g = epilogue.op;
  ArrayRef<int64_t> outShape = cast<RankedTensorType>(g.getResultTypes()[0]).getShape();
  const unsigned rank = outShape.size();
  for (OpOperand *input : g.getDpsInputOperands()) {
    Value v = input->get();
    if (input->getOperandNumber() == epilogue.convInput ||
        classify(g.getMatchingIndexingMap(input), v.getType(), outShape) != Operand::Output)
      continue;
    auto type = cast<RankedTensorType>(v.getType());
    Value buffer = readOnlyBuffer(b, loc, v);
    SmallVector<Value> at;
    for (OpFoldResult o : offsets)
      at.push_back(getValueOrCreateConstantIndexOp(b, loc, o));
    const Value firstRow = at[rank - 2], firstLane = at[rank - 1];
    // One prefetch per 64-byte line.
    const int64_t lanesPerLine = 512 / type.getElementTypeBitWidth();
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t lane = 0; lane < lanes; lane += lanesPerLine) {
        at[rank - 2] = arith::AddIOp::create(b, loc, firstRow, arith::ConstantIndexOp::create(b, loc, row));
        at[rank - 1] = arith::AddIOp::create(b, loc, firstLane, arith::ConstantIndexOp::create(b, loc, lane));
        memref::PrefetchOp::create(b, loc, buffer, at, /*isWrite=*/false, /*localityHint=*/2, /*isDataCache=*/true);
      }
  }
}

} // namespace vidnet::cpu
