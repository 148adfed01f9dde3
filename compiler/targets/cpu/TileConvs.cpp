// vidnet-cpu-tile-convs: vidnet.conv -> loop nest of static, register-sized linalg.matmul tiles.
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/LoopInfo.h"
#include "compiler/targets/cpu/TileSizes.h"
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_TILECONVS
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

using vidnet::cpu::describeLoop;
using vidnet::cpu::largestDivisorUpTo;
using vidnet::cpu::roundUp;

struct TileConvs : vidnet::cpu::impl::TileConvsBase<TileConvs> {
  void runOnOperation() override {
    SmallVector<linalg::Conv3DNdhwcDhwcfOp> convs;
    getOperation().walk([&](linalg::Conv3DNdhwcDhwcfOp op) {
      if (op.hasPureTensorSemantics() && llvm::all_of(op.getDilations().getValues<int64_t>(),
                                                       [](int64_t d) { return d == 1; }))
        convs.push_back(op);
    });
    for (linalg::Conv3DNdhwcDhwcfOp op : convs)
      rewrite(op);
  }

  // The conv's input is already zero-padded (vidnet-lower-to-linalg); `extraW` more columns
  // are added on the right, folded into that tensor.pad where there is one.
  static Value padRight(OpBuilder &b, Location loc, Value input, int64_t extraW, Value zero) {
    if (extraW == 0)
      return input;
    Value source = input;
    SmallVector<OpFoldResult> low(5, b.getIndexAttr(0)), high(5, b.getIndexAttr(0));
    auto pad = input.getDefiningOp<tensor::PadOp>();
    if (pad && pad.getConstantPaddingValue() && matchPattern(pad.getConstantPaddingValue(), m_AnyZeroFloat())) {
      source = pad.getSource();
      low = pad.getMixedLowPad();
      high = pad.getMixedHighPad();
    }
    int64_t w = getConstantIntValue(high[3]).value_or(0);
    high[3] = b.getIndexAttr(w + extraW);
    auto type = cast<RankedTensorType>(input.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape[3] += extraW;
    return tensor::PadOp::create(b, loc, RankedTensorType::get(shape, type.getElementType()), source, low, high,
                                 zero);
  }

  // For `vidrun profile`: the conv's kind, the forward conv it belongs to, and its own flops.
  static vidnet::cpu::LoopInfo describe(linalg::Conv3DNdhwcDhwcfOp op) {
    ArrayRef<int64_t> k = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
    ArrayRef<int64_t> out = cast<RankedTensorType>(op.getResultTypes()[0]).getShape();
    SmallVector<int64_t> s(op.getStrides().getValues<int64_t>());
    vidnet::cpu::LoopInfo info;
    auto role = op->getAttrOfType<StringAttr>(vidnet::kConvRoleAttr);
    auto shape = op->getAttrOfType<StringAttr>(vidnet::kConvShapeAttr);
    info.kind = role ? role.str() : "conv";
    info.shape = shape ? shape.str() : vidnet::describeConv(k, s, out);
    info.flops = 2 * out[0] * out[1] * out[2] * out[3] * out[4] * k[0] * k[1] * k[2] * k[3];
    return info;
  }

  static void rewrite(linalg::Conv3DNdhwcDhwcfOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value input = op.getInputs()[0], filter = op.getInputs()[1];
    auto inType = cast<RankedTensorType>(input.getType());
    auto filterType = cast<RankedTensorType>(filter.getType());
    auto outType = cast<RankedTensorType>(op.getResultTypes()[0]);
    Type f32 = inType.getElementType();
    ArrayRef<int64_t> in = inType.getShape(), k = filterType.getShape(), out = outType.getShape();
    SmallVector<int64_t> s(op.getStrides().getValues<int64_t>());
    int64_t C = in[4], F = out[4], OW = out[3];

    // Static tiles: rows (output columns) and the reduction block are unrolled, so any size
    // works; the lanes (output channels) must be full vectors, so F is padded to 16.
    int64_t owTile = largestDivisorUpTo(OW, 8), paddedOW = OW;
    if (owTile < 4 && OW > 8) {
      owTile = 8;
      paddedOW = roundUp(OW, 8);
    }
    int64_t cTile = largestDivisorUpTo(C, 8);
    int64_t paddedF = roundUp(F, 16);
    int64_t fTile = paddedF % 32 == 0 ? 32 : 16;

    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    Value x = padRight(b, loc, input, std::max<int64_t>(0, (paddedOW - 1) * s[2] + k[2] - in[3]), zero);
    Value w = filter;
    if (paddedF != F) {
      SmallVector<OpFoldResult> low(5, b.getIndexAttr(0)), high(5, b.getIndexAttr(0));
      high[4] = b.getIndexAttr(paddedF - F);
      w = tensor::PadOp::create(b, loc, RankedTensorType::get({k[0], k[1], k[2], k[3], paddedF}, f32), filter, low,
                                high, zero);
    }
    // The conv accumulates onto its init (zeros from lower-to-linalg; kept general).
    Value init = op.getOutputs()[0];
    if (paddedOW != OW || paddedF != F) {
      SmallVector<OpFoldResult> low(5, b.getIndexAttr(0)), high(5, b.getIndexAttr(0));
      high[3] = b.getIndexAttr(paddedOW - OW);
      high[4] = b.getIndexAttr(paddedF - F);
      init = tensor::PadOp::create(b, loc, RankedTensorType::get({out[0], out[1], out[2], paddedOW, paddedF}, f32),
                                   init, low, high, zero);
    }

    auto index = [&](OpBuilder &nb, int64_t v) -> Value { return arith::ConstantIndexOp::create(nb, loc, v); };
    auto indices = [&](std::initializer_list<int64_t> values) {
      SmallVector<Value> r;
      for (int64_t v : values)
        r.push_back(index(b, v));
      return r;
    };
    auto ofr = [](ArrayRef<Value> vs) { return SmallVector<OpFoldResult>(vs.begin(), vs.end()); };
    auto attrs = [&](OpBuilder &nb, ArrayRef<int64_t> vs) {
      SmallVector<OpFoldResult> r;
      for (int64_t v : vs)
        r.push_back(nb.getIndexAttr(v));
      return r;
    };
    auto accType = RankedTensorType::get({owTile, fTile}, f32);
    auto lhsType = RankedTensorType::get({owTile, cTile}, f32);
    auto rhsType = RankedTensorType::get({cTile, fTile}, f32);

    // Every output tile is one work item of a single scf.forall, in the order the serial nest
    // had (n, f-block, od, oh, ow-block): vidnet-cpu-outline-parallel hands it to the runtime's
    // threads, each taking a contiguous range, so a thread's tiles share filter blocks and rows.
    // A tile's sums do not depend on which thread computes it: results are bit-identical for
    // any thread count.
    const int64_t fBlocks = paddedF / fTile, owBlocks = paddedOW / owTile;
    const int64_t items = out[0] * fBlocks * out[1] * out[2] * owBlocks;
    auto forall = scf::ForallOp::create(b, describeLoop(loc, describe(op)), ArrayRef<OpFoldResult>{b.getIndexAttr(items)},
                                        ValueRange{init}, std::nullopt);
    {
      OpBuilder ob(forall.getTerminator());
      Location l = loc;
      Value item = forall.getInductionVar(0), shared = forall.getRegionIterArgs()[0];
      auto split = affine::AffineDelinearizeIndexOp::create(
          ob, l, item, ArrayRef<int64_t>{out[0], fBlocks, out[1], out[2], owBlocks});
      auto times = [&](OpBuilder &nb, Value v, int64_t c) -> Value {
        return c == 1 ? v : arith::MulIOp::create(nb, l, v, index(nb, c)).getResult();
      };
      Value n = split.getResult(0), fb = times(ob, split.getResult(1), fTile), od = split.getResult(2),
            oh = split.getResult(3), owb = times(ob, split.getResult(4), owTile);
      SmallVector<OpFoldResult> outOffsets = ofr({n, od, oh, owb, fb});
      SmallVector<OpFoldResult> tileSizes = attrs(ob, {1, 1, 1, owTile, fTile});
      Value acc0 =
          tensor::ExtractSliceOp::create(ob, l, accType, shared, outOffsets, tileSizes, attrs(ob, {1, 1, 1, 1, 1}));
      auto zeroI = index(ob, 0), oneI = index(ob, 1);
      scf::LoopNest inner = scf::buildLoopNest(
          ob, l, ValueRange{zeroI, zeroI, zeroI, zeroI},
          ValueRange{index(ob, k[0]), index(ob, k[1]), index(ob, k[2]), index(ob, C)},
          ValueRange{oneI, oneI, oneI, index(ob, cTile)}, ValueRange{acc0},
          [&](OpBuilder &ib, Location il, ValueRange kivs, ValueRange accs) -> scf::ValueVector {
            Value id = arith::AddIOp::create(ib, il, times(ib, od, s[0]), kivs[0]);
            Value ih = arith::AddIOp::create(ib, il, times(ib, oh, s[1]), kivs[1]);
            Value iw = arith::AddIOp::create(ib, il, times(ib, owb, s[2]), kivs[2]);
            Value lhs =
                tensor::ExtractSliceOp::create(ib, il, lhsType, x, ofr({n, id, ih, iw, kivs[3]}),
                                               attrs(ib, {1, 1, 1, owTile, cTile}), attrs(ib, {1, 1, 1, s[2], 1}));
            Value rhs =
                tensor::ExtractSliceOp::create(ib, il, rhsType, w, ofr({kivs[0], kivs[1], kivs[2], kivs[3], fb}),
                                               attrs(ib, {1, 1, 1, cTile, fTile}), attrs(ib, {1, 1, 1, 1, 1}));
            return {linalg::MatmulOp::create(ib, il, TypeRange{accType}, ValueRange{lhs, rhs}, ValueRange{accs[0]})
                        .getResult(0)};
          });
      ob.setInsertionPointToStart(forall.getTerminator().getBody());
      tensor::ParallelInsertSliceOp::create(ob, l, inner.results[0], shared, outOffsets, tileSizes,
                                            attrs(ob, {1, 1, 1, 1, 1}));
    }
    Value result = forall.getResult(0);
    if (paddedOW != OW || paddedF != F)
      result = tensor::ExtractSliceOp::create(b, loc, outType, result, attrs(b, {0, 0, 0, 0, 0}), attrs(b, out),
                                              attrs(b, {1, 1, 1, 1, 1}));
    op->getResult(0).replaceAllUsesWith(result);
    op.erase();
  }
};

} // namespace
