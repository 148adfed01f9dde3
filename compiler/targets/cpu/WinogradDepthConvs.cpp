// vidnet-cpu-winograd-depth-convs: stride-1 convs of three taps along D -> Winograd F(2,3) along
// D in the forward, each output-depth pair's two rows from one set of register tiles.
#include "compiler/targets/cpu/ConvEpilogue.h"
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/LoopInfo.h"
#include "compiler/targets/cpu/LoopNests.h"
#include "compiler/targets/cpu/TileSizes.h"
#include "compiler/targets/cpu/WinogradF23.h"
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_WINOGRADDEPTHCONVS
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

using vidnet::cpu::loopNest;
using vidnet::cpu::VectorRegisters;
namespace winograd = vidnet::cpu::winograd;

struct Plan {
  int64_t fTile;                 // lanes per tile (a filter block)
  int64_t rows, tiles, tailRows; // output columns: `tiles` tiles of `rows`, then one of `tailRows` (0: none)
  int64_t lowH, realH;           // along H: zero rows, then real ones (the input's tensor.pad)
};

std::optional<Plan> planFor(linalg::Conv3DNdhwcDhwcfOp op, const VectorRegisters &regs) {
  if (!op.hasPureTensorSemantics())
    return std::nullopt;
  if (!llvm::all_of(op.getStrides().getValues<int64_t>(), [](int64_t s) { return s == 1; }) ||
      !llvm::all_of(op.getDilations().getValues<int64_t>(), [](int64_t d) { return d == 1; }))
    return std::nullopt;
  ArrayRef<int64_t> k = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
  ArrayRef<int64_t> out = cast<RankedTensorType>(op.getResultTypes()[0]).getShape();
  ArrayRef<int64_t> in = cast<RankedTensorType>(op.getInputs()[0].getType()).getShape();
  const int64_t C = k[3], F = k[4], OD = out[1], OW = out[3];
  // Taps along H and W: 3x1x1 convs read each phase row for one product per filter block, and
  // the transform's extra pass over memory outweighs the products saved ((2+1)D's temporal
  // convs of 288 and 576 channels in: 1.10-1.20x the direct conv's time with it, on a Zen 3).
  if (k[0] != 3 || k[1] * k[2] < 9 || OD % 2 != 0 || C % 8 != 0 || F % regs.lanes != 0 || !vidnet::isPositiveZeroFill(op.getOutputs()[0]))
    return std::nullopt;
  // The input is the D-padded one (one zero frame on each side), from a zero tensor.pad; any
  // padding along H and W.
  std::optional<winograd::ZeroPad> pad = winograd::staticZeroPad(op.getInputs()[0]);
  if (!pad)
    return std::nullopt;
  ArrayRef<int64_t> low = pad->low, high = pad->high, source = pad->source;
  if (low[0] != 0 || high[0] != 0 || low[4] != 0 || high[4] != 0 || low[1] != 1 || high[1] != 1 || source[1] != OD)
    return std::nullopt;
  Plan plan;
  plan.fTile = winograd::filterBlockLanes(F, k[1] * k[2], C, regs);
  if (plan.fTile == 0)
    return std::nullopt;
  // The phase rows of an output depth (4 phases x real rows along H x padded columns x C per
  // output-depth pair, half of it per depth): on AVX2 as few as vidnet-cpu-winograd-convs takes.
  // r3d_18's and mc3_18's layer1: 1.7 MB per depth, where F(2,3) along W reads 4.8 MB (each of
  // its taps along D reads its own rows).
  plan.lowH = low[2];
  plan.realH = source[2];
  if (regs.count < 32 && 4 * plan.realH * in[3] * C * 4 / 2 > winograd::kAvx2PhaseRowsPerDepthBytes)
    return std::nullopt;
  plan.rows = winograd::tileRows(OW, winograd::maxTileRows(plan.fTile, regs));
  plan.tiles = OW / plan.rows;
  plan.tailRows = OW % plan.rows;
  return plan;
}

void rewrite(linalg::Conv3DNdhwcDhwcfOp op, const Plan &plan) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value x = op.getInputs()[0], filter = op.getInputs()[1];
  auto xType = cast<RankedTensorType>(x.getType());
  ArrayRef<int64_t> in = xType.getShape();
  ArrayRef<int64_t> k = cast<RankedTensorType>(filter.getType()).getShape();
  ArrayRef<int64_t> out = cast<RankedTensorType>(op.getResultTypes()[0]).getShape();
  Type f32 = xType.getElementType();
  const int64_t C = k[3], F = k[4], OW = out[3], Q = out[1] / 2, fTile = plan.fTile, fBlocks = F / fTile;
  const int64_t cTile = vidnet::cpu::largestDivisorUpTo(C, 8);
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };

  std::optional<vidnet::cpu::ConvEpilogue> epilogue = vidnet::cpu::matchConvEpilogue(op->getResult(0));
  if (epilogue)
    b.setInsertionPoint(epilogue->op);
  vidnet::Emitter e(b, loc);

  const vidnet::cpu::LoopInfo info = [&] {
    std::optional<winograd::ZeroPad> pad = winograd::staticZeroPad(x);
    return winograd::describeWinogradConv(op, {1, pad->low[2], pad->low[3]},
                                          {pad->source[1], pad->source[2], pad->source[3]}, ", winograd along D");
  }();

  // The input transform: t_i[n, q, h, w, c] of the padded frames 2q .. 2q + 3, over the input's
  // real rows along H (the taps that would read its zero rows are skipped) and all its padded
  // columns, all four phases in one pass over the input.
  auto frame = [&](int64_t j) { return AffineMap::get(5, 0, {d(0), d(1) * 2 + j, d(2) + plan.lowH, d(3), d(4)}, ctx); };
  const SmallVector<Value, 4> t =
      winograd::transformInput(e, x, RankedTensorType::get({in[0], Q, plan.realH, in[3], C}, f32),
                               {frame(0), frame(1), frame(2), frame(3)}, info);

  // The filter transform, packed per filter block: g[block, i, kh, kw, c, lane].
  Value g = winograd::packFilterPhases(e, filter, fTile, /*axis=*/0, info.kind, info.shape);

  auto index = [&](OpBuilder &nb, int64_t v) -> Value { return arith::ConstantIndexOp::create(nb, loc, v); };
  auto attrs = [&](OpBuilder &nb, ArrayRef<int64_t> vs) { return getAsIndexOpFoldResult(nb.getContext(), vs); };
  auto ofr = [](ArrayRef<Value> vs) { return SmallVector<OpFoldResult>(vs.begin(), vs.end()); };
  auto add = [&](OpBuilder &nb, Value a, Value c) { return arith::AddIOp::create(nb, loc, a, c).getResult(); };
  // forall (n, q, oh, f-block): rows = out[n, 2q .. 2q + 1, oh, :, f-block], in tiles of output
  // columns; each tile sums its four phases one after the other (one phase's accumulators in
  // registers), each over the taps along H that read real rows (a partial per tap, from zero, as
  // the direct conv's tap rows), the taps along W and the channels; then the output transform
  // gives the tile of depth 2q and that of depth 2q + 1, each through the epilogue and stored.
  // The f-blocks innermost: an output row's f-blocks read its phase rows (4 x 3 rows x W x C,
  // 178 KB for layer1's convs) from L2 in turn (mc3_18's layer1 convs 0.93-0.99x the time of the
  // f-blocks outer, where each block read the phase rows of a whole depth pair from L3; two runs).
  Value init = tensor::EmptyOp::create(b, loc, out, f32);
  const int64_t items = out[0] * Q * fBlocks * out[2];
  auto forall = scf::ForallOp::create(b, vidnet::cpu::describeLoop(loc, info),
                                      ArrayRef<OpFoldResult>{b.getIndexAttr(items)}, ValueRange{init}, std::nullopt);
  {
    OpBuilder ob(forall.getTerminator());
    Value item = forall.getInductionVar(0), shared = forall.getRegionIterArgs()[0];
    auto split = affine::AffineDelinearizeIndexOp::create(ob, loc, item, ArrayRef<int64_t>{out[0], Q, out[2], fBlocks});
    Value n = split.getResult(0), q = split.getResult(1), block = split.getResult(3), oh = split.getResult(2);
    Value fb = arith::MulIOp::create(ob, loc, block, index(ob, fTile));
    Value od = arith::MulIOp::create(ob, loc, q, index(ob, 2));
    SmallVector<OpFoldResult> offsets = ofr({n, od, oh, index(ob, 0), fb}), sizes = attrs(ob, {1, 2, 1, OW, fTile});
    auto pairType = RankedTensorType::get({2, OW, fTile}, f32);
    Value rows = tensor::ExtractSliceOp::create(ob, loc, pairType, shared, offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
    // Each depth's row starts at its own offsets (the epilogue's other inputs are sliced there).
    SmallVector<SmallVector<OpFoldResult>> depthOffsets{offsets, offsets};
    depthOffsets[1][1] = add(ob, od, index(ob, 1));
    if (epilogue)
      for (const SmallVector<OpFoldResult> &depth : depthOffsets)
        vidnet::cpu::prefetchConvEpilogueInputs(ob, loc, *epilogue, OW, fTile, depth);
    auto [khLo, khHi] = winograd::realTapRange(ob, loc, plan.lowH, plan.realH, in[2], k[1], oh);

    // The tile of `count` columns from column w0 of both rows.
    auto tile = [&](OpBuilder &tb, Value w0, int64_t count, Value rows) -> Value {
      SmallVector<Value> m;
      for (int64_t phase = 0; phase < 4; ++phase)
        m.push_back(winograd::sumPhase(
            tb, loc, {khLo, khHi}, {index(tb, 0), index(tb, k[2])}, C, cTile, count, fTile,
            [&](OpBuilder &rb, Value kh, Value kw, Value c) -> std::pair<Value, Value> {
              Value ih = arith::SubIOp::create(rb, loc, add(rb, oh, kh), index(rb, plan.lowH));
              Value lhs = tensor::ExtractSliceOp::create(rb, loc, RankedTensorType::get({count, cTile}, f32), t[phase],
                                                         ofr({n, q, ih, add(rb, w0, kw), c}),
                                                         attrs(rb, {1, 1, 1, count, cTile}), attrs(rb, {1, 1, 1, 1, 1}));
              Value rhs = tensor::ExtractSliceOp::create(rb, loc, RankedTensorType::get({cTile, fTile}, f32), g,
                                                         ofr({block, index(rb, phase), kh, kw, c, index(rb, 0)}),
                                                         attrs(rb, {1, 1, 1, 1, cTile, fTile}),
                                                         attrs(rb, {1, 1, 1, 1, 1, 1}));
              return {lhs, rhs};
            }));
      auto [even, odd] = winograd::outputPair(tb, loc, m);
      Value ys[2] = {even, odd};
      for (int64_t depth = 0; depth < 2; ++depth) {
        SmallVector<OpFoldResult> tileOffsets(depthOffsets[depth]);
        tileOffsets[3] = w0;
        rows = winograd::storeTile(tb, loc, epilogue, ys[depth], rows, {index(tb, depth), w0, index(tb, 0)},
                                   tileOffsets);
      }
      return rows;
    };
    if (plan.tiles > 0)
      rows = loopNest(ob, loc, {index(ob, 0)}, {index(ob, plan.tiles * plan.rows)}, {plan.rows}, rows,
                      [&](OpBuilder &tb, ValueRange w0, Value rows) { return tile(tb, w0[0], plan.rows, rows); });
    if (plan.tailRows > 0)
      rows = tile(ob, index(ob, plan.tiles * plan.rows), plan.tailRows, rows);
    ob.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(ob, loc, rows, shared, offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
  }
  winograd::replaceConv(op, epilogue, forall.getResult(0));
}

struct WinogradDepthConvs : vidnet::cpu::impl::WinogradDepthConvsBase<WinogradDepthConvs> {
  using WinogradDepthConvsBase::WinogradDepthConvsBase;

  void runOnOperation() override {
    const VectorRegisters regs = VectorRegisters::forBits(vectorBits);
    // Not in the training step: its forward's convs stay direct so that rounding flips no more
    // ReLU decisions than before (see vidnet-cpu-winograd-convs), and its data gradients keep
    // the schedule whose step precision was measured.
    if (getOperation().getSymName() == "train_step")
      return;
    // Measured on AVX2 only (a Zen 3); AVX-512's F = 64 is one filter block, where
    // vidnet-cpu-winograd-convs already takes the 3x3x3 convs it gains on.
    if (regs.count >= 32)
      return;
    SmallVector<std::pair<linalg::Conv3DNdhwcDhwcfOp, Plan>> convs;
    getOperation().walk([&](linalg::Conv3DNdhwcDhwcfOp op) {
      if (std::optional<Plan> plan = planFor(op, regs))
        convs.push_back({op, *plan});
    });
    for (auto &[op, plan] : convs)
      rewrite(op, plan);
  }
};

} // namespace
