// A tensor's buffer for memref.prefetch in the CPU schedules (conv, filter gradient and epilogue
// prefetches): read-only, with any layout, so bufferization casts to it and never copies.
#pragma once

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace vidnet::cpu {

inline mlir::Value readOnlyBuffer(mlir::OpBuilder &b, mlir::Location loc, mlir::Value tensor) {
  auto type = mlir::cast<mlir::RankedTensorType>(tensor.getType());
  auto layout = mlir::StridedLayoutAttr::get(b.getContext(), mlir::ShapedType::kDynamic,
                                             llvm::SmallVector<int64_t>(type.getRank(), mlir::ShapedType::kDynamic));
  auto bufferType = mlir::MemRefType::get(type.getShape(), type.getElementType(), layout);
  return mlir::bufferization::ToBufferOp::create(b, loc, bufferType, tensor, /*read_only=*/true);
}

} // namespace vidnet::cpu
