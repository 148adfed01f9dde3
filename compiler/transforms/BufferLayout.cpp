// Deterministic placement of forward's tensors in the parameter and state buffers.
#include "compiler/transforms/BufferLayout.h"

#include "mlir/IR/BuiltinTypes.h"

namespace vidnet {

BufferLayout layoutForwardArguments(mlir::func::FuncOp forward) {
  BufferLayout layout;
  for (unsigned i = 1; i < forward.getNumArguments(); ++i) {
    BufferSlot slot;
    if (auto name = forward.getArgAttrOfType<mlir::StringAttr>(i, "vidnet.name"))
      slot.name = name.str();
    slot.state = forward.getArgAttr(i, "vidnet.state") != nullptr;
    auto type = mlir::cast<mlir::RankedTensorType>(forward.getArgumentTypes()[i]);
    slot.shape.assign(type.getShape().begin(), type.getShape().end());
    int64_t &end = slot.state ? layout.stateElements : layout.paramElements;
    slot.offset = (end + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    end = slot.offset + type.getNumElements();
    layout.slots.push_back(std::move(slot));
  }
  return layout;
}

} // namespace vidnet
