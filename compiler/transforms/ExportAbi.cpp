// vidnet-export-abi: tensor-form @forward -> @vidnet_forward over caller-owned flat buffers.
#include "compiler/transforms/BufferLayout.h"
#include "compiler/transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace vidnet {
#define GEN_PASS_DEF_EXPORTABI
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;

namespace {

SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

struct ExportAbi : vidnet::impl::ExportAbiBase<ExportAbi> {
  void runOnOperation() override {
    auto forward = getOperation().lookupSymbol<func::FuncOp>("forward");
    if (!forward)
      return;
    FunctionType type = forward.getFunctionType();
    if (type.getNumInputs() < 1 || type.getNumResults() != 1 ||
        !llvm::all_of(type.getInputs(), llvm::IsaPred<RankedTensorType>) ||
        !isa<RankedTensorType>(type.getResult(0))) {
      forward.emitError("vidnet-export-abi expects forward(tensor...) -> tensor");
      return signalPassFailure();
    }
    vidnet::BufferLayout layout = vidnet::layoutForwardArguments(forward);
    MLIRContext *ctx = &getContext();
    Type f32 = Float32Type::get(ctx);
    auto clipsType = cast<RankedTensorType>(type.getInput(0));
    auto logitsType = cast<RankedTensorType>(type.getResult(0));
    SmallVector<Type> abi = {MemRefType::get(clipsType.getShape(), f32),
                             MemRefType::get({layout.paramElements}, f32),
                             MemRefType::get({layout.stateElements}, f32),
                             MemRefType::get(logitsType.getShape(), f32)};

    Block &entry = forward.front();
    Location loc = forward.getLoc();
    unsigned oldArgs = entry.getNumArguments();
    SmallVector<Value> buffers;
    for (Type t : abi)
      buffers.push_back(entry.addArgument(t, loc));

    OpBuilder b(&entry, entry.begin());
    entry.getArgument(0).replaceAllUsesWith(
        bufferization::ToTensorOp::create(b, loc, clipsType, buffers[0], /*restrict=*/true).getResult());
    for (auto [i, slot] : llvm::enumerate(layout.slots)) {
      SmallVector<int64_t> strides = rowMajorStrides(slot.shape);
      auto viewType = MemRefType::get(slot.shape, f32, StridedLayoutAttr::get(ctx, slot.offset, strides));
      Value view = memref::ReinterpretCastOp::create(b, loc, viewType, buffers[slot.state ? 2 : 1],
                                                     slot.offset, slot.shape, strides);
      auto tensorType = cast<RankedTensorType>(type.getInput(i + 1));
      entry.getArgument(i + 1).replaceAllUsesWith(
          bufferization::ToTensorOp::create(b, loc, tensorType, view, /*restrict=*/true).getResult());
    }
    entry.eraseArguments(0, oldArgs);

    forward.walk([&](func::ReturnOp ret) {
      b.setInsertionPoint(ret);
      auto store = bufferization::MaterializeInDestinationOp::create(b, ret.getLoc(), ret.getOperand(0),
                                                                     buffers[3]);
      store.setRestrict(true);
      store.setWritable(true);
      ret->setOperands({});
    });
    forward.setType(FunctionType::get(ctx, abi, {}));
    forward.setAllArgAttrs(ArrayRef<DictionaryAttr>{});
    const char *names[] = {"clips", "params", "state", "logits"};
    for (unsigned i = 0; i < 4; ++i)
      forward.setArgAttr(i, "vidnet.abi", StringAttr::get(ctx, names[i]));
    forward.setSymName("vidnet_forward");
  }
};

} // namespace
