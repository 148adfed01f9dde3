// vidnet-cpu-outline-serial: each loop nest left in an exported function (the serial code
// between parallel loops) -> a function of its own, called where it was.
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/Outlining.h"

#include "mlir/Dialect/LLVMIR/LLVMAttrs.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_OUTLINESERIAL
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

struct OutlineSerial : vidnet::cpu::impl::OutlineSerialBase<OutlineSerial> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    vidnet::cpu::SharedBodies bodies;
    SmallVector<func::FuncOp> exported;
    for (func::FuncOp f : module.getOps<func::FuncOp>())
      if (f.isPublic() && !f.isExternal())
        exported.push_back(f);
    for (func::FuncOp f : exported) {
      SmallVector<Operation *> nests;
      for (Operation &op : f.getBody().getOps())
        if (op.getNumRegions() != 0 && op.getNumResults() == 0)
          nests.push_back(&op);
      for (Operation *op : nests)
        outline(op, f, symbols, bodies);
    }
  }

  // Moves `op` into a new function when everything it uses from outside can be passed or
  // recomputed (views and index arithmetic are recomputed inside, from their root buffers);
  // otherwise leaves it in place.
  // Whether `op` may free memory (or does something unknown). A buffer reaches an outlined
  // function as its aligned pointer only, which is not what malloc returned when the buffer
  // was over-aligned: a dealloc inside (e.g. the scf.if of an ownership-based dealloc) would
  // free the wrong pointer.
  static bool mayFree(Operation *op) {
    WalkResult result = op->walk([](Operation *nested) {
      if (auto effects = dyn_cast<MemoryEffectOpInterface>(nested))
        return effects.hasEffect<MemoryEffects::Free>() ? WalkResult::interrupt() : WalkResult::advance();
      if (nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>() || nested->hasTrait<OpTrait::IsTerminator>())
        return WalkResult::advance();
      return WalkResult::interrupt();
    });
    return result.wasInterrupted();
  }

  static void outline(Operation *op, func::FuncOp parent, SymbolTable &symbols, vidnet::cpu::SharedBodies &bodies) {
    if (mayFree(op))
      return;
    SetVector<Value> used(op->getOperands().begin(), op->getOperands().end());
    getUsedValuesDefinedAbove(op->getRegions(), used);
    SetVector<Operation *> recomputed; // in an order where producers come first
    SetVector<Value> arguments;
    std::function<bool(Value)> visit = [&](Value v) {
      Operation *producer = v.getDefiningOp();
      if (vidnet::cpu::rematerializable(producer)) {
        if (recomputed.contains(producer))
          return true;
        for (Value operand : producer->getOperands())
          if (!visit(operand))
            return false;
        recomputed.insert(producer);
        return true;
      }
      if (!vidnet::cpu::passable(v.getType()))
        return false;
      arguments.insert(v);
      return true;
    };
    for (Value v : used)
      if (!visit(v))
        return;

    Location loc = op->getLoc();
    OpBuilder b = OpBuilder::atBlockEnd(parent->getParentOfType<ModuleOp>().getBody());
    SmallVector<Type> types;
    for (Value v : arguments)
      types.push_back(v.getType());
    auto body = func::FuncOp::create(b, loc, parent.getName().str() + "_serial", b.getFunctionType(types, {}));
    body.setPrivate();
    symbols.insert(body); // renames on a clash
    Block *entry = body.addEntryBlock();
    IRMapping map;
    for (auto [v, arg] : llvm::zip(arguments, entry->getArguments()))
      map.map(v, arg);
    OpBuilder inside = OpBuilder::atBlockBegin(entry);
    for (Operation *producer : recomputed)
      inside.clone(*producer, map);
    inside.clone(*op, map);
    func::ReturnOp::create(inside, loc);
    if (func::FuncOp earlier = bodies.find(body); earlier != body) {
      symbols.erase(body);
      body = earlier;
    } else {
      // Internal, so that the object emitter neither exports it nor cuts its loops apart again;
      // marked, so that it keeps these loops vectorized but not unrolled.
      MLIRContext *context = op->getContext();
      body->setAttr("llvm.linkage", LLVM::LinkageAttr::get(context, LLVM::Linkage::Internal));
      vidnet::cpu::markNotUnrolled(body);
    }
    OpBuilder call(op);
    func::CallOp::create(call, loc, body, arguments.getArrayRef());
    op->erase();
  }
};

} // namespace
