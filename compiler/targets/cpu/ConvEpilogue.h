// A conv's elementwise consumer (eval BN, ReLU, residual add) applied to each register tile
// before it is stored, instead of a pass over the conv's output in memory.
#pragma once

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace vidnet::cpu {

struct ConvEpilogue {
  mlir::linalg::GenericOp op; // elementwise over the conv's output shape, into a tensor.empty
  unsigned convInput;         // which of its inputs is the conv's result
};

// The conv result's only user, when it can run tile by tile: all loops parallel, its output
// shaped like the conv's, every other input either of that shape (identity map) or one value
// per output channel, and a body of pure scalar ops that never reads the output.
std::optional<ConvEpilogue> matchConvEpilogue(mlir::Value convResult);

// The epilogue on one tile: `tile` (rows x lanes) holds output[offsets[0..2], offsets[3] + row,
// offsets[4] + lane]; the other inputs are sliced at the same place. Tagged for
// vidnet-cpu-vectorize-tiles.
mlir::Value applyConvEpilogue(mlir::OpBuilder &b, mlir::Location loc, const ConvEpilogue &epilogue, mlir::Value tile,
                              llvm::ArrayRef<mlir::OpFoldResult> offsets);

// Prefetches (into L2) the tile of every input shaped like the output (the residual), at the
// tile's start: it is read from memory by the epilogue at the tile's end.
void prefetchConvEpilogueInputs(mlir::OpBuilder &b, mlir::Location loc, const ConvEpilogue &epilogue, int64_t rows,
                                int64_t lanes, llvm::ArrayRef<mlir::OpFoldResult> offsets);

} // namespace vidnet::cpu
