// Declarations and registration of the CUDA-target passes (from CudaPasses.td).
#pragma once

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace vidnet::cuda {

#define GEN_PASS_DECL
#include "compiler/targets/cuda/CudaPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/targets/cuda/CudaPasses.h.inc"

} // namespace vidnet::cuda
