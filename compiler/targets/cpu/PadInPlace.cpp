// vidnet-cpu-pad-in-place: the producer of a zero-padded tensor writes straight into the interior of
// the padded tensor, which is zero-filled with its interior marked (see vidnet-cpu-zero-borders).
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/PadInPlace.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_PADINPLACE
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

OpOperand *vidnet::cpu::emptyInitOf(Value source) {
  for (;;) {
    auto result = dyn_cast<OpResult>(source);
    if (!result)
      return nullptr;
    auto dps = dyn_cast<DestinationStyleOpInterface>(result.getOwner());
    if (!dps || !dps.hasPureTensorSemantics())
      return nullptr;
    OpOperand *init = dps.getTiedOpOperand(result);
    if (!init)
      return nullptr;
    if (init->get().getDefiningOp<tensor::EmptyOp>())
      return init;
    if (!init->get().hasOneUse())
      return nullptr;
    source = init->get();
  }
}

namespace {

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
    OpOperand *init = vidnet::cpu::emptyInitOf(pad.getSource());
    if (!init)
      return;
    Operation *producer = init->getOwner();
    ArrayRef<int64_t> low = pad.getStaticLow(), inner = sourceType.getShape(), outer = type.getShape();
    const SmallVector<int64_t> ones(type.getRank(), 1);

    OpBuilder b(producer);
    Location loc = pad.getLoc();
    auto attrs = [&](ArrayRef<int64_t> vs) { return getAsIndexOpFoldResult(b.getContext(), vs); };
    Value fillValue = arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
    Value padded = tensor::EmptyOp::create(b, loc, outer, type.getElementType());
    // Filled whole as far as bufferization can tell, the interior only after it (the producer
    // overwrites it): zeroing just the border here, as slabs of the tensor, made one-shot
    // bufferization's analysis 3x slower on r3d_18's training step.
    auto fill = linalg::FillOp::create(b, loc, ValueRange{fillValue}, ValueRange{padded});
    SmallVector<int64_t> marked(low);
    marked.append(inner.begin(), inner.end());
    fill->setAttr(vidnet::cpu::kInteriorAttr, b.getDenseI64ArrayAttr(marked));
    padded = fill.getResult(0);
    init->set(tensor::ExtractSliceOp::create(b, loc, padded, attrs(low), attrs(inner), attrs(ones)));
    Value source = pad.getSource();
    b.setInsertionPointAfter(source.getDefiningOp());
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
