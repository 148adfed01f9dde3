// vidnet-cpu-zero-borders: a buffer fill whose interior is overwritten afterwards (marked by
// vidnet-cpu-pad-in-place) -> fills of the border only.
#include "compiler/targets/cpu/CpuPasses.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_ZEROBORDERS
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

struct ZeroBorders : vidnet::cpu::impl::ZeroBordersBase<ZeroBorders> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill->hasAttr(vidnet::cpu::kInteriorAttr))
        fills.push_back(fill);
    });
    for (linalg::FillOp fill : fills)
      if (failed(rewrite(fill)))
        return signalPassFailure();
  }

  static LogicalResult rewrite(linalg::FillOp fill) {
    auto marked = fill->getAttrOfType<DenseI64ArrayAttr>(vidnet::cpu::kInteriorAttr);
    auto type = dyn_cast<MemRefType>(fill.getOutputs()[0].getType());
    if (!type || !type.hasStaticShape() || !marked || marked.size() != 2 * type.getRank())
      return fill.emitError("vidnet-cpu-zero-borders: expected a static buffer and its interior's offsets and sizes");
    const int64_t rank = type.getRank();
    ArrayRef<int64_t> outer = type.getShape(), low = marked.asArrayRef().take_front(rank),
                      inner = marked.asArrayRef().drop_front(rank);
    OpBuilder b(fill);
    Location loc = fill.getLoc();
    Value buffer = fill.getOutputs()[0], value = fill.getInputs()[0];
    const SmallVector<int64_t> ones(rank, 1);
    // Disjoint slabs: along axis i, the rows before and after the interior, spanning the interior
    // of the axes before i and the whole of the axes after it.
    for (int64_t i = 0; i < rank; ++i)
      for (bool after : {false, true}) {
        int64_t begin = after ? low[i] + inner[i] : 0, rows = after ? outer[i] - begin : low[i];
        if (rows <= 0)
          continue;
        SmallVector<int64_t> offsets(rank, 0), sizes(outer);
        for (int64_t j = 0; j < i; ++j) {
          offsets[j] = low[j];
          sizes[j] = inner[j];
        }
        offsets[i] = begin;
        sizes[i] = rows;
        Value slab = memref::SubViewOp::create(b, loc, buffer, offsets, sizes, ones);
        linalg::FillOp::create(b, loc, ValueRange{value}, ValueRange{slab});
      }
    fill.erase();
    return success();
  }
};

} // namespace
