// vidnet-cpu-pad-in-place: the producer of a zero-padded tensor writes straight into the interior of
// the padded tensor, and only the border is zeroed.
#include "compiler/targets/cpu/CpuPasses.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_PADINPLACE
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

// The init the op that produces `source` writes its result into, when that init is a
// tensor.empty: its contents are undefined, so any tensor of its shape may take its place.
OpOperand *emptyInitOf(Value source) {
  auto result = dyn_cast<OpResult>(source);
  if (!result)
    return nullptr;
  auto dps = dyn_cast<DestinationStyleOpInterface>(result.getOwner());
  if (!dps || !dps.hasPureTensorSemantics())
    return nullptr;
  OpOperand *init = dps.getTiedOpOperand(result);
  return init && init->get().getDefiningOp<tensor::EmptyOp>() ? init : nullptr;
}

struct PadInPlace : vidnet::cpu::impl::PadInPlaceBase<PadInPlace> {
  void runOnOperation() override {
    SmallVector<tensor::PadOp> pads;
    getOperation().walk([&](tensor::PadOp pad) { pads.push_back(pad); });
    for (tensor::PadOp pad : pads)
      rewrite(pad);
  }

  static void rewrite(tensor::PadOp pad) {
    Value zero = pad.getConstantPaddingValue();
    RankedTensorType type = pad.getResultType(), sourceType = pad.getSourceType();
    // +0 only: the border must hold the bits the pad would have.
    if (!zero || !matchPattern(zero, m_PosZeroFloat()) || !type.hasStaticShape() || !sourceType.hasStaticShape() ||
        ShapedType::isDynamicShape(pad.getStaticLow()) || ShapedType::isDynamicShape(pad.getStaticHigh()))
      return;
    OpOperand *init = emptyInitOf(pad.getSource());
    if (!init)
      return;
    Operation *producer = init->getOwner();
    ArrayRef<int64_t> low = pad.getStaticLow(), high = pad.getStaticHigh(), inner = sourceType.getShape(),
                      outer = type.getShape();
    const int64_t rank = type.getRank();

    OpBuilder b(producer);
    Location loc = pad.getLoc();
    auto attrs = [&](ArrayRef<int64_t> vs) {
      SmallVector<OpFoldResult> r;
      for (int64_t v : vs)
        r.push_back(b.getIndexAttr(v));
      return r;
    };
    SmallVector<int64_t> ones(rank, 1);
    Value fillValue = arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
    Value padded = tensor::EmptyOp::create(b, loc, outer, type.getElementType());
    // The border as disjoint slabs: along axis i, the low and the high rows, spanning the interior
    // of the axes before i and the whole of the axes after it.
    for (int64_t i = 0; i < rank; ++i)
      for (bool atHigh : {false, true}) {
        int64_t rows = atHigh ? high[i] : low[i];
        if (rows == 0)
          continue;
        SmallVector<int64_t> offsets(rank, 0), sizes(outer);
        for (int64_t j = 0; j < i; ++j) {
          offsets[j] = low[j];
          sizes[j] = inner[j];
        }
        offsets[i] = atHigh ? low[i] + inner[i] : 0;
        sizes[i] = rows;
        Value slab = tensor::ExtractSliceOp::create(b, loc, padded, attrs(offsets), attrs(sizes), attrs(ones));
        Value zeros = linalg::FillOp::create(b, loc, ValueRange{fillValue}, ValueRange{slab}).getResult(0);
        padded = tensor::InsertSliceOp::create(b, loc, zeros, padded, attrs(offsets), attrs(sizes), attrs(ones));
      }
    init->set(tensor::ExtractSliceOp::create(b, loc, padded, attrs(low), attrs(inner), attrs(ones)));
    b.setInsertionPointAfter(producer);
    Value source = pad.getSource();
    auto whole = tensor::InsertSliceOp::create(b, loc, source, padded, attrs(low), attrs(inner), attrs(ones));
    // The source's other readers (a residual add) read the interior of the padded tensor: read
    // from the source itself, after the insert_slice that one-shot bufferization counts as a
    // write into the same buffer, they would make it copy the producer's result out and back.
    Value interior = tensor::ExtractSliceOp::create(b, loc, whole, attrs(low), attrs(inner), attrs(ones));
    // (Erased only now: the builder's insertion point may be the pad itself.)
    pad.getResult().replaceAllUsesWith(whole.getResult());
    pad.erase();
    source.replaceAllUsesExcept(interior, whole);
  }
};

} // namespace
