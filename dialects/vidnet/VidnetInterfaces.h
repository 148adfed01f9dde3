// Op interfaces of the `vidnet` dialect (generated from VidnetInterfaces.td) and what their
// rules see of the train-step builder.
#pragma once

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OpDefinition.h"

namespace vidnet {

// The cotangents a VJP rule contributes to: only values on a path from a trainable parameter
// to the loss need one; a value used twice gets the sum of its cotangents.
class Cotangents {
public:
  virtual ~Cotangents() = default;
  virtual bool needed(mlir::Value value) const = 0;
  virtual void add(mlir::Value value, mlir::Value cotangent) = 0;
};

// The state tensors (BN running statistics) a training form replaces with updated values.
class StateUpdates {
public:
  virtual ~StateUpdates() = default;
  virtual void replace(mlir::Value state, mlir::Value updated) = 0;
};

} // namespace vidnet

#include "dialects/vidnet/VidnetInterfaces.h.inc"
