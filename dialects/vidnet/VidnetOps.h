// Operations of the `vidnet` dialect (generated from VidnetOps.td).
#pragma once

#include "dialects/vidnet/VidnetDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/vidnet/VidnetOps.h.inc"

namespace vidnet {
// Output extent of a convolution along one axis, as torch.nn.Conv3d computes it; <= 0 when
// the padded input is smaller than the kernel.
int64_t convOutputExtent(int64_t in, int64_t kernel, int64_t stride, int64_t pad);
} // namespace vidnet
