// Deterministic placement of forward's tensors in the parameter and state buffers.
#include "compiler/transforms/BufferLayout.h"

#include "mlir/IR/BuiltinTypes.h"

namespace vidnet {

BufferLayout layoutArguments(mlir::func::FuncOp func, unsigned first, unsigned end) {
  BufferLayout layout;
  for (unsigned i = first; i < end; ++i) {
    BufferSlot slot;
    if (auto name = func.getArgAttrOfType<mlir::StringAttr>(i, "vidnet.name"))
      slot.name = name.str();
    slot.state = func.getArgAttr(i, "vidnet.state") != nullptr;
    auto type = mlir::cast<mlir::RankedTensorType>(func.getArgumentTypes()[i]);
    slot.shape.assign(type.getShape().begin(), type.getShape().end());
    int64_t &end = slot.state ? layout.stateElements : layout.paramElements;
    slot.offset = (end + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    end = slot.offset + type.getNumElements();
    layout.slots.push_back(std::move(slot));
  }
  return layout;
}

unsigned firstPreparedArgument(mlir::func::FuncOp forward) {
  unsigned first = forward.getNumArguments();
  while (first > 1 && forward.getArgAttr(first - 1, kPreparedAttr))
    --first;
  return first;
}

BufferLayout layoutForwardArguments(mlir::func::FuncOp forward) {
  return layoutArguments(forward, 1, firstPreparedArgument(forward));
}

} // namespace vidnet
