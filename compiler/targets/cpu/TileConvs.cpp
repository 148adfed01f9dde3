// vidnet-cpu-tile-convs: vidnet.conv -> loop nest of static, register-sized linalg.matmul tiles.
// ConvSchedule.cpp decides the tiles (chooseConvSchedule); this file emits them, in stages: the
// operands (padded input and filter, packed filter, init), then one scf.forall per tile loop,
// whose item is built by the stage of its kind (row, pair, flat or reduction-outer tiles).
#include "compiler/targets/cpu/ConvEpilogue.h"
#include "compiler/targets/cpu/ConvSchedule.h"
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/LoopInfo.h"
#include "compiler/targets/cpu/LoopNests.h"
#include "compiler/targets/cpu/PadInPlace.h"
#include "compiler/targets/cpu/ReadOnlyBuffer.h"
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_TILECONVS
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

using vidnet::cpu::ConvProblem;
using vidnet::cpu::ConvSchedule;
using vidnet::cpu::describeLoop;
using vidnet::cpu::EdgeTile;
using vidnet::cpu::FlatTile;
using vidnet::cpu::InputAxes;
using vidnet::cpu::loopNest;
using vidnet::cpu::loopNestN;
using vidnet::cpu::Rows;
using vidnet::cpu::TileKind;
using vidnet::cpu::TileLoop;
using vidnet::cpu::VectorTarget;

// The conv's input along D, H and W (InputAxes), read off the zero tensor.pad that makes it.
InputAxes inputAxes(Value input) {
  InputAxes axes;
  ArrayRef<int64_t> in = cast<RankedTensorType>(input.getType()).getShape();
  for (int i = 0; i < 3; ++i)
    axes.extent[i] = in[i + 1];
  auto pad = input.getDefiningOp<tensor::PadOp>();
  if (!pad || !pad.getConstantPaddingValue() || !matchPattern(pad.getConstantPaddingValue(), m_AnyZeroFloat()))
    return axes;
  ArrayRef<int64_t> low = pad.getStaticLow(), source = pad.getSourceType().getShape();
  for (int i = 0; i < 3; ++i)
    if (!ShapedType::isDynamic(low[i + 1]) && !ShapedType::isDynamic(source[i + 1])) {
      axes.low[i] = low[i + 1];
      axes.extent[i] = source[i + 1];
      axes.padded[i] = source[i + 1] != in[i + 1];
    }
  return axes;
}

ConvProblem convProblem(linalg::Conv3DNdhwcDhwcfOp op) {
  ConvProblem p;
  llvm::copy(cast<RankedTensorType>(op.getInputs()[0].getType()).getShape(), p.input.begin());
  llvm::copy(cast<RankedTensorType>(op.getInputs()[1].getType()).getShape(), p.filter.begin());
  llvm::copy(cast<RankedTensorType>(op.getResultTypes()[0]).getShape(), p.output.begin());
  llvm::copy(op.getStrides().getValues<int64_t>(), p.strides.begin());
  p.axes = inputAxes(op.getInputs()[0]);
  p.startsFromZero = vidnet::isPositiveZeroFill(op.getOutputs()[0]);
  return p;
}

// For `vidrun profile`: the conv's kind, the forward conv it belongs to, and its own flops.
vidnet::cpu::LoopInfo profileInfo(linalg::Conv3DNdhwcDhwcfOp op) {
  ArrayRef<int64_t> k = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
  ArrayRef<int64_t> out = cast<RankedTensorType>(op.getResultTypes()[0]).getShape();
  SmallVector<int64_t> s(op.getStrides().getValues<int64_t>());
  vidnet::cpu::LoopInfo info;
  auto role = op->getAttrOfType<StringAttr>(vidnet::kConvRoleAttr);
  auto shape = op->getAttrOfType<StringAttr>(vidnet::kConvShapeAttr);
  info.kind = role ? role.str() : vidnet::bundle::loop_kind::kConv;
  info.shape = shape ? shape.str() : vidnet::describeConv(k, s, out);
  // Products that read padding rows are not work, whether skipped (D, H, edge tiles along W) or not.
  InputAxes axes = inputAxes(op.getInputs()[0]);
  info.flops = vidnet::cpu::convFlops(k, s, out, axes.low, axes.extent);
  info.bytes = vidnet::cpu::convTrafficBytes(k, s, out, axes.low, axes.extent, /*wholeFilter=*/false);
  return info;
}

// The conv's input is already zero-padded (vidnet-lower-to-linalg); `extraW` more columns are
// added on the right and `extraC` zero channels at the end, folded into that tensor.pad where
// there is one.
Value padRight(OpBuilder &b, Location loc, Value input, int64_t extraW, int64_t extraC, Value zero) {
  if (extraW == 0 && extraC == 0)
    return input;
  Value source = input;
  SmallVector<OpFoldResult> low(5, b.getIndexAttr(0)), high(5, b.getIndexAttr(0));
  auto pad = input.getDefiningOp<tensor::PadOp>();
  if (pad && pad.getConstantPaddingValue() && matchPattern(pad.getConstantPaddingValue(), m_AnyZeroFloat())) {
    source = pad.getSource();
    low = pad.getMixedLowPad();
    high = pad.getMixedHighPad();
  }
  high[3] = b.getIndexAttr(getConstantIntValue(high[3]).value_or(0) + extraW);
  high[4] = b.getIndexAttr(getConstantIntValue(high[4]).value_or(0) + extraC);
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[3] += extraW;
  shape[4] += extraC;
  return tensor::PadOp::create(b, loc, RankedTensorType::get(shape, type.getElementType()), source, low, high, zero);
}

// Emits one conv's schedule in place of the conv.
class ConvEmitter {
public:
  ConvEmitter(linalg::Conv3DNdhwcDhwcfOp op, const ConvSchedule &schedule)
      : op(op), sc(schedule), p(schedule.problem), k(p.filter), out(p.output), s(p.strides), b(op), loc(op.getLoc()),
        f32(cast<RankedTensorType>(op.getInputs()[0].getType()).getElementType()) {}

  void emit() {
    emitOperands();
    if (sc.packed)
      emitPackedFilter();
    emitInit();
    for (const TileLoop &loop : sc.loops)
      init = emitLoop(loop, init);
    replaceConv();
  }

private:
  // Per tile loop: its lanes and the filter slice of one reduction step.
  struct LoopContext {
    const TileLoop &loop;
    int64_t fTile;
    RankedTensorType rhsType;
  };

  linalg::Conv3DNdhwcDhwcfOp op;
  const ConvSchedule &sc;
  const ConvProblem &p;
  const std::array<int64_t, 5> &k, &out;
  const std::array<int64_t, 3> &s;
  OpBuilder b;
  Location loc;
  Type f32;
  std::optional<vidnet::cpu::ConvEpilogue> epilogue;
  Value zero, x, w, init;

  // Stage 1: the fused epilogue (when there is one, the tiles are built where it is, after
  // everything it reads), the input padded for the columns and channels the tiles read, and the
  // filter padded to the schedule's lanes and channels.
  void emitOperands() {
    const int64_t C = sc.C, realC = sc.realC, paddedF = sc.paddedF, F = out[4];
    if (sc.mayFuseEpilogue)
      epilogue = vidnet::cpu::matchConvEpilogue(op->getResult(0));
    if (epilogue)
      b.setInsertionPoint(epilogue->op);
    zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    x = padRight(b, loc, op.getInputs()[0], std::max<int64_t>(0, (sc.paddedOW - 1) * s[2] + k[2] - p.input[3]),
                 C - realC, zero);
    Value filter = op.getInputs()[1];
    w = filter;
    if (paddedF != F || C != realC) {
      // The filter is written into the padded one's interior by the elementwise op that makes it
      // (a data gradient's sub-filter) or else by a copy, which vidnet-cpu-parallelize-elementwise
      // spreads over the threads and vidnet-cpu-pad-in-place writes there (only the padding is
      // zeroed): a pad of the argument itself was a serial fill and copy of the whole filter on
      // every call (34 MB per clip for torchvision r2plus1d_18).
      Value source = filter;
      if (!vidnet::cpu::emptyInitOf(filter))
        source = vidnet::Emitter(b, loc).elementwise({filter}, {}, cast<RankedTensorType>(filter.getType()),
                                                     [](OpBuilder &, Location, ValueRange in) { return in[0]; });
      SmallVector<OpFoldResult> low(5, b.getIndexAttr(0)), high(5, b.getIndexAttr(0));
      high[3] = b.getIndexAttr(C - realC);
      high[4] = b.getIndexAttr(paddedF - F);
      w = tensor::PadOp::create(b, loc, RankedTensorType::get({k[0], k[1], k[2], C, paddedF}, f32), source, low, high,
                                zero);
    }
  }

  // Stage 2: the filter packed as [F/FT][tapsD][tapsH][kW][C][FT] (the taps along D and H that
  // some output reads); the tiles index it from the first of them.
  void emitPackedFilter() {
    const int64_t fTile = sc.laneParts.front().fTile, firstD = sc.firstD, firstH = sc.firstH;
    const int64_t tapsD = sc.tapsD, tapsH = sc.tapsH;
    auto packedType = RankedTensorType::get({sc.paddedF / fTile, tapsD, tapsH, k[2], sc.C, fTile}, f32);
    MLIRContext *ctx = b.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    // Loops in the filter's order (taps, channels, then the lane blocks): each source row is read
    // whole, its blocks of lanes written to their packed places. In the packed order each item
    // read 128 bytes every 2 KB of the filter (512 lanes), too sparse for the prefetchers:
    // r3d_18's 512 x 512 packs at 27-29 GB/s.
    AffineMap read = AffineMap::get(6, 0, {d(0), d(1), d(2), d(3), d(4) * fTile + d(5)}, ctx);
    AffineMap write = AffineMap::get(6, 0, {d(4), d(0), d(1), d(2), d(3), d(5)}, ctx);
    // A data gradient's sub-filter (taps flipped, C and F swapped) is packed straight from the
    // filter: one transposing pass over it instead of a transposed copy and a copy of that
    // (r3d_18's 512 x 512 filters: 2.2 + 2.5 ms per step on 1 thread). Linalg infers the loop
    // ranges from the results that are a bare dimension, so each such one must fit.
    auto moved = w.getDefiningOp<linalg::GenericOp>();
    AffineMap fused;
    if (moved && vidnet::movesElements(moved) && moved.getMatchingIndexingMap(moved.getDpsInitOperand(0)).isIdentity())
      fused = simplifyAffineMap(
          moved.getMatchingIndexingMap(moved.getDpsInputOperand(0))
              .compose(AffineMap::get(6, 0, {d(1) + firstD, d(2) + firstH, d(3), d(4), d(0) * fTile + d(5)}, ctx)));
    ArrayRef<int64_t> sourceShape =
        moved ? cast<RankedTensorType>(moved.getDpsInputOperand(0)->get().getType()).getShape() : ArrayRef<int64_t>{};
    if (fused && llvm::all_of(llvm::enumerate(fused.getResults()), [&](auto r) {
          auto dim = dyn_cast<AffineDimExpr>(r.value());
          return !dim || sourceShape[r.index()] == packedType.getDimSize(dim.getPosition());
        })) {
      // The fused read walks the packed order (its loop ranges are the packed dimensions').
      read = fused;
      write = b.getMultiDimIdentityMap(6);
      w = moved.getDpsInputOperand(0)->get();
    } else if (tapsD != k[0] || tapsH != k[1]) {
      w = tensor::ExtractSliceOp::create(b, loc, w, getAsIndexOpFoldResult(ctx, {firstD, firstH, 0, 0, 0}),
                                         getAsIndexOpFoldResult(ctx, {tapsD, tapsH, k[2], sc.C, sc.paddedF}),
                                         getAsIndexOpFoldResult(ctx, {1, 1, 1, 1, 1}));
    }
    vidnet::Emitter e(b, loc);
    w = e.generic(packedType, ValueRange{w}, e.empty(packedType), {read, write},
                  SmallVector<utils::IteratorType>(6, utils::IteratorType::parallel),
                  [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    w.getDefiningOp()->setAttr(vidnet::cpu::kWeightPackAttr, b.getUnitAttr());
    // For `vidrun profile`: a row of its own beside its conv (a layer's forward and data gradient
    // packs have the same packed shape, and as elementwise rows they were merged), counting the
    // bytes it moves rather than the whole filter it reads from.
    vidnet::cpu::LoopInfo packInfo = profileInfo(op);
    packInfo.kind = packInfo.kind == vidnet::bundle::loop_kind::kConvDataGradient
                            ? vidnet::bundle::loop_kind::kSubFilterPacking
                            : vidnet::bundle::loop_kind::kFilterPacking;
    packInfo.flops = 0;
    packInfo.bytes = 2 * packedType.getNumElements() * 4;
    w.getDefiningOp()->setLoc(vidnet::cpu::describeLoop(loc, packInfo));
  }

  // Stage 3: what the first loop writes: an empty tensor when the tiles start from zero (reading
  // one zero tensor that CSE shares between convs made bufferization copy it before every conv),
  // else the init padded to the tiles' columns and lanes.
  void emitInit() {
    const int64_t paddedOW = sc.paddedOW, paddedF = sc.paddedF;
    init = op.getOutputs()[0];
    if (sc.fromZero) {
      init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{out[0], out[1], out[2], paddedOW, paddedF}, f32);
    } else if (paddedOW != out[3] || paddedF != out[4]) {
      SmallVector<OpFoldResult> low(5, b.getIndexAttr(0)), high(5, b.getIndexAttr(0));
      high[3] = b.getIndexAttr(paddedOW - out[3]);
      high[4] = b.getIndexAttr(paddedF - out[4]);
      init = tensor::PadOp::create(b, loc, RankedTensorType::get({out[0], out[1], out[2], paddedOW, paddedF}, f32),
                                   init, low, high, zero);
    }
  }

  // Stage 4: one tile loop's scf.forall over `shared`, tagged with its share of the conv's work.
  // Every item is independent, in the order the serial nest had, so vidnet-cpu-outline-parallel's
  // contiguous ranges give a thread tiles that share filter blocks and rows. A tile's sums do not
  // depend on which thread computes it: results are bit-identical for any thread count.
  Value emitLoop(const TileLoop &loop, Value into) {
    const LoopContext lc{loop, loop.lanes.fTile, RankedTensorType::get({sc.cTile, loop.lanes.fTile}, f32)};
    const vidnet::cpu::ColumnPart &cols = loop.cols;
    const int64_t F = out[4], OW = out[3];
    // The part's share of the conv's products (its real lanes), for the profile; its bytes are the
    // same share of the conv's, so that the parts add up to the conv.
    vidnet::cpu::LoopInfo info = profileInfo(op);
    const double convFlops = static_cast<double>(info.flops);
    info.flops = info.flops * (std::min(loop.lanes.base + loop.lanes.lanes, F) - loop.lanes.base) / F;
    // ... and of its real columns: the (column, tap) pairs that read real input (exact: the conv's
    // flops are a multiple of those over all columns).
    auto pairsUpTo = [&](int64_t columns) {
      return vidnet::cpu::realTapPairs(p.axes.low[2], p.axes.extent[2], s[2], k[2], std::min(columns, OW));
    };
    if (const int64_t all = pairsUpTo(OW); all > 0)
      info.flops = info.flops / all * (pairsUpTo(cols.base + cols.columns) - pairsUpTo(cols.base));
    if (convFlops > 0)
      info.bytes = static_cast<int64_t>(static_cast<double>(info.bytes) * static_cast<double>(info.flops) / convFlops);
    auto forall = scf::ForallOp::create(b, describeLoop(loc, info), ArrayRef<OpFoldResult>{b.getIndexAttr(loop.items)},
                                        ValueRange{into}, std::nullopt);
    OpBuilder ob(forall.getTerminator());
    Value item = forall.getInductionVar(0), shared = forall.getRegionIterArgs()[0];
    SmallVector<OpFoldResult> offsets, sizes;
    Value result;
    switch (loop.kind) {
    case TileKind::Flat:
      result = emitFlatItem(ob, lc, item, shared, offsets, sizes);
      break;
    case TileKind::FramePairs:
    case TileKind::RowPairs:
      result = emitPairItem(ob, lc, item, shared, offsets, sizes);
      break;
    case TileKind::Rows:
      result = emitRowItem(ob, lc, item, shared, offsets, sizes);
      break;
    case TileKind::ReductionOuter:
      result = emitReductionOuterItem(ob, lc, item, shared, offsets, sizes);
      break;
    }
    ob.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(ob, loc, result, shared, offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
    return forall.getResult(0);
  }

  // Stage 5: the conv's uses (or its epilogue's) read the last loop's result, without the padding.
  void replaceConv() {
    Value result = init;
    if (sc.paddedOW != out[3] || sc.paddedF != out[4])
      result = tensor::ExtractSliceOp::create(b, loc, cast<RankedTensorType>(op.getResultTypes()[0]), result,
                                              attrs(b, {0, 0, 0, 0, 0}), attrs(b, out), attrs(b, {1, 1, 1, 1, 1}));
    if (epilogue) {
      epilogue->op->getResult(0).replaceAllUsesWith(result);
      epilogue->op.erase();
    } else {
      op->getResult(0).replaceAllUsesWith(result);
    }
    op.erase();
  }

  // --- Items of each kind (stage 4). ---

  // forall (f-block, n, od): the block out[n, od, :, :, f-block] (a frame's OH x OW positions) in
  // the schedule's flat tiles, each unrolled with pieces of its own. Each tap row (kd, kh) sums the
  // pieces that read real rows over their runs of taps along W and all channels, from zero, and
  // adds them into the block (L1) as vectors: the sums of the row tiles in the same order, so the
  // same bits. Clips and frames inside filter blocks: a block's filter slice (one f-block of all
  // taps and channels, 295 KB for 512 channels packed) serves all of them from L2, where the whole
  // filter (9.4 MB) would stream from memory once per clip in the batched step.
  Value emitFlatItem(OpBuilder &ob, const LoopContext &lc, Value item, Value shared,
                     SmallVector<OpFoldResult> &offsets, SmallVector<OpFoldResult> &sizes) {
    const int64_t fTile = lc.fTile, OH = out[2], OW = out[3];
    auto split = affine::AffineDelinearizeIndexOp::create(ob, loc, item,
                                                          ArrayRef<int64_t>{lc.loop.lanes.blocks(), out[0], out[1]});
    Value fb = laneOf(ob, lc, split.getResult(0)), n = split.getResult(1), od = split.getResult(2);
    offsets = ofr({n, od, index(ob, 0), index(ob, 0), fb});
    sizes = attrs(ob, {1, 1, OH, OW, fTile});
    Value block = tensor::ExtractSliceOp::create(ob, loc, RankedTensorType::get({OH, OW, fTile}, f32), shared, offsets,
                                                 sizes, attrs(ob, {1, 1, 1, 1, 1}));
    auto rowOffsets = [&](OpBuilder &nb, int64_t oh) {
      SmallVector<OpFoldResult> at(offsets);
      at[2] = nb.getIndexAttr(oh);
      return at;
    };
    if (epilogue)
      for (int64_t oh = 0; oh < OH; ++oh)
        vidnet::cpu::prefetchConvEpilogueInputs(ob, loc, *epilogue, OW, fTile, rowOffsets(ob, oh));
    auto [kdLo, kdHi] = tapsFor(ob, 0, od);
    for (const FlatTile &tile : lc.loop.flatTiles)
      block = emitFlatTile(ob, lc, tile, block, n, od, fb, kdLo, kdHi);
    if (epilogue)
      for (int64_t oh = 0; oh < OH; ++oh)
        block = epilogueOnRow(ob, lc, block, oh, OW, rowOffsets(ob, oh));
    return block;
  }

  // One flat tile into `block`: the pieces' sums, from +0 (flat tiles are only for convs that
  // start from zeros), each its own small tensor until the tile's end: no read of the block
  // between tap rows.
  Value emitFlatTile(OpBuilder &ob, const LoopContext &lc, const FlatTile &tile, Value block, Value n, Value od,
                     Value fb, Value kdLo, Value kdHi) {
    SmallVector<Value> accs;
    for (const FlatTile::Piece &piece : tile.pieces)
      accs.push_back(zeroTile(ob, lc, piece.cols.size()));
    accs = loopNestN(ob, loc, {kdLo}, {kdHi}, {1}, accs, [&](OpBuilder &db, ValueRange kd, ValueRange carried) {
      SmallVector<Value> accs(carried);
      for (const FlatTile::TapRange &range : tile.ranges) {
        SmallVector<Value> rangeAccs;
        for (int64_t i : range.reading)
          rangeAccs.push_back(accs[i]);
        rangeAccs = loopNestN(
            db, loc, {index(db, range.khBegin)}, {index(db, range.khEnd)}, {1}, rangeAccs,
            [&](OpBuilder &hb, ValueRange kh, ValueRange carried) {
              SmallVector<Value> partials(tile.pieces.size());
              for (int64_t i : range.reading)
                partials[i] = zeroTile(hb, lc, tile.pieces[i].cols.size());
              for (const EdgeTile::Run &run : range.runs) {
                SmallVector<Rows> runPieces;
                SmallVector<Value> runPartials;
                SmallVector<int64_t> rows;
                for (int64_t i : run.pieces) {
                  runPieces.push_back(tile.pieces[i].cols);
                  runPartials.push_back(partials[i]);
                  rows.push_back(tile.pieces[i].row);
                }
                SmallVector<Value> summed = loopNestN(
                    hb, loc, {index(hb, run.kwBegin)}, {index(hb, run.kwEnd)}, {1}, runPartials,
                    [&](OpBuilder &rb, ValueRange kw, ValueRange sums) {
                      return accumulateRows(rb, lc, runPieces, sums, n, od, index(rb, 0), index(rb, 0), fb, kd[0],
                                            kh[0], kw[0], index(rb, 0), sc.C, rows);
                    });
                for (auto [i, sum] : llvm::zip(run.pieces, summed))
                  partials[i] = sum;
              }
              SmallVector<Value> sums;
              for (auto [i, acc] : llvm::zip(range.reading, carried))
                sums.push_back(addTiles(hb, acc, partials[i]));
              return sums;
            });
        for (auto [i, acc] : llvm::zip(range.reading, rangeAccs))
          accs[i] = acc;
      }
      return accs;
    });
    for (auto [piece, acc] : llvm::zip(tile.pieces, accs)) {
      Value sum = vector::TransferReadOp::create(ob, loc, VectorType::get({piece.cols.size(), lc.fTile}, f32), acc,
                                                 ValueRange{index(ob, 0), index(ob, 0)}, zero,
                                                 ArrayRef<bool>{true, true});
      block = vector::TransferWriteOp::create(
                  ob, loc, sum, block, ValueRange{index(ob, piece.row), index(ob, piece.cols.begin), index(ob, 0)},
                  ArrayRef<bool>{true, true})
                  .getResult();
    }
    return block;
  }

  // forall (n, od, f-block, oh) over frame pairs or row pairs (filter blocks inner when the whole
  // filter stays in L2, as for row tiles): the tile is the part's columns of rows (od, oh) and
  // (od + 1, oh), or (od, oh) and (od, oh + 1), each in its edge pieces (or whole), all summed in
  // one pass over the taps and channels.
  Value emitPairItem(OpBuilder &ob, const LoopContext &lc, Value item, Value shared,
                     SmallVector<OpFoldResult> &offsets, SmallVector<OpFoldResult> &sizes) {
    const TileLoop &loop = lc.loop;
    const int64_t fTile = lc.fTile, fBlocks = loop.lanes.blocks();
    const int axis = loop.pairAxis();
    const bool filterInner = sc.filterInner;
    const int64_t frames = axis == 1 ? out[1] / 2 : out[1], rows = axis == 2 ? out[2] / 2 : out[2];
    SmallVector<int64_t> shape = filterInner ? SmallVector<int64_t>{out[0], frames, rows, fBlocks}
                                             : SmallVector<int64_t>{out[0], frames, fBlocks, rows};
    auto split = affine::AffineDelinearizeIndexOp::create(ob, loc, item, shape);
    Value n = split.getResult(0), od = times(ob, split.getResult(1), axis == 1 ? 2 : 1);
    Value oh = times(ob, split.getResult(filterInner ? 2 : 3), axis == 2 ? 2 : 1);
    Value fb = laneOf(ob, lc, split.getResult(filterInner ? 3 : 2));
    const int64_t width = loop.cols.columns;
    offsets = ofr({n, od, oh, index(ob, loop.cols.base), fb});
    sizes = attrs(ob, {1, axis == 1 ? 2 : 1, axis == 2 ? 2 : 1, width, fTile});
    auto pairType = RankedTensorType::get({2, width, fTile}, f32);
    Value pair = tensor::ExtractSliceOp::create(ob, loc, pairType, shared, offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
    auto frameOffsets = [&](OpBuilder &nb, int64_t member) {
      SmallVector<OpFoldResult> at(offsets);
      if (member > 0)
        at[axis] = arith::AddIOp::create(nb, loc, axis == 1 ? od : oh, index(nb, member)).getResult();
      return at;
    };
    if (epilogue)
      for (int64_t frame = 0; frame < 2; ++frame)
        vidnet::cpu::prefetchConvEpilogueInputs(ob, loc, *epilogue, width, fTile, frameOffsets(ob, frame));
    Value acc0 = pair;
    if (sc.fromZero) {
      Value zeros = arith::ConstantOp::create(ob, loc, DenseElementsAttr::get(rowsType(lc, width), 0.0f));
      for (int64_t frame = 0; frame < 2; ++frame)
        acc0 = writeRows(ob, zeros, acc0, ValueRange{index(ob, frame), index(ob, 0), index(ob, 0)});
    }
    const EdgeTile tile = loop.edgeBlocks.empty() ? wholeTile(width) : loop.edgeTiles.front();
    auto [kdLo, kdHi] = tapsFor(ob, 0, od);
    auto [khLo, khHi] = tapsFor(ob, 1, oh);
    if (axis == 2) // the taps either row reads: from the second's first to the first's end
      khLo = tapsFor(ob, 1, arith::AddIOp::create(ob, loc, oh, index(ob, 1))).first;
    Value result = loopNest(ob, loc, {kdLo, khLo}, {kdHi, khHi}, {1, 1}, acc0,
                            [&](OpBuilder &ib, ValueRange tap, Value acc) {
                              return addPairTapRow(ib, lc, tile, acc, n, od, oh, fb, tap[0], tap[1]);
                            });
    if (epilogue)
      for (int64_t frame = 0; frame < 2; ++frame)
        result = epilogueOnRow(ob, lc, result, frame, width, frameOffsets(ob, frame));
    return result;
  }

  // A pair tile += its products of tap row (kd, kh): each member's pieces summed over their runs
  // of taps along W and all channels, from zero, then added into the pair as vectors.
  Value addPairTapRow(OpBuilder &ib, const LoopContext &lc, const EdgeTile &tile, Value acc, Value n, Value od,
                      Value oh, Value fb, Value kd, Value kh) {
    const int64_t pieceCount = tile.pieces.size();
    // rows[frame * pieceCount + i]: piece i of the frame.
    SmallVector<Value> rows;
    for (int64_t frame = 0; frame < 2; ++frame)
      for (Rows piece : tile.pieces)
        rows.push_back(zeroTile(ib, lc, piece.size()));
    for (const EdgeTile::Run &run : tile.runs) {
      SmallVector<Rows> pieces;
      SmallVector<Value> partials;
      SmallVector<int64_t> members, at;
      for (int64_t member = 0; member < 2; ++member)
        for (int64_t i : run.pieces) {
          pieces.push_back(tile.pieces[i]);
          partials.push_back(rows[member * pieceCount + i]);
          members.push_back(member);
          at.push_back(member * pieceCount + i);
        }
      SmallVector<Value> summed = loopNestN(ib, loc, {index(ib, run.kwBegin)}, {index(ib, run.kwEnd)}, {1}, partials,
                                            [&](OpBuilder &rb, ValueRange kw, ValueRange partials) {
                                              return accumulateRows(rb, lc, pieces, partials, n, od, oh,
                                                                    index(rb, lc.loop.cols.base), fb, kd, kh, kw[0],
                                                                    index(rb, 0), sc.C, members);
                                            });
      for (auto [i, sum] : llvm::zip(at, summed))
        rows[i] = sum;
    }
    for (int64_t frame = 0; frame < 2; ++frame)
      for (auto [piece, row] : llvm::zip(tile.pieces, ArrayRef(rows).slice(frame * pieceCount, pieceCount))) {
        SmallVector<Value> where{index(ib, frame), index(ib, piece.begin), index(ib, 0)};
        Value sum = arith::AddFOp::create(ib, loc, readRows(ib, lc, acc, where, piece.size()),
                                          readRows(ib, lc, row, {index(ib, 0), index(ib, 0)}, piece.size()));
        acc = writeRows(ib, sum, acc, where);
      }
    return acc;
  }

  // forall (n, od, f-block, oh): row = out[n, od, oh, part's columns, f-block];
  //   for taps (kd, kh): for ow-block: row tile += its products of the tap row (kw x C).
  // Each filter block's rows are consecutive for one output frame, whose input frames (2.6 MB for
  // r3d_18's layer1) each block reads again from L3. With f-block above od, at batch 2 each thread
  // took one clip and streamed it from memory once per filter block: the stride-2 convs, which
  // read the most input per product, ran at 68-79% of the peak in the train step against 87% for
  // one clip (Zen 4, 2 threads).
  // Or, when the whole filter stays in L2, forall (n, od, oh, f-block): the rows of one output
  // position are consecutive and read the same input rows from L2 (3x1x1 convs read each input
  // row for one tap only, so with f-block outermost every f-block streamed the whole input again
  // from L3).
  // The tap rows are outside the row's tiles, so that one tap row's filter slice (kw x C x lanes:
  // 18 KB for torchvision r2plus1d_18's 1x3x3 64->144) serves all the row's tiles from L1, where
  // each tile read all its taps' slice (55 KB) from L2 before. The tiles' sums wait in the row (L1)
  // between tap rows and are added in the same order: the same bits.
  Value emitRowItem(OpBuilder &ob, const LoopContext &lc, Value item, Value shared, SmallVector<OpFoldResult> &offsets,
                    SmallVector<OpFoldResult> &sizes) {
    const TileLoop &loop = lc.loop;
    const vidnet::cpu::ColumnPart &cols = loop.cols;
    const int64_t fTile = lc.fTile, fBlocks = loop.lanes.blocks(), owTile = cols.rows, owBlocks = cols.blocks();
    Value n, fb, od, oh;
    if (sc.filterInner) {
      auto split =
          affine::AffineDelinearizeIndexOp::create(ob, loc, item, ArrayRef<int64_t>{out[0], out[1], out[2], fBlocks});
      n = split.getResult(0), od = split.getResult(1), oh = split.getResult(2);
      fb = laneOf(ob, lc, split.getResult(3));
    } else {
      auto split =
          affine::AffineDelinearizeIndexOp::create(ob, loc, item, ArrayRef<int64_t>{out[0], out[1], fBlocks, out[2]});
      n = split.getResult(0), od = split.getResult(1), fb = laneOf(ob, lc, split.getResult(2));
      oh = split.getResult(3);
    }
    offsets = ofr({n, od, oh, index(ob, cols.base), fb});
    sizes = attrs(ob, {1, 1, 1, cols.columns, fTile});
    // The output's own row (not a fresh tensor), so that bufferization writes the sums in place
    // instead of into a malloc'd scratch row per item.
    Value row = tensor::ExtractSliceOp::create(ob, loc, RankedTensorType::get({cols.columns, fTile}, f32), shared,
                                               offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
    // The residual's row is read from memory at the row's end, after all its products: asked for
    // at the start, it is in L2 by then. One clip on 1 thread, Zen 5: mc3_18's convs with a
    // residual add 3-9% faster, its forward 2.4%.
    if (epilogue)
      vidnet::cpu::prefetchConvEpilogueInputs(ob, loc, *epilogue, cols.columns, fTile, offsets);
    // Each tile starts from +0 (as the sums of the whole-tile loops did).
    if (sc.fromZero && !loop.writesSums) {
      Value zeros = arith::ConstantOp::create(ob, loc, DenseElementsAttr::get(rowsType(lc, owTile), 0.0f));
      row = loopOver(ob, {owBlocks}, {1}, row, [&](OpBuilder &nb, ValueRange block, Value acc) {
        return writeTile(nb, zeros, acc, times(nb, block[0], owTile));
      });
    }
    auto [kdLo, kdHi] = tapsFor(ob, 0, od);
    auto [khLo, khHi] = tapsFor(ob, 1, oh);
    Value result =
        loopNest(ob, loc, {kdLo, khLo}, {kdHi, khHi}, {1, 1}, row, [&](OpBuilder &ib, ValueRange tap, Value acc) {
          return loopOver(ib, {owBlocks}, {1}, acc, [&](OpBuilder &tb, ValueRange block, Value acc) -> Value {
            return addRowTapRow(tb, lc, acc, block[0], n, od, oh, fb, tap);
          });
        });
    if (epilogue)
      result = loopOver(ob, {owBlocks}, {1}, result, [&](OpBuilder &nb, ValueRange block, Value acc) -> Value {
        Value at = times(nb, block[0], owTile);
        auto tileTensor = RankedTensorType::get({owTile, fTile}, f32);
        SmallVector<OpFoldResult> where = ofr({at, index(nb, 0)}), size = attrs(nb, {owTile, fTile}),
                                  unit = attrs(nb, {1, 1});
        Value tile = tensor::ExtractSliceOp::create(nb, loc, tileTensor, acc, where, size, unit);
        SmallVector<OpFoldResult> tileOffsets(offsets);
        tileOffsets[3] = cols.base == 0 ? at : arith::AddIOp::create(nb, loc, at, index(nb, cols.base)).getResult();
        tile = vidnet::cpu::applyConvEpilogue(nb, loc, *epilogue, tile, tileOffsets);
        return tensor::InsertSliceOp::create(nb, loc, tile, acc, where, size, unit).getResult();
      });
    return result;
  }

  // Row tile `block` += its products of tap row `tap`: the whole tile, or, with edge blocks, an
  // scf.index_switch with one case per edge block; the others (or the last edge block, when every
  // block is one) are the default.
  Value addRowTapRow(OpBuilder &tb, const LoopContext &lc, Value acc, Value block, Value n, Value od, Value oh,
                     Value fb, ValueRange tap) {
    const TileLoop &loop = lc.loop;
    ArrayRef<int64_t> edgeBlocks = loop.edgeBlocks;
    const int64_t owBlocks = loop.cols.blocks();
    const EdgeTile whole = wholeTile(loop.cols.rows);
    if (edgeBlocks.empty())
      return addTileTapRow(tb, lc, acc, block, n, od, oh, fb, tap, whole);
    if (owBlocks == 1)
      return addTileTapRow(tb, lc, acc, block, n, od, oh, fb, tap, loop.edgeTiles.front());
    const bool allEdges = edgeBlocks.size() == static_cast<size_t>(owBlocks);
    ArrayRef<int64_t> cases = allEdges ? edgeBlocks.drop_back() : edgeBlocks;
    auto edges = scf::IndexSwitchOp::create(tb, loc, TypeRange{acc.getType()}, block, cases, cases.size());
    auto build = [&](Region &region, const EdgeTile &tile) {
      OpBuilder rb = OpBuilder::atBlockBegin(&region.emplaceBlock());
      scf::YieldOp::create(rb, loc, addTileTapRow(rb, lc, acc, block, n, od, oh, fb, tap, tile));
    };
    for (auto [edgeTile, region] : llvm::zip(loop.edgeTiles, edges.getCaseRegions()))
      build(region, edgeTile);
    build(edges.getDefaultRegion(), allEdges ? loop.edgeTiles.back() : whole);
    return edges.getResult(0);
  }

  // Row tile `block` += its products of tap row (kd, kh): each piece of its rows (the whole tile,
  // or an edge tile's pieces) summed over its runs of taps along W and all channels, then added
  // into the row as vectors (or written, where the tile's sum is the row's).
  Value addTileTapRow(OpBuilder &nb, const LoopContext &lc, Value acc, Value block, Value n, Value od, Value oh,
                      Value fb, ValueRange tap, const EdgeTile &tile) {
    const vidnet::cpu::ColumnPart &cols = lc.loop.cols;
    Value at = times(nb, block, cols.rows);
    Value owb = cols.base == 0 ? at : arith::AddIOp::create(nb, loc, at, index(nb, cols.base)).getResult();
    SmallVector<Value> rows;
    for (Rows piece : tile.pieces)
      rows.push_back(zeroTile(nb, lc, piece.size()));
    for (const EdgeTile::Run &run : tile.runs) {
      SmallVector<Rows> pieces;
      SmallVector<Value> partials;
      for (int64_t i : run.pieces)
        pieces.push_back(tile.pieces[i]), partials.push_back(rows[i]);
      SmallVector<Value> summed = loopNestN(nb, loc, {index(nb, run.kwBegin)}, {index(nb, run.kwEnd)}, {1}, partials,
                                            [&](OpBuilder &rb, ValueRange kw, ValueRange partials) {
                                              return accumulateRows(rb, lc, pieces, partials, n, od, oh, owb, fb,
                                                                    tap[0], tap[1], kw[0], index(rb, 0), sc.C);
                                            });
      for (auto [i, sum] : llvm::zip(run.pieces, summed))
        rows[i] = sum;
    }
    for (auto [piece, sum] : llvm::zip(tile.pieces, rows)) {
      Value where = piece.begin == 0 ? at : arith::AddIOp::create(nb, loc, at, index(nb, piece.begin)).getResult();
      Value tileSum = readTile(nb, lc, sum, index(nb, 0), piece.size());
      if (!lc.loop.writesSums)
        tileSum = arith::AddFOp::create(nb, loc, readTile(nb, lc, acc, where, piece.size()), tileSum);
      acc = writeTile(nb, tileSum, acc, where);
    }
    return acc;
  }

  // forall (clip group, f-block): block = out[clips, :, :, :, f-block]
  //   for taps, c-blocks: for clip, od, oh, ow-block: block tile += ... (cBlock channels)
  Value emitReductionOuterItem(OpBuilder &ob, const LoopContext &lc, Value item, Value shared,
                               SmallVector<OpFoldResult> &offsets, SmallVector<OpFoldResult> &sizes) {
    const TileLoop &loop = lc.loop;
    const int64_t clipsPerItem = loop.clipsPerItem, fTile = lc.fTile, paddedOW = sc.paddedOW;
    auto split = affine::AffineDelinearizeIndexOp::create(
        ob, loc, item, ArrayRef<int64_t>{out[0] / clipsPerItem, loop.lanes.blocks()});
    Value n0 = times(ob, split.getResult(0), clipsPerItem), fb = laneOf(ob, lc, split.getResult(1));
    offsets = ofr({n0, index(ob, 0), index(ob, 0), index(ob, 0), fb});
    sizes = attrs(ob, {clipsPerItem, out[1], out[2], paddedOW, fTile});
    auto blockType = RankedTensorType::get({clipsPerItem, out[1], out[2], paddedOW, fTile}, f32);
    Value block0 =
        tensor::ExtractSliceOp::create(ob, loc, blockType, shared, offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
    Value filterBuffer;
    if (loop.prefetchesFilter)
      filterBuffer = vidnet::cpu::readOnlyBuffer(ob, loc, w);
    return loopOver(
        ob, {k[0], k[1], k[2], sc.C}, {1, 1, 1, sc.cBlock}, block0, [&](OpBuilder &rb, ValueRange red, Value block) {
          if (filterBuffer)
            prefetchNextBlock(rb, filterBuffer, red, fb, fTile);
          auto [odLo, odHi] = outputsFor(rb, 0, red[0]);
          auto [ohLo, ohHi] = outputsFor(rb, 1, red[1]);
          return loopNest(rb, loc, {index(rb, 0), odLo, ohLo, index(rb, 0)},
                          {index(rb, clipsPerItem), odHi, ohHi, index(rb, paddedOW)}, {1, 1, 1, loop.cols.rows}, block,
                          [&](OpBuilder &tb, ValueRange pos, Value current) {
                            return addReductionBlock(tb, lc, current, arith::AddIOp::create(tb, loc, n0, pos[0]), pos,
                                                     fb, red);
                          });
        });
  }

  // The tile at `pos` of a reduction-outer block += its products in reduction block `red`: the
  // whole tile, or, for edge blocks, an scf.index_switch with one case per edge block and tap that
  // reads fewer rows: edge * kW + kw, where edge is the block's index in edgeBlocks, and
  // edgeBlocks.size() for the other blocks.
  Value addReductionBlock(OpBuilder &tb, const LoopContext &lc, Value current, Value n, ValueRange pos, Value fb,
                          ValueRange red) {
    const TileLoop &loop = lc.loop;
    const int64_t owTile = loop.cols.rows, fTile = lc.fTile;
    ArrayRef<int64_t> edgeBlocks = loop.edgeBlocks;
    // The tile's rows that read real columns += their products in this reduction block.
    auto addRows = [&](OpBuilder &cb, Rows rows) -> Value {
      if (rows.size() == 0)
        return current;
      Value column = pos[3];
      if (rows.begin != 0)
        column = arith::AddIOp::create(cb, loc, column, index(cb, rows.begin));
      SmallVector<OpFoldResult> at = ofr({pos[0], pos[1], pos[2], column, index(cb, 0)});
      SmallVector<OpFoldResult> tile = attrs(cb, {1, 1, 1, rows.size(), fTile});
      SmallVector<OpFoldResult> unit = attrs(cb, {1, 1, 1, 1, 1});
      Value acc = tensor::ExtractSliceOp::create(cb, loc, RankedTensorType::get({rows.size(), fTile}, f32), current,
                                                 at, tile, unit);
      Value partial = accumulateRows(cb, lc, {rows}, ValueRange{zeroTile(cb, lc, rows.size())}, n, pos[1], pos[2],
                                     pos[3], fb, red[0], red[1], red[2], red[3], sc.cBlock)[0];
      return tensor::InsertSliceOp::create(cb, loc, addTiles(cb, acc, partial), current, at, tile, unit).getResult();
    };
    if (edgeBlocks.empty())
      return addRows(tb, Rows{0, owTile});
    Value edge = index(tb, edgeBlocks.size());
    for (int64_t i = edgeBlocks.size() - 1; i >= 0; --i) {
      Value at = arith::CmpIOp::create(tb, loc, arith::CmpIPredicate::eq, pos[3], index(tb, edgeBlocks[i] * owTile));
      edge = arith::SelectOp::create(tb, loc, at, index(tb, i), edge);
    }
    Value which = arith::AddIOp::create(tb, loc, times(tb, edge, k[2]), red[2]);
    SmallVector<int64_t> cases;
    for (const TileLoop::EdgeCase &edgeCase : loop.edgeCases)
      cases.push_back(edgeCase.which);
    auto edges = scf::IndexSwitchOp::create(tb, loc, TypeRange{current.getType()}, which, cases, cases.size());
    for (auto [edgeCase, region] : llvm::zip(loop.edgeCases, edges.getCaseRegions())) {
      OpBuilder cb = OpBuilder::atBlockBegin(&region.emplaceBlock());
      scf::YieldOp::create(cb, loc, addRows(cb, edgeCase.rows));
    }
    OpBuilder cb = OpBuilder::atBlockBegin(&edges.getDefaultRegion().emplaceBlock());
    scf::YieldOp::create(cb, loc, addRows(cb, Rows{0, owTile}));
    return edges.getResult(0);
  }

  // --- The products (every kind's items). ---

  // accs[i] += the products of rows pieces[i] of the tile at one reduction range [c0, c0 + cCount)
  // of tap (kd, kh, kw), in steps of cTile: the only place a tile's products are summed. A piece's
  // output frame is od + members[i] (frame pairs) or its output row oh + members[i] (row pairs,
  // flat tiles).
  SmallVector<Value> accumulateRows(OpBuilder &nb, const LoopContext &lc, ArrayRef<Rows> pieces, ValueRange accs,
                                    Value n, Value od, Value oh, Value owb, Value fb, Value kd, Value kh, Value kw,
                                    Value c0, int64_t cCount, ArrayRef<int64_t> members = {}) {
    const TileLoop &loop = lc.loop;
    const int64_t cTile = sc.cTile, fTile = lc.fTile;
    const int memberAxis = loop.kind == TileKind::Flat ? 2 : loop.pairAxis();
    Value iw = arith::AddIOp::create(nb, loc, times(nb, owb, s[2]), kw);
    auto shifted = [&](Value o, int axis, int64_t i) -> Value {
      const int64_t by = members.empty() || memberAxis != axis ? 0 : members[i];
      return by == 0 ? o : arith::AddIOp::create(nb, loc, o, index(nb, by)).getResult();
    };
    SmallVector<Value> pieceColumns, pieceFrames, pieceRows;
    for (auto [i, piece] : llvm::enumerate(pieces)) {
      pieceColumns.push_back(
          piece.begin == 0 ? iw : arith::AddIOp::create(nb, loc, iw, index(nb, piece.begin * s[2])).getResult());
      pieceFrames.push_back(arith::AddIOp::create(nb, loc, times(nb, shifted(od, 1, i), s[0]), kd));
      pieceRows.push_back(arith::AddIOp::create(nb, loc, times(nb, shifted(oh, 2, i), s[1]), kh));
    }
    const bool prefetches = sc.prefetchesInput && !loop.pairAxis();
    Value inputBuffer;
    if (prefetches)
      inputBuffer = vidnet::cpu::readOnlyBuffer(nb, loc, x);
    scf::LoopNest channels = scf::buildLoopNest(
        nb, loc, ValueRange{c0}, ValueRange{arith::AddIOp::create(nb, loc, c0, index(nb, cCount)).getResult()},
        ValueRange{index(nb, cTile)}, accs,
        [&](OpBuilder &ib, Location il, ValueRange c, ValueRange accs) -> scf::ValueVector {
          SmallVector<Value> lhs;
          for (auto [piece, column, id, ih] : llvm::zip(pieces, pieceColumns, pieceFrames, pieceRows)) {
            lhs.push_back(tensor::ExtractSliceOp::create(
                ib, il, RankedTensorType::get({piece.size(), cTile}, f32), x, ofr({n, id, ih, column, c[0]}),
                attrs(ib, {1, 1, 1, piece.size(), cTile}), attrs(ib, {1, 1, 1, s[2], 1})));
            if (prefetches)
              prefetchNextTileInput(ib, inputBuffer, ValueRange{n, id, ih, column, c[0]}, piece.size(),
                                    loop.cols.rows);
          }
          Value rhs;
          if (sc.packed) {
            Value block = arith::DivUIOp::create(ib, il, fb, index(ib, fTile));
            Value packedD = sc.firstD == 0 ? kd : arith::SubIOp::create(ib, il, kd, index(ib, sc.firstD)).getResult();
            Value packedH = sc.firstH == 0 ? kh : arith::SubIOp::create(ib, il, kh, index(ib, sc.firstH)).getResult();
            rhs = tensor::ExtractSliceOp::create(ib, il, lc.rhsType, w,
                                                 ofr({block, packedD, packedH, kw, c[0], index(ib, 0)}),
                                                 attrs(ib, {1, 1, 1, 1, cTile, fTile}), attrs(ib, {1, 1, 1, 1, 1, 1}));
          } else {
            rhs = tensor::ExtractSliceOp::create(ib, il, lc.rhsType, w, ofr({kd, kh, kw, c[0], fb}),
                                                 attrs(ib, {1, 1, 1, cTile, fTile}), attrs(ib, {1, 1, 1, 1, 1}));
          }
          scf::ValueVector sums;
          for (auto [a, acc] : llvm::zip(lhs, accs))
            sums.push_back(
                linalg::MatmulOp::create(ib, il, TypeRange{acc.getType()}, ValueRange{a, rhs}, ValueRange{acc})
                    .getResult(0));
          return sums;
        });
    return channels.results;
  }

  // Tiles of 1x1 taps along H and W: each step of the reduction asks for the same channels of the
  // next tile along W (the columns `ahead` further on, or past the row's end the next row's first,
  // which is the next tile in memory), one prefetch into L1 per column. Where the next tile is past
  // the input's end the address is outside the buffer, which a prefetch may name: it never faults
  // and reads nothing.
  void prefetchNextTileInput(OpBuilder &nb, Value inputBuffer, ValueRange at, int64_t columns, int64_t ahead) {
    for (int64_t column = 0; column < columns; ++column) {
      SmallVector<Value> next(at);
      next[3] = arith::AddIOp::create(nb, loc, at[3], index(nb, (column + ahead) * s[2]));
      memref::PrefetchOp::create(nb, loc, inputBuffer, next, /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
    }
  }

  // Reduction-outer with few tiles per item (7x7 outputs): while one block of the reduction (cBlock
  // channels of one tap) runs over the item's tiles, the filter rows of the next block are
  // prefetched into L2. Each block is used by only a few tiles there, so the filter streams from
  // memory, one short row of lanes per F floats (2-4.6 KB apart), and the tiles waited on it:
  // torchvision r2plus1d_18's 1x3x3 512->1152 convs at 7x7 went from 49-52% to 56-60% of the peak
  // (1 thread, Zen 5). The next block is the next cBlock rows of the D x H x W x C filter, crossing
  // into the next tap at the end of C; past the last tap it is the last one again.
  void prefetchNextBlock(OpBuilder &nb, Value filterBuffer, ValueRange red, Value fb, int64_t lanes) {
    const int64_t taps = k[0] * k[1] * k[2], cBlock = sc.cBlock;
    Value tap = affine::AffineLinearizeIndexOp::create(nb, loc, ValueRange{red[0], red[1], red[2]},
                                                       ArrayRef<int64_t>{k[0], k[1], k[2]}, /*disjoint=*/true);
    Value nextC = arith::AddIOp::create(nb, loc, red[3], index(nb, cBlock));
    Value wraps = arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::eq, nextC, index(nb, sc.C));
    Value nextTap = arith::AddIOp::create(nb, loc, tap, arith::IndexCastOp::create(nb, loc, nb.getIndexType(), wraps));
    nextTap = minOf(nb, nextTap, index(nb, taps - 1));
    nextC = arith::SelectOp::create(nb, loc, wraps, index(nb, 0), nextC);
    auto at = affine::AffineDelinearizeIndexOp::create(nb, loc, nextTap, ArrayRef<int64_t>{k[0], k[1], k[2]});
    // Not for a tap whose rows no output reads (skipped along D or H, e.g. the outer temporal taps
    // of layer4's one output frame): those prefetches only took bandwidth from the real ones.
    auto [odLo, odHi] = outputsFor(nb, 0, at.getResult(0));
    auto [ohLo, ohHi] = outputsFor(nb, 1, at.getResult(1));
    Value read = arith::AndIOp::create(nb, loc, arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::slt, odLo, odHi),
                                       arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::slt, ohLo, ohHi));
    auto ifRead = scf::IfOp::create(nb, loc, read, /*withElseRegion=*/false);
    OpBuilder tb = ifRead.getThenBodyBuilder();
    scf::buildLoopNest(tb, loc, ValueRange{index(tb, 0)}, ValueRange{index(tb, cBlock)}, ValueRange{index(tb, 1)},
                       [&](OpBuilder &pb, Location pl, ValueRange i) {
                         Value c = arith::AddIOp::create(pb, pl, nextC, i[0]);
                         // 32 lanes are two 64-byte lines.
                         for (int64_t lane = 0; lane < lanes; lane += 16) {
                           Value f = lane == 0 ? fb : arith::AddIOp::create(pb, pl, fb, index(pb, lane)).getResult();
                           memref::PrefetchOp::create(pb, pl, filterBuffer,
                                                      ValueRange{at.getResult(0), at.getResult(1), at.getResult(2), c, f},
                                                      pb.getBoolAttr(false), pb.getI32IntegerAttr(2),
                                                      pb.getBoolAttr(true));
                         }
                       });
  }

  // The epilogue on row i (width x lanes) of a block of rows: a pair's two, a flat item's OH.
  Value epilogueOnRow(OpBuilder &nb, const LoopContext &lc, Value rows, int64_t i, int64_t width,
                      ArrayRef<OpFoldResult> rowOffsets) {
    SmallVector<OpFoldResult> at = attrs(nb, {i, 0, 0}), size = attrs(nb, {1, width, lc.fTile}),
                              unit = attrs(nb, {1, 1, 1});
    Value row =
        tensor::ExtractSliceOp::create(nb, loc, RankedTensorType::get({width, lc.fTile}, f32), rows, at, size, unit);
    row = vidnet::cpu::applyConvEpilogue(nb, loc, *epilogue, row, rowOffsets);
    return tensor::InsertSliceOp::create(nb, loc, row, rows, at, size, unit).getResult();
  }

  // --- IR helpers. ---

  Value index(OpBuilder &nb, int64_t v) { return arith::ConstantIndexOp::create(nb, loc, v); }
  static SmallVector<OpFoldResult> ofr(ArrayRef<Value> vs) { return SmallVector<OpFoldResult>(vs.begin(), vs.end()); }
  static SmallVector<OpFoldResult> attrs(OpBuilder &nb, ArrayRef<int64_t> vs) {
    return getAsIndexOpFoldResult(nb.getContext(), vs);
  }
  Value times(OpBuilder &nb, Value v, int64_t c) {
    return c == 1 ? v : arith::MulIOp::create(nb, loc, v, index(nb, c)).getResult();
  }
  Value maxOf(OpBuilder &nb, Value a, Value c) { return arith::MaxSIOp::create(nb, loc, a, c).getResult(); }
  Value minOf(OpBuilder &nb, Value a, Value c) { return arith::MinSIOp::create(nb, loc, a, c).getResult(); }
  Value loopOver(OpBuilder &nb, ArrayRef<int64_t> extents, ArrayRef<int64_t> steps, Value carried,
                 vidnet::cpu::LoopBody body) {
    SmallVector<Value> lbs, ubs;
    for (int64_t e : extents) {
      lbs.push_back(index(nb, 0));
      ubs.push_back(index(nb, e));
    }
    return loopNest(nb, loc, lbs, ubs, steps, carried, body);
  }
  // Along D and H the input is `low` zero rows, then `extent` real ones: products with the zero
  // rows are skipped (a whole tap per tile), as oneDNN does. Skipping them leaves every sum
  // bit-identical: a sum that starts at +0 is never -0, and adding a +-0 product changes no other
  // value. (r3d_18 at 8 frames: 19% of the nominal products; layer4's one output frame reads only
  // its middle temporal tap.)
  // The taps of axis i that read real rows for output o: [max(0, low - o*s), min(K, low + extent - o*s)).
  std::pair<Value, Value> tapsFor(OpBuilder &nb, int i, Value o) {
    if (!p.axes.padded[i])
      return {index(nb, 0), index(nb, k[i])};
    Value first = times(nb, o, s[i]);
    Value lo = arith::SubIOp::create(nb, loc, index(nb, p.axes.low[i]), first);
    Value hi = arith::SubIOp::create(nb, loc, index(nb, p.axes.low[i] + p.axes.extent[i]), first);
    return {maxOf(nb, index(nb, 0), lo), minOf(nb, index(nb, k[i]), hi)};
  }
  // The outputs of axis i whose tap t reads a real row:
  // [max(0, ceil((low - t) / s)), min(O, floor((low + extent - 1 - t) / s) + 1)).
  std::pair<Value, Value> outputsFor(OpBuilder &nb, int i, Value t) {
    if (!p.axes.padded[i])
      return {index(nb, 0), index(nb, out[i + 1])};
    Value lo = arith::SubIOp::create(nb, loc, index(nb, p.axes.low[i]), t);
    Value last = arith::SubIOp::create(nb, loc, index(nb, p.axes.low[i] + p.axes.extent[i] - 1), t);
    lo = arith::CeilDivSIOp::create(nb, loc, lo, index(nb, s[i]));
    Value hi = arith::AddIOp::create(nb, loc, arith::FloorDivSIOp::create(nb, loc, last, index(nb, s[i])), index(nb, 1));
    return {maxOf(nb, index(nb, 0), lo), minOf(nb, index(nb, out[i + 1]), hi)};
  }
  // The first lane of f-block `i` of the loop's lane part.
  Value laneOf(OpBuilder &nb, const LoopContext &lc, Value i) {
    Value lane = times(nb, i, lc.fTile);
    return lc.loop.lanes.base == 0 ? lane : arith::AddIOp::create(nb, loc, lane, index(nb, lc.loop.lanes.base)).getResult();
  }
  // Sums in two levels: each row of taps (kw x C products) or reduction block (cBlock channels of
  // one tap) into a tile that starts at zero, then that tile into the output tile. One float32
  // chain over all 27 x C products (oneDNN's direct conv) has about sqrt(27 x C / (kw x C + 9))
  // times its error: measured 2-5x the rms error of two levels against float64 for C = 64..512.
  // One add per accumulator per row costs about 1%.
  Value zeroTile(OpBuilder &nb, const LoopContext &lc, int64_t rows) {
    Value empty = tensor::EmptyOp::create(nb, loc, ArrayRef<int64_t>{rows, lc.fTile}, f32);
    return linalg::FillOp::create(nb, loc, ValueRange{zero}, ValueRange{empty}).getResult(0);
  }
  // In place: the loop that carries acc yields a value that bufferizes into acc's buffer.
  Value addTiles(OpBuilder &nb, Value acc, Value partial) {
    return linalg::AddOp::create(nb, loc, TypeRange{acc.getType()}, ValueRange{acc, partial}, ValueRange{acc})
        .getResult(0);
  }
  VectorType rowsType(const LoopContext &lc, int64_t rows) { return VectorType::get({rows, lc.fTile}, f32); }
  Value readRows(OpBuilder &nb, const LoopContext &lc, Value from, ValueRange at, int64_t rows) {
    return vector::TransferReadOp::create(nb, loc, rowsType(lc, rows), from, at, zero, ArrayRef<bool>{true, true});
  }
  Value writeRows(OpBuilder &nb, Value v, Value into, ValueRange at) {
    return vector::TransferWriteOp::create(nb, loc, v, into, at, ArrayRef<bool>{true, true}).getResult();
  }
  // Rows [at, at + rows) of a row tile, and their store.
  Value readTile(OpBuilder &nb, const LoopContext &lc, Value from, Value at, int64_t rows) {
    return vector::TransferReadOp::create(nb, loc, rowsType(lc, rows), from, ValueRange{at, index(nb, 0)}, zero,
                                          ArrayRef<bool>{true, true});
  }
  Value writeTile(OpBuilder &nb, Value v, Value into, Value at) {
    return vector::TransferWriteOp::create(nb, loc, v, into, ValueRange{at, index(nb, 0)}, ArrayRef<bool>{true, true})
        .getResult();
  }
  EdgeTile wholeTile(int64_t rows) {
    EdgeTile whole;
    whole.pieces = {Rows{0, rows}};
    whole.runs = {{0, k[2], {0}}};
    return whole;
  }
};

struct TileConvs : vidnet::cpu::impl::TileConvsBase<TileConvs> {
  using TileConvsBase::TileConvsBase;

  void runOnOperation() override {
    SmallVector<linalg::Conv3DNdhwcDhwcfOp> convs;
    getOperation().walk([&](linalg::Conv3DNdhwcDhwcfOp op) {
      if (op.hasPureTensorSemantics() &&
          llvm::all_of(op.getDilations().getValues<int64_t>(), [](int64_t d) { return d == 1; }))
        convs.push_back(op);
    });
    const VectorTarget regs = VectorTarget::forBits(vectorBits);
    for (linalg::Conv3DNdhwcDhwcfOp op : convs) {
      const ConvSchedule schedule = vidnet::cpu::chooseConvSchedule(convProblem(op), regs);
      // One write per line: the forward and train_step go through the pipeline at the same time.
      if (printSchedules)
        llvm::errs() << ("@" + getOperation().getSymName() + " " + profileInfo(op).kind + ": " +
                         vidnet::cpu::describe(schedule) + "\n")
                            .str();
      ConvEmitter(op, schedule).emit();
    }
  }
};

} // namespace
