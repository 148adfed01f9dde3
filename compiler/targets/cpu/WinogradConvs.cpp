// vidnet-cpu-winograd-convs: stride-1 convs of three taps along W -> Winograd F(2,3) along W, the
// output transform and the fused epilogue applied to each register tile.
#include "compiler/targets/cpu/ConvEpilogue.h"
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/LoopInfo.h"
#include "compiler/targets/cpu/LoopNests.h"
#include "compiler/targets/cpu/TileSizes.h"
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_WINOGRADCONVS
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

using vidnet::cpu::loopNest;
using vidnet::cpu::VectorRegisters;

// A tile's four phase slices of the transformed filter (taps along D and H x C x lanes each)
// stream from L2 once per tile, as the direct convs' packed slices do (their bound).
constexpr int64_t kPhaseSlicesL2Bytes = 640 * 1024;
// On AVX2 a filter block is 16 or 24 lanes, so an output depth's f-blocks take turns reading the
// same phase rows (taps along D x 4 phases x OH x OW/2 x C), each block all of them again (on
// AVX-512 F = 64 is one block). Measured on a Zen 3 (512 KB L2, 32 MB L3), against the direct
// convs, forward, calls in turns: 1.2-2.4 MB of rows per output depth 0.76-0.96x the time
// (r3d_18's layers 2-3, mc3_18's and r2plus1d_18's 1x3x3 convs), 4.8 MB 1.4-1.6x (the 3x3x3
// 64->64 convs of r3d_18's and mc3_18's layer1, even with the f-blocks innermost: 1.0-1.09x).
constexpr int64_t kAvx2PhaseRowsPerDepthBytes = 3 * 1024 * 1024;

// F(2,3) along W: the outputs y[2p] and y[2p + 1] of three taps w0..w2 over x[2p - 1 .. 2p + 2]
// (x padded by one column on each side, here d0..d3) are
//   y[2p] = m0 + m1 + m2, y[2p + 1] = m1 - m2 - m3,  m_i = sum over taps along D, H and channels of t_i g_i,
//   t = (d0 - d2, d1 + d2, d2 - d1, d1 - d3),  g = (w0, (w0 + w1 + w2) / 2, (w0 - w1 + w2) / 2, w2).
// Four products per output pair where the direct conv has six. Each phase is a sum of 3x fewer
// terms than a direct output's: measured against float64 (C = 64, 3x3x3, ReLU'd inputs), its
// rms error 1.76e-7 against 1.87e-7 for the direct conv's tap-row sums.
struct PhaseInput {
  int64_t first, second; // the two padded columns 2p + j it combines
  bool sum;              // d_first + d_second, else d_first - d_second
};
constexpr PhaseInput kPhaseInputs[4] = {{0, 2, false}, {1, 2, true}, {2, 1, false}, {1, 3, false}};

struct Plan {
  int64_t fTile;                // lanes per tile (a filter block)
  int64_t rows, tiles, tailRows; // output pairs: `tiles` tiles of `rows`, then one of `tailRows` (0: none)
  int64_t low[2], extent[2];    // along D and H: zero rows, then real ones (the input's tensor.pad)
};

// Pairs per tile: as few tiles as `maxRows` allows, and of those splits the one with the largest
// last tile (14 pairs as 5 + 5 + 4, not 6 + 6 + 2: a tile of r pairs keeps r x vectors FMA chains).
int64_t pairTileRows(int64_t pairs, int64_t maxRows) {
  maxRows = std::min(maxRows, pairs);
  auto last = [&](int64_t rows) { return pairs % rows == 0 ? rows : pairs % rows; };
  int64_t best = maxRows;
  for (int64_t rows = maxRows - 1; rows >= (maxRows + 1) / 2; --rows)
    if (llvm::divideCeil(pairs, rows) < llvm::divideCeil(pairs, best) ||
        (llvm::divideCeil(pairs, rows) == llvm::divideCeil(pairs, best) && last(rows) > last(best)))
      best = rows;
  return best;
}

std::optional<Plan> planFor(linalg::Conv3DNdhwcDhwcfOp op, const VectorRegisters &regs) {
  if (!op.hasPureTensorSemantics())
    return std::nullopt;
  if (!llvm::all_of(op.getStrides().getValues<int64_t>(), [](int64_t s) { return s == 1; }) ||
      !llvm::all_of(op.getDilations().getValues<int64_t>(), [](int64_t d) { return d == 1; }))
    return std::nullopt;
  ArrayRef<int64_t> k = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
  ArrayRef<int64_t> out = cast<RankedTensorType>(op.getResultTypes()[0]).getShape();
  const int64_t C = k[3], F = k[4], OW = out[3];
  if (k[2] != 3 || OW % 2 != 0 || OW < 4 || C % 8 != 0 || F % regs.lanes != 0 ||
      !vidnet::isPositiveZeroFill(op.getOutputs()[0]))
    return std::nullopt;
  // The input is the W-padded one (one zero column on each side), from a zero tensor.pad.
  auto pad = op.getInputs()[0].getDefiningOp<tensor::PadOp>();
  if (!pad || !pad.getConstantPaddingValue() || !matchPattern(pad.getConstantPaddingValue(), m_AnyZeroFloat()) ||
      !pad.getSourceType().hasStaticShape())
    return std::nullopt;
  ArrayRef<int64_t> low = pad.getStaticLow(), high = pad.getStaticHigh(), source = pad.getSourceType().getShape();
  if (llvm::any_of(low, ShapedType::isDynamic) || llvm::any_of(high, ShapedType::isDynamic) || low[0] != 0 ||
      high[0] != 0 || low[4] != 0 || high[4] != 0 || low[3] != 1 || high[3] != 1 || source[3] != OW)
    return std::nullopt;
  Plan plan;
  const int64_t taps = k[0] * k[1];
  auto fits = [&](int64_t lanes) { return F % lanes == 0 && 4 * taps * C * lanes * 4 <= kPhaseSlicesL2Bytes; };
  // Blocks of four, three or two vectors of lanes, the widest that divides F and fits
  // (torchvision r2plus1d_18's mid channels 144, 288 and 576 in blocks of three).
  // On AVX2's 16 registers blocks of four vectors would leave 2 x 4 accumulators: three or two
  // (4 x 3 or 6 x 2, as its direct tiles).
  const SmallVector<int64_t, 3> widths =
      regs.count >= 32 ? SmallVector<int64_t, 3>{4, 3, 2} : SmallVector<int64_t, 3>{3, 2};
  plan.fTile = 0;
  for (int64_t vectors : widths)
    if (fits(vectors * regs.lanes)) {
      plan.fTile = vectors * regs.lanes;
      break;
    }
  if (plan.fTile == 0)
    return std::nullopt;
  if (regs.count < 32 && k[0] * 4 * out[2] * (OW / 2) * C * 4 > kAvx2PhaseRowsPerDepthBytes)
    return std::nullopt;
  // Accumulators of one phase, the filter's vectors and a broadcast: 6 x 4 + 4 + 1, 8 x 3 + 3 + 1
  // or 8 x 2 + 2 + 1 of 32; on AVX2 4 x 3 + 3 + 1 or 6 x 2 + 2 + 1 of 16.
  const int64_t vectors = plan.fTile / regs.lanes;
  const int64_t maxRows = std::min<int64_t>(8, (regs.count - vectors - 1) / vectors);
  plan.rows = pairTileRows(OW / 2, maxRows);
  plan.tiles = (OW / 2) / plan.rows;
  plan.tailRows = (OW / 2) % plan.rows;
  for (int i = 0; i < 2; ++i) {
    plan.low[i] = low[i + 1];
    plan.extent[i] = source[i + 1];
  }
  return plan;
}

void rewrite(linalg::Conv3DNdhwcDhwcfOp op, const Plan &plan) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value x = op.getInputs()[0], filter = op.getInputs()[1];
  auto xType = cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> in = xType.getShape();
  ArrayRef<int64_t> k = cast<RankedTensorType>(filter.getType()).getShape();
  auto outType = cast<RankedTensorType>(op.getResultTypes()[0]);
  ArrayRef<int64_t> out = outType.getShape();
  Type f32 = xType.getElementType();
  const int64_t C = k[3], F = k[4], OW = out[3], P = OW / 2, fTile = plan.fTile, fBlocks = F / fTile;
  const int64_t cTile = vidnet::cpu::largestDivisorUpTo(C, 8);
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };

  std::optional<vidnet::cpu::ConvEpilogue> epilogue = vidnet::cpu::matchConvEpilogue(op->getResult(0));
  if (epilogue)
    b.setInsertionPoint(epilogue->op);
  vidnet::Emitter e(b, loc);

  // For `vidrun profile`: the conv as the direct one counts it (its products that read real
  // rows, its least traffic), so that its GFLOP/s compare with the direct convs' and the peers'.
  vidnet::cpu::LoopInfo info;
  {
    auto role = op->getAttrOfType<StringAttr>(vidnet::kConvRoleAttr);
    auto shape = op->getAttrOfType<StringAttr>(vidnet::kConvShapeAttr);
    SmallVector<int64_t> s(3, 1), lows{plan.low[0], plan.low[1], 1}, extents{plan.extent[0], plan.extent[1], OW};
    info.kind = role ? role.str() : "conv";
    info.shape = (shape ? shape.str() : vidnet::describeConv(k, s, out)) + ", winograd";
    info.flops = vidnet::cpu::convFlops(k, s, out, lows, extents);
    info.bytes = vidnet::cpu::convTrafficBytes(k, s, out, lows, extents, /*wholeFilter=*/false);
  }

  // The input transform: t_i[n, d, h, p, c] over the input's real rows along D and H (the taps
  // that would read its zero rows are skipped), all four phases in one pass over the input.
  const int64_t realD = plan.extent[0], realH = plan.extent[1];
  auto tType = RankedTensorType::get({in[0], realD, realH, P, C}, f32);
  SmallVector<Value> t;
  {
    auto column = [&](int64_t j) {
      return AffineMap::get(5, 0, {d(0), d(1) + plan.low[0], d(2) + plan.low[1], d(3) * 2 + j, d(4)}, ctx);
    };
    SmallVector<AffineMap> maps{column(0), column(1), column(2), column(3)};
    SmallVector<Value> inits;
    for (int i = 0; i < 4; ++i) {
      maps.push_back(b.getMultiDimIdentityMap(5));
      inits.push_back(e.empty(tType));
    }
    auto transform = linalg::GenericOp::create(
        b, loc, SmallVector<Type>(4, tType), ValueRange{x, x, x, x}, inits, maps,
        SmallVector<utils::IteratorType>(5, utils::IteratorType::parallel),
        [](OpBuilder &nb, Location l, ValueRange a) {
          SmallVector<Value> phases;
          for (const PhaseInput &phase : kPhaseInputs)
            phases.push_back(phase.sum ? arith::AddFOp::create(nb, l, a[phase.first], a[phase.second]).getResult()
                                       : arith::SubFOp::create(nb, l, a[phase.first], a[phase.second]).getResult());
          linalg::YieldOp::create(nb, l, phases);
        });
    vidnet::cpu::LoopInfo tInfo;
    tInfo.kind = "winograd input transform";
    tInfo.shape = info.shape;
    tInfo.bytes = (xType.getNumElements() + 4 * tType.getNumElements()) * 4;
    transform->setLoc(vidnet::cpu::describeLoop(loc, tInfo));
    t.append(transform.getResults().begin(), transform.getResults().end());
  }

  // The filter transform, packed per filter block: g[block, i, kd, kh, c, lane] (a weight pack,
  // which vidnet-cpu-hoist-weight-packing moves out of the forward).
  auto gType = RankedTensorType::get({fBlocks, 4, k[0], k[1], C, fTile}, f32);
  Value g;
  {
    auto tap = [&](int64_t j) {
      return AffineMap::get(6, 0, {d(2), d(3), getAffineConstantExpr(j, ctx), d(4), d(0) * fTile + d(5)}, ctx);
    };
    g = e.generic(gType, ValueRange{filter, filter, filter}, e.empty(gType),
                  {tap(0), tap(1), tap(2), b.getMultiDimIdentityMap(6)},
                  SmallVector<utils::IteratorType>(6, utils::IteratorType::parallel),
                  [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                    Value phase = linalg::IndexOp::create(nb, l, 1);
                    Value half = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.5f));
                    Value outer = arith::AddFOp::create(nb, l, arith::AddFOp::create(nb, l, a[0], a[1]), a[2]);
                    Value alternating = arith::AddFOp::create(nb, l, arith::SubFOp::create(nb, l, a[0], a[1]), a[2]);
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
    g.getDefiningOp()->setAttr(vidnet::cpu::kWeightPackAttr, b.getUnitAttr());
    vidnet::cpu::LoopInfo gInfo;
    gInfo.kind = info.kind == "conv data gradient" ? "sub-filter packing" : "filter packing";
    gInfo.shape = info.shape;
    gInfo.bytes = (cast<RankedTensorType>(filter.getType()).getNumElements() + gType.getNumElements()) * 4;
    g.getDefiningOp()->setLoc(vidnet::cpu::describeLoop(loc, gInfo));
  }

  auto index = [&](OpBuilder &nb, int64_t v) -> Value { return arith::ConstantIndexOp::create(nb, loc, v); };
  auto attrs = [&](OpBuilder &nb, ArrayRef<int64_t> vs) { return getAsIndexOpFoldResult(nb.getContext(), vs); };
  auto ofr = [](ArrayRef<Value> vs) { return SmallVector<OpFoldResult>(vs.begin(), vs.end()); };
  auto add = [&](OpBuilder &nb, Value a, Value c) { return arith::AddIOp::create(nb, loc, a, c).getResult(); };
  // The taps of axis i (D or H) that read real rows for output o.
  auto tapsFor = [&](OpBuilder &nb, int i, Value o) -> std::pair<Value, Value> {
    if (plan.low[i] == 0 && plan.extent[i] == in[i + 1])
      return {index(nb, 0), index(nb, k[i])};
    Value lo = arith::SubIOp::create(nb, loc, index(nb, plan.low[i]), o);
    Value hi = arith::SubIOp::create(nb, loc, index(nb, plan.low[i] + plan.extent[i]), o);
    return {arith::MaxSIOp::create(nb, loc, index(nb, 0), lo), arith::MinSIOp::create(nb, loc, index(nb, k[i]), hi)};
  };
  auto zeroTile = [&](OpBuilder &nb, int64_t rows) {
    return vidnet::Emitter(nb, loc).filled(RankedTensorType::get({rows, fTile}, f32), 0.0);
  };

  // forall (n, od, f-block, oh): row = out[n, od, oh, :, f-block], in tiles of output pairs;
  // each tile sums its four phases one after the other (one phase's accumulators in registers),
  // each over the taps along D (a partial per tap, from zero, as the direct conv's tap rows),
  // H and the channels; then the output transform and the epilogue, and the store.
  Value init = tensor::EmptyOp::create(b, loc, out, f32);
  const int64_t items = out[0] * out[1] * fBlocks * out[2];
  auto forall = scf::ForallOp::create(b, vidnet::cpu::describeLoop(loc, info),
                                      ArrayRef<OpFoldResult>{b.getIndexAttr(items)}, ValueRange{init}, std::nullopt);
  {
    OpBuilder ob(forall.getTerminator());
    Value item = forall.getInductionVar(0), shared = forall.getRegionIterArgs()[0];
    auto split =
        affine::AffineDelinearizeIndexOp::create(ob, loc, item, ArrayRef<int64_t>{out[0], out[1], fBlocks, out[2]});
    Value n = split.getResult(0), od = split.getResult(1), block = split.getResult(2), oh = split.getResult(3);
    Value fb = arith::MulIOp::create(ob, loc, block, index(ob, fTile));
    SmallVector<OpFoldResult> offsets = ofr({n, od, oh, index(ob, 0), fb}), sizes = attrs(ob, {1, 1, 1, OW, fTile});
    Value row = tensor::ExtractSliceOp::create(ob, loc, RankedTensorType::get({OW, fTile}, f32), shared, offsets,
                                               sizes, attrs(ob, {1, 1, 1, 1, 1}));
    if (epilogue)
      vidnet::cpu::prefetchConvEpilogueInputs(ob, loc, *epilogue, OW, fTile, offsets);
    auto [kdLo, kdHi] = tapsFor(ob, 0, od);
    auto [khLo, khHi] = tapsFor(ob, 1, oh);
    Value zero = arith::ConstantOp::create(ob, loc, ob.getF32FloatAttr(0.0f));

    // The tile of `rows` pairs from pair p0 into `row`.
    auto tile = [&](OpBuilder &tb, Value p0, int64_t rows, Value row) -> Value {
      auto tileVector = VectorType::get({rows, fTile}, f32);
      SmallVector<Value> m;
      for (int64_t phase = 0; phase < 4; ++phase) {
        Value acc =
            loopNest(tb, loc, {kdLo}, {kdHi}, {1}, zeroTile(tb, rows), [&](OpBuilder &db, ValueRange kd, Value acc) {
              Value partial = loopNest(
                  db, loc, {khLo, index(db, 0)}, {khHi, index(db, C)}, {1, cTile}, zeroTile(db, rows),
                  [&](OpBuilder &rb, ValueRange tap, Value partial) -> Value {
                    Value id = arith::SubIOp::create(rb, loc, add(rb, od, kd[0]), index(rb, plan.low[0]));
                    Value ih = arith::SubIOp::create(rb, loc, add(rb, oh, tap[0]), index(rb, plan.low[1]));
                    Value lhs = tensor::ExtractSliceOp::create(
                        rb, loc, RankedTensorType::get({rows, cTile}, f32), t[phase], ofr({n, id, ih, p0, tap[1]}),
                        attrs(rb, {1, 1, 1, rows, cTile}), attrs(rb, {1, 1, 1, 1, 1}));
                    Value rhs = tensor::ExtractSliceOp::create(
                        rb, loc, RankedTensorType::get({cTile, fTile}, f32), g,
                        ofr({block, index(rb, phase), kd[0], tap[0], tap[1], index(rb, 0)}),
                        attrs(rb, {1, 1, 1, 1, cTile, fTile}), attrs(rb, {1, 1, 1, 1, 1, 1}));
                    return linalg::MatmulOp::create(rb, loc, TypeRange{partial.getType()}, ValueRange{lhs, rhs},
                                                    ValueRange{partial})
                        .getResult(0);
                  });
              return linalg::AddOp::create(db, loc, TypeRange{acc.getType()}, ValueRange{acc, partial}, ValueRange{acc})
                  .getResult(0);
            });
        m.push_back(vector::TransferReadOp::create(tb, loc, tileVector, acc, ValueRange{index(tb, 0), index(tb, 0)},
                                                   zero, ArrayRef<bool>{true, true}));
      }
      Value even = arith::AddFOp::create(tb, loc, arith::AddFOp::create(tb, loc, m[0], m[1]), m[2]);
      Value odd = arith::SubFOp::create(tb, loc, arith::SubFOp::create(tb, loc, m[1], m[2]), m[3]);
      // Rows 2p and 2p + 1 of the tile: even row p, odd row p.
      SmallVector<int64_t> interleave;
      for (int64_t p = 0; p < rows; ++p)
        interleave.append({p, rows + p});
      Value y = vector::ShuffleOp::create(tb, loc, even, odd, interleave);
      Value column = arith::MulIOp::create(tb, loc, p0, index(tb, 2));
      if (!epilogue)
        return vector::TransferWriteOp::create(tb, loc, y, row, ValueRange{column, index(tb, 0)},
                                               ArrayRef<bool>{true, true})
            .getResult();
      // The epilogue on the tile in registers, as tile-convs' tiles do.
      auto tileTensor = RankedTensorType::get({2 * rows, fTile}, f32);
      Value sums = vector::TransferWriteOp::create(tb, loc, y, tensor::EmptyOp::create(tb, loc, tileTensor.getShape(), f32),
                                                   ValueRange{index(tb, 0), index(tb, 0)}, ArrayRef<bool>{true, true})
                       .getResult();
      SmallVector<OpFoldResult> tileOffsets(offsets);
      tileOffsets[3] = column;
      sums = vidnet::cpu::applyConvEpilogue(tb, loc, *epilogue, sums, tileOffsets);
      return tensor::InsertSliceOp::create(tb, loc, sums, row, ofr({column, index(tb, 0)}),
                                           attrs(tb, {2 * rows, fTile}), attrs(tb, {1, 1}))
          .getResult();
    };
    if (plan.tiles > 0)
      row = loopNest(ob, loc, {index(ob, 0)}, {index(ob, plan.tiles * plan.rows)}, {plan.rows}, row,
                     [&](OpBuilder &tb, ValueRange p0, Value row) { return tile(tb, p0[0], plan.rows, row); });
    if (plan.tailRows > 0)
      row = tile(ob, index(ob, plan.tiles * plan.rows), plan.tailRows, row);
    ob.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(ob, loc, row, shared, offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
  }
  Value result = forall.getResult(0);
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

struct WinogradConvs : vidnet::cpu::impl::WinogradConvsBase<WinogradConvs> {
  using WinogradConvsBase::WinogradConvsBase;

  void runOnOperation() override {
    const VectorRegisters regs = VectorRegisters::forBits(vectorBits);
    // In the training step only the data gradients: its forward's convs stay direct, because a
    // ReLU input that rounding puts on the other side of zero changes the step (the precision
    // bench's measure). With ReLU'd inputs F(2,3)'s absolute error is 1.46x the direct sums'
    // (rms against float64, C = 64, 3x3x3), and with the step's forward convs in F(2,3) r3d_18's
    // step agreed with float64 PyTorch's ReLU decisions on 9 of seeds 1-22 against 15 with direct
    // convs. A data gradient's error only adds rounding to the gradients of the layers below.
    const bool training = getOperation().getSymName() == "train_step";
    SmallVector<std::pair<linalg::Conv3DNdhwcDhwcfOp, Plan>> convs;
    getOperation().walk([&](linalg::Conv3DNdhwcDhwcfOp op) {
      auto role = op->getAttrOfType<StringAttr>(vidnet::kConvRoleAttr);
      if (training && (!role || role.getValue() != "conv data gradient"))
        return;
      if (std::optional<Plan> plan = planFor(op, regs))
        convs.push_back({op, *plan});
    });
    for (auto &[op, plan] : convs)
      rewrite(op, plan);
  }
};

} // namespace
