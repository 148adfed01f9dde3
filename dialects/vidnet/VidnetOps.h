// Operations of the `vidnet` dialect (generated from VidnetOps.td).
#pragma once

#include "common/OpArithmetic.h"
#include "dialects/vidnet/VidnetDialect.h"
#include "dialects/vidnet/VidnetInterfaces.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/vidnet/VidnetOps.h.inc"

