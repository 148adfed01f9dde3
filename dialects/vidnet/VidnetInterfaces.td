// Op interfaces of the `vidnet` dialect: how an op is trained and differentiated. Each op that
// implements one declares it in VidnetOps.td; the rules live in VidnetGradients.cpp.
#ifndef VIDNET_INTERFACES_TD
#define VIDNET_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Vidnet_DifferentiableOpInterface : OpInterface<"DifferentiableOp"> {
  let cppNamespace = "::vidnet";
  let description = [{
    An op with a vector-Jacobian product rule: given the cotangent of its first result, it
    emits the ops that compute the cotangents of its operands and adds each one that the
    caller needs to `cotangents`. `vidnet-derive-train-step` calls it for every forward op in
    reverse order; an op without this interface cannot be trained through.
  }];
  let methods = [
    InterfaceMethod<[{
        Emits the VJP at the builder's insertion point. `outputGrad` is the cotangent of
        result 0 (the other results, such as batch statistics, are not differentiated).
      }],
      "::mlir::LogicalResult", "emitVjp",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Value":$outputGrad,
           "::vidnet::Cotangents &":$cotangents)>,
  ];
}

def Vidnet_TrainingFormOpInterface : OpInterface<"TrainingFormOp"> {
  let cppNamespace = "::vidnet";
  let description = [{
    An op that computes something else in training mode (PyTorch's model.train()), such as
    batch norm, which normalizes with batch statistics and updates its running statistics.
    `vidnet-derive-train-step` builds this form instead of a copy of the op.
  }];
  let methods = [
    InterfaceMethod<[{
        Emits the training form of the op at the builder's insertion point, with operands
        looked up in `mapping`; maps the op's results to the new values, reports every state
        tensor it replaces (running statistics) to `state`, and returns the op whose first
        result is differentiated.
      }],
      "::mlir::Operation *", "emitTrainingForm",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::IRMapping &":$mapping,
           "::vidnet::StateUpdates &":$state)>,
  ];
}

#endif // VIDNET_INTERFACES_TD
