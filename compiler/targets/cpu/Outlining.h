// What outline-parallel and outline-serial share: which values a function can take as
// arguments, which are recomputed inside it instead, and one function per distinct body.
#pragma once

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallVector.h"

namespace vidnet::cpu {

// Recomputed inside an outlined function instead of passed in: constants, index arithmetic
// and views. A view passed by bare pointer would lose its offset and strides; its root buffer
// keeps them.
bool rematerializable(mlir::Operation *op);

// What one 8-byte argument slot (and the bare-pointer calling convention) can carry: a scalar,
// or a buffer by its bare pointer (static shape, identity layout).
bool passable(mlir::Type type);

// Clones into `body` every rematerializable producer of a value it uses from above, until only
// values that must be passed remain; returns those.
llvm::SetVector<mlir::Value> sinkProducers(mlir::Region &body);

// Marks an outlined function for the object emitter (LLVM attribute kSerialCodeAttr): its loops
// stay vectorized but are not unrolled.
void markNotUnrolled(mlir::func::FuncOp body);

// Outlined functions by type and size: a function whose body is the same code as an earlier
// one's (locations aside) is replaced by that one, so LLVM compiles it once.
class SharedBodies {
public:
  // `body` itself when it is new (remembered), else the earlier equal function (`body` is
  // left for the caller to erase).
  mlir::func::FuncOp find(mlir::func::FuncOp body);

private:
  llvm::DenseMap<std::pair<mlir::Type, size_t>, llvm::SmallVector<mlir::func::FuncOp>> bodies_;
};

} // namespace vidnet::cpu
