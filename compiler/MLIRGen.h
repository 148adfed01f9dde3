// ModelGraph -> `vidnet` dialect: one `forward` function whose ops carry the spec line of
// the layer they came from.
#pragma once

#include "compiler/ModelGraph.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace vidnet {

// Registers the dialects mlirgen emits into `context`.
void loadMLIRGenDialects(mlir::MLIRContext &context);

// func.func @forward(%clips: tensor<N x L x H x W x C>, %params...) -> tensor<N x K>.
// Parameters follow the graph's tensor order, each named by a `vidnet.name` argument
// attribute with its torchvision state_dict name (BN running statistics also carry a unit
// `vidnet.state`); layouts are channels-last (conv filters
// D x H x W x C x F, the fc weight C x K), so the runtime transposes PyTorch's on load.
// BN's num_batches_tracked is not an argument: forward never reads it.
mlir::OwningOpRef<mlir::ModuleOp> generateForward(mlir::MLIRContext &context, const ModelGraph &graph,
                                                  int64_t batch);

} // namespace vidnet
