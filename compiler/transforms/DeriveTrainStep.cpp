// vidnet-derive-train-step: @forward -> @train_step (training-mode forward, loss, VJPs, SGD).
#include "compiler/transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace vidnet {
#define GEN_PASS_DEF_DERIVETRAINSTEP
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;

namespace {

// Builds @train_step from @forward. The builder knows no op types: each op brings its training
// form (TrainingFormOp) and its VJP rule (DifferentiableOp); the builder only orders them,
// tracks which values need a cotangent and sums the cotangents of values used twice.
class TrainStepBuilder final : public vidnet::Cotangents, public vidnet::StateUpdates {
public:
  TrainStepBuilder(func::FuncOp forward) : forward_(forward), b_(forward.getContext()) {}

  bool needed(Value v) const override { return needsGrad_.contains(v); }

  void add(Value v, Value grad) override {
    if (!needsGrad_.contains(v))
      return;
    Value &slot = grads_[v];
    slot = slot ? vidnet::AddOp::create(b_, grad.getLoc(), slot, grad).getResult() : grad;
  }

  void replace(Value state, Value updated) override { updatedState_[state] = updated; }

  func::FuncOp build() {
    FunctionType fwdType = forward_.getFunctionType();
    MLIRContext *ctx = forward_.getContext();
    auto clipsType = cast<RankedTensorType>(fwdType.getInput(0));
    auto logitsType = cast<RankedTensorType>(fwdType.getResult(0));
    int64_t batch = clipsType.getDimSize(0);
    Type f32 = Float32Type::get(ctx);

    SmallVector<Type> inputs = {clipsType, RankedTensorType::get({batch}, IntegerType::get(ctx, 64))};
    SmallVector<Type> results;
    SmallVector<unsigned> trainable;
    for (unsigned i = 1; i < fwdType.getNumInputs(); ++i) {
      inputs.push_back(fwdType.getInput(i));
      results.push_back(fwdType.getInput(i));
      if (!forward_.getArgAttr(i, "vidnet.state"))
        trainable.push_back(i);
    }
    for (unsigned i : trainable) {
      inputs.push_back(fwdType.getInput(i));
      results.push_back(fwdType.getInput(i));
    }
    inputs.push_back(RankedTensorType::get({3}, f32));
    results.push_back(RankedTensorType::get({}, f32));
    results.push_back(logitsType);

    b_.setInsertionPointAfter(forward_);
    Location loc = forward_.getLoc();
    auto step = func::FuncOp::create(b_, loc, "train_step", FunctionType::get(ctx, inputs, results));
    Block *entry = step.addEntryBlock();
    unsigned firstMomentum = fwdType.getNumInputs() + 1;
    for (unsigned i = 1; i < fwdType.getNumInputs(); ++i)
      for (NamedAttribute attr : forward_.getArgAttrDict(i) ? forward_.getArgAttrDict(i).getValue() : ArrayRef<NamedAttribute>{})
        step.setArgAttr(i + 1, attr.getName(), attr.getValue());
    for (auto [k, i] : llvm::enumerate(trainable))
      step.setArgAttr(firstMomentum + k, "vidnet.momentum", forward_.getArgAttr(i, "vidnet.name"));
    step.setArgAttr(1, "vidnet.name", b_.getStringAttr("labels"));
    step.setArgAttr(inputs.size() - 1, "vidnet.name", b_.getStringAttr("hyper"));

    IRMapping map;
    for (unsigned i = 0; i < fwdType.getNumInputs(); ++i)
      map.map(forward_.getArgument(i), entry->getArgument(i == 0 ? 0 : i + 1));
    for (unsigned i : trainable)
      needsGrad_.insert(entry->getArgument(i + 1));
    b_.setInsertionPointToEnd(entry);
    Value labels = entry->getArgument(1);

    // 1. The forward in training form.
    Value logits;
    for (Operation &op : forward_.front()) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        logits = map.lookup(ret.getOperand(0));
        break;
      }
      auto trainingForm = dyn_cast<vidnet::TrainingFormOp>(op);
      Operation *copy = trainingForm ? trainingForm.emitTrainingForm(b_, map, *this) : b_.clone(op, map);
      forwardOps_.push_back(copy);
      if (llvm::any_of(copy->getOperands(), [&](Value v) { return needsGrad_.contains(v); }))
        needsGrad_.insert(copy->getResult(0));
    }

    // 2. The loss, whose cotangent (1) seeds 3. the backward: one VJP per forward op in reverse
    // order.
    Value loss = vidnet::SoftmaxCrossEntropyOp::create(b_, loc, RankedTensorType::get({}, f32), logits, labels);
    grads_[logits] = vidnet::SoftmaxCrossEntropyBackwardOp::create(b_, loc, logitsType, logits, labels);
    for (Operation *op : llvm::reverse(forwardOps_)) {
      Value dy = grads_.lookup(op->getResult(0));
      if (!dy)
        continue;
      b_.setInsertionPointToEnd(entry);
      auto differentiable = dyn_cast<vidnet::DifferentiableOp>(op);
      if (!differentiable) {
        op->emitOpError("has no VJP rule (DifferentiableOpInterface), so the loss cannot be differentiated "
                        "through it; composite ops such as vidnet.conv2plus1d are decomposed first");
        return {};
      }
      if (failed(differentiable.emitVjp(b_, dy, *this)))
        return {};
    }

    // 4. SGD for every trainable argument.
    Value hyper = entry->getArgument(inputs.size() - 1);
    DenseMap<Value, Value> updated = updatedState_;
    SmallVector<Value> newMomentum;
    for (auto [k, i] : llvm::enumerate(trainable)) {
      Value param = entry->getArgument(i + 1);
      Value grad = grads_.lookup(param);
      if (!grad) {
        forward_.emitError("parameter ") << forward_.getArgAttr(i, "vidnet.name") << " does not affect the loss";
        return {};
      }
      auto sgd = vidnet::SgdUpdateOp::create(b_, loc, TypeRange{param.getType(), param.getType()}, param,
                                             grad, entry->getArgument(firstMomentum + k), hyper);
      updated[param] = sgd.getNewParam();
      newMomentum.push_back(sgd.getNewMomentumBuffer());
    }

    SmallVector<Value> returned;
    for (unsigned i = 1; i < fwdType.getNumInputs(); ++i) {
      Value arg = entry->getArgument(i + 1);
      returned.push_back(updated.lookup(arg) ? updated.lookup(arg) : arg);
    }
    returned.append(newMomentum);
    returned.push_back(loss);
    returned.push_back(logits);
    func::ReturnOp::create(b_, loc, returned);
    return step;
  }

private:
  func::FuncOp forward_;
  OpBuilder b_;
  SmallVector<Operation *> forwardOps_;
  DenseSet<Value> needsGrad_;
  DenseMap<Value, Value> grads_;
  DenseMap<Value, Value> updatedState_;
};

struct DeriveTrainStep : vidnet::impl::DeriveTrainStepBase<DeriveTrainStep> {
  using DeriveTrainStepBase::DeriveTrainStepBase;

  void runOnOperation() override {
    auto forward = getOperation().lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      getOperation().emitError("vidnet-derive-train-step needs a @forward function");
      return signalPassFailure();
    }
    FunctionType type = forward.getFunctionType();
    if (type.getNumInputs() < 1 || type.getNumResults() < 1 || !forward.getBody().hasOneBlock()) {
      forward.emitError("vidnet-derive-train-step expects forward(clips, params...) -> (logits, ...) in one block");
      return signalPassFailure();
    }
    func::FuncOp step = TrainStepBuilder(forward).build();
    if (!step)
      return signalPassFailure();
    if (!keepForward)
      forward.erase();
  }
};

} // namespace
