// vidnet-cpu-hoist-weight-packing: the forward's weight packing -> @forward_prepare, run once per
// set of weights; @forward reads the packed tensors as arguments.
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/transforms/BufferLayout.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/SetVector.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_HOISTWEIGHTPACKING
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

// The ops `root` depends on in `forward`'s body, root included, when all of them are top-level
// ops that read only the weight arguments (not the clips, argument 0) and constants; also the
// values their regions use from above (a tensor.pad's zero). Empty when some other value is read.
SmallVector<Operation *> weightSlice(func::FuncOp forward, Operation *root) {
  Block &body = forward.front();
  llvm::SetVector<Operation *> slice;
  SmallVector<Operation *> work = {root};
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (op->getBlock() != &body)
      return {};
    if (!slice.insert(op))
      continue;
    SmallVector<Value> reads(op->getOperands());
    llvm::SetVector<Value> captured;
    for (Region &region : op->getRegions())
      getUsedValuesDefinedAbove(region, captured);
    reads.append(captured.begin(), captured.end());
    for (Value v : reads) {
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        if (arg.getOwner() != &body || arg.getArgNumber() == 0 ||
            forward.getArgAttr(arg.getArgNumber(), vidnet::kPreparedAttr))
          return {};
        continue;
      }
      work.push_back(v.getDefiningOp());
    }
  }
  SmallVector<Operation *> ordered(slice.begin(), slice.end());
  llvm::sort(ordered, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return ordered;
}

struct HoistWeightPacking : vidnet::cpu::impl::HoistWeightPackingBase<HoistWeightPacking> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward || forward.isExternal())
      return;
    const unsigned weights = forward.getNumArguments();
    SmallVector<Operation *> packs;
    forward.walk([&](Operation *op) {
      if (op->hasAttr(vidnet::cpu::kWeightPackAttr) && op->getNumResults() == 1)
        packs.push_back(op);
    });

    // forward_prepare(weights...) -> (packed...): the weight arguments with their attributes, so
    // that both functions lay them out alike.
    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(forward);
    SmallVector<Type> weightTypes(forward.getArgumentTypes().drop_front());
    auto prepare =
        func::FuncOp::create(b, forward.getLoc(), vidnet::kForwardPrepareName, b.getFunctionType(weightTypes, {}));
    for (unsigned i = 1; i < weights; ++i)
      prepare.setArgAttrs(i - 1, forward.getArgAttrDict(i));
    Block *entry = prepare.addEntryBlock();
    OpBuilder inside = OpBuilder::atBlockEnd(entry);
    IRMapping map;
    for (unsigned i = 1; i < weights; ++i)
      map.map(forward.getArgument(i), entry->getArgument(i - 1));

    SmallVector<Value> packed;
    llvm::SetVector<Operation *> hoisted; // every pack's slice, each op cloned once
    for (Operation *pack : packs) {
      SmallVector<Operation *> slice = weightSlice(forward, pack);
      if (slice.empty())
        continue;
      for (Operation *op : slice)
        if (hoisted.insert(op))
          inside.clone(*op, map);
      packed.push_back(map.lookup(pack->getResult(0)));
      // The pack's result becomes an argument of forward.
      Value result = pack->getResult(0);
      unsigned index = forward.getNumArguments();
      if (failed(forward.insertArgument(index, result.getType(),
                                        b.getDictionaryAttr(b.getNamedAttr(vidnet::kPreparedAttr, b.getUnitAttr())),
                                        pack->getLoc()))) {
        forward.emitError("vidnet-cpu-hoist-weight-packing: cannot add an argument");
        return signalPassFailure();
      }
      result.replaceAllUsesWith(forward.getArgument(index));
    }
    func::ReturnOp::create(inside, forward.getLoc(), packed);
    prepare.setType(b.getFunctionType(weightTypes, ValueRange(packed).getTypes()));

    // What only the packs read is dead in forward now, last readers first.
    SmallVector<Operation *> dead(hoisted.begin(), hoisted.end());
    llvm::sort(dead, [](Operation *a, Operation *c) { return c->isBeforeInBlock(a); });
    for (Operation *op : dead)
      if (op->use_empty() && (op->hasAttr(vidnet::cpu::kWeightPackAttr) || isMemoryEffectFree(op)))
        op->erase();
  }
};

} // namespace
