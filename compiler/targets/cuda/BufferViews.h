// Which buffer a host-side value really is: the allocation or argument under its view ops.
#pragma once

#include "mlir/IR/Value.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace vidnet::cuda {

// subview, expand_shape, collapse_shape, reinterpret_cast, cast: same memory, another type.
inline bool isView(mlir::Operation *op) { return mlir::isa<mlir::ViewLikeOpInterface>(op); }

inline mlir::Value rootOf(mlir::Value v) {
  while (mlir::Operation *def = v.getDefiningOp()) {
    auto view = mlir::dyn_cast<mlir::ViewLikeOpInterface>(def);
    if (!view)
      break;
    v = view.getViewSource();
  }
  return v;
}

} // namespace vidnet::cuda
