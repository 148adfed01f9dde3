// vidnet-cpu-tile-filter-grads: vidnet.conv_backward_filter -> one reduction over the output
// positions in cache-sized chunks, each a parallel loop of register tiles of the filter gradient
// (or, with many chunks, runs of chunks summed in parts at once, the parts added at the end),
// reading x and dy in place or, where that pays, from copies in blocks of a tile's channels.
// Every choice is the schedule's (FilterGradSchedule.h); this file emits the IR it describes.
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/FilterGradSchedule.h"
#include "compiler/targets/cpu/LoopInfo.h"
#include "compiler/targets/cpu/ReadOnlyBuffer.h"

#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/raw_ostream.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_TILEFILTERGRADS
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

// The shape of `x` [N, D, H, W, C] in `blocks` blocks of `lanes` channels with padW zero columns
// on either side: [B, N, D, H, padW + W + padW, lanes].
SmallVector<int64_t> blockedShape(ArrayRef<int64_t> x, int64_t lanes, int64_t blocks, int64_t padW) {
  return {blocks, x[0], x[1], x[2], x[3] + 2 * padW, lanes};
}

// `x` [N, D, H, W, C] -> blockedShape, channels past C and the padW columns on either side zero:
// a parallel loop over (n, d, h), each item reading x's rows whole and writing their vectors of
// `lanes` channels to their blocks (a generic of the same copy is scalar, one element at a time:
// 14-24 GB/s). Padding along D and H is left out: the tiles skip the rows it would hold. With
// `strides`, only every strides[i]-th position along D, H and W, compact (a strided 1x1x1
// conv's x). `conv` describes the filter gradient for `vidrun profile`.
Value blockChannels(vidnet::Emitter &e, Value x, int64_t lanes, int64_t blocks, int64_t padW, const std::string &conv,
                    ArrayRef<int64_t> strides = {1, 1, 1}) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto type = cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> shape = type.getShape();
  // The positions copied: every strides[i]-th along D, H and W.
  SmallVector<int64_t> s = {shape[0], (shape[1] - 1) / strides[0] + 1, (shape[2] - 1) / strides[1] + 1,
                            (shape[3] - 1) / strides[2] + 1, shape[4]};
  Type f32 = type.getElementType();
  const int64_t columns = s[3] + 2 * padW;
  auto blockedType = RankedTensorType::get(blockedShape(s, lanes, blocks, padW), f32);
  auto rowsType = RankedTensorType::get({blocks, columns, lanes}, f32);
  auto vectorType = VectorType::get({lanes}, f32);
  vidnet::cpu::LoopInfo info;
  info.kind = "filter gradient packing";
  info.shape = conv;
  info.bytes = 2 * blockedType.getNumElements() * 4;
  auto index = [&](OpBuilder &nb, int64_t v) -> Value { return arith::ConstantIndexOp::create(nb, loc, v); };
  Value zero = e.f32(0.0);
  auto forall = scf::ForallOp::create(b, vidnet::cpu::describeLoop(loc, info),
                                      ArrayRef<OpFoldResult>{b.getIndexAttr(s[0] * s[1] * s[2])},
                                      ValueRange{e.empty(blockedType)}, std::nullopt);
  OpBuilder ib(forall.getTerminator());
  auto ndh =
      affine::AffineDelinearizeIndexOp::create(ib, loc, forall.getInductionVar(0), ArrayRef<int64_t>{s[0], s[1], s[2]});
  SmallVector<OpFoldResult> at = {ib.getIndexAttr(0), ndh.getResult(0),   ndh.getResult(1),
                                  ndh.getResult(2),   ib.getIndexAttr(0), ib.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = getAsIndexOpFoldResult(b.getContext(), {blocks, 1, 1, 1, columns, lanes});
  SmallVector<OpFoldResult> units(6, ib.getIndexAttr(1));
  Value shared = forall.getRegionIterArgs()[0];
  Value rows = tensor::ExtractSliceOp::create(ib, loc, rowsType, shared, at, sizes, units);
  // Whole blocks read in bounds; the last, where C is not a whole number of them, reads its real
  // channels and zeros.
  const int64_t whole = std::min(blocks, s[4] / lanes);
  auto copyBlocks = [&](Value into, int64_t first, int64_t end, bool inBounds) {
    if (first >= end)
      return into;
    scf::LoopNest nest = scf::buildLoopNest(
        ib, loc, ValueRange{index(ib, 0), index(ib, first)}, ValueRange{index(ib, s[3]), index(ib, end)},
        ValueRange{index(ib, 1), index(ib, 1)}, ValueRange{into},
        [&](OpBuilder &lb, Location l, ValueRange ivs, ValueRange current) -> scf::ValueVector {
          Value c = arith::MulIOp::create(lb, l, ivs[1], index(lb, lanes));
          auto times = [&](Value v, int64_t stride) -> Value {
            return stride == 1 ? v : arith::MulIOp::create(lb, l, v, index(lb, stride)).getResult();
          };
          Value v = vector::TransferReadOp::create(lb, l, vectorType, x,
                                                   ValueRange{ndh.getResult(0), times(ndh.getResult(1), strides[0]),
                                                              times(ndh.getResult(2), strides[1]),
                                                              times(ivs[0], strides[2]), c},
                                                   zero, ArrayRef<bool>{inBounds});
          Value column = arith::AddIOp::create(lb, l, ivs[0], index(lb, padW));
          return {vector::TransferWriteOp::create(lb, l, v, current[0], ValueRange{ivs[1], column, index(lb, 0)},
                                                  ArrayRef<bool>{true})
                      .getResult()};
        });
    return nest.results[0];
  };
  rows = copyBlocks(copyBlocks(rows, 0, whole, true), whole, blocks, false);
  if (padW > 0) {
    Value zeros = arith::ConstantOp::create(ib, loc, DenseElementsAttr::get(vectorType, 0.0f));
    SmallVector<int64_t> padding = llvm::to_vector(llvm::seq<int64_t>(0, padW));
    llvm::append_range(padding, llvm::seq<int64_t>(padW + s[3], columns));
    for (int64_t column : padding) {
      scf::LoopNest nest = scf::buildLoopNest(
          ib, loc, ValueRange{index(ib, 0)}, ValueRange{index(ib, blocks)}, ValueRange{index(ib, 1)}, ValueRange{rows},
          [&](OpBuilder &lb, Location l, ValueRange ivs, ValueRange current) -> scf::ValueVector {
            return {vector::TransferWriteOp::create(lb, l, zeros, current[0],
                                                    ValueRange{ivs[0], index(lb, column), index(lb, 0)},
                                                    ArrayRef<bool>{true})
                        .getResult()};
          });
      rows = nest.results[0];
    }
  }
  ib.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(ib, loc, rows, shared, at, sizes, units);
  return forall.getResult(0);
}

// The schedule's view of `op`.
vidnet::cpu::FilterGradProblem problemOf(vidnet::ConvBackwardFilterOp op) {
  auto dyType = cast<RankedTensorType>(op.getOutputGrad().getType());
  auto dwType = cast<RankedTensorType>(op.getFilterGrad().getType());
  auto xType = cast<RankedTensorType>(op.getInput().getType());
  vidnet::cpu::FilterGradProblem problem;
  llvm::copy(dwType.getShape(), problem.filter.begin());
  llvm::copy(xType.getShape(), problem.input.begin());
  llvm::copy(dyType.getShape(), problem.output.begin());
  llvm::copy(op.getStrides(), problem.strides.begin());
  llvm::copy(op.getPadding(), problem.padding.begin());
  // Padding rows are not work.
  problem.flops = vidnet::cpu::convFlops(dwType.getShape(), op.getStrides(), dyType.getShape(), op.getPadding(),
                                         xType.getShape().slice(1, 3));
  return problem;
}

// Emits the IR of one filter gradient's schedule in place of its op, in stages: the operands
// (packed or padded), then the loops of the schedule's order, each item of which finds its tile
// of dW, sums the chunk's rows into registers and writes or adds the sums to the tile.
class FilterGradEmitter {
public:
  FilterGradEmitter(vidnet::ConvBackwardFilterOp op, const vidnet::cpu::FilterGradSchedule &sched)
      : op(op), sched(sched), b(op), loc(op.getLoc()), e(b, loc), info(loopInfoOf(op, sched)),
        loopLoc(vidnet::cpu::describeLoop(loc, info)) {
    auto dyType = cast<RankedTensorType>(op.getOutputGrad().getType());
    dwType = cast<RankedTensorType>(op.getFilterGrad().getType());
    f32 = dyType.getElementType();
    convStrides = op.getStrides();
    k = dwType.getShape();
    out = dyType.getShape();
    pads = op.getPadding();
  }

  // Replaces the op with the schedule's loops.
  void emit() {
    prepareOperands();
    prepareTileTypes();
    Value result;
    switch (sched.order) {
    case vidnet::cpu::FilterGradOrder::BlockThenChunks:
      result = sliceAwayPadding(emitBlockThenChunks());
      break;
    case vidnet::cpu::FilterGradOrder::ChunkThenTiles:
      result = sliceAwayPadding(emitChunkThenTiles());
      break;
    case vidnet::cpu::FilterGradOrder::Parts:
      result = emitParts();
      break;
    }
    op.getResult().replaceAllUsesWith(result);
    op.erase();
  }

private:
  // For `vidrun profile`: every chunk's loop is this filter gradient.
  static vidnet::cpu::LoopInfo loopInfoOf(vidnet::ConvBackwardFilterOp op,
                                          const vidnet::cpu::FilterGradSchedule &sched) {
    const vidnet::cpu::FilterGradProblem &p = sched.problem;
    auto convInput = cast<RankedTensorType>(op.getInput().getType()).getShape();
    vidnet::cpu::LoopInfo info;
    info.kind = vidnet::bundle::loop_kind::kConvFilterGradient;
    info.shape = vidnet::describeConv(p.filter, p.strides, p.output);
    info.flops = p.flops;
    info.bytes = vidnet::cpu::convTrafficBytes(p.filter, p.strides, p.output, p.padding, convInput.slice(1, 3),
                                               /*wholeFilter=*/true);
    return info;
  }

  // An item's tile of dW and the chunk's rows it sums: built once per item, read by its stages.
  struct ItemTile {
    Location l;
    Value kwGroup, cBlock, fBlock, kd, kh, kw, c0, f0;
    SmallVector<OpFoldResult> tileAt;
    Value dwTile;
    // The chunk's rows [firstRow, endRow) lie in frames [firstFrame, endFrame); the rows of tap kh
    // whose input row is real are [ohLow, ohHigh) of each frame.
    Value firstRow, ohLow, ohHigh, endRow, firstFrame, endFrame;
    Value zero;
  };
  // An output row (nIdx, od, oh) and its input row (xd, xh) of x for the item's tap.
  struct RowAt {
    Value nIdx, od, oh, xd, xh;
  };

  Value index(OpBuilder &nb, int64_t v) const { return arith::ConstantIndexOp::create(nb, loc, v); }
  Value times(OpBuilder &nb, Value v, int64_t c) const {
    return c == 1 ? v : arith::MulIOp::create(nb, loc, v, index(nb, c)).getResult();
  }
  SmallVector<OpFoldResult> attrs(OpBuilder &nb, ArrayRef<int64_t> vs) const {
    return getAsIndexOpFoldResult(nb.getContext(), vs);
  }
  Value isZero(OpBuilder &nb, Value v) const {
    return arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::eq, v, index(nb, 0)).getResult();
  }

  // `count` positions of x or dy from `at` (n, d, h, w, first channel) `stride` columns apart,
  // `width` channels each; in a blocked tensor those of channel block `block`.
  Value rowSlice(OpBuilder &nb, Location l, RankedTensorType type, Value t, Value block, SmallVector<OpFoldResult> at,
                 int64_t width, int64_t stride, int64_t count) const {
    SmallVector<OpFoldResult> sizes = attrs(nb, {1, 1, 1, count, width}), strides = attrs(nb, {1, 1, 1, stride, 1});
    if (cast<RankedTensorType>(t.getType()).getRank() == 6) {
      at.back() = nb.getIndexAttr(0);
      at.insert(at.begin(), block);
      sizes.insert(sizes.begin(), nb.getIndexAttr(1));
      strides.insert(strides.begin(), nb.getIndexAttr(1));
    }
    return tensor::ExtractSliceOp::create(nb, l, type, t, at, sizes, strides);
  }

  // x and dy as the tiles read them: copied into channel blocks, or x zero-padded and dy's lanes
  // padded to whole vectors.
  void prepareOperands() {
    padZero = e.f32(0.0); // made here: inside the loop builders `b` points into their bodies
    x = sched.blocked ? blockChannels(e, op.getInput(), sched.cTile, sched.cBlocks, pads[2], info.shape,
                                      sched.subsampled ? convStrides : ArrayRef<int64_t>{1, 1, 1})
                      : vidnet::padSpatial(e, op.getInput(), op.getPadding());
    dy = op.getOutputGrad();
    const int64_t F = k[4];
    SmallVector<OpFoldResult> zeros(5, b.getIndexAttr(0));
    if (sched.blocked) {
      dy = blockChannels(e, dy, sched.fTile, sched.fBlocks, 0, info.shape);
    } else if (sched.dyLanes != F) {
      SmallVector<OpFoldResult> high(5, b.getIndexAttr(0));
      high[4] = b.getIndexAttr(sched.dyLanes - F);
      dy = tensor::PadOp::create(b, loc, RankedTensorType::get({out[0], out[1], out[2], out[3], sched.dyLanes}, f32),
                                 dy, zeros, high, padZero);
    }
  }

  // The types and maps of the register tiles.
  void prepareTileTypes() {
    paddedType = RankedTensorType::get({k[0], k[1], sched.paddedKW, sched.paddedC, sched.paddedF}, f32);
    // An item's slice of dW: kwTaps taps along W of cT x FT (rank-reduced to cT x FT for one).
    tileType = sched.kwTaps == 1 ? RankedTensorType::get({sched.cTile, sched.fTile}, f32)
                                 : RankedTensorType::get({sched.kwTaps, sched.cTile, sched.fTile}, f32);
    accVector = VectorType::get({sched.cTile, sched.fTile}, f32);
    MLIRContext *ctx = b.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx), p = getAffineDimExpr(2, ctx);
    maps = b.getAffineMapArrayAttr(
        {AffineMap::get(3, 0, {p, m}, ctx), AffineMap::get(3, 0, {p, n}, ctx), AffineMap::get(3, 0, {m, n}, ctx)});
    iterators = b.getArrayAttr({vector::IteratorTypeAttr::get(ctx, vector::IteratorType::parallel),
                                vector::IteratorTypeAttr::get(ctx, vector::IteratorType::parallel),
                                vector::IteratorTypeAttr::get(ctx, vector::IteratorType::reduction)});
    tileSizes = attrs(b, {1, 1, sched.kwTaps, sched.cTile, sched.fTile});
    unit = attrs(b, {1, 1, 1, 1, 1});
  }

  // Item `item` of chunk `chunk`: its tile of `shared` (dW or a part's partial sums, or with
  // `blockOnly` the item's channel block of either) with the chunk's sums written (`first`) or
  // added, and where that tile goes.
  std::pair<Value, SmallVector<OpFoldResult>> buildItem(OpBuilder &ob, Location l, Value shared, Value item,
                                                        Value chunk, Value first, bool blockOnly = false) {
    ItemTile t = locateItem(ob, l, shared, item, chunk, blockOnly);
    SmallVector<Value> chunkTotals = tileSums(ob, t);
    return {addToTile(ob, t, first, chunkTotals), t.tileAt};
  }

  // The item's tap and blocks, its tile of `shared`, and the chunk's rows it sums.
  ItemTile locateItem(OpBuilder &ob, Location l, Value shared, Value item, Value chunk, bool blockOnly) {
    const int64_t OH = out[2];
    auto tile = affine::AffineDelinearizeIndexOp::create(
        ob, l, item, ArrayRef<int64_t>{k[0], k[1], sched.kwGroups, sched.cBlocks, sched.fBlocks});
    Value cBlock = tile.getResult(3), fBlock = tile.getResult(4);
    Value kd = tile.getResult(0), kh = tile.getResult(1), kw = times(ob, tile.getResult(2), sched.kwTaps);
    Value c0 = times(ob, cBlock, sched.cTile), f0 = times(ob, fBlock, sched.fTile);
    SmallVector<OpFoldResult> tileAt = {kd, kh, kw, c0, f0};
    if (blockOnly)
      tileAt[3] = tileAt[4] = ob.getIndexAttr(0);
    Value dwTile = tensor::ExtractSliceOp::create(ob, l, tileType, shared, tileAt, tileSizes, unit);
    Value firstRow = times(ob, chunk, sched.chunkRows);
    // The first output row whose input row `row * stride + tap` is at least `low`.
    auto firstRowFrom = [&](Value tap, int64_t low, int64_t stride) -> Value {
      Value from = arith::CeilDivSIOp::create(ob, l, arith::SubIOp::create(ob, l, index(ob, low), tap),
                                              index(ob, stride));
      return arith::MaxSIOp::create(ob, l, from, index(ob, 0));
    };
    const int64_t sh = sched.xStrides[1];
    Value ohLow = firstRowFrom(kh, pads[1], sh);
    Value ohHigh = arith::MinSIOp::create(ob, l, firstRowFrom(kh, pads[1] + sched.xShape[2], sh), index(ob, OH));
    Value endRow = arith::AddIOp::create(ob, l, firstRow, index(ob, sched.chunkRows));
    Value firstFrame = arith::DivUIOp::create(ob, l, firstRow, index(ob, OH));
    Value endFrame = arith::AddIOp::create(
        ob, l, arith::DivUIOp::create(ob, l, arith::SubIOp::create(ob, l, endRow, index(ob, 1)), index(ob, OH)),
        index(ob, 1));
    // The chunk's sum starts at zero in registers and is written to dW (first chunk) or
    // added to it once: two short chains (positions of a chunk, then chunks) instead of
    // one over every position.
    Value zero = index(ob, 0);
    return ItemTile{l,      tile.getResult(2), cBlock, fBlock, kd,     kh,         kw,       c0,  f0,
                    tileAt, dwTile,            firstRow, ohLow, ohHigh, endRow, firstFrame, endFrame, zero};
  }

  // accs + the products of `count` positions of output row `r` from column ow + first, for the
  // tile's first `channels` rows and `lanes` lanes, one accumulator per tap along W.
  scf::ValueVector addPositions(OpBuilder &ib, Location il, const ItemTile &t, const RowAt &r, int64_t channels,
                                int64_t lanes, Value ow, int64_t first, int64_t count, ValueRange accs) {
    auto lhsVector = VectorType::get({count, channels}, f32);
    auto lhsType = RankedTensorType::get({count, channels}, f32);
    auto rhsVector = VectorType::get({count, lanes}, f32);
    auto rhsType = RankedTensorType::get({count, lanes}, f32);
    const int64_t sw = sched.xStrides[2];
    Value zero = t.zero;
    Value column = first == 0 ? ow : arith::AddIOp::create(ib, il, ow, index(ib, first)).getResult();
    Value rhs = rowSlice(ib, il, rhsType, dy, t.fBlock, {r.nIdx, r.od, r.oh, column, t.f0}, lanes, 1, count);
    Value bv = vector::TransferReadOp::create(ib, il, rhsVector, rhs, ValueRange{zero, zero}, padZero,
                                              ArrayRef<bool>{true, true});
    // The input column of the group's first tap; tap t reads t columns on.
    Value firstColumn = arith::AddIOp::create(ib, il, times(ib, column, sw), t.kw);
    scf::ValueVector sums;
    for (auto [tap, acc] : llvm::enumerate(accs)) {
      Value iw = tap == 0 ? firstColumn : arith::AddIOp::create(ib, il, firstColumn, index(ib, tap)).getResult();
      Value lhs = rowSlice(ib, il, lhsType, x, t.cBlock, {r.nIdx, r.xd, r.xh, iw, t.c0}, channels, sw, count);
      Value a = vector::TransferReadOp::create(ib, il, lhsVector, lhs, ValueRange{zero, zero}, padZero,
                                               ArrayRef<bool>{true, true});
      // acc[c, f] += sum over p of a[p, c] * b[p, f]: lowered to outer products
      // with each a[p, c] broadcast by vidnet-cpu-vectorize-tiles' patterns.
      sums.push_back(vector::ContractionOp::create(ib, il, a, bv, acc, maps, iterators).getResult());
    }
    return sums;
  }

  // rowAcc + the products of output row `r`, whose input row is real: its column blocks in a
  // loop, or where the schedule skips W padding, each column block on its own, its taps along W
  // that read padding for some of its positions summing only the others.
  SmallVector<Value> rowSums(OpBuilder &tb, Location tl, const ItemTile &t, const RowAt &r, int64_t channels,
                             int64_t lanes, ValueRange rowAcc) {
    const int64_t OW = out[3], owTile = sched.owTile;
    if (!sched.skipsW) {
      scf::LoopNest columns = scf::buildLoopNest(
          tb, tl, ValueRange{index(tb, 0)}, ValueRange{index(tb, OW)}, ValueRange{index(tb, owTile)}, rowAcc,
          [&](OpBuilder &ib, Location il, ValueRange ivs, ValueRange accs) {
            return addPositions(ib, il, t, r, channels, lanes, ivs[0], 0, owTile, accs);
          });
      return SmallVector<Value>(columns.results);
    }
    SmallVector<Value> accs(rowAcc);
    for (const vidnet::cpu::ColumnBlock &block : sched.columnBlocks) {
      const int64_t begin = block.begin;
      Value ow = index(tb, begin);
      SmallVector<int64_t> cases;
      for (const vidnet::cpu::EdgeTap &edge : block.edgeTaps)
        cases.push_back(edge.tap);
      if (cases.empty()) {
        accs = addPositions(tb, tl, t, r, channels, lanes, ow, 0, owTile, accs);
        continue;
      }
      auto edges = scf::IndexSwitchOp::create(tb, tl, ValueRange(accs).getTypes(), t.kw, cases, cases.size());
      for (auto [edge, region] : llvm::zip(block.edgeTaps, edges.getCaseRegions())) {
        OpBuilder cb = OpBuilder::atBlockBegin(&region.emplaceBlock());
        scf::YieldOp::create(cb, tl,
                             edge.first < edge.end
                                 ? addPositions(cb, tl, t, r, channels, lanes, ow, edge.first - begin,
                                                edge.end - edge.first, accs)
                                 : scf::ValueVector(accs));
      }
      OpBuilder cb = OpBuilder::atBlockBegin(&edges.getDefaultRegion().emplaceBlock());
      scf::YieldOp::create(cb, tl, addPositions(cb, tl, t, r, channels, lanes, ow, 0, owTile, accs));
      accs = SmallVector<Value>(edges.getResults());
    }
    return accs;
  }

  // The chunk's sums of the tile's first `channels` rows and `lanes` lanes for its first `taps`
  // taps along W, in registers from zero.
  SmallVector<Value> chunkSums(OpBuilder &sb, const ItemTile &t, int64_t channels, int64_t lanes, int64_t taps) {
    const Location l = t.l;
    const int64_t sd = sched.xStrides[0], sh = sched.xStrides[1];
    auto sumVector = VectorType::get({channels, lanes}, f32);
    Value zeroAcc = arith::ConstantOp::create(sb, l, DenseElementsAttr::get(sumVector, 0.0f));
    // Rows whose input row for this tap is zero padding (along D or H) add nothing and are
    // skipped; the sum of the others is unchanged, bit for bit (from +0 it never is -0).
    // The chunk's rows go frame by frame: each frame's index and depth check once, and of its rows
    // only those in the chunk whose input row is real, in the same order as row by row. Per row,
    // the index arithmetic (a division to split the row into n, d and h, four comparisons) is a
    // sixth of the samples of mc3_18's 7 x 7 filter gradients, whose rows are 84 FMAs per tap.
    auto frameLoop = scf::ForOp::create(
        sb, l, t.firstFrame, t.endFrame, index(sb, 1), SmallVector<Value>(taps, zeroAcc),
        [&](OpBuilder &fb, Location fl, Value frame, ValueRange frameAcc) {
          auto nOd = affine::AffineDelinearizeIndexOp::create(fb, fl, frame, ArrayRef<int64_t>{out[0], out[1]});
          Value nIdx = nOd.getResult(0), od = nOd.getResult(1);
          Value id = arith::AddIOp::create(fb, fl, times(fb, od, sd), t.kd);
          Value idLow = arith::CmpIOp::create(fb, fl, arith::CmpIPredicate::sge, id, index(fb, pads[0]));
          Value idHigh =
              arith::CmpIOp::create(fb, fl, arith::CmpIPredicate::slt, id, index(fb, pads[0] + sched.xShape[1]));
          // x's frame (blocked x has no padding frames or rows).
          Value xd = sched.blocked ? arith::SubIOp::create(fb, fl, id, index(fb, pads[0])).getResult() : id;
          auto ifReal = scf::IfOp::create(
              fb, fl, arith::AndIOp::create(fb, fl, idLow, idHigh),
              [&](OpBuilder &tb, Location tl) {
                // The frame's rows in the chunk: [firstRow, endRow) less the frame's first row.
                Value frameRow = times(tb, frame, out[2]);
                Value begin =
                    arith::MaxSIOp::create(tb, tl, t.ohLow, arith::SubIOp::create(tb, tl, t.firstRow, frameRow));
                Value end = arith::MinSIOp::create(tb, tl, t.ohHigh, arith::SubIOp::create(tb, tl, t.endRow, frameRow));
                auto rowLoop = scf::ForOp::create(
                    tb, tl, begin, end, index(tb, 1), frameAcc,
                    [&](OpBuilder &rb, Location rl, Value oh, ValueRange rowAcc) {
                      Value ih = arith::AddIOp::create(rb, rl, times(rb, oh, sh), t.kh);
                      Value xh = sched.blocked ? arith::SubIOp::create(rb, rl, ih, index(rb, pads[1])).getResult() : ih;
                      scf::YieldOp::create(rb, rl, rowSums(rb, rl, t, RowAt{nIdx, od, oh, xd, xh}, channels, lanes, rowAcc));
                    });
                scf::YieldOp::create(tb, tl, rowLoop.getResults());
              },
              [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, frameAcc); });
          scf::YieldOp::create(fb, fl, ifReal.getResults());
        });
    return SmallVector<Value>(frameLoop.getResults());
  }

  // kwTaps vectors of cT x FT from `then` or `otherwise`, whichever `cond` picks.
  SmallVector<Value> select(OpBuilder &sb, Location l, Value cond, function_ref<SmallVector<Value>(OpBuilder &)> then,
                            function_ref<SmallVector<Value>(OpBuilder &)> otherwise) {
    auto choice = scf::IfOp::create(
        sb, l, cond, [&](OpBuilder &tb, Location tl) { scf::YieldOp::create(tb, tl, then(tb)); },
        [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, otherwise(eb)); });
    return SmallVector<Value>(choice.getResults());
  }
  Value isLast(OpBuilder &sb, Location l, Value i, int64_t count) {
    return arith::CmpIOp::create(sb, l, arith::CmpIPredicate::eq, i, index(sb, count - 1)).getResult();
  }

  // The chunk's kwTaps sums of the item's tile, cT x FT each: where its last blocks along C, F or
  // the taps along W are partial, chosen between the partial and the whole tile's sums.
  SmallVector<Value> tileSums(OpBuilder &ob, const ItemTile &t) {
    const Location l = t.l;
    const int64_t cTile = sched.cTile, fTile = sched.fTile, kwTaps = sched.kwTaps;
    // The chunk's kwTaps sums of `channels` x `lanes`, widened to cT x FT with zeros, and zero
    // for the taps past the last group's end.
    auto blockSums = [&](OpBuilder &sb, int64_t channels, int64_t lanes) -> SmallVector<Value> {
      auto widened = [&](OpBuilder &wb, int64_t taps) {
        SmallVector<Value> sums = chunkSums(wb, t, channels, lanes, taps);
        Value zeros = arith::ConstantOp::create(wb, l, DenseElementsAttr::get(accVector, 0.0f));
        for (Value &sum : sums)
          if (lanes != fTile || channels != cTile)
            sum = vector::InsertStridedSliceOp::create(wb, l, sum, zeros, ArrayRef<int64_t>{0, 0},
                                                       ArrayRef<int64_t>{1, 1});
        sums.resize(kwTaps, zeros);
        return sums;
      };
      if (sched.lastKwTaps == kwTaps)
        return widened(sb, kwTaps);
      return select(
          sb, l, isLast(sb, l, t.kwGroup, sched.kwGroups),
          [&](OpBuilder &tb) { return widened(tb, sched.lastKwTaps); }, [&](OpBuilder &eb) { return widened(eb, kwTaps); });
    };
    // The last C block sums only its real channels.
    auto laneSums = [&](OpBuilder &sb, int64_t lanes) -> SmallVector<Value> {
      if (sched.tailChannels == 0)
        return blockSums(sb, cTile, lanes);
      return select(
          sb, l, isLast(sb, l, t.cBlock, sched.cBlocks),
          [&](OpBuilder &tb) { return blockSums(tb, sched.tailChannels, lanes); },
          [&](OpBuilder &eb) { return blockSums(eb, cTile, lanes); });
    };
    return sched.halfBlock ? select(
                                 ob, l, isLast(ob, l, t.fBlock, sched.fBlocks),
                                 [&](OpBuilder &tb) { return laneSums(tb, fTile / 2); },
                                 [&](OpBuilder &eb) { return laneSums(eb, fTile); })
                           : laneSums(ob, fTile);
  }

  // The item's tile with the chunk's sums written (`first`) or added to it; streamed where the
  // schedule streams dW.
  Value addToTile(OpBuilder &ob, const ItemTile &t, Value first, ArrayRef<Value> chunkTotals) {
    const Location l = t.l;
    Value zero = t.zero;
    // Tap `tap` of the item's slice of dW.
    auto tapAt = [&](OpBuilder &sb, int64_t tap) {
      return sched.kwTaps == 1 ? SmallVector<Value>{zero, zero} : SmallVector<Value>{index(sb, tap), zero, zero};
    };
    auto sum = scf::IfOp::create(
        ob, l, first, [&](OpBuilder &tb, Location tl) { scf::YieldOp::create(tb, tl, chunkTotals); },
        [&](OpBuilder &eb, Location el) {
          SmallVector<Value> added;
          for (auto [tap, total] : llvm::enumerate(chunkTotals)) {
            Value old = vector::TransferReadOp::create(eb, el, accVector, t.dwTile, tapAt(eb, tap), padZero,
                                                       ArrayRef<bool>{true, true});
            added.push_back(arith::AddFOp::create(eb, el, old, total).getResult());
          }
          scf::YieldOp::create(eb, el, added);
        });
    Value updated = t.dwTile;
    for (auto [tap, total] : llvm::enumerate(sum.getResults()))
      updated = vector::TransferWriteOp::create(ob, sched.streamsDw ? vidnet::cpu::streamedStore(l) : l, total,
                                                updated, tapAt(ob, tap), ArrayRef<bool>{true, true})
                    .getResult();
    return updated;
  }

  // x's and dy's rows of the chunk after `chunk` (prefetchesRows), into L2, while the tiles of
  // this one run: tile (tap, c-block, 0) prefetches its channels of x for its tap and tile
  // (first tap, 0, f-block) its lanes of dy, a line per position.
  void prefetchNextChunk(OpBuilder &pb, Location l, Value item, Value chunk) {
    const int64_t chunkRows = sched.chunkRows, OW = out[3];
    auto tile = affine::AffineDelinearizeIndexOp::create(
        pb, l, item, ArrayRef<int64_t>{k[0], k[1], sched.kwGroups, sched.cBlocks, sched.fBlocks});
    Value kd = tile.getResult(0), kh = tile.getResult(1), kw = times(pb, tile.getResult(2), sched.kwTaps);
    Value cBlock = tile.getResult(3), fBlock = tile.getResult(4);
    Value firstTap =
        arith::AndIOp::create(pb, l, isZero(pb, kd), arith::AndIOp::create(pb, l, isZero(pb, kh), isZero(pb, kw)));
    Value next = times(pb, arith::AddIOp::create(pb, l, chunk, index(pb, 1)), chunkRows);
    next = arith::MinSIOp::create(pb, l, next, index(pb, sched.rows - chunkRows));
    auto lines = [&](Value isFirst, Value buf, bool isX, Value channel) {
      auto ifOp = scf::IfOp::create(pb, l, isFirst, /*withElse=*/false);
      OpBuilder tb = ifOp.getThenBodyBuilder();
      scf::buildLoopNest(
          tb, l, ValueRange{index(tb, 0), index(tb, 0)}, ValueRange{index(tb, chunkRows), index(tb, OW)},
          ValueRange{index(tb, 1), index(tb, 1)}, [&](OpBuilder &lb, Location ll, ValueRange ivs) {
            Value row = arith::AddIOp::create(lb, ll, next, ivs[0]);
            auto ndh = affine::AffineDelinearizeIndexOp::create(lb, ll, row, ArrayRef<int64_t>{out[0], out[1], out[2]});
            SmallVector<Value> at = {ndh.getResult(0), ndh.getResult(1), ndh.getResult(2), ivs[1], channel};
            if (isX) {
              Value taps[3] = {kd, kh, kw};
              for (int i = 0; i < 3; ++i)
                at[i + 1] = arith::AddIOp::create(lb, ll, times(lb, at[i + 1], convStrides[i]), taps[i]);
            }
            memref::PrefetchOp::create(lb, ll, buf, at, /*isWrite=*/false, /*localityHint=*/2,
                                       /*isDataCache=*/true);
          });
    };
    lines(isZero(pb, fBlock), xBuffer, true, times(pb, cBlock, sched.cTile));
    lines(arith::AndIOp::create(pb, l, firstTap, isZero(pb, cBlock)), dyBuffer, false, times(pb, fBlock, sched.fTile));
  }

  // dW (padded) less its padding: zero channels, lanes and taps along W.
  Value sliceAwayPadding(Value result) {
    if (sched.paddedF != k[4] || sched.paddedC != k[3] || sched.paddedKW != k[2]) {
      SmallVector<OpFoldResult> zeros(5, b.getIndexAttr(0));
      result = tensor::ExtractSliceOp::create(b, loc, dwType, result, zeros, attrs(b, k), attrs(b, {1, 1, 1, 1, 1}));
    }
    return result;
  }

  // forall (c-block, f-block): for chunk: for tap: dW tile (+)= the chunk's sums
  Value emitBlockThenChunks() {
    const int64_t cTile = sched.cTile, fTile = sched.fTile, cBlocks = sched.cBlocks, fBlocks = sched.fBlocks;
    const int64_t blockItems = cBlocks * fBlocks, taps = k[0] * k[1] * sched.kwGroups;
    auto blockType = RankedTensorType::get({k[0], k[1], sched.paddedKW, cTile, fTile}, f32);
    SmallVector<OpFoldResult> blockSizes = attrs(b, blockType.getShape());
    auto forall = scf::ForallOp::create(b, loopLoc, ArrayRef<OpFoldResult>{b.getIndexAttr(blockItems)},
                                        ValueRange{e.empty(paddedType)}, std::nullopt);
    OpBuilder ob(forall.getTerminator());
    Value blockItem = forall.getInductionVar(0), shared = forall.getRegionIterArgs()[0];
    auto cf = affine::AffineDelinearizeIndexOp::create(ob, loc, blockItem, ArrayRef<int64_t>{cBlocks, fBlocks});
    SmallVector<OpFoldResult> blockAt = {ob.getIndexAttr(0), ob.getIndexAttr(0), ob.getIndexAttr(0),
                                         times(ob, cf.getResult(0), cTile), times(ob, cf.getResult(1), fTile)};
    Value block = tensor::ExtractSliceOp::create(ob, loc, blockType, shared, blockAt, blockSizes, unit);
    auto chunkLoop = scf::ForOp::create(
        ob, loc, index(ob, 0), index(ob, sched.chunks), index(ob, 1), ValueRange{block},
        [&](OpBuilder &cb, Location l, Value chunk, ValueRange current) {
          Value first = isZero(cb, chunk);
          auto tapLoop = scf::ForOp::create(
              cb, l, index(cb, 0), index(cb, taps), index(cb, 1), current,
              [&](OpBuilder &tb, Location tl, Value tap, ValueRange sums) {
                Value item = arith::AddIOp::create(tb, tl, times(tb, tap, blockItems), blockItem);
                auto [updated, tileAt] = buildItem(tb, tl, sums[0], item, chunk, first, /*blockOnly=*/true);
                scf::YieldOp::create(
                    tb, tl, tensor::InsertSliceOp::create(tb, tl, updated, sums[0], tileAt, tileSizes, unit).getResult());
              });
          scf::YieldOp::create(cb, l, tapLoop.getResults());
        });
    ob.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(ob, loc, chunkLoop.getResult(0), shared, blockAt, blockSizes, unit);
    return forall.getResult(0);
  }

  // for chunk (in order: each element's sum runs over the positions in the same order
  // whatever the thread count):
  //   forall tile (kd, kh, kw, c-block, f-block):  acc = 0 (registers)
  //     for row in chunk, ow-block:                acc += x[row, ow*s + kw, cb]^T * dy[row, ow, fb]
  //     dW tile = acc (first chunk) or dW tile + acc
  Value emitChunkThenTiles() {
    auto chunkLoop = scf::ForOp::create(
        b, loc, index(b, 0), index(b, sched.chunks), index(b, 1), ValueRange{e.empty(paddedType)},
        [&](OpBuilder &cb, Location l, Value chunk, ValueRange dw) {
          auto forall =
              scf::ForallOp::create(cb, loopLoc, ArrayRef<OpFoldResult>{cb.getIndexAttr(sched.items)}, dw, std::nullopt);
          OpBuilder ob(forall.getTerminator());
          Value shared = forall.getRegionIterArgs()[0];
          auto [updated, tileAt] = buildItem(ob, l, shared, forall.getInductionVar(0), chunk, isZero(ob, chunk));
          ob.setInsertionPointToStart(forall.getTerminator().getBody());
          tensor::ParallelInsertSliceOp::create(ob, l, updated, shared, tileAt, tileSizes, unit);
          scf::YieldOp::create(cb, l, forall.getResult(0));
        });
    return chunkLoop.getResult(0);
  }

  // forall part: for chunk of the part: for item: partial[part] tile (+)= the chunk's sums;
  // then dW = partial[0] + partial[1] + ... in order.
  Value emitParts() {
    const int64_t parts = sched.parts, chunksPerPart = sched.chunksPerPart;
    if (sched.prefetchesRows) {
      xBuffer = vidnet::cpu::readOnlyBuffer(b, loc, x);
      dyBuffer = vidnet::cpu::readOnlyBuffer(b, loc, dy);
    }
    SmallVector<int64_t> partialsShape = {parts};
    llvm::append_range(partialsShape, paddedType.getShape());
    auto partialsType = RankedTensorType::get(partialsShape, f32);
    // Part `part`'s copy of dW: [part, 0, ...] sized [1, dW's padded shape].
    SmallVector<OpFoldResult> partAt(6, b.getIndexAttr(0)), partSizes = attrs(b, partialsShape);
    SmallVector<OpFoldResult> units(6, b.getIndexAttr(1));
    partSizes[0] = b.getIndexAttr(1);
    auto forall = scf::ForallOp::create(b, loopLoc, ArrayRef<OpFoldResult>{b.getIndexAttr(parts)},
                                        ValueRange{e.empty(partialsType)}, std::nullopt);
    OpBuilder pb(forall.getTerminator());
    Value part = forall.getInductionVar(0), shared = forall.getRegionIterArgs()[0];
    partAt[0] = part;
    Value partial = tensor::ExtractSliceOp::create(pb, loc, paddedType, shared, partAt, partSizes, units);
    auto chunkLoop = scf::ForOp::create(
        pb, loc, index(pb, 0), index(pb, chunksPerPart), index(pb, 1), ValueRange{partial},
        [&](OpBuilder &cb, Location l, Value nth, ValueRange sums) {
          Value chunk = arith::AddIOp::create(cb, l, times(cb, part, chunksPerPart), nth);
          Value first = isZero(cb, nth);
          auto itemLoop = scf::ForOp::create(
              cb, l, index(cb, 0), index(cb, sched.items), index(cb, 1), sums,
              [&](OpBuilder &ib, Location il, Value item, ValueRange current) {
                if (sched.prefetchesRows)
                  prefetchNextChunk(ib, il, item, chunk);
                auto [updated, tileAt] = buildItem(ib, il, current[0], item, chunk, first);
                Value inserted = tensor::InsertSliceOp::create(ib, il, updated, current[0], tileAt, tileSizes, unit);
                scf::YieldOp::create(ib, il, inserted);
              });
          scf::YieldOp::create(cb, l, itemLoop.getResults());
        });
    pb.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(pb, loc, chunkLoop.getResult(0), shared, partAt, partSizes, units);
    return addParts(forall.getResult(0));
  }

  // Each part's unpadded sums, added in the parts' order (the same bits whatever the thread
  // count). Described as the filter gradient's loop; where vidnet-fuse-elementwise folds it
  // into the optimizer's update (SGD reads dW once anyway) it is timed with that instead.
  Value addParts(Value partialSums) {
    const int64_t parts = sched.parts;
    SmallVector<OpFoldResult> units(6, b.getIndexAttr(1));
    SmallVector<Value> partials;
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
    llvm::append_range(sizes, attrs(b, k));
    for (int64_t p = 0; p < parts; ++p) {
      SmallVector<OpFoldResult> at(6, b.getIndexAttr(0));
      at[0] = b.getIndexAttr(p);
      partials.push_back(tensor::ExtractSliceOp::create(b, loc, dwType, partialSums, at, sizes, units));
    }
    vidnet::cpu::LoopInfo totals = info;
    totals.flops = 0;
    totals.bytes = 0; // the filter gradient's least traffic is counted once, on its chunks' loop
    vidnet::Emitter te(b, vidnet::cpu::describeLoop(loc, totals));
    SmallVector<AffineMap> sumMaps(parts + 1, b.getMultiDimIdentityMap(5));
    return te.generic(dwType, partials, te.empty(dwType), sumMaps,
                      SmallVector<utils::IteratorType>(5, utils::IteratorType::parallel),
                      [](OpBuilder &nb, Location l, ValueRange a) {
                        Value total = a[0];
                        for (Value v : a.drop_front().drop_back())
                          total = arith::AddFOp::create(nb, l, total, v);
                        return total;
                      });
  }

  vidnet::ConvBackwardFilterOp op;
  const vidnet::cpu::FilterGradSchedule &sched;
  OpBuilder b;
  Location loc;
  vidnet::Emitter e;
  vidnet::cpu::LoopInfo info;
  Location loopLoc;
  RankedTensorType dwType;
  Type f32;
  ArrayRef<int64_t> convStrides, k, out, pads;
  // The operands as the tiles read them, and read-only views of them for the prefetches.
  Value padZero, x, dy, xBuffer, dyBuffer;
  RankedTensorType paddedType, tileType;
  VectorType accVector;
  ArrayAttr maps, iterators;
  SmallVector<OpFoldResult> tileSizes, unit;
};

struct TileFilterGrads : vidnet::cpu::impl::TileFilterGradsBase<TileFilterGrads> {
  using TileFilterGradsBase::TileFilterGradsBase;

  void runOnOperation() override {
    SmallVector<vidnet::ConvBackwardFilterOp> ops;
    getOperation().walk([&](vidnet::ConvBackwardFilterOp op) {
      if (op.getGroups() == 1)
        ops.push_back(op);
    });
    const vidnet::cpu::VectorRegisters regs = vidnet::cpu::VectorRegisters::forBits(vectorBits);
    for (vidnet::ConvBackwardFilterOp op : ops) {
      const vidnet::cpu::FilterGradSchedule sched = vidnet::cpu::chooseFilterGradSchedule(problemOf(op), regs);
      // One write per line, as vidnet-cpu-tile-convs': entry points go through the pipeline at once.
      if (printSchedules)
        llvm::errs() << ("@" + getOperation().getSymName() + " " + vidnet::bundle::loop_kind::kConvFilterGradient +
                         ": " + describe(sched) + "\n")
                            .str();
      FilterGradEmitter(op, sched).emit();
    }
  }
};

} // namespace
