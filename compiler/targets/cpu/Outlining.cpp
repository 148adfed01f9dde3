// What outline-parallel and outline-serial share: arguments, recomputed producers, shared bodies.
#include "compiler/targets/cpu/Outlining.h"
#include "compiler/targets/cpu/CpuPasses.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;

namespace vidnet::cpu {

void markNotUnrolled(func::FuncOp body) {
  Builder b(body.getContext());
  body->setAttr("passthrough",
                b.getArrayAttr({b.getArrayAttr({b.getStringAttr(kSerialCodeAttr), b.getStringAttr("1")})}));
}

bool rematerializable(Operation *op) {
  if (!op || op->getNumRegions() != 0 || !isPure(op))
    return false;
  if (op->hasTrait<OpTrait::ConstantLike>() || isa<ViewLikeOpInterface, memref::GetGlobalOp>(op))
    return true;
  return llvm::all_of(op->getResultTypes(), [](Type t) { return t.isIntOrIndex(); });
}

bool passable(Type type) {
  if (type.isIntOrIndexOrFloat())
    return type.isIndex() || type.getIntOrFloatBitWidth() <= 64;
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.hasStaticShape() && memref.getLayout().isIdentity() && !memref.getMemorySpace();
}

llvm::SetVector<Value> sinkProducers(Region &body) {
  for (bool changed = true; changed;) {
    changed = false;
    llvm::SetVector<Value> above;
    getUsedValuesDefinedAbove(body, above);
    for (Value v : above) {
      Operation *producer = v.getDefiningOp();
      if (!rematerializable(producer))
        continue;
      OpBuilder b(&body.front(), body.front().begin());
      Operation *copy = b.clone(*producer);
      for (auto [from, to] : llvm::zip(producer->getResults(), copy->getResults()))
        replaceAllUsesInRegionWith(from, to, body);
      changed = true;
    }
  }
  llvm::SetVector<Value> captures;
  getUsedValuesDefinedAbove(body, captures);
  return captures;
}

func::FuncOp SharedBodies::find(func::FuncOp body) {
  size_t size = 0;
  body.walk([&](Operation *) { ++size; });
  SmallVector<func::FuncOp> &candidates = bodies_[{body.getFunctionType(), size}];
  for (func::FuncOp earlier : candidates)
    if (OperationEquivalence::isRegionEquivalentTo(&earlier.getBody(), &body.getBody(),
                                                   OperationEquivalence::IgnoreLocations))
      return earlier;
  candidates.push_back(body);
  return body;
}

} // namespace vidnet::cpu
