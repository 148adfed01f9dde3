// vidnet-decompose-2plus1d: vidnet.conv2plus1d -> conv (spatial), batch_norm, relu, conv (temporal).
#include "compiler/transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace vidnet {
#define GEN_PASS_DEF_DECOMPOSE2PLUS1D
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;

namespace {

struct Decompose2Plus1d : vidnet::impl::Decompose2Plus1dBase<Decompose2Plus1d> {
  void runOnOperation() override {
    SmallVector<vidnet::Conv2Plus1dOp> ops;
    getOperation().walk([&](vidnet::Conv2Plus1dOp op) { ops.push_back(op); });
    for (vidnet::Conv2Plus1dOp op : ops)
      decompose(op);
  }

  static void decompose(vidnet::Conv2Plus1dOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto spatialFilter = cast<RankedTensorType>(op.getSpatialFilter().getType());
    ArrayRef<int64_t> s = op.getStrides(), p = op.getPadding();
    int64_t kh = spatialFilter.getDimSize(1), kw = spatialFilter.getDimSize(2);
    // The spatial conv keeps every frame and applies the H/W stride and padding.
    auto midType = RankedTensorType::get(
        {in.getDimSize(0), in.getDimSize(1), vidnet::convOutputExtent(in.getDimSize(2), kh, s[1], p[1]),
         vidnet::convOutputExtent(in.getDimSize(3), kw, s[2], p[2]), static_cast<int64_t>(op.getMid())},
        in.getElementType());
    Value spatial = vidnet::ConvOp::create(b, loc, midType, op.getInput(), op.getSpatialFilter(),
                                           b.getDenseI64ArrayAttr({1, s[1], s[2]}),
                                           b.getDenseI64ArrayAttr({0, p[1], p[2]}),
                                           b.getI64IntegerAttr(1));
    Value norm = vidnet::BatchNormOp::create(b, loc, spatial, op.getGamma(), op.getBeta(),
                                             op.getRunningMean(), op.getRunningVar(), op.getEpsilonAttr());
    Value relu = vidnet::ReluOp::create(b, loc, norm);
    Value temporal = vidnet::ConvOp::create(b, loc, op.getType(), relu, op.getTemporalFilter(),
                                            b.getDenseI64ArrayAttr({s[0], 1, 1}),
                                            b.getDenseI64ArrayAttr({p[0], 0, 0}), b.getI64IntegerAttr(1));
    op.replaceAllUsesWith(temporal);
    op.erase();
  }
};

} // namespace
