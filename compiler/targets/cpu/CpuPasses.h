// Declarations and registration of the CPU-target passes (from CpuPasses.td).
#pragma once

#include "dialects/vidnet/VidnetOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace vidnet::cpu {

// On a parallel dispatch declaration: the body function it runs per item.
inline constexpr llvm::StringLiteral kParallelBodyAttr = "vidnet.parallel_body";
// On a parallel dispatch declaration: the function whose loop it was (vidnet_forward, ...).
inline constexpr llvm::StringLiteral kParallelFunctionAttr = "vidnet.parallel_function";

// An LLVM function attribute on the functions of vidnet-cpu-outline-serial: serial code whose
// loops the object emitter keeps vectorized but not unrolled.
inline constexpr llvm::StringLiteral kSerialCodeAttr = "vidnet-serial";

// On a linalg.fill of vidnet-cpu-pad-in-place: offsets, then sizes, of the interior its padded
// tensor's producer overwrites; vidnet-cpu-zero-borders then fills only the rest.
inline constexpr llvm::StringLiteral kInteriorAttr = "vidnet.interior";

// On the elementwise op vidnet-cpu-tile-convs applies to each conv tile (ConvEpilogue.h): a
// register tile that vidnet-cpu-vectorize-tiles vectorizes.
inline constexpr llvm::StringLiteral kEpilogueAttr = "vidnet.epilogue";

// On the op of vidnet-cpu-tile-convs that packs a filter into its blocked layout: a function of
// the weights alone, which vidnet-cpu-hoist-weight-packing moves out of the forward.
inline constexpr llvm::StringLiteral kWeightPackAttr = "vidnet.weight_pack";

#define GEN_PASS_DECL
#include "compiler/targets/cpu/CpuPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/targets/cpu/CpuPasses.h.inc"

} // namespace vidnet::cpu
